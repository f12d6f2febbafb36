// The counts a tenant's model keeps (its "Smart Data"): per user, their contacts with sent and
// received counts and recency, which of their recipients they address together, and a topic
// profile per contact; per tenant, who appears together on messages, conversations and their
// members, per-address topic profiles and when each domain was first seen. Everything is
// updated in O(recipients² + recipients·tokens) per message, so observing stays well under 1 ms.
import { AddressFormsTable } from '../checks/address-forms.ts';
import type { ContactIndex, ContactStats, SmartView } from '../prevent.model.ts';
import { domainOf } from './text.ts';

/** A retained message in compact form: interned address and token ids, no body, no raw subject. */
export interface StoredMessage {
  at: number;
  from: number;
  /** Distinct recipients (to, then cc, then bcc), sender excluded. */
  rcpts: number[];
  toks: number[];
  /** Interned conversation key ({@link conversationKey}); -1: none. */
  conv: number;
}

/** Interned addresses and tokens; survives rebuilds so retained messages can stay compact. */
export class Interner {
  readonly addressIds = new Map<string, number>();
  readonly addresses: string[] = [];
  readonly tokenIds = new Map<string, number>();
  readonly tokens: string[] = [];
  /** Display names last seen per address id. */
  readonly names = new Map<number, string>();
  /** What the lookalike check compares, per address id (filled as addresses are first seen). */
  readonly forms = new AddressFormsTable();

  address(a: string): number {
    let id = this.addressIds.get(a);
    if (id === undefined) {
      id = this.addresses.length;
      this.addressIds.set(a, id);
      this.addresses.push(a);
      this.forms.set(id, a);
    }
    return id;
  }

  /** Records the display name last seen for an address id. */
  setName(id: number, name: string): void {
    this.names.set(id, name);
    this.forms.setName(id, name);
  }

  token(t: string): number {
    let id = this.tokenIds.get(t);
    if (id === undefined) {
      id = this.tokens.length;
      this.tokenIds.set(t, id);
      this.tokens.push(t);
    }
    return id;
  }

  /** Erasure: the address string and name are dropped; the id stays as an unused tombstone. */
  erase(a: string): void {
    const id = this.addressIds.get(a);
    if (id === undefined) return;
    this.addressIds.delete(a);
    this.addresses[id] = '';
    this.names.delete(id);
    this.forms.clear(id);
  }
}

/** What one user has exchanged with one contact. `sentD` decays with the model's half-life. */
export interface Contact {
  sent: number;
  recv: number;
  sentD: number;
  decayAt: number;
  firstAt: number;
  lastAt: number;
}

/** One user's side of the tenant's mail. */
export interface UserData {
  sent: number;
  recv: number;
  sentD: number;
  decayAt: number;
  contacts: Map<number, Contact>;
  /** Domain → contacts at that domain. */
  domains: Map<string, number>;
  /** Contacts by the first three characters of their address (for "did you mean" rivals). */
  byPrefix: Map<string, number[]>;
  /** Pair of recipients → messages this user sent to both. */
  co: Map<number, number>;
  /** topicKey(contact, token) → messages exchanged with that contact carrying the token. */
  topic: Map<number, number>;
  /** Token → messages this user sent or received carrying it. */
  tokens: Map<number, number>;
  /** Messages this user sent, oldest first, and per recipient the positions in that list. */
  sentLog: StoredMessage[];
  postings: Map<number, number[]>;
}

/** Conversation (thread id, or subject without reply prefixes) → its members. */
export interface Conversation {
  members: Map<number, number>;
  lastAt: number;
}

const PAIR = 2 ** 26;
/** Key of an unordered pair of ids (ids stay below 2^26, so the key is exact). */
export const pairKey = (a: number, b: number): number => (a < b ? a * PAIR + b : b * PAIR + a);
// One flat map per user rather than a map per contact: far fewer objects on big tenants.
const TOKENS = 2 ** 24;
/** Key of a (contact, token) pair in a user's topic profile (exact below 2^26 × 2^24). */
export const topicKey = (contact: number, token: number): number => contact * TOKENS + (token % TOKENS);
/** Cap on participants counted pairwise per message, so one huge distribution list costs O(1). */
const MAX_PAIR_PARTICIPANTS = 25;

/** Counts for one tenant. Built by replaying retained messages; read through {@link SmartView}. */
export class SmartData implements SmartView {
  readonly users = new Map<number, UserData>();
  /** Messages each address took part in (as sender or recipient). */
  readonly part = new Map<number, number>();
  /** Pair of addresses → messages both took part in. */
  readonly coT = new Map<number, number>();
  /** Token → messages carrying it; address → token → messages it took part in carrying it. */
  readonly tokenT = new Map<number, number>();
  readonly topicT = new Map<number, Map<number, number>>();
  readonly conversations = new Map<number, Conversation>();
  readonly domains = new Map<string, number>();
  messages = 0;

  constructor(
    readonly names: Interner,
    readonly halfLifeMs: number,
    private readonly tenantDomains: ReadonlySet<string>,
  ) {}

  /** Decay factor for an interval of `ms` (negative intervals: messages arriving out of order). */
  decay(ms: number): number {
    return Math.pow(0.5, ms / this.halfLifeMs);
  }

  user(id: number): UserData {
    let u = this.users.get(id);
    if (!u) {
      u = { sent: 0, recv: 0, sentD: 0, decayAt: 0, contacts: new Map(), byPrefix: new Map(), domains: new Map(), co: new Map(), topic: new Map(), tokens: new Map(), sentLog: [], postings: new Map() };
      this.users.set(id, u);
    }
    return u;
  }

  private contactOf(u: UserData, id: number, at: number): Contact {
    let c = u.contacts.get(id);
    if (!c) {
      c = { sent: 0, recv: 0, sentD: 0, decayAt: at, firstAt: at, lastAt: at };
      u.contacts.set(id, c);
      const address = this.names.addresses[id]!;
      inc(u.domains, domainOf(address));
      const p = address.slice(0, 3);
      const list = u.byPrefix.get(p);
      if (list) list.push(id);
      else u.byPrefix.set(p, [id]);
    }
    if (at < c.firstAt) c.firstAt = at;
    if (at > c.lastAt) c.lastAt = at;
    return c;
  }

  /** Adds one message to every count. */
  add(m: StoredMessage): void {
    const at = m.at;
    this.messages++;
    const s = this.user(m.from);
    s.sent++;
    s.sentD = s.sentD * this.decay(at - s.decayAt) + 1;
    s.decayAt = Math.max(at, s.decayAt);
    const pos = s.sentLog.length;
    s.sentLog.push(m);
    for (const r of m.rcpts) {
      const c = this.contactOf(s, r, at);
      c.sent++;
      c.sentD = c.sentD * this.decay(at - c.decayAt) + 1;
      c.decayAt = Math.max(at, c.decayAt);
      const p = s.postings.get(r);
      if (p) p.push(pos);
      else s.postings.set(r, [pos]);
      const ru = this.user(r);
      ru.recv++;
      this.contactOf(ru, m.from, at).recv++;
      for (const t of m.toks) inc(ru.tokens, t);
      addTopic(ru, m.from, m.toks);
      addTopic(s, r, m.toks);
    }
    for (const t of m.toks) s.tokens.set(t, (s.tokens.get(t) ?? 0) + 1);
    const rc = Math.min(m.rcpts.length, MAX_PAIR_PARTICIPANTS);
    for (let i = 0; i < rc; i++) for (let j = i + 1; j < rc; j++) inc(s.co, pairKey(m.rcpts[i]!, m.rcpts[j]!));

    // Tenant-wide: everyone on the message, sender included.
    const all = [m.from, ...m.rcpts];
    const pc = Math.min(all.length, MAX_PAIR_PARTICIPANTS);
    for (let i = 0; i < pc; i++) for (let j = i + 1; j < pc; j++) inc(this.coT, pairKey(all[i]!, all[j]!));
    for (const t of m.toks) inc(this.tokenT, t);
    for (const a of all) {
      inc(this.part, a);
      if (m.toks.length) {
        let prof = this.topicT.get(a);
        if (!prof) this.topicT.set(a, (prof = new Map()));
        for (const t of m.toks) inc(prof, t);
      }
      const d = domainOf(this.names.addresses[a]!);
      const first = this.domains.get(d);
      if (first === undefined || at < first) this.domains.set(d, at);
    }
    if (m.conv >= 0) {
      let c = this.conversations.get(m.conv);
      if (!c) this.conversations.set(m.conv, (c = { members: new Map(), lastAt: at }));
      c.lastAt = Math.max(c.lastAt, at);
      for (const a of all) inc(c.members, a);
    }
  }

  /** The sender's decayed sent count with a contact, as of `at`. */
  sentDecayed(u: UserData, c: Contact | undefined, at: number): number {
    return c ? c.sentD * this.decay(at - c.decayAt) : 0;
  }

  // ---- SmartView ------------------------------------------------------------------------------

  contact(sender: string, address: string): ContactStats | undefined {
    const s = this.names.addressIds.get(sender);
    const a = this.names.addressIds.get(address);
    if (s === undefined || a === undefined) return undefined;
    const c = this.users.get(s)?.contacts.get(a);
    return c ? this.stats(a, c) : undefined;
  }

  *contacts(sender: string): Iterable<ContactStats> {
    const s = this.names.addressIds.get(sender);
    const u = s === undefined ? undefined : this.users.get(s);
    if (!u) return;
    for (const [a, c] of u.contacts) yield this.stats(a, c);
  }

  contactIndex(sender: string): ContactIndex | undefined {
    const s = this.names.addressIds.get(sender);
    const u = s === undefined ? undefined : this.users.get(s);
    if (!u) return undefined;
    return { ids: u.contacts.keys(), forms: this.names.forms, stats: (id) => this.stats(id, u.contacts.get(id)!) };
  }

  domainFirstSeen(domain: string): Date | undefined {
    const t = this.domains.get(domain.toLowerCase());
    return t === undefined ? undefined : new Date(t);
  }

  isInternal(address: string): boolean {
    return this.tenantDomains.has(domainOf(address.toLowerCase()));
  }

  private stats(a: number, c: Contact): ContactStats {
    const address = this.names.addresses[a]!;
    const name = this.names.names.get(a);
    // Built without spreads: the rule checks read every contact of the sender on some drafts.
    return name
      ? { address, name, sent: c.sent, received: c.recv, firstAt: new Date(c.firstAt), lastAt: new Date(c.lastAt) }
      : { address, sent: c.sent, received: c.recv, firstAt: new Date(c.firstAt), lastAt: new Date(c.lastAt) };
  }
}

function inc<K>(m: Map<K, number>, k: K): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

function addTopic(u: UserData, contact: number, toks: number[]): void {
  for (const t of toks) inc(u.topic, topicKey(contact, t));
}
