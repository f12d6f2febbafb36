// SQL for communication preferences, their history, double opt-in confirmations and one-click
// unsubscribe links. Tokens are only ever stored as SHA-256 hashes.
import type { Sql } from '../../storage/database/database.ts';
import type { CommunicationKind, PreferenceChange, PreferenceSource, PreferenceState } from './consent.model.ts';

/** A stored preference row. */
export interface PreferenceRow {
  id: string;
  email: string;
  kind: CommunicationKind;
  state: PreferenceState;
  via: PreferenceSource['via'];
  notice_version: string | null;
  updated_at: Date;
}

/** The stored preferences of one address. */
export async function findPreferences(sql: Sql, email: string): Promise<PreferenceRow[]> {
  const { rows } = await sql.query<PreferenceRow>(`SELECT id, email, kind, state, via, notice_version, updated_at FROM communication_preferences WHERE email = $1`, [email]);
  return rows;
}

/** One preference, locked for update (inside a transaction). */
export async function lockPreference(sql: Sql, email: string, kind: CommunicationKind): Promise<PreferenceRow | undefined> {
  const { rows } = await sql.query<PreferenceRow>(
    `SELECT id, email, kind, state, via, notice_version, updated_at FROM communication_preferences WHERE email = $1 AND kind = $2 FOR UPDATE`,
    [email, kind],
  );
  return rows[0];
}

/** A preference by id (job payloads carry ids, not addresses). */
export async function findPreferenceById(sql: Sql, id: string): Promise<PreferenceRow | undefined> {
  const { rows } = await sql.query<PreferenceRow>(`SELECT id, email, kind, state, via, notice_version, updated_at FROM communication_preferences WHERE id = $1`, [id]);
  return rows[0];
}

/** Inserts or updates a preference; returns its id. */
export async function savePreference(sql: Sql, row: { email: string; kind: CommunicationKind; state: PreferenceState; via: PreferenceSource['via']; noticeVersion: string | null; at: Date }): Promise<string> {
  const { rows } = await sql.query<{ id: string }>(
    `INSERT INTO communication_preferences (id, email, kind, state, via, notice_version, updated_at)
     VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6)
     ON CONFLICT (email, kind) DO UPDATE SET state = EXCLUDED.state, via = EXCLUDED.via, notice_version = EXCLUDED.notice_version, updated_at = EXCLUDED.updated_at
     RETURNING id`,
    [row.email, row.kind, row.state, row.via, row.noticeVersion, row.at],
  );
  return rows[0]!.id;
}

/** Appends one change to the history. */
export async function insertChange(
  sql: Sql,
  c: { email: string; kind: CommunicationKind; from: PreferenceState | 'unset'; to: PreferenceState; source: PreferenceSource; actorId: string | null; at: Date },
): Promise<void> {
  await sql.query(
    `INSERT INTO communication_preference_changes (id, email, kind, from_state, to_state, via, request_id, actor_id, notice_version, changed_at)
     VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [c.email, c.kind, c.from, c.to, c.source.via, c.source.requestId ?? null, c.actorId, c.source.noticeVersion ?? null, c.at],
  );
}

/** The history of one address, oldest first. */
export async function listChanges(sql: Sql, email: string): Promise<PreferenceChange[]> {
  const { rows } = await sql.query<{ seq: string; kind: CommunicationKind; from_state: PreferenceChange['from']; to_state: PreferenceState; via: PreferenceSource['via']; request_id: string | null; actor_id: string | null; notice_version: string | null; changed_at: Date }>(
    `SELECT seq, kind, from_state, to_state, via, request_id, actor_id, notice_version, changed_at FROM communication_preference_changes WHERE email = $1 ORDER BY seq`,
    [email],
  );
  return rows.map((r) => ({ seq: Number(r.seq), kind: r.kind, from: r.from_state, to: r.to_state, via: r.via, requestId: r.request_id, actorId: r.actor_id, noticeVersion: r.notice_version, changedAt: r.changed_at }));
}

/** True when processing for `email` is restricted (GDPR Art. 18; table of migration 0008). */
export async function isRestricted(sql: Sql, email: string): Promise<boolean> {
  const { rows } = await sql.query(`SELECT 1 FROM subject_restrictions WHERE email = $1`, [email]);
  return rows.length > 0;
}

/** People who currently receive `kind` (granted, not restricted), by address. */
export async function listSubscribers(sql: Sql, kind: CommunicationKind): Promise<Array<{ email: string; via: PreferenceSource['via']; since: Date }>> {
  const { rows } = await sql.query<{ email: string; via: PreferenceSource['via']; updated_at: Date }>(
    `SELECT p.email, p.via, p.updated_at FROM communication_preferences p
      WHERE p.kind = $1 AND p.state = 'granted' AND NOT EXISTS (SELECT 1 FROM subject_restrictions r WHERE r.email = p.email)
      ORDER BY p.updated_at, p.email`,
    [kind],
  );
  return rows.map((r) => ({ email: r.email, via: r.via, since: r.updated_at }));
}

/** Pending (unconfirmed, unexpired) double opt-in requests for `kind`. */
export async function countPendingConfirmations(sql: Sql, kind: CommunicationKind, now: Date): Promise<number> {
  const { rows } = await sql.query<{ n: string }>(`SELECT count(*) AS n FROM consent_confirmations WHERE kind = $1 AND confirmed_at IS NULL AND expires_at > $2`, [kind, now]);
  return Number(rows[0]!.n);
}

/** Stores a double opt-in request (its token is made when the email is sent); returns its id. */
export async function insertConfirmation(sql: Sql, c: { email: string; kind: CommunicationKind; noticeVersion: string | null; at: Date; expiresAt: Date }): Promise<string> {
  const { rows } = await sql.query<{ id: string }>(
    `INSERT INTO consent_confirmations (id, email, kind, notice_version, created_at, expires_at) VALUES (gen_random_uuid(), $1, $2, $3, $4, $5) RETURNING id`,
    [c.email, c.kind, c.noticeVersion, c.at, c.expiresAt],
  );
  return rows[0]!.id;
}

/** Sets the token hash of a pending confirmation that has not expired; false when there is none. */
export async function setConfirmationToken(sql: Sql, id: string, tokenHash: Uint8Array, now: Date): Promise<{ email: string; kind: CommunicationKind; expires_at: Date } | undefined> {
  const { rows } = await sql.query<{ email: string; kind: CommunicationKind; expires_at: Date }>(
    `UPDATE consent_confirmations SET token_hash = $2 WHERE id = $1 AND confirmed_at IS NULL AND expires_at > $3 RETURNING email, kind, expires_at`,
    [id, tokenHash, now],
  );
  return rows[0];
}

/** A stored confirmation by token hash. */
export async function findConfirmation(sql: Sql, tokenHash: Uint8Array, forUpdate = false): Promise<{ email: string; kind: CommunicationKind; notice_version: string | null; expires_at: Date; confirmed_at: Date | null } | undefined> {
  const { rows } = await sql.query<{ email: string; kind: CommunicationKind; notice_version: string | null; expires_at: Date; confirmed_at: Date | null }>(
    `SELECT email, kind, notice_version, expires_at, confirmed_at FROM consent_confirmations WHERE token_hash = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [tokenHash],
  );
  return rows[0];
}

/** Marks a confirmation used. */
export async function markConfirmed(sql: Sql, tokenHash: Uint8Array, at: Date): Promise<void> {
  await sql.query(`UPDATE consent_confirmations SET confirmed_at = $2 WHERE token_hash = $1`, [tokenHash, at]);
}

/** Stores an unsubscribe link under the hash of its token. */
export async function insertUnsubscribeLink(sql: Sql, l: { tokenHash: Uint8Array; email: string; kind: CommunicationKind; at: Date; expiresAt: Date }): Promise<void> {
  await sql.query(`INSERT INTO unsubscribe_links (token_hash, email, kind, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`, [l.tokenHash, l.email, l.kind, l.at, l.expiresAt]);
}

/** A stored unsubscribe link by token hash. */
export async function findUnsubscribeLink(sql: Sql, tokenHash: Uint8Array): Promise<{ email: string; kind: CommunicationKind; expires_at: Date; used_at: Date | null } | undefined> {
  const { rows } = await sql.query<{ email: string; kind: CommunicationKind; expires_at: Date; used_at: Date | null }>(
    `SELECT email, kind, expires_at, used_at FROM unsubscribe_links WHERE token_hash = $1`,
    [tokenHash],
  );
  return rows[0];
}

/** Records the first use of an unsubscribe link. */
export async function markUnsubscribeUsed(sql: Sql, tokenHash: Uint8Array, at: Date): Promise<void> {
  await sql.query(`UPDATE unsubscribe_links SET used_at = COALESCE(used_at, $2) WHERE token_hash = $1`, [tokenHash, at]);
}

/** Deletes links that have ended (retention rule consent_link_lifetime); returns how many. */
export async function deleteEndedLinks(sql: Sql, now: Date): Promise<number> {
  const a = await sql.query(`DELETE FROM consent_confirmations WHERE expires_at <= $1 OR confirmed_at <= $1::timestamptz - interval '30 days' RETURNING 1`, [now]);
  const b = await sql.query(`DELETE FROM unsubscribe_links WHERE expires_at <= $1 RETURNING 1`, [now]);
  return a.rows.length + b.rows.length;
}

/**
 * Queues one alert job per current subscriber of sub-processor changes, in the transaction of
 * the change (so a rolled-back change alerts nobody). Payloads carry ids only.
 */
export async function enqueueSubprocessorAlerts(sql: Sql, jobKind: string, changeId: string): Promise<number> {
  const { rows } = await sql.query(
    `INSERT INTO jobs (id, kind, payload, status, max_attempts, run_at)
     SELECT gen_random_uuid(), $1, jsonb_build_object('changeId', $2::text, 'preferenceId', p.id::text), 'queued', 8, now()
       FROM communication_preferences p
      WHERE p.kind = 'subprocessor_changes' AND p.state = 'granted'
        AND NOT EXISTS (SELECT 1 FROM subject_restrictions r WHERE r.email = p.email)
     RETURNING 1`,
    [jobKind, changeId],
  );
  return rows.length;
}
