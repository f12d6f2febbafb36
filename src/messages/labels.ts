// Classification labels: each tenant has an ordered set (default: public, internal,
// confidential, restricted; a tenant may replace them, e.g. with OFFICIAL / OFFICIAL-SENSITIVE),
// and each label bundles the policy a message sent under it gets.
import { randomId } from '../crypto/keys.ts';
import { errors } from '../shared/app-error.ts';
import type { Sql } from '../storage/database/database.ts';
import { prepared } from '../storage/database/prepared.ts';

/** How a recipient must prove who they are before keys are released. */
export const AUTH_LEVELS = ['email_code', 'account'] as const;
export type AuthLevel = (typeof AUTH_LEVELS)[number];

/** A label and the policy it implies. */
export interface Label {
  id: string;
  name: string;
  /** Higher is more sensitive; Prevent and the webmail-domain check compare ranks. */
  rank: number;
  description: string;
  /** Expiry applied when the sender sets none; null: no expiry. */
  defaultExpiryDays: number | null;
  authLevel: AuthLevel;
  /** Recipients cannot add anyone (no access requests from forwarded links are granted). */
  noForward: boolean;
  /** Attachments are viewable in the portal only (enforced by the official clients). */
  noDownload: boolean;
  watermark: boolean;
  /** The notification email does not show the subject. */
  hideSubject: boolean;
  /** Text the recipient must accept before opening; null: none. */
  disclaimer: string | null;
  /** The label a message gets when the sender names none (one active label per tenant). */
  isDefault: boolean;
}

type LabelInput = Omit<Label, 'id' | 'isDefault'>;

/** The default set every new tenant gets. */
export const DEFAULT_LABELS: LabelInput[] = [
  { name: 'public', rank: 0, description: 'May be shared with anyone.', defaultExpiryDays: null, authLevel: 'email_code', noForward: false, noDownload: false, watermark: false, hideSubject: false, disclaimer: null },
  { name: 'internal', rank: 1, description: 'For the organisation and the people it works with.', defaultExpiryDays: null, authLevel: 'email_code', noForward: false, noDownload: false, watermark: false, hideSubject: false, disclaimer: null },
  { name: 'confidential', rank: 2, description: 'Sensitive: the named recipients only; expires after 90 days.', defaultExpiryDays: 90, authLevel: 'email_code', noForward: true, noDownload: false, watermark: false, hideSubject: false, disclaimer: null },
  {
    name: 'restricted',
    rank: 3,
    description: 'Highly sensitive: named recipients only, view in the portal only, watermarked, subject hidden from the notification; expires after 30 days.',
    defaultExpiryDays: 30,
    authLevel: 'email_code',
    noForward: true,
    noDownload: true,
    watermark: true,
    hideSubject: true,
    disclaimer: 'This message contains restricted information. By opening it you confirm you are the intended recipient and will not share it.',
  },
];

/** The default label of a new tenant's set (administrators may choose another). */
export const DEFAULT_LABEL_NAME = 'internal';

/** A labels row as stored (also as `to_jsonb(labels)`: every field is JSON-safe). */
export interface LabelRow {
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
}

/** A tenant's active labels (prepared: every send reads them). */
const ACTIVE_LABELS_SQL = prepared(
  `SELECT id, name, rank, description, default_expiry_days, auth_level, no_forward, no_download, watermark, hide_subject, disclaimer, is_default
     FROM labels WHERE tenant_id = $1 AND archived_at IS NULL ORDER BY rank, name`,
);

export const toLabel = (r: LabelRow): Label => ({
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
});

/** Creates the default labels for a tenant that has never had any (idempotent, race-safe). */
export async function ensureDefaultLabels(sql: Sql, tenantId: string): Promise<void> {
  const { rows } = await sql.query(`SELECT 1 FROM labels WHERE tenant_id = $1 LIMIT 1`, [tenantId]);
  if (rows.length > 0) return;
  // One statement, so the set appears whole: a concurrent caller that saw one label and
  // returned early would otherwise list a partial set (and refuse a send as 'unknown_label').
  const columns = 13;
  await sql.query(
    `INSERT INTO labels (id, tenant_id, name, rank, description, default_expiry_days, auth_level, no_forward, no_download, watermark, hide_subject, disclaimer, is_default)
     VALUES ${DEFAULT_LABELS.map((_, i) => `(${Array.from({ length: columns }, (_, j) => `$${i * columns + j + 1}`).join(', ')})`).join(', ')}
     ON CONFLICT (tenant_id, name) DO NOTHING`,
    DEFAULT_LABELS.flatMap((l) => [randomId(), tenantId, l.name, l.rank, l.description, l.defaultExpiryDays, l.authLevel, l.noForward, l.noDownload, l.watermark, l.hideSubject, l.disclaimer, l.name === DEFAULT_LABEL_NAME]),
  );
}

/** A tenant's active labels, least sensitive first (creating the defaults on first use). */
export async function listLabels(sql: Sql, tenantId: string): Promise<Label[]> {
  const read = async () => (await sql.query<LabelRow>(ACTIVE_LABELS_SQL, [tenantId])).rows;
  let rows = await read();
  if (rows.length === 0) {
    // No active label: either a tenant that never had any (create the defaults) or one whose
    // labels are all archived (ensureDefaultLabels then leaves them so). One read per call in
    // the usual case, where the tenant has labels.
    await ensureDefaultLabels(sql, tenantId);
    rows = await read();
  }
  return rows.map(toLabel);
}

/** A tenant's active label by name; invalid 'unknown_label' listing the valid names otherwise. */
export async function findLabelByName(sql: Sql, tenantId: string, name: string): Promise<Label> {
  const labels = await listLabels(sql, tenantId);
  const label = labels.find((l) => l.name === name);
  if (!label) throw errors.invalid('unknown_label', `no label "${name}"; this organisation's labels are: ${labels.map((l) => l.name).join(', ')}`);
  return label;
}

/** The tenant's default label; invalid 'label_required' listing the valid names when it has none. */
export async function findDefaultLabel(sql: Sql, tenantId: string): Promise<Label> {
  const labels = await listLabels(sql, tenantId);
  const label = labels.find((l) => l.isDefault);
  if (!label) throw errors.invalid('label_required', `this organisation has no default label; name one of: ${labels.map((l) => l.name).join(', ')}`, { field: 'label' });
  return label;
}

/** A label by id (archived ones too: old messages keep their label). */
export async function getLabel(sql: Sql, tenantId: string, id: string): Promise<Label> {
  const { rows } = await sql.query<LabelRow>(`SELECT * FROM labels WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  if (!rows[0]) throw errors.notFound('label_not_found', 'no such label');
  return toLabel(rows[0]);
}
