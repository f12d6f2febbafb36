// Database-backed rate limits, shared by every API node (an in-memory limiter would let an
// attacker multiply the limit by the number of nodes). Fixed windows: at most `limit` hits per
// key per window; a burst across a window boundary can reach twice the limit, which is fine
// for throttling guesses. Keys are hashed with their scope before they are stored, because they
// are often email or IP addresses.
import { sha256 } from '../crypto/hash.ts';
import { systemClock, type Clock } from '../shared/clock.ts';
import type { Sql } from '../storage/database/database.ts';
import { decrementCounter, deleteCounter, deleteEndedCounters, incrementCounter, readCounter } from './rate-limit.repository.ts';

/** A limit: at most `limit` hits per key in each window of `windowSeconds`. */
export interface RateLimitRule {
  /** What is limited, snake_case, e.g. 'sign_in_account'; part of the stored hash. */
  scope: string;
  limit: number;
  windowSeconds: number;
}

/** The answer for one key. */
export interface RateLimitDecision {
  allowed: boolean;
  /** Hits counted in the current window (including this one, for consume). */
  hits: number;
  /** Seconds until the window ends; 0 when there is no current window. */
  retryAfterSeconds: number;
}

/** Counts attempts per key in the rate_limits table. */
export class RateLimiter {
  constructor(
    private readonly sql: Sql,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Counts one attempt and says whether it is within the limit. */
  async consume(rule: RateLimitRule, key: string): Promise<RateLimitDecision> {
    const now = this.clock();
    const state = await incrementCounter(this.sql, keyHash(rule, key), rule.scope, now, new Date(now.getTime() + rule.windowSeconds * 1000));
    return { allowed: state.hits <= rule.limit, hits: state.hits, retryAfterSeconds: secondsUntil(state.expiresAt, now) };
  }

  /** Says whether one more attempt would be within the limit, without counting it. */
  async peek(rule: RateLimitRule, key: string): Promise<RateLimitDecision> {
    const now = this.clock();
    const state = await readCounter(this.sql, keyHash(rule, key), now);
    if (!state) return { allowed: true, hits: 0, retryAfterSeconds: 0 };
    return { allowed: state.hits < rule.limit, hits: state.hits, retryAfterSeconds: secondsUntil(state.expiresAt, now) };
  }

  /** Gives back one counted attempt (a sign-in that succeeded should not count against anyone). */
  async refund(rule: RateLimitRule, key: string): Promise<void> {
    await decrementCounter(this.sql, keyHash(rule, key), this.clock());
  }

  /** Forgets every attempt counted for `key`. */
  async reset(rule: RateLimitRule, key: string): Promise<void> {
    await deleteCounter(this.sql, keyHash(rule, key));
  }

  /** Deletes counters whose window has ended (retention); returns how many. */
  async purgeEnded(): Promise<number> {
    return deleteEndedCounters(this.sql, this.clock());
  }
}

/** The stored form of a key: SHA-256 over scope and key, so equal keys of two scopes never collide. */
export function keyHash(rule: RateLimitRule, key: string): Uint8Array {
  return sha256(`${rule.scope}\u0000${key}`);
}

function secondsUntil(end: Date, now: Date): number {
  return Math.max(1, Math.ceil((end.getTime() - now.getTime()) / 1000));
}
