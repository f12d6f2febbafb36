import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { isAppError } from '../../shared/app-error.ts';
import { openDatabase, pgliteDataDir } from './open-database.ts';
import { openPgliteDatabase } from './pglite-database.ts';
import { openPostgresDatabase } from './postgres-database.ts';

const tempDirs: string[] = [];

afterAll(async () => {
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('openDatabase', () => {
  it('does open PGlite under <dataDir>/database when no databaseUrl is set, and keep data across reopening', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sealpost-data-'));
    tempDirs.push(dataDir);
    const first = await openDatabase({ dataDir });
    try {
      expect(first.driver).toBe('pglite');
      await first.query('CREATE TABLE kept (x text)');
      await first.query('INSERT INTO kept VALUES ($1)', ['still here']);
    } finally {
      await first.close();
    }
    expect((await readdir(pgliteDataDir(dataDir))).length).toBeGreaterThan(0);

    const second = await openDatabase({ dataDir, databaseUrl: '' });
    try {
      const { rows } = await second.query('SELECT x FROM kept');
      expect(rows).toEqual([{ x: 'still here' }]);
    } finally {
      await second.close();
    }
  });

  it.runIf(inject('sealpostPostgres') !== null)('does open PostgreSQL when databaseUrl is set', async () => {
    const db = await openDatabase({ databaseUrl: inject('sealpostPostgres')!.url, dataDir: '/nonexistent' });
    try {
      expect(db.driver).toBe('postgres');
      await db.ping();
    } finally {
      await db.close();
    }
  });
});

describe('openPostgresDatabase', () => {
  it('does fail at once with database_unavailable, without repeating the password, when the server cannot be reached', async () => {
    const err = await openPostgresDatabase('postgres://sealpost:s3cret-pw@127.0.0.1:1/sealpost', {
      connectionTimeoutMillis: 2000,
    }).catch((e: unknown) => e);
    expect(isAppError(err, 'database_unavailable')).toBe(true);
    expect(err).toMatchObject({ kind: 'unavailable' });
    expect(String((err as Error).message)).not.toContain('s3cret-pw');
    expect(JSON.stringify(err)).not.toContain('s3cret-pw');
  });
});

describe('openPgliteDatabase data directory lock', () => {
  it('does refuse a second open of a data directory that is already open, and allow it after close', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sealpost-lock-'));
    tempDirs.push(root);
    const dataDir = join(root, 'database');
    const first = await openPgliteDatabase(dataDir);
    try {
      await expect(openPgliteDatabase(dataDir)).rejects.toMatchObject({ kind: 'unavailable', code: 'database_locked' });
    } finally {
      await first.close();
    }
    await expect(stat(`${dataDir}.lock`)).rejects.toMatchObject({ code: 'ENOENT' });
    const again = await openPgliteDatabase(dataDir);
    await again.close();
  });

  it('does refuse a data directory locked by another live process', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sealpost-lock-'));
    tempDirs.push(root);
    const dataDir = join(root, 'database');
    // The parent process (the vitest runner) is alive and is not us.
    await writeFile(`${dataDir}.lock`, String(process.ppid));
    await expect(openPgliteDatabase(dataDir)).rejects.toMatchObject({ code: 'database_locked' });
  });

  it('does take over a lock left by a process that has exited', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sealpost-lock-'));
    tempDirs.push(root);
    const dataDir = join(root, 'database');
    const exited = spawnSync(process.execPath, ['-e', '']).pid;
    await writeFile(`${dataDir}.lock`, String(exited));
    const db = await openPgliteDatabase(dataDir);
    await db.close();
  });
});
