// The password policy of NIST SP 800-63B (§3.1.1.2): length matters, composition rules do not.
// At least 12 characters, at most 1024, not the account's own email address; any Unicode
// characters, including spaces. Passwords are NFKC-normalised before they are checked and
// hashed, so the same password typed on two keyboards (composed or decomposed accents,
// full-width digits) is the same password.
import { errors } from '../shared/app-error.ts';

/** Shortest accepted password, in characters (Unicode code points). */
export const MIN_PASSWORD_LENGTH = 12;
/** Longest accepted password: long passphrases are welcome, unbounded input is not. */
export const MAX_PASSWORD_LENGTH = 1024;

/** The form a password is checked and hashed in. */
export function normalisePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Throws 'password_too_short', 'password_too_long' or 'password_is_email' when `password` may not be used by `email`. */
export function checkPasswordPolicy(password: string, email: string): void {
  const normalised = normalisePassword(password);
  // Code points, not UTF-16 units: an emoji is one character to the person typing it.
  const length = [...normalised].length;
  if (length < MIN_PASSWORD_LENGTH) {
    throw errors.invalid('password_too_short', `password must be at least ${MIN_PASSWORD_LENGTH} characters; a few unrelated words make a good one`, { field: 'newPassword' });
  }
  if (length > MAX_PASSWORD_LENGTH) {
    throw errors.invalid('password_too_long', `password must be at most ${MAX_PASSWORD_LENGTH} characters`, { field: 'newPassword' });
  }
  const lower = normalised.trim().toLowerCase();
  const address = email.toLowerCase();
  // The first thing an attacker who knows the address tries.
  if (lower === address || lower === address.split('@')[0]) {
    throw errors.invalid('password_is_email', 'password must not be your email address', { field: 'newPassword' });
  }
}
