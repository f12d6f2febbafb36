// Blob store on a local (or mounted) POSIX filesystem: the embedded default.
// Layout: <root>/<key[0..2]>/<key[2..4]>/<key>, so no directory grows past a few thousand entries.
// Writes go to a temporary file in the target directory, are fsynced, then hard-linked into
// place: link(2) fails with EEXIST instead of replacing, which makes "create if absent" atomic.

import { createWriteStream } from 'node:fs';
import { link, mkdir, open, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError, errors } from '../../shared/app-error.ts';
import {
  assertBlobKey,
  assertByteRangeShape,
  assertKeyForPut,
  discardBody,
  meterBody,
  resolveByteRange,
  type BlobBody,
  type BlobStore,
  type ByteRange,
} from './blob-store.ts';

/** Names of in-flight or orphaned temporary files start with this; keys never start with '.'. */
const TEMP_PREFIX = '.tmp-';

// Makes temporary names unique within this process; the pid separates processes sharing a root.
let tempCounter = 0;

function tempName(label: string): string {
  tempCounter += 1;
  return `${TEMP_PREFIX}${label}-${process.pid}-${tempCounter}`;
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
}

function unavailable(err: unknown): AppError {
  if (err instanceof AppError) return err;
  return errors.unavailable('blob_store_unavailable', 'the blob directory cannot be read or written', err);
}

function notFound(): AppError {
  return errors.notFound('blob_not_found', 'no blob is stored under this key');
}

/** Makes a directory entry (a new file name, a removal) survive a crash. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

/** `BlobStore` on a directory tree; see docs/blob-stores.md for guarantees and recovery. */
export class FsBlobStore implements BlobStore {
  readonly kind = 'fs' as const;

  /** `rootDir` is created on first write; it must support hard links (any local POSIX filesystem). */
  constructor(private readonly rootDir: string) {}

  /**
   * Shard directories known to exist, so a small write ({@link putBytes}, one per send) does not
   * ask the kernel again. If one was removed behind the store's back, the write finds it missing
   * and creates it again. At most 65,536 entries (two levels of 256).
   */
  private readonly knownDirectories = new Set<string>();

  private directoryOf(key: string): string {
    return join(this.rootDir, key.slice(0, 2), key.slice(2, 4));
  }

  private pathOf(key: string): string {
    return join(this.directoryOf(key), key);
  }

  /** Streams `body` into a temporary file, fsyncs it and links it into place; see {@link BlobStore.put}. */
  async put(key: string, body: BlobBody): Promise<{ size: number }> {
    await assertKeyForPut(key, body);
    // Cheap early refusal so a duplicate is not streamed in full; link() below is the real guard.
    if (await this.exists(key)) {
      await discardBody(body);
      throw errors.conflict('blob_exists', 'a blob is already stored under this key');
    }

    const dir = this.directoryOf(key);
    const target = join(dir, key);
    const metered = meterBody(body);
    let temp: string | undefined;
    let out: ReturnType<typeof createWriteStream> | undefined;
    try {
      await this.ensureDirectory(dir, { recheck: true });
      temp = join(dir, tempName(key));
      // `flush` fsyncs before the stream closes, and pipeline() settles only after that close,
      // so the data is on disk before the name is linked into place.
      out = createWriteStream(temp, { flags: 'wx', mode: 0o600, flush: true });
      await pipeline(metered, out);
      await this.linkIntoPlace(temp, target);
      // The blob is complete and visible from here; a leftover temporary name is harmless and swept.
      await removeQuietly(temp);
      temp = undefined;
      await syncDirectory(dir);
      return { size: metered.bytes };
    } catch (err) {
      // A body that fails at once can reject pipeline() before the stream has even opened (and
      // so created) the file: wait for it to close, or the unlink below runs first.
      if (out !== undefined && !out.closed) await new Promise<void>((resolve) => out!.once('close', () => resolve()));
      if (temp !== undefined) await removeQuietly(temp);
      // pipeline() already destroyed the body if it ran; this covers failures before it started.
      await discardBody(body);
      if (metered.error !== undefined) throw metered.error;
      throw unavailable(err);
    }
  }

  /** Writes `bytes` to a temporary file, fsyncs it and links it into place; see {@link BlobStore.putBytes}. */
  async putBytes(key: string, bytes: Uint8Array): Promise<{ size: number }> {
    assertBlobKey(key);
    const dir = this.directoryOf(key);
    let temp: string | undefined;
    try {
      await this.ensureDirectory(dir);
      temp = join(dir, tempName(key));
      const handle = await open(temp, 'wx', 0o600).catch(async (err: unknown) => {
        // A known directory removed behind the store's back: create it again, once.
        if (errnoCode(err) !== 'ENOENT') throw err;
        await this.ensureDirectory(dir, { recheck: true });
        return open(temp!, 'wx', 0o600);
      });
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await this.linkIntoPlace(temp, join(dir, key));
      await removeQuietly(temp);
      temp = undefined;
      await syncDirectory(dir);
      return { size: bytes.byteLength };
    } catch (err) {
      if (temp !== undefined) await removeQuietly(temp);
      throw unavailable(err);
    }
  }

  /** link(2) of a complete temporary file to its key: atomic create-if-absent. */
  private async linkIntoPlace(temp: string, target: string): Promise<void> {
    try {
      await link(temp, target);
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') throw errors.conflict('blob_exists', 'a blob is already stored under this key');
      throw err;
    }
  }

  /** Opens the blob (or `range` of it); the open handle pins the file even if it is deleted meanwhile. */
  async get(key: string, range?: ByteRange): Promise<Readable> {
    assertBlobKey(key);
    if (range !== undefined) assertByteRangeShape(range);
    let handle: FileHandle;
    try {
      handle = await open(this.pathOf(key), 'r');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw notFound();
      throw unavailable(err);
    }
    try {
      if (range === undefined) return handle.createReadStream();
      const { size } = await handle.stat();
      const { start, end } = resolveByteRange(range, size);
      // createReadStream's `end` is inclusive.
      return handle.createReadStream({ start, end: end - 1 });
    } catch (err) {
      await handle.close();
      throw unavailable(err);
    }
  }

  /** Size of the blob in bytes. */
  async size(key: string): Promise<number> {
    assertBlobKey(key);
    try {
      return (await stat(this.pathOf(key))).size;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw notFound();
      throw unavailable(err);
    }
  }

  /** True when the blob exists; temporary files of unfinished writes never count. */
  async exists(key: string): Promise<boolean> {
    assertBlobKey(key);
    try {
      await stat(this.pathOf(key));
      return true;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return false;
      throw unavailable(err);
    }
  }

  /** Removes the blob and fsyncs its directory, so an erased blob stays erased after a crash. */
  async delete(key: string): Promise<void> {
    assertBlobKey(key);
    try {
      await unlink(this.pathOf(key));
      await syncDirectory(this.directoryOf(key));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw unavailable(err);
    }
  }

  /** Creates the root if missing and proves it takes durable writes and hard links. */
  async check(): Promise<void> {
    const probe = join(this.rootDir, tempName('probe'));
    const probeLink = `${probe}-link`;
    try {
      await mkdir(this.rootDir, { recursive: true, mode: 0o700 });
      const handle = await open(probe, 'wx', 0o600);
      try {
        await handle.writeFile('sealpost blob store probe');
        await handle.sync();
      } finally {
        await handle.close();
      }
      // put() relies on link(2) for atomic create-if-absent; some network filesystems lack it.
      await link(probe, probeLink);
    } catch (err) {
      throw unavailable(err);
    } finally {
      await removeQuietly(probeLink);
      await removeQuietly(probe);
    }
  }

  /**
   * Removes temporary files older than `olderThanMs` that a crash or kill left behind mid-write
   * (a completed put never leaves one). Run it at start-up or from a job; pick an age well above
   * the longest upload, because younger temporary files may belong to writes still in progress.
   * Returns how many files were removed.
   */
  async sweepTemporaryFiles(olderThanMs: number): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    const sweep = async (dir: string, depth: number): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') return;
        throw unavailable(err);
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory() && depth < 2) {
          await sweep(path, depth + 1);
        } else if (entry.isFile() && entry.name.startsWith(TEMP_PREFIX)) {
          try {
            if ((await stat(path)).mtimeMs < cutoff) {
              await unlink(path);
              removed += 1;
            }
          } catch (err) {
            if (errnoCode(err) !== 'ENOENT') throw unavailable(err);
          }
        }
      }
    };
    await sweep(this.rootDir, 0);
    return removed;
  }

  /**
   * mkdir -p, fsyncing parents of newly created shard directories so the blob's path survives a
   * crash. A directory in {@link knownDirectories} is taken as present unless `recheck`.
   */
  private async ensureDirectory(dir: string, opts: { recheck?: boolean } = {}): Promise<void> {
    if (!opts.recheck && this.knownDirectories.has(dir)) return;
    const created = await mkdir(dir, { recursive: true, mode: 0o700 });
    if (created !== undefined) {
      const outer = join(dir, '..');
      await syncDirectory(outer);
      await syncDirectory(join(outer, '..'));
    }
    this.knownDirectories.add(dir);
  }
}
