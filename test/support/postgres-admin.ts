// Creating and dropping the PostgreSQL databases the storage tests run in. Names carry the
// run's start time so a later run can tell a crashed run's leftovers from a live run's.
import type { QueryResult } from '../../src/storage/database/database.ts';
import { openPostgresDatabase } from '../../src/storage/database/postgres-database.ts';

/** Prefix of the migrated template database of one run. */
export const TEMPLATE_PREFIX = 'sealpost_template_';
/** Prefix of the per-file databases cloned from a template. */
export const TEST_DATABASE_PREFIX = 'sealpost_test_';

const STALE_AFTER_SECONDS = 6 * 60 * 60;
const SAFE_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** A fresh run id: start time in base 36, then random hex (`<time>_<random>`). */
export function newRunId(): string {
  return `${Math.floor(Date.now() / 1000).toString(36)}_${randomHex(8)}`;
}

/** Random lower-case hex of `length` characters. */
export function randomHex(length: number): string {
  return crypto.randomUUID().replace(/-/g, '').slice(0, length);
}

/** True for a test or template database created more than six hours ago. */
export function isStaleTestDatabase(name: string): boolean {
  const rest = name.startsWith(TEMPLATE_PREFIX)
    ? name.slice(TEMPLATE_PREFIX.length)
    : name.startsWith(TEST_DATABASE_PREFIX)
      ? name.slice(TEST_DATABASE_PREFIX.length)
      : undefined;
  const started = rest === undefined ? NaN : parseInt(rest.split('_')[0] ?? '', 36);
  return Number.isFinite(started) && Date.now() / 1000 - started > STALE_AFTER_SECONDS;
}

/** `url` pointing at database `name` instead. */
export function databaseUrl(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${assertSafeName(name)}`;
  return u.toString();
}

/** Runs one statement on the server's admin database (the one TEST_DATABASE_URL names). */
export async function adminQuery<Row = Record<string, unknown>>(url: string, text: string, params?: unknown[]): Promise<QueryResult<Row>> {
  const db = await openPostgresDatabase(url, { max: 1 });
  try {
    return await db.query<Row>(text, params);
  } finally {
    await db.close();
  }
}

/** Creates database `name`, empty or as a copy of `template`. */
export async function createDatabase(url: string, name: string, template = 'template0'): Promise<void> {
  const sql = `CREATE DATABASE ${assertSafeName(name)} TEMPLATE ${assertSafeName(template)}`;
  // PostgreSQL refuses to copy a template while another session is connected to it; the
  // template's own set-up connection may still be closing, so retry briefly.
  for (let attempt = 0; ; attempt++) {
    try {
      await adminQuery(url, sql);
      return;
    } catch (err) {
      const sqlState = (err as { details?: { sqlState?: string } }).details?.sqlState;
      if (sqlState !== '55006' || attempt >= 20) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100 * (attempt + 1)));
    }
  }
}

/** Drops database `name`, disconnecting anyone still connected. */
export async function dropDatabase(url: string, name: string): Promise<void> {
  await adminQuery(url, `DROP DATABASE IF EXISTS ${assertSafeName(name)} WITH (FORCE)`);
}

// Database names cannot be parameters; only names we generated ever reach the SQL text.
function assertSafeName(name: string): string {
  if (!SAFE_NAME.test(name)) throw new Error(`unsafe database name: ${name}`);
  return name;
}
