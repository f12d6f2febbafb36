// Prevent as a service: keeps one learned model per tenant (built from that tenant's stored
// observations only, kept fresh by sequence number so several server processes agree), runs
// the learned and rule checks on a draft, applies the tenant's policy, records what senders
// decided, and feeds those decisions back (dismissed warnings stop repeating; recipients a sender
// removed after a warning are flagged again). Also: settings, dashboard, history import,
// retention and the subject-rights hooks (erase, restrict).
//
// Privacy: observations are metadata; subject and body words reach the model only as keyed
// hashes (HMAC under a per-tenant key wrapped by the tenant's KEK). Bodies are never stored.
import { sha256Hex } from '../crypto/hash.ts';
import { generateKey, randomId, unwrapKey, wrapContext, wrapKey } from '../crypto/keys.ts';
import { hmacSha256 } from '../crypto/hash.ts';
import type { KeyService } from '../keys/key.service.ts';
import { getTenant } from '../accounts/tenant.repository.ts';
import { errors } from '../shared/app-error.ts';
import { systemClock, type Clock } from '../shared/clock.ts';
import type { Database, Sql } from '../storage/database/database.ts';
import { topicTokens } from './engine/text.ts';
import type { CheckKind, Draft, Observation, Severity, SmartView, Warning } from './prevent.model.ts';
import { DEFAULT_PREVENT_POLICY, modeFor, parsePreventPolicy, type PreventMode, type PreventPolicy } from './prevent.policy.ts';
import * as repo from './prevent.repository.ts';

/** The learned model the service needs: one instance per tenant. */
export interface LearnedModel extends SmartView {
  observe(o: Observation): void;
  learnedWarnings(draft: Draft): Warning[];
  /** Refits weights and thresholds from everything observed (after a bulk load). */
  fit?(): unknown;
}

/** Builds an empty model for a tenant whose own domains are `internalDomains`. */
export type ModelFactory = (o: { internalDomains: string[] }) => LearnedModel;

/** The rule checks, with the tenant's (validated) rule settings. */
export interface RuleChecks<Settings> {
  parse(input: unknown): Settings;
  defaults: Settings;
  run(draft: Draft, view: SmartView, settings: Settings): Warning[];
}

/** A warning as a sender (or the API) sees it, with the policy applied. */
export interface ReviewedWarning extends Warning {
  /** Stable id of this finding (same check, recipients and finding → same id). */
  id: string;
  /** nudge: the sender may send anyway; block: they must remove the cause or justify. */
  mode: 'nudge' | 'block';
}

/** What a sender says about the warnings when sending. */
export interface SendDecision {
  /** Ids of warnings the sender saw and chose to send anyway. */
  acknowledged?: string[];
  /** Why they send despite blocking warnings. */
  justification?: string;
  /** Findings the sender fixed before sending (e.g. removed the recipient): confirmed mistakes. */
  resolved?: Array<{ check: CheckKind; recipients: string[] }>;
}

/** Settings as administrators see and set them. */
export interface PreventSettings<Rules = unknown> {
  policy: PreventPolicy;
  rules: Rules;
  /** The tenant's own mail domains; by default the domains of its users. */
  internalDomains: string[];
}

// A learned warning is only meaningful once the sender has a history to compare with.
const MIN_SENDS_FOR_LEARNED = 10;
// A warning the sender dismissed this many times (same check, recipients, finding) in the
// window is no longer shown to them; it is still logged as suppressed.
const SUPPRESS_AFTER_DISMISSALS = 2;
const DISMISSAL_WINDOW_MS = 90 * 86_400_000;
// Recipients removed after a warning stay flagged this long.
const MISTAKE_WINDOW_MS = 365 * 86_400_000;
/** Smart Data is kept for a rolling 12 months (registry rule smart_rolling_12m). */
export const SMART_DATA_WINDOW_MS = 365 * 86_400_000;
// A cached model is rebuilt from storage this often, so deletions elsewhere (retention,
// erasure by another process) reach it.
const REBUILD_AFTER_MS = 6 * 3600_000;
const CATCH_UP_BATCH = 5000;

interface TenantModel {
  model: LearnedModel;
  lastSeq: string;
  builtAt: number;
  internalDomains: string[];
  /** The catch-up running or last run (never rejects): catch-ups run one at a time, so no row is replayed twice. */
  busy: Promise<void>;
  /** A catch-up queued behind `busy` and not started yet: checks arriving meanwhile share it. */
  queued: Promise<void> | undefined;
  fitted: boolean;
}

interface TenantSecrets {
  termKey: Uint8Array;
  excluded: Set<string>;
}

const termKeyContext = (tenantId: string, keyId: string) => wrapContext('sealpost/prevent-terms/v1', tenantId, keyId);

/** Prevent's per-tenant models, checks, policy and feedback. */
export class PreventService<Rules = unknown> {
  private readonly models = new Map<string, Promise<TenantModel>>();
  private readonly secrets = new Map<string, Promise<TenantSecrets>>();
  private readonly now: Clock;

  constructor(
    private readonly db: Database,
    private readonly keys: KeyService,
    private readonly createModel: ModelFactory,
    private readonly rules: RuleChecks<Rules>,
    opts: { now?: Clock } = {},
  ) {
    this.now = opts.now ?? systemClock;
  }

  // ---------------------------------------------------------------- checking

  /**
   * Runs every enabled check on a draft and applies the tenant's policy: returns what the sender
   * should see (nudge and block findings, minus ones they dismissed repeatedly). Records nothing.
   */
  async check(tenantId: string, userId: string | null, draft: Draft): Promise<ReviewedWarning[]> {
    const { shown } = await this.evaluate(tenantId, userId, draft);
    return shown;
  }

  /**
   * For the send path: evaluates the draft, refuses when a blocking finding is neither fixed nor
   * acknowledged with a justification (error 'prevent_blocked', the findings in details), and
   * returns a function that records the decisions in the send's transaction, so they commit
   * with the message or not at all (a failure after the commit would report a sent message as
   * failed, and a crash would lose the sender's feedback).
   */
  async reviewSend(tenantId: string, userId: string, draft: Draft, decision: SendDecision = {}): Promise<(tx: Sql, messageId: string) => Promise<void>> {
    const justification = decision.justification?.trim() || null;
    if (justification !== null && justification.length > 1000) throw errors.invalid('justification_too_long', 'prevent.justification: at most 1000 characters');
    const acknowledged = new Set(decision.acknowledged ?? []);
    const { shown, logged, suppressed } = await this.evaluate(tenantId, userId, draft);
    const at = this.now();
    const secrets = await this.tenantSecrets(tenantId);
    const row = (w: Warning & { id: string }, mode: PreventMode, outcome: repo.DecisionOutcome, messageId: string | null, why: string | null = null): repo.DecisionRow => {
      // Restricted and erased people are not recorded in the feedback either.
      const kept = w.recipients.filter((a) => !secrets.excluded.has(addressHashHex(secrets.termKey, a)));
      return {
        id: randomId(),
        userId,
        messageId,
        decidedAt: at,
        check: w.check,
        severity: w.severity,
        mode,
        outcome,
        recipients: kept,
        contextKey: kept.length === w.recipients.length ? w.id : contextKey(w.check, kept, ''),
        justification: why,
      };
    };

    const blocking = shown.filter((w) => w.mode === 'block' && !(acknowledged.has(w.id) && justification));
    if (blocking.length > 0) {
      await repo.insertDecisions(this.db, tenantId, blocking.map((w) => row(w, 'block', 'blocked', null)));
      const missing = blocking.every((w) => acknowledged.has(w.id)) ? 'a justification' : 'acknowledging each blocking warning by id and a justification';
      throw errors.conflict('prevent_blocked', `the pre-send check blocks this message: fix the findings or send with ${missing}`, { warnings: blocking });
    }

    return async (tx: Sql, messageId: string) => {
      const rows: repo.DecisionRow[] = [
        ...logged.map((w) => row(w, 'monitor', 'logged', messageId)),
        ...suppressed.map((w) => row(w, 'nudge', 'suppressed', messageId)),
        ...shown.map((w) =>
          w.mode === 'block' ? row(w, 'block', 'justified', messageId, justification) : row(w, 'nudge', acknowledged.has(w.id) ? 'sent_anyway' : 'sent_unreviewed', messageId, acknowledged.has(w.id) ? justification : null),
        ),
        ...(decision.resolved ?? []).slice(0, 100).map((r) => {
          const recipients = [...new Set(r.recipients.map((a) => a.trim().toLowerCase()))].sort().slice(0, 50);
          return row({ check: r.check, severity: 'warning', recipients, reason: '', fixes: [], id: contextKey(r.check, recipients, '') }, 'nudge', 'removed', messageId);
        }),
      ];
      await repo.insertDecisions(tx, tenantId, rows);
    };
  }

  private async evaluate(tenantId: string, userId: string | null, draft: Draft): Promise<{ shown: ReviewedWarning[]; logged: Array<Warning & { id: string }>; suppressed: Array<Warning & { id: string }> }> {
    // The settings and, for a sender, their feedback: one query.
    const now = this.now().getTime();
    const found: repo.FoundSettings & { feedback?: repo.SenderFeedback } = userId
      ? await repo.findSettingsAndFeedback(this.db, tenantId, userId, {
          removedSince: new Date(now - MISTAKE_WINDOW_MS),
          dismissedSince: new Date(now - DISMISSAL_WINDOW_MS),
          minDismissals: SUPPRESS_AFTER_DISMISSALS,
        })
      : await repo.findSettings(this.db, tenantId);
    const settings = this.settingsFrom(found);
    const feedback = found.feedback ?? null;
    const tm = await this.freshModel(tenantId, settings.internalDomains);
    const secrets = await this.tenantSecrets(tenantId);
    const view = tenantView(tm.model, settings.internalDomains);

    const findings: Warning[] = this.rules.run(draft, view, settings.rules);
    if (sentCount(tm.model, draft.from) >= MIN_SENDS_FOR_LEARNED) findings.push(...tm.model.learnedWarnings(this.hashedDraft(draft, secrets.termKey)));
    if (feedback) findings.push(...repeatedMistakes(feedback.removed, draft, findings));

    const withIds = dedupe(findings).map((w) => ({ ...w, id: contextKey(w.check, w.recipients, w.check === 'sensitive_content' ? w.reason : '') }));
    const active = withIds.filter((w) => modeFor(settings.policy, w.check, w.severity) !== 'off');
    const logged = active.filter((w) => modeFor(settings.policy, w.check, w.severity) === 'monitor');
    let visible = active.filter((w) => modeFor(settings.policy, w.check, w.severity) !== 'monitor');

    // Feedback: a nudge the sender has dismissed repeatedly is not repeated endlessly.
    let suppressed: Array<Warning & { id: string }> = [];
    if (feedback) {
      suppressed = visible.filter((w) => modeFor(settings.policy, w.check, w.severity) === 'nudge' && feedback.dismissed.has(w.id));
      visible = visible.filter((w) => !suppressed.includes(w));
    }
    const shown = visible.map((w) => ({ ...w, mode: modeFor(settings.policy, w.check, w.severity) as 'nudge' | 'block' }));
    shown.sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
    return { shown, logged, suppressed };
  }

  // ---------------------------------------------------------------- learning

  /**
   * Prepares what a message teaches the model, outside the sending transaction (it may need to
   * load the tenant's term key); the returned function writes it inside that transaction, so a
   * message is learned from exactly when it is sent. Excluded people are left out.
   */
  async prepareObservation(tenantId: string, o: Omit<Observation, 'id'> & { source: repo.ObservationSource }): Promise<(tx: Sql, messageId: string | null) => Promise<void>> {
    const row = await this.toStored(tenantId, o);
    return async (tx, messageId) => {
      // A new message starts its own thread: its id is the thread's.
      if (row) await repo.insertObservations(tx, tenantId, [{ ...row, messageId, threadKey: row.threadKey ?? messageId }]);
    };
  }

  /**
   * Imports history (JSONL or mbox, parsed by the caller) into a tenant's Smart Data. Messages
   * older than the 12-month window are skipped, as retention would delete them at once.
   * Returns how many were stored and skipped.
   */
  async importHistory(tenantId: string, messages: Iterable<Omit<Observation, 'id'>>): Promise<{ imported: number; skipped: number }> {
    const cutoff = this.now().getTime() - SMART_DATA_WINDOW_MS;
    const batch: repo.NewObservation[] = [];
    let imported = 0;
    let skipped = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      await this.db.transaction((tx) => repo.insertObservations(tx, tenantId, batch));
      imported += batch.length;
      batch.length = 0;
    };
    for (const m of messages) {
      const row = m.at.getTime() >= cutoff ? await this.toStored(tenantId, { ...m, source: 'import' }) : null;
      if (!row) {
        skipped++;
        continue;
      }
      batch.push(row);
      if (batch.length >= 2000) await flush();
    }
    await flush();
    return { imported, skipped };
  }

  private async toStored(tenantId: string, o: Omit<Observation, 'id'> & { source: repo.ObservationSource }): Promise<repo.NewObservation | null> {
    const secrets = await this.tenantSecrets(tenantId);
    const sender = o.from.trim().toLowerCase();
    // Restricted people (Art. 18, subject_restrictions) are not learned from in any tenant, also
    // in tenants that first meet them after the restriction began.
    const everyone = [sender, ...o.to, ...o.cc, ...o.bcc].map((a) => a.trim().toLowerCase());
    const restricted = new Set(await repo.restrictedAmong(this.db, everyone));
    const isExcluded = (a: string) => restricted.has(a) || secrets.excluded.has(addressHashHex(secrets.termKey, a));
    if (isExcluded(sender)) return null;
    const recipients: Array<{ a: string; r: 'to' | 'cc' | 'bcc' }> = [];
    const seen = new Set([sender]);
    for (const [role, list] of [['to', o.to], ['cc', o.cc], ['bcc', o.bcc]] as const) {
      for (const raw of list) {
        const a = raw.trim().toLowerCase();
        if (seen.has(a) || isExcluded(a)) continue;
        seen.add(a);
        recipients.push({ a, r: role });
      }
    }
    if (recipients.length === 0) return null;
    return {
      messageId: null,
      source: o.source,
      observedAt: o.at,
      sender,
      recipients,
      terms: hashTerms(secrets.termKey, o.subject),
      threadKey: o.threadId ?? null,
      labelRank: o.labelRank ?? null,
    };
  }

  private hashedDraft(draft: Draft, termKey: Uint8Array): Draft {
    return { ...draft, subject: hashTerms(termKey, draft.subject).join(' '), body: hashTerms(termKey, draft.body.slice(0, 20_000), 200).join(' ') };
  }

  /** The tenant's model, built on first use and brought up to date with the stored observations. */
  private async freshModel(tenantId: string, internalDomains: string[]): Promise<TenantModel> {
    let entry = this.models.get(tenantId);
    const current = entry ? await entry.catch(() => null) : null;
    if (!current || this.now().getTime() - current.builtAt > REBUILD_AFTER_MS || current.internalDomains.join(',') !== internalDomains.join(',')) {
      entry = Promise.resolve({ model: this.createModel({ internalDomains }), lastSeq: '0', builtAt: this.now().getTime(), internalDomains, busy: Promise.resolve(), queued: undefined, fitted: false });
      this.models.set(tenantId, entry);
    }
    const tm = await entry!;
    await this.caughtUp(tenantId, tm);
    return tm;
  }

  /**
   * Resolves once a catch-up that started after this call has finished, so the model holds every
   * observation committed before the check began (a send must see the sends that finished before
   * it). Concurrent checks share one: while a catch-up runs, the checks arriving meanwhile all
   * wait for the single next one, instead of each reading the table in turn behind the others
   * (under load that was one query per send, run one after another). A failed catch-up fails
   * the checks that shared it, and the next check tries again.
   */
  private caughtUp(tenantId: string, tm: TenantModel): Promise<void> {
    if (tm.queued) return tm.queued;
    const run = tm.busy.then(async () => {
      tm.queued = undefined;
      await this.catchUp(tenantId, tm);
      // Counts follow every observation at once; weights are fitted when the model is (re)built.
      if (!tm.fitted) {
        tm.model.fit?.();
        tm.fitted = true;
      }
    });
    tm.queued = run;
    tm.busy = run.catch(() => undefined);
    return run;
  }

  private async catchUp(tenantId: string, tm: TenantModel): Promise<void> {
    const since = new Date(this.now().getTime() - SMART_DATA_WINDOW_MS);
    for (;;) {
      const rows = await repo.observationsAfter(this.db, tenantId, tm.lastSeq, since, CATCH_UP_BATCH);
      for (const r of rows) {
        tm.model.observe({
          id: r.messageId ?? `seq:${r.seq}`,
          at: r.observedAt,
          from: r.sender,
          to: r.recipients.filter((x) => x.r === 'to').map((x) => x.a),
          cc: r.recipients.filter((x) => x.r === 'cc').map((x) => x.a),
          bcc: r.recipients.filter((x) => x.r === 'bcc').map((x) => x.a),
          subject: r.terms.join(' '),
          threadId: r.threadKey,
          labelRank: r.labelRank,
        });
        tm.lastSeq = r.seq;
      }
      if (rows.length < CATCH_UP_BATCH) return;
    }
  }

  /** Drops the cached model so the next check rebuilds it from storage. */
  private forgetModel(tenantId: string): void {
    this.models.delete(tenantId);
  }

  // ---------------------------------------------------------------- secrets

  private tenantSecrets(tenantId: string): Promise<TenantSecrets> {
    let s = this.secrets.get(tenantId);
    if (!s) {
      s = this.loadSecrets(tenantId);
      this.secrets.set(tenantId, s);
      s.catch(() => this.secrets.delete(tenantId));
    }
    return s;
  }

  private async loadSecrets(tenantId: string): Promise<TenantSecrets> {
    let stored = await repo.findTermKey(this.db, tenantId);
    if (!stored) {
      const tenant = await getTenant(this.db, tenantId);
      if (!tenant) throw errors.notFound('tenant_not_found', `no tenant ${tenantId}`);
      const kek = await this.keys.activeKek(tenantId, tenant.region);
      const keyId = randomId();
      const key = generateKey();
      const candidate = { keyId, kekId: kek.id, wrappedKey: wrapKey(kek.key, key, termKeyContext(tenantId, keyId)) };
      key.fill(0);
      // Two processes may race to create it: the first insert wins and both use that one.
      await repo.insertTermKey(this.db, tenantId, candidate, this.now());
      stored = await repo.findTermKey(this.db, tenantId);
    }
    const kek = await this.keys.kekById(stored!.kekId);
    const termKey = unwrapKey(kek.key, stored!.wrappedKey, termKeyContext(tenantId, stored!.keyId));
    const excluded = new Set((await repo.exclusionHashes(this.db, tenantId)).map((h) => Buffer.from(h).toString('hex')));
    return { termKey, excluded };
  }

  // ---------------------------------------------------------------- settings

  /** The tenant's settings (defaults where none were saved). */
  async settings(tenantId: string): Promise<PreventSettings<Rules>> {
    return this.settingsFrom(await repo.findSettings(this.db, tenantId));
  }

  private settingsFrom({ stored, userDomains }: repo.FoundSettings): PreventSettings<Rules> {
    if (!stored) return { policy: DEFAULT_PREVENT_POLICY, rules: this.rules.defaults, internalDomains: userDomains };
    return { policy: parsePreventPolicy(stored.policy), rules: this.rules.parse(stored.rules), internalDomains: stored.internalDomains };
  }

  /** Validates and saves settings; parts not given keep their current value. */
  async updateSettings(tenantId: string, userId: string, input: { policy?: unknown; rules?: unknown; internalDomains?: unknown }): Promise<PreventSettings<Rules>> {
    const current = await this.settings(tenantId);
    const next: PreventSettings<Rules> = {
      policy: input.policy === undefined ? current.policy : parsePreventPolicy(input.policy),
      rules: input.rules === undefined ? current.rules : this.rules.parse(input.rules),
      internalDomains: input.internalDomains === undefined ? current.internalDomains : parseDomains(input.internalDomains),
    };
    await repo.upsertSettings(this.db, tenantId, next, userId, this.now());
    return next;
  }

  /** Warnings by week, check and outcome between `from` and `to`. */
  async dashboard(tenantId: string, from: Date, to: Date): Promise<{ from: Date; to: Date; rows: Array<{ week: Date; check: string; outcome: string; count: number }>; totals: Record<string, Record<string, number>> }> {
    if (!(from < to)) throw errors.invalid('invalid_range', 'from must be before to');
    const rows = await repo.decisionCounts(this.db, tenantId, from, to);
    const totals: Record<string, Record<string, number>> = {};
    for (const r of rows) {
      const byOutcome = (totals[r.check] ??= {});
      byOutcome[r.outcome] = (byOutcome[r.outcome] ?? 0) + r.count;
    }
    return { from, to, rows, totals };
  }

  // ---------------------------------------------------------------- retention and rights

  /**
   * Deletes observations older than the 12-month window, in batches; returns how many. `now`
   * defaults to the service clock (retention passes the time its run is measured from).
   */
  async pruneExpired(tenantId: string, batchSize = 5000, now: Date = this.now()): Promise<number> {
    const before = new Date(now.getTime() - SMART_DATA_WINDOW_MS);
    let total = 0;
    for (;;) {
      const n = await repo.deleteObservationsBefore(this.db, tenantId, before, batchSize);
      total += n;
      if (n < batchSize) break;
    }
    if (total > 0) this.forgetModel(tenantId);
    return total;
  }

  /**
   * Erasure (Art. 17): deletes every observation and decision that names the address and
   * excludes the person from future learning. Returns the counts deleted.
   */
  async erasePerson(tenantId: string, address: string): Promise<{ observations: number; decisions: number }> {
    const a = address.trim().toLowerCase();
    const secrets = await this.tenantSecrets(tenantId);
    const hash = addressHash(secrets.termKey, a);
    const result = await this.db.transaction(async (tx) => {
      await repo.upsertExclusion(tx, tenantId, hash, 'erased', this.now());
      return { observations: await repo.deleteObservationsOf(tx, tenantId, a), decisions: await repo.deleteDecisionsAbout(tx, tenantId, a) };
    });
    secrets.excluded.add(Buffer.from(hash).toString('hex'));
    this.forgetModel(tenantId);
    return result;
  }

  /**
   * Restriction (Art. 18): the person's data is kept but no longer learned from, and the model
   * is rebuilt without them. `lift` ends the restriction.
   */
  async restrictPerson(tenantId: string, address: string, lift = false): Promise<void> {
    const a = address.trim().toLowerCase();
    const secrets = await this.tenantSecrets(tenantId);
    const hash = addressHash(secrets.termKey, a);
    if (lift) {
      await repo.deleteRestriction(this.db, tenantId, hash);
      secrets.excluded.delete(Buffer.from(hash).toString('hex'));
    } else {
      await repo.upsertExclusion(this.db, tenantId, hash, 'restricted', this.now());
      secrets.excluded.add(Buffer.from(hash).toString('hex'));
    }
    this.forgetModel(tenantId);
    this.secrets.delete(tenantId);
  }
}

/** The model's view with the tenant's configured domains deciding what is internal. */
function tenantView(model: SmartView, internalDomains: string[]): SmartView {
  const domains = new Set(internalDomains);
  return {
    contact: (s, a) => model.contact(s, a),
    contacts: (s) => model.contacts(s),
    domainFirstSeen: (d) => model.domainFirstSeen(d),
    isInternal: (a) => domains.has(a.slice(a.lastIndexOf('@') + 1).toLowerCase()),
  };
}

/** Messages the sender sent, estimated from their contacts (an upper bound, enough for a threshold). */
function sentCount(view: SmartView, sender: string): number {
  let n = 0;
  for (const c of view.contacts(sender)) {
    n += c.sent;
    if (n >= MIN_SENDS_FOR_LEARNED) break;
  }
  return n;
}

/** Recipients this sender removed from an earlier draft after a warning (`removed`): a confirmed mistake. */
function repeatedMistakes(removed: Map<string, Date>, draft: Draft, already: Warning[]): Warning[] {
  if (removed.size === 0) return [];
  const flagged = new Set(already.filter((w) => w.check === 'unusual_recipient').flatMap((w) => w.recipients));
  return draft.recipients
    .filter((r) => removed.has(r.address) && !flagged.has(r.address))
    .map((r) => ({
      check: 'unusual_recipient' as const,
      severity: 'warning' as const,
      recipients: [r.address],
      reason: `You removed ${r.address} from a message on ${removed.get(r.address)!.toISOString().slice(0, 10)} after a warning; check it is meant to be here.`,
      fixes: [{ kind: 'remove_recipient' as const, address: r.address }],
      risk: 0.9,
    }));
}

/** One warning per check and recipient set; the most severe wins. */
function dedupe(ws: Warning[]): Warning[] {
  const byKey = new Map<string, Warning>();
  for (const w of ws) {
    const key = `${w.check}|${[...w.recipients].sort().join(',')}|${w.check === 'sensitive_content' ? w.reason : ''}`;
    const prev = byKey.get(key);
    if (!prev || severityRank(w.severity) > severityRank(prev.severity)) byKey.set(key, w);
  }
  return [...byKey.values()];
}

const severityRank = (s: Severity) => (s === 'critical' ? 2 : s === 'warning' ? 1 : 0);

/** Stable id of a finding: the same check about the same recipients (and finding) again. */
export function contextKey(check: string, recipients: string[], finding: string): string {
  return sha256Hex(JSON.stringify([check, [...recipients].map((r) => r.toLowerCase()).sort(), finding]));
}

function hashTerms(key: Uint8Array, text: string, limit = 24): string[] {
  return topicTokens(text, limit).map((t) => Buffer.from(hmacSha256(key, `t:${t}`)).subarray(0, 8).toString('hex'));
}

function addressHash(key: Uint8Array, address: string): Uint8Array {
  return hmacSha256(key, `a:${address}`);
}

const addressHashHex = (key: Uint8Array, address: string) => Buffer.from(addressHash(key, address)).toString('hex');

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;

function parseDomains(input: unknown): string[] {
  if (!Array.isArray(input) || input.length > 200) throw errors.invalid('invalid_internal_domains', 'internalDomains: expected a list of at most 200 domain names', { field: 'internalDomains' });
  return [...new Set(input.map((d, i) => {
    const v = typeof d === 'string' ? d.trim().toLowerCase() : '';
    if (!DOMAIN.test(v)) throw errors.invalid('invalid_internal_domains', `internalDomains[${i}]: "${String(d).slice(0, 100)}" is not a domain name (IDNs in their xn-- form)`, { field: `internalDomains.${i}` });
    return v;
  }))].sort();
}
