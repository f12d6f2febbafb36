// SQL for key-encryption keys and the wrapped data keys held in sealed_objects.
import type { Region } from '../shared/regions.ts';
import type { Sql } from '../storage/database/database.ts';
import { prepared } from '../storage/database/prepared.ts';

/** Lifecycle of a key-encryption key. */
export type KekState = 'active' | 'retired' | 'destroyed';

/** A stored key-encryption key (still wrapped by a root key). */
export interface KekRecord {
  id: string;
  tenantId: string;
  region: Region;
  version: number;
  state: KekState;
  rootKeyId: string;
  wrappedKey: Uint8Array | null;
}

interface KekRow {
  id: string;
  tenant_id: string;
  region: Region;
  version: number;
  state: KekState;
  root_key_id: string;
  wrapped_key: Uint8Array | null;
}

/** The columns toKek reads, for statements that name them (prepared ones must). */
const KEK_COLUMNS = 'id, tenant_id, region, version, state, root_key_id, wrapped_key';

const toKek = (r: KekRow): KekRecord => ({
  id: r.id,
  tenantId: r.tenant_id,
  region: r.region,
  version: Number(r.version),
  state: r.state,
  rootKeyId: r.root_key_id,
  wrappedKey: r.wrapped_key,
});

/** The active KEK of a tenant in a region, if any. */
export async function findActiveKek(sql: Sql, tenantId: string, region: Region): Promise<KekRecord | null> {
  const { rows } = await sql.query<KekRow>(prepared(`SELECT ${KEK_COLUMNS} FROM key_encryption_keys WHERE tenant_id = $1 AND region = $2 AND state = 'active'`), [tenantId, region]);
  return rows[0] ? toKek(rows[0]) : null;
}

/** A KEK by id, whatever its state. */
export async function findKek(sql: Sql, id: string): Promise<KekRecord | null> {
  const { rows } = await sql.query<KekRow>(prepared(`SELECT ${KEK_COLUMNS} FROM key_encryption_keys WHERE id = $1`), [id]);
  return rows[0] ? toKek(rows[0]) : null;
}

/** Several KEKs by id in one query, in no particular order (unknown ids are absent). */
export async function findKeks(sql: Sql, ids: string[]): Promise<KekRecord[]> {
  if (ids.length === 0) return [];
  const { rows } = await sql.query<KekRow>('SELECT * FROM key_encryption_keys WHERE id = ANY($1::uuid[])', [ids]);
  return rows.map(toKek);
}

/**
 * The columns of a KEK joined as `k`, prefixed `k_`, for a query that reads KEKs together with
 * what they wrap (content.repository.ts findSealedObjectsWithKeks); {@link joinedKek} maps them.
 */
export const JOINED_KEK_COLUMNS = 'k.id AS k_id, k.tenant_id AS k_tenant_id, k.region AS k_region, k.version AS k_version, k.state AS k_state, k.root_key_id AS k_root_key_id, k.wrapped_key AS k_wrapped_key';

/** The KEK columns of a row read with {@link JOINED_KEK_COLUMNS}. */
export interface JoinedKekRow {
  k_id: string | null;
  k_tenant_id: string;
  k_region: Region;
  k_version: number;
  k_state: KekState;
  k_root_key_id: string;
  k_wrapped_key: Uint8Array | null;
}

/** The joined KEK of a row, or null when the join found none. */
export function joinedKek(r: JoinedKekRow): KekRecord | null {
  return r.k_id === null ? null : toKek({ id: r.k_id, tenant_id: r.k_tenant_id, region: r.k_region, version: r.k_version, state: r.k_state, root_key_id: r.k_root_key_id, wrapped_key: r.k_wrapped_key });
}

/** All KEKs of a tenant, newest version first. */
export async function listKeks(sql: Sql, tenantId: string): Promise<KekRecord[]> {
  const { rows } = await sql.query<KekRow>('SELECT * FROM key_encryption_keys WHERE tenant_id = $1 ORDER BY region, version DESC', [tenantId]);
  return rows.map(toKek);
}

/** Highest KEK version of a tenant in a region (0 when none). */
export async function maxKekVersion(sql: Sql, tenantId: string, region: Region): Promise<number> {
  const { rows } = await sql.query<{ v: number | string | null }>('SELECT max(version) AS v FROM key_encryption_keys WHERE tenant_id = $1 AND region = $2', [tenantId, region]);
  return Number(rows[0]?.v ?? 0);
}

/** Inserts a KEK row. */
export async function insertKek(sql: Sql, k: Omit<KekRecord, 'wrappedKey'> & { wrappedKey: Uint8Array }): Promise<void> {
  await sql.query(
    'INSERT INTO key_encryption_keys (id, tenant_id, region, version, state, root_key_id, wrapped_key) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [k.id, k.tenantId, k.region, k.version, k.state, k.rootKeyId, k.wrappedKey],
  );
}

/** The key of a tenant's KEK series in a region, for its advisory lock. */
const kekSeries = (tenantId: string, region: Region): string => `${tenantId}:${region}`;

/**
 * Serialises changes to which KEK is active for a tenant and region, until the transaction
 * ends. Creating or rotating a KEK takes it exclusively here; sealing a new object and
 * re-wrapping take it shared (lockSharedAndFindActiveKek), so the active KEK they read cannot
 * be retired before they commit.
 */
export async function lockKekSeries(tx: Sql, tenantId: string, region: Region): Promise<void> {
  // Two-key form: its key space is separate from the one-key locks of the audit log.
  await tx.query(prepared(`SELECT pg_advisory_xact_lock(hashtext('sealpost:kek'), hashtext($1::text))`), [kekSeries(tenantId, region)]);
}

/**
 * In a transaction: takes the KEK series' lock shared (the lock lockKekSeries takes
 * exclusively, held until the transaction ends) and then reads the active KEK, in one round trip. The function
 * kek_lock_active_shared (migration 0020) is VOLATILE, so its read takes a snapshot after the
 * lock was granted and sees a rotation that committed meanwhile.
 */
export async function lockSharedAndFindActiveKek(tx: Sql, tenantId: string, region: Region): Promise<KekRecord | null> {
  const { rows } = await tx.query<KekRow>(prepared(`SELECT ${KEK_COLUMNS} FROM kek_lock_active_shared($1, $2, $3)`), [kekSeries(tenantId, region), tenantId, region]);
  return rows[0] ? toKek(rows[0]) : null;
}

/** Marks the active KEK of a tenant/region retired (before a new one becomes active); returns its id, if there was one. */
export async function retireActiveKek(sql: Sql, tenantId: string, region: Region): Promise<string | null> {
  const { rows } = await sql.query<{ id: string }>(
    "UPDATE key_encryption_keys SET state = 'retired', retired_at = now() WHERE tenant_id = $1 AND region = $2 AND state = 'active' RETURNING id",
    [tenantId, region],
  );
  return rows[0]?.id ?? null;
}

/** Replaces a KEK's root wrapping (root-key rotation). */
export async function updateKekWrapping(sql: Sql, id: string, rootKeyId: string, wrappedKey: Uint8Array): Promise<void> {
  await sql.query("UPDATE key_encryption_keys SET root_key_id = $2, wrapped_key = $3 WHERE id = $1 AND state <> 'destroyed'", [id, rootKeyId, wrappedKey]);
}

/** Destroys KEKs: erases their wrapped key material for good. Returns how many. */
export async function destroyKeks(sql: Sql, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const { rowCount } = await sql.query(
    "UPDATE key_encryption_keys SET state = 'destroyed', wrapped_key = NULL, destroyed_at = now() WHERE id = ANY($1::uuid[]) AND state <> 'destroyed'",
    [ids],
  );
  return rowCount;
}

/** Destroys every KEK of a tenant (all regions, all versions) in one statement; returns their ids. */
export async function destroyTenantKeks(sql: Sql, tenantId: string): Promise<string[]> {
  // One statement, so a KEK created while this runs cannot slip between a listing and the update.
  const { rows } = await sql.query<{ id: string }>(
    "UPDATE key_encryption_keys SET state = 'destroyed', wrapped_key = NULL, destroyed_at = now() WHERE tenant_id = $1 AND state <> 'destroyed' RETURNING id",
    [tenantId],
  );
  return rows.map((r) => r.id);
}

/** A wrapped data key waiting to be re-wrapped. */
export interface WrappedDataKeyRow {
  id: string;
  tenant_id: string;
  key_id: string;
  kek_id: string;
  wrapped_key: Uint8Array;
}

/** Locks and returns up to `limit` data keys still wrapped by `kekId` (SKIP LOCKED lets workers share the job). */
export async function lockDataKeysWrappedBy(sql: Sql, kekId: string, limit: number): Promise<WrappedDataKeyRow[]> {
  const { rows } = await sql.query<WrappedDataKeyRow>(
    'SELECT id, tenant_id, key_id, kek_id, wrapped_key FROM sealed_objects WHERE kek_id = $1 AND wrapped_key IS NOT NULL ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED',
    [kekId, limit],
  );
  return rows;
}

/** Stores a re-wrapped data key. */
export async function updateDataKeyWrapping(sql: Sql, objectId: string, kekId: string, wrappedKey: Uint8Array): Promise<void> {
  await sql.query('UPDATE sealed_objects SET kek_id = $2, wrapped_key = $3 WHERE id = $1', [objectId, kekId, wrappedKey]);
}

/** Number of live (unshredded) objects whose data key is wrapped by `kekId`. */
export async function countDataKeysWrappedBy(sql: Sql, kekId: string): Promise<number> {
  const { rows } = await sql.query<{ n: number | string }>('SELECT count(*) AS n FROM sealed_objects WHERE kek_id = $1 AND wrapped_key IS NOT NULL', [kekId]);
  return Number(rows[0]?.n ?? 0);
}
