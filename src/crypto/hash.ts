// SHA-256 for code outside src/crypto (migration checksums, the audit hash chain), which may not
// import node:crypto itself.
import { createHash } from 'node:crypto';

/** SHA-256 of `data`; strings are hashed as their UTF-8 bytes. */
export function sha256(data: Uint8Array | string): Uint8Array {
  // A plain Uint8Array, not a Buffer, so results compare equal whichever way they were made.
  return Uint8Array.from(createHash('sha256').update(data).digest());
}

/** Lower-case hex SHA-256 of `data`; strings are hashed as their UTF-8 bytes. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
