// SQL for reading a tenant's audit chain with filters, newest or oldest first, by chain position.
// The chain of a tenant is named by the tenant id, so every query is confined to one tenant.
import type { Sql } from '../storage/database/database.ts';
import type { JsonObject } from '../audit/audit.model.ts';

/** Filters, already validated (see audit-log.service.ts). */
export interface AuditFilterValues {
  from?: Date;
  to?: Date;
  actorId?: string;
  actorEmail?: string;
  actorType?: string;
  action?: { exact: string } | { prefix: string };
  messageId?: string;
  outcome?: string;
}

/** One event as the administration API presents it. */
export interface AuditLogRow {
  seq: string;
  id: string;
  occurredAt: Date;
  actorType: string;
  actorId: string | null;
  actorEmail: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  messageId: string | null;
  outcome: string;
  ip: string | null;
  userAgent: string | null;
  details: JsonObject;
}

interface Row {
  chain_seq: string;
  id: string;
  occurred_at: Date;
  actor_type: string;
  actor_id: string | null;
  actor_email: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  message_id: string | null;
  outcome: string;
  ip: string | null;
  user_agent: string | null;
  details: JsonObject;
}

const UUID_TEXT = `'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'`;

// Actor ids are text (not every actor is a uuid), so they are cast only when they look like one;
// the joins then use the primary keys. Users and recipients are matched within the tenant only.
const SELECT = `
  SELECT e.chain_seq, e.id, e.occurred_at, e.actor_type, e.actor_id, COALESCE(u.email, r.email) AS actor_email,
         e.action, e.target_type, e.target_id,
         CASE WHEN e.target_type = 'message' THEN e.target_id ELSE e.details->>'messageId' END AS message_id,
         e.outcome, e.ip, e.user_agent, e.details
    FROM audit_events e
    LEFT JOIN users u ON e.actor_type IN ('user', 'api_token', 'operator')
                     AND u.id = CASE WHEN e.actor_id ~ ${UUID_TEXT} THEN e.actor_id::uuid END AND u.tenant_id = $1::uuid
    LEFT JOIN message_recipients r ON e.actor_type = 'recipient'
                     AND r.id = CASE WHEN e.actor_id ~ ${UUID_TEXT} THEN e.actor_id::uuid END AND r.tenant_id = $1::uuid`;

function where(tenantId: string, f: AuditFilterValues): { clauses: string[]; params: unknown[] } {
  const params: unknown[] = [tenantId];
  const clauses = ['e.chain = $1::text'];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (f.from) clauses.push(`e.occurred_at >= ${p(f.from)}`);
  if (f.to) clauses.push(`e.occurred_at < ${p(f.to)}`);
  if (f.actorType) clauses.push(`e.actor_type = ${p(f.actorType)}`);
  if (f.actorId) clauses.push(`e.actor_id = ${p(f.actorId)}`);
  if (f.actorEmail) {
    const email = p(f.actorEmail);
    clauses.push(
      `e.actor_id IN (SELECT id::text FROM users WHERE tenant_id = $1::uuid AND email = ${email} UNION ALL SELECT id::text FROM message_recipients WHERE tenant_id = $1::uuid AND email = ${email})`,
    );
  }
  if (f.action && 'exact' in f.action) clauses.push(`e.action = ${p(f.action.exact)}`);
  // '_' is a LIKE wildcard and is common in action names, so it is escaped.
  if (f.action && 'prefix' in f.action) clauses.push(`e.action LIKE ${p(`${f.action.prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)}`);
  if (f.messageId) {
    const id = p(f.messageId);
    clauses.push(`((e.target_type = 'message' AND e.target_id = ${id}) OR e.details->>'messageId' = ${id})`);
  }
  if (f.outcome) clauses.push(`e.outcome = ${p(f.outcome)}`);
  return { clauses, params };
}

/** Up to `limit` events matching `f`, after (ascending) or before (descending) chain position `seq`. */
export async function readAuditPage(
  sql: Sql,
  tenantId: string,
  f: AuditFilterValues,
  page: { order: 'asc' | 'desc'; afterSeq?: string; beforeSeq?: string; upToSeq?: string; limit: number },
): Promise<AuditLogRow[]> {
  const { clauses, params } = where(tenantId, f);
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (page.afterSeq !== undefined) clauses.push(`e.chain_seq > ${p(page.afterSeq)}::int8`);
  if (page.beforeSeq !== undefined) clauses.push(`e.chain_seq < ${p(page.beforeSeq)}::int8`);
  if (page.upToSeq !== undefined) clauses.push(`e.chain_seq <= ${p(page.upToSeq)}::int8`);
  const limit = p(page.limit);
  const { rows } = await sql.query<Row>(`${SELECT} WHERE ${clauses.join(' AND ')} ORDER BY e.chain_seq ${page.order === 'asc' ? 'ASC' : 'DESC'} LIMIT ${limit}`, params);
  return rows.map((r) => ({
    seq: r.chain_seq,
    id: r.id,
    occurredAt: r.occurred_at,
    actorType: r.actor_type,
    actorId: r.actor_id,
    actorEmail: r.actor_email,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    messageId: r.message_id,
    outcome: r.outcome,
    ip: r.ip,
    userAgent: r.user_agent,
    details: r.details,
  }));
}
