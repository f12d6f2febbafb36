// The secure-messages capability, assembled: what the runtime builds and the HTTP layer and
// job runner use.
import type { ContentStore } from '../content/content.service.ts';
import type { JobHandler } from '../jobs/job.runner.ts';
import type { KeyService } from '../keys/key.service.ts';
import type { Mailer } from '../mail/mailer.ts';
import { RateLimiter } from '../rate-limit/rate-limiter.ts';
import type { Clock } from '../shared/clock.ts';
import type { Database } from '../storage/database/database.ts';
import { AccessRequestService, NOTIFY_ACCESS_DECISION_JOB, NOTIFY_ACCESS_REQUEST_JOB } from './access-request.service.ts';
import { MessageService, NOTIFY_RECIPIENT_JOB, type SendGuard } from './message.service.ts';
import { accessDecisionJob, accessRequestJob, notificationJob } from './notification.job.ts';
import { RecipientAccessService } from './recipient-access.service.ts';
import { ReplyService } from './reply.service.ts';
import { UploadService } from './upload.service.ts';

export interface Messaging {
  db: Database;
  messages: MessageService;
  uploads: UploadService;
  access: RecipientAccessService;
  /** Access requests from forwarded links, and the sender's decisions. */
  accessRequests: AccessRequestService;
  /** Secure replies (and their uploads) by verified recipients. */
  replies: ReplyService;
  /** Job handlers this capability contributes to the runner. */
  jobs: Record<string, JobHandler>;
}

export function createMessaging(deps: { db: Database; content: ContentStore; keys: KeyService; mailer: Mailer; publicUrl: string; clock?: Clock; onEnqueued?: () => void; generateCode?: () => string; guard?: SendGuard }): Messaging {
  const now = deps.clock;
  const messages = new MessageService(deps.db, deps.content, deps.keys, { ...(deps.onEnqueued ? { onEnqueued: deps.onEnqueued } : {}), ...(now ? { now } : {}), ...(deps.guard ? { guard: deps.guard } : {}) });
  const limiter = new RateLimiter(deps.db, now);
  const access = new RecipientAccessService(deps.db, deps.content, deps.mailer, limiter, {
    publicUrl: deps.publicUrl,
    ...(now ? { now } : {}),
    ...(deps.generateCode ? { generateCode: deps.generateCode } : {}),
  });
  const uploads = new UploadService(deps.db, deps.content);
  const accessRequests = new AccessRequestService(deps.db, deps.mailer, limiter, messages, {
    ...(now ? { now } : {}),
    ...(deps.generateCode ? { generateCode: deps.generateCode } : {}),
    ...(deps.onEnqueued ? { onEnqueued: deps.onEnqueued } : {}),
  });
  return {
    db: deps.db,
    messages,
    uploads,
    access,
    accessRequests,
    replies: new ReplyService(deps.db, deps.content, access, messages, uploads, limiter, now ? { now } : {}),
    jobs: {
      [NOTIFY_RECIPIENT_JOB]: notificationJob({ db: deps.db, content: deps.content, messages, mailer: deps.mailer, publicUrl: deps.publicUrl }),
      [NOTIFY_ACCESS_REQUEST_JOB]: accessRequestJob({ db: deps.db, content: deps.content, mailer: deps.mailer }),
      [NOTIFY_ACCESS_DECISION_JOB]: accessDecisionJob({ db: deps.db, mailer: deps.mailer }),
    },
  };
}
