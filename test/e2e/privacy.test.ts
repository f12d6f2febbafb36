// End to end: privacy operations through the real server (the public notice and sub-processor
// pages without authentication or cookies, the record of processing for administrators and
// auditors) on PGlite, and PostgreSQL when TEST_DATABASE_URL is set; and the operator's
// `sealpost privacy …` commands through the real binary.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/privacy/csv.ts';
import { ROPA_CSV_COLUMNS } from '../../src/privacy/record-of-processing.ts';
import type { RunningServer } from '../../src/runtime/server.ts';
import { createTestUser, type TestUser } from '../support/api-users.ts';
import { apiClient, e2eTargets, startE2eServer, type E2eServer } from '../support/e2e.ts';
import { sealpost } from '../support/cli.ts';

const operator = { type: 'operator' as const, id: 'cli:dpo' };

for (const target of e2eTargets()) {
  describe(`privacy over HTTP [${target}]`, () => {
    let env: E2eServer;
    let server: RunningServer;
    let admin: TestUser;
    let auditor: TestUser;
    let author: TestUser;
    let other: TestUser;
    const api = apiClient(() => server);
    const get = (p: string, headers: Record<string, string> = {}) => fetch(`${server.url}${p}`, { headers });

    beforeAll(async () => {
      env = await startE2eServer(target, 'privacy');
      server = env.server;
      admin = await createTestUser(server, { email: `admin-${target}@clinic.example`, role: 'administrator', tenantName: 'Clinic' });
      auditor = await createTestUser(server, { email: `auditor-${target}@clinic.example`, role: 'auditor', tenantId: admin.tenantId });
      author = await createTestUser(server, { email: `author-${target}@clinic.example`, role: 'author', tenantId: admin.tenantId });
      other = await createTestUser(server, { email: `admin-${target}@lawfirm.example`, role: 'administrator', tenantName: 'Law firm' });
    });
    afterAll(async () => {
      await env?.close();
    });

    it('does serve the privacy notice to anyone, without setting cookies', async () => {
      for (const headers of [{}, { cookie: 'sealpost_session=not-a-session' }] as Record<string, string>[]) {
        const res = await get('/privacy', headers);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
        expect(res.headers.get('set-cookie')).toBeNull();
        const html = await res.text();
        expect(html).toContain('Privacy notice');
        expect(html).toContain('Ensure our services are functioning properly');
        expect(html).toContain('Legitimate interests, Performance of contract');
        expect(html).toContain('Zendesk, Inc.');
      }
      const css = await get('/privacy/style.css');
      expect(css.status).toBe(200);
      expect(css.headers.get('set-cookie')).toBeNull();

      const json = await get('/api/v1/privacy/notice');
      expect(json.status).toBe(200);
      expect(json.headers.get('set-cookie')).toBeNull();
      const notice = (await json.json()) as any;
      expect(notice.purposeGroups.map((g: any) => g.title)).toEqual([
        'Relationship management',
        'Delivery of requested services',
        'Delivering on contractual obligations and exercising rights',
        'Legal and regulatory risk management',
        'Innovation and system development',
        'Marketing and promotion',
      ]);
      expect(notice.categories.map((c: any) => c.category).sort()).toEqual(['content', 'crm', 'smart', 'system']);
      expect(notice.categories.find((c: any) => c.category === 'smart').retention[0].defaultPeriod).toBe('P12M');
    });

    it('does publish sub-processors with planned changes and history, naming no staff', async () => {
      const soon = new Date(Date.now() + 30 * 86_400_000);
      await server.runtime.privacy.register.addSubprocessor(operator, {
        key: `newhost_${target}`,
        name: `New Host ${target} Ltd`,
        purpose: 'Object storage for encrypted Content.',
        categories: ['content'],
        location: 'UK',
        regions: ['uk'],
        effectiveFrom: soon,
      });
      await server.runtime.privacy.register.removeSubprocessor(operator, 'microsoft_dynamics', soon);

      const res = await get('/api/v1/privacy/subprocessors');
      expect(res.status).toBe(200);
      expect(res.headers.get('set-cookie')).toBeNull();
      const list = (await res.json()) as any;
      expect(list.current.some((s: any) => s.key === `newhost_${target}`)).toBe(false);
      expect(list.planned).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ key: `newhost_${target}`, change: 'addition', effectiveAt: soon.toISOString() }),
          expect.objectContaining({ key: 'microsoft_dynamics', change: 'removal', effectiveAt: soon.toISOString() }),
        ]),
      );
      // Still in use until the removal takes effect.
      expect(list.current.some((s: any) => s.key === 'microsoft_dynamics')).toBe(true);
      expect(list.history[0]).toMatchObject({ subprocessor: 'microsoft_dynamics', action: 'removal_planned', effectiveAt: soon.toISOString() });
      expect(JSON.stringify(list)).not.toContain('cli:dpo');

      const page = await get('/subprocessors');
      expect(page.status).toBe(200);
      expect(page.headers.get('set-cookie')).toBeNull();
      const html = await page.text();
      expect(html).toContain(`New Host ${target} Ltd`);
      expect(html).toContain(soon.toISOString().slice(0, 10));

      // Administrators and auditors see who made each change.
      const history = await api(auditor, 'GET', '/api/v1/privacy/history');
      expect(history.status).toBe(200);
      expect(history.body.changes.find((c: any) => c.entityKey === 'microsoft_dynamics')).toMatchObject({ actorType: 'operator', actorId: 'cli:dpo', action: 'removal_planned' });
    });

    it('does give the record of processing to administrators and auditors only, as JSON, CSV and HTML', async () => {
      expect((await api(null, 'GET', '/api/v1/privacy/ropa')).status).toBe(401);
      expect(await api(author, 'GET', '/api/v1/privacy/ropa')).toMatchObject({ status: 403, body: { error: { code: 'insufficient_role' } } });
      expect(await api(admin, 'GET', '/api/v1/privacy/ropa?format=pdf')).toMatchObject({ status: 400 });

      const json = await api(auditor, 'GET', '/api/v1/privacy/ropa');
      expect(json.status).toBe(200);
      expect(json.body.controllerRecord.categories).toEqual(['crm', 'system']);
      expect(json.body.processorRecord.categories).toEqual(['content', 'smart']);
      // Each customer sees itself as controller, never the installation's other customers.
      expect(json.body.processorRecord.controllers.map((c: any) => c.id)).toEqual([admin.tenantId]);
      expect(JSON.stringify(json.body)).not.toContain(other.tenantId);
      expect(json.body.gaps.some((g: any) => g.code === 'controller_name_missing')).toBe(true);

      const csv = await fetch(`${server.url}/api/v1/privacy/ropa?format=csv`, { headers: { authorization: `Bearer ${admin.token}` } });
      expect(csv.status).toBe(200);
      expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(csv.headers.get('content-disposition')).toMatch(/attachment; filename="sealpost-ropa-\d{4}-\d{2}-\d{2}\.csv"/);
      const rows = parseCsv(await csv.text());
      expect(rows[0]).toEqual([...ROPA_CSV_COLUMNS]);
      for (const r of rows) expect(r.length).toBe(ROPA_CSV_COLUMNS.length);

      const html = await fetch(`${server.url}/api/v1/privacy/ropa?format=html`, { headers: { authorization: `Bearer ${admin.token}` } });
      expect(html.status).toBe(200);
      expect(html.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await html.text()).toContain('GDPR Art. 30(2)');
    });

    it('does show the register as stored to administrators', async () => {
      const res = await api(admin, 'GET', '/api/v1/privacy/register');
      expect(res.status).toBe(200);
      expect(res.body.purposes).toHaveLength(32);
      expect(res.body.subprocessors.length).toBeGreaterThanOrEqual(16);
      expect((await api(author, 'GET', '/api/v1/privacy/register')).status).toBe(403);
    });
  });
}

describe('sealpost privacy (CLI)', () => {
  let dataDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'sealpost-privacy-cli-'));
    env = { DATA_DIR: dataDir };
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('does edit the register, keep the edit across starts, and print the record as CSV', async () => {
    const edit = await sealpost(
      ['privacy', 'purpose', 'update', 'delivery_of_requested_services.complaints_and_support_tickets', '--recipients', 'zendesk', '--transfer-safeguards', 'EU SCCs, "module 3"', '--json'],
      env,
    );
    expect(edit.stderr).toBe('');
    expect(edit.code).toBe(0);
    expect(JSON.parse(edit.stdout)).toMatchObject({ recipients: ['zendesk'], transferSafeguards: 'EU SCCs, "module 3"' });

    const bad = await sealpost(['privacy', 'purpose', 'update', 'delivery_of_requested_services.guidance', '--basis-individual', 'whim'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/privacy_register_invalid.*basisIndividual/);

    // Every command starts the runtime, which seeds: the edit must survive it.
    const out = path.join(dataDir, 'ropa.csv');
    const ropa = await sealpost(['privacy', 'ropa', '--format', 'csv', '--out', out], env);
    expect(ropa.code).toBe(0);
    expect(ropa.stderr).toMatch(/gap\(s\) flagged/);
    const rows = parseCsv(await readFile(out, 'utf8'));
    expect(rows[0]).toEqual([...ROPA_CSV_COLUMNS]);
    for (const r of rows) expect(r.length).toBe(ROPA_CSV_COLUMNS.length);
    const row = rows.find((r) => r[0] === 'controller' && r[3] === 'delivery_of_requested_services.complaints_and_support_tickets')!;
    expect(row[12]).toBe('Zendesk, Inc. [EEA]');
    expect(row[15]).toBe('EU SCCs, "module 3"');
    expect(row[16]).toBe('');

    const stdout = await sealpost(['privacy', 'ropa', '--format', 'json'], env);
    expect(stdout.code).toBe(0);
    expect(JSON.parse(stdout.stdout).controllerRecord.article).toMatch(/Art\. 30\(1\)/);

    const history = await sealpost(['privacy', 'history'], env);
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(/seeded 32 purposes and 16 recipients/);
    expect(history.stdout).toMatch(/cli:\S+\s+purpose delivery_of_requested_services\.complaints_and_support_tickets: changed recipients, transferSafeguards/);
  });
});
