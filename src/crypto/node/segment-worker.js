// Worker thread of the segment pool (segment-pool.ts): AES-256-GCM on one segment per job.
// Plain JavaScript on purpose: a worker does not inherit the tsx loader of the main thread,
// and it must start the same way under tsx, vitest and bin/sealpost.js.
//
// It knows nothing of the sealed-object format. The main thread derives nonce and AAD with
// the shared format code and sends, per job:
//   { id, op: 'seal' | 'open', key (32 bytes), nonce (12), aad, input: ArrayBuffer, length, piece }
// `input` is transferred; its first `length` bytes are the plaintext (seal), or the
// ciphertext followed by its 16-byte tag (open). The answer transfers `input` back, for reuse,
// with the result as a list of buffers of their own, in order, each at most `piece` bytes:
//   seal → { id, ok: true, input, output: [ciphertext pieces], tag }
//   open → { id, ok: true, input, output: [plaintext pieces] }
//        | { id, ok: false, input, failure: 'authentication_failed' }
//   anything unexpected → { id, ok: false, failure: 'error', message } (never key or data bytes)
//
// Why pieces: every cipher.update() allocates its output. A 1 MiB output is above glibc's
// mmap threshold, so each one is a fresh mmap whose 256 pages all fault on first write and
// are unmapped again when freed; that cost more CPU than AES-GCM itself (measured on this
// 2-core machine: 1.5 GB/s for one update per 1 MiB segment, 2.6 GB/s in 64 KiB pieces, ~3
// GB/s when malloc keeps big blocks). Pieces are handed over as they are, never copied
// together: the stream pushes them one by one.

import { createCipheriv, createDecipheriv } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

const TAG_LENGTH = 16;

if (!parentPort) throw new Error('segment-worker.js must run as a worker thread');
const port = parentPort;

/** The ArrayBuffer of `bytes`, copied only if `bytes` does not own all of it (not transferable as is). */
function ownBuffer(bytes) {
  if (bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length) return bytes.buffer;
  return new Uint8Array(bytes).buffer;
}

/** Runs `bytes` through `cipher` in pieces of at most `piece` bytes; the outputs in order. */
function updateInPieces(cipher, bytes, piece, pieces) {
  for (let offset = 0; offset < bytes.length; offset += piece) {
    pieces.push(ownBuffer(cipher.update(bytes.subarray(offset, offset + piece))));
  }
  return pieces;
}

function seal(key, nonce, aad, input, length, piece) {
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH });
  key.fill(0); // OpenSSL holds its own copy now
  cipher.setAAD(aad);
  const output = updateInPieces(cipher, new Uint8Array(input, 0, length), piece, []);
  cipher.final(); // GCM: no further output
  return { output, tag: new Uint8Array(cipher.getAuthTag()) };
}

/** Returns null when the tag does not verify; the unauthenticated plaintext is then wiped. */
function open(key, nonce, aad, input, length, piece) {
  const ctLength = length - TAG_LENGTH;
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH });
  key.fill(0);
  decipher.setAAD(aad);
  decipher.setAuthTag(new Uint8Array(input, ctLength, TAG_LENGTH));
  const output = [];
  try {
    // update() returns plaintext before the tag is checked: it leaves this thread only after
    // final() succeeded, otherwise it is overwritten here.
    updateInPieces(decipher, new Uint8Array(input, 0, ctLength), piece, output);
    decipher.final();
  } catch {
    for (const plaintext of output) new Uint8Array(plaintext).fill(0);
    return null;
  }
  return { output };
}

port.on('message', (job) => {
  const { id, op, key, nonce, aad, input, length, piece } = job;
  try {
    if (!(input instanceof ArrayBuffer) || !Number.isSafeInteger(length) || length < 0 || length > input.byteLength) {
      throw new RangeError('segment length does not fit its buffer');
    }
    if (!Number.isSafeInteger(piece) || piece < 1) throw new RangeError('output piece size must be a positive integer');
    let result;
    if (op === 'seal') {
      result = seal(key, nonce, aad, input, length, piece);
    } else if (op === 'open') {
      if (length < TAG_LENGTH) throw new RangeError('sealed segment shorter than its tag');
      result = open(key, nonce, aad, input, length, piece);
      if (!result) {
        port.postMessage({ id, ok: false, failure: 'authentication_failed', input }, [input]);
        return;
      }
    } else {
      throw new TypeError(`unknown segment operation ${String(op)}`);
    }
    port.postMessage({ id, ok: true, input, ...result }, [input, ...result.output]);
  } catch (err) {
    if (key instanceof Uint8Array) key.fill(0);
    port.postMessage({ id, ok: false, failure: 'error', message: err instanceof Error ? err.message : String(err) });
  }
});
