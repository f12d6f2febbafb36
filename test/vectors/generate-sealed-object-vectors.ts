// Regenerates test/vectors/sealed-object-v1.json: `npx tsx test/vectors/generate-sealed-object-vectors.ts`.
// Every input is fixed (keys, ids, nonce prefixes, plaintexts), so the output is deterministic;
// the vectors test checks that both implementations reproduce and open them.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { sealBuffer } from '../../src/crypto/node/sealed-stream.ts';
import { DEFAULT_SEGMENT_SIZE } from '../../src/crypto/format/sealed-object.ts';

/** Deterministic plaintext: byte i is (i * 7 + 3) mod 251. */
export function vectorPlaintext(length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = (i * 7 + 3) % 251;
  return out;
}

const key = (n: number) => Buffer.from(Buffer.alloc(32, n).map((b, i) => (b + i * 13) & 0xff));
const prefix = (n: number) => Buffer.from([n, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6]);

const cases: Array<{ name: string; segmentSize: number; length: number; inline: boolean }> = [
  { name: 'empty', segmentSize: 16, length: 0, inline: true },
  { name: 'one-byte', segmentSize: 16, length: 1, inline: true },
  { name: 'segment-minus-one', segmentSize: 16, length: 15, inline: true },
  { name: 'exactly-one-segment', segmentSize: 16, length: 16, inline: true },
  { name: 'segment-plus-one', segmentSize: 16, length: 17, inline: true },
  { name: 'several-segments', segmentSize: 64, length: 300, inline: true },
  { name: 'text', segmentSize: 4096, length: -1, inline: true },
  { name: 'default-segment-size-large', segmentSize: DEFAULT_SEGMENT_SIZE, length: DEFAULT_SEGMENT_SIZE * 2 + 5, inline: false },
];

const vectors = [];
let n = 1;
for (const c of cases) {
  const plaintext = c.length < 0 ? Buffer.from('Sealpost test vector: Grüße, 你好, 🔐\n', 'utf8') : vectorPlaintext(c.length);
  const params = {
    key: key(n),
    objectId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    keyId: `11111111-1111-4111-8111-${String(n).padStart(12, '0')}`,
    segmentSize: c.segmentSize,
    noncePrefix: prefix(n),
  };
  const sealed = await sealBuffer(params, plaintext);
  vectors.push({
    name: c.name,
    key: params.key.toString('hex'),
    objectId: params.objectId,
    keyId: params.keyId,
    segmentSize: c.segmentSize,
    noncePrefix: params.noncePrefix.toString('hex'),
    plaintextLength: plaintext.length,
    ...(c.inline
      ? { plaintext: plaintext.toString('hex'), sealed: sealed.toString('hex') }
      : { plaintextRule: 'byte i = (i * 7 + 3) mod 251', sealedSha256: createHash('sha256').update(sealed).digest('hex'), sealedLength: sealed.length }),
  });
  n++;
}

// Negative vectors: each must fail to open with the key of `several-segments`.
const base = vectors.find((v) => v.name === 'several-segments')!;
const good = Buffer.from((base as { sealed: string }).sealed, 'hex');
const flip = (i: number) => { const b = Buffer.from(good); b[i]! ^= 0x01; return b.toString('hex'); };
const seg = (i: number) => good.subarray(64 + i * 80, 64 + (i + 1) * 80);
const negatives = [
  { name: 'flipped-header-length-bit', reason: 'authentication_failed', sealed: flip(19) },
  { name: 'flipped-nonce-prefix-bit', reason: 'authentication_failed', sealed: flip(55) },
  { name: 'flipped-ciphertext-bit', reason: 'authentication_failed', sealed: flip(64 + 80 + 10) },
  { name: 'flipped-tag-bit', reason: 'authentication_failed', sealed: flip(64 + 80 + 70) },
  { name: 'truncated-at-segment-boundary', reason: 'truncated', sealed: good.subarray(0, 64 + 80 * 2).toString('hex') },
  { name: 'final-segment-dropped', reason: 'truncated', sealed: good.subarray(0, good.length - (300 - 256) - 16).toString('hex') },
  { name: 'segments-swapped', reason: 'authentication_failed', sealed: Buffer.concat([good.subarray(0, 64), seg(1), seg(0), good.subarray(64 + 160)]).toString('hex') },
  { name: 'trailing-data', reason: 'trailing_data', sealed: Buffer.concat([good, Buffer.from([0])]).toString('hex') },
  { name: 'bad-magic', reason: 'bad_header', sealed: flip(0) },
];

writeFileSync(
  new URL('./sealed-object-v1.json', import.meta.url),
  JSON.stringify({
    format: 'Sealpost sealed object, version 1 (docs/format.md)',
    note: 'All values hex except ids (UUID strings). noncePrefix is normally random; it is fixed here so the vectors are reproducible.',
    vectors,
    negative: { key: base.key, objectId: base.objectId, keyId: base.keyId, cases: negatives },
  }, null, 1) + '\n',
);
console.log(`wrote ${vectors.length} vectors and ${negatives.length} negative cases`);
