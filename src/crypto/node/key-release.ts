// Key release (docs/format.md §key release) with node:crypto: the server side that wraps data
// keys to a client's ephemeral public key, and the client side the CLI uses to unwrap them.
import { createCipheriv, createDecipheriv, createECDH, hkdfSync, randomBytes, randomUUID, type ECDH } from 'node:crypto';
import { fromBase64Url, toBase64Url } from '../format/bytes.ts';
import { keyAgreement } from './key-agreement.ts';
import {
  KEY_RELEASE_ALGORITHM,
  KEY_RELEASE_NONCE_LENGTH,
  KEY_RELEASE_SALT_LENGTH,
  KEY_RELEASE_TAG_LENGTH,
  KEY_RELEASE_VERSION,
  KeyReleaseError,
  decodePublicKey,
  parseKeyRelease,
  releaseInfo,
  releasedKeyAad,
  splitReleasedKey,
  type KeyRelease,
} from '../format/key-release.ts';

const CURVE = 'prime256v1';

/** base64url without padding, as format/bytes.ts toBase64Url but through Buffer (runs on every release). */
function base64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64url');
}

/** Client side: the wrapping key from the client's key pair and the server's public key. */
function deriveWrappingKey(ecdh: ECDH, peerPublicKey: Uint8Array, salt: Uint8Array, info: Uint8Array): Buffer {
  let shared: Buffer;
  try {
    shared = ecdh.computeSecret(peerPublicKey);
  } catch {
    // Not a point on P-256 (or the point at infinity): refuse before deriving anything.
    throw new KeyReleaseError('invalid_public_key', 'the public key is not a valid P-256 point');
  }
  const key = Buffer.from(hkdfSync('sha256', shared, salt, info, 32));
  shared.fill(0);
  return key;
}

/**
 * Server side: wraps each data key to the client's public key. The response carries no key in
 * the clear. The P-256 agreement runs on a worker thread (key-agreement.ts).
 */
export async function releaseKeys(input: { clientPublicKey: string; audience: string; keys: Array<{ objectId: string; keyId: string; dataKey: Uint8Array }> }): Promise<KeyRelease> {
  const clientPublicKey = decodePublicKey(input.clientPublicKey);
  const { publicKey: serverPublicKey, secret } = await keyAgreement.agree(clientPublicKey);
  // The salt and every key's nonce from one call (each call to the CSPRNG has a fixed cost).
  const random = randomBytes(KEY_RELEASE_SALT_LENGTH + KEY_RELEASE_NONCE_LENGTH * input.keys.length);
  const salt = random.subarray(0, KEY_RELEASE_SALT_LENGTH);
  const releaseId = randomUUID();
  let wrappingKey: Buffer;
  try {
    wrappingKey = Buffer.from(hkdfSync('sha256', secret, salt, releaseInfo(releaseId, input.audience, clientPublicKey, serverPublicKey), 32));
  } finally {
    secret.fill(0);
  }
  try {
    const keys = input.keys.map((k, i) => {
      const nonce = random.subarray(KEY_RELEASE_SALT_LENGTH + KEY_RELEASE_NONCE_LENGTH * i, KEY_RELEASE_SALT_LENGTH + KEY_RELEASE_NONCE_LENGTH * (i + 1));
      const cipher = createCipheriv('aes-256-gcm', wrappingKey, nonce, { authTagLength: KEY_RELEASE_TAG_LENGTH });
      cipher.setAAD(releasedKeyAad(releaseId, k.objectId, k.keyId));
      const wrapped = Buffer.concat([nonce, cipher.update(k.dataKey), cipher.final(), cipher.getAuthTag()]);
      return { objectId: k.objectId, keyId: k.keyId, wrapped: base64Url(wrapped) };
    });
    return { version: KEY_RELEASE_VERSION, algorithm: KEY_RELEASE_ALGORITHM, releaseId, audience: input.audience, serverPublicKey: base64Url(serverPublicKey), salt: base64Url(salt), keys };
  } finally {
    wrappingKey.fill(0);
  }
}

/** A client's ephemeral key pair (CLI). Keep it in memory for one session only. */
export interface ClientKeyPair {
  /** base64url uncompressed P-256 public key, sent to the server. */
  publicKey: string;
  /** @internal */
  ecdh: ECDH;
}

/** Client side: a fresh ephemeral key pair. */
export function createClientKeyPair(): ClientKeyPair {
  const ecdh = createECDH(CURVE);
  return { publicKey: toBase64Url(ecdh.generateKeys()), ecdh };
}

/**
 * Client side: unwraps every key of a release made for `pair`. Throws KeyReleaseError
 * 'key_release_failed' if anything was altered or the release was made for another key pair.
 */
export function openKeyRelease(pair: ClientKeyPair, value: unknown): Map<string, { keyId: string; dataKey: Buffer }> {
  const { release, serverPublicKey, salt } = parseKeyRelease(value);
  const clientPublicKey = pair.ecdh.getPublicKey();
  const wrappingKey = deriveWrappingKey(pair.ecdh, serverPublicKey, salt, releaseInfo(release.releaseId, release.audience, clientPublicKey, serverPublicKey));
  const out = new Map<string, { keyId: string; dataKey: Buffer }>();
  try {
    for (const k of release.keys) {
      const { nonce, sealed } = splitReleasedKey(fromBase64Url(k.wrapped));
      try {
        const decipher = createDecipheriv('aes-256-gcm', wrappingKey, nonce, { authTagLength: KEY_RELEASE_TAG_LENGTH });
        decipher.setAAD(releasedKeyAad(release.releaseId, k.objectId, k.keyId));
        decipher.setAuthTag(sealed.subarray(sealed.length - KEY_RELEASE_TAG_LENGTH));
        const dataKey = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - KEY_RELEASE_TAG_LENGTH)), decipher.final()]);
        out.set(k.objectId, { keyId: k.keyId, dataKey });
      } catch {
        throw new KeyReleaseError('key_release_failed', 'a released key could not be unwrapped (altered, or made for another session)');
      }
    }
    return out;
  } finally {
    wrappingKey.fill(0);
  }
}
