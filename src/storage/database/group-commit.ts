// Group commit: many concurrent callers' small writes of the same kind go to the database as one
// statement or transaction instead of one each.
//
// Items are queued per key. When a key is idle an item goes out at once, alone: batching adds
// no wait, it only forms while an earlier flush of that key is under way (under load, every
// caller that arrives meanwhile joins the next flush). Flushes of one key never overlap and run
// in arrival order; different keys flush independently. Each caller's promise settles once its
// item's flush has settled it. Used for the audit chain's appends (audit.batch.ts) and for
// writes that record something already done, such as a recipient's opened time.

/** One queued item and how to answer its caller. */
export interface Queued<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

/**
 * Writes one batch. It must settle every entry (resolve or reject each); entries it leaves
 * unsettled are rejected with the error it throws, or with an internal error if it returns.
 */
export type FlushBatch<T, R> = (key: string, batch: Queued<T, R>[]) => Promise<void>;

/** Queues items per key and flushes each key's waiting items together (at most `maxBatch` at a time). */
export class GroupCommit<T, R> {
  private readonly queues = new Map<string, Queued<T, R>[]>();

  constructor(
    private readonly flush: FlushBatch<T, R>,
    private readonly maxBatch: number,
  ) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new TypeError('maxBatch must be a positive integer');
  }

  /** Queues one item under `key`; resolves with what its flush answered. */
  add(key: string, item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(key);
      if (queue) {
        queue.push({ item, resolve, reject });
        return;
      }
      const fresh = [{ item, resolve, reject }];
      this.queues.set(key, fresh);
      void this.drain(key, fresh);
    });
  }

  /** Flushes what is queued for `key`, batch after batch, until the queue is empty. */
  private async drain(key: string, queue: Queued<T, R>[]): Promise<void> {
    try {
      while (queue.length > 0) {
        const pending = queue.splice(0, this.maxBatch);
        const settled = new Set<Queued<T, R>>();
        const batch = pending.map((q) => ({
          item: q.item,
          resolve: (r: R) => (settled.add(q), q.resolve(r)),
          reject: (e: unknown) => (settled.add(q), q.reject(e)),
        }));
        let failure: unknown = new Error('group commit: the flush left an item unanswered');
        try {
          await this.flush(key, batch);
        } catch (err) {
          failure = err;
        }
        pending.forEach((q) => settled.has(q) || q.reject(failure));
      }
    } finally {
      this.queues.delete(key);
    }
  }
}
