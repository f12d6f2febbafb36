// The native segment runner: AES-256-GCM from the addon in ./native (aes_gcm.c), on libuv's
// thread pool, in place: a segment is encrypted or decrypted where it lies in the job's input
// buffer (a seal's tag goes right after it), so the runner allocates and copies nothing. The
// buffer then belongs to the result; the stream allocates a new one for the next segment.
//
// The addon is built by `npm install` (native/build.mjs). When it is missing, or does not
// load, nativeSegmentRunner() returns null and segment-runner.ts falls back to the worker pool.

import { createRequire } from 'node:module';
import os from 'node:os';
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
  run(op: number, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, input: Uint8Array, output: Uint8Array, tag: Uint8Array): Promise<number>;
}

/** Where `npm install` leaves the addon. */
export const ADDON_PATH = new URL('./native/build/Release/aes_gcm.node', import.meta.url);

let addon: Addon | null | undefined;
let loadProblem: string | undefined;

function loadAddon(): Addon | null {
  if (addon !== undefined) return addon;
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH.pathname) as Addon;
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

  /** Seals or opens in place: the result is written over the input, so nothing is allocated. */
  private async start(job: SegmentJob): Promise<SegmentResult> {
    const { op, key, nonce, aad, input, length } = job;
    if (key.length !== KEY_LENGTH || nonce.length !== NONCE_LENGTH) throw new RangeError('segment job needs a 32-byte key and a 12-byte nonce');
    if (!Number.isSafeInteger(length) || length < 0 || length > input.byteLength) throw new RangeError('segment length does not fit its buffer');
    const dataLength = op === 'open' ? length - TAG_LENGTH : length;
    if (dataLength < 0) throw new RangeError('sealed segment shorter than its tag');
    if (op === 'seal' && input.byteLength < length + TAG_LENGTH) throw new RangeError('segment buffer has no room for the tag');
    const data = new Uint8Array(input, 0, dataLength);
    const tag = new Uint8Array(input, dataLength, TAG_LENGTH);
    const status = await this.addon.run(OP[op], key, nonce, aad, data, data, tag);
    if (status === STATUS_DONE) return op === 'seal' ? { output: [data], tag } : { output: [data] };
    if (op === 'open' && status === STATUS_AUTHENTICATION_FAILED) throw new SegmentAuthenticationFailure('segment failed authentication');
    throw new AppError('internal', 'segment_cipher_failed', 'AES-GCM failed in OpenSSL for a segment');
  }
}

let shared: NativeSegmentRunner | null | undefined;

/** The process-wide native runner, or null when the addon is not built or does not load. */
export function nativeSegmentRunner(): NativeSegmentRunner | null {
  if (shared !== undefined) return shared;
  const loaded = loadAddon();
  shared = loaded ? new NativeSegmentRunner(loaded, threadsFor(os.availableParallelism())) : null;
  return shared;
}
