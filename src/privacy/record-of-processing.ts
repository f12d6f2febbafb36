// The record of processing activities (GDPR Art. 30), generated — never hand-kept — from the
// processing register (purposes, sub-processors, controller details) joined with the category
// registry (which tables and columns hold which category, and their retention rules):
//   - Art. 30(1), controller record: CRM Information and System Data;
//   - Art. 30(2), processor record: Content and Smart Data held for customers (the tenants).
// Whatever an Art. 30 item needs and the data does not say is listed as a gap, never filled in.
import { csvRow } from './csv.ts';
import { escapeHtml, page, paragraphs } from './html.ts';
import {
  CATEGORY_LABELS,
  CATEGORY_ROLES,
  formatBases,
  formatCategories,
  type LawfulBasis,
  type Purpose,
  type RegisterSettings,
  type Subprocessor,
} from './register/purpose.model.ts';
import {
  allColumns,
  DATA_CATEGORIES,
  REGISTRY,
  RETENTION_RULES,
  type DataCategory,
  type PersonalData,
  type RetentionRule,
  type TableDeclaration,
} from '../storage/database/registry.ts';
import type { Region } from '../shared/regions.ts';

/** Which record an item belongs to. */
export type RopaRecord = 'controller' | 'processor';

/** An Art. 30 item with no data behind it. */
export interface RopaGap {
  record: RopaRecord;
  /** The Art. 30 item, e.g. "30(1)(d)". */
  item: string;
  /** What lacks it: "controller", "purpose:<key>", "subprocessor:<key>", "category:<c>". */
  subject: string;
  code: string;
  message: string;
}

/** A retention rule as it applies to some tables. */
export interface RopaRetention {
  rule: string;
  description: string;
  defaultPeriod: string | null;
  /** Where the rule comes from: the purpose's own choice, or the registry's declarations. */
  source: 'purpose' | 'registry';
  /** `table` or `table.column` declared with this rule (registry source only). */
  appliesTo: string[];
}

/** A recipient as listed in the record. */
export interface RopaRecipient {
  key: string;
  name: string;
  kind: string;
  location: string | null;
  transferSafeguards: string | null;
}

/** One processing activity (one purpose), limited to the categories of its record. */
export interface RopaActivity {
  key: string;
  group: string;
  name: string;
  reasons: string | null;
  basisIndividual: string;
  basisBusiness: string;
  categories: DataCategory[];
  dataSubjects: string[];
  /** Personal-data columns of these categories, `table.column`, from the registry. */
  personalData: string[];
  recipients: RopaRecipient[];
  retention: RopaRetention[];
  transfers: string | null;
  transferSafeguards: string | null;
  notes: string | null;
  gaps: RopaGap[];
}

/** What the registry says about one category. */
export interface RopaCategory {
  category: DataCategory;
  label: string;
  role: 'controller' | 'processor';
  tables: Array<{ table: string; description: string; columns: Array<{ column: string; personal: PersonalData; retention: RetentionRule; description: string }> }>;
  retention: RopaRetention[];
  /** Sub-processors and other recipients that receive this category (from the sub-processor register). */
  recipients: RopaRecipient[];
  /** Technical measures Sealpost itself applies to the category. */
  technicalMeasures: string[];
}

/** Contact details of the controller (and processor): the operator of the installation. */
export interface RopaParty {
  name: string | null;
  contact: string | null;
  dpo: string | null;
  representative: string | null;
}

/** One of the two records. */
export interface RopaSection {
  record: RopaRecord;
  article: string;
  categories: DataCategory[];
  party: RopaParty;
  /** Processor record only: the customers (tenants) on whose behalf Sealpost processes. */
  controllers?: Array<{ id: string; name: string; region: string }>;
  activities: RopaActivity[];
  categoryDetails: RopaCategory[];
  transfers: { statement: string | null; recipientsOutsideUkEea: RopaRecipient[] };
  securityMeasures: { technical: string[]; organisational: string | null };
  gaps: RopaGap[];
}

/** The whole record of processing. */
export interface RecordOfProcessing {
  generatedAt: string;
  controllerRecord: RopaSection;
  processorRecord: RopaSection;
  /** Every gap of both records. */
  gaps: RopaGap[];
}

/** What the record is generated from. */
export interface RopaInput {
  purposes: Purpose[];
  subprocessors: Subprocessor[];
  settings: RegisterSettings;
  /** Tenants (customers), for the processor record. */
  controllers: Array<{ id: string; name: string; region: string }>;
  registry?: Record<string, TableDeclaration>;
  now: Date;
}

// What the code does for each category (true of this version; see the linked docs). Listed
// in the record as the technical measures of Art. 30(1)(g) / 30(2)(d).
const TECHNICAL_MEASURES: Record<DataCategory, string[]> = {
  content: [
    "Encrypted before it is stored: each object is sealed with its own data key (AES-256-GCM, docs/format.md), wrapped by the tenant's key-encryption key; blob stores and hosts hold ciphertext only.",
    "Pinned to the tenant's region; the key-encryption keys are wrapped by a root key held by the key provider.",
    'Destroying the data key crypto-shreds the object (sealed_objects.wrapped_key set to NULL).',
    "Access decided per recipient by the message's label (expiry, authentication, no-forward, no-download); every key release is audited.",
  ],
  smart: [
    "Kept per tenant and read only for that tenant's model (no cross-tenant insights).",
    "Subject words stored only as keyed hashes (HMAC under a per-tenant key wrapped by the tenant's key-encryption key); no message bodies.",
  ],
  crm: [
    'Access by role (administrator, author, auditor, read_only); passwords stored only as Argon2id hashes.',
    'Administrative changes recorded on the append-only, hash-chained audit log (docs/database.md).',
  ],
  system: [
    'Session, API and sign-in-link tokens stored only as SHA-256 hashes; rate-limit keys hashed; ended credentials purged hourly.',
    'Append-only audit log with one hash chain per tenant, verifiable and anchorable (docs/database.md).',
  ],
};

const UK_EEA: ReadonlySet<Region> = new Set(['uk', 'eea']);

const RECORDS: Record<RopaRecord, { article: string; categories: DataCategory[]; items: Record<'party' | 'purposes' | 'categories' | 'recipients' | 'transfers' | 'retention' | 'measures', string> }> = {
  controller: {
    article: 'GDPR Art. 30(1): record of processing activities of the controller',
    categories: DATA_CATEGORIES.filter((c) => CATEGORY_ROLES[c] === 'controller'),
    items: { party: '30(1)(a)', purposes: '30(1)(b)', categories: '30(1)(c)', recipients: '30(1)(d)', transfers: '30(1)(e)', retention: '30(1)(f)', measures: '30(1)(g)' },
  },
  processor: {
    article: 'GDPR Art. 30(2): record of categories of processing activities carried out on behalf of controllers',
    categories: DATA_CATEGORIES.filter((c) => CATEGORY_ROLES[c] === 'processor'),
    items: { party: '30(2)(a)', purposes: '30(2)(b)', categories: '30(2)(b)', recipients: '30(2)(b)', transfers: '30(2)(c)', retention: '30(2)(b)', measures: '30(2)(d)' },
  },
};

function toRecipient(s: Subprocessor): RopaRecipient {
  return { key: s.key, name: s.name, kind: s.kind, location: s.location, transferSafeguards: s.transferSafeguards };
}

/** True when the sub-processor is in use at `now` (engaged and not yet removed). */
export function isActiveSubprocessor(s: Subprocessor, now: Date): boolean {
  return (s.effectiveFrom === null || s.effectiveFrom.getTime() <= now.getTime()) && (s.endsAt === null || s.endsAt.getTime() > now.getTime());
}

/** Outside the UK and EEA, or somewhere the register does not pin down. */
function mayTransferOutside(s: Subprocessor): boolean {
  return s.regions.length === 0 || s.regions.some((r) => !UK_EEA.has(r));
}

/** The retention rules the registry declares for a category, with the tables/columns using each. */
function registryRetention(category: DataCategory, registry: Record<string, TableDeclaration>): RopaRetention[] {
  const byRule = new Map<string, string[]>();
  for (const c of allColumns(registry)) {
    if (c.category !== category) continue;
    const where = c.retention === registry[c.table]!.retention ? c.table : `${c.table}.${c.column}`;
    const list = byRule.get(c.retention) ?? [];
    if (!list.includes(where)) list.push(where);
    byRule.set(c.retention, list);
  }
  return [...byRule].map(([rule, appliesTo]) => ({ rule, ...ruleText(rule), source: 'registry' as const, appliesTo }));
}

function ruleText(rule: string): { description: string; defaultPeriod: string | null } {
  const r = (RETENTION_RULES as Record<string, { description: string; defaultPeriod: string | null }>)[rule];
  return r ? { description: r.description, defaultPeriod: r.defaultPeriod } : { description: `unknown rule ${rule}`, defaultPeriod: null };
}

function categoryDetails(category: DataCategory, registry: Record<string, TableDeclaration>, recipients: RopaRecipient[]): RopaCategory {
  const tables: RopaCategory['tables'] = [];
  for (const [table, t] of Object.entries(registry)) {
    const columns = Object.entries(t.columns)
      .filter(([, c]) => c.category === category)
      .map(([column, c]) => ({ column, personal: c.personal, retention: c.retention ?? t.retention, description: c.description }));
    if (columns.length > 0) tables.push({ table, description: t.description, columns });
  }
  return {
    category,
    label: CATEGORY_LABELS[category],
    role: CATEGORY_ROLES[category],
    tables,
    retention: registryRetention(category, registry),
    recipients,
    technicalMeasures: TECHNICAL_MEASURES[category],
  };
}

const basisGap = (bases: LawfulBasis[]) => bases.length === 0;

/** Builds the record from the register and the registry. Pure: the caller loads the data. */
export function buildRecordOfProcessing(input: RopaInput): RecordOfProcessing {
  const registry = input.registry ?? REGISTRY;
  const active = input.subprocessors.filter((s) => isActiveSubprocessor(s, input.now));
  const byKey = new Map(input.subprocessors.map((s) => [s.key, s]));
  const purposes = input.purposes.filter((p) => p.retiredAt === null);
  const party: RopaParty = {
    name: input.settings.controllerName,
    contact: input.settings.controllerContact,
    dpo: input.settings.dpoContact,
    representative: input.settings.representative,
  };

  const section = (record: RopaRecord): RopaSection => {
    const spec = RECORDS[record];
    const gaps: RopaGap[] = [];
    const gap = (item: keyof typeof spec.items, subject: string, code: string, message: string) => gaps.push({ record, item: spec.items[item], subject, code, message });

    if (!party.name) gap('party', 'controller', 'controller_name_missing', `no ${record === 'controller' ? 'controller' : 'processor'} name is set (sealpost privacy settings --controller-name)`);
    if (!party.contact) gap('party', 'controller', 'controller_contact_missing', 'no contact details are set (sealpost privacy settings --controller-contact)');
    if (record === 'controller' && !party.dpo) gap('party', 'controller', 'dpo_contact_missing', 'no data protection officer contact is set (sealpost privacy settings --dpo-contact); record that none is designated if so');
    if (record === 'processor' && input.controllers.length === 0) gap('party', 'controllers', 'no_controllers', 'no customer (tenant) exists yet on whose behalf Content or Smart Data is processed');

    const categoryRecipients = (c: DataCategory) => active.filter((s) => s.categories.includes(c)).map(toRecipient);
    const details = spec.categories.map((c) => categoryDetails(c, registry, categoryRecipients(c)));
    for (const d of details) {
      if (d.tables.length === 0) gap('categories', `category:${d.category}`, 'category_not_in_registry', `no table or column of ${d.label} is declared in the registry, so what is held cannot be described`);
      if (d.retention.length === 0) gap('retention', `category:${d.category}`, 'retention_missing', `no retention rule applies to ${d.label}: nothing in the registry says how long it is kept`);
    }

    // The controller record also holds purposes whose categories are not stated (they are the
    // controller's to state); the processor record holds those that touch Content or Smart Data.
    const inRecord = (p: Purpose) =>
      p.categories.some((c) => spec.categories.includes(c)) || (record === 'controller' && p.categories.length === 0);
    const activities = purposes.filter(inRecord).map((p): RopaActivity => {
      const before = gaps.length;
      const subject = `purpose:${p.key}`;
      const categories = p.categories.filter((c) => spec.categories.includes(c));
      if (p.categories.length === 0) gap('categories', subject, 'data_categories_missing', `“${p.name}”: the information types are not stated`);
      if (p.dataSubjects.length === 0) gap('categories', subject, 'data_subjects_missing', `“${p.name}”: the categories of data subjects are not stated`);
      if (basisGap(p.basisIndividual)) gap('purposes', subject, 'lawful_basis_individual_missing', `“${p.name}”: no lawful basis is stated where the data subject is an individual`);
      if (basisGap(p.basisBusiness)) gap('purposes', subject, 'lawful_basis_business_missing', `“${p.name}”: no lawful basis is stated where the data subject is a business`);
      const recipients = p.recipients.map((k) => byKey.get(k)).filter((s): s is Subprocessor => s !== undefined).map(toRecipient);
      if (recipients.length === 0) gap('recipients', subject, 'recipients_not_linked', `“${p.name}”: no recipients are linked to this purpose (sealpost privacy purpose update ${p.key} --recipients …), see the sub-processor register for who receives each category`);
      if (p.transfers && !p.transferSafeguards) gap('transfers', subject, 'transfer_safeguard_missing', `“${p.name}”: a transfer is stated (“${p.transfers.slice(0, 80)}…”) but no safeguard is documented`);
      let retention: RopaRetention[];
      if (p.retentionRules) {
        retention = p.retentionRules.map((rule) => ({ rule, ...ruleText(rule), source: 'purpose' as const, appliesTo: [] }));
      } else {
        retention = [];
        for (const c of categories) for (const r of registryRetention(c, registry)) if (!retention.some((x) => x.rule === r.rule)) retention.push(r);
        if (categories.length > 0 && retention.length === 0) gap('retention', subject, 'retention_missing', `“${p.name}”: no retention rule applies to its categories`);
      }
      const personalData = allColumns(registry)
        .filter((c) => categories.includes(c.category) && c.personal !== 'none')
        .map((c) => `${c.table}.${c.column}`);
      return {
        key: p.key,
        group: p.groupTitle,
        name: p.name,
        reasons: p.reasons,
        basisIndividual: formatBases(p.basisIndividual),
        basisBusiness: formatBases(p.basisBusiness),
        categories,
        dataSubjects: p.dataSubjects,
        personalData,
        recipients,
        retention,
        transfers: p.transfers,
        transferSafeguards: p.transferSafeguards,
        notes: p.notes,
        gaps: gaps.slice(before),
      };
    });

    const outside = active.filter((s) => s.categories.some((c) => spec.categories.includes(c)) && mayTransferOutside(s));
    for (const s of outside) {
      if (!s.transferSafeguards) {
        gap(
          'transfers',
          `subprocessor:${s.key}`,
          'transfer_safeguard_missing',
          `${s.name} (${s.location ?? 'location not stated'}) may receive ${formatCategories(s.categories.filter((c) => spec.categories.includes(c)))} outside the UK/EEA and no safeguard is documented (sealpost privacy subprocessor update ${s.key} --transfer-safeguards …)`,
        );
      }
    }
    if (!input.settings.organisationalMeasures) gap('measures', 'controller', 'organisational_measures_missing', 'no organisational security measures are described (sealpost privacy settings --organisational-measures)');

    return {
      record,
      article: spec.article,
      categories: spec.categories,
      party,
      ...(record === 'processor' ? { controllers: input.controllers } : {}),
      activities,
      categoryDetails: details,
      transfers: { statement: input.settings.transferStatement, recipientsOutsideUkEea: outside.map(toRecipient) },
      securityMeasures: { technical: spec.categories.flatMap((c) => TECHNICAL_MEASURES[c].map((m) => `${CATEGORY_LABELS[c]}: ${m}`)), organisational: input.settings.organisationalMeasures },
      gaps,
    };
  };

  const controllerRecord = section('controller');
  const processorRecord = section('processor');
  return { generatedAt: input.now.toISOString(), controllerRecord, processorRecord, gaps: [...controllerRecord.gaps, ...processorRecord.gaps] };
}

/** Columns of the CSV form. */
export const ROPA_CSV_COLUMNS = [
  'record',
  'article_item',
  'row_type',
  'key',
  'group',
  'name',
  'reasons',
  'lawful_basis_individual',
  'lawful_basis_business',
  'data_categories',
  'data_subjects',
  'personal_data',
  'recipients',
  'retention',
  'transfers',
  'transfer_safeguards',
  'gaps',
] as const;

const retentionText = (r: RopaRetention[]) => r.map((x) => `${x.rule}${x.defaultPeriod ? ` (${x.defaultPeriod})` : ''}: ${x.description}`).join(' | ');
const recipientsText = (r: RopaRecipient[]) => r.map((x) => `${x.name}${x.location ? ` [${x.location}]` : ''}`).join('; ');
const gapsText = (g: RopaGap[]) => g.map((x) => `${x.item} ${x.code}: ${x.message}`).join(' | ');

/** The record as CSV: a header, one row per activity, per category, and per record-level gap. */
export function recordToCsv(ropa: RecordOfProcessing): string {
  let out = csvRow([...ROPA_CSV_COLUMNS]);
  for (const s of [ropa.controllerRecord, ropa.processorRecord]) {
    for (const a of s.activities) {
      out += csvRow([
        s.record, s.record === 'controller' ? '30(1)(b)' : '30(2)(b)', 'activity', a.key, a.group, a.name, a.reasons, a.basisIndividual, a.basisBusiness,
        formatCategories(a.categories), a.dataSubjects.join('; '), a.personalData.join(' '), recipientsText(a.recipients), retentionText(a.retention),
        a.transfers, a.transferSafeguards, gapsText(a.gaps),
      ]);
    }
    for (const c of s.categoryDetails) {
      const personal = c.tables.flatMap((t) => t.columns.filter((x) => x.personal !== 'none').map((x) => `${t.table}.${x.column}`));
      out += csvRow([
        s.record, s.record === 'controller' ? '30(1)(c)' : '30(2)(b)', 'category', `category:${c.category}`, c.role, c.label, c.technicalMeasures.join(' '), null, null,
        c.label, null, personal.join(' '), recipientsText(c.recipients), retentionText(c.retention), null, null,
        gapsText(s.gaps.filter((g) => g.subject === `category:${c.category}`)),
      ]);
    }
    for (const g of s.gaps.filter((x) => !x.subject.startsWith('purpose:') && !x.subject.startsWith('category:'))) {
      out += csvRow([s.record, g.item, 'gap', g.subject, null, g.code, g.message, null, null, null, null, null, null, null, null, null, `${g.item} ${g.code}`]);
    }
  }
  return out;
}

/** The record as one readable HTML page. */
export function recordToHtml(ropa: RecordOfProcessing): string {
  const party = (p: RopaParty, role: string) =>
    `<table><tbody>
<tr><th>${escapeHtml(role)}</th><td>${p.name ? escapeHtml(p.name) : '<span class="gap">not set</span>'}</td></tr>
<tr><th>Contact</th><td>${p.contact ? escapeHtml(p.contact) : '<span class="gap">not set</span>'}</td></tr>
<tr><th>Data protection officer</th><td>${p.dpo ? escapeHtml(p.dpo) : '<span class="gap">not set</span>'}</td></tr>
<tr><th>Representative</th><td>${p.representative ? escapeHtml(p.representative) : '<span class="muted">none recorded</span>'}</td></tr>
</tbody></table>`;
  const gapList = (gaps: RopaGap[]) =>
    gaps.length === 0 ? '' : `<ul>${gaps.map((g) => `<li class="gap">${escapeHtml(g.item)} — ${escapeHtml(g.message)} <code>${escapeHtml(g.code)}</code></li>`).join('')}</ul>`;
  const activity = (a: RopaActivity) => `<tr id="${escapeHtml(a.key)}">
<td><strong>${escapeHtml(a.name)}</strong><br><span class="muted">${escapeHtml(a.group)} · <code>${escapeHtml(a.key)}</code></span>${paragraphs(a.reasons)}${a.notes ? `<p class="muted">${escapeHtml(a.notes)}</p>` : ''}</td>
<td>Individual: ${escapeHtml(a.basisIndividual) || '<span class="gap">not stated</span>'}<br>Business: ${escapeHtml(a.basisBusiness) || '<span class="gap">not stated</span>'}</td>
<td>${escapeHtml(formatCategories(a.categories)) || '<span class="gap">not stated</span>'}<br><span class="muted">${escapeHtml(a.dataSubjects.join('; '))}</span></td>
<td>${a.recipients.length ? escapeHtml(recipientsText(a.recipients)) : '<span class="gap">not linked</span>'}</td>
<td>${a.retention.map((r) => `<code>${escapeHtml(r.rule)}</code>${r.defaultPeriod ? ` ${escapeHtml(r.defaultPeriod)}` : ''}`).join('<br>')}</td>
<td>${escapeHtml(a.transfers ?? '')}${a.transfers ? `<br>Safeguards: ${a.transferSafeguards ? escapeHtml(a.transferSafeguards) : '<span class="gap">not documented</span>'}` : ''}</td>
</tr>`;
  const category = (c: RopaCategory) => `<h3>${escapeHtml(c.label)} (${escapeHtml(c.role)})</h3>
<table><thead><tr><th>Table</th><th>Personal-data columns</th><th>Retention</th></tr></thead><tbody>
${c.tables
  .map(
    (t) =>
      `<tr><td><code>${escapeHtml(t.table)}</code><br><span class="muted">${escapeHtml(t.description)}</span></td><td>${escapeHtml(
        t.columns.filter((x) => x.personal !== 'none').map((x) => `${x.column} (${x.personal})`).join(', ') || '—',
      )}</td><td>${escapeHtml([...new Set(t.columns.map((x) => x.retention))].join(', '))}</td></tr>`,
  )
  .join('\n')}
</tbody></table>
<p><strong>Retention rules:</strong></p><ul>${c.retention.map((r) => `<li><code>${escapeHtml(r.rule)}</code>${r.defaultPeriod ? ` (${escapeHtml(r.defaultPeriod)})` : ''}: ${escapeHtml(r.description)}</li>`).join('')}</ul>
<p><strong>Recipients (sub-processor register):</strong> ${escapeHtml(recipientsText(c.recipients)) || '<span class="muted">none</span>'}</p>
<p><strong>Technical measures:</strong></p><ul>${c.technicalMeasures.map((m) => `<li>${escapeHtml(m)}</li>`).join('')}</ul>`;
  const section = (s: RopaSection) => `<section id="${s.record}">
<h2>${escapeHtml(s.article)}</h2>
<p>Categories: ${escapeHtml(formatCategories(s.categories))}.</p>
${party(s.party, s.record === 'controller' ? 'Controller' : 'Processor')}
${s.controllers ? `<h3>Controllers on whose behalf we process (${s.controllers.length})</h3><ul>${s.controllers.map((c) => `<li>${escapeHtml(c.name)} <span class="muted">(${escapeHtml(c.region)}, <code>${escapeHtml(c.id)}</code>)</span></li>`).join('')}</ul>` : ''}
<h3>Gaps (${s.gaps.length})</h3>${gapList(s.gaps) || '<p>None.</p>'}
<h3>Processing activities (${s.activities.length})</h3>
<table><thead><tr><th>Purpose</th><th>Lawful basis</th><th>Data and subjects</th><th>Recipients</th><th>Retention</th><th>Transfers</th></tr></thead><tbody>
${s.activities.map(activity).join('\n')}
</tbody></table>
<h3>Transfers outside the UK/EEA</h3>${paragraphs(s.transfers.statement)}
<ul>${s.transfers.recipientsOutsideUkEea.map((r) => `<li>${escapeHtml(r.name)} — ${escapeHtml(r.location ?? 'location not stated')}; safeguards: ${r.transferSafeguards ? escapeHtml(r.transferSafeguards) : '<span class="gap">not documented</span>'}</li>`).join('')}</ul>
<h3>Data categories (from the registry)</h3>
${s.categoryDetails.map(category).join('\n')}
<h3>Security measures</h3><ul>${s.securityMeasures.technical.map((m) => `<li>${escapeHtml(m)}</li>`).join('')}</ul>
<p>Organisational: ${s.securityMeasures.organisational ? escapeHtml(s.securityMeasures.organisational) : '<span class="gap">not described</span>'}</p>
</section>`;
  return page(
    'Record of processing activities',
    `<h1>Record of processing activities</h1>
<p class="muted">Generated ${escapeHtml(ropa.generatedAt)} from the processing register and the data-category registry. ${ropa.gaps.length} gap(s) flagged: items GDPR Art. 30 asks for that the register does not yet state.</p>
${section(ropa.controllerRecord)}
${section(ropa.processorRecord)}`,
  );
}
