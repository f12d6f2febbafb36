import { describe, expect, it } from 'vitest';
import { checkFirstTimeExternal, checkManyExternalDomains, checkManyExternalRecipients, checkPersonalWebmail } from './recipients.check.ts';
import { DEFAULT_RULE_CHECK_SETTINGS as settings } from './settings.ts';
import { buildDraft, buildTestView, contact, recipient } from './test-view.ts';

const view = buildTestView({
  contacts: { 'alice@acme.com': [contact('bob@partner.com'), contact('jörg@müller.de')] },
  domains: { 'client.com': new Date('2024-02-01T00:00:00Z') },
});

describe('checkFirstTimeExternal', () => {
  it('does warn about an external address never exchanged with, more strongly when the domain is new', () => {
    const warnings = checkFirstTimeExternal(buildDraft({ recipients: ['carol@client.com', 'dan@newco.io'] }), view);
    expect(warnings).toEqual([
      { check: 'first_time_external', severity: 'info', recipients: ['carol@client.com'], reason: 'You have never emailed carol@client.com before.', fixes: [{ kind: 'remove_recipient', address: 'carol@client.com' }] },
      { check: 'first_time_external', severity: 'warning', recipients: ['dan@newco.io'], reason: 'You have never emailed dan@newco.io, and no one in your organisation has exchanged mail with newco.io before.', fixes: [{ kind: 'remove_recipient', address: 'dan@newco.io' }] },
    ]);
  });

  it('does not warn about contacts, internal colleagues, or a contact written with the other spelling of its domain', () => {
    expect(checkFirstTimeExternal(buildDraft({ recipients: ['bob@partner.com', 'zoe@acme.com', 'jörg@xn--mller-kva.de'] }), view)).toEqual([]);
  });

  it('does handle internationalised new addresses and names', () => {
    const [w] = checkFirstTimeExternal(buildDraft({ recipients: [recipient('用户 <用户@例子.广告>', 'bcc')] }), view);
    expect(w!.reason).toContain('例子.广告');
  });

  it('does warn once for an address in both To and Cc', () => {
    expect(checkFirstTimeExternal(buildDraft({ recipients: ['dan@newco.io', recipient('dan@newco.io', 'cc')] }), view)).toHaveLength(1);
  });
});

describe('checkPersonalWebmail', () => {
  const to = ['someone@gmail.com', 'x@hotmail.co.uk', 'bob@partner.com', 'me@acme.com'];

  it('does warn critically for identifiers sent to personal webmail', () => {
    const warnings = checkPersonalWebmail(buildDraft({ recipients: to, body: 'Card 4242 4242 4242 4242' }), view, settings);
    expect(warnings.map((w) => [w.recipients[0], w.severity])).toEqual([['someone@gmail.com', 'critical'], ['x@hotmail.co.uk', 'critical']]);
    expect(warnings[0]!.reason).toBe('someone@gmail.com is a personal email account, and this message contains a payment card number ending 4242.');
  });

  it('does warn for a confidential label with no identifiers', () => {
    const warnings = checkPersonalWebmail(buildDraft({ recipients: to, labelRank: 2 }), view, settings);
    expect(warnings.map((w) => w.severity)).toEqual(['warning', 'warning']);
    expect(warnings[0]!.reason).toContain('labelled confidential or higher');
  });

  it('does not warn for ordinary content under a lower label, or for business domains', () => {
    expect(checkPersonalWebmail(buildDraft({ recipients: to, labelRank: 1 }), view, settings)).toEqual([]);
    expect(checkPersonalWebmail(buildDraft({ recipients: ['bob@partner.com'], labelRank: 3, body: 'IBAN GB82 WEST 1234 5698 7654 32' }), view, settings)).toEqual([]);
  });
});

const many = (n: number, domain: (i: number) => string, role: 'to' | 'cc' | 'bcc' = 'to') =>
  Array.from({ length: n }, (_, i) => recipient(`p${i}@${domain(i)}`, role));

describe('checkManyExternalRecipients', () => {
  it('does suggest Bcc when more than 5 visible external recipients span several domains', () => {
    const [w] = checkManyExternalRecipients(buildDraft({ recipients: many(6, (i) => `org${i}.com`) }), view, settings);
    expect(w).toMatchObject({ check: 'many_external_recipients', severity: 'warning' });
    expect(w!.fixes).toEqual([{ kind: 'move_to_bcc', addresses: w!.recipients }]);
    expect(w!.recipients).toHaveLength(6);
  });

  it('does count personal webmail recipients even at one domain, and is critical from 25', () => {
    expect(checkManyExternalRecipients(buildDraft({ recipients: many(6, () => 'gmail.com') }), view, settings)).toHaveLength(1);
    expect(checkManyExternalRecipients(buildDraft({ recipients: many(25, (i) => `o${i % 3}.com`) }), view, settings)[0]!.severity).toBe('critical');
  });

  it('does not warn at 5, for Bcc recipients, internal recipients, or colleagues at one organisation', () => {
    expect(checkManyExternalRecipients(buildDraft({ recipients: many(5, (i) => `org${i}.com`) }), view, settings)).toEqual([]);
    expect(checkManyExternalRecipients(buildDraft({ recipients: many(30, (i) => `org${i}.com`, 'bcc') }), view, settings)).toEqual([]);
    expect(checkManyExternalRecipients(buildDraft({ recipients: many(30, () => 'acme.com') }), view, settings)).toEqual([]);
    expect(checkManyExternalRecipients(buildDraft({ recipients: many(12, () => 'client.com') }), view, settings)).toEqual([]);
  });
});

describe('checkManyExternalDomains', () => {
  it('does warn above 5 distinct external domains, counting both spellings of a domain once', () => {
    const six = [...many(5, (i) => `org${i}.com`), recipient('x@müller.de', 'bcc'), recipient('y@xn--mller-kva.de')];
    const [w] = checkManyExternalDomains(buildDraft({ recipients: six }), view, settings);
    expect(w!.reason).toBe('This message goes to 6 outside organisations (org0.com, org1.com, org2.com, org3.com and 2 more); check that each of them should receive it.');
    expect(checkManyExternalDomains(buildDraft({ recipients: six.slice(0, 5).concat(six.slice(6)) }), view, settings)).toHaveLength(1);
    expect(checkManyExternalDomains(buildDraft({ recipients: six.slice(0, 6) }), view, settings)).toHaveLength(1);
    expect(checkManyExternalDomains(buildDraft({ recipients: six.slice(0, 5) }), view, settings)).toEqual([]);
  });
});
