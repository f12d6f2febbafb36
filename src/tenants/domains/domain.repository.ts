// SQL for tenant_domains and account_transfers.
import type { Sql } from '../../storage/database/database.ts';

/** A domain a tenant claims. */
export interface TenantDomain {
  id: string;
  tenantId: string;
  domain: string;
  /** Published by the tenant in DNS; not a secret. */
  token: string;
  createdAt: Date;
  lastCheckedAt: Date | null;
  lastError: string | null;
  verifiedAt: Date | null;
}

interface DomainRow {
  id: string;
  tenant_id: string;
  domain: string;
  token: string;
  created_at: Date;
  last_checked_at: Date | null;
  last_error: string | null;
  verified_at: Date | null;
}

const toDomain = (r: DomainRow): TenantDomain => ({
  id: r.id,
  tenantId: r.tenant_id,
  domain: r.domain,
  token: r.token,
  createdAt: r.created_at,
  lastCheckedAt: r.last_checked_at,
  lastError: r.last_error,
  verifiedAt: r.verified_at,
});

/** Inserts a claimed domain. */
export async function insertDomain(sql: Sql, d: { id: string; tenantId: string; domain: string; token: string; createdBy: string | null; now: Date }): Promise<TenantDomain> {
  const { rows } = await sql.query<DomainRow>(
    `INSERT INTO tenant_domains (id, tenant_id, domain, token, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
    [d.id, d.tenantId, d.domain, d.token, d.createdBy, d.now],
  );
  return toDomain(rows[0]!);
}

/** A tenant's domain by id or name, or null. */
export async function findDomain(sql: Sql, tenantId: string, idOrName: string, forUpdate = false): Promise<TenantDomain | null> {
  const isId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrName);
  const { rows } = await sql.query<DomainRow>(`SELECT * FROM tenant_domains WHERE tenant_id = $1 AND ${isId ? 'id = $2' : 'domain = $2'}${forUpdate ? ' FOR UPDATE' : ''}`, [
    tenantId,
    idOrName.toLowerCase(),
  ]);
  return rows[0] ? toDomain(rows[0]) : null;
}

/** The tenant that verified `domain`, if any. */
export async function verifiedOwner(sql: Sql, domain: string): Promise<string | null> {
  const { rows } = await sql.query<{ tenant_id: string }>(`SELECT tenant_id FROM tenant_domains WHERE domain = $1 AND verified_at IS NOT NULL`, [domain]);
  return rows[0]?.tenant_id ?? null;
}

/** A tenant's domains, by name. */
export async function listDomains(sql: Sql, tenantId: string): Promise<TenantDomain[]> {
  const { rows } = await sql.query<DomainRow>(`SELECT * FROM tenant_domains WHERE tenant_id = $1 ORDER BY domain`, [tenantId]);
  return rows.map(toDomain);
}

/** Records the result of a DNS check. */
export async function recordCheck(sql: Sql, id: string, r: { now: Date; error: string | null; verified: boolean }): Promise<TenantDomain> {
  const { rows } = await sql.query<DomainRow>(
    `UPDATE tenant_domains SET last_checked_at = $2, last_error = $3, verified_at = CASE WHEN $4 THEN COALESCE(verified_at, $2) ELSE verified_at END WHERE id = $1 RETURNING *`,
    [id, r.now, r.error, r.verified],
  );
  return toDomain(rows[0]!);
}

/** Deletes a domain claim. */
export async function deleteDomain(sql: Sql, id: string): Promise<void> {
  await sql.query(`DELETE FROM tenant_domains WHERE id = $1`, [id]);
}

/** An offer to move a free account into a business tenant. */
export interface AccountTransfer {
  id: string;
  userId: string;
  email: string;
  fromTenantId: string;
  toTenantId: string;
  domainId: string;
  status: 'offered' | 'completed' | 'cancelled';
  offeredAt: Date;
  noticeSentAt: Date | null;
  dueAt: Date;
  acceptedAt: Date | null;
  completedAt: Date | null;
  cancelledAt: Date | null;
  cancelReason: string | null;
  moved: Record<string, number> | null;
}

interface TransferRow {
  id: string;
  user_id: string;
  email: string;
  from_tenant_id: string;
  to_tenant_id: string;
  domain_id: string;
  status: AccountTransfer['status'];
  offered_at: Date;
  notice_sent_at: Date | null;
  due_at: Date;
  accepted_at: Date | null;
  completed_at: Date | null;
  cancelled_at: Date | null;
  cancel_reason: string | null;
  moved: Record<string, number> | null;
}

const toTransfer = (r: TransferRow): AccountTransfer => ({
  id: r.id,
  userId: r.user_id,
  email: r.email,
  fromTenantId: r.from_tenant_id,
  toTenantId: r.to_tenant_id,
  domainId: r.domain_id,
  status: r.status,
  offeredAt: r.offered_at,
  noticeSentAt: r.notice_sent_at,
  dueAt: r.due_at,
  acceptedAt: r.accepted_at,
  completedAt: r.completed_at,
  cancelledAt: r.cancelled_at,
  cancelReason: r.cancel_reason,
  moved: r.moved,
});

const SELECT_TRANSFER = `SELECT t.*, u.email FROM account_transfers t JOIN users u ON u.id = t.user_id`;

/** Free accounts (users of plan='free' tenants) whose address is at `domain`, without an open offer. */
export async function freeAccountsOn(sql: Sql, domain: string): Promise<Array<{ userId: string; tenantId: string; email: string }>> {
  const { rows } = await sql.query<{ id: string; tenant_id: string; email: string }>(
    `SELECT u.id, u.tenant_id, u.email FROM users u JOIN tenants t ON t.id = u.tenant_id
      WHERE t.plan = 'free' AND split_part(u.email, '@', 2) = $1
        AND NOT EXISTS (SELECT 1 FROM account_transfers a WHERE a.user_id = u.id AND a.status = 'offered')
      ORDER BY u.email`,
    [domain],
  );
  return rows.map((r) => ({ userId: r.id, tenantId: r.tenant_id, email: r.email }));
}

/** Inserts an offer. */
export async function insertTransfer(sql: Sql, t: { id: string; userId: string; fromTenantId: string; toTenantId: string; domainId: string; offeredAt: Date; dueAt: Date }): Promise<void> {
  await sql.query(
    `INSERT INTO account_transfers (id, user_id, from_tenant_id, to_tenant_id, domain_id, status, offered_at, due_at) VALUES ($1, $2, $3, $4, $5, 'offered', $6, $7)`,
    [t.id, t.userId, t.fromTenantId, t.toTenantId, t.domainId, t.offeredAt, t.dueAt],
  );
}

/** One transfer, or null. */
export async function findTransfer(sql: Sql, id: string, forUpdate = false): Promise<AccountTransfer | null> {
  const { rows } = await sql.query<TransferRow>(`${SELECT_TRANSFER} WHERE t.id = $1${forUpdate ? ' FOR UPDATE OF t' : ''}`, [id]);
  return rows[0] ? toTransfer(rows[0]) : null;
}

/** The open offer for a user, or null. */
export async function openTransferOf(sql: Sql, userId: string): Promise<AccountTransfer | null> {
  const { rows } = await sql.query<TransferRow>(`${SELECT_TRANSFER} WHERE t.user_id = $1 AND t.status = 'offered'`, [userId]);
  return rows[0] ? toTransfer(rows[0]) : null;
}

/** Transfers into a tenant (newest first). */
export async function transfersInto(sql: Sql, tenantId: string): Promise<AccountTransfer[]> {
  const { rows } = await sql.query<TransferRow>(`${SELECT_TRANSFER} WHERE t.to_tenant_id = $1 ORDER BY t.offered_at DESC, u.email`, [tenantId]);
  return rows.map(toTransfer);
}

/** Open offers due by `now`. */
export async function dueTransfers(sql: Sql, now: Date, limit: number): Promise<string[]> {
  const { rows } = await sql.query<{ id: string }>(`SELECT id FROM account_transfers WHERE status = 'offered' AND due_at <= $1 ORDER BY due_at LIMIT $2`, [now, limit]);
  return rows.map((r) => r.id);
}

/** Changes a transfer's state fields. */
export async function updateTransfer(
  sql: Sql,
  id: string,
  patch: Partial<{ status: AccountTransfer['status']; noticeSentAt: Date; acceptedAt: Date; completedAt: Date; cancelledAt: Date; cancelReason: string; moved: Record<string, number> }>,
): Promise<void> {
  const columns: Record<string, string> = { status: 'status', noticeSentAt: 'notice_sent_at', acceptedAt: 'accepted_at', completedAt: 'completed_at', cancelledAt: 'cancelled_at', cancelReason: 'cancel_reason', moved: 'moved' };
  const sets: string[] = [];
  const params: unknown[] = [id];
  for (const [k, v] of Object.entries(patch)) {
    params.push(k === 'moved' ? JSON.stringify(v) : v);
    sets.push(`${columns[k]} = $${params.length}`);
  }
  if (sets.length > 0) await sql.query(`UPDATE account_transfers SET ${sets.join(', ')} WHERE id = $1`, params);
}
