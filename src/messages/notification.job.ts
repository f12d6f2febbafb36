// Notification jobs. The main one: one email per recipient with the sender, the subject (unless
// the label hides it) and the recipient's unique link — never the content. Retried with backoff
// by the job runner; the outcome is recorded on the recipient so the sender sees it. Also the
// access-request emails: to the sender when someone asks for access, and to a requester who was
// denied (an approved requester gets the ordinary notification, worded for the occasion).
import { objectsJson, type ContentStore } from '../content/content.service.ts';
import { JOINED_KEK_COLUMNS, joinedKek, type JoinedKekRow } from '../keys/key.repository.ts';
import type { Job, } from '../jobs/job.queue.ts';
import type { JobHandler } from '../jobs/job.runner.ts';
import { brandedEmail } from '../mail/branded-email.ts';
import type { Mailer } from '../mail/mailer.ts';
import { loadEmailBranding } from '../tenants/email-branding.ts';
import type { Database } from '../storage/database/database.ts';
import { decodeEnvelope } from './envelope.ts';
import { getLabel } from './labels.ts';
import type { MessageService, NotificationOccasion } from './message.service.ts';
import { GroupCommit } from '../storage/database/group-commit.ts';
import { prepared } from '../storage/database/prepared.ts';

interface Payload {
  tenantId: string;
  recipientId: string;
  occasion?: NotificationOccasion;
}

/** Link a recipient opens; the token is in the fragment so it never reaches server logs or Referer headers. */
export function recipientLink(publicUrl: string, token: string): string {
  return `${publicUrl}/open#${token}`;
}

const ROW_SQL = prepared(
  `SELECT r.email, r.removed_at, m.sender_email, m.envelope_object_id, m.expires_at, l.name AS label_name, l.hide_subject, r.link_kek_id, r.link_token_wrapped,
          ${JOINED_KEK_COLUMNS}, ${objectsJson('m.tenant_id', 'ARRAY[m.envelope_object_id]')} AS envelope
     FROM message_recipients r JOIN messages m ON m.id = r.message_id JOIN labels l ON l.id = m.label_id AND l.tenant_id = m.tenant_id
     LEFT JOIN key_encryption_keys k ON k.id = r.link_kek_id
    WHERE r.id = $1 AND r.tenant_id = $2`,
);

/** Builds the notification job handler. */
export function notificationJob(deps: { db: Database; content: ContentStore; messages: MessageService; mailer: Mailer; publicUrl: string }): JobHandler {
  const record = async (recipientId: string, fields: { status: 'failed' | 'pending'; error: string }) => {
    await deps.db.query(
      prepared(`UPDATE message_recipients SET delivery_status = $2, delivery_attempts = delivery_attempts + 1, delivery_error = $3 WHERE id = $1`),
      [recipientId, fields.status, fields.error],
    );
  };
  // Deliveries finish together (the runner runs a claimed batch at once): their 'sent' go as one UPDATE.
  const delivered = new GroupCommit<string, void>(async (_key, batch) => {
    await deps.db.query(
      prepared(`UPDATE message_recipients r SET delivery_status = 'sent', delivery_attempts = r.delivery_attempts + d.n, delivery_error = NULL, notified_at = now()
         FROM (SELECT id, count(*) AS n FROM unnest($1::uuid[]) AS id GROUP BY id) d WHERE r.id = d.id`),
      [batch.map((q) => q.item)],
    );
    for (const q of batch) q.resolve();
  }, 1000);
  return {
    async run(job: Job) {
      const { tenantId, recipientId, occasion } = job.payload as unknown as Payload;
      const granted = occasion === 'access_granted';
      // One query for the recipient, the message, its label, the wrapped link token with its KEK,
      // and the envelope's wrapped key with its KEK (the KEK rows as current as the rest).
      const { rows } = await deps.db.query<
        {
          email: string;
          removed_at: Date | null;
          sender_email: string;
          envelope_object_id: string;
          expires_at: Date | null;
          label_name: string;
          hide_subject: boolean;
          link_kek_id: string | null;
          link_token_wrapped: Uint8Array | null;
          envelope: unknown;
        } & JoinedKekRow
      >(ROW_SQL, [recipientId, tenantId]);
      const row = rows[0];
      if (!row || row.removed_at) return; // Removed before the notification went out: nothing to send.
      const label = { name: row.label_name, hideSubject: row.hide_subject };
      const subject = label.hideSubject ? null : decodeEnvelope(await deps.content.openBytesFrom(row.envelope_object_id, row.envelope)).subject;
      const link = recipientLink(deps.publicUrl, await deps.messages.linkToken(tenantId, recipientId, { ...row, link_kek: joinedKek(row) }));
      const branding = await loadEmailBranding(deps.db, tenantId);
      const lines = [
        granted
          ? `${row.sender_email} has approved your request: you can now open their secure message${subject ? ` "${subject}"` : ''}.`
          : `${row.sender_email} has sent you a secure message${subject ? `: "${subject}"` : ''}.`,
        '',
        `Open it here: ${link}`,
        '',
        'You will be asked for a one-time code, sent to this address, to prove it is you.',
        row.expires_at ? `The message can be opened until ${row.expires_at.toUTCString()}.` : '',
        '',
        `This link is for ${row.email} only. Do not forward this email.`,
      ];
      try {
        await deps.mailer.send({
          to: row.email,
          subject: `${granted ? 'Access granted: secure message' : 'Secure message'} from ${row.sender_email}${subject ? `: ${subject}` : ` [${label.name}]`}`,
          ...brandedEmail(branding, { lines, action: { url: link, label: 'Open the secure message' } }),
          headers: { 'Reply-To': row.sender_email, 'Auto-Submitted': 'auto-generated', 'X-Sealpost-Label': label.name },
        });
      } catch (err) {
        await record(recipientId, { status: job.attempt >= job.maxAttempts ? 'failed' : 'pending', error: (err as { code?: string }).code ?? 'send_failed' });
        throw err;
      }
      await delivered.add('sent', recipientId);
    },
    async onGiveUp(job: Job, error: string) {
      const { recipientId } = job.payload as unknown as Payload;
      await deps.db.query(`UPDATE message_recipients SET delivery_status = 'failed', delivery_error = $2 WHERE id = $1`, [recipientId, error]);
    },
  };
}

/** Email to the sender when someone verified their address and asks for access to a message. */
export function accessRequestJob(deps: { db: Database; content: ContentStore; mailer: Mailer }): JobHandler {
  return {
    async run(job: Job) {
      const { tenantId, requestId } = job.payload as unknown as { tenantId: string; requestId: string };
      const { rows } = await deps.db.query<{ email: string; reason: string | null; status: string; message_id: string; label_id: string; envelope_object_id: string; created_at: Date; sender: string; via: string }>(
        `SELECT a.email, a.reason, a.status, a.message_id, m.label_id, m.envelope_object_id, m.created_at, u.email AS sender, v.email AS via
           FROM access_requests a
           JOIN messages m ON m.id = a.message_id
           JOIN users u ON u.id = m.sender_user_id
           JOIN message_recipients v ON v.id = a.via_recipient_id
          WHERE a.id = $1 AND a.tenant_id = $2`,
        [requestId, tenantId],
      );
      const row = rows[0];
      if (!row || row.status !== 'pending') return; // Decided before the email went out: nothing to ask.
      const label = await getLabel(deps.db, tenantId, row.label_id);
      const subject = label.hideSubject ? null : decodeEnvelope(await deps.content.openBytes(tenantId, row.envelope_object_id)).subject;
      const text = [
        `${row.email} asks for access to your secure message${subject ? ` "${subject}"` : ''} sent on ${row.created_at.toUTCString()}.`,
        `They hold the link you sent to ${row.via}, which was passed on to them. They proved they control ${row.email} with a one-time code; they cannot open the message unless you approve.`,
        '',
        row.reason ? `Their reason, in their words:\n> ${row.reason.replace(/\n/g, '\n> ')}` : 'They gave no reason.',
        '',
        `Approve or deny it with: sealpost requests ${row.message_id}`,
        'Approving adds them as a Bcc recipient, with their own link.',
      ].join('\n');
      await deps.mailer.send({ to: row.sender, subject: `Access request for your secure message${subject ? `: ${subject}` : ` [${label.name}]`}`, text: `${text}\n`, headers: { 'Auto-Submitted': 'auto-generated', 'X-Sealpost-Label': label.name } });
    },
  };
}

/** Email to a requester whose request was denied. Says who decided, nothing about the message. */
export function accessDecisionJob(deps: { db: Database; mailer: Mailer }): JobHandler {
  return {
    async run(job: Job) {
      const { tenantId, requestId } = job.payload as unknown as { tenantId: string; requestId: string };
      const { rows } = await deps.db.query<{ email: string; status: string; sender_email: string }>(
        `SELECT a.email, a.status, m.sender_email FROM access_requests a JOIN messages m ON m.id = a.message_id WHERE a.id = $1 AND a.tenant_id = $2`,
        [requestId, tenantId],
      );
      const row = rows[0];
      if (!row || row.status !== 'denied') return;
      await deps.mailer.send({
        to: row.email,
        subject: `Your request for access was declined`,
        text: `${row.sender_email} has declined your request to open a secure message they sent.\n\nIf you think this is a mistake, contact them directly.\n`,
        headers: { 'Auto-Submitted': 'auto-generated' },
      });
    },
  };
}
