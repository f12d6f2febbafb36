// Statements worth preparing once per connection: the hot paths' statements (every key
// release, send, sign-in by token, job). PostgreSQL then skips parsing and, once it has settled
// on a plan, planning on each execution — for the key release's join with its sub-selects that
// halved the database's CPU per release (docs/development.md, bench:api).
//
// Opt-in, by wrapping the SQL text where it is defined: `const SQL = prepared(`SELECT …`)`.
// The text itself is unchanged and works anywhere; on PostgreSQL the driver runs registered
// texts as named statements (postgres-database.ts); PGlite runs them as before. Only constant
// texts belong here, so the set stays small; list columns rather than `*`, so that a migration
// adding a column cannot invalidate a statement an older process has prepared.
import { createHash } from 'node:crypto';

const names = new Map<string, string>();

/** Registers `text` to be prepared once per connection on PostgreSQL; returns it unchanged. */
export function prepared(text: string): string {
  if (!names.has(text)) names.set(text, `sp_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`);
  return text;
}

/** The statement name of a registered text, or undefined. */
export function preparedName(text: string): string | undefined {
  return names.get(text);
}
