// End to end: retention and legal hold through the real server (administrators set periods and
// holds, auditors read, others are refused; a run for the organisation; the daily job is queued
// at start-up) on PGlite, and PostgreSQL when TEST_DATABASE_URL is set; and the operator's
// `sealpost retention …` and `sealpost hold …` commands through the real binary.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/runtime/server.ts';
import { createTestUser, type TestUser } from '../support/api-users.ts';
import { apiClient, e2eTargets, startE2eServer, type E2eServer } from '../support/e2e.ts';
import { sealpost } from '../support/cli.ts';

for (const target of e2eTargets()) {
  describe(`retention over HTTP [${target}]`, () => {
    let env: E2eServer;
    let server: RunningServer;
    let admin: TestUser;
    let auditor: TestUser;
    let author: TestUser;
    let otherAdmin: TestUser;
    const api = apiClient(() => server);

    beforeAll(async () => {
      env = await startE2eServer(target, 'retention');
      ({ server } = env);
      admin = await createTestUser(server, { email: `admin-${target}@acme.example`, role: 'administrator', tenantName: 'Acme Ltd' });
      auditor = await createTestUser(server, { email: `auditor-${target}@acme.example`, role: 'auditor', tenantId: admin.tenantId });
      author = await createTestUser(server, { email: `author-${target}@acme.example`, role: 'author', tenantId: admin.tenantId });
      otherAdmin = await createTestUser(server, { email: `admin-${target}@other.example`, role: 'administrator' });
    });

    afterAll(async () => {
      await env?.close();
    });

    it('does queue the daily retention run once at start-up', async () => {
      const { rows } = await server.runtime.db.query<{ status: string }>(`SELECT status FROM jobs WHERE kind = 'retention_run'`);
      expect(rows).toEqual([{ status: 'queued' }]);
    });

    it('does let administrators set periods and auditors read them, and refuse others', async () => {
      expect((await api(author, 'GET', '/api/v1/privacy/retention/policies')).status).toBe(403);
      expect((await api(null, 'GET', '/api/v1/privacy/retention/policies')).status).toBe(401);
      expect((await api(auditor, 'PUT', '/api/v1/privacy/retention/policies/content', { period: 'P2Y' })).status).toBe(403);

      const bad = await api(admin, 'PUT', '/api/v1/privacy/retention/policies/content', { period: '2 years' });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('retention_period_invalid');
      expect((await api(admin, 'PUT', '/api/v1/privacy/retention/policies/system', { period: 'P2Y' })).body.error.code).toBe('retention_policy_installation_only');

      const set = await api(admin, 'PUT', '/api/v1/privacy/retention/policies/content', { period: 'P2Y' });
      expect(set.status).toBe(200);
      expect(set.body.policies.find((p: { key: string }) => p.key === 'content')).toMatchObject({ period: 'P2Y', source: 'tenant' });
      const read = await api(auditor, 'GET', '/api/v1/privacy/retention/policies');
      expect(read.body.policies.find((p: { key: string }) => p.key === 'audit')).toMatchObject({ period: 'P7Y', source: 'default' });
      // Another organisation still has the default.
      const other = await api(otherAdmin, 'GET', '/api/v1/privacy/retention/policies');
      expect(other.body.policies.find((p: { key: string }) => p.key === 'content')).toMatchObject({ period: null, source: 'default' });
    });

    it('does place, list and release holds within the organisation only', async () => {
      const sent = await api(author, 'POST', '/api/v1/messages', { to: ['held@partner.example'], subject: 'Contract', text: 'Draft.' });
      expect(sent.status).toBe(201);
      const placed = await api(admin, 'POST', '/api/v1/privacy/holds', { scope: 'message', messageId: sent.body.id, reason: 'Dispute with supplier' });
      expect(placed.status).toBe(201);
      expect(placed.body).toMatchObject({ scope: 'message', messageId: sent.body.id, placedBy: admin.id, releasedAt: null });
      expect((await api(admin, 'POST', '/api/v1/privacy/holds', { scope: 'user', reason: 'x' })).body.error.code).toBe('hold_user_invalid');
      expect((await api(admin, 'POST', '/api/v1/privacy/holds', { scope: 'planet', reason: 'x' })).status).toBe(400);
      expect((await api(author, 'POST', '/api/v1/privacy/holds', { scope: 'tenant', reason: 'x' })).status).toBe(403);
      // Someone else's message cannot be held, nor someone else's hold released.
      expect((await api(otherAdmin, 'POST', '/api/v1/privacy/holds', { scope: 'message', messageId: sent.body.id, reason: 'x' })).status).toBe(404);
      expect((await api(otherAdmin, 'POST', `/api/v1/privacy/holds/${placed.body.id}/release`, { reason: 'x' })).status).toBe(404);

      expect((await api(auditor, 'GET', '/api/v1/privacy/holds')).body.holds.map((h: { id: string }) => h.id)).toEqual([placed.body.id]);
      expect((await api(otherAdmin, 'GET', '/api/v1/privacy/holds')).body.holds).toEqual([]);

      const released = await api(admin, 'POST', `/api/v1/privacy/holds/${placed.body.id}/release`, { reason: 'Settled' });
      expect(released.status).toBe(200);
      expect(released.body).toMatchObject({ releasedBy: admin.id, releaseReason: 'Settled' });
      expect((await api(admin, 'POST', `/api/v1/privacy/holds/${placed.body.id}/release`, { reason: 'again' })).status).toBe(409);
      expect((await api(admin, 'GET', '/api/v1/privacy/holds')).body.holds).toEqual([]);
      expect((await api(admin, 'GET', '/api/v1/privacy/holds?includeReleased=true')).body.holds).toHaveLength(1);
      const { rows } = await server.runtime.db.query<{ action: string }>(`SELECT action FROM audit_events WHERE chain = $1 AND action LIKE 'legal_hold.%' ORDER BY chain_seq`, [admin.tenantId]);
      expect(rows.map((r) => r.action)).toEqual(['legal_hold.placed', 'legal_hold.released']);
    });

    it('does run retention for the organisation (dry by default) and show its reports only to it', async () => {
      const dry = await api(admin, 'POST', '/api/v1/privacy/retention/runs', {});
      expect(dry.status).toBe(201);
      expect(dry.body).toMatchObject({ dryRun: true, status: 'completed', tenantId: admin.tenantId, triggeredBy: 'api' });
      expect((await api(auditor, 'POST', '/api/v1/privacy/retention/runs', {})).status).toBe(403);
      const real = await api(admin, 'POST', '/api/v1/privacy/retention/runs', { dryRun: false });
      expect(real.body).toMatchObject({ dryRun: false, status: 'completed' });
      const reports = await api(auditor, 'GET', '/api/v1/privacy/retention/reports?limit=5');
      expect(reports.body.reports.map((r: { id: string }) => r.id)).toEqual([real.body.id, dry.body.id]);
      expect((await api(otherAdmin, 'GET', '/api/v1/privacy/retention/reports')).body.reports).toEqual([]);
      expect((await api(admin, 'GET', '/api/v1/privacy/retention/reports?limit=0')).status).toBe(400);
    });
  });
}

describe('sealpost retention and hold (CLI)', () => {
  let dataDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'sealpost-retention-cli-'));
    env = { DATA_DIR: dataDir };
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  // Each command starts a runtime (seconds on a busy machine), so one scenario covers the commands.
  it('does set a period, refuse a hold without a scope, place and release a hold, run, and print the report', async () => {
    const tenant = JSON.parse((await sealpost(['tenant', 'create', '--name', 'Acme Ltd', '--region', 'uk', '--json'], env)).stdout) as { id: string };

    const set = await sealpost(['retention', 'policy', 'set', 'content', 'P2Y', '--tenant', tenant.id], env);
    expect(set.stderr).toBe('');
    expect(set.stdout).toMatch(/content is now P2Y \(tenant\)/);

    const noScope = await sealpost(['hold', 'add', '--tenant', tenant.id, '--reason', 'x'], env);
    expect(noScope.code).toBe(1);
    expect(noScope.stderr).toMatch(/hold_scope_required/);
    const hold = JSON.parse((await sealpost(['hold', 'add', '--tenant', tenant.id, '--whole-tenant', '--reason', 'Litigation 2027-3', '--json'], env)).stdout) as { id: string; placedBy: string };
    expect(hold.placedBy).toMatch(/^cli:/);

    const run = await sealpost(['retention', 'run', '--dry-run'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^DRY RUN retention run .*: completed.*all tenants/);
    const reports = JSON.parse((await sealpost(['retention', 'report', '--last', '5', '--json'], env)).stdout) as Array<{ dryRun: boolean; triggeredBy: string }>;
    expect(reports).toMatchObject([{ dryRun: true, triggeredBy: 'cli' }]);

    const released = await sealpost(['hold', 'release', hold.id, '--reason', 'Case closed'], env);
    expect(released.stdout).toMatch(/released .* by cli:.*: Case closed/);
  }, 600_000);
});
