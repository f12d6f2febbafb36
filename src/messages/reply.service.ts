// Secure replies: a verified recipient answers the sender (or everyone on To and Cc) from the
// message itself. The reply is a new sealed message in the same thread, in the original
// sender's tenant (under its keys), under the original's label, written by the recipient
// (messages.sender_recipient_id). Its recipients, the original sender included, are notified and
// open it through their own links like any message.
// Residency: the reply's Content (envelope and attachments) is stored in the sender tenant's
// home region, or in another region the recipient selects where the tenant allows it
// (tenant_settings.reply_regions) and this installation serves it.
import type { ContentStore } from '../content/content.service.ts';
import type { RateLimiter, RateLimitRule } from '../rate-limit/rate-limiter.ts';
import { appendAuditEvent } from '../audit/audit.service.ts';
import { getTenant } from '../accounts/tenant.repository.ts';
import { errors } from '../shared/app-error.ts';
import { isRegion, regionNotServed, REGIONS, type Region } from '../shared/regions.ts';
import { readReplyRegions } from '../tenants/tenant-settings.repository.ts';
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
  /** Region to store the reply in; default the sender tenant's home region. Must be one {@link ReplyService.regions} offers. */
  region?: string;
}

/** The regions a recipient may store their reply in. */
export interface ReplyRegions {
  /** Where the reply goes when the recipient chooses nothing: the sender tenant's home region. */
  default: Region;
  /** Every region the recipient may choose (the default first); one entry: no choice. */
  choices: Region[];
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
  /** Where the reply's Content is stored. */
  region: Region;
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

  /** Where this recipient may store a reply: the sender tenant's home region, and the other regions it allows. */
  async regions(sessionToken: string, ctx: RequestContext = {}): Promise<ReplyRegions> {
    const { row } = await this.access.verifiedRecipient(sessionToken, 'message.reply_regions_read', ctx);
    return this.replyRegions(row.tenant_id);
  }

  private async replyRegions(tenantId: string): Promise<ReplyRegions> {
    const home = (await getTenant(this.db, tenantId)).region;
    const allowed = await readReplyRegions(this.db, tenantId);
    // Only regions with a store and root key here; the home region first.
    const choices = [home, ...REGIONS.filter((r) => r !== home && allowed.includes(r) && this.content.servesRegion(r))];
    return { default: home, choices };
  }

  /** The region a reply (or reply attachment) goes to; refuses one the tenant does not allow. */
  private async replyRegion(tenantId: string, requested: string | undefined): Promise<Region> {
    const { default: home, choices } = await this.replyRegions(tenantId);
    if (requested === undefined) return home;
    if (!isRegion(requested)) throw errors.invalid('invalid_region', `region must be one of ${choices.join(', ')}`, { field: 'region' });
    if (choices.includes(requested)) return requested;
    // Residency is the sender organisation's decision: a recipient may only pick what it allows.
    if (!this.content.servesRegion(requested)) throw regionNotServed(requested, this.content.regions);
    throw errors.invalid('reply_region_not_allowed', `the sender's organisation does not allow replies to be stored in ${requested}; choose ${choices.join(' or ')}`, { field: 'region', choices });
  }

  /**
   * Seals an attachment for a reply; stored in the message's tenant, in `region` (see
   * {@link regions}; default the home region), private to this recipient until sent.
   */
  async upload(sessionToken: string, input: { length: number; source: Readable; region?: string }, ctx: RequestContext = {}): Promise<{ uploadId: string; size: number; region: Region }> {
    const { row } = await this.access.verifiedRecipient(sessionToken, 'upload.created', ctx);
    const region = await this.replyRegion(row.tenant_id, input.region);
    await this.limit(REPLY_LIMITS.uploadsPerRecipient, row.recipient_id);
    return this.uploads.upload({ tenantId: row.tenant_id, recipientId: row.recipient_id }, { length: input.length, source: input.source, region }, ctx);
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
    const region = await this.replyRegion(row.tenant_id, input.region);
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
      { recipients, subject, text: input.text, html: input.html, label, expiresAt, attachments: input.attachments, thread: { threadId: row.thread_id, inReplyTo: row.message_id }, region },
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
      region,
    };
  }
}
