// Pieces both drivers share, so PGlite and PostgreSQL fail and behave the same way. Internal to
// src/storage/database: repositories see only the Database interface.
import { AsyncLocalStorage } from 'node:async_hooks';
import { AppError, errors } from '../../shared/app-error.ts';
import type { QueryResult } from './database.ts';

// SQLSTATEs whose meaning callers act on; everything else is `internal` 'database_error'.
const UNIQUE_VIOLATION = '23505';
const FOREIGN_KEY_VIOLATION = '23503';
const RETRYABLE = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected
const UNAVAILABLE_STATES = new Set(['3D000', '53300', '57P01', '57P02', '57P03']);
const UNAVAILABLE_CLASSES = ['08', '28']; // connection exception, invalid authorization
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);
// node-postgres and PGlite report lost or closed connections as plain Errors without a code.
const CONNECTION_MESSAGE =
  /connection terminated|timeout exceeded when trying to connect|not queryable|after calling end on the pool|pglite is closed/i;

interface DriverErrorFields {
  code?: unknown;
  severity?: unknown;
  message?: unknown;
  constraint?: unknown;
  table?: unknown;
  column?: unknown;
  name?: unknown;
}

/** True for an error raised by PostgreSQL/PGlite itself (it carries a SQLSTATE and severity). */
export function isDriverError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as DriverErrorFields;
  if (e.name === 'TransactionAbortedError') return true;
  return typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string';
}

/**
 * Turns a driver error into an AppError. The driver's own error is not kept as the cause:
 * PGlite attaches the statement's parameters to it, and parameters can be wrapped keys or
 * personal data that must never reach a log. Only the SQLSTATE, message and names survive.
 */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as DriverErrorFields;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const message = redactValue(typeof e.message === 'string' ? e.message : String(err));
  const details: Record<string, unknown> = {};
  if (code !== undefined) details.sqlState = code;
  for (const key of ['constraint', 'table', 'column'] as const) {
    if (typeof e[key] === 'string') details[key] = e[key];
  }
  const cause = new Error(message);
  cause.name = 'DatabaseError';

  if (code === UNIQUE_VIOLATION) {
    return new AppError('conflict', 'unique_violation', `duplicate value violates ${String(details.constraint ?? 'a unique constraint')}`, details, { cause });
  }
  if (code === FOREIGN_KEY_VIOLATION) {
    return new AppError('conflict', 'foreign_key_violation', `reference violates ${String(details.constraint ?? 'a foreign key')}`, details, { cause });
  }
  if (code !== undefined && RETRYABLE.has(code)) {
    return new AppError('conflict', 'transaction_conflict', 'the transaction conflicted with another one; retry it', details, { cause });
  }
  if (
    (code !== undefined &&
      (UNAVAILABLE_STATES.has(code) || NETWORK_CODES.has(code) || UNAVAILABLE_CLASSES.includes(code.slice(0, 2)))) ||
    (code === undefined && CONNECTION_MESSAGE.test(message))
  ) {
    return new AppError('unavailable', 'database_unavailable', `database unavailable: ${message}`, details, { cause });
  }
  return new AppError('internal', 'database_error', `database error${code ? ` ${code}` : ''}: ${message}`, details, { cause });
}

/**
 * Removes the input value PostgreSQL quotes at the end of data errors
 * (`invalid input syntax for type uuid: "…"`): it is whatever the caller passed, possibly a
 * secret or personal data. Names of constraints and relations are kept; they are schema.
 */
export function redactValue(message: string): string {
  return message.replace(/: ".*"$/s, ': "[redacted]"');
}

/** Driver-neutral result: rows plus a row count that is never null. */
export function normaliseResult<Row>(rows: Row[], rowCount: number | null | undefined): QueryResult<Row> {
  return { rows, rowCount: rowCount ?? 0 };
}

/** State of one open transaction, shared by its handle and the context guard. */
export interface TransactionState {
  open: boolean;
}

/**
 * Remembers, per database, whether the running code is inside one of its transactions.
 * Using the database (instead of `tx`) there is a bug on both drivers — a second connection
 * that cannot see the transaction's writes on PostgreSQL, a wait that never ends on PGlite —
 * so it fails at once instead.
 */
export class TransactionGuard {
  readonly #context = new AsyncLocalStorage<TransactionState>();

  /** Throws when called from inside an open transaction of this database. */
  assertOutside(): void {
    if (this.#context.getStore()?.open) {
      throw errors.internal(
        'query_outside_transaction',
        'used the database inside one of its own transactions; use the transaction handle (tx) instead',
      );
    }
  }

  /** Runs `fn` marked as inside the transaction `state`. */
  run<T>(state: TransactionState, fn: () => Promise<T>): Promise<T> {
    return this.#context.run(state, fn);
  }
}

/** Throws when a transaction handle is used after its transaction ended. */
export function assertOpen(state: TransactionState): void {
  // On PostgreSQL the connection goes back to the pool when the transaction ends; a late
  // query would silently run outside any transaction, or inside someone else's.
  if (!state.open) {
    throw errors.internal('transaction_closed', 'the transaction has already ended; queries must finish inside it');
  }
}
