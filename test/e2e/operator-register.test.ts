// End to end: the operator edits the processing register and the sub-processor register over
// HTTP (issue #6 §1, §5) on PGlite, and PostgreSQL when TEST_DATABASE_URL is set. Only users
// listed in OPERATOR_EMAILS may; a tenant administrator and anonymous callers are refused on
// every route and change nothing. Changes are recorded in the history and show in what is
// generated from the register (the public sub-processor list, with advance notice).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/runtime/server.ts';
import { createTestUser, type TestUser } from '../support/api-users.ts';
import { apiClient, e2eTargets, startE2eServer, type E2eServer } from '../support/e2e.ts';

for (const target of e2eTargets()) {
  describe(`processing register over HTTP [${target}]`, () => {
    let env: E2eServer;
    let server: RunningServer;
    let operator: TestUser;
    let tenantAdmin: TestUser;
    const api = apiClient(() => server);

    beforeAll(async () => {
      env = await startE2eServer(target, 'operator-register', { OPERATOR_EMAILS: `dpo-${target}@sealpost-operator.example` });
      ({ server } = env);
      operator = await createTestUser(server, { email: `dpo-${target}@sealpost-operator.example`, role: 'read_only', tenantName: 'Operator Ltd' });
      tenantAdmin = await createTestUser(server, { email: `admin-${target}@acme.example`, role: 'administrator', tenantName: 'Acme Ltd' });
    });

    afterAll(async () => {
      await env?.close();
    });

    it('does refuse everyone but the operator on every route, and change nothing', async () => {
      const register = await api(operator, 'GET', '/api/v1/operator/register');
      expect(register.status).toBe(200);
      const purposeKey = register.body.purposes[0].key as string;
      const subKey = register.body.subprocessors[0].key as string;
      const routes: Array<[string, string, unknown?]> = [
        ['GET', '/api/v1/operator/register'],
        ['PATCH', '/api/v1/operator/register/settings', { controllerName: 'Hijacked Ltd' }],
        ['POST', '/api/v1/operator/register/purposes', { key: 'x.y', groupKey: 'x', groupTitle: 'X', name: 'Y' }],
        ['PATCH', `/api/v1/operator/register/purposes/${purposeKey}`, { notes: 'hijacked' }],
        ['POST', `/api/v1/operator/register/purposes/${purposeKey}/retire`],
        ['POST', '/api/v1/operator/register/subprocessors', { key: 'evil', name: 'Evil Inc', purpose: 'x' }],
        ['PATCH', `/api/v1/operator/register/subprocessors/${subKey}`, { location: 'Nowhere' }],
        ['POST', `/api/v1/operator/register/subprocessors/${subKey}/remove`, {}],
      ];
      for (const [method, path, body] of routes) {
        const asAdmin = await api(tenantAdmin, method, path, body);
        expect([path, asAdmin.status, asAdmin.body.error.code]).toEqual([path, 403, 'operator_only']);
        expect((await api(null, method, path, body)).status).toBe(401);
      }
      const after = await api(operator, 'GET', '/api/v1/operator/register');
      expect(after.body.purposes).toEqual(register.body.purposes);
      expect(after.body.subprocessors).toEqual(register.body.subprocessors);
      expect(after.body.settings).toEqual(register.body.settings);
    });

    it("does open the installation's privacy-request queue to the operator only", async () => {
      const opened = await api(null, 'POST', '/api/v1/privacy/requests', { kind: 'erasure', email: 'sam@person.example' }, { origin: server.url });
      expect(opened.status).toBe(202);
      const id = opened.body.requestId as string;
      const listed = await api(operator, 'GET', '/api/v1/operator/requests');
      expect(listed.body.requests.map((r: { id: string; status: string }) => [r.id, r.status])).toEqual([[id, 'awaiting_identity']]);
      const routes: Array<[string, string, unknown?]> = [
        ['GET', '/api/v1/operator/requests'],
        ['GET', `/api/v1/operator/requests/${id}`],
        ['POST', `/api/v1/operator/requests/${id}/extend`, { months: 1, reason: 'x' }],
        ['POST', `/api/v1/operator/requests/${id}/pause`, { reason: 'x' }],
        ['POST', `/api/v1/operator/requests/${id}/resume`],
        ['POST', `/api/v1/operator/requests/${id}/run`],
        ['POST', `/api/v1/operator/requests/${id}/reject`, { reason: 'x' }],
        ['POST', `/api/v1/operator/requests/${id}/complete`, { note: 'x' }],
      ];
      for (const [method, path, body] of routes) {
        const asAdmin = await api(tenantAdmin, method, path, body);
        expect([path, asAdmin.status, asAdmin.body.error.code]).toEqual([path, 403, 'operator_only']);
        expect((await api(null, method, path, body)).status).toBe(401);
      }
      // The operator acts on it: a request still waiting for the person's code cannot be carried out.
      const early = await api(operator, 'POST', `/api/v1/operator/requests/${id}/run`);
      expect(early.status).toBe(409);
      const rejected = await api(operator, 'POST', `/api/v1/operator/requests/${id}/reject`, { reason: 'Sent by mistake, the person told us by phone.' });
      expect([rejected.status, rejected.body.status]).toEqual([200, 'rejected']);
    });

    it('does edit purposes, controller details and sub-processors, naming bad fields, recording each change', async () => {
      const { body: register } = await api(operator, 'GET', '/api/v1/operator/register');
      const purposeKey = register.purposes[0].key as string;

      const bad = await api(operator, 'PATCH', `/api/v1/operator/register/purposes/${purposeKey}`, { basisIndividual: ['because'], categories: ['secrets'] });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('privacy_register_invalid');
      expect(bad.body.error.message).toMatch(/basisIndividual/);
      expect(bad.body.error.message).toMatch(/categories/);

      const edited = await api(operator, 'PATCH', `/api/v1/operator/register/purposes/${purposeKey}`, { transferSafeguards: 'EU SCCs (2021/914)' });
      expect(edited.status).toBe(200);
      expect(edited.body.purpose.transferSafeguards).toBe('EU SCCs (2021/914)');
      const settings = await api(operator, 'PATCH', '/api/v1/operator/register/settings', { controllerName: 'Sealpost Operations Ltd', dpoContact: 'dpo@sealpost-operator.example' });
      expect(settings.body.settings).toMatchObject({ controllerName: 'Sealpost Operations Ltd', dpoContact: 'dpo@sealpost-operator.example' });

      const later = new Date(Date.now() + 40 * 86_400_000).toISOString().slice(0, 10);
      const added = await api(operator, 'POST', '/api/v1/operator/register/subprocessors', {
        key: 'northwind_hosting',
        name: 'Northwind Hosting',
        purpose: 'Backup storage of sealed Content',
        categories: ['content'],
        location: 'Frankfurt, Germany',
        regions: ['eea'],
        effectiveFrom: later,
      });
      expect(added.status).toBe(201);
      expect((await api(operator, 'POST', '/api/v1/operator/register/subprocessors', { key: 'northwind_hosting', name: 'Again', purpose: 'x' })).body.error.code).toBe('subprocessor_exists');
      // The public list announces it in advance.
      const pub = await api(null, 'GET', '/api/v1/privacy/subprocessors');
      expect(JSON.stringify(pub.body)).toContain('Northwind Hosting');

      const removed = await api(operator, 'POST', '/api/v1/operator/register/subprocessors/northwind_hosting/remove', { endsAt: 'soon' });
      expect([removed.status, removed.body.error.code]).toEqual([400, 'invalid_date']);
      const retired = await api(operator, 'POST', `/api/v1/operator/register/purposes/${purposeKey}/retire`);
      expect(retired.body.purpose.retiredAt).not.toBeNull();
      await api(operator, 'POST', `/api/v1/operator/register/purposes/${purposeKey}/restore`);

      const { body: after } = await api(operator, 'GET', '/api/v1/operator/register');
      const summaries = after.changes.map((c: { summary: string }) => c.summary);
      expect(summaries).toEqual(expect.arrayContaining([`purpose ${purposeKey}: changed transferSafeguards`, `purpose ${purposeKey} retired`, `purpose ${purposeKey} restored`, `Northwind Hosting will be engaged from ${later}`]));
      // Recorded as the operator's user, on the installation's system chain.
      const { rows } = await server.runtime.db.query<{ chain: string; actor_id: string }>(`SELECT chain, actor_id FROM audit_events WHERE action LIKE 'privacy_register.%' ORDER BY chain_seq DESC LIMIT 1`);
      expect(rows).toEqual([{ chain: 'system', actor_id: operator.id }]);
    });
  });
}
