import { describe, expect, it } from 'vitest';
import { isAppError } from '../../shared/app-error.ts';
import {
  compileCustomPattern, DEFAULT_RULE_CHECK_SETTINGS, isPersonalWebmail, MAX_PATTERN_LENGTH, parseRuleCheckSettings,
  PERSONAL_WEBMAIL_DOMAINS, riskyPatternReason,
} from './settings.ts';

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

describe('parseRuleCheckSettings', () => {
  it('does keep defaults for what is not given', () => {
    expect(parseRuleCheckSettings({})).toEqual(DEFAULT_RULE_CHECK_SETTINGS);
    expect(parseRuleCheckSettings({ maxExternalDomains: 9 })).toEqual({ ...DEFAULT_RULE_CHECK_SETTINGS, maxExternalDomains: 9 });
  });

  it('does refuse a bad threshold naming the field', () => {
    const err = errorOf(() => parseRuleCheckSettings({ maxVisibleExternalRecipients: -1 }));
    expect(isAppError(err, 'invalid_prevent_settings')).toBe(true);
    expect((err as Error).message).toContain('maxVisibleExternalRecipients');
  });

  it('does refuse a custom pattern that does not compile, naming the pattern', () => {
    const err = errorOf(() => parseRuleCheckSettings({ customPatterns: [{ name: 'Case ref', pattern: 'CASE-(\\d+' }] }));
    expect(isAppError(err, 'invalid_custom_pattern')).toBe(true);
    expect((err as Error).message).toMatch(/^Custom sensitive pattern "Case ref": it does not compile/);
  });

  it('does refuse patterns that are too long, match empty text, use other flags, or are named twice', () => {
    const bad = [
      { name: 'Long', pattern: 'a'.repeat(MAX_PATTERN_LENGTH + 1) },
      { name: 'Empty', pattern: '' },
      { name: 'Optional', pattern: '\\d*' },
      { name: 'Global', pattern: 'x', flags: 'g' },
      { name: 'Sticky', pattern: 'x', flags: 'y' },
    ];
    for (const p of bad) expect(isAppError(errorOf(() => parseRuleCheckSettings({ customPatterns: [p] })), 'invalid_custom_pattern'), p.name).toBe(true);
    const twice = errorOf(() => parseRuleCheckSettings({ customPatterns: [{ name: 'A', pattern: 'x' }, { name: 'A', pattern: 'y' }] }));
    expect(isAppError(twice, 'invalid_custom_pattern')).toBe(true);
  });

  it('does refuse patterns that backtrack catastrophically, and say why', () => {
    for (const pattern of ['(a+)+$', '(\\w+\\s?)*x', '(?:\\d+)+', '(a*){2,}', '((ab)*c)+', '(x)\\1']) {
      const err = errorOf(() => compileCustomPattern({ name: 'Slow', pattern }));
      expect(isAppError(err, 'invalid_custom_pattern'), pattern).toBe(true);
    }
  });

  it('does accept ordinary patterns', () => {
    for (const pattern of ['PRJ-\\d{6}', '[A-Z]{3}\\d+', '(?:ACC|ACT)-\\d{4,8}', '(ab)+c', '(a|b)?\\d+', 'x[(]+y', '\\(\\d+\\)+']) {
      expect(riskyPatternReason(pattern), pattern).toBeNull();
      expect(() => compileCustomPattern({ name: 'Ok', pattern })).not.toThrow();
    }
  });
});

describe('isPersonalWebmail', () => {
  it('does match exact domains and wildcard suffixes, in Unicode or ASCII', () => {
    for (const d of ['gmail.com', 'hotmail.co.uk', 'hotmail.fr', 'yahoo.co.jp', 'gmx.de', 'gmx.net', 'web.de', 'yandex.ru', 'proton.me', 'outlook.com', 'live.co.uk']) {
      expect(isPersonalWebmail(d, PERSONAL_WEBMAIL_DOMAINS), d).toBe(true);
    }
    for (const d of ['acme.com', 'gmail.co', 'mygmail.com', 'hotmailer.com', 'web.de.example.com', 'hotmail', 'gmx']) {
      expect(isPersonalWebmail(d, PERSONAL_WEBMAIL_DOMAINS), d).toBe(false);
    }
  });
});
