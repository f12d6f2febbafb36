// What the lookalike check compares, kept per address id in flat typed arrays. The model fills
// it as addresses are first seen (and as display names change), so a pre-send check scans a big
// sender's thousands of contacts by reading integers instead of reaching one object per contact
// scattered over a large heap: that first, cold scan was the tail of the check's latency
// (docs/prevent.md, "Which drafts make the tail"). The strings (skeletons, local parts, domains,
// full names, canonical forms) are interned to ids, so equality is an integer comparison and
// only near-miss spellings compare text.
import { addressParts, charMask, codePointLength, nameTokens, skeleton } from './text.ts';

/** A full name is two or more words ('' otherwise): "Sarah" alone is shared by too many people to mean anything. */
export function fullNameKey(name: string | undefined): string {
  const t = nameTokens(name ?? '');
  return t.length >= 2 ? t.join(' ') : '';
}

/** Derived forms of every interned address; -1 marks "none" (an erased address, no full name). */
export class AddressFormsTable {
  private readonly ids = new Map<string, number>();
  private readonly strings: string[] = [];
  private capacity = 0;
  canonical = new Int32Array(0);
  skeleton = new Int32Array(0);
  local = new Int32Array(0);
  domain = new Int32Array(0);
  name = new Int32Array(0);
  localLength = new Int32Array(0);
  domainLength = new Int32Array(0);
  localMask = new Int32Array(0);
  domainMask = new Int32Array(0);

  /** The id of an interned string; -1 when no address has it (so nothing can match it). */
  idOf(s: string): number {
    return this.ids.get(s) ?? -1;
  }

  /** The string behind an id. */
  text(id: number): string {
    return this.strings[id]!;
  }

  /** Derives and stores the forms of address `id`. */
  set(id: number, address: string): void {
    this.grow(id + 1);
    const p = addressParts(address);
    this.canonical[id] = this.intern(p.canonical);
    this.skeleton[id] = this.intern(skeleton(`${p.local}@${p.domain}`));
    this.local[id] = this.intern(p.local);
    this.domain[id] = this.intern(p.domain);
    this.localLength[id] = codePointLength(p.local);
    this.domainLength[id] = codePointLength(p.domain);
    this.localMask[id] = charMask(p.local);
    this.domainMask[id] = charMask(p.domain);
    this.name[id] = -1;
  }

  /** Records the display name last seen for address `id`. */
  setName(id: number, name: string): void {
    const key = fullNameKey(name);
    this.name[id] = key ? this.intern(key) : -1;
  }

  /** Erasure: the address matches nothing any more (its strings stay interned, unused by it). */
  clear(id: number): void {
    if (id >= this.capacity) return;
    for (const column of [this.canonical, this.skeleton, this.local, this.domain, this.name]) column[id] = -1;
  }

  private intern(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.ids.set(s, id);
      this.strings.push(s);
    }
    return id;
  }

  private grow(size: number): void {
    if (size <= this.capacity) return;
    const capacity = Math.max(size, this.capacity * 2, 1024);
    const widen = (a: Int32Array, fill: number) => {
      const b = new Int32Array(capacity).fill(fill);
      b.set(a);
      return b;
    };
    this.canonical = widen(this.canonical, -1);
    this.skeleton = widen(this.skeleton, -1);
    this.local = widen(this.local, -1);
    this.domain = widen(this.domain, -1);
    this.name = widen(this.name, -1);
    this.localLength = widen(this.localLength, 0);
    this.domainLength = widen(this.domainLength, 0);
    this.localMask = widen(this.localMask, 0);
    this.domainMask = widen(this.domainMask, 0);
    this.capacity = capacity;
  }
}
