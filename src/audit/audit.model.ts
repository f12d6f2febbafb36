// Vocabulary of the audit log: what callers append, what is stored, what verification reports.

/** Who can act. */
export const AUDIT_ACTOR_TYPES = ['user', 'recipient', 'system', 'api_token', 'operator'] as const;

/** One of {@link AUDIT_ACTOR_TYPES}. */
export type AuditActorType = (typeof AUDIT_ACTOR_TYPES)[number];

/** How an action ended: done, failed, or refused by a policy or permission check. */
export const AUDIT_OUTCOMES = ['success', 'failure', 'denied'] as const;

/** One of {@link AUDIT_OUTCOMES}. */
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** A JSON value as stored in `details` (what survives JSON.stringify and jsonb). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** What a caller records. The log adds id, time, chain position and hashes. */
export interface AuditEventInput {
  /** Tenant the event belongs to; absent for installation-wide events (the 'system' chain). */
  tenantId?: string;
  actor: { type: AuditActorType; id?: string };
  /** `<thing>.<past-tense verb>` in snake_case, e.g. 'sealed_object.created'. */
  action: string;
  target?: { type: string; id?: string };
  outcome: AuditOutcome;
  ip?: string;
  userAgent?: string;
  /** Event-specific facts. Never secrets (keys, tokens, codes, passwords) and never content. */
  details?: Record<string, unknown>;
}

/** One stored event, as read back from audit_events. */
export interface AuditEventRecord {
  chain: string;
  /** Position in the chain, from 1, as a decimal string (int8). */
  chainSeq: string;
  id: string;
  tenantId: string | null;
  /** Millisecond precision, so it round-trips exactly through timestamptz and into the hash. */
  occurredAt: Date;
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  ip: string | null;
  userAgent: string | null;
  details: JsonObject;
  prevHash: Uint8Array;
  hash: Uint8Array;
}

/** Chain of events that have no tenant. Tenant chains are named by the tenant id. */
export const SYSTEM_CHAIN = 'system';

/**
 * A chain's head: its last position and hash. Copy it somewhere the database's operators cannot
 * rewrite (a WORM bucket, an auditor's mailbox) and pass it back to verification as an anchor.
 */
export interface AuditChainHead {
  chain: string;
  /** 0 for an empty chain. */
  chainSeq: number;
  /** Hex SHA-256; for an empty chain, the genesis value (64 zeros). */
  hash: string;
}

/** What verification found wrong at one position of a chain. */
export type AuditProblemKind = 'hash_mismatch' | 'seq_gap' | 'prev_hash_mismatch' | 'anchor_mismatch' | 'pseudonymisation_unattested' | 'checkpoint_unconfirmed';

/** One problem found by verification. */
export interface AuditProblem {
  chain: string;
  chainSeq: number;
  problem: AuditProblemKind;
}

/** Summary of one verified chain. */
export interface AuditChainSummary {
  chain: string;
  events: number;
  /** Hex hash of the last event read (genesis value for an empty chain). */
  headHash: string;
}

/** Result of verifying audit chains. */
export interface AuditVerification {
  ok: boolean;
  chains: AuditChainSummary[];
  problems: AuditProblem[];
  /** True when more problems were found than are listed. */
  problemsTruncated: boolean;
}
