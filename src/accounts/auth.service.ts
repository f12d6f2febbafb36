// Signing in and out: passwords, one-time sign-in links, sessions, and resolving the principal
// behind a session cookie or an API token on every request. Every sign-in success and failure
// is an audit event; no password or token ever reaches the log or the audit trail.
import { appendAuditEvent } from '../audit/audit.service.ts';
import { hashPassword, passwordNeedsRehash, verifyPassword } from '../crypto/password.ts';
import type { RateLimiter, RateLimitRule } from '../rate-limit/rate-limiter.ts';
import { errors } from '../shared/app-error.ts';
import type { Clock } from '../shared/clock.ts';
import type { Database, Sql } from '../storage/database/database.ts';
import type { CreatedApiToken, OpenedSession, Principal, RequestContext, User } from './account.model.ts';
import type { AccountSettings } from './account.settings.ts';
import {
  deleteEndedCredentials,
  deleteSession,
  deleteUserSessions,
  findApiTokenByHash,
  findSessionByTokenHash,
  revokeUserApiToken,
  touchApiToken,
  touchSession,
  useSignInLink,
} from './credential.repository.ts';
import { auditContext, issueApiToken, openSession } from './credential.issuer.ts';
import { checkPasswordPolicy, normalisePassword } from './password-policy.ts';
import { csrfTokenFor, hashSecret, looksLikeApiToken, looksLikeSecret } from './secrets.ts';
import { findUserByEmail, findUserById, replacePasswordHash, toUser, updatePasswordHash, type UserRow } from './user.repository.ts';
import { normaliseEmail } from './user.rules.ts';

/** Why a presented credential did not authenticate. */
export type AuthProblem = 'invalid_credentials' | 'session_expired' | 'token_expired' | 'token_revoked' | 'account_disabled';

/** The outcome of checking a session cookie or API token. */
export type Authentication = { principal: Principal } | { problem: AuthProblem };

/** What AuthService needs. */
export interface AuthServiceDeps {
  db: Database;
  clock: Clock;
  limiter: RateLimiter;
  settings: AccountSettings;
  publicUrl: string;
}

/** Sign-in, sign-out, passwords, and authentication of requests. */
export class AuthService {
  constructor(private readonly deps: AuthServiceDeps) {}

  /** Signs in with email and password and opens a browser session. */
  async login(input: { email: string; password: string }, ctx: RequestContext): Promise<OpenedSession> {
    const user = await this.checkPassword(input.email, input.password, 'session', ctx);
    const now = this.deps.clock();
    return this.deps.db.transaction(async (tx) => {
      const session = await openSession(tx, this.deps, user, 'password', now, ctx);
      await this.audit(tx, 'user.signed_in', user, 'success', { method: 'password', credential: 'session' }, ctx);
      return session;
    });
  }

  /** Signs in with email and password and creates a personal API token (what `sealpost login` does). */
  async createTokenWithPassword(input: { email: string; password: string; name: string; expiresInDays?: number | undefined }, ctx: RequestContext): Promise<CreatedApiToken & { user: User }> {
    const user = await this.checkPassword(input.email, input.password, 'api_token', ctx);
    const now = this.deps.clock();
    return this.deps.db.transaction(async (tx) => {
      const created = await issueApiToken(tx, this.deps, user, { name: input.name, expiresInDays: input.expiresInDays }, now, { type: 'user', id: user.id }, ctx);
      await this.audit(tx, 'user.signed_in', user, 'success', { method: 'password', credential: 'api_token' }, ctx);
      return { ...created, user };
    });
  }

  /** Redeems a one-time sign-in link: the link is used up and a session opened. */
  async redeemSignInLink(token: string, ctx: RequestContext): Promise<OpenedSession> {
    const limit = this.deps.settings.signInLinkPerIp;
    if (ctx.ip) await this.enforce(limit, ctx.ip, null, 'user.signed_in', { method: 'sign_in_link' }, ctx);
    const now = this.deps.clock();
    const result = looksLikeSecret(token)
      ? await this.deps.db.transaction(async (tx) => {
          const used = await useSignInLink(tx, hashSecret(token), now);
          if (!used) return null;
          const row = await findUserById(tx, used.userId);
          // Disabled users cannot sign in by any means. Rolling back leaves the link unused.
          if (!row || row.role === 'disabled') throw new DisabledDuringRedeem(row);
          const user = toUser(row);
          const session = await openSession(tx, this.deps, user, 'sign_in_link', now, ctx);
          await this.audit(tx, 'user.signed_in', user, 'success', { method: 'sign_in_link', credential: 'session', purpose: used.purpose }, ctx);
          return session;
        }).catch(async (err: unknown) => {
          if (!(err instanceof DisabledDuringRedeem)) throw err;
          await this.audit(this.deps.db, 'user.signed_in', err.row, 'denied', { method: 'sign_in_link', reason: 'account_disabled' }, ctx);
          throw errors.forbidden('account_disabled', 'this account is disabled; ask your administrator');
        })
      : null;
    if (!result) {
      await this.audit(this.deps.db, 'user.signed_in', null, 'failure', { method: 'sign_in_link', reason: 'invalid_link' }, ctx);
      throw errors.unauthenticated('sign_in_link_invalid', 'this sign-in link is invalid, has expired or was already used; ask your administrator for a new one');
    }
    if (ctx.ip) await this.deps.limiter.refund(limit, ctx.ip);
    return result;
  }

  /** Checks a session cookie's token: its session must exist, be neither idle nor past its end, and belong to an active user. */
  async authenticateSession(sessionToken: string): Promise<Authentication> {
    if (!looksLikeSecret(sessionToken)) return { problem: 'invalid_credentials' };
    const found = await findSessionByTokenHash(this.deps.db, hashSecret(sessionToken));
    if (!found) return { problem: 'invalid_credentials' };
    const now = this.deps.clock();
    const idleEnd = found.lastSeenAt.getTime() + this.deps.settings.sessionIdleSeconds * 1000;
    if (now.getTime() >= found.expiresAt.getTime() || now.getTime() >= idleEnd) {
      await deleteSession(this.deps.db, found.sessionId);
      return { problem: 'session_expired' };
    }
    // Checked on every request, so disabling a user ends their sessions at once.
    if (found.user.role === 'disabled') return { problem: 'account_disabled' };
    if (now.getTime() - found.lastSeenAt.getTime() >= this.deps.settings.touchIntervalSeconds * 1000) await touchSession(this.deps.db, found.sessionId, now);
    return {
      principal: {
        via: 'session',
        user: toUser(found.user),
        sessionId: found.sessionId,
        sessionMethod: found.method,
        csrfToken: csrfTokenFor(sessionToken),
        expiresAt: found.expiresAt,
      },
    };
  }

  /** Checks a personal API token: it must exist, be unrevoked and unexpired, and belong to an active user. */
  async authenticateApiToken(token: string): Promise<Authentication> {
    if (!looksLikeApiToken(token)) return { problem: 'invalid_credentials' };
    const found = await findApiTokenByHash(this.deps.db, hashSecret(token));
    if (!found) return { problem: 'invalid_credentials' };
    const now = this.deps.clock();
    if (found.token.revokedAt) return { problem: 'token_revoked' };
    if (now.getTime() >= found.token.expiresAt.getTime()) return { problem: 'token_expired' };
    if (found.user.role === 'disabled') return { problem: 'account_disabled' };
    const last = found.token.lastUsedAt?.getTime() ?? 0;
    if (now.getTime() - last >= this.deps.settings.touchIntervalSeconds * 1000) await touchApiToken(this.deps.db, found.token.id, now);
    return { principal: { via: 'api_token', user: toUser(found.user), tokenId: found.token.id } };
  }

  /** Ends the credential the request used: deletes the session, or revokes the API token. */
  async logout(principal: Principal, ctx: RequestContext): Promise<void> {
    const { user } = principal;
    const now = this.deps.clock();
    await this.deps.db.transaction(async (tx) => {
      if (principal.via === 'session') {
        await deleteSession(tx, principal.sessionId);
        await appendAuditEvent(tx, { tenantId: user.tenantId, actor: { type: 'user', id: user.id }, action: 'user.signed_out', target: { type: 'user', id: user.id }, outcome: 'success', ...auditContext(ctx), details: { credential: 'session' } });
      } else {
        await revokeUserApiToken(tx, user.id, principal.tokenId, now);
        await appendAuditEvent(tx, { tenantId: user.tenantId, actor: { type: 'user', id: user.id }, action: 'api_token.revoked', target: { type: 'api_token', id: principal.tokenId }, outcome: 'success', ...auditContext(ctx), details: { reason: 'signed_out' } });
      }
    });
  }

  /**
   * Sets the principal's password. The current password is required when one is set, except in
   * a session opened by a sign-in link (that is how a forgotten password is replaced). Every
   * other session of the user is ended.
   */
  async changePassword(principal: Principal, input: { newPassword: string; currentPassword?: string | undefined }, ctx: RequestContext): Promise<void> {
    const row = await findUserById(this.deps.db, principal.user.id);
    if (!row) throw errors.unauthenticated('unauthenticated', 'sign in first');
    checkPasswordPolicy(input.newPassword, row.email);
    const viaLink = principal.via === 'session' && principal.sessionMethod === 'sign_in_link';
    if (row.password_hash !== null && !viaLink) {
      if (input.currentPassword === undefined) throw errors.invalid('current_password_required', 'currentPassword is required to change a password', { field: 'currentPassword' });
      // The same budget as sign-in: a stolen session must not become a password-guessing oracle.
      const limit = this.deps.settings.signInPerAccount;
      await this.enforce(limit, row.email, row, 'user.password_changed', {}, ctx);
      if (!(await verifyPassword(row.password_hash, normalisePassword(input.currentPassword)))) {
        await appendAuditEvent(this.deps.db, { tenantId: row.tenant_id, actor: { type: 'user', id: row.id }, action: 'user.password_changed', target: { type: 'user', id: row.id }, outcome: 'failure', ...auditContext(ctx), details: { reason: 'wrong_current_password' } });
        throw errors.forbidden('current_password_incorrect', 'the current password is not correct');
      }
      await this.deps.limiter.refund(limit, row.email);
    }
    const hash = await hashPassword(normalisePassword(input.newPassword));
    const now = this.deps.clock();
    await this.deps.db.transaction(async (tx) => {
      await updatePasswordHash(tx, row.id, hash, now);
      // Whoever else holds a session (perhaps the reason for the change) is signed out.
      const ended = await deleteUserSessions(tx, row.id, principal.via === 'session' ? principal.sessionId : undefined);
      await appendAuditEvent(tx, { tenantId: row.tenant_id, actor: { type: 'user', id: row.id }, action: 'user.password_changed', target: { type: 'user', id: row.id }, outcome: 'success', ...auditContext(ctx), details: { firstPassword: row.password_hash === null, endedSessions: ended } });
    });
  }

  /** Deletes ended sessions, and links and tokens that ended more than 30 days ago (retention). */
  async purgeEndedCredentials(): Promise<{ sessions: number; signInLinks: number; apiTokens: number; rateLimits: number }> {
    const now = this.deps.clock();
    const ended = await deleteEndedCredentials(this.deps.db, { now, idleSeconds: this.deps.settings.sessionIdleSeconds, cutoff: new Date(now.getTime() - 30 * 24 * 60 * 60 * 1000) });
    return { ...ended, rateLimits: await this.deps.limiter.purgeEnded() };
  }

  // Rate limits, then the password, then the account's state. Unknown addresses, accounts
  // without a password and wrong passwords all take one Argon2id verification and give the
  // same answer, so neither timing nor wording tells an attacker which accounts exist.
  private async checkPassword(emailInput: string, password: string, credential: 'session' | 'api_token', ctx: RequestContext): Promise<User> {
    let email: string | null;
    try {
      email = normaliseEmail(emailInput);
    } catch {
      email = null;
    }
    const row = email ? await findUserByEmail(this.deps.db, email) : null;
    const accountKey = email ?? emailInput.trim().toLowerCase();
    const details = { method: 'password', credential };
    // Counted before the password is checked, so parallel guesses cannot all slip under the limit.
    await this.enforce(this.deps.settings.signInPerAccount, accountKey, row, 'user.signed_in', details, ctx);
    if (ctx.ip) await this.enforce(this.deps.settings.signInPerIp, ctx.ip, row, 'user.signed_in', details, ctx);

    const ok = await verifyPassword(row?.password_hash ?? null, normalisePassword(password));
    if (!row || !ok) {
      await this.audit(this.deps.db, 'user.signed_in', row, 'failure', { ...details, reason: !row ? 'unknown_account' : row.password_hash === null ? 'no_password' : 'wrong_password' }, ctx);
      throw errors.unauthenticated('invalid_credentials', 'email or password is not correct');
    }
    // Only after the password matched: telling a guesser that an account is disabled would confirm it exists.
    if (row.role === 'disabled') {
      await this.audit(this.deps.db, 'user.signed_in', row, 'denied', { ...details, reason: 'account_disabled' }, ctx);
      throw errors.forbidden('account_disabled', 'this account is disabled; ask your administrator');
    }
    // A successful sign-in does not count against the account or the address.
    await this.deps.limiter.refund(this.deps.settings.signInPerAccount, accountKey);
    if (ctx.ip) await this.deps.limiter.refund(this.deps.settings.signInPerIp, ctx.ip);
    if (passwordNeedsRehash(row.password_hash!)) {
      await replacePasswordHash(this.deps.db, row.id, row.password_hash!, await hashPassword(normalisePassword(password)));
    }
    return toUser(row);
  }

  // Counts one attempt; over the limit, audits the refusal and throws 429 'rate_limited'.
  private async enforce(rule: RateLimitRule, key: string, row: UserRow | null, action: string, details: Record<string, unknown>, ctx: RequestContext): Promise<void> {
    const decision = await this.deps.limiter.consume(rule, key);
    if (decision.allowed) return;
    await this.audit(this.deps.db, action, row, 'denied', { ...details, reason: 'rate_limited', limit: rule.scope }, ctx);
    throw errors.rateLimited('rate_limited', `too many sign-in attempts; try again in ${Math.ceil(decision.retryAfterSeconds / 60)} minutes`, decision.retryAfterSeconds);
  }

  // Attempts on unknown accounts go to the system chain: there is no tenant to file them under.
  private async audit(sql: Sql, action: string, user: UserRow | User | null, outcome: 'success' | 'failure' | 'denied', details: Record<string, unknown>, ctx: RequestContext): Promise<void> {
    const id = user?.id;
    const tenantId = user ? ('tenantId' in user ? user.tenantId : user.tenant_id) : undefined;
    await appendAuditEvent(sql, {
      ...(tenantId ? { tenantId } : {}),
      actor: id ? { type: 'user', id } : { type: 'user' },
      action,
      ...(id ? { target: { type: 'user', id } } : {}),
      outcome,
      ...auditContext(ctx),
      details,
    });
  }
}

// Carries the disabled user out of the redemption transaction, which must roll back.
class DisabledDuringRedeem extends Error {
  constructor(readonly row: UserRow | null) {
    super('account disabled');
  }
}
