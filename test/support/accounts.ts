// Builders for account tests: users inserted directly (with a real Argon2id hash), unique
// addresses, and a clock tests move by hand instead of sleeping.
import { randomUUID } from 'node:crypto';
import type { Role, User } from '../../src/accounts/account.model.ts';
import { insertUser, toUser, updatePasswordHash } from '../../src/accounts/user.repository.ts';
import { hashPassword } from '../../src/crypto/password.ts';
import type { Clock } from '../../src/shared/clock.ts';
import type { Sql } from '../../src/storage/database/database.ts';
import { buildTenant } from './factories.ts';

let counter = 0;

/** A fresh lower-case address at example.org, unique within this process. */
export function uniqueEmail(prefix = 'user'): string {
  counter += 1;
  return `${prefix.toLowerCase()}-${counter}-${randomUUID().slice(0, 8)}@example.org`;
}

/** A clock that stands still until `advance(ms)` moves it. */
export interface FakeClock extends Clock {
  advance(ms: number): void;
  set(date: Date): void;
}

export function fakeClock(start: Date = new Date()): FakeClock {
  let now = start.getTime();
  const clock = (() => new Date(now)) as FakeClock;
  clock.advance = (ms: number) => {
    now += ms;
  };
  clock.set = (date: Date) => {
    now = date.getTime();
  };
  return clock;
}

/** A user as tests get it: the stored user plus the password it can sign in with. */
export interface BuiltUser {
  user: User;
  tenantId: string;
  email: string;
  /** The password set for it ('' when built with `password: null`). */
  password: string;
}

/**
 * Inserts a user (in a new tenant unless `tenantId` is given), with a password unless
 * `password: null` (an invited user who has not set one yet).
 */
export async function buildUser(sql: Sql, opts: { tenantId?: string; role?: Role; email?: string; displayName?: string; password?: string | null } = {}): Promise<BuiltUser> {
  const tenantId = opts.tenantId ?? (await buildTenant(sql)).id;
  const email = (opts.email ?? uniqueEmail()).toLowerCase();
  const now = new Date();
  const row = await insertUser(sql, { id: randomUUID(), tenantId, email, displayName: opts.displayName ?? email.split('@')[0]!, role: opts.role ?? 'author', now });
  const password = opts.password === undefined ? `test password ${randomUUID()}` : opts.password;
  if (password !== null) await updatePasswordHash(sql, row.id, await hashPassword(password), now);
  const { rows } = await sql.query<Parameters<typeof toUser>[0]>('SELECT * FROM users WHERE id = $1', [row.id]);
  return { user: toUser(rows[0]!), tenantId, email, password: password ?? '' };
}
