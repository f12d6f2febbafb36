import { describe, expect, it } from 'vitest';
import { checkLookalikeAddresses } from './lookalike.check.ts';
import { buildDraft, buildTestView, contact, recipient } from './test-view.ts';

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
