import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { keepLargeBuffers } from './allocator.ts';

const glibc = Boolean((process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime);

/**
 * A fresh process (this one's malloc settings may already have moved) that counts minor page
 * faults over 64 one-MiB Cipher.update() calls, before and after keepLargeBuffers(), with a
 * full GC every 8 calls so that freed outputs can be reused.
 */
function faultsBeforeAndAfter(): { before: number; after: number } {
  const allocator = fileURLToPath(new URL('./allocator.ts', import.meta.url));
  const script = `
    import { createCipheriv, randomBytes } from 'node:crypto';
    import { readFileSync } from 'node:fs';
    import { keepLargeBuffers } from ${JSON.stringify(allocator)};
    const faults = () => { const s = readFileSync('/proc/self/stat', 'utf8'); return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[7]); };
    const key = randomBytes(32), iv = randomBytes(12), block = randomBytes(1 << 20);
    const run = () => {
      const f0 = faults();
      for (let i = 0; i < 64; i++) {
        if (i % 8 === 0) gc(); // reuse freed outputs rather than grow the heap onto new pages
        createCipheriv('aes-256-gcm', key, iv).update(block);
      }
      return faults() - f0;
    };
    run();
    const before = run();
    await keepLargeBuffers();
    run();
    console.log(JSON.stringify({ before, after: run() }));
  `;
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name === 'GLIBC_TUNABLES' || name.startsWith('MALLOC_')) delete env[name];
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], { env, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!) as { before: number; after: number };
}

describe('keepLargeBuffers', () => {
  it('resolves once and returns the same promise every time', async () => {
    const first = keepLargeBuffers();
    expect(keepLargeBuffers()).toBe(first);
    await expect(first).resolves.toBeUndefined();
  });

  it.runIf(glibc && process.platform === 'linux')('stops 1 MiB cipher outputs from faulting in fresh pages each time (glibc)', () => {
    const { before, after } = faultsBeforeAndAfter();
    // Each 1 MiB output is 256 pages; with the defaults most of them fault on every call.
    expect(before).toBeGreaterThan(64 * 100);
    expect(after).toBeLessThan(before / 10);
  });
});
