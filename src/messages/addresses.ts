// Email addresses as Sealpost handles them: one canonical lower-case form, validated strictly
// enough to refuse typos that would misdirect mail, without display names or comments.
import { errors } from '../shared/app-error.ts';

// local@domain with a dotted domain of letters, digits and hyphens (IDNs as punycode).
const ADDRESS = /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

/** Lower-cased, trimmed address; null when it is not a valid address. */
export function normaliseAddress(input: string): string | null {
  const a = input.trim().toLowerCase();
  if (a.length < 3 || a.length > 254) return null;
  const [local] = a.split('@');
  if (!local || local.length > 64 || local.startsWith('.') || local.endsWith('.') || local.includes('..')) return null;
  return ADDRESS.test(a) ? a : null;
}

/** Normalises or throws invalid 'invalid_address' naming the field and the value. */
export function requireAddress(input: string, field: string): string {
  const a = normaliseAddress(input);
  if (!a) throw errors.invalid('invalid_address', `${field}: "${input.slice(0, 100)}" is not a valid email address`, { field });
  return a;
}

/** The domain part of a normalised address. */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

/** j•••@example.com: enough for a recipient to recognise their address, not to learn someone else's. */
export function maskAddress(address: string): string {
  const at = address.lastIndexOf('@');
  return `${address.slice(0, 1)}•••@${address.slice(at + 1)}`;
}
