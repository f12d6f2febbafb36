// Consent and communication preferences, assembled (issue #6, part 7 and the subscriptions of
// part 5): preferences with history, double opt-in, one-click unsubscribe, sub-processor alerts.
import type { JobHandler } from '../../jobs/job.runner.ts';
import type { Mailer } from '../../mail/mailer.ts';
import type { Clock } from '../../shared/clock.ts';
import type { Database } from '../../storage/database/database.ts';
import type { Privacy } from '../privacy.ts';
import { CONFIRMATION_EMAIL_JOB, SUBPROCESSOR_ALERT_JOB, SubscriptionService } from '../subscriptions/subscription.service.ts';
import { confirmationEmailJob, subprocessorAlertJob } from '../subscriptions/subscription.jobs.ts';
import { ConsentService } from './consent.service.ts';
import { noticeVersionOf } from './notice-version.ts';

/** What the runtime, HTTP layer and CLI use. */
export interface Consent {
  /** Preferences, history, maySend / objectToMarketing (the ConsentHooks contract), links. */
  preferences: ConsentService;
  /** Public subscriptions to sub-processor changes. */
  subscriptions: SubscriptionService;
  /** Job handlers this capability contributes to the runner. */
  jobs: Record<string, JobHandler>;
}

/** Builds the capability; hooks sub-processor alerts into `privacy`'s register edits. */
export function createConsent(deps: { db: Database; mailer: Mailer; publicUrl: string; privacy: Privacy; now?: Clock; onEnqueued?: () => void; unsubscribeMailto?: string }): Consent {
  const clock = deps.now ? { now: deps.now } : {};
  const preferences = new ConsentService(deps.db, { ...clock, noticeVersion: async () => noticeVersionOf(await deps.privacy.notice()) });
  const subscriptions = new SubscriptionService(deps.db, preferences, { ...clock, ...(deps.onEnqueued ? { onEnqueued: deps.onEnqueued } : {}) });
  deps.privacy.register.onChange((tx, change) => subscriptions.onRegisterChange(tx, change));
  const jobDeps = { db: deps.db, consent: preferences, mailer: deps.mailer, publicUrl: deps.publicUrl, ...clock, ...(deps.unsubscribeMailto ? { unsubscribeMailto: deps.unsubscribeMailto } : {}) };
  return {
    preferences,
    subscriptions,
    jobs: {
      [CONFIRMATION_EMAIL_JOB]: confirmationEmailJob(jobDeps),
      [SUBPROCESSOR_ALERT_JOB]: subprocessorAlertJob(jobDeps),
    },
  };
}
