import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../../../test/support/database.ts';
import { buildTenant } from '../../../test/support/factories.ts';
import { isAppError } from '../../shared/app-error.ts';
import type { Sql } from '../../storage/database/database.ts';
import { MAX_TENANT_SHARE, MAX_TOP_TWO_SHARE, MIN_CONTRIBUTING_TENANTS, MIN_TENANTS_PER_LABEL_NAME, OTHER_LABELS, REPORTS, StatisticsService, type StatisticsReport } from './statistics.service.ts';
import { bucketRange, buildTable, checkThreshold, DEFAULT_THRESHOLD, MIN_THRESHOLD } from './suppression.ts';

/** Every number that appears anywhere in a published report's cells. */
const cellValues = (r: { cells: Array<Array<number | null>> }) => r.cells.flat().filter((c): c is number => c !== null);

describe('buildTable', () => {
  it('does never publish a count between 1 and threshold - 1 (generated tables)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: MIN_THRESHOLD, max: 30 }),
        fc.array(fc.record({ row: fc.constantFrom('a', 'b', 'c'), column: fc.constantFrom('x', 'y'), count: fc.integer({ min: 0, max: 40 }) }), { maxLength: 30 }),
        (threshold, raw) => {
          const t = buildTable(raw, { threshold, rows: ['a', 'b', 'c'], columns: ['x', 'y'] });
          for (const n of cellValues(t)) expect(n === 0 || n >= threshold).toBe(true);
          // Cells that are published are exact sums of the raw counts.
          for (const [ri, row] of ['a', 'b', 'c'].entries())
            for (const [ci, col] of ['x', 'y'].entries()) {
              const sum = raw.filter((c) => c.row === row && c.column === col).reduce((s, c) => s + c.count, 0);
              expect(t.cells[ri]![ci]).toBe(sum > 0 && sum < threshold ? null : sum);
            }
          expect(t.suppressed).toBe(t.cells.flat().filter((c) => c === null).length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('does suppress cells fed by too few tenants when asked to', () => {
    const t = buildTable([{ row: 'a', column: 'x', count: 50, contributors: 1 }, { row: 'a', column: 'y', count: 50, contributors: 3 }], { threshold: 10, rows: ['a'], columns: ['x', 'y'], minContributors: 3 });
    expect(t.cells).toEqual([[null, 50]]);
  });

  it('does suppress a cell one contributor dominates (more than maxShare of it), even with enough contributors', () => {
    const raw = [
      { row: 'a', column: 'x', count: 100, contributors: 5, largest: 96 },
      { row: 'a', column: 'y', count: 100, contributors: 5, largest: 85 },
      { row: 'a', column: 'z', count: 100, contributors: 5, largest: 86 },
    ];
    const t = buildTable(raw, { threshold: 10, rows: ['a'], columns: ['x', 'y', 'z'], minContributors: 3, maxShare: 0.85 });
    expect(t.cells).toEqual([[null, 100, null]]);
    expect(t.suppressed).toBe(2);
    // Without the rule (tenant-level reports have one contributor by nature) nothing is suppressed for it.
    expect(buildTable(raw, { threshold: 10, rows: ['a'], columns: ['x', 'y', 'z'] }).cells).toEqual([[100, 100, 100]]);
  });

  it('does suppress a cell two contributors dominate together (more than maxTopTwoShare of it)', () => {
    const raw = [
      { row: 'a', column: 'x', count: 100, contributors: 5, largest: 50, topTwo: 91 },
      { row: 'a', column: 'y', count: 100, contributors: 5, largest: 50, topTwo: 90 },
    ];
    const t = buildTable(raw, { threshold: 10, rows: ['a'], columns: ['x', 'y'], minContributors: 3, maxShare: 0.85, maxTopTwoShare: 0.9 });
    expect(t.cells).toEqual([[null, 100]]);
  });

  it('does refuse thresholds below 2 and explain why', () => {
    expect(checkThreshold(undefined)).toBe(DEFAULT_THRESHOLD);
    expect(checkThreshold('5')).toBe(5);
    for (const bad of [1, 0, -3, 2.5, 'ten', 1001]) {
      try {
        checkThreshold(bad);
        expect.unreachable();
      } catch (err) {
        expect(isAppError(err, 'invalid_threshold')).toBe(true);
        expect((err as Error).message).toMatch(/count of one person/);
      }
    }
  });

  it('does align periods to whole weeks and months', () => {
    const r = bucketRange(new Date('2025-01-08T13:00:00Z'), new Date('2025-01-21T00:00:00Z'), 'week');
    expect(r.from.toISOString()).toBe('2025-01-06T00:00:00.000Z');
    expect(r.keys).toEqual(['2025-01-06', '2025-01-13', '2025-01-20']);
    const shifted = bucketRange(new Date('2025-01-07T00:00:00Z'), new Date('2025-01-21T00:00:00Z'), 'week');
    expect(shifted.from).toEqual(r.from);
    expect(bucketRange(new Date('2025-02-15Z'), new Date('2025-04-01Z'), 'month').keys).toEqual(['2025-02', '2025-03']);
  });
});

interface Seeded {
  tenants: string[];
  identifiers: string[];
}

/** Seeds tenants with users, labels (shared and tenant-specific names), messages and Prevent decisions. */
async function seed(sql: Sql, spec: { tenants: number; messages: number[]; week: Date; secretLabel: string }): Promise<Seeded> {
  const tenants: string[] = [];
  const identifiers: string[] = [];
  for (let t = 0; t < spec.tenants; t++) {
    const tenant = await buildTenant(sql, { name: `Org ${crypto.randomUUID().slice(0, 8)} Ltd` });
    tenants.push(tenant.id);
    identifiers.push(tenant.id, tenant.name);
    const userId = crypto.randomUUID();
    const email = `person-${crypto.randomUUID().slice(0, 8)}@org${t}.example`;
    const name = `Person ${crypto.randomUUID().slice(0, 6)}`;
    identifiers.push(userId, email, name);
    await sql.query(`INSERT INTO users (id, tenant_id, email, display_name, role, created_at, updated_at) VALUES ($1, $2, $3, $4, 'author', now(), now())`, [userId, tenant.id, email, name]);
    const labels: string[] = [];
    for (const [i, labelName] of ['confidential', t === 0 ? spec.secretLabel : 'internal'].entries()) {
      const id = crypto.randomUUID();
      labels.push(id);
      await sql.query(`INSERT INTO labels (id, tenant_id, name, rank, auth_level) VALUES ($1, $2, $3, $4, 'email_code')`, [id, tenant.id, labelName, i]);
    }
    const count = spec.messages[t] ?? 0;
    for (let m = 0; m < count; m++) {
      const objectId = crypto.randomUUID();
      await sql.query(
        `INSERT INTO sealed_objects (id, tenant_id, region, key_id, blob_key, format_version, segment_size, plaintext_length, shredded_at) VALUES ($1, $2, 'uk', $3, $4, 1, 1024, 10, now())`,
        [objectId, tenant.id, crypto.randomUUID(), objectId.replace(/-/g, '')],
      );
      const messageId = crypto.randomUUID();
      const at = new Date(spec.week.getTime() + (m % 5) * 86_400_000);
      await sql.query(
        `INSERT INTO messages (id, tenant_id, thread_id, sender_user_id, sender_email, label_id, envelope_object_id, attachment_count, created_at) VALUES ($1, $2, $1, $3, $4, $5, $6, 0, $7)`,
        [messageId, tenant.id, userId, email, labels[m % 2], objectId, at],
      );
      const recipient = `someone-${crypto.randomUUID().slice(0, 8)}@partner.example`;
      identifiers.push(recipient);
      await sql.query(
        `INSERT INTO prevent_decisions (id, tenant_id, user_id, message_id, decided_at, check_kind, severity, mode, outcome, recipients, context_key) VALUES ($1, $2, $3, $4, $5, $6, 'warning', 'nudge', $7, $8, $9)`,
        [crypto.randomUUID(), tenant.id, userId, messageId, at, m % 3 === 0 ? 'lookalike_address' : 'unusual_recipient', m % 2 === 0 ? 'sent_anyway' : 'removed', JSON.stringify([recipient]), 'a'.repeat(64)],
      );
    }
  }
  return { tenants, identifiers };
}

function expectSafe(report: StatisticsReport, identifiers: string[]): void {
  for (const n of cellValues(report)) expect(n === 0 || n >= report.threshold, `cell ${n} below threshold ${report.threshold}`).toBe(true);
  const text = JSON.stringify(report);
  for (const id of identifiers) expect(text.includes(id), `identifier ${id} in ${report.report}`).toBe(false);
}

describeEachDatabase('anonymous statistics', (ctx) => {
  const week = new Date('2024-03-04T09:00:00Z'); // a Monday, far from other tests' data

  it('does count messages per week and label for one tenant, suppressing small cells', async () => {
    const s = await seed(ctx.db(), { tenants: 2, messages: [25, 30], week, secretLabel: `Board papers ${crypto.randomUUID().slice(0, 4)}` });
    const stats = new StatisticsService(ctx.db());
    const r = await stats.run({ report: 'messages_by_label', tenantId: s.tenants[0]!, from: week, to: new Date(week.getTime() + 6 * 86_400_000) });
    expect(r.scope).toBe('tenant');
    expect(r.rows).toEqual(['2024-03-04']);
    // 25 messages alternating two labels: 13 confidential, 12 of the tenant's own label.
    expect(r.columns[0]).toBe('confidential');
    expect(r.cells).toEqual([[13, 12]]);
    const strict = await stats.run({ report: 'messages_by_label', tenantId: s.tenants[0]!, from: week, to: new Date(week.getTime() + 86_400_000), threshold: 13 });
    expect(strict.cells).toEqual([[13, null]]);
    expect(strict.suppressed).toBe(1);
    // The other tenant's messages are not in this tenant's report.
    expectSafe(r, s.identifiers);
  });

  it('does keep tenant-specific label names and single-tenant cells out of installation-wide reports', async () => {
    const w = new Date('2024-05-06T09:00:00Z');
    const secret = `Project Falcon ${crypto.randomUUID().slice(0, 4)}`;
    const s = await seed(ctx.db(), { tenants: MIN_TENANTS_PER_LABEL_NAME, messages: [40, 2, 2, 2, 2], week: w, secretLabel: secret });
    const r = await new StatisticsService(ctx.db()).run({ report: 'messages_by_label', from: w, to: new Date(w.getTime() + 86_400_000) });
    expect(r.scope).toBe('installation');
    expect(r.columns).toContain('confidential');
    expect(r.columns).toContain(OTHER_LABELS);
    expect(JSON.stringify(r)).not.toContain(secret);
    // confidential: 20 + 4 × 1 from 5 tenants → shown; "other": 20 of the secret label from one
    // tenant + 4 × 1 internal → 24 from 5 tenants, shown. Cells from fewer than MIN_CONTRIBUTING_TENANTS tenants would not be.
    const row = r.cells[0]!;
    expect(row[r.columns.indexOf('confidential')]).toBeGreaterThanOrEqual(24);
    expect(MIN_CONTRIBUTING_TENANTS).toBeGreaterThan(1);
    expectSafe(r, s.identifiers);
  });

  it('does suppress installation-wide cells one tenant dominates', async () => {
    const w = new Date('2024-07-01T09:00:00Z');
    // Tenant 0 sends 200 messages (100 confidential), four others 2 each (1 confidential):
    // confidential is 104 from 5 tenants, but 100 of them (96 %) from one.
    const s = await seed(ctx.db(), { tenants: 5, messages: [200, 2, 2, 2, 2], week: w, secretLabel: `Dominant ${crypto.randomUUID().slice(0, 4)}` });
    const r = await new StatisticsService(ctx.db()).run({ report: 'messages_by_label', from: w, to: new Date(w.getTime() + 86_400_000) });
    expect(r.cells[0]![r.columns.indexOf('confidential')]).toBeNull();
    expect(MAX_TENANT_SHARE).toBe(0.85);
    // The same tenant's own report shows its own count.
    const own = await new StatisticsService(ctx.db()).run({ report: 'messages_by_label', tenantId: s.tenants[0]!, from: w, to: new Date(w.getTime() + 86_400_000) });
    expect(own.cells[0]![own.columns.indexOf('confidential')]).toBe(100);
    expectSafe(r, s.identifiers);
  });

  it('does suppress installation-wide cells two tenants dominate together', async () => {
    const w = new Date('2024-09-02T09:00:00Z');
    // Tenants 0 and 1 send 60 messages each (30 confidential), three others 2 each (1 confidential):
    // confidential is 63 from 5 tenants, the largest 48 % of it, but the two largest 95 %:
    // either of them could subtract its own 30 and read the other's.
    const s = await seed(ctx.db(), { tenants: 5, messages: [60, 60, 2, 2, 2], week: w, secretLabel: `Pair ${crypto.randomUUID().slice(0, 4)}` });
    const r = await new StatisticsService(ctx.db()).run({ report: 'messages_by_label', from: w, to: new Date(w.getTime() + 86_400_000) });
    expect(r.cells[0]![r.columns.indexOf('confidential')]).toBeNull();
    expect(MAX_TOP_TWO_SHARE).toBe(0.9);
    expectSafe(r, s.identifiers);
  });

  it('does report Prevent warnings by check and outcome for one calendar month', async () => {
    const w = new Date('2024-07-01T09:00:00Z');
    const s = await seed(ctx.db(), { tenants: 1, messages: [30], week: w, secretLabel: 'x-label' });
    const r = await new StatisticsService(ctx.db()).run({ report: 'prevent_warnings', tenantId: s.tenants[0]!, from: new Date('2024-07-20Z') });
    expect(r.period).toEqual({ from: '2024-07-01T00:00:00.000Z', to: '2024-08-01T00:00:00.000Z' });
    const cell = (kind: string, outcome: string) => r.cells[r.rows.indexOf(kind)]![r.columns.indexOf(outcome)];
    // m % 3 === 0 → lookalike (10 of 30); m even → sent_anyway. unusual_recipient: 20, half each.
    expect(cell('unusual_recipient', 'sent_anyway')).toBe(10);
    expect(cell('unusual_recipient', 'removed')).toBe(10);
    expect(cell('lookalike_address', 'sent_anyway')).toBeNull(); // 5
    expect(cell('lookalike_address', 'removed')).toBeNull(); // 5
    await expect(new StatisticsService(ctx.db()).run({ report: 'prevent_warnings', tenantId: s.tenants[0]!, from: w, to: new Date() })).rejects.toMatchObject({ code: 'invalid_period' });
    expectSafe(r, s.identifiers);
  });

  it('does refuse unknown reports, installation-wide reports for tenants, and bad thresholds', async () => {
    const stats = new StatisticsService(ctx.db());
    const tenant = (await buildTenant(ctx.db())).id;
    await expect(stats.run({ report: 'people' })).rejects.toMatchObject({ code: 'unknown_report' });
    await expect(stats.run({ report: 'subject_requests', tenantId: tenant })).rejects.toMatchObject({ code: 'report_not_for_tenants' });
    await expect(stats.run({ report: 'messages_by_label', threshold: 1 })).rejects.toMatchObject({ code: 'invalid_threshold' });
  });

  it('does never publish a small count or an identifier, whatever the data (generated datasets, every report)', async () => {
    let round = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 14 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: MIN_THRESHOLD, max: 12 }),
        async (messages, threshold) => {
          round++;
          const w = new Date(Date.UTC(2023, 0, 2 + 7 * round)); // Mondays of 2023, one per round
          const s = await seed(ctx.db(), { tenants: messages.length, messages, week: w, secretLabel: `Secret ${crypto.randomUUID()}` });
          const stats = new StatisticsService(ctx.db());
          const reports: StatisticsReport[] = [];
          for (const report of REPORTS) reports.push(await stats.run({ report, from: w, ...(report === 'prevent_warnings' ? {} : { to: new Date(w.getTime() + 7 * 86_400_000) }), threshold }));
          for (const tenantId of s.tenants) {
            reports.push(await stats.run({ report: 'messages_by_label', tenantId, from: w, to: new Date(w.getTime() + 7 * 86_400_000), threshold }));
            reports.push(await stats.run({ report: 'prevent_warnings', tenantId, from: w, threshold }));
          }
          for (const r of reports) expectSafe(r, s.identifiers);
        },
      ),
      { numRuns: 8 },
    );
  }, 120_000);
});
