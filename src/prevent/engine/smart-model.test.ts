import { describe, expect, it } from 'vitest';
import type { Draft, Observation } from '../prevent.model.ts';
import { SmartModel } from './smart-model.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5, 9);
let seq = 0;

/** A message `days` after T0. */
function msg(days: number, from: string, to: string[], subject = 'weekly update', cc: string[] = []): Observation {
  return { id: `m${++seq}`, at: new Date(T0 + days * DAY), from, to, cc, bcc: [], subject };
}

function draft(from: string, to: string[], subject = 'weekly update', days = 400): Draft {
  return { from, recipients: to.map((address) => ({ address, role: 'to' as const })), subject, body: '', labelRank: null, at: new Date(T0 + days * DAY) };
}

const riskOf = (m: SmartModel, d: Draft, address: string) => m.scoreRecipients(d).find((r) => r.address === address)!.risk;

/**
 * A small organisation over a year: alice mails her team (bob, carol) about the budget, and
 * john.smith@acme.com about contracts; dan and erin write to each other and to alice now and then.
 */
function orgHistory(): Observation[] {
  const h: Observation[] = [];
  for (let d = 0; d < 360; d += 2) {
    h.push(msg(d, 'alice@corp.example', ['bob@corp.example', 'carol@corp.example'], `budget ${d % 3 ? 'review' : 'forecast'}`));
    if (d % 4 === 0) h.push(msg(d + 0.5, 'alice@corp.example', ['john.smith@acme.com'], 'contract renewal'));
    if (d % 6 === 0) h.push(msg(d + 0.6, 'bob@corp.example', ['alice@corp.example'], 'Re: budget review'));
    if (d % 8 === 0) h.push(msg(d + 0.7, 'dan@corp.example', ['erin@corp.example'], 'lab results'));
    if (d % 10 === 0) h.push(msg(d + 0.8, 'erin@corp.example', ['dan@corp.example', 'alice@corp.example'], 'lab schedule'));
    if (d % 12 === 0) h.push(msg(d + 0.9, 'alice@corp.example', ['john.smythe@corp.example'], 'parking'));
  }
  return h;
}

describe('SmartModel', () => {
  it('learns contacts, counts, recency and domains incrementally', () => {
    const m = new SmartModel({ tenantDomains: ['corp.example'] });
    expect(m.contact('alice@corp.example', 'bob@corp.example')).toBeUndefined();
    m.observe(msg(0, 'Alice@Corp.example', ['bob@corp.example', 'carol@corp.example']));
    m.observe(msg(3, 'alice@corp.example', ['bob@corp.example']));
    m.observe(msg(5, 'bob@corp.example', ['alice@corp.example', 'x@partner.example']));
    const bob = m.contact('alice@corp.example', 'bob@corp.example')!;
    expect(bob).toMatchObject({ address: 'bob@corp.example', sent: 2, received: 1 });
    expect(bob.firstAt.getTime()).toBe(T0);
    expect(bob.lastAt.getTime()).toBe(T0 + 5 * DAY);
    expect([...m.contacts('alice@corp.example')].map((c) => c.address).sort()).toEqual(['bob@corp.example', 'carol@corp.example']);
    expect(m.contact('bob@corp.example', 'alice@corp.example')).toMatchObject({ sent: 1, received: 2 });
    expect(m.domainFirstSeen('partner.example')?.getTime()).toBe(T0 + 5 * DAY);
    expect(m.domainFirstSeen('elsewhere.example')).toBeUndefined();
    expect(m.isInternal('Carol@corp.example')).toBe(true);
    expect(m.isInternal('x@partner.example')).toBe(false);
  });

  it('learns co-recipients incrementally: someone usually mailed with the others is less risky', () => {
    const m = new SmartModel({ tenantDomains: ['corp.example'] });
    for (let d = 0; d < 20; d++) {
      m.observe(msg(d, 'alice@corp.example', ['bob@corp.example', 'carol@corp.example']));
      m.observe(msg(d + 0.5, 'alice@corp.example', ['dave@corp.example']));
    }
    const d = draft('alice@corp.example', ['bob@corp.example', 'carol@corp.example', 'dave@corp.example'], 'weekly update', 21);
    // carol and dave were each mailed 20 times, but only carol ever with bob.
    expect(riskOf(m, d, 'dave@corp.example')).toBeGreaterThan(riskOf(m, d, 'carol@corp.example'));
  });

  it('scores a never-emailed or rarely-emailed recipient above a habitual one and says why', () => {
    const m = SmartModel.fromHistory(orgHistory(), { tenantDomains: ['corp.example'] });
    expect(m.fitSummary!.trainingMessages).toBeGreaterThan(50);
    const d = draft('alice@corp.example', ['bob@corp.example', 'carol@corp.example', 'john.smyth@gmail.com'], 'budget review');
    const risks = Object.fromEntries(m.scoreRecipients(d).map((r) => [r.address, r.risk]));
    for (const r of Object.values(risks)) expect(r).toBeGreaterThanOrEqual(0), expect(r).toBeLessThanOrEqual(1);
    expect(risks['john.smyth@gmail.com']).toBeGreaterThan(risks['bob@corp.example']!);
    expect(risks['john.smyth@gmail.com']).toBeGreaterThan(risks['carol@corp.example']!);

    const warnings = m.learnedWarnings(d).filter((w) => w.check === 'unusual_recipient');
    expect(warnings.map((w) => w.recipients)).toEqual([['john.smyth@gmail.com']]);
    const w = warnings[0]!;
    expect(w.reason).toBe('You have never emailed john.smyth@gmail.com; you often email john.smith@acme.com.');
    expect(w.fixes).toEqual([
      { kind: 'remove_recipient', address: 'john.smyth@gmail.com' },
      { kind: 'replace_recipient', address: 'john.smyth@gmail.com', replacement: 'john.smith@acme.com' },
    ]);
    expect(w.risk).toBeGreaterThan(m.warnThreshold);

    // The habitual draft gets no unusual-recipient warning.
    const usual = draft('alice@corp.example', ['bob@corp.example', 'carol@corp.example'], 'budget review');
    expect(m.learnedWarnings(usual).filter((x) => x.check === 'unusual_recipient')).toEqual([]);
  });

  it('scores a known contact out of context above the usual recipients of that context', () => {
    const m = SmartModel.fromHistory(orgHistory(), { tenantDomains: ['corp.example'] });
    const d = draft('alice@corp.example', ['bob@corp.example', 'carol@corp.example', 'john.smythe@corp.example'], 'budget forecast');
    expect(riskOf(m, d, 'john.smythe@corp.example')).toBeGreaterThan(riskOf(m, d, 'bob@corp.example'));
    expect(riskOf(m, d, 'john.smythe@corp.example')).toBeGreaterThan(riskOf(m, d, 'carol@corp.example'));
  });

  it('never warns about the sender copying themselves', () => {
    const m = SmartModel.fromHistory(orgHistory(), { tenantDomains: ['corp.example'] });
    const d = draft('alice@corp.example', ['bob@corp.example', 'alice@corp.example']);
    expect(riskOf(m, d, 'alice@corp.example')).toBe(0);
  });

  it('suggests a missing recipient who is usually on these messages', () => {
    const m = SmartModel.fromHistory(orgHistory(), { tenantDomains: ['corp.example'] });
    const d = draft('alice@corp.example', ['bob@corp.example'], 'budget review');
    expect(m.missingRecipients(d)[0]).toMatchObject({ address: 'carol@corp.example', share: 1 });
    const w = m.learnedWarnings(d).find((x) => x.check === 'missing_recipient')!;
    expect(w.recipients).toEqual(['carol@corp.example']);
    expect(w.fixes).toEqual([{ kind: 'add_recipient', address: 'carol@corp.example' }]);
    expect(w.reason).toContain('You usually include carol@corp.example when you email bob@corp.example');
    // Nothing is missing when the usual group is complete, or for a one-off pairing.
    expect(m.missingRecipients(draft('alice@corp.example', ['bob@corp.example', 'carol@corp.example'], 'budget review'))).toEqual([]);
    expect(m.missingRecipients(draft('alice@corp.example', ['john.smith@acme.com'], 'contract renewal'))).toEqual([]);
  });

  it('forget() removes everything learned about a person and stops learning from them', () => {
    const m = SmartModel.fromHistory(orgHistory(), { tenantDomains: ['corp.example'] });
    const before = m.retainedMessages;
    const d = draft('alice@corp.example', ['john.smith@acme.com'], 'contract renewal');
    const unknownRisk = riskOf(m, draft('alice@corp.example', ['nobody@acme.com'], 'contract renewal'), 'nobody@acme.com');
    expect(m.contact('alice@corp.example', 'john.smith@acme.com')).toBeDefined();
    expect(riskOf(m, d, 'john.smith@acme.com')).toBeLessThan(unknownRisk);

    m.forget('John.Smith@acme.com');
    expect(m.contact('alice@corp.example', 'john.smith@acme.com')).toBeUndefined();
    expect([...m.contacts('alice@corp.example')].map((c) => c.address)).not.toContain('john.smith@acme.com');
    expect(m.domainFirstSeen('acme.com')).toBeUndefined(); // he was the only one there
    expect(m.retainedMessages).toBe(before - 90); // his 90 one-to-one messages are gone entirely
    // He now looks exactly like a similar address nobody ever emailed, and the old rival suggestion is gone.
    const after = m.scoreRecipients(draft('alice@corp.example', ['john.smith@acme.com'], 'contract renewal'))[0]!.risk;
    expect(after).toBe(riskOf(m, draft('alice@corp.example', ['john.smitx@acme.com'], 'contract renewal'), 'john.smitx@acme.com'));
    expect(m.learnedWarnings(draft('alice@corp.example', ['john.smyth@gmail.com'])).flatMap((w) => w.fixes)).not.toContainEqual(expect.objectContaining({ replacement: 'john.smith@acme.com' }));

    // Future mail with him is not learned from him: not as a recipient, not as a sender.
    m.observe(msg(401, 'alice@corp.example', ['john.smith@acme.com', 'bob@corp.example'], 'contract'));
    m.observe(msg(402, 'john.smith@acme.com', ['alice@corp.example'], 'Re: contract'));
    expect(m.contact('alice@corp.example', 'john.smith@acme.com')).toBeUndefined();
    expect(m.contact('john.smith@acme.com', 'alice@corp.example')).toBeUndefined();
    expect(m.domainFirstSeen('acme.com')).toBeUndefined();
    expect(m.contact('alice@corp.example', 'bob@corp.example')!.lastAt.getTime()).toBe(T0 + 401 * DAY);
    m.fit();
    expect(m.contact('alice@corp.example', 'john.smith@acme.com')).toBeUndefined();
  });

  it('pruneBefore() drops older messages and everything derived from them', () => {
    const m = new SmartModel({ tenantDomains: ['corp.example'] });
    m.observe(msg(0, 'alice@corp.example', ['old@corp.example', 'bob@corp.example']));
    m.observe(msg(1, 'alice@corp.example', ['bob@corp.example']));
    m.observe(msg(400, 'alice@corp.example', ['bob@corp.example']));
    m.observe(msg(401, 'new@partner.example', ['alice@corp.example']));
    m.pruneBefore(new Date(T0 + 365 * DAY));
    expect(m.retainedMessages).toBe(2);
    expect(m.contact('alice@corp.example', 'old@corp.example')).toBeUndefined();
    expect(m.contact('alice@corp.example', 'bob@corp.example')).toMatchObject({ sent: 1, received: 0, firstAt: new Date(T0 + 400 * DAY) });
    expect(m.contact('alice@corp.example', 'new@partner.example')).toMatchObject({ sent: 0, received: 1 });
    expect(m.domainFirstSeen('corp.example')?.getTime()).toBe(T0 + 400 * DAY);
  });

  it('keeps tenants apart: the same draft gets different results under different histories', () => {
    const a = SmartModel.fromHistory(orgHistory(), { tenantDomains: ['corp.example'] });
    const b = SmartModel.fromHistory(
      orgHistory().map((o) => ({ ...o, to: o.to.map((x) => (x === 'john.smith@acme.com' ? 'john.smyth@gmail.com' : x)) })),
      { tenantDomains: ['corp.example'] },
    );
    const d = draft('alice@corp.example', ['john.smyth@gmail.com'], 'contract renewal');
    expect(riskOf(a, d, 'john.smyth@gmail.com')).toBeGreaterThan(riskOf(b, d, 'john.smyth@gmail.com'));
    expect(a.learnedWarnings(d).map((w) => w.check)).toContain('unusual_recipient');
    expect(b.learnedWarnings(d).map((w) => w.check)).not.toContain('unusual_recipient');
    expect(b.contact('alice@corp.example', 'john.smith@acme.com')).toBeUndefined();
    expect(a.contact('alice@corp.example', 'john.smyth@gmail.com')).toBeUndefined();
  });

  it('gives the same model for the same history and seed', () => {
    const a = SmartModel.fromHistory(orgHistory(), { tenantDomains: ['corp.example'] });
    const b = SmartModel.fromHistory(orgHistory(), { tenantDomains: ['corp.example'] });
    const d = draft('alice@corp.example', ['bob@corp.example', 'dan@corp.example'], 'budget');
    expect(a.scoreRecipients(d)).toEqual(b.scoreRecipients(d));
    expect(a.warnThreshold).toBe(b.warnThreshold);
  });
});
