// Retention and legal hold, assembled: what the runtime, HTTP layer, CLI and the privacy
// benchmark use. docs/privacy.md "Retention".
import type { JobHandler } from '../../jobs/job.runner.ts';
import { retentionJob, RETENTION_JOB } from './retention.job.ts';
import type { RetentionReport } from './retention.model.ts';
import { RetentionService, type RetentionDeps, type RunOptions } from './retention.service.ts';

/** The retention capability. */
export interface Retention {
  service: RetentionService;
  /** One run (dry or not); returns the stored report. The benchmark times this. */
  runRetention(opts: RunOptions): Promise<RetentionReport>;
  /** Job handlers to register with the JobRunner. */
  jobs: Record<string, JobHandler>;
}

/** Builds retention over the given dependencies. */
export function createRetention(deps: RetentionDeps): Retention {
  const service = new RetentionService(deps);
  return {
    service,
    runRetention: (opts) => service.run(opts),
    jobs: { [RETENTION_JOB]: retentionJob({ db: deps.db, retention: service, ...(deps.clock ? { clock: deps.clock } : {}) }) },
  };
}
