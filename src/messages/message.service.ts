// Sending and sender controls: a message is an envelope (sealed) plus attachments (sealed),
// sent to recipients who each get a notification with a unique link. After sending, the sender
// can revoke for everyone or per recipient (and undo), change the expiry, and add or remove
// recipients (adding only when the label allows forwarding). Replies — by the sender, or by a
// verified recipient (reply.service.ts) — are messages in the same thread, written by `deliver`.
//
// Everything a send writes to the database commits in one transaction, together with the
// notification jobs; sealed objects written before it are shredded if it fails.

import { appendAuditEvent, appendAuditEvents } from '../audit/audit.service.ts';
import type { ContentStore } from '../content/content.service.ts';
import { isUuid } from '../crypto/format/bytes.ts';
import { sha256 } from '../crypto/hash.ts';
import { generateKey, randomId, unwrapKey, wrapContext, wrapKey } from '../crypto/keys.ts';
import { enqueueJob, enqueueJobs } from '../jobs/job.queue.ts';
import type { KeyService } from '../keys/key.service.ts';
import type { KekRecord } from '../keys/key.repository.ts';
import { errors, isAppError } from '../shared/app-error.ts';
import type { Region } from '../shared/regions.ts';
import { getTenant } from '../accounts/tenant.repository.ts';
import type { Database, Sql } from '../storage/database/database.ts';
import { requireAddress } from './addresses.ts';
import { decodeEnvelope, encodeEnvelope, sanitizeMessageHtml, type Envelope } from './envelope.ts';
import { findDefaultLabel, findLabelByName, getLabel, type Label } from './labels.ts';
import { prepared } from '../storage/database/prepared.ts';

export const NOTIFY_RECIPIENT_JOB = 'notify_recipient';
export const MAX_RECIPIENTS = 500;
export const MAX_ATTACHMENTS = 100;
export const MAX_SUBJECT_LENGTH = 998;
export const MAX_TEXT_BYTES = 4 * 1024 * 1024;

/** Who is acting: a signed-in user of a tenant. */
export interface Sender {
  tenantId: string;
  userId: string;
  email: string;
}

/** Where a request came from, for the audit log. */
export interface RequestContext {
  ip?: string;
  userAgent?: string;
}

/**
 * Who writes a message: a signed-in user, or a verified recipient writing a secure reply (the
 * reply then belongs to the original sender's tenant).
 */
export type Author =
  | { kind: 'user'; tenantId: string; userId: string; email: string }
  | { kind: 'recipient'; tenantId: string; recipientId: string; email: string };

/** A message to send. Addresses are validated and de-duplicated (To wins over Cc over Bcc). */
export interface Draft {
  to: string[];
  cc?: string[];
  bcc?: string[];
  subject: string;
  text: string;
  html?: string | null;
  label?: string;
  /** Explicit expiry (must be in the future), null for none, undefined for the label's default. */
  expiresAt?: Date | null;
  attachments?: Array<{ uploadId: string; filename: string; contentType: string }>;
  /** Reply within a thread: the id of a message this user sent or received (label defaults to its label). */
  inReplyTo?: string;
  /** The sender's answer to pre-send warnings (acknowledged ids, justification, fixed findings); see {@link SendGuard}. */
  prevent?: unknown;
}

/** What a pre-send guard sees of a message about to be written. */
export interface GuardedMessage {
  recipients: Array<{ email: string; kind: RecipientKind }>;
  subject: string;
  text: string;
  html: string | null;
  labelRank: number;
  threadId: string | null;
  at: Date;
}

/**
 * Hooks the pre-send check (Prevent) plugs into sending. An interface, so messages does not
 * depend on prevent; the runtime wires the implementation.
 */
export interface SendGuard {
  /** Checks a user's draft before anything is written; throws to refuse; the returned function records the decisions inside the send transaction. */
  review(sender: Sender, m: GuardedMessage, decision: unknown): Promise<(tx: Sql, messageId: string) => Promise<void>>;
  /** Prepares what a written message teaches; the returned function runs inside the send transaction. */
  learn(author: Author, m: GuardedMessage): Promise<(tx: Sql, messageId: string) => Promise<void>>;
}

/** A message with everything resolved (recipients, label, expiry, thread), ready for {@link MessageService.deliver}. */
export interface Composition {
  recipients: Array<{ email: string; kind: RecipientKind }>;
  subject: string;
  text: string;
  html?: string | null | undefined;
  label: Label;
  expiresAt: Date | null;
  attachments?: Draft['attachments'] | undefined;
  thread?: { threadId: string; inReplyTo: string } | undefined;
  /**
   * Where the envelope is sealed and stored (a served region, keyed by the tenant's KEK of that
   * region); default the tenant's home region. Attachments must already be in this region.
   * Secure replies set it to the region the recipient chose; the caller checks it is allowed.
   */
  region?: Region | undefined;
}

/** Why a recipient is being notified: a first notification, or access granted on request. */
export type NotificationOccasion = 'sent' | 'access_granted';

export type RecipientKind = 'to' | 'cc' | 'bcc';

/** Addresses by kind, as given (validated by {@link collectRecipients}). */
export interface AddressLists {
  to?: string[] | undefined;
  cc?: string[] | undefined;
  bcc?: string[] | undefined;
}

/** Per-recipient status, as the sender sees it. */
export interface RecipientStatus {
  id: string;
  email: string;
  kind: RecipientKind;
  /** pending | notified | delivery_failed | opened | revoked | expired | removed */
  status: string;
  deliveryAttempts: number;
  deliveryError: string | null;
  notifiedAt: Date | null;
  firstOpenedAt: Date | null;
  lastOpenedAt: Date | null;
  revokedAt: Date | null;
}

/** A sent message as its sender sees it. */
export interface SentMessage {
  id: string;
  threadId: string;
  inReplyTo: string | null;
  /** Empty when `contentErased`. */
  subject: string;
  /** True when retention or an erasure crypto-shredded the message's content: only its metadata is left. */
  contentErased: boolean;
  label: string;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  attachments: Array<{ objectId: string; filename: string; contentType: string; size: number }>;
  recipients: RecipientStatus[];
}

/** One message in a thread as the sender sees it; content is opened server-side for them. */
export interface ThreadMessage {
  id: string;
  inReplyTo: string | null;
  sender: string;
  /** Sent by the user asking (as opposed to received by them). */
  sentByYou: boolean;
  /** A secure reply written by a recipient (not by a user of the organisation). */
  fromRecipient: boolean;
  label: string;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  to: string[];
  cc: string[];
  /** Only for messages the user sent; never anyone else's Bcc. */
  bcc: string[];
  /** Why the content is not shown (a received message that was revoked or has expired); null when it is. */
  withheld: 'message_revoked' | 'message_expired' | 'content_erased' | null;
  subject: string | null;
  text: string | null;
  html: string | null;
  attachments: Array<{ objectId: string; filename: string; contentType: string; size: number }>;
}

/** A thread: its messages in the order they were sent. */
export interface Thread {
  threadId: string;
  messages: ThreadMessage[];
}

/** The database row of a message. */
export interface MessageRow {
  id: string;
  tenant_id: string;
  thread_id: string;
  in_reply_to: string | null;
  sender_user_id: string | null;
  sender_recipient_id: string | null;
  sender_email: string;
  label_id: string;
  envelope_object_id: string;
  attachment_count: number;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
}

interface RecipientRow {
  id: string;
  email: string;
  kind: RecipientKind;
  removed_at: Date | null;
  revoked_at: Date | null;
  delivery_status: 'pending' | 'sent' | 'failed';
  delivery_attempts: number;
  delivery_error: string | null;
  notified_at: Date | null;
  first_opened_at: Date | null;
  last_opened_at: Date | null;
}

/** SHA-256 of a link token: what the database stores and looks links up by. */
export const linkTokenHash = (token: Uint8Array): Buffer => Buffer.from(sha256(token));
const linkContext = (tenantId: string, recipientId: string) => wrapContext('sealpost/link/v1', tenantId, recipientId);

/** Sends messages and applies the sender's controls. */
export class MessageService {
  constructor(
    private readonly db: Database,
    private readonly content: ContentStore,
    private readonly keys: KeyService,
    private readonly opts: { onEnqueued?: () => void; now?: () => Date; guard?: SendGuard } = {},
  ) {}

  /** Home regions of tenants seen by this service: a tenant's region is fixed at creation and never updated. */
  private readonly homeRegions = new Map<string, Region>();

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  /** A tenant's id and home region, read once per process (a send used to read the tenant row every time). */
  private async tenantHome(tenantId: string): Promise<{ id: string; region: Region }> {
    let region = this.homeRegions.get(tenantId);
    if (region === undefined) {
      region = (await getTenant(this.db, tenantId)).region;
      this.homeRegions.set(tenantId, region);
    }
    return { id: tenantId, region };
  }

  /** Sends a message: seals the envelope, records recipients, queues one notification each. */
  async send(sender: Sender, draft: Draft, ctx: RequestContext = {}): Promise<SentMessage> {
    const recipients = collectRecipients(draft);
    let thread: Composition['thread'];
    let label: Label;
    if (draft.inReplyTo !== undefined) {
      // A reply must stay in a thread the user is part of: one they sent or received in it.
      const original = isUuid(draft.inReplyTo) ? await this.visibleMessage(sender, draft.inReplyTo) : undefined;
      if (!original) throw errors.invalid('in_reply_to_not_found', 'inReplyTo: no message with this id that you sent or received', { field: 'inReplyTo' });
      thread = { threadId: original.thread_id, inReplyTo: original.id };
      label = draft.label !== undefined ? await findLabelByName(this.db, sender.tenantId, draft.label) : await getLabel(this.db, sender.tenantId, original.label_id);
    } else {
      label = draft.label !== undefined ? await findLabelByName(this.db, sender.tenantId, draft.label) : await findDefaultLabel(this.db, sender.tenantId);
    }
    const expiresAt = this.resolveExpiry(draft.expiresAt, label);
    const recordDecisions = await this.opts.guard?.review(sender, guarded({ recipients, subject: draft.subject, text: draft.text, html: draft.html ?? null, label, thread }, this.now()), draft.prevent);
    const sent = await this.compose(
      { kind: 'user', tenantId: sender.tenantId, userId: sender.userId, email: sender.email },
      { recipients, subject: draft.subject, text: draft.text, html: draft.html, label, expiresAt, attachments: draft.attachments, thread },
      ctx,
      recordDecisions,
    );
    // Answered from what was just written, as committed, instead of reading it back (a
    // notification delivered meanwhile shows in the next status read).
    return sentView(sent.message, sent.envelope, label, sortRecipients(sent.recipients), this.now());
  }

  /**
   * Seals and records a composed message in the author's tenant and queues its notifications,
   * in one transaction (the envelope is shredded if it fails). Attachments must be the author's
   * own pending uploads. Used by `send` and by secure replies; returns the new message's id.
   */
  async deliver(author: Author, m: Composition, ctx: RequestContext = {}): Promise<string> {
    return (await this.compose(author, m, ctx)).messageId;
  }

  /** `recordDecisions`: the send guard's review of this message, recorded in its transaction. */
  private async compose(author: Author, m: Composition, ctx: RequestContext, recordDecisions?: (tx: Sql, messageId: string) => Promise<void>): Promise<{ messageId: string; envelope: Envelope; message: SentMessageRow; recipients: RecipientRow[] }> {
    const subject = m.subject.trim();
    if (subject.length > MAX_SUBJECT_LENGTH) throw errors.invalid('subject_too_long', `the subject is longer than ${MAX_SUBJECT_LENGTH} characters`);
    if (Buffer.byteLength(m.text, 'utf8') > MAX_TEXT_BYTES) throw errors.invalid('body_too_long', `the body is larger than ${MAX_TEXT_BYTES} bytes`);
    const attachmentsIn = m.attachments ?? [];
    if (attachmentsIn.length > MAX_ATTACHMENTS) throw errors.invalid('too_many_attachments', `at most ${MAX_ATTACHMENTS} attachments per message`);
    // The owner column is one of two fixed names, never input.
    const owner = author.kind === 'user' ? { column: 'user_id', id: author.userId } : { column: 'recipient_id', id: author.recipientId };

    // Attachments must be the author's own pending uploads.
    const attachments: Envelope['attachments'] = [];
    const seen = new Set<string>();
    for (const [i, a] of attachmentsIn.entries()) {
      if (seen.has(a.uploadId)) throw errors.invalid('duplicate_attachment', `attachment ${i + 1}: the same upload is attached twice`);
      seen.add(a.uploadId);
      const filename = a.filename.trim();
      if (filename.length < 1 || filename.length > 255 || /[\u0000-\u001f/\\]/.test(filename)) throw errors.invalid('invalid_filename', `attachment ${i + 1}: the file name must be 1 to 255 characters without slashes or control characters`);
      if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/i.test(a.contentType)) throw errors.invalid('invalid_content_type', `attachment ${i + 1}: "${a.contentType.slice(0, 100)}" is not a media type`);
      const { rows } = isUuid(a.uploadId)
        ? await this.db.query<{ object_id: string }>(`SELECT object_id FROM pending_uploads WHERE object_id = $1 AND tenant_id = $2 AND ${owner.column} = $3`, [a.uploadId, author.tenantId, owner.id])
        : { rows: [] };
      if (!rows[0]) throw errors.invalid('upload_not_found', `attachment ${i + 1}: no pending upload ${a.uploadId.slice(0, 64)} of yours (uploads can be attached once)`);
      const object = await this.content.get(author.tenantId, a.uploadId);
      // Residency: a message's Content lives in one region; an attachment stored elsewhere would cross.
      if (m.region !== undefined && object.region !== m.region) throw errors.invalid('attachment_region_mismatch', `attachment ${i + 1} is stored in region ${object.region}, not ${m.region}: upload it again with region ${m.region}`);
      attachments.push({ objectId: object.id, filename, contentType: a.contentType.toLowerCase(), size: object.plaintextLength });
    }

    const envelope: Envelope = { version: 1, subject, text: m.text, html: m.html ? sanitizeMessageHtml(m.html) : null, attachments };
    const tenant = await this.tenantHome(author.tenantId);
    // The envelope's row and its 'content.sealed' event commit in the send's transaction: one
    // transaction and one hold of the audit chain's lock per send, not two.
    // Link tokens are wrapped by the home region's active KEK. For an envelope stored at home,
    // that is the KEK its record(tx) confirms under the series lock (no read before the
    // transaction); a reply stored in another region reads it here.
    const region = m.region ?? tenant.region;
    const homeKek = region === tenant.region ? undefined : await this.keys.activeKek(tenant.id, tenant.region);
    const sealedEnvelope = await this.content.stageBytes(author.tenantId, encodeEnvelope(envelope), { tenant, region });
    const messageId = randomId();
    const createdAt = this.now();
    const actor = author.kind === 'user' ? { type: 'user' as const, id: author.userId } : { type: 'recipient' as const, id: author.recipientId };
    const recipientIds: string[] = [];
    try {
      const learn = await this.opts.guard?.learn(author, guarded({ ...m, subject, html: m.html ?? null }, this.now()));
      await this.db.transaction(async (tx) => {
        const { audit: sealed, kek: envelopeKek } = await sealedEnvelope.record(tx);
        const kek = homeKek ?? envelopeKek;
        await tx.query(
          prepared(`INSERT INTO messages (id, tenant_id, thread_id, in_reply_to, sender_user_id, sender_recipient_id, sender_email, label_id, envelope_object_id, attachment_count, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`),
          [messageId, author.tenantId, m.thread?.threadId ?? messageId, m.thread?.inReplyTo ?? null, author.kind === 'user' ? author.userId : null, author.kind === 'recipient' ? author.recipientId : null, author.email, m.label.id, sealedEnvelope.id, attachments.length, createdAt, m.expiresAt],
        );
        for (const [position, a] of attachments.entries()) {
          // Deleting the pending row first makes a concurrent send of the same upload fail.
          const { rowCount } = await tx.query(`DELETE FROM pending_uploads WHERE object_id = $1 AND ${owner.column} = $2`, [a.objectId, owner.id]);
          if (rowCount !== 1) throw errors.conflict('upload_already_attached', `attachment ${position + 1} was attached to another message meanwhile`);
          await tx.query(`INSERT INTO message_attachments (message_id, position, object_id) VALUES ($1, $2, $3)`, [messageId, position, a.objectId]);
        }
        recipientIds.push(...(await this.insertRecipients(tx, author.tenantId, messageId, m.recipients, kek)));
        await learn?.(tx, messageId);
        await recordDecisions?.(tx, messageId);
        // Last, so the chain's lock is held only from here to the commit.
        await appendAuditEvents(tx, [
          sealed,
          {
            tenantId: author.tenantId,
            actor,
            action: 'message.sent',
            target: { type: 'message', id: messageId },
            outcome: 'success',
            ...ctx,
            details: { label: m.label.name, recipients: m.recipients.length, attachments: attachments.length, expiresAt: m.expiresAt?.toISOString() ?? null, ...(m.thread ? { inReplyTo: m.thread.inReplyTo } : {}) },
          },
          // Recorded on the original too, so its audit trail shows the reply.
          ...(m.thread ? [{ tenantId: author.tenantId, actor, action: 'message.replied', target: { type: 'message', id: m.thread.inReplyTo }, outcome: 'success' as const, ...ctx, details: { replyId: messageId } }] : []),
        ]);
      });
    } catch (err) {
      await sealedEnvelope.abandon();
      throw err;
    }
    this.opts.onEnqueued?.();
    return {
      messageId,
      envelope,
      message: { id: messageId, thread_id: m.thread?.threadId ?? messageId, in_reply_to: m.thread?.inReplyTo ?? null, created_at: createdAt, expires_at: m.expiresAt, revoked_at: null },
      recipients: m.recipients.map((r, i) => ({ ...NEW_RECIPIENT, id: recipientIds[i]!, email: r.email, kind: r.kind })),
    };
  }

  private resolveExpiry(requested: Date | null | undefined, label: Label): Date | null {
    if (requested === null) return null;
    if (requested !== undefined) {
      if (Number.isNaN(requested.getTime()) || requested.getTime() <= this.now().getTime()) throw errors.invalid('invalid_expiry', 'the expiry must be a time in the future');
      return requested;
    }
    return label.defaultExpiryDays ? new Date(this.now().getTime() + label.defaultExpiryDays * 86_400_000) : null;
  }

  /**
   * New recipients of a message, each with its link and its notification job: two statements
   * whatever their number (one INSERT of all rows, one of all jobs), instead of two per
   * recipient. Their ids, in order.
   */
  private async insertRecipients(
    tx: Sql,
    tenantId: string,
    messageId: string,
    recipients: Array<{ email: string; kind: RecipientKind }>,
    kek: { id: string; key: Uint8Array },
    occasion: NotificationOccasion = 'sent',
  ): Promise<string[]> {
    const rows = recipients.map((r) => {
      const id = randomId();
      const token = generateKey();
      try {
        return { id, email: r.email, kind: r.kind, link_token_hash: linkTokenHash(token).toString('hex'), link_token_wrapped: wrapKey(kek.key, token, linkContext(tenantId, id)).toString('hex') };
      } finally {
        token.fill(0);
      }
    });
    const { rowCount } = await tx.query(
      prepared(`INSERT INTO message_recipients (id, message_id, tenant_id, email, kind, link_token_hash, link_kek_id, link_token_wrapped)
        SELECT r.id, $1::uuid, $2::uuid, r.email, r.kind, decode(r.link_token_hash, 'hex'), $3::uuid, decode(r.link_token_wrapped, 'hex')
          FROM jsonb_to_recordset($4::jsonb) AS r(id uuid, email text, kind text, link_token_hash text, link_token_wrapped text)
        ON CONFLICT (message_id, email) DO NOTHING`),
      [messageId, tenantId, kek.id, JSON.stringify(rows)],
    );
    if (rowCount !== rows.length) {
      throw errors.conflict('recipients_changed', `${rows.length === 1 ? rows[0]!.email : 'a recipient'} was added to this message meanwhile; try again`);
    }
    await enqueueJobs(tx, rows.map((r) => ({ kind: NOTIFY_RECIPIENT_JOB, payload: { tenantId, recipientId: r.id, ...(occasion === 'sent' ? {} : { occasion }) } })));
    return rows.map((r) => r.id);
  }

  /**
   * Adds recipients to a sent message inside the caller's transaction: new addresses get a row,
   * removed ones come back with a fresh link (their old link, sessions and codes stay dead), and
   * each gets a notification. Addresses already on the message are left as they are. `kek` is
   * the tenant's active KEK ({@link linkKek}), fetched before the transaction.
   */
  async admitRecipients(
    tx: Sql,
    message: { id: string; tenantId: string },
    recipients: Array<{ email: string; kind: RecipientKind }>,
    kek: { id: string; key: Uint8Array },
    audit: { actor: { type: 'user'; id: string }; ctx: RequestContext; details?: Record<string, unknown>; occasion?: NotificationOccasion },
  ): Promise<Array<{ id: string; email: string; kind: RecipientKind; added: boolean }>> {
    const out = [];
    for (const r of recipients) {
      const { rows } = await tx.query<{ id: string; kind: RecipientKind; removed_at: Date | null }>(`SELECT id, kind, removed_at FROM message_recipients WHERE message_id = $1 AND email = $2 FOR UPDATE`, [message.id, r.email]);
      const existing = rows[0];
      if (existing && !existing.removed_at) {
        out.push({ id: existing.id, email: r.email, kind: existing.kind, added: false });
        continue;
      }
      let id: string;
      if (existing) {
        id = existing.id;
        const token = generateKey();
        // A fresh link and a clean slate: nothing from before the removal works again.
        await tx.query(
          `UPDATE message_recipients SET kind = $2, link_token_hash = $3, link_kek_id = $4, link_token_wrapped = $5, added_at = now(), removed_at = NULL, revoked_at = NULL,
                  delivery_status = 'pending', delivery_attempts = 0, delivery_error = NULL, notified_at = NULL, disclaimer_accepted_at = NULL, first_opened_at = NULL, last_opened_at = NULL
            WHERE id = $1`,
          [id, r.kind, linkTokenHash(token), kek.id, wrapKey(kek.key, token, linkContext(message.tenantId, id))],
        );
        token.fill(0);
        await tx.query(`DELETE FROM recipient_sessions WHERE recipient_id = $1`, [id]);
        await tx.query(`UPDATE recipient_challenges SET consumed_at = now() WHERE recipient_id = $1 AND consumed_at IS NULL`, [id]);
        await enqueueJob(tx, { kind: NOTIFY_RECIPIENT_JOB, payload: { tenantId: message.tenantId, recipientId: id, ...(audit.occasion && audit.occasion !== 'sent' ? { occasion: audit.occasion } : {}) } });
      } else {
        id = (await this.insertRecipients(tx, message.tenantId, message.id, [r], kek, audit.occasion))[0]!;
      }
      await appendAuditEvent(tx, { tenantId: message.tenantId, actor: audit.actor, action: 'recipient.added', target: { type: 'recipient', id }, outcome: 'success', ...audit.ctx, details: { messageId: message.id, kind: r.kind, ...(existing ? { readded: true } : {}), ...audit.details } });
      out.push({ id, email: r.email, kind: r.kind, added: true });
    }
    return out;
  }

  /** The tenant's active KEK, which wraps new link tokens. Fetch it before opening a transaction. */
  async linkKek(tenantId: string): Promise<{ id: string; key: Uint8Array }> {
    return this.keys.activeKek(tenantId, (await this.tenantHome(tenantId)).region);
  }

  /** The link token of a recipient (for its notification); never stored or logged in the clear. */
  async linkToken(tenantId: string, recipientId: string, known?: { link_kek_id: string | null; link_token_wrapped: Uint8Array | null; link_kek?: KekRecord | null }): Promise<string> {
    const row =
      known ??
      (await this.db.query<{ link_kek_id: string | null; link_token_wrapped: Uint8Array | null }>(`SELECT link_kek_id, link_token_wrapped FROM message_recipients WHERE id = $1 AND tenant_id = $2`, [recipientId, tenantId])).rows[0];
    if (!row?.link_kek_id || !row.link_token_wrapped) throw errors.notFound('recipient_not_found', 'no such recipient');
    // The KEK's row, when the caller read it with the recipient's, is as current as that read.
    const kek = known?.link_kek?.id === row.link_kek_id ? await this.keys.kekFrom(known.link_kek) : await this.keys.kekById(row.link_kek_id);
    return unwrapKey(kek.key, row.link_token_wrapped, linkContext(tenantId, recipientId)).toString('base64url');
  }

  /**
   * A message's envelope, or null when its content was crypto-shredded (retention, erasure):
   * the sender still sees that the message existed, to whom and when, but not what it said.
   */
  private async envelopeUnlessErased(tenantId: string, objectId: string): Promise<Envelope | null> {
    try {
      return decodeEnvelope(await this.content.openBytes(tenantId, objectId));
    } catch (err) {
      if (isAppError(err, 'content_shredded')) return null;
      throw err;
    }
  }

  /** The sender's view of one of their messages; not_found for anyone else. */
  async getSent(sender: Pick<Sender, 'tenantId' | 'userId'>, messageId: string): Promise<SentMessage> {
    const message = await this.ownMessage(sender, messageId);
    const envelope = await this.envelopeUnlessErased(sender.tenantId, message.envelope_object_id);
    const label = await getLabel(this.db, sender.tenantId, message.label_id);
    const { rows } = await this.db.query<RecipientRow>(
      `SELECT id, email, kind, removed_at, revoked_at, delivery_status, delivery_attempts, delivery_error, notified_at, first_opened_at, last_opened_at
         FROM message_recipients WHERE message_id = $1 ORDER BY CASE kind WHEN 'to' THEN 0 WHEN 'cc' THEN 1 ELSE 2 END, added_at, email COLLATE "C"`,
      [messageId],
    );
    return sentView(message, envelope, label, rows, this.now());
  }

  /** The sender's messages, newest first (subjects opened server-side for the sender only). */
  async listSent(sender: Pick<Sender, 'tenantId' | 'userId'>, opts: { limit?: number; before?: Date } = {}): Promise<Array<Omit<SentMessage, 'attachments' | 'recipients'> & { recipientCount: number; attachmentCount: number }>> {
    const limit = Math.min(Math.max(opts.limit ?? 50, 1), 200);
    const { rows } = await this.db.query<MessageRow & { recipient_count: string; label_name: string }>(
      `SELECT m.*, l.name AS label_name, (SELECT count(*) FROM message_recipients r WHERE r.message_id = m.id AND r.removed_at IS NULL) AS recipient_count
         FROM messages m JOIN labels l ON l.id = m.label_id
        WHERE m.tenant_id = $1 AND m.sender_user_id = $2 AND ($3::timestamptz IS NULL OR m.created_at < $3)
        ORDER BY m.created_at DESC, m.id LIMIT $4`,
      [sender.tenantId, sender.userId, opts.before ?? null, limit],
    );
    const out = [];
    for (const m of rows) {
      const envelope = await this.envelopeUnlessErased(sender.tenantId, m.envelope_object_id);
      out.push({ id: m.id, threadId: m.thread_id, inReplyTo: m.in_reply_to, subject: envelope?.subject ?? '', contentErased: envelope === null, label: m.label_name, createdAt: m.created_at, expiresAt: m.expires_at, revokedAt: m.revoked_at, recipientCount: Number(m.recipient_count), attachmentCount: m.attachment_count });
    }
    return out;
  }

  /** Revokes the message for everyone (or undoes it). Takes effect on the next key request. */
  async setRevoked(sender: Sender, messageId: string, revoked: boolean, ctx: RequestContext = {}): Promise<SentMessage> {
    await this.ownMessage(sender, messageId);
    await this.db.transaction(async (tx) => {
      await tx.query(`UPDATE messages SET revoked_at = ${revoked ? 'COALESCE(revoked_at, now())' : 'NULL'} WHERE id = $1`, [messageId]);
      await appendAuditEvent(tx, { tenantId: sender.tenantId, actor: { type: 'user', id: sender.userId }, action: revoked ? 'message.revoked' : 'message.unrevoked', target: { type: 'message', id: messageId }, outcome: 'success', ...ctx });
    });
    return this.getSent(sender, messageId);
  }

  /** Revokes one recipient (or undoes it). */
  async setRecipientRevoked(sender: Sender, messageId: string, recipientId: string, revoked: boolean, ctx: RequestContext = {}): Promise<SentMessage> {
    await this.ownMessage(sender, messageId);
    if (!isUuid(recipientId)) throw errors.notFound('recipient_not_found', 'no such recipient on this message');
    await this.db.transaction(async (tx) => {
      const { rowCount } = await tx.query(`UPDATE message_recipients SET revoked_at = ${revoked ? 'COALESCE(revoked_at, now())' : 'NULL'} WHERE id = $1 AND message_id = $2`, [recipientId, messageId]);
      if (rowCount !== 1) throw errors.notFound('recipient_not_found', 'no such recipient on this message');
      await appendAuditEvent(tx, { tenantId: sender.tenantId, actor: { type: 'user', id: sender.userId }, action: revoked ? 'recipient.revoked' : 'recipient.unrevoked', target: { type: 'recipient', id: recipientId }, outcome: 'success', ...ctx, details: { messageId } });
    });
    return this.getSent(sender, messageId);
  }

  /** Sets (future time) or removes (null) the expiry. */
  async setExpiry(sender: Sender, messageId: string, expiresAt: Date | null, ctx: RequestContext = {}): Promise<SentMessage> {
    await this.ownMessage(sender, messageId);
    if (expiresAt && (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= this.now().getTime())) throw errors.invalid('invalid_expiry', 'the expiry must be a time in the future');
    await this.db.transaction(async (tx) => {
      await tx.query(`UPDATE messages SET expires_at = $2 WHERE id = $1`, [messageId, expiresAt]);
      await appendAuditEvent(tx, { tenantId: sender.tenantId, actor: { type: 'user', id: sender.userId }, action: 'message.expiry_changed', target: { type: 'message', id: messageId }, outcome: 'success', ...ctx, details: { expiresAt: expiresAt?.toISOString() ?? null } });
    });
    return this.getSent(sender, messageId);
  }

  /**
   * Adds recipients after sending; each gets a notification with their own link. Refused with
   * 'forwarding_not_allowed' when the label is no-forward. Addresses already on the message are
   * left as they are; removed ones are added back with a new link.
   */
  async addRecipients(sender: Sender, messageId: string, input: AddressLists, ctx: RequestContext = {}): Promise<SentMessage> {
    const message = await this.ownMessage(sender, messageId);
    const label = await getLabel(this.db, sender.tenantId, message.label_id);
    const actor = { type: 'user' as const, id: sender.userId };
    if (label.noForward) {
      await appendAuditEvent(this.db, { tenantId: sender.tenantId, actor, action: 'recipient.added', target: { type: 'message', id: messageId }, outcome: 'denied', ...ctx, details: { reason: 'forwarding_not_allowed' } });
      throw errors.forbidden('forwarding_not_allowed', `the label "${label.name}" does not allow adding recipients after sending`);
    }
    const wanted = collectRecipients(input);
    const kek = await this.linkKek(sender.tenantId);
    await this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ n: string }>(`SELECT count(*) AS n FROM message_recipients WHERE message_id = $1 AND removed_at IS NULL AND NOT (email = ANY($2::text[]))`, [messageId, wanted.map((w) => w.email)]);
      if (Number(rows[0]!.n) + wanted.length > MAX_RECIPIENTS) throw errors.invalid('too_many_recipients', `at most ${MAX_RECIPIENTS} recipients per message`);
      await this.admitRecipients(tx, { id: messageId, tenantId: sender.tenantId }, wanted, kek, { actor, ctx });
    });
    this.opts.onEnqueued?.();
    return this.getSent(sender, messageId);
  }

  /**
   * Removes a recipient: from the next request on, their link answers like an unknown link and
   * their session is refused with 'recipient_removed'. Allowed whatever the label. Removing a
   * recipient who was already removed changes nothing.
   */
  async removeRecipient(sender: Sender, messageId: string, recipientId: string, ctx: RequestContext = {}): Promise<SentMessage> {
    await this.ownMessage(sender, messageId);
    if (!isUuid(recipientId)) throw errors.notFound('recipient_not_found', 'no such recipient on this message');
    await this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ removed_at: Date | null }>(`SELECT removed_at FROM message_recipients WHERE id = $1 AND message_id = $2 FOR UPDATE`, [recipientId, messageId]);
      if (!rows[0]) throw errors.notFound('recipient_not_found', 'no such recipient on this message');
      if (rows[0].removed_at) return;
      await tx.query(`UPDATE message_recipients SET removed_at = now() WHERE id = $1`, [recipientId]);
      await appendAuditEvent(tx, { tenantId: sender.tenantId, actor: { type: 'user', id: sender.userId }, action: 'recipient.removed', target: { type: 'recipient', id: recipientId }, outcome: 'success', ...ctx, details: { messageId } });
    });
    return this.getSent(sender, messageId);
  }

  /**
   * A thread as one of its senders sees it, oldest first: the messages they sent and those they
   * received (replies from recipients included), with content opened server-side. Only for
   * users who sent at least one message of the thread; anyone else gets not_found. Content of a
   * received message that was revoked or has expired is withheld. Reading received content is audited.
   */
  async thread(user: Sender, messageId: string, ctx: RequestContext = {}): Promise<Thread> {
    const anchor = isUuid(messageId) ? await this.visibleMessage(user, messageId) : undefined;
    if (!anchor) throw errors.notFound('message_not_found', 'no such message');
    const { rows } = await this.db.query<MessageRow & { label_name: string }>(
      `SELECT m.*, l.name AS label_name FROM messages m JOIN labels l ON l.id = m.label_id
        WHERE m.tenant_id = $1 AND m.thread_id = $2
          AND (m.sender_user_id = $3 OR EXISTS (SELECT 1 FROM message_recipients r WHERE r.message_id = m.id AND r.email = $4 AND r.removed_at IS NULL))
        ORDER BY m.created_at, m.id`,
      [user.tenantId, anchor.thread_id, user.userId, user.email],
    );
    // Sender only: a user who merely received messages of the thread reads them through their links.
    if (!rows.some((m) => m.sender_user_id === user.userId)) throw errors.notFound('message_not_found', 'no such message');
    const { rows: recipients } = await this.db.query<{ message_id: string; email: string; kind: RecipientKind; revoked_at: Date | null }>(
      `SELECT message_id, email, kind, revoked_at FROM message_recipients WHERE message_id = ANY($1::uuid[]) AND removed_at IS NULL ORDER BY added_at, email`,
      [rows.map((m) => m.id)],
    );
    const now = this.now();
    const read: string[] = [];
    const messages: ThreadMessage[] = [];
    for (const m of rows) {
      const mine = m.sender_user_id === user.userId;
      const on = recipients.filter((r) => r.message_id === m.id);
      const me = on.find((r) => r.email === user.email);
      let withheld: ThreadMessage['withheld'] = null;
      if (!mine && (m.revoked_at || me?.revoked_at)) withheld = 'message_revoked';
      else if (!mine && m.expires_at && m.expires_at.getTime() <= now.getTime()) withheld = 'message_expired';
      const envelope = withheld ? undefined : ((await this.envelopeUnlessErased(user.tenantId, m.envelope_object_id)) ?? undefined);
      if (!withheld && !envelope) withheld = 'content_erased';
      if (envelope && !mine) read.push(m.id);
      messages.push({
        id: m.id,
        inReplyTo: m.in_reply_to,
        sender: m.sender_email,
        sentByYou: mine,
        fromRecipient: m.sender_recipient_id !== null,
        label: m.label_name,
        createdAt: m.created_at,
        expiresAt: m.expires_at,
        revokedAt: m.revoked_at,
        to: on.filter((r) => r.kind === 'to').map((r) => r.email),
        cc: on.filter((r) => r.kind === 'cc').map((r) => r.email),
        bcc: mine ? on.filter((r) => r.kind === 'bcc').map((r) => r.email) : [],
        withheld,
        subject: envelope?.subject ?? null,
        text: envelope?.text ?? null,
        html: envelope?.html ?? null,
        attachments: envelope?.attachments ?? [],
      });
    }
    if (read.length > 0) {
      await this.db.transaction(async (tx) => {
        for (const id of read) await appendAuditEvent(tx, { tenantId: user.tenantId, actor: { type: 'user', id: user.userId }, action: 'message.read_in_thread', target: { type: 'message', id }, outcome: 'success', ...ctx, details: { threadId: anchor.thread_id } });
      });
    }
    return { threadId: anchor.thread_id, messages };
  }

  /** The audit trail of one of the sender's messages, oldest first, with recipients named. */
  async auditTrail(sender: Pick<Sender, 'tenantId' | 'userId'>, messageId: string): Promise<Array<{ occurredAt: Date; action: string; outcome: string; actorType: string; actorId: string | null; recipient: string | null; ip: string | null; userAgent: string | null; reason: string | null }>> {
    await this.ownMessage(sender, messageId);
    const { rows } = await this.db.query<{ occurred_at: Date; action: string; outcome: string; actor_type: string; actor_id: string | null; recipient: string | null; ip: string | null; user_agent: string | null; reason: string | null }>(
      `SELECT e.occurred_at, e.action, e.outcome, e.actor_type, e.actor_id, COALESCE(r.email, e.details->>'email') AS recipient, e.ip, e.user_agent, e.details->>'reason' AS reason
         FROM audit_events e
         LEFT JOIN message_recipients r ON r.message_id = $2::uuid AND r.id::text = CASE WHEN e.actor_type = 'recipient' THEN e.actor_id ELSE e.target_id END
        WHERE e.chain = $1::text AND ((e.target_type = 'message' AND e.target_id = $2::text) OR (e.target_type IN ('recipient', 'access_request') AND e.details->>'messageId' = $2::text))
        ORDER BY e.chain_seq`,
      [sender.tenantId, messageId],
    );
    return rows.map((r) => ({ occurredAt: r.occurred_at, action: r.action, outcome: r.outcome, actorType: r.actor_type, actorId: r.actor_id, recipient: r.recipient, ip: r.ip, userAgent: r.user_agent, reason: r.reason }));
  }

  /** The message if this user sent it; the same not_found as for a message that does not exist. */
  async ownMessage(sender: Pick<Sender, 'tenantId' | 'userId'>, messageId: string): Promise<MessageRow> {
    const { rows } = isUuid(messageId) ? await this.db.query<MessageRow>(`SELECT * FROM messages WHERE id = $1 AND tenant_id = $2 AND sender_user_id = $3`, [messageId, sender.tenantId, sender.userId]) : { rows: [] };
    if (!rows[0]) throw errors.notFound('message_not_found', 'no such message');
    return rows[0];
  }

  /** A message of the user's tenant that they sent or are a (not removed) recipient of; undefined otherwise. */
  private async visibleMessage(user: Pick<Sender, 'tenantId' | 'userId' | 'email'>, messageId: string): Promise<MessageRow | undefined> {
    const { rows } = await this.db.query<MessageRow>(
      `SELECT m.* FROM messages m
        WHERE m.id = $1 AND m.tenant_id = $2
          AND (m.sender_user_id = $3 OR EXISTS (SELECT 1 FROM message_recipients r WHERE r.message_id = m.id AND r.email = $4 AND r.removed_at IS NULL))`,
      [messageId, user.tenantId, user.userId, user.email],
    );
    return rows[0];
  }
}


/** What the sender's view needs of a message row. */
type SentMessageRow = Pick<MessageRow, 'id' | 'thread_id' | 'in_reply_to' | 'created_at' | 'expires_at' | 'revoked_at'>;

/** A recipient row as a send inserts it. */
const NEW_RECIPIENT: Omit<RecipientRow, 'id' | 'email' | 'kind'> = {
  removed_at: null,
  revoked_at: null,
  delivery_status: 'pending',
  delivery_attempts: 0,
  delivery_error: null,
  notified_at: null,
  first_opened_at: null,
  last_opened_at: null,
};

const KIND_ORDER: Record<RecipientKind, number> = { to: 0, cc: 1, bcc: 2 };

/** Recipients added together (same added_at) in getSent's order: To, Cc, Bcc, then by address (code point order, as COLLATE "C"). */
function sortRecipients(rows: RecipientRow[]): RecipientRow[] {
  return [...rows].sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || (a.email < b.email ? -1 : a.email > b.email ? 1 : 0));
}

/** The sender's view of a message from its rows (`envelope` null: its content was erased). */
function sentView(message: SentMessageRow, envelope: Envelope | null, label: Label, rows: RecipientRow[], now: Date): SentMessage {
  return {
    id: message.id,
    threadId: message.thread_id,
    inReplyTo: message.in_reply_to,
    subject: envelope?.subject ?? '',
    contentErased: envelope === null,
    label: label.name,
    createdAt: message.created_at,
    expiresAt: message.expires_at,
    revokedAt: message.revoked_at,
    attachments: envelope?.attachments ?? [],
    recipients: rows.map((r) => ({
      id: r.id,
      email: r.email,
      kind: r.kind,
      status: recipientStatus(message, r, now),
      deliveryAttempts: r.delivery_attempts,
      deliveryError: r.delivery_error,
      notifiedAt: r.notified_at,
      firstOpenedAt: r.first_opened_at,
      lastOpenedAt: r.last_opened_at,
      revokedAt: r.revoked_at,
    })),
  };
}

function recipientStatus(m: Pick<MessageRow, 'revoked_at' | 'expires_at'>, r: RecipientRow, now: Date): string {
  if (r.removed_at) return 'removed';
  if (m.revoked_at || r.revoked_at) return 'revoked';
  if (m.expires_at && m.expires_at.getTime() <= now.getTime()) return 'expired';
  if (r.first_opened_at) return 'opened';
  if (r.delivery_status === 'failed') return 'delivery_failed';
  if (r.delivery_status === 'sent') return 'notified';
  return 'pending';
}

/** Validates and de-duplicates recipients; To wins over Cc over Bcc. */
export function collectRecipients(draft: AddressLists): Array<{ email: string; kind: RecipientKind }> {
  const out = new Map<string, RecipientKind>();
  for (const kind of ['to', 'cc', 'bcc'] as const) {
    for (const [i, raw] of (draft[kind] ?? []).entries()) {
      const email = requireAddress(raw, `${kind}[${i}]`);
      if (!out.has(email)) out.set(email, kind);
    }
  }
  if (out.size === 0) throw errors.invalid('no_recipients', 'a message needs at least one recipient in to, cc or bcc');
  if (out.size > MAX_RECIPIENTS) throw errors.invalid('too_many_recipients', `at most ${MAX_RECIPIENTS} recipients per message`);
  return [...out].map(([email, kind]) => ({ email, kind }));
}

function guarded(m: { recipients: GuardedMessage['recipients']; subject: string; text: string; html: string | null; label: Label; thread?: Composition['thread'] }, at: Date): GuardedMessage {
  return { recipients: m.recipients, subject: m.subject, text: m.text, html: m.html, labelRank: m.label.rank, threadId: m.thread?.threadId ?? null, at };
}
