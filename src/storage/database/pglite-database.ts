// The embedded default: PostgreSQL compiled to WebAssembly, in this process, one connection.
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PGlite, types, type Transaction as PgliteTransaction } from '@electric-sql/pglite';
import { errors } from '../../shared/app-error.ts';
import type { Database, QueryResult, Transaction } from './database.ts';
import {
  assertOpen,
  isDriverError,
  normaliseResult,
  toAppError,
  TransactionGuard,
  type TransactionState,
} from './driver-support.ts';

/** Options for {@link openPgliteDatabase}. */
export interface PgliteDatabaseOptions {
  /** A tarball from `dumpDataDir()` to start from (test snapshots, restores). */
  loadDataDir?: Blob | File;
}

/** A PGlite-backed Database that can also snapshot its whole data directory. */
export interface PgliteDatabase extends Database {
  readonly driver: 'pglite';
  /** Tarball of the data directory (uncompressed tar), loadable with `loadDataDir`. */
  dumpDataDir(): Promise<Blob>;
}

// Match node-postgres: PGlite would return int8 as number or bigint and date as a Date at UTC
// midnight; strings are exact and identical on both drivers. Array types use these too.
const PARSERS = {
  [types.INT8]: (value: string) => value,
  [types.DATE]: (value: string) => value,
};

/**
 * Opens PGlite on `dataDir` (created if missing), or in memory when `dataDir` is undefined.
 * One process at a time per data directory: a second open fails with 'database_locked'.
 */
export async function openPgliteDatabase(
  dataDir: string | undefined,
  opts: PgliteDatabaseOptions = {},
): Promise<PgliteDatabase> {
  const release = dataDir === undefined ? async () => {} : await lockDataDir(dataDir);
  let pg: PGlite;
  try {
    if (dataDir !== undefined) await mkdir(dataDir, { recursive: true });
    pg = await PGlite.create({
      ...(dataDir !== undefined ? { dataDir } : {}),
      ...(opts.loadDataDir !== undefined ? { loadDataDir: opts.loadDataDir } : {}),
      parsers: PARSERS,
    });
  } catch (err) {
    await release();
    throw errors.unavailable('database_unavailable', `could not open the embedded database: ${messageOf(err)}`, err);
  }
  return new PgliteDatabaseImpl(pg, release);
}

const lockedInThisProcess = new Set<string>();

/**
 * Takes `<dataDir>.lock` (holding our pid) for as long as the database is open. PGlite itself
 * lets two processes open one data directory, and their writes would corrupt it. A lock left by
 * a process that has died is taken over.
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const lockFile = `${dataDir.replace(/[\\/]+$/, '')}.lock`;
  const locked = () =>
    errors.unavailable('database_locked', `another process has the embedded database open (lock file ${lockFile})`);
  if (lockedInThisProcess.has(lockFile)) throw locked();
  await mkdir(dirname(lockFile), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      lockedInThisProcess.add(lockFile);
      return async () => {
        lockedInThisProcess.delete(lockFile);
        await unlink(lockFile).catch(() => {});
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw errors.unavailable('database_unavailable', `could not lock ${lockFile}`, err);
      const pid = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
      // Our own pid can only be a leftover of an earlier life (a restarted container is pid 1
      // again): this process's own locks are in lockedInThisProcess.
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) throw locked();
      await unlink(lockFile).catch(() => {});
    }
  }
  throw locked();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

class PgliteDatabaseImpl implements PgliteDatabase {
  readonly driver = 'pglite' as const;
  readonly #pg: PGlite;
  readonly #guard = new TransactionGuard();
  readonly #release: () => Promise<void>;
  #closed = false;

  constructor(pg: PGlite, release: () => Promise<void>) {
    this.#pg = pg;
    this.#release = release;
  }

  async query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<QueryResult<Row>> {
    this.#guard.assertOutside();
    try {
      const r = await this.#pg.query<Row>(text, params);
      return normaliseResult(r.rows, r.rowCount ?? r.affectedRows);
    } catch (err) {
      throw toAppError(err);
    }
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    this.#guard.assertOutside();
    const state: TransactionState = { open: true };
    try {
      return await this.#pg.transaction((raw) => this.#guard.run(state, () => fn(transactionHandle(raw, state))));
    } catch (err) {
      // Errors from tx.query are AppErrors already; COMMIT failures arrive raw; errors thrown
      // by `fn` itself pass through untouched.
      throw isDriverError(err) ? toAppError(err) : err;
    } finally {
      state.open = false;
    }
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  async dumpDataDir(): Promise<Blob> {
    this.#guard.assertOutside();
    return this.#pg.dumpDataDir('none');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#pg.close();
    } finally {
      await this.#release();
    }
  }
}

function transactionHandle(raw: PgliteTransaction, state: TransactionState): Transaction {
  return {
    async query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<QueryResult<Row>> {
      assertOpen(state);
      try {
        const r = await raw.query<Row>(text, params);
        return normaliseResult(r.rows, r.rowCount ?? r.affectedRows);
      } catch (err) {
        throw toAppError(err);
      }
    },
    async script(text: string): Promise<void> {
      assertOpen(state);
      try {
        await raw.exec(text);
      } catch (err) {
        throw toAppError(err);
      }
    },
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
