import { describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/database.ts';
import { buildTenant } from '../../test/support/factories.ts';
import { allColumns, DATA_CATEGORIES, REGISTRY, type TableDeclaration } from '../storage/database/registry.ts';
import { parseCsv } from './csv.ts';
import { createPrivacy } from './privacy.ts';
import { buildRecordOfProcessing, recordToCsv, recordToHtml, ROPA_CSV_COLUMNS, type RopaInput } from './record-of-processing.ts';
import type { Purpose, RegisterSettings, Subprocessor } from './register/purpose.model.ts';
import { SEED_GROUPS, SEED_SUBPROCESSORS, seedDataSubjects } from './register/register.seed.ts';

const T0 = new Date('2026-12-01T00:00:00Z');

/** The seed as the repository would return it after seeding, without a database. */
function seededPurposes(): Purpose[] {
  let position = 0;
  return SEED_GROUPS.flatMap((g) =>
    g.purposes.map((p) => ({
      id: p.key,
      key: p.key,
      groupKey: g.key,
      groupTitle: g.title,
      position: (position += 10),
      name: p.name,
      reasons: p.reasons,
      basisIndividual: p.basisIndividual,
      basisBusiness: p.basisBusiness,
      categories: p.categories,
      dataSubjects: seedDataSubjects(p),
      recipients: [],
      retentionRules: null,
      transfers: p.transfers ?? null,
      transferSafeguards: null,
      notes: p.notes ?? null,
      source: 'seed' as const,
      retiredAt: null,
      createdAt: T0,
      updatedAt: T0,
      editedAt: null,
    })),
  );
}

function seededSubprocessors(): Subprocessor[] {
  return SEED_SUBPROCESSORS.map((s, i) => ({
    id: s.key,
    key: s.key,
    kind: s.kind,
    position: i * 10,
    name: s.name,
    purpose: s.purpose,
    basisIndividual: s.basisIndividual,
    basisBusiness: s.basisBusiness,
    categories: s.categories,
    categoriesNote: s.categoriesNote ?? null,
    location: s.location,
    regions: s.regions,
    transferSafeguards: null,
    source: 'seed' as const,
    effectiveFrom: null,
    endsAt: null,
    createdAt: T0,
    updatedAt: T0,
    editedAt: null,
  }));
}

const NO_SETTINGS: RegisterSettings = { controllerName: null, controllerContact: null, dpoContact: null, representative: null, organisationalMeasures: null, transferStatement: null, updatedAt: null, updatedBy: null };

const input = (over: Partial<RopaInput> = {}): RopaInput => ({
  purposes: seededPurposes(),
  subprocessors: seededSubprocessors(),
  settings: NO_SETTINGS,
  controllers: [{ id: '00000000-0000-4000-8000-000000000001', name: 'Acme Health', region: 'uk' }],
  now: T0,
  ...over,
});

describe('buildRecordOfProcessing', () => {
  it('does file CRM and System Data under Art. 30(1) and Content and Smart Data under Art. 30(2)', () => {
    const ropa = buildRecordOfProcessing(input());
    expect(ropa.controllerRecord.categories).toEqual(['crm', 'system']);
    expect(ropa.processorRecord.categories).toEqual(['content', 'smart']);
    expect(ropa.processorRecord.controllers).toEqual([{ id: '00000000-0000-4000-8000-000000000001', name: 'Acme Health', region: 'uk' }]);
    // A purpose touching all four categories appears in both, each time limited to that record's categories.
    const c = ropa.controllerRecord.activities.find((a) => a.key === 'delivery_of_requested_services.service_access_and_support')!;
    const p = ropa.processorRecord.activities.find((a) => a.key === 'delivery_of_requested_services.service_access_and_support')!;
    expect(c.categories).toEqual(['crm', 'system']);
    expect(p.categories).toEqual(['content', 'smart']);
    expect(c.basisIndividual).toBe('Performance of contract');
    expect(c.basisBusiness).toBe('Legitimate interests');
    // CRM-only purposes stay out of the processor record.
    expect(ropa.processorRecord.activities.some((a) => a.key === 'contractual_obligations_and_rights.recover_money_owed')).toBe(false);
  });

  it('does cover every category and every column of the registry, with its retention rules', () => {
    const ropa = buildRecordOfProcessing(input());
    const details = [...ropa.controllerRecord.categoryDetails, ...ropa.processorRecord.categoryDetails];
    expect(details.map((d) => d.category).sort()).toEqual([...DATA_CATEGORIES].sort());
    const listed = new Set(details.flatMap((d) => d.tables.flatMap((t) => t.columns.map((c) => `${t.table}.${c.column}:${d.category}:${c.retention}`))));
    for (const c of allColumns()) expect(listed, `${c.table}.${c.column}`).toContain(`${c.table}.${c.column}:${c.category}:${c.retention}`);
    for (const d of details) expect(d.retention.length, d.category).toBeGreaterThan(0);
    // Retention of an activity comes from the registry's rules for its categories.
    const smart = ropa.processorRecord.activities.find((a) => a.key === 'legal_and_regulatory_risk.detect_and_prevent_crime')!;
    expect(smart.retention.map((r) => r.rule)).toContain('smart_rolling_12m');
    expect(smart.personalData).toContain('prevent_observations.sender');
    expect(ropa.gaps.filter((g) => g.code === 'retention_missing' || g.code === 'category_not_in_registry')).toEqual([]);
  });

  it('does flag what the register does not state instead of inventing it', () => {
    const ropa = buildRecordOfProcessing(input());
    const codes = (subject: string) => ropa.gaps.filter((g) => g.subject === subject).map((g) => g.code);
    // No controller details yet.
    expect(codes('controller')).toEqual(expect.arrayContaining(['controller_name_missing', 'controller_contact_missing', 'dpo_contact_missing', 'organisational_measures_missing']));
    // The trailing marketing paragraph of the seed states neither a business basis nor information types.
    expect(codes('purpose:marketing_and_promotion.products_and_services_information')).toEqual(
      expect.arrayContaining(['data_categories_missing', 'lawful_basis_business_missing', 'recipients_not_linked']),
    );
    // Follow-the-sun support is a stated transfer without a stated safeguard.
    expect(codes('purpose:delivery_of_requested_services.complaints_and_support_tickets')).toContain('transfer_safeguard_missing');
    // Zoom (United States) and Twilio receive CRM Information outside the UK/EEA without a safeguard on record.
    expect(ropa.controllerRecord.gaps.find((g) => g.subject === 'subprocessor:zoom')).toMatchObject({ item: '30(1)(e)', code: 'transfer_safeguard_missing' });
    expect(ropa.processorRecord.gaps.find((g) => g.subject === 'subprocessor:host_providers')).toMatchObject({ item: '30(2)(c)' });
    // "N/A" is a statement, not a gap.
    expect(codes('purpose:marketing_and_promotion.competitions_and_promotions')).not.toContain('lawful_basis_business_missing');
    // Every gap names its record, item and subject.
    for (const g of ropa.gaps) expect(g).toMatchObject({ record: expect.stringMatching(/^(controller|processor)$/), item: expect.stringMatching(/^30\([12]\)\([a-g]\)$/), subject: expect.any(String), message: expect.any(String) });
  });

  it('does close gaps once the operator states the missing items', () => {
    const purposes = seededPurposes().map((p) => (p.key === 'delivery_of_requested_services.complaints_and_support_tickets' ? { ...p, recipients: ['zendesk'], transferSafeguards: 'UK IDTA and EU SCCs with the support provider' } : p));
    const subprocessors = seededSubprocessors().map((s) => (s.key === 'zoom' ? { ...s, transferSafeguards: 'EU SCCs (2021/914), module 3' } : s));
    const settings = { ...NO_SETTINGS, controllerName: 'Example Ltd', controllerContact: 'privacy@example.org', dpoContact: 'dpo@example.org', organisationalMeasures: 'Staff training; access reviews.' };
    const ropa = buildRecordOfProcessing(input({ purposes, subprocessors, settings }));
    expect(ropa.gaps.filter((g) => g.subject === 'controller')).toEqual([]);
    expect(ropa.gaps.filter((g) => g.subject === 'purpose:delivery_of_requested_services.complaints_and_support_tickets')).toEqual([]);
    expect(ropa.gaps.filter((g) => g.subject === 'subprocessor:zoom')).toEqual([]);
    const a = ropa.controllerRecord.activities.find((x) => x.key === 'delivery_of_requested_services.complaints_and_support_tickets')!;
    expect(a.recipients.map((r) => r.name)).toEqual(['Zendesk, Inc.']);
  });

  it('does flag a category the registry does not describe, and one with no retention', () => {
    // A schema with no Smart Data at all, and Content whose only table names no rule known to the record.
    const registry: Record<string, TableDeclaration> = {
      accounts: { category: 'crm', retention: 'crm_account_lifetime', description: 'a', columns: { email: { category: 'crm', personal: 'identifier', description: 'e' } } },
      logs: { category: 'system', retention: 'system_logs_13m', description: 'l', columns: { ip: { category: 'system', personal: 'identifier', description: 'i' } } },
      bodies: { category: 'content', retention: 'content_policy', description: 'b', columns: { body: { category: 'content', personal: 'personal', description: 'b' } } },
    };
    const ropa = buildRecordOfProcessing(input({ registry }));
    expect(ropa.processorRecord.gaps.filter((g) => g.subject === 'category:smart').map((g) => g.code).sort()).toEqual(['category_not_in_registry', 'retention_missing']);
    expect(ropa.processorRecord.gaps.find((g) => g.subject === 'category:smart')!.item).toBe('30(2)(b)');
    expect(ropa.processorRecord.gaps.some((g) => g.subject === 'category:content')).toBe(false);
    // A Smart-Data-only purpose's retention is then a gap too.
    expect(ropa.processorRecord.gaps.some((g) => g.subject === 'purpose:legal_and_regulatory_risk.detect_and_prevent_crime' && g.code === 'retention_missing')).toBe(true);
  });

  it('does leave retired purposes and removed or not-yet-engaged sub-processors out', () => {
    const purposes = seededPurposes().map((p) => (p.key === 'contractual_obligations_and_rights.payments' ? { ...p, retiredAt: T0 } : p));
    const subprocessors = seededSubprocessors().map((s) =>
      s.key === 'zoom' ? { ...s, endsAt: T0 } : s.key === 'twilio' ? { ...s, effectiveFrom: new Date(T0.getTime() + 86_400_000) } : s,
    );
    const ropa = buildRecordOfProcessing(input({ purposes, subprocessors }));
    expect(ropa.controllerRecord.activities.some((a) => a.key === 'contractual_obligations_and_rights.payments')).toBe(false);
    const crmRecipients = ropa.controllerRecord.categoryDetails.find((d) => d.category === 'crm')!.recipients.map((r) => r.key);
    expect(crmRecipients).not.toContain('zoom');
    expect(crmRecipients).not.toContain('twilio');
    expect(crmRecipients).toContain('zendesk');
  });
});

describe('recordToCsv', () => {
  it('does write well-formed RFC 4180 rows that survive commas, quotes, newlines and formulas', () => {
    const purposes = seededPurposes();
    purposes[0] = { ...purposes[0]!, name: 'Say "hello", then\r\nleave', reasons: '=HYPERLINK("http://evil.example")' };
    const csv = recordToCsv(buildRecordOfProcessing(input({ purposes })));
    expect(csv.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(csv);
    expect(rows[0]).toEqual([...ROPA_CSV_COLUMNS]);
    for (const r of rows) expect(r.length, r.join('|').slice(0, 80)).toBe(ROPA_CSV_COLUMNS.length);
    const row = rows.find((r) => r[3] === purposes[0]!.key)!;
    expect(row[5]).toBe('Say "hello", then\r\nleave');
    // A formula is neutralised with a leading quote (spreadsheets would run it otherwise).
    expect(row[6]).toBe(`'=HYPERLINK("http://evil.example")`);
    // Activities of both records, a row per category and the record-level gaps.
    expect(rows.filter((r) => r[2] === 'activity' && r[0] === 'controller').length).toBeGreaterThan(20);
    expect(rows.filter((r) => r[2] === 'category').map((r) => r[3]).sort()).toEqual(['category:content', 'category:crm', 'category:smart', 'category:system']);
    expect(rows.some((r) => r[2] === 'gap' && r[5] === 'controller_name_missing')).toBe(true);
  });
});

describe('recordToHtml', () => {
  it('does render both records with gaps marked and every value escaped', () => {
    const purposes = seededPurposes();
    purposes[0] = { ...purposes[0]!, name: '<script>alert(1)</script>' };
    const html = recordToHtml(buildRecordOfProcessing(input({ purposes })));
    expect(html).toContain('GDPR Art. 30(1)');
    expect(html).toContain('GDPR Art. 30(2)');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>');
    expect(html).toContain('class="gap"');
    expect(html).toContain('Acme Health');
  });
});

describeEachDatabase('the record of processing from the database', (ctx) => {
  it('does join the seeded register with the registry and list customers as controllers', async () => {
    const db = await ctx.createDatabase();
    const privacy = createPrivacy({ db, now: () => T0 });
    await privacy.seed();
    const a = await buildTenant(db, { name: 'Alpha Clinic' });
    const b = await buildTenant(db, { name: 'Beta Law' });
    const ropa = await privacy.recordOfProcessing();
    expect(ropa.processorRecord.controllers!.map((c) => c.name)).toEqual(expect.arrayContaining(['Alpha Clinic', 'Beta Law']));
    expect(ropa.controllerRecord.activities.length).toBe(32 - 0 - countProcessorOnly());
    // A customer asking sees itself only.
    const own = await privacy.recordOfProcessing({ tenantId: a.id });
    expect(own.processorRecord.controllers!.map((c) => c.id)).toEqual([a.id]);
    expect(own.processorRecord.controllers!.some((c) => c.id === b.id)).toBe(false);
    // The registry's own tables (the register itself included) are in the record.
    const system = ropa.controllerRecord.categoryDetails.find((d) => d.category === 'system')!;
    expect(system.tables.map((t) => t.table)).toEqual(expect.arrayContaining(['privacy_purposes', 'audit_events', 'sessions']));
    expect(Object.keys(REGISTRY)).toEqual(expect.arrayContaining(['privacy_purposes', 'privacy_subprocessors', 'privacy_register_changes']));
  });
});

// Purposes with only Content/Smart Data would not be in the controller record; the seed has none.
function countProcessorOnly(): number {
  return seededPurposes().filter((p) => p.categories.length > 0 && p.categories.every((c) => c === 'content' || c === 'smart')).length;
}
