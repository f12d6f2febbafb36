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
import { DecryptionError, DEFAULT_SEGMENT_SIZE, FORMAT_VERSION, HEADER_LENGTH, planRange, sealedLength, segmentCount } from '../crypto/format/sealed-object.ts';
import { createOpenRangeStream, createOpenStream, createSealStream, openSealedBytes, sealBytes } from '../crypto/node/sealed-stream.ts';
import { getTenant, type Tenant } from '../accounts/tenant.repository.ts';
import type { KeyService, UnwrappedKek } from '../keys/key.service.ts';
import { AppError, errors, isAppError } from '../shared/app-error.ts';
import { RegionMap, regionNotServed, type Region } from '../shared/regions.ts';
import { discardBody, type BlobStore, type ByteRange } from '../storage/blob/blob-store.ts';
import type { Database, Sql } from '../storage/database/database.ts';
import * as repo from './content.repository.ts';
import type { SealedObjectRecord } from './content.repository.ts';

export { objectKeysJson, objectsJson } from './content.repository.ts';

/**
 * A tenant id and object ids as stored (lower case). Ids that are not UUIDs name nothing, and
 * sending them to the uuid columns would be a database error: 'content_not_found'.
 */
function contentIds(tenantId: string, objectIds: string[]): { tenant: string; ids: string[] } {
  const tenant = tenantId.toLowerCase();
  const ids = objectIds.map((id) => id.toLowerCase());
  if (!isUuid(tenant) || !ids.every(isUuid)) throw errors.notFound('content_not_found', 'no such content object');
  return { tenant, ids };
}

export type { SealedObjectRecord } from './content.repository.ts';

/** Plaintext byte range, end exclusive. */
export interface ContentRange {
  start: number;
  end?: number;
}

/** What {@link ContentStore.put} and {@link ContentStore.stage} take. */
export interface StageInput {
  tenantId: string;
  /** The tenant's id and home region when the caller has them already (saves a read); ignored if it is another tenant's. */
  tenant?: Pick<Tenant, 'id' | 'region'>;
  region?: Region;
  plaintextLength: number;
  /** The plaintext: a stream, or (from stageBytes) the whole of it. */
  source: Readable | AsyncIterable<Uint8Array> | Uint8Array;
  actor?: ContentActor;
}

/** A sealed blob written but not yet recorded: see {@link ContentStore.stage}. */
export interface StagedContent {
  id: string;
  region: Region;
  /**
   * Inserts the object's row in `tx`; returns it, the 'content.sealed' event to append in `tx`,
   * and the tenant's active KEK of the object's region, which wraps its data key and which no
   * rotation can retire before `tx` ends (keys.currentWrapping).
   */
  record(tx: Sql): Promise<{ record: SealedObjectRecord; audit: AuditEventInput; kek: UnwrappedKek }>;
  /** Deletes the blob (the transaction failed or will not happen). Never rejects. */
  abandon(): Promise<void>;
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
  async put(input: StageInput): Promise<SealedObjectRecord> {
    const staged = await this.stage(input);
    try {
      return await this.db.transaction(async (tx) => {
        const { record, audit } = await staged.record(tx);
        await appendAuditEvent(tx, audit);
        return record;
      });
    } catch (err) {
      await staged.abandon();
      throw err;
    }
  }

  /**
   * The first half of {@link put}, for a caller that records the object in a transaction of its
   * own (a message send: the envelope's row, the message and their audit events then commit
   * together, under one hold of the audit chain's lock). Seals and writes the blob; the caller
   * then calls `record(tx)` inside its transaction, which inserts the row and returns the
   * 'content.sealed' event for the caller to append in that transaction, or `abandon()` when
   * the transaction failed or will not happen (deletes the blob). Exactly one of the two.
   */
  async stage(input: StageInput): Promise<StagedContent> {
    let dataKey: Buffer | undefined;
    let written: { blobKey: string; store: BlobStore } | undefined;
    let sourceTaken = false;
    let object: { id: string; tenantId: string; region: Region; keyId: string; kekId: string; wrappedKey: Uint8Array };
    try {
      if (!Number.isSafeInteger(input.plaintextLength) || input.plaintextLength < 0) {
        throw errors.invalid('invalid_content_length', 'content length must be a non-negative integer');
      }
      // A malformed id names no tenant; sending it to the uuid column would be a database error.
      if (!isUuid(input.tenantId)) throw errors.notFound('tenant_not_found', 'no such tenant');
      const tenant = input.tenant?.id === input.tenantId ? input.tenant : await getTenant(this.db, input.tenantId);
      const region = input.region ?? tenant.region;
      if (!this.stores.serves(region)) throw regionNotServed(region, this.stores.regions, input.region === undefined ? 'unavailable' : 'invalid');
      const target = this.blobs(region);
      const id = randomId();
      const keyId = randomId();
      const wrapping = await this.keys.newDataKey(tenant.id, region, id, keyId);
      dataKey = wrapping.dataKey;
      object = { id, tenantId: tenant.id, region, keyId, kekId: wrapping.kekId, wrappedKey: wrapping.wrappedKey };
      const sealing = { key: dataKey, objectId: id, keyId, segmentSize: this.opts.segmentSize };
      const whole = input.source instanceof Uint8Array ? input.source : undefined;
      written = { blobKey: id.replace(/-/g, ''), store: target };
      if (whole && whole.length <= this.opts.segmentSize && whole.length === input.plaintextLength) {
        // One segment, already in memory (a message's envelope): sealed and written with no
        // stream, which cost more than the cipher for a few KiB (docs/development.md, bench:api).
        sourceTaken = true;
        await target.putBytes(written.blobKey, sealBytes(sealing, whole));
      } else {
        const seal = createSealStream({ ...sealing, plaintextLength: input.plaintextLength });
        const source = input.source instanceof Readable ? input.source : Readable.from(whole ? [whole] : input.source);
        sourceTaken = true;
        // Wait for both sides, so no write is still in flight (and no temporary file left) when this settles.
        const results = await Promise.allSettled([pipeline(source, seal), target.put(written.blobKey, seal)]);
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      }
    } catch (err) {
      dataKey?.fill(0);
      if (!sourceTaken && !(input.source instanceof Uint8Array)) await discardBody(input.source);
      if (written) await written.store.delete(written.blobKey).catch(() => undefined);
      throw err;
    }
    const key = dataKey;
    const blob = written;
    let settled = false;
    return {
      id: object.id,
      region: object.region,
      record: async (tx) => {
        if (settled) throw errors.internal('staged_content_settled', 'a staged object is recorded or abandoned once');
        settled = true;
        try {
          // The KEK may have been rotated during the upload: store the key as the active KEK wraps it.
          const current = await this.keys.currentWrapping(tx, { ...object, objectId: object.id, dataKey: key });
          const record = await repo.insertSealedObject(tx, {
            id: object.id,
            tenantId: object.tenantId,
            region: object.region,
            keyId: object.keyId,
            kekId: current.kekId,
            wrappedKey: current.wrappedKey,
            blobKey: blob.blobKey,
            formatVersion: FORMAT_VERSION,
            segmentSize: this.opts.segmentSize,
            plaintextLength: input.plaintextLength,
          });
          const audit: AuditEventInput = {
            tenantId: object.tenantId,
            actor: input.actor ?? SYSTEM_ACTOR,
            action: 'content.sealed',
            target: { type: 'sealed_object', id: object.id },
            outcome: 'success',
            details: { region: object.region },
          };
          return { record, audit, kek: current.kek };
        } finally {
          key.fill(0);
        }
      },
      abandon: async () => {
        // Also after a failed record(tx): its transaction rolled back, so no row names the blob.
        settled = true;
        key.fill(0);
        await blob.store.delete(blob.blobKey).catch(() => undefined);
      },
    };
  }

  /** Seals an in-memory value (message bodies and other small Content). */
  async putBytes(tenantId: string, bytes: Uint8Array, opts: { region?: Region } = {}): Promise<SealedObjectRecord> {
    return this.put({ tenantId, ...opts, plaintextLength: bytes.length, source: Readable.from([Buffer.from(bytes)]) });
  }

  /** {@link stage} for an in-memory value. */
  async stageBytes(tenantId: string, bytes: Uint8Array, opts: { region?: Region; tenant?: Pick<Tenant, 'id' | 'region'>; actor?: ContentActor } = {}): Promise<StagedContent> {
    return this.stage({ tenantId, ...opts, plaintextLength: bytes.length, source: bytes });
  }

  /** Metadata of a tenant's object; not_found when it does not exist for this tenant. */
  async get(tenantId: string, objectId: string): Promise<SealedObjectRecord> {
    const { tenant, ids } = contentIds(tenantId, [objectId]);
    const o = await repo.findSealedObject(this.db, tenant, ids[0]!);
    if (!o) throw errors.notFound('content_not_found', 'no such content object');
    return o;
  }

  /**
   * Opens a tenant's object, whole or a byte range. The stream errors (and must be treated
   * as a failed read) if the payload was tampered with, truncated or swapped.
   */
  async open(tenantId: string, objectId: string, range?: ContentRange): Promise<OpenedContent> {
    const { object, dataKey } = await this.objectWithKey(tenantId, objectId);
    return this.openObject(object, dataKey, range);
  }

  /** {@link open} of an object already read with its data key. */
  private async openObject(object: SealedObjectRecord, dataKey: Buffer, range?: ContentRange): Promise<OpenedContent> {
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
    return (await this.dataKeys(tenantId, [objectId]))[0]!;
  }

  /**
   * {@link dataKey} for several objects, in the order given, with one query whatever their
   * number (the objects joined with their KEKs): a key release names a message's envelope and
   * every attachment. All or nothing: if any object is unknown, shredded or under a destroyed
   * KEK it throws, and no key is returned.
   */
  async dataKeys(tenantId: string, objectIds: string[]): Promise<Array<{ objectId: string; keyId: string; dataKey: Buffer }>> {
    const { tenant, ids } = contentIds(tenantId, objectIds);
    return this.unwrapObjectKeys(ids, await repo.findSealedObjectsWithKeks(this.db, tenant, [...new Set(ids)]));
  }

  /**
   * {@link dataKeys} for objects the caller read in its own query with `objectKeysJson`
   * (content.repository.ts), passing that column as `objectKeys`; the same checks apply.
   */
  async dataKeysFrom(objectIds: string[], objectKeys: unknown): Promise<Array<{ objectId: string; keyId: string; dataKey: Buffer }>> {
    return this.unwrapObjectKeys(
      objectIds.map((id) => id.toLowerCase()),
      repo.parseObjectKeys(objectKeys),
    );
  }

  private async unwrapObjectKeys(ids: string[], found: repo.ObjectKey[]): Promise<Array<{ objectId: string; keyId: string; dataKey: Buffer }>> {
    const byId = new Map(found.map((o) => [o.object.id, o.object]));
    const wrapped = ids.map((id) => {
      const object = byId.get(id);
      if (!object) throw errors.notFound('content_not_found', 'no such content object');
      if (object.shreddedAt || !object.wrappedKey || !object.kekId) {
        throw new AppError('not_found', 'content_shredded', 'this content has been erased and can no longer be opened');
      }
      return { tenantId: object.tenantId, objectId: object.id, keyId: object.keyId, kekId: object.kekId, wrappedKey: object.wrappedKey };
    });
    const keys = await this.keys.unwrapDataKeys(wrapped, found.flatMap((o) => (o.kek ? [o.kek] : [])));
    return wrapped.map((w, i) => ({ objectId: w.objectId, keyId: w.keyId, dataKey: keys[i]! }));
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
    const { object, dataKey } = await this.objectWithKey(tenantId, objectId);
    return this.openObjectBytes(object, dataKey);
  }

  /**
   * {@link openBytes} of an object the caller read in its own query with `objectsJson`
   * (content.repository.ts), passing that column as `objects`; the same checks apply (a
   * notification reads its message's envelope so, with its recipient).
   */
  async openBytesFrom(objectId: string, objects: unknown): Promise<Buffer> {
    const found = repo.parseObjects(objects);
    const { dataKey } = (await this.unwrapObjectKeys([objectId.toLowerCase()], found))[0]!;
    return this.openObjectBytes(found.find((o) => o.object.id === objectId.toLowerCase())!.object, dataKey);
  }

  private async openObjectBytes(object: SealedObjectRecord, dataKey: Buffer): Promise<Buffer> {
    if (segmentCount(object.plaintextLength, object.segmentSize) > 1) return readAll((await this.openObject(object, dataKey)).stream);
    // One segment (a message's envelope): read whole and opened with no stream pipeline.
    return openSealedBytes(dataKey, await readAll(await this.blobs(object.region).get(object.blobKey)), { objectId: object.id, keyId: object.keyId });
  }

  /** A tenant's object and its data key: one query for the object and its KEK, with the same checks as dataKeys. */
  private async objectWithKey(tenantId: string, objectId: string): Promise<{ object: SealedObjectRecord; dataKey: Buffer }> {
    const { tenant, ids } = contentIds(tenantId, [objectId]);
    const found = await repo.findSealedObjectsWithKeks(this.db, tenant, ids);
    const { dataKey } = (await this.unwrapObjectKeys(ids, found))[0]!;
    return { object: found[0]!.object, dataKey };
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

  /**
   * Copies an object's ciphertext, byte for byte and streamed, into `region`'s store under a new
   * blob key, to move the object there (account transfers). The row is not changed: the caller
   * records the new region and key, with the data key re-wrapped under a KEK of that region, in
   * its own transaction, then deletes the old blob, or the copy if the move failed
   * ({@link deleteBlob}). The ciphertext binds the object id, not the region, so the copy opens
   * as it is.
   */
  async copyToRegion(object: { region: Region; blobKey: string }, region: Region): Promise<string> {
    if (!this.stores.serves(region)) throw regionNotServed(region, this.stores.regions, 'unavailable');
    const blobKey = randomId().replace(/-/g, '');
    await this.blobs(region).put(blobKey, await this.blobs(object.region).get(object.blobKey));
    return blobKey;
  }

  /** Deletes a blob from a region's store (idempotent): the old copy after a move, or a copy whose move failed. */
  async deleteBlob(region: Region, blobKey: string): Promise<void> {
    await this.blobs(region).delete(blobKey);
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
