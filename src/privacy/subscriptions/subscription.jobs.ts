// The emails of subscriptions: the double opt-in confirmation (strictly necessary to honour
// the request: no List-Unsubscribe) and the sub-processor change alert (optional: only to
// confirmed subscribers who are not restricted, with one-click unsubscribe).
import type { Job } from '../../jobs/job.queue.ts';
import type { JobHandler } from '../../jobs/job.runner.ts';
import type { Mailer } from '../../mail/mailer.ts';
import type { Clock } from '../../shared/clock.ts';
import { systemClock } from '../../shared/clock.ts';
import type { Database } from '../../storage/database/database.ts';
import * as repo from '../consent/consent.repository.ts';
import type { ConsentService } from '../consent/consent.service.ts';
import { sendOptionalMail } from '../consent/optional-mail.ts';

/** Path of the confirmation page and endpoint; the token follows. */
export const CONFIRM_PATH = '/c/';

interface Deps {
  db: Database;
  consent: ConsentService;
  mailer: Mailer;
  publicUrl: string;
  unsubscribeMailto?: string;
  now?: Clock;
}

/** Sends the confirmation link of a pending double opt-in. */
export function confirmationEmailJob(deps: Deps): JobHandler {
  return {
    async run(job: Job) {
      const { confirmationId } = job.payload as { confirmationId: string };
      const issued = await deps.consent.issueConfirmationToken(confirmationId);
      if (!issued) return; // Confirmed or expired meanwhile: nothing to send.
      const link = `${deps.publicUrl}${CONFIRM_PATH}${issued.token}`;
      await deps.mailer.send({
        to: issued.email,
        subject: 'Confirm your subscription to sub-processor changes',
        text: [
          'Someone, probably you, asked to be told by email when the list of sub-processors of this Sealpost service changes.',
          '',
          `To confirm, open this link and press the button: ${link}`,
          '',
          `The link works until ${issued.expiresAt.toUTCString()}. If you did not ask, ignore this email: nothing will be sent to you.`,
          '',
        ].join('\n'),
        headers: { 'Auto-Submitted': 'auto-generated' },
      });
    },
  };
}

/** Sends one alert about one change of the sub-processor register to one subscriber. */
export function subprocessorAlertJob(deps: Deps): JobHandler {
  const now = deps.now ?? systemClock;
  return {
    async run(job: Job) {
      const { changeId, preferenceId } = job.payload as { changeId: string; preferenceId: string };
      const pref = await repo.findPreferenceById(deps.db, preferenceId);
      if (!pref) return;
      const { rows } = await deps.db.query<{ summary: string; action: string; effective_at: Date; recorded_at: Date }>(
        `SELECT summary, action, effective_at, recorded_at FROM privacy_register_changes WHERE id = $1 AND entity = 'subprocessor'`,
        [changeId],
      );
      const change = rows[0];
      if (!change) return;
      const day = change.effective_at.toISOString().slice(0, 10);
      const planned = change.effective_at.getTime() > now().getTime();
      // sendOptionalMail checks the preference again: an unsubscribe since the change was queued wins.
      await sendOptionalMail(deps, pref.email, 'subprocessor_changes', (unsubscribe) => ({
        subject: planned ? `Planned change to our sub-processors, effective ${day}` : `Change to our sub-processors, effective ${day}`,
        text: [
          planned ? `We will make this change to the sub-processors of this Sealpost service on ${day}:` : `This change to the sub-processors of this Sealpost service took effect on ${day}:`,
          '',
          `  ${change.summary}`,
          '',
          `The current list, planned changes and the history are at ${deps.publicUrl}/subprocessors`,
          '',
          `You receive this because you subscribed to changes of the list. Unsubscribe: ${unsubscribe}`,
          '',
        ].join('\n'),
        headers: { 'Auto-Submitted': 'auto-generated' },
      }));
    },
  };
}
