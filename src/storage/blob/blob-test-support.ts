// Test helpers for the blob stores: key and body factories, an in-process S3 server (s3rver),
// and a recorder of multipart uploads. Imported by *.test.ts only.

import { S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import type { S3BlobStoreOptions } from './s3-blob-store.ts';

/** One mebibyte, for readable sizes. */
export const MiB = 1024 * 1024;

let keyCounter = 0;

/** A fresh valid blob key, unique within the test run. */
export function buildBlobKey(): string {
  keyCounter += 1;
  // Random first, so keys spread over shard directories like real ones do.
  const random = Math.random().toString(36).slice(2, 12).padEnd(10, '0');
  return `${random}${keyCounter.toString(36).padStart(4, '0')}${Date.now().toString(36)}`;
}

/**
 * `size` pseudo-random bytes (xorshift), so a reordered, shifted or repeated part of a blob never
 * compares equal by accident the way a repeating pattern could.
 */
export function patternBytes(size: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.allocUnsafe(size);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < size; i += 1) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = state & 0xff;
  }
  return out;
}

/** Streams `bytes` as a generator in chunks of an odd size, so chunks never line up with parts. */
export async function* bodyOf(bytes: Uint8Array, chunkSize = 65_537): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.byteLength; offset += chunkSize) {
    yield bytes.subarray(offset, Math.min(offset + chunkSize, bytes.byteLength));
  }
}

/** A body that yields `before` bytes and then fails with `failure`, like a dropped upload. */
export async function* failingBody(before: number, failure: Error): AsyncGenerator<Uint8Array> {
  yield* bodyOf(patternBytes(before));
  throw failure;
}

/** Reads a stream to the end. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** A fresh temporary directory; remove it with `rm(dir, { recursive: true, force: true })`. */
export function makeTempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `sealpost-${label}-`));
}

/** Bucket that {@link startS3Server} creates. */
export const TEST_BUCKET = 'sealpost-blobs';

/** An s3rver on 127.0.0.1 with a random free port and its own temporary directory. */
export interface TestS3Server {
  /** Store options for `bucket` (default: the pre-created {@link TEST_BUCKET}). */
  options(overrides?: Partial<S3BlobStoreOptions>): S3BlobStoreOptions;
  stop(): Promise<void>;
}

// Runs in the worker thread (CommonJS, so it can require s3rver, which ships no ESM or types).
const S3RVER_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const S3rver = require(workerData.modulePath);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: workerData.directory,
  configureBuckets: workerData.buckets.map((name) => ({ name })),
});
server.run().then(
  ({ port }) => parentPort.postMessage({ port }),
  (err) => parentPort.postMessage({ error: String(err) }),
);
parentPort.on('message', () => {
  server.close().finally(() => parentPort.postMessage({ stopped: true }));
});
`;

/**
 * Starts s3rver in a worker thread of this process with {@link TEST_BUCKET} (and any further
 * `buckets`) created. A worker has its own heap, so the server's buffers do not count in this
 * thread's memory samples.
 */
export async function startS3Server(opts: { buckets?: string[] } = {}): Promise<TestS3Server> {
  const directory = await makeTempDir('s3rver');
  const worker = new Worker(S3RVER_WORKER, {
    eval: true,
    workerData: { modulePath: createRequire(import.meta.url).resolve('s3rver'), directory, buckets: [TEST_BUCKET, ...(opts.buckets ?? [])] },
  });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (message: { port?: number; error?: string }) => {
      if (message.port !== undefined) resolve(message.port);
      else reject(new Error(`s3rver did not start: ${message.error}`));
    });
  });
  return {
    options: (overrides) => ({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      bucket: TEST_BUCKET,
      // s3rver's fixed development credentials; it checks SigV4 signatures against them.
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      forcePathStyle: true,
      ...overrides,
    }),
    stop: async () => {
      const stopped = new Promise((resolve) => worker.once('message', resolve));
      worker.postMessage('stop');
      await stopped;
      await worker.terminate();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** What {@link recordMultipartUploads} saw. */
export interface MultipartRecord {
  /** Upload ids returned by CreateMultipartUpload. */
  readonly created: ReadonlySet<string>;
  /** Upload ids of successful CompleteMultipartUpload calls. */
  readonly completed: ReadonlySet<string>;
  /** Upload ids an AbortMultipartUpload was sent for, whatever the server answered. */
  readonly abortRequested: ReadonlySet<string>;
  /** Every command sent, by class name, with its If-None-Match (bodies are not kept). */
  readonly commands: ReadonlyArray<{ name: string; ifNoneMatch: string | undefined }>;
  /** Created uploads that were neither completed nor aborted. */
  unfinished(): string[];
  stop(): void;
}

/**
 * Records the commands of every S3Client, and multipart uploads by id. s3rver implements neither ListMultipartUploads nor
 * AbortMultipartUpload (405), so "no upload left pending" can only be checked from the client side.
 */
export function recordMultipartUploads(): MultipartRecord {
  const created = new Set<string>();
  const completed = new Set<string>();
  const abortRequested = new Set<string>();
  const commands: Array<{ name: string; ifNoneMatch: string | undefined }> = [];
  // Patched by hand rather than with vi.spyOn: a spy keeps every call's arguments, and with them
  // every 8 MiB part body, which would break the memory test.
  const prototype = S3Client.prototype as unknown as { send: (...args: unknown[]) => Promise<unknown> };
  const original = prototype.send;
  prototype.send = async function (this: S3Client, ...args: unknown[]) {
    const command = args[0] as { constructor: { name: string }; input: { UploadId?: string; IfNoneMatch?: string } };
    const name = command.constructor.name;
    commands.push({ name, ifNoneMatch: command.input.IfNoneMatch });
    if (name === 'AbortMultipartUploadCommand' && command.input.UploadId) abortRequested.add(command.input.UploadId);
    const output = await original.apply(this, args);
    if (name === 'CreateMultipartUploadCommand') created.add((output as { UploadId: string }).UploadId);
    if (name === 'CompleteMultipartUploadCommand' && command.input.UploadId) completed.add(command.input.UploadId);
    return output;
  };
  return {
    created,
    completed,
    abortRequested,
    commands,
    unfinished: () => [...created].filter((id) => !completed.has(id) && !abortRequested.has(id)),
    stop: () => {
      prototype.send = original;
    },
  };
}

/** Runs V8's garbage collector, so memory samples count live data rather than uncollected garbage. */
export const collectGarbage: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

/**
 * A body of `size` bytes made of freshly allocated chunks that samples live ArrayBuffer memory
 * (after a GC) every `sampleEvery` bytes; `peakGrowth()` is the highest sample minus the baseline.
 */
export function meteredLargeBody(size: number, sampleEvery = 4 * MiB): {
  body: AsyncGenerator<Uint8Array>;
  peakGrowth(): number;
} {
  const chunkSize = 256 * 1024;
  collectGarbage();
  const baseline = process.memoryUsage().arrayBuffers;
  let peak = baseline;
  async function* generate(): AsyncGenerator<Uint8Array> {
    let sent = 0;
    let nextSample = sampleEvery;
    while (sent < size) {
      const length = Math.min(chunkSize, size - sent);
      yield Buffer.alloc(length, sent / chunkSize);
      sent += length;
      if (sent >= nextSample) {
        collectGarbage();
        peak = Math.max(peak, process.memoryUsage().arrayBuffers);
        nextSample += sampleEvery;
      }
    }
  }
  return { body: generate(), peakGrowth: () => peak - baseline };
}
