// Subscriptions to sub-processor changes (issue #6 §5): anyone may ask, by email, to be told
// when the sub-processor register changes. Double opt-in: the request only sends a link; the
// preference is granted when the link is confirmed (ConsentService.confirm). Every change to a
// sub-processor queues one alert job per confirmed subscriber, in the transaction of the change.
//
// What the public endpoint must never reveal: whether an address is subscribed. Every valid
// request gets the same answer and queues the same email (for a subscriber, confirming again
// changes nothing); the email itself goes out from a job, so timing says nothing either.
import { enqueueJob } from '../../jobs/job.queue.ts';
import { requireAddress } from '../../messages/addresses.ts';
import { RateLimiter, type RateLimitRule } from '../../rate-limit/rate-limiter.ts';
import { errors } from '../../shared/app-error.ts';
import type { Clock } from '../../shared/clock.ts';
import type { Database, Sql } from '../../storage/database/database.ts';
import type { RecordedRegisterChange } from '../register/register.service.ts';
import * as repo from '../consent/consent.repository.ts';
import type { ConsentService } from '../consent/consent.service.ts';

/** Job that sends a double opt-in confirmation email. Payload: { confirmationId }. */
export const CONFIRMATION_EMAIL_JOB = 'consent.confirmation_email';
/** Job that sends one sub-processor change alert. Payload: { changeId, preferenceId }. */
export const SUBPROCESSOR_ALERT_JOB = 'privacy.subprocessor_alert';

/** Per client address: enough for a person, too few to flood strangers' inboxes. */
export const SUBSCRIBE_PER_IP: RateLimitRule = { scope: 'subprocessor_subscribe_ip', limit: 10, windowSeconds: 60 * 60 };
/** Per subscribed address: a few confirmation emails a day at most, whoever asks. */
export const SUBSCRIBE_PER_ADDRESS: RateLimitRule = { scope: 'subprocessor_subscribe_address', limit: 3, windowSeconds: 24 * 60 * 60 };

/** The answer to every accepted request, subscribed or not. */
export const SUBSCRIPTION_ACCEPTED = {
  status: 'confirmation_sent',
  message: 'If this address can receive email, a link to confirm the subscription is on its way. Nothing is sent until it is confirmed.',
} as const;

/** Public subscriptions to sub-processor changes, and the alerts. */
export class SubscriptionService {
  private readonly limiter: RateLimiter;

  constructor(
    private readonly db: Database,
    private readonly consent: ConsentService,
    private readonly opts: { now?: Clock; onEnqueued?: () => void },
  ) {
    this.limiter = new RateLimiter(db, opts.now);
  }

  /** A public request to receive sub-processor alerts at `emailInput`: queues the confirmation email. */
  async requestSubscription(emailInput: unknown, ctx: { ip?: string }): Promise<typeof SUBSCRIPTION_ACCEPTED> {
    if (typeof emailInput !== 'string') throw errors.invalid('invalid_address', 'email: required, an email address such as name@example.org', { field: 'email' });
    const email = requireAddress(emailInput, 'email');
    if (ctx.ip) await this.limit(SUBSCRIBE_PER_IP, ctx.ip);
    await this.limit(SUBSCRIBE_PER_ADDRESS, email);
    const noticeVersion = await this.consent.noticeVersion();
    await this.db.transaction(async (tx) => {
      const confirmationId = await this.consent.createConfirmation(tx, email, 'subprocessor_changes', noticeVersion);
      await enqueueJob(tx, { kind: CONFIRMATION_EMAIL_JOB, payload: { confirmationId }, maxAttempts: 5 });
    });
    this.opts.onEnqueued?.();
    return SUBSCRIPTION_ACCEPTED;
  }

  /** Register listener: a sub-processor change queues one alert per confirmed subscriber. */
  async onRegisterChange(tx: Sql, change: RecordedRegisterChange): Promise<void> {
    if (change.entity !== 'subprocessor') return;
    const queued = await repo.enqueueSubprocessorAlerts(tx, SUBPROCESSOR_ALERT_JOB, change.id);
    if (queued > 0) this.opts.onEnqueued?.();
  }

  private async limit(rule: RateLimitRule, key: string): Promise<void> {
    const decision = await this.limiter.consume(rule, key);
    if (!decision.allowed) throw errors.rateLimited('too_many_subscription_requests', `too many subscription requests; try again in ${Math.ceil(decision.retryAfterSeconds / 60)} minute(s)`, decision.retryAfterSeconds);
  }
}
