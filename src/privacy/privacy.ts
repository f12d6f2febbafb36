// The privacy-operations capability, assembled: the processing register (seeded at start-up,
// edited by the operator), and what is generated from it joined with the category registry —
// the record of processing, the public notice and the public sub-processor register.
import type { Clock } from '../shared/clock.ts';
import { systemClock } from '../shared/clock.ts';
import type { Database } from '../storage/database/database.ts';
import type { TableDeclaration } from '../storage/database/registry.ts';
import { buildPrivacyNotice, type PrivacyNotice } from './privacy-notice.ts';
import { buildRecordOfProcessing, type RecordOfProcessing } from './record-of-processing.ts';
import type { Purpose, RegisterChange, RegisterEntity, RegisterSettings, Subprocessor } from './register/purpose.model.ts';
import * as repo from './register/register.repository.ts';
import { seedRegister, type SeedResult } from './register/register.seed.ts';
import { RegisterService } from './register/register.service.ts';
import { buildSubprocessorList, type SubprocessorList } from './subprocessors.ts';

/** What the runtime, HTTP layer and CLI use. */
export interface Privacy {
  db: Database;
  /** Edits (operator only: the CLI). */
  register: RegisterService;
  /** Seeds the register once per seed version; called at start-up. */
  seed(): Promise<SeedResult>;
  purposes(): Promise<Purpose[]>;
  subprocessors(): Promise<Subprocessor[]>;
  settings(): Promise<RegisterSettings>;
  history(opts?: { entity?: RegisterEntity }): Promise<RegisterChange[]>;
  /** The record of processing; `tenantId` limits the processor record's controllers to that customer. */
  recordOfProcessing(opts?: { tenantId?: string }): Promise<RecordOfProcessing>;
  notice(): Promise<PrivacyNotice>;
  publicSubprocessors(): Promise<SubprocessorList>;
}

/** Builds the capability over `db`. `registry` is for tests that describe another schema. */
export function createPrivacy(deps: { db: Database; now?: Clock; registry?: Record<string, TableDeclaration> }): Privacy {
  const db = deps.db;
  const now = deps.now ?? systemClock;
  const register = new RegisterService(db, { now });
  const registry = deps.registry ? { registry: deps.registry } : {};
  return {
    db,
    register,
    seed: () => seedRegister(db, now()),
    purposes: () => repo.listPurposes(db),
    subprocessors: () => repo.listSubprocessors(db),
    settings: () => repo.getSettings(db),
    history: (opts = {}) => repo.listChanges(db, opts),
    async recordOfProcessing(opts = {}) {
      const [purposes, subprocessors, settings] = [await repo.listPurposes(db), await repo.listSubprocessors(db), await repo.getSettings(db)];
      const { rows } = await db.query<{ id: string; name: string; region: string }>(
        `SELECT id, name, region FROM tenants WHERE ($1::uuid IS NULL OR id = $1) ORDER BY created_at, id`,
        [opts.tenantId ?? null],
      );
      return buildRecordOfProcessing({ purposes, subprocessors, settings, controllers: rows, now: now(), ...registry });
    },
    async notice() {
      const [purposes, subprocessors, settings] = [await repo.listPurposes(db), await repo.listSubprocessors(db), await repo.getSettings(db)];
      return buildPrivacyNotice({ purposes, subprocessors, settings, now: now(), ...registry });
    },
    async publicSubprocessors() {
      const [subprocessors, changes] = [await repo.listSubprocessors(db), await repo.listChanges(db)];
      return buildSubprocessorList({ subprocessors, changes, now: now() });
    },
  };
}
