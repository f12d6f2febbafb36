// The storage port for sealed blobs (message bodies, attachments). Blobs hold ciphertext only;
// the implementations never see plaintext and never log what they store.

import type { Readable } from 'node:stream';
import { errors } from '../../shared/app-error.ts';

/** A half-open byte range `[start, end)`; `end` omitted means "to the end of the blob". */
export interface ByteRange {
  start: number;
  /** Exclusive; omitted = to the end of the blob. */
  end?: number;
}

/** What `put` accepts: a Node stream or any async iterable of bytes (for example a generator). */
export type BlobBody = NodeJS.ReadableStream | AsyncIterable<Uint8Array>;

/** Where sealed blobs live; chosen once at start-up (`FsBlobStore` or `S3BlobStore`). */
export interface BlobStore {
  /** Which implementation this is, for readiness reports and diagnostics. */
  readonly kind: 'fs' | 's3';
  /**
   * Streams `body` into the store under `key`; atomic: the key shows the old state or the complete
   * new blob, never a partial one. Rejects (and leaves nothing behind) if body errors, with the
   * body's own error. Returns bytes written. Overwriting an existing key is refused with AppError
   * conflict 'blob_exists'. On every rejection the body has been consumed or destroyed.
   */
  put(key: string, body: BlobBody): Promise<{ size: number }>;
  /**
   * Stores a whole buffer under `key`, with the guarantees of `put` (atomic, no overwrite:
   * conflict 'blob_exists'). For small blobs already in memory, such as a message's sealed
   * envelope: no stream, and on the filesystem fewer calls.
   */
  putBytes(key: string, bytes: Uint8Array): Promise<{ size: number }>;
  /**
   * Opens a stream of the blob or of a byte range; AppError not_found 'blob_not_found' if absent;
   * invalid 'invalid_range' if the range is empty or outside the blob.
   */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** Size of the blob in bytes; AppError not_found 'blob_not_found' if absent. */
  size(key: string): Promise<number>;
  /** True when a complete blob is stored under `key`. */
  exists(key: string): Promise<boolean>;
  /** Removes the blob; deleting an absent key succeeds (idempotent). */
  delete(key: string): Promise<void>;
  /** Readiness: throws AppError unavailable when the store cannot be written/reached. */
  check(): Promise<void>;
}

const BLOB_KEY = /^[a-z0-9][a-z0-9_-]{15,127}$/;

/**
 * Throws AppError invalid 'invalid_blob_key' unless `key` is a Sealpost-generated opaque id
 * (16–128 chars of `a-z 0-9 _ -`, not starting with `_` or `-`).
 */
export function assertBlobKey(key: string): void {
  // Security: keys become file paths and S3 object names; refusing '/', '.', '..', uppercase and
  // odd lengths prevents path traversal, key injection and collisions with the stores' own
  // temporary or probe files (which start with '.').
  if (typeof key !== 'string' || !BLOB_KEY.test(key)) {
    throw errors.invalid(
      'invalid_blob_key',
      'blob key must be 16-128 characters of a-z, 0-9, "_" or "-", starting with a letter or digit',
    );
  }
}

/** {@link assertBlobKey} for `put`: a refused body is released rather than left open. */
export async function assertKeyForPut(key: string, body: BlobBody): Promise<void> {
  try {
    assertBlobKey(key);
  } catch (err) {
    await discardBody(body);
    throw err;
  }
}

/** Throws AppError invalid 'invalid_range' unless `range` is a non-empty range of whole byte offsets. */
export function assertByteRangeShape(range: ByteRange): void {
  const { start, end } = range;
  const startOk = Number.isSafeInteger(start) && start >= 0;
  const endOk = end === undefined || (Number.isSafeInteger(end) && end > start);
  if (!startOk || !endOk) {
    throw errors.invalid(
      'invalid_range',
      'byte range needs an integer start >= 0 and, if given, an integer end greater than start',
    );
  }
}

/**
 * Checks `range` against a blob of `size` bytes and returns concrete `[start, end)` bounds;
 * AppError invalid 'invalid_range' if the range is empty or reaches outside the blob.
 */
export function resolveByteRange(range: ByteRange, size: number): { start: number; end: number } {
  assertByteRangeShape(range);
  const end = range.end ?? size;
  if (range.start >= size || end > size) {
    throw errors.invalid('invalid_range', 'byte range is outside the blob', { size });
  }
  return { start: range.start, end };
}

/** Counts the bytes of a body as they pass and remembers the body's own error, if any. */
export interface MeteredBody extends AsyncIterable<Uint8Array> {
  /** Bytes handed on so far. */
  readonly bytes: number;
  /** The error the body itself raised, to tell it apart from a storage failure. */
  readonly error: unknown;
}

/** Wraps `body` so stores can report bytes written and rethrow the body's error unchanged. */
export function meterBody(body: BlobBody): MeteredBody {
  const state = { bytes: 0, error: undefined as unknown };
  async function* chunks(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of body as AsyncIterable<unknown>) {
        // String chunks would be re-encoded and change the size; blobs are bytes only.
        if (!(chunk instanceof Uint8Array)) {
          throw errors.invalid('invalid_blob_body', 'blob body must yield Uint8Array chunks');
        }
        state.bytes += chunk.byteLength;
        yield chunk;
      }
    } catch (err) {
      state.error = err;
      throw err;
    }
  }
  const iterable = chunks();
  return {
    [Symbol.asyncIterator]: () => iterable,
    get bytes() {
      return state.bytes;
    },
    get error() {
      return state.error;
    },
  };
}

/** Releases a body that will not be read (e.g. after a refused overwrite), so no stream stays open. */
export async function discardBody(body: BlobBody): Promise<void> {
  // Failing to close the caller's stream changes nothing about the error being reported.
  try {
    const destroy = (body as { destroy?: (error?: Error) => void }).destroy;
    if (typeof destroy === 'function') {
      destroy.call(body);
      return;
    }
    // Not awaited: a generator busy in an `await` only returns at its next yield, and the
    // caller's error must not wait for that.
    (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
      .return?.()
      .catch(() => undefined);
  } catch {
    // See above.
  }
}
