// Secure replies: a verified recipient answers the sender (or everyone on To and Cc) from the
// message itself. The reply is a new sealed message in the same thread, in the original
// sender's tenant (so in its region, under its keys), under the original's label, written by
// the recipient (messages.sender_recipient_id). Its recipients, the original sender included,
// are notified and open it through their own links like any message.
import type { ContentStore } from '../content/content.service.ts';
import type { RateLimiter, RateLimitRule } from '../rate-limit/rate-limiter.ts';
import { appendAuditEvent } from '../audit/audit.service.ts';
import { errors } from '../shared/app-error.ts';
import type { Database } from '../storage/database/database.ts';
import type { Readable } from 'node:stream';
import { decodeEnvelope } from './envelope.ts';
import { collectRecipients, MAX_SUBJECT_LENGTH, type Draft, type MessageService, type RequestContext } from './message.service.ts';
import type { RecipientAccessService } from './recipient-access.service.ts';
import type { UploadService } from './upload.service.ts';

/** Limits on what one recipient may write (each reply sends email to several people). */
export const REPLY_LIMITS = {
  repliesPerRecipient: { scope: 'recipient_reply', limit: 30, windowSeconds: 3600 },
  uploadsPerRecipient: { scope: 'recipient_upload', limit: 100, windowSeconds: 3600 },
} satisfies Record<string, RateLimitRule>;

/** What a recipient writes. */
export interface ReplyInput {
  text: string;
  html?: string | null;
  /** Also to the original To and Cc (never Bcc), not only to the sender. */
  replyAll: boolean;
  attachments?: Draft['attachments'];
}

/** The reply as its writer sees it. */
export interface SentReply {
  id: string;
  threadId: string;
  inReplyTo: string;
  subject: string;
  to: string[];
  cc: string[];
  attachmentCount: number;
}

/** Replies and reply attachments for verified recipients. */
export class ReplyService {
  constructor(
    private readonly db: Database,
    private readonly content: ContentStore,
    private readonly access: RecipientAccessService,
    private readonly messages: MessageService,
    private readonly uploads: UploadService,
    private readonly limiter: RateLimiter,
    private readonly opts: { now?: () => Date } = {},
  ) {}

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  private async limit(rule: RateLimitRule, key: string): Promise<void> {
    const decision = await this.limiter.consume(rule, key);
    if (!decision.allowed) throw errors.rateLimited('rate_limited', `too many attempts; try again in ${Math.ceil(decision.retryAfterSeconds / 60)} minute(s)`, decision.retryAfterSeconds);
  }

  /** Seals an attachment for a reply; stored in the message's tenant, private to this recipient until sent. */
  async upload(sessionToken: string, input: { length: number; source: Readable }, ctx: RequestContext = {}): Promise<{ uploadId: string; size: number }> {
    const { row } = await this.access.verifiedRecipient(sessionToken, 'upload.created', ctx);
    await this.limit(REPLY_LIMITS.uploadsPerRecipient, row.recipient_id);
    return this.uploads.upload({ tenantId: row.tenant_id, recipientId: row.recipient_id }, input, ctx);
  }

  /** Discards one of this recipient's pending reply uploads. */
  async discardUpload(sessionToken: string, uploadId: string, ctx: RequestContext = {}): Promise<void> {
    const { row } = await this.access.verifiedRecipient(sessionToken, 'upload.discarded', ctx);
    await this.uploads.discard({ tenantId: row.tenant_id, recipientId: row.recipient_id }, uploadId);
  }

  /**
   * Sends a secure reply to the message of the recipient's session: to its sender, and with
   * `replyAll` also to its current To and Cc recipients (removed and individually revoked ones
   * excluded), never to Bcc and never to the replier. A Bcc recipient may reply to the sender
   * only: replying to all would show the others that they received the message.
   */
  async reply(sessionToken: string, input: ReplyInput, ctx: RequestContext = {}): Promise<SentReply> {
    const { row, label } = await this.access.verifiedRecipient(sessionToken, 'message.replied', ctx);
    if (input.replyAll && row.kind === 'bcc') {
      // Keeps the sender's Bcc hidden: a reply to all would reveal this recipient to the others.
      await appendAuditEvent(this.db, { tenantId: row.tenant_id, actor: { type: 'recipient', id: row.recipient_id }, action: 'message.replied', target: { type: 'message', id: row.message_id }, outcome: 'denied', ...ctx, details: { reason: 'bcc_reply_all' } });
      throw errors.forbidden('bcc_reply_all', 'you received this message as Bcc: you can reply to the sender only, so the other recipients do not learn you received it');
    }
    await this.limit(REPLY_LIMITS.repliesPerRecipient, row.recipient_id);

    const to = [row.sender_email];
    const cc: string[] = [];
    if (input.replyAll) {
      const { rows } = await this.db.query<{ email: string; kind: 'to' | 'cc' }>(
        `SELECT email, kind FROM message_recipients WHERE message_id = $1 AND removed_at IS NULL AND revoked_at IS NULL AND kind IN ('to', 'cc') ORDER BY added_at, email`,
        [row.message_id],
      );
      for (const r of rows) (r.kind === 'to' ? to : cc).push(r.email);
    }
    const others = (list: string[]) => list.filter((e) => e !== row.email);
    if (others(to).length + others(cc).length === 0) throw errors.invalid('no_recipients', 'there is nobody to reply to: you sent this message yourself');
    const recipients = collectRecipients({ to: others(to), cc: others(cc) });

    const original = decodeEnvelope(await this.content.openBytes(row.tenant_id, row.envelope_object_id));
    const subject = (/^re:/i.test(original.subject) ? original.subject : `Re: ${original.subject}`).slice(0, MAX_SUBJECT_LENGTH);
    // A reply lives under the label's rules like any message: its default expiry counts from now.
    const expiresAt = label.defaultExpiryDays ? new Date(this.now().getTime() + label.defaultExpiryDays * 86_400_000) : null;
    const id = await this.messages.deliver(
      { kind: 'recipient', tenantId: row.tenant_id, recipientId: row.recipient_id, email: row.email },
      { recipients, subject, text: input.text, html: input.html, label, expiresAt, attachments: input.attachments, thread: { threadId: row.thread_id, inReplyTo: row.message_id } },
      ctx,
    );
    return {
      id,
      threadId: row.thread_id,
      inReplyTo: row.message_id,
      subject,
      to: recipients.filter((r) => r.kind === 'to').map((r) => r.email),
      cc: recipients.filter((r) => r.kind === 'cc').map((r) => r.email),
      attachmentCount: input.attachments?.length ?? 0,
    };
  }
}
