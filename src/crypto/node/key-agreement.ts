// The server's side of a key release's P-256 agreement (docs/format.md, key release) on a
// worker thread: a fresh ephemeral key pair and the ECDH secret with the client's key. ECDH is
// most of a release's CPU (≈ 0.1 ms in Node 20, against ≈ 0.02 ms to hand it to the worker and
// back), and every release needs one: on the main thread it took a fifth of the server's busy
// time under bench:api load. One worker is enough (it does thousands a second); it starts on
// first use, does not keep the process alive, and is replaced if it dies (its jobs fail).
import { Worker } from 'node:worker_threads';
import { KeyReleaseError } from '../format/key-release.ts';

const WORKER_URL = new URL('./key-agreement-worker.js', import.meta.url);

type Answer = { id: number; ok: true; publicKey: Uint8Array; secret: Uint8Array } | { id: number; ok: false; failure: 'invalid_public_key' | 'error'; message?: string };

interface Pending {
  resolve: (r: { publicKey: Buffer; secret: Buffer }) => void;
  reject: (err: Error) => void;
}

/** Runs P-256 agreements on one worker thread. */
export class KeyAgreementWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  /** A fresh ephemeral key pair's public key and its ECDH secret with `peer`; zero `secret` after use. */
  agree(peer: Uint8Array): Promise<{ publicKey: Buffer; secret: Buffer }> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ id, peer });
    });
  }

  /** Stops the worker (tests); pending agreements fail. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private start(): Worker {
    const worker = new Worker(WORKER_URL, { execArgv: [] });
    worker.unref();
    worker.on('message', (a: Answer) => {
      const p = this.pending.get(a.id);
      if (!p) return;
      this.pending.delete(a.id);
      if (this.pending.size === 0) worker.unref();
      if (a.ok) p.resolve({ publicKey: Buffer.from(a.publicKey), secret: Buffer.from(a.secret.buffer, a.secret.byteOffset, a.secret.byteLength) });
      else if (a.failure === 'invalid_public_key') p.reject(new KeyReleaseError('invalid_public_key', 'the public key is not a valid P-256 point'));
      else p.reject(new Error(`key agreement failed: ${a.message ?? 'unknown error'}`));
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', (err) => fail(new Error(`key agreement worker failed: ${err.message}`)));
    worker.on('exit', (code) => fail(new Error(`key agreement worker exited (${code})`)));
    this.worker = worker;
    return worker;
  }
}

/** The process's key-agreement worker. */
export const keyAgreement = new KeyAgreementWorker();
