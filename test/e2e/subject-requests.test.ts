// End to end: data subject requests through the real server on PGlite (and PostgreSQL when
// TEST_DATABASE_URL is set), mail through a real SMTP sink: the public form and JSON intake, the
// emailed code, the administrators' queue and actions, the objection through the real consent
// service, and running requests through the real subject-rights engine: the access export's
// one-time download, routing to the customer that holds Content, erasure verified clean; and the
// operator's `sealpost dsr …` through the real binary.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/runtime/server.ts';
import { strFromU8, unzipSync } from 'fflate';
import { createTestUser, type TestUser } from '../support/api-users.ts';
import { apiClient, codeIn, e2eTargets, startE2eServer, type E2eServer } from '../support/e2e.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { sealpost } from '../support/cli.ts';

const tokenIn = (text: string) => /\/privacy\/requests\/download#([A-Za-z0-9_-]{43})/.exec(text)?.[1];
const hiddenRequestId = (html: string) => /name="requestId" value="([0-9a-f-]{36})"/.exec(html)?.[1];

for (const target of e2eTargets()) {
  describe(`subject requests over HTTP [${target}]`, () => {
    let env: E2eServer;
    let server: RunningServer;
    let admin: TestUser;
    let author: TestUser;
    let otherAdmin: TestUser;
    const api = apiClient(() => server);

    const mailTo = (address: string, since: number, match: (text: string) => boolean = () => true) =>
      env.smtp.waitFor((m) => env.smtp.messages.indexOf(m) >= since && m.to.includes(address) && match(m.text));

    /** A request made through the JSON API and confirmed with the emailed code. */
    async function requestVerified(body: Record<string, unknown>, as: TestUser | null = null): Promise<string> {
      const since = env.smtp.messages.length;
      const made = await api(as, 'POST', '/api/v1/privacy/requests', body);
      expect(made.status).toBe(202);
      const code = codeIn((await mailTo(body.email as string, since, (t) => codeIn(t) !== undefined)).text)!;
      const verified = await api(null, 'POST', `/api/v1/privacy/requests/${made.body.requestId}/verify`, { code });
      expect(verified.status).toBe(200);
      return made.body.requestId as string;
    }

    const form = (p: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${server.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });

    beforeAll(async () => {
      env = await startE2eServer(target, 'dsr');
      server = env.server;
      admin = await createTestUser(server, { email: `admin-${target}@surgery.example`, role: 'administrator', tenantName: 'Surgery' });
      author = await createTestUser(server, { email: `author-${target}@surgery.example`, role: 'author', tenantId: admin.tenantId });
      otherAdmin = await createTestUser(server, { email: `admin-${target}@bank.example`, role: 'administrator', tenantName: 'Bank' });
    });
    afterAll(async () => {
      await env?.close();
    });

    it('does take a request through the public form: code by email, confirmation, no cookies', async () => {
      const page = await fetch(`${server.url}/privacy/requests`);
      expect(page.status).toBe(200);
      expect(page.headers.get('set-cookie')).toBeNull();
      expect(await page.text()).toContain('Make a data protection request');

      const email = `pat-${target}@home.example`;
      const since = env.smtp.messages.length;
      const posted = await form('/privacy/requests', { kind: 'rectification', email, name: 'Pat', details: 'My address is 1 New Street.' });
      expect(posted.status).toBe(200);
      expect(posted.headers.get('set-cookie')).toBeNull();
      const html = await posted.text();
      expect(html).toContain('p•••@home.example');
      const requestId = hiddenRequestId(html)!;
      const code = codeIn((await mailTo(email, since, (t) => codeIn(t) !== undefined)).text)!;

      const wrong = await form('/privacy/requests/verify', { requestId, code: code === '000000' ? '111111' : '000000' });
      expect(wrong.status).toBe(403);
      expect(await wrong.text()).toContain('4 attempts left');
      const ok = await form('/privacy/requests/verify', { requestId, code });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('set-cookie')).toBeNull();
      expect(await ok.text()).toMatch(/answer by <strong>\d{4}-\d{2}-\d{2}<\/strong>/);
    });

    it('does refuse a form posted from another site and show errors in the form', async () => {
      const cross = await form('/privacy/requests', { kind: 'access', email: 'x@home.example' }, { origin: 'https://evil.example' });
      // The server refuses unsafe requests from foreign origins before any route runs.
      expect(cross.status).toBe(403);
      expect(await cross.text()).toContain('origin_not_allowed');
      const fetchedCrossSite = await form('/privacy/requests', { kind: 'access', email: 'x@home.example' }, { 'sec-fetch-site': 'cross-site' });
      expect(fetchedCrossSite.status).toBe(403);
      expect(await fetchedCrossSite.text()).toContain('can only be sent from its own page');
      const bad = await form('/privacy/requests', { kind: 'access', email: 'not an address' });
      expect(bad.status).toBe(400);
      const html = await bad.text();
      expect(html).toContain('is not a valid email address');
      expect(html).toContain('value="not an address"');
    });

    it('does validate the JSON intake and limit it per address', async () => {
      expect((await api(null, 'POST', '/api/v1/privacy/requests', { kind: 'forget-me', email: 'a@home.example' })).status).toBe(400);
      const rect = await api(null, 'POST', '/api/v1/privacy/requests', { kind: 'rectification', email: 'a@home.example' });
      expect(rect.status).toBe(400);
      expect(rect.body.error.code).toBe('details_required');
      const email = `busy-${target}@home.example`;
      for (let i = 0; i < 3; i++) expect((await api(null, 'POST', '/api/v1/privacy/requests', { kind: 'access', email })).status).toBe(202);
      const limited = await api(null, 'POST', '/api/v1/privacy/requests', { kind: 'access', email });
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    });

    it('does let an administrator open a request on someone’s behalf, see it in the queue with days left, extend it with a notice and complete it', async () => {
      const email = `sam-${target}@home.example`;
      const id = await requestVerified({ kind: 'rectification', email, details: 'Date of birth is wrong.' }, admin);
      const queue = await api(admin, 'GET', '/api/v1/privacy/requests?status=open,in_progress');
      expect(queue.status).toBe(200);
      const mine = queue.body.requests.find((r: any) => r.id === id);
      expect(mine).toMatchObject({ kind: 'rectification', email, status: 'open', openedVia: 'administrator', tenantId: admin.tenantId, overdue: false });
      expect(mine.daysLeft).toBeGreaterThanOrEqual(28);
      // Not for other organisations, and not for other roles.
      expect((await api(otherAdmin, 'GET', `/api/v1/privacy/requests/${id}`)).status).toBe(404);
      expect((await api(author, 'GET', '/api/v1/privacy/requests')).status).toBe(403);
      expect((await api(null, 'GET', '/api/v1/privacy/requests')).status).toBe(401);
      expect((await api(admin, 'GET', '/api/v1/privacy/requests?status=lost')).body.error.code).toBe('invalid_status');

      const since = env.smtp.messages.length;
      const extended = await api(admin, 'POST', `/api/v1/privacy/requests/${id}/extend`, { months: 2, reason: 'Records held on paper must be checked.' });
      expect(extended.status).toBe(200);
      expect(extended.body.extensionMonths).toBe(2);
      // Notices are durable jobs the server delivers; the verification's confirmation may come after `since` too.
      const notice = await mailTo(email, since, (t) => t.includes('Records held on paper'));
      expect(notice.text).toContain('Records held on paper must be checked.');
      expect(notice.text).toContain(extended.body.dueOn);
      expect((await api(admin, 'POST', `/api/v1/privacy/requests/${id}/extend`, { months: 1, reason: 'again' })).body.error.code).toBe('extension_not_allowed');
      expect((await api(admin, 'POST', `/api/v1/privacy/requests/${id}/extend`, { months: 3, reason: 'x' })).status).toBe(400);

      // Pausing the clock to ask the person something, then resuming it.
      const beforePause = env.smtp.messages.length;
      const paused = await api(admin, 'POST', `/api/v1/privacy/requests/${id}/pause`, { reason: 'Which date of birth is the right one?' });
      expect(paused.status).toBe(200);
      expect(paused.body).toMatchObject({ pauseReason: 'Which date of birth is the right one?', pausedOn: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) });
      expect((await mailTo(email, beforePause, (t) => t.includes('Which date of birth'))).text).toContain('paused');
      expect((await api(admin, 'POST', `/api/v1/privacy/requests/${id}/pause`, { reason: '' })).status).toBe(400);
      expect((await api(admin, 'POST', `/api/v1/privacy/requests/${id}/pause`, { reason: 'again' })).body.error.code).toBe('subject_request_paused');
      const resumed = await api(admin, 'POST', `/api/v1/privacy/requests/${id}/resume`);
      expect(resumed.status).toBe(200);
      expect(resumed.body).toMatchObject({ pausedOn: null, dueOn: extended.body.dueOn });

      expect((await api(admin, 'POST', `/api/v1/privacy/requests/${id}/run`)).body.status).toBe('in_progress');
      const done = await api(admin, 'POST', `/api/v1/privacy/requests/${id}/complete`, { note: 'Date of birth corrected.' });
      expect(done.status).toBe(200);
      expect(done.body.status).toBe('completed');
      expect(done.body.events.map((e: any) => e.event)).toEqual(expect.arrayContaining(['received', 'code_sent', 'verified', 'extended', 'paused', 'resumed', 'run_started', 'completed']));
    });

    it('does take an objection to marketing at once, through the real consent service', async () => {
      const email = `obi-${target}@home.example`;
      await server.runtime.consent.preferences.update(email, { marketing: true }, { via: 'double_opt_in' }, { type: 'system' });
      expect(await server.runtime.consent.preferences.maySend(email, 'marketing')).toBe(true);
      const id = await requestVerified({ kind: 'objection_to_marketing', email });
      const shown = await server.runtime.subjectRequests.service.get({ operator: true }, id);
      expect(shown.status).toBe('completed');
      expect(await server.runtime.consent.preferences.maySend(email, 'marketing')).toBe(false);
      const record = await server.runtime.consent.preferences.get(email);
      expect(record.history.at(-1)).toMatchObject({ kind: 'marketing', to: 'objected', via: 'subject_request', requestId: id });
    });

    it('does link a duplicate to the open request and tell the requester', async () => {
      const email = `dup-${target}@home.example`;
      const first = await requestVerified({ kind: 'erasure', email });
      const since = env.smtp.messages.length;
      const made = await api(null, 'POST', '/api/v1/privacy/requests', { kind: 'erasure', email });
      const code = codeIn((await mailTo(email, since, (t) => codeIn(t) !== undefined)).text)!;
      const verified = await api(null, 'POST', `/api/v1/privacy/requests/${made.body.requestId}/verify`, { code });
      expect(verified.body).toMatchObject({ status: 'linked', duplicateOf: first });
      expect((await mailTo(email, since, (t) => t.includes('already made a request'))).text).toContain(first);
    });

    it('does download an access export once through the emailed link, then answer 410 and keep nothing readable', async () => {
      const email = `ann-${target}@home.example`;
      const id = await requestVerified({ kind: 'access', email });
      const since = env.smtp.messages.length;
      const ran = await server.runtime.subjectRequests.service.run(id, { type: 'operator', id: 'cli:test' }, { operator: true });
      expect(ran.status).toBe('completed');
      const link = (await mailTo(email, since, (t) => tokenIn(t) !== undefined)).text;
      const token = tokenIn(link)!;
      expect(link).toContain(`${server.url}/privacy/requests/download#`);
      const [stored] = await server.runtime.subjectRequests.vault.state(id);

      const page = await fetch(`${server.url}/privacy/requests/download`);
      expect(await page.text()).toContain('/privacy/requests/download.js');
      const first = await form('/privacy/requests/download', { token });
      expect(first.status).toBe(200);
      expect(first.headers.get('content-type')).toBe('application/zip');
      const files = unzipSync(new Uint8Array(await first.arrayBuffer()));
      expect(Object.keys(files).some((f) => /readme/i.test(f))).toBe(true);
      expect(JSON.stringify(Object.values(files).map((f) => strFromU8(f)))).toContain(email);

      const again = await form('/privacy/requests/download', { token });
      expect(again.status).toBe(410);
      const json = await api(null, 'POST', '/api/v1/privacy/requests/download', { token });
      expect(json.status).toBe(410);
      expect(json.body.error.code).toBe('export_gone');
      expect((await api(null, 'POST', '/api/v1/privacy/requests/download', { token: 'A'.repeat(43) })).status).toBe(404);
      // Nothing left to read: no key, no blob.
      expect(await server.runtime.blobs.exists(stored!.blobKey)).toBe(false);
      expect((await server.runtime.subjectRequests.vault.state(id))[0]).toMatchObject({ hasKey: false });
    });
    it('does route a request about Content a business customer holds to it, tell its administrators, and tell the requester who the controller is', async () => {
      const email = `cli-${target}@partner.example`;
      const sent = await api(author, 'POST', '/api/v1/messages', { to: [email], subject: 'Your test results', text: 'Please call us.' });
      expect(sent.status).toBe(201);
      const id = await requestVerified({ kind: 'access', email });
      const since = env.smtp.messages.length;
      const ran = await server.runtime.subjectRequests.service.run(id, { type: 'operator', id: 'cli:test' }, { operator: true });
      expect(ran.status).toBe('routed_to_customer');
      expect(ran.routings).toEqual([expect.objectContaining({ tenantId: admin.tenantId, tenantName: 'Surgery', notified: 1 })]);
      expect((await mailTo(admin.email, since, (t) => t.includes(email))).text).toContain('Surgery is the controller');
      expect((await mailTo(email, since, (t) => t.includes('controller'))).text).toContain('Surgery');
      // The customer's administrators see it in their queue (read-only); others do not.
      const queue = await api(admin, 'GET', '/api/v1/privacy/requests');
      expect(queue.body.requests.map((r: any) => r.id)).toContain(id);
      expect((await api(admin, 'POST', `/api/v1/privacy/requests/${id}/reject`, { reason: 'no' })).body.error.code).toBe('subject_request_routed');
      expect((await api(otherAdmin, 'GET', '/api/v1/privacy/requests')).body.requests.map((r: any) => r.id)).not.toContain(id);
    });

    it('does erase a customer’s Content about the person only on that customer’s instruction', async () => {
      const email = `gone-${target}@partner.example`;
      const sent = await api(author, 'POST', '/api/v1/messages', { to: [email], subject: 'Your appointment', text: 'See you on Monday.' });
      expect(sent.status).toBe(201);
      const envelope = async () =>
        (await server.runtime.db.query<{ shredded_at: Date | null }>('SELECT o.shredded_at FROM messages m JOIN sealed_objects o ON o.id = m.envelope_object_id WHERE m.id = $1', [sent.body.id])).rows[0]!.shredded_at;
      const id = await requestVerified({ kind: 'erasure', email });
      const ran = await server.runtime.subjectRequests.service.run(id, { type: 'operator', id: 'cli:test' }, { operator: true });
      expect(ran.status).toBe('routed_to_customer');
      // Routed: the customer is controller, so Sealpost has not touched its Content.
      expect(await envelope()).toBeNull();
      expect((await api(otherAdmin, 'POST', `/api/v1/privacy/requests/${id}/instruct-erasure`)).status).toBe(404);
      expect((await api(author, 'POST', `/api/v1/privacy/requests/${id}/instruct-erasure`)).status).toBe(403);
      const done = await api(admin, 'POST', `/api/v1/privacy/requests/${id}/instruct-erasure`);
      expect(done.status).toBe(200);
      expect(done.body.events.map((e: { event: string }) => e.event)).toContain('customer_erasure_done');
      expect(await envelope()).not.toBeNull();
      const listed = await api(author, 'GET', '/api/v1/messages');
      expect(listed.body.messages.find((m: { id: string }) => m.id === sent.body.id)).toMatchObject({ contentErased: true });
      // Only erasures can be carried out this way.
      const access = await requestVerified({ kind: 'access', email: `acc-${target}@partner.example` });
      expect((await api(admin, 'POST', `/api/v1/privacy/requests/${access}/instruct-erasure`)).status).toBe(404);
    });

    it('does restrict processing through the engine, and lift it with a second request', async () => {
      const email = `res-${target}@home.example`;
      const restrictedRows = async () => (await server.runtime.db.query('SELECT 1 FROM subject_restrictions WHERE email = $1', [email])).rows.length;
      const id = await requestVerified({ kind: 'restriction', email });
      const since = env.smtp.messages.length;
      const ran = await server.runtime.subjectRequests.service.run(id, { type: 'operator', id: 'cli:test' }, { operator: true });
      expect(ran.status).toBe('completed');
      expect(ran.events.map((e) => e.event)).toContain('restricted');
      expect(await restrictedRows()).toBe(1);
      expect((await mailTo(email, since, (t) => t.includes('completed'))).text).toContain('restriction of the processing');
      const lift = await requestVerified({ kind: 'restriction', email, lift: true });
      expect((await server.runtime.subjectRequests.service.run(lift, { type: 'operator', id: 'cli:test' }, { operator: true })).events.map((e) => e.event)).toContain('restriction_lifted');
      expect(await restrictedRows()).toBe(0);
    });

    it('does run an erasure through the engine and complete it only once the verification pass is clean', async () => {
      const email = `era-${target}@home.example`;
      await server.runtime.consent.preferences.objectToMarketing(email, { via: 'administrator' });
      const id = await requestVerified({ kind: 'erasure', email });
      const ran = await server.runtime.subjectRequests.service.run(id, { type: 'operator', id: 'cli:test' }, { operator: true });
      expect(ran.status).toBe('completed');
      expect(ran.result).toMatchObject({ clean: true, remaining: [] });
      expect(ran.events.map((e) => e.event)).toContain('erased');
      const located = await server.runtime.subjectRequests.service.get({ operator: true }, id);
      expect(located.status).toBe('completed');
    });
  });
}

describe('sealpost dsr (CLI)', () => {
  let dataDir: string;
  let smtp: SmtpSink;
  let env: Record<string, string>;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'sealpost-dsr-cli-'));
    smtp = await startSmtpSink();
    env = { DATA_DIR: dataDir, SMTP_URL: smtp.url, MAIL_FROM: 'sealpost@example.test', PUBLIC_URL: 'http://127.0.0.1:9' };
  });
  afterAll(async () => {
    await smtp?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('does open, verify, list, extend and export an access request, and refuse bad input clearly', async () => {
    const email = 'rowan@home.example';
    const opened = await sealpost(['dsr', 'open', '--kind', 'access', '--email', email, '--name', 'Rowan', '--json'], env);
    expect(opened.stderr).toBe('');
    expect(opened.code).toBe(0);
    const { requestId } = JSON.parse(opened.stdout) as { requestId: string };
    const code = codeIn((await smtp.waitFor((m) => m.to.includes(email) && codeIn(m.text) !== undefined)).text)!;

    const bad = await sealpost(['dsr', 'verify', requestId, code === '000000' ? '111111' : '000000'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/code_wrong.*4 attempts left/);
    const verified = await sealpost(['dsr', 'verify', requestId, code, '--json'], env);
    expect(verified.code).toBe(0);
    const dueOn = (JSON.parse(verified.stdout) as { dueOn: string }).dueOn;

    const list = await sealpost(['dsr', 'list'], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(requestId);
    expect(list.stdout).toMatch(new RegExp(`due ${dueOn} \\(\\d+ days left\\)`));

    const before = smtp.messages.length;
    const extended = await sealpost(['dsr', 'extend', requestId, '--months', '1', '--reason', 'Archive search needed.', '--json'], env);
    expect(extended.code).toBe(0);
    expect(JSON.parse(extended.stdout)).toMatchObject({ extensionMonths: 1, extensionReason: 'Archive search needed.' });
    // The CLI queues the notice; with no server running, `sealpost jobs run` delivers it.
    const delivered = await sealpost(['jobs', 'run'], env);
    expect(delivered.code).toBe(0);
    expect(delivered.stdout).toMatch(/^Ran [1-9]\d* job attempts?; 0 queued for later/);
    expect((await smtp.waitFor((m) => smtp.messages.indexOf(m) >= before && m.to.includes(email) && m.text.includes('Archive search needed.'))).text).toContain('Archive search needed.');
    const tooMany = await sealpost(['dsr', 'extend', requestId, '--months', '3', '--reason', 'x'], env);
    expect(tooMany.code).toBe(1);
    expect(tooMany.stderr).toMatch(/invalid_months/);

    const out = path.join(dataDir, 'rowan.zip');
    const exported = await sealpost(['dsr', 'export', requestId, '--out', out], env);
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    const zip = await readFile(out);
    expect(zip.subarray(0, 2).toString()).toBe('PK');
    expect(Object.keys(unzipSync(new Uint8Array(zip))).some((f) => /readme/i.test(f))).toBe(true);

    const shown = await sealpost(['dsr', 'show', requestId], env);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/status\s+completed/);
    expect(shown.stdout).toContain('exported_to_operator');
    expect(shown.stdout).toContain('operator cli:');

    const wrongKind = await sealpost(['dsr', 'open', '--kind', 'forget', '--email', email], env);
    expect(wrongKind.code).toBe(1);
    expect(wrongKind.stderr).toMatch(/forget/);
    // Every command starts the runtime (embedded database and migrations): give ten of them room.
  }, 300_000);
});
