// SQL of the processing register: purposes, sub-processors, controller settings and the
// history of changes. Writes take an Sql so a use case can join them in one transaction.
import type { Sql } from '../../storage/database/database.ts';
import type { DataCategory, RetentionRule } from '../../storage/database/registry.ts';
import type { Region } from '../../shared/regions.ts';
import type {
  LawfulBasis,
  Purpose,
  RecipientKind,
  RegisterAction,
  RegisterActor,
  RegisterChange,
  RegisterEntity,
  RegisterSettings,
  RegisterSource,
  Subprocessor,
} from './purpose.model.ts';

interface PurposeRow {
  id: string;
  key: string;
  group_key: string;
  group_title: string;
  position: number;
  name: string;
  reasons: string | null;
  basis_individual: LawfulBasis[];
  basis_business: LawfulBasis[];
  categories: DataCategory[];
  data_subjects: string[];
  recipients: string[];
  retention_rules: RetentionRule[] | null;
  transfers: string | null;
  transfer_safeguards: string | null;
  notes: string | null;
  source: RegisterSource;
  retired_at: Date | null;
  created_at: Date;
  updated_at: Date;
  edited_at: Date | null;
}

interface SubprocessorRow {
  id: string;
  key: string;
  kind: RecipientKind;
  position: number;
  name: string;
  purpose: string;
  basis_individual: LawfulBasis[];
  basis_business: LawfulBasis[];
  categories: DataCategory[];
  categories_note: string | null;
  location: string | null;
  regions: Region[];
  transfer_safeguards: string | null;
  source: RegisterSource;
  effective_from: Date | null;
  ends_at: Date | null;
  created_at: Date;
  updated_at: Date;
  edited_at: Date | null;
}

const toPurpose = (r: PurposeRow): Purpose => ({
  id: r.id,
  key: r.key,
  groupKey: r.group_key,
  groupTitle: r.group_title,
  position: r.position,
  name: r.name,
  reasons: r.reasons,
  basisIndividual: r.basis_individual,
  basisBusiness: r.basis_business,
  categories: r.categories,
  dataSubjects: r.data_subjects,
  recipients: r.recipients,
  retentionRules: r.retention_rules,
  transfers: r.transfers,
  transferSafeguards: r.transfer_safeguards,
  notes: r.notes,
  source: r.source,
  retiredAt: r.retired_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  editedAt: r.edited_at,
});

const toSubprocessor = (r: SubprocessorRow): Subprocessor => ({
  id: r.id,
  key: r.key,
  kind: r.kind,
  position: r.position,
  name: r.name,
  purpose: r.purpose,
  basisIndividual: r.basis_individual,
  basisBusiness: r.basis_business,
  categories: r.categories,
  categoriesNote: r.categories_note,
  location: r.location,
  regions: r.regions,
  transferSafeguards: r.transfer_safeguards,
  source: r.source,
  effectiveFrom: r.effective_from,
  endsAt: r.ends_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  editedAt: r.edited_at,
});

/** Columns of privacy_purposes an edit may set, by model field. */
export const PURPOSE_COLUMNS = {
  groupKey: 'group_key',
  groupTitle: 'group_title',
  position: 'position',
  name: 'name',
  reasons: 'reasons',
  basisIndividual: 'basis_individual',
  basisBusiness: 'basis_business',
  categories: 'categories',
  dataSubjects: 'data_subjects',
  recipients: 'recipients',
  retentionRules: 'retention_rules',
  transfers: 'transfers',
  transferSafeguards: 'transfer_safeguards',
  notes: 'notes',
  retiredAt: 'retired_at',
} as const satisfies Partial<Record<keyof Purpose, string>>;

/** Columns of privacy_subprocessors an edit may set, by model field. */
export const SUBPROCESSOR_COLUMNS = {
  kind: 'kind',
  position: 'position',
  name: 'name',
  purpose: 'purpose',
  basisIndividual: 'basis_individual',
  basisBusiness: 'basis_business',
  categories: 'categories',
  categoriesNote: 'categories_note',
  location: 'location',
  regions: 'regions',
  transferSafeguards: 'transfer_safeguards',
  effectiveFrom: 'effective_from',
  endsAt: 'ends_at',
} as const satisfies Partial<Record<keyof Subprocessor, string>>;

/** Columns of privacy_register_settings, by model field. */
export const SETTINGS_COLUMNS = {
  controllerName: 'controller_name',
  controllerContact: 'controller_contact',
  dpoContact: 'dpo_contact',
  representative: 'representative',
  organisationalMeasures: 'organisational_measures',
  transferStatement: 'transfer_statement',
} as const satisfies Partial<Record<keyof RegisterSettings, string>>;

const JSON_FIELDS = new Set(['basisIndividual', 'basisBusiness', 'categories', 'dataSubjects', 'recipients', 'retentionRules', 'regions']);

/** Builds `col = $n` assignments for the given fields (jsonb values serialised). */
function assignments(columns: Record<string, string>, patch: Record<string, unknown>, firstParam: number): { sets: string[]; params: unknown[] } {
  const sets: string[] = [];
  const params: unknown[] = [];
  for (const [field, value] of Object.entries(patch)) {
    const column = columns[field];
    if (!column || value === undefined) continue;
    params.push(JSON_FIELDS.has(field) && value !== null ? JSON.stringify(value) : value);
    sets.push(`${column} = $${firstParam + params.length - 1}`);
  }
  return { sets, params };
}

/** Every purpose, retired ones included, in register order. */
export async function listPurposes(sql: Sql): Promise<Purpose[]> {
  const { rows } = await sql.query<PurposeRow>(`SELECT * FROM privacy_purposes ORDER BY position, key`);
  return rows.map(toPurpose);
}

/** The purpose with this key, or undefined. `forUpdate` locks the row. */
export async function findPurpose(sql: Sql, key: string, forUpdate = false): Promise<Purpose | undefined> {
  const { rows } = await sql.query<PurposeRow>(`SELECT * FROM privacy_purposes WHERE key = $1${forUpdate ? ' FOR UPDATE' : ''}`, [key]);
  return rows[0] ? toPurpose(rows[0]) : undefined;
}

/** Inserts an operator-created purpose. */
export async function insertPurpose(sql: Sql, p: Omit<Purpose, 'id' | 'createdAt' | 'updatedAt' | 'editedAt' | 'retiredAt' | 'source'>, now: Date): Promise<Purpose> {
  const { rows } = await sql.query<PurposeRow>(
    `INSERT INTO privacy_purposes (id, key, group_key, group_title, position, name, reasons, basis_individual, basis_business, categories,
       data_subjects, recipients, retention_rules, transfers, transfer_safeguards, notes, source, created_at, updated_at, edited_at)
     VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'operator', $16, $16, $16)
     RETURNING *`,
    [
      p.key, p.groupKey, p.groupTitle, p.position, p.name, p.reasons, JSON.stringify(p.basisIndividual), JSON.stringify(p.basisBusiness),
      JSON.stringify(p.categories), JSON.stringify(p.dataSubjects), JSON.stringify(p.recipients),
      p.retentionRules === null ? null : JSON.stringify(p.retentionRules), p.transfers, p.transferSafeguards, p.notes, now,
    ],
  );
  return toPurpose(rows[0]!);
}

/** Applies an edit to a purpose and marks it edited by the operator. */
export async function updatePurposeRow(sql: Sql, key: string, patch: Partial<Purpose>, now: Date): Promise<Purpose> {
  const { sets, params } = assignments(PURPOSE_COLUMNS, patch as Record<string, unknown>, 3);
  const { rows } = await sql.query<PurposeRow>(
    `UPDATE privacy_purposes SET ${[...sets, 'updated_at = $2', 'edited_at = $2'].join(', ')} WHERE key = $1 RETURNING *`,
    [key, now, ...params],
  );
  return toPurpose(rows[0]!);
}

/** The largest position in use, so new rows go last. */
export async function maxPosition(sql: Sql, table: 'privacy_purposes' | 'privacy_subprocessors'): Promise<number> {
  const { rows } = await sql.query<{ max: number | null }>(`SELECT max(position) AS max FROM ${table}`);
  return rows[0]?.max ?? 0;
}

/** Every sub-processor, removed ones included, in list order. */
export async function listSubprocessors(sql: Sql): Promise<Subprocessor[]> {
  const { rows } = await sql.query<SubprocessorRow>(`SELECT * FROM privacy_subprocessors ORDER BY position, key`);
  return rows.map(toSubprocessor);
}

/** The sub-processor with this key, or undefined. */
export async function findSubprocessor(sql: Sql, key: string, forUpdate = false): Promise<Subprocessor | undefined> {
  const { rows } = await sql.query<SubprocessorRow>(`SELECT * FROM privacy_subprocessors WHERE key = $1${forUpdate ? ' FOR UPDATE' : ''}`, [key]);
  return rows[0] ? toSubprocessor(rows[0]) : undefined;
}

/** Inserts an operator-added sub-processor. */
export async function insertSubprocessor(sql: Sql, s: Omit<Subprocessor, 'id' | 'createdAt' | 'updatedAt' | 'editedAt' | 'source'>, now: Date): Promise<Subprocessor> {
  const { rows } = await sql.query<SubprocessorRow>(
    `INSERT INTO privacy_subprocessors (id, key, kind, position, name, purpose, basis_individual, basis_business, categories, categories_note,
       location, regions, transfer_safeguards, source, effective_from, ends_at, created_at, updated_at, edited_at)
     VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'operator', $13, $14, $15, $15, $15)
     RETURNING *`,
    [
      s.key, s.kind, s.position, s.name, s.purpose, JSON.stringify(s.basisIndividual), JSON.stringify(s.basisBusiness), JSON.stringify(s.categories),
      s.categoriesNote, s.location, JSON.stringify(s.regions), s.transferSafeguards, s.effectiveFrom, s.endsAt, now,
    ],
  );
  return toSubprocessor(rows[0]!);
}

/** Applies an edit to a sub-processor and marks it edited by the operator. */
export async function updateSubprocessorRow(sql: Sql, key: string, patch: Partial<Subprocessor>, now: Date): Promise<Subprocessor> {
  const { sets, params } = assignments(SUBPROCESSOR_COLUMNS, patch as Record<string, unknown>, 3);
  const { rows } = await sql.query<SubprocessorRow>(
    `UPDATE privacy_subprocessors SET ${[...sets, 'updated_at = $2', 'edited_at = $2'].join(', ')} WHERE key = $1 RETURNING *`,
    [key, now, ...params],
  );
  return toSubprocessor(rows[0]!);
}

interface SettingsRow {
  controller_name: string | null;
  controller_contact: string | null;
  dpo_contact: string | null;
  representative: string | null;
  organisational_measures: string | null;
  transfer_statement: string | null;
  updated_at: Date;
  updated_by: string | null;
}

const EMPTY_SETTINGS: RegisterSettings = {
  controllerName: null,
  controllerContact: null,
  dpoContact: null,
  representative: null,
  organisationalMeasures: null,
  transferStatement: null,
  updatedAt: null,
  updatedBy: null,
};

/** The controller settings (all null before the seed or the operator set any). */
export async function getSettings(sql: Sql, forUpdate = false): Promise<RegisterSettings> {
  const { rows } = await sql.query<SettingsRow>(`SELECT * FROM privacy_register_settings WHERE id${forUpdate ? ' FOR UPDATE' : ''}`);
  const r = rows[0];
  if (!r) return { ...EMPTY_SETTINGS };
  return {
    controllerName: r.controller_name,
    controllerContact: r.controller_contact,
    dpoContact: r.dpo_contact,
    representative: r.representative,
    organisationalMeasures: r.organisational_measures,
    transferStatement: r.transfer_statement,
    updatedAt: r.updated_at,
    updatedBy: r.updated_by,
  };
}

/** Writes the settings row (creating it when absent). */
export async function saveSettings(sql: Sql, patch: Partial<RegisterSettings>, by: string | null, now: Date): Promise<RegisterSettings> {
  await sql.query(`INSERT INTO privacy_register_settings (id, updated_at) VALUES (true, $1) ON CONFLICT (id) DO NOTHING`, [now]);
  const { sets, params } = assignments(SETTINGS_COLUMNS, patch as Record<string, unknown>, 3);
  await sql.query(`UPDATE privacy_register_settings SET ${[...sets, 'updated_at = $1', 'updated_by = $2'].join(', ')} WHERE id`, [now, by, ...params]);
  return getSettings(sql);
}

/** Appends one change to the history. */
export async function recordChange(
  sql: Sql,
  change: { entity: RegisterEntity; entityKey: string | null; action: RegisterAction; summary: string; changes: Record<string, { from: unknown; to: unknown }>; actor: RegisterActor; effectiveAt: Date },
  now: Date,
): Promise<string> {
  const { rows } = await sql.query<{ id: string }>(
    `INSERT INTO privacy_register_changes (id, entity, entity_key, action, summary, changes, actor_type, actor_id, recorded_at, effective_at)
     VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
    [change.entity, change.entityKey, change.action, change.summary, JSON.stringify(change.changes), change.actor.type, change.actor.id ?? null, now, change.effectiveAt],
  );
  return rows[0]!.id;
}

interface ChangeRow {
  id: string;
  seq: string;
  entity: RegisterEntity;
  entity_key: string | null;
  action: RegisterAction;
  summary: string;
  changes: Record<string, { from: unknown; to: unknown }>;
  actor_type: string;
  actor_id: string | null;
  recorded_at: Date;
  effective_at: Date;
}

/** The history, oldest first, optionally of one entity kind. */
export async function listChanges(sql: Sql, opts: { entity?: RegisterEntity; limit?: number } = {}): Promise<RegisterChange[]> {
  const { rows } = await sql.query<ChangeRow>(
    `SELECT * FROM privacy_register_changes WHERE ($1::text IS NULL OR entity = $1) ORDER BY seq LIMIT $2`,
    [opts.entity ?? null, opts.limit ?? 10_000],
  );
  return rows.map((r) => ({
    id: r.id,
    seq: Number(r.seq),
    entity: r.entity,
    entityKey: r.entity_key,
    action: r.action,
    summary: r.summary,
    changes: r.changes,
    actorType: r.actor_type,
    actorId: r.actor_id,
    recordedAt: r.recorded_at,
    effectiveAt: r.effective_at,
  }));
}
