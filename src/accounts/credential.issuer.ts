// Issuing credentials inside a caller's transaction: sessions, API tokens and sign-in links.
// Shared by the services that hand them out (sign-in, token management, invitations, first
// start), so each kind is made, hashed and audited the same way wherever it comes from.
import { isIP } from 'node:net';
import { appendAuditEvent } from '../audit/audit.service.ts';
import type { AuditEventInput } from '../audit/audit.model.ts';
import { randomId } from '../crypto/keys.ts';
import { errors } from '../shared/app-error.ts';
import type { Sql } from '../storage/database/database.ts';
import type { CreatedApiToken, OpenedSession, RequestContext, SessionMethod, SignInLink, SignInLinkPurpose, User } from './account.model.ts';
import type { AccountSettings } from './account.settings.ts';
import { insertApiToken, insertSession, replaceSignInLink } from './credential.repository.ts';
import { csrfTokenFor, mintApiToken, mintSecret } from './secrets.ts';

/** What issuing needs besides the transaction. */
export interface IssuerDeps {
  settings: AccountSettings;
  publicUrl: string;
}

/** Opens a session for `user`; the caller audits the sign-in. */
export async function openSession(tx: Sql, deps: IssuerDeps, user: User, method: SessionMethod, now: Date, ctx: RequestContext): Promise<OpenedSession> {
  const { token, hash } = mintSecret();
  const expiresAt = new Date(now.getTime() + deps.settings.sessionAbsoluteSeconds * 1000);
  await insertSession(tx, {
    id: randomId(),
    tokenHash: hash,
    userId: user.id,
    tenantId: user.tenantId,
    method,
    now,
    expiresAt,
    ip: auditContext(ctx).ip ?? null,
    // A client controls its user agent; PostgreSQL text cannot hold NUL.
    userAgent: ctx.userAgent ? ctx.userAgent.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 512) : null,
  });
  return { user, sessionToken: token, csrfToken: csrfTokenFor(token), expiresAt };
}

/** Validates a token name and lifetime, creates the token and audits 'api_token.created'. */
export async function issueApiToken(
  tx: Sql,
  deps: IssuerDeps,
  user: User,
  input: { name: string; expiresInDays?: number | undefined },
  now: Date,
  actor: AuditEventInput['actor'],
  ctx: RequestContext,
): Promise<CreatedApiToken> {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 100 || /[\u0000-\u001f\u007f]/.test(name)) {
    throw errors.invalid('invalid_token_name', 'token name must be 1 to 100 characters, without control characters', { field: 'name' });
  }
  const days = input.expiresInDays ?? deps.settings.apiTokenDefaultDays;
  if (!Number.isInteger(days) || days < 1 || days > deps.settings.apiTokenMaxDays) {
    throw errors.invalid('invalid_token_lifetime', `expiresInDays must be a whole number from 1 to ${deps.settings.apiTokenMaxDays}`, { field: 'expiresInDays' });
  }
  const { token, prefix, hash } = mintApiToken();
  const info = await insertApiToken(tx, {
    id: randomId(),
    tenantId: user.tenantId,
    userId: user.id,
    name,
    prefix,
    tokenHash: hash,
    now,
    expiresAt: new Date(now.getTime() + days * 24 * 60 * 60 * 1000),
  });
  await appendAuditEvent(tx, {
    tenantId: user.tenantId,
    actor,
    action: 'api_token.created',
    target: { type: 'api_token', id: info.id },
    outcome: 'success',
    ...auditContext(ctx),
    details: { userId: user.id, name, prefix, expiresAt: info.expiresAt.toISOString() },
  });
  return { ...info, token };
}

/**
 * Issues a one-time sign-in link for `user` (any earlier unused link stops working) and audits
 * 'sign_in_link.created'. The token travels in the URL fragment, which browsers never send to
 * servers, so it stays out of access logs and Referer headers.
 */
export async function issueSignInLink(
  tx: Sql,
  deps: IssuerDeps,
  user: User,
  purpose: SignInLinkPurpose,
  now: Date,
  actor: AuditEventInput['actor'],
  ctx: RequestContext,
): Promise<SignInLink> {
  const { token, hash } = mintSecret();
  const expiresAt = new Date(now.getTime() + deps.settings.signInLinkSeconds * 1000);
  const id = randomId();
  await replaceSignInLink(tx, { id, tenantId: user.tenantId, userId: user.id, tokenHash: hash, purpose, now, expiresAt });
  await appendAuditEvent(tx, {
    tenantId: user.tenantId,
    actor,
    action: 'sign_in_link.created',
    target: { type: 'user', id: user.id },
    outcome: 'success',
    ...auditContext(ctx),
    details: { purpose, linkId: id, expiresAt: expiresAt.toISOString() },
  });
  return { url: `${deps.publicUrl}/sign-in#token=${token}`, expiresAt };
}

/**
 * The request's IP and user agent in the shape appendAuditEvent takes. Absent values are left
 * out, and so is an address that is not an IP (a forged X-Forwarded-For behind TRUST_PROXY), so
 * that a client cannot make the event fail to record.
 */
export function auditContext(ctx: RequestContext): { ip?: string; userAgent?: string } {
  return { ...(ctx.ip && isIP(ctx.ip) !== 0 ? { ip: ctx.ip } : {}), ...(ctx.userAgent ? { userAgent: ctx.userAgent } : {}) };
}
