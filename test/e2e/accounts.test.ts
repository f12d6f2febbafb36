// End to end: accounts through the real server (runtime + HTTP as `sealpost serve` starts it),
// on embedded PGlite and, when TEST_DATABASE_URL is set, on an empty PostgreSQL database.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { startServer, type RunningServer } from '../../src/runtime/server.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { buildUser, uniqueEmail, type BuiltUser } from '../support/accounts.ts';
import { createDatabase, databaseUrl, dropDatabase, randomHex } from '../support/postgres-admin.ts';

const targets: Array<{ name: string; env: () => Promise<Record<string, string>> }> = [{ name: 'pglite', env: async () => ({}) }];
const postgres = inject('sealpostPostgres');
const createdDatabases: string[] = [];
if (postgres) {
  targets.push({
    name: 'postgres',
    env: async () => {
      const name = `${postgres.prefix}${randomHex(8)}`;
      await createDatabase(postgres.url, name, 'template0');
      createdDatabases.push(name);
      return { DATABASE_URL: databaseUrl(postgres.url, name) };
    },
  });
}

afterAll(async () => {
  if (postgres) for (const name of createdDatabases) await dropDatabase(postgres.url, name);
});

interface Reply {
  status: number;
  headers: Headers;
  // The parsed JSON response; its shape differs per route.
  body: any;
}

/** What a request carries: a session (cookie + CSRF token), a bearer token, or nothing. */
interface Caller {
  cookie?: string;
  csrf?: string;
  bearer?: string;
  origin?: string;
}

for (const target of targets) {
  describe(`accounts over HTTP [${target.name}]`, () => {
    let dataDir: string;
    let server: RunningServer;

    const call = async (method: string, url: string, caller: Caller = {}, body?: unknown): Promise<Reply> => {
      const res = await fetch(`${server.url}${url}`, {
        method,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(caller.cookie ? { cookie: `sealpost_session=${caller.cookie}` } : {}),
          ...(caller.csrf ? { 'x-csrf-token': caller.csrf } : {}),
          ...(caller.bearer ? { authorization: `Bearer ${caller.bearer}` } : {}),
          ...(caller.origin ? { origin: caller.origin } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
    };

    /** Signs in over HTTP and returns the session as a browser would hold it. */
    const signIn = async (u: BuiltUser): Promise<Caller & { reply: Reply }> => {
      const reply = await call('POST', '/api/v1/auth/login', {}, { email: u.email, password: u.password });
      expect(reply.status).toBe(200);
      const cookie = /sealpost_session=([^;]+)/.exec(reply.headers.get('set-cookie') ?? '')?.[1];
      return { cookie: cookie!, csrf: reply.body.csrfToken as string, reply };
    };

    const tokenFor = async (u: BuiltUser, name = 'e2e'): Promise<string> => {
      const r = await call('POST', '/api/v1/auth/tokens', {}, { email: u.email, password: u.password, name });
      expect(r.status).toBe(201);
      return r.body.token as string;
    };

    beforeAll(async () => {
      dataDir = await mkdtemp(path.join(os.tmpdir(), 'sealpost-accounts-'));
      server = await startServer(loadConfig({ PORT: '0', DATA_DIR: dataDir, ...(await target.env()) }), { logger: createLogger('silent') });
    });

    afterAll(async () => {
      await server?.close();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('does sign in with a password into an HttpOnly, SameSite=Lax session cookie and report the session', async () => {
      const u = await buildUser(server.runtime.db);
      const s = await signIn(u);
      const cookie = s.reply.headers.get('set-cookie')!;
      expect(cookie).toMatch(/^sealpost_session=[A-Za-z0-9_-]{43};/);
      expect(cookie).toContain('HttpOnly');
      expect(cookie).toContain('SameSite=Lax');
      expect(cookie).toContain('Path=/');
      expect(cookie).toContain('Max-Age=43200');
      // Served over plain http here (PUBLIC_URL is http), so not Secure.
      expect(cookie).not.toContain('Secure');
      expect(s.reply.body).toEqual({ user: expect.objectContaining({ id: u.user.id, email: u.email, role: 'author', hasPassword: true }), csrfToken: s.csrf, expiresAt: expect.any(String), passwordRequired: false });
      expect(JSON.stringify(s.reply.body)).not.toMatch(/argon2|password_hash|passwordHash/);

      const session = await call('GET', '/api/v1/auth/session', s);
      expect(session.status).toBe(200);
      expect(session.body).toMatchObject({ via: 'session', csrfToken: s.csrf, user: { id: u.user.id } });
    });

    it('does refuse a wrong password with 401 and the right one of a disabled user with 403', async () => {
      const u = await buildUser(server.runtime.db);
      const wrong = await call('POST', '/api/v1/auth/login', {}, { email: u.email, password: 'definitely not it' });
      expect(wrong.status).toBe(401);
      expect(wrong.body).toEqual({ error: { code: 'invalid_credentials', message: expect.any(String) } });
      expect(wrong.headers.get('set-cookie')).toBeNull();
      const unknown = await call('POST', '/api/v1/auth/login', {}, { email: uniqueEmail('nobody'), password: 'definitely not it' });
      expect(unknown.body).toEqual(wrong.body);
      const disabled = await buildUser(server.runtime.db, { role: 'disabled' });
      const refused = await call('POST', '/api/v1/auth/login', {}, { email: disabled.email, password: disabled.password });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('account_disabled');
    });

    it('does require the CSRF token on unsafe requests made with the cookie, and not on bearer-token requests', async () => {
      const u = await buildUser(server.runtime.db);
      const s = await signIn(u);
      const missing = await call('POST', '/api/v1/tokens', { cookie: s.cookie }, { name: 'no csrf' });
      expect(missing.status).toBe(403);
      expect(missing.body.error.code).toBe('csrf_token_invalid');
      const wrong = await call('POST', '/api/v1/tokens', { cookie: s.cookie, csrf: `${s.csrf!.slice(0, -1)}x` }, { name: 'bad csrf' });
      expect(wrong.status).toBe(403);
      // Another session's token does not fit this session.
      const other = await signIn(u);
      expect((await call('POST', '/api/v1/tokens', { cookie: s.cookie, csrf: other.csrf }, { name: 'other csrf' })).status).toBe(403);
      const ok = await call('POST', '/api/v1/tokens', s, { name: 'with csrf' });
      expect(ok.status).toBe(201);
      // Safe requests need no CSRF token.
      expect((await call('GET', '/api/v1/tokens', { cookie: s.cookie })).status).toBe(200);

      const bearer = await call('POST', '/api/v1/tokens', { bearer: ok.body.token }, { name: 'via bearer' });
      expect(bearer.status).toBe(201);
      const { rows } = await server.runtime.db.query<{ name: string }>('SELECT name FROM api_tokens WHERE user_id = $1 ORDER BY created_at', [u.user.id]);
      expect(rows.map((r) => r.name)).toEqual(['with csrf', 'via bearer']);
    });

    it('does refuse unsafe requests from another origin, even with the right CSRF token', async () => {
      const u = await buildUser(server.runtime.db);
      const s = await signIn(u);
      const foreign = await call('POST', '/api/v1/tokens', { ...s, origin: 'https://evil.example' }, { name: 'x' });
      expect(foreign.status).toBe(403);
      expect(foreign.body.error.code).toBe('origin_not_allowed');
      const nullOrigin = await call('POST', '/api/v1/auth/login', { origin: 'null' }, { email: u.email, password: u.password });
      expect(nullOrigin.status).toBe(403);
      expect((await call('POST', '/api/v1/tokens', { ...s, origin: server.url }, { name: 'same origin' })).status).toBe(201);
    });

    it('does show a personal API token once, store only its hash, and refuse it once revoked', async () => {
      const u = await buildUser(server.runtime.db);
      const created = await call('POST', '/api/v1/auth/tokens', {}, { email: u.email, password: u.password, name: 'laptop', expiresInDays: 30 });
      expect(created.status).toBe(201);
      const token = created.body.token as string;
      expect(token).toMatch(/^sp_[A-Za-z0-9_-]{43}$/);
      expect(created.body).toMatchObject({ name: 'laptop', prefix: token.slice(0, 9), revokedAt: null, user: { id: u.user.id } });

      const listed = await call('GET', '/api/v1/tokens', { bearer: token });
      expect(listed.status).toBe(200);
      expect(listed.body.tokens).toHaveLength(1);
      expect(JSON.stringify(listed.body)).not.toContain(token.slice(9));

      const { rows } = await server.runtime.db.query<Record<string, unknown>>('SELECT * FROM api_tokens WHERE user_id = $1', [u.user.id]);
      const stored = JSON.stringify(rows, (_k, v: unknown) => (v instanceof Uint8Array ? `${Buffer.from(v).toString('hex')} ${Buffer.from(v).toString('base64url')}` : v));
      expect(stored).not.toContain(token.slice(9));
      const audit = JSON.stringify((await server.runtime.db.query('SELECT * FROM audit_events WHERE tenant_id = $1', [u.tenantId])).rows);
      expect(audit).not.toContain(token.slice(9));

      const revoked = await call('DELETE', `/api/v1/tokens/${created.body.id}`, { bearer: token });
      expect(revoked.status).toBe(200);
      expect(revoked.body.revokedAt).toEqual(expect.any(String));
      const after = await call('GET', '/api/v1/tokens', { bearer: token });
      expect(after.status).toBe(401);
      expect(after.body.error.code).toBe('token_revoked');
      expect((await call('GET', '/api/v1/auth/session', { bearer: 'sp_not-a-real-token' })).body.error.code).toBe('invalid_token');
    });

    it('does not let a user revoke another user\'s token', async () => {
      const a = await buildUser(server.runtime.db);
      const b = await buildUser(server.runtime.db, { tenantId: a.tenantId });
      const aToken = await tokenFor(a);
      const aId = (await call('GET', '/api/v1/tokens', { bearer: aToken })).body.tokens[0].id as string;
      const r = await call('DELETE', `/api/v1/tokens/${aId}`, { bearer: await tokenFor(b) });
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('api_token_not_found');
      expect((await call('GET', '/api/v1/auth/session', { bearer: aToken })).status).toBe(200);
    });

    it('does let only administrators manage users, and only their own organisation\'s', async () => {
      const admin = await buildUser(server.runtime.db, { role: 'administrator' });
      const author = await buildUser(server.runtime.db, { tenantId: admin.tenantId, role: 'author' });
      const outsider = await buildUser(server.runtime.db, { role: 'administrator' });
      const adminToken = await tokenFor(admin);
      const authorToken = await tokenFor(author);
      const outsiderToken = await tokenFor(outsider);

      for (const [method, url, body] of [
        ['GET', '/api/v1/users', undefined],
        ['POST', '/api/v1/users', { email: uniqueEmail(), displayName: 'X', role: 'author' }],
        ['PATCH', `/api/v1/users/${admin.user.id}`, { role: 'author' }],
        ['POST', `/api/v1/users/${admin.user.id}/sign-in-link`, undefined],
      ] as const) {
        const r = await call(method, url, { bearer: authorToken }, body);
        expect(r.status, `${method} ${url}`).toBe(403);
        expect(r.body.error.code).toBe('insufficient_role');
        const anonymous = await call(method, url, {}, body);
        expect(anonymous.status, `${method} ${url}`).toBe(401);
      }

      // An administrator of another organisation learns nothing about this one's users.
      const listed = await call('GET', '/api/v1/users', { bearer: outsiderToken });
      expect(listed.body.users.map((x: { id: string }) => x.id)).toEqual([outsider.user.id]);
      for (const [method, url, body] of [
        ['GET', `/api/v1/users/${author.user.id}`, undefined],
        ['PATCH', `/api/v1/users/${author.user.id}`, { role: 'disabled' }],
        ['POST', `/api/v1/users/${author.user.id}/sign-in-link`, undefined],
      ] as const) {
        const r = await call(method, url, { bearer: outsiderToken }, body);
        expect(r.status, `${method} ${url}`).toBe(404);
        expect(r.body.error.code).toBe('user_not_found');
      }
      const unknown = await call('GET', `/api/v1/users/${crypto.randomUUID()}`, { bearer: outsiderToken });
      expect(unknown.body).toEqual((await call('GET', `/api/v1/users/${author.user.id}`, { bearer: outsiderToken })).body);
      expect((await call('GET', `/api/v1/users/${author.user.id}`, { bearer: adminToken })).body).toMatchObject({ id: author.user.id, role: 'author' });
      const { rows } = await server.runtime.db.query<{ role: string }>('SELECT role FROM users WHERE id = $1', [author.user.id]);
      expect(rows[0]!.role).toBe('author');
    });

    it('does invite a user with a one-time link, which opens a session that sets the first password', async () => {
      const admin = await buildUser(server.runtime.db, { role: 'administrator' });
      const s = await signIn(admin);
      const email = uniqueEmail('invitee');
      const invited = await call('POST', '/api/v1/users', s, { email: email.toUpperCase(), displayName: 'Invitee', role: 'author' });
      expect(invited.status).toBe(201);
      expect(invited.body.user).toMatchObject({ email, role: 'author', hasPassword: false });
      const token = (invited.body.signInLink.url as string).split('#token=')[1]!;
      expect(invited.body.signInLink.url).toBe(`${server.runtime.config.publicUrl}/sign-in#token=${token}`);

      const redeemed = await call('POST', '/api/v1/auth/sign-in-links/redeem', {}, { token });
      expect(redeemed.status).toBe(200);
      expect(redeemed.body.passwordRequired).toBe(true);
      const cookie = /sealpost_session=([^;]+)/.exec(redeemed.headers.get('set-cookie')!)![1]!;
      const again = await call('POST', '/api/v1/auth/sign-in-links/redeem', {}, { token });
      expect(again.status).toBe(401);
      expect(again.body.error.code).toBe('sign_in_link_invalid');

      const tooShort = await call('POST', '/api/v1/auth/password', { cookie, csrf: redeemed.body.csrfToken }, { newPassword: 'short' });
      expect(tooShort.status).toBe(400);
      expect(tooShort.body.error).toMatchObject({ code: 'password_too_short', details: { field: 'newPassword' } });
      const set = await call('POST', '/api/v1/auth/password', { cookie, csrf: redeemed.body.csrfToken }, { newPassword: 'my first real passphrase' });
      expect(set.status).toBe(204);
      const login = await call('POST', '/api/v1/auth/login', {}, { email, password: 'my first real passphrase' });
      expect(login.status).toBe(200);
      expect(login.body.passwordRequired).toBe(false);
    });

    it('does sign a disabled user out everywhere at once', async () => {
      const admin = await buildUser(server.runtime.db, { role: 'administrator' });
      const u = await buildUser(server.runtime.db, { tenantId: admin.tenantId });
      const session = await signIn(u);
      const token = await tokenFor(u);
      const adminToken = await tokenFor(admin);
      const patched = await call('PATCH', `/api/v1/users/${u.user.id}`, { bearer: adminToken }, { role: 'disabled' });
      expect(patched.status).toBe(200);
      expect(patched.body.role).toBe('disabled');
      expect((await call('GET', '/api/v1/auth/session', session)).status).toBe(401);
      expect((await call('GET', '/api/v1/tokens', { bearer: token })).status).toBe(401);
      expect((await call('POST', '/api/v1/auth/login', {}, { email: u.email, password: u.password })).status).toBe(403);
      const self = await call('PATCH', `/api/v1/users/${admin.user.id}`, { bearer: adminToken }, { role: 'author' });
      expect(self.status).toBe(409);
      expect(self.body.error.code).toBe('last_administrator');
    });

    it('does end the session on logout and clear the cookie', async () => {
      const u = await buildUser(server.runtime.db);
      const s = await signIn(u);
      expect((await call('POST', '/api/v1/auth/logout', { cookie: s.cookie })).status).toBe(403);
      const out = await call('POST', '/api/v1/auth/logout', s);
      expect(out.status).toBe(204);
      expect(out.headers.get('set-cookie')).toMatch(/sealpost_session=;.*Expires=Thu, 01 Jan 1970/);
      const after = await call('GET', '/api/v1/auth/session', s);
      expect(after.status).toBe(401);
      expect(after.body.error.code).toBe('unauthenticated');
    });

    it('does rate-limit password attempts per account with 429 and Retry-After', async () => {
      const u = await buildUser(server.runtime.db);
      for (let i = 0; i < 10; i++) expect((await call('POST', '/api/v1/auth/login', {}, { email: u.email, password: `wrong guess ${i}` })).status).toBe(401);
      const limited = await call('POST', '/api/v1/auth/login', {}, { email: u.email, password: u.password });
      expect(limited.status).toBe(429);
      expect(limited.body.error.code).toBe('rate_limited');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(800);
      expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(900);
      // The token route shares the budget: it is the same password check.
      expect((await call('POST', '/api/v1/auth/tokens', {}, { email: u.email, password: u.password, name: 'x' })).status).toBe(429);
    });

    it('does validate input with clear errors', async () => {
      const missing = await call('POST', '/api/v1/auth/login', {}, { email: 'a@example.org' });
      expect(missing.status).toBe(400);
      expect(missing.body.error).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('password') });
      const admin = await buildUser(server.runtime.db, { role: 'administrator' });
      const t = await tokenFor(admin);
      const badRole = await call('POST', '/api/v1/users', { bearer: t }, { email: uniqueEmail(), displayName: 'X', role: 'owner' });
      expect(badRole.status).toBe(400);
      const badEmail = await call('POST', '/api/v1/users', { bearer: t }, { email: 'not-an-address', displayName: 'X', role: 'author' });
      expect(badEmail.body.error).toMatchObject({ code: 'invalid_email', details: { field: 'email' } });
      const empty = await call('PATCH', `/api/v1/users/${admin.user.id}`, { bearer: t }, {});
      expect(empty.status).toBe(400);
    });

    it('does describe every accounts route in the OpenAPI document', async () => {
      const doc = (await call('GET', '/api/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
      const routes = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
      expect(routes).toEqual(
        expect.arrayContaining([
          'POST /api/v1/auth/login',
          'POST /api/v1/auth/logout',
          'GET /api/v1/auth/session',
          'POST /api/v1/auth/sign-in-links/redeem',
          'POST /api/v1/auth/password',
          'POST /api/v1/auth/tokens',
          'GET /api/v1/tokens',
          'POST /api/v1/tokens',
          'DELETE /api/v1/tokens/{id}',
          'GET /api/v1/users',
          'POST /api/v1/users',
          'GET /api/v1/users/{id}',
          'PATCH /api/v1/users/{id}',
          'POST /api/v1/users/{id}/sign-in-link',
        ]),
      );
    });
  });
}
