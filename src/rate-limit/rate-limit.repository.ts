// SQL for rate_limits: one fixed-window counter per hashed key. See rate-limiter.ts.
import type { Sql } from '../storage/database/database.ts';

/** A counter after an update. */
export interface CounterState {
  hits: number;
  expiresAt: Date;
}

/**
 * Counts one hit, starting a new window when the stored one has ended. One statement, so
 * concurrent hits on the same key are serialised by the row lock and none is lost.
 */
export async function incrementCounter(sql: Sql, keyHash: Uint8Array, scope: string, now: Date, windowEnd: Date): Promise<CounterState> {
  const { rows } = await sql.query<{ hits: number; expires_at: Date }>(
    `INSERT INTO rate_limits AS r (key_hash, scope, window_started_at, hits, expires_at)
     VALUES ($1, $2, $3, 1, $4)
     ON CONFLICT (key_hash) DO UPDATE SET
       window_started_at = CASE WHEN r.expires_at <= $3 THEN EXCLUDED.window_started_at ELSE r.window_started_at END,
       hits              = CASE WHEN r.expires_at <= $3 THEN 1 ELSE r.hits + 1 END,
       expires_at        = CASE WHEN r.expires_at <= $3 THEN EXCLUDED.expires_at ELSE r.expires_at END
     RETURNING hits, expires_at`,
    [keyHash, scope, now, windowEnd],
  );
  return { hits: rows[0]!.hits, expiresAt: rows[0]!.expires_at };
}

/** The counter's current window, or null when there is none or it has ended. */
export async function readCounter(sql: Sql, keyHash: Uint8Array, now: Date): Promise<CounterState | null> {
  const { rows } = await sql.query<{ hits: number; expires_at: Date }>('SELECT hits, expires_at FROM rate_limits WHERE key_hash = $1 AND expires_at > $2', [keyHash, now]);
  return rows[0] ? { hits: rows[0].hits, expiresAt: rows[0].expires_at } : null;
}

/** Takes one hit back from a current window (never below zero). */
export async function decrementCounter(sql: Sql, keyHash: Uint8Array, now: Date): Promise<void> {
  await sql.query('UPDATE rate_limits SET hits = GREATEST(hits - 1, 0) WHERE key_hash = $1 AND expires_at > $2', [keyHash, now]);
}

/** Removes a counter. */
export async function deleteCounter(sql: Sql, keyHash: Uint8Array): Promise<void> {
  await sql.query('DELETE FROM rate_limits WHERE key_hash = $1', [keyHash]);
}

/** Removes counters whose window ended before `now`; returns how many. */
export async function deleteEndedCounters(sql: Sql, now: Date): Promise<number> {
  return (await sql.query('DELETE FROM rate_limits WHERE expires_at <= $1', [now])).rowCount;
}
