// The native segment runner (native-gcm.ts over native/aes_gcm.c): the same bytes as
// node:crypto, nothing released from a segment whose tag fails, clear errors for malformed
// calls, bounded use of libuv's thread pool. The stream tests in segment-pool.test.ts run on
// it as well. Skipped where the addon is not built, except in CI (SEALPOST_REQUIRE_NATIVE).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SegmentAuthenticationFailure, type SegmentJob } from './segment-job.ts';
import { NativeSegmentRunner, nativeGcmAddon, nativeGcmProblem, nativeSegmentRunner, type Addon } from './native-gcm.ts';

const addon = nativeGcmAddon();
const TAG = 16;

function referenceSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, nonce).setAAD(aad);
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** A job whose input buffer is larger than the segment, as the stream's reused buffers are. */
function job(op: 'seal' | 'open', key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, bytes: Uint8Array, spare = 37): SegmentJob {
  const input = new Uint8Array(bytes.length + spare);
  input.set(bytes);
  return { op, key: new Uint8Array(key), nonce: new Uint8Array(nonce), aad: new Uint8Array(aad), input: input.buffer, length: bytes.length };
}

function joined(output: Uint8Array[], tag?: Uint8Array): Buffer {
  return Buffer.concat([...output.map((piece) => Buffer.from(piece)), ...(tag ? [Buffer.from(tag)] : [])]);
}

describe('native AES-GCM runner', () => {
  it.runIf(process.env.SEALPOST_REQUIRE_NATIVE === 'true')('is built where it is required (CI)', () => {
    expect(nativeGcmProblem()).toBeUndefined();
    expect(nativeSegmentRunner()).not.toBeNull();
  });

  describe.skipIf(!addon)('with the addon', () => {
    const runner = () => nativeSegmentRunner()!;

    it('seals exactly like node:crypto and opens it back, in place', async () => {
      for (const length of [0, 1, 15, 16, 17, 64 * 1024, 200_000, 1024 * 1024 + 3]) {
        for (const aadLength of [0, 69]) {
          const key = randomBytes(32);
          const nonce = randomBytes(12);
          const aad = randomBytes(aadLength);
          const plaintext = randomBytes(length);
          const sealJob = job('seal', key, nonce, aad, plaintext);
          const sealed = await runner().run(sealJob);
          // Written over the input (neither copied nor transferred), the tag right after it.
          expect(sealed.input).toBeUndefined();
          expect(sealed.output).toHaveLength(1);
          expect(sealed.output[0]!.buffer).toBe(sealJob.input);
          expect([sealed.output[0]!.byteOffset, sealed.output[0]!.length]).toEqual([0, length]);
          expect(sealed.tag!.buffer).toBe(sealJob.input);
          expect(sealed.tag!.byteOffset).toBe(length);
          const expected = referenceSeal(key, nonce, aad, plaintext);
          expect(joined(sealed.output, sealed.tag).equals(expected)).toBe(true);

          const openJob = job('open', key, nonce, aad, expected);
          const opened = await runner().run(openJob);
          expect(opened.tag).toBeUndefined();
          expect(opened.input).toBeUndefined();
          expect(opened.output[0]!.buffer).toBe(openJob.input);
          expect(joined(opened.output).equals(plaintext)).toBe(true);
        }
      }
    });

    it('agrees with node:crypto on random keys, nonces, AAD and lengths (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          fc.uint8Array({ minLength: 12, maxLength: 12 }),
          fc.uint8Array({ maxLength: 200 }),
          fc.uint8Array({ maxLength: 70_000 }),
          async (key, nonce, aad, plaintext) => {
            const sealed = await runner().run(job('seal', key, nonce, aad, plaintext, TAG));
            const bytes = joined(sealed.output, sealed.tag);
            expect(bytes.equals(referenceSeal(key, nonce, aad, plaintext))).toBe(true);
            const decipher = createDecipheriv('aes-256-gcm', key, nonce).setAAD(aad).setAuthTag(bytes.subarray(bytes.length - TAG));
            expect(Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - TAG)), decipher.final()]).equals(Buffer.from(plaintext))).toBe(true);
            const opened = await runner().run(job('open', key, nonce, aad, bytes, 0));
            expect(joined(opened.output).equals(Buffer.from(plaintext))).toBe(true);
          },
        ),
        { numRuns: 150 },
      );
    });

    it('reads a segment from the pieces it arrived in, leaving them untouched (property)', async () => {
      // Splits `bytes` at the given cut points (views, as the stream's Gatherer makes them).
      const split = (bytes: Buffer, cuts: number[]) => {
        const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y);
        return [0, ...at].map((from, i) => bytes.subarray(from, at[i] ?? bytes.length)).filter((piece, i, all) => piece.length > 0 || all.length === 1);
      };
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 70_000 }), fc.array(fc.nat(), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 8 }), async (bytes, sealCuts, openCuts) => {
          const key = randomBytes(32);
          const nonce = randomBytes(12);
          const aad = randomBytes(30);
          const plaintext = Buffer.from(bytes);
          const original = Buffer.from(plaintext);
          const base = { key, nonce, aad };
          const sealed = await runner().run({ ...base, op: 'seal', pieces: split(plaintext, sealCuts), length: plaintext.length });
          expect(plaintext.equals(original)).toBe(true); // not sealed over
          const expected = referenceSeal(key, nonce, aad, original);
          expect(joined(sealed.output, sealed.tag).equals(expected)).toBe(true);
          // The tag may arrive split across pieces too.
          const copy = Buffer.from(expected);
          const opened = await runner().run({ ...base, op: 'open', pieces: split(copy, openCuts), length: copy.length });
          expect(copy.equals(expected)).toBe(true);
          expect(joined(opened.output).equals(original)).toBe(true);
          expect(opened.output[0]!.buffer).not.toBe(copy.buffer);
        }),
        { numRuns: 150 },
      );
    });

    it('refuses a segment that does not verify, whatever was changed, and any flipped bit (property)', async () => {
      const key = randomBytes(32);
      const nonce = randomBytes(12);
      const aad = randomBytes(40);
      const plaintext = randomBytes(5000);
      const sealed = referenceSeal(key, nonce, aad, plaintext);
      const flip = (bytes: Uint8Array, at: number, bit = 0) => {
        const copy = Buffer.from(bytes);
        copy[at]! ^= 1 << bit;
        return copy;
      };
      const cases: [string, SegmentJob][] = [
        ['ciphertext', job('open', key, nonce, aad, flip(sealed, 1234))],
        ['tag', job('open', key, nonce, aad, flip(sealed, sealed.length - 1))],
        ['aad', job('open', key, nonce, flip(aad, 3), sealed)],
        ['nonce', job('open', key, flip(nonce, 11), aad, sealed)],
        ['key', job('open', flip(key, 0), nonce, aad, sealed)],
        ['truncated', job('open', key, nonce, aad, sealed.subarray(0, sealed.length - 1))],
      ];
      for (const [what, failing] of cases) {
        await expect(runner().run(failing), what).rejects.toBeInstanceOf(SegmentAuthenticationFailure);
        const bytes = Buffer.from(failing.input!, 0, failing.length);
        const pieces = [bytes.subarray(0, 7), bytes.subarray(7, bytes.length - 3), bytes.subarray(bytes.length - 3)];
        await expect(runner().run({ ...failing, input: undefined, pieces }), `${what}, in pieces`).rejects.toBeInstanceOf(SegmentAuthenticationFailure);
      }
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: sealed.length - 1 }), fc.integer({ min: 0, max: 7 }), async (at, bit) => {
          await expect(runner().run(job('open', key, nonce, aad, flip(sealed, at, bit)))).rejects.toBeInstanceOf(SegmentAuthenticationFailure);
        }),
        { numRuns: 200 },
      );
    });

    it('wipes the output of a segment whose tag fails', async () => {
      const key = randomBytes(32);
      const nonce = randomBytes(12);
      const sealed = referenceSeal(key, nonce, new Uint8Array(0), randomBytes(4096));
      sealed[sealed.length - 1]! ^= 0x80;
      const output = new Uint8Array(4096).fill(0xaa);
      const status = await addon!.run(1, key, nonce, new Uint8Array(0), [sealed.subarray(0, 1000), sealed.subarray(1000, 4096)], output, sealed.subarray(4096));
      expect(status).toBe(1);
      expect(output.every((byte) => byte === 0)).toBe(true);
    });

    it('copies the key at the call: changing it afterwards does not change the job', async () => {
      const key = randomBytes(32);
      const nonce = randomBytes(12);
      const plaintext = randomBytes(300_000);
      const sealJob = job('seal', key, nonce, new Uint8Array(0), plaintext);
      const pending = runner().run(sealJob);
      sealJob.key.fill(0);
      const sealed = await pending;
      expect(joined(sealed.output, sealed.tag).equals(referenceSeal(key, nonce, new Uint8Array(0), plaintext))).toBe(true);
    });

    it('answers malformed jobs and calls with errors that name the problem', async () => {
      const b = (n: number) => new Uint8Array(n);
      const ok = () => job('seal', randomBytes(32), randomBytes(12), new Uint8Array(0), randomBytes(100));
      await expect(runner().run({ ...ok(), key: new Uint8Array(16) })).rejects.toThrow(/32-byte key/);
      await expect(runner().run({ ...ok(), nonce: new Uint8Array(16) })).rejects.toThrow(/12-byte nonce/);
      await expect(runner().run({ ...ok(), length: 1000 })).rejects.toThrow(/does not fit/);
      await expect(runner().run(job('seal', randomBytes(32), randomBytes(12), new Uint8Array(0), randomBytes(100), 15))).rejects.toThrow(/no room for the tag/);
      await expect(runner().run({ ...job('open', randomBytes(32), randomBytes(12), new Uint8Array(0), randomBytes(10)) })).rejects.toThrow(/shorter than its tag/);
      await expect(runner().run({ ...ok(), input: undefined, pieces: [b(60), b(30)] })).rejects.toThrow(/does not fit/);
      expect(() => addon!.run(0, b(31), b(12), b(0), [b(4)], b(4), b(16))).toThrow(/key must be 32 bytes/);
      expect(() => addon!.run(0, b(32), b(12), b(0), [b(4), b(1)], b(4), b(16))).toThrow(/exactly as long as the inputs together/);
      expect(() => addon!.run(0, b(32), b(12), b(0), [b(4)], b(4), b(15))).toThrow(/tag must be 16 bytes/);
      expect(() => addon!.run(2, b(32), b(12), b(0), [b(4)], b(4), b(16))).toThrow(/op must be 0/);
      expect(() => addon!.run(0, 'key' as unknown as Uint8Array, b(12), b(0), [b(4)], b(4), b(16))).toThrow(/key must be a Uint8Array/);
      expect(() => addon!.run(0, b(32), b(12), b(0), b(4) as unknown as Uint8Array[], b(4), b(16))).toThrow(/inputs must be an array/);
      expect(() => addon!.run(0, b(32), b(12), b(0), [b(2), 'x' as unknown as Uint8Array], b(4), b(16))).toThrow(/every input must be a Uint8Array/);
      expect(() => (addon!.run as (...args: unknown[]) => unknown)(0, b(32))).toThrow(/takes 7 arguments/);
      // Still works afterwards.
      await expect(runner().run(ok())).resolves.toMatchObject({ output: [expect.any(Uint8Array)] });
    });

    it('keeps at most `size` jobs on the thread pool and runs the rest in turn', async () => {
      let outstanding = 0;
      let most = 0;
      const counting: Addon = {
        run: (...args) => {
          most = Math.max(most, ++outstanding);
          return addon!.run(...args).finally(() => outstanding--);
        },
      };
      const limited = new NativeSegmentRunner(counting, 2);
      const key = randomBytes(32);
      const inputs = Array.from({ length: 12 }, () => randomBytes(100_000));
      const results = await Promise.all(inputs.map((plaintext, i) => limited.run(job('seal', key, Buffer.alloc(12, i), new Uint8Array(0), plaintext))));
      expect(most).toBe(2);
      results.forEach((result, i) => expect(joined(result.output, result.tag).equals(referenceSeal(key, Buffer.alloc(12, i), new Uint8Array(0), inputs[i]!))).toBe(true));
      expect(() => new NativeSegmentRunner(counting, 0)).toThrow(/positive integer/);
    });
  });
});
