import { expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/database.ts';
import { fakeClock } from '../../test/support/accounts.ts';
import { keyHash, RateLimiter, type RateLimitRule } from './rate-limiter.ts';

const rule = (scope = `test_${crypto.randomUUID().slice(0, 8)}`): RateLimitRule => ({ scope, limit: 3, windowSeconds: 60 });

describeEachDatabase('RateLimiter', (ctx) => {
  it('does allow `limit` hits per window, then refuse with the seconds left in the window', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(ctx.db(), clock);
    const r = rule();
    for (let i = 1; i <= 3; i++) expect(await limiter.consume(r, 'k')).toMatchObject({ allowed: true, hits: i });
    clock.advance(20_000);
    expect(await limiter.consume(r, 'k')).toEqual({ allowed: false, hits: 4, retryAfterSeconds: 40 });
    expect(await limiter.peek(r, 'k')).toMatchObject({ allowed: false, retryAfterSeconds: 40 });
  });

  it('does start a fresh window once the old one has ended', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(ctx.db(), clock);
    const r = rule();
    for (let i = 0; i < 4; i++) await limiter.consume(r, 'k');
    clock.advance(60_000);
    expect(await limiter.peek(r, 'k')).toEqual({ allowed: true, hits: 0, retryAfterSeconds: 0 });
    expect(await limiter.consume(r, 'k')).toMatchObject({ allowed: true, hits: 1, retryAfterSeconds: 60 });
  });

  it('does keep keys and scopes apart, and refund and reset one key only', async () => {
    const limiter = new RateLimiter(ctx.db(), fakeClock());
    const a = rule();
    const b = rule();
    for (let i = 0; i < 3; i++) await limiter.consume(a, 'k');
    expect((await limiter.consume(a, 'other')).hits).toBe(1);
    expect((await limiter.consume(b, 'k')).hits).toBe(1);
    await limiter.refund(a, 'k');
    expect((await limiter.peek(a, 'k')).hits).toBe(2);
    await limiter.reset(a, 'k');
    expect((await limiter.peek(a, 'k')).hits).toBe(0);
    expect((await limiter.peek(a, 'other')).hits).toBe(1);
  });

  it('does count every one of many concurrent hits exactly once', async () => {
    const limiter = new RateLimiter(ctx.db(), fakeClock());
    const r = { ...rule(), limit: 10 };
    const results = await Promise.all(Array.from({ length: 25 }, () => limiter.consume(r, 'burst')));
    expect(results.map((x) => x.hits).sort((x, y) => x - y)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(results.filter((x) => x.allowed)).toHaveLength(10);
  });

  it('does store only a hash of the key, never the key itself', async () => {
    const limiter = new RateLimiter(ctx.db(), fakeClock());
    const r = rule();
    await limiter.consume(r, 'alice@example.org');
    const { rows } = await ctx.db().query<{ key_hash: Uint8Array; scope: string }>('SELECT key_hash, scope FROM rate_limits WHERE scope = $1', [r.scope]);
    expect(rows).toHaveLength(1);
    expect(Buffer.from(rows[0]!.key_hash).equals(Buffer.from(keyHash(r, 'alice@example.org')))).toBe(true);
    const dump = JSON.stringify((await ctx.db().query('SELECT * FROM rate_limits')).rows);
    expect(dump).not.toContain('alice');
  });

  it('does purge counters whose window has ended, and only those', async () => {
    const clock = fakeClock(new Date('2031-01-01T00:00:00Z'));
    const limiter = new RateLimiter(ctx.db(), clock);
    const short = { ...rule(), windowSeconds: 10 };
    const long = { ...rule(), windowSeconds: 3600 };
    await limiter.consume(short, 'k');
    await limiter.consume(long, 'k');
    clock.advance(11_000);
    expect(await limiter.purgeEnded()).toBeGreaterThanOrEqual(1);
    const { rows } = await ctx.db().query<{ scope: string }>('SELECT scope FROM rate_limits WHERE scope IN ($1, $2)', [short.scope, long.scope]);
    expect(rows.map((r) => r.scope)).toEqual([long.scope]);
  });
});
