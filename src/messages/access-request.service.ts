// Access requests: someone who received a forwarded notification is not a recipient, and the
// link they hold grants them nothing. They may ask the sender for access instead: they prove
// control of their own address with a one-time code, the request is recorded and the sender is
// told by email; the sender approves (the requester becomes a Bcc recipient and gets their own
// link) or denies (the requester is told). Refused outright when the label is no-forward.
//
// Until the sender approves, the requester learns nothing about the message: no subject, no
// recipients, not whether it was revoked or has expired — only that the link exists.
import { appendAuditEvent } from '../audit/audit.service.ts';
import { isUuid } from '../crypto/format/bytes.ts';
import { randomId } from '../crypto/keys.ts';
import { enqueueJob } from '../jobs/job.queue.ts';
import type { Mailer } from '../mail/mailer.ts';
import type { RateLimiter, RateLimitRule } from '../rate-limit/rate-limiter.ts';
import { errors, type AppError } from '../shared/app-error.ts';
import type { Database, Sql } from '../storage/database/database.ts';
import { maskAddress, requireAddress } from './addresses.ts';
import { getLabel } from './labels.ts';
import type { MessageService, RequestContext, Sender } from './message.service.ts';
import { attemptsLeftMessage, CODE_LIFETIME_MS, CODE_MAX_ATTEMPTS, codeHash, codeMatches, generateCode } from './one-time-code.ts';
import { recipientByLink } from './recipient-access.service.ts';

export const NOTIFY_ACCESS_REQUEST_JOB = 'notify_access_request';
export const NOTIFY_ACCESS_DECISION_JOB = 'notify_access_decision';
export const MAX_REASON_LENGTH = 500;

/** Limits on asking (each request emails a code) and on checking codes. */
export const ACCESS_REQUEST_LIMITS = {
  perLink: { scope: 'access_request_link', limit: 5, windowSeconds: 3600 },
  perAddress: { scope: 'access_request_address', limit: 5, windowSeconds: 3600 },
  perIp: { scope: 'access_request_ip', limit: 20, windowSeconds: 3600 },
  verifyPerIp: { scope: 'access_request_verify_ip', limit: 100, windowSeconds: 3600 },
} satisfies Record<string, RateLimitRule>;

/** unverified requests (code sent, not yet entered) are never shown to the sender. */
export type AccessRequestStatus = 'pending' | 'approved' | 'denied';

/** An access request as the sender sees it. */
export interface AccessRequest {
  id: string;
  email: string;
  reason: string | null;
  status: AccessRequestStatus;
  /** The recipient whose link was used (whose notification was forwarded). */
  via: string;
  requestedAt: Date;
  decidedAt: Date | null;
}

interface RequestRow {
  id: string;
  tenant_id: string;
  message_id: string;
  email: string;
  reason: string | null;
  status: 'unverified' | AccessRequestStatus;
  code_hash: Uint8Array | null;
  code_expires_at: Date;
  code_attempts: number;
  verified_at: Date | null;
  decided_at: Date | null;
  via: string;
}

const SELECT_REQUEST = `SELECT a.*, v.email AS via FROM access_requests a JOIN message_recipients v ON v.id = a.via_recipient_id`;

const toRequest = (r: RequestRow): AccessRequest => ({ id: r.id, email: r.email, reason: r.reason, status: r.status as AccessRequestStatus, via: r.via, requestedAt: r.verified_at!, decidedAt: r.decided_at });

const requestNotFound = () => errors.notFound('access_request_not_found', 'no such access request');

/** Trimmed reason with control characters (but line breaks) turned into spaces; null when empty. */
function cleanReason(reason: string | undefined): string | null {
  const r = (reason ?? '').replace(/\r\n?/g, '\n').replace(/[\u0000-\u0009\u000b-\u001f\u007f]/g, ' ').trim();
  if (r === '') return null;
  if (r.length > MAX_REASON_LENGTH) throw errors.invalid('reason_too_long', `reason: at most ${MAX_REASON_LENGTH} characters`, { field: 'reason' });
  return r;
}

/** Access requests from forwarded links: the requester's side and the sender's decisions. */
export class AccessRequestService {
  constructor(
    private readonly db: Database,
    private readonly mailer: Mailer,
    private readonly limiter: RateLimiter,
    private readonly messages: MessageService,
    private readonly opts: { now?: () => Date; generateCode?: () => string; onEnqueued?: () => void } = {},
  ) {}

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  private async limit(rule: RateLimitRule, key: string): Promise<void> {
    const decision = await this.limiter.consume(rule, key);
    if (!decision.allowed) throw errors.rateLimited('rate_limited', `too many attempts; try again in ${Math.ceil(decision.retryAfterSeconds / 60)} minute(s)`, decision.retryAfterSeconds);
  }

  /**
   * Starts a request for access through a (forwarded) link: emails a one-time code to the
   * requester's own address. Nothing reaches the sender until the code is entered. Refused with
   * 'forwarding_not_allowed' when the label is no-forward (or the message was written by a
   * recipient, whose replies have no sender in the organisation to decide).
   */
  async request(link: string, input: { email: string; reason?: string | undefined }, ctx: RequestContext = {}): Promise<{ requestId: string; sentTo: string; expiresAt: Date }> {
    const email = requireAddress(input.email, 'email');
    const reason = cleanReason(input.reason);
    if (ctx.ip) await this.limit(ACCESS_REQUEST_LIMITS.perIp, ctx.ip);
    const row = await recipientByLink(this.db, link);
    await this.limit(ACCESS_REQUEST_LIMITS.perLink, row.recipient_id);
    await this.limit(ACCESS_REQUEST_LIMITS.perAddress, email);
    const actor = { type: 'recipient' as const, id: email };
    const label = await getLabel(this.db, row.tenant_id, row.label_id);
    if (label.noForward || !row.sender_user_id) {
      await appendAuditEvent(this.db, { tenantId: row.tenant_id, actor, action: 'access_request.created', target: { type: 'message', id: row.message_id }, outcome: 'denied', ...ctx, details: { reason: 'forwarding_not_allowed', email, via: row.recipient_id } });
      throw errors.forbidden('forwarding_not_allowed', 'the sender does not allow access requests for this message; ask them to send it to you directly');
    }
    const id = randomId();
    const code = this.opts.generateCode?.() ?? generateCode();
    const expiresAt = new Date(this.now().getTime() + CODE_LIFETIME_MS);
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO access_requests (id, tenant_id, message_id, via_recipient_id, email, reason, status, code_hash, code_expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'unverified', $7, $8, $9)`,
        [id, row.tenant_id, row.message_id, row.recipient_id, email, reason, codeHash(id, code), expiresAt, this.now()],
      );
      await appendAuditEvent(tx, { tenantId: row.tenant_id, actor, action: 'access_request.created', target: { type: 'access_request', id }, outcome: 'success', ...ctx, details: { messageId: row.message_id, email, via: row.recipient_id } });
    });
    await this.mailer.send({
      to: email,
      subject: `Your Sealpost code: ${code}`,
      text: `Your one-time code is ${code}\n\nEnter it to send your request for access to the sender. It is valid for 10 minutes. If you did not ask for it, you can ignore this email.\n`,
      headers: { 'Auto-Submitted': 'auto-generated' },
    });
    return { requestId: id, sentTo: maskAddress(email), expiresAt };
  }

  /**
   * Checks the requester's code. On success the request becomes pending and the sender is
   * notified. Five wrong attempts use the code up (the requester starts again from the link).
   */
  async verify(requestId: string, code: string, ctx: RequestContext = {}): Promise<{ status: 'pending' }> {
    if (ctx.ip) await this.limit(ACCESS_REQUEST_LIMITS.verifyPerIp, ctx.ip);
    if (!isUuid(requestId)) throw requestNotFound();
    const result = await this.db.transaction(async (tx): Promise<{ error: AppError } | { status: 'pending' }> => {
      const { rows } = await tx.query<RequestRow>(`${SELECT_REQUEST} WHERE a.id = $1 FOR UPDATE OF a`, [requestId]);
      const r = rows[0];
      if (!r || r.status !== 'unverified') return { error: requestNotFound() };
      const audit = (outcome: 'success' | 'denied', reason?: string) =>
        appendAuditEvent(tx, { tenantId: r.tenant_id, actor: { type: 'recipient', id: r.email }, action: 'access_request.verified', target: { type: 'access_request', id: r.id }, outcome, ...ctx, details: { messageId: r.message_id, email: r.email, ...(reason ? { reason } : {}) } });
      if (!r.code_hash || r.code_expires_at.getTime() <= this.now().getTime() || r.code_attempts >= CODE_MAX_ATTEMPTS) {
        await audit('denied', 'code_expired');
        return { error: errors.forbidden('code_expired', 'this code has expired or been used up; ask for access again from the link') };
      }
      if (!codeMatches(r.code_hash, r.id, code)) {
        const attempts = r.code_attempts + 1;
        await tx.query(`UPDATE access_requests SET code_attempts = $2::int, code_hash = CASE WHEN $2::int >= $3::int THEN NULL ELSE code_hash END WHERE id = $1`, [r.id, attempts, CODE_MAX_ATTEMPTS]);
        await audit('denied', attempts >= CODE_MAX_ATTEMPTS ? 'code_locked' : 'code_wrong');
        const left = CODE_MAX_ATTEMPTS - attempts;
        return { error: left > 0 ? errors.forbidden('code_wrong', attemptsLeftMessage(left)) : errors.forbidden('code_locked', 'too many wrong attempts; ask for access again from the link') };
      }
      // The code is used up whatever happens next.
      await tx.query(`UPDATE access_requests SET code_hash = NULL, code_attempts = code_attempts + 1 WHERE id = $1`, [r.id]);
      // Only now, with control of the address proven, may the answer depend on it.
      const { rows: onList } = await tx.query(`SELECT 1 FROM message_recipients WHERE message_id = $1 AND email = $2 AND removed_at IS NULL`, [r.message_id, r.email]);
      if (onList.length > 0) {
        await audit('denied', 'already_recipient');
        return { error: errors.conflict('already_recipient', 'this address is already a recipient of the message: open the notification that was sent to it') };
      }
      const { rows: open } = await tx.query(`SELECT 1 FROM access_requests WHERE message_id = $1 AND email = $2 AND status = 'pending'`, [r.message_id, r.email]);
      if (open.length > 0) {
        await audit('denied', 'access_request_pending');
        return { error: errors.conflict('access_request_pending', 'you have already asked for access to this message; the sender has been told') };
      }
      await tx.query(`UPDATE access_requests SET status = 'pending', verified_at = $2 WHERE id = $1`, [r.id, this.now()]);
      await enqueueJob(tx, { kind: NOTIFY_ACCESS_REQUEST_JOB, payload: { tenantId: r.tenant_id, requestId: r.id } });
      await audit('success');
      return { status: 'pending' };
    });
    if ('error' in result) throw result.error;
    this.opts.onEnqueued?.();
    return result;
  }

  /** The verified requests for one of the sender's messages, newest first. */
  async list(sender: Pick<Sender, 'tenantId' | 'userId'>, messageId: string): Promise<AccessRequest[]> {
    await this.messages.ownMessage(sender, messageId);
    const { rows } = await this.db.query<RequestRow>(`${SELECT_REQUEST} WHERE a.message_id = $1 AND a.status <> 'unverified' ORDER BY a.verified_at DESC, a.id`, [messageId]);
    return rows.map(toRequest);
  }

  /**
   * Approves a pending request: the requester is added as a Bcc recipient (invisible to the
   * others, as a forwarded copy would be) and notified with their own link.
   */
  async approve(sender: Sender, messageId: string, requestId: string, ctx: RequestContext = {}): Promise<AccessRequest> {
    const message = await this.messages.ownMessage(sender, messageId);
    const label = await getLabel(this.db, sender.tenantId, message.label_id);
    const actor = { type: 'user' as const, id: sender.userId };
    if (label.noForward) {
      // Requests are refused at creation; this holds if a label's policy changes afterwards.
      await appendAuditEvent(this.db, { tenantId: sender.tenantId, actor, action: 'access_request.approved', target: { type: 'message', id: messageId }, outcome: 'denied', ...ctx, details: { reason: 'forwarding_not_allowed', ...(isUuid(requestId) ? { accessRequestId: requestId } : {}) } });
      throw errors.forbidden('forwarding_not_allowed', `the label "${label.name}" does not allow adding recipients after sending`);
    }
    const kek = await this.messages.linkKek(sender.tenantId);
    await this.db.transaction(async (tx) => {
      const r = await this.pending(tx, messageId, requestId);
      const [admitted] = await this.messages.admitRecipients(tx, { id: messageId, tenantId: sender.tenantId }, [{ email: r.email, kind: 'bcc' }], kek, { actor, ctx, details: { accessRequestId: r.id }, occasion: 'access_granted' });
      await tx.query(`UPDATE access_requests SET status = 'approved', decided_at = now(), decided_by = $2, recipient_id = $3 WHERE id = $1`, [r.id, sender.userId, admitted!.id]);
      await appendAuditEvent(tx, { tenantId: sender.tenantId, actor, action: 'access_request.approved', target: { type: 'access_request', id: r.id }, outcome: 'success', ...ctx, details: { messageId, email: r.email, recipientId: admitted!.id } });
    });
    this.opts.onEnqueued?.();
    return this.get(messageId, requestId);
  }

  /** Denies a pending request; the requester is told by email. */
  async deny(sender: Sender, messageId: string, requestId: string, ctx: RequestContext = {}): Promise<AccessRequest> {
    await this.messages.ownMessage(sender, messageId);
    await this.db.transaction(async (tx) => {
      const r = await this.pending(tx, messageId, requestId);
      await tx.query(`UPDATE access_requests SET status = 'denied', decided_at = now(), decided_by = $2 WHERE id = $1`, [r.id, sender.userId]);
      await enqueueJob(tx, { kind: NOTIFY_ACCESS_DECISION_JOB, payload: { tenantId: sender.tenantId, requestId: r.id } });
      await appendAuditEvent(tx, { tenantId: sender.tenantId, actor: { type: 'user', id: sender.userId }, action: 'access_request.denied', target: { type: 'access_request', id: r.id }, outcome: 'success', ...ctx, details: { messageId, email: r.email } });
    });
    this.opts.onEnqueued?.();
    return this.get(messageId, requestId);
  }

  /** A verified request of the message, locked; 409 when already decided. */
  private async pending(tx: Sql, messageId: string, requestId: string): Promise<RequestRow> {
    const { rows } = isUuid(requestId) ? await tx.query<RequestRow>(`${SELECT_REQUEST} WHERE a.id = $1 AND a.message_id = $2 AND a.status <> 'unverified' FOR UPDATE OF a`, [requestId, messageId]) : { rows: [] };
    const r = rows[0];
    if (!r) throw requestNotFound();
    if (r.status !== 'pending') throw errors.conflict('access_request_decided', `this request was already ${r.status}`);
    return r;
  }

  private async get(messageId: string, requestId: string): Promise<AccessRequest> {
    const { rows } = await this.db.query<RequestRow>(`${SELECT_REQUEST} WHERE a.id = $1 AND a.message_id = $2`, [requestId, messageId]);
    if (!rows[0]) throw requestNotFound();
    return toRequest(rows[0]);
  }
}
