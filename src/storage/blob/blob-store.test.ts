import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../shared/app-error.ts';
import { assertBlobKey, resolveByteRange, type BlobStore } from './blob-store.ts';
import {
  MiB,
  bodyOf,
  buildBlobKey,
  failingBody,
  makeTempDir,
  meteredLargeBody,
  patternBytes,
  readAll,
  recordMultipartUploads,
  startS3Server,
  type MultipartRecord,
  type TestS3Server,
} from './blob-test-support.ts';
import { FsBlobStore } from './fs-blob-store.ts';
import { S3BlobStore } from './s3-blob-store.ts';

const INVALID_KEYS: Array<[string, string]> = [
  ['a traversal', '../etc/passwd'],
  ['a long traversal', `../../${'a'.repeat(20)}`],
  ['a slash', 'a/b'],
  ['a long slash', `${'a'.repeat(10)}/${'b'.repeat(10)}`],
  ['uppercase', 'UPPER'],
  ['long uppercase', 'UPPERCASEKEY00000000'],
  ['a dot', `${'a'.repeat(10)}.${'b'.repeat(10)}`],
  ['a temporary-file name', `.tmp-${'a'.repeat(20)}`],
  ['empty', ''],
  ['too short', 'a'.repeat(15)],
  ['too long', 'a'.repeat(200)],
  ['a leading dash', `-${'a'.repeat(20)}`],
];

describe('assertBlobKey', () => {
  it.each(INVALID_KEYS)('refuses a key with %s', (_label, key) => {
    expect(() => assertBlobKey(key)).toThrow(expect.objectContaining({ kind: 'invalid', code: 'invalid_blob_key' }));
  });

  it('accepts keys of 16 and of 128 characters', () => {
    expect(() => assertBlobKey('a'.repeat(16))).not.toThrow();
    expect(() => assertBlobKey(`0${'a_-9'.repeat(31)}abc`)).not.toThrow();
  });
});

describe('resolveByteRange', () => {
  it('fills in the end of an open range', () => {
    expect(resolveByteRange({ start: 3 }, 10)).toEqual({ start: 3, end: 10 });
  });

  it.each([
    ['an empty range', { start: 4, end: 4 }, 10],
    ['a reversed range', { start: 5, end: 2 }, 10],
    ['a negative start', { start: -1, end: 2 }, 10],
    ['a fractional start', { start: 1.5 }, 10],
    ['a start at the size', { start: 10 }, 10],
    ['an end past the size', { start: 0, end: 11 }, 10],
    ['any range of an empty blob', { start: 0 }, 0],
  ])('refuses %s', (_label, range, size) => {
    expect(() => resolveByteRange(range, size)).toThrow(expect.objectContaining({ code: 'invalid_range' }));
  });
});

/** One implementation under the contract, with a way to look behind its API. */
interface Harness {
  store: BlobStore;
  /** Half-written state left in the backend: temporary files (fs) or unfinished multipart uploads (S3). */
  leftovers(): Promise<string[]>;
  /** A store of this kind whose check() must fail. */
  brokenStore(): Promise<BlobStore>;
  tearDown(): Promise<void>;
}

async function fsHarness(): Promise<Harness> {
  const root = await makeTempDir('fs-blobs');
  const scratch = await makeTempDir('fs-broken');
  const store = new FsBlobStore(root);
  return {
    store,
    leftovers: async () => {
      const entries = await readdir(root, { recursive: true });
      return entries.filter((entry) => entry.split('/').some((part) => part.startsWith('.tmp-')));
    },
    brokenStore: async () => {
      const file = join(scratch, 'not-a-directory');
      await writeFile(file, 'x');
      return new FsBlobStore(file);
    },
    tearDown: async () => {
      await rm(root, { recursive: true, force: true });
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

async function s3Harness(): Promise<Harness> {
  const server: TestS3Server = await startS3Server();
  const uploads: MultipartRecord = recordMultipartUploads();
  return {
    store: new S3BlobStore(server.options({ prefix: 'contract/' })),
    // s3rver cannot list multipart uploads, so this counts uploads the client neither completed
    // nor asked to abort; see recordMultipartUploads.
    leftovers: async () => uploads.unfinished(),
    brokenStore: async () => new S3BlobStore(server.options({ bucket: 'no-such-bucket' })),
    tearDown: async () => {
      uploads.stop();
      await server.stop();
    },
  };
}

describe.each([
  { kind: 'fs', setUp: fsHarness },
  { kind: 's3', setUp: s3Harness },
])('BlobStore contract ($kind)', ({ setUp }) => {
  let harness: Harness;
  let store: BlobStore;

  beforeAll(async () => {
    harness = await setUp();
    store = harness.store;
  });

  afterAll(async () => {
    await harness?.tearDown();
  });

  describe('put and get', () => {
    // 16 MiB + 3 takes three parts on S3 (8 MiB parts), so multipart is covered too.
    it.each([0, 1, 5 * MiB + 3, 16 * MiB + 3])('does a round trip of %i bytes streamed from a generator', async (size) => {
      const bytes = patternBytes(size, size + 1);
      const key = buildBlobKey();

      await expect(store.put(key, bodyOf(bytes))).resolves.toEqual({ size });

      expect(await store.exists(key)).toBe(true);
      expect(await store.size(key)).toBe(size);
      const read = await readAll(await store.get(key));
      expect(read.length).toBe(size);
      expect(read.equals(bytes)).toBe(true);
    });

    it('does accept a Node Readable as the body', async () => {
      const bytes = patternBytes(1000);
      const key = buildBlobKey();
      await store.put(key, Readable.from([bytes.subarray(0, 10), bytes.subarray(10)]));
      expect((await readAll(await store.get(key))).equals(bytes)).toBe(true);
    });
  });

  describe('putBytes', () => {
    it.each([0, 1, 70_000])('does a round trip of %i bytes from one buffer', async (size) => {
      const bytes = patternBytes(size, size + 7);
      const key = buildBlobKey();
      await expect(store.putBytes(key, bytes)).resolves.toEqual({ size });
      expect(await store.size(key)).toBe(size);
      expect((await readAll(await store.get(key))).equals(bytes)).toBe(true);
      expect(await harness.leftovers()).toEqual([]);
    });

    it('does refuse to overwrite, keep the original, and leave nothing behind', async () => {
      const key = buildBlobKey();
      const original = patternBytes(2000, 3);
      await store.putBytes(key, original);
      await expect(store.putBytes(key, patternBytes(10, 4))).rejects.toMatchObject({ kind: 'conflict', code: 'blob_exists' });
      expect((await readAll(await store.get(key))).equals(original)).toBe(true);
      expect(await harness.leftovers()).toEqual([]);
    });

    it.each(INVALID_KEYS)('does refuse a key with %s', async (_label, key) => {
      await expect(store.putBytes(key, patternBytes(10))).rejects.toMatchObject({ kind: 'invalid', code: 'invalid_blob_key' });
    });
  });

  describe('ranges', () => {
    const bytes = patternBytes(1000, 7);
    const key = buildBlobKey();

    beforeAll(async () => {
      await store.put(key, bodyOf(bytes, 97));
    });

    it.each([
      ['the first byte', 0, 1],
      ['a middle slice', 400, 600],
      ['the last byte', 999, 1000],
      ['the whole blob', 0, 1000],
    ])('does return %s', async (_label, start, end) => {
      const read = await readAll(await store.get(key, { start, end }));
      expect(read.equals(bytes.subarray(start, end))).toBe(true);
    });

    it('does read to the end when the end is omitted', async () => {
      const read = await readAll(await store.get(key, { start: 990 }));
      expect(read.equals(bytes.subarray(990))).toBe(true);
    });

    it.each([
      ['an empty range', { start: 10, end: 10 }],
      ['a start at the size', { start: 1000 }],
      ['a start past the size', { start: 5000, end: 5001 }],
      ['an end past the size', { start: 990, end: 1001 }],
      ['a negative start', { start: -1, end: 3 }],
    ])('does refuse %s with invalid_range', async (_label, range) => {
      await expect(store.get(key, range)).rejects.toMatchObject({ kind: 'invalid', code: 'invalid_range' });
    });

    it('does refuse any range of an empty blob', async () => {
      const empty = buildBlobKey();
      await store.put(empty, bodyOf(new Uint8Array(0)));
      await expect(store.get(empty, { start: 0 })).rejects.toMatchObject({ code: 'invalid_range' });
    });

    it('does serve ranges that cross a multipart part boundary', async () => {
      const big = patternBytes(9 * MiB, 11);
      const bigKey = buildBlobKey();
      await store.put(bigKey, bodyOf(big));
      const start = 8 * MiB - 5;
      const read = await readAll(await store.get(bigKey, { start, end: start + 10 }));
      expect(read.equals(big.subarray(start, start + 10))).toBe(true);
    });
  });

  describe('absent keys', () => {
    it('does report a missing blob as not found', async () => {
      const key = buildBlobKey();
      await expect(store.get(key)).rejects.toMatchObject({ kind: 'not_found', code: 'blob_not_found' });
      await expect(store.get(key, { start: 0, end: 1 })).rejects.toMatchObject({ code: 'blob_not_found' });
      await expect(store.size(key)).rejects.toMatchObject({ kind: 'not_found', code: 'blob_not_found' });
      expect(await store.exists(key)).toBe(false);
    });

    it('does delete idempotently', async () => {
      const key = buildBlobKey();
      await store.put(key, bodyOf(patternBytes(10)));

      await store.delete(key);
      expect(await store.exists(key)).toBe(false);
      await expect(store.get(key)).rejects.toMatchObject({ code: 'blob_not_found' });
      await expect(store.delete(key)).resolves.toBeUndefined();
      await expect(store.delete(buildBlobKey())).resolves.toBeUndefined();
    });
  });

  describe('overwrites', () => {
    it('does refuse to overwrite and keeps the original intact', async () => {
      const key = buildBlobKey();
      const original = patternBytes(2000, 1);
      await store.put(key, bodyOf(original));
      const replacement = Readable.from([patternBytes(3000, 2)]);

      await expect(store.put(key, replacement)).rejects.toMatchObject({ kind: 'conflict', code: 'blob_exists' });

      expect(replacement.destroyed).toBe(true);
      expect(await store.size(key)).toBe(2000);
      expect((await readAll(await store.get(key))).equals(original)).toBe(true);
      expect(await harness.leftovers()).toEqual([]);
    });

    it('does allow a put again after a delete', async () => {
      const key = buildBlobKey();
      await store.put(key, bodyOf(patternBytes(10, 1)));
      await store.delete(key);
      const second = patternBytes(20, 2);
      await store.put(key, bodyOf(second));
      expect((await readAll(await store.get(key))).equals(second)).toBe(true);
    });
  });

  describe('invalid keys', () => {
    it.each(INVALID_KEYS)('does refuse a key with %s on every method', async (_label, key) => {
      const invalid = { kind: 'invalid', code: 'invalid_blob_key' };
      await expect(store.put(key, bodyOf(patternBytes(10)))).rejects.toMatchObject(invalid);
      await expect(store.get(key)).rejects.toMatchObject(invalid);
      await expect(store.get(key, { start: 0, end: 1 })).rejects.toMatchObject(invalid);
      await expect(store.size(key)).rejects.toMatchObject(invalid);
      await expect(store.exists(key)).rejects.toMatchObject(invalid);
      await expect(store.delete(key)).rejects.toMatchObject(invalid);
    });
  });

  describe('failing bodies', () => {
    // 1 KiB fails before anything is sent; 12 MiB fails after S3 has stored a first 8 MiB part.
    it.each([1024, 12 * MiB])('does leave nothing behind when the body fails after %i bytes', async (before) => {
      const key = buildBlobKey();
      const failure = new Error('body failed half-way');

      await expect(store.put(key, failingBody(before, failure))).rejects.toBe(failure);

      expect(await store.exists(key)).toBe(false);
      await expect(store.get(key)).rejects.toMatchObject({ code: 'blob_not_found' });
      expect(await harness.leftovers()).toEqual([]);
    });

    it('does refuse a body that yields strings instead of bytes', async () => {
      const key = buildBlobKey();
      await expect(store.put(key, Readable.from(['text']) as never)).rejects.toMatchObject({ code: 'invalid_blob_body' });
      expect(await store.exists(key)).toBe(false);
      expect(await harness.leftovers()).toEqual([]);
    });
  });

  describe('memory', () => {
    it('does stream a 64 MiB put without holding it in memory', async () => {
      const key = buildBlobKey();
      const large = meteredLargeBody(64 * MiB);

      await expect(store.put(key, large.body)).resolves.toEqual({ size: 64 * MiB });

      expect(await store.size(key)).toBe(64 * MiB);
      // A generous bound: buffering the blob would need 64 MiB; S3 holds up to ~3 parts of 8 MiB.
      expect(large.peakGrowth()).toBeLessThan(32 * MiB);
      await store.delete(key);
    });
  });

  describe('check', () => {
    it('does pass on a working store', async () => {
      await expect(store.check()).resolves.toBeUndefined();
    });

    it('does fail with unavailable when the store cannot be used', async () => {
      const broken = await harness.brokenStore();
      const failure = await broken.check().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isAppError(failure, 'blob_store_unavailable')).toBe(true);
      expect(failure).toMatchObject({ kind: 'unavailable' });
    });
  });
});
