// SQL for Prevent's tables (migration 0007_prevent.sql). Every statement is scoped by tenant:
// one tenant's model never reads another tenant's rows.
import type { Sql } from '../storage/database/database.ts';
import type { RecipientRole } from './prevent.model.ts';
import { prepared } from '../storage/database/prepared.ts';

/** An observation as stored: addresses in clear, subject words as term hashes. */
export interface StoredObservation {
  seq: string;
  messageId: string | null;
  source: ObservationSource;
  observedAt: Date;
  sender: string;
  recipients: Array<{ a: string; r: RecipientRole }>;
  terms: string[];
  threadKey: string | null;
  labelRank: number | null;
}

/** Where an observation came from. */
export type ObservationSource = 'sent' | 'received' | 'import';

/** A row to insert (seq is assigned by the database). */
export type NewObservation = Omit<StoredObservation, 'seq'>;

interface ObservationRow {
  seq: string;
  message_id: string | null;
  source: ObservationSource;
  observed_at: Date;
  sender: string;
  recipients: Array<{ a: string; r: RecipientRole }>;
  terms: string[];
  thread_key: string | null;
  label_rank: number | null;
}

const fromRow = (r: ObservationRow): StoredObservation => ({
  seq: String(r.seq),
  messageId: r.message_id,
  source: r.source,
  observedAt: r.observed_at,
  sender: r.sender,
  recipients: r.recipients,
  terms: r.terms,
  threadKey: r.thread_key,
  labelRank: r.label_rank,
});

/** Parameters per inserted observation (the tenant id is shared, $1). */
const PER_ROW = 8;

/** Inserts observations, many per statement. */
export async function insertObservations(sql: Sql, tenantId: string, rows: NewObservation[]): Promise<void> {
  for (let start = 0; start < rows.length; start += 500) {
    const chunk = rows.slice(start, start + 500);
    const params: unknown[] = [tenantId];
    const values = chunk.map((o, i) => {
      const b = 2 + i * PER_ROW;
      params.push(o.messageId, o.source, o.observedAt, o.sender, JSON.stringify(o.recipients), JSON.stringify(o.terms), o.threadKey, o.labelRank);
      return `($1, $${b}, $${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}::jsonb, $${b + 5}::jsonb, $${b + 6}, $${b + 7})`;
    });
    await sql.query(
      `INSERT INTO prevent_observations (tenant_id, message_id, source, observed_at, sender, recipients, terms, thread_key, label_rank) VALUES ${values.join(', ')}`,
      params,
    );
  }
}

/** Observations after `afterSeq` (exclusive) and no older than `since`, oldest first. */
export async function observationsAfter(sql: Sql, tenantId: string, afterSeq: string, since: Date, limit: number): Promise<StoredObservation[]> {
  const { rows } = await sql.query<ObservationRow>(
    prepared(`SELECT seq, message_id, source, observed_at, sender, recipients, terms, thread_key, label_rank
       FROM prevent_observations WHERE tenant_id = $1 AND seq > $2 AND observed_at >= $3 ORDER BY seq LIMIT $4`),
    [tenantId, afterSeq, since, limit],
  );
  return rows.map(fromRow);
}

/** Highest sequence number of the tenant's observations ('0' when there are none). */
export async function lastObservationSeq(sql: Sql, tenantId: string): Promise<string> {
  const { rows } = await sql.query<{ seq: string | null }>('SELECT max(seq) AS seq FROM prevent_observations WHERE tenant_id = $1', [tenantId]);
  return rows[0]?.seq === null || rows[0]?.seq === undefined ? '0' : String(rows[0].seq);
}

/** Deletes observations older than `before`, at most `limit` rows; returns how many went. */
export async function deleteObservationsBefore(sql: Sql, tenantId: string, before: Date, limit: number): Promise<number> {
  const { rowCount } = await sql.query(
    `DELETE FROM prevent_observations WHERE seq IN (SELECT seq FROM prevent_observations WHERE tenant_id = $1 AND observed_at < $2 LIMIT $3)`,
    [tenantId, before, limit],
  );
  return rowCount;
}

/** Deletes every observation that names `address` as sender or recipient; returns the count. */
export async function deleteObservationsOf(sql: Sql, tenantId: string, address: string): Promise<number> {
  const { rowCount } = await sql.query(`DELETE FROM prevent_observations WHERE tenant_id = $1 AND (sender = $2 OR recipients @> $3::jsonb)`, [
    tenantId,
    address,
    JSON.stringify([{ a: address }]),
  ]);
  return rowCount;
}

/** Deletes every decision about `address`; returns the count. */
export async function deleteDecisionsAbout(sql: Sql, tenantId: string, address: string): Promise<number> {
  const { rowCount } = await sql.query(`DELETE FROM prevent_decisions WHERE tenant_id = $1 AND recipients @> $2::jsonb`, [tenantId, JSON.stringify([address])]);
  return rowCount;
}

/** The tenant's wrapped term key, if one was made. */
export async function findTermKey(sql: Sql, tenantId: string): Promise<{ keyId: string; kekId: string; wrappedKey: Uint8Array } | null> {
  const { rows } = await sql.query<{ key_id: string; kek_id: string; wrapped_key: Uint8Array }>('SELECT key_id, kek_id, wrapped_key FROM prevent_keys WHERE tenant_id = $1', [tenantId]);
  const r = rows[0];
  return r ? { keyId: r.key_id, kekId: r.kek_id, wrappedKey: r.wrapped_key } : null;
}

/** Stores a new term key unless another process stored one first; returns whether this one won. */
export async function insertTermKey(sql: Sql, tenantId: string, k: { keyId: string; kekId: string; wrappedKey: Uint8Array }, now: Date): Promise<boolean> {
  const { rowCount } = await sql.query('INSERT INTO prevent_keys (tenant_id, key_id, kek_id, wrapped_key, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id) DO NOTHING', [
    tenantId,
    k.keyId,
    k.kekId,
    k.wrappedKey,
    now,
  ]);
  return rowCount === 1;
}

/** The tenant's stored settings (null: defaults) and its users' mail domains, as {@link findSettings} returns them. */
export interface FoundSettings {
  stored: { policy: unknown; rules: unknown; internalDomains: string[]; updatedAt: Date } | null;
  userDomains: string[];
}

interface SettingsRow {
  policy: unknown;
  rules: unknown;
  internal_domains: string[] | null;
  updated_at: Date | null;
  user_domains: string[] | null;
}

/** Settings columns; $1 is the tenant. The users' domains are read only when nothing is stored. */
const settingsSelect = (more: string) => `SELECT s.policy, s.rules, s.internal_domains, s.updated_at,
            CASE WHEN s.tenant_id IS NULL THEN ARRAY(SELECT DISTINCT split_part(email, '@', 2) FROM users WHERE tenant_id = $1 ORDER BY 1) END AS user_domains${more}
       FROM (SELECT 1) AS one LEFT JOIN prevent_settings s ON s.tenant_id = $1`;

const SETTINGS_SQL = prepared(settingsSelect(''));

/**
 * A sender's feedback as two more columns ($1 tenant, $2 user): the recipients they removed after
 * a warning since $3, and the warnings they dismissed (sent anyway or justified) at least $5
 * times since $4. Both read only the decisions that carry feedback (index
 * prevent_decisions_feedback_outcomes, migration 0021), however many were logged.
 */
const SETTINGS_AND_FEEDBACK_SQL = prepared(
  settingsSelect(`,
        (SELECT coalesce(jsonb_agg(jsonb_build_object('address', x.address, 'at', x.at)), '[]'::jsonb)
           FROM (SELECT r.address, max(d.decided_at) AS at FROM prevent_decisions d, jsonb_array_elements_text(d.recipients) AS r(address)
                  WHERE d.tenant_id = $1 AND d.user_id = $2 AND d.outcome = 'removed' AND d.decided_at >= $3
                  GROUP BY r.address) x) AS removed,
        ARRAY(SELECT context_key FROM prevent_decisions
               WHERE tenant_id = $1 AND user_id = $2 AND outcome IN ('sent_anyway', 'justified') AND decided_at >= $4
               GROUP BY context_key HAVING count(*) >= $5) AS dismissed`),
);

const toFoundSettings = (r: SettingsRow): FoundSettings => ({
  stored: r.updated_at ? { policy: r.policy, rules: r.rules, internalDomains: r.internal_domains ?? [], updatedAt: r.updated_at } : null,
  userDomains: r.user_domains ?? [],
});

/** Stored settings as JSON, or null for defaults; and, in the same query, the mail domains of the tenant's users (the default set of internal domains). */
export async function findSettings(sql: Sql, tenantId: string): Promise<FoundSettings> {
  const { rows } = await sql.query<SettingsRow>(SETTINGS_SQL, [tenantId]);
  return toFoundSettings(rows[0]!);
}

/** {@link findSettings} and a sender's {@link SenderFeedback} in one query (a check before a send). */
export async function findSettingsAndFeedback(
  sql: Sql,
  tenantId: string,
  userId: string,
  opts: { removedSince: Date; dismissedSince: Date; minDismissals: number },
): Promise<FoundSettings & { feedback: SenderFeedback }> {
  const { rows } = await sql.query<SettingsRow & { removed: Array<{ address: string; at: string }>; dismissed: string[] }>(SETTINGS_AND_FEEDBACK_SQL, [
    tenantId,
    userId,
    opts.removedSince,
    opts.dismissedSince,
    opts.minDismissals,
  ]);
  const row = rows[0]!;
  return {
    ...toFoundSettings(row),
    feedback: { removed: new Map(row.removed.map((r) => [r.address, new Date(r.at)])), dismissed: new Set(row.dismissed) },
  };
}

/** Creates or replaces the tenant's settings. */
export async function upsertSettings(sql: Sql, tenantId: string, s: { policy: unknown; rules: unknown; internalDomains: string[] }, by: string | null, now: Date): Promise<void> {
  await sql.query(
    `INSERT INTO prevent_settings (tenant_id, policy, rules, internal_domains, updated_at, updated_by) VALUES ($1, $2::jsonb, $3::jsonb, $4::jsonb, $5, $6)
     ON CONFLICT (tenant_id) DO UPDATE SET policy = EXCLUDED.policy, rules = EXCLUDED.rules, internal_domains = EXCLUDED.internal_domains, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
    [tenantId, JSON.stringify(s.policy), JSON.stringify(s.rules), JSON.stringify(s.internalDomains), now, by],
  );
}

/** Hashes of the addresses the tenant's model must not learn from. */
export async function exclusionHashes(sql: Sql, tenantId: string): Promise<Uint8Array[]> {
  const { rows } = await sql.query<{ address_hash: Uint8Array }>('SELECT address_hash FROM prevent_exclusions WHERE tenant_id = $1', [tenantId]);
  return rows.map((r) => r.address_hash);
}

/** Which of `addresses` (lower-case) belong to people whose processing is restricted (subject_restrictions). */
export async function restrictedAmong(sql: Sql, addresses: string[]): Promise<string[]> {
  if (addresses.length === 0) return [];
  const { rows } = await sql.query<{ email: string }>(prepared('SELECT email FROM subject_restrictions WHERE email = ANY($1::text[])'), [addresses]);
  return rows.map((r) => r.email);
}

/** Adds (or re-labels) an exclusion. */
export async function upsertExclusion(sql: Sql, tenantId: string, addressHash: Uint8Array, reason: 'restricted' | 'erased', now: Date): Promise<void> {
  await sql.query(
    `INSERT INTO prevent_exclusions (tenant_id, address_hash, reason, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id, address_hash) DO UPDATE SET reason = CASE WHEN prevent_exclusions.reason = 'erased' THEN 'erased' ELSE EXCLUDED.reason END`,
    [tenantId, addressHash, reason, now],
  );
}

/** Lifts a restriction (an erasure stays). Returns whether a restriction was lifted. */
export async function deleteRestriction(sql: Sql, tenantId: string, addressHash: Uint8Array): Promise<boolean> {
  const { rowCount } = await sql.query(`DELETE FROM prevent_exclusions WHERE tenant_id = $1 AND address_hash = $2 AND reason = 'restricted'`, [tenantId, addressHash]);
  return rowCount === 1;
}

/** One recorded decision on a warning. */
export interface DecisionRow {
  id: string;
  userId: string | null;
  messageId: string | null;
  decidedAt: Date;
  check: string;
  severity: string;
  mode: string;
  outcome: DecisionOutcome;
  recipients: string[];
  contextKey: string;
  justification: string | null;
}

/** What happened to a warning. */
export type DecisionOutcome = 'logged' | 'sent_anyway' | 'sent_unreviewed' | 'justified' | 'blocked' | 'removed' | 'suppressed';

/** Records decisions, one statement. */
export async function insertDecisions(sql: Sql, tenantId: string, rows: DecisionRow[]): Promise<void> {
  if (rows.length === 0) return;
  const params: unknown[] = [tenantId];
  const values = rows.map((d, i) => {
    const b = 2 + i * 11;
    params.push(d.id, d.userId, d.messageId, d.decidedAt, d.check, d.severity, d.mode, d.outcome, JSON.stringify(d.recipients), d.contextKey, d.justification);
    return `($${b}, $1, $${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7}, $${b + 8}::jsonb, $${b + 9}, $${b + 10})`;
  });
  await sql.query(
    `INSERT INTO prevent_decisions (id, tenant_id, user_id, message_id, decided_at, check_kind, severity, mode, outcome, recipients, context_key, justification) VALUES ${values.join(', ')}`,
    params,
  );
}

/** What a sender's earlier decisions say about a new draft: see {@link findSettingsAndFeedback}. */
export interface SenderFeedback {
  /** Addresses the sender removed from a draft after a warning, with the latest time. */
  removed: Map<string, Date>;
  /** Context keys of warnings the sender dismissed (sent anyway or justified) at least `minDismissals` times. */
  dismissed: Set<string>;
}

/** Warnings by week, check and outcome, for the dashboard. */
export async function decisionCounts(sql: Sql, tenantId: string, from: Date, to: Date): Promise<Array<{ week: Date; check: string; outcome: string; count: number }>> {
  const { rows } = await sql.query<{ week: Date; check_kind: string; outcome: string; n: string }>(
    `SELECT date_trunc('week', decided_at) AS week, check_kind, outcome, count(*) AS n FROM prevent_decisions
      WHERE tenant_id = $1 AND decided_at >= $2 AND decided_at < $3
      GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    [tenantId, from, to],
  );
  return rows.map((r) => ({ week: r.week, check: r.check_kind, outcome: r.outcome, count: Number(r.n) }));
}
