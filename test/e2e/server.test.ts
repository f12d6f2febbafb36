// End to end: the real server as `sealpost serve` starts it (runtime + HTTP), on embedded
// PGlite in a temporary data directory, and on PostgreSQL when TEST_DATABASE_URL is set.
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { startServer, type RunningServer } from '../../src/runtime/server.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { createDatabase, databaseUrl, dropDatabase, randomHex } from '../support/postgres-admin.ts';

const silent = createLogger('silent');

const targets: Array<{ name: string; env: () => Promise<Record<string, string>> }> = [{ name: 'pglite', env: async () => ({}) }];
const postgres = inject('sealpostPostgres');
const createdDatabases: string[] = [];
if (postgres) {
  targets.push({
    name: 'postgres',
    env: async () => {
      // An empty database: start-up must migrate it itself.
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

for (const target of targets) {
  describe(`sealpost serve [${target.name}]`, () => {
    let dataDir: string;
    let server: RunningServer;

    beforeAll(async () => {
      dataDir = await mkdtemp(path.join(os.tmpdir(), 'sealpost-e2e-'));
      const config = loadConfig({ PORT: '0', DATA_DIR: dataDir, ...(await target.env()) });
      server = await startServer(config, { logger: silent });
    });

    afterAll(async () => {
      await server?.close();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('does answer /healthz and report every dependency ready on /readyz', async () => {
      expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok' });
      const res = await fetch(`${server.url}/readyz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ready', checks: { database: { ok: true }, blob_store: { ok: true }, key_provider: { ok: true } } });
    });

    it('does create the embedded defaults with owner-only permissions', async () => {
      expect((await stat(dataDir)).mode & 0o077).toBe(0);
      expect((await stat(path.join(dataDir, 'keys', 'root-keys.json'))).mode & 0o777).toBe(0o600);
      expect((await stat(path.join(dataDir, 'blobs'))).isDirectory()).toBe(true);
    });

    it('does serve an OpenAPI 3.1 document that lists the health endpoints', async () => {
      const doc = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
      expect(doc.openapi).toBe('3.1.0');
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz']));
    });

    it('does send security headers and keep responses out of shared caches', async () => {
      const res = await fetch(`${server.url}/healthz`);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    });

    it('does answer unknown routes with the standard error shape', async () => {
      const res = await fetch(`${server.url}/no/such/route`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: { code: 'route_not_found', message: expect.any(String) } });
    });

    it('does report not ready, naming the blob store, when the blob directory cannot be written', async () => {
      if (process.getuid?.() === 0) {
        // Root ignores directory permissions; break the store by replacing the folder with a file.
        const blobs = path.join(dataDir, 'blobs');
        await rm(blobs, { recursive: true, force: true });
        await (await import('node:fs/promises')).writeFile(blobs, 'not a directory');
        try {
          const res = await fetch(`${server.url}/readyz`);
          expect(res.status).toBe(503);
          const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean }> };
          expect(body.status).toBe('not_ready');
          expect(body.checks.blob_store!.ok).toBe(false);
          expect(body.checks.database!.ok).toBe(true);
        } finally {
          await rm(blobs, { force: true });
        }
      } else {
        const blobs = path.join(dataDir, 'blobs');
        await chmod(blobs, 0o500);
        try {
          const res = await fetch(`${server.url}/readyz`);
          expect(res.status).toBe(503);
          expect(((await res.json()) as { checks: Record<string, { ok: boolean }> }).checks.blob_store!.ok).toBe(false);
        } finally {
          await chmod(blobs, 0o700);
        }
      }
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    });
  });
}

describe('sealpost serve start-up', () => {
  it('does refuse to start with invalid configuration, naming every bad variable', () => {
    expect(() => loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', BLOB_STORE: 's3' })).toThrowError(/PORT[\s\S]*DATABASE_URL|DATABASE_URL[\s\S]*PORT/);
  });

  it('does leave nothing open when start-up fails half-way (port in use), so a retry succeeds', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'sealpost-e2e-'));
    const first = await startServer(loadConfig({ PORT: '0', DATA_DIR: dataDir }), { logger: silent });
    const port = new URL(first.url).port;
    const otherDir = await mkdtemp(path.join(os.tmpdir(), 'sealpost-e2e-'));
    try {
      await expect(startServer(loadConfig({ PORT: port, DATA_DIR: otherDir }), { logger: silent })).rejects.toThrow(/EADDRINUSE|address already in use/);
      // The failed attempt released the embedded database of otherDir: opening it again works.
      const retry = await startServer(loadConfig({ PORT: '0', DATA_DIR: otherDir }), { logger: silent });
      await retry.close();
    } finally {
      await first.close();
      await rm(dataDir, { recursive: true, force: true });
      await rm(otherDir, { recursive: true, force: true });
    }
  });
});
