// WebCrypto implementation of the sealed-object format, for browsers (and any runtime with
// globalThis.crypto.subtle). Shares every layout decision with the Node implementation
// through ../format/sealed-object.ts; only the AES-GCM calls live here.

import { concatBytes } from '../format/bytes.ts';
import {
  ALGORITHM_AES_256_GCM,
  DEFAULT_SEGMENT_SIZE,
  DecryptionError,
  FORMAT_VERSION,
  HEADER_LENGTH,
  KEY_LENGTH,
  NONCE_PREFIX_LENGTH,
  TAG_LENGTH,
  checkExpectations,
  decodeHeader,
  encodeHeader,
  sealedLength,
  segmentAad,
  segmentCount,
  segmentNonce,
  segmentOffset,
  segmentPlaintextLength,
  type OpenExpectations,
  type SealedHeader,
} from '../format/sealed-object.ts';

const subtle = (): SubtleCrypto => globalThis.crypto.subtle;

// WebCrypto's BufferSource wants ArrayBuffer-backed views; copy only when a view is shared.
const own = (b: Uint8Array): Uint8Array<ArrayBuffer> => (b.buffer instanceof ArrayBuffer ? (b as Uint8Array<ArrayBuffer>) : new Uint8Array(b));

/** Imports a raw 32-byte data key as a non-extractable AES-GCM key. */
export async function importDataKey(raw: Uint8Array, usages: KeyUsage[] = ['decrypt']): Promise<CryptoKey> {
  if (raw.length !== KEY_LENGTH) throw new TypeError('data keys are 32 bytes (AES-256)');
  return subtle().importKey('raw', own(raw), { name: 'AES-GCM' }, false, usages);
}

async function openSegment(key: CryptoKey, header: SealedHeader, headerBytes: Uint8Array, index: number, sealed: Uint8Array): Promise<Uint8Array> {
  const final = index === segmentCount(header.plaintextLength, header.segmentSize) - 1;
  try {
    const plain = await subtle().decrypt(
      { name: 'AES-GCM', iv: own(segmentNonce(header.noncePrefix, index, final)), additionalData: own(segmentAad(headerBytes, index, final)), tagLength: TAG_LENGTH * 8 },
      key,
      own(sealed),
    );
    return new Uint8Array(plain);
  } catch {
    throw new DecryptionError('authentication_failed', `segment ${index} failed authentication (wrong key, tampering or reordering)`);
  }
}

/** Opens a whole sealed object held in memory: all of the plaintext or a DecryptionError. */
export async function openSealedBytes(key: CryptoKey, sealed: Uint8Array, expect?: OpenExpectations): Promise<Uint8Array> {
  const header = decodeHeader(sealed);
  checkExpectations(header, expect);
  const headerBytes = sealed.subarray(0, HEADER_LENGTH);
  // Same order of checks as the streaming opener: segments in order (the first one
  // authenticates the header), then the end. Nothing is allocated from the untrusted
  // header's length before it is authenticated.
  const parts: Uint8Array[] = [];
  const n = segmentCount(header.plaintextLength, header.segmentSize);
  for (let i = 0; i < n; i++) {
    const start = segmentOffset(header.segmentSize, i);
    const end = start + segmentPlaintextLength(header, i) + TAG_LENGTH;
    if (sealed.length < end) throw new DecryptionError('truncated', 'sealed object ended before its final segment');
    parts.push(await openSegment(key, header, headerBytes, i, sealed.subarray(start, end)));
  }
  if (sealed.length > sealedLength(header.plaintextLength, header.segmentSize)) {
    throw new DecryptionError('trailing_data', 'data found after the final segment');
  }
  return concatBytes(...parts);
}

/** Parameters for sealing in the browser (replies and uploads seal client-side later). */
export interface WebSealOptions {
  objectId: string;
  keyId: string;
  segmentSize?: number;
  /** Only for published test vectors. */
  noncePrefix?: Uint8Array;
}

/** Seals a plaintext held in memory. */
export async function sealBytes(key: CryptoKey, opts: WebSealOptions, plaintext: Uint8Array): Promise<Uint8Array> {
  const header: SealedHeader = {
    version: FORMAT_VERSION,
    algorithm: ALGORITHM_AES_256_GCM,
    segmentSize: opts.segmentSize ?? DEFAULT_SEGMENT_SIZE,
    plaintextLength: plaintext.length,
    objectId: opts.objectId,
    keyId: opts.keyId,
    noncePrefix: opts.noncePrefix ?? globalThis.crypto.getRandomValues(new Uint8Array(NONCE_PREFIX_LENGTH)),
  };
  const headerBytes = encodeHeader(header);
  const out = new Uint8Array(sealedLength(plaintext.length, header.segmentSize));
  out.set(headerBytes, 0);
  const n = segmentCount(plaintext.length, header.segmentSize);
  for (let i = 0; i < n; i++) {
    const final = i === n - 1;
    const from = i * header.segmentSize;
    const sealed = await subtle().encrypt(
      { name: 'AES-GCM', iv: own(segmentNonce(header.noncePrefix, i, final)), additionalData: own(segmentAad(headerBytes, i, final)), tagLength: TAG_LENGTH * 8 },
      key,
      own(plaintext.subarray(from, from + segmentPlaintextLength(header, i))),
    );
    out.set(new Uint8Array(sealed), segmentOffset(header.segmentSize, i));
  }
  return out;
}

/**
 * A WHATWG TransformStream that opens a sealed object as it arrives (downloads of any size
 * with memory bounded by one segment). Emits only authenticated segments; errors with a
 * DecryptionError on tampering, truncation, trailing data or a wrong key.
 */
export function createOpenTransformStream(key: CryptoKey, expect?: OpenExpectations): TransformStream<Uint8Array, Uint8Array> {
  let header: SealedHeader | null = null;
  let headerBytes: Uint8Array | null = null;
  let index = 0;
  let segments = 0;
  // Queue of received chunks; bytes are copied once, when a whole segment is available.
  const queue: Uint8Array[] = [];
  let queued = 0;

  const take = (length: number): Uint8Array => {
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const head = queue[0]!;
      const n = Math.min(head.length, length - filled);
      out.set(head.subarray(0, n), filled);
      filled += n;
      if (n === head.length) queue.shift();
      else queue[0] = head.subarray(n);
    }
    queued -= length;
    return out;
  };

  return new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      queue.push(chunk);
      queued += chunk.length;
      if (!header) {
        if (queued < HEADER_LENGTH) return;
        headerBytes = take(HEADER_LENGTH);
        header = decodeHeader(headerBytes);
        checkExpectations(header, expect);
        segments = segmentCount(header.plaintextLength, header.segmentSize);
      }
      while (index < segments) {
        const want = segmentPlaintextLength(header, index) + TAG_LENGTH;
        if (queued < want) return;
        controller.enqueue(await openSegment(key, header, headerBytes!, index, take(want)));
        index++;
      }
      if (queued > 0) throw new DecryptionError('trailing_data', 'data found after the final segment');
    },
    flush() {
      if (!header || index < segments) throw new DecryptionError('truncated', 'sealed object ended before its final segment');
    },
  });
}
