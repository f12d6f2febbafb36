// Administering a tenant's classification labels: create, change a policy, retire, restore,
// delete an unused label, replace the whole set (e.g. with OFFICIAL / OFFICIAL-SENSITIVE).
// What must stay true: a message sent under a label keeps working — a label in use is never
// deleted, only retired; a tenant always has at least one active label and exactly one default;
// names are unique ignoring case (senders type them). Every change is audited in the same
// transaction. Who may call this is decided by the caller (administrators over HTTP).
import { auditContext } from '../accounts/credential.issuer.ts';
import type { AuditEventInput } from '../audit/audit.model.ts';
import { appendAuditEvent } from '../audit/audit.service.ts';
import { isUuid } from '../crypto/format/bytes.ts';
import { randomId } from '../crypto/keys.ts';
import { errors } from '../shared/app-error.ts';
import type { Database, Sql } from '../storage/database/database.ts';
import { AUTH_LEVELS, ensureDefaultLabels, type AuthLevel, type Label } from './labels.ts';

/** A label as administrators see it: with its state and how many messages were sent under it. */
export interface ManagedLabel extends Label {
  /** When it was withdrawn from senders; null while active. */
  retiredAt: Date | null;
  createdAt: Date;
  messageCount: number;
}

/** The policy fields of a label, as given by an administrator (unvalidated). */
export interface LabelFieldsInput {
  name?: unknown;
  rank?: unknown;
  description?: unknown;
  defaultExpiryDays?: unknown;
  authLevel?: unknown;
  noForward?: unknown;
  noDownload?: unknown;
  watermark?: unknown;
  hideSubject?: unknown;
  disclaimer?: unknown;
  isDefault?: unknown;
}

/** What a replacement of the set did, by label name. */
export interface ReplacedLabels {
  labels: ManagedLabel[];
  created: string[];
  updated: string[];
  retired: string[];
  deleted: string[];
}

type Actor = AuditEventInput['actor'];
type Ctx = { ip?: string; userAgent?: string };

/** Validated policy of one label (everything but isDefault). */
interface LabelFields {
  name: string;
  rank: number;
  description: string;
  defaultExpiryDays: number | null;
  authLevel: AuthLevel;
  noForward: boolean;
  noDownload: boolean;
  watermark: boolean;
  hideSubject: boolean;
  disclaimer: string | null;
}

const POLICY_DEFAULTS: Omit<LabelFields, 'name' | 'rank'> = {
  description: '',
  defaultExpiryDays: null,
  authLevel: 'email_code',
  noForward: false,
  noDownload: false,
  watermark: false,
  hideSubject: false,
  disclaimer: null,
};

/** Most labels a set may hold (a picker with more is unusable). */
export const MAX_LABELS = 50;
const NAME = /^[\p{L}\p{N}][\p{L}\p{N} _.-]*$/u;
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

const invalid = (field: string, message: string) => errors.invalid('label_invalid', `${field}: ${message}`, { field });

/**
 * Checks the fields present in `input` and returns them normalised (trimmed; blank disclaimer
 * becomes null). `prefix` names the position in a larger body, e.g. 'labels.2.'.
 */
export function parseLabelFields(input: LabelFieldsInput, prefix = ''): Partial<LabelFields> & { isDefault?: boolean } {
  const out: Partial<LabelFields> & { isDefault?: boolean } = {};
  const f = (name: string) => `${prefix}${name}`;
  if (input.name !== undefined) {
    if (typeof input.name !== 'string') throw invalid(f('name'), 'must be a string');
    const name = input.name.trim();
    if (name.length < 1 || name.length > 64) throw invalid(f('name'), 'must be 1 to 64 characters');
    if (!NAME.test(name)) throw invalid(f('name'), 'may contain letters, digits, spaces, "-", "_" and "." and must start with a letter or digit');
    out.name = name;
  }
  if (input.rank !== undefined) {
    if (typeof input.rank !== 'number' || !Number.isInteger(input.rank) || input.rank < 0 || input.rank > 1000) throw invalid(f('rank'), 'must be a whole number from 0 to 1000');
    out.rank = input.rank;
  }
  if (input.description !== undefined) {
    if (typeof input.description !== 'string') throw invalid(f('description'), 'must be a string');
    const d = input.description.trim();
    if (d.length > 500) throw invalid(f('description'), 'must be at most 500 characters');
    if (CONTROL.test(d)) throw invalid(f('description'), 'must not contain control characters');
    out.description = d;
  }
  if (input.defaultExpiryDays !== undefined) {
    const v = input.defaultExpiryDays;
    if (v !== null && (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 3650)) throw invalid(f('defaultExpiryDays'), 'must be a whole number of days from 1 to 3650, or null for no expiry');
    out.defaultExpiryDays = v as number | null;
  }
  if (input.authLevel !== undefined) {
    if (!AUTH_LEVELS.includes(input.authLevel as AuthLevel)) throw invalid(f('authLevel'), `must be one of ${AUTH_LEVELS.join(', ')}`);
    out.authLevel = input.authLevel as AuthLevel;
  }
  for (const key of ['noForward', 'noDownload', 'watermark', 'hideSubject', 'isDefault'] as const) {
    const v = input[key];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw invalid(f(key), 'must be true or false');
    out[key] = v;
  }
  if (input.disclaimer !== undefined) {
    const v = input.disclaimer;
    if (v !== null && typeof v !== 'string') throw invalid(f('disclaimer'), 'must be a string, or null for none');
    const d = typeof v === 'string' ? v.trim() : '';
    if (d.length > 4000) throw invalid(f('disclaimer'), 'must be at most 4000 characters');
    if (CONTROL.test(d)) throw invalid(f('disclaimer'), 'must not contain control characters other than line breaks and tabs');
    out.disclaimer = d === '' ? null : d;
  }
  return out;
}

interface ManagedRow {
  id: string;
  name: string;
  rank: number;
  description: string;
  default_expiry_days: number | null;
  auth_level: AuthLevel;
  no_forward: boolean;
  no_download: boolean;
  watermark: boolean;
  hide_subject: boolean;
  disclaimer: string | null;
  is_default: boolean;
  archived_at: Date | null;
  created_at: Date;
  message_count: string;
}

const toManaged = (r: ManagedRow): ManagedLabel => ({
  id: r.id,
  name: r.name,
  rank: r.rank,
  description: r.description,
  defaultExpiryDays: r.default_expiry_days,
  authLevel: r.auth_level,
  noForward: r.no_forward,
  noDownload: r.no_download,
  watermark: r.watermark,
  hideSubject: r.hide_subject,
  disclaimer: r.disclaimer,
  isDefault: r.is_default,
  retiredAt: r.archived_at,
  createdAt: r.created_at,
  messageCount: Number(r.message_count),
});

const SELECT_MANAGED = `SELECT l.*, (SELECT count(*) FROM messages m WHERE m.label_id = l.id) AS message_count FROM labels l`;

const COLUMN_OF: Record<keyof LabelFields, string> = {
  name: 'name',
  rank: 'rank',
  description: 'description',
  defaultExpiryDays: 'default_expiry_days',
  authLevel: 'auth_level',
  noForward: 'no_forward',
  noDownload: 'no_download',
  watermark: 'watermark',
  hideSubject: 'hide_subject',
  disclaimer: 'disclaimer',
};

// Long texts are recorded as "changed", not copied: the audit row stays small and readable.
const TEXT_FIELDS = new Set<keyof LabelFields>(['description', 'disclaimer']);

/** Administration of classification labels. */
export class LabelService {
  constructor(private readonly db: Database) {}

  /** Every label of the tenant, retired ones too: active first, then by rank and name. */
  async listAll(tenantId: string): Promise<ManagedLabel[]> {
    await ensureDefaultLabels(this.db, tenantId);
    return this.listIn(this.db, tenantId);
  }

  /** Creates a label; `name` and `rank` are required, the rest take the documented defaults. */
  async create(actor: Actor, tenantId: string, input: LabelFieldsInput, ctx: Ctx = {}): Promise<ManagedLabel> {
    const parsed = parseLabelFields(input);
    if (parsed.name === undefined) throw invalid('name', 'is required');
    if (parsed.rank === undefined) throw invalid('rank', 'is required');
    const fields: LabelFields = { ...POLICY_DEFAULTS, ...parsed, name: parsed.name, rank: parsed.rank };
    return this.db.transaction(async (tx) => {
      await this.lock(tx, tenantId);
      await this.checkNameFree(tx, tenantId, fields.name, null);
      if (parsed.isDefault) await tx.query(`UPDATE labels SET is_default = false WHERE tenant_id = $1 AND is_default`, [tenantId]);
      const id = randomId();
      await insertLabel(tx, tenantId, id, fields, parsed.isDefault === true);
      await appendAuditEvent(tx, { tenantId, actor, action: 'label.created', target: { type: 'label', id }, outcome: 'success', ...auditContext(ctx), details: { name: fields.name, rank: fields.rank, isDefault: parsed.isDefault === true } });
      return this.getIn(tx, tenantId, id);
    });
  }

  /** Changes any of a label's fields (retired labels too: their policy still governs old messages). */
  async update(actor: Actor, tenantId: string, labelId: string, input: LabelFieldsInput, ctx: Ctx = {}): Promise<ManagedLabel> {
    const parsed = parseLabelFields(input);
    if (Object.keys(parsed).length === 0) throw errors.invalid('label_invalid', 'name at least one field to change', { field: 'body' });
    return this.db.transaction(async (tx) => {
      await this.lock(tx, tenantId);
      const before = await this.getIn(tx, tenantId, labelId);
      if (parsed.name !== undefined && parsed.name !== before.name) await this.checkNameFree(tx, tenantId, parsed.name, labelId);
      const changed: Record<string, unknown> = {};
      const sets: string[] = [];
      const params: unknown[] = [labelId];
      for (const key of Object.keys(COLUMN_OF) as Array<keyof LabelFields>) {
        const value = parsed[key];
        if (value === undefined || value === before[key]) continue;
        params.push(value);
        sets.push(`${COLUMN_OF[key]} = $${params.length}`);
        changed[key] = TEXT_FIELDS.has(key) ? true : { from: before[key], to: value };
      }
      if (parsed.isDefault === false && before.isDefault) {
        throw errors.conflict('default_label', `"${before.name}" is the default label; make another label the default instead`);
      }
      if (parsed.isDefault === true && !before.isDefault) {
        if (before.retiredAt) throw errors.conflict('label_retired', `"${before.name}" is retired; restore it before making it the default`);
        await tx.query(`UPDATE labels SET is_default = false WHERE tenant_id = $1 AND is_default`, [tenantId]);
        sets.push('is_default = true');
        changed.isDefault = { from: false, to: true };
      }
      if (sets.length === 0) return before;
      await tx.query(`UPDATE labels SET ${sets.join(', ')} WHERE id = $1`, params);
      await appendAuditEvent(tx, { tenantId, actor, action: 'label.updated', target: { type: 'label', id: labelId }, outcome: 'success', ...auditContext(ctx), details: { name: parsed.name ?? before.name, changed } });
      return this.getIn(tx, tenantId, labelId);
    });
  }

  /** Withdraws a label from senders; messages sent under it keep working. Idempotent. */
  async retire(actor: Actor, tenantId: string, labelId: string, ctx: Ctx = {}): Promise<ManagedLabel> {
    return this.db.transaction(async (tx) => {
      await this.lock(tx, tenantId);
      const label = await this.getIn(tx, tenantId, labelId);
      if (label.retiredAt) return label;
      await this.checkRemovable(tx, tenantId, label);
      await tx.query(`UPDATE labels SET archived_at = now() WHERE id = $1`, [labelId]);
      await appendAuditEvent(tx, { tenantId, actor, action: 'label.retired', target: { type: 'label', id: labelId }, outcome: 'success', ...auditContext(ctx), details: { name: label.name, messageCount: label.messageCount } });
      return this.getIn(tx, tenantId, labelId);
    });
  }

  /** Makes a retired label available to senders again. Idempotent. */
  async restore(actor: Actor, tenantId: string, labelId: string, ctx: Ctx = {}): Promise<ManagedLabel> {
    return this.db.transaction(async (tx) => {
      await this.lock(tx, tenantId);
      const label = await this.getIn(tx, tenantId, labelId);
      if (!label.retiredAt) return label;
      await tx.query(`UPDATE labels SET archived_at = NULL WHERE id = $1`, [labelId]);
      await appendAuditEvent(tx, { tenantId, actor, action: 'label.restored', target: { type: 'label', id: labelId }, outcome: 'success', ...auditContext(ctx), details: { name: label.name } });
      return this.getIn(tx, tenantId, labelId);
    });
  }

  /** Deletes a label no message was ever sent under; 'label_in_use' otherwise (retire it instead). */
  async delete(actor: Actor, tenantId: string, labelId: string, ctx: Ctx = {}): Promise<void> {
    await this.db.transaction(async (tx) => {
      await this.lock(tx, tenantId);
      const label = await this.getIn(tx, tenantId, labelId);
      if (label.messageCount > 0) {
        throw errors.conflict('label_in_use', `${label.messageCount} message${label.messageCount === 1 ? ' was' : 's were'} sent under "${label.name}"; retire it instead, so they keep working`);
      }
      if (!label.retiredAt) await this.checkRemovable(tx, tenantId, label);
      await tx.query(`DELETE FROM labels WHERE id = $1`, [labelId]);
      await appendAuditEvent(tx, { tenantId, actor, action: 'label.deleted', target: { type: 'label', id: labelId }, outcome: 'success', ...auditContext(ctx), details: { name: label.name } });
    });
  }

  /**
   * Replaces the active set with `inputs`, in one transaction. Matching names (ignoring case,
   * retired labels included) are updated to exactly the given policy and restored; new names
   * are created; active labels left out are deleted when unused and retired otherwise.
   */
  async replaceSet(actor: Actor, tenantId: string, inputs: LabelFieldsInput[], ctx: Ctx = {}): Promise<ReplacedLabels> {
    if (!Array.isArray(inputs) || inputs.length < 1 || inputs.length > MAX_LABELS) throw invalid('labels', `must list 1 to ${MAX_LABELS} labels`);
    const wanted = inputs.map((input, i) => {
      const p = parseLabelFields(input, `labels.${i}.`);
      if (p.name === undefined) throw invalid(`labels.${i}.name`, 'is required');
      if (p.rank === undefined) throw invalid(`labels.${i}.rank`, 'is required');
      return { fields: { ...POLICY_DEFAULTS, ...p, name: p.name, rank: p.rank } as LabelFields, isDefault: p.isDefault === true };
    });
    const seen = new Map<string, number>();
    wanted.forEach((w, i) => {
      const key = w.fields.name.toLowerCase();
      if (seen.has(key)) throw invalid(`labels.${i}.name`, `"${w.fields.name}" is listed twice (names are compared ignoring case)`);
      seen.set(key, i);
    });
    const defaults = wanted.filter((w) => w.isDefault).length;
    if (defaults !== 1) throw invalid('labels', `exactly one label must have isDefault: true (found ${defaults})`);

    return this.db.transaction(async (tx) => {
      await this.lock(tx, tenantId);
      const existing = await this.listIn(tx, tenantId);
      const byName = new Map(existing.map((l) => [l.name.toLowerCase(), l]));
      const result: Omit<ReplacedLabels, 'labels'> = { created: [], updated: [], retired: [], deleted: [] };
      // Cleared first: the one-default index is checked row by row, not at commit.
      await tx.query(`UPDATE labels SET is_default = false WHERE tenant_id = $1 AND is_default`, [tenantId]);
      for (const w of wanted) {
        const match = byName.get(w.fields.name.toLowerCase());
        if (match) {
          await tx.query(
            `UPDATE labels SET name = $2, rank = $3, description = $4, default_expiry_days = $5, auth_level = $6, no_forward = $7, no_download = $8, watermark = $9, hide_subject = $10, disclaimer = $11, is_default = $12, archived_at = NULL WHERE id = $1`,
            [match.id, ...fieldValues(w.fields), w.isDefault],
          );
          result.updated.push(w.fields.name);
        } else {
          await insertLabel(tx, tenantId, randomId(), w.fields, w.isDefault);
          result.created.push(w.fields.name);
        }
      }
      for (const old of existing) {
        if (old.retiredAt || seen.has(old.name.toLowerCase())) continue;
        if (old.messageCount > 0) {
          await tx.query(`UPDATE labels SET archived_at = now() WHERE id = $1`, [old.id]);
          result.retired.push(old.name);
        } else {
          await tx.query(`DELETE FROM labels WHERE id = $1`, [old.id]);
          result.deleted.push(old.name);
        }
      }
      await appendAuditEvent(tx, { tenantId, actor, action: 'labels.replaced', target: { type: 'tenant', id: tenantId }, outcome: 'success', ...auditContext(ctx), details: { ...result } });
      return { labels: await this.listIn(tx, tenantId), ...result };
    });
  }

  // Serialises changes to one tenant's set, so the last-label and one-default rules hold under
  // concurrent administrators; also gives a brand-new tenant its default set first.
  private async lock(tx: Sql, tenantId: string): Promise<void> {
    if (!isUuid(tenantId)) throw errors.notFound('tenant_not_found', 'no such organisation');
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('labels:' || $1::text))`, [tenantId]);
    await ensureDefaultLabels(tx, tenantId);
  }

  private async listIn(sql: Sql, tenantId: string): Promise<ManagedLabel[]> {
    const { rows } = await sql.query<ManagedRow>(`${SELECT_MANAGED} WHERE l.tenant_id = $1 ORDER BY l.archived_at IS NOT NULL, l.rank, l.name`, [tenantId]);
    return rows.map(toManaged);
  }

  private async getIn(sql: Sql, tenantId: string, labelId: string): Promise<ManagedLabel> {
    const { rows } = isUuid(labelId) ? await sql.query<ManagedRow>(`${SELECT_MANAGED} WHERE l.tenant_id = $1 AND l.id = $2`, [tenantId, labelId]) : { rows: [] };
    if (!rows[0]) throw errors.notFound('label_not_found', 'no such label in your organisation');
    return toManaged(rows[0]);
  }

  private async checkNameFree(sql: Sql, tenantId: string, name: string, exceptId: string | null): Promise<void> {
    const { rows } = await sql.query<{ name: string; archived_at: Date | null }>(
      `SELECT name, archived_at FROM labels WHERE tenant_id = $1 AND lower(name) = lower($2) AND ($3::uuid IS NULL OR id <> $3::uuid)`,
      [tenantId, name, exceptId],
    );
    const clash = rows[0];
    if (clash) throw errors.conflict('label_name_taken', `a label named "${clash.name}"${clash.archived_at ? ' (retired)' : ''} already exists; names are compared ignoring case`);
  }

  // What an active label must not be to leave the active set.
  private async checkRemovable(sql: Sql, tenantId: string, label: ManagedLabel): Promise<void> {
    if (label.isDefault) throw errors.conflict('default_label', `"${label.name}" is the default label; make another label the default first`);
    const { rows } = await sql.query<{ n: string }>(`SELECT count(*) AS n FROM labels WHERE tenant_id = $1 AND archived_at IS NULL`, [tenantId]);
    if (Number(rows[0]!.n) <= 1) throw errors.conflict('last_label', 'this is the only active label; an organisation always keeps at least one');
  }
}

function fieldValues(f: LabelFields): unknown[] {
  return [f.name, f.rank, f.description, f.defaultExpiryDays, f.authLevel, f.noForward, f.noDownload, f.watermark, f.hideSubject, f.disclaimer];
}

async function insertLabel(tx: Sql, tenantId: string, id: string, f: LabelFields, isDefault: boolean): Promise<void> {
  await tx.query(
    `INSERT INTO labels (id, tenant_id, name, rank, description, default_expiry_days, auth_level, no_forward, no_download, watermark, hide_subject, disclaimer, is_default)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [id, tenantId, ...fieldValues(f), isDefault],
  );
}
