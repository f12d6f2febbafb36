// End to end: the operator's disclosure log over HTTP (issue #6 §6) on PGlite, and PostgreSQL
// when TEST_DATABASE_URL is set. Only users listed in OPERATOR_EMAILS may read or write it;
// tenant administrators, other users and anonymous callers are refused and learn nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/runtime/server.ts';
import { createTestUser, type TestUser } from '../support/api-users.ts';
import { apiClient, e2eTargets, startE2eServer, type E2eServer } from '../support/e2e.ts';

for (const target of e2eTargets()) {
  describe(`disclosure log over HTTP [${target}]`, () => {
    let env: E2eServer;
    let server: RunningServer;
    let operator: TestUser;
    let tenantAdmin: TestUser;
    const api = apiClient(() => server);
    const request = {
      requesterKind: 'law_enforcement',
      authority: 'Metropolitan Police Service',
      jurisdiction: 'England and Wales',
      legalBasis: 'IPA 2016 s.61',
      requested: 'Account details of one user',
      requestedCategories: ['crm', 'system'],
    };

    beforeAll(async () => {
      env = await startE2eServer(target, 'disclosures', { OPERATOR_EMAILS: `Ops-${target}@sealpost-operator.example` });
      ({ server } = env);
      operator = await createTestUser(server, { email: `ops-${target}@sealpost-operator.example`, role: 'author', tenantName: 'Operator Ltd' });
      tenantAdmin = await createTestUser(server, { email: `admin-${target}@acme.example`, role: 'administrator', tenantName: 'Acme Ltd' });
    });

    afterAll(async () => {
      await env?.close();
    });

    it('does tell the web app who acts for the operator', async () => {
      expect((await api(operator, 'GET', '/api/v1/auth/session')).body).toMatchObject({ operator: true });
      expect((await api(tenantAdmin, 'GET', '/api/v1/auth/session')).body).toMatchObject({ operator: false });
    });

    it('does refuse everyone but the operator, on every route, alike', async () => {
      const added = await api(operator, 'POST', '/api/v1/operator/disclosures', { ...request, gag: true, gagUntil: '2030-01-01' });
      expect(added.status).toBe(201);
      const ref = added.body.disclosure.reference as string;
      const routes: Array<[string, string, unknown?]> = [
        ['GET', '/api/v1/operator/disclosures'],
        ['GET', '/api/v1/operator/disclosures.csv'],
        ['GET', '/api/v1/operator/disclosures/report/2026-H1'],
        ['GET', `/api/v1/operator/disclosures/${ref}`],
        ['GET', '/api/v1/operator/disclosures/DR-1999-0001'],
        ['POST', '/api/v1/operator/disclosures', request],
        ['PATCH', `/api/v1/operator/disclosures/${ref}`, { status: 'refused' }],
      ];
      for (const [method, path, body] of routes) {
        const asAdmin = await api(tenantAdmin, method, path, body);
        expect([path, asAdmin.status, asAdmin.body.error.code]).toEqual([path, 403, 'operator_only']);
        expect(JSON.stringify(asAdmin.body)).not.toContain('Metropolitan');
        expect((await api(null, method, path, body)).status).toBe(401);
      }
      // Nothing was written by the refused calls.
      const { body } = await api(operator, 'GET', '/api/v1/operator/disclosures');
      expect(body.disclosures.map((d: { reference: string; status: string }) => [d.reference, d.status])).toEqual([[ref, 'received']]);
    });

    it('does record, decide, disclose and export, naming every problem in bad input', async () => {
      const bad = await api(operator, 'POST', '/api/v1/operator/disclosures', { requesterKind: 'journalist', authority: '', legalBasis: 'x', requested: 'y', colour: 'red' });
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(/requesterKind/);
      expect(bad.body.error.message).toMatch(/authority/);

      const added = await api(operator, 'POST', '/api/v1/operator/disclosures', { ...request, tenantId: tenantAdmin.tenantId });
      expect(added.status).toBe(201);
      const ref = added.body.disclosure.reference as string;
      expect(added.body.disclosure).toMatchObject({ status: 'received', recordedBy: operator.id });

      // A disclosure needs an approval first (the allowed transitions are the service's).
      const early = await api(operator, 'PATCH', `/api/v1/operator/disclosures/${ref}`, { status: 'disclosed' });
      expect([early.status, early.body.error.code]).toEqual([409, 'disclosure_transition']);
      const approved = await api(operator, 'PATCH', `/api/v1/operator/disclosures/${ref}`, { status: 'approved', approvedBy: 'Head of Legal', decisionReason: 'Valid production order' });
      expect(approved.body.disclosure).toMatchObject({ status: 'approved', approvedBy: 'Head of Legal' });
      const disclosed = await api(operator, 'PATCH', `/api/v1/operator/disclosures/${ref}`, { status: 'disclosed', disclosedCategories: ['crm'], disclosedDescription: 'Account record' });
      expect(disclosed.body.disclosure).toMatchObject({ status: 'disclosed', disclosedCategories: ['crm'] });
      expect((await api(operator, 'GET', `/api/v1/operator/disclosures/${ref}`)).body.disclosure.status).toBe('disclosed');
      expect((await api(operator, 'GET', '/api/v1/operator/disclosures/DR-1999-0001')).status).toBe(404);
      expect((await api(operator, 'GET', '/api/v1/operator/disclosures?status=disclosed')).body.disclosures.map((d: { reference: string }) => d.reference)).toEqual([ref]);
      expect((await api(operator, 'GET', '/api/v1/operator/disclosures?from=yesterday')).body.error.code).toBe('invalid_date');

      const csv = await fetch(`${server.url}/api/v1/operator/disclosures.csv?status=disclosed`, { headers: { authorization: `Bearer ${operator.token}` } });
      expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
      const lines = (await csv.text()).trim().split(/\r?\n/);
      expect(lines[0]).toMatch(/^"reference","requesterKind","authority"/);
      expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual([`"${ref}"`]);

      const half = `${new Date().getUTCFullYear()}-H${new Date().getUTCMonth() < 6 ? 1 : 2}`;
      const report = await api(operator, 'GET', `/api/v1/operator/disclosures/report/${half}?threshold=2`);
      expect(report.status).toBe(200);
      expect(report.body.rows).toEqual(['Metropolitan Police Service (law_enforcement)']);
      expect((await api(operator, 'GET', '/api/v1/operator/disclosures/report/2026-Q1')).body.error.code).toBe('invalid_period');

      // Audited on the installation's system chain only, never on the customer's own chain.
      const { rows } = await server.runtime.db.query<{ chain: string; action: string }>(
        `SELECT chain, action FROM audit_events WHERE action LIKE 'privacy_disclosure.%' AND details->>'reference' = $1 ORDER BY chain_seq`,
        [ref],
      );
      expect(rows).toEqual([
        { chain: 'system', action: 'privacy_disclosure.recorded' },
        { chain: 'system', action: 'privacy_disclosure.approved' },
        { chain: 'system', action: 'privacy_disclosure.disclosed' },
      ]);
    });
  });
}
