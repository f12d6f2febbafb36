// The features the learned model scores each recipient of a draft on. Each says, from the
// sender's own history and the tenant's, how expected this recipient is on this message:
// how often and how lately the sender mails them, whether they are usually on mail with the
// other recipients, whether they are in this conversation or its topic, and whether a more
// familiar contact has a similar address (the classic autocomplete slip).
import type { SmartData, UserData } from './smart-data.ts';
import { pairKey, topicKey } from './smart-data.ts';
import { domainOf } from './text.ts';

/** Feature names, in vector order (docs/prevent.md explains each). */
export const FEATURES = [
  'bias',
  'log_sent',
  'log_received',
  'never_sent',
  'never_exchanged',
  'recent_share',
  'log_days_since',
  'single_recipient',
  'co_recipient_max',
  'co_recipient_mean',
  'tenant_co_max',
  'tenant_co_mean',
  'conversation_known',
  'in_conversation',
  'topic_sender',
  'topic_tenant',
  'topic_unknown',
  'rival_familiarity',
  'relative_sent',
  'external',
  'domain_known',
  'log_tenant_activity',
  'log_sender_volume',
  'sent_once',
  'no_co_recipient',
  'no_tenant_co',
  'unknown_to_tenant',
  'co_below_others',
  'rival_on_draft',
  'topic_sender_max',
  'log_conversation_messages',
] as const;

export const DIMS = FEATURES.length;
const DAY = 86_400_000;
const NEVER_DAYS = 3650;

/** A recipient as the model sees it: its address and interned id (undefined: never seen). */
export interface Candidate {
  address: string;
  id: number | undefined;
}

/** What the features need to know about the draft besides its recipients. */
export interface DraftContext {
  sender: number | undefined;
  /** Ids of the subject's tokens that the tenant has seen. */
  tokens: number[];
  /** Interned conversation key; undefined: none or never seen. */
  conv: number | undefined;
  at: number;
  isInternal: (address: string) => boolean;
}

/** One feature vector per recipient, in the order given. */
export function featureRows(d: SmartData, rcpts: readonly Candidate[], ctx: DraftContext): number[][] {
  const u = ctx.sender === undefined ? undefined : d.users.get(ctx.sender);
  const conv = ctx.conv === undefined ? undefined : d.conversations.get(ctx.conv);
  const userSentD = u ? u.sentD * d.decay(ctx.at - u.decayAt) : 0;
  const idf = ctx.tokens.map((t) => Math.log(1 + d.messages / Math.max(1, d.tokenT.get(t) ?? 0)));
  const lsent = rcpts.map((r) => Math.log1p(contactOf(u, r.id)?.sent ?? 0));
  const n = rcpts.length;
  const coMaxOf: number[] = [];
  // Pair counts are symmetric and per-recipient denominators are shared by every row: look each
  // up once (map lookups in the tenant-wide pair table dominate on drafts with many recipients).
  const sentOf = new Float64Array(n);
  const partOf = new Float64Array(n);
  const coU = new Float64Array(n * n);
  const coT = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const o = rcpts[j]!.id;
    if (o === undefined) continue;
    sentOf[j] = Math.max(1, u?.contacts.get(o)?.sent ?? 0);
    partOf[j] = Math.max(1, d.part.get(o) ?? 0);
    for (let i = 0; i < j; i++) {
      const r = rcpts[i]!.id;
      if (r === undefined) continue;
      const key = pairKey(r, o);
      coU[i * n + j] = coU[j * n + i] = u?.co.get(key) ?? 0;
      coT[i * n + j] = coT[j * n + i] = d.coT.get(key) ?? 0;
    }
  }
  const rows = rcpts.map((r, i) => {
    const c = contactOf(u, r.id);
    const sent = c?.sent ?? 0;
    const recv = c?.recv ?? 0;
    const share = userSentD > 0 ? d.sentDecayed(u!, c, ctx.at) / userSentD : 0;
    const days = c ? Math.max(0, (ctx.at - c.lastAt) / DAY) : NEVER_DAYS;

    let coMax = 0, coSum = 0, tMax = 0, tSum = 0, others = 0, relSum = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      others++;
      relSum += lsent[j]!;
      if (r.id === undefined || rcpts[j]!.id === undefined) continue;
      if (u) {
        const p = coU[i * n + j]! / sentOf[j]!;
        coMax = Math.max(coMax, p);
        coSum += p;
      }
      const t = coT[i * n + j]! / partOf[j]!;
      tMax = Math.max(tMax, t);
      tSum += t;
    }

    let topicU = 0, topicT = 0, wU = 0, wT = 0, topicMax = 0;
    const rid = r.id;
    if (rid !== undefined) {
      const profT = d.topicT.get(rid);
      ctx.tokens.forEach((t, k) => {
        const w = idf[k]!;
        const nu = u?.tokens.get(t) ?? 0;
        if (nu > 0) {
          wU += w;
          const p = (u!.topic.get(topicKey(rid, t)) ?? 0) / nu;
          topicU += w * p;
          if (nu >= 2) topicMax = Math.max(topicMax, p);
        }
        const nt = d.tokenT.get(t) ?? 0;
        if (nt > 0) {
          wT += w;
          topicT += (w * (profT?.get(t) ?? 0)) / nt;
        }
      });
    } else {
      for (let k = 0; k < ctx.tokens.length; k++) {
        if ((u?.tokens.get(ctx.tokens[k]!) ?? 0) > 0) wU += idf[k]!;
      }
    }

    const rival = bestRival(d, u, r);
    const fam = sent + recv;
    coMaxOf[i] = coMax;
    return [
      1,
      lsent[i]!,
      Math.log1p(recv),
      sent === 0 ? 1 : 0,
      fam === 0 ? 1 : 0,
      Math.log(share + 1e-3),
      Math.log1p(days),
      others === 0 ? 1 : 0,
      coMax,
      others ? coSum / others : 0,
      tMax,
      others ? tSum / others : 0,
      conv ? 1 : 0,
      conv && r.id !== undefined && conv.members.has(r.id) ? 1 : 0,
      wU > 0 ? topicU / wU : 0,
      wT > 0 ? topicT / wT : 0,
      wU > 0 ? 0 : 1,
      rival ? Math.log1p(rival.familiarity) - Math.log1p(fam) : 0,
      others ? lsent[i]! - relSum / others : 0,
      ctx.isInternal(r.address) ? 0 : 1,
      (u?.domains.get(domainOf(r.address)) ?? 0) > 0 ? 1 : 0,
      Math.log1p(r.id === undefined ? 0 : d.part.get(r.id) ?? 0),
      Math.log1p(u?.sent ?? 0),
      sent === 1 ? 1 : 0,
      others && coMax === 0 ? 1 : 0,
      others && tMax === 0 ? 1 : 0,
      r.id === undefined || !d.part.get(r.id) ? 1 : 0,
      0,
      rival && rcpts.some((o) => o.id === rival.id) ? 1 : 0,
      topicMax,
      Math.log1p(conv && r.id !== undefined ? conv.members.get(r.id) ?? 0 : 0),
    ];
  });
  // How much less this recipient is co-addressed than the draft's other recipients are.
  const coIdx = FEATURES.indexOf('co_below_others');
  rows.forEach((row, i) => {
    if (n < 2) return;
    let mean = 0;
    for (let j = 0; j < n; j++) if (j !== i) mean += coMaxOf[j]! / (n - 1);
    row[coIdx] = Math.max(0, mean - coMaxOf[i]!);
  });
  return rows;
}

function contactOf(u: UserData | undefined, id: number | undefined) {
  return u && id !== undefined ? u.contacts.get(id) : undefined;
}

/** The sender's most familiar other contact whose address starts like this one, if any. */
export function bestRival(d: SmartData, u: UserData | undefined, r: Candidate): { id: number; familiarity: number } | undefined {
  const list = u?.byPrefix.get(r.address.slice(0, 3));
  if (!u || !list) return undefined;
  let best: { id: number; familiarity: number } | undefined;
  for (const id of list) {
    if (id === r.id) continue;
    const c = u.contacts.get(id)!;
    const f = c.sent + c.recv;
    if (!best || f > best.familiarity) best = { id, familiarity: f };
  }
  return best;
}
