// SQL for privacy_disclosures.
import type { Sql } from '../../storage/database/database.ts';
import type { DataCategory } from '../../storage/database/registry.ts';
import type { Disclosure, DisclosureStatus, RequesterKind } from './disclosure.model.ts';

interface Row {
  id: string;
  reference: string;
  requester_kind: RequesterKind;
  authority: string;
  jurisdiction: string | null;
  contact: string | null;
  legal_basis: string;
  tenant_id: string | null;
  requested: string;
  requested_categories: DataCategory[];
  status: DisclosureStatus;
  disclosed_categories: DataCategory[];
  disclosed_description: string | null;
  decision_reason: string | null;
  approved_by: string | null;
  received_at: Date;
  decided_at: Date | null;
  disclosed_at: Date | null;
  customer_notified_at: Date | null;
  subject_notified_at: Date | null;
  gag: boolean;
  gag_until: Date | null;
  notes: string | null;
  recorded_by: string;
  created_at: Date;
  updated_at: Date;
}

const toDisclosure = (r: Row): Disclosure => ({
  id: r.id,
  reference: r.reference,
  requesterKind: r.requester_kind,
  authority: r.authority,
  jurisdiction: r.jurisdiction,
  contact: r.contact,
  legalBasis: r.legal_basis,
  tenantId: r.tenant_id,
  requested: r.requested,
  requestedCategories: r.requested_categories,
  status: r.status,
  disclosedCategories: r.disclosed_categories,
  disclosedDescription: r.disclosed_description,
  decisionReason: r.decision_reason,
  approvedBy: r.approved_by,
  receivedAt: r.received_at,
  decidedAt: r.decided_at,
  disclosedAt: r.disclosed_at,
  customerNotifiedAt: r.customer_notified_at,
  subjectNotifiedAt: r.subject_notified_at,
  gag: r.gag,
  gagUntil: r.gag_until,
  notes: r.notes,
  recordedBy: r.recorded_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Column of each writable field. */
const COLUMNS: Record<string, string> = {
  requesterKind: 'requester_kind',
  authority: 'authority',
  jurisdiction: 'jurisdiction',
  contact: 'contact',
  legalBasis: 'legal_basis',
  tenantId: 'tenant_id',
  requested: 'requested',
  requestedCategories: 'requested_categories',
  status: 'status',
  disclosedCategories: 'disclosed_categories',
  disclosedDescription: 'disclosed_description',
  decisionReason: 'decision_reason',
  approvedBy: 'approved_by',
  receivedAt: 'received_at',
  decidedAt: 'decided_at',
  disclosedAt: 'disclosed_at',
  customerNotifiedAt: 'customer_notified_at',
  subjectNotifiedAt: 'subject_notified_at',
  gag: 'gag',
  gagUntil: 'gag_until',
  notes: 'notes',
};

const JSON_FIELDS = new Set(['requestedCategories', 'disclosedCategories']);

/** The next reference of a year: DR-<year>-0001, -0002, … (the caller holds a transaction lock). */
export async function nextReference(sql: Sql, year: number): Promise<string> {
  await sql.query(`SELECT pg_advisory_xact_lock(hashtext('privacy_disclosures:reference'))`);
  // The highest number, not a count: entries deleted by retention must not free a reference.
  const { rows } = await sql.query<{ n: number | null }>(`SELECT max(substring(reference FROM 9)::int) AS n FROM privacy_disclosures WHERE reference LIKE $1`, [`DR-${year}-%`]);
  return `DR-${year}-${String((rows[0]?.n ?? 0) + 1).padStart(4, '0')}`;
}

/** Inserts an entry. */
export async function insertDisclosure(sql: Sql, d: Omit<Disclosure, 'createdAt' | 'updatedAt'>, now: Date): Promise<Disclosure> {
  const fields = Object.keys(COLUMNS) as Array<keyof typeof COLUMNS>;
  const values = fields.map((f) => {
    const v = (d as unknown as Record<string, unknown>)[f];
    return JSON_FIELDS.has(f) ? JSON.stringify(v) : v;
  });
  const cols = ['id', 'reference', 'recorded_by', 'created_at', 'updated_at', ...fields.map((f) => COLUMNS[f]!)];
  const params = [d.id, d.reference, d.recordedBy, now, now, ...values];
  const { rows } = await sql.query<Row>(`INSERT INTO privacy_disclosures (${cols.join(', ')}) VALUES (${params.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`, params);
  return toDisclosure(rows[0]!);
}

/** Changes fields of an entry. */
export async function updateDisclosure(sql: Sql, id: string, patch: Partial<Disclosure>, now: Date): Promise<Disclosure> {
  const sets: string[] = [];
  const params: unknown[] = [id, now];
  for (const [field, value] of Object.entries(patch)) {
    const column = COLUMNS[field];
    if (!column || value === undefined) continue;
    params.push(JSON_FIELDS.has(field) ? JSON.stringify(value) : value);
    sets.push(`${column} = $${params.length}`);
  }
  const { rows } = await sql.query<Row>(`UPDATE privacy_disclosures SET ${[...sets, 'updated_at = $2'].join(', ')} WHERE id = $1 RETURNING *`, params);
  return toDisclosure(rows[0]!);
}

/** One entry by id or reference, or null. */
export async function findDisclosure(sql: Sql, idOrReference: string, forUpdate = false): Promise<Disclosure | null> {
  const byId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrReference);
  const { rows } = await sql.query<Row>(`SELECT * FROM privacy_disclosures WHERE ${byId ? 'id = $1' : 'reference = $1'}${forUpdate ? ' FOR UPDATE' : ''}`, [
    byId ? idOrReference.toLowerCase() : idOrReference.toUpperCase(),
  ]);
  return rows[0] ? toDisclosure(rows[0]) : null;
}

/** Entries received in [from, to), oldest first. */
export async function listDisclosures(sql: Sql, opts: { from?: Date; to?: Date; status?: DisclosureStatus } = {}): Promise<Disclosure[]> {
  const { rows } = await sql.query<Row>(
    `SELECT * FROM privacy_disclosures
      WHERE ($1::timestamptz IS NULL OR received_at >= $1) AND ($2::timestamptz IS NULL OR received_at < $2) AND ($3::text IS NULL OR status = $3)
      ORDER BY received_at, reference`,
    [opts.from ?? null, opts.to ?? null, opts.status ?? null],
  );
  return rows.map(toDisclosure);
}
