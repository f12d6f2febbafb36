// Small builders for storage tests: each inserts one valid row (or wires one small stack) and returns it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentStore } from '../../src/content/content.service.ts';
import { LocalKeyProvider } from '../../src/crypto/local-key-provider.ts';
import { KeyService } from '../../src/keys/key.service.ts';
import { FsBlobStore } from '../../src/storage/blob/fs-blob-store.ts';
import type { Database, Sql } from '../../src/storage/database/database.ts';

/** A tenants row as tests see it. */
export interface TenantRow {
  id: string;
  name: string;
  region: 'uk' | 'eea' | 'us';
  createdAt: Date;
}

/** Inserts a tenant with a random id (override any field) and returns the stored row. */
export async function buildTenant(sql: Sql, overrides: Partial<TenantRow> = {}): Promise<TenantRow> {
  const id = overrides.id ?? crypto.randomUUID();
  const { rows } = await sql.query<{ id: string; name: string; region: TenantRow['region']; created_at: Date }>(
    `INSERT INTO tenants (id, name, region, created_at) VALUES ($1, $2, $3, COALESCE($4, now()))
     RETURNING id, name, region, created_at`,
    [id, overrides.name ?? `Tenant ${id.slice(0, 8)}`, overrides.region ?? 'uk', overrides.createdAt ?? null],
  );
  const row = rows[0]!;
  return { id: row.id, name: row.name, region: row.region, createdAt: row.created_at };
}

/** A Content store wired to a fresh root key file and blob directory, as the runtime wires it. */
export interface ContentStack {
  /** Temporary directory holding `keyFile` and `blobDir`; removed by `cleanup()`. */
  dir: string;
  keyFile: string;
  blobDir: string;
  provider: LocalKeyProvider;
  blobs: FsBlobStore;
  keys: KeyService;
  content: ContentStore;
  /** Where FsBlobStore keeps the blob stored under `blobKey` (to read, tamper with or restore it). */
  blobPath(blobKey: string): string;
  /** Another KeyService and ContentStore on the same database, key file and blobs: a second process. */
  otherProcess(): Promise<{ provider: LocalKeyProvider; keys: KeyService; content: ContentStore }>;
  cleanup(): Promise<void>;
}

/** Builds a {@link ContentStack}; use small segment sizes to keep tests fast. */
export async function buildContentStack(db: Database, opts: { segmentSize?: number } = {}): Promise<ContentStack> {
  const dir = await mkdtemp(join(tmpdir(), 'sealpost-content-'));
  const keyFile = join(dir, 'keys', 'root-keys.json');
  const blobDir = join(dir, 'blobs');
  const segmentSize = opts.segmentSize ?? 1024;
  const provider = await LocalKeyProvider.open(keyFile, { create: true });
  const blobs = new FsBlobStore(blobDir);
  const keys = new KeyService(db, provider);
  return {
    dir,
    keyFile,
    blobDir,
    provider,
    blobs,
    keys,
    content: new ContentStore(db, blobs, keys, { segmentSize }),
    blobPath: (blobKey) => join(blobDir, blobKey.slice(0, 2), blobKey.slice(2, 4), blobKey),
    async otherProcess() {
      const otherProvider = await LocalKeyProvider.open(keyFile, { create: false });
      const otherKeys = new KeyService(db, otherProvider);
      return { provider: otherProvider, keys: otherKeys, content: new ContentStore(db, new FsBlobStore(blobDir), otherKeys, { segmentSize }) };
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
