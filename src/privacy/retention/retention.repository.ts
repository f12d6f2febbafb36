// SQL for retention: policies, legal holds, run reports, audit checkpoints, and the batched
// statements a run is made of. Every batch is one short statement or one small transaction, keyed
// by primary key and LIMITed, so no run holds locks for long. Decisions live in retention.service.ts.
import { randomId } from '../../crypto/keys.ts';
import type { Sql } from '../../storage/database/database.ts';
import type { HoldScope, LegalHold, RetentionPolicyKey, RetentionReport, RetentionTally, RetentionTrigger } from './retention.model.ts';

/** Where the ciphertext of a shredded object is: its region's blob store, under its key. */
export interface BlobRef {
  region: string;
  blob_key: string;
}
const toBlobRef = (r: BlobRef): BlobRef => ({ region: r.region, blob_key: r.blob_key });

// ------------------------------------------------------------------ policies

/** Stored overrides for one tenant and the installation (tenant_id NULL). */
export async function listPolicyRows(sql: Sql, tenantId: string | null): Promise<Array<{ tenant_id: string | null; key: RetentionPolicyKey; period: string | null }>> {
  const { rows } = await sql.query<{ tenant_id: string | null; key: RetentionPolicyKey; period: string | null }>(
    `SELECT tenant_id, key, period FROM retention_policies WHERE tenant_id IS NULL OR tenant_id = $1`,
    [tenantId],
  );
  return rows;
}

/** Sets (or with `remove`, deletes) an override; returns the previous period row if any. */
export async function writePolicy(sql: Sql, input: { tenantId: string | null; key: RetentionPolicyKey; period: string | null; remove: boolean; at: Date; by: string }): Promise<{ existed: boolean; previous: string | null }> {
  const { rows } = await sql.query<{ period: string | null }>(
    `DELETE FROM retention_policies WHERE COALESCE(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid) = COALESCE($1::uuid, '00000000-0000-0000-0000-000000000000'::uuid) AND key = $2 RETURNING period`,
    [input.tenantId, input.key],
  );
  if (!input.remove) {
    await sql.query(`INSERT INTO retention_policies (tenant_id, key, period, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)`, [input.tenantId, input.key, input.period, input.at, input.by]);
  }
  return { existed: rows.length > 0, previous: rows[0]?.period ?? null };
}

/** Longest default expiry (days) of active labels, of one tenant or of all; null when none sets one. */
export async function longestLabelExpiry(sql: Sql, tenantId: string | null): Promise<{ days: number; name: string } | null> {
  const { rows } = await sql.query<{ default_expiry_days: number; name: string }>(
    `SELECT default_expiry_days, name FROM labels WHERE archived_at IS NULL AND default_expiry_days IS NOT NULL AND ($1::uuid IS NULL OR tenant_id = $1)
      ORDER BY default_expiry_days DESC LIMIT 1`,
    [tenantId],
  );
  return rows[0] ? { days: rows[0].default_expiry_days, name: rows[0].name } : null;
}

// ------------------------------------------------------------------ holds

interface HoldRow {
  id: string;
  tenant_id: string;
  scope: HoldScope;
  user_id: string | null;
  message_id: string | null;
  reason: string;
  placed_by: string;
  placed_at: Date;
  released_by: string | null;
  released_at: Date | null;
  release_reason: string | null;
}

const toHold = (r: HoldRow): LegalHold => ({
  id: r.id,
  tenantId: r.tenant_id,
  scope: r.scope,
  userId: r.user_id,
  messageId: r.message_id,
  reason: r.reason,
  placedBy: r.placed_by,
  placedAt: r.placed_at,
  releasedBy: r.released_by,
  releasedAt: r.released_at,
  releaseReason: r.release_reason,
});

/** Inserts a hold. */
export async function insertHold(sql: Sql, h: Omit<LegalHold, 'id' | 'releasedBy' | 'releasedAt' | 'releaseReason'>): Promise<LegalHold> {
  const { rows } = await sql.query<HoldRow>(
    `INSERT INTO legal_holds (id, tenant_id, scope, user_id, message_id, reason, placed_by, placed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
    [randomId(), h.tenantId, h.scope, h.userId, h.messageId, h.reason, h.placedBy, h.placedAt],
  );
  return toHold(rows[0]!);
}

/** One hold, optionally only within `tenantId`. */
export async function getHold(sql: Sql, id: string, tenantId: string | null): Promise<LegalHold | null> {
  const { rows } = await sql.query<HoldRow>(`SELECT * FROM legal_holds WHERE id = $1 AND ($2::uuid IS NULL OR tenant_id = $2)`, [id, tenantId]);
  return rows[0] ? toHold(rows[0]) : null;
}

/** Records the release of an active hold; null when it was not active. */
export async function releaseHoldRow(sql: Sql, id: string, by: string, at: Date, reason: string): Promise<LegalHold | null> {
  const { rows } = await sql.query<HoldRow>(
    `UPDATE legal_holds SET released_by = $2, released_at = $3, release_reason = $4 WHERE id = $1 AND released_at IS NULL RETURNING *`,
    [id, by, at, reason],
  );
  return rows[0] ? toHold(rows[0]) : null;
}

/** Holds of one tenant (or all), newest first. */
export async function listHoldRows(sql: Sql, opts: { tenantId: string | null; includeReleased: boolean }): Promise<LegalHold[]> {
  const { rows } = await sql.query<HoldRow>(
    `SELECT * FROM legal_holds WHERE ($1::uuid IS NULL OR tenant_id = $1) AND ($2 OR released_at IS NULL) ORDER BY placed_at DESC, id LIMIT 1000`,
    [opts.tenantId, opts.includeReleased],
  );
  return rows.map(toHold);
}

/** True when `userId` is a user of the tenant. */
export async function userInTenant(sql: Sql, tenantId: string, userId: string): Promise<boolean> {
  const { rows } = await sql.query(`SELECT 1 FROM users WHERE id = $1 AND tenant_id = $2`, [userId, tenantId]);
  return rows.length > 0;
}

/** True when `messageId` is a message of the tenant. */
export async function messageInTenant(sql: Sql, tenantId: string, messageId: string): Promise<boolean> {
  const { rows } = await sql.query(`SELECT 1 FROM messages WHERE id = $1 AND tenant_id = $2`, [messageId, tenantId]);
  return rows.length > 0;
}

/** True when the tenant exists. */
export async function tenantExists(sql: Sql, tenantId: string): Promise<boolean> {
  const { rows } = await sql.query(`SELECT 1 FROM tenants WHERE id = $1`, [tenantId]);
  return rows.length > 0;
}

/** Every tenant id, in a stable order. */
export async function listTenantIds(sql: Sql): Promise<string[]> {
  const { rows } = await sql.query<{ id: string }>(`SELECT id FROM tenants ORDER BY id`);
  return rows.map((r) => r.id);
}

// ------------------------------------------------------------------ runs

interface RunRow {
  id: string;
  tenant_id: string | null;
  dry_run: boolean;
  triggered_by: RetentionTrigger;
  status: RetentionReport['status'];
  as_of: Date;
  started_at: Date;
  finished_at: Date | null;
  counts: RetentionTally | null;
  error: string | null;
}

/** A stored run as a report. `counts` may be a tenant's share instead of the run's totals. */
export function toReport(r: RunRow, counts: RetentionTally | null = r.counts): RetentionReport {
  const tally = counts ?? { tables: {}, categories: {} };
  const totals = Object.values(tally.tables);
  return {
    id: r.id,
    dryRun: r.dry_run,
    tenantId: r.tenant_id,
    triggeredBy: r.triggered_by,
    status: r.status,
    asOf: r.as_of,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    error: r.error,
    tables: tally.tables,
    categories: tally.categories,
    totalRemoved: totals.reduce((n, c) => n + c.deleted + c.shredded, 0),
    totalHeld: totals.reduce((n, c) => n + c.held, 0),
  };
}

/** Marks runs whose heartbeat stopped long ago (their process died) as failed. */
export async function failStaleRuns(sql: Sql, staleSeconds: number): Promise<number> {
  const { rowCount } = await sql.query(
    `UPDATE retention_runs SET status = 'failed', error = 'abandoned', finished_at = now() WHERE status = 'running' AND heartbeat_at < now() - make_interval(secs => $1)`,
    [staleSeconds],
  );
  return rowCount;
}

/** Inserts a running run. A second non-dry run violates retention_runs_one_active. */
export async function insertRun(sql: Sql, r: { id: string; tenantId: string | null; dryRun: boolean; triggeredBy: RetentionTrigger; actor: string | null; asOf: Date }): Promise<RunRow> {
  const { rows } = await sql.query<RunRow>(
    `INSERT INTO retention_runs (id, tenant_id, dry_run, triggered_by, actor, status, as_of, started_at, heartbeat_at)
     VALUES ($1, $2, $3, $4, $5, 'running', $6, now(), now()) RETURNING *`,
    [r.id, r.tenantId, r.dryRun, r.triggeredBy, r.actor, r.asOf],
  );
  return rows[0]!;
}

/** Keeps a running run alive (and the job that runs it, if any). */
export async function heartbeat(sql: Sql, runId: string, jobId: string | null, leaseSeconds: number): Promise<void> {
  await sql.query(`UPDATE retention_runs SET heartbeat_at = now() WHERE id = $1`, [runId]);
  if (jobId) await sql.query(`UPDATE jobs SET locked_until = now() + make_interval(secs => $2) WHERE id = $1 AND status = 'running'`, [jobId, leaseSeconds]);
}

/** Ends a run with its counts (or its error). */
export async function finishRun(sql: Sql, runId: string, status: 'completed' | 'failed', counts: RetentionTally, error: string | null): Promise<RunRow> {
  const { rows } = await sql.query<RunRow>(
    `UPDATE retention_runs SET status = $2, counts = $3::jsonb, error = $4, finished_at = now(), heartbeat_at = now() WHERE id = $1 RETURNING *`,
    [runId, status, JSON.stringify(counts), error],
  );
  return rows[0]!;
}

/** Stores a tenant's share of a run. */
export async function insertRunTenant(sql: Sql, runId: string, tenantId: string, counts: RetentionTally): Promise<void> {
  await sql.query(`INSERT INTO retention_run_tenants (run_id, tenant_id, counts) VALUES ($1, $2, $3::jsonb)`, [runId, tenantId, JSON.stringify(counts)]);
}

/** Newest runs first: every run, or (for a tenant) runs limited to it plus its share of installation-wide runs. */
export async function listRuns(sql: Sql, opts: { tenantId: string | null; limit: number }): Promise<RetentionReport[]> {
  if (opts.tenantId === null) {
    const { rows } = await sql.query<RunRow>(`SELECT * FROM retention_runs ORDER BY started_at DESC, id LIMIT $1`, [opts.limit]);
    return rows.map((r) => toReport(r));
  }
  const { rows } = await sql.query<RunRow & { share: RetentionTally | null }>(
    `SELECT r.*, t.counts AS share FROM retention_runs r LEFT JOIN retention_run_tenants t ON t.run_id = r.id AND t.tenant_id = $1
      WHERE r.tenant_id = $1 OR (r.tenant_id IS NULL AND r.status <> 'running')
      ORDER BY r.started_at DESC, r.id LIMIT $2`,
    [opts.tenantId, opts.limit],
  );
  // A tenant sees its own share of an installation-wide run (zero when it had nothing to remove).
  return rows.map((r) => ({ ...toReport(r, r.tenant_id === null ? r.share : r.counts), tenantId: opts.tenantId }));
}

// ------------------------------------------------------------------ what a hold covers

// A message is held by an active hold on its tenant, on itself, on its sending user, or on a user
// whose address is among its recipients. `m` must be a messages row in scope.
const MESSAGE_HELD = `EXISTS (SELECT 1 FROM legal_holds h WHERE h.tenant_id = m.tenant_id AND h.released_at IS NULL AND (
    h.scope = 'tenant'
    OR (h.scope = 'message' AND h.message_id = m.id)
    OR (h.scope = 'user' AND (h.user_id = m.sender_user_id
        OR EXISTS (SELECT 1 FROM users u JOIN message_recipients hr ON hr.email = u.email WHERE u.id = h.user_id AND hr.message_id = m.id)))))`;

/** `held`: rows kept by a hold; `free`: rows retention may remove. */
export type HeldFilter = 'held' | 'free';
// `holds` false: the tenant has no hold in force, so the (per-row) hold test is left out.
const heldClause = (filter: HeldFilter, clause: string, holds: boolean) => (!holds ? (filter === 'held' ? 'false' : 'true') : filter === 'held' ? clause : `NOT ${clause}`);

// ------------------------------------------------------------------ Content

// Sealed objects (envelope and attachments) of the tenant's messages matching `due` ($1 tenant, $2 cutoff).
function dueObjects(due: string, filter: HeldFilter, holds: boolean): string {
  return `SELECT o.id FROM sealed_objects o WHERE o.shredded_at IS NULL AND o.tenant_id = $1 AND o.id IN (
      SELECT m.envelope_object_id FROM messages m WHERE m.tenant_id = $1 AND ${due} AND ${heldClause(filter, MESSAGE_HELD, holds)}
      UNION ALL
      SELECT a.object_id FROM message_attachments a JOIN messages m ON m.id = a.message_id WHERE m.tenant_id = $1 AND ${due} AND ${heldClause(filter, MESSAGE_HELD, holds)})`;
}

/**
 * Which messages a Content step looks at ($2 and $3): `expired` — expiry before $2 (= $3);
 * `sent` — sent before $2 and not expired before $3 (those are the `expired` step's), so the two
 * steps never count the same object twice, dry or not.
 */
export type MessageAge = 'expired' | 'sent';
const dueMessages = (age: MessageAge) =>
  age === 'expired' ? 'm.expires_at < $2 AND m.expires_at < $3::timestamptz' : 'm.created_at < $2 AND NOT (m.expires_at IS NOT NULL AND m.expires_at < $3::timestamptz)';

/** Counts unshredded objects of due messages that are free (or held). */
export async function countDueObjects(sql: Sql, tenantId: string, age: MessageAge, cutoff: Date, expiredCutoff: Date, filter: HeldFilter, holds = true): Promise<number> {
  if (filter === 'held' && !holds) return 0; // no hold in force: nothing to count
  const { rows } = await sql.query<{ n: string }>(`SELECT count(*) AS n FROM (${dueObjects(dueMessages(age), filter, holds)}) x`, [tenantId, cutoff, expiredCutoff]);
  return Number(rows[0]!.n);
}

/** Crypto-shreds up to `limit` free objects of due messages; returns their blob keys. */
export async function shredDueObjects(sql: Sql, tenantId: string, age: MessageAge, cutoff: Date, expiredCutoff: Date, limit: number, holds = true): Promise<BlobRef[]> {
  const { rows } = await sql.query<BlobRef>(
    `UPDATE sealed_objects SET wrapped_key = NULL, shredded_at = now()
      WHERE id IN (${dueObjects(dueMessages(age), 'free', holds)} LIMIT $4) AND shredded_at IS NULL RETURNING region, blob_key`,
    [tenantId, cutoff, expiredCutoff, limit],
  );
  return rows.map(toBlobRef);
}

/** Counts messages sent before the cutoff that are free (or held). */
export async function countDueMessages(sql: Sql, tenantId: string, cutoff: Date, filter: HeldFilter, holds = true): Promise<number> {
  if (filter === 'held' && !holds) return 0; // no hold in force: nothing to count
  const { rows } = await sql.query<{ n: string }>(`SELECT count(*) AS n FROM messages m WHERE m.tenant_id = $1 AND m.created_at < $2 AND ${heldClause(filter, MESSAGE_HELD, holds)}`, [tenantId, cutoff]);
  return Number(rows[0]!.n);
}

// A message row can go once nothing still stored points at it: no reply to it, and no message
// sent by one of its recipients (a secure reply). Replies are newer, so they go first.
const NO_DEPENDENTS = `NOT EXISTS (SELECT 1 FROM messages c WHERE c.in_reply_to = m.id)
  AND NOT EXISTS (SELECT 1 FROM message_recipients dr JOIN messages c ON c.sender_recipient_id = dr.id WHERE dr.message_id = m.id)`;

// Ended codes and sessions, unverified requests and abandoned uploads are removed by their own
// steps before messages are deleted; the dry-run counts below leave them out the same way.
const CHALLENGE_ENDED = 'LEAST(COALESCE(x.consumed_at, x.expires_at), x.expires_at) < $3';
const SESSION_ENDED = 'x.expires_at < $3';
const REQUEST_ENDED = "x.status = 'unverified' AND x.code_expires_at < $3";

/**
 * What deleting the tenant's messages sent before $2 will remove, per table: messages free of
 * holds and not needed, directly or through a chain of replies, by a message that stays. One
 * query, so a dry run reports what the batched deletes will do. $3: end of ended credentials,
 * $4: start of abandoned uploads (rows those steps remove first are not counted again).
 */
export async function countDeletableMessages(sql: Sql, tenantId: string, cutoff: Date, endedCutoff: Date, uploadCutoff: Date, holds = true): Promise<MessageDeleteCounts & { shreddedUploads: number }> {
  const { rows } = await sql.query<Record<string, string>>(
    `WITH RECURSIVE due AS (
        SELECT m.id FROM messages m WHERE m.tenant_id = $1 AND m.created_at < $2 AND ${heldClause('free', MESSAGE_HELD, holds)}),
      edges AS (
        SELECT c.id AS child, c.in_reply_to AS parent FROM messages c WHERE c.tenant_id = $1 AND c.in_reply_to IS NOT NULL
        UNION ALL
        SELECT c.id, r.message_id FROM messages c JOIN message_recipients r ON r.id = c.sender_recipient_id WHERE c.tenant_id = $1),
      blocked(id) AS (
        SELECT e.parent FROM edges e WHERE NOT EXISTS (SELECT 1 FROM due d WHERE d.id = e.child)
        UNION
        SELECT e.parent FROM blocked b JOIN edges e ON e.child = b.id),
      del AS (SELECT d.id FROM due d WHERE NOT EXISTS (SELECT 1 FROM blocked b WHERE b.id = d.id)),
      rcp AS (SELECT r.id FROM message_recipients r WHERE r.message_id IN (SELECT id FROM del)),
      upl AS (SELECT p.object_id FROM pending_uploads p WHERE p.recipient_id IN (SELECT id FROM rcp) AND NOT (p.created_at < $4))
      SELECT
        (SELECT count(*) FROM del) AS messages,
        (SELECT count(*) FROM rcp) AS message_recipients,
        (SELECT count(*) FROM message_attachments a WHERE a.message_id IN (SELECT id FROM del)) AS message_attachments,
        (SELECT count(*) FROM access_requests x WHERE x.message_id IN (SELECT id FROM del) AND NOT (${REQUEST_ENDED})) AS access_requests,
        (SELECT count(*) FROM recipient_challenges x WHERE x.recipient_id IN (SELECT id FROM rcp) AND NOT (${CHALLENGE_ENDED})) AS recipient_challenges,
        (SELECT count(*) FROM recipient_sessions x WHERE x.recipient_id IN (SELECT id FROM rcp) AND NOT (${SESSION_ENDED})) AS recipient_sessions,
        (SELECT count(*) FROM upl) AS pending_uploads,
        (SELECT count(*) FROM sealed_objects o WHERE o.id IN (SELECT object_id FROM upl) AND o.shredded_at IS NULL) AS shredded_uploads`,
    [tenantId, cutoff, endedCutoff, uploadCutoff],
  );
  const r = rows[0]!;
  const n = (k: string) => Number(r[k]);
  return {
    messages: n('messages'),
    message_recipients: n('message_recipients'),
    message_attachments: n('message_attachments'),
    access_requests: n('access_requests'),
    recipient_challenges: n('recipient_challenges'),
    recipient_sessions: n('recipient_sessions'),
    pending_uploads: n('pending_uploads'),
    sealed_objects: n('messages') + n('message_attachments') + n('pending_uploads'),
    shreddedUploads: n('shredded_uploads'),
  };
}

/** Per-table row counts removed with a batch of messages. */
export type MessageDeleteCounts = Record<'messages' | 'message_recipients' | 'message_attachments' | 'access_requests' | 'recipient_challenges' | 'recipient_sessions' | 'pending_uploads' | 'sealed_objects', number>;

/**
 * Deletes up to `limit` free, due messages with nothing depending on them, with their recipients,
 * attachments, access requests, codes, sessions, unsent reply uploads and (shredded) sealed
 * objects, in one transaction. Returns the counts and the blob keys of objects shredded here.
 */
export async function deleteDueMessages(tx: Sql, tenantId: string, cutoff: Date, limit: number, holds = true): Promise<{ counts: MessageDeleteCounts; shredded: number; blobKeys: BlobRef[] }> {
  const { rows: picked } = await tx.query<{ id: string }>(
    `SELECT m.id FROM messages m WHERE m.tenant_id = $1 AND m.created_at < $2 AND ${heldClause('free', MESSAGE_HELD, holds)} AND ${NO_DEPENDENTS}
      ORDER BY m.created_at DESC, m.id LIMIT $3 FOR UPDATE OF m SKIP LOCKED`,
    [tenantId, cutoff, limit],
  );
  const ids = picked.map((r) => r.id);
  const counts: MessageDeleteCounts = { messages: 0, message_recipients: 0, message_attachments: 0, access_requests: 0, recipient_challenges: 0, recipient_sessions: 0, pending_uploads: 0, sealed_objects: 0 };
  if (ids.length === 0) return { counts, shredded: 0, blobKeys: [] };
  const recipients = `SELECT id FROM message_recipients WHERE message_id = ANY($1::uuid[])`;
  counts.recipient_challenges = (await tx.query(`DELETE FROM recipient_challenges WHERE recipient_id IN (${recipients})`, [ids])).rowCount;
  counts.recipient_sessions = (await tx.query(`DELETE FROM recipient_sessions WHERE recipient_id IN (${recipients})`, [ids])).rowCount;
  counts.access_requests = (await tx.query(`DELETE FROM access_requests WHERE message_id = ANY($1::uuid[])`, [ids])).rowCount;
  const uploads = await tx.query<{ object_id: string }>(`DELETE FROM pending_uploads WHERE recipient_id IN (${recipients}) RETURNING object_id`, [ids]);
  counts.pending_uploads = uploads.rowCount;
  const attachments = await tx.query<{ object_id: string }>(`DELETE FROM message_attachments WHERE message_id = ANY($1::uuid[]) RETURNING object_id`, [ids]);
  counts.message_attachments = attachments.rowCount;
  counts.message_recipients = (await tx.query(`DELETE FROM message_recipients WHERE message_id = ANY($1::uuid[])`, [ids])).rowCount;
  const envelopes = await tx.query<{ envelope_object_id: string }>(`DELETE FROM messages WHERE id = ANY($1::uuid[]) RETURNING envelope_object_id`, [ids]);
  counts.messages = envelopes.rowCount;
  const objectIds = [...envelopes.rows.map((r) => r.envelope_object_id), ...attachments.rows.map((r) => r.object_id), ...uploads.rows.map((r) => r.object_id)];
  // Anything not shredded yet (an unsent reply upload, or a race with a send) is shredded first.
  const shredded = await tx.query<BlobRef>(
    `UPDATE sealed_objects SET wrapped_key = NULL, shredded_at = now() WHERE id = ANY($1::uuid[]) AND shredded_at IS NULL RETURNING region, blob_key`,
    [objectIds],
  );
  const removed = await tx.query<BlobRef>(`DELETE FROM sealed_objects WHERE id = ANY($1::uuid[]) RETURNING region, blob_key`, [objectIds]);
  counts.sealed_objects = removed.rowCount;
  return { counts, shredded: shredded.rowCount, blobKeys: removed.rows.map(toBlobRef) };
}

// Uploads sealed but never sent, older than the cutoff; held by a tenant hold or a hold on the uploading user.
const UPLOAD_HELD = `EXISTS (SELECT 1 FROM legal_holds h WHERE h.tenant_id = p.tenant_id AND h.released_at IS NULL AND (h.scope = 'tenant' OR (h.scope = 'user' AND h.user_id = p.user_id)))`;

/** Counts abandoned uploads that are free (or held). */
export async function countAbandonedUploads(sql: Sql, tenantId: string, cutoff: Date, filter: HeldFilter, holds = true): Promise<number> {
  if (filter === 'held' && !holds) return 0; // no hold in force: nothing to count
  const { rows } = await sql.query<{ n: string }>(`SELECT count(*) AS n FROM pending_uploads p WHERE p.tenant_id = $1 AND p.created_at < $2 AND ${heldClause(filter, UPLOAD_HELD, holds)}`, [tenantId, cutoff]);
  return Number(rows[0]!.n);
}

/** Deletes up to `limit` free abandoned uploads and crypto-shreds and deletes their objects (one transaction). */
export async function deleteAbandonedUploads(tx: Sql, tenantId: string, cutoff: Date, limit: number, holds = true): Promise<{ uploads: number; shredded: number; objects: number; blobKeys: BlobRef[] }> {
  const { rows } = await tx.query<{ object_id: string }>(
    `DELETE FROM pending_uploads WHERE object_id IN (
       SELECT p.object_id FROM pending_uploads p WHERE p.tenant_id = $1 AND p.created_at < $2 AND ${heldClause('free', UPLOAD_HELD, holds)} LIMIT $3 FOR UPDATE SKIP LOCKED)
     RETURNING object_id`,
    [tenantId, cutoff, limit],
  );
  const ids = rows.map((r) => r.object_id);
  if (ids.length === 0) return { uploads: 0, shredded: 0, objects: 0, blobKeys: [] };
  const shredded = await tx.query(`UPDATE sealed_objects SET wrapped_key = NULL, shredded_at = now() WHERE id = ANY($1::uuid[]) AND shredded_at IS NULL`, [ids]);
  const removed = await tx.query<BlobRef>(`DELETE FROM sealed_objects WHERE id = ANY($1::uuid[]) RETURNING region, blob_key`, [ids]);
  return { uploads: ids.length, shredded: shredded.rowCount, objects: removed.rowCount, blobKeys: removed.rows.map(toBlobRef) };
}

// ------------------------------------------------------------------ ended codes and sessions

/** Tables whose ended rows (codes, sessions, unverified requests) retention deletes per tenant. */
export const ENDED_TABLES = ['recipient_challenges', 'recipient_sessions', 'access_requests'] as const;

/** One of {@link ENDED_TABLES}. */
export type EndedTable = (typeof ENDED_TABLES)[number];

// For each table: its key, the rows of the tenant that ended before $2, joined to their message `m` for holds.
const ENDED: Record<EndedTable, { key: string; from: string }> = {
  recipient_challenges: {
    key: 'x.id',
    from: `recipient_challenges x JOIN message_recipients r ON r.id = x.recipient_id JOIN messages m ON m.id = r.message_id
           WHERE r.tenant_id = $1 AND LEAST(COALESCE(x.consumed_at, x.expires_at), x.expires_at) < $2`,
  },
  recipient_sessions: {
    key: 'x.id',
    from: `recipient_sessions x JOIN message_recipients r ON r.id = x.recipient_id JOIN messages m ON m.id = r.message_id
           WHERE r.tenant_id = $1 AND x.expires_at < $2`,
  },
  // Requests whose requester never proved control of the address: the code ended, nothing else happens.
  access_requests: {
    key: 'x.id',
    from: `access_requests x JOIN messages m ON m.id = x.message_id WHERE x.tenant_id = $1 AND x.status = 'unverified' AND x.code_expires_at < $2`,
  },
};

/** Counts ended rows of `table` that are free (or held). */
export async function countEnded(sql: Sql, table: EndedTable, tenantId: string, cutoff: Date, filter: HeldFilter, holds = true): Promise<number> {
  if (filter === 'held' && !holds) return 0; // no hold in force: nothing to count
  const { rows } = await sql.query<{ n: string }>(`SELECT count(*) AS n FROM ${ENDED[table].from} AND ${heldClause(filter, MESSAGE_HELD, holds)}`, [tenantId, cutoff]);
  return Number(rows[0]!.n);
}

/** Deletes up to `limit` free ended rows of `table`. */
export async function deleteEnded(sql: Sql, table: EndedTable, tenantId: string, cutoff: Date, limit: number, holds = true): Promise<number> {
  const { rowCount } = await sql.query(
    `DELETE FROM ${table} WHERE id IN (SELECT ${ENDED[table].key} FROM ${ENDED[table].from} AND ${heldClause('free', MESSAGE_HELD, holds)} LIMIT $3)`,
    [tenantId, cutoff, limit],
  );
  return rowCount;
}

// ------------------------------------------------------------------ Smart Data

/** Counts the tenant's observations older than the cutoff. */
export async function countOldObservations(sql: Sql, tenantId: string, cutoff: Date): Promise<number> {
  const { rows } = await sql.query<{ n: string }>(`SELECT count(*) AS n FROM prevent_observations WHERE tenant_id = $1 AND observed_at < $2`, [tenantId, cutoff]);
  return Number(rows[0]!.n);
}

// A decision is held by a tenant hold, a hold on the sender who saw it, or on the message sent.
const DECISION_HELD = `EXISTS (SELECT 1 FROM legal_holds h WHERE h.tenant_id = d.tenant_id AND h.released_at IS NULL AND (
    h.scope = 'tenant' OR (h.scope = 'user' AND h.user_id = d.user_id) OR (h.scope = 'message' AND h.message_id = d.message_id)))`;

/** Counts the tenant's decisions older than the cutoff that are free (or held). */
export async function countOldDecisions(sql: Sql, tenantId: string, cutoff: Date, filter: HeldFilter, holds = true): Promise<number> {
  if (filter === 'held' && !holds) return 0; // no hold in force: nothing to count
  const { rows } = await sql.query<{ n: string }>(`SELECT count(*) AS n FROM prevent_decisions d WHERE d.tenant_id = $1 AND d.decided_at < $2 AND ${heldClause(filter, DECISION_HELD, holds)}`, [tenantId, cutoff]);
  return Number(rows[0]!.n);
}

/** Deletes up to `limit` free decisions older than the cutoff. */
export async function deleteOldDecisions(sql: Sql, tenantId: string, cutoff: Date, limit: number, holds = true): Promise<number> {
  const { rowCount } = await sql.query(
    `DELETE FROM prevent_decisions WHERE id IN (SELECT d.id FROM prevent_decisions d WHERE d.tenant_id = $1 AND d.decided_at < $2 AND ${heldClause('free', DECISION_HELD, holds)} LIMIT $3)`,
    [tenantId, cutoff, limit],
  );
  return rowCount;
}

// ------------------------------------------------------------------ audit log

/** Where a chain stands: stored range and the checkpoint, if any. */
export async function chainExtent(sql: Sql, chain: string): Promise<{ first: bigint; head: bigint } | null> {
  const { rows } = await sql.query<{ first: string | null; head: string | null }>(`SELECT min(chain_seq) AS first, max(chain_seq) AS head FROM audit_events WHERE chain = $1`, [chain]);
  const r = rows[0]!;
  return r.first === null || r.head === null ? null : { first: BigInt(r.first), head: BigInt(r.head) };
}

/** First position recorded at or after the cutoff, or null. */
export async function firstSeqFrom(sql: Sql, chain: string, cutoff: Date): Promise<bigint | null> {
  const { rows } = await sql.query<{ seq: string | null }>(`SELECT min(chain_seq) AS seq FROM audit_events WHERE chain = $1 AND occurred_at >= $2`, [chain, cutoff]);
  return rows[0]!.seq === null ? null : BigInt(rows[0]!.seq);
}

/**
 * First position before the cutoff that a hold keeps: any event of a held tenant, events by or
 * about a held user, events about a held message. Null when none.
 */
export async function firstHeldSeq(sql: Sql, tenantId: string, cutoff: Date): Promise<bigint | null> {
  const { rows } = await sql.query<{ seq: string | null }>(
    `SELECT min(e.chain_seq) AS seq FROM audit_events e
      WHERE e.chain = $1 AND e.occurred_at < $2 AND EXISTS (SELECT 1 FROM legal_holds h WHERE h.tenant_id = $3::uuid AND h.released_at IS NULL AND (
        h.scope = 'tenant'
        OR (h.scope = 'user' AND (e.actor_id = h.user_id::text OR e.target_id = h.user_id::text))
        OR (h.scope = 'message' AND e.target_type = 'message' AND e.target_id = h.message_id::text)))`,
    [tenantId, cutoff, tenantId],
  );
  return rows[0]!.seq === null ? null : BigInt(rows[0]!.seq);
}

/**
 * Deletes events [first, upTo) of a chain (one transaction, the caller's) and moves the
 * checkpoint to `upTo`: the hash of the last deleted event becomes the prev_hash verification
 * starts from. Returns that hash (hex) and how many rows went.
 */
export async function deleteChainPrefix(tx: Sql, chain: string, upTo: bigint): Promise<{ removed: number; prevHash: Uint8Array }> {
  const { rows } = await tx.query<{ hash: Uint8Array }>(`SELECT hash FROM audit_events WHERE chain = $1 AND chain_seq = $2`, [chain, (upTo - 1n).toString()]);
  const last = rows[0];
  if (!last) throw new Error(`audit chain ${chain} has no event at ${upTo - 1n}`);
  const { rowCount } = await tx.query(`DELETE FROM audit_events WHERE chain = $1 AND chain_seq < $2`, [chain, upTo.toString()]);
  // Pseudonymisation overlays (audit.pseudonyms.ts) whose attesting event went too: every row they
  // cover is older than that event, so it is gone as well. Overlays whose event stays are kept whole,
  // or the event's digest over them would no longer match.
  await tx.query(
    `DELETE FROM audit_pseudonymisations p WHERE p.chain = $1 AND p.chain_seq < $2 AND NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.id = p.event_id)`,
    [chain, upTo.toString()],
  );
  await tx.query(
    `INSERT INTO audit_checkpoints (chain, first_seq, prev_hash, removed, updated_at) VALUES ($1, $2, $3, $4, now())
     ON CONFLICT (chain) DO UPDATE SET first_seq = EXCLUDED.first_seq, prev_hash = EXCLUDED.prev_hash, removed = audit_checkpoints.removed + EXCLUDED.removed, updated_at = now()`,
    [chain, upTo.toString(), last.hash, rowCount],
  );
  return { removed: rowCount, prevHash: last.hash };
}

/** Deletes holds of the tenant released before the cutoff. */
export async function deleteReleasedHolds(sql: Sql, tenantId: string, cutoff: Date, dryRun: boolean): Promise<number> {
  if (dryRun) {
    const { rows } = await sql.query<{ n: string }>(`SELECT count(*) AS n FROM legal_holds WHERE tenant_id = $1 AND released_at < $2`, [tenantId, cutoff]);
    return Number(rows[0]!.n);
  }
  return (await sql.query(`DELETE FROM legal_holds WHERE tenant_id = $1 AND released_at < $2`, [tenantId, cutoff])).rowCount;
}

// ------------------------------------------------------------------ installation

/** Counts finished job rows created before the cutoff. */
export async function countFinishedJobs(sql: Sql, cutoff: Date): Promise<number> {
  const { rows } = await sql.query<{ n: string }>(`SELECT count(*) AS n FROM jobs WHERE status IN ('done', 'failed') AND finished_at < $1 AND created_at < $1`, [cutoff]);
  return Number(rows[0]!.n);
}

/** Deletes up to `limit` finished job rows created before the cutoff. */
export async function deleteFinishedJobs(sql: Sql, cutoff: Date, limit: number): Promise<number> {
  const { rowCount } = await sql.query(
    `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE status IN ('done', 'failed') AND finished_at < $1 AND created_at < $1 LIMIT $2)`,
    [cutoff, limit],
  );
  return rowCount;
}

/** Deletes (or counts) run reports that finished before the cutoff. */
export async function deleteOldRuns(sql: Sql, cutoff: Date, dryRun: boolean): Promise<number> {
  if (dryRun) {
    const { rows } = await sql.query<{ n: string }>(`SELECT count(*) AS n FROM retention_runs WHERE status <> 'running' AND finished_at < $1`, [cutoff]);
    return Number(rows[0]!.n);
  }
  return (await sql.query(`DELETE FROM retention_runs WHERE status <> 'running' AND finished_at < $1`, [cutoff])).rowCount;
}
