// End to end: Prevent through the real HTTP server — checking a draft, the tenant's policy
// enforced by the send API in each mode, feedback, history import (JSONL and mbox) and the
// dashboard — on PGlite, and PostgreSQL when TEST_DATABASE_URL is set.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/runtime/server.ts';
import { createTestUser, type TestUser } from '../support/api-users.ts';
import { apiClient, e2eTargets, startE2eServer, type E2eServer } from '../support/e2e.ts';

const CARD = 'Hi Bob,\n\nthe card is 4111 1111 1111 1111.\n';

for (const target of e2eTargets()) {
  describe(`Prevent over HTTP [${target}]`, () => {
    let env: E2eServer;
    let server: RunningServer;
    let admin: TestUser;
    let author: TestUser;
    const api = apiClient(() => server);

    const importRaw = async (user: TestUser, contentType: string, body: string) => {
      const res = await fetch(`${server.url}/api/v1/prevent/import`, { method: 'POST', headers: { authorization: `Bearer ${user.token}`, 'content-type': contentType }, body });
      return { status: res.status, body: (await res.json()) as any };
    };

    beforeAll(async () => {
      env = await startE2eServer(target, 'prevent');
      server = env.server;
      admin = await createTestUser(server, { email: `admin-${target}@acme.example`, role: 'administrator' });
      author = await createTestUser(server, { email: `author-${target}@acme.example`, role: 'author', tenantId: admin.tenantId });
    });
    afterAll(async () => {
      await env?.close();
    });

    it('does check a draft and explain each finding with an id, severity, mode and fixes', async () => {
      const res = await api(author, 'POST', '/api/v1/prevent/check', { to: ['Bob <bob@partner.example>'], subject: 'Card', text: CARD, label: 'internal' });
      expect(res.status).toBe(200);
      const card = res.body.warnings.find((w: any) => w.check === 'sensitive_content');
      expect(card).toMatchObject({ severity: expect.any(String), mode: 'nudge', recipients: expect.any(Array), reason: expect.stringMatching(/card/i) });
      expect(card.id).toMatch(/^[0-9a-f]{64}$/);
      // The full number is never echoed back.
      expect(JSON.stringify(res.body)).not.toContain('4111 1111 1111 1111');
      expect(JSON.stringify(res.body)).not.toContain('4111111111111111');
    });

    it('does refuse bad drafts with errors that name the field', async () => {
      expect(await api(author, 'POST', '/api/v1/prevent/check', { to: ['not an address'], subject: 's', text: 't' })).toMatchObject({ status: 400, body: { error: { code: 'invalid_address' } } });
      expect(await api(author, 'POST', '/api/v1/prevent/check', { to: [], subject: 's', text: 't' })).toMatchObject({ status: 400, body: { error: { code: 'no_recipients' } } });
      expect(await api(author, 'POST', '/api/v1/prevent/check', { to: ['a@b.example'], subject: 's', text: 't', label: 'nope' })).toMatchObject({ status: 400, body: { error: { code: 'unknown_label' } } });
      expect(await api(null, 'POST', '/api/v1/prevent/check', { to: ['a@b.example'], subject: 's', text: 't' })).toMatchObject({ status: 401 });
    });

    it('does enforce each policy mode through the send API', async () => {
      const send = (prevent?: unknown) => api(author, 'POST', '/api/v1/messages', { to: ['bob@partner.example'], subject: 'Card details', text: CARD, ...(prevent ? { prevent } : {}) });

      // nudge (the default): the send goes through; the decision is recorded.
      expect((await send()).status).toBe(201);

      // block: refused with the findings, until acknowledged with a justification.
      expect((await api(admin, 'PUT', '/api/v1/prevent/settings', { policy: { defaultMode: 'nudge', checks: { sensitive_content: 'block' } } })).status).toBe(200);
      const blocked = await send();
      expect(blocked).toMatchObject({ status: 409, body: { error: { code: 'prevent_blocked' } } });
      const finding = blocked.body.error.details.warnings.find((w: any) => w.check === 'sensitive_content');
      expect(finding).toMatchObject({ mode: 'block' });
      expect((await send({ acknowledged: [finding.id] })).status).toBe(409);
      expect((await send({ acknowledged: [finding.id], justification: 'The customer asked for it' })).status).toBe(201);
      expect(await send({ acknowledged: ['nope'] })).toMatchObject({ status: 400, body: { error: { code: 'invalid_prevent_decision' } } });

      // monitor: nothing shown, sends go through.
      await api(admin, 'PUT', '/api/v1/prevent/settings', { policy: { defaultMode: 'monitor', checks: {} } });
      expect((await api(author, 'POST', '/api/v1/prevent/check', { to: ['bob@partner.example'], subject: 's', text: CARD })).body.warnings).toEqual([]);
      expect((await send()).status).toBe(201);

      // off: nothing checked.
      await api(admin, 'PUT', '/api/v1/prevent/settings', { policy: { defaultMode: 'off', checks: {} } });
      expect((await send()).status).toBe(201);

      const dash = await api(admin, 'GET', '/api/v1/prevent/dashboard');
      expect(dash.status).toBe(200);
      expect(dash.body.totals.sensitive_content).toMatchObject({ sent_unreviewed: 1, blocked: 2, justified: 1, logged: 1 });
      await api(admin, 'PUT', '/api/v1/prevent/settings', { policy: { defaultMode: 'nudge', checks: {} } });
    });

    it('does keep settings and the dashboard to administrators (and auditors for the dashboard)', async () => {
      expect((await api(author, 'GET', '/api/v1/prevent/settings')).status).toBe(403);
      expect((await api(author, 'PUT', '/api/v1/prevent/settings', { policy: { defaultMode: 'off', checks: {} } })).status).toBe(403);
      expect((await api(author, 'GET', '/api/v1/prevent/dashboard')).status).toBe(403);
      expect(await api(admin, 'PUT', '/api/v1/prevent/settings', { policy: { defaultMode: 'sometimes' } })).toMatchObject({ status: 400, body: { error: { code: 'invalid_prevent_policy' } } });
    });

    it('does import history from JSONL and mbox, and learns from it', async () => {
      const now = Date.now();
      const lines = Array.from({ length: 30 }, (_, i) =>
        JSON.stringify({ id: `h${i}`, date: new Date(now - (30 - i) * 86_400_000).toISOString(), from: author.email, to: ['john.smith@client.example'], subject: 'Quarterly report' }),
      );
      expect(await importRaw(admin, 'application/x-ndjson', lines.join('\n'))).toEqual({ status: 200, body: { imported: 30, skipped: 0 } });
      const mbox = `From x Mon Jan  1 00:00:00 2026\nFrom: ${author.email}\nTo: John Smith <john.smith@client.example>\nDate: ${new Date(now - 3600_000).toUTCString()}\nSubject: Follow-up\n\nbody\n`;
      expect(await importRaw(admin, 'application/mbox', mbox)).toEqual({ status: 200, body: { imported: 1, skipped: 0 } });
      expect((await importRaw(admin, 'application/x-ndjson', '{"from": "x"}')).body.error).toMatchObject({ code: 'invalid_history', message: expect.stringMatching(/line 1/) });
      expect((await importRaw(author, 'application/x-ndjson', lines[0]!)).status).toBe(403);

      // Now the habitual contact passes, and a near miss of it is called out.
      const res = await api(author, 'POST', '/api/v1/prevent/check', { to: ['john.smyth@client.example'], subject: 'Quarterly report', text: 'Dear John,\n\nplease find the report.' });
      expect(res.status).toBe(200);
      const about = res.body.warnings.filter((w: any) => w.recipients.includes('john.smyth@client.example'));
      expect(about.map((w: any) => w.check)).toEqual(expect.arrayContaining(['lookalike_address']));
      expect(about.find((w: any) => w.check === 'lookalike_address').fixes).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'replace_recipient', replacement: 'john.smith@client.example' })]));
      const habitual = await api(author, 'POST', '/api/v1/prevent/check', { to: ['john.smith@client.example'], subject: 'Quarterly report', text: 'Dear John,\n\nplease find the report.' });
      expect(habitual.body.warnings.filter((w: any) => ['unusual_recipient', 'lookalike_address', 'first_time_external'].includes(w.check))).toEqual([]);
    });
  });
}
