// The off-thread path of the Node sealed streams: objects of several segments of 64 KiB or
// more are sealed and opened on the segment runner. The stream tests run on both runners (the
// native addon when it is built, and the worker pool); the pool's own tests are here, the
// native runner's in native-gcm.test.ts. Small objects are covered (in-thread) by
// sealed-stream.test.ts; the bytes must be the same every way.
import { execFile } from 'node:child_process';
import { createCipheriv, randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { DecryptionError, HEADER_LENGTH, TAG_LENGTH, planRange, segmentOffset } from '../format/sealed-object.ts';
import { importDataKey, openSealedBytes, sealBytes } from '../web/sealed-object.ts';
import { nativeSegmentRunner } from './native-gcm.ts';
import { SegmentAuthenticationFailure, type SegmentRunnerKind } from './segment-job.ts';
import { OUTPUT_PIECE_SIZE, SegmentPool, segmentPool } from './segment-pool.ts';
import { segmentRunner, useSegmentRunner } from './segment-runner.ts';
import { createOpenRangeStream, createOpenStream, createSealStream, openBuffer, sealBuffer } from './sealed-stream.ts';

/** Smallest segment size that goes to the pool. */
const S = 64 * 1024;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function params(segmentSize = S) {
  return { key: randomBytes(32), objectId: randomUUID(), keyId: randomUUID(), segmentSize };
}

/** Feeds `data` to a stream in pieces of the given sizes (cycling). */
function chunked(data: Buffer, sizes: number[]): Readable {
  const pieces: Buffer[] = [];
  for (let offset = 0, i = 0; offset < data.length; i++) {
    const size = sizes[i % sizes.length]!;
    pieces.push(data.subarray(offset, offset + size));
    offset += size;
  }
  return Readable.from(pieces);
}

/** Runs `source` through `transform`; returns what came out before the end or the error. */
async function collectStream(source: Readable, transform: NodeJS.ReadWriteStream, consumerDelayMs = 0): Promise<{ out: Buffer; error: unknown }> {
  const chunks: Buffer[] = [];
  let error: unknown;
  try {
    await pipeline(
      source,
      transform,
      new Writable({
        highWaterMark: 1,
        write(c: Buffer, _e, cb) {
          chunks.push(c);
          if (consumerDelayMs > 0) setTimeout(cb, consumerDelayMs);
          else cb();
        },
      }),
    );
  } catch (err) {
    error = err;
  }
  return { out: Buffer.concat(chunks), error };
}

/** Counts the jobs streams hand to the runner in use, and the most outstanding at once. */
function watchPool() {
  const pool = segmentRunner();
  const run = pool.run.bind(pool);
  const seen = { calls: 0, outstanding: 0, maxOutstanding: 0, outstandingAtCall: [] as number[] };
  vi.spyOn(pool, 'run').mockImplementation((job) => {
    seen.calls++;
    seen.outstandingAtCall.push(seen.outstanding);
    seen.outstanding++;
    seen.maxOutstanding = Math.max(seen.maxOutstanding, seen.outstanding);
    return run(job).finally(() => seen.outstanding--);
  });
  return seen;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('segment worker pool', () => {
  describe('pool', () => {
    it('seals exactly like node:crypto, opens it back, and hands the input buffer back', async () => {
      const pool = new SegmentPool(1);
      const key = randomBytes(32);
      const nonce = randomBytes(12);
      const aad = randomBytes(69);
      const plaintext = randomBytes(200_000);
      const input = new Uint8Array(plaintext.length + 100);
      input.set(plaintext);
      const job = { key: new Uint8Array(key), nonce: new Uint8Array(nonce), aad: new Uint8Array(aad) };
      const sealed = await pool.run({ ...job, op: 'seal', input: input.buffer, length: plaintext.length });
      expect(input.byteLength).toBe(0); // transferred, not copied
      expect(sealed.input!.byteLength).toBe(plaintext.length + 100);
      const cipher = createCipheriv('aes-256-gcm', key, nonce).setAAD(aad);
      const expected = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
      // 200,000 bytes come back in pieces of at most OUTPUT_PIECE_SIZE, none of them copies.
      expect(sealed.output.map((piece) => piece.byteLength)).toEqual([OUTPUT_PIECE_SIZE, OUTPUT_PIECE_SIZE, OUTPUT_PIECE_SIZE, 200_000 - 3 * OUTPUT_PIECE_SIZE]);
      expect(Buffer.concat([...sealed.output.map((piece) => Buffer.from(piece)), sealed.tag!]).equals(expected)).toBe(true);

      const back = new Uint8Array(sealed.input!);
      back.set(expected);
      const opened = await pool.run({ ...job, op: 'open', input: back.buffer, length: expected.length });
      expect(Buffer.concat(opened.output.map((piece) => Buffer.from(piece))).equals(plaintext)).toBe(true);
    });

    it('rejects a segment whose tag does not verify, and a malformed job', async () => {
      const pool = new SegmentPool(1);
      const job = () => ({ key: new Uint8Array(randomBytes(32)), nonce: new Uint8Array(12), aad: new Uint8Array(5), input: new ArrayBuffer(100 + TAG_LENGTH), length: 100 + TAG_LENGTH });
      await expect(pool.run({ ...job(), op: 'open' })).rejects.toBeInstanceOf(SegmentAuthenticationFailure);
      await expect(pool.run({ ...job(), op: 'seal', length: 117 })).rejects.toMatchObject({ code: 'segment_worker_failed' });
      // The worker is still the same one, and still works.
      expect(pool.threads).toHaveLength(1);
      await expect(pool.run({ ...job(), op: 'seal' })).resolves.toMatchObject({ output: expect.any(Array) });
    });

    it('fails the jobs of a worker that dies and replaces it', async () => {
      const pool = new SegmentPool(1);
      const job = () => ({ op: 'seal' as const, key: new Uint8Array(32), nonce: new Uint8Array(12), aad: new Uint8Array(5), input: new ArrayBuffer(S), length: S });
      await pool.run(job());
      const [dead] = pool.threads as Worker[];
      void dead!.terminate(); // before the job is posted: the worker never runs it
      await expect(pool.run(job())).rejects.toMatchObject({ code: 'segment_worker_crashed' });
      await expect(pool.run(job())).resolves.toMatchObject({ output: expect.any(Array) });
      expect(pool.threads).toHaveLength(1);
      expect(pool.threads[0]).not.toBe(dead);
    });
  });

  // The native runner wherever the addon is built (CI requires it), and the worker pool always.
  const runners: SegmentRunnerKind[] = nativeSegmentRunner() ? ['native', 'workers'] : ['workers'];
  const initialRunner = segmentRunner().kind;

  describe.each(runners)('streams on the %s runner', (kind) => {
    beforeAll(() => {
      useSegmentRunner(kind);
    });
    afterAll(() => {
      useSegmentRunner(initialRunner);
    });

    it('seals and opens many segments on the runner, whatever the chunking', async () => {
      const seen = watchPool();
      const p = params();
      const plaintext = randomBytes(40 * S + 1234);
      const sealed = await collectStream(chunked(plaintext, [1000, S + 7, 3 * S + 1]), createSealStream({ ...p, plaintextLength: plaintext.length }));
      expect(sealed.error).toBeUndefined();
      const opened = await collectStream(chunked(sealed.out, [5 * S - 3, 999]), createOpenStream(p.key, { objectId: p.objectId }));
      expect(opened.error).toBeUndefined();
      expect(opened.out.equals(plaintext)).toBe(true);
      expect(seen.calls).toBe(2 * 41);
    });

    it('writes exactly the bytes of the WebCrypto implementation, and opens what it wrote', async () => {
      const p = { ...params(), noncePrefix: randomBytes(7) };
      const plaintext = randomBytes(7 * S + 5);
      const key = await importDataKey(p.key, ['encrypt', 'decrypt']);
      const fromNode = await sealBuffer(p, plaintext);
      const fromWeb = await sealBytes(key, p, plaintext);
      expect(fromNode.equals(Buffer.from(fromWeb))).toBe(true);
      expect((await openBuffer(p.key, fromWeb)).equals(plaintext)).toBe(true);
      expect(Buffer.from(await openSealedBytes(key, fromNode)).equals(plaintext)).toBe(true);
    });

    it('keeps single-segment objects and small segments in-thread', async () => {
      const seen = watchPool();
      const one = params(1024 * 1024);
      const plaintext = randomBytes(1024 * 1024);
      expect((await openBuffer(one.key, await sealBuffer(one, plaintext))).equals(plaintext)).toBe(true);
      const small = params(S - 1);
      expect((await openBuffer(small.key, await sealBuffer(small, plaintext))).equals(plaintext)).toBe(true);
      expect(seen.calls).toBe(0);
    });

    it('fails on a tampered middle segment without releasing it or anything after it', async () => {
      const p = params();
      const plaintext = randomBytes(12 * S);
      const sealed = await sealBuffer(p, plaintext);
      const bad = Buffer.from(sealed);
      bad[segmentOffset(S, 5) + 100]! ^= 1;
      bad[segmentOffset(S, 9) + 100]! ^= 1; // a later failure must not be reported first
      for (const sizes of [[bad.length], [S + 16], [1000, 3 * S]]) {
        const { out, error } = await collectStream(chunked(bad, sizes), createOpenStream(p.key));
        expect(error).toBeInstanceOf(DecryptionError);
        expect(error).toMatchObject({ reason: 'authentication_failed', message: expect.stringContaining('segment 5 ') });
        expect(out.length).toBeLessThanOrEqual(5 * S);
        expect(out.equals(plaintext.subarray(0, out.length))).toBe(true);
      }
      await expect(openBuffer(p.key, bad)).rejects.toBeInstanceOf(DecryptionError);
    });

    it('refuses swapped, duplicated and foreign segments, and any flipped bit (property)', async () => {
      const p = params();
      const plaintext = randomBytes(4 * S + 100);
      const sealed = await sealBuffer(p, plaintext);
      // Same key, another object: its segments carry another object id in their AAD.
      const other = await sealBuffer({ ...p, objectId: randomUUID() }, plaintext);
      const seg = (bytes: Buffer, i: number) => bytes.subarray(segmentOffset(S, i), segmentOffset(S, i + 1));
      const head = sealed.subarray(0, HEADER_LENGTH);
      const rest = sealed.subarray(segmentOffset(S, 2));
      const damaged: [string, Buffer][] = [
        ['swapped', Buffer.concat([head, seg(sealed, 1), seg(sealed, 0), rest])],
        ['duplicated', Buffer.concat([head, seg(sealed, 0), seg(sealed, 0), rest])],
        ['from another object', Buffer.concat([sealed.subarray(0, segmentOffset(S, 2)), seg(other, 2), sealed.subarray(segmentOffset(S, 3))])],
      ];
      for (const [what, bytes] of damaged) {
        await expect(openBuffer(p.key, bytes), what).rejects.toMatchObject({ reason: 'authentication_failed' });
      }
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: HEADER_LENGTH, max: sealed.length - 1 }), fc.integer({ min: 0, max: 7 }), async (at, bit) => {
          const flipped = Buffer.from(sealed);
          flipped[at]! ^= 1 << bit;
          await expect(openBuffer(p.key, flipped)).rejects.toBeInstanceOf(DecryptionError);
        }),
        { numRuns: 60 },
      );
    });

    it('reports truncation and trailing data after the segments before them', async () => {
      const p = params();
      const plaintext = randomBytes(6 * S + 10);
      const sealed = await sealBuffer(p, plaintext);
      const atBoundary = await collectStream(Readable.from([sealed.subarray(0, segmentOffset(S, 4))]), createOpenStream(p.key));
      expect(atBoundary.error).toMatchObject({ reason: 'truncated' });
      expect(atBoundary.out.equals(plaintext.subarray(0, 4 * S))).toBe(true);
      await expect(openBuffer(p.key, sealed.subarray(0, sealed.length - 1))).rejects.toMatchObject({ reason: 'truncated' });
      await expect(openBuffer(p.key, Buffer.concat([sealed, Buffer.from([0])]))).rejects.toMatchObject({ reason: 'trailing_data' });
      await expect(openBuffer(randomBytes(32), sealed)).rejects.toMatchObject({ reason: 'authentication_failed' });
    });

    it('opens byte ranges on the pool (property)', async () => {
      const p = params();
      const length = 9 * S + 321;
      const plaintext = randomBytes(length);
      const sealed = await sealBuffer(p, plaintext);
      const header = sealed.subarray(0, HEADER_LENGTH);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: length }), fc.integer({ min: 0, max: length }), async (a, b) => {
          const [start, end] = a <= b ? [a, b] : [b, a];
          const plan = planRange({ plaintextLength: length, segmentSize: S }, start, end);
          const { out, error } = await collectStream(chunked(sealed.subarray(plan.sealedStart, plan.sealedEnd), [S / 2 + 3]), createOpenRangeStream(p.key, header, { start, end }));
          expect(error).toBeUndefined();
          expect(out.equals(plaintext.subarray(start, end))).toBe(true);
        }),
        { numRuns: 40 },
      );
    });

    it('bounds the segments a stream has on the runner, and opens one alone until it verifies', async () => {
      const pool = segmentRunner();
      const p = params();
      const plaintext = randomBytes(30 * S);
      // A slow consumer: the stream must hold back rather than buffer what the pool produces.
      const sealing = watchPool();
      const seal = createSealStream({ ...p, plaintextLength: plaintext.length });
      let maxBuffered = 0;
      seal.on('data', () => (maxBuffered = Math.max(maxBuffered, seal.readableLength)));
      const sealed = await collectStream(Readable.from([plaintext]), seal, 2);
      expect(sealed.error).toBeUndefined();
      expect(sealing.calls).toBe(30);
      expect(sealing.maxOutstanding).toBeGreaterThan(1);
      // At most 4 segments per thread (and 16 MiB) on the runner per stream: sealed-stream.ts poolFor().
      const limit = Math.min(4 * pool.size, Math.floor((16 * 1024 * 1024) / S));
      expect(sealing.maxOutstanding).toBeLessThanOrEqual(limit);
      // A segment is let in only while fewer chunks than the mark are buffered: four segments'
      // worth of pieces (one piece of S here on either runner, plus the tag: 8 chunks). On top
      // of that, the chunks of the segments then outstanding (two each: piece and tag).
      expect(pool.piecesPerSegment(S)).toBe(1);
      const mark = 4 * (pool.piecesPerSegment(S) + 1);
      expect(maxBuffered).toBeLessThanOrEqual(mark - 1 + 2 * limit);
      vi.restoreAllMocks();

      const opening = watchPool();
      const open = createOpenStream(p.key);
      maxBuffered = 0;
      open.on('data', () => (maxBuffered = Math.max(maxBuffered, open.readableLength)));
      const opened = await collectStream(Readable.from([sealed.out]), open, 2);
      expect(opened.out.equals(plaintext)).toBe(true);
      expect(opening.outstandingAtCall[1]).toBe(0); // segment 1 went out only after segment 0 verified
      expect(opening.maxOutstanding).toBeLessThanOrEqual(limit);
      // One chunk (the piece) per opened segment of S.
      expect(maxBuffered).toBeLessThanOrEqual(mark - 1 + limit);
    });

    it('keeps concurrent streams apart', async () => {
      const objects = Array.from({ length: 6 }, (_, i) => ({ p: params(S * (1 + (i % 3))), plaintext: randomBytes((5 + i) * S + i * 1000) }));
      const sealed = await Promise.all(objects.map(({ p, plaintext }) => sealBuffer(p, plaintext)));
      const tampered = Buffer.from(sealed[2]!);
      tampered[segmentOffset(3 * S, 1) + 7]! ^= 0x40;
      const results = await Promise.allSettled(
        objects.map(({ p }, i) => collectStream(chunked(i === 2 ? tampered : sealed[i]!, [S / 3 + i]), createOpenStream(p.key, { objectId: p.objectId }))),
      );
      results.forEach((result, i) => {
        expect(result.status).toBe('fulfilled');
        const { out, error } = (result as PromiseFulfilledResult<{ out: Buffer; error: unknown }>).value;
        if (i === 2) {
          expect(error).toMatchObject({ reason: 'authentication_failed' });
          expect(out.length).toBeLessThanOrEqual(3 * S);
        } else {
          expect(error).toBeUndefined();
          expect(out.equals(objects[i]!.plaintext)).toBe(true);
        }
      });
    });
  });

  describe('streams on the worker pool', () => {
    it('keeps its workers after failed segments, and replaces one that dies mid-stream', async () => {
      useSegmentRunner('workers');
      onTestFinished(() => {
        useSegmentRunner(initialRunner);
      });
      const pool = segmentPool();
      const p = params();
      const plaintext = randomBytes(8 * S);
      const sealed = await sealBuffer(p, plaintext);
      await expect(openBuffer(randomBytes(32), sealed)).rejects.toBeInstanceOf(DecryptionError);
      const before = [...pool.threads];
      expect(before.length).toBeGreaterThan(0);
      expect((await openBuffer(p.key, sealed)).equals(plaintext)).toBe(true);
      expect(pool.threads.every((t) => before.includes(t))).toBe(true);

      // Kill every worker just before the third segment is handed over.
      const run = pool.run.bind(pool);
      let calls = 0;
      const dead = new Set<Worker>();
      vi.spyOn(pool, 'run').mockImplementation((job) => {
        if (++calls === 3) {
          for (const t of pool.threads) {
            dead.add(t);
            void t.terminate();
          }
        }
        return run(job);
      });
      const crashed = await collectStream(Readable.from([sealed]), createOpenStream(p.key));
      expect(crashed.error).toMatchObject({ kind: 'internal', code: 'segment_worker_crashed' });
      expect(crashed.out.length).toBeLessThanOrEqual(2 * S);
      vi.restoreAllMocks();

      await vi.waitFor(() => expect(pool.threads.some((t) => dead.has(t))).toBe(false));
      expect((await openBuffer(p.key, sealed)).equals(plaintext)).toBe(true);
      expect(pool.threads.length).toBeGreaterThan(0);
      expect(pool.threads.some((t) => dead.has(t))).toBe(false);
    });
  });

  describe('outside vitest', () => {
    // The worker is plain JavaScript so that it starts without the tsx loader, and the addon is
    // loaded by path: these run a round trip on each runner in a fresh node, the two ways
    // Sealpost is started, and check that an idle runner lets the process exit on its own. The
    // default runner comes first, and is the native one wherever the addon is built.
    const script = `
      const { randomBytes, randomUUID } = await import('node:crypto');
      const { openBuffer, sealBuffer } = await import(${JSON.stringify(path.join(ROOT, 'src/crypto/node/sealed-stream.ts'))});
      const { segmentPool } = await import(${JSON.stringify(path.join(ROOT, 'src/crypto/node/segment-pool.ts'))});
      const { segmentRunner, useSegmentRunner } = await import(${JSON.stringify(path.join(ROOT, 'src/crypto/node/segment-runner.ts'))});
      const seen = [];
      for (const kind of [segmentRunner().kind, ...${JSON.stringify(runners)}]) {
        useSegmentRunner(kind);
        const p = { key: randomBytes(32), objectId: randomUUID(), keyId: randomUUID() };
        const plaintext = randomBytes(3 * 1024 * 1024 + 5);
        const opened = await openBuffer(p.key, await sealBuffer(p, plaintext));
        const used = kind === 'native' || segmentPool().threads.length > 0;
        seen.push(kind + ':' + (opened.equals(plaintext) && used ? 'ok' : 'mismatch'));
      }
      console.log(seen.join(' '));
    `;
    const expected = [runners[0], ...runners].map((kind) => `${kind}:ok`).join(' ');
    const run = (args: string[]) => promisify(execFile)(process.execPath, args, { cwd: ROOT, timeout: 30_000 });

    it('works under node --import tsx', async () => {
      const { stdout } = await run(['--import', 'tsx', '--input-type=module', '-e', script]);
      expect(stdout.trim()).toBe(expected);
    });

    it('works with tsx registered programmatically, as bin/sealpost.js does', async () => {
      const { stdout } = await run(['--input-type=module', '-e', `const { register } = await import('tsx/esm/api'); register();\n${script}`]);
      expect(stdout.trim()).toBe(expected);
    });
  });
});
