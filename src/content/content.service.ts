// The Content store: every message body, attachment and file goes through here. It seals
// the bytes with a fresh data key before they reach the blob store, keeps the wrapped key
// in the database, and opens them again (whole or by byte range) for whoever the calling
// capability has already authorised. Crypto-shredding an object erases its wrapped key.

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomId } from '../crypto/keys.ts';
import { DEFAULT_SEGMENT_SIZE, FORMAT_VERSION, HEADER_LENGTH, planRange } from '../crypto/format/sealed-object.ts';
import { createOpenRangeStream, createOpenStream, createSealStream } from '../crypto/node/sealed-stream.ts';
import { getTenant } from '../accounts/tenant.repository.ts';
import type { KeyService } from '../keys/key.service.ts';
import { AppError, errors } from '../shared/app-error.ts';
import type { BlobStore } from '../storage/blob/blob-store.ts';
import type { Database } from '../storage/database/database.ts';
import * as repo from './content.repository.ts';
import type { SealedObjectRecord } from './content.repository.ts';

export type { SealedObjectRecord } from './content.repository.ts';

/** Plaintext byte range, end exclusive. */
export interface ContentRange {
  start: number;
  end?: number;
}

/** An opened object: a stream of authenticated plaintext and its length. */
export interface OpenedContent {
  stream: Readable;
  /** Bytes the stream will carry (the whole object or the range). */
  length: number;
  object: SealedObjectRecord;
}

/** Seals, stores, opens and shreds Content objects. */
export class ContentStore {
  constructor(
    private readonly db: Database,
    private readonly blobs: BlobStore,
    private readonly keys: KeyService,
    private readonly opts: { segmentSize: number } = { segmentSize: DEFAULT_SEGMENT_SIZE },
  ) {}

  /**
   * Seals `source` (exactly `plaintextLength` bytes) for a tenant and stores it. The blob is
   * written first and the row (with the wrapped key) only after it is complete, so a failed
   * upload leaves no row; a crash in between leaves an orphan blob that no key can open.
   */
  async put(input: { tenantId: string; plaintextLength: number; source: Readable | AsyncIterable<Uint8Array> }): Promise<SealedObjectRecord> {
    if (!Number.isSafeInteger(input.plaintextLength) || input.plaintextLength < 0) {
      throw errors.invalid('invalid_content_length', 'content length must be a non-negative integer');
    }
    const tenant = await getTenant(this.db, input.tenantId);
    const id = randomId();
    const keyId = randomId();
    const blobKey = id.replace(/-/g, '');
    const { dataKey, kekId, wrappedKey } = await this.keys.newDataKey(tenant.id, tenant.region, id, keyId);
    const seal = createSealStream({ key: dataKey, objectId: id, keyId, plaintextLength: input.plaintextLength, segmentSize: this.opts.segmentSize });
    try {
      const source = input.source instanceof Readable ? input.source : Readable.from(input.source);
      await Promise.all([pipeline(source, seal), this.blobs.put(blobKey, seal)]);
    } catch (err) {
      seal.destroy();
      await this.blobs.delete(blobKey).catch(() => undefined);
      throw err;
    } finally {
      dataKey.fill(0);
    }
    try {
      return await repo.insertSealedObject(this.db, {
        id,
        tenantId: tenant.id,
        region: tenant.region,
        keyId,
        kekId,
        wrappedKey,
        blobKey,
        formatVersion: FORMAT_VERSION,
        segmentSize: this.opts.segmentSize,
        plaintextLength: input.plaintextLength,
      });
    } catch (err) {
      await this.blobs.delete(blobKey).catch(() => undefined);
      throw err;
    }
  }

  /** Seals an in-memory value (message bodies and other small Content). */
  async putBytes(tenantId: string, bytes: Uint8Array): Promise<SealedObjectRecord> {
    return this.put({ tenantId, plaintextLength: bytes.length, source: Readable.from([Buffer.from(bytes)]) });
  }

  /** Metadata of a tenant's object; not_found when it does not exist for this tenant. */
  async get(tenantId: string, objectId: string): Promise<SealedObjectRecord> {
    const o = await repo.findSealedObject(this.db, tenantId, objectId);
    if (!o) throw errors.notFound('content_not_found', 'no such content object');
    return o;
  }

  /**
   * Opens a tenant's object, whole or a byte range. The stream errors (and must be treated
   * as a failed read) if the payload was tampered with, truncated or swapped.
   */
  async open(tenantId: string, objectId: string, range?: ContentRange): Promise<OpenedContent> {
    const object = await this.get(tenantId, objectId);
    if (object.shreddedAt || !object.wrappedKey || !object.kekId) {
      throw new AppError('not_found', 'content_shredded', 'this content has been erased and can no longer be opened');
    }
    const dataKey = await this.keys.unwrapDataKey({ tenantId, objectId, keyId: object.keyId, kekId: object.kekId, wrappedKey: object.wrappedKey });
    const expect = { objectId, keyId: object.keyId };
    if (!range) {
      const blob = await this.blobs.get(object.blobKey);
      return { stream: pipe(blob, createOpenStream(dataKey, expect)), length: object.plaintextLength, object };
    }
    const plan = planRange(object, range.start, range.end ?? object.plaintextLength);
    const header = await readAll(await this.blobs.get(object.blobKey, { start: 0, end: HEADER_LENGTH }));
    const segments = await this.blobs.get(object.blobKey, { start: plan.sealedStart, end: plan.sealedEnd });
    return { stream: pipe(segments, createOpenRangeStream(dataKey, header, range, expect)), length: plan.take, object };
  }

  /** Opens a whole object into memory (small Content only: bodies, tests). */
  async openBytes(tenantId: string, objectId: string): Promise<Buffer> {
    const { stream } = await this.open(tenantId, objectId);
    return readAll(stream);
  }

  /**
   * Crypto-shreds one object: its wrapped data key is erased, so the payload can never be
   * opened again even from a backup of the blob store; then the blob is deleted.
   */
  async shred(tenantId: string, objectId: string): Promise<void> {
    const object = await this.get(tenantId, objectId);
    await repo.shredSealedObject(this.db, tenantId, objectId);
    await this.blobs.delete(object.blobKey);
  }
}

function pipe(source: Readable, transform: NodeJS.ReadWriteStream & Readable): Readable {
  // pipeline() forwards errors from either side to the returned stream's consumer.
  pipeline(source, transform).catch(() => undefined);
  return transform;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
