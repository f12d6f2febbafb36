import { expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/database.ts';
import { buildUser, fakeClock, uniqueEmail } from '../../test/support/accounts.ts';
import { isAppError } from '../shared/app-error.ts';
import { createAccounts } from './accounts.ts';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (isAppError(err)) return err.code;
    throw err;
  }
  throw new Error('expected a rejection');
}

describeEachDatabase('UserService', (ctx) => {
  const setup = () => createAccounts(ctx.db(), { publicUrl: 'http://127.0.0.1:8080', clock: fakeClock() });

  it('does create a user with a lower-cased address, no password, and a one-time link, auditing both', async () => {
    const accounts = setup();
    const admin = await buildUser(ctx.db(), { role: 'administrator' });
    const email = uniqueEmail('Mixed.Case').replace('example.org', 'Example.ORG');
    const { user, signInLink } = await accounts.users.create({ type: 'user', id: admin.user.id }, { tenantId: admin.tenantId, email: `  ${email} `, displayName: ' Ada Lovelace ', role: 'author' });
    expect(user).toMatchObject({ email: email.toLowerCase(), displayName: 'Ada Lovelace', role: 'author', hasPassword: false, tenantId: admin.tenantId });
    expect(signInLink.url).toMatch(/^http:\/\/127\.0\.0\.1:8080\/sign-in#token=[A-Za-z0-9_-]{43}$/);
    const { rows } = await ctx.db().query<{ action: string; actor_id: string }>('SELECT action, actor_id FROM audit_events WHERE target_id = $1 ORDER BY chain_seq', [user.id]);
    expect(rows).toEqual([
      { action: 'user.created', actor_id: admin.user.id },
      { action: 'sign_in_link.created', actor_id: admin.user.id },
    ]);
    const links = await ctx.db().query<Record<string, unknown>>('SELECT * FROM sign_in_links WHERE user_id = $1', [user.id]);
    expect(JSON.stringify(links.rows, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64url') : v))).not.toContain(signInLink.url.split('#token=')[1]);
  });

  it('does keep email addresses unique across the installation, whatever their case', async () => {
    const accounts = setup();
    const a = await buildUser(ctx.db(), { role: 'administrator' });
    const b = await buildUser(ctx.db(), { role: 'administrator' });
    expect(await codeOf(accounts.users.create({ type: 'system' }, { tenantId: a.tenantId, email: a.email.toUpperCase(), displayName: 'Dup', role: 'author' }))).toBe('email_taken');
    expect(await codeOf(accounts.users.create({ type: 'system' }, { tenantId: b.tenantId, email: a.email, displayName: 'Dup', role: 'author' }))).toBe('email_taken');
  });

  it('does refuse bad input naming the problem, and leave nothing behind', async () => {
    const accounts = setup();
    const admin = await buildUser(ctx.db(), { role: 'administrator' });
    const actor = { type: 'system' as const };
    const base = { tenantId: admin.tenantId, email: uniqueEmail(), displayName: 'X', role: 'author' };
    expect(await codeOf(accounts.users.create(actor, { ...base, email: 'no-at-sign' }))).toBe('invalid_email');
    expect(await codeOf(accounts.users.create(actor, { ...base, email: 'a b@example.org' }))).toBe('invalid_email');
    expect(await codeOf(accounts.users.create(actor, { ...base, displayName: '   ' }))).toBe('invalid_display_name');
    expect(await codeOf(accounts.users.create(actor, { ...base, role: 'owner' }))).toBe('invalid_role');
    expect(await codeOf(accounts.users.create(actor, { ...base, role: 'disabled' }))).toBe('invalid_role');
    expect(await codeOf(accounts.users.create(actor, { ...base, tenantId: crypto.randomUUID() }))).toBe('tenant_not_found');
    expect((await ctx.db().query('SELECT 1 FROM users WHERE email = $1', [base.email])).rows).toHaveLength(0);
  });

  it('does not find, change or issue links for a user of another tenant', async () => {
    const accounts = setup();
    const mine = await buildUser(ctx.db(), { role: 'administrator' });
    const theirs = await buildUser(ctx.db());
    const actor = { type: 'user' as const, id: mine.user.id };
    expect(await codeOf(accounts.users.get(mine.tenantId, theirs.user.id))).toBe('user_not_found');
    expect(await codeOf(accounts.users.update(actor, mine.tenantId, theirs.user.id, { role: 'disabled' }))).toBe('user_not_found');
    expect(await codeOf(accounts.users.issueSignInLink(actor, mine.tenantId, theirs.user.id))).toBe('user_not_found');
    expect(await codeOf(accounts.users.get(mine.tenantId, 'not-a-uuid'))).toBe('user_not_found');
    expect((await accounts.users.list(mine.tenantId)).map((u) => u.id)).toEqual([mine.user.id]);
    const { rows } = await ctx.db().query<{ role: string }>('SELECT role FROM users WHERE id = $1', [theirs.user.id]);
    expect(rows[0]!.role).toBe('author');
  });

  it('does change role and display name and record what changed', async () => {
    const accounts = setup();
    const admin = await buildUser(ctx.db(), { role: 'administrator' });
    const u = await buildUser(ctx.db(), { tenantId: admin.tenantId, role: 'read_only' });
    const updated = await accounts.users.update({ type: 'user', id: admin.user.id }, admin.tenantId, u.user.id, { role: 'auditor', displayName: 'Renamed' });
    expect(updated).toMatchObject({ role: 'auditor', displayName: 'Renamed' });
    const { rows } = await ctx.db().query<{ details: unknown }>(`SELECT details FROM audit_events WHERE target_id = $1 AND action = 'user.updated'`, [u.user.id]);
    expect(rows.map((r) => r.details)).toEqual([{ changed: { role: { from: 'read_only', to: 'auditor' }, displayName: true } }]);
  });

  it('does keep at least one administrator, even under concurrent demotions', async () => {
    const accounts = setup();
    const a = await buildUser(ctx.db(), { role: 'administrator' });
    const b = await buildUser(ctx.db(), { tenantId: a.tenantId, role: 'administrator' });
    expect(await codeOf(accounts.users.update({ type: 'system' }, a.tenantId, a.user.id, { role: 'author' }).then(() => accounts.users.update({ type: 'system' }, a.tenantId, b.user.id, { role: 'author' })))).toBe('last_administrator');

    const c = await buildUser(ctx.db(), { role: 'administrator' });
    const d = await buildUser(ctx.db(), { tenantId: c.tenantId, role: 'administrator' });
    const results = await Promise.allSettled([
      accounts.users.update({ type: 'system' }, c.tenantId, c.user.id, { role: 'disabled' }),
      accounts.users.update({ type: 'system' }, c.tenantId, d.user.id, { role: 'disabled' }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const { rows } = await ctx.db().query(`SELECT 1 FROM users WHERE tenant_id = $1 AND role = 'administrator'`, [c.tenantId]);
    expect(rows).toHaveLength(1);
  });

  it('does end sessions, revoke tokens and void links when a user is disabled', async () => {
    const accounts = setup();
    const admin = await buildUser(ctx.db(), { role: 'administrator' });
    const u = await buildUser(ctx.db(), { tenantId: admin.tenantId });
    await accounts.auth.login({ email: u.email, password: u.password! }, {});
    const token = await accounts.auth.createTokenWithPassword({ email: u.email, password: u.password!, name: 'ci' }, {});
    const link = await accounts.users.issueSignInLink({ type: 'system' }, admin.tenantId, u.user.id);
    await accounts.users.update({ type: 'user', id: admin.user.id }, admin.tenantId, u.user.id, { role: 'disabled' });

    expect((await ctx.db().query('SELECT 1 FROM sessions WHERE user_id = $1', [u.user.id])).rows).toHaveLength(0);
    expect((await ctx.db().query('SELECT 1 FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL', [u.user.id])).rows).toHaveLength(0);
    expect(await accounts.auth.authenticateApiToken(token.token)).toEqual({ problem: 'token_revoked' });
    expect(await codeOf(accounts.auth.redeemSignInLink(link.url.split('#token=')[1]!, {}))).toBe('sign_in_link_invalid');
    expect(await codeOf(accounts.users.issueSignInLink({ type: 'system' }, admin.tenantId, u.user.id))).toBe('account_disabled');

    // Re-enabling does not bring the old credentials back.
    await accounts.users.update({ type: 'system' }, admin.tenantId, u.user.id, { role: 'author' });
    expect(await accounts.auth.authenticateApiToken(token.token)).toEqual({ problem: 'token_revoked' });
  });

  it('does bootstrap a first tenant and administrator exactly once, even when started twice at once', async () => {
    const db = await ctx.createDatabase();
    const accounts = createAccounts(db, { publicUrl: 'http://127.0.0.1:8080' });
    const input = { tenantName: 'My organisation', region: 'eea' as const, adminEmail: 'admin@localhost' };
    const results = await Promise.all([accounts.users.bootstrapFirstStart(input), accounts.users.bootstrapFirstStart(input)]);
    const created = results.filter((r) => r !== null);
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ tenant: { name: 'My organisation', region: 'eea' }, user: { email: 'admin@localhost', role: 'administrator', hasPassword: false } });
    expect(await accounts.users.bootstrapFirstStart(input)).toBeNull();
    expect((await db.query('SELECT 1 FROM tenants')).rows).toHaveLength(1);
    expect((await db.query('SELECT 1 FROM users')).rows).toHaveLength(1);
    const session = await accounts.auth.redeemSignInLink(created[0]!.signInLink.url.split('#token=')[1]!, {});
    expect(session.user.role).toBe('administrator');
  });
});
