// Runs durable jobs in the background of the server process: polls for due jobs, runs each
// with its handler, retries with backoff, and stops cleanly (finishing what it started).
import type { Logger } from '../shared/logger.ts';
import type { Database } from '../storage/database/database.ts';
import { GroupCommit } from '../storage/database/group-commit.ts';
import { backoffSeconds, claimJobs, completeJobs, failJob, type Job } from './job.queue.ts';

/** Handles one kind of job. Throwing schedules a retry; `onGiveUp` runs after the last attempt. */
export interface JobHandler {
  run(job: Job): Promise<void>;
  onGiveUp?(job: Job, error: string): Promise<void>;
}

/** Polls and runs jobs. One per process; safe to run in several processes at once. */
export class JobRunner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  /** Jobs of a batch finish at about the same time: their completions go as one UPDATE. */
  private readonly completions: GroupCommit<string, void>;

  constructor(
    private readonly db: Database,
    private readonly handlers: Record<string, JobHandler>,
    private readonly logger: Logger,
    private readonly opts: { pollMs: number; batch: number; leaseSeconds: number } = { pollMs: 500, batch: 10, leaseSeconds: 120 },
  ) {
    this.completions = new GroupCommit(async (_key, batch) => {
      await completeJobs(this.db, batch.map((q) => q.item));
      for (const q of batch) q.resolve();
    }, 1000);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops polling and waits for the batch in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Runs every due job once (tests and `drain`); returns how many ran. */
  async runDue(): Promise<number> {
    const jobs = await claimJobs(this.db, Object.keys(this.handlers), this.opts.batch, this.opts.leaseSeconds);
    // The claimed batch runs concurrently: delivery waits mostly on the mail relay, so one job
    // at a time would let notifications fall far behind sends. runOne never throws.
    await Promise.all(jobs.map((job) => this.runOne(job)));
    return jobs.length;
  }

  /** Nudges the runner to poll now (after enqueueing work), instead of at the next tick. */
  wake(): void {
    if (!this.stopped && !this.running) this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
        if (!this.stopped) this.schedule(this.opts.pollMs);
      });
    }, ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      while (!this.stopped && (await this.runDue()) > 0) {
        // Keep going while there is work.
      }
    } catch (err) {
      this.logger.error({ err }, 'job polling failed');
    }
  }

  private async runOne(job: Job): Promise<void> {
    try {
      await this.attempt(job);
    } catch (err) {
      // Recording the outcome failed (database unavailable): the lease expires and the job runs again.
      this.logger.error({ err, jobId: job.id }, 'could not record a job outcome');
    }
  }

  private async attempt(job: Job): Promise<void> {
    const handler = this.handlers[job.kind]!;
    try {
      await handler.run(job);
      await this.completions.add('done', job.id);
    } catch (err) {
      const message = (err as { code?: string; message?: string }).code ?? (err as Error).message ?? 'failed';
      const retry = await failJob(this.db, job, message, backoffSeconds(job.attempt));
      this.logger.warn({ jobId: job.id, kind: job.kind, attempt: job.attempt, retry, error: message }, 'job attempt failed');
      if (!retry) await handler.onGiveUp?.(job, message).catch((e: unknown) => this.logger.error({ err: e, jobId: job.id }, 'job give-up handler failed'));
    }
  }
}
