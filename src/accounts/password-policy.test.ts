import { describe, expect, it } from 'vitest';
import { isAppError } from '../shared/app-error.ts';
import { checkPasswordPolicy, normalisePassword } from './password-policy.ts';

const codeOf = (password: string, email = 'alice@example.org'): string | null => {
  try {
    checkPasswordPolicy(password, email);
    return null;
  } catch (err) {
    if (isAppError(err)) return err.code;
    throw err;
  }
};

describe('checkPasswordPolicy', () => {
  it('does accept 12 characters or more of anything, with no composition rules', () => {
    expect(codeOf('abcdefghijkl')).toBeNull();
    expect(codeOf('all lower case words here')).toBeNull();
    expect(codeOf('ünïcödé pässwörd ✓')).toBeNull();
    expect(codeOf('x'.repeat(1024))).toBeNull();
  });

  it('does refuse fewer than 12 characters, counting code points not UTF-16 units', () => {
    expect(codeOf('abcdefghijk')).toBe('password_too_short');
    // Six emoji are 12 UTF-16 units but six characters.
    expect(codeOf('😀😀😀😀😀😀')).toBe('password_too_short');
  });

  it('does refuse more than 1024 characters', () => {
    expect(codeOf('x'.repeat(1025))).toBe('password_too_long');
  });

  it('does refuse the email address itself or its local part, in any case', () => {
    expect(codeOf('Alice@Example.org', 'alice@example.org')).toBe('password_is_email');
    expect(codeOf('longlocalpart1', 'longlocalpart1@example.org')).toBe('password_is_email');
    expect(codeOf('alice@example.org!', 'alice@example.org')).toBeNull();
  });

  it('does normalise to NFKC so composed and decomposed input are the same password', () => {
    expect(normalisePassword('caf\u00e9 au lait 123')).toBe(normalisePassword('cafe\u0301 au lait 123'));
  });
});
