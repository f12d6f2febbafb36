// npm run bench:crypto — seals and opens a 1 GiB stream with the Node implementation and
// compares with `openssl speed -evp aes-256-gcm` on the same machine in the same run.
// Ends with one JSON line: {"seal_GBps","open_GBps","openssl_GBps","ratio","rss_growth_MiB"}.
// Target (issue 2): ratio >= 0.6 and rss_growth_MiB <= 64.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DEFAULT_SEGMENT_SIZE } from '../src/crypto/format/sealed-object.ts';
import { createOpenStream, createSealStream } from '../src/crypto/node/sealed-stream.ts';

const TOTAL = Number(process.env.BENCH_BYTES ?? 1024 ** 3);
const CHUNK = 1024 * 1024;
const block = randomBytes(CHUNK);
const params = { key: randomBytes(32), objectId: randomUUID(), keyId: randomUUID(), segmentSize: DEFAULT_SEGMENT_SIZE };

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 20);
const baselineRss = process.memoryUsage.rss();

function source(): Readable {
  let sent = 0;
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      if (sent >= TOTAL) return this.push(null);
      const n = Math.min(CHUNK, TOTAL - sent);
      sent += n;
      this.push(n === CHUNK ? block : block.subarray(0, n));
    },
  });
}

function sink(): { stream: Writable; bytes: () => number } {
  let bytes = 0;
  return {
    stream: new Writable({ highWaterMark: CHUNK, write(c: Buffer, _e, cb) { bytes += c.length; cb(); } }),
    bytes: () => bytes,
  };
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'sealpost-bench-'));
const sealedFile = path.join(dir, 'sealed.bin');
try {
  // Warm up JIT and OpenSSL on a small object.
  await pipeline(Readable.from([block]), createSealStream({ ...params, plaintextLength: CHUNK }), sink().stream);

  const sealSink = sink();
  const sealSeconds = await timed(() => pipeline(source(), createSealStream({ ...params, plaintextLength: TOTAL }), sealSink.stream));

  // Untimed: write a sealed copy to disk so the open pass reads real sealed bytes (page cache).
  await pipeline(source(), createSealStream({ ...params, plaintextLength: TOTAL }), createWriteStream(sealedFile, { highWaterMark: 4 * CHUNK }));
  const openSink = sink();
  const openSeconds = await timed(() => pipeline(createReadStream(sealedFile, { highWaterMark: 4 * CHUNK }), createOpenStream(params.key), openSink.stream));
  if (openSink.bytes() !== TOTAL) throw new Error(`opened ${openSink.bytes()} bytes, expected ${TOTAL}`);
  clearInterval(sampler);

  const speed = execFileSync('openssl', ['speed', '-evp', 'aes-256-gcm', '-bytes', String(CHUNK), '-seconds', '3'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const match = /aes-256-gcm\s+([\d.]+)k/i.exec(speed);
  if (!match) throw new Error(`could not parse openssl speed output:\n${speed}`);
  const opensslGBps = (Number(match[1]) * 1000) / 1e9;

  const sealGBps = TOTAL / sealSeconds / 1e9;
  const openGBps = TOTAL / openSeconds / 1e9;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  console.error(`sealed ${TOTAL} bytes in ${sealSeconds.toFixed(3)} s, opened in ${openSeconds.toFixed(3)} s; openssl speed (1 MiB blocks): ${opensslGBps.toFixed(3)} GB/s`);
  console.log(JSON.stringify({
    seal_GBps: round(sealGBps),
    open_GBps: round(openGBps),
    openssl_GBps: round(opensslGBps),
    ratio: round(Math.min(sealGBps, openGBps) / opensslGBps),
    rss_growth_MiB: round((peakRss - baselineRss) / 1024 / 1024),
  }));
} finally {
  clearInterval(sampler);
  rmSync(dir, { recursive: true, force: true });
}
