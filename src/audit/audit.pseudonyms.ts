// Pseudonymised audit events (erasure, issue #6): an event's personal fields may be replaced by
// pseudonyms after the fact without breaking the chain. The row keeps its original `hash` (so
// the next row still links to it); the row as it now reads verifies against `redacted_hash` in
// audit_pseudonymisations, and each set of pseudonymised rows is attested by a later event in
// the same chain (action 'audit.pseudonymised', details.digest = pseudonymisationDigest(rows)).
// Editing a pseudonymised row, or the overlay, is therefore still detected. See docs/privacy.md.
import { sha256Hex } from '../crypto/hash.ts';
import { toHex } from '../crypto/format/bytes.ts';
import type { Sql } from '../storage/database/database.ts';

/** The action of the event that attests a set of pseudonymised rows. */
export const PSEUDONYMISED_ACTION = 'audit.pseudonymised';

/** One pseudonymised row: its position and the hash of the row as it now reads. */
export interface PseudonymisedRow {
  chainSeq: string;
  redactedHash: Uint8Array;
}

/** SHA-256 (hex) over "seq:hash-hex\n" lines sorted by position: what the attesting event records. */
export function pseudonymisationDigest(rows: PseudonymisedRow[]): string {
  const lines = [...rows]
    .sort((a, b) => (BigInt(a.chainSeq) < BigInt(b.chainSeq) ? -1 : BigInt(a.chainSeq) > BigInt(b.chainSeq) ? 1 : 0))
    .map((r) => `${r.chainSeq}:${toHex(r.redactedHash)}\n`)
    .join('');
  return sha256Hex(lines);
}

/** A chain's overlay: the latest redacted hash per position, and the rows of each attesting event. */
export interface ChainPseudonyms {
  latest: Map<string, { eventId: string; redactedHash: Uint8Array }>;
  byEvent: Map<string, PseudonymisedRow[]>;
}

/** Reads a chain's overlay (one row per pseudonymised event and erasure: small). */
export async function readChainPseudonyms(sql: Sql, chain: string): Promise<ChainPseudonyms> {
  const { rows } = await sql.query<{ chain_seq: string; event_id: string; redacted_hash: Uint8Array }>(
    'SELECT chain_seq, event_id, redacted_hash FROM audit_pseudonymisations WHERE chain = $1 ORDER BY chain_seq, redacted_at',
    [chain],
  );
  const latest: ChainPseudonyms['latest'] = new Map();
  const byEvent: ChainPseudonyms['byEvent'] = new Map();
  for (const r of rows) {
    latest.set(String(r.chain_seq), { eventId: r.event_id, redactedHash: r.redacted_hash });
    const list = byEvent.get(r.event_id) ?? [];
    list.push({ chainSeq: String(r.chain_seq), redactedHash: r.redacted_hash });
    byEvent.set(r.event_id, list);
  }
  return { latest, byEvent };
}

/** Records the rows an attesting event covers (inside the transaction that appended it). */
export async function insertPseudonymisations(sql: Sql, chain: string, eventId: string, rows: PseudonymisedRow[], at: Date): Promise<void> {
  if (rows.length === 0) return;
  await sql.query(
    `INSERT INTO audit_pseudonymisations (chain, chain_seq, event_id, redacted_hash, redacted_at)
     SELECT $1, s, $2, decode(h, 'hex'), $3 FROM unnest($4::int8[], $5::text[]) AS t(s, h)`,
    // Hex text, not bytea[]: the two drivers encode arrays of bytes differently.
    [chain, eventId, at, rows.map((r) => r.chainSeq), rows.map((r) => toHex(r.redactedHash))],
  );
}
