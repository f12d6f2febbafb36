import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildUser } from '../../test/support/accounts.ts';
import { describeEachDatabase } from '../../test/support/database.ts';
import { createAccounts } from '../accounts/accounts.ts';
import { createLogger } from '../shared/logger.ts';
import { buildHttpApp } from './app.ts';

describeEachDatabase('auth plugin behind an https PUBLIC_URL', (ctx) => {
  let app: FastifyInstance;

  beforeAll(async () => {
    app = await buildHttpApp({
      logger: createLogger('silent'),
      bodyLimitBytes: 65536,
      trustProxy: false,
      publicUrl: 'https://sealpost.example',
      version: '0.0.0-test',
      readiness: [],
      accounts: createAccounts(ctx.db(), { publicUrl: 'https://sealpost.example' }),
    });
    await app.ready();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('does mark the session cookie Secure when Sealpost is served over https', async () => {
    const u = await buildUser(ctx.db());
    const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: u.email, password: u.password } });
    expect(res.statusCode).toBe(200);
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
  });

  it('does accept the PUBLIC_URL origin and refuse a look-alike one', async () => {
    const u = await buildUser(ctx.db());
    const payload = { email: u.email, password: u.password };
    const same = await app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { origin: 'https://sealpost.example', host: 'internal:8080' }, payload });
    expect(same.statusCode).toBe(200);
    for (const origin of ['https://sealpost.example.evil.test', 'http://sealpost.example', 'https://evil.test']) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { origin, host: 'internal:8080' }, payload });
      expect(res.statusCode, origin).toBe(403);
      expect(res.json()).toMatchObject({ error: { code: 'origin_not_allowed' } });
    }
  });

  it('does answer a malformed Authorization header with invalid_token instead of falling back to the cookie', async () => {
    const u = await buildUser(ctx.db());
    const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: u.email, password: u.password } });
    const cookie = /sealpost_session=([^;]+)/.exec(String(login.headers['set-cookie']))![1]!;
    const res = await app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: `sealpost_session=${cookie}`, authorization: 'Basic dXNlcjpwYXNz' } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: { code: 'invalid_token' } });
  });
});
