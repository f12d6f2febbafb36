/** Which engine a {@link Database} runs on. Same schema, same SQL, on both. */
export type DatabaseDriver = 'pglite' | 'postgres';

/** Result of one statement. Rows are plain objects keyed by column name. */
export interface QueryResult<Row> {
  rows: Row[];
  /** Rows inserted, updated or deleted (0 for SELECT on some drivers; use rows.length there). */
  rowCount: number;
}

/**
 * Anything that runs parameterised SQL: the database itself or an open transaction.
 *
 * Parameters: pass bytea as Uint8Array, timestamptz as Date, int8 as string or bigint, and
 * jsonb as `JSON.stringify(value)` — node-postgres would send a JS array as a PostgreSQL array
 * literal, so JSON text is the one form both drivers read the same way.
 */
export interface Sql {
  /** Runs one statement with `$1…$n` parameters. Never interpolate values into `text`. */
  query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<QueryResult<Row>>;
}

/** An open transaction: statements plus parameterless multi-statement scripts (migrations). */
export interface Transaction extends Sql {
  /** Runs a script of several statements separated by `;`. No parameters, ever. */
  script(text: string): Promise<void>;
}

/**
 * The storage engine behind every repository. Implementations: PGlite (embedded default) and
 * PostgreSQL (`DATABASE_URL`). Values come back normalised the same way on both: bytea as
 * Uint8Array (a Buffer on PostgreSQL, which is one), timestamptz as Date, jsonb as objects,
 * int8/bigint and numeric as strings (pass them through Number() where they are small),
 * date as 'YYYY-MM-DD' strings. Store instants as timestamptz, never timestamp.
 *
 * Errors are AppErrors: unique and foreign-key violations are `conflict`
 * ('unique_violation', 'foreign_key_violation'), serialisation failures and deadlocks
 * `conflict` 'transaction_conflict' (retry the transaction), an unreachable server
 * `unavailable` 'database_unavailable', anything else `internal` 'database_error'.
 */
export interface Database extends Sql {
  readonly driver: DatabaseDriver;
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws.
   * Inside `fn` use only `tx`: calling the database itself (or nesting `transaction`) throws
   * 'query_outside_transaction', because on PGlite's single connection it would wait forever.
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  /** Cheap round trip used by /readyz. Throws when the database cannot be reached. */
  ping(): Promise<void>;
  /** Closes connections; safe to call twice. */
  close(): Promise<void>;
}

/** True when `sql` is a whole {@link Database} rather than an open transaction. */
export function isDatabase(sql: Sql): sql is Database {
  return typeof (sql as Partial<Database>).transaction === 'function';
}

/**
 * Runs `fn` in a transaction: a new one when given the Database, or the caller's own when given
 * an open transaction (so a use case can make several repositories commit or fail together).
 */
export async function inTransaction<T>(sql: Sql, fn: (tx: Sql) => Promise<T>): Promise<T> {
  return isDatabase(sql) ? sql.transaction(fn) : fn(sql);
}
