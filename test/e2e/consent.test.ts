// End to end: consent through the real server and a real SMTP sink, on PGlite and (with
// TEST_DATABASE_URL) PostgreSQL — sub-processor subscriptions with double opt-in, alerts with
// one-click unsubscribe (RFC 8058) and their absence from strictly necessary email, the user's
// preferences API, and the cookie policy under DNT / GPC with real HTTP requests.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fastifyCookie from '@fastify/cookie';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COOKIES, declareCookie, installCookiePolicy } from '../../src/http/cookie-policy.ts';
import type { RunningServer } from '../../src/runtime/server.ts';
import { createTestUser, type TestUser } from '../support/api-users.ts';
import { apiClient, e2eTargets, recipientClient, startE2eServer, type E2eServer } from '../support/e2e.ts';
import type { ReceivedMail } from '../support/smtp-sink.ts';
import { sealpost as runSealpost } from '../support/cli.ts';

const operator = { type: 'operator' as const, id: 'cli:dpo' };
const confirmTokenIn = (text: string) => /\/c\/([A-Za-z0-9_-]{43})/.exec(text)?.[1];
const unsubscribeTokenIn = (header: string) => /<https?:\/\/[^>]*\/u\/([A-Za-z0-9_-]{43})>/.exec(header)?.[1];

for (const target of e2eTargets()) {
  describe(`consent over HTTP [${target}]`, () => {
    let env: E2eServer;
    let server: RunningServer;
    let author: TestUser;
    const api = apiClient(() => server);
    const recipient = recipientClient(() => env);
    const form = (p: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${server.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
    const mailTo = (address: string, since: number, match: (m: ReceivedMail) => boolean = () => true) =>
      env.smtp.waitFor((m) => env.smtp.messages.indexOf(m) >= since && m.to.includes(address) && match(m));
    const jobsSettled = async () => {
      for (let i = 0; i < 100; i++) {
        const { rows } = await server.runtime.db.query<{ n: string }>(`SELECT count(*) AS n FROM jobs WHERE kind LIKE 'privacy.%' AND status IN ('queued', 'running') AND run_at <= now()`);
        if (rows[0]!.n === '0') return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('jobs did not settle');
    };

    beforeAll(async () => {
      env = await startE2eServer(target, 'consent');
      server = env.server;
      author = await createTestUser(server, { email: `author-${target}@clinic.example`, role: 'author', tenantName: 'Clinic' });
    });
    afterAll(async () => {
      await env?.close();
    });

    it('does subscribe with double opt-in, alert with the planned date and a one-click unsubscribe that needs no login', async () => {
      const reader = `reader-${target}@watchers.example`;
      const page = await (await fetch(`${server.url}/subprocessors`)).text();
      expect(page).toContain('action="/subprocessors/subscribe"');

      let since = env.smtp.messages.length;
      const asked = await api(null, 'POST', '/api/v1/privacy/subprocessors/subscriptions', { email: reader });
      expect(asked.status).toBe(202);
      const confirmation = await mailTo(reader, since);
      // Strictly necessary to honour the request: nothing to unsubscribe from.
      expect(confirmation.headers['list-unsubscribe']).toBeUndefined();
      expect(confirmation.headers['list-unsubscribe-post']).toBeUndefined();
      const token = confirmTokenIn(confirmation.text)!;
      expect(token).toBeDefined();

      // Following the link (as a mail scanner would) confirms nothing.
      const shown = await fetch(`${server.url}/c/${token}`);
      expect(shown.status).toBe(200);
      expect(await shown.text()).toContain('method="post"');
      expect(await server.runtime.consent.preferences.maySend(reader, 'subprocessor_changes')).toBe(false);
      const confirmed = await fetch(`${server.url}/c/${token}`, { method: 'POST' });
      expect(confirmed.status).toBe(200);
      expect(await server.runtime.consent.preferences.maySend(reader, 'subprocessor_changes')).toBe(true);

      // Asking again gives the same answer as for a new address, and reveals nothing.
      const again = await api(null, 'POST', '/api/v1/privacy/subprocessors/subscriptions', { email: reader });
      const fresh = await api(null, 'POST', '/api/v1/privacy/subprocessors/subscriptions', { email: `nobody-${target}@watchers.example` });
      expect([again.status, again.body]).toEqual([fresh.status, fresh.body]);

      // A planned change: the alert says when it takes effect and carries RFC 8058 headers.
      const effective = new Date(Date.now() + 45 * 86_400_000);
      since = env.smtp.messages.length;
      await server.runtime.privacy.register.addSubprocessor(operator, { key: `mailhost_${target}`, name: `Mail Host ${target} Ltd`, purpose: 'Outbound email relay.', effectiveFrom: effective });
      const alert = await mailTo(reader, since, (m) => m.headers.subject?.includes('sub-processors') === true);
      expect(alert.headers.subject).toContain(`effective ${effective.toISOString().slice(0, 10)}`);
      expect(alert.text).toContain(`Mail Host ${target} Ltd will be engaged from ${effective.toISOString().slice(0, 10)}`);
      expect(alert.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
      const unsubscribe = unsubscribeTokenIn(alert.headers['list-unsubscribe']!)!;
      expect(unsubscribe).toBeDefined();
      expect(alert.headers['list-unsubscribe']).toContain(`${server.url}/u/${unsubscribe}`);

      // GET shows a button and changes nothing; POST without the one-click body is refused.
      const get = await fetch(`${server.url}/u/${unsubscribe}`);
      expect(get.status).toBe(200);
      expect(get.headers.get('set-cookie')).toBeNull();
      expect(await get.text()).toContain('name="List-Unsubscribe" value="One-Click"');
      expect(await server.runtime.consent.preferences.maySend(reader, 'subprocessor_changes')).toBe(true);
      expect((await form(`/u/${unsubscribe}`, 'foo=bar')).status).toBe(400);
      expect(await server.runtime.consent.preferences.maySend(reader, 'subprocessor_changes')).toBe(true);

      // As a mail provider does it: a bare POST, no cookies, no Origin, no login.
      const post = await form(`/u/${unsubscribe}`, 'List-Unsubscribe=One-Click');
      expect(post.status).toBe(200);
      expect(post.headers.get('set-cookie')).toBeNull();
      expect(await server.runtime.consent.preferences.maySend(reader, 'subprocessor_changes')).toBe(false);
      const history = (await server.runtime.consent.preferences.get(reader)).history;
      expect(history.map((h) => [h.from, h.to, h.via])).toEqual([
        ['unset', 'granted', 'double_opt_in'],
        ['granted', 'withdrawn', 'unsubscribe_link'],
      ]);
      expect(history.every((h) => /^[0-9a-f]{16}$/.test(h.noticeVersion ?? ''))).toBe(true);

      // No alert about the next change.
      since = env.smtp.messages.length;
      await server.runtime.privacy.register.removeSubprocessor(operator, `mailhost_${target}`, new Date(Date.now() + 90 * 86_400_000));
      await jobsSettled();
      expect(env.smtp.messages.slice(since).filter((m) => m.to.includes(reader))).toEqual([]);
      expect((await form('/u/' + 'A'.repeat(43), 'List-Unsubscribe=One-Click')).status).toBe(404);
    });

    it('does accept the subscribe form, refuse a bad address, and rate-limit one address', async () => {
      const ok = await form('/subprocessors/subscribe', `email=${encodeURIComponent(`form-${target}@watchers.example`)}`);
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('Check your inbox');
      expect((await form('/subprocessors/subscribe', 'email=not-an-address')).status).toBe(400);
      expect(await api(null, 'POST', '/api/v1/privacy/subprocessors/subscriptions', { email: 'nope' })).toMatchObject({ status: 400, body: { error: { code: 'invalid_address' } } });
      const flooded = `flood-${target}@watchers.example`;
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await api(null, 'POST', '/api/v1/privacy/subprocessors/subscriptions', { email: flooded })).status);
      expect(statuses).toEqual([202, 202, 202, 429]);
      const { rows } = await server.runtime.db.query(`SELECT 1 FROM consent_confirmations WHERE email = $1`, [flooded]);
      expect(rows).toHaveLength(3);
    });

    it('does send strictly necessary email (notification, one-time code) without unsubscribe headers', async () => {
      const bob = `bob-${target}@partner.example`;
      const since = env.smtp.messages.length;
      expect((await api(author, 'POST', '/api/v1/messages', { to: [bob], subject: 'Results', text: 'x' })).status).toBe(201);
      const note = await mailTo(bob, since);
      const link = /\/open#([A-Za-z0-9_-]{43})/.exec(note.text)![1]!;
      await recipient.verify(bob, link);
      const mails = env.smtp.messages.slice(since).filter((m) => m.to.includes(bob));
      expect(mails.length).toBeGreaterThanOrEqual(2);
      for (const m of mails) {
        expect(m.headers['list-unsubscribe']).toBeUndefined();
        expect(m.headers['list-unsubscribe-post']).toBeUndefined();
      }
    });

    it('does let a signed-in user read and change their preferences, with history and notice version', async () => {
      expect((await api(null, 'GET', '/api/v1/me/preferences')).status).toBe(401);
      const before = await api(author, 'GET', '/api/v1/me/preferences');
      expect(before.status).toBe(200);
      expect(before.body).toMatchObject({ email: author.email, restricted: false, preferences: { marketing: { state: 'unset', subscribed: false } } });
      expect(before.body.noticeVersion).toMatch(/^[0-9a-f]{16}$/);

      const on = await api(author, 'PUT', '/api/v1/me/preferences', { marketing: true, subprocessorChanges: true });
      expect(on.status).toBe(200);
      expect(on.body.preferences).toMatchObject({ marketing: { state: 'granted', subscribed: true, via: 'account' }, subprocessorChanges: { state: 'granted' }, productUpdates: { state: 'unset' } });
      const off = await api(author, 'PUT', '/api/v1/me/preferences', { marketing: false });
      expect(off.body.preferences.marketing).toMatchObject({ state: 'objected', subscribed: false });
      expect(off.body.history.map((h: any) => [h.kind, h.from, h.to])).toEqual([
        ['marketing', 'unset', 'granted'],
        ['subprocessorChanges', 'unset', 'granted'],
        ['marketing', 'granted', 'objected'],
      ]);
      expect(off.body.history[2].noticeVersion).toBe(before.body.noticeVersion);
      expect(await api(author, 'PUT', '/api/v1/me/preferences', { newsletter: true })).toMatchObject({ status: 400 });
      expect(await api(author, 'PUT', '/api/v1/me/preferences', {})).toMatchObject({ status: 400 });

      // Restricted: stored, but nothing optional is sent.
      await server.runtime.db.query(`INSERT INTO subject_restrictions (email, restricted_at) VALUES ($1, now())`, [author.email]);
      const restricted = await api(author, 'GET', '/api/v1/me/preferences');
      expect(restricted.body).toMatchObject({ restricted: true, preferences: { subprocessorChanges: { state: 'granted', subscribed: false } } });
      await server.runtime.db.query(`DELETE FROM subject_restrictions WHERE email = $1`, [author.email]);
    });

    it('does keep the strictly necessary session cookie under DNT and GPC, and publishes gpc.json', async () => {
      for (const headers of [{}, { dnt: '1' }, { 'sec-gpc': '1' }] as Record<string, string>[]) {
        const res = await fetch(`${server.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ email: author.email, password: author.password }) });
        expect(res.status).toBe(200);
        expect(res.headers.get('set-cookie')).toMatch(/^sealpost_session=/);
      }
      const gpc = await fetch(`${server.url}/.well-known/gpc.json`);
      expect(gpc.status).toBe(200);
      expect(gpc.headers.get('content-type')).toMatch(/^application\/json/);
      expect(gpc.headers.get('set-cookie')).toBeNull();
      expect(await gpc.json()).toEqual({ gpc: true, lastUpdate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) });
    });
  });
}

// The mechanism itself, over real HTTP: Sealpost has no non-essential cookie today (docs/privacy.md),
// so a test-only route sets one declared non-essential cookie and one undeclared cookie.
describe('cookie policy under DNT and GPC', () => {
  const app = Fastify();
  let url: string;

  beforeAll(async () => {
    declareCookie('test_theme', { essential: false, purpose: 'test only: remembers a colour theme' });
    await app.register(fastifyCookie);
    installCookiePolicy(app);
    app.get('/set', async (_req, reply) => {
      reply.setCookie('sealpost_session', 's', { path: '/' });
      reply.setCookie('test_theme', 'dark', { path: '/' });
      reply.setCookie('test_undeclared', 'x', { path: '/' });
      return { ok: true };
    });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app.close();
    delete COOKIES.test_theme;
  });

  const names = async (headers: Record<string, string>) => {
    const res = await fetch(`${url}/set`, { headers });
    expect(res.status).toBe(200);
    return res.headers.getSetCookie().map((c) => c.split('=')[0]).sort();
  };

  it('does set every cookie when the browser sends neither signal (or DNT: 0)', async () => {
    expect(await names({})).toEqual(['sealpost_session', 'test_theme', 'test_undeclared']);
    expect(await names({ dnt: '0' })).toEqual(['sealpost_session', 'test_theme', 'test_undeclared']);
  });

  it('does drop non-essential and undeclared cookies under DNT: 1 and under Sec-GPC: 1', async () => {
    expect(await names({ dnt: '1' })).toEqual(['sealpost_session']);
    expect(await names({ 'sec-gpc': '1' })).toEqual(['sealpost_session']);
    expect(await names({ dnt: '1', 'sec-gpc': '1' })).toEqual(['sealpost_session']);
  });
});

describe('sealpost privacy preferences|subscribers (CLI)', () => {
  let env: Record<string, string>;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'sealpost-consent-cli-'));
    env = { DATA_DIR: dataDir };
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('does set and show preferences with history, list subscribers, and refuse to override an objection', async () => {
    const set = await sealpost(['privacy', 'preferences', 'set', '--email', 'Pat@Example.org', '--subprocessor-changes', 'on', '--marketing', 'off', '--json'], env);
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout).preferences).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'subprocessor_changes', state: 'granted' }), expect.objectContaining({ kind: 'marketing', state: 'objected' })]),
    );

    const show = await sealpost(['privacy', 'preferences', 'show', '--email', 'pat@example.org'], env);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/subprocessor_changes\s+granted/);
    expect(show.stdout).toMatch(/marketing\s+unset → objected via administrator by cli:/);

    const override = await sealpost(['privacy', 'preferences', 'set', '--email', 'pat@example.org', '--marketing', 'on'], env);
    expect(override.code).toBe(1);
    expect(override.stderr).toMatch(/marketing_objection_in_force/);
    const bad = await sealpost(['privacy', 'preferences', 'set', '--email', 'pat@example.org', '--marketing', 'maybe'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--marketing: must be on or off/);
    expect((await sealpost(['privacy', 'preferences', 'show', '--email', 'not-an-address'], env)).stderr).toMatch(/invalid_address/);

    const list = await sealpost(['privacy', 'subscribers', 'list', '--json'], env);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toMatchObject({ kind: 'subprocessor_changes', subscribers: [{ email: 'pat@example.org', via: 'administrator' }], pendingConfirmations: 0 });
    // Each command starts a runtime (and a fresh embedded database migrates on the first): slow on a busy machine.
  }, 600_000);
});

/** The consent commands, with the longer limit this file has always used. */
const sealpost = (args: string[], env: Record<string, string>) => runSealpost(args, env, { timeoutMs: 400_000 });
