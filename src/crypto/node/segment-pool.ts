// A small pool of worker threads that run AES-256-GCM on whole segments (segment-worker.js):
// the `workers` segment runner (segment-runner.ts), used where the native addon is not built.
//
// Why: segments are independent (each has its own nonce and AAD, derived from the header and
// the index), so large objects can be sealed and opened on several cores. Just as important,
// a big upload or download then no longer holds the HTTP event loop for the duration of the
// cipher work: the main thread only assembles segments, hands them over and pushes results.
//
// The pool is format-agnostic: callers pass key, nonce, AAD and an input buffer they give up
// for the duration of the job (it is transferred, not copied, and comes back for reuse); the
// result arrives in a buffer of its own, also transferred.

import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { AppError } from '../../shared/app-error.ts';
import { SegmentAuthenticationFailure, type SegmentJob, type SegmentResult, type SegmentRunner } from './segment-job.ts';

/** Worker script: plain JavaScript, so it starts without the tsx loader. */
const WORKER_URL = new URL('./segment-worker.js', import.meta.url);

/**
 * Largest output buffer a worker allocates: results come back as pieces of at most this size.
 * Below glibc's default mmap threshold (128 KiB), so outputs come from the heap instead of a
 * fresh mmap per segment (see segment-worker.js for the measurements).
 */
export const OUTPUT_PIECE_SIZE = 64 * 1024;

/** Jobs sent ahead to one worker, so it never idles waiting for the next message. */
const JOBS_PER_WORKER = 2;

interface Pending {
  id: number;
  job: SegmentJob;
  resolve: (result: SegmentResult) => void;
  reject: (err: Error) => void;
}

interface WorkerMessage {
  id: number;
  ok: boolean;
  input?: ArrayBuffer;
  output?: ArrayBuffer[];
  tag?: Uint8Array;
  failure?: 'authentication_failed' | 'error';
  message?: string;
}

class PoolWorker {
  readonly worker: Worker;
  readonly jobs = new Map<number, Pending>();
  exited = false;
  problem: Error | undefined;

  constructor(url: URL) {
    // execArgv: [] keeps the parent's loader flags (--import tsx, vitest's) out of the worker.
    this.worker = new Worker(url, { execArgv: [] });
    // An idle pool must never keep the process alive; `send` refs the worker while it has work.
    this.worker.unref();
  }
}

/** A fixed-size pool of segment workers; crashed workers are replaced on the next job. */
export class SegmentPool implements SegmentRunner {
  readonly kind = 'workers';
  readonly gathers = false;
  private readonly workers: PoolWorker[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;

  constructor(
    /** Number of worker threads. */
    readonly size: number,
    private readonly url: URL = WORKER_URL,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new TypeError('pool size must be a positive integer');
  }

  piecesPerSegment(segmentSize: number): number {
    return Math.ceil(segmentSize / OUTPUT_PIECE_SIZE);
  }

  /** Runs one job on the next free worker. */
  run(job: SegmentJob): Promise<SegmentResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, resolve, reject });
      this.dispatch();
    });
  }

  /** Threads currently alive, for diagnostics and tests. */
  get threads(): readonly Worker[] {
    return this.workers.map((w) => w.worker);
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const target = this.leastBusy();
      if (!target) return;
      this.send(target, this.queue.shift()!);
    }
  }

  private leastBusy(): PoolWorker | undefined {
    let best: PoolWorker | undefined;
    for (const w of this.workers) if (!best || w.jobs.size < best.jobs.size) best = w;
    if (best && best.jobs.size === 0) return best;
    if (this.workers.length < this.size) return this.spawn();
    return best && best.jobs.size < JOBS_PER_WORKER ? best : undefined;
  }

  private send(w: PoolWorker, p: Pending): void {
    // A worker with jobs keeps the process alive: whoever awaits the result needs it.
    if (w.jobs.size === 0) w.worker.ref();
    w.jobs.set(p.id, p);
    const { op, key, nonce, aad, input, length } = p.job;
    try {
      if (!input) throw new TypeError('the worker pool takes a segment in one buffer (input), not in pieces');
      w.worker.postMessage({ id: p.id, op, key, nonce, aad, input, length, piece: OUTPUT_PIECE_SIZE }, [input]);
    } catch (err) {
      this.settle(w, p.id);
      p.reject(err as Error);
    }
  }

  private settle(w: PoolWorker, id: number): Pending | undefined {
    const p = w.jobs.get(id);
    w.jobs.delete(id);
    if (w.jobs.size === 0 && !w.exited) w.worker.unref();
    return p;
  }

  private spawn(): PoolWorker {
    const w = new PoolWorker(this.url);
    this.workers.push(w);
    w.worker.on('message', (msg: WorkerMessage) => {
      const p = this.settle(w, msg.id);
      if (p) {
        if (msg.ok && msg.output && msg.input) p.resolve({ output: msg.output.map((piece) => new Uint8Array(piece)), tag: msg.tag, input: msg.input });
        else if (msg.failure === 'authentication_failed') p.reject(new SegmentAuthenticationFailure('segment failed authentication'));
        else p.reject(new AppError('internal', 'segment_worker_failed', `crypto worker failed: ${msg.message ?? 'no result'}`));
      }
      this.dispatch();
    });
    // A result that cannot be deserialised is lost; the worker is replaced and its jobs fail.
    w.worker.on('messageerror', (err) => {
      w.problem = err;
      void w.worker.terminate();
    });
    w.worker.on('error', (err) => {
      w.problem = err;
    });
    w.worker.on('exit', (code) => this.retire(w, code));
    return w;
  }

  /** A worker ended (crash, uncaught error, terminate): fail its jobs, forget it, carry on. */
  private retire(w: PoolWorker, code: number): void {
    w.exited = true;
    const index = this.workers.indexOf(w);
    if (index >= 0) this.workers.splice(index, 1);
    const jobs = [...w.jobs.values()];
    w.jobs.clear();
    for (const p of jobs) {
      p.reject(
        new AppError('internal', 'segment_worker_crashed', `crypto worker thread exited unexpectedly (exit code ${code}); the stream was aborted`, undefined, {
          cause: w.problem,
        }),
      );
    }
    this.dispatch();
  }
}

let shared: SegmentPool | undefined;

/** The process-wide pool, created on first use with min(available cores, 4) workers. */
export function segmentPool(): SegmentPool {
  shared ??= new SegmentPool(Math.max(1, Math.min(os.availableParallelism(), 4)));
  return shared;
}
