// What a segment runner (segment-runner.ts) takes and gives back. Runners are format-agnostic:
// callers pass key, nonce, AAD and an input buffer they give up until the job settles; it
// comes back in the result for reuse.

/** One segment of work. */
export interface SegmentJob {
  op: 'seal' | 'open';
  /** 32-byte key; the runner keeps its own copy for the job and wipes it. */
  key: Uint8Array;
  nonce: Uint8Array;
  aad: Uint8Array;
  /**
   * The segment in a buffer of its own, handed over: the workers runner transfers it and gives
   * it back, the native runner encrypts or decrypts it in place (a seal's tag is then written
   * right after the plaintext: the buffer must have 16 bytes to spare). Its first `length`
   * bytes are the plaintext (seal), or the ciphertext followed by the 16-byte tag (open).
   */
  input?: ArrayBuffer;
  /**
   * Or, for a runner that `gathers`, the same `length` bytes as the stream received them, in
   * pieces (views of the incoming chunks, not copied together). The runner reads them until
   * the job settles; the array must not be changed meanwhile.
   */
  pieces?: readonly Uint8Array[];
  length: number;
}

/** What a job produced. */
export interface SegmentResult {
  /**
   * Ciphertext (seal) or authenticated plaintext (open), in order, in pieces (see
   * SegmentRunner.piecesPerSegment); together exactly as long as the segment. The caller owns
   * them; they may be views of the job's input buffer (a runner that works in place).
   */
  output: Uint8Array[];
  /** The 16-byte tag (seal only). */
  tag?: Uint8Array;
  /** The job's input buffer, handed back for reuse; absent when the result was written into it. */
  input?: ArrayBuffer;
}

/** Rejection of an `open` job whose tag did not verify; the caller turns it into a DecryptionError. */
export class SegmentAuthenticationFailure extends Error {
  override readonly name = 'SegmentAuthenticationFailure';
}

export type SegmentRunnerKind = 'native' | 'workers';

export interface SegmentRunner {
  readonly kind: SegmentRunnerKind;
  /** Whether it takes a segment as `pieces` (otherwise it needs `input`). */
  readonly gathers: boolean;
  /** Segments it runs at once; a stream keeps up to four times this many outstanding. */
  readonly size: number;
  /** How many output pieces one segment of `segmentSize` bytes comes back as (at most). */
  piecesPerSegment(segmentSize: number): number;
  run(job: SegmentJob): Promise<SegmentResult>;
}
