// SQL for sealed_objects (one row per sealed Content object).
import { JOINED_KEK_COLUMNS, joinedKek, type JoinedKekRow, type KekRecord } from '../keys/key.repository.ts';
import type { Region } from '../shared/regions.ts';
import type { Sql } from '../storage/database/database.ts';
import { prepared } from '../storage/database/prepared.ts';

/** Metadata and wrapped key of a sealed object. */
export interface SealedObjectRecord {
  id: string;
  tenantId: string;
  region: Region;
  keyId: string;
  kekId: string | null;
  wrappedKey: Uint8Array | null;
  blobKey: string;
  formatVersion: number;
  segmentSize: number;
  plaintextLength: number;
  createdAt: Date;
  shreddedAt: Date | null;
}

interface Row {
  id: string;
  tenant_id: string;
  region: Region;
  key_id: string;
  kek_id: string | null;
  wrapped_key: Uint8Array | null;
  blob_key: string;
  format_version: number;
  segment_size: number;
  plaintext_length: string | number;
  created_at: Date;
  shredded_at: Date | null;
}

/** Every column of sealed_objects, for statements that name them (prepared ones must). */
const OBJECT_COLUMNS = 'id, tenant_id, region, key_id, kek_id, wrapped_key, blob_key, format_version, segment_size, plaintext_length, created_at, shredded_at';

const toRecord = (r: Row): SealedObjectRecord => ({
  id: r.id,
  tenantId: r.tenant_id,
  region: r.region,
  keyId: r.key_id,
  kekId: r.kek_id,
  wrappedKey: r.wrapped_key,
  blobKey: r.blob_key,
  formatVersion: Number(r.format_version),
  segmentSize: Number(r.segment_size),
  plaintextLength: Number(r.plaintext_length),
  createdAt: r.created_at,
  shreddedAt: r.shredded_at,
});

/** Inserts the row of a freshly sealed object. */
export async function insertSealedObject(sql: Sql, o: Omit<SealedObjectRecord, 'createdAt' | 'shreddedAt'>): Promise<SealedObjectRecord> {
  const { rows } = await sql.query<Row>(
    prepared(`INSERT INTO sealed_objects (id, tenant_id, region, key_id, kek_id, wrapped_key, blob_key, format_version, segment_size, plaintext_length)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${OBJECT_COLUMNS}`),
    [o.id, o.tenantId, o.region, o.keyId, o.kekId, o.wrappedKey, o.blobKey, o.formatVersion, o.segmentSize, o.plaintextLength],
  );
  return toRecord(rows[0]!);
}

/** A tenant's sealed object, or null. Scoped by tenant so no tenant can name another's objects. */
export async function findSealedObject(sql: Sql, tenantId: string, id: string): Promise<SealedObjectRecord | null> {
  const { rows } = await sql.query<Row>('SELECT * FROM sealed_objects WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
  return rows[0] ? toRecord(rows[0]) : null;
}

const OBJECTS_WITH_KEKS_SQL = prepared(
  `SELECT ${OBJECT_COLUMNS.replace(/(\w+)/g, 'o.$1')}, ${JOINED_KEK_COLUMNS} FROM sealed_objects o LEFT JOIN key_encryption_keys k ON k.id = o.kek_id WHERE o.tenant_id = $1 AND o.id = ANY($2::uuid[])`,
);

/**
 * A tenant's objects with the KEK each is wrapped by (null: none, or no such KEK), in one query
 * and in no particular order (missing ids are absent). The KEK rows are as current as the
 * objects', so a destroyed KEK is seen at once.
 */
export async function findSealedObjectsWithKeks(sql: Sql, tenantId: string, ids: string[]): Promise<Array<{ object: SealedObjectRecord; kek: KekRecord | null }>> {
  if (ids.length === 0) return [];
  const { rows } = await sql.query<Row & JoinedKekRow>(
    OBJECTS_WITH_KEKS_SQL,
    [tenantId, ids],
  );
  return rows.map((r) => ({ object: toRecord(r), kek: joinedKek(r) }));
}

/** What a key release needs of an object: its wrapped data key, and the KEK that wraps it. */
export interface ObjectKey {
  object: Pick<SealedObjectRecord, 'id' | 'tenantId' | 'keyId' | 'kekId' | 'wrappedKey' | 'shreddedAt'>;
  kek: KekRecord | null;
}

const KEY_FIELDS = `'id', o.id, 'tenant_id', o.tenant_id, 'key_id', o.key_id, 'kek_id', o.kek_id, 'wrapped_key', encode(o.wrapped_key, 'hex'), 'shredded_at', o.shredded_at`;
const RECORD_FIELDS = `'region', o.region, 'blob_key', o.blob_key, 'format_version', o.format_version, 'segment_size', o.segment_size, 'plaintext_length', o.plaintext_length, 'created_at', o.created_at`;
const KEK_FIELDS = `'k_id', k.id, 'k_tenant_id', k.tenant_id, 'k_region', k.region, 'k_version', k.version, 'k_state', k.state, 'k_root_key_id', k.root_key_id, 'k_wrapped_key', encode(k.wrapped_key, 'hex')`;

/** The sub-select of {@link objectKeysJson} and {@link objectsJson}: `fields` of each object and its KEK. */
function objectsWithKeksJson(fields: string, tenantExpr: string, idsExpr: string): string {
  return `(SELECT coalesce(jsonb_agg(jsonb_build_object(${fields}, ${KEK_FIELDS})), '[]'::jsonb)
     FROM sealed_objects o LEFT JOIN key_encryption_keys k ON k.id = o.kek_id WHERE o.tenant_id = ${tenantExpr} AND o.id = ANY(${idsExpr}))`;
}

/**
 * An SQL sub-select for another module's query: the wrapped keys of the tenant's objects whose
 * ids are in `idsExpr` (an SQL uuid[] expression), with their KEKs, as one JSON array that
 * {@link parseObjectKeys} reads. It lets a key release read its session, message and keys in
 * one round trip; the KEK rows are as current as the rest of that query.
 */
export function objectKeysJson(tenantExpr: string, idsExpr: string): string {
  return objectsWithKeksJson(KEY_FIELDS, tenantExpr, idsExpr);
}

/**
 * {@link objectKeysJson} with every column of the objects, for a caller that opens them from it
 * (ContentStore.openBytesFrom); {@link parseObjects} reads it.
 */
export function objectsJson(tenantExpr: string, idsExpr: string): string {
  return objectsWithKeksJson(`${KEY_FIELDS}, ${RECORD_FIELDS}`, tenantExpr, idsExpr);
}

type JsonRow = Record<string, string | number | null>;

const jsonRows = (json: unknown): JsonRow[] => {
  if (!Array.isArray(json)) throw new TypeError('objects with keys: expected a JSON array');
  return json as JsonRow[];
};

const jsonBytes = (hex: string | number | null | undefined) => (hex === null || hex === undefined ? null : Buffer.from(hex as string, 'hex'));

const keyFieldsOf = (r: JsonRow): ObjectKey['object'] => ({
  id: r.id as string,
  tenantId: r.tenant_id as string,
  keyId: r.key_id as string,
  kekId: r.kek_id as string | null,
  wrappedKey: jsonBytes(r.wrapped_key),
  shreddedAt: r.shredded_at === null ? null : new Date(r.shredded_at as string),
});

const kekOf = (r: JsonRow): KekRecord | null =>
  joinedKek({
    k_id: r.k_id as string | null,
    k_tenant_id: r.k_tenant_id as string,
    k_region: r.k_region as Region,
    k_version: r.k_version as number,
    k_state: r.k_state as JoinedKekRow['k_state'],
    k_root_key_id: r.k_root_key_id as string,
    k_wrapped_key: jsonBytes(r.k_wrapped_key),
  });

/** The objects of an {@link objectKeysJson} column. */
export function parseObjectKeys(json: unknown): ObjectKey[] {
  return jsonRows(json).map((r) => ({ object: keyFieldsOf(r), kek: kekOf(r) }));
}

/** The objects of an {@link objectsJson} column, whole, each with its KEK. */
export function parseObjects(json: unknown): Array<{ object: SealedObjectRecord; kek: KekRecord | null }> {
  return jsonRows(json).map((r) => ({
    object: {
      ...keyFieldsOf(r),
      region: r.region as Region,
      blobKey: r.blob_key as string,
      formatVersion: Number(r.format_version),
      segmentSize: Number(r.segment_size),
      plaintextLength: Number(r.plaintext_length),
      createdAt: new Date(r.created_at as string),
    },
    kek: kekOf(r),
  }));
}

/** Erases an object's wrapped data key (crypto-shredding). Returns false if already shredded. */
export async function shredSealedObject(sql: Sql, tenantId: string, id: string): Promise<boolean> {
  const { rowCount } = await sql.query(
    'UPDATE sealed_objects SET wrapped_key = NULL, shredded_at = now() WHERE tenant_id = $1 AND id = $2 AND shredded_at IS NULL',
    [tenantId, id],
  );
  return rowCount > 0;
}
