// Checkpoints of audit chains whose oldest events retention deleted (src/privacy/retention/).
// Verification starts at the checkpoint: position first_seq, whose prev_hash must be the stored
// hash of the last deleted event. The checkpoint row itself is not hashed, so each move of it is
// confirmed by an 'audit.pruned' event appended to the same chain in the same transaction; a
// checkpoint no chained event confirms is reported ('checkpoint_unconfirmed').
import { toHex } from '../crypto/format/bytes.ts';
import type { Sql } from '../storage/database/database.ts';
import type { AuditChainHead, AuditEventRecord } from './audit.model.ts';

/** Action of the event that confirms a checkpoint. */
export const AUDIT_PRUNED_ACTION = 'audit.pruned';

/** Where a pruned chain starts. */
export interface AuditCheckpoint {
  /** First position still stored. */
  firstSeq: bigint;
  /** Hash of the last deleted event. */
  prevHash: Uint8Array;
}

/** The chain's checkpoint, or null when nothing was ever pruned. */
export async function readChainCheckpoint(sql: Sql, chain: string): Promise<AuditCheckpoint | null> {
  const { rows } = await sql.query<{ first_seq: string; prev_hash: Uint8Array }>(`SELECT first_seq, prev_hash FROM audit_checkpoints WHERE chain = $1`, [chain]);
  const r = rows[0];
  return r ? { firstSeq: BigInt(r.first_seq), prevHash: r.prev_hash } : null;
}

/** True when `row` is the chained event that records exactly this checkpoint. */
export function confirmsCheckpoint(row: Pick<AuditEventRecord, 'action' | 'details'>, checkpoint: AuditCheckpoint): boolean {
  return row.action === AUDIT_PRUNED_ACTION && row.details['firstKeptSeq'] === checkpoint.firstSeq.toString() && row.details['prevHash'] === toHex(checkpoint.prevHash);
}

/**
 * Splits anchors into those still checkable and those below the checkpoint. An anchor at the
 * last deleted position is checked against the checkpoint's hash; older ones were pruned and
 * can no longer be checked (returned as `pruned`, so callers can say so).
 */
export function anchorsAfterCheckpoint(anchors: AuditChainHead[], checkpoint: AuditCheckpoint | null): { kept: AuditChainHead[]; mismatched: AuditChainHead[]; pruned: AuditChainHead[] } {
  if (!checkpoint) return { kept: anchors, mismatched: [], pruned: [] };
  const kept: AuditChainHead[] = [];
  const mismatched: AuditChainHead[] = [];
  const pruned: AuditChainHead[] = [];
  for (const a of anchors) {
    const seq = BigInt(a.chainSeq);
    if (seq >= checkpoint.firstSeq || a.chainSeq === 0) kept.push(a);
    else if (seq === checkpoint.firstSeq - 1n) (a.hash.toLowerCase() === toHex(checkpoint.prevHash) ? pruned : mismatched).push(a);
    else pruned.push(a);
  }
  return { kept, mismatched, pruned };
}
