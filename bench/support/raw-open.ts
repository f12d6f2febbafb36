// The database work of one key release (POST /api/v1/access/open), done straight through
// node-postgres with no HTTP, no validation and no key crypto: the ceiling the API could
// reach on this machine. Keep the statements in step with what RecipientAccessService.open
// (src/messages/recipient-access.service.ts) and the audit batcher (src/audit/audit.batch.ts:
// appendAuditEventsAfter, or appendAuditEvents when it does not know the chain's head) send, in the same order and the same transactions: one read of the
// session with the message, label, attachments, visible recipients and the objects' wrapped
// keys with their KEKs (the content module's objectKeysJson, as the server uses it); the
// release event group-committed with the other releases waiting for the chain; then the opened
// times, group-committed as one UPDATE. Both group commits use the server's own GroupCommit
// (src/storage/database/group-commit.ts). The statements the server prepares
// (src/storage/database/prepared.ts) are run as named statements here too.
import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import { computeAuditHash, GENESIS_HASH } from '../../src/audit/audit.chain.ts';
import type { AuditEventRecord } from '../../src/audit/audit.model.ts';
import { objectKeysJson } from '../../src/content/content.repository.ts';
import { GroupCommit, type Queued } from '../../src/storage/database/group-commit.ts';

/** What the raw loop needs; `sessions` are recipient session tokens as the API hands them out. */
export interface RawOpenOptions {
  databaseUrl: string;
  /** The server's DATABASE_POOL_MAX: the same number of connections. */
  poolMax: number;
  /** Concurrent workers, each running one key release after another (autocannon's connections). */
  workers: number;
  sessions: string[];
  /** What the server records as the caller's address. */
  ip: string;
}

// Verbatim from recipient-access.service.ts (ACCESS_SELECT with OPENING_COLUMNS, joined with the session).
const SESSION_SQL = `
  SELECT s.auth_level, s.expires_at AS session_expires_at,
  ${objectKeysJson('m.tenant_id', 'ARRAY[m.envelope_object_id] || ARRAY(SELECT a.object_id FROM message_attachments a WHERE a.message_id = m.id)')} AS object_keys,
  (SELECT to_jsonb(l) FROM labels l WHERE l.tenant_id = m.tenant_id AND l.id = m.label_id) AS label,
  ARRAY(SELECT a.object_id::text FROM message_attachments a WHERE a.message_id = m.id ORDER BY a.position) AS attachment_object_ids,
  ARRAY(SELECT v.email FROM message_recipients v WHERE v.message_id = m.id AND v.removed_at IS NULL AND v.kind = 'to' ORDER BY v.added_at, v.email) AS to_emails,
  ARRAY(SELECT v.email FROM message_recipients v WHERE v.message_id = m.id AND v.removed_at IS NULL AND v.kind = 'cc' ORDER BY v.added_at, v.email) AS cc_emails,
  r.id AS recipient_id, r.tenant_id, r.email, r.kind, r.revoked_at AS recipient_revoked_at, r.removed_at, r.disclaimer_accepted_at,
         m.id AS message_id, m.thread_id, m.sender_user_id, m.sender_email, m.label_id, m.envelope_object_id, m.created_at, m.expires_at, m.revoked_at AS message_revoked_at
    FROM message_recipients r JOIN messages m ON m.id = r.message_id JOIN recipient_sessions s ON s.recipient_id = r.id WHERE s.token_hash = $1`;
const OPENED_SQL = 'UPDATE message_recipients SET first_opened_at = COALESCE(first_opened_at, now()), last_opened_at = now() WHERE id = ANY($1::uuid[])';
// audit.repository.ts: lockAndReadHead, insertAuditEvents (the locked path), and
// insertAuditEventsAfter (the fast path after a head the batcher appended itself).
const LOCK_HEAD_SQL = 'SELECT chain_seq, hash, ids, occurred_at FROM audit_lock_head($1, $2)';
const INSERT_COLUMNS = 'chain, chain_seq, id, tenant_id, occurred_at, actor_type, actor_id, action, target_type, target_id, outcome, ip, user_agent, details, prev_hash, hash';
const MAX_BATCH = 256; // as audit.batch.ts
const COLUMN_CASTS = ['text', 'int8', 'uuid', 'uuid', 'timestamptz', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'jsonb', 'bytea', 'bytea'];

/** A statement prepared once per connection, as the server's prepared() texts are. */
const named = (text: string, values: unknown[]): pg.QueryConfig => ({ name: `raw_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`, text, values });

/** The fields of a release event that the loop chooses. */
type EventFields = Omit<AuditEventRecord, 'chain' | 'chainSeq' | 'id' | 'occurredAt' | 'prevHash' | 'hash'>;

/** A chain's last event as this loop appended it (AuditBatcher's remembered head). */
interface Head {
  seq: bigint;
  hash: Uint8Array;
}

/** The rows of a batch chained after `seq`/`prevHash`, as parameters and VALUES tuples. */
function chainedRows(chain: string, batch: Queued<EventFields, void>[], head: Head, ids: string[], occurredAt: Date, casts: (k: number) => string, params: unknown[]): { values: string[]; last: Head } {
  let { seq, hash: prevHash } = head;
  const values = batch.map((p, i) => {
    seq++;
    const f = { chain, chainSeq: seq.toString(), id: ids[i]!, occurredAt, ...p.item };
    const hash = computeAuditHash(prevHash, f);
    const at = params.length;
    params.push(f.chain, f.chainSeq, f.id, f.tenantId, f.occurredAt, f.actorType, f.actorId, f.action, f.targetType, f.targetId, f.outcome, f.ip, f.userAgent, JSON.stringify(f.details), prevHash, hash);
    prevHash = hash;
    return `(${Array.from({ length: 16 }, (_, k) => `$${at + k + 1}${casts(k)}`).join(', ')})`;
  });
  return { values, last: { seq, hash: prevHash } };
}

/** The fast path (appendAuditEventsAfter): one statement after the remembered head; null if the chain moved on. */
async function appendAfter(pool: pg.Pool, chain: string, batch: Queued<EventFields, void>[], head: Head): Promise<Head | null> {
  const params: unknown[] = [chain, head.seq.toString()];
  const { values, last } = chainedRows(chain, batch, head, batch.map(() => randomUUID()), new Date(), (k) => `::${COLUMN_CASTS[k]}`, params);
  try {
    const { rowCount } = await pool.query(
      `WITH chain_lock AS (SELECT pg_advisory_xact_lock(hashtext('audit:' || $1::text)))
       INSERT INTO audit_events (${INSERT_COLUMNS})
       SELECT v.* FROM (VALUES ${values.join(', ')}) AS v, chain_lock
        WHERE NOT EXISTS (SELECT 1 FROM audit_events WHERE chain = $1 AND chain_seq > $2::int8)`,
      params,
    );
    return rowCount === batch.length ? last : null;
  } catch (err) {
    if ((err as { code?: string }).code === '23505') return null;
    throw err;
  }
}

/** The locked path (appendAuditEvents) for one chain, in raw SQL. */
async function appendLocked(pool: pg.Pool, chain: string, batch: Queued<EventFields, void>[]): Promise<Head> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const head = (await client.query<{ chain_seq: string | null; hash: Buffer | null; ids: string[]; occurred_at: Date }>(named(LOCK_HEAD_SQL, [chain, batch.length]))).rows[0]!;
    const params: unknown[] = [];
    const start = { seq: head.chain_seq !== null ? BigInt(head.chain_seq) : 0n, hash: head.hash ?? GENESIS_HASH };
    const { values, last } = chainedRows(chain, batch, start, head.ids, head.occurred_at, (k) => (k === 13 ? '::jsonb' : ''), params);
    await client.query(`INSERT INTO audit_events (${INSERT_COLUMNS}) VALUES ${values.join(', ')}`, params);
    await client.query('COMMIT');
    client.release();
    return last;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release(true);
    throw err;
  }
}

/** The batcher (AuditBatcher.appendBatch) for one chain: the fast path when the head is known, else the locked one. */
async function appendBatch(pool: pg.Pool, heads: Map<string, Head>, chain: string, batch: Queued<EventFields, void>[]): Promise<void> {
  const known = heads.get(chain);
  heads.delete(chain);
  const last = (known && (await appendAfter(pool, chain, batch, known))) || (await appendLocked(pool, chain, batch));
  heads.set(chain, last);
  for (const p of batch) p.resolve();
}

interface SessionRow {
  recipient_id: string;
  tenant_id: string;
  message_id: string;
  envelope_object_id: string;
  attachment_object_ids: string[];
}

/** The two group commits of the loop. */
interface Writers {
  audit: GroupCommit<EventFields, void>;
  opened: GroupCommit<string, void>;
}

/** One key release's SQL. The audit hash is computed as the server does (SHA-256 of a few hundred bytes), so the chain stays verifiable. */
async function openOnce(pool: pg.Pool, writers: Writers, tokenHash: Buffer, ip: string): Promise<void> {
  const { rows } = await pool.query<SessionRow>(named(SESSION_SQL, [tokenHash]));
  const row = rows[0];
  if (!row) throw new Error('recipient session not found');
  const objectIds = [row.envelope_object_id, ...row.attachment_object_ids];
  await writers.audit.add(row.tenant_id, {
    tenantId: row.tenant_id,
    actorType: 'recipient',
    actorId: row.recipient_id,
    action: 'message.keys_released',
    targetType: 'message',
    targetId: row.message_id,
    outcome: 'success',
    ip,
    userAgent: null,
    details: { objects: objectIds.length },
  });
  await writers.opened.add('opened', row.recipient_id);
}

/** A pool and the workers that drive it; run() measures one window, the pool stays open between windows. */
export class RawOpenLoop {
  private readonly pool: pg.Pool;
  private readonly writers: Writers;
  private readonly heads = new Map<string, Head>();
  private readonly hashes: Buffer[];
  private next = 0;

  constructor(private readonly opts: RawOpenOptions) {
    this.pool = new pg.Pool({ connectionString: opts.databaseUrl, max: opts.poolMax, application_name: 'sealpost-bench-raw' });
    this.pool.on('error', () => {});
    this.writers = {
      audit: new GroupCommit((chain, batch) => appendBatch(this.pool, this.heads, chain, batch), MAX_BATCH),
      opened: new GroupCommit(async (_key, batch) => {
        await this.pool.query(named(OPENED_SQL, [batch.map((q) => q.item)]));
        for (const q of batch) q.resolve();
      }, 1000),
    };
    // The server hashes the session token per request too; it is not the database's work.
    this.hashes = opts.sessions.map((s) => createHash('sha256').update(Buffer.from(s, 'base64url')).digest());
  }

  /** `workers` loops of key releases for `seconds`; the latency of each in ms. */
  async run(seconds: number): Promise<{ seconds: number; ok: number; latencies: number[]; failed: number; statusCodes: Record<string, number> }> {
    const latencies: number[] = [];
    let failed = 0;
    const started = performance.now();
    const deadline = started + seconds * 1000;
    const worker = async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          await openOnce(this.pool, this.writers, this.hashes[this.next++ % this.hashes.length]!, this.opts.ip);
          latencies.push(performance.now() - t0);
        } catch (err) {
          if (failed++ === 0) process.stderr.write(`raw_sql: first failure: ${(err as Error).message}\n`);
        }
      }
    };
    await Promise.all(Array.from({ length: this.opts.workers }, worker));
    return { seconds: (performance.now() - started) / 1000, ok: latencies.length, latencies, failed, statusCodes: {} };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
