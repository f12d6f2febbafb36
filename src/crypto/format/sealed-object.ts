// Sealpost sealed-object format, version 1 — the container for all Content.
// Specified in docs/format.md; test vectors in test/vectors/sealed-object-v1.json.
//
// This file is the single definition of the layout (header, nonces, associated data,
// segment arithmetic). It is pure so that Node (node:crypto) and browsers (WebCrypto)
// share it byte for byte; only the AES-GCM calls differ between the two.
//
//   sealed object = header (64 bytes) ‖ segment_0 ‖ … ‖ segment_{n-1}
//   segment_i     = AES-256-GCM(dataKey, nonce_i, plaintext_i, aad_i) ‖ tag (16 bytes)
//   nonce_i       = noncePrefix (7) ‖ uint32be(i) ‖ final (1: 0x01 on the last segment, else 0x00)
//   aad_i         = header (64) ‖ uint32be(i) ‖ final (1)
//
// Binding the whole header into every segment's AAD authenticates the manifest (version,
// algorithm, segment size, plaintext length, object id, key id, nonce prefix): a flipped
// header bit fails the first segment opened. The index and final flag in nonce and AAD make
// reordering, truncation and extension detectable (the STREAM construction of Hoang,
// Reyhanitabar, Rogaway and Vizár, as used by Tink's streaming AEAD).

import { AppError } from '../../shared/app-error.ts';
import { bytesToUuid, uuidToBytes } from './bytes.ts';

/** ASCII "SPSO": Sealpost sealed object. */
export const MAGIC = new Uint8Array([0x53, 0x50, 0x53, 0x4f]);
/** Format version written by this code. */
export const FORMAT_VERSION = 1;
/** Algorithm id 1: AES-256-GCM with 96-bit nonces and 128-bit tags. */
export const ALGORITHM_AES_256_GCM = 1;
/** Header length of version 1. */
export const HEADER_LENGTH = 64;
/** AES-GCM authentication tag length. */
export const TAG_LENGTH = 16;
/** Random bytes at the start of every nonce, fresh per object. */
export const NONCE_PREFIX_LENGTH = 7;
/** AES-256 key length. */
export const KEY_LENGTH = 32;
/** Default plaintext bytes per segment: 1 MiB. */
export const DEFAULT_SEGMENT_SIZE = 1024 * 1024;
/** Smallest segment accepted (tests use small segments to exercise boundaries). */
export const MIN_SEGMENT_SIZE = 16;
/** Largest segment accepted: bounds the memory one segment may take when opening. */
export const MAX_SEGMENT_SIZE = 64 * 1024 * 1024;
/** The counter is 32 bits wide. */
export const MAX_SEGMENTS = 2 ** 32;

/** The manifest of a sealed object, as carried in its header. */
export interface SealedHeader {
  version: number;
  algorithm: number;
  segmentSize: number;
  plaintextLength: number;
  objectId: string;
  keyId: string;
  noncePrefix: Uint8Array;
}

/** Why a sealed object could not be opened. Never carries plaintext or key material. */
export type DecryptionFailure =
  | 'bad_header'
  | 'unsupported_version'
  | 'wrong_object'
  | 'wrong_key_id'
  | 'authentication_failed'
  | 'truncated'
  | 'trailing_data';

/** Thrown whenever opening fails: tampering, truncation, wrong key, wrong object. */
export class DecryptionError extends AppError {
  constructor(
    readonly reason: DecryptionFailure,
    message: string,
  ) {
    super('invalid', 'decryption_failed', message, { reason });
  }
}

/** Checks a segment size is within the accepted range (throws AppError invalid). */
export function assertSegmentSize(segmentSize: number): void {
  if (!Number.isSafeInteger(segmentSize) || segmentSize < MIN_SEGMENT_SIZE || segmentSize > MAX_SEGMENT_SIZE) {
    throw new AppError('invalid', 'invalid_segment_size', `segment size must be an integer from ${MIN_SEGMENT_SIZE} to ${MAX_SEGMENT_SIZE} bytes`, { segmentSize });
  }
}

/** Number of segments for a plaintext length; an empty plaintext still has one (empty, final) segment. */
export function segmentCount(plaintextLength: number, segmentSize: number): number {
  return plaintextLength === 0 ? 1 : Math.ceil(plaintextLength / segmentSize);
}

/** Plaintext bytes in segment `index`. */
export function segmentPlaintextLength(header: Pick<SealedHeader, 'plaintextLength' | 'segmentSize'>, index: number): number {
  const n = segmentCount(header.plaintextLength, header.segmentSize);
  if (index < n - 1) return header.segmentSize;
  return header.plaintextLength - (n - 1) * header.segmentSize;
}

/** Total sealed size for a plaintext length. */
export function sealedLength(plaintextLength: number, segmentSize: number): number {
  return HEADER_LENGTH + plaintextLength + segmentCount(plaintextLength, segmentSize) * TAG_LENGTH;
}

/** Byte offset of segment `index` in the sealed object. */
export function segmentOffset(segmentSize: number, index: number): number {
  return HEADER_LENGTH + index * (segmentSize + TAG_LENGTH);
}

/** Serialises a header. Validates every field so that nothing unopenable is ever written. */
export function encodeHeader(h: SealedHeader): Uint8Array {
  if (h.version !== FORMAT_VERSION || h.algorithm !== ALGORITHM_AES_256_GCM) {
    throw new AppError('invalid', 'unsupported_format', 'only format version 1 with AES-256-GCM can be written');
  }
  assertSegmentSize(h.segmentSize);
  if (!Number.isSafeInteger(h.plaintextLength) || h.plaintextLength < 0) {
    throw new AppError('invalid', 'invalid_plaintext_length', 'plaintext length must be a non-negative safe integer');
  }
  if (segmentCount(h.plaintextLength, h.segmentSize) > MAX_SEGMENTS) {
    throw new AppError('invalid', 'object_too_large', 'object needs more than 2^32 segments; use a larger segment size');
  }
  if (h.noncePrefix.length !== NONCE_PREFIX_LENGTH) throw new TypeError('nonce prefix must be 7 bytes');
  const out = new Uint8Array(HEADER_LENGTH);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[4] = h.version;
  out[5] = h.algorithm;
  view.setUint16(6, HEADER_LENGTH);
  view.setUint32(8, h.segmentSize);
  view.setBigUint64(12, BigInt(h.plaintextLength));
  out.set(uuidToBytes(h.objectId), 20);
  out.set(uuidToBytes(h.keyId), 36);
  out.set(h.noncePrefix, 52);
  // bytes 59..63 reserved, zero in version 1
  return out;
}

/**
 * Parses and checks a header. It is authenticated only when the first segment opens
 * (it is part of every segment's AAD); until then treat its fields as untrusted hints.
 */
export function decodeHeader(bytes: Uint8Array): SealedHeader {
  if (bytes.length < HEADER_LENGTH) throw new DecryptionError('truncated', 'sealed object is shorter than its header');
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) throw new DecryptionError('bad_header', 'not a Sealpost sealed object (bad magic)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_LENGTH);
  const version = bytes[4]!;
  const algorithm = bytes[5]!;
  if (version !== FORMAT_VERSION) throw new DecryptionError('unsupported_version', `unsupported sealed object version ${version}`);
  if (algorithm !== ALGORITHM_AES_256_GCM) throw new DecryptionError('bad_header', `unsupported algorithm ${algorithm}`);
  if (view.getUint16(6) !== HEADER_LENGTH) throw new DecryptionError('bad_header', 'unexpected header length');
  const segmentSize = view.getUint32(8);
  const length = view.getBigUint64(12);
  if (segmentSize < MIN_SEGMENT_SIZE || segmentSize > MAX_SEGMENT_SIZE) throw new DecryptionError('bad_header', 'segment size out of range');
  if (length > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecryptionError('bad_header', 'plaintext length out of range');
  for (let i = 59; i < HEADER_LENGTH; i++) {
    if (bytes[i] !== 0) throw new DecryptionError('bad_header', 'reserved header bytes are not zero');
  }
  const plaintextLength = Number(length);
  if (segmentCount(plaintextLength, segmentSize) > MAX_SEGMENTS) throw new DecryptionError('bad_header', 'too many segments');
  return {
    version,
    algorithm,
    segmentSize,
    plaintextLength,
    objectId: bytesToUuid(bytes.subarray(20, 36)),
    keyId: bytesToUuid(bytes.subarray(36, 52)),
    noncePrefix: bytes.slice(52, 59),
  };
}

/** Optional expectations checked against a header before any segment is opened. */
export interface OpenExpectations {
  /** The object id the caller asked for: prevents serving another object's payload (splicing). */
  objectId?: string;
  /** The key id whose data key the caller unwrapped. */
  keyId?: string;
}

/** Throws when the header does not belong to the object/key the caller expects. */
export function checkExpectations(header: SealedHeader, expect: OpenExpectations | undefined): void {
  // Prevents a blob swapped between two objects (both sealed for the same tenant) from
  // being opened under the wrong identity even if the same data key were reused.
  if (expect?.objectId !== undefined && expect.objectId !== header.objectId) {
    throw new DecryptionError('wrong_object', 'sealed object id does not match the requested object');
  }
  if (expect?.keyId !== undefined && expect.keyId !== header.keyId) {
    throw new DecryptionError('wrong_key_id', 'sealed object was sealed under a different key id');
  }
}

/** 12-byte nonce of segment `index`. */
export function segmentNonce(noncePrefix: Uint8Array, index: number, final: boolean): Uint8Array {
  const nonce = new Uint8Array(12);
  nonce.set(noncePrefix, 0);
  new DataView(nonce.buffer).setUint32(7, index);
  nonce[11] = final ? 1 : 0;
  return nonce;
}

/** Associated data of segment `index`: the raw header, the index and the final flag. */
export function segmentAad(headerBytes: Uint8Array, index: number, final: boolean): Uint8Array {
  const aad = new Uint8Array(HEADER_LENGTH + 5);
  aad.set(headerBytes.subarray(0, HEADER_LENGTH), 0);
  new DataView(aad.buffer).setUint32(HEADER_LENGTH, index);
  aad[HEADER_LENGTH + 4] = final ? 1 : 0;
  return aad;
}

/** What to fetch and keep to serve plaintext bytes [start, end) of an object. */
export interface RangePlan {
  firstSegment: number;
  lastSegment: number;
  /** Sealed byte range to read: [sealedStart, sealedEnd). */
  sealedStart: number;
  sealedEnd: number;
  /** Bytes to drop from the first opened segment, and total bytes to keep. */
  skip: number;
  take: number;
}

/** Plans a random-access read of plaintext [start, end) (end exclusive, defaults to the end). */
export function planRange(header: Pick<SealedHeader, 'plaintextLength' | 'segmentSize'>, start: number, end = header.plaintextLength): RangePlan {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > header.plaintextLength) {
    throw new AppError('invalid', 'invalid_range', `range must satisfy 0 <= start <= end <= ${header.plaintextLength}`, { start, end });
  }
  const { segmentSize } = header;
  const n = segmentCount(header.plaintextLength, segmentSize);
  const firstSegment = Math.min(Math.floor(start / segmentSize), n - 1);
  const lastSegment = end === start ? firstSegment : Math.min(Math.floor((end - 1) / segmentSize), n - 1);
  const sealedStart = segmentOffset(segmentSize, firstSegment);
  const sealedEnd = segmentOffset(segmentSize, lastSegment) + segmentPlaintextLength(header, lastSegment) + TAG_LENGTH;
  return { firstSegment, lastSegment, sealedStart, sealedEnd, skip: start - firstSegment * segmentSize, take: end - start };
}
