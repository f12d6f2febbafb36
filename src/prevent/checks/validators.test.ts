import { describe, expect, it } from 'vitest';
import { isValidCardNumber, isValidIban, isValidNhsNumber, isValidUkNino, isValidUsSsn, luhnValid } from './validators.ts';

// Changes the digit at `index` (counting digits only) to the next digit, keeping separators.
function changeDigit(value: string, index: number): string {
  let seen = -1;
  return value.replace(/\d/g, (d) => (++seen === index ? String((Number(d) + 1) % 10) : d));
}

describe('luhnValid', () => {
  it('does accept the textbook example and refuse it with one digit changed', () => {
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398714')).toBe(false);
    expect(luhnValid('12a4')).toBe(false);
  });
});

describe('isValidCardNumber', () => {
  // Published test cards (Stripe, Visa, Amex, Mastercard, Discover, Diners, JCB, UnionPay).
  const cards = [
    '4111 1111 1111 1111', '4242424242424242', '4000-0566-5566-5556', '5555 5555 5555 4444',
    '2223003122003222', '5200828282828210', '378282246310005', '371449635398431',
    '6011111111111117', '3056930009020004', '36227206271667', '3566002020360505', '6200000000000005',
    '4222222222222',
  ];

  it.each(cards)('does accept the published test card %s', (card) => {
    expect(isValidCardNumber(card)).toBe(true);
  });

  it.each(cards)('does refuse %s with any one digit changed', (card) => {
    const n = card.replace(/\D/g, '').length;
    for (let i = 0; i < n; i++) expect(isValidCardNumber(changeDigit(card, i)), `digit ${i}`).toBe(false);
  });

  it('does refuse wrong lengths, non-card first digits and repeated digits', () => {
    expect(isValidCardNumber('424242424242')).toBe(false); // 12 digits
    expect(isValidCardNumber('42424242424242424242')).toBe(false); // 20 digits
    expect(isValidCardNumber('79927398713')).toBe(false); // Luhn-valid, too short
    expect(isValidCardNumber('1234567812345670')).toBe(false); // Luhn-valid, first digit 1
    expect(isValidCardNumber('0000 0000 0000 0000')).toBe(false);
  });
});

describe('isValidIban', () => {
  const ibans = [
    'GB82 WEST 1234 5698 7654 32', 'DE89 3704 0044 0532 0130 00', 'FR14 2004 1010 0505 0001 3M02 606',
    'NL91ABNA0417164300', 'BE68 5390 0754 7034', 'NO93 8601 1117 947', 'CH93 0076 2011 6238 5295 7',
    'gb82 west 1234 5698 7654 32',
  ];

  it.each(ibans)('does accept the published example %s', (iban) => {
    expect(isValidIban(iban)).toBe(true);
  });

  it.each(ibans)('does refuse %s with any one digit changed', (iban) => {
    const n = iban.replace(/\D/g, '').length;
    for (let i = 0; i < n; i++) expect(isValidIban(changeDigit(iban, i)), `digit ${i}`).toBe(false);
  });

  it('does refuse a wrong length for the country and an unknown country', () => {
    expect(isValidIban('GB82 WEST 1234 5698 7654 3')).toBe(false);
    expect(isValidIban('DE89 3704 0044 0532 0130 000')).toBe(false);
    expect(isValidIban('XX82 WEST 1234 5698 7654 32')).toBe(false);
  });
});

describe('isValidUkNino', () => {
  it('does accept numbers that follow the HMRC prefix and suffix rules', () => {
    for (const n of ['AB123456C', 'AB 12 34 56 C', 'ce123456a', 'JG103759A', 'ZY999999D']) expect(isValidUkNino(n), n).toBe(true);
  });

  it('does refuse the HMRC example QQ123456C, whose Q prefix is never issued', () => {
    expect(isValidUkNino('QQ123456C')).toBe(false);
  });

  it('does refuse each forbidden first letter, second letter, prefix and suffix', () => {
    for (const l of 'DFIQUV') expect(isValidUkNino(`${l}A123456C`), l).toBe(false);
    for (const l of 'DFIOQUV') expect(isValidUkNino(`A${l}123456C`), l).toBe(false);
    for (const p of ['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ']) expect(isValidUkNino(`${p}123456C`), p).toBe(false);
    expect(isValidUkNino('AB123456E')).toBe(false);
    expect(isValidUkNino('AB12345C')).toBe(false);
    expect(isValidUkNino('OA123456C')).toBe(true); // O is allowed first, not second
  });
});

describe('isValidNhsNumber', () => {
  // 943 476 5919 is NHS Digital's published test number; the others are from its test data packs.
  const numbers = ['943 476 5919', '9434765870', '401-023-2137'];

  it.each(numbers)('does accept %s', (n) => {
    expect(isValidNhsNumber(n)).toBe(true);
  });

  it.each(numbers)('does refuse %s with any one digit changed', (n) => {
    for (let i = 0; i < 10; i++) expect(isValidNhsNumber(changeDigit(n, i)), `digit ${i}`).toBe(false);
  });

  it('does refuse numbers whose check digit would be 10, wrong lengths and repeated digits', () => {
    // 1000000 00x: sum = 10, 11 - 10 = 1 → valid only with check digit 1.
    expect(isValidNhsNumber('1000000001')).toBe(true);
    // 123456789x: sum = 10·1+9·2+…+2·9 = 210, 210 mod 11 = 1, 11 - 1 = 10 → no valid check digit.
    for (let d = 0; d <= 9; d++) expect(isValidNhsNumber(`123456789${d}`)).toBe(false);
    expect(isValidNhsNumber('943476591')).toBe(false);
    expect(isValidNhsNumber('0000000000')).toBe(false);
  });
});

describe('isValidUsSsn', () => {
  it('does accept structurally valid numbers', () => {
    for (const n of ['536-22-8726', '123-45-6789', '001 01 0001', '899-99-9999']) expect(isValidUsSsn(n), n).toBe(true);
  });

  it('does refuse area 000, 666 and 900–999, group 00, serial 0000 and the voided advertising numbers', () => {
    for (const n of ['000-12-3456', '666-12-3456', '900-12-3456', '999-12-3456', '123-00-4567', '123-45-0000', '078-05-1120', '219-09-9999', '12-345-6789']) {
      expect(isValidUsSsn(n), n).toBe(false);
    }
  });
});
