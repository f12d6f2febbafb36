import { expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/database.ts';
import { createLogger } from '../shared/logger.ts';
import { enqueueJob, enqueueJobs } from './job.queue.ts';
import { JobRunner } from './job.runner.ts';

describeEachDatabase('JobRunner', (ctx) => {
  it('does run a claimed batch concurrently, so one slow delivery does not hold up the others', async () => {
    const kind = `barrier_${crypto.randomUUID().slice(0, 8)}`;
    for (let i = 0; i < 3; i++) await enqueueJob(ctx.db(), { kind, payload: { i } });
    let active = 0;
    let peak = 0;
    let release!: () => void;
    const allStarted = new Promise<void>((resolve) => (release = resolve));
    const runner = new JobRunner(
      ctx.db(),
      {
        [kind]: {
          async run() {
            active++;
            peak = Math.max(peak, active);
            if (active === 3) release();
            // Sequential execution would wait here forever (and fail the attempt after 2 s).
            await Promise.race([allStarted, new Promise((_, reject) => setTimeout(() => reject(new Error('ran alone')), 2000))]);
            active--;
          },
        },
      },
      createLogger('silent'),
    );
    expect(await runner.runDue()).toBe(3);
    expect(peak).toBe(3);
    const { rows } = await ctx.db().query<{ status: string }>(`SELECT status FROM jobs WHERE kind = $1`, [kind]);
    expect(rows.map((r) => r.status)).toEqual(['done', 'done', 'done']);
  });

  it('does record each failure of a batch separately and schedule its retry', async () => {
    const kind = `flaky_${crypto.randomUUID().slice(0, 8)}`;
    for (let i = 0; i < 2; i++) await enqueueJob(ctx.db(), { kind, payload: { fail: i === 0 } });
    const runner = new JobRunner(ctx.db(), { [kind]: { async run(job) { if ((job.payload as { fail: boolean }).fail) throw Object.assign(new Error('relay down'), { code: 'smtp_send_failed' }); } } }, createLogger('silent'));
    expect(await runner.runDue()).toBe(2);
    const { rows } = await ctx.db().query<{ status: string; last_error: string | null; fail: string }>(`SELECT status, last_error, payload->>'fail' AS fail FROM jobs WHERE kind = $1 ORDER BY fail`, [kind]);
    expect(rows.map((r) => [r.fail, r.status, r.last_error])).toEqual([['false', 'done', null], ['true', 'queued', 'smtp_send_failed']]);
  });

  it('does enqueue several jobs in one statement, as enqueueJob would one by one, and run them', async () => {
    const kind = `many_${crypto.randomUUID().slice(0, 8)}`;
    const later = new Date(Date.now() + 3_600_000);
    const ids = await enqueueJobs(ctx.db(), [
      { kind, payload: { n: 1, text: 'quotes " and \\ backslashes, ünïcödé' } },
      { kind, payload: { n: 2 }, maxAttempts: 3 },
      { kind, payload: { n: 3 }, runAt: later },
    ]);
    expect(ids).toHaveLength(3);
    expect(await enqueueJobs(ctx.db(), [])).toEqual([]);
    const { rows } = await ctx.db().query<{ id: string; payload: Record<string, unknown>; status: string; max_attempts: number; run_at: Date }>(
      `SELECT id, payload, status, max_attempts, run_at FROM jobs WHERE kind = $1 ORDER BY payload->>'n'`,
      [kind],
    );
    expect(rows.map((r) => [r.id, r.payload, r.status, r.max_attempts])).toEqual([
      [ids[0], { n: 1, text: 'quotes " and \\ backslashes, ünïcödé' }, 'queued', 8],
      [ids[1], { n: 2 }, 'queued', 3],
      [ids[2], { n: 3 }, 'queued', 8],
    ]);
    expect(rows[2]!.run_at.getTime()).toBe(later.getTime());
    const seen: unknown[] = [];
    const runner = new JobRunner(ctx.db(), { [kind]: { async run(job) { seen.push(job.payload); } } }, createLogger('silent'));
    expect(await runner.runDue()).toBe(2); // the third is not due yet
    expect(seen).toHaveLength(2);
  });
});
