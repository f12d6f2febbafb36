// The Content store: every message body, attachment and file goes through here. It seals
// the bytes with a fresh data key before they reach the blob store, keeps the wrapped key
// in the database, and opens them again (whole or by byte range) for whoever the calling
// capability has already authorised. Crypto-shredding an object erases its wrapped key.
// Residency: an object lives in one region (its row says which, normally its tenant's home
// region): its blob goes to that region's store only and its data key is wrapped by the
// tenant's KEK of that region, itself wrapped by that region's root key.

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { appendAuditEvent } from '../audit/audit.service.ts';
import type { AuditEventInput } from '../audit/audit.model.ts';
import { randomId } from '../crypto/keys.ts';
import { isUuid } from '../crypto/format/bytes.ts';
import { DecryptionError, DEFAULT_SEGMENT_SIZE, FORMAT_VERSION, HEADER_LENGTH, planRange, sealedLength } from '../crypto/format/sealed-object.ts';
import { createOpenRangeStream, createOpenStream, createSealStream } from '../crypto/node/sealed-stream.ts';
import { getTenant } from '../accounts/tenant.repository.ts';
import type { KeyService } from '../keys/key.service.ts';
import { AppError, errors, isAppError } from '../shared/app-error.ts';
import { RegionMap, regionNotServed, type Region } from '../shared/regions.ts';
import { discardBody, type BlobStore, type ByteRange } from '../storage/blob/blob-store.ts';
import type { Database } from '../storage/database/database.ts';
import * as repo from './content.repository.ts';
import type { SealedObjectRecord } from './content.repository.ts';

export type { SealedObjectRecord } from './content.repository.ts';

/** Plaintext byte range, end exclusive. */
export interface ContentRange {
  start: number;
  end?: number;
}

/** Who sealed or shredded an object, for the audit log; 'system' when not given. */
export type ContentActor = AuditEventInput['actor'];

const SYSTEM_ACTOR: ContentActor = { type: 'system' };

/** An opened object: a stream of authenticated plaintext and its length. */
export interface OpenedContent {
  stream: Readable;
  /** Bytes the stream will carry (the whole object or the range). */
  length: number;
  object: SealedObjectRecord;
}

/** Seals, stores, opens and shreds Content objects. */
export class ContentStore {
  private readonly stores: RegionMap<BlobStore>;

  /** `blobs`: one store per served region; a single store serves every region (single-region installations and tests). */
  constructor(
    private readonly db: Database,
    blobs: BlobStore | RegionMap<BlobStore>,
    private readonly keys: KeyService,
    private readonly opts: { segmentSize: number } = { segmentSize: DEFAULT_SEGMENT_SIZE },
  ) {
    this.stores = blobs instanceof RegionMap ? blobs : RegionMap.uniform(blobs);
  }

  /** The regions whose Content this store can hold. */
  get regions(): Region[] {
    return this.stores.regions;
  }

  /** True when Content can be stored in `region` (a blob store is configured for it). */
  servesRegion(region: string): region is Region {
    return this.stores.serves(region);
  }

  /** The blob store of a region; 'region_not_served' when none is configured. */
  private blobs(region: Region): BlobStore {
    // Residency: an object's bytes are read from and written to its own region's store only.
    return this.stores.get(region);
  }

  /**
   * Seals `source` (exactly `plaintextLength` bytes) for a tenant and stores it. The blob is
   * written first and the row (with the wrapped key) only after it is complete, so a failed
   * upload leaves no row and no blob; a crash in between leaves an orphan blob that no key can
   * open. On every rejection `source` has been consumed or destroyed. `region` defaults to the
   * tenant's home region; another region (a recipient's reply stored where they chose) must be
   * served, and is keyed by the tenant's KEK of that region. Whether the tenant allows that
   * region is the caller's decision.
   */
  async put(input: { tenantId: string; region?: Region; plaintextLength: number; source: Readable | AsyncIterable<Uint8Array>; actor?: ContentActor }): Promise<SealedObjectRecord> {
    let dataKey: Buffer | undefined;
    let blobKey: string | undefined;
    let store: BlobStore | undefined;
    let sourceTaken = false;
    try {
      if (!Number.isSafeInteger(input.plaintextLength) || input.plaintextLength < 0) {
        throw errors.invalid('invalid_content_length', 'content length must be a non-negative integer');
      }
      // A malformed id names no tenant; sending it to the uuid column would be a database error.
      if (!isUuid(input.tenantId)) throw errors.notFound('tenant_not_found', 'no such tenant');
      const tenant = await getTenant(this.db, input.tenantId);
      const region = input.region ?? tenant.region;
      if (!this.stores.serves(region)) throw regionNotServed(region, this.stores.regions, input.region === undefined ? 'unavailable' : 'invalid');
      const target = this.blobs(region);
      const id = randomId();
      const keyId = randomId();
      const wrapping = await this.keys.newDataKey(tenant.id, region, id, keyId);
      dataKey = wrapping.dataKey;
      const seal = createSealStream({ key: dataKey, objectId: id, keyId, plaintextLength: input.plaintextLength, segmentSize: this.opts.segmentSize });
      const source = input.source instanceof Readable ? input.source : Readable.from(input.source);
      sourceTaken = true;
      // Wait for both sides, so no write is still in flight (and no temporary file left) when put settles.
      blobKey = id.replace(/-/g, '');
      store = target;
      const results = await Promise.allSettled([pipeline(source, seal), target.put(blobKey, seal)]);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      const key = dataKey;
      return await this.db.transaction(async (tx) => {
        // The KEK may have been rotated during the upload: store the key as the active KEK wraps it.
        const current = await this.keys.currentWrapping(tx, { tenantId: tenant.id, region, objectId: id, keyId, dataKey: key, kekId: wrapping.kekId, wrappedKey: wrapping.wrappedKey });
        const record = await repo.insertSealedObject(tx, {
          id,
          tenantId: tenant.id,
          region,
          keyId,
          kekId: current.kekId,
          wrappedKey: current.wrappedKey,
          blobKey: blobKey!,
          formatVersion: FORMAT_VERSION,
          segmentSize: this.opts.segmentSize,
          plaintextLength: input.plaintextLength,
        });
        await appendAuditEvent(tx, {
          tenantId: tenant.id,
          actor: input.actor ?? SYSTEM_ACTOR,
          action: 'content.sealed',
          target: { type: 'sealed_object', id },
          outcome: 'success',
          details: { region },
        });
        return record;
      });
    } catch (err) {
      if (!sourceTaken) await discardBody(input.source);
      if (blobKey !== undefined && store) await store.delete(blobKey).catch(() => undefined);
      throw err;
    } finally {
      dataKey?.fill(0);
    }
  }

  /** Seals an in-memory value (message bodies and other small Content). */
  async putBytes(tenantId: string, bytes: Uint8Array, opts: { region?: Region } = {}): Promise<SealedObjectRecord> {
    return this.put({ tenantId, ...opts, plaintextLength: bytes.length, source: Readable.from([Buffer.from(bytes)]) });
  }

  /** Metadata of a tenant's object; not_found when it does not exist for this tenant. */
  async get(tenantId: string, objectId: string): Promise<SealedObjectRecord> {
    // Ids that are not UUIDs name nothing; sending them to the uuid column would be a database error.
    const tenant = tenantId.toLowerCase();
    const object = objectId.toLowerCase();
    if (!isUuid(tenant) || !isUuid(object)) throw errors.notFound('content_not_found', 'no such content object');
    const o = await repo.findSealedObject(this.db, tenant, object);
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
    // The row's ids, not the caller's spelling of them: they are what the key and header are bound to.
    const dataKey = await this.keys.unwrapDataKey({ tenantId: object.tenantId, objectId: object.id, keyId: object.keyId, kekId: object.kekId, wrappedKey: object.wrappedKey });
    const expect = { objectId: object.id, keyId: object.keyId };
    // Each opener is built before its blob stream is opened: an opener that throws (a header
    // that fails its checks) must not leave an open file handle behind.
    if (!range) {
      const opener = createOpenStream(dataKey, expect);
      return { stream: pipe(await this.blobs(object.region).get(object.blobKey), opener), length: object.plaintextLength, object };
    }
    const plan = planRange(object, range.start, range.end ?? object.plaintextLength);
    const header = await readAll(await this.sealedRange(object, { start: 0, end: HEADER_LENGTH }));
    const opener = createOpenRangeStream(dataKey, header, range, expect);
    const segments = await this.sealedRange(object, { start: plan.sealedStart, end: plan.sealedEnd });
    return { stream: pipe(segments, opener), length: plan.take, object };
  }

  /**
   * The unwrapped data key of an object, for releasing to an authorised client (wrapped to
   * its session key). The caller must zero it when done.
   */
  async dataKey(tenantId: string, objectId: string): Promise<{ keyId: string; dataKey: Buffer }> {
    const object = await this.get(tenantId, objectId);
    if (object.shreddedAt || !object.wrappedKey || !object.kekId) {
      throw new AppError('not_found', 'content_shredded', 'this content has been erased and can no longer be opened');
    }
    const dataKey = await this.keys.unwrapDataKey({ tenantId: object.tenantId, objectId: object.id, keyId: object.keyId, kekId: object.kekId, wrappedKey: object.wrappedKey });
    return { keyId: object.keyId, dataKey };
  }

  /**
   * The sealed bytes of an object (or a byte range of them), for a client that decrypts
   * locally. No key is involved: the bytes are ciphertext and authenticated on opening.
   */
  async openSealed(tenantId: string, objectId: string, range?: ContentRange): Promise<{ stream: Readable; start: number; length: number; totalLength: number }> {
    const object = await this.get(tenantId, objectId);
    if (object.shreddedAt || !object.wrappedKey) throw new AppError('not_found', 'content_shredded', 'this content has been erased and can no longer be opened');
    const total = sealedLength(object.plaintextLength, object.segmentSize);
    const start = range?.start ?? 0;
    const end = range?.end ?? total;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end > total || start > end) {
      throw errors.invalid('invalid_range', `the range must lie within the ${total} sealed bytes`);
    }
    const stream = start === 0 && end === total ? await this.blobs(object.region).get(object.blobKey) : await this.sealedRange(object, { start, end });
    return { stream, start, length: end - start, totalLength: total };
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
  async shred(tenantId: string, objectId: string, opts: { actor?: ContentActor } = {}): Promise<void> {
    const object = await this.get(tenantId, objectId);
    await this.db.transaction(async (tx) => {
      // Shredding twice records one event: the second call changes nothing.
      if (!(await repo.shredSealedObject(tx, object.tenantId, object.id))) return;
      await appendAuditEvent(tx, {
        tenantId: object.tenantId,
        actor: opts.actor ?? SYSTEM_ACTOR,
        action: 'content.shredded',
        target: { type: 'sealed_object', id: object.id },
        outcome: 'success',
      });
    });
    await this.blobs(object.region).delete(object.blobKey);
  }

  // A stored blob shorter than its row says is a truncated object, not a bad range from the caller.
  private async sealedRange(object: SealedObjectRecord, range: ByteRange): Promise<Readable> {
    try {
      return await this.blobs(object.region).get(object.blobKey, range);
    } catch (err) {
      if (isAppError(err, 'invalid_range')) throw new DecryptionError('truncated', 'sealed object is shorter than its header and segments');
      throw err;
    }
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
