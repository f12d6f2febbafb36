// Keeps glibc's malloc from handing large buffers back to the kernel after every use.
//
// Why: Node 20's Cipher.update() allocates every output afresh (and a second, exactly sized
// buffer it copies into). With glibc's defaults, blocks of 128 KiB and more are fresh mmaps,
// and freed memory at the top of a heap is returned to the kernel once more than 128 KiB is
// free; either way the next segment's output lands on pages the kernel must fault in and
// zero again. On this project's 2-core machine a bare loop of 1 MiB `update`s ran at
// 0.45 GB/s per CPU-second with the defaults and 3.4 GB/s once malloc kept its memory
// (`openssl speed` does 4.5): the page faults cost six times the AES-GCM itself. Figures for
// real streams are in docs/development.md (bench:crypto).
//
// How: glibc raises its mmap threshold, and sets the trim threshold to twice that, when a
// block that was mmapped is freed (mallopt(3), "dynamic mmap threshold"; at most 32 MiB on
// 64-bit). So we allocate one 16 MiB block and free it at once: transferring it into a
// message port and closing the receiving port frees it when the port's close event fires,
// without waiting for a garbage collection. Afterwards buffers up to 16 MiB come from the
// heap, and up to 32 MiB of free memory per malloc arena stays mapped for reuse: that is the
// price, a bounded amount of RSS kept for the next large buffer.
//
// glibc skips the adjustment when the operator set any malloc tunable (GLIBC_TUNABLES or the
// MALLOC_*_ environment variables): their choice then stands, and this does nothing. Other C
// libraries (musl) ignore it too. The process is unaffected apart from where memory comes from.

import { MessageChannel } from 'node:worker_threads';

/**
 * The size of the block freed: the new mmap threshold (trim threshold: twice this). 16 MiB
 * is 16 segments of output. With 31 MiB (glibc's maximum) bench:crypto was no faster, kept
 * twice the memory, and once grew its RSS beyond its 64 MiB limit (2026-12-02).
 */
const PRIMER_BYTES = 16 * 1024 * 1024;

let primed: Promise<void> | undefined;

/**
 * Raises glibc's mmap and trim thresholds for the whole process, once (see the file header).
 * Resolves when the primer block has been freed; safe to call any number of times.
 */
export function keepLargeBuffers(): Promise<void> {
  primed ??= new Promise<void>((resolve) => {
    const primer = new ArrayBuffer(PRIMER_BYTES);
    const { port1, port2 } = new MessageChannel();
    // port2 holds the message, and with it the block; closing it frees the block.
    port2.once('close', () => resolve());
    port1.postMessage(primer, [primer]);
    port1.close();
    port2.close();
  });
  return primed;
}
