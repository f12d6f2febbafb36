// Vocabulary of retention: the periods a tenant (or the operator) may set, their defaults from
// the registry's RETENTION_RULES and their bounds, legal holds, and the report a run writes.
import type { DataCategory, RetentionRule } from '../../storage/database/registry.ts';
import { RETENTION_RULES } from '../../storage/database/registry.ts';

/** Periods that can be set. Smart Data (rolling 12 months) and CRM (account lifetime) cannot. */
export const RETENTION_POLICY_KEYS = ['content', 'content_expired_grace', 'system', 'audit'] as const;

/** One of {@link RETENTION_POLICY_KEYS}. */
export type RetentionPolicyKey = (typeof RETENTION_POLICY_KEYS)[number];

/** What a policy key governs, its default and bounds. */
export interface PolicyDefinition {
  category: DataCategory;
  /** Registry rule the default comes from, if any. */
  rule: RetentionRule | null;
  description: string;
  /** Default period; null keeps the data until something else ends it. */
  defaultPeriod: string | null;
  /** Whether null ("keep") may be set. */
  nullable: boolean;
  minDays: number;
  maxDays: number;
  /** False: only the operator sets it, for the whole installation. */
  perTenant: boolean;
}

/** Grace after a message's expiry before its Content is crypto-shredded; see docs/privacy.md. */
export const DEFAULT_EXPIRED_GRACE = 'P30D';

/** Defaults and bounds of every settable period. */
export const POLICY_DEFINITIONS: Record<RetentionPolicyKey, PolicyDefinition> = {
  content: {
    category: 'content',
    rule: 'content_policy',
    description: "Messages and their Content are deleted this long after they were sent (Content crypto-shredded, rows deleted). Default: kept until the tenant's policy or the message's expiry ends it.",
    defaultPeriod: RETENTION_RULES.content_policy.defaultPeriod,
    nullable: true,
    minDays: 1,
    maxDays: 100 * 366,
    perTenant: true,
  },
  content_expired_grace: {
    category: 'content',
    rule: null,
    description: "An expired message's Content (body, subject, attachments) is crypto-shredded this long after its expiry; until then the sender may still extend the expiry.",
    defaultPeriod: DEFAULT_EXPIRED_GRACE,
    nullable: false,
    minDays: 0,
    maxDays: 366,
    perTenant: true,
  },
  system: {
    category: 'system',
    rule: 'system_logs_13m',
    description: 'Finished background-job rows are deleted this long after they were created.',
    defaultPeriod: RETENTION_RULES.system_logs_13m.defaultPeriod,
    nullable: false,
    minDays: 28,
    maxDays: 10 * 366,
    perTenant: false,
  },
  audit: {
    category: 'system',
    rule: 'audit_policy',
    description: 'Audit events older than this are deleted from the start of the chain (the chain stays verifiable from a checkpoint); released legal holds and retention reports follow the same period.',
    defaultPeriod: RETENTION_RULES.audit_policy.defaultPeriod,
    nullable: false,
    minDays: 365,
    maxDays: 100 * 366,
    perTenant: true,
  },
};

/** Smart Data window: fixed, because the learned model's recency is built on it. */
export const SMART_PERIOD = RETENTION_RULES.smart_rolling_12m.defaultPeriod;

/** Abandoned uploads (sealed, never sent) are shredded after this. */
export const ABANDONED_UPLOAD_PERIOD = 'P1D';

/** Ended one-time codes, recipient sessions and unverified access requests go this long after they ended (credential_lifetime). */
export const ENDED_CREDENTIAL_PERIOD = 'P30D';

/** A period in force for a tenant (or the installation) and where it comes from. */
export interface EffectivePolicy {
  key: RetentionPolicyKey | 'smart' | 'crm';
  category: DataCategory;
  period: string | null;
  source: 'tenant' | 'installation' | 'default' | 'fixed';
  /** What would apply without the tenant's own value (the installation's, else the built-in default). */
  defaultPeriod: string | null;
  description: string;
  settable: boolean;
}

/** Scopes of a legal hold. */
export const HOLD_SCOPES = ['tenant', 'user', 'message'] as const;

/** One of {@link HOLD_SCOPES}. */
export type HoldScope = (typeof HOLD_SCOPES)[number];

/** A legal hold as stored. */
export interface LegalHold {
  id: string;
  tenantId: string;
  scope: HoldScope;
  userId: string | null;
  messageId: string | null;
  reason: string;
  placedBy: string;
  placedAt: Date;
  releasedBy: string | null;
  releasedAt: Date | null;
  releaseReason: string | null;
}

/** Counts for one table or category: rows deleted, objects crypto-shredded, rows kept by a hold. */
export interface RetentionCounts {
  deleted: number;
  shredded: number;
  held: number;
}

/** What a run removed (or, dry, would remove): per table and per category. Never values. */
export interface RetentionTally {
  tables: Record<string, RetentionCounts>;
  categories: Partial<Record<DataCategory, RetentionCounts>>;
}

/** How a run was started. */
export type RetentionTrigger = 'schedule' | 'cli' | 'api' | 'direct';

/** The report of one run. */
export interface RetentionReport extends RetentionTally {
  id: string;
  dryRun: boolean;
  /** Tenant the run was limited to, or null (every tenant and the installation). */
  tenantId: string | null;
  triggeredBy: RetentionTrigger;
  status: 'running' | 'completed' | 'failed';
  asOf: Date;
  startedAt: Date;
  finishedAt: Date | null;
  error: string | null;
  /** Rows deleted plus objects shredded. */
  totalRemoved: number;
  /** Rows kept back by legal holds. */
  totalHeld: number;
}
