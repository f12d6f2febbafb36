// Node implementation of the sealed-object format (see ../format/sealed-object.ts and
// docs/format.md). Streams with memory bounded by a few segments, whatever the size.
//
// Two paths, same bytes out. Small objects (one segment, or segments under 64 KiB) are
// sealed and opened right here, synchronously: no thread hop for a message body. Larger
// ones run the AES-GCM of each segment on the segment runner (segment-runner.ts: the native
// addon on libuv's thread pool, or worker threads), a few segments at a time per stream, so
// they use several cores and leave the event loop free to serve other requests while a big
// file goes through. Nonce and AAD are always derived here, by the shared format code;
// results are pushed strictly in segment order. Every stream first makes sure malloc keeps
// large buffers (allocator.ts): each segment's output is a new one.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../shared/app-error.ts';
import { keepLargeBuffers } from './allocator.ts';
import { SegmentAuthenticationFailure, type SegmentResult, type SegmentRunner } from './segment-job.ts';
import { segmentRunner } from './segment-runner.ts';
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

/** Segments smaller than this, and objects of one segment, are processed in-thread. */
const POOL_MIN_SEGMENT_SIZE = 64 * 1024;
/** Most bytes one stream keeps on the pool at a time (always at least one segment). */
const POOL_MAX_BYTES_IN_FLIGHT = 16 * 1024 * 1024;

/** The runner and the per-stream bound on outstanding segments, or null for the in-thread path. */
function poolFor(segmentSize: number, segments: number): { pool: SegmentRunner; limit: number } | null {
  if (segments < 2 || segmentSize < POOL_MIN_SEGMENT_SIZE) return null;
  const pool = segmentRunner();
  return { pool, limit: Math.max(1, Math.min(4 * pool.size, Math.floor(POOL_MAX_BYTES_IN_FLIGHT / segmentSize))) };
}

/** One segment's bytes: in one buffer, or as the views of the chunks it arrived in. */
type SegmentBytes = Buffer | readonly Uint8Array[];

function byteLength(bytes: SegmentBytes): number {
  return Array.isArray(bytes) ? bytes.reduce((sum: number, piece: Uint8Array) => sum + piece.length, 0) : (bytes as Buffer).length;
}

/** The segment in one buffer (only the runners' gathering path hands out pieces). */
function contiguous(bytes: SegmentBytes): Buffer {
  return Array.isArray(bytes) ? Buffer.concat(bytes) : (bytes as Buffer);
}

/** Where a transform gets its exactly-sized segment pieces from. */
interface PieceSource {
  /** Feeds `chunk` from `offset`; returns [segment or null, new offset]. */
  take(chunk: Buffer, offset: number, want: number): [SegmentBytes | null, number];
  /** Overwrites bytes still held (plaintext waiting for the rest of its segment). */
  wipe(): void;
  /** Takes back an input buffer a runner returned, for reuse. */
  reuse?(input: ArrayBuffer): void;
}

/**
 * Gathers incoming chunks into exactly-sized pieces with at most one copy per byte.
 * When a chunk already holds a whole piece it is handed out without copying.
 */
class Assembler implements PieceSource {
  private buf: Buffer;
  private filled = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  take(chunk: Buffer, offset: number, want: number): [Buffer | null, number] {
    if (this.filled === 0 && chunk.length - offset >= want) return [chunk.subarray(offset, offset + want), offset + want];
    const n = Math.min(want - this.filled, chunk.length - offset);
    chunk.copy(this.buf, this.filled, offset, offset + n);
    this.filled += n;
    if (this.filled < want) return [null, offset + n];
    this.filled = 0;
    return [this.buf.subarray(0, want), offset + n];
  }

  wipe(): void {
    this.buf.fill(0);
  }
}

/**
 * Gathers incoming chunks into pieces the worker runner can take over: each piece is copied
 * (once) into a buffer of its own (`capacity` bytes, enough for any segment), so that it can be
 * transferred to a worker. Workers hand the buffers back and they are reused, so a stream
 * allocates only a few. A buffer is allocated only when the first byte of its piece arrives,
 * never ahead from the (possibly untrusted) header.
 */
class HandoverAssembler implements PieceSource {
  private buf: Buffer | null = null;
  private filled = 0;
  private readonly spare: ArrayBuffer[] = [];

  constructor(
    private readonly capacity: number,
    private readonly maxSpare: number,
  ) {}

  take(chunk: Buffer, offset: number, want: number): [SegmentBytes | null, number] {
    if (!this.buf) {
      const reused = this.spare.pop();
      this.buf = reused ? Buffer.from(reused, 0, want) : Buffer.allocUnsafeSlow(this.capacity).subarray(0, want);
    }
    const n = Math.min(want - this.filled, chunk.length - offset);
    chunk.copy(this.buf, this.filled, offset, offset + n);
    this.filled += n;
    if (this.filled < want) return [null, offset + n];
    const piece = this.buf;
    this.buf = null;
    this.filled = 0;
    return [piece, offset + n];
  }

  /** Takes back a buffer a worker returned. */
  reuse(input: ArrayBuffer): void {
    if (input.byteLength === this.capacity && this.spare.length < this.maxSpare) this.spare.push(input);
  }

  wipe(): void {
    this.buf?.fill(0);
    this.buf = null;
    this.filled = 0;
    for (const input of this.spare.splice(0)) new Uint8Array(input).fill(0);
  }
}

/**
 * Hands segments to a runner that gathers (the native one) as views of the chunks they arrived
 * in: nothing is copied. The chunks stay referenced until the segment's job settles, as a
 * Writable's own buffer references the chunks it holds; they belong to the stream's writer,
 * so they are not overwritten here.
 */
class Gatherer implements PieceSource {
  private pieces: Uint8Array[] = [];
  private filled = 0;

  take(chunk: Buffer, offset: number, want: number): [SegmentBytes | null, number] {
    const n = Math.min(want - this.filled, chunk.length - offset);
    this.pieces.push(chunk.subarray(offset, offset + n));
    this.filled += n;
    if (this.filled < want) return [null, offset + n];
    const pieces = this.pieces;
    this.pieces = [];
    this.filled = 0;
    return [pieces, offset + n];
  }

  wipe(): void {
    this.pieces = [];
    this.filled = 0;
  }
}

/** The whole ArrayBuffer under a piece from HandoverAssembler (it owns all of it). */
function handover(piece: Buffer): ArrayBuffer {
  return piece.buffer as ArrayBuffer;
}

type Resume = (err?: Error | null) => void;

interface Slot {
  settled: boolean;
  result?: SegmentResult;
  error?: Error;
  deliver?: (result: SegmentResult) => void;
}

/**
 * The pool jobs of one stream, in segment order. It bounds how many are outstanding and lets
 * no more in while the stream's consumer is behind (memory and backpressure), delivers
 * results strictly in order, and stops at the first failure: nothing after a failed segment
 * is ever delivered, even if it finished earlier.
 */
class OrderedJobs {
  private readonly slots: Slot[] = [];
  private waiter: { resume: Resume; idle: boolean } | null = null;
  private failure: Error | null = null;
  private draining = false;
  private stopped = false;

  constructor(
    private limit: number,
    /** Called with a failure when no write or flush is waiting to receive it. */
    private readonly onError: (err: Error) => void,
    /** Disposes of a result that will never be delivered (wipes plaintext). */
    private readonly discard: (result: SegmentResult) => void,
    /** Whether the consumer keeps up: the stream's readable buffer is below its mark. */
    private readonly consumerReady: () => boolean,
  ) {}

  get hasRoom(): boolean {
    return this.slots.length < this.limit && this.consumerReady();
  }

  /** The consumer asked for more: resumes a waiting write once its read has taken its chunk. */
  poke(): void {
    process.nextTick(() => {
      if (!this.draining && !this.stopped) this.wake();
    });
  }

  setLimit(limit: number): void {
    this.limit = limit;
  }

  /** Queues a job; `deliver` runs once it and every earlier job have succeeded. */
  add(job: Promise<SegmentResult>, deliver: (result: SegmentResult) => void, mapError: (err: Error) => Error = (err) => err): void {
    const slot: Slot = { settled: false, deliver };
    this.slots.push(slot);
    job.then(
      (result) => {
        if (this.stopped || this.failure) {
          this.discard(result);
          return release(result);
        }
        slot.settled = true;
        slot.result = result;
        this.drain();
      },
      (err: Error) => {
        if (this.stopped || this.failure) return;
        slot.settled = true;
        slot.error = mapError(err);
        this.drain();
      },
    );
  }

  /** Queues an error found on the input side, to be reported after every earlier segment. */
  addError(err: Error): void {
    this.slots.push({ settled: true, error: err });
  }

  /** Calls `resume` once another job may be added, or with the failure. */
  whenRoom(resume: Resume): void {
    this.waiter = { resume, idle: false };
    this.drain();
  }

  /** Calls `resume` once every job has been delivered, or with the failure. */
  whenIdle(resume: Resume): void {
    this.waiter = { resume, idle: true };
    this.drain();
  }

  /** The stream is gone: drop (and wipe) whatever is outstanding or arrives later. */
  stop(): void {
    this.stopped = true;
    this.waiter = null;
    this.discardAll();
  }

  private drain(): void {
    if (this.draining || this.stopped) return;
    this.draining = true;
    try {
      while (!this.failure && this.slots[0]?.settled) {
        const slot = this.slots.shift()!;
        if (slot.error) {
          this.failure = slot.error;
        } else {
          try {
            slot.deliver!(slot.result!);
          } catch (err) {
            this.failure = err as Error;
          } finally {
            release(slot.result!);
          }
        }
      }
      if (this.failure) this.discardAll();
    } finally {
      this.draining = false;
    }
    this.wake();
  }

  private discardAll(): void {
    for (const slot of this.slots.splice(0)) {
      if (!slot.result) continue;
      this.discard(slot.result);
      release(slot.result);
    }
  }

  private wake(): void {
    const waiter = this.waiter;
    if (this.failure) {
      this.waiter = null;
      if (waiter) waiter.resume(this.failure);
      else if (!this.stopped) {
        this.stopped = true;
        this.onError(this.failure);
      }
      return;
    }
    if (waiter && (waiter.idle ? this.slots.length === 0 : this.hasRoom)) {
      this.waiter = null;
      waiter.resume();
    }
  }
}

function wipe(data: ArrayBuffer | Uint8Array | undefined): void {
  if (data) (data instanceof ArrayBuffer ? new Uint8Array(data) : data).fill(0);
}

/** A Buffer over the same memory as `view` (no copy). */
function asBuffer(view: Uint8Array, from = 0, length = view.length - from): Buffer {
  return Buffer.from(view.buffer, view.byteOffset + from, length);
}

/**
 * Cuts a delivered result's links to its buffers. The settled promise that carried it keeps
 * it reachable while the promise lives, and a promise that was in flight during a minor GC
 * may have been moved to the old generation: it then pins the 1 MiB segment buffers until the
 * next full GC, tens of MiB later (measured: peak RSS +40 MiB over a 1 GiB stream).
 */
function release(result: SegmentResult): void {
  result.output = [];
  result.input = undefined;
  result.tag = undefined;
}

/** Pushes bytes [start, start + length) of the concatenated `pieces`, without copying. */
function pushRange(stream: Transform, pieces: readonly Uint8Array[], start: number, length: number): void {
  const end = start + length;
  let offset = 0;
  for (const piece of pieces) {
    const from = Math.max(start, offset);
    const to = Math.min(end, offset + piece.length);
    if (from < to) stream.push(asBuffer(piece, from - offset, to - from));
    offset += piece.length;
    if (offset >= end) return;
  }
}

/**
 * The readable side counts chunks (object mode: pushed buffers are never concatenated). A
 * pooled segment may arrive as pieces (plus its tag), so the mark is four segments' worth.
 */
function readableMark(pool: SegmentRunner, segmentSize: number): number {
  return 4 * (pool.piecesPerSegment(segmentSize) + 1);
}

/** Reports an input-side error in order: after the segments before it, or at once in-thread. */
function failInOrder(lane: PoolLane | null, err: Error, done: TransformCallback): void {
  if (!lane) return done(err);
  lane.jobs.addError(err);
  lane.jobs.whenIdle(done);
}

/** One stream's share of the pool: its jobs in order, its copy of the key, its buffers. */
class PoolLane {
  readonly jobs: OrderedJobs;
  readonly assembler: PieceSource;
  private readonly key: Uint8Array;

  constructor(
    private readonly pool: SegmentRunner,
    key: Uint8Array,
    segmentSize: number,
    /** Most segments outstanding once the stream is under way. */
    readonly limit: number,
    initialLimit: number,
    stream: Transform,
  ) {
    // Its own 32-byte ArrayBuffer: structured-cloning a view clones the whole buffer under it.
    this.key = new Uint8Array(key);
    this.jobs = new OrderedJobs(
      initialLimit,
      (err) => stream.destroy(err),
      // Results that will never be delivered may hold plaintext (open output, seal input).
      (r) => {
        for (const piece of r.output) wipe(piece);
        wipe(r.input);
      },
      // Transform does not hold writes back for pushes made after its callback, as ours are.
      () => stream.readableLength < readableMark(pool, segmentSize),
    );
    this.assembler = pool.gathers ? new Gatherer() : new HandoverAssembler(segmentSize + TAG_LENGTH, limit);
  }

  /** Queues one segment (`bytes` from this lane's assembler); `deliver` runs in segment order. */
  run(op: 'seal' | 'open', nonce: Uint8Array, aad: Uint8Array, bytes: SegmentBytes, deliver: (r: SegmentResult) => void, mapError?: (err: Error) => Error): void {
    const length = byteLength(bytes);
    const segment = Array.isArray(bytes) ? { pieces: bytes } : { input: handover(bytes as Buffer) };
    const job = this.pool.run({ op, key: this.key, nonce, aad, ...segment, length });
    this.jobs.add(
      job,
      (r) => {
        if (r.input) this.assembler.reuse?.(r.input);
        deliver(r);
      },
      mapError,
    );
  }

  /** The stream is done or destroyed: drop what is outstanding, wipe key and buffers. */
  close(): void {
    this.jobs.stop();
    this.assembler.wipe();
    this.key.fill(0);
  }
}

/** AES-256-GCM of one segment on the calling thread: [ciphertext, tag]. */
function sealSegmentHere(key: Buffer, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): [Buffer, Buffer] {
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad);
  const ciphertext = cipher.update(plaintext);
  cipher.final();
  return [ciphertext, cipher.getAuthTag()];
}

/**
 * Opens one sealed segment (ciphertext ‖ tag) on the calling thread. update() returns
 * plaintext before the tag is checked: it is released only after final() succeeded, and
 * overwritten otherwise.
 */
function openSegmentHere(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array, index: number): Buffer {
  const ctLength = sealed.length - TAG_LENGTH;
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(ctLength));
  let plaintext: Buffer | undefined;
  try {
    plaintext = decipher.update(sealed.subarray(0, ctLength));
    decipher.final();
  } catch {
    plaintext?.fill(0);
    throw authenticationFailed(index);
  }
  return plaintext;
}

class SealTransform extends Transform {
  private readonly header: SealedHeader;
  private readonly headerBytes: Buffer;
  private readonly key: Buffer;
  private readonly segments: number;
  private readonly assembler: PieceSource;
  private readonly lane: PoolLane | null = null;
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
    const pooled = poolFor(segmentSize, this.segments);
    if (pooled) {
      this.lane = new PoolLane(pooled.pool, opts.key, segmentSize, pooled.limit, pooled.limit, this);
      this.assembler = this.lane.assembler;
    } else {
      this.assembler = new Assembler(Math.max(1, Math.min(segmentSize, opts.plaintextLength)));
    }
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      if (!Buffer.isBuffer(chunk)) chunk = Buffer.from(chunk);
      this.received += chunk.length;
      if (this.received > this.header.plaintextLength) {
        throw new AppError('invalid', 'plaintext_length_mismatch', `more plaintext than the declared ${this.header.plaintextLength} bytes`);
      }
      this.pushHeader();
    } catch (err) {
      return failInOrder(this.lane, err as Error, done);
    }
    this.feed(chunk, 0, done);
  }

  /** Seals the segments completed by `chunk`, pausing while the stream has enough on the pool. */
  private feed(chunk: Buffer, offset: number, done: TransformCallback): void {
    try {
      while (offset < chunk.length) {
        if (this.lane && !this.lane.jobs.hasRoom) {
          return this.lane.jobs.whenRoom((err) => (err ? done(err) : this.feed(chunk, offset, done)));
        }
        const [piece, next] = this.assembler.take(chunk, offset, segmentPlaintextLength(this.header, this.index));
        offset = next;
        if (piece) this.sealSegment(piece);
      }
    } catch (err) {
      return failInOrder(this.lane, err as Error, done);
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    try {
      if (this.received !== this.header.plaintextLength) {
        throw new AppError('invalid', 'plaintext_length_mismatch', `stream ended after ${this.received} of the declared ${this.header.plaintextLength} bytes`);
      }
      this.pushHeader();
      if (this.header.plaintextLength === 0) this.sealSegment(Buffer.alloc(0));
    } catch (err) {
      return failInOrder(this.lane, err as Error, done);
    }
    if (this.lane) this.lane.jobs.whenIdle(done);
    else done();
  }

  override _read(size: number): void {
    super._read(size);
    this.lane?.jobs.poke();
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    this.lane?.close();
    this.assembler.wipe();
    this.key.fill(0);
    done(err);
  }

  private pushHeader(): void {
    if (this.headerPushed) return;
    this.headerPushed = true;
    this.push(this.headerBytes);
  }

  private sealSegment(plaintext: SegmentBytes): void {
    const final = this.index === this.segments - 1;
    const nonce = segmentNonce(this.header.noncePrefix, this.index, final);
    const aad = segmentAad(this.headerBytes, this.index, final);
    this.index++;
    if (this.lane) {
      this.lane.run('seal', nonce, aad, plaintext, (r) => {
        for (const piece of r.output) this.push(asBuffer(piece));
        this.push(asBuffer(r.tag!));
      });
      return;
    }
    const [ciphertext, tag] = sealSegmentHere(this.key, nonce, aad, contiguous(plaintext));
    this.push(ciphertext);
    this.push(tag);
  }
}

/** Returns a Transform that turns exactly `plaintextLength` bytes into a sealed object. */
export function createSealStream(opts: SealOptions): Transform {
  void keepLargeBuffers();
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
  private assembler: PieceSource | null = null;
  private lane: PoolLane | null = null;
  private index = 0;
  private firstIndex = 0;
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
    this.index = this.firstIndex = range.firstSegment;
    this.lastIndex = range.lastSegment;
    this.skip = range.skip;
    this.remaining = range.take;
    const pooled = poolFor(header.segmentSize, range.lastSegment - range.firstSegment + 1);
    if (pooled) {
      // One segment at a time until the first one verifies: until then the header, and so the
      // segment size that sizes every buffer, is unauthenticated.
      this.lane = new PoolLane(pooled.pool, this.key, header.segmentSize, pooled.limit, 1, this);
      this.assembler = this.lane.assembler;
    } else {
      this.assembler = new Assembler(Math.min(header.segmentSize, header.plaintextLength) + TAG_LENGTH);
    }
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let offset = 0;
    try {
      if (!Buffer.isBuffer(chunk)) chunk = Buffer.from(chunk);
      if (!this.header) {
        this.pendingHeader.push(chunk);
        this.pendingHeaderLength += chunk.length;
        if (this.pendingHeaderLength < HEADER_LENGTH) return done();
        chunk = Buffer.concat(this.pendingHeader);
        this.pendingHeader = [];
        this.start(chunk.subarray(0, HEADER_LENGTH));
        offset = HEADER_LENGTH;
      }
    } catch (err) {
      return done(err as Error);
    }
    this.feed(chunk, offset, done);
  }

  /** Opens the segments completed by `chunk`, pausing while the stream has enough on the pool. */
  private feed(chunk: Buffer, offset: number, done: TransformCallback): void {
    try {
      while (offset < chunk.length) {
        // Anything after the final segment is an extension attack or corruption.
        if (this.finished) throw new DecryptionError('trailing_data', 'data found after the final segment');
        if (this.lane && !this.lane.jobs.hasRoom) {
          return this.lane.jobs.whenRoom((err) => (err ? done(err) : this.feed(chunk, offset, done)));
        }
        const want = segmentPlaintextLength(this.header!, this.index) + TAG_LENGTH;
        const [piece, next] = this.assembler!.take(chunk, offset, want);
        offset = next;
        if (piece) this.openSegment(piece);
      }
    } catch (err) {
      return failInOrder(this.lane, err as Error, done);
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    if (!this.header) return done(new DecryptionError('truncated', 'sealed object is shorter than its header'));
    if (!this.finished) return failInOrder(this.lane, new DecryptionError('truncated', 'sealed object ended before its final segment'), done);
    if (this.lane) this.lane.jobs.whenIdle(done);
    else done();
  }

  override _read(size: number): void {
    super._read(size);
    this.lane?.jobs.poke();
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    this.lane?.close();
    this.assembler?.wipe();
    this.key.fill(0);
    done(err);
  }

  private openSegment(sealed: SegmentBytes): void {
    const header = this.header!;
    const index = this.index;
    const final = index === segmentCount(header.plaintextLength, header.segmentSize) - 1;
    const nonce = segmentNonce(header.noncePrefix, index, final);
    const aad = segmentAad(this.headerBytes!, index, final);
    if (index === this.lastIndex) this.finished = true;
    this.index++;
    const [start, length] = this.keep(byteLength(sealed) - TAG_LENGTH);

    if (this.lane) {
      const lane = this.lane;
      lane.run(
        'open',
        nonce,
        aad,
        sealed,
        // Runs only once this segment's tag verified and every earlier segment was delivered.
        (r) => {
          if (length > 0) pushRange(this, r.output, start, length);
          // The header is authenticated now (it is in this segment's AAD): full parallelism.
          if (index === this.firstIndex) lane.jobs.setLimit(lane.limit);
        },
        (err) => (err instanceof SegmentAuthenticationFailure ? authenticationFailed(index) : err),
      );
      return;
    }

    const plaintext = openSegmentHere(this.key, nonce, aad, contiguous(sealed), index);
    if (length > 0) this.push(plaintext.subarray(start, start + length));
  }

  /** Which bytes of the next opened segment (of `length` bytes) belong to the requested range. */
  private keep(length: number): [start: number, length: number] {
    const start = Math.min(this.skip, length);
    this.skip = 0;
    const kept = Math.min(length - start, this.remaining);
    this.remaining -= kept;
    return [start, kept];
  }
}

function authenticationFailed(index: number): DecryptionError {
  return new DecryptionError('authentication_failed', `segment ${index} failed authentication (wrong key, tampering or reordering)`);
}

/**
 * Returns a Transform that opens a whole sealed object. Every byte it emits belongs to a
 * segment whose tag verified; on tampering, truncation or a wrong key it errors with a
 * {@link DecryptionError}, so consumers must treat a stream error as "nothing is valid".
 */
export function createOpenStream(key: Uint8Array, expect?: OpenExpectations): Transform {
  void keepLargeBuffers();
  return new OpenTransform(key, expect, {});
}

/**
 * Returns a Transform for random access: feed it the sealed bytes
 * `planRange(header, start, end).sealedStart … sealedEnd` and it emits plaintext [start, end).
 * `headerBytes` are the first 64 bytes of the object (read separately; authenticated by the segments).
 */
export function createOpenRangeStream(key: Uint8Array, headerBytes: Uint8Array, range: { start: number; end?: number }, expect?: OpenExpectations): Transform {
  void keepLargeBuffers();
  return new OpenTransform(key, expect, { headerBytes, range });
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Seals a whole buffer synchronously, on the calling thread, with no stream: for small objects
 * such as a message's envelope, where a stream pipeline cost more than the cipher (Node's
 * pipeline() ends with an AbortController.abort(), which builds a DOMException with a stack:
 * 4.4 % of the server's busy time in bench:api's sends). The same bytes as createSealStream.
 * It holds the event loop for the whole object, so it refuses more than one segment: larger
 * objects go through createSealStream, whose segments may run on the segment runner.
 */
export function sealBytes(opts: Omit<SealOptions, 'plaintextLength'>, plaintext: Uint8Array): Buffer {
  assertKey(opts.key);
  const segmentSize = opts.segmentSize ?? DEFAULT_SEGMENT_SIZE;
  assertSegmentSize(segmentSize);
  if (plaintext.length > segmentSize) {
    throw new AppError('invalid', 'plaintext_too_large', `sealBytes takes at most one segment (${segmentSize} bytes); stream larger objects`);
  }
  const header: SealedHeader = {
    version: FORMAT_VERSION,
    algorithm: ALGORITHM_AES_256_GCM,
    segmentSize,
    plaintextLength: plaintext.length,
    objectId: opts.objectId,
    keyId: opts.keyId,
    noncePrefix: opts.noncePrefix ?? randomBytes(NONCE_PREFIX_LENGTH),
  };
  const headerBytes = encodeHeader(header);
  const key = Buffer.from(opts.key);
  try {
    const [ciphertext, tag] = sealSegmentHere(key, segmentNonce(header.noncePrefix, 0, true), segmentAad(headerBytes, 0, true), plaintext);
    return Buffer.concat([headerBytes, ciphertext, tag]);
  } finally {
    key.fill(0);
  }
}

/**
 * Opens a whole sealed object synchronously, with no stream: the reading side of
 * {@link sealBytes}, for small objects such as a message's envelope (read for every
 * notification and thread view). It holds the event loop for the whole object, so callers use
 * it for objects of one segment. It fails exactly where createOpenStream fails, with the same
 * reasons and in the same order (the header, then segment by segment: too short, then the
 * tag; then trailing bytes), and returns nothing unless every tag verified. Nothing is
 * allocated from the header's (unauthenticated) lengths: a damaged header claiming many
 * segments runs out of bytes at the first one missing.
 */
export function openSealedBytes(key: Uint8Array, sealed: Uint8Array, expect?: OpenExpectations): Buffer {
  assertKey(key);
  const headerBytes = sealed.subarray(0, HEADER_LENGTH);
  const header = decodeHeader(headerBytes);
  checkExpectations(header, expect);
  const count = segmentCount(header.plaintextLength, header.segmentSize);
  const plaintext: Buffer[] = [];
  const fail = (err: Error): never => {
    for (const piece of plaintext) piece.fill(0);
    throw err;
  };
  let offset = HEADER_LENGTH;
  for (let index = 0; index < count; index++) {
    const end = offset + segmentPlaintextLength(header, index) + TAG_LENGTH;
    if (sealed.length < end) fail(new DecryptionError('truncated', 'sealed object ended before its final segment'));
    const final = index === count - 1;
    try {
      plaintext.push(openSegmentHere(key, segmentNonce(header.noncePrefix, index, final), segmentAad(headerBytes, index, final), sealed.subarray(offset, end), index));
    } catch (err) {
      fail(err as Error);
    }
    offset = end;
  }
  if (sealed.length > offset) fail(new DecryptionError('trailing_data', 'data found after the final segment'));
  return plaintext.length === 1 ? plaintext[0]! : Buffer.concat(plaintext);
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
