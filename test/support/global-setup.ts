// Vitest global setup: prepares migrated databases once per run so each storage test file can
// start from a copy in well under a second instead of initialising and migrating its own.
//  - PGlite: tarballs of an empty and a migrated data directory, cached between runs under the
//    OS temp folder, keyed by everything that shapes them (PGlite version, migrations, migrator).
//  - PostgreSQL (only when TEST_DATABASE_URL is set): a migrated template database that test
//    files clone with CREATE DATABASE … TEMPLATE, dropped with every clone at teardown.
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { sha256Hex } from '../../src/crypto/hash.ts';
import { MIGRATIONS_DIR, migrate } from '../../src/storage/database/migrate.ts';
import { openPgliteDatabase } from '../../src/storage/database/pglite-database.ts';
import { openPostgresDatabase } from '../../src/storage/database/postgres-database.ts';
import {
  adminQuery,
  createDatabase,
  databaseUrl,
  dropDatabase,
  isStaleTestDatabase,
  newRunId,
  TEST_DATABASE_PREFIX,
  TEMPLATE_PREFIX,
} from './postgres-admin.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Paths of PGlite data-directory tarballs: freshly initialised, and fully migrated. */
    sealpostPgliteSnapshots: { empty: string; migrated: string };
    /** The PostgreSQL test server, or null when TEST_DATABASE_URL is not set. */
    sealpostPostgres: { url: string; template: string; prefix: string } | null;
  }
}

const CACHE_DIR = join(tmpdir(), 'sealpost-test-cache');

/** Prepares the databases and returns the teardown that removes what it created. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const snapshots = await pgliteSnapshots();
  project.provide('sealpostPgliteSnapshots', snapshots);
  process.env.SEALPOST_TEST_PGLITE_SNAPSHOT = snapshots.migrated;

  const url = process.env.TEST_DATABASE_URL;
  if (url === undefined || url === '') {
    project.provide('sealpostPostgres', null);
    return async () => {};
  }

  const runId = newRunId();
  const template = `${TEMPLATE_PREFIX}${runId}`;
  const prefix = `${TEST_DATABASE_PREFIX}${runId}_`;
  await dropStaleDatabases(url);
  await createDatabase(url, template);
  const db = await openPostgresDatabase(databaseUrl(url, template), { max: 1 });
  try {
    await migrate(db);
  } finally {
    await db.close();
  }
  project.provide('sealpostPostgres', { url, template, prefix });

  return async () => {
    const { rows } = await adminQuery<{ datname: string }>(
      url,
      `SELECT datname FROM pg_database WHERE starts_with(datname, $1) OR datname = $2`,
      [prefix, template],
    );
    for (const { datname } of rows) await dropDatabase(url, datname);
  };
}

async function pgliteSnapshots(): Promise<{ empty: string; migrated: string }> {
  const key = await snapshotKey();
  const empty = join(CACHE_DIR, `pglite-empty-${key}.tar`);
  const migrated = join(CACHE_DIR, `pglite-migrated-${key}.tar`);
  if ((await exists(empty)) && (await exists(migrated))) return { empty, migrated };

  await mkdir(CACHE_DIR, { recursive: true });
  const db = await openPgliteDatabase(undefined);
  try {
    await writeAtomically(empty, await db.dumpDataDir());
    await migrate(db);
    await writeAtomically(migrated, await db.dumpDataDir());
  } finally {
    await db.close();
  }
  // Snapshots of other schemas are removed once stale: a younger one may belong to a run still
  // going on in another checkout (a clean clone running .ci/run next to a working tree).
  for (const name of await readdir(CACHE_DIR)) {
    if (!name.startsWith('pglite-') || name.includes(key)) continue;
    const file = join(CACHE_DIR, name);
    const modified = (await stat(file).catch(() => null))?.mtimeMs;
    if (modified !== undefined && Date.now() - modified > 24 * 3600_000) await rm(file, { force: true });
  }
  return { empty, migrated };
}

// Everything that changes the bytes of a snapshot goes into its cache key.
async function snapshotKey(): Promise<string> {
  // The package does not export its package.json; find it next to the entry point.
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const pkg = JSON.parse(await readFile(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  const pgliteVersion = pkg.version;
  const parts = [`pglite ${pgliteVersion}`];
  const sources = [
    fileURLToPath(new URL('../../src/storage/database/migrate.ts', import.meta.url)),
    fileURLToPath(new URL('../../src/storage/database/pglite-database.ts', import.meta.url)),
    ...(await readdir(MIGRATIONS_DIR)).sort().map((n) => join(MIGRATIONS_DIR, n)),
  ];
  // File names, not absolute paths: two checkouts of the same code share their snapshots.
  for (const file of sources) parts.push(basename(file), sha256Hex(await readFile(file)));
  return sha256Hex(parts.join('\n')).slice(0, 16);
}

async function writeAtomically(path: string, blob: Blob): Promise<void> {
  // Parallel runs (several engineers, several worktrees) may build the same snapshot at once;
  // rename makes each reader see a whole file or none.
  const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temp, new Uint8Array(await blob.arrayBuffer()));
  await rename(temp, path);
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

// Databases left by runs that crashed before teardown. Only ones older than a few hours: a
// younger one may belong to a run still going on in another terminal.
async function dropStaleDatabases(url: string): Promise<void> {
  const { rows } = await adminQuery<{ datname: string }>(
    url,
    `SELECT datname FROM pg_database WHERE starts_with(datname, $1) OR starts_with(datname, $2)`,
    [TEMPLATE_PREFIX, TEST_DATABASE_PREFIX],
  );
  for (const { datname } of rows) {
    if (isStaleTestDatabase(datname)) await dropDatabase(url, datname);
  }
}
