// The daily retention run as a durable job (src/jobs/): one queued 'retention_run' job at a time,
// claimed by whichever server process polls first (FOR UPDATE SKIP LOCKED), retried with backoff
// when it fails, and re-queued for the next day when it succeeds or gives up.
import { enqueueJob, type Job } from '../../jobs/job.queue.ts';
import type { JobHandler } from '../../jobs/job.runner.ts';
import type { Database } from '../../storage/database/database.ts';
import type { RetentionService } from './retention.service.ts';

/** Kind of the retention job. */
export const RETENTION_JOB = 'retention_run';

/** Time between scheduled runs. */
export const RETENTION_INTERVAL_MS = 24 * 3600_000;

/**
 * Queues the next run at `runAt` unless one is already queued (or, with `orRunning`, running).
 * Serialised by an advisory lock so processes starting together queue one job, not several.
 */
export async function scheduleRetention(db: Database, runAt: Date, opts: { orRunning?: boolean } = {}): Promise<boolean> {
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('sealpost:retention_schedule'))`);
    const statuses = opts.orRunning ? ['queued', 'running'] : ['queued'];
    const { rows } = await tx.query(`SELECT 1 FROM jobs WHERE kind = $1 AND status = ANY($2::text[]) LIMIT 1`, [RETENTION_JOB, statuses]);
    if (rows.length > 0) return false;
    await enqueueJob(tx, { kind: RETENTION_JOB, payload: {}, maxAttempts: 5, runAt });
    return true;
  });
}

/** At start-up: makes sure a run is queued (the first one soon after start). */
export function ensureRetentionScheduled(db: Database, now: Date = new Date()): Promise<boolean> {
  return scheduleRetention(db, new Date(now.getTime() + 5 * 60_000), { orRunning: true });
}

/** The job handler: one full run (every tenant and the installation), then the next is queued. */
export function retentionJob(deps: { db: Database; retention: RetentionService; clock?: () => Date }): JobHandler {
  const next = () => scheduleRetention(deps.db, new Date((deps.clock?.() ?? new Date()).getTime() + RETENTION_INTERVAL_MS));
  return {
    async run(job: Job) {
      await deps.retention.run({ dryRun: false, triggeredBy: 'schedule', jobId: job.id });
      await next();
    },
    async onGiveUp() {
      await next();
    },
  };
}
