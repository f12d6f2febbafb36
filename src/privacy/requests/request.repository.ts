// SQL of the subject-request workflow.
import { randomId } from '../../crypto/keys.ts';
import type { Sql } from '../../storage/database/database.ts';
import { addDays, daysBetween, daysLeft, isOverdue, toCalendarDate } from './deadline.ts';
import {
  ACTIVE_STATUSES,
  type OpenedVia,
  type RequestActor,
  type SubjectRequest,
  type SubjectRequestEvent,
  type SubjectRequestKind,
  type SubjectRequestRouting,
  type SubjectRequestStatus,
} from './request.model.ts';

/** A row of subject_requests as stored. */
export interface RequestRow {
  id: string;
  kind: SubjectRequestKind;
  email: string;
  name: string | null;
  details: string | null;
  lift: boolean;
  status: SubjectRequestStatus;
  opened_via: OpenedVia;
  opened_by: string | null;
  tenant_id: string | null;
  received_at: Date;
  verified_at: Date | null;
  clock_started_on: string | null;
  paused_days: number;
  paused_on: string | null;
  pause_reason: string | null;
  extension_months: number;
  extension_reason: string | null;
  extended_at: Date | null;
  due_on: string | null;
  duplicate_of: string | null;
  closed_at: Date | null;
  outcome_note: string | null;
  result: Record<string, unknown> | null;
  code_hash: Uint8Array | null;
  code_expires_at: Date | null;
  code_attempts: number;
}

/** The request as shown, with days left computed for `now`. */
export function toRequest(r: RequestRow, now: Date): SubjectRequest {
  const running = r.due_on !== null && (ACTIVE_STATUSES as readonly string[]).includes(r.status);
  const today = toCalendarDate(now);
  // While paused, the due date moves a day for every day that passes: shown as if resumed today.
  const due = running && r.paused_on !== null ? addDays(r.due_on!, Math.max(0, daysBetween(r.paused_on, today))) : r.due_on;
  return {
    id: r.id,
    kind: r.kind,
    email: r.email,
    name: r.name,
    details: r.details,
    lift: r.lift,
    status: r.status,
    openedVia: r.opened_via,
    openedBy: r.opened_by,
    tenantId: r.tenant_id,
    receivedAt: r.received_at,
    verifiedAt: r.verified_at,
    clockStartedOn: r.clock_started_on,
    pausedDays: r.paused_days,
    pausedOn: r.paused_on,
    pauseReason: r.pause_reason,
    extensionMonths: r.extension_months,
    extensionReason: r.extension_reason,
    dueOn: due,
    daysLeft: running ? daysLeft(due!, today) : null,
    overdue: running ? isOverdue(due!, today) : false,
    duplicateOf: r.duplicate_of,
    closedAt: r.closed_at,
    outcomeNote: r.outcome_note,
    result: r.result,
  };
}

/** Inserts a new request awaiting identity, with the hash of its first code. */
export async function insertRequest(
  sql: Sql,
  r: { id: string; kind: SubjectRequestKind; email: string; name: string | null; details: string | null; lift: boolean; openedVia: OpenedVia; openedBy: string | null; tenantId: string | null; receivedAt: Date; codeHash: Uint8Array; codeExpiresAt: Date },
): Promise<void> {
  await sql.query(
    `INSERT INTO subject_requests (id, kind, email, name, details, lift, status, opened_via, opened_by, tenant_id, received_at, code_hash, code_expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'awaiting_identity', $7, $8, $9, $10, $11, $12)`,
    [r.id, r.kind, r.email, r.name, r.details, r.lift, r.openedVia, r.openedBy, r.tenantId, r.receivedAt, r.codeHash, r.codeExpiresAt],
  );
}

/** One request, optionally locked for update. */
export async function findRequest(sql: Sql, id: string, opts: { lock?: boolean } = {}): Promise<RequestRow | null> {
  const { rows } = await sql.query<RequestRow>(`SELECT * FROM subject_requests WHERE id = $1${opts.lock ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0] ?? null;
}

/** The verified request still open for this address and kind, if any (the one a duplicate links to). */
export async function findOpenFor(sql: Sql, email: string, kind: SubjectRequestKind, exceptId: string): Promise<RequestRow | null> {
  const { rows } = await sql.query<RequestRow>(`SELECT * FROM subject_requests WHERE email = $1 AND kind = $2 AND status IN ('open', 'in_progress') AND id <> $3 FOR UPDATE`, [email, kind, exceptId]);
  return rows[0] ?? null;
}

/** Filters for the queue. */
export interface QueueFilter {
  /** Only requests opened by this tenant's administrators or routed to it. */
  tenantId?: string;
  /** Only these statuses (default: every status). */
  statuses?: SubjectRequestStatus[];
  limit?: number;
}

/** Requests by due date (no clock last), then by receipt. */
export async function listRequests(sql: Sql, f: QueueFilter): Promise<RequestRow[]> {
  const { rows } = await sql.query<RequestRow>(
    `SELECT r.* FROM subject_requests r
      WHERE ($1::uuid IS NULL OR r.tenant_id = $1 OR EXISTS (SELECT 1 FROM subject_request_routings x WHERE x.request_id = r.id AND x.tenant_id = $1))
        AND ($2::text[] IS NULL OR r.status = ANY($2::text[]))
      ORDER BY r.due_on ASC NULLS LAST, r.received_at ASC, r.id
      LIMIT $3`,
    [f.tenantId ?? null, f.statuses ?? null, f.limit ?? 500],
  );
  return rows;
}

/** Appends a step to a request's history. Details never hold codes, tokens or exported data. */
export async function addEvent(sql: Sql, requestId: string, at: Date, event: string, actor: RequestActor, details: Record<string, unknown> = {}): Promise<void> {
  const actorId = actor.type === 'user' || actor.type === 'operator' ? actor.id : null;
  // Steps taken within the same millisecond keep their order: each event is at least 1 ms after
  // the request's previous one (the history is read ordered by time).
  await sql.query(
    `INSERT INTO subject_request_events (id, request_id, at, event, actor_type, actor_id, details)
     SELECT $1, $2, GREATEST($3::timestamptz, COALESCE(max(at) + interval '1 millisecond', $3::timestamptz)), $4, $5, $6, $7::jsonb FROM subject_request_events WHERE request_id = $2`,
    [
    randomId(),
    requestId,
    at,
    event,
    actor.type,
    actorId,
    JSON.stringify(details),
    ],
  );
}

/** A request's history, oldest first. */
export async function listEvents(sql: Sql, requestId: string): Promise<SubjectRequestEvent[]> {
  const { rows } = await sql.query<{ at: Date; event: string; actor_type: SubjectRequestEvent['actorType']; actor_id: string | null; details: Record<string, unknown> }>(
    `SELECT at, event, actor_type, actor_id, details FROM subject_request_events WHERE request_id = $1 ORDER BY at, id`,
    [requestId],
  );
  return rows.map((r) => ({ at: r.at, event: r.event, actorType: r.actor_type, actorId: r.actor_id, details: r.details }));
}

/** Records a routing to a customer (idempotent per request and tenant). */
export async function insertRouting(sql: Sql, r: { requestId: string; tenantId: string; messages: number; at: Date; notified: number }): Promise<boolean> {
  const { rows } = await sql.query(
    `INSERT INTO subject_request_routings (request_id, tenant_id, messages, routed_at, notified) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (request_id, tenant_id) DO NOTHING RETURNING 1`,
    [r.requestId, r.tenantId, r.messages, r.at, r.notified],
  );
  return rows.length > 0;
}

/** A request's routings with the customers' names. */
export async function listRoutings(sql: Sql, requestId: string): Promise<SubjectRequestRouting[]> {
  const { rows } = await sql.query<{ tenant_id: string; name: string; messages: number; routed_at: Date; notified: number }>(
    `SELECT x.tenant_id, t.name, x.messages, x.routed_at, x.notified FROM subject_request_routings x JOIN tenants t ON t.id = x.tenant_id WHERE x.request_id = $1 ORDER BY x.routed_at, t.name`,
    [requestId],
  );
  return rows.map((r) => ({ tenantId: r.tenant_id, tenantName: r.name, messages: r.messages, routedAt: r.routed_at, notified: r.notified }));
}

/** Ids of a tenant's administrators (told about routed requests). */
export async function tenantAdministrators(sql: Sql, tenantId: string): Promise<string[]> {
  const { rows } = await sql.query<{ id: string }>(`SELECT id FROM users WHERE tenant_id = $1 AND role = 'administrator' ORDER BY email`, [tenantId]);
  return rows.map((r) => r.id);
}

/** The address of a tenant's user who is still an administrator, or null. */
export async function administratorAddress(sql: Sql, tenantId: string, userId: string): Promise<string | null> {
  const { rows } = await sql.query<{ email: string }>(`SELECT email FROM users WHERE id = $1 AND tenant_id = $2 AND role = 'administrator'`, [userId, tenantId]);
  return rows[0]?.email ?? null;
}
