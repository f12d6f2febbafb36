// SQL for sign-in credentials: sessions, personal API tokens and one-time sign-in links. Every
// secret arrives here already hashed (SHA-256); nothing in this file ever sees a token.
import type { Sql } from '../storage/database/database.ts';
import type { ApiTokenInfo, SessionMethod, SignInLinkPurpose } from './account.model.ts';
import type { UserRow } from './user.repository.ts';

// ---- sessions --------------------------------------------------------------------------

/** A session joined with its user. */
export interface SessionWithUser {
  sessionId: string;
  method: SessionMethod;
  lastSeenAt: Date;
  expiresAt: Date;
  user: UserRow;
}

/** Inserts a session. */
export async function insertSession(
  sql: Sql,
  s: { id: string; tokenHash: Uint8Array; userId: string; tenantId: string; method: SessionMethod; now: Date; expiresAt: Date; ip: string | null; userAgent: string | null },
): Promise<void> {
  await sql.query(
    `INSERT INTO sessions (id, token_hash, user_id, tenant_id, method, created_at, last_seen_at, expires_at, ip, user_agent)
     VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9)`,
    [s.id, s.tokenHash, s.userId, s.tenantId, s.method, s.now, s.expiresAt, s.ip, s.userAgent],
  );
}

/** The session with this token hash, with its user, or null. */
export async function findSessionByTokenHash(sql: Sql, tokenHash: Uint8Array): Promise<SessionWithUser | null> {
  const { rows } = await sql.query<UserRow & { session_id: string; session_method: SessionMethod; session_last_seen_at: Date; session_expires_at: Date }>(
    `SELECT s.id AS session_id, s.method AS session_method, s.last_seen_at AS session_last_seen_at, s.expires_at AS session_expires_at, u.*
       FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE s.token_hash = $1`,
    [tokenHash],
  );
  const r = rows[0];
  if (!r) return null;
  const { session_id, session_method, session_last_seen_at, session_expires_at, ...user } = r;
  return { sessionId: session_id, method: session_method, lastSeenAt: session_last_seen_at, expiresAt: session_expires_at, user };
}

/** Records activity on a session (drives the idle timeout). */
export async function touchSession(sql: Sql, sessionId: string, now: Date): Promise<void> {
  await sql.query('UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2', [sessionId, now]);
}

/** Deletes one session; true when it existed. */
export async function deleteSession(sql: Sql, sessionId: string): Promise<boolean> {
  return (await sql.query('DELETE FROM sessions WHERE id = $1', [sessionId])).rowCount > 0;
}

/** Deletes a user's sessions, except `keepSessionId`; returns how many. */
export async function deleteUserSessions(sql: Sql, userId: string, keepSessionId?: string): Promise<number> {
  return (await sql.query('DELETE FROM sessions WHERE user_id = $1 AND id IS DISTINCT FROM $2', [userId, keepSessionId ?? null])).rowCount;
}

// ---- API tokens --------------------------------------------------------------------------

interface ApiTokenRow {
  id: string;
  name: string;
  prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  expires_at: Date;
  revoked_at: Date | null;
}

const toTokenInfo = (r: ApiTokenRow): ApiTokenInfo => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
});

const TOKEN_COLUMNS = 'id, name, prefix, created_at, last_used_at, expires_at, revoked_at';

/** Inserts an API token. */
export async function insertApiToken(
  sql: Sql,
  t: { id: string; tenantId: string; userId: string; name: string; prefix: string; tokenHash: Uint8Array; now: Date; expiresAt: Date },
): Promise<ApiTokenInfo> {
  const { rows } = await sql.query<ApiTokenRow>(
    `INSERT INTO api_tokens (id, tenant_id, user_id, name, prefix, token_hash, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${TOKEN_COLUMNS}`,
    [t.id, t.tenantId, t.userId, t.name, t.prefix, t.tokenHash, t.now, t.expiresAt],
  );
  return toTokenInfo(rows[0]!);
}

/** A token joined with its user. */
export interface ApiTokenWithUser {
  token: ApiTokenInfo;
  user: UserRow;
}

/** The token with this hash (revoked or not), with its user, or null. */
export async function findApiTokenByHash(sql: Sql, tokenHash: Uint8Array): Promise<ApiTokenWithUser | null> {
  const { rows } = await sql.query<UserRow & { t_id: string; t_name: string; t_prefix: string; t_created_at: Date; t_last_used_at: Date | null; t_expires_at: Date; t_revoked_at: Date | null }>(
    `SELECT t.id AS t_id, t.name AS t_name, t.prefix AS t_prefix, t.created_at AS t_created_at, t.last_used_at AS t_last_used_at,
            t.expires_at AS t_expires_at, t.revoked_at AS t_revoked_at, u.*
       FROM api_tokens t JOIN users u ON u.id = t.user_id
      WHERE t.token_hash = $1`,
    [tokenHash],
  );
  const r = rows[0];
  if (!r) return null;
  const { t_id, t_name, t_prefix, t_created_at, t_last_used_at, t_expires_at, t_revoked_at, ...user } = r;
  return {
    token: { id: t_id, name: t_name, prefix: t_prefix, createdAt: t_created_at, lastUsedAt: t_last_used_at, expiresAt: t_expires_at, revokedAt: t_revoked_at },
    user,
  };
}

/** Records use of a token. */
export async function touchApiToken(sql: Sql, tokenId: string, now: Date): Promise<void> {
  await sql.query('UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)', [tokenId, now]);
}

/** A user's tokens, newest first. */
export async function listUserApiTokens(sql: Sql, userId: string): Promise<ApiTokenInfo[]> {
  const { rows } = await sql.query<ApiTokenRow>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id`, [userId]);
  return rows.map(toTokenInfo);
}

/** Revokes one of a user's tokens; returns it, or null when the user has no such token. Revoking twice keeps the first time. */
export async function revokeUserApiToken(sql: Sql, userId: string, tokenId: string, now: Date): Promise<ApiTokenInfo | null> {
  const { rows } = await sql.query<ApiTokenRow>(
    `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $3) WHERE user_id = $1 AND id = $2 RETURNING ${TOKEN_COLUMNS}`,
    [userId, tokenId, now],
  );
  return rows[0] ? toTokenInfo(rows[0]) : null;
}

/** Revokes every live token of a user; returns how many. */
export async function revokeAllUserApiTokens(sql: Sql, userId: string, now: Date): Promise<number> {
  return (await sql.query('UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL', [userId, now])).rowCount;
}

// ---- sign-in links -----------------------------------------------------------------------

/** Inserts a sign-in link after deleting the user's unused ones (only the newest link works). */
export async function replaceSignInLink(
  sql: Sql,
  l: { id: string; tenantId: string; userId: string; tokenHash: Uint8Array; purpose: SignInLinkPurpose; now: Date; expiresAt: Date },
): Promise<void> {
  await sql.query('DELETE FROM sign_in_links WHERE user_id = $1 AND used_at IS NULL', [l.userId]);
  await sql.query(
    `INSERT INTO sign_in_links (id, tenant_id, user_id, token_hash, purpose, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [l.id, l.tenantId, l.userId, l.tokenHash, l.purpose, l.now, l.expiresAt],
  );
}

/**
 * Marks the link with this hash used, if it is unused and unexpired, and returns its user. One
 * statement: of two concurrent redemptions exactly one gets the row.
 */
export async function useSignInLink(sql: Sql, tokenHash: Uint8Array, now: Date): Promise<{ linkId: string; userId: string; purpose: SignInLinkPurpose } | null> {
  const { rows } = await sql.query<{ id: string; user_id: string; purpose: SignInLinkPurpose }>(
    'UPDATE sign_in_links SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING id, user_id, purpose',
    [tokenHash, now],
  );
  return rows[0] ? { linkId: rows[0].id, userId: rows[0].user_id, purpose: rows[0].purpose } : null;
}

/** Deletes a user's unused sign-in links; returns how many. */
export async function deleteUnusedSignInLinks(sql: Sql, userId: string): Promise<number> {
  return (await sql.query('DELETE FROM sign_in_links WHERE user_id = $1 AND used_at IS NULL', [userId])).rowCount;
}

// ---- retention ---------------------------------------------------------------------------

/**
 * Deletes credentials that ended before `cutoff` (see the credential_lifetime retention rule):
 * sessions past their absolute or idle end, links expired or used, tokens expired or revoked.
 */
export async function deleteEndedCredentials(sql: Sql, opts: { now: Date; idleSeconds: number; cutoff: Date }): Promise<{ sessions: number; signInLinks: number; apiTokens: number }> {
  const idleBefore = new Date(opts.now.getTime() - opts.idleSeconds * 1000);
  const sessions = (await sql.query('DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2', [opts.now, idleBefore])).rowCount;
  const signInLinks = (await sql.query('DELETE FROM sign_in_links WHERE expires_at <= $1 OR used_at <= $1', [opts.cutoff])).rowCount;
  const apiTokens = (await sql.query('DELETE FROM api_tokens WHERE expires_at <= $1 OR revoked_at <= $1', [opts.cutoff])).rowCount;
  return { sessions, signInLinks, apiTokens };
}
