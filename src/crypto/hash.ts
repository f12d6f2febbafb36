// SHA-256, HMAC and constant-time comparison for code outside src/crypto (migration checksums,
// the audit hash chain, session and token hashes, CSRF tokens), which may not import
// node:crypto itself.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** SHA-256 of `data`; strings are hashed as their UTF-8 bytes. */
export function sha256(data: Uint8Array | string): Uint8Array {
  // A plain Uint8Array, not a Buffer, so results compare equal whichever way they were made.
  return Uint8Array.from(createHash('sha256').update(data).digest());
}

/** Lower-case hex SHA-256 of `data`; strings are hashed as their UTF-8 bytes. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** HMAC-SHA-256 of `data` under `key`; strings are taken as their UTF-8 bytes. */
export function hmacSha256(key: Uint8Array | string, data: Uint8Array | string): Uint8Array {
  return Uint8Array.from(createHmac('sha256', key).update(data).digest());
}

/**
 * Compares two secrets in time that depends only on their lengths, never on where they first
 * differ (prevents guessing a token byte by byte from response times). Strings are compared as
 * UTF-8; different lengths are unequal.
 */
export function constantTimeEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
  const x = typeof a === 'string' ? Buffer.from(a, 'utf8') : a;
  const y = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  if (x.length !== y.length) return false;
  return timingSafeEqual(x, y);
}
