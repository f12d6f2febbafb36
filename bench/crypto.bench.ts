// npm run bench:crypto — seals and opens a 1 GiB stream with the Node implementation and
// compares with `openssl speed -evp aes-256-gcm` on the same machine in the same run.
// Ends with one JSON line: {"seal_GBps","open_GBps","openssl_GBps","ratio","rss_growth_MiB"}.
// Target (issue 2): ratio >= 0.6 and rss_growth_MiB <= 64, where
// ratio = min(seal, open) / openssl at 1 MiB blocks (the size of one default segment).
//
// What is timed:
// - seal: plaintext from memory (one random 1 MiB block, repeated) through createSealStream
//   into a sink that only counts bytes.
// - open: the sealed object is first written, untimed, to a file on tmpfs (/dev/shm when it
//   exists, else the temp dir, fsynced so no write-back runs during the timing). The timed
//   pass reads that file — from memory — through createOpenStream into a counting sink. It
//   cannot come from an in-memory array: 1 GiB held in the heap would swamp the RSS figure,
//   and segments cannot be repeated (the index is bound into each segment's AAD). The file is
//   read into two reused 4 MiB buffers, each refilled only once the open stream has called
//   back for it (it has copied the bytes out by then), so the figure is the crypto path plus
//   one kernel copy per byte; a fresh buffer per read (fs.createReadStream) would add the
//   allocator's page-fault churn, which is not what this compares with openssl.
// The comparison with openssl. `openssl speed` runs one thread on one core and, by default,
// divides by its user CPU time, not wall-clock time; the JSON's openssl_GBps is that figure at
// 1 MiB blocks. seal_GBps and open_GBps are wall-clock figures of a pipeline that uses the worker
// pool, so on an idle 2-core machine they may use both cores. On a shared machine the two react
// differently to other load: CPU time barely moves, wall-clock time does. So stderr also prints
// (a) openssl with -elapsed (wall-clock, same moment) and (b) our bytes per CPU-second of the
// whole process (every thread, user + system): (b) against openssl's default figure is the
// like-for-like, single-core-equivalent comparison, and it holds up under load.
// rss_growth_MiB is the peak RSS of the whole process during the timed phases (all threads:
// the kernel's VmHWM, reset at the baseline where Linux allows, and 20 ms sampling) minus the
// RSS at the baseline, taken just before timing starts: after the warm-up (JIT, OpenSSL, the
// crypto worker pool started) and a full GC. The fixed cost of start-up and of the idle
// worker pool is printed on stderr, not counted. The 1 GiB is never held in memory.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, createWriteStream, existsSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
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

/** Kernel high-water mark of this process's RSS in bytes, or 0 where /proc is unavailable. */
function kernelPeakRss(): number {
  try {
    const kib = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return kib ? Number(kib[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Full GC when node runs with --expose-gc (npm run bench:crypto does): a clean baseline. */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Starts measuring: returns the baseline RSS and a function giving the peak RSS since. */
function watchRss(): { baseline: number; peak: () => number } {
  collectGarbage();
  try {
    writeFileSync('/proc/self/clear_refs', '5'); // resets VmHWM to the current RSS
  } catch {
    // Not Linux, or not allowed: VmHWM then also covers start-up, which only overstates growth.
  }
  const baseline = process.memoryUsage.rss();
  let sampled = baseline;
  const sampler = setInterval(() => (sampled = Math.max(sampled, process.memoryUsage.rss())), 20);
  return {
    baseline,
    peak: () => {
      clearInterval(sampler);
      return Math.max(sampled, process.memoryUsage.rss(), kernelPeakRss());
    },
  };
}

collectGarbage();
const startRss = process.memoryUsage.rss();

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

/** CPU seconds of the whole process (all threads) per timed phase, for context on stderr. */
const cpuSeconds: number[] = [];

async function timed(fn: () => Promise<void>): Promise<number> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  cpuSeconds.push((cpu.user + cpu.system) / 1e6);
  return seconds;
}

/** `openssl speed` for AES-256-GCM at one block size, in GB/s: per user CPU second, or per wall-clock second with `elapsed`. */
function opensslSpeed(bytes: number, elapsed = false): number {
  const args = ['speed', ...(elapsed ? ['-elapsed'] : []), '-evp', 'aes-256-gcm', '-bytes', String(bytes), '-seconds', '3'];
  const out = execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const match = /aes-256-gcm\s+([\d.]+)k/i.exec(out);
  if (!match) throw new Error(`could not parse openssl speed output:\n${out}`);
  return (Number(match[1]) * 1000) / 1e9;
}

/** Warms up JIT, OpenSSL and the worker pool: seals and opens an 8 MiB object a few times. */
async function warmUp(): Promise<void> {
  const warm = Buffer.concat(Array.from({ length: 8 }, () => block));
  for (let i = 0; i < 3; i++) {
    await pipeline(Readable.from([warm]), createSealStream({ ...params, plaintextLength: warm.length }), createOpenStream(params.key), sink().stream);
  }
}

/** Writes a file into `stream` through two reused buffers, then ends it. */
async function writeFile(file: string, stream: Writable): Promise<void> {
  const handle = await open(file, 'r');
  const buffers = [Buffer.allocUnsafeSlow(4 * CHUNK), Buffer.allocUnsafeSlow(4 * CHUNK)];
  const written: Promise<void>[] = [Promise.resolve(), Promise.resolve()];
  try {
    for (let i = 0; ; i ^= 1) {
      await written[i]; // the stream is done with this buffer
      const buffer = buffers[i]!;
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      written[i] = new Promise((resolve, reject) => stream.write(buffer.subarray(0, bytesRead), (err) => (err ? reject(err) : resolve())));
    }
    await Promise.all(written);
    stream.end();
  } catch (err) {
    stream.destroy(err as Error);
    throw err;
  } finally {
    await handle.close();
  }
}

const tmpRoot = existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
const dir = mkdtempSync(path.join(tmpRoot, 'sealpost-bench-'));
const sealedFile = path.join(dir, 'sealed.bin');
try {
  await warmUp();
  const rss = watchRss();

  const sealSink = sink();
  const sealSeconds = await timed(() => pipeline(source(), createSealStream({ ...params, plaintextLength: TOTAL }), sealSink.stream));

  // Untimed: the sealed copy that the open pass reads back from memory.
  await pipeline(source(), createSealStream({ ...params, plaintextLength: TOTAL }), createWriteStream(sealedFile, { highWaterMark: 4 * CHUNK }));
  const fd = openSync(sealedFile, 'r');
  fsyncSync(fd);
  closeSync(fd);
  const openSink = sink();
  const openSeconds = await timed(async () => {
    const opening = createOpenStream(params.key);
    await Promise.all([writeFile(sealedFile, opening), pipeline(opening, openSink.stream)]);
  });
  if (openSink.bytes() !== TOTAL) throw new Error(`opened ${openSink.bytes()} bytes, expected ${TOTAL}`);
  const peakRss = rss.peak();

  const opensslGBps = opensslSpeed(CHUNK);
  const openssl16kGBps = opensslSpeed(16 * 1024);
  const opensslWallGBps = opensslSpeed(CHUNK, true);

  const sealGBps = TOTAL / sealSeconds / 1e9;
  const openGBps = TOTAL / openSeconds / 1e9;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  const [sealCpuGBps, openCpuGBps] = cpuSeconds.map((s) => TOTAL / s / 1e9) as [number, number];
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.error(
    `sealed ${TOTAL} bytes in ${sealSeconds.toFixed(3)} s, opened in ${openSeconds.toFixed(3)} s ` +
      `(CPU ${cpuSeconds.map((s) => s.toFixed(3)).join(' s, ')} s on ${os.availableParallelism()} cores); ` +
      `openssl speed: ${opensslGBps.toFixed(3)} GB/s at 1 MiB blocks, ${openssl16kGBps.toFixed(3)} GB/s at 16 KiB (its default largest); ` +
      `RSS: ${mib(rss.baseline - startRss)} MiB for warm-up and worker pool before the baseline, peak ${mib(peakRss - startRss)} MiB above start`,
  );
  console.error(
    `like for like, per CPU-second (ours: all threads, user + system; openssl: its default, user time of one thread): ` +
      `seal ${sealCpuGBps.toFixed(3)}, open ${openCpuGBps.toFixed(3)}, openssl ${opensslGBps.toFixed(3)} GB/s, ratio ${(Math.min(sealCpuGBps, openCpuGBps) / opensslGBps).toFixed(3)}; ` +
      `wall-clock: openssl -elapsed ${opensslWallGBps.toFixed(3)} GB/s, ratio ${(Math.min(sealGBps, openGBps) / opensslWallGBps).toFixed(3)}; load average ${load}`,
  );
  console.log(JSON.stringify({
    seal_GBps: round(sealGBps),
    open_GBps: round(openGBps),
    openssl_GBps: round(opensslGBps),
    ratio: round(Math.min(sealGBps, openGBps) / opensslGBps),
    rss_growth_MiB: round((peakRss - rss.baseline) / 1024 / 1024),
  }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
