// Per-tenant settings of the rule checks, their defaults, and validation of what an admin
// enters (custom sensitive patterns above all: they are regular expressions run on every draft).
import { z } from 'zod';
import { errors } from '../../shared/app-error.ts';

/** A tenant's own sensitive pattern, e.g. { name: 'Project code', pattern: 'PRJ-\\d{6}' }. */
export interface CustomSensitivePattern {
  /** Shown to senders instead of the matched text ("2 matches of Project code"). */
  name: string;
  /** JavaScript regular expression source. */
  pattern: string;
  /** Any of i, m, s, u; g is added by the scanner. */
  flags?: string;
}

/** Thresholds and lists the rule checks read; one object per tenant. */
export interface RuleCheckSettings {
  /** Label rank from which content counts as sensitive (confidential = 2). */
  sensitiveLabelRank: number;
  /** Personal webmail domains; "hotmail.*" matches hotmail followed by any suffix (hotmail.co.uk). */
  personalWebmailDomains: readonly string[];
  /** Warn when more visible (To/Cc) external recipients than this. */
  maxVisibleExternalRecipients: number;
  /** From this many visible external recipients the warning is critical (a mass disclosure). */
  criticalVisibleExternalRecipients: number;
  /** Warn when recipients span more distinct external domains than this. */
  maxExternalDomains: number;
  /** Non-empty body lines searched for a greeting. */
  greetingLines: number;
  /** The tenant's own sensitive patterns. */
  customPatterns: readonly CustomSensitivePattern[];
}

/** Personal webmail providers bundled with Sealpost; tenants may replace the list. */
export const PERSONAL_WEBMAIL_DOMAINS: readonly string[] = [
  'gmail.com', 'googlemail.com', 'outlook.*', 'hotmail.*', 'live.*', 'msn.com', 'passport.com',
  'yahoo.*', 'ymail.com', 'rocketmail.com', 'icloud.com', 'me.com', 'mac.com', 'aol.*', 'aim.com',
  'gmx.*', 'web.de', 't-online.de', 'freenet.de', 'mail.ru', 'inbox.ru', 'list.ru', 'bk.ru',
  'yandex.*', 'ya.ru', 'proton.me', 'protonmail.com', 'protonmail.ch', 'pm.me', 'tutanota.com',
  'tutanota.de', 'tuta.io', 'zoho.com', 'zohomail.com', 'zohomail.eu', 'fastmail.com', 'fastmail.fm',
  'hey.com', 'mail.com', 'email.com', 'hushmail.com', 'qq.com', '163.com', '126.com', 'naver.com',
  'daum.net', 'hanmail.net', 'orange.fr', 'wanadoo.fr', 'free.fr', 'laposte.net', 'sfr.fr',
  'libero.it', 'virgilio.it', 'btinternet.com', 'sky.com', 'virginmedia.com', 'blueyonder.co.uk',
  'talktalk.net', 'comcast.net', 'att.net', 'verizon.net', 'sbcglobal.net', 'rediffmail.com',
  'seznam.cz', 'wp.pl', 'o2.pl', 'interia.pl', 'onet.pl', 'bluewin.ch', 'telenet.be', 'skynet.be',
  'ziggo.nl', 'kpnmail.nl', 'terra.com.br', 'uol.com.br', 'bol.com.br',
];

/** Defaults; see docs/prevent.md (Rule checks) for why each value. */
export const DEFAULT_RULE_CHECK_SETTINGS: RuleCheckSettings = {
  sensitiveLabelRank: 2,
  personalWebmailDomains: PERSONAL_WEBMAIL_DOMAINS,
  maxVisibleExternalRecipients: 5,
  criticalVisibleExternalRecipients: 25,
  maxExternalDomains: 5,
  greetingLines: 3,
  customPatterns: [],
};

// Regex cost bounds. JavaScript regular expressions backtrack, so an admin's pattern such as
// (a+)+$ can take exponential time on a short line and stall every send of the tenant. These
// caps bound that: few, short patterns; nested unbounded quantifiers and backreferences (the
// shapes that backtrack catastrophically) refused; and each pattern only ever sees one line of
// at most MAX_CUSTOM_LINE_CHARS, within the first MAX_SCAN_CHARS of the draft.
/** Most custom patterns a tenant may define. */
export const MAX_CUSTOM_PATTERNS = 50;
/** Longest custom pattern source. */
export const MAX_PATTERN_LENGTH = 200;
/** Subject plus body characters scanned for sensitive content; the rest is not scanned. */
export const MAX_SCAN_CHARS = 100_000;
/** Longest stretch of text one custom pattern is run on (longer lines are cut into pieces). */
export const MAX_CUSTOM_LINE_CHARS = 1_000;

const ALLOWED_FLAGS = /^[imsu]*$/;

/**
 * Why a pattern source is refused for cost, or null when it is acceptable. A heuristic, not a
 * proof: it catches the catastrophic shapes admins write by accident (nested quantifiers,
 * backreferences); the line cap bounds what remains.
 */
export function riskyPatternReason(source: string): string | null {
  if (/\\[1-9]|\\k</.test(source)) return 'backreferences are not allowed';
  // Walk the source tracking, per open group, whether it contains an unbounded quantifier.
  const stack: boolean[] = [];
  let lastGroupUnbounded = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') {
      i++;
      lastGroupUnbounded = false;
      continue;
    }
    if (ch === '[') {
      for (i++; i < source.length && source[i] !== ']'; i++) if (source[i] === '\\') i++;
      lastGroupUnbounded = false;
      continue;
    }
    if (ch === '(') {
      stack.push(false);
      continue;
    }
    if (ch === ')') {
      lastGroupUnbounded = stack.pop() ?? false;
      if (lastGroupUnbounded && stack.length > 0) stack[stack.length - 1] = true;
      continue;
    }
    const quantifier = ch === '*' || ch === '+' ? 'unbounded' : ch === '{' ? boundOf(source.slice(i)) : ch === '?' ? 'bounded' : null;
    if (quantifier) {
      if (lastGroupUnbounded && (quantifier === 'unbounded' || quantifier === 'repeat')) return 'a repeated group contains a repetition (nested quantifiers)';
      if (quantifier === 'unbounded' && stack.length > 0) stack[stack.length - 1] = true;
    }
    lastGroupUnbounded = false;
  }
  return null;
}

// {n,} is unbounded, {n,m} with m > 1 repeats, {0,1} and {1} do not.
function boundOf(rest: string): 'unbounded' | 'repeat' | 'bounded' | null {
  const m = /^\{(\d+)(,(\d*))?\}/.exec(rest);
  if (!m) return null;
  if (m[2] && m[3] === '') return 'unbounded';
  const max = m[3] ? Number(m[3]) : Number(m[1]);
  return max > 1 ? 'repeat' : 'bounded';
}

const compiled = new Map<string, RegExp>();

/** Compiles a custom pattern (global, for scanning), or throws invalid 'invalid_custom_pattern' naming it. */
export function compileCustomPattern(p: CustomSensitivePattern): RegExp {
  const key = `${p.flags ?? ''}/${p.pattern}`;
  const cached = compiled.get(key);
  if (cached) return cached;
  const fail = (why: string) =>
    errors.invalid('invalid_custom_pattern', `Custom sensitive pattern "${p.name.slice(0, 80)}": ${why}`, { pattern: p.name });
  if (p.pattern.length === 0) throw fail('the pattern is empty');
  if (p.pattern.length > MAX_PATTERN_LENGTH) throw fail(`the pattern is longer than ${MAX_PATTERN_LENGTH} characters`);
  if (!ALLOWED_FLAGS.test(p.flags ?? '')) throw fail('flags may only be i, m, s and u');
  const risky = riskyPatternReason(p.pattern);
  if (risky) throw fail(`${risky}, as they can make matching take very long`);
  let re: RegExp;
  try {
    re = new RegExp(p.pattern, `${p.flags ?? ''}g`);
  } catch (err) {
    throw fail(`it does not compile (${err instanceof Error ? err.message : String(err)})`);
  }
  if (re.test('')) throw fail('it matches empty text, so it would match every draft');
  if (compiled.size >= 512) compiled.clear(); // bounded cache; patterns rarely change
  compiled.set(key, re);
  return re;
}

const customPatternSchema = z.object({
  name: z.string().trim().min(1).max(80),
  pattern: z.string(),
  flags: z.string().optional(),
});

const settingsSchema = z.object({
  sensitiveLabelRank: z.number().int().min(0).max(100),
  personalWebmailDomains: z.array(z.string().trim().toLowerCase().min(1).max(253)).max(5_000),
  maxVisibleExternalRecipients: z.number().int().min(0).max(10_000),
  criticalVisibleExternalRecipients: z.number().int().min(1).max(10_000),
  maxExternalDomains: z.number().int().min(0).max(10_000),
  greetingLines: z.number().int().min(1).max(20),
  customPatterns: z.array(customPatternSchema).max(MAX_CUSTOM_PATTERNS),
}).partial();

/**
 * Validates settings an admin sends (any subset; the rest keeps its default) and compiles each
 * custom pattern once, so a bad one is refused when saved rather than failing a send.
 */
export function parseRuleCheckSettings(input: unknown, base: RuleCheckSettings = DEFAULT_RULE_CHECK_SETTINGS): RuleCheckSettings {
  const parsed = settingsSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw errors.invalid('invalid_prevent_settings', `Prevent settings: ${issue.path.join('.') || 'settings'}: ${issue.message}`, { field: issue.path.join('.') });
  }
  const settings = { ...base, ...parsed.data };
  const names = new Set<string>();
  for (const p of settings.customPatterns) {
    if (names.has(p.name)) throw errors.invalid('invalid_custom_pattern', `Custom sensitive pattern "${p.name}" is defined twice`, { pattern: p.name });
    names.add(p.name);
    compileCustomPattern(p);
  }
  if (settings.criticalVisibleExternalRecipients <= settings.maxVisibleExternalRecipients) {
    throw errors.invalid('invalid_prevent_settings', 'Prevent settings: criticalVisibleExternalRecipients must be above maxVisibleExternalRecipients', { field: 'criticalVisibleExternalRecipients' });
  }
  return settings;
}

/** Whether a (Unicode or ASCII, lower-case) domain is in the webmail list; "name.*" matches any suffix. */
export function isPersonalWebmail(domain: string, list: readonly string[]): boolean {
  return list.some((entry) => (entry.endsWith('.*') ? domain.startsWith(entry.slice(0, -1)) && domain.length > entry.length - 1 : domain === entry));
}
