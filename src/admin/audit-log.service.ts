// The organisation-wide audit log for administrators and auditors: filtered pages (newest first,
// cursor by chain position), a streamed CSV export (oldest first, bounded memory), and the
// verification of the tenant's hash chain. Only what the log stores is shown — never the hash
// fields' inputs beyond the events themselves; the log refuses secrets at write time.
import { Readable } from 'node:stream';
import { auditContext } from '../accounts/credential.issuer.ts';
import { AUDIT_ACTOR_TYPES, AUDIT_OUTCOMES, type AuditEventInput, type JsonObject } from '../audit/audit.model.ts';
import { appendAuditEvent, getAuditChainHead, verifyAuditChains } from '../audit/audit.service.ts';
import { isUuid } from '../crypto/format/bytes.ts';
import { errors } from '../shared/app-error.ts';
import type { Database } from '../storage/database/database.ts';
import { readAuditPage, type AuditFilterValues, type AuditLogRow } from './audit-log.repository.ts';
import { csvRow } from './csv.ts';

/** Filters as they arrive from a query string (all optional strings). */
export interface AuditFilterInput {
  from?: string | undefined;
  to?: string | undefined;
  actor?: string | undefined;
  actorType?: string | undefined;
  action?: string | undefined;
  messageId?: string | undefined;
  outcome?: string | undefined;
}

/** One event as the API presents it. */
export interface AuditLogEvent {
  id: string;
  seq: string;
  occurredAt: Date;
  actor: { type: string; id: string | null; email: string | null };
  action: string;
  target: { type: string; id: string | null } | null;
  messageId: string | null;
  outcome: string;
  ip: string | null;
  userAgent: string | null;
  details: JsonObject;
}

/** A page of events, newest first. */
export interface AuditLogPage {
  events: AuditLogEvent[];
  nextCursor: string | null;
}

/** The chain verification result as the API presents it. */
export interface AuditLogVerification {
  ok: boolean;
  events: number;
  headSeq: string;
  headHash: string;
  problems: Array<{ seq: string; problem: string }>;
  problemsTruncated: boolean;
  verifiedAt: Date;
}

/** CSV columns of the export, in order. */
export const AUDIT_CSV_COLUMNS = ['occurred_at', 'seq', 'event_id', 'actor_type', 'actor_id', 'actor_email', 'action', 'target_type', 'target_id', 'message_id', 'outcome', 'ip', 'user_agent', 'details'] as const;

/** Largest page of the JSON API. */
export const MAX_AUDIT_PAGE = 200;
const EXPORT_PAGE = 500;

const ACTION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

const invalid = (field: string, message: string) => errors.invalid('audit_filter_invalid', `${field}: ${message}`, { field });

/** Checks filters and turns them into values the repository takes. */
export function parseAuditFilters(input: AuditFilterInput): AuditFilterValues {
  const out: AuditFilterValues = {};
  const date = (field: 'from' | 'to', v: string) => {
    // An ISO 8601 date or date-time; Date.parse alone accepts too many informal forms.
    if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(v) || Number.isNaN(Date.parse(v))) {
      throw invalid(field, 'must be an ISO 8601 date or date-time, e.g. 2026-12-01T00:00:00Z');
    }
    return new Date(v);
  };
  if (input.from) out.from = date('from', input.from);
  if (input.to) out.to = date('to', input.to);
  if (out.from && out.to && out.from >= out.to) throw invalid('from', 'must be before to');
  if (input.actor) {
    const a = input.actor.trim();
    if (isUuid(a.toLowerCase())) out.actorId = a.toLowerCase();
    else if (EMAIL.test(a)) out.actorEmail = a.toLowerCase();
    else throw invalid('actor', 'must be a user or recipient id (UUID) or an email address');
  }
  if (input.actorType) {
    if (!AUDIT_ACTOR_TYPES.includes(input.actorType as never)) throw invalid('actorType', `must be one of ${AUDIT_ACTOR_TYPES.join(', ')}`);
    out.actorType = input.actorType;
  }
  if (input.action) {
    const a = input.action.trim();
    if (a.endsWith('.*') && ACTION.test(a.slice(0, -2))) out.action = { prefix: a.slice(0, -1) };
    else if (ACTION.test(a) && a.length <= 100) out.action = { exact: a };
    else throw invalid('action', "must be an action such as message.sent, or a prefix such as message.*");
  }
  if (input.messageId) {
    if (!isUuid(input.messageId.toLowerCase())) throw invalid('messageId', 'must be a message id (UUID)');
    out.messageId = input.messageId.toLowerCase();
  }
  if (input.outcome) {
    if (!AUDIT_OUTCOMES.includes(input.outcome as never)) throw invalid('outcome', `must be one of ${AUDIT_OUTCOMES.join(', ')}`);
    out.outcome = input.outcome;
  }
  return out;
}

const encodeCursor = (seq: string) => Buffer.from(`seq:${seq}`).toString('base64url');
function decodeCursor(cursor: string): string {
  const m = /^seq:(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw invalid('cursor', 'is not a cursor this API returned');
  return m[1]!;
}

const present = (r: AuditLogRow): AuditLogEvent => ({
  id: r.id,
  seq: r.seq,
  occurredAt: r.occurredAt,
  actor: { type: r.actorType, id: r.actorId, email: r.actorEmail },
  action: r.action,
  target: r.targetType ? { type: r.targetType, id: r.targetId } : null,
  messageId: r.messageId,
  outcome: r.outcome,
  ip: r.ip,
  userAgent: r.userAgent,
  details: r.details,
});

/** Reading, exporting and verifying a tenant's audit log. */
export class AuditLogService {
  constructor(private readonly db: Database) {}

  /** One page of events matching the filters, newest first. */
  async list(tenantId: string, filters: AuditFilterInput, page: { limit?: number | undefined; cursor?: string | undefined } = {}): Promise<AuditLogPage> {
    const f = parseAuditFilters(filters);
    const limit = page.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_PAGE) throw invalid('limit', `must be a whole number from 1 to ${MAX_AUDIT_PAGE}`);
    const beforeSeq = page.cursor ? decodeCursor(page.cursor) : undefined;
    const rows = await readAuditPage(this.db, tenantId, f, { order: 'desc', limit: limit + 1, ...(beforeSeq ? { beforeSeq } : {}) });
    const more = rows.length > limit;
    const events = rows.slice(0, limit).map(present);
    return { events, nextCursor: more ? encodeCursor(events.at(-1)!.seq) : null };
  }

  /**
   * Records the export (so it is itself on the trail, as the last row), then returns the CSV as
   * a stream that reads the chain page by page, oldest first, up to the export's own event.
   * Filters are checked before anything is recorded or sent.
   */
  async exportCsv(actor: AuditEventInput['actor'], tenantId: string, filters: AuditFilterInput, ctx: { ip?: string; userAgent?: string } = {}): Promise<Readable> {
    const f = parseAuditFilters(filters);
    const recorded = await appendAuditEvent(this.db, {
      tenantId,
      actor,
      action: 'audit.exported',
      target: { type: 'tenant', id: tenantId },
      outcome: 'success',
      ...auditContext(ctx),
      details: { format: 'csv', filters: Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined && v !== '')) },
    });
    const db = this.db;
    async function* lines(): AsyncGenerator<string> {
      yield csvRow([...AUDIT_CSV_COLUMNS]);
      let after = '0';
      for (;;) {
        const rows = await readAuditPage(db, tenantId, f, { order: 'asc', afterSeq: after, upToSeq: recorded.chainSeq, limit: EXPORT_PAGE });
        // One chunk per page: fewer writes, and memory stays bounded by the page size.
        if (rows.length > 0) {
          yield rows
            .map((r) => csvRow([r.occurredAt.toISOString(), r.seq, r.id, r.actorType, r.actorId, r.actorEmail, r.action, r.targetType, r.targetId, r.messageId, r.outcome, r.ip, r.userAgent, JSON.stringify(r.details)]))
            .join('');
        }
        if (rows.length < EXPORT_PAGE) return;
        after = rows.at(-1)!.seq;
      }
    }
    return Readable.from(lines(), { objectMode: false });
  }

  /** Verifies the tenant's whole chain, anchored at the head read first (so the answer names a fixed position). */
  async verify(tenantId: string): Promise<AuditLogVerification> {
    const head = await getAuditChainHead(this.db, { tenantId });
    const result = await verifyAuditChains(this.db, { tenantId, anchors: head.chainSeq > 0 ? [head] : [] });
    return {
      ok: result.ok,
      events: head.chainSeq,
      headSeq: String(head.chainSeq),
      headHash: head.hash,
      problems: result.problems.map((p) => ({ seq: String(p.chainSeq), problem: p.problem })),
      problemsTruncated: result.problemsTruncated,
      verifiedAt: new Date(),
    };
  }
}
