// Key release (docs/format.md §key release) with WebCrypto, for the browser: the session key
// pair's private half is non-extractable, and each data key is unwrapped straight into a
// non-extractable AES-GCM CryptoKey, so scripts on the page never see key bytes.
import { fromBase64Url, toBase64Url } from '../format/bytes.ts';
import {
  KEY_RELEASE_TAG_LENGTH,
  KeyReleaseError,
  parseKeyRelease,
  releaseInfo,
  releasedKeyAad,
  splitReleasedKey,
} from '../format/key-release.ts';

const subtle = (): SubtleCrypto => globalThis.crypto.subtle;
const own = (b: Uint8Array): Uint8Array<ArrayBuffer> => (b.buffer instanceof ArrayBuffer ? (b as Uint8Array<ArrayBuffer>) : new Uint8Array(b));

/** A browser session's ephemeral key pair. */
export interface WebClientKeyPair {
  /** base64url uncompressed P-256 public key, sent with key-release requests. */
  publicKey: string;
  privateKey: CryptoKey;
  /** Raw public key bytes (bound into the derivation). */
  publicKeyBytes: Uint8Array;
}

/** Makes the session key pair; the private key cannot be exported. */
export async function createWebClientKeyPair(): Promise<WebClientKeyPair> {
  const pair = (await subtle().generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits'])) as CryptoKeyPair;
  const raw = new Uint8Array(await subtle().exportKey('raw', pair.publicKey));
  return { publicKey: toBase64Url(raw), privateKey: pair.privateKey, publicKeyBytes: raw };
}

/**
 * Unwraps every key of a release made for `pair` into non-extractable AES-GCM keys (usable
 * with the sealed-object opener), by object id. Throws KeyReleaseError on any alteration.
 */
export async function openWebKeyRelease(pair: WebClientKeyPair, value: unknown): Promise<Map<string, { keyId: string; key: CryptoKey }>> {
  const { release, serverPublicKey, salt } = parseKeyRelease(value);
  let serverKey: CryptoKey;
  try {
    serverKey = await subtle().importKey('raw', own(serverPublicKey), { name: 'ECDH', namedCurve: 'P-256' }, false, []);
  } catch {
    throw new KeyReleaseError('invalid_key_release', 'the server public key is not a valid P-256 point');
  }
  const shared = await subtle().deriveBits({ name: 'ECDH', public: serverKey }, pair.privateKey, 256);
  const hkdfKey = await subtle().importKey('raw', shared, 'HKDF', false, ['deriveKey']);
  const info = releaseInfo(release.releaseId, release.audience, pair.publicKeyBytes, serverPublicKey);
  const wrappingKey = await subtle().deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: own(salt), info: own(info) }, hkdfKey, { name: 'AES-GCM', length: 256 }, false, ['unwrapKey']);
  const out = new Map<string, { keyId: string; key: CryptoKey }>();
  for (const k of release.keys) {
    const { nonce, sealed } = splitReleasedKey(fromBase64Url(k.wrapped));
    try {
      const key = await subtle().unwrapKey(
        'raw',
        own(sealed),
        wrappingKey,
        { name: 'AES-GCM', iv: own(nonce), additionalData: own(releasedKeyAad(release.releaseId, k.objectId, k.keyId)), tagLength: KEY_RELEASE_TAG_LENGTH * 8 },
        { name: 'AES-GCM' },
        false,
        ['decrypt'],
      );
      out.set(k.objectId, { keyId: k.keyId, key });
    } catch {
      throw new KeyReleaseError('key_release_failed', 'a released key could not be unwrapped (altered, or made for another session)');
    }
  }
  return out;
}
