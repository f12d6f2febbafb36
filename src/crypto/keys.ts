// Key wrapping and random material. Wrapped keys are versioned so the scheme can change
// without guessing: 0x01 ‖ nonce (12) ‖ AES-256-GCM(wrappingKey, key, aad) ‖ tag (16).

import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { AppError } from '../shared/app-error.ts';
import { KEY_LENGTH } from './format/sealed-object.ts';

const WRAP_VERSION = 1;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;

/** A fresh random 32-byte key. */
export function generateKey(): Buffer {
  return randomBytes(KEY_LENGTH);
}

/** A random UUID (v4), used for every object, key and row id. */
export function randomId(): string {
  return randomUUID();
}

/** `bytes` random bytes as base64url: tokens, codes' salts, opaque blob keys. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Random bytes (nonces, salts). */
export function randomBytesOf(length: number): Buffer {
  return randomBytes(length);
}

/** Associated data for wrapping: binds a wrapped key to what it protects (like a KMS encryption context). */
export function wrapContext(...parts: string[]): Buffer {
  // Length-prefixed so that ("ab","c") and ("a","bc") give different contexts.
  return Buffer.concat(parts.flatMap((p) => {
    const b = Buffer.from(p, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return [len, b];
  }));
}

/** Wraps (encrypts) a 32-byte key under a 32-byte wrapping key, bound to `aad`. */
export function wrapKey(wrappingKey: Uint8Array, key: Uint8Array, aad: Uint8Array): Buffer {
  if (wrappingKey.length !== KEY_LENGTH || key.length !== KEY_LENGTH) {
    throw new AppError('invalid', 'invalid_key_length', 'keys are 32 bytes (AES-256)');
  }
  const nonce = randomBytes(NONCE_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', wrappingKey, nonce, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(key), cipher.final()]);
  return Buffer.concat([Buffer.from([WRAP_VERSION]), nonce, ct, cipher.getAuthTag()]);
}

/** Unwraps a key; throws AppError 'key_unwrap_failed' for a wrong key, wrong context or tampering. */
export function unwrapKey(wrappingKey: Uint8Array, wrapped: Uint8Array, aad: Uint8Array): Buffer {
  if (wrapped.length !== 1 + NONCE_LENGTH + KEY_LENGTH + TAG_LENGTH || wrapped[0] !== WRAP_VERSION) {
    throw new AppError('invalid', 'key_unwrap_failed', 'wrapped key has an unknown version or length');
  }
  const w = Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.length);
  try {
    const decipher = createDecipheriv('aes-256-gcm', wrappingKey, w.subarray(1, 1 + NONCE_LENGTH), { authTagLength: TAG_LENGTH });
    decipher.setAAD(aad);
    decipher.setAuthTag(w.subarray(w.length - TAG_LENGTH));
    const key = decipher.update(w.subarray(1 + NONCE_LENGTH, w.length - TAG_LENGTH));
    decipher.final();
    return key;
  } catch {
    throw new AppError('invalid', 'key_unwrap_failed', 'wrapped key could not be unwrapped (wrong key, wrong context or tampering)');
  }
}
