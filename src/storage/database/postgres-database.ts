// PostgreSQL through a node-postgres pool: the production driver, for scaling out.
import pg from 'pg';
import { preparedName } from './prepared.ts';
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

/** Options for {@link openPostgresDatabase}. */
export interface PostgresDatabaseOptions {
  /** Pool size per process (default 10). */
  max?: number;
  /** How long to wait for a connection before failing with 'database_unavailable' (default 10 s). */
  connectionTimeoutMillis?: number;
  /**
   * Run the texts registered with prepared() as named statements (default true). Off for a
   * connection pooler that cannot carry named statements from one transaction to the next
   * (PgBouncer in transaction mode before 1.21, or without max_prepared_statements).
   */
  preparedStatements?: boolean;
}

const OID = { INT8: 20, NUMERIC: 1700, DATE: 1082, TEXT_ARRAY: 1009, INT8_ARRAY: 1016, NUMERIC_ARRAY: 1231, DATE_ARRAY: 1182 };
const asString = (value: string): string => value;

// Pinned per pool rather than through the global pg.types registry, so another module
// changing global parsers cannot change what repositories receive. Matches PGlite's settings.
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === OID.INT8 || oid === OID.NUMERIC || oid === OID.DATE) return asString;
    if (oid === OID.INT8_ARRAY || oid === OID.NUMERIC_ARRAY || oid === OID.DATE_ARRAY) {
      return pg.types.getTypeParser(OID.TEXT_ARRAY, 'text');
    }
    return pg.types.getTypeParser(oid, format ?? 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * Opens a pool on `url` and checks it can connect, so a wrong DATABASE_URL fails at start-up
 * with 'database_unavailable' rather than on the first request.
 */
export async function openPostgresDatabase(url: string, opts: PostgresDatabaseOptions = {}): Promise<Database> {
  let pool: pg.Pool;
  try {
    pool = new pg.Pool({
      connectionString: url,
      max: opts.max ?? 10,
      connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 10_000,
      application_name: 'sealpost',
      types: TYPES,
    });
  } catch (err) {
    // The message must not repeat the URL: it may carry a password.
    throw errors.unavailable('database_unavailable', 'DATABASE_URL is not a valid PostgreSQL connection string', err);
  }
  // An idle client died (server restart, network drop). pg discards it and opens a new one on
  // the next checkout; without a listener the 'error' event would crash the process.
  pool.on('error', () => {});
  const db = new PostgresDatabaseImpl(pool, opts.preparedStatements ?? true);
  try {
    await db.ping();
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
  return db;
}

class PostgresDatabaseImpl implements Database {
  readonly driver = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #guard = new TransactionGuard();
  #closed = false;

  readonly #named: (text: string) => string | undefined;

  constructor(pool: pg.Pool, preparedStatements: boolean) {
    this.#pool = pool;
    this.#named = preparedStatements ? preparedName : () => undefined;
  }

  async query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<QueryResult<Row>> {
    this.#guard.assertOutside();
    try {
      const name = this.#named(text);
      const r = await (name ? this.#pool.query({ name, text, values: params }) : this.#pool.query(text, params));
      return normaliseResult(r.rows as Row[], r.rowCount);
    } catch (err) {
      throw toAppError(err);
    }
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    this.#guard.assertOutside();
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw toAppError(err);
    }
    const state: TransactionState = { open: true };
    let broken = false;
    try {
      await run(client, 'BEGIN');
      const result = await this.#guard.run(state, () => fn(transactionHandle(client, state, this.#named)));
      await run(client, 'COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch {
        // The connection itself failed; destroy it rather than hand a half-open transaction
        // to the next caller.
        broken = true;
      }
      throw isDriverError(err) ? toAppError(err) : err;
    } finally {
      state.open = false;
      client.release(broken);
    }
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}

async function run(client: pg.PoolClient, text: string): Promise<void> {
  try {
    await client.query(text);
  } catch (err) {
    throw toAppError(err);
  }
}

function transactionHandle(client: pg.PoolClient, state: TransactionState, named: (text: string) => string | undefined): Transaction {
  return {
    async query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<QueryResult<Row>> {
      assertOpen(state);
      try {
        const name = named(text);
        const r = await (name ? client.query({ name, text, values: params }) : client.query(text, params));
        return normaliseResult(r.rows as Row[], r.rowCount);
      } catch (err) {
        throw toAppError(err);
      }
    },
    async script(text: string): Promise<void> {
      assertOpen(state);
      // Without parameters node-postgres uses the simple query protocol, which accepts
      // several statements in one string.
      await run(client, text);
    },
  };
}
