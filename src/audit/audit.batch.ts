// Group commit for audit events that do not have to commit together with another write.
//
// Appends to one chain are serialised: the chain's advisory lock is held from the head read to
// the commit, so a chain takes one append per hold. Under load each hold is several round
// trips (lock, head, INSERT, COMMIT), each waiting for a busy event loop, which caps a chain at
// a few hundred appends a second; every request that appends queues behind it (bench:api,
// docs/development.md#benchmarks). The batcher queues this process's events per chain and
// appends all that are waiting in one transaction — one lock, one head read, one INSERT, one
// commit — so the hold is shared by the whole batch (the queueing is GroupCommit's,
// src/storage/database/group-commit.ts). When the chain is idle an event goes out
// at once, alone: batching adds no wait, it only forms while a hold is under way.
//
// What stays true: events are chained in the order of append() calls from this process; each
// promise settles only once its event is committed (or has failed); other processes and
// appendAuditEvent still serialise on the same lock, so the chain verifies whoever appended.
// Use it only where the event records something already done or about to be returned: when
// the event must commit or roll back with a change, call appendAuditEvent inside that
// change's transaction instead.
import type { Database } from '../storage/database/database.ts';
import { GroupCommit, type Queued } from '../storage/database/group-commit.ts';
import { SYSTEM_CHAIN, type AuditEventInput, type AuditEventRecord } from './audit.model.ts';
import { appendAuditEvent, appendAuditEvents } from './audit.service.ts';

/** Most events appended in one transaction (16 parameters each; PostgreSQL allows 65 535). */
const MAX_BATCH = 256;

/** Queues audit events per chain and appends each chain's waiting events in one transaction. */
export class AuditBatcher {
  private readonly queue: GroupCommit<AuditEventInput, AuditEventRecord>;

  constructor(
    private readonly db: Database,
    maxBatch = MAX_BATCH,
  ) {
    this.queue = new GroupCommit((_chain, batch) => this.appendBatch(batch), maxBatch);
  }

  /** Appends one event; resolves with it as stored once it is committed. */
  append(input: AuditEventInput): Promise<AuditEventRecord> {
    return this.queue.add(input.tenantId ?? SYSTEM_CHAIN, input);
  }

  private async appendBatch(batch: Queued<AuditEventInput, AuditEventRecord>[]): Promise<void> {
    try {
      const records = await appendAuditEvents(this.db, batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(records[i]!));
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      // One invalid event (or a failed transaction) must not fail the others: each alone, in order.
      for (const p of batch) await appendAuditEvent(this.db, p.item).then(p.resolve, p.reject);
    }
  }
}

const batchers = new WeakMap<Database, AuditBatcher>();

/** The batcher of a Database (one per Database, so one queue per chain in this process). */
export function auditBatcher(db: Database): AuditBatcher {
  let batcher = batchers.get(db);
  if (!batcher) {
    batcher = new AuditBatcher(db);
    batchers.set(db, batcher);
  }
  return batcher;
}
