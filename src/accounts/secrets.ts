// The secrets accounts hand out — session tokens, API tokens, sign-in link tokens — and the
// CSRF tokens derived from sessions. Each is 32 random bytes (256 bits) in base64url; only its
// SHA-256 is stored. A plain hash (not a slow one) is right here: unlike passwords, these
// secrets are random and far too long to guess, so the hash only has to be one-way.
import { constantTimeEqual, hmacSha256, sha256 } from '../crypto/hash.ts';
import { randomToken } from '../crypto/keys.ts';

/** Prefix of personal API tokens: recognisable in configs and by secret scanners. */
export const API_TOKEN_PREFIX = 'sp_';

// 32 bytes in base64url without padding.
const SECRET = /^[A-Za-z0-9_-]{43}$/;
const API_TOKEN = /^sp_[A-Za-z0-9_-]{43}$/;

/** A fresh random secret and the hash to store. */
export function mintSecret(): { token: string; hash: Uint8Array } {
  const token = randomToken(32);
  return { token, hash: hashSecret(token) };
}

/** A fresh personal API token, its display prefix and the hash to store. */
export function mintApiToken(): { token: string; prefix: string; hash: Uint8Array } {
  const token = `${API_TOKEN_PREFIX}${randomToken(32)}`;
  return { token, prefix: token.slice(0, API_TOKEN_PREFIX.length + 6), hash: hashSecret(token) };
}

/** The stored form of a secret. */
export function hashSecret(token: string): Uint8Array {
  return sha256(token);
}

/** True when `value` has the shape of a session or sign-in link token (checked before any lookup). */
export function looksLikeSecret(value: string): boolean {
  return SECRET.test(value);
}

/** True when `value` has the shape of a personal API token. */
export function looksLikeApiToken(value: string): boolean {
  return API_TOKEN.test(value);
}

/**
 * The CSRF (synchronizer) token of a session: HMAC-SHA-256 keyed with the session token. Only
 * the session's holder can compute it, a cross-site page cannot read it, and nothing needs to
 * be stored; the session token cannot be recovered from it.
 */
export function csrfTokenFor(sessionToken: string): string {
  return Buffer.from(hmacSha256(sessionToken, 'sealpost csrf v1')).toString('base64url');
}

/** True when `presented` is the CSRF token of `sessionToken` (constant-time). */
export function csrfTokenMatches(sessionToken: string, presented: string): boolean {
  return constantTimeEqual(csrfTokenFor(sessionToken), presented);
}
