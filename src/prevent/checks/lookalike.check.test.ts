import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ContactStats, Observation, SmartView, Warning } from '../prevent.model.ts';
import { SmartModel } from '../engine/smart-model.ts';
import { checkLookalikeAddresses } from './lookalike.check.ts';
import { buildDraft, buildTestView, contact, recipient, referenceEditDistance } from './test-view.ts';
import { addressParts, allowedEdits, nameTokens, skeleton } from './text.ts';

const view = buildTestView({
  contacts: {
    'alice@acme.com': [
      contact('john.smith@acme.com', 40, 20, 'John Smith'),
      contact('sarah.jones@partner.co.uk', 5, 3, 'Sarah Jones'),
      contact('jörg@müller.de', 3, 2, 'Jörg Müller'),
      contact('billing@apple.com', 3, 1),
      contact('anna@acme.com', 8, 8, 'Anna Berg'),
      contact('info@supplier.com', 2, 2),
      contact('王伟@例子.广告', 2, 2, '王伟'),
      contact('mike@acme.com', 0, 4),
    ],
  },
});
const check = (...recipients: string[]) => checkLookalikeAddresses(buildDraft({ recipients }), view);

describe('checkLookalikeAddresses', () => {
  it('does flag a misspelt local part and suggest the contact', () => {
    const [w] = check('john.smyth@acme.com');
    expect(w).toMatchObject({ check: 'lookalike_address', severity: 'warning', recipients: ['john.smyth@acme.com'] });
    expect(w!.reason).toBe('You have never emailed john.smyth@acme.com; did you mean john.smith@acme.com? You have emailed john.smith@acme.com 40 times.');
    expect(w!.fixes).toEqual([{ kind: 'replace_recipient', address: 'john.smyth@acme.com', replacement: 'john.smith@acme.com' }]);
  });

  it('does flag a transposition and a misspelt domain', () => {
    expect(check('john.smtih@acme.com')[0]!.fixes[0]).toMatchObject({ replacement: 'john.smith@acme.com' });
    expect(check('john.smith@acme.co')[0]!.reason).toContain('did you mean john.smith@acme.com');
  });

  it('does flag the same local part at a different domain', () => {
    const [w] = check('john.smith@gmail.com');
    expect(w!.reason).toBe('You have never emailed john.smith@gmail.com; you usually email john.smith@acme.com (you have emailed john.smith@acme.com 40 times).');
  });

  it('does flag the same display name with a different address', () => {
    const [w] = checkLookalikeAddresses(buildDraft({ recipients: [recipient('Sarah Jones <sj1984@gmail.com>')] }), view);
    expect(w!.reason).toContain('Sarah Jones is sarah.jones@partner.co.uk in your mail');
    expect(w!.fixes).toEqual([{ kind: 'replace_recipient', address: 'sj1984@gmail.com', replacement: 'sarah.jones@partner.co.uk' }]);
  });

  it('does flag homoglyphs as critical: Cyrillic letters, 0 for o, 1 for l, rn for m', () => {
    for (const [address, intended] of [
      ['billing@xn--pple-43d.com', 'billing@apple.com'], // аpple.com with a Cyrillic а, as punycode
      ['billing@аpple.com', 'billing@apple.com'], // the same typed in Unicode
      ['john.smith@acrne.com', 'john.smith@acme.com'],
      ['j0hn.smith@acme.com', 'john.smith@acme.com'],
      ['bi11ing@apple.com', 'billing@apple.com'],
    ] as const) {
      const [w] = check(address);
      expect(w, address).toMatchObject({ severity: 'critical', fixes: [{ kind: 'replace_recipient', replacement: intended }] });
    }
    expect(check('billing@xn--pple-43d.com')[0]!.reason).toContain('(billing@xn--pple-43d.com)');
    expect(check('billing@xn--pple-43d.com')[0]!.reason).toContain('mixes Cyrillic and Latin letters');
  });

  it('does flag a mixed-script address even when it resembles no contact', () => {
    const [w] = check('paypal@xn--pypal-4ve.com'); // pаypal.com with a Cyrillic а
    expect(w).toMatchObject({ severity: 'warning', fixes: [{ kind: 'remove_recipient' }] });
    expect(w!.reason).toContain('mixes');
  });

  it('does handle internationalised addresses: the same mailbox in either spelling is the contact', () => {
    expect(check('jörg@müller.de', 'jörg@xn--mller-kva.de', '王伟@例子.广告', '王伟@xn--fsqu00a.xn--4rr70v')).toEqual([]);
    expect(check('jorg@muller.de')[0]).toMatchObject({ severity: 'critical', fixes: [{ replacement: 'jörg@müller.de' }] });
    expect(check('jörg@müler.de')[0]).toMatchObject({ severity: 'warning', fixes: [{ replacement: 'jörg@müller.de' }] });
  });

  it('does not flag legitimately different addresses', () => {
    expect(check(
      'anne@acme.com', // short names differ legitimately
      'ann@acme.com',
      'info@other.com', // role mailboxes at other domains are other mailboxes
      'jürgen@müller.de',
      '李娜@例子.广告',
      'sarah.jones@acme.com'.replace('sarah.jones', 'peter.brown'),
      'mike@acme.com', // a contact who only wrote to the sender is still a contact
    )).toEqual([]);
    const named = buildDraft({ recipients: [recipient('Sarah <sarah.k@other.org>'), recipient('王伟 <wei@other.cn>')] });
    expect(checkLookalikeAddresses(named, view)).toEqual([]);
  });

  it('does suggest removal when the intended contact is already on the draft', () => {
    const [w] = check('john.smith@acme.com', 'john.smyth@acme.com');
    expect(w!.fixes).toEqual([{ kind: 'remove_recipient', address: 'john.smyth@acme.com' }]);
  });

  it('does give one warning per recipient and ignores the sender', () => {
    expect(check('john.smyth@acme.com', 'john.smyth@acme.com', 'alice@acme.com', 'alice@acme.com')).toHaveLength(1);
  });
});

// Brute force, as the check is specified: every new recipient against every contact, full
// edit-distance matrix, no shortcuts. The check's one pass with length and character-set
// filters must pick the same contact for the same reason.
const ROLES = new Set(['info', 'billing']);
const full = (name?: string) => (nameTokens(name ?? '').length >= 2 ? nameTokens(name ?? '').join(' ') : '');
const STRENGTH = { confusable: 4, misspelt: 3, same_name: 2, same_local_part: 1 } as const;
type How = keyof typeof STRENGTH;

function bruteForce(recipients: { address: string; name?: string }[], contacts: ContactStats[], from: string): Map<string, [How, string]> {
  const out = new Map<string, [How, string]>();
  const seen = new Set<string>(); // one mailbox once, whichever way its domain is spelt
  for (const r of recipients) {
    const rp = addressParts(r.address);
    if (rp.canonical === addressParts(from).canonical || seen.has(rp.canonical)) continue;
    seen.add(rp.canonical);
    if (contacts.some((c) => c.address === r.address || addressParts(c.address).canonical === rp.canonical)) continue;
    let best: { how: How; c: ContactStats } | undefined;
    for (const c of contacts) {
      const cp = addressParts(c.address);
      const [rl, cl, rd, cd] = [rp.local, cp.local, rp.domain, cp.domain].map((x) => Array.from(x).length) as [number, number, number, number];
      const la = allowedEdits(Math.min(rl, cl));
      const da = allowedEdits(Math.min(rd, cd));
      const how: How | null =
        skeleton(`${rp.local}@${rp.domain}`) === skeleton(`${cp.local}@${cp.domain}`) ? 'confusable'
        : referenceEditDistance(rp.local, cp.local) <= la && referenceEditDistance(rp.domain, cp.domain) <= da ? 'misspelt'
        : full(r.name) && full(r.name) === full(c.name) ? 'same_name'
        : rp.local === cp.local && rl >= 3 && !ROLES.has(rp.local) ? 'same_local_part'
        : null;
      if (!how) continue;
      const w = (x: ContactStats) => 2 * x.sent + x.received;
      if (!best || STRENGTH[how] > STRENGTH[best.how] || (STRENGTH[how] === STRENGTH[best.how] && w(c) > w(best.c))) best = { how, c };
    }
    out.set(rp.address, best ? [best.how, best.c.address] : ['none' as How, '']);
  }
  for (const [k, v] of out) if (v[1] === '') out.delete(k);
  return out;
}

/** The contact and kind of resemblance a lookalike warning names (mixed-script-only warnings name none). */
function named(w: Warning): [string, [How, string]] | undefined {
  const patterns: [How, RegExp][] = [
    ['confusable', / looks like (\S+) but/],
    ['misspelt', /did you mean (\S+)\?/],
    ['same_name', / is (\S+) in your mail/],
    ['same_local_part', /you usually email (\S+) \(/],
  ];
  for (const [how, re] of patterns) {
    const m = re.exec(w.reason);
    if (m) return [w.recipients[0]!, [how, m[1]!]];
  }
  return undefined;
}

describe('checkLookalikeAddresses against a brute-force scan', () => {
  const local = fc.constantFrom('john.smith', 'jon.smith', 'john.smtih', 'j0hn.smith', 'anna', 'anne', 'info', 'sarah.jones', 'billing', 'bi11ing', 'mike', 'rnike', 'jörg');
  const domain = fc.constantFrom('acme.com', 'acme.co', 'acrne.com', 'acme.org', 'partner.co.uk', 'gmail.com', 'müller.de', 'xn--mller-kva.de', 'xn--pple-43d.com', 'apple.com');
  const name = fc.option(fc.constantFrom('John Smith', 'Sarah Jones', 'Anna Berg', 'Mike'), { nil: undefined });
  const address = fc.tuple(local, fc.constantFrom('', '1', 'x', '.a'), domain).map(([l, extra, d]) => `${l}${extra}@${d}`);

  it('does pick the same contact for the same reason', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ address, name, sent: fc.nat(5), received: fc.nat(5) }), { selector: (c) => c.address, maxLength: 30 }),
        fc.array(fc.record({ address, name }), { minLength: 1, maxLength: 8 }),
        (book, rcpts) => {
          const contacts = book.map((c) => contact(c.address, c.sent, c.received, c.name));
          const view = buildTestView({ contacts: { 'alice@acme.com': contacts } });
          const recipients = rcpts.map((r) => ({ address: r.address, role: 'to' as const, ...(r.name ? { name: r.name } : {}) }));
          const warnings = checkLookalikeAddresses(buildDraft({ recipients }), view);
          const got = new Map(warnings.map(named).filter((x) => x !== undefined));
          expect(got).toEqual(bruteForce(recipients, contacts, 'alice@acme.com'));
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe("checkLookalikeAddresses on the model's contact index", () => {
  const local = fc.constantFrom('john.smith', 'jon.smith', 'john.smtih', 'j0hn.smith', 'anna', 'anne', 'info', 'sarah.jones', 'billing', 'bi11ing', 'mike', 'rnike', 'jörg');
  const domain = fc.constantFrom('acme.com', 'acme.co', 'acrne.com', 'acme.org', 'partner.co.uk', 'gmail.com', 'müller.de', 'xn--mller-kva.de', 'apple.com');
  const name = fc.option(fc.constantFrom('John Smith', 'Sarah Jones', 'Anna Berg', 'Mike', 'john  SMITH'), { nil: undefined });
  const address = fc.tuple(local, fc.constantFrom('', '1', 'x'), domain).map(([l, extra, d]) => `${l}${extra}@${d}`);

  it('does warn exactly as the scan of contact records, after renames and erasures', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ to: fc.array(address, { minLength: 1, maxLength: 3 }), name, inbound: fc.boolean() }), { minLength: 1, maxLength: 25 }),
        fc.array(fc.record({ address, name }), { minLength: 1, maxLength: 8 }),
        fc.option(address, { nil: undefined }),
        (mail, rcpts, forgotten) => {
          const sender = 'alice@acme.com';
          const history: Observation[] = mail.map((m, i) => ({
            id: `m${i}`,
            at: new Date(Date.UTC(2026, 0, 1 + i)),
            from: m.inbound ? m.to[0]! : sender,
            to: m.inbound ? [sender] : m.to,
            cc: [],
            bcc: [],
            subject: 'Figures',
            ...(m.name ? { names: { [m.to[0]!]: m.name } } : {}),
          }));
          const model = SmartModel.fromHistory(history, { tenantDomains: ['acme.com'] });
          if (forgotten) model.forget(forgotten);
          // The same model seen without its index: checkLookalikeAddresses scans the records.
          const records: SmartView = { contact: (a, b) => model.contact(a, b), contacts: (a) => model.contacts(a), domainFirstSeen: (d) => model.domainFirstSeen(d), isInternal: (a) => model.isInternal(a) };
          const draft = buildDraft({ from: sender, recipients: rcpts.map((r) => ({ address: r.address, role: 'to' as const, ...(r.name ? { name: r.name } : {}) })) });
          expect(checkLookalikeAddresses(draft, model)).toEqual(checkLookalikeAddresses(draft, records));
        },
      ),
      { numRuns: 500 },
    );
  });
});

