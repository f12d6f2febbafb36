// SQL for users. No rules about who may do what: see user.service.ts and auth.service.ts.
import type { Sql } from '../storage/database/database.ts';
import type { Role, User } from './account.model.ts';

/** A users row as read from the database. */
export interface UserRow {
  id: string;
  tenant_id: string;
  email: string;
  display_name: string;
  role: Role;
  password_hash: string | null;
  password_changed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** The user as the rest of Sealpost sees it: without the password hash. */
export const toUser = (r: UserRow): User => ({
  id: r.id,
  tenantId: r.tenant_id,
  email: r.email,
  displayName: r.display_name,
  role: r.role,
  hasPassword: r.password_hash !== null,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Inserts a user (email already normalised). */
export async function insertUser(
  sql: Sql,
  u: { id: string; tenantId: string; email: string; displayName: string; role: Role; now: Date },
): Promise<UserRow> {
  const { rows } = await sql.query<UserRow>(
    `INSERT INTO users (id, tenant_id, email, display_name, role, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING *`,
    [u.id, u.tenantId, u.email, u.displayName, u.role, u.now],
  );
  return rows[0]!;
}

/** The user with this (normalised) email, or null. */
export async function findUserByEmail(sql: Sql, email: string): Promise<UserRow | null> {
  const { rows } = await sql.query<UserRow>('SELECT * FROM users WHERE email = $1', [email]);
  return rows[0] ?? null;
}

/** The user with this id in this tenant, or null (a user of another tenant is not found). */
export async function findUserInTenant(sql: Sql, tenantId: string, userId: string, opts: { forUpdate?: boolean } = {}): Promise<UserRow | null> {
  const { rows } = await sql.query<UserRow>(`SELECT * FROM users WHERE tenant_id = $1 AND id = $2${opts.forUpdate ? ' FOR UPDATE' : ''}`, [tenantId, userId]);
  return rows[0] ?? null;
}

/** The user with this id, or null. */
export async function findUserById(sql: Sql, userId: string): Promise<UserRow | null> {
  const { rows } = await sql.query<UserRow>('SELECT * FROM users WHERE id = $1', [userId]);
  return rows[0] ?? null;
}

/** A tenant's users, by email. */
export async function listUsersOfTenant(sql: Sql, tenantId: string): Promise<UserRow[]> {
  const { rows } = await sql.query<UserRow>('SELECT * FROM users WHERE tenant_id = $1 ORDER BY email', [tenantId]);
  return rows;
}

/** Ids of a tenant's administrators, locked until the transaction ends (so two demotions cannot both pass the last-administrator check). */
export async function lockAdministrators(sql: Sql, tenantId: string): Promise<string[]> {
  const { rows } = await sql.query<{ id: string }>(`SELECT id FROM users WHERE tenant_id = $1 AND role = 'administrator' ORDER BY id FOR UPDATE`, [tenantId]);
  return rows.map((r) => r.id);
}

/** Changes role and/or display name. */
export async function updateUserFields(sql: Sql, userId: string, fields: { role: Role; displayName: string; now: Date }): Promise<UserRow> {
  const { rows } = await sql.query<UserRow>('UPDATE users SET role = $2, display_name = $3, updated_at = $4 WHERE id = $1 RETURNING *', [
    userId,
    fields.role,
    fields.displayName,
    fields.now,
  ]);
  return rows[0]!;
}

/** Stores a new password hash. */
export async function updatePasswordHash(sql: Sql, userId: string, passwordHash: string, now: Date): Promise<void> {
  await sql.query('UPDATE users SET password_hash = $2, password_changed_at = $3, updated_at = $3 WHERE id = $1', [userId, passwordHash, now]);
}

/** Replaces a hash made with older parameters, keeping password_changed_at (the password did not change). */
export async function replacePasswordHash(sql: Sql, userId: string, oldHash: string, newHash: string): Promise<void> {
  await sql.query('UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2', [userId, oldHash, newHash]);
}
