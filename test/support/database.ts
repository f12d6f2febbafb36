// Storage-tier test harness: the same suite on PGlite always and on PostgreSQL when
// TEST_DATABASE_URL is set, each file getting its own migrated database (see global-setup.ts).
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, inject } from 'vitest';
import type { Database, DatabaseDriver } from '../../src/storage/database/database.ts';
import { openPgliteDatabase } from '../../src/storage/database/pglite-database.ts';
import { openPostgresDatabase } from '../../src/storage/database/postgres-database.ts';
import { createDatabase, databaseUrl, dropDatabase, randomHex } from './postgres-admin.ts';

/** What a storage suite gets for one driver. */
export interface DatabaseTestContext {
  readonly driver: DatabaseDriver;
  /** This file's migrated database, shared by its tests (use fresh tenants to stay apart). */
  db(): Database;
  /** A further database of its own, migrated unless `migrated: false`; closed after the file. */
  createDatabase(opts?: { migrated?: boolean }): Promise<Database>;
  /**
   * PostgreSQL only: the URL of a further database, for tests that open several connections
   * to it themselves (they close them; it is dropped after the file).
   */
  createDatabaseUrl(opts?: { migrated?: boolean }): Promise<string>;
}

/** Drivers the storage suites run on in this process. */
export function testDrivers(): DatabaseDriver[] {
  return inject('sealpostPostgres') ? ['pglite', 'postgres'] : ['pglite'];
}

/** Declares `describe(name [driver])` once per test driver, with a database context for each. */
export function describeEachDatabase(name: string, fn: (ctx: DatabaseTestContext) => void): void {
  for (const driver of testDrivers()) {
    describe(`${name} [${driver}]`, () => {
      const opened: Database[] = [];
      const created: string[] = [];
      let main: Database | undefined;

      const ctx: DatabaseTestContext = {
        driver,
        db() {
          if (!main) throw new Error('ctx.db() is only available inside tests and hooks');
          return main;
        },
        async createDatabase(opts = {}) {
          const migrated = opts.migrated ?? true;
          const db =
            driver === 'pglite'
              ? await openPgliteDatabase(undefined, { loadDataDir: await pgliteSnapshot(migrated) })
              : await openPostgresDatabase(await ctx.createDatabaseUrl({ migrated }), { max: 5 });
          opened.push(db);
          return db;
        },
        async createDatabaseUrl(opts = {}) {
          const server = inject('sealpostPostgres');
          if (driver !== 'postgres' || !server) throw new Error('createDatabaseUrl() is for the postgres driver only');
          const name = `${server.prefix}${randomHex(8)}`;
          await createDatabase(server.url, name, (opts.migrated ?? true) ? server.template : 'template0');
          created.push(name);
          return databaseUrl(server.url, name);
        },
      };

      beforeAll(async () => {
        main = await ctx.createDatabase();
      });

      afterAll(async () => {
        await Promise.allSettled(opened.map((db) => db.close()));
        const server = inject('sealpostPostgres');
        if (server) for (const name of created) await dropDatabase(server.url, name);
      });

      fn(ctx);
    });
  }
}

const snapshots = new Map<boolean, Promise<Uint8Array<ArrayBuffer>>>();

// Read once per process; each database gets its own Blob over the same bytes.
async function pgliteSnapshot(migrated: boolean): Promise<Blob> {
  let bytes = snapshots.get(migrated);
  if (!bytes) {
    const paths = inject('sealpostPgliteSnapshots');
    bytes = readFile(migrated ? paths.migrated : paths.empty).then((b) => new Uint8Array(b));
    snapshots.set(migrated, bytes);
  }
  return new Blob([await bytes]);
}
