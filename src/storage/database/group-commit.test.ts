import { describe, expect, it } from 'vitest';
import { GroupCommit, type Queued } from './group-commit.ts';

/** A flush that records its batches and can be held open until released. */
function recorder() {
  const batches: Array<{ key: string; items: number[] }> = [];
  let release: () => void = () => undefined;
  let gate: Promise<void> | undefined;
  return {
    batches,
    hold: () => (gate = new Promise<void>((resolve) => (release = resolve))),
    release: () => release(),
    flush: async (key: string, batch: Queued<number, string>[]) => {
      batches.push({ key, items: batch.map((q) => q.item) });
      await gate;
      for (const q of batch) q.resolve(`${key}:${q.item}`);
    },
  };
}

describe('GroupCommit', () => {
  it('does send an item alone at once when its key is idle, and batch those that arrive during a flush, in order', async () => {
    const r = recorder();
    const group = new GroupCommit(r.flush, 100);
    r.hold();
    const first = group.add('a', 0);
    const rest = [1, 2, 3, 4].map((n) => group.add('a', n));
    expect(r.batches).toEqual([{ key: 'a', items: [0] }]);
    r.release();
    await expect(first).resolves.toBe('a:0');
    await expect(Promise.all(rest)).resolves.toEqual(['a:1', 'a:2', 'a:3', 'a:4']);
    expect(r.batches).toEqual([
      { key: 'a', items: [0] },
      { key: 'a', items: [1, 2, 3, 4] },
    ]);
  });

  it('does flush different keys independently and cap a batch at maxBatch', async () => {
    const r = recorder();
    const group = new GroupCommit(r.flush, 2);
    r.hold();
    const all = [group.add('a', 0), group.add('b', 0), group.add('a', 1), group.add('a', 2), group.add('a', 3), group.add('a', 4)];
    expect(r.batches).toEqual([
      { key: 'a', items: [0] },
      { key: 'b', items: [0] },
    ]);
    r.release();
    await Promise.all(all);
    expect(r.batches.filter((b) => b.key === 'a').map((b) => b.items)).toEqual([[0], [1, 2], [3, 4]]);
  });

  it('does reject the items a failed flush left unanswered with its error, keep those it answered, and go on', async () => {
    let calls = 0;
    const group = new GroupCommit<number, number>(async (_key, batch) => {
      calls++;
      if (calls === 1) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        return batch[0]!.resolve(0);
      }
      if (calls === 2) {
        batch[0]!.resolve(batch[0]!.item);
        throw new Error('the database went away');
      }
      for (const q of batch) q.resolve(q.item);
    }, 10);
    const first = group.add('k', 0);
    const second = [group.add('k', 1), group.add('k', 2)];
    await first;
    await expect(second[0]).resolves.toBe(1);
    await expect(second[1]).rejects.toThrow('the database went away');
    await expect(group.add('k', 3)).resolves.toBe(3);
  });

  it('does reject an item that a flush returned without answering', async () => {
    const group = new GroupCommit<number, number>(async () => undefined, 10);
    await expect(group.add('k', 1)).rejects.toThrow('left an item unanswered');
  });

  it('does refuse a batch size that is not a positive integer', () => {
    expect(() => new GroupCommit(async () => undefined, 0)).toThrow('maxBatch must be a positive integer');
  });
});
