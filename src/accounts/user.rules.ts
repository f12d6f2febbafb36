// Validation of what identifies a user: email address and display name.
import { errors } from '../shared/app-error.ts';
import { ROLES, type Role } from './account.model.ts';

// Deliberately permissive (RFC 5321 allows far more than any regex checks well) but it refuses
// what would break headers and links: whitespace, angle brackets, quotes, commas, semicolons.
// A dotless domain is allowed so that `admin@localhost` works on a laptop.
const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+$/;

/** Trims and lower-cases an email address; throws 'invalid_email' when it is not one. */
export function normaliseEmail(input: string): string {
  const email = input.trim().toLowerCase();
  if (email.length < 3 || email.length > 254 || !EMAIL.test(email) || /[^\x21-\x7e]/.test(email)) {
    throw errors.invalid('invalid_email', 'email must be an address like name@example.org (ASCII, at most 254 characters)', { field: 'email' });
  }
  return email;
}

/** Trims a display name; throws 'invalid_display_name' unless it has 1 to 200 characters. */
export function normaliseDisplayName(input: string): string {
  const name = input.trim();
  if (name.length < 1 || name.length > 200 || /[\u0000-\u001f\u007f]/.test(name)) {
    throw errors.invalid('invalid_display_name', 'display name must be 1 to 200 characters, without control characters', { field: 'displayName' });
  }
  return name;
}

/** Throws 'invalid_role' unless `value` is one of ROLES. */
export function parseRole(value: string): Role {
  if (!(ROLES as readonly string[]).includes(value)) throw errors.invalid('invalid_role', `role must be one of ${ROLES.join(', ')}`, { field: 'role' });
  return value as Role;
}
