// End to end: the `sealpost` binary as operators run it (a child process, real PGlite in a
// temporary data directory). Checks output, exit status and what ended up in the database.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLI_TEST_TIMEOUT_MS } from '../support/cli-timeouts.ts';
import { openDatabase } from '../../src/storage/database/open-database.ts';
import { sealpost } from '../support/cli.ts';

vi.setConfig({ testTimeout: CLI_TEST_TIMEOUT_MS });

describe('sealpost CLI', () => {
  let dataDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'sealpost-cli-'));
    // Tenants are created in all three regions below: the installation must serve them.
    env = { DATA_DIR: dataDir, REGIONS: 'uk,eea,us' };
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('does list every command in --help and print the package version', async () => {
    const help = await sealpost(['--help'], env);
    expect(help.code).toBe(0);
    for (const command of ['serve', 'migrate', 'tenant', 'user', 'login', 'logout', 'keys', 'audit']) expect(help.stdout).toContain(command);
    const version = await sealpost(['--version'], env);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('does create and list tenants, and record the creation in the tenant\'s audit chain', async () => {
    const created = await sealpost(['tenant', 'create', '--name', 'Acme Ltd', '--region', 'eea', '--json'], env);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const tenant = JSON.parse(created.stdout) as { id: string; name: string; region: string };
    expect(tenant).toMatchObject({ name: 'Acme Ltd', region: 'eea' });

    const listed = await sealpost(['tenant', 'list', '--json'], env);
    expect((JSON.parse(listed.stdout) as Array<{ id: string }>).map((t) => t.id)).toContain(tenant.id);

    const verified = await sealpost(['audit', 'verify', '--tenant', tenant.id, '--json'], env);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, chains: [{ chain: tenant.id, events: 1 }] });
  });

  it('does rotate a tenant KEK and the root key, keeping metadata only in its output', async () => {
    const tenant = JSON.parse((await sealpost(['tenant', 'create', '--name', 'Rotation Co', '--region', 'uk', '--json'], env)).stdout) as { id: string };
    const first = await sealpost(['keys', 'rotate', '--tenant', tenant.id, '--json'], env);
    expect(JSON.parse(first.stdout)).toMatchObject({ tenantId: tenant.id, region: 'uk', newVersion: 1 });
    const second = await sealpost(['keys', 'rotate', '--tenant', tenant.id, '--json'], env);
    expect(JSON.parse(second.stdout)).toMatchObject({ newVersion: 2 });

    const root = await sealpost(['keys', 'rotate-root', '--region', 'uk', '--json'], env);
    const rotated = JSON.parse(root.stdout) as { region: string; rootKeyId: string; rewrappedKeks: number };
    expect(rotated.region).toBe('uk');
    expect(rotated.rewrappedKeks).toBeGreaterThanOrEqual(2);

    const list = JSON.parse((await sealpost(['keys', 'list', '--tenant', tenant.id, '--json'], env)).stdout) as Array<Record<string, unknown>>;
    expect(list.map((k) => [k.version, k.state, k.rootKeyId]).sort()).toEqual([
      [1, 'retired', rotated.rootKeyId],
      [2, 'active', rotated.rootKeyId],
    ]);
    for (const k of list) expect(Object.keys(k)).not.toContain('wrappedKey');
  });

  it('does refuse to destroy a tenant\'s keys without the exact tenant name, and destroy them with it', async () => {
    const tenant = JSON.parse((await sealpost(['tenant', 'create', '--name', 'Shred Me', '--region', 'us', '--json'], env)).stdout) as { id: string };
    await sealpost(['keys', 'rotate', '--tenant', tenant.id], env);
    const refused = await sealpost(['keys', 'destroy-tenant', '--tenant', tenant.id, '--confirm', 'shred me'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('confirmation_mismatch');
    const done = await sealpost(['keys', 'destroy-tenant', '--tenant', tenant.id, '--confirm', 'Shred Me', '--json'], env);
    expect(JSON.parse(done.stdout)).toEqual({ tenantId: tenant.id, destroyedKeks: 1 });
    const list = JSON.parse((await sealpost(['keys', 'list', '--tenant', tenant.id, '--json'], env)).stdout) as Array<{ state: string }>;
    expect(list.map((k) => k.state)).toEqual(['destroyed']);
  });

  it('does answer bad input with one clear line and exit status 1', async () => {
    const badRegion = await sealpost(['tenant', 'create', '--name', 'X', '--region', 'mars'], env);
    expect(badRegion.code).toBe(1);
    expect(badRegion.stderr).toContain("argument 'mars' is invalid");
    // Residency: no tenant in a region this installation has no store and root key for.
    const unserved = await sealpost(['tenant', 'create', '--name', 'X', '--region', 'us'], { ...env, REGIONS: 'uk,eea' });
    expect(unserved.code).toBe(1);
    expect(unserved.stderr).toMatch(/^error \(region_not_served\): this installation does not serve region "us"; it serves uk, eea/);
    const badTenant = await sealpost(['keys', 'rotate', '--tenant', '00000000-0000-4000-8000-000000000000'], env);
    expect(badTenant.code).toBe(1);
    expect(badTenant.stderr).toMatch(/^error \(tenant_not_found\): /);
    const badConfig = await sealpost(['tenant', 'list'], { ...env, PORT: 'eighty', LOG_LEVEL: 'loud' });
    expect(badConfig.code).toBe(1);
    expect(badConfig.stderr).toContain('LOG_LEVEL');
    expect(badConfig.stderr).toContain('PORT');
    expect(badConfig.stderr).not.toContain('    at ');
  });

  it('does detect an edited audit row and exit with status 1', async () => {
    const tenant = JSON.parse((await sealpost(['tenant', 'create', '--name', 'Tamper Test', '--region', 'uk', '--json'], env)).stdout) as { id: string };
    const head = await sealpost(['audit', 'head', '--tenant', tenant.id], env);
    expect(head.stdout.trim()).toMatch(new RegExp(`^${tenant.id}:1:[0-9a-f]{64}$`));

    const db = await openDatabase({ dataDir });
    try {
      await db.query(`UPDATE audit_events SET details = '{"region":"us"}'::jsonb WHERE tenant_id = $1`, [tenant.id]);
    } finally {
      await db.close();
    }
    const verified = await sealpost(['audit', 'verify', '--tenant', tenant.id], env);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toContain(`PROBLEM chain ${tenant.id} at 1: hash_mismatch`);
    expect(verified.stdout).toContain('FAILED');
  });
});
