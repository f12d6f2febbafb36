// Check-digit and structure validators for the identifiers the sensitive-content check looks
// for. Each takes the value with or without spaces/dashes. A pattern match alone is not
// enough: validating check digits is what keeps order numbers and phone numbers from being
// reported as card numbers or NHS numbers.

const digitsOnly = (value: string) => value.replace(/[\s-]/g, '');

/** Luhn (mod 10) check over a string of digits. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * A payment card number: 13–19 digits, a card-scheme first digit (2–6: Mastercard 2-series,
 * Amex/Diners/JCB 3, Visa 4, Mastercard/Maestro 5, Discover/UnionPay/Maestro 6), Luhn-valid,
 * and not one digit repeated (0000 0000 0000 0000 passes Luhn).
 */
export function isValidCardNumber(value: string): boolean {
  const d = digitsOnly(value);
  return /^[2-6]\d{12,18}$/.test(d) && !/^(\d)\1+$/.test(d) && luhnValid(d);
}

/** IBAN length per country (ISO 13616 registry, SWIFT release 2024). */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28,
  CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18,
  FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22,
  IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20,
  LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18,
  NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31,
  SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29,
  VA: 22, VG: 24, XK: 20, YE: 30,
};

/** An IBAN: known country, that country's length, and the ISO 7064 mod-97 check equal to 1. */
export function isValidIban(value: string): boolean {
  const iban = value.replace(/\s/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(iban) || IBAN_LENGTHS[iban.slice(0, 2)] !== iban.length) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rest = 0;
  for (const ch of rearranged) {
    const n = ch >= 'A' ? ch.charCodeAt(0) - 55 : ch.charCodeAt(0) - 48; // A = 10 … Z = 35
    rest = n >= 10 ? (rest * 100 + n) % 97 : (rest * 10 + n) % 97;
  }
  return rest === 1;
}

// HMRC NIM39110: prefixes never issued or reserved for administrative use.
const NINO_BAD_PREFIXES = new Set(['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ']);

/**
 * A UK National Insurance number: two prefix letters, six digits, suffix A–D. The first letter
 * is not D, F, I, Q, U or V; the second not D, F, I, O, Q, U or V; the prefix is not BG, GB,
 * KN, NK, NT, TN or ZZ. So HMRC's own documentation example QQ123456C is NOT valid here:
 * Q is never issued, which is exactly why HMRC uses it as the example.
 */
export function isValidUkNino(value: string): boolean {
  const n = value.replace(/\s/g, '').toUpperCase();
  const m = /^([A-CEGHJ-PR-TW-Z])([A-CEGHJ-NPR-TW-Z])\d{6}[A-D]$/.exec(n);
  return m !== null && !NINO_BAD_PREFIXES.has(m[1]! + m[2]!);
}

/**
 * An NHS number: 10 digits whose last is the modulus 11 check digit of the first nine
 * (weights 10 down to 2; 11 − remainder, 11 becomes 0, and 10 means the number is invalid).
 */
export function isValidNhsNumber(value: string): boolean {
  const d = digitsOnly(value);
  if (!/^\d{10}$/.test(d) || /^(\d)\1+$/.test(d)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (d.charCodeAt(i) - 48) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 10) return false;
  return (check === 11 ? 0 : check) === d.charCodeAt(9) - 48;
}

// Numbers the SSA voided after they were printed in advertising (078-05-1120 on a wallet
// insert, 219-09-9999 in an SSA leaflet): people paste them as examples, not as identities.
const SSN_VOIDED = new Set(['078051120', '219099999']);

/** A US Social Security number (123-45-6789, 123 45 6789 or 9 digits): area not 000, 666 or 900–999; group not 00; serial not 0000. */
export function isValidUsSsn(value: string): boolean {
  const m = /^(\d{3})([- ]?)(\d{2})\2(\d{4})$/.exec(value.trim());
  if (!m) return false;
  const area = Number(m[1]);
  return area !== 0 && area !== 666 && area < 900 && m[3] !== '00' && m[4] !== '0000' && !SSN_VOIDED.has(m[1]! + m[3]! + m[4]!);
}
