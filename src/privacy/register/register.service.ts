// Editing the processing register and the sub-processor register: every input validated with
// an error that names the field, every change recorded (who, when, what, effective when) in
// privacy_register_changes and on the system audit chain, in the same transaction.
//
// Who may edit: the operator of the installation, through the CLI (`sealpost privacy …`, whose
// caller has the server's configuration and database) or the operator's API and page (users
// listed in OPERATOR_EMAILS; src/http/routes/operator-register.routes.ts). docs/privacy.md,
// "Who may edit".
import { z } from 'zod';
import { appendAuditEvent } from '../../audit/audit.service.ts';
import { errors } from '../../shared/app-error.ts';
import type { Clock } from '../../shared/clock.ts';
import { systemClock } from '../../shared/clock.ts';
import { REGIONS } from '../../shared/regions.ts';
import type { Database, Sql } from '../../storage/database/database.ts';
import { DATA_CATEGORIES, RETENTION_RULES, type RetentionRule } from '../../storage/database/registry.ts';
import { LAWFUL_BASES, RECIPIENT_KINDS, type Purpose, type RegisterAction, type RegisterActor, type RegisterEntity, type RegisterSettings, type Subprocessor } from './purpose.model.ts';
import * as repo from './register.repository.ts';

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
const optionalText = (max: number) => text(max).nullable();
const bases = z
  .array(z.enum(LAWFUL_BASES, { error: `must be one of ${LAWFUL_BASES.join(', ')}` }))
  .max(LAWFUL_BASES.length)
  .refine((b) => new Set(b).size === b.length, 'must not repeat a basis')
  .refine((b) => !b.includes('not_applicable') || b.length === 1, 'not_applicable cannot be combined with a basis');
const categories = z
  .array(z.enum(DATA_CATEGORIES, { error: `must be one of ${DATA_CATEGORIES.join(', ')}` }))
  .refine((c) => new Set(c).size === c.length, 'must not repeat a category');
const retentionRules = z
  .array(z.string().refine((r) => Object.hasOwn(RETENTION_RULES, r), { error: `must name a retention rule of the registry: ${Object.keys(RETENTION_RULES).join(', ')}` }))
  .min(1, 'must name at least one rule, or be null to follow the registry')
  .nullable();
const date = z.coerce.date({ error: 'must be a date such as 2027-01-31 or an ISO-8601 time' });

/** What an edit of a purpose may change. */
export const purposePatchSchema = z
  .object({
    groupKey: z.string().regex(/^[a-z0-9_]{1,80}$/, 'must be 1–80 of a-z, 0-9 and _'),
    groupTitle: text(200),
    position: z.number().int().min(0).max(1_000_000),
    name: text(1000),
    reasons: optionalText(10_000),
    basisIndividual: bases,
    basisBusiness: bases,
    categories,
    dataSubjects: z.array(text(500)).max(20),
    recipients: z.array(z.string().regex(/^[a-z0-9_]{1,80}$/, 'must be sub-processor keys')).max(100),
    retentionRules,
    transfers: optionalText(10_000),
    transferSafeguards: optionalText(10_000),
    notes: optionalText(10_000),
  })
  .partial()
  .strict();

/** An edit of a purpose. */
export type PurposePatch = z.infer<typeof purposePatchSchema>;

/** A new purpose. */
export const newPurposeSchema = purposePatchSchema.required({ groupKey: true, groupTitle: true, name: true }).extend({
  key: z.string().regex(/^[a-z0-9_.]{1,120}$/, 'must be 1–120 of a-z, 0-9, _ and .'),
});

/** What an edit of a sub-processor may change. */
export const subprocessorPatchSchema = z
  .object({
    kind: z.enum(RECIPIENT_KINDS, { error: `must be one of ${RECIPIENT_KINDS.join(', ')}` }),
    position: z.number().int().min(0).max(1_000_000),
    name: text(300),
    purpose: text(10_000),
    basisIndividual: bases,
    basisBusiness: bases,
    categories,
    categoriesNote: optionalText(2000),
    location: optionalText(2000),
    regions: z.array(z.enum(REGIONS, { error: `must be one of ${REGIONS.join(', ')}` })).refine((r) => new Set(r).size === r.length, 'must not repeat a region'),
    transferSafeguards: optionalText(10_000),
  })
  .partial()
  .strict();

/** An edit of a sub-processor. */
export type SubprocessorPatch = z.infer<typeof subprocessorPatchSchema>;

/** A new sub-processor; `effectiveFrom` in the future gives advance notice. */
export const newSubprocessorSchema = subprocessorPatchSchema.required({ name: true, purpose: true }).extend({
  key: z.string().regex(/^[a-z0-9_]{1,80}$/, 'must be 1–80 of a-z, 0-9 and _'),
  effectiveFrom: date.optional(),
});

/** What an edit of the controller settings may change. */
export const settingsPatchSchema = z
  .object({
    controllerName: optionalText(300),
    controllerContact: optionalText(1000),
    dpoContact: optionalText(1000),
    representative: optionalText(1000),
    organisationalMeasures: optionalText(10_000),
    transferStatement: optionalText(10_000),
  })
  .partial()
  .strict();

/** An edit of the controller settings. */
export type SettingsPatch = z.infer<typeof settingsPatchSchema>;

function parse<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || what}: ${i.message}`);
  throw errors.invalid('privacy_register_invalid', `invalid ${what}: ${problems.join('; ')}`, { problems });
}

/** Field-by-field differences between `before` and the values of `patch`. */
function diff<T extends object>(before: T, patch: Partial<T>): Record<string, { from: unknown; to: unknown }> {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const [field, to] of Object.entries(patch)) {
    if (to === undefined) continue;
    const from = (before as Record<string, unknown>)[field];
    if (JSON.stringify(from ?? null) !== JSON.stringify(to)) changes[field] = { from: from ?? null, to };
  }
  return changes;
}

/** A recorded change as listeners see it (inside the transaction that made it). */
export interface RecordedRegisterChange {
  id: string;
  entity: RegisterEntity;
  entityKey: string | null;
  action: RegisterAction;
  summary: string;
  effectiveAt: Date;
}

/** Runs inside the change's transaction: what it writes (e.g. queued alert jobs) commits or rolls back with the change. */
export type RegisterChangeListener = (tx: Sql, change: RecordedRegisterChange) => Promise<void>;

/** Edits the registers; reads go straight to ./register.repository.ts. */
export class RegisterService {
  private readonly now: Clock;
  private readonly listeners: RegisterChangeListener[] = [];

  constructor(
    private readonly db: Database,
    opts: { now?: Clock } = {},
  ) {
    this.now = opts.now ?? systemClock;
  }

  /** Calls `listener` for every change recorded from now on (sub-processor alerts subscribe here). */
  onChange(listener: RegisterChangeListener): void {
    this.listeners.push(listener);
  }

  /** Changes fields of a purpose; a no-op edit records nothing. */
  async updatePurpose(actor: RegisterActor, key: string, input: unknown): Promise<Purpose> {
    const patch = parse(purposePatchSchema, input, 'purpose');
    return this.db.transaction(async (tx) => {
      const before = await this.purposeOrThrow(tx, key, true);
      if (patch.recipients) await this.checkRecipients(tx, patch.recipients);
      const changes = diff(before, patch as Partial<Purpose>);
      if (Object.keys(changes).length === 0) return before;
      const now = this.now();
      const after = await repo.updatePurposeRow(tx, key, patch as Partial<Purpose>, now);
      await this.record(tx, actor, { entity: 'purpose', entityKey: key, action: 'updated', summary: `purpose ${key}: changed ${Object.keys(changes).join(', ')}`, changes, effectiveAt: now }, now);
      return after;
    });
  }

  /** Adds a purpose of the operator's own. */
  async addPurpose(actor: RegisterActor, input: unknown): Promise<Purpose> {
    const p = parse(newPurposeSchema, input, 'purpose');
    return this.db.transaction(async (tx) => {
      if (await repo.findPurpose(tx, p.key)) throw errors.conflict('purpose_exists', `a purpose with key ${p.key} already exists`);
      if (p.recipients) await this.checkRecipients(tx, p.recipients);
      const now = this.now();
      const created = await repo.insertPurpose(
        tx,
        {
          key: p.key,
          groupKey: p.groupKey,
          groupTitle: p.groupTitle,
          position: p.position ?? (await repo.maxPosition(tx, 'privacy_purposes')) + 10,
          name: p.name,
          reasons: p.reasons ?? null,
          basisIndividual: p.basisIndividual ?? [],
          basisBusiness: p.basisBusiness ?? [],
          categories: p.categories ?? [],
          dataSubjects: p.dataSubjects ?? [],
          recipients: p.recipients ?? [],
          retentionRules: (p.retentionRules as RetentionRule[] | null | undefined) ?? null,
          transfers: p.transfers ?? null,
          transferSafeguards: p.transferSafeguards ?? null,
          notes: p.notes ?? null,
        },
        now,
      );
      await this.record(tx, actor, { entity: 'purpose', entityKey: p.key, action: 'created', summary: `purpose ${p.key} added`, changes: diff({}, p as Record<string, unknown>), effectiveAt: now }, now);
      return created;
    });
  }

  /** Withdraws a purpose (kept, marked retired) or restores it. */
  async setPurposeRetired(actor: RegisterActor, key: string, retired: boolean): Promise<Purpose> {
    return this.db.transaction(async (tx) => {
      const before = await this.purposeOrThrow(tx, key, true);
      if ((before.retiredAt !== null) === retired) return before;
      const now = this.now();
      const after = await repo.updatePurposeRow(tx, key, { retiredAt: retired ? now : null }, now);
      await this.record(
        tx,
        actor,
        { entity: 'purpose', entityKey: key, action: retired ? 'retired' : 'restored', summary: `purpose ${key} ${retired ? 'retired' : 'restored'}`, changes: { retiredAt: { from: before.retiredAt, to: after.retiredAt } }, effectiveAt: now },
        now,
      );
      return after;
    });
  }

  /** Changes the controller details. */
  async updateSettings(actor: RegisterActor, input: unknown): Promise<RegisterSettings> {
    const patch = parse(settingsPatchSchema, input, 'settings');
    return this.db.transaction(async (tx) => {
      const before = await repo.getSettings(tx, true);
      const changes = diff(before, patch);
      if (Object.keys(changes).length === 0) return before;
      const now = this.now();
      const after = await repo.saveSettings(tx, patch, actorLabel(actor), now);
      await this.record(tx, actor, { entity: 'settings', entityKey: null, action: 'updated', summary: `controller settings: changed ${Object.keys(changes).join(', ')}`, changes, effectiveAt: now }, now);
      return after;
    });
  }

  /** Adds a sub-processor, engaged from `effectiveFrom` (default now; later gives advance notice). */
  async addSubprocessor(actor: RegisterActor, input: unknown): Promise<Subprocessor> {
    const s = parse(newSubprocessorSchema, input, 'sub-processor');
    return this.db.transaction(async (tx) => {
      if (await repo.findSubprocessor(tx, s.key)) throw errors.conflict('subprocessor_exists', `a sub-processor with key ${s.key} already exists`);
      const now = this.now();
      const effectiveFrom = s.effectiveFrom ?? now;
      const created = await repo.insertSubprocessor(
        tx,
        {
          key: s.key,
          kind: s.kind ?? 'sub_processor',
          position: s.position ?? (await repo.maxPosition(tx, 'privacy_subprocessors')) + 10,
          name: s.name,
          purpose: s.purpose,
          basisIndividual: s.basisIndividual ?? [],
          basisBusiness: s.basisBusiness ?? [],
          categories: s.categories ?? [],
          categoriesNote: s.categoriesNote ?? null,
          location: s.location ?? null,
          regions: s.regions ?? [],
          transferSafeguards: s.transferSafeguards ?? null,
          effectiveFrom,
          endsAt: null,
        },
        now,
      );
      const planned = effectiveFrom.getTime() > now.getTime();
      await this.record(
        tx,
        actor,
        {
          entity: 'subprocessor',
          entityKey: s.key,
          action: 'created',
          summary: `${s.name} ${planned ? `will be engaged from ${effectiveFrom.toISOString().slice(0, 10)}` : 'engaged'}`,
          changes: diff({}, { name: created.name, purpose: created.purpose, categories: created.categories, location: created.location, effectiveFrom: created.effectiveFrom }),
          effectiveAt: effectiveFrom,
        },
        now,
      );
      return created;
    });
  }

  /** Changes fields of a sub-processor; `effectiveAt` records when the change applies (advance notice). */
  async updateSubprocessor(actor: RegisterActor, key: string, input: unknown, effectiveAt?: Date): Promise<Subprocessor> {
    const patch = parse(subprocessorPatchSchema, input, 'sub-processor');
    return this.db.transaction(async (tx) => {
      const before = await this.subprocessorOrThrow(tx, key, true);
      const changes = diff(before, patch as Partial<Subprocessor>);
      if (Object.keys(changes).length === 0) return before;
      const now = this.now();
      const after = await repo.updateSubprocessorRow(tx, key, patch as Partial<Subprocessor>, now);
      await this.record(tx, actor, { entity: 'subprocessor', entityKey: key, action: 'updated', summary: `${after.name}: changed ${Object.keys(changes).join(', ')}`, changes, effectiveAt: effectiveAt ?? now }, now);
      return after;
    });
  }

  /** Stops using a sub-processor from `endsAt` (default now; later is a planned removal, announced in advance). */
  async removeSubprocessor(actor: RegisterActor, key: string, endsAt?: Date): Promise<Subprocessor> {
    return this.db.transaction(async (tx) => {
      const before = await this.subprocessorOrThrow(tx, key, true);
      const now = this.now();
      const ends = endsAt ?? now;
      if (before.endsAt && before.endsAt.getTime() <= now.getTime()) throw errors.conflict('subprocessor_removed', `${before.name} was already removed on ${before.endsAt.toISOString().slice(0, 10)}`);
      const after = await repo.updateSubprocessorRow(tx, key, { endsAt: ends }, now);
      const planned = ends.getTime() > now.getTime();
      await this.record(
        tx,
        actor,
        {
          entity: 'subprocessor',
          entityKey: key,
          action: planned ? 'removal_planned' : 'removed',
          summary: `${before.name} ${planned ? `will no longer be used from ${ends.toISOString().slice(0, 10)}` : 'no longer used'}`,
          changes: { endsAt: { from: before.endsAt, to: ends } },
          effectiveAt: ends,
        },
        now,
      );
      return after;
    });
  }

  private async purposeOrThrow(sql: Sql, key: string, forUpdate: boolean): Promise<Purpose> {
    const p = await repo.findPurpose(sql, key, forUpdate);
    if (!p) throw errors.notFound('purpose_not_found', `no purpose with key ${key}; list them with "sealpost privacy purposes"`);
    return p;
  }

  private async subprocessorOrThrow(sql: Sql, key: string, forUpdate: boolean): Promise<Subprocessor> {
    const s = await repo.findSubprocessor(sql, key, forUpdate);
    if (!s) throw errors.notFound('subprocessor_not_found', `no sub-processor with key ${key}; list them with "sealpost privacy subprocessors"`);
    return s;
  }

  private async checkRecipients(sql: Sql, keys: string[]): Promise<void> {
    const known = new Set((await repo.listSubprocessors(sql)).map((s) => s.key));
    const unknown = keys.filter((k) => !known.has(k));
    if (unknown.length > 0) throw errors.invalid('privacy_register_invalid', `invalid purpose: recipients: unknown sub-processor ${unknown.join(', ')}`, { problems: unknown });
  }

  private async record(sql: Sql, actor: RegisterActor, change: Omit<Parameters<typeof repo.recordChange>[1], 'actor'>, now: Date): Promise<void> {
    const id = await repo.recordChange(sql, { ...change, actor }, now);
    for (const listener of this.listeners) await listener(sql, { id, entity: change.entity, entityKey: change.entityKey, action: change.action, summary: change.summary, effectiveAt: change.effectiveAt });
    await appendAuditEvent(sql, {
      actor: { type: actor.type, ...(actor.id ? { id: actor.id } : {}) },
      action: `privacy_register.${change.entity}_${change.action}`,
      target: { type: `privacy_${change.entity}`, ...(change.entityKey ? { id: change.entityKey } : {}) },
      outcome: 'success',
      // Field names only: values may include contact details and are kept in the register's history.
      details: { fields: Object.keys(change.changes), effectiveAt: change.effectiveAt.toISOString() },
    });
  }
}

function actorLabel(actor: RegisterActor): string | null {
  return actor.id ?? actor.type;
}
