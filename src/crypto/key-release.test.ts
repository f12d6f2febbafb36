import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64Url, toBase64Url } from './format/bytes.ts';
import { KeyReleaseError, type KeyRelease } from './format/key-release.ts';
import { KeyAgreementWorker } from './node/key-agreement.ts';
import { createClientKeyPair, openKeyRelease, releaseKeys } from './node/key-release.ts';
import { sealBuffer } from './node/sealed-stream.ts';
import { createWebClientKeyPair, openWebKeyRelease } from './web/key-release.ts';
import { openSealedBytes } from './web/sealed-object.ts';

const dataKeys = (n: number) => Array.from({ length: n }, () => ({ objectId: randomUUID(), keyId: randomUUID(), dataKey: randomBytes(32) }));

function flipBase64(text: string, byte: number): string {
  const b = fromBase64Url(text);
  b[byte % b.length]! ^= 0x01;
  return toBase64Url(b);
}

describe('key release', () => {
  it('does deliver every data key to the Node client that asked, and none in the clear', async () => {
    const client = createClientKeyPair();
    const keys = dataKeys(3);
    const release = await releaseKeys({ clientPublicKey: client.publicKey, audience: 'recipient-1', keys });
    const json = JSON.stringify(release);
    for (const k of keys) {
      expect(json).not.toContain(k.dataKey.toString('base64url'));
      expect(json).not.toContain(k.dataKey.toString('hex'));
    }
    const opened = openKeyRelease(client, JSON.parse(json));
    for (const k of keys) expect(opened.get(k.objectId)).toEqual({ keyId: k.keyId, dataKey: k.dataKey });
  });

  it('does let the browser unwrap into non-extractable keys that open what Node sealed', async () => {
    const client = await createWebClientKeyPair();
    const dataKey = randomBytes(32);
    const objectId = randomUUID();
    const keyId = randomUUID();
    const plaintext = randomBytes(5000);
    const sealed = await sealBuffer({ key: dataKey, objectId, keyId, segmentSize: 1024 }, plaintext);
    const release = await releaseKeys({ clientPublicKey: client.publicKey, audience: 'recipient-1', keys: [{ objectId, keyId, dataKey }] });
    const keys = await openWebKeyRelease(client, release);
    const key = keys.get(objectId)!.key;
    expect(key.extractable).toBe(false);
    expect(key.usages).toEqual(['decrypt']);
    expect(client.privateKey.extractable).toBe(false);
    expect(Buffer.from(await openSealedBytes(key, sealed, { objectId, keyId }))).toEqual(plaintext);
  });

  it('does refuse a release made for another session', async () => {
    const alice = createClientKeyPair();
    const mallory = createClientKeyPair();
    const release = await releaseKeys({ clientPublicKey: alice.publicKey, audience: 'r', keys: dataKeys(1) });
    expect(() => openKeyRelease(mallory, release)).toThrow(expect.objectContaining({ code: 'key_release_failed' }));
    const webMallory = await createWebClientKeyPair();
    await expect(openWebKeyRelease(webMallory, release)).rejects.toMatchObject({ code: 'key_release_failed' });
  });

  it('does detect any change to the release id, audience, ids, salt, server key or wrapped bytes (property)', async () => {
    const client = createClientKeyPair();
    const web = await createWebClientKeyPair();
    const keys = dataKeys(2);
    const base = await releaseKeys({ clientPublicKey: client.publicKey, audience: 'recipient-1', keys });
    const webBase = await releaseKeys({ clientPublicKey: web.publicKey, audience: 'recipient-1', keys });
    const mutations: Array<(r: KeyRelease, i: number) => KeyRelease> = [
      (r) => ({ ...r, releaseId: randomUUID() }),
      (r) => ({ ...r, audience: 'recipient-2' }),
      (r, i) => ({ ...r, salt: flipBase64(r.salt, i) }),
      (r, i) => ({ ...r, serverPublicKey: flipBase64(r.serverPublicKey, 1 + (i % 64)) }),
      (r, i) => ({ ...r, keys: r.keys.map((k, j) => (j === 0 ? { ...k, wrapped: flipBase64(k.wrapped, i) } : k)) }),
      (r) => ({ ...r, keys: [{ ...r.keys[0]!, objectId: r.keys[1]!.objectId }, r.keys[1]!] }),
      (r) => ({ ...r, keys: [{ ...r.keys[0]!, keyId: randomUUID() }, r.keys[1]!] }),
    ];
    await fc.assert(
      fc.asyncProperty(fc.nat(mutations.length - 1), fc.nat(1000), async (m, i) => {
        expect(() => openKeyRelease(client, mutations[m]!(structuredClone(base), i))).toThrow(KeyReleaseError);
        await expect(openWebKeyRelease(web, mutations[m]!(structuredClone(webBase), i))).rejects.toBeInstanceOf(KeyReleaseError);
      }),
      { numRuns: 60 },
    );
  });

  it('does refuse malformed and off-curve client public keys with a named error', async () => {
    const keys = dataKeys(1);
    const offCurve = new Uint8Array(65);
    offCurve[0] = 0x04;
    offCurve[64] = 7;
    for (const bad of ['', 'not base64!', toBase64Url(randomBytes(65)).replace(/^./, 'A'), toBase64Url(new Uint8Array(33).fill(2)), toBase64Url(offCurve)]) {
      await expect(releaseKeys({ clientPublicKey: bad, audience: 'r', keys })).rejects.toMatchObject({ code: 'invalid_public_key' });
    }
  });

  it('does refuse something that is not a version 1 release', async () => {
    const client = createClientKeyPair();
    for (const bad of [null, {}, { version: 2 }, { ...await releaseKeys({ clientPublicKey: client.publicKey, audience: 'r', keys: [] }), algorithm: 'RSA' }]) {
      expect(() => openKeyRelease(client, bad)).toThrow(expect.objectContaining({ code: 'invalid_key_release' }));
    }
  });

  it('does use a fresh server key, salt and release id for every response', async () => {
    const client = createClientKeyPair();
    const keys = dataKeys(1);
    const a = await releaseKeys({ clientPublicKey: client.publicKey, audience: 'r', keys });
    const b = await releaseKeys({ clientPublicKey: client.publicKey, audience: 'r', keys });
    expect(a.serverPublicKey).not.toBe(b.serverPublicKey);
    expect(a.salt).not.toBe(b.salt);
    expect(a.releaseId).not.toBe(b.releaseId);
    expect(a.keys[0]!.wrapped).not.toBe(b.keys[0]!.wrapped);
  });

  it('does give every key of a release its own nonce, none of them part of the salt', async () => {
    const client = createClientKeyPair();
    const release = await releaseKeys({ clientPublicKey: client.publicKey, audience: 'r', keys: dataKeys(4) });
    // A wrapped key starts with its 12-byte nonce (docs/format.md, key release).
    const nonces = release.keys.map((k) => Buffer.from(k.wrapped, 'base64url').subarray(0, 12).toString('hex'));
    expect(new Set(nonces).size).toBe(4);
    const salt = Buffer.from(release.salt, 'base64url').toString('hex');
    for (const n of nonces) expect(salt.includes(n)).toBe(false);
  });
  it('does answer many concurrent releases, each for its own client (agreement on the worker thread)', async () => {
    const clients = Array.from({ length: 40 }, () => createClientKeyPair());
    const keys = clients.map(() => dataKeys(1));
    const releases = await Promise.all(clients.map((c, i) => releaseKeys({ clientPublicKey: c.publicKey, audience: `r-${i}`, keys: keys[i]! })));
    releases.forEach((r, i) => expect(openKeyRelease(clients[i]!, r).get(keys[i]![0]!.objectId)?.dataKey).toEqual(keys[i]![0]!.dataKey));
  });

  it('does fail the agreements in flight when its worker stops, and start a new worker for the next', async () => {
    const worker = new KeyAgreementWorker();
    const peer = fromBase64Url(createClientKeyPair().publicKey);
    await expect(worker.agree(peer)).resolves.toMatchObject({ publicKey: expect.any(Buffer) });
    // 50 queued take the worker milliseconds; it is stopped at once, so the last ones are still in flight.
    const inFlight = Array.from({ length: 50 }, () => worker.agree(peer));
    await worker.close();
    const settled = await Promise.allSettled(inFlight);
    expect(settled.at(-1)).toMatchObject({ status: 'rejected', reason: expect.objectContaining({ message: expect.stringMatching(/key agreement worker exited/) }) });
    for (const r of settled) if (r.status === 'fulfilled') expect(r.value.secret).toHaveLength(32);
    const again = await worker.agree(peer);
    expect(again.secret).toHaveLength(32);
    await worker.close();
  });
});
