// The native segment runner: AES-256-GCM from the addon in ./native (aes_gcm.c), on libuv's
// thread pool. Streams give it a segment as the pieces they received it in (views of the
// incoming chunks): it reads them where they lie and writes the result into one new buffer per
// segment, so no byte is copied on the way in or out. A segment given in a buffer of its own is
// encrypted or decrypted in place.
//
// The addon is built by `npm install` (native/build.mjs). When it is missing, or does not
// load, nativeSegmentRunner() returns null and segment-runner.ts falls back to the worker pool.

import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../shared/app-error.ts';
import { SegmentAuthenticationFailure, type SegmentJob, type SegmentResult, type SegmentRunner } from './segment-job.ts';

const KEY_LENGTH = 32;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
const OP = { seal: 0, open: 1 } as const;
const STATUS_DONE = 0;
const STATUS_AUTHENTICATION_FAILED = 1;

/** The addon's interface (see aes_gcm.c). */
export interface Addon {
  run(op: number, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, inputs: readonly Uint8Array[], output: Uint8Array, tag: Uint8Array): Promise<number>;
}

/** Where `npm install` leaves the addon. */
export const ADDON_PATH = new URL('./native/build/Release/aes_gcm.node', import.meta.url);

let addon: Addon | null | undefined;
let loadProblem: string | undefined;

function loadAddon(): Addon | null {
  if (addon !== undefined) return addon;
  try {
    addon = createRequire(import.meta.url)(fileURLToPath(ADDON_PATH)) as Addon;
  } catch (err) {
    addon = null;
    loadProblem = err instanceof Error ? err.message : String(err);
  }
  return addon;
}

/** The loaded addon, or null (tests call it directly). */
export function nativeGcmAddon(): Addon | null {
  return loadAddon();
}

/** Why the addon is not in use, when it is not (for diagnostics: start-up log, benchmarks). */
export function nativeGcmProblem(): string | undefined {
  loadAddon();
  return loadProblem;
}

/**
 * Segments running on libuv's thread pool at once, per process. The pool (4 threads unless
 * UV_THREADPOOL_SIZE says otherwise) also runs file-system calls, such as the blob store's
 * writes of the very segments sealed here: at least one thread is left to them.
 */
function threadsFor(cores: number): number {
  const poolThreads = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return Math.max(1, Math.min(cores, poolThreads - 1));
}

interface Queued {
  job: SegmentJob;
  resolve: (result: SegmentResult) => void;
  reject: (err: Error) => void;
}

export class NativeSegmentRunner implements SegmentRunner {
  readonly kind = 'native';
  readonly gathers = true;
  private running = 0;
  private readonly queue: Queued[] = [];

  constructor(
    private readonly addon: Addon,
    /** Jobs on the thread pool at once; more wait here. */
    readonly size: number,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new TypeError('runner size must be a positive integer');
  }

  piecesPerSegment(): number {
    return 1;
  }

  run(job: SegmentJob): Promise<SegmentResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.running < this.size && this.queue.length > 0) {
      const next = this.queue.shift()!;
      this.running++;
      this.start(next.job).then(next.resolve, next.reject).finally(() => {
        this.running--;
        this.dispatch();
      });
    }
  }

  /**
   * A segment given as `pieces` is read where it lies and written into a new buffer (a seal's
   * tag right after the ciphertext); one given as `input` is sealed or opened in place.
   */
  private async start(job: SegmentJob): Promise<SegmentResult> {
    const { op, key, nonce, aad, input, pieces, length } = job;
    if (key.length !== KEY_LENGTH || nonce.length !== NONCE_LENGTH) throw new RangeError('segment job needs a 32-byte key and a 12-byte nonce');
    const available = pieces ? pieces.reduce((sum, piece) => sum + piece.length, 0) : (input?.byteLength ?? -1);
    if (!Number.isSafeInteger(length) || length < 0 || length > available || (pieces && length !== available)) {
      throw new RangeError('segment length does not fit its buffer');
    }
    const dataLength = op === 'open' ? length - TAG_LENGTH : length;
    if (dataLength < 0) throw new RangeError('sealed segment shorter than its tag');
    let inputs: Uint8Array[];
    let data: Uint8Array;
    let tag: Uint8Array;
    if (pieces) {
      [inputs, tag] = op === 'open' ? splitTag(pieces, dataLength) : [[...pieces], new Uint8Array(0)];
      // A buffer of its own, not zero-filled: the addon writes every byte (or wipes them).
      const output = Buffer.allocUnsafeSlow(op === 'seal' ? length + TAG_LENGTH : dataLength);
      data = new Uint8Array(output.buffer, 0, dataLength);
      if (op === 'seal') tag = new Uint8Array(output.buffer, dataLength, TAG_LENGTH);
    } else {
      if (op === 'seal' && input!.byteLength < length + TAG_LENGTH) throw new RangeError('segment buffer has no room for the tag');
      data = new Uint8Array(input!, 0, dataLength);
      tag = new Uint8Array(input!, dataLength, TAG_LENGTH);
      inputs = [data];
    }
    const status = await this.addon.run(OP[op], key, nonce, aad, inputs, data, tag);
    if (status === STATUS_DONE) return op === 'seal' ? { output: [data], tag } : { output: [data] };
    if (op === 'open' && status === STATUS_AUTHENTICATION_FAILED) throw new SegmentAuthenticationFailure('segment failed authentication');
    throw new AppError('internal', 'segment_cipher_failed', 'AES-GCM failed in OpenSSL for a segment');
  }
}

/** Splits a sealed segment's pieces into the ciphertext's (`dataLength` bytes) and a copy of its tag. */
function splitTag(pieces: readonly Uint8Array[], dataLength: number): [Uint8Array[], Uint8Array] {
  const ciphertext: Uint8Array[] = [];
  const tag = new Uint8Array(TAG_LENGTH);
  let offset = 0;
  for (const piece of pieces) {
    const inData = Math.max(0, Math.min(piece.length, dataLength - offset));
    if (inData > 0) ciphertext.push(piece.subarray(0, inData));
    if (inData < piece.length) tag.set(piece.subarray(inData), offset + inData - dataLength);
    offset += piece.length;
  }
  return [ciphertext, tag];
}

let shared: NativeSegmentRunner | null | undefined;

/** The process-wide native runner, or null when the addon is not built or does not load. */
export function nativeSegmentRunner(): NativeSegmentRunner | null {
  if (shared !== undefined) return shared;
  const loaded = loadAddon();
  shared = loaded ? new NativeSegmentRunner(loaded, threadsFor(os.availableParallelism())) : null;
  return shared;
}
