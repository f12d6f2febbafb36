// One tenant's learned model ("Smart Data"): counts kept up to date on every send and receipt,
// and a small logistic regression over the features in features.ts that turns them into the
// risk that a recipient is misaddressed. One instance holds one tenant and shares nothing with
// any other instance, so nothing learned in one tenant can reach another.
//
// Learning is self-supervised and prequential: the retained messages are replayed oldest
// first, and before a sampled message is added to the counts it is scored as it would have been
// when sent — once as sent, once with one simulated slip (a contact whose address starts like a
// true recipient's, or an address the sender never dealt with). The regression is fitted on
// those, and the warning threshold is set on the newest tenth of the replay, so that about
// `falseWarnRate` of clean messages there would have warned.
import type { ContactIndex, ContactStats, Draft, Observation, SmartView, Warning } from '../prevent.model.ts';
import { type Candidate, DIMS, FEATURES, featureRows, bestRival } from './features.ts';
import { ThresholdEncoder } from './encoding.ts';
import { fitLogistic, sigmoid, type TrainingSet } from './logistic.ts';
import { Interner, SmartData, pairKey, type StoredMessage, type UserData } from './smart-data.ts';
import { conversationKey, topicTokens } from './text.ts';

/** Settings of a tenant's model; the defaults are the product's, not tuned per tenant. */
export interface SmartModelOptions {
  /** The tenant's own domains (isInternal). */
  tenantDomains?: readonly string[];
  /** Half-life of the "recent share" of a contact, in days. */
  halfLifeDays?: number;
  /** Share of clean messages that may warn, measured on the newest tenth of history. */
  falseWarnRate?: number;
  /** Messages sampled for training (bounds the fitting cost on large tenants). */
  maxTrainingMessages?: number;
  /** Seed of the training sample and simulated slips (same history + seed → same model). */
  seed?: number;
}

/** A recipient's risk of being misaddressed, in [0, 1]. */
export interface RecipientRisk {
  address: string;
  risk: number;
}

/** A likely recipient the draft lacks, with the evidence for it. */
export interface MissingRecipient {
  address: string;
  /** Share of comparable past messages that included the address. */
  share: number;
  /** How many comparable past messages there were. */
  support: number;
}

/** What the last fit learned, for reports and docs. */
export interface FitSummary {
  trainingMessages: number;
  trainingRows: number;
  calibrationMessages: number;
  warnThreshold: number;
  weights: Record<string, number>;
}

/**
 * Weights used before any history is fitted, and what the fit is pulled towards (with little
 * history they dominate; with thousands of messages the data does). Read as: never having
 * exchanged mail is risky; mailing someone often, with these co-recipients, in this
 * conversation or on this topic is reassuring.
 */
const PRIOR: Record<(typeof FEATURES)[number], number> = {
  bias: -1, log_sent: -0.6, log_received: -0.3, never_sent: 0.5, never_exchanged: 2, recent_share: -0.2,
  log_days_since: 0.2, single_recipient: 0, co_recipient_max: -1, co_recipient_mean: -1, tenant_co_max: -0.5,
  tenant_co_mean: -0.5, conversation_known: 0, in_conversation: -1.5, topic_sender: -1, topic_tenant: -0.5,
  topic_unknown: 0, rival_familiarity: 0.3, relative_sent: -0.3, external: 0.3, domain_known: -0.3,
  log_tenant_activity: 0, log_sender_volume: 0, sent_once: 0, no_co_recipient: 0, no_tenant_co: 0,
  unknown_to_tenant: 0, co_below_others: 0, rival_on_draft: 0, topic_sender_max: 0, log_conversation_messages: 0,
};
const PRIOR_WEIGHTS = FEATURES.map((f) => PRIOR[f]);
const DEFAULT_THRESHOLD = 0.5;
/** Strength of the pull towards the prior, in training rows. */
const PRIOR_STRENGTH = 5;
/**
 * Training uses messages whose sender had already sent this many: the model is fitted on the
 * situation it mostly serves (an established mailbox); newer senders get the same weights.
 */
const MIN_SENDER_HISTORY = 10;
/** Below this many training messages the prior is used as is (too little to learn weights from)… */
const MIN_TRAINING_MESSAGES = 200;
/** …and below this many calibration messages, the default threshold. */
const MIN_CALIBRATION_MESSAGES = 20;
/** Share of slips that are an address the sender never dealt with (the rest are near misses). */
const UNSEEN_SLIP_SHARE = 0.1;

// Missing-recipient rule: someone on at least this share of at least MIN_SUPPORT comparable messages.
const MISSING_SHARE = 0.75;
const MISSING_MIN_SUPPORT = 3;
const MISSING_LOOKBACK = 200;

const normalise = (a: string) => a.trim().toLowerCase();

/** One tenant's Smart Data model. */
export class SmartModel implements SmartView {
  private readonly names = new Interner();
  private readonly excluded = new Set<string>();
  private readonly tenantDomains: ReadonlySet<string>;
  private readonly halfLifeMs: number;
  private readonly falseWarnRate: number;
  private readonly maxTraining: number;
  private readonly seed: number;
  private log: StoredMessage[] = [];
  private data: SmartData;
  private weights: number[] = [...PRIOR_WEIGHTS];
  private threshold = DEFAULT_THRESHOLD;
  private encoder = ThresholdEncoder.identity(DIMS);
  private scratch = new Float64Array(DIMS);
  private summary: FitSummary | undefined;

  constructor(options: SmartModelOptions = {}) {
    this.tenantDomains = new Set((options.tenantDomains ?? []).map(normalise));
    this.halfLifeMs = (options.halfLifeDays ?? 60) * 86_400_000;
    this.falseWarnRate = options.falseWarnRate ?? 0.025;
    this.maxTraining = options.maxTrainingMessages ?? 15_000;
    this.seed = options.seed ?? 1;
    this.data = this.emptyData();
  }

  /** Builds a model from history in one replay (counts, training and calibration together). */
  static fromHistory(history: Iterable<Observation>, options: SmartModelOptions = {}): SmartModel {
    const model = new SmartModel(options);
    for (const o of history) model.retain(o);
    model.fit();
    return model;
  }

  /** Learns from one sent or received message. Counts change at once; weights at the next fit(). */
  observe(o: Observation): void {
    const m = this.retain(o);
    if (m) this.data.add(m);
  }

  /**
   * Rebuilds every count from the retained messages and refits the weights and the warning
   * threshold. forget() and pruneBefore() call it, so nothing derived from dropped data survives.
   */
  fit(): FitSummary {
    this.log.sort((a, b) => a.at - b.at);
    const data = this.emptyData();
    const rng = mulberry32(this.seed);
    const sample = Math.min(1, this.maxTraining / Math.max(1, this.log.length));
    const calibrateFrom = this.log.length ? this.log[Math.floor(0.9 * (this.log.length - 1))]!.at : 0;
    const raw: number[][] = [];
    const labels: number[] = [];
    const calibration: number[][][] = [];
    const seen: number[] = [];
    const seenSet = new Set<number>();
    let trainingMessages = 0;
    for (const m of this.log) {
      if (rng() < sample) {
        const rows = this.simulate(data, m, rng, seen);
        if (rows) {
          trainingMessages++;
          for (const row of rows.clean) { raw.push(row); labels.push(0); }
          rows.slipped.forEach((row, i) => { raw.push(row); labels.push(i === rows.slipAt ? 1 : 0); });
          if (m.at >= calibrateFrom) calibration.push(rows.clean);
        }
      }
      data.add(m);
      for (const a of [m.from, ...m.rcpts]) if (!seenSet.has(a)) { seenSet.add(a); seen.push(a); }
    }
    this.data = data;
    this.encoder = raw.length ? ThresholdEncoder.fit(raw, DIMS) : ThresholdEncoder.identity(DIMS);
    const prior = [...PRIOR_WEIGHTS, ...new Array<number>(this.encoder.dims - DIMS).fill(0)];
    const dims = this.encoder.dims;
    const train: TrainingSet = { dims, x: new Float64Array(raw.length * dims), y: Uint8Array.from(labels) };
    raw.forEach((r, i) => this.encoder.encodeInto(r, train.x, i * dims));
    this.scratch = new Float64Array(dims);
    const enough = trainingMessages >= MIN_TRAINING_MESSAGES;
    this.weights = enough ? fitLogistic(train, prior, PRIOR_STRENGTH) : prior;
    const tops = calibration.map((rows) => Math.max(...rows.map((x) => this.riskOf(x)))).sort((a, b) => a - b);
    this.threshold = enough && tops.length >= MIN_CALIBRATION_MESSAGES ? tops[Math.min(tops.length - 1, Math.floor((1 - this.falseWarnRate) * tops.length))]! : DEFAULT_THRESHOLD;
    this.summary = {
      trainingMessages,
      trainingRows: labels.length,
      calibrationMessages: tops.length,
      warnThreshold: this.threshold,
      weights: Object.fromEntries(FEATURES.map((f, i) => [f, this.weights[i]!])),
    };
    return this.summary;
  }

  /** Subject erasure: drops everything learned from and about `address`, now and in future. */
  forget(address: string): void {
    const a = normalise(address);
    this.excluded.add(a);
    const id = this.names.addressIds.get(a);
    if (id !== undefined) {
      this.log = this.log.flatMap((m) => {
        if (m.from === id) return [];
        if (!m.rcpts.includes(id)) return [m];
        const rcpts = m.rcpts.filter((r) => r !== id);
        return rcpts.length ? [{ ...m, rcpts }] : [];
      });
      this.names.erase(a);
    }
    this.fit();
  }

  /** Retention: drops every message older than `date` and everything derived from them. */
  pruneBefore(date: Date): void {
    const t = date.getTime();
    this.log = this.log.filter((m) => m.at >= t);
    this.fit();
  }

  /** Messages retained (metadata only). */
  get retainedMessages(): number {
    return this.log.length;
  }

  /** Risk above which a recipient is warned about (default nudge policy). */
  get warnThreshold(): number {
    return this.threshold;
  }

  /** What the last fit learned; undefined before the first fit. */
  get fitSummary(): FitSummary | undefined {
    return this.summary;
  }

  /** Each distinct recipient of the draft with its risk of being misaddressed, in draft order. */
  scoreRecipients(draft: Draft): RecipientRisk[] {
    const { rcpts, ctx } = this.draftContext(draft);
    const from = normalise(draft.from);
    // Copying oneself is never a misaddressed send.
    return featureRows(this.data, rcpts, ctx).map((x, i) => ({ address: rcpts[i]!.address, risk: rcpts[i]!.address === from ? 0 : this.riskOf(x) }));
  }

  /**
   * The learned checks: unusual recipients (risk above the threshold) and missing recipients.
   * Pass `risks` from scoreRecipients(draft) when you have them, to score only once.
   */
  learnedWarnings(draft: Draft, risks: RecipientRisk[] = this.scoreRecipients(draft)): Warning[] {
    const out: Warning[] = [];
    for (const { address, risk } of risks) {
      if (risk > this.threshold) out.push(this.unusualWarning(draft, address, risk));
    }
    for (const m of this.missingRecipients(draft)) {
      out.push({
        check: 'missing_recipient',
        severity: 'info',
        recipients: [m.address],
        reason: `You usually include ${m.address} when you email ${listNames(draft.recipients.map((r) => normalise(r.address)))}${m.support ? ` (${Math.round(m.share * m.support)} of your last ${m.support} such messages)` : ''}.`,
        fixes: [{ kind: 'add_recipient', address: m.address }],
      });
    }
    return out;
  }

  /** People on most of the sender's past messages to exactly these recipients on this topic. */
  missingRecipients(draft: Draft): MissingRecipient[] {
    const sender = this.names.addressIds.get(normalise(draft.from));
    const u = sender === undefined ? undefined : this.data.users.get(sender);
    const present = new Set(draft.recipients.map((r) => normalise(r.address)));
    const ids = [...present].map((a) => this.names.addressIds.get(a));
    if (!u || !ids.length || ids.some((id) => id === undefined || !u.postings.has(id))) return [];
    const known = ids as number[];
    const knownSet = new Set(known);
    const rarest = known.reduce((a, b) => (u.postings.get(a)!.length <= u.postings.get(b)!.length ? a : b));
    // A message has all the draft's recipients when it has as many of them as there are (both are distinct).
    const hasAll = (m: StoredMessage) => {
      let n = 0;
      for (const r of m.rcpts) if (knownSet.has(r)) n++;
      return n === knownSet.size;
    };
    const matches = u.postings.get(rarest)!.slice(-MISSING_LOOKBACK).map((p) => u.sentLog[p]!).filter(hasAll);
    const { ctx } = this.draftContext(draft);
    const topical = matches.filter((m) => (ctx.conv !== undefined && m.conv === ctx.conv) || m.toks.some((t) => ctx.tokens.includes(t)));
    const base = topical.length >= MISSING_MIN_SUPPORT ? topical : matches;
    if (base.length < MISSING_MIN_SUPPORT) return [];
    const counts = new Map<number, number>();
    for (const m of base) for (const r of m.rcpts) if (!knownSet.has(r)) counts.set(r, (counts.get(r) ?? 0) + 1);
    return [...counts]
      .map(([id, n]) => ({ address: this.names.addresses[id]!, share: n / base.length, support: base.length }))
      .filter((c) => c.share >= MISSING_SHARE && c.address && c.address !== normalise(draft.from) && !present.has(c.address))
      .sort((a, b) => b.share - a.share || a.address.localeCompare(b.address))
      .slice(0, 3);
  }

  // ---- SmartView ------------------------------------------------------------------------------

  contact(sender: string, address: string): ContactStats | undefined {
    return this.data.contact(normalise(sender), normalise(address));
  }

  contacts(sender: string): Iterable<ContactStats> {
    return this.data.contacts(normalise(sender));
  }

  contactIndex(sender: string): ContactIndex | undefined {
    return this.data.contactIndex(normalise(sender));
  }

  domainFirstSeen(domain: string): Date | undefined {
    return this.data.domainFirstSeen(domain);
  }

  isInternal(address: string): boolean {
    return this.data.isInternal(address);
  }

  // ---- internals ------------------------------------------------------------------------------

  private emptyData(): SmartData {
    return new SmartData(this.names, this.halfLifeMs, this.tenantDomains);
  }

  private riskOf(raw: number[]): number {
    const x = this.scratch;
    this.encoder.encodeInto(raw, x);
    let z = 0;
    for (let j = 0; j < x.length; j++) z += this.weights[j]! * x[j]!;
    return sigmoid(z);
  }

  /** Normalises and keeps a message's metadata (never its body); null when nothing is learnable. */
  private retain(o: Observation): StoredMessage | null {
    const from = normalise(o.from);
    const at = o.at instanceof Date ? o.at.getTime() : NaN;
    if (!Number.isFinite(at)) throw new TypeError(`observation ${o.id}: "at" must be a valid date`);
    if (!from || this.excluded.has(from)) return null;
    const rcpts = [...new Set([...o.to, ...o.cc, ...o.bcc].map(normalise))].filter((a) => a && a !== from && !this.excluded.has(a));
    if (!rcpts.length) return null;
    for (const [a, name] of Object.entries(o.names ?? {})) {
      const id = normalise(a);
      if (name && (id === from || rcpts.includes(id))) this.names.setName(this.names.address(id), name);
    }
    const conv = conversationKey(o.subject ?? '', o.threadId);
    const m: StoredMessage = {
      at,
      from: this.names.address(from),
      rcpts: rcpts.map((a) => this.names.address(a)),
      toks: topicTokens(o.subject ?? '').map((t) => this.names.token(t)),
      conv: conv === null ? -1 : this.names.token(conv),
    };
    this.log.push(m);
    return m;
  }

  /** The draft as the features see it. Never interns: a draft's new addresses are not learned. */
  private draftContext(draft: Draft): { rcpts: Candidate[]; ctx: Parameters<typeof featureRows>[2] } {
    const from = normalise(draft.from);
    const addresses = [...new Set(draft.recipients.map((r) => normalise(r.address)))].filter(Boolean);
    const rcpts = addresses.map((address) => ({ address, id: this.names.addressIds.get(address) }));
    const conv = conversationKey(draft.subject ?? '', draft.threadId);
    const tokens = topicTokens(draft.subject ?? '').flatMap((t) => {
      const id = this.names.tokenIds.get(t);
      return id === undefined ? [] : [id];
    });
    return {
      rcpts,
      ctx: {
        sender: this.names.addressIds.get(from),
        tokens,
        conv: conv === null ? undefined : this.names.tokenIds.get(conv),
        at: draft.at.getTime(),
        isInternal: (a) => this.data.isInternal(a),
      },
    };
  }

  /**
   * Feature rows for one history message as it was when sent (counts before it), clean and with
   * one simulated slip; null when the sender had no other contact to slip to.
   */
  private simulate(d: SmartData, m: StoredMessage, rng: () => number, seen: number[]) {
    const u = d.users.get(m.from);
    if (!u || u.sent < MIN_SENDER_HISTORY) return null;
    const cur = new Set(m.rcpts);
    const slip = rng() < UNSEEN_SLIP_SHARE ? unseenSlip(u, m, cur, seen, rng) : nearSlip(d, u, m, cur, rng);
    if (slip === undefined) return null;
    const cand = (id: number): Candidate => ({ address: this.names.addresses[id]!, id });
    const ctx = { sender: m.from, tokens: m.toks, conv: m.conv >= 0 ? m.conv : undefined, at: m.at, isInternal: (a: string) => d.isInternal(a) };
    const clean = featureRows(d, m.rcpts.map(cand), ctx);
    const slipAt = Math.floor(rng() * (m.rcpts.length + 1));
    const withSlip = [...m.rcpts];
    withSlip.splice(slipAt, 0, slip);
    return { clean, slipped: featureRows(d, withSlip.map(cand), ctx), slipAt };
  }

  private unusualWarning(draft: Draft, address: string, risk: number): Warning {
    const from = normalise(draft.from);
    const c = this.contact(from, address);
    const senderId = this.names.addressIds.get(from);
    const u = senderId === undefined ? undefined : this.data.users.get(senderId);
    const rival = bestRival(this.data, u, { address, id: this.names.addressIds.get(address) });
    const rivalStats = rival && rival.familiarity > (c ? c.sent + c.received : 0) ? this.contact(from, this.names.addresses[rival.id]!) : undefined;
    const onDraft = new Set(draft.recipients.map((r) => normalise(r.address)));
    const suggest = rivalStats && !onDraft.has(rivalStats.address) ? rivalStats : undefined;
    let reason: string;
    if (!c) reason = `You have never emailed ${address}`;
    else if (c.sent === 0) reason = `You have never emailed ${address} (they wrote to you ${times(c.received)}, last on ${day(c.lastAt)})`;
    else reason = `You rarely email ${address} (${times(c.sent)}, last on ${day(c.lastAt)})`;
    if (c && draft.recipients.length > 1 && !this.usuallyTogether(u, address, draft)) reason += ' and never together with the other recipients';
    reason += suggest ? `; you often email ${suggest.address}.` : '.';
    return {
      check: 'unusual_recipient',
      severity: !c && !this.isInternal(address) ? 'critical' : 'warning',
      recipients: [address],
      reason,
      fixes: [{ kind: 'remove_recipient', address }, ...(suggest ? [{ kind: 'replace_recipient' as const, address, replacement: suggest.address }] : [])],
      risk,
    };
  }

  /** Whether the sender ever had `address` on a message with any other draft recipient. */
  private usuallyTogether(u: UserData | undefined, address: string, draft: Draft): boolean {
    const id = this.names.addressIds.get(address);
    if (!u || id === undefined) return false;
    for (const r of draft.recipients) {
      const o = this.names.addressIds.get(normalise(r.address));
      if (o === undefined || o === id) continue;
      if ((u.co.get(pairKey(o, id)) ?? 0) > 0) return true;
    }
    return false;
  }
}


/** A contact of the sender whose address starts like a true recipient's (3, else 2, 1, any). */
function nearSlip(d: SmartData, u: UserData, m: StoredMessage, cur: Set<number>, rng: () => number): number | undefined {
  const book = [...u.contacts.keys()].filter((a) => !cur.has(a) && a !== m.from);
  if (!book.length) return undefined;
  const target = d.names.addresses[m.rcpts[Math.floor(rng() * m.rcpts.length)]!]!;
  for (const k of [3, 2, 1]) {
    const near = book.filter((a) => d.names.addresses[a]!.slice(0, k) === target.slice(0, k));
    if (near.length) return near[Math.floor(rng() * near.length)];
  }
  return book[Math.floor(rng() * book.length)];
}

/** An address known to the tenant that the sender never exchanged mail with. */
function unseenSlip(u: UserData, m: StoredMessage, cur: Set<number>, seen: number[], rng: () => number): number | undefined {
  for (let i = 0; i < 64 && seen.length; i++) {
    const a = seen[Math.floor(rng() * seen.length)]!;
    if (a !== m.from && !cur.has(a) && !u.contacts.has(a)) return a;
  }
  return undefined;
}

/** mulberry32: small deterministic PRNG, so the same history and seed give the same model. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const times = (n: number) => (n === 1 ? 'once' : `${n} times`);
const day = (d: Date) => d.toISOString().slice(0, 10);
const listNames = (a: string[]) => (a.length <= 2 ? a.join(' and ') : `${a.slice(0, 2).join(', ')} and ${a.length - 2} more`);
