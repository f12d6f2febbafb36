// The sealed-object test vectors (test/vectors/sealed-object-v1.json) sealed by Node and opened
// inside Chromium with the browser crypto (src/crypto/web), whole and as a stream; the
// negative vectors refused with the same reasons; and a key release made by the server's code
// unwrapped by a non-extractable browser key pair.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { releaseKeys } from '../../src/crypto/node/key-release.ts';
import { sealBuffer } from '../../src/crypto/node/sealed-stream.ts';
import { createHash } from 'node:crypto';
import { startE2eServer, type E2eServer } from '../support/e2e.ts';
import { bundleForPage, launchChromium } from './support/browser.ts';

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

const file = JSON.parse(readFileSync(new URL('../vectors/sealed-object-v1.json', import.meta.url), 'utf8')) as {
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

describe('browser crypto in Chromium', () => {
  let env: E2eServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    env = await startE2eServer('pglite', 'vectors');
    browser = await launchChromium();
    page = await browser.newPage();
    // A page of the app's origin: a secure context (127.0.0.1), under the app's CSP.
    await page.goto(`${env.server.url}/sign-in`);
    await page.addScriptTag({ content: await bundleForPage('test/browser/support/crypto-entry.ts') }).catch(async () => {
      // The app's CSP forbids inline scripts (as it should): evaluate the bundle instead.
      await page.evaluate(await bundleForPage('test/browser/support/crypto-entry.ts'));
    });
    expect(await page.evaluate(() => typeof (globalThis as any).sealpostCrypto?.openSealedBytes)).toBe('function');
  });

  afterAll(async () => {
    await browser?.close();
    await env?.close();
  });

  for (const v of file.vectors) {
    it(`opens "${v.name}" sealed by Node, whole and streamed, and reseals it byte for byte`, async () => {
      const params = { key: Buffer.from(v.key, 'hex'), objectId: v.objectId, keyId: v.keyId, segmentSize: v.segmentSize, noncePrefix: Buffer.from(v.noncePrefix, 'hex') };
      const sealed = await sealBuffer(params, plaintextOf(v));
      if (v.sealed !== undefined) expect(Buffer.from(sealed).toString('hex')).toBe(v.sealed);
      else expect(sha256(sealed)).toBe(v.sealedSha256);

      const result = await page.evaluate(
        async ({ key, sealedB64, objectId, keyId, segmentSize, noncePrefix }) => {
          const c = (globalThis as any).sealpostCrypto;
          const hex = (s: string) => new Uint8Array(s.match(/../g)?.map((h) => parseInt(h, 16)) ?? []);
          const fromB64 = (s: string) => Uint8Array.from(atob(s), (ch) => ch.charCodeAt(0));
          const toB64 = (b: Uint8Array) => {
            let out = '';
            for (let i = 0; i < b.length; i += 0x8000) out += String.fromCharCode(...b.subarray(i, i + 0x8000));
            return btoa(out);
          };
          const k = await c.importDataKey(hex(key), ['encrypt', 'decrypt']);
          const bytes = fromB64(sealedB64);
          const whole: Uint8Array = await c.openSealedBytes(k, bytes, { objectId, keyId });
          // Streamed in uneven chunks, as a download arrives.
          const source = new ReadableStream<Uint8Array>({
            start(ctrl) {
              // 7-byte chunks for small objects; larger uneven chunks for the 2 MiB one.
              const step = bytes.length > 100_000 ? 65_537 : 7;
              for (let i = 0; i < bytes.length; i += step) ctrl.enqueue(bytes.subarray(i, i + step));
              ctrl.close();
            },
          });
          const parts: Uint8Array[] = [];
          await source.pipeThrough(c.createOpenTransformStream(k, { objectId, keyId })).pipeTo(new WritableStream<Uint8Array>({ write: (p) => void parts.push(p) }));
          const streamed = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
          let o = 0;
          for (const p of parts) {
            streamed.set(p, o);
            o += p.length;
          }
          const resealed: Uint8Array = await c.sealBytes(k, { objectId, keyId, segmentSize, noncePrefix: hex(noncePrefix) }, whole);
          return { whole: toB64(whole), streamed: toB64(streamed), resealed: toB64(resealed) };
        },
        { key: v.key, sealedB64: Buffer.from(sealed).toString('base64'), objectId: v.objectId, keyId: v.keyId, segmentSize: v.segmentSize, noncePrefix: v.noncePrefix },
      );
      expect(result.whole).toBe(plaintextOf(v).toString('base64'));
      expect(result.streamed).toBe(plaintextOf(v).toString('base64'));
      expect(result.resealed).toBe(Buffer.from(sealed).toString('base64'));
    });
  }

  for (const c of file.negative.cases) {
    it(`refuses "${c.name}" with reason ${c.reason}`, async () => {
      const reason = await page.evaluate(
        async ({ key, sealedHex }) => {
          const cr = (globalThis as any).sealpostCrypto;
          const hex = (s: string) => new Uint8Array(s.match(/../g)?.map((h) => parseInt(h, 16)) ?? []);
          try {
            await cr.openSealedBytes(await cr.importDataKey(hex(key)), hex(sealedHex));
            return 'opened';
          } catch (err) {
            return (err as { reason?: string }).reason ?? String(err);
          }
        },
        { key: file.negative.key, sealedHex: c.sealed },
      );
      expect(reason).toBe(c.reason);
    });
  }

  it('unwraps a key release made by the server code into non-extractable keys that open the object', async () => {
    const v = file.vectors.find((x) => x.name === 'several-segments')!;
    const params = { key: Buffer.from(v.key, 'hex'), objectId: v.objectId, keyId: v.keyId, segmentSize: v.segmentSize, noncePrefix: Buffer.from(v.noncePrefix, 'hex') };
    const sealedHex = Buffer.from(await sealBuffer(params, plaintextOf(v))).toString('hex');
    const publicKey = await page.evaluate(async () => {
      const c = (globalThis as any).sealpostCrypto;
      (globalThis as any).pair = await c.createWebClientKeyPair();
      return (globalThis as any).pair.publicKey as string;
    });
    const release = await releaseKeys({ clientPublicKey: publicKey, audience: '00000000-0000-4000-8000-00000000abcd', keys: [{ objectId: v.objectId, keyId: v.keyId, dataKey: params.key }] });
    const result = await page.evaluate(
      async ({ release, sealedHex, objectId, keyId }) => {
        const c = (globalThis as any).sealpostCrypto;
        const pair = (globalThis as any).pair;
        const hex = (s: string) => new Uint8Array(s.match(/../g)?.map((h) => parseInt(h, 16)) ?? []);
        const keys = await c.openWebKeyRelease(pair, release);
        const k = keys.get(objectId);
        const plain: Uint8Array = await c.openSealedBytes(k.key, hex(sealedHex), { objectId, keyId });
        let exportable = true;
        try {
          await crypto.subtle.exportKey('raw', k.key);
        } catch {
          exportable = false;
        }
        let privateExportable = true;
        try {
          await crypto.subtle.exportKey('pkcs8', pair.privateKey);
        } catch {
          privateExportable = false;
        }
        // Another session's key pair cannot use the release.
        const other = await c.createWebClientKeyPair();
        const refused = await c.openWebKeyRelease(other, release).then(() => 'opened', (e: { code?: string }) => e.code ?? 'error');
        return { plainHex: Array.from(plain, (x) => x.toString(16).padStart(2, '0')).join(''), exportable, privateExportable, extractableFlag: k.key.extractable, refused };
      },
      { release, sealedHex, objectId: v.objectId, keyId: v.keyId },
    );
    expect(result.plainHex).toBe(plaintextOf(v).toString('hex'));
    expect(result.extractableFlag).toBe(false);
    expect(result.exportable).toBe(false);
    expect(result.privateExportable).toBe(false);
    expect(result.refused).toBe('key_release_failed');
  });
});
