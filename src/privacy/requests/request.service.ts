// Data subject requests: intake (the person, an administrator on their behalf, the operator),
// identity by a one-time code to the subject's address, the one-month clock (from identity,
// extendable once), duplicates linked to the open request, and running each kind through the
// subject-rights engine (src/privacy/subjects/) and consent hooks (src/privacy/consent/).
// Every step is a row in the request's history and an event in the audit log's system chain
// (routings also in the customer's chain); never a code, a token or exported data.
import { appendAuditEvent } from '../../audit/audit.service.ts';
import type { AuditEventInput } from '../../audit/audit.model.ts';
import { isUuid } from '../../crypto/format/bytes.ts';
import { randomId } from '../../crypto/keys.ts';
import type { Mailer, OutboundMail } from '../../mail/mailer.ts';
import { maskAddress, requireAddress } from '../../messages/addresses.ts';
import { attemptsLeftMessage, CODE_LIFETIME_MS, CODE_MAX_ATTEMPTS, codeHash, codeMatches, generateCode } from '../../messages/one-time-code.ts';
import type { RateLimiter, RateLimitRule } from '../../rate-limit/rate-limiter.ts';
import { AppError, errors } from '../../shared/app-error.ts';
import type { Clock } from '../../shared/clock.ts';
import type { Database, Sql } from '../../storage/database/database.ts';
import type { ConsentHooks } from '../consent/consent.model.ts';
import type { ControllerRouting, SubjectEngine, SubjectIdentifiers } from '../subjects/subject.model.ts';
import { checkExtension, daysBetween, dueDate, toCalendarDate } from './deadline.ts';
import type { ExportVault } from './export-vault.ts';
import * as mail from './request.mail.ts';
import { queueNotice } from './request.notices.ts';
import {
  SUBJECT_REQUEST_KINDS,
  type IntakeReceipt,
  type OpenedVia,
  type RequestActor,
  type RequestOrigin,
  type SubjectRequest,
  type SubjectRequestDetail,
  type SubjectRequestKind,
  type SubjectRequestStatus,
  type VerificationReceipt,
} from './request.model.ts';
import * as repo from './request.repository.ts';
import type { RequestRow } from './request.repository.ts';

/** Limits on asking (each request emails a code) and on checking codes. */
export const SUBJECT_REQUEST_LIMITS = {
  perIp: { scope: 'subject_request_ip', limit: 30, windowSeconds: 3600 },
  perAddress: { scope: 'subject_request_address', limit: 3, windowSeconds: 3600 },
  verifyPerIp: { scope: 'subject_request_verify_ip', limit: 60, windowSeconds: 3600 },
} satisfies Record<string, RateLimitRule>;

export const MAX_NAME_LENGTH = 200;
export const MAX_DETAILS_LENGTH = 4000;
export const MAX_NOTE_LENGTH = 2000;

/** What someone asks for. */
export interface SubjectRequestInput {
  kind: string;
  email: string;
  name?: string | undefined;
  details?: string | undefined;
  /** Restriction only: lift an existing restriction. */
  lift?: boolean | undefined;
}

/** Who may see and act on which requests: the operator everything; an administrator their tenant's. */
export type RequestScope = { operator: true } | { tenantId: string };

/** What the service needs. The engine and consent hooks are optional until they exist. */
export interface SubjectRequestDeps {
  db: Database;
  mailer: Mailer;
  limiter: RateLimiter;
  vault: ExportVault;
  publicUrl: string;
  engine?: SubjectEngine | undefined;
  consent?: ConsentHooks | undefined;
  now?: Clock;
  generateCode?: () => string;
  /** Called after a transaction that queued a notice commits (wakes the job runner). */
  onEnqueued?: () => void;
}

const notFound = () => errors.notFound('subject_request_not_found', 'no such subject request');

/** Trimmed text with control characters (but line breaks) as spaces; null when empty. */
function cleanText(value: string | undefined | null, field: string, max: number): string | null {
  const v = (value ?? '').replace(/\r\n?/g, '\n').replace(/[\u0000-\u0009\u000b-\u001f\u007f]/g, ' ').trim();
  if (v === '') return null;
  if (v.length > max) throw errors.invalid(`${field}_too_long`, `${field}: at most ${max} characters`, { field });
  return v;
}

function requireText(value: string | undefined | null, field: string, max: number): string {
  const v = cleanText(value, field, max);
  if (v === null) throw errors.invalid(`${field}_required`, `${field}: required`, { field });
  return v;
}

function parseKind(kind: string): SubjectRequestKind {
  if (!(SUBJECT_REQUEST_KINDS as readonly string[]).includes(kind)) {
    throw errors.invalid('invalid_kind', `kind: expected one of ${SUBJECT_REQUEST_KINDS.join(', ')}`, { field: 'kind' });
  }
  return kind as SubjectRequestKind;
}

/** The audit actor of a request actor. */
function auditActor(actor: RequestActor, email: string): AuditEventInput['actor'] {
  switch (actor.type) {
    case 'subject':
      return { type: 'recipient', id: email };
    case 'user':
      return { type: 'user', id: actor.id };
    case 'operator':
      return { type: 'operator', id: actor.id };
    default:
      return { type: 'system' };
  }
}

/** The subject-request workflow. */
export class SubjectRequestService {
  private readonly now: Clock;

  constructor(private readonly deps: SubjectRequestDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Sets the engine once it exists (it is built by another part of the system). */
  useEngine(engine: SubjectEngine, consent?: ConsentHooks): void {
    this.deps.engine = engine;
    if (consent) this.deps.consent = consent;
  }

  private async limit(rule: RateLimitRule, key: string): Promise<void> {
    const decision = await this.deps.limiter.consume(rule, key);
    if (!decision.allowed) throw errors.rateLimited('rate_limited', `too many requests; try again in ${Math.ceil(decision.retryAfterSeconds / 60)} minute(s)`, decision.retryAfterSeconds);
  }

  private async audit(sql: Sql, r: Pick<RequestRow, 'id' | 'email' | 'kind'>, actor: RequestActor, action: string, outcome: 'success' | 'failure' | 'denied', origin: RequestOrigin, details: Record<string, unknown> = {}): Promise<void> {
    await appendAuditEvent(sql, {
      actor: auditActor(actor, r.email),
      action: `subject_request.${action}`,
      target: { type: 'subject_request', id: r.id },
      outcome,
      ...(origin.ip ? { ip: origin.ip } : {}),
      ...(origin.userAgent ? { userAgent: origin.userAgent } : {}),
      details: { kind: r.kind, ...details },
    });
  }

  /**
   * Receives a request and emails a one-time code to the subject's address; no clock runs until
   * it is entered. The person (public page, API), an administrator for their tenant, or the
   * operator may open one; the code always goes to the subject.
   */
  async submit(input: SubjectRequestInput, opts: { via: OpenedVia; actor: RequestActor; origin?: RequestOrigin; tenantId?: string }): Promise<IntakeReceipt> {
    const origin = opts.origin ?? {};
    const kind = parseKind(input.kind);
    const email = requireAddress(input.email ?? '', 'email');
    const name = cleanText(input.name, 'name', MAX_NAME_LENGTH);
    const details = cleanText(input.details, 'details', MAX_DETAILS_LENGTH);
    if (kind === 'rectification' && details === null) throw errors.invalid('details_required', 'details: say what is wrong and what it should be', { field: 'details' });
    if (input.lift && kind !== 'restriction') throw errors.invalid('lift_not_applicable', 'lift: only a restriction can be lifted', { field: 'lift' });
    if (origin.ip) await this.limit(SUBJECT_REQUEST_LIMITS.perIp, origin.ip);
    await this.limit(SUBJECT_REQUEST_LIMITS.perAddress, email);
    const id = randomId();
    const code = this.deps.generateCode?.() ?? generateCode();
    const receivedAt = this.now();
    const codeExpiresAt = new Date(receivedAt.getTime() + CODE_LIFETIME_MS);
    const openedBy = opts.actor.type === 'user' || opts.actor.type === 'operator' ? opts.actor.id : null;
    const row = { id, email, kind };
    await this.deps.db.transaction(async (tx) => {
      await repo.insertRequest(tx, { id, kind, email, name, details, lift: input.lift === true, openedVia: opts.via, openedBy, tenantId: opts.tenantId ?? null, receivedAt, codeHash: codeHash(id, code), codeExpiresAt });
      await repo.addEvent(tx, id, receivedAt, 'received', opts.actor, { via: opts.via, ...(opts.tenantId ? { tenantId: opts.tenantId } : {}) });
      await repo.addEvent(tx, id, receivedAt, 'code_sent', { type: 'system' }, { to: maskAddress(email) });
      await this.audit(tx, row, opts.actor, 'received', 'success', origin, { via: opts.via, email, ...(opts.tenantId ? { tenantId: opts.tenantId } : {}) });
    });
    await this.deps.mailer.send(mail.codeMail(email, code, kind));
    return { requestId: id, sentTo: maskAddress(email), codeExpiresAt };
  }

  /** Sends a fresh code for a request still awaiting identity (the old one stops working). */
  async resendCode(requestId: string, origin: RequestOrigin = {}): Promise<IntakeReceipt> {
    if (origin.ip) await this.limit(SUBJECT_REQUEST_LIMITS.perIp, origin.ip);
    const r = isUuid(requestId) ? await repo.findRequest(this.deps.db, requestId) : null;
    if (!r || r.status !== 'awaiting_identity') throw notFound();
    await this.limit(SUBJECT_REQUEST_LIMITS.perAddress, r.email);
    const code = this.deps.generateCode?.() ?? generateCode();
    const expiresAt = new Date(this.now().getTime() + CODE_LIFETIME_MS);
    await this.deps.db.transaction(async (tx) => {
      await tx.query(`UPDATE subject_requests SET code_hash = $2, code_expires_at = $3, code_attempts = 0 WHERE id = $1 AND status = 'awaiting_identity'`, [r.id, codeHash(r.id, code), expiresAt]);
      await repo.addEvent(tx, r.id, this.now(), 'code_sent', { type: 'system' }, { to: maskAddress(r.email), resent: true });
    });
    await this.deps.mailer.send(mail.codeMail(r.email, code, r.kind));
    return { requestId: r.id, sentTo: maskAddress(r.email), codeExpiresAt: expiresAt };
  }

  /**
   * Checks the code. On success the clock starts today (identity confirmed); a request of the
   * same kind already open for the address absorbs this one (no second clock); an objection to
   * marketing takes effect at once. Five wrong codes use the code up.
   */
  async verify(requestId: string, code: string, opts: { actor?: RequestActor; origin?: RequestOrigin } = {}): Promise<VerificationReceipt> {
    const origin = opts.origin ?? {};
    const actor = opts.actor ?? { type: 'subject' };
    if (origin.ip) await this.limit(SUBJECT_REQUEST_LIMITS.verifyPerIp, origin.ip);
    if (!isUuid(requestId)) throw notFound();
    const now = this.now();
    const outcome = await this.deps.db.transaction(async (tx): Promise<{ error: AppError } | { receipt: VerificationReceipt; r: RequestRow }> => {
      const r = await repo.findRequest(tx, requestId, { lock: true });
      if (!r || r.status !== 'awaiting_identity') return { error: notFound() };
      if (!r.code_hash || !r.code_expires_at || r.code_expires_at.getTime() <= now.getTime() || r.code_attempts >= CODE_MAX_ATTEMPTS) {
        await this.audit(tx, r, actor, 'verified', 'denied', origin, { reason: 'code_expired' });
        return { error: errors.forbidden('code_expired', 'this code has expired or been used up; ask for a new code') };
      }
      if (!codeMatches(r.code_hash, r.id, code)) {
        const attempts = r.code_attempts + 1;
        await tx.query(`UPDATE subject_requests SET code_attempts = $2::int, code_hash = CASE WHEN $2::int >= $3::int THEN NULL ELSE code_hash END WHERE id = $1`, [r.id, attempts, CODE_MAX_ATTEMPTS]);
        await repo.addEvent(tx, r.id, now, 'code_wrong', actor, { attempts });
        await this.audit(tx, r, actor, 'verified', 'denied', origin, { reason: attempts >= CODE_MAX_ATTEMPTS ? 'code_locked' : 'code_wrong' });
        const left = CODE_MAX_ATTEMPTS - attempts;
        return { error: left > 0 ? errors.forbidden('code_wrong', attemptsLeftMessage(left)) : errors.forbidden('code_locked', 'too many wrong attempts; ask for a new code') };
      }
      const today = toCalendarDate(now);
      const original = await repo.findOpenFor(tx, r.email, r.kind, r.id);
      if (original) {
        // Same person, same right, still being answered: one clock, the original's.
        await tx.query(`UPDATE subject_requests SET status = 'linked', duplicate_of = $2, verified_at = $3, due_on = $4, closed_at = $3, code_hash = NULL, code_attempts = code_attempts + 1 WHERE id = $1`, [r.id, original.id, now, original.due_on]);
        await repo.addEvent(tx, r.id, now, 'linked_duplicate', actor, { duplicateOf: original.id });
        await repo.addEvent(tx, original.id, now, 'duplicate_received', { type: 'system' }, { requestId: r.id, ...(r.details ? { details: r.details } : {}) });
        await this.audit(tx, r, actor, 'verified', 'success', origin, { duplicateOf: original.id });
        await queueNotice(tx, { requestId: r.id, notice: 'duplicate', originalId: original.id });
        const receipt: VerificationReceipt = { requestId: r.id, status: 'linked', dueOn: original.due_on!, duplicateOf: original.id };
        return { receipt, r };
      }
      const due = dueDate({ startedOn: today, pausedDays: 0, extensionMonths: 0 })!;
      await tx.query(`UPDATE subject_requests SET status = 'open', verified_at = $2, clock_started_on = $3, due_on = $4, code_hash = NULL, code_attempts = code_attempts + 1 WHERE id = $1`, [r.id, now, today, due]);
      await repo.addEvent(tx, r.id, now, 'verified', actor, { clockStartedOn: today, dueOn: due });
      await this.audit(tx, r, actor, 'verified', 'success', origin, { dueOn: due });
      // An objection to marketing is carried out at once, and its completion notice says so.
      if (!(r.kind === 'objection_to_marketing' && this.deps.consent)) await queueNotice(tx, { requestId: r.id, notice: 'confirmed' });
      return { receipt: { requestId: r.id, status: 'open', dueOn: due }, r };
    });
    if ('error' in outcome) throw outcome.error;
    if (outcome.receipt.status === 'open' && outcome.r.kind === 'objection_to_marketing' && this.deps.consent) {
      // Art. 21(3): an objection to direct marketing is absolute and takes effect at once.
      const done = await this.run(outcome.r.id, { type: 'system' }, { operator: true });
      return { ...outcome.receipt, status: done.status };
    }
    this.deps.onEnqueued?.();
    return outcome.receipt;
  }

  /** The queue: requests in scope by due date, with days left. */
  async list(scope: RequestScope, opts: { statuses?: SubjectRequestStatus[]; limit?: number } = {}): Promise<SubjectRequest[]> {
    const rows = await repo.listRequests(this.deps.db, { ...('tenantId' in scope ? { tenantId: scope.tenantId } : {}), ...opts });
    const now = this.now();
    return rows.map((r) => repo.toRequest(r, now));
  }

  /** One request with its history and routings; not_found outside the caller's scope. */
  async get(scope: RequestScope, requestId: string): Promise<SubjectRequestDetail> {
    const r = await this.visible(this.deps.db, scope, requestId);
    return this.detail(r);
  }

  private async detail(r: RequestRow): Promise<SubjectRequestDetail> {
    const [events, routings] = [await repo.listEvents(this.deps.db, r.id), await repo.listRoutings(this.deps.db, r.id)];
    return { ...repo.toRequest(r, this.now()), events, routings };
  }

  private async visible(sql: Sql, scope: RequestScope, requestId: string, opts: { lock?: boolean } = {}): Promise<RequestRow> {
    const r = isUuid(requestId) ? await repo.findRequest(sql, requestId, opts) : null;
    if (!r) throw notFound();
    if ('tenantId' in scope && r.tenant_id !== scope.tenantId) {
      const routings = await repo.listRoutings(sql, r.id);
      if (!routings.some((x) => x.tenantId === scope.tenantId)) throw notFound();
    }
    return r;
  }

  /** The request if the caller may act on it: the operator any; an administrator only those their tenant opened. */
  private async actionable(sql: Sql, scope: RequestScope, requestId: string): Promise<RequestRow> {
    const r = await this.visible(sql, scope, requestId, { lock: true });
    if ('tenantId' in scope && r.tenant_id !== scope.tenantId) {
      throw errors.forbidden('subject_request_routed', 'this request was routed to your organisation as controller of its Content: answer the person directly; Sealpost handles its own part');
    }
    return r;
  }

  /** Extends the time limit once by 1 or 2 months with a reason; the requester is told why. */
  async extend(scope: RequestScope, requestId: string, input: { months: number; reason: string }, actor: RequestActor): Promise<SubjectRequestDetail> {
    const reasonText = requireText(input.reason, 'reason', MAX_NOTE_LENGTH);
    const now = this.now();
    await this.deps.db.transaction(async (tx) => {
      const r = await this.actionable(tx, scope, requestId);
      if (r.status !== 'open' && r.status !== 'in_progress') throw errors.conflict('subject_request_not_open', `only an open request can be extended; this one is ${r.status}`);
      if (r.paused_on !== null) throw errors.conflict('subject_request_paused', `the clock is paused (since ${r.paused_on}); resume it before extending`);
      const clock = { startedOn: r.clock_started_on, pausedDays: r.paused_days, extensionMonths: r.extension_months };
      let reason: string;
      try {
        reason = checkExtension({ current: clock, months: input.months, reason: reasonText, today: toCalendarDate(now) });
      } catch (err) {
        throw errors.invalid('extension_not_allowed', `extension: ${(err as Error).message}`, { field: 'months' });
      }
      const due = dueDate({ ...clock, extensionMonths: input.months })!;
      await tx.query(`UPDATE subject_requests SET extension_months = $2, extension_reason = $3, extended_at = $4, due_on = $5 WHERE id = $1`, [r.id, input.months, reason, now, due]);
      await repo.addEvent(tx, r.id, now, 'extended', actor, { months: input.months, reason, dueOn: due, previousDueOn: r.due_on });
      await this.audit(tx, r, actor, 'extended', 'success', {}, { months: input.months, dueOn: due });
      // The requester must be told of an extension and why (Art. 12(3)): a durable notice.
      await queueNotice(tx, { requestId: r.id, notice: 'extended' });
    });
    this.deps.onEnqueued?.();
    return this.get(scope, requestId);
  }

  /**
   * Pauses the clock of an open request while waiting for the requester to clarify what they
   * ask for (ICO: the time limit stops until the clarification arrives). The requester is
   * emailed what is needed. Resuming adds the days paused to the due date.
   */
  async pause(scope: RequestScope, requestId: string, input: { reason: string }, actor: RequestActor): Promise<SubjectRequestDetail> {
    const reason = requireText(input.reason, 'reason', MAX_NOTE_LENGTH);
    const today = toCalendarDate(this.now());
    await this.deps.db.transaction(async (tx) => {
      const r = await this.actionable(tx, scope, requestId);
      if (r.status !== 'open' && r.status !== 'in_progress') throw errors.conflict('subject_request_not_open', `only an open request can be paused; this one is ${r.status}`);
      if (r.paused_on !== null) throw errors.conflict('subject_request_paused', `the clock is already paused (since ${r.paused_on}); resume it first`);
      await tx.query(`UPDATE subject_requests SET paused_on = $2, pause_reason = $3 WHERE id = $1`, [r.id, today, reason]);
      await repo.addEvent(tx, r.id, this.now(), 'paused', actor, { reason, dueOnBefore: r.due_on });
      await this.audit(tx, r, actor, 'paused', 'success', {});
      await queueNotice(tx, { requestId: r.id, notice: 'paused' });
    });
    this.deps.onEnqueued?.();
    return this.get(scope, requestId);
  }

  /** Restarts a paused clock: the days it was paused are added, and the due date moves by as many. */
  async resume(scope: RequestScope, requestId: string, actor: RequestActor): Promise<SubjectRequestDetail> {
    const today = toCalendarDate(this.now());
    await this.deps.db.transaction(async (tx) => {
      const r = await this.actionable(tx, scope, requestId);
      if (r.paused_on === null) throw errors.conflict('subject_request_not_paused', 'the clock of this request is not paused');
      const days = Math.max(0, daysBetween(r.paused_on, today));
      const pausedDays = r.paused_days + days;
      const due = dueDate({ startedOn: r.clock_started_on, pausedDays, extensionMonths: r.extension_months })!;
      await tx.query(`UPDATE subject_requests SET paused_on = NULL, pause_reason = NULL, paused_days = $2, due_on = $3 WHERE id = $1`, [r.id, pausedDays, due]);
      await repo.addEvent(tx, r.id, this.now(), 'resumed', actor, { pausedFor: days, pausedDays, dueOn: due });
      await this.audit(tx, r, actor, 'resumed', 'success', {}, { pausedFor: days, dueOn: due });
    });
    return this.get(scope, requestId);
  }

  /** Refuses a request with a reason (told to the requester with their right to complain). */
  async reject(scope: RequestScope, requestId: string, input: { reason: string }, actor: RequestActor): Promise<SubjectRequestDetail> {
    const reason = requireText(input.reason, 'reason', MAX_NOTE_LENGTH);
    await this.deps.db.transaction(async (tx) => {
      const r = await this.actionable(tx, scope, requestId);
      if (!['awaiting_identity', 'open', 'in_progress'].includes(r.status)) throw errors.conflict('subject_request_closed', `this request is already ${r.status}`);
      await this.close(tx, r, 'rejected', reason, actor, null);
      // Someone who never confirmed the address is not written to: it may not be theirs.
      if (r.verified_at) await queueNotice(tx, { requestId: r.id, notice: 'rejected' });
    });
    this.deps.onEnqueued?.();
    return this.get(scope, requestId);
  }

  /** Marks a rectification done, with a note of what was corrected (sent to the requester). */
  async completeRectification(scope: RequestScope, requestId: string, input: { note: string }, actor: RequestActor): Promise<SubjectRequestDetail> {
    const note = requireText(input.note, 'note', MAX_NOTE_LENGTH);
    await this.deps.db.transaction(async (tx) => {
      const r = await this.actionable(tx, scope, requestId);
      if (r.kind !== 'rectification') throw errors.conflict('not_rectification', `this is a${r.kind === 'access' || r.kind === 'erasure' || r.kind === 'objection_to_marketing' ? 'n' : ''} ${r.kind} request; run it instead`);
      if (r.status !== 'open' && r.status !== 'in_progress') throw errors.conflict('subject_request_not_open', `only an open request can be completed; this one is ${r.status}`);
      await this.close(tx, r, 'completed', note, actor, { rectified: true });
      await queueNotice(tx, { requestId: r.id, notice: 'completed' });
    });
    this.deps.onEnqueued?.();
    return this.get(scope, requestId);
  }

  private async close(tx: Sql, r: RequestRow, status: 'completed' | 'rejected' | 'routed_to_customer', note: string | null, actor: RequestActor, result: Record<string, unknown> | null): Promise<void> {
    const now = this.now();
    // A request closed while paused: the pause ends with it, its days counted.
    await tx.query(
      `UPDATE subject_requests SET status = $2, closed_at = $3, outcome_note = $4, result = COALESCE($5::jsonb, result), code_hash = NULL,
              paused_days = paused_days + CASE WHEN paused_on IS NULL THEN 0 ELSE GREATEST(0, $6::date - paused_on) END, paused_on = NULL, pause_reason = NULL
        WHERE id = $1`,
      [r.id, status, now, note, result === null ? null : JSON.stringify(result), toCalendarDate(now)],
    );
    await repo.addEvent(tx, r.id, now, status, actor, note ? { note } : {});
    await this.audit(tx, r, actor, status, 'success', {});
  }

  /**
   * Carries out a verified request through the engine: access → sealed export and a one-time
   * link; erasure → erase, then verify (completes only when clean; the report is kept);
   * restriction → restrict or lift; objection → consent; rectification → in progress until an
   * administrator or the operator completes it. Content held for business customers is routed
   * to each of them as controller. Safe to run again after a failure (the engine is idempotent).
   */
  async run(requestId: string, actor: RequestActor, scope: RequestScope): Promise<SubjectRequestDetail> {
    const r = await this.deps.db.transaction(async (tx) => {
      const r = await this.actionable(tx, scope, requestId);
      if (r.status === 'awaiting_identity') throw errors.conflict('identity_not_verified', 'the requester has not confirmed their address yet');
      if (r.status !== 'open' && r.status !== 'in_progress') throw errors.conflict('subject_request_closed', `this request is already ${r.status}`);
      if (r.status === 'open') await tx.query(`UPDATE subject_requests SET status = 'in_progress' WHERE id = $1`, [r.id]);
      await repo.addEvent(tx, r.id, this.now(), 'run_started', actor);
      await this.audit(tx, r, actor, 'run_started', 'success', {});
      return r;
    });
    const subject: SubjectIdentifiers = { emails: [r.email], userIds: [] };
    try {
      switch (r.kind) {
        case 'access':
          await this.runAccess(r, subject, actor);
          break;
        case 'erasure':
          await this.runErasure(r, subject, actor);
          break;
        case 'restriction':
          await this.runRestriction(r, subject, actor);
          break;
        case 'objection_to_marketing':
          await this.runObjection(r, actor);
          break;
        case 'rectification':
          // Nothing automatic: people correct their own account fields; the rest is done by
          // hand and recorded with completeRectification.
          await repo.addEvent(this.deps.db, r.id, this.now(), 'awaiting_rectification', actor, {});
          break;
      }
    } catch (err) {
      await repo.addEvent(this.deps.db, r.id, this.now(), 'run_failed', actor, { code: err instanceof AppError ? err.code : 'internal' });
      await this.audit(this.deps.db, r, actor, 'run_failed', 'failure', {}, { code: err instanceof AppError ? err.code : 'internal' });
      throw err;
    }
    return this.detail((await repo.findRequest(this.deps.db, r.id))!);
  }

  private engine(): SubjectEngine {
    if (!this.deps.engine) throw errors.unavailable('subject_engine_unavailable', 'the subject-rights engine is not available in this installation');
    return this.deps.engine;
  }

  private async runAccess(r: RequestRow, subject: SubjectIdentifiers, actor: RequestActor): Promise<void> {
    const { zip, footprint } = await this.engine().exportAccess(subject);
    const stored = await this.deps.db.transaction(async (tx) => {
      const stored = await this.deps.vault.store(tx, r.id, zip);
      const result = { exportBytes: stored.byteLength, tables: footprint.tables.filter((t) => t.rows > 0).length, rows: footprint.tables.reduce((n, t) => n + t.rows, 0) };
      await repo.addEvent(tx, r.id, this.now(), 'exported', actor, { exportId: stored.exportId, ...result, linkExpiresAt: stored.expiresAt.toISOString() });
      await this.audit(tx, r, actor, 'exported', 'success', {}, { exportId: stored.exportId, bytes: stored.byteLength });
      await tx.query(`UPDATE subject_requests SET result = $2::jsonb WHERE id = $1`, [r.id, JSON.stringify(result)]);
      return stored;
    });
    const link = `${this.deps.publicUrl.replace(/\/$/, '')}/privacy/requests/download#${stored.token}`;
    await this.deps.mailer.send(mail.exportReadyMail(r.email, { id: r.id, link, expiresAt: stored.expiresAt }));
    await this.finish(r, footprint.customers, actor, null);
  }

  /**
   * The operator's `dsr export`: the access ZIP of a verified access request, handed to the
   * caller (written to a file) instead of a link; the request is then closed like a run.
   */
  async exportToCaller(requestId: string, actor: RequestActor): Promise<{ zip: Uint8Array; request: SubjectRequestDetail }> {
    const r = await this.deps.db.transaction(async (tx) => {
      const r = await this.actionable(tx, { operator: true }, requestId);
      if (r.kind !== 'access') throw errors.conflict('not_access_request', `this is a${r.kind === 'erasure' || r.kind === 'objection_to_marketing' ? 'n' : ''} ${r.kind} request; only access requests export data`);
      if (r.status === 'awaiting_identity') throw errors.conflict('identity_not_verified', 'the requester has not confirmed their address yet');
      if (r.status !== 'open' && r.status !== 'in_progress') throw errors.conflict('subject_request_closed', `this request is already ${r.status}`);
      if (r.status === 'open') await tx.query(`UPDATE subject_requests SET status = 'in_progress' WHERE id = $1`, [r.id]);
      return r;
    });
    const { zip, footprint } = await this.engine().exportAccess({ emails: [r.email], userIds: [] });
    const result = { exportBytes: zip.length, tables: footprint.tables.filter((t) => t.rows > 0).length, rows: footprint.tables.reduce((n, t) => n + t.rows, 0), deliveredBy: 'operator' };
    await this.deps.db.transaction(async (tx) => {
      await tx.query(`UPDATE subject_requests SET result = $2::jsonb WHERE id = $1`, [r.id, JSON.stringify(result)]);
      await repo.addEvent(tx, r.id, this.now(), 'exported_to_operator', actor, result);
      await this.audit(tx, r, actor, 'exported', 'success', {}, { bytes: zip.length, deliveredBy: 'operator' });
    });
    await this.finish(r, footprint.customers, actor, null);
    return { zip, request: await this.detail((await repo.findRequest(this.deps.db, r.id))!) };
  }

  private async runErasure(r: RequestRow, subject: SubjectIdentifiers, actor: RequestActor): Promise<void> {
    const engine = this.engine();
    const report = await engine.erase(subject, { requestId: r.id });
    // After an erasure the accounts (and so their ids and names) are gone: verify with what the engine resolved.
    const verification = await engine.verifyErased(report.identifiers ?? subject);
    const result = {
      deleted: report.deleted,
      masked: report.masked,
      shredded: report.shredded,
      clean: verification.clean,
      remaining: verification.remaining,
      ...(verification.kept ? { kept: verification.kept.map((k) => ({ table: k.table, column: k.column, rows: k.rows, reason: k.reason })) } : {}),
    };
    await this.deps.db.transaction(async (tx) => {
      await tx.query(`UPDATE subject_requests SET result = $2::jsonb WHERE id = $1`, [r.id, JSON.stringify(result)]);
      await repo.addEvent(tx, r.id, this.now(), verification.clean ? 'erased' : 'erasure_incomplete', actor, result);
      await this.audit(tx, r, actor, 'erased', verification.clean ? 'success' : 'failure', {}, { shredded: report.shredded, clean: verification.clean, remaining: verification.remaining.length });
    });
    // Fails closed: the request completes only when the verification pass finds nothing.
    if (!verification.clean) throw errors.conflict('erasure_not_verified', `identifiers of the person remain in ${verification.remaining.map((x) => `${x.table}.${x.column}`).join(', ')}; the request stays in progress`);
    await this.finish(r, report.routedTo, actor, null);
  }

  private async runRestriction(r: RequestRow, subject: SubjectIdentifiers, actor: RequestActor): Promise<void> {
    const engine = this.engine();
    await engine.restrict(subject, { lift: r.lift, requestId: r.id });
    const footprint = await engine.locate(subject);
    await repo.addEvent(this.deps.db, r.id, this.now(), r.lift ? 'restriction_lifted' : 'restricted', actor, {});
    await this.audit(this.deps.db, r, actor, r.lift ? 'restriction_lifted' : 'restricted', 'success', {});
    await this.finish(r, footprint.customers, actor, null);
  }

  private async runObjection(r: RequestRow, actor: RequestActor): Promise<void> {
    if (!this.deps.consent) throw errors.unavailable('consent_unavailable', 'communication preferences are not available in this installation');
    await this.deps.consent.objectToMarketing(r.email, { via: 'subject_request', requestId: r.id });
    await repo.addEvent(this.deps.db, r.id, this.now(), 'objected', actor, {});
    await this.audit(this.deps.db, r, actor, 'objected', 'success', {});
    await this.finish(r, [], actor, 'You will receive no marketing email from Sealpost from now on.');
  }

  /**
   * A customer that received a routed erasure request instructs Sealpost, as its processor, to
   * erase the Content it holds about the person: the messages they sent or received in that
   * tenant are crypto-shredded (and their rows pseudonymised) by the engine with `instructedBy`.
   * Only the customer's own administrators may instruct, only for an erasure routed to them,
   * and the verification pass must then find nothing left in that tenant.
   */
  async instructErasure(scope: { tenantId: string }, requestId: string, actor: RequestActor): Promise<SubjectRequestDetail> {
    const r = await this.visible(this.deps.db, scope, requestId);
    const routing = (await repo.listRoutings(this.deps.db, r.id)).find((x) => x.tenantId === scope.tenantId);
    if (r.kind !== 'erasure' || !routing) {
      throw errors.conflict('not_a_routed_erasure', 'only an erasure request routed to your organisation can be carried out on its instruction');
    }
    const engine = this.engine();
    const subject: SubjectIdentifiers = { emails: [r.email], userIds: [] };
    const report = await engine.erase(subject, { instructedBy: [scope.tenantId], requestId: r.id });
    const verification = await engine.verifyErased(report.identifiers ?? subject);
    const stillHeld = (await engine.locate(subject)).customers.filter((c) => c.tenantId === scope.tenantId && c.messages > 0);
    const clean = verification.clean && stillHeld.length === 0;
    const details = { tenantId: scope.tenantId, shredded: report.shredded, clean };
    await this.deps.db.transaction(async (tx) => {
      await repo.addEvent(tx, r.id, this.now(), clean ? 'customer_erasure_done' : 'customer_erasure_incomplete', actor, details);
      await appendAuditEvent(tx, { tenantId: scope.tenantId, actor: auditActor(actor, r.email), action: 'subject_request.erased_on_instruction', target: { type: 'subject_request', id: r.id }, outcome: clean ? 'success' : 'failure', details: { shredded: report.shredded } });
    });
    if (!clean) throw errors.conflict('erasure_not_verified', 'Content about the person remains in your organisation after the erasure; the request stays open for it');
    return this.detail((await repo.findRequest(this.deps.db, r.id))!);
  }

  /** Closes a request after its run: routed_to_customer when customers hold Content about the person. */
  private async finish(r: RequestRow, customers: ControllerRouting[], actor: RequestActor, note: string | null): Promise<void> {
    const routed = customers.filter((c) => c.messages > 0);
    await this.deps.db.transaction(async (tx) => {
      const now = this.now();
      for (const c of routed) {
        const admins = await repo.tenantAdministrators(tx, c.tenantId);
        if (!(await repo.insertRouting(tx, { requestId: r.id, tenantId: c.tenantId, messages: c.messages, at: now, notified: admins.length }))) continue;
        for (const userId of admins) await queueNotice(tx, { requestId: r.id, notice: 'routed_to_customer', tenantId: c.tenantId, userId });
        await repo.addEvent(tx, r.id, now, 'routed', actor, { tenantId: c.tenantId, tenantName: c.tenantName, messages: c.messages, notified: admins.length });
        // In the customer's own chain too: their auditors see that a request about their Content came in.
        await appendAuditEvent(tx, { tenantId: c.tenantId, actor: auditActor(actor, r.email), action: 'subject_request.routed', target: { type: 'subject_request', id: r.id }, outcome: 'success', details: { kind: r.kind, email: r.email, messages: c.messages } });
      }
      await this.close(tx, r, routed.length > 0 ? 'routed_to_customer' : 'completed', note, actor, null);
      if (routed.length > 0) await queueNotice(tx, { requestId: r.id, notice: 'routed_to_requester' });
      if (r.kind !== 'access') await queueNotice(tx, { requestId: r.id, notice: 'completed' });
    });
    this.deps.onEnqueued?.();
  }

  /** The access export behind a download link, once; then it is crypto-shredded. */
  async download(token: string, origin: RequestOrigin = {}): Promise<{ requestId: string; zip: Buffer }> {
    const taken = await this.deps.vault.takeOnce(token);
    const r = (await repo.findRequest(this.deps.db, taken.requestId))!;
    await this.deps.db.transaction(async (tx) => {
      await repo.addEvent(tx, r.id, this.now(), 'downloaded', { type: 'subject' }, { exportId: taken.exportId });
      await this.audit(tx, r, { type: 'subject' }, 'downloaded', 'success', origin, { exportId: taken.exportId, shredded: true });
    });
    return { requestId: r.id, zip: taken.zip };
  }

  /** Crypto-shreds exports whose link expired unused (run hourly by the server); returns how many. */
  async shredExpiredExports(): Promise<number> {
    const shredded = await this.deps.vault.shredExpired();
    for (const s of shredded) {
      const r = await repo.findRequest(this.deps.db, s.requestId);
      if (!r) continue;
      await repo.addEvent(this.deps.db, r.id, this.now(), 'export_expired', { type: 'system' }, { exportId: s.exportId });
      await this.audit(this.deps.db, r, { type: 'system' }, 'export_expired', 'success', {}, { exportId: s.exportId, shredded: true });
    }
    return shredded.length;
  }
}
