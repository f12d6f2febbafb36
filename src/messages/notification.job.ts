// The notification job: one email per recipient with the sender, the subject (unless the label
// hides it) and the recipient's unique link — never the content. Retried with backoff by the
// job runner; the outcome is recorded on the recipient so the sender sees it.
import type { ContentStore } from '../content/content.service.ts';
import type { Job, } from '../jobs/job.queue.ts';
import type { JobHandler } from '../jobs/job.runner.ts';
import type { Mailer } from '../mail/mailer.ts';
import type { Database } from '../storage/database/database.ts';
import { decodeEnvelope } from './envelope.ts';
import { getLabel } from './labels.ts';
import type { MessageService } from './message.service.ts';

interface Payload {
  tenantId: string;
  recipientId: string;
}

/** Link a recipient opens; the token is in the fragment so it never reaches server logs or Referer headers. */
export function recipientLink(publicUrl: string, token: string): string {
  return `${publicUrl}/open#${token}`;
}

/** Builds the notification job handler. */
export function notificationJob(deps: { db: Database; content: ContentStore; messages: MessageService; mailer: Mailer; publicUrl: string }): JobHandler {
  const record = async (recipientId: string, fields: { status: 'sent' | 'failed' | 'pending'; error?: string | null }) => {
    await deps.db.query(
      `UPDATE message_recipients SET delivery_status = $2, delivery_attempts = delivery_attempts + 1, delivery_error = $3, notified_at = CASE WHEN $2 = 'sent' THEN now() ELSE notified_at END WHERE id = $1`,
      [recipientId, fields.status, fields.error ?? null],
    );
  };
  return {
    async run(job: Job) {
      const { tenantId, recipientId } = job.payload as unknown as Payload;
      const { rows } = await deps.db.query<{ email: string; removed_at: Date | null; sender_email: string; label_id: string; envelope_object_id: string; expires_at: Date | null }>(
        `SELECT r.email, r.removed_at, m.sender_email, m.label_id, m.envelope_object_id, m.expires_at
           FROM message_recipients r JOIN messages m ON m.id = r.message_id WHERE r.id = $1 AND r.tenant_id = $2`,
        [recipientId, tenantId],
      );
      const row = rows[0];
      if (!row || row.removed_at) return; // Removed before the notification went out: nothing to send.
      const label = await getLabel(deps.db, tenantId, row.label_id);
      const subject = label.hideSubject ? null : decodeEnvelope(await deps.content.openBytes(tenantId, row.envelope_object_id)).subject;
      const link = recipientLink(deps.publicUrl, await deps.messages.linkToken(tenantId, recipientId));
      const lines = [
        `${row.sender_email} has sent you a secure message${subject ? `: "${subject}"` : ''}.`,
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
          subject: subject ? `Secure message from ${row.sender_email}: ${subject}` : `Secure message from ${row.sender_email} [${label.name}]`,
          text: lines.filter((l, i) => l !== '' || lines[i - 1] !== '').join('\n') + '\n',
          headers: { 'Reply-To': row.sender_email, 'Auto-Submitted': 'auto-generated', 'X-Sealpost-Label': label.name },
        });
      } catch (err) {
        await record(recipientId, { status: job.attempt >= job.maxAttempts ? 'failed' : 'pending', error: (err as { code?: string }).code ?? 'send_failed' });
        throw err;
      }
      await record(recipientId, { status: 'sent' });
    },
    async onGiveUp(job: Job, error: string) {
      const { recipientId } = job.payload as unknown as Payload;
      await deps.db.query(`UPDATE message_recipients SET delivery_status = 'failed', delivery_error = $2 WHERE id = $1`, [recipientId, error]);
    },
  };
}
