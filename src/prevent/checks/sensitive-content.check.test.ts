import { describe, expect, it } from 'vitest';
import { checkSensitiveContent, describeFindings, findSensitiveContent } from './sensitive-content.check.ts';
import { DEFAULT_RULE_CHECK_SETTINGS, MAX_SCAN_CHARS, parseRuleCheckSettings } from './settings.ts';
import { buildDraft, buildTestView } from './test-view.ts';

const settings = DEFAULT_RULE_CHECK_SETTINGS;
const kinds = (body: string, subject = '') => findSensitiveContent({ subject, body }, settings).map((f) => f.kind);

describe('findSensitiveContent', () => {
  it('does find each identifier kind in running text', () => {
    expect(kinds('Card: 4111 1111 1111 1111, exp 12/28')).toEqual(['payment_card']);
    expect(kinds('Amex 3782-822463-10005 please')).toEqual(['payment_card']);
    expect(kinds('Pay to GB82 WEST 1234 5698 7654 32 and thanks')).toEqual(['iban']);
    expect(kinds('IBAN: DE89370400440532013000.')).toEqual(['iban']);
    expect(kinds('His NI number is AB 12 34 56 C.')).toEqual(['uk_nino']);
    expect(kinds('NHS no. 943 476 5919')).toEqual(['nhs_number']);
    expect(kinds('SSN 536-22-8726')).toEqual(['us_ssn']);
  });

  it('does not report numbers that fail their check digits or issuing rules', () => {
    expect(kinds('Card: 4111 1111 1111 1112')).toEqual([]);
    expect(kinds('Pay to GB82 WEST 1234 5698 7654 33')).toEqual([]);
    expect(kinds('NI QQ123456C (the HMRC example)')).toEqual([]);
    expect(kinds('NHS no. 943 476 5918')).toEqual([]);
    expect(kinds('SSN 666-22-8726 or 078-05-1120')).toEqual([]);
  });

  it('does not report ordinary numbers: dates, phone numbers, order numbers, amounts', () => {
    expect(kinds('Meeting 2026-12-01 at 10:30, call +44 20 7946 0958 or 020 7946 0958.')).toEqual([]);
    expect(kinds('Order 1234567812345670 shipped; total £1,234,567.89; ref 12345678.')).toEqual([]);
    expect(kinds('Invoice INV-2026-000123 for 3 items.')).toEqual([]);
  });

  it('does find a card followed by its security code, and counts each item once', () => {
    const found = findSensitiveContent({ subject: '', body: 'Use 4242 4242 4242 4242 123 or 4111111111111111; again 4242 4242 4242 4242.' }, settings);
    expect(found.map((f) => f.ending)).toEqual(['4242', '1111', '4242']);
    expect(describeFindings(found)).toEqual(['3 payment card numbers ending 4242 and 1111']);
  });

  it('does not read a card number also as an NHS number or SSN', () => {
    expect(kinds('4111 1111 1111 1111')).toEqual(['payment_card']);
  });

  it('does scan the subject and says where', () => {
    const found = findSensitiveContent({ subject: 'Refund to DE89 3704 0044 0532 0130 00', body: 'Thanks' }, settings);
    expect(found).toEqual([{ kind: 'iban', where: 'subject', ending: '3000' }]);
  });

  it('does find custom patterns and reports them by name and count', () => {
    const custom = parseRuleCheckSettings({ customPatterns: [{ name: 'Project code', pattern: 'PRJ-\\d{6}' }, { name: 'Codename', pattern: 'falcon', flags: 'i' }] });
    const found = findSensitiveContent({ subject: 'Falcon update', body: 'See PRJ-123456 and PRJ-654321.\nfalcon is on track' }, custom);
    expect(describeFindings(found)).toEqual(['2 matches of “Project code”', '2 matches of “Codename”']);
  });

  it('does scan only the first MAX_SCAN_CHARS characters', () => {
    const pad = 'x'.repeat(MAX_SCAN_CHARS);
    expect(kinds(`${pad} 4111 1111 1111 1111`)).toEqual([]);
    expect(kinds(`4111 1111 1111 1111 ${pad}`)).toEqual(['payment_card']);
  });
});

describe('checkSensitiveContent', () => {
  const view = buildTestView();

  it('does warn without echoing the full value, at warning level when someone outside receives it', () => {
    const draft = buildDraft({ recipients: ['bob@partner.com'], body: 'Card 4242 4242 4242 4242, NI AB123456C, SSN 536-22-8726' });
    const [w, ...rest] = checkSensitiveContent(draft, view, settings);
    expect(rest).toEqual([]);
    expect(w).toMatchObject({ check: 'sensitive_content', severity: 'warning', recipients: [] });
    expect(w!.reason).toBe('This message contains a payment card number ending 4242, a UK National Insurance number and a US Social Security number.');
    for (const secret of ['4242 4242 4242 4242', '4242424242424242', 'AB123456C', '536-22-8726', '8726']) expect(JSON.stringify(w)).not.toContain(secret);
    expect(w!.fixes).toContainEqual({ kind: 'remove_content', description: 'a payment card number ending 4242' });
  });

  it('does report at info level when every recipient is internal', () => {
    const draft = buildDraft({ recipients: ['bob@acme.com'], body: 'IBAN GB82 WEST 1234 5698 7654 32' });
    expect(checkSensitiveContent(draft, view, settings)[0]!.severity).toBe('info');
  });

  it('does say nothing about a draft without sensitive content', () => {
    expect(checkSensitiveContent(buildDraft({ recipients: ['bob@partner.com'], body: 'Lunch on Friday? Call me on 07700 900123.' }), view, settings)).toEqual([]);
  });
});
