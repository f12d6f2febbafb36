// Notices to requesters and to customers about subject requests, as durable jobs. A notice is
// queued in the transaction that changes the request (confirmed, extended, refused, completed,
// routed), so it is sent even if the mail server is down at that moment or the process stops:
// the job runner retries with backoff. The payload holds ids only; the email is built from the
// request as it is when the job runs. Two kinds of email are not jobs: one-time codes (the
// person is waiting for them and can ask again; a code is a secret the queue must not hold)
// and the export-ready email (its link carries the download token, which is stored only as a
// hash: if that email fails, the run fails and can be run again, making a new export).
import { maskAddress } from '../../messages/addresses.ts';
import { enqueueJob, type Job } from '../../jobs/job.queue.ts';
import type { JobHandler } from '../../jobs/job.runner.ts';
import type { Mailer, OutboundMail } from '../../mail/mailer.ts';
import type { Database, Sql } from '../../storage/database/database.ts';
import { toCalendarDate } from './deadline.ts';
import * as mail from './request.mail.ts';
import * as repo from './request.repository.ts';

export const SUBJECT_REQUEST_NOTICE_JOB = 'subject_request.notice';

/** Attempts before a notice is given up: with the runner's backoff (capped at an hour), about a day. */
const NOTICE_ATTEMPTS = 30;

/** What a notice job carries: ids only. */
export type RequestNotice =
  | { requestId: string; notice: 'confirmed' | 'extended' | 'paused' | 'rejected' | 'completed' | 'routed_to_requester' }
  | { requestId: string; notice: 'duplicate'; originalId: string }
  | { requestId: string; notice: 'routed_to_customer'; tenantId: string; userId: string };

/** Queues a notice in `tx`: it is sent only if, and once, the change it reports commits. */
export async function queueNotice(tx: Sql, notice: RequestNotice): Promise<void> {
  await enqueueJob(tx, { kind: SUBJECT_REQUEST_NOTICE_JOB, payload: notice, maxAttempts: NOTICE_ATTEMPTS });
}

/** The job handler: builds the email from the request as stored and sends it. */
export function requestNoticeJob(deps: { db: Database; mailer: Mailer; now: () => Date }): JobHandler {
  return {
    async run(job: Job) {
      const n = job.payload as unknown as RequestNotice;
      const r = await repo.findRequest(deps.db, n.requestId);
      if (!r) return; // The request record itself was removed (retention): nobody to tell about it.
      const outbound = await build(deps.db, r, n);
      if (!outbound) return;
      await deps.mailer.send(outbound);
      await repo.addEvent(deps.db, r.id, deps.now(), n.notice === 'extended' ? 'extension_notice_sent' : 'notice_sent', { type: 'system' }, { notice: n.notice, to: maskAddress(outbound.to) });
    },
    async onGiveUp(job: Job, error: string) {
      // In the request's history, where whoever answers the request sees it and can act.
      const n = job.payload as unknown as RequestNotice;
      if (await repo.findRequest(deps.db, n.requestId)) await repo.addEvent(deps.db, n.requestId, deps.now(), 'notice_failed', { type: 'system' }, { notice: n.notice, error });
    },
  };
}

async function build(db: Database, r: repo.RequestRow, n: RequestNotice): Promise<OutboundMail | null> {
  const request = { id: r.id, kind: r.kind };
  switch (n.notice) {
    case 'confirmed':
      return r.due_on ? mail.confirmedMail(r.email, { ...request, dueOn: r.due_on }) : null;
    case 'duplicate': {
      const original = await repo.findRequest(db, n.originalId);
      if (!original?.due_on) return null;
      return mail.duplicateMail(r.email, { id: original.id, kind: r.kind, dueOn: original.due_on, receivedOn: toCalendarDate(original.received_at) });
    }
    case 'extended':
      return r.due_on && r.extension_reason ? mail.extensionMail(r.email, { ...request, months: r.extension_months, reason: r.extension_reason, dueOn: r.due_on }) : null;
    case 'paused':
      // Resumed (or closed) before the email went out: nothing to ask any more.
      return r.paused_on && r.pause_reason ? mail.pausedMail(r.email, { ...request, reason: r.pause_reason }) : null;
    case 'rejected':
      return mail.rejectedMail(r.email, { ...request, reason: r.outcome_note ?? '' });
    case 'completed':
      return mail.completedMail(r.email, { ...request, note: r.outcome_note });
    case 'routed_to_requester': {
      const routings = await repo.listRoutings(db, r.id);
      return routings.length > 0 ? mail.routedToRequesterMail(r.email, { ...request, controllers: routings.map((x) => x.tenantName) }) : null;
    }
    case 'routed_to_customer': {
      const routing = (await repo.listRoutings(db, r.id)).find((x) => x.tenantId === n.tenantId);
      // An administrator who left or lost the role since is not told.
      const to = routing ? await repo.administratorAddress(db, n.tenantId, n.userId) : null;
      if (!routing || !to) return null;
      return mail.routedToCustomerMail(to, { ...request, email: r.email, tenantName: routing.tenantName, messages: routing.messages, dueOn: r.due_on });
    }
  }
}
