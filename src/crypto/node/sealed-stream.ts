// Node implementation of the sealed-object format (see ../format/sealed-object.ts and
// docs/format.md). Streams with memory bounded by about two segments, whatever the size.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../shared/app-error.ts';
import {
  ALGORITHM_AES_256_GCM,
  DEFAULT_SEGMENT_SIZE,
  DecryptionError,
  FORMAT_VERSION,
  HEADER_LENGTH,
  KEY_LENGTH,
  NONCE_PREFIX_LENGTH,
  TAG_LENGTH,
  assertSegmentSize,
  checkExpectations,
  decodeHeader,
  encodeHeader,
  planRange,
  segmentAad,
  segmentCount,
  segmentNonce,
  segmentPlaintextLength,
  type OpenExpectations,
  type SealedHeader,
} from '../format/sealed-object.ts';

/** Parameters for sealing one object. */
export interface SealOptions {
  /** Fresh 32-byte data key of this object (never reuse across objects). */
  key: Uint8Array;
  objectId: string;
  keyId: string;
  /** Exact number of plaintext bytes that will be written; a mismatch fails the stream. */
  plaintextLength: number;
  segmentSize?: number;
  /** Only for published test vectors: production code must let it be random. */
  noncePrefix?: Uint8Array;
}

function assertKey(key: Uint8Array): void {
  if (key.length !== KEY_LENGTH) throw new AppError('invalid', 'invalid_key_length', 'data keys are 32 bytes (AES-256)');
}

/**
 * Gathers incoming chunks into exactly-sized pieces with at most one copy per byte.
 * When a chunk already holds a whole piece it is handed out without copying.
 */
class Assembler {
  private buf: Buffer;
  private filled = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  get buffered(): number {
    return this.filled;
  }

  /** Feeds `chunk` from `offset`; returns [piece or null, new offset]. */
  take(chunk: Buffer, offset: number, want: number): [Buffer | null, number] {
    if (this.filled === 0 && chunk.length - offset >= want) return [chunk.subarray(offset, offset + want), offset + want];
    const n = Math.min(want - this.filled, chunk.length - offset);
    chunk.copy(this.buf, this.filled, offset, offset + n);
    this.filled += n;
    if (this.filled < want) return [null, offset + n];
    this.filled = 0;
    return [this.buf.subarray(0, want), offset + n];
  }
}

class SealTransform extends Transform {
  private readonly header: SealedHeader;
  private readonly headerBytes: Buffer;
  private readonly key: Buffer;
  private readonly segments: number;
  private readonly assembler: Assembler;
  private index = 0;
  private received = 0;
  private headerPushed = false;

  constructor(opts: SealOptions) {
    super({ readableObjectMode: true, readableHighWaterMark: 4 });
    assertKey(opts.key);
    const segmentSize = opts.segmentSize ?? DEFAULT_SEGMENT_SIZE;
    assertSegmentSize(segmentSize);
    this.header = {
      version: FORMAT_VERSION,
      algorithm: ALGORITHM_AES_256_GCM,
      segmentSize,
      plaintextLength: opts.plaintextLength,
      objectId: opts.objectId,
      keyId: opts.keyId,
      noncePrefix: opts.noncePrefix ?? randomBytes(NONCE_PREFIX_LENGTH),
    };
    this.headerBytes = Buffer.from(encodeHeader(this.header));
    this.key = Buffer.from(opts.key);
    this.segments = segmentCount(opts.plaintextLength, segmentSize);
    this.assembler = new Assembler(Math.max(1, Math.min(segmentSize, opts.plaintextLength)));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      if (!Buffer.isBuffer(chunk)) chunk = Buffer.from(chunk);
      this.received += chunk.length;
      if (this.received > this.header.plaintextLength) {
        throw new AppError('invalid', 'plaintext_length_mismatch', `more plaintext than the declared ${this.header.plaintextLength} bytes`);
      }
      this.pushHeader();
      let offset = 0;
      while (offset < chunk.length) {
        const [piece, next] = this.assembler.take(chunk, offset, segmentPlaintextLength(this.header, this.index));
        offset = next;
        if (piece) this.sealSegment(piece);
      }
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      if (this.received !== this.header.plaintextLength) {
        throw new AppError('invalid', 'plaintext_length_mismatch', `stream ended after ${this.received} of the declared ${this.header.plaintextLength} bytes`);
      }
      this.pushHeader();
      if (this.header.plaintextLength === 0) this.sealSegment(Buffer.alloc(0));
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  private pushHeader(): void {
    if (this.headerPushed) return;
    this.headerPushed = true;
    this.push(this.headerBytes);
  }

  private sealSegment(plaintext: Buffer): void {
    const final = this.index === this.segments - 1;
    const cipher = createCipheriv('aes-256-gcm', this.key, segmentNonce(this.header.noncePrefix, this.index, final), { authTagLength: TAG_LENGTH });
    cipher.setAAD(segmentAad(this.headerBytes, this.index, final));
    const out = cipher.update(plaintext);
    cipher.final();
    this.push(out);
    this.push(cipher.getAuthTag());
    this.index++;
  }
}

/** Returns a Transform that turns exactly `plaintextLength` bytes into a sealed object. */
export function createSealStream(opts: SealOptions): Transform {
  return new SealTransform(opts);
}

/** What an open stream should decrypt: the whole object, or a planned range of it. */
interface OpenPlan {
  /** Known when the header was read separately (range reads); otherwise parsed from the stream. */
  headerBytes?: Uint8Array;
  range?: { start: number; end?: number };
}

class OpenTransform extends Transform {
  private readonly key: Buffer;
  private headerBytes: Buffer | null = null;
  private header: SealedHeader | null = null;
  private pendingHeader: Buffer[] = [];
  private pendingHeaderLength = 0;
  private assembler: Assembler | null = null;
  private index = 0;
  private lastIndex = 0;
  private skip = 0;
  private remaining = 0;
  private finished = false;

  constructor(
    key: Uint8Array,
    private readonly expect: OpenExpectations | undefined,
    private readonly plan: OpenPlan,
  ) {
    super({ readableObjectMode: true, readableHighWaterMark: 4 });
    assertKey(key);
    this.key = Buffer.from(key);
    if (plan.headerBytes) this.start(Buffer.from(plan.headerBytes.subarray(0, HEADER_LENGTH)));
  }

  /** Header known: check it and work out which segments to open and which bytes to keep. */
  private start(headerBytes: Buffer): void {
    const header = decodeHeader(headerBytes);
    checkExpectations(header, this.expect);
    this.header = header;
    this.headerBytes = headerBytes;
    const range = planRange(header, this.plan.range?.start ?? 0, this.plan.range?.end ?? header.plaintextLength);
    this.index = range.firstSegment;
    this.lastIndex = range.lastSegment;
    this.skip = range.skip;
    this.remaining = range.take;
    this.assembler = new Assembler(Math.min(header.segmentSize, header.plaintextLength) + TAG_LENGTH);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      if (!Buffer.isBuffer(chunk)) chunk = Buffer.from(chunk);
      let offset = 0;
      if (!this.header) {
        this.pendingHeader.push(chunk);
        this.pendingHeaderLength += chunk.length;
        if (this.pendingHeaderLength < HEADER_LENGTH) return done();
        chunk = Buffer.concat(this.pendingHeader);
        this.pendingHeader = [];
        this.start(chunk.subarray(0, HEADER_LENGTH));
        offset = HEADER_LENGTH;
      }
      while (offset < chunk.length) {
        // Anything after the final segment is an extension attack or corruption.
        if (this.finished) throw new DecryptionError('trailing_data', 'data found after the final segment');
        const header = this.header!;
        const want = segmentPlaintextLength(header, this.index) + TAG_LENGTH;
        const [piece, next] = this.assembler!.take(chunk, offset, want);
        offset = next;
        if (piece) this.openSegment(piece);
      }
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    if (!this.header) return done(new DecryptionError('truncated', 'sealed object is shorter than its header'));
    if (!this.finished) return done(new DecryptionError('truncated', 'sealed object ended before its final segment'));
    done();
  }

  private openSegment(sealed: Buffer): void {
    const header = this.header!;
    const final = this.index === segmentCount(header.plaintextLength, header.segmentSize) - 1;
    const ctLength = sealed.length - TAG_LENGTH;
    const decipher = createDecipheriv('aes-256-gcm', this.key, segmentNonce(header.noncePrefix, this.index, final), { authTagLength: TAG_LENGTH });
    decipher.setAAD(segmentAad(this.headerBytes!, this.index, final));
    decipher.setAuthTag(sealed.subarray(ctLength));
    let plaintext: Buffer;
    try {
      // update() returns plaintext before the tag is checked: it is released only after final() succeeds.
      plaintext = decipher.update(sealed.subarray(0, ctLength));
      decipher.final();
    } catch {
      throw new DecryptionError('authentication_failed', `segment ${this.index} failed authentication (wrong key, tampering or reordering)`);
    }
    if (this.skip > 0) {
      plaintext = plaintext.subarray(this.skip);
      this.skip = 0;
    }
    if (plaintext.length > this.remaining) plaintext = plaintext.subarray(0, this.remaining);
    this.remaining -= plaintext.length;
    if (plaintext.length > 0) this.push(plaintext);
    if (this.index === this.lastIndex) this.finished = true;
    this.index++;
  }
}

/**
 * Returns a Transform that opens a whole sealed object. Every byte it emits belongs to a
 * segment whose tag verified; on tampering, truncation or a wrong key it errors with a
 * {@link DecryptionError}, so consumers must treat a stream error as "nothing is valid".
 */
export function createOpenStream(key: Uint8Array, expect?: OpenExpectations): Transform {
  return new OpenTransform(key, expect, {});
}

/**
 * Returns a Transform for random access: feed it the sealed bytes
 * `planRange(header, start, end).sealedStart … sealedEnd` and it emits plaintext [start, end).
 * `headerBytes` are the first 64 bytes of the object (read separately; authenticated by the segments).
 */
export function createOpenRangeStream(key: Uint8Array, headerBytes: Uint8Array, range: { start: number; end?: number }, expect?: OpenExpectations): Transform {
  return new OpenTransform(key, expect, { headerBytes, range });
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Seals a whole buffer (small objects, tests, vectors). */
export async function sealBuffer(opts: Omit<SealOptions, 'plaintextLength'>, plaintext: Uint8Array): Promise<Buffer> {
  const seal = createSealStream({ ...opts, plaintextLength: plaintext.length });
  const [out] = await Promise.all([collect(seal), pipeline(Readable.from([Buffer.from(plaintext)]), seal)]);
  return out;
}

/** Opens a whole sealed buffer: all of the plaintext, or a DecryptionError and nothing. */
export async function openBuffer(key: Uint8Array, sealed: Uint8Array, expect?: OpenExpectations): Promise<Buffer> {
  const open = createOpenStream(key, expect);
  const [out] = await Promise.all([collect(open), pipeline(Readable.from([Buffer.from(sealed)]), open)]);
  return out;
}
