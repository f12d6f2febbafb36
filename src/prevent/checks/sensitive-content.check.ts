// sensitive_content: identifiers and tenant-defined patterns in the subject or body. A pattern
// finds candidates and a validator confirms them (check digits, issuing rules), so ordinary
// numbers are not reported. Findings describe what was found and never carry the full value.
import type { Draft, SmartView, SuggestedFix, Warning } from '../prevent.model.ts';
import { compileCustomPattern, MAX_CUSTOM_LINE_CHARS, MAX_SCAN_CHARS, type RuleCheckSettings } from './settings.ts';
import { externalRecipients, listText, plural } from './text.ts';
import { isValidCardNumber, isValidIban, isValidNhsNumber, isValidUkNino, isValidUsSsn, IBAN_LENGTHS } from './validators.ts';

/** What kinds of sensitive content are recognised; `custom` is a tenant pattern. */
export const SENSITIVE_KINDS = ['payment_card', 'iban', 'uk_nino', 'nhs_number', 'us_ssn', 'custom'] as const;
/** Kind of a {@link SensitiveFinding}. */
export type SensitiveKind = (typeof SENSITIVE_KINDS)[number];

/** One sensitive item found in a draft; holds no more of the value than the last four characters of a card number or IBAN. */
export interface SensitiveFinding {
  kind: SensitiveKind;
  where: 'subject' | 'body';
  /** Last four characters, for cards and IBANs only (what receipts and bank statements show). */
  ending?: string;
  /** Custom pattern name. */
  pattern?: string;
}

interface Detector {
  kind: Exclude<SensitiveKind, 'custom'>;
  re: RegExp;
  /** The validated length of the match from its start (it may be shorter than the candidate), or 0. */
  accept(candidate: string): number;
  ending?: (value: string) => string;
}

const alnum = (s: string) => s.replace(/[^A-Za-z0-9]/g, '');

// Card candidates may run into a following number ("4111 1111 1111 1111 123" with the CVV),
// so try each prefix that ends at a separator, longest first.
function acceptCard(candidate: string): number {
  const ends = [candidate.length];
  for (let i = candidate.length - 1; i > 0; i--) if (/[ -]/.test(candidate[i]!)) ends.push(i);
  return ends.find((end) => isValidCardNumber(candidate.slice(0, end))) ?? 0;
}

// IBAN candidates are cut to the country's length: the text after one is often more letters.
function acceptIban(candidate: string): number {
  const length = IBAN_LENGTHS[candidate.slice(0, 2).toUpperCase()];
  if (!length) return 0;
  let seen = 0;
  for (let i = 0; i < candidate.length; i++) {
    if (/[A-Za-z0-9]/.test(candidate[i]!) && ++seen === length) return isValidIban(candidate.slice(0, i + 1)) ? i + 1 : 0;
  }
  return 0;
}

const whole = (valid: (s: string) => boolean) => (candidate: string) => (valid(candidate) ? candidate.length : 0);

// Order matters: earlier detectors claim their text first, so a card number is not also
// read as an NHS number.
const DETECTORS: Detector[] = [
  { kind: 'payment_card', re: /(?<![\d-])[2-6]\d(?:[ -]?\d){11,21}(?!\d)/g, accept: acceptCard, ending: (v) => alnum(v).slice(-4) },
  { kind: 'iban', re: /\b[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){10,34}/g, accept: acceptIban, ending: (v) => alnum(v).slice(-4).toUpperCase() },
  { kind: 'nhs_number', re: /(?<![\d+])\d{3}([ -]?)\d{3}\1\d{4}(?![\d-])/g, accept: whole(isValidNhsNumber) },
  { kind: 'us_ssn', re: /(?<![\d-])\d{3}([ -])\d{2}\1\d{4}(?![\d-])/g, accept: whole(isValidUsSsn) },
  { kind: 'uk_nino', re: /\b[A-Za-z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-Da-d]\b/g, accept: whole(isValidUkNino) },
];

/** Most matches counted per custom pattern; enough to say "many", bounded in cost. */
const MAX_MATCHES_PER_PATTERN = 100;

/** Every sensitive item in the subject and body (first {@link MAX_SCAN_CHARS} characters). */
export function findSensitiveContent(draft: Pick<Draft, 'subject' | 'body'>, settings: RuleCheckSettings): SensitiveFinding[] {
  const text = `${draft.subject}\n${draft.body}`.slice(0, MAX_SCAN_CHARS);
  const subjectEnd = draft.subject.length;
  const where = (at: number) => (at < subjectEnd ? 'subject' : 'body');
  const findings: SensitiveFinding[] = [];
  const claimed: [number, number][] = [];

  for (const d of DETECTORS) {
    d.re.lastIndex = 0;
    for (let m = d.re.exec(text); m; m = d.re.exec(text)) {
      const length = d.accept(m[0]);
      const start = m.index;
      if (length === 0 || claimed.some(([s, e]) => start < e && start + length > s)) continue;
      claimed.push([start, start + length]);
      const value = m[0].slice(0, length);
      findings.push({ kind: d.kind, where: where(start), ...(d.ending ? { ending: d.ending(value) } : {}) });
      d.re.lastIndex = start + length;
    }
  }

  for (const p of settings.customPatterns) {
    const re = compileCustomPattern(p);
    let count = 0;
    let offset = 0;
    for (const line of text.split('\n')) {
      for (let i = 0; i < line.length && count < MAX_MATCHES_PER_PATTERN; i += MAX_CUSTOM_LINE_CHARS) {
        const chunk = line.slice(i, i + MAX_CUSTOM_LINE_CHARS);
        re.lastIndex = 0;
        for (let m = re.exec(chunk); m && count < MAX_MATCHES_PER_PATTERN; m = re.exec(chunk)) {
          if (m[0].length === 0) re.lastIndex++;
          else findings.push({ kind: 'custom', where: where(offset + i + m.index), pattern: p.name }), count++;
        }
      }
      offset += line.length + 1;
    }
  }
  return findings;
}

const NOUNS: Record<Exclude<SensitiveKind, 'custom'>, [string, string, string]> = {
  payment_card: ['a', 'payment card number', 'payment card numbers'],
  iban: ['an', 'IBAN', 'IBANs'],
  uk_nino: ['a', 'UK National Insurance number', 'UK National Insurance numbers'],
  nhs_number: ['an', 'NHS number', 'NHS numbers'],
  us_ssn: ['a', 'US Social Security number', 'US Social Security numbers'],
};

/** Findings in words, one phrase per kind: "a payment card number ending 4242", "2 matches of Project code". */
export function describeFindings(findings: SensitiveFinding[]): string[] {
  const phrases: string[] = [];
  for (const kind of SENSITIVE_KINDS) {
    const group = findings.filter((f) => f.kind === kind);
    if (group.length === 0) continue;
    if (kind === 'custom') {
      for (const name of new Set(group.map((f) => f.pattern!))) {
        phrases.push(`${plural(group.filter((f) => f.pattern === name).length, 'match', 'matches')} of “${name}”`);
      }
      continue;
    }
    const [article, one, many] = NOUNS[kind];
    const endings = [...new Set(group.map((f) => f.ending).filter((e): e is string => !!e))];
    const ending = endings.length > 0 ? ` ending ${listText(endings.slice(0, 3))}${endings.length > 3 ? ', …' : ''}` : '';
    phrases.push(`${group.length === 1 ? `${article} ${one}` : plural(group.length, one, many)}${ending}`);
  }
  return phrases;
}

/** Whether findings include a built-in identifier (not only tenant patterns). */
export function hasIdentifier(findings: SensitiveFinding[]): boolean {
  return findings.some((f) => f.kind !== 'custom');
}

/**
 * One warning for the whole draft when it holds sensitive content: `warning` when anyone
 * outside the organisation receives it, `info` when every recipient is internal.
 */
export function checkSensitiveContent(
  draft: Draft,
  view: SmartView,
  settings: RuleCheckSettings,
  findings: SensitiveFinding[] = findSensitiveContent(draft, settings),
): Warning[] {
  if (findings.length === 0) return [];
  const phrases = describeFindings(findings);
  const inSubject = findings.some((f) => f.where === 'subject');
  const external = externalRecipients(draft.recipients, view).length > 0;
  const fixes: SuggestedFix[] = phrases.map((description) => ({ kind: 'remove_content', description }));
  return [{
    check: 'sensitive_content',
    severity: external ? 'warning' : 'info',
    recipients: [],
    reason: `This message contains ${listText(phrases)}${inSubject ? ' (some of it in the subject, which the notification email shows unless the label hides it)' : ''}.`,
    fixes,
  }];
}
