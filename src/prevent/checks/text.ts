// Text helpers shared by the rule checks: address parts (internationalised domains compared
// in one form), folding names for case- and accent-insensitive matching, edit distance,
// confusable skeletons and script mixing. Pure functions, no I/O.
import { domainToASCII, domainToUnicode } from 'node:url';
import type { DraftRecipient, SmartView, ContactStats } from '../prevent.model.ts';

/** An address split the way the checks compare it. */
export interface AddressParts {
  /** The address as given (lower-cased). */
  address: string;
  /** Local part, NFC, lower-case. */
  local: string;
  /** Domain in Unicode (xn-- labels decoded), NFC, lower-case. */
  domain: string;
  /** Domain in ASCII (punycode); the raw domain when it cannot be converted. */
  asciiDomain: string;
  /** local@asciiDomain: two spellings of one mailbox (müller.de, xn--mller-kva.de) compare equal. */
  canonical: string;
}

const ASCII = /^[\x00-\x7f]*$/;

// Converting IDN domains is the costliest step when a sender has thousands of contacts, and
// the same addresses recur on every draft: keep recent results (bounded, pure data).
const partsCache = new Map<string, AddressParts>();

/** Splits an address at its last @; tolerant of anything (never throws). */
export function addressParts(address: string): AddressParts {
  let parts = partsCache.get(address);
  if (!parts) {
    if (partsCache.size >= 50_000) partsCache.clear();
    parts = splitAddress(address);
    partsCache.set(address, parts);
  }
  return parts;
}

function splitAddress(address: string): AddressParts {
  const trimmed = address.trim();
  // ASCII is already in NFC, and most addresses are ASCII: skip the normalisation call.
  const a = (ASCII.test(trimmed) ? trimmed : trimmed.normalize('NFC')).toLowerCase();
  const at = a.lastIndexOf('@');
  const local = at < 0 ? a : a.slice(0, at);
  const raw = at < 0 ? '' : a.slice(at + 1);
  const { domain, asciiDomain } = domainForms(raw);
  return { address: a, local, domain, asciiDomain, canonical: `${local}@${asciiDomain}` };
}

// A sender's contacts share a few domains: convert each domain once (the IDN conversions are
// the slow part of splitting an address).
const domainCache = new Map<string, { domain: string; asciiDomain: string }>();

function domainForms(raw: string): { domain: string; asciiDomain: string } {
  let forms = domainCache.get(raw);
  if (!forms) {
    const domain = (raw && domainToUnicode(raw)) || raw;
    forms = { domain: domain.normalize('NFC'), asciiDomain: (raw && domainToASCII(raw)) || raw };
    if (domainCache.size >= 50_000) domainCache.clear();
    domainCache.set(raw, forms);
  }
  return forms;
}

/** The sender's history with an address, trying both spellings of an internationalised domain. */
export function findContact(view: SmartView, sender: string, address: string): ContactStats | undefined {
  const p = addressParts(address);
  const spellings = new Set([address, p.address, `${p.local}@${p.asciiDomain}`, `${p.local}@${p.domain}`]);
  for (const s of spellings) {
    const c = view.contact(sender, s);
    if (c) return c;
  }
  return undefined;
}

/** When the tenant first exchanged mail with a domain, under either spelling. */
export function domainFirstSeen(view: SmartView, parts: AddressParts): Date | undefined {
  return view.domainFirstSeen(parts.asciiDomain) ?? (parts.domain !== parts.asciiDomain ? view.domainFirstSeen(parts.domain) : undefined);
}

/** External recipients of a draft (the view decides what is internal), in draft order. */
export function externalRecipients(recipients: DraftRecipient[], view: SmartView): DraftRecipient[] {
  return recipients.filter((r) => !view.isInternal(r.address));
}

// Letters that do not decompose under NFD but are read as their base letters.
const FOLD_EXTRA: Record<string, string> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', ł: 'l', đ: 'd', ð: 'd', þ: 'th', ı: 'i' };

/** Lower-case, accents removed, special letters spelt out: "Éloïse" → "eloise", "Jörg" → "jorg". */
export function fold(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[ßæœøłđðþı]/g, (ch) => FOLD_EXTRA[ch] ?? ch);
}

/** German transliteration of umlauts ("Jörg" → "joerg"), the other way people spell such names. */
export function foldGerman(text: string): string {
  return fold(text.toLowerCase().replace(/ä/g, 'ae').replace(/ö/g, 'oe').replace(/ü/g, 'ue'));
}

/** Words of a name, folded: "Smith, Sarah-Jane" → ["smith", "sarah", "jane"]. */
export function nameTokens(name: string): string[] {
  return fold(name).split(/[^\p{L}\p{N}']+/u).filter((t) => t.length > 0);
}

/**
 * Damerau–Levenshtein distance (optimal string alignment: insert, delete, substitute, swap two
 * neighbours) over code points. Stops early and returns max + 1 once the distance must exceed
 * `max`, so comparing against thousands of contacts stays cheap.
 */
export function editDistance(a: string, b: string, max: number): number {
  const n = codePoints(a, 0);
  const m = codePoints(b, 1);
  if (Math.abs(n - m) > max) return max + 1;
  const s = points[0]!;
  const t = points[1]!;
  // Three rolling rows, reused across calls: this runs once per contact per new recipient.
  if (rows[0]!.length < m + 1) for (let k = 0; k < 3; k++) rows[k] = new Int32Array(2 * (m + 1));
  let prev2 = rows[0]!;
  let prev = rows[1]!;
  let cur = rows[2]!;
  for (let j = 0; j <= m; j++) prev[j] = j;
  for (let i = 1; i <= n; i++) {
    const si = s[i - 1]!;
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= m; j++) {
      const cost = si === t[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && si === t[j - 2] && s[i - 2] === t[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur[j] = d;
      if (d < rowMin) rowMin = d;
    }
    if (rowMin > max) return max + 1;
    const spare = prev2;
    prev2 = prev;
    prev = cur;
    cur = spare;
  }
  return Math.min(prev[m]!, max + 1);
}

// Buffers reused by editDistance (single-threaded, never re-entered).
const rows: Int32Array[] = [new Int32Array(64), new Int32Array(64), new Int32Array(64)];
const points: Int32Array[] = [new Int32Array(64), new Int32Array(64)];

/** Writes the code points of `text` into points[slot] (grown when needed); returns how many. */
function codePoints(text: string, slot: 0 | 1): number {
  if (points[slot]!.length < text.length) points[slot] = new Int32Array(2 * text.length);
  const buf = points[slot]!;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.codePointAt(i)!;
    if (c > 0xffff) i++; // a surrogate pair is one code point, as Array.from counts it
    buf[n++] = c;
  }
  return n;
}

/** Number of code points (what Array.from(text).length counts), without building the array. */
export function codePointLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++, n++) if (text.codePointAt(i)! > 0xffff) i++;
  return n;
}

/**
 * A 32-bit set of the characters in `text` (each code point hashed to one bit). One edit
 * (insert, delete, substitute, swap) changes at most two bits, so two strings whose masks
 * differ in more than 2·k bits are more than k edits apart: a free test before editDistance.
 */
export function charMask(text: string): number {
  let mask = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.codePointAt(i)!;
    if (c > 0xffff) i++;
    mask |= 1 << (c % 31);
  }
  return mask;
}

/** Number of bits set in a 32-bit integer. */
export function bitCount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Edits tolerated between two strings of this length before they count as different: short names differ legitimately. */
export function allowedEdits(length: number): number {
  return length <= 4 ? 0 : length <= 8 ? 1 : 2;
}

// Characters that render like Latin letters (Cyrillic, Greek, Latin variants, digits), after
// lower-casing. From Unicode's confusables list, limited to those seen in phishing addresses.
const CONFUSABLE: Record<string, string> = {
  а: 'a', в: 'b', е: 'e', ё: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  ѕ: 's', і: 'i', ї: 'i', ј: 'j', ԁ: 'd', ԛ: 'q', ԝ: 'w', һ: 'h', ӏ: 'l', ь: 'b',
  α: 'a', β: 'b', ε: 'e', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', ϲ: 'c', ω: 'w',
  ɡ: 'g', ɩ: 'i', ℓ: 'l', '0': 'o', '1': 'l', '|': 'l',
};

/** What an address looks like on screen: confusables mapped, accents dropped, rn → m, vv → w. */
export function skeleton(text: string): string {
  // ASCII is unchanged by every Unicode normalisation and has no marks: map only the ASCII
  // look-alikes of CONFUSABLE (0 → o; 1 and | → l), then rn and vv as below.
  if (ASCII.test(text)) return text.toLowerCase().replace(/0/g, 'o').replace(/[1|]/g, 'l').replace(/rn/g, 'm').replace(/vv/g, 'w');
  const mapped = Array.from(text.normalize('NFKC').toLowerCase(), (ch) => CONFUSABLE[ch] ?? ch).join('');
  return mapped.normalize('NFD').replace(/\p{M}+/gu, '').replace(/rn/g, 'm').replace(/vv/g, 'w');
}

const SCRIPTS: [string, RegExp][] = [
  ['Latin', /\p{Script=Latin}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Greek', /\p{Script=Greek}/u],
  ['Armenian', /\p{Script=Armenian}/u],
  ['Hebrew', /\p{Script=Hebrew}/u],
  ['Arabic', /\p{Script=Arabic}/u],
  ['Han', /\p{Script=Han}/u],
  ['Hiragana', /\p{Script=Hiragana}/u],
  ['Katakana', /\p{Script=Katakana}/u],
  ['Bopomofo', /\p{Script=Bopomofo}/u],
  ['Hangul', /\p{Script=Hangul}/u],
  ['Thai', /\p{Script=Thai}/u],
  ['Devanagari', /\p{Script=Devanagari}/u],
  ['Georgian', /\p{Script=Georgian}/u],
];

/** Scripts of the letters in a string (digits, hyphens and marks belong to none). */
export function scriptsOf(text: string): Set<string> {
  const found = new Set<string>();
  for (const ch of text) {
    if (!/\p{L}/u.test(ch)) continue;
    const hit = SCRIPTS.find(([, re]) => re.test(ch));
    found.add(hit ? hit[0] : 'Other');
  }
  return found;
}

// Script mixes that are normal writing (UTS #39 "highly restrictive"): Japanese, Chinese with
// Bopomofo, Korean, each optionally with Latin.
const ALLOWED_MIXES = [
  new Set(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set(['Latin', 'Han', 'Bopomofo']),
  new Set(['Latin', 'Han', 'Hangul']),
];

/** Scripts mixed within one label (local part or domain label) in a way real names do not; empty when none. */
export function mixedScripts(parts: AddressParts): string[] {
  for (const label of [parts.local, ...parts.domain.split('.')]) {
    const scripts = scriptsOf(label);
    if (scripts.size < 2) continue;
    if (ALLOWED_MIXES.some((allowed) => [...scripts].every((s) => allowed.has(s)))) continue;
    return [...scripts];
  }
  return [];
}

/** "1 IBAN", "2 IBANs". */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** "a, b and c". */
export function listText(items: string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** How well the sender knows a contact, in words: "you have emailed them 12 times". */
export function historyText(c: ContactStats): string {
  if (c.sent > 0) return `you have emailed ${c.address} ${c.sent === 1 ? 'once' : `${c.sent} times`}`;
  return `${c.address} has emailed you ${c.received === 1 ? 'once' : `${c.received} times`}`;
}
