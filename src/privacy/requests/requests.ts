// Data subject requests, assembled for the runtime, HTTP layer and CLI.
import type { KeyProvider } from '../../crypto/key-provider.ts';
import type { Mailer } from '../../mail/mailer.ts';
import { RateLimiter } from '../../rate-limit/rate-limiter.ts';
import type { Clock } from '../../shared/clock.ts';
import { systemClock } from '../../shared/clock.ts';
import type { BlobStore } from '../../storage/blob/blob-store.ts';
import type { Database } from '../../storage/database/database.ts';
import type { ConsentHooks } from '../consent/consent.model.ts';
import type { SubjectEngine } from '../subjects/subject.model.ts';
import type { JobHandler } from '../../jobs/job.runner.ts';
import { ExportVault } from './export-vault.ts';
import { requestNoticeJob, SUBJECT_REQUEST_NOTICE_JOB } from './request.notices.ts';
import { SubjectRequestService } from './request.service.ts';

export type { RequestScope, SubjectRequestInput } from './request.service.ts';
export { SubjectRequestService } from './request.service.ts';

/** What the rest of Sealpost uses. */
export interface SubjectRequests {
  service: SubjectRequestService;
  vault: ExportVault;
  /** Handlers for the server's job runner: the notices to requesters and customers. */
  jobs: Record<string, JobHandler>;
}

/**
 * Builds the workflow. `blobs` and `provider` hold the sealed access exports (the home region's
 * store and root key: the export is Sealpost-as-controller data, not a tenant's Content).
 */
export function createSubjectRequests(deps: {
  db: Database;
  mailer: Mailer;
  blobs: BlobStore;
  provider: KeyProvider;
  publicUrl: string;
  engine?: SubjectEngine | undefined;
  consent?: ConsentHooks | undefined;
  now?: Clock;
  generateCode?: () => string;
  /** Wakes the job runner after a notice was queued. */
  onEnqueued?: () => void;
}): SubjectRequests {
  const now = deps.now ?? systemClock;
  const vault = new ExportVault(deps.db, deps.blobs, deps.provider, now);
  const service = new SubjectRequestService({
    db: deps.db,
    mailer: deps.mailer,
    limiter: new RateLimiter(deps.db, now),
    vault,
    publicUrl: deps.publicUrl,
    engine: deps.engine,
    consent: deps.consent,
    now,
    ...(deps.generateCode ? { generateCode: deps.generateCode } : {}),
    ...(deps.onEnqueued ? { onEnqueued: deps.onEnqueued } : {}),
  });
  return { service, vault, jobs: { [SUBJECT_REQUEST_NOTICE_JOB]: requestNoticeJob({ db: deps.db, mailer: deps.mailer, now }) } };
}
