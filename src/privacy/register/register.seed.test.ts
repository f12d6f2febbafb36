import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../../../test/support/database.ts';
import type { DataCategory } from '../../storage/database/registry.ts';
import type { LawfulBasis } from './purpose.model.ts';
import { listChanges, listPurposes, listSubprocessors, getSettings } from './register.repository.ts';
import { SEED_GROUPS, SEED_SUBPROCESSORS, SEED_TRANSFER_STATEMENT, SEED_VERSION, seedRegister } from './register.seed.ts';
import { RegisterService } from './register.service.ts';

// A verbatim copy of ../shared/seeds/002_3b4f72368e410c33.txt, kept beside the seed so the
// check runs from a clean checkout.
// Markdown links are read as their text ("see our [Cookie Policy](https://…)" → "see our Cookie Policy").
const DOC = readFileSync(new URL('./seed-document.txt', import.meta.url), 'utf8').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
const squash = (s: string) => s.replace(/\s+/g, ' ').trim();
const FLAT = squash(DOC);

// Reads the table cells that follow `anchor` in the document: cells are separated by lines
// holding only "|" (the document is a Markdown rendering of HTML tables).
function cellsAfter(anchor: string, count: number, after = ''): string[] {
  // `after` disambiguates rows with the same text (LogMeIn and Zoom share their reasons).
  const at = DOC.indexOf(anchor, after ? DOC.indexOf(after) : 0);
  if (at < 0) throw new Error(`not in the seed document: ${anchor.slice(0, 60)}`);
  const parts = DOC.slice(at + anchor.length).split(/\n[ \t]*\|[ \t]*\n/);
  return parts.slice(1, count + 1).map((p) => squash(p.split(/\n\s*\n/)[0] ?? p));
}

const BASIS_WORDS: Array<[string, LawfulBasis]> = [
  ['performance of contract', 'contract'],
  ['legitimate interests', 'legitimate_interests'],
  ['legal obligation', 'legal_obligation'],
  ['consent', 'consent'],
  ['n/a', 'not_applicable'],
];

/** The seed's words for lawful bases ("Legitimate interests, Legal obligation") as the vocabulary. */
function basesIn(cell: string): LawfulBasis[] {
  return cell
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== '')
    .map((t) => {
      const hit = BASIS_WORDS.find(([w]) => t.startsWith(w));
      if (!hit) throw new Error(`unknown lawful basis in the seed: ${t}`);
      return hit[1];
    });
}

const CATEGORY_WORDS: Record<string, DataCategory> = { 'CRM Information': 'crm', 'System Data': 'system', Content: 'content', 'Smart Data': 'smart' };

/** The seed's "Information type" cell as categories ("Limited CRM Information" is CRM; other words are not categories). */
function categoriesIn(cell: string): DataCategory[] {
  return cell
    .replace(/\([^)]*\)/g, '')
    .split(',')
    .map((t) => t.trim().replace(/^Limited /, ''))
    .flatMap((t) => (CATEGORY_WORDS[t] ? [CATEGORY_WORDS[t]!] : []));
}

const sorted = <T>(a: T[]) => [...a].sort();

describe('the register seed', () => {
  const purposes = SEED_GROUPS.flatMap((g) => g.purposes);

  it('does quote every purpose name and reason verbatim from the seed document', () => {
    expect(purposes.length).toBe(32);
    for (const p of purposes) {
      expect(FLAT, p.key).toContain(squash(p.name));
      for (const paragraph of (p.reasons ?? '').split('\n\n')) expect(FLAT, p.key).toContain(squash(paragraph));
      if (p.transfers) expect(FLAT, p.key).toContain(squash(p.transfers));
    }
  });

  it('does carry the lawful bases and information types of every table row', () => {
    for (const p of purposes) {
      // The trailing marketing paragraph has no table row: nothing to compare, and nothing invented.
      if (p.key === 'marketing_and_promotion.products_and_services_information') {
        expect(p.basisBusiness).toEqual([]);
        expect(p.categories).toEqual([]);
        continue;
      }
      const lastParagraph = (p.reasons ?? '').split('\n\n').at(-1)!;
      const [individual, business, types] = cellsAfter(lastParagraph, 3);
      expect(sorted(p.basisIndividual), `${p.key} individual`).toEqual(sorted(basesIn(individual!)));
      expect(sorted(p.basisBusiness), `${p.key} business`).toEqual(sorted(basesIn(business!)));
      expect(sorted(p.categories), `${p.key} information type`).toEqual(sorted(categoriesIn(types!)));
    }
  });

  it('does match spot checks read by hand from the seed', () => {
    const byKey = new Map(purposes.map((p) => [p.key, p]));
    expect(byKey.get('delivery_of_requested_services.services_functioning')).toMatchObject({
      name: 'Ensure our services are functioning properly',
      basisIndividual: ['legitimate_interests', 'contract'],
      basisBusiness: ['legitimate_interests'],
      categories: ['crm', 'system', 'content', 'smart'],
    });
    expect(byKey.get('marketing_and_promotion.competitions_and_promotions')).toMatchObject({ basisIndividual: ['consent'], basisBusiness: ['not_applicable'], categories: ['crm', 'system'] });
    expect(byKey.get('contractual_obligations_and_rights.audit_obligations.own_rights_and_compliance')).toMatchObject({
      basisIndividual: ['legitimate_interests', 'legal_obligation'],
      basisBusiness: ['legitimate_interests', 'legal_obligation'],
      categories: ['crm', 'system', 'smart'],
    });
    expect(byKey.get('relationship_management.manage_relationship.pre_contract')).toMatchObject({ basisIndividual: ['contract'], basisBusiness: ['legitimate_interests'], categories: ['crm'] });
    expect(byKey.get('legal_and_regulatory_risk.accurate_records')).toMatchObject({ basisIndividual: ['legitimate_interests', 'legal_obligation'], categories: ['crm'] });
    expect(SEED_GROUPS.map((g) => g.title)).toEqual([
      'Relationship management',
      'Delivery of requested services',
      'Delivering on contractual obligations and exercising rights',
      'Legal and regulatory risk management',
      'Innovation and system development',
      'Marketing and promotion',
    ]);
  });

  it('does carry every recipient of the sharing table with its bases, information types and location', () => {
    expect(SEED_SUBPROCESSORS.length).toBe(16);
    for (const s of SEED_SUBPROCESSORS) {
      expect(FLAT, s.key).toContain(squash(s.name));
      expect(FLAT, s.key).toContain(squash(s.purpose));
      expect(FLAT, s.key).toContain(squash(s.location));
      if (s.categoriesNote) expect(FLAT, s.key).toContain(squash(s.categoriesNote));
      const [individual, business, types, location] = cellsAfter(s.purpose, 4, `\n${s.name}\n`);
      expect(sorted(s.basisIndividual), `${s.key} individual`).toEqual(sorted(basesIn(individual!)));
      expect(sorted(s.basisBusiness), `${s.key} business`).toEqual(sorted(basesIn(business!)));
      expect(sorted(s.categories), `${s.key} information type`).toEqual(sorted(categoriesIn(types!)));
      expect(location, `${s.key} location`).toBe(squash(s.location));
    }
    expect(FLAT).toContain(squash(SEED_TRANSFER_STATEMENT));
  });
});

describeEachDatabase('seeding the register', (ctx) => {
  it('does seed once, and never overwrite or resurrect what the operator changed', async () => {
    const db = await ctx.createDatabase();
    const first = await seedRegister(db);
    expect(first).toEqual({ applied: true, purposes: 32, subprocessors: 16 });
    expect((await listPurposes(db)).length).toBe(32);
    expect((await listSubprocessors(db)).length).toBe(16);
    expect((await getSettings(db)).transferStatement).toBe(SEED_TRANSFER_STATEMENT);

    // The operator edits a purpose, retires another, changes a sub-processor and the settings…
    const register = new RegisterService(db);
    const operator = { type: 'operator' as const, id: 'cli:dpo' };
    await register.updatePurpose(operator, 'delivery_of_requested_services.guidance', { reasons: 'Our own words.', recipients: ['zendesk'] });
    await register.setPurposeRetired(operator, 'marketing_and_promotion.competitions_and_promotions', true);
    await register.updateSubprocessor(operator, 'zendesk', { location: 'UK', regions: ['uk'] });
    await register.updateSettings(operator, { transferStatement: 'None.' });
    // …and deletes one outright (not through the service: the seed must not bring it back either way).
    await db.query(`DELETE FROM privacy_purposes WHERE key = 'innovation_and_system_development.test_new_products'`);

    // Every later start seeds again: nothing happens.
    expect(await seedRegister(db)).toEqual({ applied: false, purposes: 0, subprocessors: 0 });
    // Even a new seed version (simulated by forgetting the applied one) only adds missing keys.
    await db.query(`DELETE FROM privacy_seed_applied`);
    const again = await seedRegister(db);
    expect(again.applied).toBe(true);

    const purposes = new Map((await listPurposes(db)).map((p) => [p.key, p]));
    expect(purposes.get('delivery_of_requested_services.guidance')).toMatchObject({ reasons: 'Our own words.', recipients: ['zendesk'], editedAt: expect.any(Date) });
    expect(purposes.get('marketing_and_promotion.competitions_and_promotions')!.retiredAt).toBeInstanceOf(Date);
    expect((await listSubprocessors(db)).find((s) => s.key === 'zendesk')).toMatchObject({ location: 'UK', regions: ['uk'] });
    expect((await getSettings(db)).transferStatement).toBe('None.');
    // The deleted purpose is back only because the seed version was forgotten; under the same
    // version (the normal case, checked above) it stays deleted.
    expect(again.purposes).toBe(1);
    expect(purposes.get('innovation_and_system_development.test_new_products')?.editedAt).toBeNull();

    const history = await listChanges(db);
    expect(history.filter((c) => c.action === 'seeded')).toHaveLength(2);
    expect(history.find((c) => c.entityKey === 'delivery_of_requested_services.guidance')).toMatchObject({ action: 'updated', actorType: 'operator', actorId: 'cli:dpo' });
    const { rows } = await db.query<{ seed_version: string }>(`SELECT seed_version FROM privacy_seed_applied`);
    expect(rows).toEqual([{ seed_version: SEED_VERSION }]);
  });

  it('does leave a purpose deleted by the operator deleted at the next start', async () => {
    const db = await ctx.createDatabase();
    await seedRegister(db);
    await db.query(`DELETE FROM privacy_purposes WHERE key = 'innovation_and_system_development.study_usage'`);
    await seedRegister(db);
    expect((await listPurposes(db)).some((p) => p.key === 'innovation_and_system_development.study_usage')).toBe(false);
  });

  it('does apply the seed exactly once when several processes start together', async () => {
    const db = await ctx.createDatabase();
    const results = await Promise.all([seedRegister(db), seedRegister(db), seedRegister(db)]);
    expect(results.filter((r) => r.applied)).toHaveLength(1);
    expect((await listPurposes(db)).length).toBe(32);
  });
});
