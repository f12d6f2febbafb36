import { expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/database.ts';
import { buildUser, fakeClock, uniqueEmail, type FakeClock } from '../../test/support/accounts.ts';
import { isAppError } from '../shared/app-error.ts';
import type { Principal } from './account.model.ts';
import { createAccounts, type Accounts } from './accounts.ts';

const MINUTE = 60_000;
const ctxA = { ip: '203.0.113.7', userAgent: 'vitest' };

/** The AppError code `promise` rejects with. */
async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (isAppError(err)) return err.code;
    throw err;
  }
  throw new Error('expected a rejection');
}

describeEachDatabase('AuthService', (ctx) => {
  const setup = (clock: FakeClock = fakeClock()): Accounts => createAccounts(ctx.db(), { publicUrl: 'https://sealpost.example', clock });

  const auditOf = async (userId: string) =>
    (
      await ctx.db().query<{ action: string; outcome: string; details: Record<string, unknown>; ip: string | null; actor_id: string | null }>(
        `SELECT action, outcome, details, ip, actor_id FROM audit_events WHERE target_id = $1 OR actor_id = $1 ORDER BY occurred_at, chain_seq`,
        [userId],
      )
    ).rows;

  it('does sign in with the right password, case-insensitively by email, and audit the success', async () => {
    const accounts = setup();
    const u = await buildUser(ctx.db());
    const session = await accounts.auth.login({ email: u.email.toUpperCase(), password: u.password! }, ctxA);
    expect(session.user.id).toBe(u.user.id);
    expect(session.sessionToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.csrfToken).not.toBe(session.sessionToken);
    const audit = await auditOf(u.user.id);
    expect(audit).toContainEqual(expect.objectContaining({ action: 'user.signed_in', outcome: 'success', ip: '203.0.113.7', details: { method: 'password', credential: 'session' } }));
  });

  it('does store only the SHA-256 of the session token', async () => {
    const accounts = setup();
    const u = await buildUser(ctx.db());
    const session = await accounts.auth.login({ email: u.email, password: u.password! }, ctxA);
    const { rows } = await ctx.db().query<Record<string, unknown>>('SELECT * FROM sessions WHERE user_id = $1', [u.user.id]);
    expect(rows).toHaveLength(1);
    const dump = JSON.stringify(rows, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64url') : v));
    expect(dump).not.toContain(session.sessionToken);
    expect(dump).not.toContain(session.csrfToken);
    expect(rows[0]).toMatchObject({ ip: '203.0.113.7', user_agent: 'vitest', method: 'password' });
  });

  it('does refuse a wrong password, an unknown address and an account without a password with the same error, auditing each', async () => {
    const accounts = setup();
    const u = await buildUser(ctx.db());
    const invited = await buildUser(ctx.db(), { password: null });
    expect(await codeOf(accounts.auth.login({ email: u.email, password: 'not the password at all' }, ctxA))).toBe('invalid_credentials');
    expect(await codeOf(accounts.auth.login({ email: uniqueEmail('nobody'), password: 'not the password at all' }, ctxA))).toBe('invalid_credentials');
    expect(await codeOf(accounts.auth.login({ email: invited.email, password: 'not the password at all' }, ctxA))).toBe('invalid_credentials');
    expect(await codeOf(accounts.auth.login({ email: 'not an address', password: 'whatever it is' }, ctxA))).toBe('invalid_credentials');
    expect((await auditOf(u.user.id)).map((e) => [e.action, e.outcome, e.details.reason])).toEqual([['user.signed_in', 'failure', 'wrong_password']]);
    expect((await auditOf(invited.user.id)).map((e) => e.details.reason)).toEqual(['no_password']);
    const { rows } = await ctx.db().query<{ details: { reason: string } }>(`SELECT details FROM audit_events WHERE chain = 'system' AND action = 'user.signed_in' AND details->>'reason' = 'unknown_account'`);
    expect(rows.length).toBeGreaterThanOrEqual(2);
  });

  it('does never put a password or token in the audit trail', async () => {
    const accounts = setup();
    const u = await buildUser(ctx.db());
    await codeOf(accounts.auth.login({ email: u.email, password: 'wrong password guess' }, ctxA));
    const session = await accounts.auth.login({ email: u.email, password: u.password! }, ctxA);
    const token = await accounts.auth.createTokenWithPassword({ email: u.email, password: u.password!, name: 'laptop' }, ctxA);
    const { rows } = await ctx.db().query('SELECT * FROM audit_events WHERE tenant_id = $1', [u.tenantId]);
    const dump = JSON.stringify(rows);
    for (const secret of [u.password!, 'wrong password guess', session.sessionToken, session.csrfToken, token.token]) expect(dump).not.toContain(secret);
  });

  it('does refuse a disabled user with the right password, and only then say the account is disabled', async () => {
    const accounts = setup();
    const u = await buildUser(ctx.db(), { role: 'disabled' });
    expect(await codeOf(accounts.auth.login({ email: u.email, password: 'wrong password guess' }, ctxA))).toBe('invalid_credentials');
    expect(await codeOf(accounts.auth.login({ email: u.email, password: u.password! }, ctxA))).toBe('account_disabled');
    const { rows } = await ctx.db().query('SELECT 1 FROM sessions WHERE user_id = $1', [u.user.id]);
    expect(rows).toHaveLength(0);
    expect((await auditOf(u.user.id)).map((e) => e.outcome)).toEqual(['failure', 'denied']);
  });

  it('does limit password attempts per account, whether or not it exists, and let the window expire', async () => {
    const clock = fakeClock();
    const accounts = setup(clock);
    const u = await buildUser(ctx.db());
    // Each attempt from its own address, so only the per-account limit applies.
    for (let i = 0; i < 10; i++) expect(await codeOf(accounts.auth.login({ email: u.email, password: `wrong guess ${i}!!` }, { ip: `198.51.100.${i + 1}` }))).toBe('invalid_credentials');
    let caught: unknown;
    try {
      await accounts.auth.login({ email: u.email, password: u.password! }, { ip: '198.51.100.99' });
    } catch (err) {
      caught = err;
    }
    // Even the right password is refused while the account is limited.
    expect(isAppError(caught, 'rate_limited')).toBe(true);
    expect((caught as { details: { retryAfterSeconds: number } }).details.retryAfterSeconds).toBe(15 * 60);
    expect((await auditOf(u.user.id)).at(-1)).toMatchObject({ outcome: 'denied', details: { reason: 'rate_limited', limit: 'sign_in_account' } });

    const ghost = uniqueEmail('ghost');
    for (let i = 0; i < 10; i++) await codeOf(accounts.auth.login({ email: ghost, password: 'wrong guess here' }, {}));
    expect(await codeOf(accounts.auth.login({ email: ghost, password: 'wrong guess here' }, {}))).toBe('rate_limited');

    clock.advance(15 * MINUTE);
    expect((await accounts.auth.login({ email: u.email, password: u.password! }, ctxA)).user.id).toBe(u.user.id);
  });

  it('does limit password attempts per IP address across accounts, and not count successful sign-ins', async () => {
    const accounts = setup();
    const ip = '192.0.2.44';
    const u = await buildUser(ctx.db());
    // Successful sign-ins are refunded: they never use up the address's budget.
    for (let i = 0; i < 12; i++) await accounts.auth.login({ email: u.email, password: u.password! }, { ip });
    for (let i = 0; i < 50; i++) await codeOf(accounts.auth.login({ email: uniqueEmail('spray'), password: 'Winter2030!!' }, { ip }));
    expect(await codeOf(accounts.auth.login({ email: u.email, password: u.password! }, { ip }))).toBe('rate_limited');
    expect((await accounts.auth.login({ email: u.email, password: u.password! }, { ip: '192.0.2.45' })).user.id).toBe(u.user.id);
  });

  it('does end a session after 30 minutes without requests, and keep an active one alive', async () => {
    const clock = fakeClock();
    const accounts = setup(clock);
    const u = await buildUser(ctx.db());
    const session = await accounts.auth.login({ email: u.email, password: u.password! }, ctxA);
    for (let i = 0; i < 4; i++) {
      clock.advance(29 * MINUTE);
      expect(await accounts.auth.authenticateSession(session.sessionToken)).toHaveProperty('principal');
    }
    clock.advance(30 * MINUTE);
    expect(await accounts.auth.authenticateSession(session.sessionToken)).toEqual({ problem: 'session_expired' });
    // The ended session is deleted, not just refused.
    expect((await ctx.db().query('SELECT 1 FROM sessions WHERE user_id = $1', [u.user.id])).rows).toHaveLength(0);
    expect(await accounts.auth.authenticateSession(session.sessionToken)).toEqual({ problem: 'invalid_credentials' });
  });

  it('does end a session 12 hours after sign-in however active it is', async () => {
    const clock = fakeClock();
    const accounts = setup(clock);
    const u = await buildUser(ctx.db());
    const session = await accounts.auth.login({ email: u.email, password: u.password! }, ctxA);
    for (let i = 0; i < 47; i++) {
      clock.advance(15 * MINUTE);
      expect(await accounts.auth.authenticateSession(session.sessionToken)).toHaveProperty('principal');
    }
    clock.advance(15 * MINUTE);
    expect(await accounts.auth.authenticateSession(session.sessionToken)).toEqual({ problem: 'session_expired' });
  });

  it('does refuse a disabled user\'s session and tokens at once', async () => {
    const accounts = setup();
    const u = await buildUser(ctx.db());
    const session = await accounts.auth.login({ email: u.email, password: u.password! }, ctxA);
    const token = await accounts.auth.createTokenWithPassword({ email: u.email, password: u.password!, name: 'ci' }, ctxA);
    await ctx.db().query(`UPDATE users SET role = 'disabled' WHERE id = $1`, [u.user.id]);
    expect(await accounts.auth.authenticateSession(session.sessionToken)).toEqual({ problem: 'account_disabled' });
    expect(await accounts.auth.authenticateApiToken(token.token)).toEqual({ problem: 'account_disabled' });
  });

  it('does create an API token shown once, stored hashed, usable until revoked or expired', async () => {
    const clock = fakeClock();
    const accounts = setup(clock);
    const u = await buildUser(ctx.db());
    const created = await accounts.auth.createTokenWithPassword({ email: u.email, password: u.password!, name: 'laptop', expiresInDays: 7 }, ctxA);
    expect(created.token).toMatch(/^sp_[A-Za-z0-9_-]{43}$/);
    expect(created.prefix).toBe(created.token.slice(0, 9));
    const { rows } = await ctx.db().query<Record<string, unknown>>('SELECT * FROM api_tokens WHERE user_id = $1', [u.user.id]);
    const dump = JSON.stringify(rows, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64url') : v));
    expect(dump).not.toContain(created.token);
    expect(dump).not.toContain(created.token.slice(3));
    const listed = await accounts.tokens.list({ via: 'api_token', user: u.user, tokenId: created.id });
    expect(listed).toHaveLength(1);
    expect(listed[0]).not.toHaveProperty('token');

    const auth = await accounts.auth.authenticateApiToken(created.token);
    expect(auth).toMatchObject({ principal: { via: 'api_token', tokenId: created.id, user: { id: u.user.id } } });
    expect(await accounts.auth.authenticateApiToken(`${created.token.slice(0, -1)}${created.token.endsWith('A') ? 'B' : 'A'}`)).toEqual({ problem: 'invalid_credentials' });

    clock.advance(7 * 24 * 60 * MINUTE);
    expect(await accounts.auth.authenticateApiToken(created.token)).toEqual({ problem: 'token_expired' });
  });

  it('does refuse a revoked token and record who revoked it', async () => {
    const accounts = setup();
    const u = await buildUser(ctx.db());
    const created = await accounts.tokens.create({ via: 'api_token', user: u.user, tokenId: crypto.randomUUID() }, { name: 'ci' }, ctxA);
    const principal = (await accounts.auth.authenticateApiToken(created.token)) as { principal: Principal };
    await accounts.tokens.revoke(principal.principal, created.id, ctxA);
    expect(await accounts.auth.authenticateApiToken(created.token)).toEqual({ problem: 'token_revoked' });
    const other = await buildUser(ctx.db(), { tenantId: u.tenantId });
    expect(await codeOf(accounts.tokens.revoke({ via: 'api_token', user: other.user, tokenId: crypto.randomUUID() }, created.id, ctxA))).toBe('api_token_not_found');
    expect((await auditOf(u.user.id)).map((e) => e.action)).toEqual(expect.arrayContaining(['api_token.created', 'api_token.revoked']));
  });

  it('does redeem a sign-in link exactly once, into a session that may set the first password', async () => {
    const accounts = setup();
    const admin = await buildUser(ctx.db(), { role: 'administrator' });
    const invited = await accounts.users.create({ type: 'user', id: admin.user.id }, { tenantId: admin.tenantId, email: uniqueEmail('new'), displayName: 'New Person', role: 'author' });
    const token = new URL(invited.signInLink.url).hash.replace('#token=', '');
    expect(invited.signInLink.url).toBe(`https://sealpost.example/sign-in#token=${token}`);

    const [first, second] = await Promise.allSettled([accounts.auth.redeemSignInLink(token, ctxA), accounts.auth.redeemSignInLink(token, ctxA)]);
    const fulfilled = [first, second].filter((r) => r.status === 'fulfilled');
    expect(fulfilled).toHaveLength(1);
    const rejected = [first, second].find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(isAppError(rejected.reason, 'sign_in_link_invalid')).toBe(true);
    expect(await codeOf(accounts.auth.redeemSignInLink(token, ctxA))).toBe('sign_in_link_invalid');

    const session = (fulfilled[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof accounts.auth.redeemSignInLink>>>).value;
    const principal = ((await accounts.auth.authenticateSession(session.sessionToken)) as { principal: Principal }).principal;
    expect(principal).toMatchObject({ via: 'session', sessionMethod: 'sign_in_link' });
    await accounts.auth.changePassword(principal, { newPassword: 'a brand new passphrase' }, ctxA);
    expect((await accounts.auth.login({ email: invited.user.email, password: 'a brand new passphrase' }, ctxA)).user.id).toBe(invited.user.id);
  });

  it('does refuse an expired sign-in link, a link replaced by a newer one, and a malformed one', async () => {
    const clock = fakeClock();
    const accounts = setup(clock);
    const admin = await buildUser(ctx.db(), { role: 'administrator' });
    const actor = { type: 'user' as const, id: admin.user.id };
    const invited = await accounts.users.create(actor, { tenantId: admin.tenantId, email: uniqueEmail(), displayName: 'P', role: 'read_only' });
    const tokenOf = (url: string) => url.split('#token=')[1]!;
    clock.advance(24 * 60 * MINUTE);
    expect(await codeOf(accounts.auth.redeemSignInLink(tokenOf(invited.signInLink.url), ctxA))).toBe('sign_in_link_invalid');

    const older = await accounts.users.issueSignInLink(actor, admin.tenantId, invited.user.id);
    const newer = await accounts.users.issueSignInLink(actor, admin.tenantId, invited.user.id);
    expect(await codeOf(accounts.auth.redeemSignInLink(tokenOf(older.url), ctxA))).toBe('sign_in_link_invalid');
    expect((await accounts.auth.redeemSignInLink(tokenOf(newer.url), ctxA)).user.id).toBe(invited.user.id);
    expect(await codeOf(accounts.auth.redeemSignInLink('../../etc/passwd', ctxA))).toBe('sign_in_link_invalid');
  });

  it('does refuse a link of a disabled user and leave the link unused', async () => {
    const accounts = setup();
    const admin = await buildUser(ctx.db(), { role: 'administrator' });
    const u = await buildUser(ctx.db(), { tenantId: admin.tenantId, password: null });
    const link = await accounts.users.issueSignInLink({ type: 'system' }, admin.tenantId, u.user.id);
    await ctx.db().query(`UPDATE users SET role = 'disabled' WHERE id = $1`, [u.user.id]);
    expect(await codeOf(accounts.auth.redeemSignInLink(link.url.split('#token=')[1]!, ctxA))).toBe('account_disabled');
    expect((await ctx.db().query('SELECT 1 FROM sign_in_links WHERE user_id = $1 AND used_at IS NULL', [u.user.id])).rows).toHaveLength(1);
    expect((await ctx.db().query('SELECT 1 FROM sessions WHERE user_id = $1', [u.user.id])).rows).toHaveLength(0);
    expect((await auditOf(u.user.id)).at(-1)).toMatchObject({ action: 'user.signed_in', outcome: 'denied', details: { reason: 'account_disabled' } });
  });

  it('does require the current password to change it, except in a session opened by a sign-in link, and sign out other sessions', async () => {
    const accounts = setup();
    const u = await buildUser(ctx.db());
    const a = await accounts.auth.login({ email: u.email, password: u.password! }, ctxA);
    const b = await accounts.auth.login({ email: u.email, password: u.password! }, ctxA);
    const principal = ((await accounts.auth.authenticateSession(a.sessionToken)) as { principal: Principal }).principal;
    expect(await codeOf(accounts.auth.changePassword(principal, { newPassword: 'another long passphrase' }, ctxA))).toBe('current_password_required');
    expect(await codeOf(accounts.auth.changePassword(principal, { newPassword: 'another long passphrase', currentPassword: 'wrong current pw' }, ctxA))).toBe('current_password_incorrect');
    expect(await codeOf(accounts.auth.changePassword(principal, { newPassword: 'short', currentPassword: u.password! }, ctxA))).toBe('password_too_short');
    expect(await codeOf(accounts.auth.changePassword(principal, { newPassword: u.email, currentPassword: u.password! }, ctxA))).toBe('password_is_email');
    await accounts.auth.changePassword(principal, { newPassword: 'another long passphrase', currentPassword: u.password! }, ctxA);

    expect(await accounts.auth.authenticateSession(a.sessionToken)).toHaveProperty('principal');
    expect(await accounts.auth.authenticateSession(b.sessionToken)).toEqual({ problem: 'invalid_credentials' });
    expect(await codeOf(accounts.auth.login({ email: u.email, password: u.password! }, ctxA))).toBe('invalid_credentials');
    expect((await accounts.auth.login({ email: u.email, password: 'another long passphrase' }, ctxA)).user.id).toBe(u.user.id);
    const { rows } = await ctx.db().query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [u.user.id]);
    expect(rows[0]!.password_hash).toMatch(/^\$argon2id\$/);
    expect(rows[0]!.password_hash).not.toContain('another long passphrase');
  });

  it('does replace a hash made with weaker parameters at the next successful sign-in', async () => {
    const accounts = setup();
    const u = await buildUser(ctx.db());
    const { hash } = await import('@node-rs/argon2');
    await ctx.db().query('UPDATE users SET password_hash = $2 WHERE id = $1', [u.user.id, await hash(u.password!, { memoryCost: 4096, timeCost: 1 })]);
    await accounts.auth.login({ email: u.email, password: u.password! }, ctxA);
    const { rows } = await ctx.db().query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [u.user.id]);
    expect(rows[0]!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect((await accounts.auth.login({ email: u.email, password: u.password! }, ctxA)).user.id).toBe(u.user.id);
  });

  it('does end the session on logout, and revoke the token when signing out with one', async () => {
    const accounts = setup();
    const u = await buildUser(ctx.db());
    const s = await accounts.auth.login({ email: u.email, password: u.password! }, ctxA);
    const sp = ((await accounts.auth.authenticateSession(s.sessionToken)) as { principal: Principal }).principal;
    await accounts.auth.logout(sp, ctxA);
    expect(await accounts.auth.authenticateSession(s.sessionToken)).toEqual({ problem: 'invalid_credentials' });

    const t = await accounts.auth.createTokenWithPassword({ email: u.email, password: u.password!, name: 'cli' }, ctxA);
    const tp = ((await accounts.auth.authenticateApiToken(t.token)) as { principal: Principal }).principal;
    await accounts.auth.logout(tp, ctxA);
    expect(await accounts.auth.authenticateApiToken(t.token)).toEqual({ problem: 'token_revoked' });
    expect((await auditOf(u.user.id)).map((e) => e.action)).toEqual(expect.arrayContaining(['user.signed_out', 'api_token.revoked']));
  });

  it('does purge ended sessions at once and used, expired or revoked credentials after 30 days', async () => {
    const clock = fakeClock(new Date('2032-06-01T00:00:00Z'));
    const accounts = setup(clock);
    const u = await buildUser(ctx.db());
    await accounts.auth.login({ email: u.email, password: u.password! }, ctxA);
    const t = await accounts.auth.createTokenWithPassword({ email: u.email, password: u.password!, name: 'old', expiresInDays: 1 }, ctxA);
    clock.advance(31 * MINUTE);
    await accounts.auth.purgeEndedCredentials();
    expect((await ctx.db().query('SELECT 1 FROM sessions WHERE user_id = $1', [u.user.id])).rows).toHaveLength(0);
    expect((await ctx.db().query('SELECT 1 FROM api_tokens WHERE id = $1', [t.id])).rows).toHaveLength(1);
    clock.advance(31 * 24 * 60 * MINUTE);
    await accounts.auth.purgeEndedCredentials();
    expect((await ctx.db().query('SELECT 1 FROM api_tokens WHERE id = $1', [t.id])).rows).toHaveLength(0);
  });
});
