// The access export at rest. The ZIP is Sealpost-as-controller data about one person, not a
// tenant's Content, so it is not sealed under a tenant KEK: it gets a fresh data key wrapped
// directly by the root key (KeyProvider) under a key scope of its own ('sealpost/dsr-export/v1',
// bound to the export and key ids), and is stored in the sealed-object format in the blob store.
// The download link's token is kept only as its SHA-256. The export opens once: the download
// erases the wrapped key (crypto-shred) and deletes the blob; so does expiry.
import { Readable } from 'node:stream';
import { sha256 } from '../../crypto/hash.ts';
import type { KeyProvider } from '../../crypto/key-provider.ts';
import { generateKey, randomId, randomToken, wrapContext } from '../../crypto/keys.ts';
import { openBuffer, sealBuffer } from '../../crypto/node/sealed-stream.ts';
import { errors } from '../../shared/app-error.ts';
import type { Clock } from '../../shared/clock.ts';
import type { BlobStore } from '../../storage/blob/blob-store.ts';
import type { Database, Sql } from '../../storage/database/database.ts';

/** How long a download link works. */
export const EXPORT_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

const exportContext = (exportId: string, keyId: string) => wrapContext('sealpost/dsr-export/v1', exportId, keyId);
const blobKeyOf = (exportId: string) => `dsr-export-${exportId.replace(/-/g, '')}`;

interface ExportRow {
  id: string;
  request_id: string;
  root_key_id: string;
  wrapped_key: Uint8Array | null;
  key_id: string;
  blob_key: string;
  byte_length: string;
  expires_at: Date;
  downloaded_at: Date | null;
  shredded_at: Date | null;
}

/** A sealed export just stored: the token goes into the link and nowhere else. */
export interface StoredExport {
  exportId: string;
  token: string;
  expiresAt: Date;
  byteLength: number;
}

/** Seals, opens once and shreds access exports. */
export class ExportVault {
  constructor(
    private readonly db: Database,
    private readonly blobs: BlobStore,
    private readonly provider: KeyProvider,
    private readonly now: Clock,
  ) {}

  /** Seals `zip` and stores it for `requestId`; the row is written in `sql` (join the caller's transaction). */
  async store(sql: Sql, requestId: string, zip: Uint8Array): Promise<StoredExport> {
    const exportId = randomId();
    const keyId = randomId();
    const dataKey = generateKey();
    const blobKey = blobKeyOf(exportId);
    try {
      const sealed = await sealBuffer({ key: dataKey, objectId: exportId, keyId }, zip);
      const wrapped = await this.provider.wrap(dataKey, exportContext(exportId, keyId));
      await this.blobs.put(blobKey, Readable.from([sealed]));
      const token = randomToken(32);
      const expiresAt = new Date(this.now().getTime() + EXPORT_LIFETIME_MS);
      try {
        await sql.query(
          `INSERT INTO subject_request_exports (id, request_id, token_hash, root_key_id, wrapped_key, key_id, blob_key, byte_length, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [exportId, requestId, sha256(token), wrapped.rootKeyId, wrapped.wrapped, keyId, blobKey, String(zip.length), this.now(), expiresAt],
        );
      } catch (err) {
        await this.blobs.delete(blobKey).catch(() => undefined);
        throw err;
      }
      return { exportId, token, expiresAt, byteLength: zip.length };
    } finally {
      dataKey.fill(0);
    }
  }

  /**
   * The ZIP behind a link, once. 404 'export_not_found' for a token that names nothing; 410
   * 'export_gone' once downloaded, expired or shredded. The key is erased in the same
   * transaction that hands the bytes out, so two concurrent downloads cannot both succeed.
   */
  async takeOnce(token: string): Promise<{ requestId: string; exportId: string; zip: Buffer }> {
    // A malformed token cannot name an export; hashing it anyway keeps timing uniform.
    const hash = sha256(typeof token === 'string' ? token : '');
    const taken = await this.db.transaction(async (tx) => {
      const { rows } = await tx.query<ExportRow>(`SELECT * FROM subject_request_exports WHERE token_hash = $1 FOR UPDATE`, [hash]);
      const row = rows[0];
      if (!row) throw errors.notFound('export_not_found', 'no such download link');
      if (row.downloaded_at || row.shredded_at || !row.wrapped_key || row.expires_at.getTime() <= this.now().getTime()) {
        // not_found kind: the HTTP route answers this code with 410 Gone.
        throw errors.notFound('export_gone', 'this download link has been used or has expired, and the file has been erased; ask for your data again if you need it');
      }
      const dataKey = await this.provider.unwrap({ rootKeyId: row.root_key_id, wrapped: row.wrapped_key }, exportContext(row.id, row.key_id));
      try {
        const sealed = await readAll(await this.blobs.get(row.blob_key));
        const zip = await openBuffer(dataKey, sealed, { objectId: row.id, keyId: row.key_id });
        await tx.query(`UPDATE subject_request_exports SET downloaded_at = $2, wrapped_key = NULL, shredded_at = $2 WHERE id = $1`, [row.id, this.now()]);
        return { requestId: row.request_id, exportId: row.id, blobKey: row.blob_key, zip };
      } finally {
        dataKey.fill(0);
      }
    });
    await this.blobs.delete(taken.blobKey);
    return { requestId: taken.requestId, exportId: taken.exportId, zip: taken.zip };
  }

  /** Crypto-shreds exports whose link expired without a download; returns their request ids. */
  async shredExpired(): Promise<Array<{ requestId: string; exportId: string }>> {
    const { rows } = await this.db.query<ExportRow>(
      `UPDATE subject_request_exports SET wrapped_key = NULL, shredded_at = $1 WHERE shredded_at IS NULL AND expires_at <= $1 RETURNING id, request_id, blob_key`,
      [this.now()],
    );
    for (const r of rows) await this.blobs.delete(r.blob_key);
    return rows.map((r) => ({ requestId: r.request_id, exportId: r.id }));
  }

  /** The stored state of a request's exports (for tests and the request's detail). */
  async state(requestId: string): Promise<Array<{ exportId: string; blobKey: string; hasKey: boolean; downloadedAt: Date | null; shreddedAt: Date | null; expiresAt: Date }>> {
    const { rows } = await this.db.query<ExportRow>(`SELECT * FROM subject_request_exports WHERE request_id = $1 ORDER BY created_at`, [requestId]);
    return rows.map((r) => ({ exportId: r.id, blobKey: r.blob_key, hasKey: r.wrapped_key !== null, downloadedAt: r.downloaded_at, shreddedAt: r.shredded_at, expiresAt: r.expires_at }));
  }
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
