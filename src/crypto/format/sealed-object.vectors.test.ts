// The published test vectors (test/vectors/sealed-object-v1.json) against both
// implementations, plus an independent re-derivation of one vector straight from the
// specification in docs/format.md, so a bug shared through the format module cannot hide.
import { createCipheriv, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openBuffer, sealBuffer, sealBytes as sealBytesNode } from '../node/sealed-stream.ts';
import { importDataKey, openSealedBytes, sealBytes } from '../web/sealed-object.ts';
import { DecryptionError } from './sealed-object.ts';

interface Vector {
  name: string;
  key: string;
  objectId: string;
  keyId: string;
  segmentSize: number;
  noncePrefix: string;
  plaintextLength: number;
  plaintext?: string;
  sealed?: string;
  sealedSha256?: string;
}

const file = JSON.parse(readFileSync(new URL('../../../test/vectors/sealed-object-v1.json', import.meta.url), 'utf8')) as {
  vectors: Vector[];
  negative: { key: string; objectId: string; keyId: string; cases: Array<{ name: string; reason: string; sealed: string }> };
};

const rulePlaintext = (length: number) => {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = (i * 7 + 3) % 251;
  return out;
};
const plaintextOf = (v: Vector) => (v.plaintext !== undefined ? Buffer.from(v.plaintext, 'hex') : rulePlaintext(v.plaintextLength));
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function checkSealed(v: Vector, sealed: Uint8Array) {
  if (v.sealed !== undefined) expect(Buffer.from(sealed).toString('hex')).toBe(v.sealed);
  else expect(sha256(sealed)).toBe(v.sealedSha256);
}

describe('sealed-object test vectors', () => {
  it('has vectors for every boundary case', () => {
    expect(file.vectors.map((v) => v.name)).toEqual(expect.arrayContaining(['empty', 'one-byte', 'segment-minus-one', 'exactly-one-segment', 'segment-plus-one', 'several-segments']));
    expect(file.negative.cases.length).toBeGreaterThanOrEqual(8);
  });

  for (const v of file.vectors) {
    const params = { key: Buffer.from(v.key, 'hex'), objectId: v.objectId, keyId: v.keyId, segmentSize: v.segmentSize, noncePrefix: Buffer.from(v.noncePrefix, 'hex') };

    it(`Node reproduces and opens "${v.name}"`, async () => {
      const sealed = await sealBuffer(params, plaintextOf(v));
      // sealBytes (one segment, no stream) must give the same bytes wherever it applies.
      if (v.plaintextLength <= v.segmentSize) expect(sealBytesNode(params, plaintextOf(v)).equals(sealed)).toBe(true);
      checkSealed(v, sealed);
      expect((await openBuffer(params.key, sealed, { objectId: v.objectId, keyId: v.keyId })).equals(plaintextOf(v))).toBe(true);
    });

    it(`WebCrypto reproduces and opens "${v.name}"`, async () => {
      const key = await importDataKey(params.key, ['encrypt', 'decrypt']);
      const sealed = await sealBytes(key, params, plaintextOf(v));
      checkSealed(v, sealed);
      const opened = await openSealedBytes(key, sealed, { objectId: v.objectId, keyId: v.keyId });
      expect(Buffer.from(opened).equals(plaintextOf(v))).toBe(true);
    });
  }

  for (const c of file.negative.cases) {
    it(`both implementations refuse "${c.name}" (${c.reason})`, async () => {
      const keyBytes = Buffer.from(file.negative.key, 'hex');
      const sealed = Buffer.from(c.sealed, 'hex');
      await expect(openBuffer(keyBytes, sealed)).rejects.toMatchObject({ reason: c.reason });
      const key = await importDataKey(keyBytes);
      const err = await openSealedBytes(key, sealed).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DecryptionError);
      // The in-memory opener checks the length before any segment, so truncations report as such.
      expect((err as DecryptionError).reason).toBe(c.reason);
    });
  }

  it('matches an independent derivation of "several-segments" from the written specification', () => {
    const v = file.vectors.find((x) => x.name === 'several-segments')!;
    const pt = Buffer.from(v.plaintext!, 'hex');
    const header = Buffer.alloc(64);
    header.write('SPSO', 0, 'ascii');
    header[4] = 1; // version
    header[5] = 1; // AES-256-GCM
    header.writeUInt16BE(64, 6);
    header.writeUInt32BE(v.segmentSize, 8);
    header.writeBigUInt64BE(BigInt(pt.length), 12);
    Buffer.from(v.objectId.replace(/-/g, ''), 'hex').copy(header, 20);
    Buffer.from(v.keyId.replace(/-/g, ''), 'hex').copy(header, 36);
    Buffer.from(v.noncePrefix, 'hex').copy(header, 52);
    const parts = [header];
    const n = Math.ceil(pt.length / v.segmentSize);
    for (let i = 0; i < n; i++) {
      const final = i === n - 1 ? 1 : 0;
      const counter = Buffer.alloc(5);
      counter.writeUInt32BE(i, 0);
      counter[4] = final;
      const nonce = Buffer.concat([Buffer.from(v.noncePrefix, 'hex'), counter]);
      const cipher = createCipheriv('aes-256-gcm', Buffer.from(v.key, 'hex'), nonce);
      cipher.setAAD(Buffer.concat([header, counter]));
      parts.push(cipher.update(pt.subarray(i * v.segmentSize, (i + 1) * v.segmentSize)), cipher.final(), cipher.getAuthTag());
    }
    expect(Buffer.concat(parts).toString('hex')).toBe(v.sealed);
  });
});
