// The disclosure log (issue #6 §6): the operator records every request from law enforcement,
// courts, regulators and other third parties, the decision (who approved, why), what was
// disclosed (categories and a description — never the data), and whether the customer and the
// person were told or a non-disclosure order (gag) applies. Exported for transparency reports
// with small counts suppressed.
//
// Every change is audited on the installation's system chain, never on the customer's own chain:
// tenant administrators read their chain, and a gagged request must not show up there.
import { z } from 'zod';
import { appendAuditEvent } from '../../audit/audit.service.ts';
import type { AuditEventInput } from '../../audit/audit.model.ts';
import { randomId } from '../../crypto/keys.ts';
import { errors } from '../../shared/app-error.ts';
import type { Clock } from '../../shared/clock.ts';
import { systemClock } from '../../shared/clock.ts';
import type { Database, Sql } from '../../storage/database/database.ts';
import { DATA_CATEGORIES } from '../../storage/database/registry.ts';
import { csvRow } from '../csv.ts';
import { buildTable, checkThreshold, type StatisticsTable } from '../statistics/suppression.ts';
import { DISCLOSURE_STATUSES, DISCLOSURE_TRANSITIONS, REQUESTER_KINDS, type Disclosure, type DisclosureStatus } from './disclosure.model.ts';
import * as repo from './disclosure.repository.ts';

/** Who records or changes an entry (the operator, through the CLI). */
export type DisclosureActor = AuditEventInput['actor'];

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
const date = z.coerce.date({ error: 'must be a date such as 2025-01-31 or an ISO-8601 time' });
const categories = z
  .array(z.enum(DATA_CATEGORIES, { error: `must be one of ${DATA_CATEGORIES.join(', ')}` }))
  .refine((c) => new Set(c).size === c.length, 'must not repeat a category');

const fields = {
  requesterKind: z.enum(REQUESTER_KINDS, { error: `must be one of ${REQUESTER_KINDS.join(', ')}` }),
  authority: text(300),
  jurisdiction: text(100).nullable(),
  contact: text(1000).nullable(),
  legalBasis: text(2000),
  tenantId: z.uuid({ error: 'must be a tenant id' }).nullable(),
  requested: text(4000),
  requestedCategories: categories,
  disclosedCategories: categories,
  disclosedDescription: text(4000).nullable(),
  decisionReason: text(4000).nullable(),
  approvedBy: text(200).nullable(),
  receivedAt: date,
  decidedAt: date.nullable(),
  disclosedAt: date.nullable(),
  customerNotifiedAt: date.nullable(),
  subjectNotifiedAt: date.nullable(),
  gag: z.boolean(),
  gagUntil: date.nullable(),
  notes: z.string().trim().max(4000, 'must be at most 4000 characters').nullable(),
};

/** A new entry: who asked, on what basis, for what. */
export const newDisclosureSchema = z
  .object({
    requesterKind: fields.requesterKind,
    authority: fields.authority,
    jurisdiction: fields.jurisdiction.optional(),
    contact: fields.contact.optional(),
    legalBasis: fields.legalBasis,
    tenantId: fields.tenantId.optional(),
    requested: fields.requested,
    requestedCategories: fields.requestedCategories.optional(),
    receivedAt: fields.receivedAt.optional(),
    gag: fields.gag.optional(),
    gagUntil: fields.gagUntil.optional(),
    notes: fields.notes.optional(),
  })
  .strict();

/** A change: any field, and a new status. */
export const disclosurePatchSchema = z
  .object({ ...fields, status: z.enum(DISCLOSURE_STATUSES, { error: `must be one of ${DISCLOSURE_STATUSES.join(', ')}` }) })
  .partial()
  .strict();

function parse<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || what}: ${i.message}`);
  throw errors.invalid('disclosure_invalid', `invalid ${what}: ${problems.join('; ')}`, { problems });
}

/** Half-years of a transparency report, e.g. 2025-H1. */
const HALF = /^(\d{4})-H([12])$/;

/** The transparency report: one table per half-year, authorities by outcome. */
export interface TransparencyReport extends StatisticsTable {
  period: { name: string; from: string; to: string };
  rowsAre: string;
  columnsAre: string;
  /** The kind of each row's authority (law_enforcement, court, …), in row order. */
  rowKinds: string[];
  note: string;
}

/** Records and reports disclosure requests. */
export class DisclosureService {
  private readonly now: Clock;

  constructor(
    private readonly db: Database,
    opts: { now?: Clock } = {},
  ) {
    this.now = opts.now ?? systemClock;
  }

  /** Records a request as received. */
  async add(actor: DisclosureActor, input: unknown): Promise<Disclosure> {
    const d = parse(newDisclosureSchema, input, 'disclosure');
    if (d.gagUntil && !d.gag) throw errors.invalid('disclosure_invalid', 'invalid disclosure: gagUntil: needs gag');
    const now = this.now();
    const receivedAt = d.receivedAt ?? now;
    if (receivedAt > now) throw errors.invalid('disclosure_invalid', 'invalid disclosure: receivedAt: must not be in the future');
    return this.db.transaction(async (tx) => {
      if (d.tenantId) await this.checkTenant(tx, d.tenantId);
      const created = await repo.insertDisclosure(
        tx,
        {
          id: randomId(),
          reference: await repo.nextReference(tx, receivedAt.getUTCFullYear()),
          requesterKind: d.requesterKind,
          authority: d.authority,
          jurisdiction: d.jurisdiction ?? null,
          contact: d.contact ?? null,
          legalBasis: d.legalBasis,
          tenantId: d.tenantId ?? null,
          requested: d.requested,
          requestedCategories: d.requestedCategories ?? [],
          status: 'received',
          disclosedCategories: [],
          disclosedDescription: null,
          decisionReason: null,
          approvedBy: null,
          receivedAt,
          decidedAt: null,
          disclosedAt: null,
          customerNotifiedAt: null,
          subjectNotifiedAt: null,
          gag: d.gag ?? false,
          gagUntil: d.gagUntil ?? null,
          notes: d.notes ?? null,
          recordedBy: actor.id ?? actor.type,
        },
        now,
      );
      await this.audit(tx, actor, created, 'privacy_disclosure.recorded', Object.keys(d));
      return created;
    });
  }

  /** Changes an entry: a decision, the disclosure, notices, corrections. Status changes follow DISCLOSURE_TRANSITIONS. */
  async update(actor: DisclosureActor, idOrReference: string, input: unknown): Promise<Disclosure> {
    const patch = parse(disclosurePatchSchema, input, 'disclosure');
    if (Object.keys(patch).length === 0) throw errors.invalid('nothing_to_change', 'name at least one field to change, e.g. status');
    return this.db.transaction(async (tx) => {
      const before = await repo.findDisclosure(tx, idOrReference, true);
      if (!before) throw errors.notFound('disclosure_not_found', `no disclosure ${idOrReference}; list them with "sealpost privacy disclosures list"`);
      const now = this.now();
      const next: Partial<Disclosure> = { ...patch };
      const status = patch.status ?? before.status;
      if (patch.status && patch.status !== before.status) {
        if (!DISCLOSURE_TRANSITIONS[before.status].includes(patch.status)) {
          const allowed = DISCLOSURE_TRANSITIONS[before.status];
          throw errors.conflict('disclosure_transition', `a ${before.status} request cannot become ${patch.status}${allowed.length ? ` (it can become ${allowed.join(', ')})` : ' (a disclosure is final)'}`);
        }
        if (['approved', 'refused', 'challenged'].includes(patch.status)) next.decidedAt = patch.decidedAt ?? now;
        if (patch.status === 'disclosed') next.disclosedAt = patch.disclosedAt ?? now;
      }
      const after = { ...before, ...next } as Disclosure;
      // What must be true of each state; the message names what is missing.
      if ((status === 'approved' || status === 'refused' || status === 'disclosed') && !after.approvedBy) {
        throw errors.invalid('disclosure_invalid', `invalid disclosure: approvedBy: say who ${status === 'refused' ? 'refused' : 'approved'} it`);
      }
      if (status === 'disclosed' && (after.disclosedCategories.length === 0 || !after.disclosedDescription)) {
        throw errors.invalid('disclosure_invalid', 'invalid disclosure: a disclosure needs disclosedCategories and disclosedDescription (what was given, described — never the data itself)');
      }
      if (status !== 'disclosed' && (patch.disclosedAt || (patch.disclosedCategories?.length ?? 0) > 0)) {
        throw errors.invalid('disclosure_invalid', 'invalid disclosure: disclosedAt and disclosedCategories need status disclosed');
      }
      if (after.gagUntil && !after.gag) throw errors.invalid('disclosure_invalid', 'invalid disclosure: gagUntil: needs gag');
      // A non-disclosure order forbids telling the customer or the person while it runs.
      const gagInForce = after.gag && (!after.gagUntil || after.gagUntil > now);
      if (gagInForce && (patch.customerNotifiedAt || patch.subjectNotifiedAt)) {
        throw errors.conflict('disclosure_gagged', 'a non-disclosure order applies: the customer and the person may not be told until it ends (set gag false or gagUntil first)');
      }
      if (patch.tenantId) await this.checkTenant(tx, patch.tenantId);
      for (const f of ['decidedAt', 'disclosedAt', 'customerNotifiedAt', 'subjectNotifiedAt'] as const) {
        const v = after[f];
        if (v && v < after.receivedAt) throw errors.invalid('disclosure_invalid', `invalid disclosure: ${f}: must not be before receivedAt`);
      }
      const updated = await repo.updateDisclosure(tx, before.id, next, now);
      await this.audit(tx, actor, updated, patch.status && patch.status !== before.status ? `privacy_disclosure.${patch.status}` : 'privacy_disclosure.updated', Object.keys(patch), before.status);
      return updated;
    });
  }

  /** One entry by id or reference. */
  async get(idOrReference: string): Promise<Disclosure> {
    const d = await repo.findDisclosure(this.db, idOrReference);
    if (!d) throw errors.notFound('disclosure_not_found', `no disclosure ${idOrReference}; list them with "sealpost privacy disclosures list"`);
    return d;
  }

  /** Entries received in [from, to). */
  async list(opts: { from?: Date; to?: Date; status?: string } = {}): Promise<Disclosure[]> {
    if (opts.status !== undefined && !(DISCLOSURE_STATUSES as readonly string[]).includes(opts.status)) {
      throw errors.invalid('disclosure_invalid', `status must be one of ${DISCLOSURE_STATUSES.join(', ')}`);
    }
    return repo.listDisclosures(this.db, {
      ...(opts.from ? { from: opts.from } : {}),
      ...(opts.to ? { to: opts.to } : {}),
      ...(opts.status ? { status: opts.status as DisclosureStatus } : {}),
    });
  }

  /**
   * The transparency report for one half-year (e.g. 2025-H1): requests received, by authority
   * (rows) and status (columns), small cells suppressed. One table and one period size only, so
   * no published figure can be subtracted from another to expose a suppressed cell.
   */
  async transparencyReport(opts: { half: string; threshold?: number | string }): Promise<TransparencyReport> {
    const threshold = checkThreshold(opts.threshold);
    const m = HALF.exec(opts.half);
    if (!m) throw errors.invalid('invalid_period', 'period must be a half-year such as 2025-H1 (January–June) or 2025-H2');
    const year = Number(m[1]);
    const from = new Date(Date.UTC(year, m[2] === '1' ? 0 : 6, 1));
    const to = new Date(Date.UTC(m[2] === '1' ? year : year + 1, m[2] === '1' ? 6 : 0, 1));
    const { rows } = await this.db.query<{ authority: string; kind: string; status: string; n: string }>(
      `SELECT authority, requester_kind AS kind, status, count(*) AS n FROM privacy_disclosures WHERE received_at >= $1 AND received_at < $2 GROUP BY 1, 2, 3 ORDER BY 2, 1`,
      [from, to],
    );
    // An authority named with two kinds (a data-entry slip) gets one row per kind.
    const rowKey = (r: { authority: string; kind: string }) => `${r.authority} (${r.kind})`;
    const keys = [...new Map(rows.map((r) => [rowKey(r), r.kind])).entries()];
    const table = buildTable(
      rows.map((r) => ({ row: rowKey(r), column: r.status, count: Number(r.n) })),
      { threshold, rows: keys.map(([k]) => k), columns: [...DISCLOSURE_STATUSES] },
    );
    return {
      period: { name: opts.half, from: from.toISOString(), to: to.toISOString() },
      rowsAre: 'authority (kind)',
      columnsAre: 'status of the request',
      rowKinds: keys.map(([, kind]) => kind),
      ...table,
      note: 'Requests received in the half-year by their current status. Counts below the threshold are shown as null ("fewer than threshold"); no totals are published, so suppressed counts cannot be worked out by subtraction.',
    };
  }

  private async checkTenant(sql: Sql, tenantId: string): Promise<void> {
    const { rows } = await sql.query('SELECT 1 FROM tenants WHERE id = $1', [tenantId]);
    if (rows.length === 0) throw errors.invalid('disclosure_invalid', `invalid disclosure: tenantId: no tenant ${tenantId}`);
  }

  private async audit(sql: Sql, actor: DisclosureActor, d: Disclosure, action: string, changed: string[], from?: DisclosureStatus): Promise<void> {
    await appendAuditEvent(sql, {
      actor,
      action,
      target: { type: 'privacy_disclosure', id: d.id },
      outcome: 'success',
      // Field names and states only: the values (contacts, descriptions) stay in the log itself.
      details: { reference: d.reference, status: d.status, ...(from && from !== d.status ? { from } : {}), fields: changed.sort(), gag: d.gag },
    });
  }
}

/** Columns of the CSV export, in order. */
export const DISCLOSURE_CSV_COLUMNS = [
  'reference', 'requesterKind', 'authority', 'jurisdiction', 'contact', 'legalBasis', 'tenantId', 'requested', 'requestedCategories', 'status',
  'disclosedCategories', 'disclosedDescription', 'decisionReason', 'approvedBy', 'receivedAt', 'decidedAt', 'disclosedAt', 'customerNotifiedAt',
  'subjectNotifiedAt', 'gag', 'gagUntil', 'notes', 'recordedBy',
] as const satisfies ReadonlyArray<keyof Disclosure>;

/** The log as CSV (RFC 4180, formula-safe), one row per request. */
export function disclosuresToCsv(list: Disclosure[]): string {
  const cell = (v: unknown) => (v instanceof Date ? v.toISOString() : Array.isArray(v) ? v.join(' ') : (v as string | number | boolean | null));
  return csvRow([...DISCLOSURE_CSV_COLUMNS]) + list.map((d) => csvRow(DISCLOSURE_CSV_COLUMNS.map((c) => cell(d[c])))).join('');
}
