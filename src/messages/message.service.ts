// Sending and sender controls: a message is an envelope (sealed) plus attachments (sealed),
// sent to recipients who each get a notification with a unique link. After sending, the sender
// can revoke for everyone or per recipient (and undo), and change the expiry.
//
// Everything a send writes to the database commits in one transaction, together with the
// notification jobs; sealed objects written before it are shredded if it fails.

import { createHash } from 'node:crypto';
import { appendAuditEvent } from '../audit/audit.service.ts';
import type { ContentStore } from '../content/content.service.ts';
import { isUuid } from '../crypto/format/bytes.ts';
import { generateKey, randomId, unwrapKey, wrapContext, wrapKey } from '../crypto/keys.ts';
import { enqueueJob } from '../jobs/job.queue.ts';
import type { KeyService } from '../keys/key.service.ts';
import { errors } from '../shared/app-error.ts';
import { getTenant } from '../accounts/tenant.repository.ts';
import type { Database, Sql } from '../storage/database/database.ts';
import { requireAddress } from './addresses.ts';
import { decodeEnvelope, encodeEnvelope, sanitizeMessageHtml, type Envelope } from './envelope.ts';
import { DEFAULT_LABEL_NAME, findLabelByName, getLabel, type Label } from './labels.ts';

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
}

export type RecipientKind = 'to' | 'cc' | 'bcc';

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
  subject: string;
  label: string;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  attachments: Array<{ objectId: string; filename: string; contentType: string; size: number }>;
  recipients: RecipientStatus[];
}

interface MessageRow {
  id: string;
  tenant_id: string;
  thread_id: string;
  in_reply_to: string | null;
  sender_user_id: string | null;
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
export const linkTokenHash = (token: Buffer): Buffer => createHash('sha256').update(token).digest();
const linkContext = (tenantId: string, recipientId: string) => wrapContext('sealpost/link/v1', tenantId, recipientId);

/** Sends messages and applies the sender's controls. */
export class MessageService {
  constructor(
    private readonly db: Database,
    private readonly content: ContentStore,
    private readonly keys: KeyService,
    private readonly opts: { onEnqueued?: () => void; now?: () => Date } = {},
  ) {}

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  /** Sends a message: seals the envelope, records recipients, queues one notification each. */
  async send(sender: Sender, draft: Draft, ctx: RequestContext = {}, thread?: { threadId: string; inReplyTo: string }): Promise<SentMessage> {
    const recipients = collectRecipients(draft);
    const subject = draft.subject.trim();
    if (subject.length > MAX_SUBJECT_LENGTH) throw errors.invalid('subject_too_long', `the subject is longer than ${MAX_SUBJECT_LENGTH} characters`);
    if (Buffer.byteLength(draft.text, 'utf8') > MAX_TEXT_BYTES) throw errors.invalid('body_too_long', `the body is larger than ${MAX_TEXT_BYTES} bytes`);
    const attachmentsIn = draft.attachments ?? [];
    if (attachmentsIn.length > MAX_ATTACHMENTS) throw errors.invalid('too_many_attachments', `at most ${MAX_ATTACHMENTS} attachments per message`);
    const label = await findLabelByName(this.db, sender.tenantId, draft.label ?? DEFAULT_LABEL_NAME);
    const expiresAt = this.resolveExpiry(draft.expiresAt, label);

    // Attachments must be this user's own pending uploads.
    const attachments: Envelope['attachments'] = [];
    const seen = new Set<string>();
    for (const [i, a] of attachmentsIn.entries()) {
      if (seen.has(a.uploadId)) throw errors.invalid('duplicate_attachment', `attachment ${i + 1}: the same upload is attached twice`);
      seen.add(a.uploadId);
      const filename = a.filename.trim();
      if (filename.length < 1 || filename.length > 255 || /[\u0000-\u001f/\\]/.test(filename)) throw errors.invalid('invalid_filename', `attachment ${i + 1}: the file name must be 1 to 255 characters without slashes or control characters`);
      if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/i.test(a.contentType)) throw errors.invalid('invalid_content_type', `attachment ${i + 1}: "${a.contentType.slice(0, 100)}" is not a media type`);
      const { rows } = await this.db.query<{ object_id: string }>(`SELECT object_id FROM pending_uploads WHERE object_id = $1 AND tenant_id = $2 AND user_id = $3`, [a.uploadId, sender.tenantId, sender.userId]);
      if (!rows[0]) throw errors.invalid('upload_not_found', `attachment ${i + 1}: no pending upload ${a.uploadId} of yours (uploads can be attached once)`);
      const object = await this.content.get(sender.tenantId, a.uploadId);
      attachments.push({ objectId: object.id, filename, contentType: a.contentType.toLowerCase(), size: object.plaintextLength });
    }

    const envelope: Envelope = { version: 1, subject, text: draft.text, html: draft.html ? sanitizeMessageHtml(draft.html) : null, attachments };
    const sealedEnvelope = await this.content.putBytes(sender.tenantId, encodeEnvelope(envelope));
    const kek = await this.keys.activeKek(sender.tenantId, (await getTenant(this.db, sender.tenantId)).region);
    const messageId = randomId();
    try {
      await this.db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO messages (id, tenant_id, thread_id, in_reply_to, sender_user_id, sender_email, label_id, envelope_object_id, attachment_count, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
          [messageId, sender.tenantId, thread?.threadId ?? messageId, thread?.inReplyTo ?? null, sender.userId, sender.email, label.id, sealedEnvelope.id, attachments.length, this.now(), expiresAt],
        );
        for (const [position, a] of attachments.entries()) {
          // Deleting the pending row first makes a concurrent send of the same upload fail.
          const { rowCount } = await tx.query(`DELETE FROM pending_uploads WHERE object_id = $1 AND user_id = $2`, [a.objectId, sender.userId]);
          if (rowCount !== 1) throw errors.conflict('upload_already_attached', `attachment ${position + 1} was attached to another message meanwhile`);
          await tx.query(`INSERT INTO message_attachments (message_id, position, object_id) VALUES ($1, $2, $3)`, [messageId, position, a.objectId]);
        }
        for (const r of recipients) await this.insertRecipient(tx, sender.tenantId, messageId, r, kek);
        await appendAuditEvent(tx, {
          tenantId: sender.tenantId,
          actor: { type: 'user', id: sender.userId },
          action: 'message.sent',
          target: { type: 'message', id: messageId },
          outcome: 'success',
          ...ctx,
          details: { label: label.name, recipients: recipients.length, attachments: attachments.length, expiresAt: expiresAt?.toISOString() ?? null },
        });
      });
    } catch (err) {
      await this.content.shred(sender.tenantId, sealedEnvelope.id).catch(() => undefined);
      throw err;
    }
    this.opts.onEnqueued?.();
    return this.getSent(sender, messageId);
  }

  private resolveExpiry(requested: Date | null | undefined, label: Label): Date | null {
    if (requested === null) return null;
    if (requested !== undefined) {
      if (Number.isNaN(requested.getTime()) || requested.getTime() <= this.now().getTime()) throw errors.invalid('invalid_expiry', 'the expiry must be a time in the future');
      return requested;
    }
    return label.defaultExpiryDays ? new Date(this.now().getTime() + label.defaultExpiryDays * 86_400_000) : null;
  }

  private async insertRecipient(tx: Sql, tenantId: string, messageId: string, r: { email: string; kind: RecipientKind }, kek: { id: string; key: Uint8Array }): Promise<string> {
    const id = randomId();
    const token = generateKey();
    await tx.query(
      `INSERT INTO message_recipients (id, message_id, tenant_id, email, kind, link_token_hash, link_kek_id, link_token_wrapped) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [id, messageId, tenantId, r.email, r.kind, linkTokenHash(token), kek.id, wrapKey(kek.key, token, linkContext(tenantId, id))],
    );
    token.fill(0);
    await enqueueJob(tx, { kind: NOTIFY_RECIPIENT_JOB, payload: { tenantId, recipientId: id } });
    return id;
  }

  /** The link token of a recipient (for its notification); never stored or logged in the clear. */
  async linkToken(tenantId: string, recipientId: string): Promise<string> {
    const { rows } = await this.db.query<{ link_kek_id: string | null; link_token_wrapped: Uint8Array | null }>(`SELECT link_kek_id, link_token_wrapped FROM message_recipients WHERE id = $1 AND tenant_id = $2`, [recipientId, tenantId]);
    const row = rows[0];
    if (!row?.link_kek_id || !row.link_token_wrapped) throw errors.notFound('recipient_not_found', 'no such recipient');
    const kek = await this.keys.kekById(row.link_kek_id);
    return unwrapKey(kek.key, row.link_token_wrapped, linkContext(tenantId, recipientId)).toString('base64url');
  }

  /** The sender's view of one of their messages; not_found for anyone else. */
  async getSent(sender: Pick<Sender, 'tenantId' | 'userId'>, messageId: string): Promise<SentMessage> {
    const message = await this.ownMessage(sender, messageId);
    const envelope = decodeEnvelope(await this.content.openBytes(sender.tenantId, message.envelope_object_id));
    const label = await getLabel(this.db, sender.tenantId, message.label_id);
    const { rows } = await this.db.query<RecipientRow>(
      `SELECT id, email, kind, removed_at, revoked_at, delivery_status, delivery_attempts, delivery_error, notified_at, first_opened_at, last_opened_at
         FROM message_recipients WHERE message_id = $1 ORDER BY CASE kind WHEN 'to' THEN 0 WHEN 'cc' THEN 1 ELSE 2 END, added_at, email`,
      [messageId],
    );
    const now = this.now();
    return {
      id: message.id,
      threadId: message.thread_id,
      inReplyTo: message.in_reply_to,
      subject: envelope.subject,
      label: label.name,
      createdAt: message.created_at,
      expiresAt: message.expires_at,
      revokedAt: message.revoked_at,
      attachments: envelope.attachments,
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
      const envelope = decodeEnvelope(await this.content.openBytes(sender.tenantId, m.envelope_object_id));
      out.push({ id: m.id, threadId: m.thread_id, inReplyTo: m.in_reply_to, subject: envelope.subject, label: m.label_name, createdAt: m.created_at, expiresAt: m.expires_at, revokedAt: m.revoked_at, recipientCount: Number(m.recipient_count), attachmentCount: m.attachment_count });
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

  /** The audit trail of one of the sender's messages, oldest first, with recipients named. */
  async auditTrail(sender: Pick<Sender, 'tenantId' | 'userId'>, messageId: string): Promise<Array<{ occurredAt: Date; action: string; outcome: string; actorType: string; actorId: string | null; recipient: string | null; ip: string | null; userAgent: string | null; reason: string | null }>> {
    await this.ownMessage(sender, messageId);
    const { rows } = await this.db.query<{ occurred_at: Date; action: string; outcome: string; actor_type: string; actor_id: string | null; recipient: string | null; ip: string | null; user_agent: string | null; reason: string | null }>(
      `SELECT e.occurred_at, e.action, e.outcome, e.actor_type, e.actor_id, r.email AS recipient, e.ip, e.user_agent, e.details->>'reason' AS reason
         FROM audit_events e
         LEFT JOIN message_recipients r ON r.message_id = $2::uuid AND r.id::text = CASE WHEN e.actor_type = 'recipient' THEN e.actor_id ELSE e.target_id END
        WHERE e.chain = $1::text AND ((e.target_type = 'message' AND e.target_id = $2::text) OR (e.target_type = 'recipient' AND e.details->>'messageId' = $2::text))
        ORDER BY e.chain_seq`,
      [sender.tenantId, messageId],
    );
    return rows.map((r) => ({ occurredAt: r.occurred_at, action: r.action, outcome: r.outcome, actorType: r.actor_type, actorId: r.actor_id, recipient: r.recipient, ip: r.ip, userAgent: r.user_agent, reason: r.reason }));
  }

  /** The message if this user sent it; the same not_found as for a message that does not exist. */
  private async ownMessage(sender: Pick<Sender, 'tenantId' | 'userId'>, messageId: string): Promise<MessageRow> {
    const { rows } = isUuid(messageId) ? await this.db.query<MessageRow>(`SELECT * FROM messages WHERE id = $1 AND tenant_id = $2 AND sender_user_id = $3`, [messageId, sender.tenantId, sender.userId]) : { rows: [] };
    if (!rows[0]) throw errors.notFound('message_not_found', 'no such message');
    return rows[0];
  }
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
export function collectRecipients(draft: Pick<Draft, 'to' | 'cc' | 'bcc'>): Array<{ email: string; kind: RecipientKind }> {
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
