import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SEGMENT_SIZE, DecryptionError, HEADER_LENGTH, TAG_LENGTH, planRange, sealedLength } from '../format/sealed-object.ts';
import { createOpenRangeStream, createOpenStream, createSealStream, openBuffer, openSealedBytes, sealBuffer, sealBytes } from './sealed-stream.ts';

const S = DEFAULT_SEGMENT_SIZE;

function params(segmentSize = S) {
  return { key: randomBytes(32), objectId: randomUUID(), keyId: randomUUID(), segmentSize };
}

/** Opens with the buffer API and asserts it fails with a DecryptionError and returns nothing. */
async function expectOpenFails(key: Uint8Array, sealed: Uint8Array, reason?: string, expectIds?: { objectId?: string; keyId?: string }) {
  let result: Buffer | undefined;
  let error: unknown;
  try {
    result = await openBuffer(key, sealed, expectIds);
  } catch (err) {
    error = err;
  }
  expect(result).toBeUndefined();
  expect(error).toBeInstanceOf(DecryptionError);
  if (reason) expect((error as DecryptionError).reason).toBe(reason);
}

/** Feeds `data` to a stream in pieces of the given sizes (cycling). */
function chunked(data: Buffer, sizes: number[]): Readable {
  const pieces: Buffer[] = [];
  let offset = 0;
  let i = 0;
  while (offset < data.length) {
    const size = Math.max(1, sizes[i++ % sizes.length]!);
    pieces.push(data.subarray(offset, offset + size));
    offset += size;
  }
  return Readable.from(pieces);
}

async function collectStream(source: Readable, transform: NodeJS.ReadWriteStream): Promise<{ out: Buffer; error: unknown }> {
  const chunks: Buffer[] = [];
  let error: unknown;
  try {
    await pipeline(source, transform, new Writable({ write(c, _e, cb) { chunks.push(c); cb(); } }));
  } catch (err) {
    error = err;
  }
  return { out: Buffer.concat(chunks), error };
}

describe('sealed objects (Node)', () => {
  describe('round trip', () => {
    for (const length of [0, 1, S - 1, S, S + 1, 10 * S]) {
      it(`seals and opens ${length} bytes with the default 1 MiB segment`, async () => {
        const p = params();
        const plaintext = randomBytes(length);
        const sealed = await sealBuffer(p, plaintext);
        expect(sealed.length).toBe(sealedLength(length, S));
        const opened = await openBuffer(p.key, sealed, { objectId: p.objectId, keyId: p.keyId });
        expect(opened.equals(plaintext)).toBe(true);
      });
    }

    it('gives the same result whatever the chunking on both sides (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ minLength: 0, maxLength: 2000 }),
          fc.integer({ min: 16, max: 300 }),
          fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 5 }),
          fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 5 }),
          async (bytes, segmentSize, inChunks, outChunks) => {
            const p = params(segmentSize);
            const plaintext = Buffer.from(bytes);
            const sealed = await collectStream(chunked(plaintext, inChunks), createSealStream({ ...p, plaintextLength: plaintext.length }));
            expect(sealed.error).toBeUndefined();
            const opened = await collectStream(chunked(sealed.out, outChunks), createOpenStream(p.key));
            expect(opened.error).toBeUndefined();
            expect(opened.out.equals(plaintext)).toBe(true);
          },
        ),
        { numRuns: 150 },
      );
    });

    it('uses a fresh nonce prefix per object, so equal plaintexts seal differently', async () => {
      const p = params(64);
      const a = await sealBuffer(p, Buffer.from('same'));
      const b = await sealBuffer(p, Buffer.from('same'));
      expect(a.equals(b)).toBe(false);
    });
  });

  describe('sealBytes (one segment, no stream)', () => {
    for (const length of [0, 1, 4096, S - 1, S]) {
      it(`does give exactly the stream's bytes for ${length} bytes, and they open`, async () => {
        const p = { ...params(), noncePrefix: randomBytes(7) };
        const plaintext = randomBytes(length);
        const sealed = sealBytes(p, plaintext);
        expect(sealed.equals(await sealBuffer(p, plaintext))).toBe(true);
        expect((await openBuffer(p.key, sealed, { objectId: p.objectId, keyId: p.keyId })).equals(plaintext)).toBe(true);
      });
    }

    it('does refuse more than one segment, a bad key or a bad segment size, by name', () => {
      const p = params(64 * 1024);
      expect(() => sealBytes(p, new Uint8Array(64 * 1024 + 1))).toThrow(expect.objectContaining({ code: 'plaintext_too_large' }));
      expect(() => sealBytes({ ...p, key: new Uint8Array(16) }, new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'invalid_key_length' }));
      expect(() => sealBytes({ ...p, segmentSize: 3 }, new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'invalid_segment_size' }));
    });

    it('does leave the caller its key and a fresh nonce prefix each time', () => {
      const p = params();
      const key = Buffer.from(p.key);
      const a = sealBytes(p, Buffer.from('same'));
      const b = sealBytes(p, Buffer.from('same'));
      expect(Buffer.from(p.key).equals(key)).toBe(true);
      expect(a.equals(b)).toBe(false);
    });
  });

  describe('openSealedBytes (one segment, no stream)', () => {
    /** The reason openBuffer gives, or 'opened'. */
    async function streamOutcome(key: Uint8Array, sealed: Uint8Array, expect?: { objectId?: string; keyId?: string }): Promise<string> {
      try {
        await openBuffer(key, sealed, expect);
        return 'opened';
      } catch (err) {
        return err instanceof DecryptionError ? err.reason : `other: ${(err as Error).message}`;
      }
    }
    function bytesOutcome(key: Uint8Array, sealed: Uint8Array, expect?: { objectId?: string; keyId?: string }): string {
      try {
        openSealedBytes(key, sealed, expect);
        return 'opened';
      } catch (err) {
        return err instanceof DecryptionError ? err.reason : `other: ${(err as Error).message}`;
      }
    }

    for (const length of [0, 1, 4096, S]) {
      it(`does open what sealBytes sealed, ${length} bytes`, () => {
        const p = params();
        const plaintext = randomBytes(length);
        expect(openSealedBytes(p.key, sealBytes(p, plaintext), { objectId: p.objectId, keyId: p.keyId }).equals(plaintext)).toBe(true);
      });
    }

    it('does fail where the stream fails, for the same reason, on every kind of damage (property)', async () => {
      const p = params(64 * 1024);
      const plaintext = randomBytes(3000);
      const sealed = sealBytes(p, plaintext);
      const ids = { objectId: p.objectId, keyId: p.keyId };
      const damaged: Array<[string, Uint8Array, Uint8Array, { objectId?: string; keyId?: string } | undefined]> = [
        ['intact', sealed, p.key, ids],
        ['wrong key', sealed, randomBytes(32), ids],
        ['wrong object id', sealed, p.key, { objectId: randomUUID() }],
        ['header only', sealed.subarray(0, HEADER_LENGTH), p.key, ids],
        ['shorter than a header', sealed.subarray(0, 10), p.key, ids],
        ['one byte short', sealed.subarray(0, sealed.length - 1), p.key, ids],
        ['one byte more', Buffer.concat([sealed, Buffer.from([0])]), p.key, ids],
        ['another object appended', Buffer.concat([sealed, sealBytes(p, plaintext)]), p.key, ids],
      ];
      for (const [name, bytes, key, expectIds] of damaged) {
        expect([name, bytesOutcome(key, bytes, expectIds)]).toEqual([name, await streamOutcome(key, bytes, expectIds)]);
      }
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: sealed.length * 8 - 1 }), async (bit) => {
          const flipped = Buffer.from(sealed);
          flipped[bit >> 3]! ^= 1 << (bit & 7);
          const outcome = bytesOutcome(p.key, flipped, ids);
          expect(outcome).not.toBe('opened');
          expect(outcome).toBe(await streamOutcome(p.key, flipped, ids));
        }),
        { numRuns: 1000 },
      );
    });

    it('does open objects of several segments as the stream does, and fail where it fails', async () => {
      const p = params(64 * 1024);
      const ids = { objectId: p.objectId, keyId: p.keyId };
      const plaintext = randomBytes(3 * 64 * 1024 + 5);
      const sealed = await sealBuffer(p, plaintext);
      expect(openSealedBytes(p.key, sealed, ids).equals(plaintext)).toBe(true);
      const segment = 64 * 1024 + TAG_LENGTH;
      const swapped = Buffer.concat([sealed.subarray(0, HEADER_LENGTH), sealed.subarray(HEADER_LENGTH + segment, HEADER_LENGTH + 2 * segment), sealed.subarray(HEADER_LENGTH, HEADER_LENGTH + segment), sealed.subarray(HEADER_LENGTH + 2 * segment)]);
      for (const damaged of [sealed.subarray(0, HEADER_LENGTH + segment), sealed.subarray(0, sealed.length - 1), swapped, Buffer.concat([sealed, Buffer.from([1])])]) {
        expect(bytesOutcome(p.key, damaged, ids)).toBe(await streamOutcome(p.key, damaged, ids));
        expect(bytesOutcome(p.key, damaged, ids)).not.toBe('opened');
      }
    });
  });

  describe('declared length', () => {
    it('fails when the stream carries more bytes than declared', async () => {
      const p = params(16);
      const { error } = await collectStream(Readable.from([Buffer.alloc(11)]), createSealStream({ ...p, plaintextLength: 10 }));
      expect(error).toMatchObject({ code: 'plaintext_length_mismatch' });
    });

    it('fails when the stream ends early', async () => {
      const p = params(16);
      const { error } = await collectStream(Readable.from([Buffer.alloc(9)]), createSealStream({ ...p, plaintextLength: 10 }));
      expect(error).toMatchObject({ code: 'plaintext_length_mismatch' });
    });

    it('rejects keys that are not 32 bytes and segment sizes out of range', () => {
      expect(() => createSealStream({ ...params(), key: randomBytes(16), plaintextLength: 1 })).toThrow(/32 bytes/);
      expect(() => createSealStream({ ...params(8), plaintextLength: 1 })).toThrow(/segment size/);
    });
  });

  describe('tampering', () => {
    // 5 segments of 64 bytes (the last one 44), small enough to try every position.
    const p = params(64);
    const plaintext = randomBytes(300);
    let sealed: Buffer;
    const ready = sealBuffer(p, plaintext).then((s) => (sealed = s));

    it('detects a flipped bit anywhere: header, nonce prefix, ciphertext and tags', async () => {
      await ready;
      for (let i = 0; i < sealed.length; i++) {
        const bit = 1 << (i % 8);
        const bad = Buffer.from(sealed);
        bad[i]! ^= bit;
        await expectOpenFails(p.key, bad);
      }
    });

    it('detects flipped bits chosen at random (property)', async () => {
      await ready;
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: sealed.length - 1 }), fc.integer({ min: 1, max: 255 }), async (pos, mask) => {
          const bad = Buffer.from(sealed);
          bad[pos]! ^= mask;
          await expectOpenFails(p.key, bad);
        }),
        { numRuns: 300 },
      );
    });

    it('detects truncation at every length, at and between segment boundaries', async () => {
      await ready;
      for (let len = 0; len < sealed.length; len++) {
        await expectOpenFails(p.key, sealed.subarray(0, len));
      }
    });

    it('detects appended data and an appended segment', async () => {
      await ready;
      await expectOpenFails(p.key, Buffer.concat([sealed, Buffer.from([0])]), 'trailing_data');
      await expectOpenFails(p.key, Buffer.concat([sealed, sealed.subarray(HEADER_LENGTH, HEADER_LENGTH + 80)]), 'trailing_data');
    });

    it('detects swapped and duplicated segments', async () => {
      await ready;
      const seg = (i: number) => sealed.subarray(HEADER_LENGTH + i * 80, HEADER_LENGTH + (i + 1) * 80);
      const swapped = Buffer.concat([sealed.subarray(0, HEADER_LENGTH), seg(1), seg(0), sealed.subarray(HEADER_LENGTH + 160)]);
      await expectOpenFails(p.key, swapped, 'authentication_failed');
      const duplicated = Buffer.concat([sealed.subarray(0, HEADER_LENGTH), seg(0), seg(0), sealed.subarray(HEADER_LENGTH + 160)]);
      await expectOpenFails(p.key, duplicated, 'authentication_failed');
    });

    it('detects a final segment dropped so that a middle segment ends the stream', async () => {
      await ready;
      const withoutLast = sealed.subarray(0, HEADER_LENGTH + 4 * 80);
      await expectOpenFails(p.key, withoutLast, 'truncated');
    });

    it('detects segments spliced in from another object sealed with the same key', async () => {
      await ready;
      const other = await sealBuffer({ ...p, objectId: randomUUID() }, randomBytes(300));
      const spliced = Buffer.concat([sealed.subarray(0, HEADER_LENGTH + 80), other.subarray(HEADER_LENGTH + 80, HEADER_LENGTH + 160), sealed.subarray(HEADER_LENGTH + 160)]);
      await expectOpenFails(p.key, spliced, 'authentication_failed');
      // The other object's header with this object's segments.
      const headerSwap = Buffer.concat([other.subarray(0, HEADER_LENGTH), sealed.subarray(HEADER_LENGTH)]);
      await expectOpenFails(p.key, headerSwap, 'authentication_failed');
      // A whole other object served in place of this one.
      await expectOpenFails(p.key, other, 'wrong_object', { objectId: p.objectId });
    });

    it('refuses a wrong key and a wrong key id', async () => {
      await ready;
      await expectOpenFails(randomBytes(32), sealed, 'authentication_failed');
      await expectOpenFails(p.key, sealed, 'wrong_key_id', { keyId: randomUUID() });
    });

    it('refuses an empty input and a header alone', async () => {
      await ready;
      await expectOpenFails(p.key, Buffer.alloc(0), 'truncated');
      await expectOpenFails(p.key, sealed.subarray(0, HEADER_LENGTH), 'truncated');
    });

    it('streams only authenticated segments before failing on a tampered one', async () => {
      await ready;
      const bad = Buffer.from(sealed);
      bad[HEADER_LENGTH + 2 * 80 + 5]! ^= 0x80; // inside segment 2
      const { out, error } = await collectStream(chunked(bad, [7, 100]), createOpenStream(p.key));
      expect(error).toBeInstanceOf(DecryptionError);
      expect(out.length).toBeLessThanOrEqual(128);
      expect(out.equals(plaintext.subarray(0, out.length))).toBe(true);
    });
  });

  describe('random access', () => {
    it('opens any byte range from only the segments it needs (property)', async () => {
      const p = params(50);
      const plaintext = randomBytes(1234);
      const sealed = await sealBuffer(p, plaintext);
      const header = sealed.subarray(0, HEADER_LENGTH);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 1234 }), fc.integer({ min: 0, max: 1234 }), async (a, b) => {
          const [start, end] = a <= b ? [a, b] : [b, a];
          const plan = planRange({ plaintextLength: 1234, segmentSize: 50 }, start, end);
          const { out, error } = await collectStream(
            chunked(sealed.subarray(plan.sealedStart, plan.sealedEnd), [33]),
            createOpenRangeStream(p.key, header, { start, end }, { objectId: p.objectId }),
          );
          expect(error).toBeUndefined();
          expect(out.equals(plaintext.subarray(start, end))).toBe(true);
        }),
        { numRuns: 1000 },
      );
    });

    it('detects a tampered segment inside the range and a range fed the wrong segments', async () => {
      const p = params(50);
      const plaintext = randomBytes(500);
      const sealed = await sealBuffer(p, plaintext);
      const plan = planRange({ plaintextLength: 500, segmentSize: 50 }, 120, 260);
      const slice = Buffer.from(sealed.subarray(plan.sealedStart, plan.sealedEnd));
      slice[70]! ^= 1;
      const tampered = await collectStream(Readable.from([slice]), createOpenRangeStream(p.key, sealed.subarray(0, HEADER_LENGTH), { start: 120, end: 260 }));
      expect(tampered.error).toBeInstanceOf(DecryptionError);
      const shifted = sealed.subarray(plan.sealedStart + 66, plan.sealedEnd + 66);
      const wrong = await collectStream(Readable.from([shifted]), createOpenRangeStream(p.key, sealed.subarray(0, HEADER_LENGTH), { start: 120, end: 260 }));
      expect(wrong.error).toBeInstanceOf(DecryptionError);
      expect(wrong.out.length).toBe(0);
    });

    it('rejects ranges outside the object', () => {
      expect(() => planRange({ plaintextLength: 10, segmentSize: 16 }, 5, 11)).toThrow(/range/);
      expect(() => planRange({ plaintextLength: 10, segmentSize: 16 }, -1, 2)).toThrow(/range/);
    });
  });

  it('keeps memory bounded while sealing and opening 64 MiB as a stream', async () => {
    const p = params();
    const block = randomBytes(S);
    const digest = createHash('sha256');
    const source = Readable.from((function* () { for (let i = 0; i < 64; i++) yield block; })());
    const before = process.memoryUsage();
    let peak = 0;
    await pipeline(
      source,
      createSealStream({ ...p, plaintextLength: 64 * S }),
      createOpenStream(p.key),
      new Writable({
        write(c, _e, cb) {
          digest.update(c);
          peak = Math.max(peak, process.memoryUsage().arrayBuffers);
          cb();
        },
      }),
    );
    const expected = createHash('sha256');
    for (let i = 0; i < 64; i++) expected.update(block);
    expect(digest.digest('hex')).toBe(expected.digest('hex'));
    // Generous bound (segments are 1 MiB): a whole-stream buffer would need 128 MiB or more.
    expect(peak - before.arrayBuffers).toBeLessThan(48 * 1024 * 1024);
    expect(TAG_LENGTH).toBe(16);
  });
});
