// Recipient access: a link identifies a recipient but grants nothing by itself. The recipient
// proves control of the mailbox with a one-time code, which opens a short recipient session;
// every key release then re-checks the whole policy and is audited, as is every refusal.
//
// Before a code is verified, the answers for an active, a revoked and an expired message are
// the same, so a person holding a forwarded link learns nothing about the message's state.

import { auditBatcher } from '../audit/audit.batch.ts';
import { appendAuditEvent } from '../audit/audit.service.ts';
import { objectKeysJson, type ContentStore } from '../content/content.service.ts';
import { isUuid } from '../crypto/format/bytes.ts';
import { sha256 } from '../crypto/hash.ts';
import { generateKey, randomId } from '../crypto/keys.ts';
import { releaseKeys } from '../crypto/node/key-release.ts';
import { KeyReleaseError, type KeyRelease } from '../crypto/format/key-release.ts';
import type { Mailer } from '../mail/mailer.ts';
import { AppError, errors } from '../shared/app-error.ts';
import type { Database, Sql } from '../storage/database/database.ts';
import { GroupCommit } from '../storage/database/group-commit.ts';
import { prepared } from '../storage/database/prepared.ts';
import type { RateLimiter, RateLimitRule } from '../rate-limit/rate-limiter.ts';
import { maskAddress } from './addresses.ts';
import { getLabel, toLabel, type Label, type LabelRow } from './labels.ts';
import { linkTokenHash, type RequestContext, type RecipientKind } from './message.service.ts';
import { attemptsLeftMessage, CODE_LIFETIME_MS, CODE_MAX_ATTEMPTS, codeHash, codeMatches, generateCode } from './one-time-code.ts';

export { CODE_LIFETIME_MS, CODE_MAX_ATTEMPTS };
/** Codes one recipient may request per hour (each sends an email). */
export const CODES_PER_RECIPIENT_PER_HOUR = 5;
export const RECIPIENT_SESSION_LIFETIME_MS = 30 * 60 * 1000;

/** Limits on code requests and checks (each code request sends an email). */
export const RECIPIENT_LIMITS = {
  codePerRecipient: { scope: 'recipient_code_request', limit: CODES_PER_RECIPIENT_PER_HOUR, windowSeconds: 3600 },
  codePerIp: { scope: 'recipient_code_request_ip', limit: 30, windowSeconds: 3600 },
  verifyPerIp: { scope: 'recipient_code_verify_ip', limit: 100, windowSeconds: 3600 },
} satisfies Record<string, RateLimitRule>;

/** What the link page may show before verification: nothing that depends on the message's state. */
export interface LinkInfo {
  maskedEmail: string;
  authLevel: 'email_code' | 'account';
}

/** What a verified recipient receives along with the keys. */
export interface OpenedMessage {
  message: {
    id: string;
    threadId: string;
    sender: string;
    sentAt: Date;
    expiresAt: Date | null;
    label: { name: string; noForward: boolean; noDownload: boolean; watermark: boolean };
    envelopeObjectId: string;
    attachmentObjectIds: string[];
    /** To and Cc recipients; Bcc recipients are never listed (a Bcc recipient sees only itself added). */
    to: string[];
    cc: string[];
  };
  you: { recipientId: string; email: string; kind: RecipientKind };
  keyRelease: KeyRelease;
}

/** A recipient with its message, as the access checks read them. */
export interface AccessRow {
  recipient_id: string;
  tenant_id: string;
  email: string;
  kind: RecipientKind;
  recipient_revoked_at: Date | null;
  removed_at: Date | null;
  disclaimer_accepted_at: Date | null;
  message_id: string;
  thread_id: string;
  sender_user_id: string | null;
  sender_email: string;
  label_id: string;
  envelope_object_id: string;
  created_at: Date;
  expires_at: Date | null;
  message_revoked_at: Date | null;
}

const ACCESS_SELECT = `
  SELECT r.id AS recipient_id, r.tenant_id, r.email, r.kind, r.revoked_at AS recipient_revoked_at, r.removed_at, r.disclaimer_accepted_at,
         m.id AS message_id, m.thread_id, m.sender_user_id, m.sender_email, m.label_id, m.envelope_object_id, m.created_at, m.expires_at, m.revoked_at AS message_revoked_at
    FROM message_recipients r JOIN messages m ON m.id = r.message_id`;

/**
 * What a key release reads along with the session (one query): the label, attachments, visible
 * recipients, and the wrapped keys of the envelope and attachments with their KEKs.
 */
interface OpeningExtras {
  label: LabelRow | null;
  attachment_object_ids: string[];
  to_emails: string[];
  cc_emails: string[];
  object_keys: unknown;
}
const OPENING_COLUMNS = `
  ${objectKeysJson('m.tenant_id', 'ARRAY[m.envelope_object_id] || ARRAY(SELECT a.object_id FROM message_attachments a WHERE a.message_id = m.id)')} AS object_keys,
  (SELECT to_jsonb(l) FROM labels l WHERE l.tenant_id = m.tenant_id AND l.id = m.label_id) AS label,
  ARRAY(SELECT a.object_id::text FROM message_attachments a WHERE a.message_id = m.id ORDER BY a.position) AS attachment_object_ids,
  ARRAY(SELECT v.email FROM message_recipients v WHERE v.message_id = m.id AND v.removed_at IS NULL AND v.kind = 'to' ORDER BY v.added_at, v.email) AS to_emails,
  ARRAY(SELECT v.email FROM message_recipients v WHERE v.message_id = m.id AND v.removed_at IS NULL AND v.kind = 'cc' ORDER BY v.added_at, v.email) AS cc_emails, `;

/** A recipient session with its recipient and message; for a key release with OPENING_COLUMNS too (prepared: every release runs it). */
const sessionSql = (extraColumns: string) =>
  prepared(`${ACCESS_SELECT.replace('SELECT ', `SELECT s.auth_level, s.expires_at AS session_expires_at, ${extraColumns}`)} JOIN recipient_sessions s ON s.recipient_id = r.id WHERE s.token_hash = $1`);
const SESSION_SQL = sessionSql('');
const OPENING_SESSION_SQL = sessionSql(OPENING_COLUMNS);

/** Records that recipients opened their message: the opens waiting on one database go as one UPDATE. */
const openedTimeWriters = new WeakMap<Database, GroupCommit<string, void>>();
function openedTimes(db: Database): GroupCommit<string, void> {
  let writer = openedTimeWriters.get(db);
  if (!writer) {
    writer = new GroupCommit(async (_key, batch) => {
      await db.query(prepared(`UPDATE message_recipients SET first_opened_at = COALESCE(first_opened_at, now()), last_opened_at = now() WHERE id = ANY($1::uuid[])`), [batch.map((q) => q.item)]);
      for (const q of batch) q.resolve();
    }, 1000);
    openedTimeWriters.set(db, writer);
  }
  return writer;
}

/** The one error for links that are malformed, unknown or of a removed recipient. */
const linkNotFound = () => errors.notFound('link_not_found', 'this link is not valid; check that you copied all of it');

function decodeLinkToken(token: string): Buffer {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) throw linkNotFound();
  return Buffer.from(token, 'base64url');
}

/**
 * The recipient a link belongs to. A removed recipient's link answers exactly like an unknown
 * one; revoked and expired messages are found like active ones (callers must not tell them apart
 * before verification).
 */
export async function recipientByLink(sql: Sql, token: string): Promise<AccessRow> {
  const { rows } = await sql.query<AccessRow>(`${ACCESS_SELECT} WHERE r.link_token_hash = $1`, [linkTokenHash(decodeLinkToken(token))]);
  if (!rows[0] || rows[0].removed_at) throw linkNotFound();
  return rows[0];
}

/** A recipient who passed every check of the message's policy, with the label that decided it. */
export interface VerifiedRecipient {
  row: AccessRow;
  label: Label;
}

/** Link, code, session and key release for recipients. */
export class RecipientAccessService {
  constructor(
    private readonly db: Database,
    private readonly content: ContentStore,
    private readonly mailer: Mailer,
    private readonly limiter: RateLimiter,
    private readonly opts: { publicUrl: string; now?: () => Date; generateCode?: () => string },
  ) {}

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  private async limit(rule: RateLimitRule, key: string): Promise<void> {
    const decision = await this.limiter.consume(rule, key);
    if (!decision.allowed) {
      throw errors.rateLimited('rate_limited', `too many attempts; try again in ${Math.ceil(decision.retryAfterSeconds / 60)} minute(s)`, decision.retryAfterSeconds);
    }
  }

  /** What the link page shows first. Same answer whatever the message's state. */
  async describeLink(token: string): Promise<LinkInfo> {
    const row = await recipientByLink(this.db, token);
    const label = await getLabel(this.db, row.tenant_id, row.label_id);
    return { maskedEmail: maskAddress(row.email), authLevel: label.authLevel };
  }

  /** Emails a fresh 6-digit code to the recipient's address. Rate-limited per recipient and per IP. */
  async requestCode(token: string, ctx: RequestContext = {}): Promise<{ sentTo: string; expiresAt: Date }> {
    if (ctx.ip) await this.limit(RECIPIENT_LIMITS.codePerIp, ctx.ip);
    const row = await recipientByLink(this.db, token);
    await this.limit(RECIPIENT_LIMITS.codePerRecipient, row.recipient_id);
    const code = this.opts.generateCode?.() ?? generateCode();
    const id = randomId();
    const expiresAt = new Date(this.now().getTime() + CODE_LIFETIME_MS);
    await this.db.transaction(async (tx) => {
      // A new code replaces any earlier one.
      await tx.query(`UPDATE recipient_challenges SET consumed_at = now() WHERE recipient_id = $1 AND consumed_at IS NULL`, [row.recipient_id]);
      await tx.query(`INSERT INTO recipient_challenges (id, recipient_id, code_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`, [id, row.recipient_id, codeHash(id, code), this.now(), expiresAt]);
      await appendAuditEvent(tx, { tenantId: row.tenant_id, actor: { type: 'recipient', id: row.recipient_id }, action: 'recipient.code_requested', target: { type: 'message', id: row.message_id }, outcome: 'success', ...ctx });
    });
    await this.mailer.send({
      to: row.email,
      // Not in the subject: relays and lock screens show subjects; the code belongs in the body only.
      subject: 'Your Sealpost one-time code',
      text: `Your one-time code is ${code}\n\nIt is valid for 10 minutes. If you did not ask for it, you can ignore this email.\n`,
      headers: { 'Auto-Submitted': 'auto-generated' },
    });
    return { sentTo: maskAddress(row.email), expiresAt };
  }

  /**
   * Checks a code. Five wrong attempts use up the code; a new one must be requested. On
   * success returns a recipient session token (shown once; only its hash is stored).
   */
  async verifyCode(token: string, code: string, ctx: RequestContext = {}): Promise<{ sessionToken: string; expiresAt: Date }> {
    if (ctx.ip) await this.limit(RECIPIENT_LIMITS.verifyPerIp, ctx.ip);
    const row = await recipientByLink(this.db, token);
    const result = await this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: string; code_hash: Uint8Array; attempts: number; expires_at: Date }>(
        `SELECT id, code_hash, attempts, expires_at FROM recipient_challenges WHERE recipient_id = $1 AND consumed_at IS NULL ORDER BY created_at DESC LIMIT 1 FOR UPDATE`,
        [row.recipient_id],
      );
      const challenge = rows[0];
      const audit = (outcome: 'success' | 'denied', reason?: string) =>
        appendAuditEvent(tx, { tenantId: row.tenant_id, actor: { type: 'recipient', id: row.recipient_id }, action: 'recipient.code_verified', target: { type: 'message', id: row.message_id }, outcome, ...ctx, ...(reason ? { details: { reason } } : {}) });
      if (!challenge || challenge.expires_at.getTime() <= this.now().getTime() || challenge.attempts >= CODE_MAX_ATTEMPTS) {
        await audit('denied', challenge ? 'code_expired' : 'no_code');
        return { error: errors.forbidden('code_expired', 'this code has expired or been used up; request a new one') };
      }
      if (!codeMatches(challenge.code_hash, challenge.id, code)) {
        const attempts = challenge.attempts + 1;
        await tx.query(`UPDATE recipient_challenges SET attempts = $2::int, consumed_at = CASE WHEN $2::int >= $3::int THEN now() END WHERE id = $1`, [challenge.id, attempts, CODE_MAX_ATTEMPTS]);
        await audit('denied', attempts >= CODE_MAX_ATTEMPTS ? 'code_locked' : 'code_wrong');
        const left = CODE_MAX_ATTEMPTS - attempts;
        return {
          error: left > 0 ? errors.forbidden('code_wrong', attemptsLeftMessage(left)) : errors.forbidden('code_locked', 'too many wrong attempts; request a new code'),
        };
      }
      await tx.query(`UPDATE recipient_challenges SET consumed_at = now(), attempts = attempts + 1 WHERE id = $1`, [challenge.id]);
      const session = generateKey();
      const expiresAt = new Date(this.now().getTime() + RECIPIENT_SESSION_LIFETIME_MS);
      await tx.query(`INSERT INTO recipient_sessions (id, recipient_id, token_hash, auth_level, created_at, expires_at, ip, user_agent) VALUES ($1, $2, $3, 'email_code', $4, $5, $6, $7)`, [
        randomId(),
        row.recipient_id,
        sha256(session),
        this.now(),
        expiresAt,
        ctx.ip ?? null,
        ctx.userAgent?.slice(0, 500) ?? null,
      ]);
      await audit('success');
      return { sessionToken: session.toString('base64url'), expiresAt };
    });
    if ('error' in result) throw result.error;
    return result;
  }

  /**
   * A recipient who has a Sealpost account signs in instead of using a code: when the signed-in
   * user's address is the recipient's, they get a recipient session at the `account` level
   * (which labels requiring an account accept). Anyone else is refused and audited.
   */
  async openWithAccount(token: string, user: { id: string; email: string }, ctx: RequestContext = {}): Promise<{ sessionToken: string; expiresAt: Date }> {
    if (ctx.ip) await this.limit(RECIPIENT_LIMITS.verifyPerIp, ctx.ip);
    const row = await recipientByLink(this.db, token);
    const audit = (sql: Sql, outcome: 'success' | 'denied', reason?: string) =>
      appendAuditEvent(sql, { tenantId: row.tenant_id, actor: { type: 'recipient', id: row.recipient_id }, action: 'recipient.account_verified', target: { type: 'message', id: row.message_id }, outcome, ...ctx, details: { userId: user.id, ...(reason ? { reason } : {}) } });
    // The account must be the recipient's own address: a colleague's sign-in proves nothing.
    if (user.email.toLowerCase() !== row.email) {
      await audit(this.db, 'denied', 'account_mismatch');
      throw errors.forbidden('account_mismatch', `this link is for ${maskAddress(row.email)}; sign in with that address`);
    }
    return this.db.transaction(async (tx) => {
      const session = generateKey();
      const expiresAt = new Date(this.now().getTime() + RECIPIENT_SESSION_LIFETIME_MS);
      await tx.query(`INSERT INTO recipient_sessions (id, recipient_id, token_hash, auth_level, created_at, expires_at, ip, user_agent) VALUES ($1, $2, $3, 'account', $4, $5, $6, $7)`, [
        randomId(),
        row.recipient_id,
        sha256(session),
        this.now(),
        expiresAt,
        ctx.ip ?? null,
        ctx.userAgent?.slice(0, 500) ?? null,
      ]);
      await audit(tx, 'success');
      return { sessionToken: session.toString('base64url'), expiresAt };
    });
  }

  /** Resolves a recipient session token; unauthenticated 'recipient_session_invalid' otherwise. */
  private async session<Extra extends object = object>(sessionToken: string, opening = false): Promise<AccessRow & { auth_level: string } & Extra> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(sessionToken)) throw errors.unauthenticated('recipient_session_invalid', 'your session has ended; open the link again');
    const { rows } = await this.db.query<AccessRow & { auth_level: string; session_expires_at: Date } & Extra>(opening ? OPENING_SESSION_SQL : SESSION_SQL, [sha256(Buffer.from(sessionToken, 'base64url'))]);
    const row = rows[0];
    if (!row || row.session_expires_at.getTime() <= this.now().getTime()) throw errors.unauthenticated('recipient_session_invalid', 'your session has ended; open the link again');
    return row;
  }

  /**
   * The recipient of a session who passes the whole policy right now (on the list, not removed,
   * not revoked, not expired, authentication level, disclaimer); otherwise throws the reason and
   * audits the refusal under `action`. Replies and recipient uploads start here.
   */
  async verifiedRecipient(sessionToken: string, action: string, ctx: RequestContext = {}): Promise<VerifiedRecipient> {
    const row = await this.session(sessionToken);
    return { row, label: await this.authorise(row, action, ctx) };
  }

  /**
   * Checks the policy for a verified recipient (with the message's label, read here unless the
   * caller read it with the row); throws the reason (and audits it) when refused.
   */
  private async authorise(row: AccessRow & { auth_level: string }, action: string, ctx: RequestContext, label?: Label): Promise<Label> {
    label ??= await getLabel(this.db, row.tenant_id, row.label_id);
    let refusal: AppError | undefined;
    if (row.removed_at) refusal = errors.forbidden('recipient_removed', 'you are no longer a recipient of this message');
    else if (row.message_revoked_at || row.recipient_revoked_at) refusal = errors.forbidden('message_revoked', 'the sender has withdrawn this message');
    else if (row.expires_at && row.expires_at.getTime() <= this.now().getTime()) refusal = errors.forbidden('message_expired', 'this message has expired');
    else if (label.authLevel === 'account' && row.auth_level !== 'account') refusal = errors.forbidden('account_required', 'this message can only be opened by signing in to an account');
    else if (label.disclaimer && !row.disclaimer_accepted_at) refusal = errors.forbidden('disclaimer_required', 'accept the disclaimer to open this message');
    if (refusal) {
      // Group-committed (audit.batch.ts): a refusal records nothing else, and may come in bursts.
      await auditBatcher(this.db).append({ tenantId: row.tenant_id, actor: { type: 'recipient', id: row.recipient_id }, action, target: { type: 'message', id: row.message_id }, outcome: 'denied', ...ctx, details: { reason: refusal.code } });
      throw refusal;
    }
    return label;
  }

  /** What a verified recipient sees before opening: the disclaimer if the label has one. */
  async status(sessionToken: string): Promise<{ disclaimer: string | null; disclaimerAccepted: boolean }> {
    const row = await this.session(sessionToken);
    const label = await getLabel(this.db, row.tenant_id, row.label_id);
    return { disclaimer: label.disclaimer, disclaimerAccepted: !!row.disclaimer_accepted_at };
  }

  /** Records that the recipient accepted the label's disclaimer. */
  async acceptDisclaimer(sessionToken: string, ctx: RequestContext = {}): Promise<void> {
    const row = await this.session(sessionToken);
    await this.db.transaction(async (tx) => {
      await tx.query(`UPDATE message_recipients SET disclaimer_accepted_at = COALESCE(disclaimer_accepted_at, now()) WHERE id = $1`, [row.recipient_id]);
      await appendAuditEvent(tx, { tenantId: row.tenant_id, actor: { type: 'recipient', id: row.recipient_id }, action: 'recipient.disclaimer_accepted', target: { type: 'message', id: row.message_id }, outcome: 'success', ...ctx });
    });
  }

  /**
   * Releases the message's data keys wrapped to the client's public key, after checking the
   * whole policy. Every release and refusal is audited.
   */
  async open(sessionToken: string, clientPublicKey: string, ctx: RequestContext = {}): Promise<OpenedMessage> {
    // One query for the session, the message, its label, attachments, visible recipients and keys.
    const row = await this.session<OpeningExtras>(sessionToken, true);
    if (!row.label) throw errors.notFound('label_not_found', 'no such label');
    const label = await this.authorise(row, 'message.keys_released', ctx, toLabel(row.label));
    const objectIds = [row.envelope_object_id, ...row.attachment_object_ids];
    const dataKeys = [];
    try {
      dataKeys.push(...(await this.content.dataKeysFrom(objectIds, row.object_keys)));
      let keyRelease: KeyRelease;
      try {
        keyRelease = await releaseKeys({ clientPublicKey, audience: row.recipient_id, keys: dataKeys });
      } catch (err) {
        if (err instanceof KeyReleaseError) throw errors.invalid(err.code, err.message);
        throw err;
      }
      // The release is on the audit chain before any key leaves: group-committed with the other
      // releases waiting for the tenant's chain (audit.batch.ts), since one append per chain lock
      // hold capped opens per tenant (bench:api). The opened times follow, outside that hold and
      // group-committed too (one UPDATE for the opens waiting); if they fail the request fails
      // and the log over-reports a release, never under-reports one.
      await auditBatcher(this.db).append({ tenantId: row.tenant_id, actor: { type: 'recipient', id: row.recipient_id }, action: 'message.keys_released', target: { type: 'message', id: row.message_id }, outcome: 'success', ...ctx, details: { objects: objectIds.length } });
      await openedTimes(this.db).add('opened', row.recipient_id);
      return {
        message: {
          id: row.message_id,
          threadId: row.thread_id,
          sender: row.sender_email,
          sentAt: row.created_at,
          expiresAt: row.expires_at,
          label: { name: label.name, noForward: label.noForward, noDownload: label.noDownload, watermark: label.watermark },
          envelopeObjectId: row.envelope_object_id,
          attachmentObjectIds: row.attachment_object_ids,
          to: row.to_emails,
          cc: row.cc_emails,
        },
        you: { recipientId: row.recipient_id, email: row.email, kind: row.kind },
        keyRelease,
      };
    } finally {
      for (const k of dataKeys) k.dataKey.fill(0);
    }
  }

  /**
   * The sealed bytes of one of the message's objects (envelope or attachment), optionally a
   * byte range of them, for the client to decrypt. Same policy checks as `open`.
   */
  async sealedObject(sessionToken: string, objectId: string, range: { start: number; end?: number } | undefined, ctx: RequestContext = {}) {
    const row = await this.session(sessionToken);
    await this.authorise(row, 'message.object_downloaded', ctx);
    if (!isUuid(objectId)) throw errors.notFound('object_not_found', 'no such object in this message');
    const { rows } = await this.db.query(
      `SELECT 1 FROM messages WHERE id = $1 AND envelope_object_id = $2 UNION ALL SELECT 1 FROM message_attachments WHERE message_id = $1 AND object_id = $2`,
      [row.message_id, objectId],
    );
    if (rows.length === 0) throw errors.notFound('object_not_found', 'no such object in this message');
    const sealed = await this.content.openSealed(row.tenant_id, objectId, range);
    try {
      // Group-committed like the key release: on the chain before any byte is sent.
      await auditBatcher(this.db).append({ tenantId: row.tenant_id, actor: { type: 'recipient', id: row.recipient_id }, action: 'message.object_downloaded', target: { type: 'message', id: row.message_id }, outcome: 'success', ...ctx, details: { objectId, ...(range ? { rangeStart: range.start } : {}) } });
    } catch (err) {
      sealed.stream.destroy();
      throw err;
    }
    return sealed;
  }
}
