// Retention: the periods in force per tenant (registry defaults, installation and tenant
// overrides), legal holds, and the run that deletes or crypto-shreds what is due, in small
// batches, skipping what a hold covers, and writes a report of counts (never values).
// docs/privacy.md "Retention" is the user-facing description; keep them in step.
import { appendAuditEvent } from '../../audit/audit.service.ts';
import type { AuditEventInput } from '../../audit/audit.model.ts';
import { SYSTEM_CHAIN } from '../../audit/audit.model.ts';
import { isUuid, toHex } from '../../crypto/format/bytes.ts';
import { randomId } from '../../crypto/keys.ts';
import { SMART_DATA_WINDOW_MS } from '../../prevent/prevent.service.ts';
import { AppError, errors, isAppError } from '../../shared/app-error.ts';
import { systemClock, type Clock } from '../../shared/clock.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Database } from '../../storage/database/database.ts';
import { REGISTRY, type DataCategory } from '../../storage/database/registry.ts';
import { approximateDays, parseDuration, subtractDuration } from './duration.ts';
import {
  ABANDONED_UPLOAD_PERIOD,
  ENDED_CREDENTIAL_PERIOD,
  HOLD_SCOPES,
  POLICY_DEFINITIONS,
  RETENTION_POLICY_KEYS,
  SMART_PERIOD,
  type EffectivePolicy,
  type HoldScope,
  type LegalHold,
  type RetentionCounts,
  type RetentionPolicyKey,
  type RetentionReport,
  type RetentionTally,
  type RetentionTrigger,
} from './retention.model.ts';
import * as repo from './retention.repository.ts';

/** Who changes policies and holds, or starts a run (for the audit log and the records). */
export type RetentionActor = AuditEventInput['actor'];

/** Options of a run. */
export interface RunOptions {
  /** Compute the report without changing anything. */
  dryRun: boolean;
  /** Only this tenant (and nothing installation-wide). */
  tenantId?: string;
  /** The time periods are measured from (default: the service clock). */
  now?: Date;
  /** Rows per batch (default 20 000, 1 to 50 000). */
  batchSize?: number;
  triggeredBy?: RetentionTrigger;
  actor?: RetentionActor;
  /** The job running this, whose lease is extended as the run makes progress. */
  jobId?: string;
}

/** What retention needs; the Prevent service prunes its own Smart Data. */
export interface RetentionDeps {
  db: Database;
  /** Deletes the ciphertext of a shredded object from its region's blob store (after the key, which is what matters). */
  deleteBlob(region: string, blobKey: string): Promise<void>;
  prevent: { pruneExpired(tenantId: string, batchSize?: number, now?: Date): Promise<number> };
  clock?: Clock;
  logger?: Logger;
}

// 20 000 rows per transaction: about a second of row locks on old rows, and 1.6x the throughput of 5000 (bench/retention.bench.ts).
const DEFAULT_BATCH = 20_000;
const MAX_BATCH = 50_000;
const LEASE_SECONDS = 120;
const HEARTBEAT_MS = 10_000;
// A run whose heartbeat stopped this long ago died with its process.
const STALE_RUN_SECONDS = 600;
const BLOB_DELETE_CONCURRENCY = 16;
const MAX_REASON = 1000;

const actorName = (a: RetentionActor): string => (a.id ? a.id : a.type);

/** Counts of one run, added up per table and category. */
class Tally {
  readonly tables: Record<string, RetentionCounts> = {};
  add(table: string, field: keyof RetentionCounts, n: number): void {
    if (n === 0) return;
    const t = (this.tables[table] ??= { deleted: 0, shredded: 0, held: 0 });
    t[field] += n;
  }
  merge(other: Tally): void {
    for (const [table, c] of Object.entries(other.tables)) for (const f of ['deleted', 'shredded', 'held'] as const) this.add(table, f, c[f]);
  }
  empty(): boolean {
    return Object.keys(this.tables).length === 0;
  }
  toJSON(): RetentionTally {
    const tables = Object.fromEntries(Object.entries(this.tables).sort(([a], [b]) => a.localeCompare(b)));
    const categories: Partial<Record<DataCategory, RetentionCounts>> = {};
    for (const [table, c] of Object.entries(tables)) {
      const category = REGISTRY[table]?.category ?? 'system';
      const k = (categories[category] ??= { deleted: 0, shredded: 0, held: 0 });
      k.deleted += c.deleted;
      k.shredded += c.shredded;
      k.held += c.held;
    }
    return { tables, categories };
  }
}

/** Policies, holds and runs. */
export class RetentionService {
  private readonly db: Database;
  private readonly clock: Clock;

  constructor(private readonly deps: RetentionDeps) {
    this.db = deps.db;
    this.clock = deps.clock ?? systemClock;
  }

  // ---------------------------------------------------------------- policies

  /** Periods in force for a tenant, or (null) the installation defaults, with where each comes from. */
  async policies(tenantId: string | null): Promise<EffectivePolicy[]> {
    if (tenantId !== null) await this.requireTenant(tenantId);
    const rows = await repo.listPolicyRows(this.db, tenantId);
    const out: EffectivePolicy[] = RETENTION_POLICY_KEYS.map((key) => {
      const def = POLICY_DEFINITIONS[key];
      const own = tenantId !== null ? rows.find((r) => r.tenant_id === tenantId && r.key === key) : undefined;
      const installation = rows.find((r) => r.tenant_id === null && r.key === key);
      const defaultPeriod = installation ? installation.period : def.defaultPeriod;
      const [period, source] = own ? [own.period, 'tenant' as const] : installation ? [installation.period, 'installation' as const] : [def.defaultPeriod, 'default' as const];
      return { key, category: def.category, period, source, defaultPeriod: tenantId === null ? def.defaultPeriod : defaultPeriod, description: def.description, settable: tenantId === null || def.perTenant };
    });
    out.push(
      { key: 'smart', category: 'smart', period: SMART_PERIOD, source: 'fixed', defaultPeriod: SMART_PERIOD, description: 'Smart Data (Prevent observations and decisions): a rolling 12-month window; fixed because the learned model is built on it.', settable: false },
      { key: 'crm', category: 'crm', period: null, source: 'fixed', defaultPeriod: null, description: 'CRM Information (accounts, labels, settings): kept for the life of the account; not deleted by the retention job.', settable: false },
    );
    return out;
  }

  /**
   * Sets a period for a tenant (or, with tenantId null, for the installation); `period` null keeps
   * the data ("keep", where allowed) and 'default' removes the override. Audited.
   */
  async setPolicy(actor: RetentionActor, tenantId: string | null, key: string, period: string | null | 'default'): Promise<EffectivePolicy[]> {
    if (key === 'smart' || key === 'crm') {
      throw errors.invalid('retention_policy_fixed', key === 'smart' ? 'Smart Data is kept for a rolling 12 months; that window cannot be changed' : 'CRM Information is kept for the life of the account; it has no retention period to set');
    }
    if (!(RETENTION_POLICY_KEYS as readonly string[]).includes(key)) {
      throw errors.invalid('retention_policy_unknown', `policy must be one of ${RETENTION_POLICY_KEYS.join(', ')} (got "${key.slice(0, 40)}")`, { field: 'key' });
    }
    const k = key as RetentionPolicyKey;
    const def = POLICY_DEFINITIONS[k];
    if (tenantId !== null) {
      await this.requireTenant(tenantId);
      if (!def.perTenant) throw errors.invalid('retention_policy_installation_only', `${k} is set for the whole installation by the operator, not per tenant`, { field: 'key' });
    }
    const remove = period === 'default';
    const value = remove ? null : period;
    if (!remove) {
      if (value === null) {
        if (!def.nullable) throw errors.invalid('retention_period_required', `${k} needs a period (e.g. ${def.defaultPeriod}); "keep" is only allowed for content`, { field: 'period' });
      } else {
        const days = approximateDays(parseDuration(value, 'period'));
        if (days < def.minDays || days > def.maxDays) {
          throw errors.invalid('retention_period_out_of_bounds', `${k} must be between ${def.minDays} and ${def.maxDays} days (got ${value})`, { field: 'period' });
        }
        if (k === 'content') {
          // Deleting Content before the label lets it expire would cut short what senders were promised.
          const label = await repo.longestLabelExpiry(this.db, tenantId);
          if (label && days < label.days) {
            throw errors.invalid('retention_period_shorter_than_label_expiry', `content must be kept at least as long as the longest label expiry (${label.days} days, label "${label.name}"); got ${value}`, { field: 'period' });
          }
        }
      }
    }
    await this.db.transaction(async (tx) => {
      const before = await repo.writePolicy(tx, { tenantId, key: k, period: value, remove, at: this.clock(), by: actorName(actor) });
      await appendAuditEvent(tx, {
        ...(tenantId !== null ? { tenantId } : {}),
        actor,
        action: 'retention.policy_changed',
        target: { type: 'retention_policy', id: k },
        outcome: 'success',
        details: { key: k, period: remove ? 'default' : value, previous: before.existed ? before.previous : 'default' },
      });
    });
    return this.policies(tenantId);
  }

  // ---------------------------------------------------------------- holds

  /** Places a legal hold on a tenant, one of its users or one of its messages. Audited. */
  async placeHold(actor: RetentionActor, tenantId: string, input: { scope: string; userId?: string; messageId?: string; reason: string }): Promise<LegalHold> {
    await this.requireTenant(tenantId);
    if (!(HOLD_SCOPES as readonly string[]).includes(input.scope)) throw errors.invalid('hold_scope_invalid', `scope must be one of ${HOLD_SCOPES.join(', ')}`, { field: 'scope' });
    const scope = input.scope as HoldScope;
    const reason = this.reason(input.reason, 'reason');
    let userId: string | null = null;
    let messageId: string | null = null;
    if (scope === 'user') {
      if (!input.userId || !isUuid(input.userId)) throw errors.invalid('hold_user_invalid', 'a user hold needs userId, a user id (UUID)', { field: 'userId' });
      if (!(await repo.userInTenant(this.db, tenantId, input.userId))) throw errors.notFound('user_not_found', 'no such user in this organisation');
      userId = input.userId;
    } else if (input.userId !== undefined) throw errors.invalid('hold_user_unexpected', 'userId is only for scope user', { field: 'userId' });
    if (scope === 'message') {
      if (!input.messageId || !isUuid(input.messageId)) throw errors.invalid('hold_message_invalid', 'a message hold needs messageId, a message id (UUID)', { field: 'messageId' });
      if (!(await repo.messageInTenant(this.db, tenantId, input.messageId))) throw errors.notFound('message_not_found', 'no such message in this organisation');
      messageId = input.messageId;
    } else if (input.messageId !== undefined) throw errors.invalid('hold_message_unexpected', 'messageId is only for scope message', { field: 'messageId' });

    return this.db.transaction(async (tx) => {
      const hold = await repo.insertHold(tx, { tenantId, scope, userId, messageId, reason, placedBy: actorName(actor), placedAt: this.clock() });
      await appendAuditEvent(tx, {
        tenantId,
        actor,
        action: 'legal_hold.placed',
        target: { type: 'legal_hold', id: hold.id },
        outcome: 'success',
        // The reason may name people: it stays in legal_holds, not in the audit trail.
        details: { scope, ...(userId ? { userId } : {}), ...(messageId ? { messageId } : {}) },
      });
      return hold;
    });
  }

  /** Releases an active hold (within `tenantId` when given), recording who, when and why. Audited. */
  async releaseHold(actor: RetentionActor, tenantId: string | null, holdId: string, reasonInput: string): Promise<LegalHold> {
    if (!isUuid(holdId)) throw errors.invalid('hold_id_invalid', 'hold id must be a UUID', { field: 'id' });
    const reason = this.reason(reasonInput, 'reason');
    return this.db.transaction(async (tx) => {
      const hold = await repo.getHold(tx, holdId, tenantId);
      if (!hold) throw errors.notFound('hold_not_found', 'no such legal hold');
      if (hold.releasedAt) throw errors.conflict('hold_already_released', `this hold was released on ${hold.releasedAt.toISOString()}`);
      const released = await repo.releaseHoldRow(tx, holdId, actorName(actor), this.clock(), reason);
      if (!released) throw errors.conflict('hold_already_released', 'this hold was released meanwhile');
      await appendAuditEvent(tx, { tenantId: hold.tenantId, actor, action: 'legal_hold.released', target: { type: 'legal_hold', id: hold.id }, outcome: 'success', details: { scope: hold.scope } });
      return released;
    });
  }

  /** Holds of a tenant (or of every tenant), active ones only unless `includeReleased`. */
  async listHolds(tenantId: string | null, opts: { includeReleased?: boolean } = {}): Promise<LegalHold[]> {
    if (tenantId !== null) await this.requireTenant(tenantId);
    return repo.listHoldRows(this.db, { tenantId, includeReleased: opts.includeReleased ?? false });
  }

  // ---------------------------------------------------------------- reports

  /** Newest reports first; for a tenant, its own runs and its share of installation-wide runs. */
  async reports(opts: { tenantId: string | null; limit?: number }): Promise<RetentionReport[]> {
    const limit = opts.limit ?? 20;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw errors.invalid('retention_limit_invalid', 'limit must be an integer from 1 to 1000', { field: 'limit' });
    if (opts.tenantId !== null) await this.requireTenant(opts.tenantId);
    return repo.listRuns(this.db, { tenantId: opts.tenantId, limit });
  }

  // ---------------------------------------------------------------- the run

  /**
   * Runs retention (or, dry, computes what it would do) for one tenant or for every tenant and
   * the installation, and returns the stored report. A second run that changes data while one is
   * running is refused (`retention_run_in_progress`); running again changes nothing new.
   */
  async run(opts: RunOptions): Promise<RetentionReport> {
    const batch = opts.batchSize ?? DEFAULT_BATCH;
    if (!Number.isInteger(batch) || batch < 1 || batch > MAX_BATCH) throw errors.invalid('retention_batch_invalid', `batchSize must be an integer from 1 to ${MAX_BATCH}`, { field: 'batchSize' });
    if (opts.now !== undefined && Number.isNaN(opts.now.getTime())) throw errors.invalid('retention_now_invalid', 'now must be a valid date', { field: 'now' });
    const tenantId = opts.tenantId ?? null;
    if (tenantId !== null) await this.requireTenant(tenantId);
    const now = opts.now ?? this.clock();
    const actor = opts.actor ?? { type: 'system' as const };

    await repo.failStaleRuns(this.db, STALE_RUN_SECONDS);
    const runId = randomId();
    try {
      await repo.insertRun(this.db, { id: runId, tenantId, dryRun: opts.dryRun, triggeredBy: opts.triggeredBy ?? 'direct', actor: opts.actor ? actorName(opts.actor) : null, asOf: now });
    } catch (err) {
      if (isAppError(err, 'unique_violation')) throw errors.conflict('retention_run_in_progress', 'another retention run is changing data right now; try again when it has finished');
      throw err;
    }

    const ctx = new RunContext(this.deps, runId, opts.jobId ?? null, opts.dryRun, batch, now);
    const total = new Tally();
    const perTenant = new Map<string, Tally>();
    try {
      const tenants = tenantId !== null ? [tenantId] : await repo.listTenantIds(this.db);
      for (const t of tenants) {
        const tally = await ctx.tenant(t, await this.periods(t));
        if (!tally.empty()) perTenant.set(t, tally);
        total.merge(tally);
      }
      if (tenantId === null) total.merge(await ctx.installation(await this.periods(null)));
    } catch (err) {
      // An error code only (as the job runner records it), never a message that might hold values.
      const raw = err instanceof AppError ? err.code : (err as { code?: unknown }).code;
      const code = typeof raw === 'string' && /^[a-z0-9_]{1,64}$/i.test(raw) ? raw : 'retention_failed';
      await repo.finishRun(this.db, runId, 'failed', total.toJSON(), code).catch(() => undefined);
      throw err;
    }

    const counts = total.toJSON();
    const row = await this.db.transaction(async (tx) => {
      for (const [t, tally] of perTenant) await repo.insertRunTenant(tx, runId, t, tally.toJSON());
      const finished = await repo.finishRun(tx, runId, 'completed', counts, null);
      if (!opts.dryRun) {
        // Counts only: what was removed and held, per table, so the trail says what retention did.
        for (const [t, tally] of perTenant) {
          await appendAuditEvent(tx, { tenantId: t, actor, action: 'retention.run_completed', target: { type: 'retention_run', id: runId }, outcome: 'success', details: { tables: tally.toJSON().tables } });
        }
        await appendAuditEvent(tx, { actor, action: 'retention.run_completed', target: { type: 'retention_run', id: runId }, outcome: 'success', details: { tenantId, categories: counts.categories } });
      }
      return finished;
    });
    const report = repo.toReport(row);
    this.deps.logger?.info({ runId, dryRun: opts.dryRun, removed: report.totalRemoved, held: report.totalHeld }, 'retention run finished');
    return report;
  }

  // Periods in force as cutoffs-to-be: tenant overrides, then installation ones, then defaults.
  private async periods(tenantId: string | null): Promise<Record<RetentionPolicyKey, string | null>> {
    const policies = await this.policies(tenantId);
    const out = {} as Record<RetentionPolicyKey, string | null>;
    for (const key of RETENTION_POLICY_KEYS) out[key] = policies.find((p) => p.key === key)!.period;
    return out;
  }

  private async requireTenant(tenantId: string): Promise<void> {
    if (!isUuid(tenantId)) throw errors.invalid('tenant_id_invalid', 'tenant id must be a UUID', { field: 'tenantId' });
    if (!(await repo.tenantExists(this.db, tenantId))) throw errors.notFound('tenant_not_found', 'no such tenant');
  }

  private reason(value: string, field: string): string {
    const s = typeof value === 'string' ? value.trim() : '';
    if (s.length < 1 || s.length > MAX_REASON) throw errors.invalid('hold_reason_invalid', `${field} must be 1 to ${MAX_REASON} characters`, { field });
    return s;
  }
}

/** One run in progress: the steps, in the order that keeps dry-run counts equal to real ones. */
class RunContext {
  private lastBeat = 0;

  constructor(
    private readonly deps: RetentionDeps,
    private readonly runId: string,
    private readonly jobId: string | null,
    private readonly dryRun: boolean,
    private readonly batch: number,
    private readonly now: Date,
  ) {}

  private cutoff(period: string): Date {
    return subtractDuration(this.now, parseDuration(period));
  }

  /** Everything due in one tenant. */
  async tenant(tenantId: string, periods: Record<RetentionPolicyKey, string | null>): Promise<Tally> {
    const db = this.deps.db;
    const tally = new Tally();
    const endedCutoff = this.cutoff(ENDED_CREDENTIAL_PERIOD);
    const uploadCutoff = this.cutoff(ABANDONED_UPLOAD_PERIOD);
    const expiredCutoff = this.cutoff(periods.content_expired_grace ?? POLICY_DEFINITIONS.content_expired_grace.defaultPeriod!);
    // Most tenants have no hold in force: then the per-row hold tests (and the counts of held
    // rows, which are all zero) are left out.
    const { rows: inForce } = await db.query<{ scope: string }>(`SELECT DISTINCT scope FROM legal_holds WHERE tenant_id = $1 AND released_at IS NULL`, [tenantId]);
    const holds = inForce.length > 0;
    const tenantHeld = inForce.some((h) => h.scope === 'tenant');

    // 1. Ended one-time codes, recipient sessions and unverified access requests (credential_lifetime).
    for (const table of repo.ENDED_TABLES) {
      tally.add(table, 'held', await repo.countEnded(db, table, tenantId, endedCutoff, 'held', holds));
      if (this.dryRun) tally.add(table, 'deleted', await repo.countEnded(db, table, tenantId, endedCutoff, 'free', holds));
      else tally.add(table, 'deleted', await this.loop(() => repo.deleteEnded(db, table, tenantId, endedCutoff, this.batch, holds)));
    }

    // 2. Uploads sealed but never sent: crypto-shredded and deleted after a day.
    tally.add('pending_uploads', 'held', await repo.countAbandonedUploads(db, tenantId, uploadCutoff, 'held', holds));
    if (this.dryRun) {
      const n = await repo.countAbandonedUploads(db, tenantId, uploadCutoff, 'free', holds);
      tally.add('pending_uploads', 'deleted', n);
      tally.add('sealed_objects', 'shredded', n);
      tally.add('sealed_objects', 'deleted', n);
    } else {
      await this.loop(async () => {
        const r = await db.transaction((tx) => repo.deleteAbandonedUploads(tx, tenantId, uploadCutoff, this.batch, holds));
        tally.add('pending_uploads', 'deleted', r.uploads);
        tally.add('sealed_objects', 'shredded', r.shredded);
        tally.add('sealed_objects', 'deleted', r.objects);
        await this.deleteBlobs(r.blobKeys);
        return r.uploads;
      });
    }

    // 3. Expired messages: their Content crypto-shredded once the grace period after expiry is over.
    await this.shredObjects(tally, tenantId, 'expired', expiredCutoff, expiredCutoff, holds);

    // 4. The tenant's Content policy: Content shredded, then message rows deleted (replies first).
    if (periods.content !== null) {
      const cutoff = this.cutoff(periods.content);
      await this.shredObjects(tally, tenantId, 'sent', cutoff, expiredCutoff, holds);
      tally.add('messages', 'held', await repo.countDueMessages(db, tenantId, cutoff, 'held', holds));
      if (this.dryRun) {
        const c = await repo.countDeletableMessages(db, tenantId, cutoff, endedCutoff, uploadCutoff, holds);
        for (const [table, n] of Object.entries(c)) if (table !== 'shreddedUploads') tally.add(table, 'deleted', n);
        tally.add('sealed_objects', 'shredded', c.shreddedUploads);
      } else {
        await this.loop(async () => {
          const r = await db.transaction((tx) => repo.deleteDueMessages(tx, tenantId, cutoff, this.batch, holds));
          for (const [table, n] of Object.entries(r.counts)) tally.add(table, 'deleted', n);
          tally.add('sealed_objects', 'shredded', r.shredded);
          await this.deleteBlobs(r.blobKeys);
          return r.counts.messages;
        });
      }
    }

    // 5. Smart Data: a rolling 12 months. Observations are pruned by Prevent itself; a hold on the
    // tenant keeps them (user and message holds keep the messages, not the learned metadata).
    const smartCutoff = new Date(this.now.getTime() - SMART_DATA_WINDOW_MS);
    if (tenantHeld) tally.add('prevent_observations', 'held', await repo.countOldObservations(db, tenantId, smartCutoff));
    else if (this.dryRun) tally.add('prevent_observations', 'deleted', await repo.countOldObservations(db, tenantId, smartCutoff));
    else tally.add('prevent_observations', 'deleted', await this.deps.prevent.pruneExpired(tenantId, this.batch, this.now));
    tally.add('prevent_decisions', 'held', await repo.countOldDecisions(db, tenantId, smartCutoff, 'held', holds));
    if (this.dryRun) tally.add('prevent_decisions', 'deleted', await repo.countOldDecisions(db, tenantId, smartCutoff, 'free', holds));
    else tally.add('prevent_decisions', 'deleted', await this.loop(() => repo.deleteOldDecisions(db, tenantId, smartCutoff, this.batch, holds)));

    // 6. The audit log: oldest events first, up to the first one a hold keeps; then old released holds.
    const auditCutoff = this.cutoff(periods.audit!);
    await this.pruneChain(tally, tenantId, auditCutoff, tenantId, holds);
    tally.add('legal_holds', 'deleted', await repo.deleteReleasedHolds(db, tenantId, auditCutoff, this.dryRun));
    return tally;
  }

  /** Installation-wide data: finished jobs, the system audit chain, old run reports. */
  async installation(periods: Record<RetentionPolicyKey, string | null>): Promise<Tally> {
    const db = this.deps.db;
    const tally = new Tally();
    const jobsCutoff = this.cutoff(periods.system!);
    if (this.dryRun) tally.add('jobs', 'deleted', await repo.countFinishedJobs(db, jobsCutoff));
    else tally.add('jobs', 'deleted', await this.loop(() => repo.deleteFinishedJobs(db, jobsCutoff, this.batch)));
    const auditCutoff = this.cutoff(periods.audit!);
    await this.pruneChain(tally, SYSTEM_CHAIN, auditCutoff, null);
    tally.add('retention_runs', 'deleted', await repo.deleteOldRuns(db, auditCutoff, this.dryRun));
    return tally;
  }

  private async shredObjects(tally: Tally, tenantId: string, age: repo.MessageAge, cutoff: Date, expiredCutoff: Date, holds: boolean): Promise<void> {
    const db = this.deps.db;
    tally.add('sealed_objects', 'held', await repo.countDueObjects(db, tenantId, age, cutoff, expiredCutoff, 'held', holds));
    if (this.dryRun) {
      tally.add('sealed_objects', 'shredded', await repo.countDueObjects(db, tenantId, age, cutoff, expiredCutoff, 'free', holds));
      return;
    }
    await this.loop(async () => {
      const keys = await repo.shredDueObjects(db, tenantId, age, cutoff, expiredCutoff, this.batch, holds);
      tally.add('sealed_objects', 'shredded', keys.length);
      await this.deleteBlobs(keys);
      return keys.length;
    });
  }

  /**
   * Deletes a chain's events older than the cutoff from its start, never past the first event a
   * hold keeps and never the newest event (the next append links to it). Each batch moves the
   * checkpoint and appends an 'audit.pruned' event confirming it, in the same transaction, so the
   * chain verifies between batches too.
   */
  private async pruneChain(tally: Tally, chain: string, cutoff: Date, tenantId: string | null, holds = false): Promise<void> {
    const db = this.deps.db;
    const extent = await repo.chainExtent(db, chain);
    if (!extent) return;
    const byTime = (await repo.firstSeqFrom(db, chain, cutoff)) ?? extent.head + 1n;
    const held = tenantId !== null && holds ? await repo.firstHeldSeq(db, tenantId, cutoff) : null;
    let keepFrom = byTime < extent.head ? byTime : extent.head;
    if (held !== null && held < keepFrom) {
      tally.add('audit_events', 'held', Number(keepFrom - held));
      keepFrom = held;
    }
    if (keepFrom <= extent.first) return;
    if (this.dryRun) {
      tally.add('audit_events', 'deleted', Number(keepFrom - extent.first));
      return;
    }
    for (let first = extent.first; first < keepFrom; ) {
      const upTo = first + BigInt(this.batch) < keepFrom ? first + BigInt(this.batch) : keepFrom;
      const removed = await db.transaction(async (tx) => {
        const r = await repo.deleteChainPrefix(tx, chain, upTo);
        await appendAuditEvent(tx, {
          ...(tenantId !== null ? { tenantId } : {}),
          actor: { type: 'system' },
          action: 'audit.pruned',
          target: { type: 'audit_chain', id: chain },
          outcome: 'success',
          // Verification checks the checkpoint against this event (audit.service.ts).
          details: { firstKeptSeq: upTo.toString(), prevHash: toHex(r.prevHash), removed: r.removed, runId: this.runId },
        });
        return r.removed;
      });
      tally.add('audit_events', 'deleted', removed);
      first = upTo;
      await this.beat();
    }
  }

  // Runs one batch after another until a batch does less than a full batch of work.
  private async loop(step: () => Promise<number>): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await step();
      total += n;
      await this.beat();
      if (n < this.batch) return total;
    }
  }

  private async beat(): Promise<void> {
    const t = Date.now();
    if (t - this.lastBeat < HEARTBEAT_MS) return;
    this.lastBeat = t;
    await repo.heartbeat(this.deps.db, this.runId, this.jobId, LEASE_SECONDS);
  }

  // The data key is already gone (that is the erasure); removing the ciphertext is housekeeping,
  // so a failure is logged and the run goes on.
  private async deleteBlobs(keys: repo.BlobRef[]): Promise<void> {
    let failed = 0;
    for (let i = 0; i < keys.length; i += BLOB_DELETE_CONCURRENCY) {
      const results = await Promise.allSettled(keys.slice(i, i + BLOB_DELETE_CONCURRENCY).map((k) => this.deps.deleteBlob(k.region, k.blob_key)));
      failed += results.filter((r) => r.status === 'rejected').length;
    }
    if (failed > 0) this.deps.logger?.warn({ runId: this.runId, failed }, 'could not delete the ciphertext of some shredded objects');
  }
}
