// The secure-messages capability, assembled: what the runtime builds and the HTTP layer and
// job runner use.
import type { ContentStore } from '../content/content.service.ts';
import type { JobHandler } from '../jobs/job.runner.ts';
import type { KeyService } from '../keys/key.service.ts';
import type { Mailer } from '../mail/mailer.ts';
import { RateLimiter } from '../rate-limit/rate-limiter.ts';
import type { Clock } from '../shared/clock.ts';
import type { Database } from '../storage/database/database.ts';
import { MessageService, NOTIFY_RECIPIENT_JOB } from './message.service.ts';
import { notificationJob } from './notification.job.ts';
import { RecipientAccessService } from './recipient-access.service.ts';
import { UploadService } from './upload.service.ts';

export interface Messaging {
  db: Database;
  messages: MessageService;
  uploads: UploadService;
  access: RecipientAccessService;
  /** Job handlers this capability contributes to the runner. */
  jobs: Record<string, JobHandler>;
}

export function createMessaging(deps: { db: Database; content: ContentStore; keys: KeyService; mailer: Mailer; publicUrl: string; clock?: Clock; onEnqueued?: () => void; generateCode?: () => string }): Messaging {
  const now = deps.clock;
  const messages = new MessageService(deps.db, deps.content, deps.keys, { ...(deps.onEnqueued ? { onEnqueued: deps.onEnqueued } : {}), ...(now ? { now } : {}) });
  const access = new RecipientAccessService(deps.db, deps.content, deps.mailer, new RateLimiter(deps.db, now), {
    publicUrl: deps.publicUrl,
    ...(now ? { now } : {}),
    ...(deps.generateCode ? { generateCode: deps.generateCode } : {}),
  });
  return {
    db: deps.db,
    messages,
    uploads: new UploadService(deps.db, deps.content),
    access,
    jobs: { [NOTIFY_RECIPIENT_JOB]: notificationJob({ db: deps.db, content: deps.content, messages, mailer: deps.mailer, publicUrl: deps.publicUrl }) },
  };
}
