// Behaviour specific to the filesystem store; the shared contract is in blob-store.test.ts.

import { readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bodyOf, buildBlobKey, makeTempDir, patternBytes, readAll } from './blob-test-support.ts';
import { FsBlobStore } from './fs-blob-store.ts';

async function temporaryFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true });
  return entries.filter((entry) => entry.split('/').some((part) => part.startsWith('.tmp-')));
}

describe('FsBlobStore', () => {
  let root: string;
  let store: FsBlobStore;

  beforeEach(async () => {
    root = await makeTempDir('fs-store');
    store = new FsBlobStore(root);
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('does store a blob at <root>/<key[0..2]>/<key[2..4]>/<key>, readable by the owner only', async () => {
    const key = 'abcd0123456789xyz';
    const bytes = patternBytes(100);
    await store.put(key, bodyOf(bytes));

    const path = join(root, 'ab', 'cd', key);
    expect((await readFile(path)).equals(bytes)).toBe(true);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await temporaryFiles(root)).toEqual([]);
  });

  it('does write again into a shard directory removed behind its back after a first write there', async () => {
    const first = 'abcd0000000000first';
    const second = 'abcd0000000000second';
    await store.putBytes(first, patternBytes(10));
    await rm(join(root, 'ab'), { recursive: true });
    // putBytes knows the directory from the first write and skips mkdir; it must notice it is gone.
    await store.putBytes(second, patternBytes(20));
    expect((await readFile(join(root, 'ab', 'cd', second))).equals(patternBytes(20))).toBe(true);
    await expect(store.get(first)).rejects.toMatchObject({ code: 'blob_not_found' });
    expect(await temporaryFiles(root)).toEqual([]);
  });

  it('does let exactly one of two concurrent puts of the same key win', async () => {
    const key = buildBlobKey();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // Both bodies stall after their first chunk, so both puts are past the early existence
    // check and only the atomic link into place can decide between them.
    async function* stalled(seed: number): AsyncGenerator<Uint8Array> {
      const bytes = patternBytes(4096, seed);
      yield bytes.subarray(0, 100);
      await gate;
      yield bytes.subarray(100);
    }
    const first = store.put(key, stalled(1));
    const second = store.put(key, stalled(2));
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();

    const results = await Promise.allSettled([first, second]);

    const fulfilled = results.filter((result) => result.status === 'fulfilled');
    const rejected = results.filter((result) => result.status === 'rejected');
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ reason: { kind: 'conflict', code: 'blob_exists' } });
    const winner = results[0]?.status === 'fulfilled' ? 1 : 2;
    expect((await readAll(await store.get(key))).equals(patternBytes(4096, winner))).toBe(true);
    expect(await temporaryFiles(root)).toEqual([]);
  });

  it('does keep serving a blob opened before it was deleted', async () => {
    const key = buildBlobKey();
    const bytes = patternBytes(300_000);
    await store.put(key, bodyOf(bytes));

    const stream = await store.get(key);
    await store.delete(key);

    expect(await store.exists(key)).toBe(false);
    expect((await readAll(stream)).equals(bytes)).toBe(true);
  });

  it('does refuse to write when the root is a file', async () => {
    const file = join(root, 'file');
    await writeFile(file, 'x');
    const broken = new FsBlobStore(file);

    await expect(broken.put(buildBlobKey(), bodyOf(patternBytes(10)))).rejects.toMatchObject({
      kind: 'unavailable',
      code: 'blob_store_unavailable',
    });
  });

  it('does leave no probe files behind after check', async () => {
    await store.check();
    expect(await readdir(root)).toEqual([]);
  });

  describe('sweepTemporaryFiles', () => {
    it('does remove only temporary files older than the given age', async () => {
      const key = buildBlobKey();
      await store.put(key, bodyOf(patternBytes(10)));
      const shard = join(root, key.slice(0, 2), key.slice(2, 4));
      const staleUpload = join(shard, `.tmp-${key}-999-1`);
      const staleProbe = join(root, '.tmp-probe-999-2');
      const fresh = join(shard, `.tmp-${key}-999-3`);
      for (const path of [staleUpload, staleProbe, fresh]) await writeFile(path, 'partial');
      const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
      await utimes(staleUpload, twoHoursAgo, twoHoursAgo);
      await utimes(staleProbe, twoHoursAgo, twoHoursAgo);

      const removed = await store.sweepTemporaryFiles(60 * 60 * 1000);

      expect(removed).toBe(2);
      expect((await temporaryFiles(root)).map((path) => path.split('/').pop())).toEqual([`.tmp-${key}-999-3`]);
      expect(await store.size(key)).toBe(10);
    });

    it('does nothing when the root does not exist yet', async () => {
      const missing = new FsBlobStore(join(root, 'not-created'));
      await expect(missing.sweepTemporaryFiles(0)).resolves.toBe(0);
    });
  });
});
