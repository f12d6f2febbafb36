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
// Fast path: once the batcher has appended to a chain it knows the chain's head, and the next
// batch is one INSERT that continues from it, with no transaction around it; the statement
// takes the chain's lock itself (appendAuditEventsAfter). If anyone else appended in between (another process, or a locked
// append in this one), that INSERT stores nothing and the batch takes the locked path above,
// which reads the real head. Under load this took the audit write of a key release from five
// round trips per batch to one (bench:api, docs/development.md).
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
import { appendAuditEvent, appendAuditEvents, appendAuditEventsAfter, type ChainPosition } from './audit.service.ts';

/** Most events appended in one transaction (16 parameters each; PostgreSQL allows 65 535). */
const MAX_BATCH = 256;
/** Most chain heads remembered (one per tenant that had events); the oldest is forgotten first. */
const MAX_KNOWN_HEADS = 10_000;

/** Queues audit events per chain and appends each chain's waiting events in one transaction. */
export class AuditBatcher {
  private readonly queue: GroupCommit<AuditEventInput, AuditEventRecord>;
  /** The last event this batcher appended to each chain. */
  private readonly heads = new Map<string, ChainPosition>();

  constructor(
    private readonly db: Database,
    maxBatch = MAX_BATCH,
  ) {
    this.queue = new GroupCommit((chain, batch) => this.appendBatch(chain, batch), maxBatch);
  }

  /** Appends one event; resolves with it as stored once it is committed. */
  append(input: AuditEventInput): Promise<AuditEventRecord> {
    return this.queue.add(input.tenantId ?? SYSTEM_CHAIN, input);
  }

  private async appendBatch(chain: string, batch: Queued<AuditEventInput, AuditEventRecord>[]): Promise<void> {
    const inputs = batch.map((p) => p.item);
    try {
      const known = this.heads.get(chain);
      const records = (known && (await appendAuditEventsAfter(this.db, known, inputs))) || (await appendAuditEvents(this.db, inputs));
      this.remember(chain, records.at(-1)!);
      batch.forEach((p, i) => p.resolve(records[i]!));
    } catch (err) {
      this.heads.delete(chain);
      if (batch.length === 1) return batch[0]!.reject(err);
      // One invalid event (or a failed transaction) must not fail the others: each alone, in order.
      for (const p of batch) await appendAuditEvent(this.db, p.item).then(p.resolve, p.reject);
    }
  }

  private remember(chain: string, last: AuditEventRecord): void {
    this.heads.delete(chain);
    if (this.heads.size >= MAX_KNOWN_HEADS) this.heads.delete(this.heads.keys().next().value!);
    this.heads.set(chain, { chainSeq: last.chainSeq, hash: last.hash });
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
