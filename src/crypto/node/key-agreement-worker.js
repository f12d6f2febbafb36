// Worker thread of key-agreement.ts: the P-256 part of a key release, off the main thread.
// Plain JavaScript on purpose (as segment-worker.js): a worker does not inherit the tsx loader
// of the main thread, and it must start the same way under tsx, vitest and bin/sealpost.js.
//
// Per job { id, peer (65-byte uncompressed point) } it makes a fresh ephemeral key pair and
// the ECDH shared secret with `peer`, and answers
//   { id, ok: true, publicKey (65 bytes), secret (32 bytes) }
//   | { id, ok: false, failure: 'invalid_public_key' }   (not a point on P-256)
//   | { id, ok: false, failure: 'error', message }        (anything unexpected; never key bytes)
// The ephemeral private key never leaves the worker and is dropped after the job. The main
// thread derives the wrapping key from `secret` with HKDF and zeroes it.

import { createECDH } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

if (!parentPort) throw new Error('key-agreement-worker.js must run as a worker thread');
const port = parentPort;

port.on('message', (job) => {
  try {
    const ecdh = createECDH('prime256v1');
    const publicKey = ecdh.generateKeys();
    let secret;
    try {
      secret = ecdh.computeSecret(job.peer);
    } catch {
      port.postMessage({ id: job.id, ok: false, failure: 'invalid_public_key' });
      return;
    }
    port.postMessage({ id: job.id, ok: true, publicKey, secret });
    secret.fill(0);
  } catch (err) {
    port.postMessage({ id: job.id, ok: false, failure: 'error', message: err instanceof Error ? err.message : String(err) });
  }
});
