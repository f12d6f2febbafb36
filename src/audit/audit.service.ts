// Appending to and verifying the hash-chained audit log. Limits of what the chain proves are in
// docs/database.md ("Audit chain").
import { isIP } from 'node:net';
import { z } from 'zod';
import { errors } from '../shared/app-error.ts';
import { isUuid, toHex } from '../crypto/format/bytes.ts';
import { randomId } from '../crypto/keys.ts';
import { inTransaction, type Sql } from '../storage/database/database.ts';
import { bytesEqual, computeAuditHash, GENESIS_HASH, GENESIS_HASH_HEX } from './audit.chain.ts';
import {
  AUDIT_ACTOR_TYPES,
  AUDIT_OUTCOMES,
  SYSTEM_CHAIN,
  type AuditChainHead,
  type AuditChainSummary,
  type AuditEventInput,
  type AuditEventRecord,
  type AuditProblem,
  type AuditVerification,
  type JsonObject,
} from './audit.model.ts';
import { PSEUDONYMISED_ACTION, pseudonymisationDigest, readChainPseudonyms } from './audit.pseudonyms.ts';
import { anchorsAfterCheckpoint, confirmsCheckpoint, readChainCheckpoint } from './audit.checkpoints.ts';
import { insertAuditEvent, insertAuditEvents, insertAuditEventsAfter, lockAndReadHead, nextChain, readChainHead, readChainPage } from './audit.repository.ts';

const MAX_DETAILS_BYTES = 8 * 1024;
const MAX_USER_AGENT_CHARS = 512;
const MAX_PROBLEMS = 1000;

// Stored text must come back byte-identical or the row's hash no longer verifies: PostgreSQL
// rejects NUL, and a lone UTF-16 surrogate would be rewritten to U+FFFD on the way in.
const UNSTORABLE_TEXT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

// Keys that name secrets. The log is read by auditors and exported; a secret in it is a leak.
const SECRET_KEYS = new Set([
  'password',
  'passphrase',
  'secret',
  'token',
  'accesstoken',
  'refreshtoken',
  'apikey',
  'privatekey',
  'wrappedkey',
  'datakey',
  'otp',
  'onetimecode',
  'totp',
  'authorization',
  'cookie',
]);

const storableText = (max: number) =>
  z.string().min(1).max(max).refine((s) => !UNSTORABLE_TEXT.test(s), 'must not contain NUL or unpaired surrogates');

const EventSchema = z.strictObject({
  // Lower-case canonical form only: the hash covers the text as given, the uuid column would
  // store it lower-cased, and the two would then never match.
  tenantId: z.string().refine(isUuid, 'must be a lower-case UUID').optional(),
  actor: z.strictObject({ type: z.enum(AUDIT_ACTOR_TYPES), id: storableText(200).optional() }),
  action: z
    .string()
    .max(100)
    .regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/, "must be snake_case segments joined by dots, e.g. 'sealed_object.created'"),
  target: z
    .strictObject({
      type: z.string().max(64).regex(/^[a-z][a-z0-9_]*$/, 'must be snake_case'),
      id: storableText(200).optional(),
    })
    .optional(),
  outcome: z.enum(AUDIT_OUTCOMES),
  ip: z.string().refine((s) => isIP(s) !== 0, 'must be an IPv4 or IPv6 address').optional(),
  userAgent: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});

/**
 * Appends one event to its chain (the tenant's, or 'system') and returns it as stored.
 * Given the Database it runs its own transaction; given an open transaction it joins it, so the
 * event commits or rolls back with the change it records. Appends to one chain are serialised by
 * an advisory lock held until that transaction ends. Requires READ COMMITTED (the default): a
 * snapshot taken before the lock would read a stale chain head.
 */
export async function appendAuditEvent(sql: Sql, input: AuditEventInput): Promise<AuditEventRecord> {
  const event = parseEvent(input);
  const chain = event.tenantId ?? SYSTEM_CHAIN;
  return inTransaction(sql, async (tx) => {
    const { head, ids, occurredAt } = await lockAndReadHead(tx, chain, 1);
    const record = chainRecord(chain, head, ids[0]!, occurredAt, event);
    await insertAuditEvent(tx, record);
    return record;
  });
}

/**
 * Appends several events to one chain, in the order given, with one lock, one head read and
 * one INSERT (group commit: see audit.batch.ts). Same transaction rules as appendAuditEvent;
 * all or none are stored. Every event is validated before anything is written.
 */
export async function appendAuditEvents(sql: Sql, inputs: AuditEventInput[]): Promise<AuditEventRecord[]> {
  const { chain, events } = parseBatch(inputs);
  if (events.length === 0) return [];
  return inTransaction(sql, async (tx) => {
    const { head, ids, occurredAt } = await lockAndReadHead(tx, chain, events.length);
    const records = chainRecords(chain, head, ids, occurredAt, events);
    await insertAuditEvents(tx, records);
    return records;
  });
}

/** Validates every event of a batch, which must all belong to one chain (one tenant, or none). */
function parseBatch(inputs: AuditEventInput[]): { chain: string; events: ReturnType<typeof parseEvent>[] } {
  const events = inputs.map(parseEvent);
  const chain = events[0]?.tenantId ?? SYSTEM_CHAIN;
  if (events.some((e) => (e.tenantId ?? SYSTEM_CHAIN) !== chain)) {
    throw errors.invalid('audit_batch_mixed_chains', 'a batch of audit events must all belong to one chain (one tenant, or none)');
  }
  return { chain, events };
}

/** The stored forms of validated events, chained in order after `head` with the given ids and time. */
function chainRecords(chain: string, head: ChainPosition | null, ids: string[], occurredAt: Date, events: ReturnType<typeof parseEvent>[]): AuditEventRecord[] {
  const records: AuditEventRecord[] = [];
  let previous = head;
  for (const [i, event] of events.entries()) {
    const record = chainRecord(chain, previous, ids[i]!, occurredAt, event);
    records.push(record);
    previous = { chainSeq: record.chainSeq, hash: record.hash };
  }
  return records;
}

/** Position and hash of a chain's last event. */
export interface ChainPosition {
  chainSeq: string;
  hash: Uint8Array;
}

/**
 * Appends several events to one chain right after `head`, a position this process knows to
 * have been the chain's last (the last event it appended itself), in one statement with no
 * transaction around it: the group commit's fast path (audit.batch.ts). The statement takes the
 * chain's lock itself. Ids and the timestamp come from this server, not the database: the
 * hashes must be computed before the only round trip.
 *
 * Returns null, having stored nothing, when the chain has moved on since `head` (another
 * process, or a locked append in this one, added events): the statement inserts only while no
 * event follows `head`, and the primary key (chain, chain_seq) refuses a position taken by a
 * transaction that committed meanwhile. The caller then appends with the lock. Every event is
 * validated before anything is written, as in appendAuditEvents.
 */
export async function appendAuditEventsAfter(db: Sql, head: ChainPosition, inputs: AuditEventInput[]): Promise<AuditEventRecord[] | null> {
  const { chain, events } = parseBatch(inputs);
  if (events.length === 0) return [];
  const records = chainRecords(chain, head, events.map(() => randomId()), new Date(), events);
  return (await insertAuditEventsAfter(db, head.chainSeq, records)) ? records : null;
}

/** The stored form of a validated event placed right after `head` (null: the chain is empty). */
function chainRecord(
  chain: string,
  head: ChainPosition | null,
  id: string,
  occurredAt: Date,
  event: ReturnType<typeof parseEvent>,
): AuditEventRecord {
  const fields = {
    chain,
    chainSeq: head ? (BigInt(head.chainSeq) + 1n).toString() : '1',
    id,
    tenantId: event.tenantId ?? null,
    occurredAt,
    actorType: event.actor.type,
    actorId: event.actor.id ?? null,
    action: event.action,
    targetType: event.target?.type ?? null,
    targetId: event.target?.id ?? null,
    outcome: event.outcome,
    ip: event.ip ?? null,
    userAgent: event.userAgent === undefined ? null : cleanUserAgent(event.userAgent),
    details: event.details,
  };
  const prevHash = head?.hash ?? GENESIS_HASH;
  return { ...fields, prevHash, hash: computeAuditHash(prevHash, fields) };
}

/** The current head of a tenant's chain (or the system chain), for anchoring outside the database. */
export async function getAuditChainHead(sql: Sql, opts: { tenantId?: string } = {}): Promise<AuditChainHead> {
  const chain = opts.tenantId ?? SYSTEM_CHAIN;
  const head = await readChainHead(sql, chain);
  return head
    ? { chain, chainSeq: Number(head.chainSeq), hash: toHex(head.hash) }
    : { chain, chainSeq: 0, hash: GENESIS_HASH_HEX };
}

/** Options for {@link verifyAuditChains}. */
export interface VerifyAuditOptions {
  /** Verify only this tenant's chain; otherwise every chain, including 'system'. */
  tenantId?: string;
  /** Heads recorded earlier outside the database; each must still be present, unchanged. */
  anchors?: AuditChainHead[];
  /** Rows read per query (default 1000); memory stays bounded by it whatever the log's size. */
  pageSize?: number;
}

/**
 * Re-computes every hash and checks every link and position, reading each chain in pages.
 * Without anchors it cannot notice the newest events of a chain being removed, or a chain
 * rewritten from some point on by someone with write access; see docs/database.md.
 */
export async function verifyAuditChains(sql: Sql, opts: VerifyAuditOptions = {}): Promise<AuditVerification> {
  const pageSize = opts.pageSize ?? 1000;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw errors.invalid('audit_page_size_invalid', 'pageSize must be a positive integer');
  if (opts.tenantId !== undefined && !isUuid(opts.tenantId)) {
    throw errors.invalid('audit_tenant_invalid', 'tenantId must be a lower-case UUID');
  }

  const problems: AuditProblem[] = [];
  let problemCount = 0;
  const report = (p: AuditProblem): void => {
    problemCount++;
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };

  const anchorsByChain = new Map<string, AuditChainHead[]>();
  for (const a of opts.anchors ?? []) anchorsByChain.set(a.chain, [...(anchorsByChain.get(a.chain) ?? []), a]);

  const chains: AuditChainSummary[] = [];
  const verifyOne = async (chain: string): Promise<void> => {
    const summary = await verifyChain(sql, chain, pageSize, anchorsByChain.get(chain) ?? [], report);
    if (summary.events > 0 || opts.tenantId !== undefined) chains.push(summary);
  };

  if (opts.tenantId !== undefined) {
    await verifyOne(opts.tenantId);
  } else {
    const seen = new Set<string>();
    for (let chain = await nextChain(sql, null); chain !== null; chain = await nextChain(sql, chain)) {
      seen.add(chain);
      await verifyOne(chain);
    }
    // An anchored chain that has vanished altogether must not pass just because it is gone.
    for (const chain of anchorsByChain.keys()) if (!seen.has(chain)) await verifyOne(chain);
  }

  return { ok: problemCount === 0, chains, problems, problemsTruncated: problemCount > problems.length };
}

async function verifyChain(
  sql: Sql,
  chain: string,
  pageSize: number,
  anchors: AuditChainHead[],
  report: (p: AuditProblem) => void,
): Promise<AuditChainSummary> {
  // A chain whose oldest events retention deleted starts at its checkpoint (audit.checkpoints.ts).
  const checkpoint = await readChainCheckpoint(sql, chain);
  let checkpointConfirmed = false;
  let expectedSeq = checkpoint ? checkpoint.firstSeq : 1n;
  let prevHash: Uint8Array = checkpoint ? checkpoint.prevHash : GENESIS_HASH;
  let events = 0;
  let lastSeq = checkpoint ? (checkpoint.firstSeq - 1n).toString() : '0';
  const anchorSplit = anchorsAfterCheckpoint(anchors, checkpoint);
  for (const a of anchorSplit.mismatched) report({ chain, chainSeq: a.chainSeq, problem: 'anchor_mismatch' });
  const pendingAnchors = new Map(anchorSplit.kept.map((a) => [BigInt(a.chainSeq), a]));
  // Rows pseudonymised by an erasure verify against their redacted hash; each set of them must be
  // attested by an 'audit.pseudonymised' event later in this chain (audit.pseudonyms.ts).
  const pseudonyms = await readChainPseudonyms(sql, chain);
  const unattested = new Set(pseudonyms.byEvent.keys());

  for (;;) {
    const page = await readChainPage(sql, chain, lastSeq, pageSize);
    for (const row of page) {
      const seq = BigInt(row.chainSeq);
      const at = Number(seq);
      // Rows missing before this one (deleted), or numbering tampered with.
      if (seq !== expectedSeq) report({ chain, chainSeq: at, problem: 'seq_gap' });
      // This row does not follow the row before it: something was removed, inserted or re-hashed.
      if (!bytesEqual(row.prevHash, prevHash)) report({ chain, chainSeq: at, problem: 'prev_hash_mismatch' });
      // Some stored field no longer matches what was hashed when the row was appended.
      if (row.subMillisecond || !bytesEqual(row.hash, computeAuditHash(row.prevHash, row))) {
        const redacted = pseudonyms.latest.get(row.chainSeq);
        if (row.subMillisecond || !redacted || !bytesEqual(redacted.redactedHash, computeAuditHash(row.prevHash, row))) {
          report({ chain, chainSeq: at, problem: 'hash_mismatch' });
        }
      }
      const attested = row.action === PSEUDONYMISED_ACTION ? pseudonyms.byEvent.get(row.id) : undefined;
      if (attested) {
        // The overlay rows of this erasure are exactly what the chained event recorded.
        if (row.details['digest'] !== pseudonymisationDigest(attested)) report({ chain, chainSeq: at, problem: 'pseudonymisation_unattested' });
        unattested.delete(row.id);
      }
      if (checkpoint && confirmsCheckpoint(row, checkpoint)) checkpointConfirmed = true;
      const anchor = pendingAnchors.get(seq);
      if (anchor) {
        if (toHex(row.hash) !== anchor.hash.toLowerCase()) report({ chain, chainSeq: at, problem: 'anchor_mismatch' });
        pendingAnchors.delete(seq);
      }
      expectedSeq = seq + 1n;
      prevHash = row.hash;
      lastSeq = row.chainSeq;
      events++;
    }
    if (page.length < pageSize) break;
  }
  // Overlay rows that no event in the chain attests were added behind the log's back.
  for (const eventId of unattested) {
    report({ chain, chainSeq: Number(pseudonyms.byEvent.get(eventId)![0]!.chainSeq), problem: 'pseudonymisation_unattested' });
  }
  // A checkpoint no chained event records was written behind the log's back (or its event deleted).
  if (checkpoint && !checkpointConfirmed) report({ chain, chainSeq: Number(checkpoint.firstSeq), problem: 'checkpoint_unconfirmed' });
  // An anchored position that is no longer there: the chain was truncated or renumbered.
  for (const a of pendingAnchors.values()) {
    if (a.chainSeq > 0) report({ chain, chainSeq: a.chainSeq, problem: 'anchor_mismatch' });
  }
  return { chain, events, headHash: toHex(prevHash) };
}

function parseEvent(input: AuditEventInput): z.infer<typeof EventSchema> & { details: JsonObject } {
  const parsed = EventSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length > 0 ? issue.path.join('.') : 'event';
    throw errors.invalid('audit_event_invalid', `audit event ${field}: ${issue.message}`, { field });
  }
  return { ...parsed.data, details: normaliseDetails(parsed.data.details ?? {}) };
}

// The details are hashed as they will read back from jsonb, so a fresh row always verifies:
// one JSON round trip drops undefined, turns Dates into strings, and rejects what JSON cannot hold.
function normaliseDetails(details: Record<string, unknown>): JsonObject {
  let text: string;
  try {
    text = JSON.stringify(details);
  } catch {
    throw errors.invalid('audit_details_invalid', 'audit event details must be JSON-serialisable', { field: 'details' });
  }
  if (new TextEncoder().encode(text).length > MAX_DETAILS_BYTES) {
    // Keeps message bodies and documents out of the log, and rows small.
    throw errors.invalid('audit_details_too_large', `audit event details must be at most ${MAX_DETAILS_BYTES} bytes of JSON`, { field: 'details' });
  }
  const value = JSON.parse(text) as JsonObject;
  checkDetails(value, 'details');
  return value;
}

function checkDetails(value: unknown, path: string): void {
  if (typeof value === 'string') {
    if (UNSTORABLE_TEXT.test(value)) throw errors.invalid('audit_details_invalid', `${path} contains NUL or an unpaired surrogate`, { field: path });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => checkDetails(v, `${path}.${i}`));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, v] of Object.entries(value)) {
      if (UNSTORABLE_TEXT.test(key)) throw errors.invalid('audit_details_invalid', `${path} has a key with NUL or an unpaired surrogate`, { field: path });
      // Blocks the obvious ways a secret ends up in the audit trail; it cannot catch them all.
      if (SECRET_KEYS.has(key.toLowerCase().replace(/[^a-z]/g, ''))) {
        throw errors.invalid('audit_details_secret', `${path}.${key} looks like a secret; audit details must never hold secrets`, { field: `${path}.${key}` });
      }
      checkDetails(v, `${path}.${key}`);
    }
  }
}

// A client controls its user agent: an odd one must not stop the event being recorded, so it is
// made storable and shortened (by code point, never splitting a pair) instead of rejected.
function cleanUserAgent(s: string): string {
  const chars = Array.from(s.replace(new RegExp(UNSTORABLE_TEXT.source, 'g'), '\uFFFD'));
  return chars.length <= MAX_USER_AGENT_CHARS ? chars.join('') : chars.slice(0, MAX_USER_AGENT_CHARS).join('');
}
