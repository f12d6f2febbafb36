// Where the AES-GCM of a large object's segments runs (sealed-stream.ts hands them over here).
//
// Two runners, the same bytes out:
// - `native` (native-gcm.ts): OpenSSL's AES-GCM on libuv's thread pool, reading the caller's
//   buffer and writing into one it allocates once per segment, without zero-filling or copying.
//   Used whenever the small addon in ./native was built at `npm install`.
// - `workers` (segment-pool.ts): node:crypto on worker threads. Always available; the fallback
//   where the addon could not be built (no C compiler, no Node headers).
// Both leave the event loop free while a big file goes through and use several cores.

import { nativeSegmentRunner } from './native-gcm.ts';
import type { SegmentRunner, SegmentRunnerKind } from './segment-job.ts';
import { segmentPool } from './segment-pool.ts';

let chosen: SegmentRunner | undefined;

/** The process-wide runner: native when the addon is built, otherwise the worker pool. */
export function segmentRunner(): SegmentRunner {
  chosen ??= nativeSegmentRunner() ?? segmentPool();
  return chosen;
}

/**
 * Chooses the runner for the streams created from now on: for tests and benchmarks that
 * compare the two. Throws when `native` is asked for and the addon is not built.
 */
export function useSegmentRunner(kind: SegmentRunnerKind): SegmentRunner {
  if (kind === 'native') {
    const native = nativeSegmentRunner();
    if (!native) throw new Error('the native AES-GCM addon is not built (run npm install with a C compiler, or see docs/development.md)');
    chosen = native;
  } else {
    chosen = segmentPool();
  }
  return chosen;
}
