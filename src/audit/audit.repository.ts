// SQL for audit_events. No logic about what is valid or how hashes are made: see audit.service.ts.
import type { Sql } from '../storage/database/database.ts';
import type { AuditEventRecord, JsonObject } from './audit.model.ts';
import { prepared } from '../storage/database/prepared.ts';
import { AppError } from '../shared/app-error.ts';

/** A row of audit_events as the driver returns it. */
export interface AuditEventRow {
  chain: string;
  chain_seq: string;
  id: string;
  tenant_id: string | null;
  occurred_at: Date;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: string;
  ip: string | null;
  user_agent: string | null;
  details: JsonObject;
  prev_hash: Uint8Array;
  hash: Uint8Array;
}

const COLUMNS =
  'chain, chain_seq, id, tenant_id, occurred_at, actor_type, actor_id, action, target_type, target_id, outcome, ip, user_agent, details, prev_hash, hash';

/** Position and hash of the chain's last event, or null for an empty chain. */
export async function readChainHead(sql: Sql, chain: string): Promise<{ chainSeq: string; hash: Uint8Array } | null> {
  const { rows } = await sql.query<{ chain_seq: string; hash: Uint8Array }>(
    'SELECT chain_seq, hash FROM audit_events WHERE chain = $1 ORDER BY chain_seq DESC LIMIT 1',
    [chain],
  );
  const row = rows[0];
  return row ? { chainSeq: row.chain_seq, hash: row.hash } : null;
}

/**
 * For appends: takes the chain's lock, held until the surrounding transaction ends, then reads
 * the chain's head (null for an empty chain), `count` new event ids and a timestamp from the
 * database, so all API nodes share one clock and the id needs no crypto import here. The
 * timestamp is truncated to milliseconds so it round-trips exactly. One round trip: the
 * function audit_lock_head (migration 0019) is VOLATILE, so its head read takes a snapshot
 * after the lock was granted (READ COMMITTED) and sees the latest head. Every round trip made
 * while holding the lock caps the chain's appends per second. Hash collisions of chain names
 * only make two chains share a lock, which is harmless.
 */
export async function lockAndReadHead(
  tx: Sql,
  chain: string,
  count: number,
): Promise<{ head: { chainSeq: string; hash: Uint8Array } | null; ids: string[]; occurredAt: Date }> {
  const { rows } = await tx.query<{ chain_seq: string | null; hash: Uint8Array | null; ids: string[]; occurred_at: Date }>(
    prepared('SELECT chain_seq, hash, ids, occurred_at FROM audit_lock_head($1, $2)'),
    [chain, count],
  );
  const row = rows[0]!;
  return { head: row.chain_seq !== null && row.hash !== null ? { chainSeq: row.chain_seq, hash: row.hash } : null, ids: row.ids, occurredAt: row.occurred_at };
}

/** Inserts several events exactly as given, in one statement. */
export async function insertAuditEvents(tx: Sql, events: AuditEventRecord[]): Promise<void> {
  const params: unknown[] = [];
  await tx.query(`INSERT INTO audit_events (${COLUMNS}) VALUES ${eventValues(events, params)}`, params);
}

/** Casts of the 16 parameters in COLUMNS order: INSERT … SELECT does not type them from the columns. */
const COLUMN_CASTS = ['text', 'int8', 'uuid', 'uuid', 'timestamptz', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'jsonb', 'bytea', 'bytea'];

/** Appends the events' parameters to `params`; their VALUES tuples, typed. */
function eventValues(events: AuditEventRecord[], params: unknown[]): string {
  return events
    .map((e) => {
      const at = params.length;
      params.push(...eventParams(e));
      return `(${COLUMN_CASTS.map((cast, i) => `$${at + i + 1}::${cast}`).join(', ')})`;
    })
    .join(', ');
}

/**
 * Inserts events that continue the chain after position `afterSeq`, in one statement, only if
 * no event follows that position yet. It takes the chain's lock (audit_lock_head's) before inserting,
 * so it never slips between a locked appender's head read and its insert. False, with nothing
 * inserted, when an event follows: committed before this statement began (the NOT EXISTS), or
 * while it waited for the lock (its snapshot predates the lock, but the primary key refuses the
 * position). Runs in its own transaction when given the Database.
 */
export async function insertAuditEventsAfter(sql: Sql, afterSeq: string, events: AuditEventRecord[]): Promise<boolean> {
  const params: unknown[] = [events[0]!.chain, afterSeq];
  const values = eventValues(events, params);
  try {
    const { rowCount } = await sql.query(
      `WITH chain_lock AS (SELECT pg_advisory_xact_lock(hashtext('audit:' || $1::text)))
       INSERT INTO audit_events (${COLUMNS})
       SELECT v.* FROM (VALUES ${values}) AS v, chain_lock
        WHERE NOT EXISTS (SELECT 1 FROM audit_events WHERE chain = $1 AND chain_seq > $2::int8)`,
      params,
    );
    return rowCount === events.length;
  } catch (err) {
    if (err instanceof AppError && err.code === 'unique_violation' && err.details?.constraint === 'audit_events_pkey') return false;
    throw err;
  }
}

/** Inserts one event exactly as given. */
export async function insertAuditEvent(tx: Sql, e: AuditEventRecord): Promise<void> {
  await tx.query(
    `INSERT INTO audit_events (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15, $16)`,
    eventParams(e),
  );
}

/** The 16 parameters of one row, in COLUMNS order. */
function eventParams(e: AuditEventRecord): unknown[] {
  return [
    e.chain,
    e.chainSeq,
    e.id,
    e.tenantId,
    e.occurredAt,
    e.actorType,
    e.actorId,
    e.action,
    e.targetType,
    e.targetId,
    e.outcome,
    e.ip,
    e.userAgent,
    JSON.stringify(e.details),
    e.prevHash,
    e.hash,
  ];
}

/** The first chain name after `after` (alphabetically), or null: walks chains one index probe at a time. */
export async function nextChain(sql: Sql, after: string | null): Promise<string | null> {
  const { rows } = await sql.query<{ chain: string }>(
    after === null
      ? 'SELECT chain FROM audit_events ORDER BY chain LIMIT 1'
      : 'SELECT chain FROM audit_events WHERE chain > $1 ORDER BY chain LIMIT 1',
    after === null ? [] : [after],
  );
  return rows[0]?.chain ?? null;
}

/** A stored event plus what verification needs to know beyond what a Date can carry. */
export interface AuditEventPageRow extends AuditEventRecord {
  /** True when occurred_at has sub-millisecond digits, which appends never write. */
  subMillisecond: boolean;
}

/** Up to `limit` events of `chain` after position `afterSeq`, in chain order. */
export async function readChainPage(sql: Sql, chain: string, afterSeq: string, limit: number): Promise<AuditEventPageRow[]> {
  // A JS Date drops microseconds, so an edit below one millisecond would be invisible to the
  // hash check; the database reports it instead.
  const { rows } = await sql.query<AuditEventRow & { sub_millisecond: boolean }>(
    `SELECT ${COLUMNS}, occurred_at <> date_trunc('milliseconds', occurred_at) AS sub_millisecond
       FROM audit_events WHERE chain = $1 AND chain_seq > $2::int8 ORDER BY chain_seq LIMIT $3`,
    [chain, afterSeq, limit],
  );
  return rows.map((r) => ({ ...toRecord(r), subMillisecond: r.sub_millisecond }));
}

function toRecord(r: AuditEventRow): AuditEventRecord {
  return {
    chain: r.chain,
    chainSeq: r.chain_seq,
    id: r.id,
    tenantId: r.tenant_id,
    occurredAt: r.occurred_at,
    actorType: r.actor_type,
    actorId: r.actor_id,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    outcome: r.outcome,
    ip: r.ip,
    userAgent: r.user_agent,
    details: r.details,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}
