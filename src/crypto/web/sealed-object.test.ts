// Runs the WebCrypto implementation under Node's WebCrypto; the same code runs in Chromium
// in the browser tests. Cross-checks it against the Node implementation in both directions.
import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openBuffer, sealBuffer } from '../node/sealed-stream.ts';
import { DecryptionError } from '../format/sealed-object.ts';
import { createOpenTransformStream, importDataKey, openSealedBytes, sealBytes } from './sealed-object.ts';

async function openAsStream(key: CryptoKey, sealed: Uint8Array, chunkSize: number): Promise<{ out: Uint8Array; error: unknown }> {
  const source = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < sealed.length; i += chunkSize) c.enqueue(sealed.slice(i, i + chunkSize));
      c.close();
    },
  });
  const parts: Uint8Array[] = [];
  let error: unknown;
  try {
    const reader = source.pipeThrough(createOpenTransformStream(key)).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parts.push(value);
    }
  } catch (err) {
    error = err;
  }
  return { out: Buffer.concat(parts), error };
}

describe('sealed objects (WebCrypto)', () => {
  it('opens what Node sealed and Node opens what it sealed (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 1500 }), fc.integer({ min: 16, max: 200 }), fc.integer({ min: 1, max: 400 }), async (bytes, segmentSize, chunk) => {
        const raw = randomBytes(32);
        const key = await importDataKey(raw, ['encrypt', 'decrypt']);
        const p = { key: raw, objectId: randomUUID(), keyId: randomUUID(), segmentSize };
        const fromNode = await sealBuffer(p, bytes);
        expect(Buffer.from(await openSealedBytes(key, fromNode)).equals(Buffer.from(bytes))).toBe(true);
        const streamed = await openAsStream(key, fromNode, chunk);
        expect(streamed.error).toBeUndefined();
        expect(Buffer.from(streamed.out).equals(Buffer.from(bytes))).toBe(true);
        const fromWeb = await sealBytes(key, p, bytes);
        expect((await openBuffer(raw, fromWeb)).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('fails the stream on a flipped bit, truncation and trailing data, emitting only verified segments', async () => {
    const raw = randomBytes(32);
    const key = await importDataKey(raw);
    const plaintext = randomBytes(400);
    const sealed = await sealBuffer({ key: raw, objectId: randomUUID(), keyId: randomUUID(), segmentSize: 100 }, plaintext);
    const flipped = Buffer.from(sealed);
    flipped[64 + 116 + 3]! ^= 4; // segment 1
    const a = await openAsStream(key, flipped, 37);
    expect(a.error).toBeInstanceOf(DecryptionError);
    expect(Buffer.from(a.out).equals(plaintext.subarray(0, a.out.length))).toBe(true);
    expect(a.out.length).toBeLessThanOrEqual(100);
    const b = await openAsStream(key, sealed.subarray(0, sealed.length - 1), 50);
    expect((b.error as DecryptionError).reason).toBe('truncated');
    const c = await openAsStream(key, Buffer.concat([sealed, Buffer.from([1, 2])]), 50);
    expect((c.error as DecryptionError).reason).toBe('trailing_data');
  });

  it('refuses a wrong key', async () => {
    const raw = randomBytes(32);
    const sealed = await sealBuffer({ key: raw, objectId: randomUUID(), keyId: randomUUID(), segmentSize: 64 }, Buffer.from('secret'));
    const wrong = await importDataKey(randomBytes(32));
    await expect(openSealedBytes(wrong, sealed)).rejects.toMatchObject({ reason: 'authentication_failed' });
  });

  it('imports data keys as non-extractable', async () => {
    const key = await importDataKey(randomBytes(32));
    expect(key.extractable).toBe(false);
    await expect(globalThis.crypto.subtle.exportKey('raw', key)).rejects.toThrow();
  });
});
