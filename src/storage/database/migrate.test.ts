import { cp, mkdtemp, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../../../test/support/database.ts';
import type { Database } from './database.ts';
import { MIGRATIONS_DIR, migrate, readMigrations } from './migrate.ts';
import { openPostgresDatabase } from './postgres-database.ts';

const tempDirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sealpost-migrations-'));
  tempDirs.push(dir);
  return dir;
}

/** A copy of the shipped migrations that a test may edit. */
async function copyOfMigrations(): Promise<string> {
  const dir = await tempDir();
  await cp(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

afterAll(async () => {
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function appliedIds(db: Database): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id');
  return rows.map((r) => r.id);
}

async function tableExists(db: Database, table: string): Promise<boolean> {
  const { rows } = await db.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`public.${table}`]);
  return rows[0]!.t !== null;
}

describe('readMigrations', () => {
  it('does order files by their numeric prefix, not as text', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, '10_later.sql'), 'SELECT 1;');
    await writeFile(join(dir, '2_earlier.sql'), 'SELECT 1;');
    await writeFile(join(dir, 'README.md'), 'not a migration');
    const files = await readMigrations(dir);
    expect(files.map((f) => [f.id, f.name])).toEqual([
      ['2', 'earlier'],
      ['10', 'later'],
    ]);
  });

  it('does give CRLF and LF copies of a file the same checksum', async () => {
    const lf = await tempDir();
    const crlf = await tempDir();
    await writeFile(join(lf, '0001_a.sql'), 'CREATE TABLE a (x int);\nSELECT 1;\n');
    await writeFile(join(crlf, '0001_a.sql'), 'CREATE TABLE a (x int);\r\nSELECT 1;\r\n');
    const [a] = await readMigrations(lf);
    const [b] = await readMigrations(crlf);
    expect(a!.checksum).toBe(b!.checksum);
  });

  it('does reject a misnamed file instead of skipping it', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, '0001-foundation.sql'), 'SELECT 1;');
    await expect(readMigrations(dir)).rejects.toMatchObject({ code: 'migration_invalid_name' });
  });

  it('does reject two files with the same number', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, '0002_a.sql'), 'SELECT 1;');
    await writeFile(join(dir, '2_b.sql'), 'SELECT 1;');
    await expect(readMigrations(dir)).rejects.toMatchObject({ code: 'migration_duplicate_id' });
  });
});

describeEachDatabase('migrate', (ctx) => {
  it('does record every shipped migration with its checksum', async () => {
    const files = await readMigrations();
    const { rows } = await ctx.db().query<{ id: string; name: string; checksum: string; applied_at: Date }>(
      'SELECT id, name, checksum, applied_at FROM schema_migrations ORDER BY id',
    );
    expect(rows.map((r) => [r.id, r.name, r.checksum])).toEqual(files.map((f) => [f.id, f.name, f.checksum]));
    expect(rows.every((r) => r.applied_at instanceof Date)).toBe(true);
  });

  it('does nothing when run again on a migrated database', async () => {
    const before = await appliedIds(ctx.db());
    await expect(migrate(ctx.db())).resolves.toEqual({ applied: [] });
    expect(await appliedIds(ctx.db())).toEqual(before);
  });

  it('does apply every migration to an empty database, then nothing the second time', async () => {
    const db = await ctx.createDatabase({ migrated: false });
    const files = await readMigrations();
    expect(await migrate(db)).toEqual({ applied: files.map((f) => f.id) });
    expect(await tableExists(db, 'audit_events')).toBe(true);
    expect(await migrate(db)).toEqual({ applied: [] });
    expect(await appliedIds(db)).toEqual(files.map((f) => f.id));
  });

  it('does fail loudly when an applied migration file was edited', async () => {
    const dir = await copyOfMigrations();
    const db = await ctx.createDatabase({ migrated: false });
    await migrate(db, { directory: dir });
    await appendFile(join(dir, '0001_foundation.sql'), '\n-- an innocent-looking edit\n');
    await expect(migrate(db, { directory: dir })).rejects.toMatchObject({
      kind: 'internal',
      code: 'migration_checksum_mismatch',
    });
  });

  it('does refuse a database migrated by a newer version', async () => {
    const dir = await copyOfMigrations();
    await writeFile(join(dir, '9999_from_the_future.sql'), 'CREATE TABLE from_the_future (x int);');
    const db = await ctx.createDatabase({ migrated: false });
    await migrate(db, { directory: dir });
    await expect(migrate(db)).rejects.toMatchObject({ code: 'migration_unknown' });
  });

  it('does roll back a failing migration entirely and keep the ones before it', async () => {
    const dir = await copyOfMigrations();
    await writeFile(join(dir, '9998_half_done.sql'), 'CREATE TABLE half_done (x int);\nSELECT 1 / 0;\n');
    const db = await ctx.createDatabase({ migrated: false });
    await expect(migrate(db, { directory: dir })).rejects.toMatchObject({ code: 'migration_failed', details: { migration: '9998' } });
    expect(await tableExists(db, 'half_done')).toBe(false);
    expect(await tableExists(db, 'tenants')).toBe(true);
    expect(await appliedIds(db)).toEqual((await readMigrations()).map((f) => f.id));
  });

  it('does apply each migration once when two migrators start together on one database', async () => {
    const files = await readMigrations();
    const db = await ctx.createDatabase({ migrated: false });
    const [a, b] = await Promise.all([migrate(db), migrate(db)]);
    expect([...a.applied, ...b.applied].sort()).toEqual(files.map((f) => f.id));
    expect(await appliedIds(db)).toEqual(files.map((f) => f.id));
  });

  it.runIf(ctx.driver === 'postgres')(
    'does apply each migration exactly once when two processes migrate a fresh PostgreSQL database at once',
    async () => {
      const dir = await copyOfMigrations();
      // More than one migration, so the two migrators interleave between them.
      await writeFile(join(dir, '9001_second.sql'), 'CREATE TABLE second_table (x int);');
      await writeFile(join(dir, '9002_third.sql'), 'INSERT INTO second_table VALUES (1);');
      const url = await ctx.createDatabaseUrl({ migrated: false });
      // Two pools stand for two processes: nothing shared but the server.
      const first = await openPostgresDatabase(url, { max: 2 });
      const second = await openPostgresDatabase(url, { max: 2 });
      try {
        const [a, b] = await Promise.all([migrate(first, { directory: dir }), migrate(second, { directory: dir })]);
        const expected = (await readMigrations(dir)).map((f) => f.id);
        expect([...a.applied, ...b.applied].sort()).toEqual([...expected].sort());
        expect(await appliedIds(first)).toEqual([...expected].sort());
        // The data migration ran once, not twice.
        const { rows } = await first.query('SELECT count(*) AS c FROM second_table');
        expect(rows[0]).toEqual({ c: '1' });
      } finally {
        await first.close();
        await second.close();
      }
    },
  );
});
