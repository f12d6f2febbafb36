// Key release, version 1: how the server hands a recipient the data keys of a message without
// the keys ever travelling (or being logged) in the clear. Shared by Node (server and CLI) and
// the browser; this file is pure (no node:crypto, no WebCrypto) — it fixes the layout only.
//
//   client: ephemeral ECDH P-256 key pair per session (browser: private key non-extractable)
//   server: a fresh ephemeral P-256 key pair per response
//   Z      = ECDH(server private, client public)                        (32 bytes)
//   K      = HKDF-SHA256(ikm = Z, salt = 32 random bytes, info)        (32 bytes, AES-256-GCM)
//   info   = lp("sealpost/key-release/v1", releaseId, audience, clientPublicKey, serverPublicKey)
//   each data key: nonce (12 random) ‖ AES-256-GCM(K, dataKey, aad) ‖ tag (16)
//   aad    = lp("sealpost/key-release/v1/key", releaseId, objectId, keyId)
//
// `lp` is length-prefixed concatenation (bytes.ts). Binding both public keys and the release
// id into the derivation makes every response usable only by the session that asked for it,
// for that release; binding object and key ids into each key's AAD stops a key being
// presented as another object's. P-256 because every WebCrypto implementation has it.
// WebCrypto can unwrap each key straight into a non-extractable CryptoKey (unwrapKey), so in
// the browser the data key bytes are never visible to scripts.

import { concatBytes, fromBase64Url, isUuid, lengthPrefixed } from './bytes.ts';

export const KEY_RELEASE_VERSION = 1;
export const KEY_RELEASE_ALGORITHM = 'ECDH-P256+HKDF-SHA256+A256GCM';
/** Uncompressed SEC1 point: 0x04 ‖ X (32) ‖ Y (32). */
export const P256_PUBLIC_KEY_LENGTH = 65;
export const KEY_RELEASE_SALT_LENGTH = 32;
export const KEY_RELEASE_NONCE_LENGTH = 12;
export const KEY_RELEASE_TAG_LENGTH = 16;
export const RELEASED_KEY_LENGTH = KEY_RELEASE_NONCE_LENGTH + 32 + KEY_RELEASE_TAG_LENGTH;

const LABEL = 'sealpost/key-release/v1';
const KEY_LABEL = 'sealpost/key-release/v1/key';

/** One data key as released: which object it opens and the wrapped key (base64url). */
export interface ReleasedKey {
  objectId: string;
  keyId: string;
  /** base64url of nonce ‖ ciphertext ‖ tag ({@link RELEASED_KEY_LENGTH} bytes). */
  wrapped: string;
}

/** The key-release part of an API response (JSON). */
export interface KeyRelease {
  version: typeof KEY_RELEASE_VERSION;
  algorithm: typeof KEY_RELEASE_ALGORITHM;
  /** Unique per response; bound into the derivation and every key's AAD. */
  releaseId: string;
  /** Who the keys were released to (e.g. the recipient id); bound into the derivation. */
  audience: string;
  /** base64url of the server's ephemeral uncompressed P-256 public key. */
  serverPublicKey: string;
  /** base64url of the HKDF salt. */
  salt: string;
  keys: ReleasedKey[];
}

/** Thrown for a malformed public key or release; `code` is stable. */
export class KeyReleaseError extends Error {
  override readonly name = 'KeyReleaseError';
  constructor(
    readonly code: 'invalid_public_key' | 'invalid_key_release' | 'key_release_failed',
    message: string,
  ) {
    super(message);
  }
}

/** Decodes and shape-checks a client public key (base64url, uncompressed P-256). Curve membership is checked by the ECDH call. */
export function decodePublicKey(text: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(text);
  } catch {
    throw new KeyReleaseError('invalid_public_key', 'the public key is not base64url');
  }
  if (bytes.length !== P256_PUBLIC_KEY_LENGTH || bytes[0] !== 0x04) {
    throw new KeyReleaseError('invalid_public_key', `the public key must be an uncompressed P-256 point (${P256_PUBLIC_KEY_LENGTH} bytes starting 0x04)`);
  }
  return bytes;
}

/** HKDF info for a release. */
export function releaseInfo(releaseId: string, audience: string, clientPublicKey: Uint8Array, serverPublicKey: Uint8Array): Uint8Array {
  return lengthPrefixed(LABEL, releaseId, audience, clientPublicKey, serverPublicKey);
}

/** AES-GCM associated data for one released key. */
export function releasedKeyAad(releaseId: string, objectId: string, keyId: string): Uint8Array {
  return lengthPrefixed(KEY_LABEL, releaseId, objectId, keyId);
}

/** Splits a wrapped key into nonce and ciphertext‖tag. */
export function splitReleasedKey(wrapped: Uint8Array): { nonce: Uint8Array; sealed: Uint8Array } {
  if (wrapped.length !== RELEASED_KEY_LENGTH) throw new KeyReleaseError('invalid_key_release', 'a released key has the wrong length');
  return { nonce: wrapped.subarray(0, KEY_RELEASE_NONCE_LENGTH), sealed: wrapped.subarray(KEY_RELEASE_NONCE_LENGTH) };
}

/** Joins nonce and ciphertext‖tag. */
export function joinReleasedKey(nonce: Uint8Array, sealed: Uint8Array): Uint8Array {
  return concatBytes(nonce, sealed);
}

/** Structural check of a release received over the network, before any crypto. */
export function checkKeyRelease(value: unknown): KeyRelease {
  const r = value as Partial<KeyRelease> | null;
  const ok =
    !!r &&
    r.version === KEY_RELEASE_VERSION &&
    r.algorithm === KEY_RELEASE_ALGORITHM &&
    typeof r.releaseId === 'string' &&
    isUuid(r.releaseId) &&
    typeof r.audience === 'string' &&
    typeof r.serverPublicKey === 'string' &&
    typeof r.salt === 'string' &&
    Array.isArray(r.keys) &&
    r.keys.every((k) => k && typeof k.objectId === 'string' && typeof k.keyId === 'string' && typeof k.wrapped === 'string');
  if (!ok) throw new KeyReleaseError('invalid_key_release', `not a version ${KEY_RELEASE_VERSION} key release`);
  return r as KeyRelease;
}

/** A structurally checked release with its server public key and salt decoded. */
export interface ParsedKeyRelease {
  release: KeyRelease;
  serverPublicKey: Uint8Array;
  salt: Uint8Array;
}

/** Checks a release received over the network and decodes its binary fields, before any crypto. */
export function parseKeyRelease(value: unknown): ParsedKeyRelease {
  const release = checkKeyRelease(value);
  try {
    return { release, serverPublicKey: decodePublicKey(release.serverPublicKey), salt: fromBase64Url(release.salt) };
  } catch {
    throw new KeyReleaseError('invalid_key_release', 'the key release has a malformed server key or salt');
  }
}
