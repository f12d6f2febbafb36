import { expect, it } from 'vitest';
import { fakeClock } from '../../../test/support/accounts.ts';
import { describeEachDatabase } from '../../../test/support/database.ts';
import { buildTenant } from '../../../test/support/factories.ts';
import { parseCsv } from '../csv.ts';
import { DISCLOSURE_CSV_COLUMNS, DisclosureService, disclosuresToCsv } from './disclosure.service.ts';

const operator = { type: 'operator' as const, id: 'cli:legal' };

describeEachDatabase('disclosure log', (ctx) => {
  const base = {
    requesterKind: 'law_enforcement',
    authority: 'Metropolitan Police Service',
    jurisdiction: 'UK',
    contact: 'DC Jane Smith, 020 0000 0000',
    legalBasis: 'Investigatory Powers Act 2016 s.61 authorisation',
    requested: 'Account details and sign-in times of alice@example.org, 1–31 March',
    requestedCategories: ['crm', 'system'],
  };

  it('does record a request, its decision and what was disclosed, audited on the system chain only', async () => {
    const clock = fakeClock(new Date('2026-02-10T10:00:00Z'));
    const tenant = await buildTenant(ctx.db());
    const svc = new DisclosureService(ctx.db(), { now: clock });
    const d = await svc.add(operator, { ...base, tenantId: tenant.id, receivedAt: '2026-02-09T15:00:00Z' });
    expect(d.reference).toMatch(/^DR-2026-\d{4}$/);
    expect(d.status).toBe('received');
    expect(d.recordedBy).toBe('cli:legal');

    clock.advance(86_400_000);
    await expect(svc.update(operator, d.reference, { status: 'approved' })).rejects.toMatchObject({ code: 'disclosure_invalid', message: /approvedBy/ });
    const approved = await svc.update(operator, d.reference, { status: 'approved', approvedBy: 'Head of Legal', decisionReason: 'Valid authorisation, scope limited to one account' });
    expect(approved.decidedAt).toEqual(clock());
    await expect(svc.update(operator, d.id, { status: 'disclosed', approvedBy: 'Head of Legal' })).rejects.toMatchObject({ message: /disclosedCategories and disclosedDescription/ });
    const disclosed = await svc.update(operator, d.id, { status: 'disclosed', disclosedCategories: ['crm', 'system'], disclosedDescription: 'Account record and 14 sign-in times' });
    expect(disclosed.disclosedAt).toEqual(clock());
    await expect(svc.update(operator, d.id, { status: 'refused' })).rejects.toMatchObject({ code: 'disclosure_transition', message: /final/ });

    // The store holds the description, never a copy of data.
    const { rows } = await ctx.db().query<{ status: string; disclosed_categories: string[] }>('SELECT status, disclosed_categories FROM privacy_disclosures WHERE id = $1', [d.id]);
    expect(rows[0]).toEqual({ status: 'disclosed', disclosed_categories: ['crm', 'system'] });

    const events = await ctx.db().query<{ chain: string; action: string; details: Record<string, unknown> }>(
      `SELECT chain, action, details FROM audit_events WHERE target_id = $1 ORDER BY occurred_at, chain_seq`,
      [d.id],
    );
    expect(events.rows.map((e) => e.action)).toEqual(['privacy_disclosure.recorded', 'privacy_disclosure.approved', 'privacy_disclosure.disclosed']);
    expect(new Set(events.rows.map((e) => e.chain))).toEqual(new Set(['system']));
    expect(JSON.stringify(events.rows)).not.toContain('alice@example.org');
    expect(JSON.stringify(events.rows)).not.toContain('Jane Smith');
    const tenantChain = await ctx.db().query('SELECT 1 FROM audit_events WHERE chain = $1 AND action LIKE $2', [tenant.id, 'privacy_disclosure.%']);
    expect(tenantChain.rows).toHaveLength(0);
  });

  it('does refuse to record a notice while a non-disclosure order is in force', async () => {
    const clock = fakeClock(new Date('2026-03-01T10:00:00Z'));
    const svc = new DisclosureService(ctx.db(), { now: clock });
    const d = await svc.add(operator, { ...base, gag: true, gagUntil: '2026-06-01' });
    await expect(svc.update(operator, d.id, { customerNotifiedAt: '2026-03-02' })).rejects.toMatchObject({ code: 'disclosure_gagged' });
    clock.set(new Date('2026-06-02T00:00:00Z'));
    const told = await svc.update(operator, d.id, { customerNotifiedAt: '2026-06-02', subjectNotifiedAt: '2026-06-02' });
    expect(told.customerNotifiedAt?.toISOString()).toBe('2026-06-02T00:00:00.000Z');
  });

  it('does name the field that is wrong', async () => {
    const svc = new DisclosureService(ctx.db());
    await expect(svc.add(operator, { ...base, requesterKind: 'spy' })).rejects.toMatchObject({ code: 'disclosure_invalid', message: /requesterKind: must be one of law_enforcement/ });
    await expect(svc.add(operator, { ...base, authority: '' })).rejects.toMatchObject({ message: /authority: must not be empty/ });
    await expect(svc.add(operator, { ...base, requestedCategories: ['content', 'secrets'] })).rejects.toMatchObject({ message: /requestedCategories\.1/ });
    await expect(svc.add(operator, { ...base, tenantId: crypto.randomUUID() })).rejects.toMatchObject({ message: /tenantId: no tenant/ });
    await expect(svc.add(operator, { ...base, extra: 1 })).rejects.toMatchObject({ code: 'disclosure_invalid' });
    await expect(svc.update(operator, 'DR-1999-0001', { notes: 'x' })).rejects.toMatchObject({ code: 'disclosure_not_found' });
  });

  it('does export the log as CSV and a transparency report with small cells suppressed', async () => {
    const clock = fakeClock(new Date('2025-12-31T10:00:00Z'));
    const svc = new DisclosureService(ctx.db(), { now: clock });
    const police = { ...base, authority: `Police ${crypto.randomUUID().slice(0, 6)}`, receivedAt: '2025-03-01' };
    for (let i = 0; i < 12; i++) {
      const d = await svc.add(operator, police);
      if (i < 3) await svc.update(operator, d.id, { status: 'refused', approvedBy: 'Head of Legal' });
    }
    const court = { ...base, requesterKind: 'court', authority: `Court ${crypto.randomUUID().slice(0, 6)}`, receivedAt: '2025-04-01' };
    await svc.add(operator, court);
    await svc.add(operator, { ...police, receivedAt: '2025-08-01' }); // H2: not in the H1 report

    const report = await svc.transparencyReport({ half: '2025-H1' });
    const row = (name: string) => report.cells[report.rows.findIndex((r) => r.startsWith(name))]!;
    const col = (s: string) => report.columns.indexOf(s);
    expect(row(police.authority)[col('received')]).toBeNull(); // 9 < 10
    expect(row(police.authority)[col('refused')]).toBeNull(); // 3
    expect(row(court.authority)[col('received')]).toBeNull(); // 1
    expect(Object.keys(report).filter((k) => /total|sum/i.test(k))).toEqual([]);
    const loose = await svc.transparencyReport({ half: '2025-H1', threshold: 3 });
    expect(loose.cells[loose.rows.findIndex((r) => r.startsWith(police.authority))]).toEqual([9, 0, 3, 0, 0]);
    for (const n of report.cells.flat()) expect(n === null || n === 0 || n >= 10).toBe(true);
    await expect(svc.transparencyReport({ half: '2025-Q1' })).rejects.toMatchObject({ code: 'invalid_period' });

    const csv = parseCsv(disclosuresToCsv(await svc.list({ from: new Date('2025-01-01'), to: new Date('2026-01-01') })));
    expect(csv[0]).toEqual([...DISCLOSURE_CSV_COLUMNS]);
    expect(csv.filter((r) => r[2] === police.authority)).toHaveLength(13);
  });
});
