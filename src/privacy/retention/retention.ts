// Retention and legal hold, assembled: what the runtime, HTTP layer, CLI and the privacy
// benchmark use. docs/privacy.md "Retention".
import { JobRunner, type JobHandler } from '../../jobs/job.runner.ts';
import { createLogger } from '../../shared/logger.ts';
import { retentionJob, RETENTION_JOB } from './retention.job.ts';
import type { RetentionReport } from './retention.model.ts';
import { RetentionService, type RetentionDeps, type RunOptions } from './retention.service.ts';

/** The retention capability. */
export interface Retention {
  service: RetentionService;
  /** One run (dry or not); returns the stored report. The benchmark times this. */
  runRetention(opts: RunOptions): Promise<RetentionReport>;
  /** The retention job's handler (kind `retention_run`). */
  jobs: Record<string, JobHandler>;
  /**
   * A runner of its own for the retention job (started by the server): a run can take minutes,
   * and the shared runner waits for its whole claimed batch, which would hold up notifications.
   */
  runner: JobRunner;
}

/** Builds retention over the given dependencies. */
export function createRetention(deps: RetentionDeps): Retention {
  const service = new RetentionService(deps);
  const jobs = { [RETENTION_JOB]: retentionJob({ db: deps.db, retention: service, ...(deps.clock ? { clock: deps.clock } : {}) }) };
  return {
    service,
    runRetention: (opts) => service.run(opts),
    jobs,
    // Polls once a minute for the (daily) job; the lease is extended by the run's heartbeat.
    runner: new JobRunner(deps.db, jobs, deps.logger ?? createLogger('silent'), { pollMs: 60_000, batch: 1, leaseSeconds: 120 }),
  };
}
