// The key hierarchy: root key (KeyProvider) → KEK per tenant and region (versioned, wrapped
// by the root key, stored in key_encryption_keys) → a fresh data key per sealed object
// (wrapped by the KEK, stored in sealed_objects). Payloads are never touched by rotation.
// Residency: each region has its own root-key provider; a region's KEKs are wrapped and
// unwrapped only by that region's root key (see providerFor).

import type { KeyProvider } from '../crypto/key-provider.ts';
import { generateKey, randomId, unwrapKey, wrapContext, wrapKey } from '../crypto/keys.ts';
import { appendAuditEvent } from '../audit/audit.service.ts';
import type { AuditEventInput } from '../audit/audit.model.ts';
import { AppError, errors, isAppError } from '../shared/app-error.ts';
import { RegionMap, type Region } from '../shared/regions.ts';
import type { Database, Sql } from '../storage/database/database.ts';
import * as repo from './key.repository.ts';

/** An unwrapped KEK ready to wrap or unwrap data keys. Never log or serialise `key`. */
export interface UnwrappedKek {
  id: string;
  version: number;
  key: Uint8Array;
}

/** Result of rotating a tenant's KEK. */
export interface RotationReport {
  tenantId: string;
  region: Region;
  newKekId: string;
  newVersion: number;
  rewrapped: number;
}

const kekContext = (k: { id: string; tenantId: string; region: Region; version: number }) =>
  wrapContext('sealpost/kek/v1', k.tenantId, k.region, String(k.version), k.id);

/** Who asked for a key operation, for the audit log; 'system' when not given. */
export type KeyActor = AuditEventInput['actor'];

const SYSTEM_ACTOR: KeyActor = { type: 'system' };

/** Rows re-wrapped per transaction when no batch size is given. */
export const DEFAULT_REWRAP_BATCH_SIZE = 500;

function checkBatchSize(batchSize: number): number {
  // A batch size of 0 would re-wrap nothing and loop for ever.
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw errors.invalid('invalid_batch_size', 'batchSize must be a positive integer');
  return batchSize;
}

function keyDestroyed(): AppError {
  return new AppError('forbidden', 'key_destroyed', 'the key protecting this content has been destroyed; it can no longer be opened');
}

/** Context binding a data key to its tenant, object and key id (so wrapped keys cannot be swapped between rows). */
export const dataKeyContext = (tenantId: string, objectId: string, keyId: string) => wrapContext('sealpost/dek/v1', tenantId, objectId, keyId);

/** An object's data key as stored: wrapped by a KEK, bound to the object by its context. */
export interface WrappedDataKey {
  tenantId: string;
  objectId: string;
  keyId: string;
  kekId: string;
  wrappedKey: Uint8Array;
}

/**
 * Manages KEKs and wraps/unwraps data keys. One instance per process. It caches unwrapped KEK
 * material (to save a provider round trip per object) but reads the KEK's row on every use, so
 * a KEK destroyed by any process stops working everywhere at once.
 */
export class KeyService {
  // Unwrapped KEK material only. Whether a KEK may still be used is never answered from here:
  // every use re-reads its row first (see unwrapKek), so the TTL only bounds how long key
  // material stays in memory.
  private readonly cache = new Map<string, { kek: UnwrappedKek; expires: number }>();
  /**
   * The active KEK last seen per tenant and region (`tenant/region` → KEK id), read from the
   * database by this process. Only a hint: it lets {@link newDataKey} wrap without a read,
   * because the object's transaction re-reads the active KEK under the series lock
   * ({@link currentWrapping}) and re-wraps if it changed meanwhile.
   */
  private readonly activeSeen = new Map<string, string>();
  private readonly providers: RegionMap<KeyProvider>;

  /**
   * `providers`: one root-key provider per served region; a single provider serves every
   * region (single-region installations and tests).
   */
  constructor(
    private readonly db: Database,
    providers: KeyProvider | RegionMap<KeyProvider>,
    private readonly opts: { cacheTtlMs: number; cacheMax: number } = { cacheTtlMs: 60_000, cacheMax: 1000 },
  ) {
    this.providers = providers instanceof RegionMap ? providers : RegionMap.uniform(providers);
  }

  /** The root-key provider of a region; 'region_not_served' when the installation has none for it. */
  providerFor(region: Region): KeyProvider {
    // Residency: a region's KEKs are only ever wrapped by that region's root key, never another's.
    return this.providers.get(region);
  }

  /** The active KEK for a tenant and region, created (version 1, or the next version after a destroy) on first use. */
  async activeKek(tenantId: string, region: Region): Promise<UnwrappedKek> {
    const existing = await repo.findActiveKek(this.db, tenantId, region);
    if (existing) return this.seenActive(await this.unwrapKek(existing), tenantId, region);
    let created: UnwrappedKek | null;
    try {
      created = await this.db.transaction(async (tx) => {
        await repo.lockKekSeries(tx, tenantId, region);
        // Someone else created it while we waited for the lock: use theirs.
        if (await repo.findActiveKek(tx, tenantId, region)) return null;
        const version = (await repo.maxKekVersion(tx, tenantId, region)) + 1;
        const kek = await this.createKek(tx, tenantId, region, version);
        await appendAuditEvent(tx, {
          tenantId,
          actor: SYSTEM_ACTOR,
          action: 'key.kek_created',
          target: { type: 'key_encryption_key', id: kek.id },
          outcome: 'success',
          details: { region, version, rootKeyId: kek.rootKeyId },
        });
        return kek;
      });
    } catch (err) {
      // Backstop (the lock makes this rare): the one-active index refused a second active KEK.
      if (!isAppError(err, 'unique_violation')) throw err;
      created = null;
    }
    if (created) {
      const kek = { id: created.id, version: created.version, key: created.key };
      this.remember(kek);
      return this.seenActive(kek, tenantId, region);
    }
    const raced = await repo.findActiveKek(this.db, tenantId, region);
    if (!raced) throw errors.internal('no_active_kek', 'no active key-encryption key after creating one');
    return this.seenActive(await this.unwrapKek(raced), tenantId, region);
  }

  private seenActive(kek: UnwrappedKek, tenantId: string, region: Region): UnwrappedKek {
    this.activeSeen.set(`${tenantId}/${region}`, kek.id);
    return kek;
  }

  /**
   * The active KEK as last seen by this process, from memory while its key material is cached,
   * else read ({@link activeKek}). Only for wrapping a data key that {@link currentWrapping}
   * checks again in the object's transaction: it may have been rotated or destroyed since.
   */
  private async recentActiveKek(tenantId: string, region: Region): Promise<UnwrappedKek> {
    const id = this.activeSeen.get(`${tenantId}/${region}`);
    const cached = id === undefined ? undefined : this.cache.get(id);
    if (cached && cached.expires > Date.now()) return cached.kek;
    return this.activeKek(tenantId, region);
  }

  /** A KEK by id; throws forbidden 'key_destroyed' once it has been destroyed (checked on every call). */
  async kekById(id: string): Promise<UnwrappedKek> {
    const record = await repo.findKek(this.db, id);
    if (!record) throw errors.notFound('key_not_found', `no key-encryption key ${id}`);
    return this.unwrapKek(record);
  }

  /**
   * {@link kekById} for a KEK row the caller read in its own query (with JOINED_KEK_COLUMNS,
   * key.repository.ts), as current as that query: 'key_destroyed' if it is destroyed.
   */
  async kekFrom(record: repo.KekRecord): Promise<UnwrappedKek> {
    return this.unwrapKek(record);
  }

  /**
   * Generates a data key and wraps it with the tenant's active KEK as this process saw it last;
   * {@link currentWrapping} re-checks it when the object's row is inserted, and re-wraps if it
   * is no longer the active one.
   */
  async newDataKey(tenantId: string, region: Region, objectId: string, keyId: string): Promise<{ dataKey: Buffer; kekId: string; wrappedKey: Buffer }> {
    const kek = await this.recentActiveKek(tenantId, region);
    const dataKey = generateKey();
    return { dataKey, kekId: kek.id, wrappedKey: wrapKey(kek.key, dataKey, dataKeyContext(tenantId, objectId, keyId)) };
  }

  /**
   * For the transaction that inserts a new object's row: returns the data key wrapped by the
   * KEK that is active now (re-wrapping it if the KEK from {@link newDataKey} was rotated out
   * meanwhile) and keeps that KEK from being rotated out until the transaction ends. Without
   * this, a rotation during a long upload would finish re-wrapping before the row exists and
   * leave the object under a retired KEK. Throws 'key_destroyed' if the tenant's keys were
   * destroyed meanwhile. Also returns that active KEK: the same transaction may wrap other keys
   * with it (a message's link tokens), safe from rotation until it ends.
   */
  async currentWrapping(
    tx: Sql,
    o: { tenantId: string; region: Region; objectId: string; keyId: string; dataKey: Uint8Array; kekId: string; wrappedKey: Uint8Array },
  ): Promise<{ kekId: string; wrappedKey: Uint8Array; kek: UnwrappedKek }> {
    const active = await repo.lockSharedAndFindActiveKek(tx, o.tenantId, o.region);
    if (!active) {
      // No active KEK any more: the tenant's keys were destroyed while the payload was uploading,
      // or before, by another process, since this one last saw the active KEK. The next object
      // reads again, and gets a new KEK (activeKek creates one).
      this.activeSeen.delete(`${o.tenantId}/${o.region}`);
      throw keyDestroyed();
    }
    const kek = this.seenActive(await this.unwrapKek(active), o.tenantId, o.region);
    if (active.id === o.kekId) return { kekId: o.kekId, wrappedKey: o.wrappedKey, kek };
    return { kekId: kek.id, wrappedKey: wrapKey(kek.key, o.dataKey, dataKeyContext(o.tenantId, o.objectId, o.keyId)), kek };
  }

  /** Unwraps an object's data key; 'key_destroyed' if its KEK has been destroyed, by this process or any other. */
  async unwrapDataKey(o: WrappedDataKey): Promise<Buffer> {
    return (await this.unwrapDataKeys([o]))[0]!;
  }

  /**
   * {@link unwrapDataKey} for several objects, in order, reading their KEKs in one query (or
   * using `keks`, read in the same statement as the objects). All or nothing: on any failure the keys unwrapped so far are zeroed and it throws.
   */
  async unwrapDataKeys(objects: WrappedDataKey[], keks?: repo.KekRecord[]): Promise<Buffer[]> {
    // One indexed lookup per release, so a destroyed KEK is refused at once, not after a cache
    // TTL; or the KEK rows the caller read in the same statement as the objects
    // (content.repository.ts findSealedObjectsWithKeks).
    const records = new Map((keks ?? (await repo.findKeks(this.db, [...new Set(objects.map((o) => o.kekId))]))).map((r) => [r.id, r]));
    const keys: Buffer[] = [];
    try {
      for (const o of objects) {
        const record = records.get(o.kekId);
        if (!record) throw errors.notFound('key_not_found', `no key-encryption key ${o.kekId}`);
        // A row pointing at another tenant's KEK is tampering; the context would refuse it too.
        if (record.tenantId !== o.tenantId) {
          throw new AppError('invalid', 'key_unwrap_failed', 'wrapped key could not be unwrapped (wrong key, wrong context or tampering)');
        }
        const kek = await this.unwrapKek(record);
        keys.push(unwrapKey(kek.key, o.wrappedKey, dataKeyContext(o.tenantId, o.objectId, o.keyId)));
      }
    } catch (err) {
      for (const key of keys) key.fill(0);
      throw err;
    }
    return keys;
  }

  /**
   * Rotates a tenant's KEK in a region: a new version becomes active, then every data key
   * wrapped by older versions is re-wrapped in batches (short transactions, no long locks).
   * Safe to run again after a crash: it resumes with whatever is still wrapped by old KEKs.
   */
  async rotateKek(tenantId: string, region: Region, opts: { batchSize?: number; actor?: KeyActor } = {}): Promise<RotationReport> {
    const batchSize = checkBatchSize(opts.batchSize ?? DEFAULT_REWRAP_BATCH_SIZE);
    const fresh = await this.db.transaction(async (tx) => {
      // Concurrent rotations (and first-use creation) queue here instead of colliding on versions.
      await repo.lockKekSeries(tx, tenantId, region);
      const retiredKekId = await repo.retireActiveKek(tx, tenantId, region);
      const version = (await repo.maxKekVersion(tx, tenantId, region)) + 1;
      const kek = await this.createKek(tx, tenantId, region, version);
      await appendAuditEvent(tx, {
        tenantId,
        actor: opts.actor ?? SYSTEM_ACTOR,
        action: 'key.kek_rotated',
        target: { type: 'key_encryption_key', id: kek.id },
        outcome: 'success',
        details: { region, version, retiredKekId, rootKeyId: kek.rootKeyId },
      });
      return kek;
    });
    this.remember({ id: fresh.id, version: fresh.version, key: fresh.key });
    const rewrapped = await this.rewrapRetired(tenantId, region, batchSize);
    return { tenantId, region, newKekId: fresh.id, newVersion: fresh.version, rewrapped };
  }

  /** Re-wraps every data key still under a retired KEK of this tenant/region with the active KEK. Returns how many. */
  async rewrapRetired(tenantId: string, region: Region, batchSize = DEFAULT_REWRAP_BATCH_SIZE): Promise<number> {
    checkBatchSize(batchSize);
    const retired = (await repo.listKeks(this.db, tenantId)).filter((k) => k.region === region && k.state === 'retired');
    let total = 0;
    for (const old of retired) {
      for (;;) {
        const n = await this.db.transaction(async (tx) => {
          // Shared: batches run alongside uploads and each other, but the active KEK cannot change under them.
          const active = await repo.lockSharedAndFindActiveKek(tx, tenantId, region);
          if (!active) throw errors.internal('no_active_kek', 'no active key-encryption key to re-wrap into');
          // Re-read: a KEK destroyed since the listing must not be used from the cache.
          const oldRecord = await repo.findKek(tx, old.id);
          if (!oldRecord) throw errors.notFound('key_not_found', `no key-encryption key ${old.id}`);
          const activeKek = await this.unwrapKek(active);
          const oldKek = await this.unwrapKek(oldRecord);
          const rows = await repo.lockDataKeysWrappedBy(tx, old.id, batchSize);
          for (const row of rows) {
            const ctx = dataKeyContext(row.tenant_id, row.id, row.key_id);
            const dataKey = unwrapKey(oldKek.key, row.wrapped_key, ctx);
            await repo.updateDataKeyWrapping(tx, row.id, activeKek.id, wrapKey(activeKek.key, dataKey, ctx));
            dataKey.fill(0);
          }
          return rows.length;
        });
        total += n;
        if (n < batchSize) break;
      }
    }
    return total;
  }

  /** Re-wraps every KEK under the provider's active root key (after a root-key rotation). */
  async rewrapKeksUnderActiveRoot(tenantId: string, opts: { region?: Region } = {}): Promise<number> {
    let n = 0;
    for (const k of await repo.listKeks(this.db, tenantId)) {
      if (opts.region !== undefined && k.region !== opts.region) continue;
      if (k.state === 'destroyed' || !this.providers.serves(k.region)) continue;
      const provider = this.providerFor(k.region);
      if (k.rootKeyId === provider.activeRootKeyId()) continue;
      const kek = await this.unwrapKek(k);
      const wrapped = await provider.wrap(kek.key, kekContext(k));
      await repo.updateKekWrapping(this.db, k.id, wrapped.rootKeyId, wrapped.wrapped);
      n++;
    }
    return n;
  }

  /**
   * Crypto-shreds all of a tenant's Content: erases every KEK of the tenant in every
   * region. Data keys and payloads may remain on disk and in backups; nothing can open them.
   * Takes effect in every process at once (each use of a KEK re-reads its row).
   */
  async destroyTenantKeys(tenantId: string, opts: { actor?: KeyActor } = {}): Promise<number> {
    const ids = await this.db.transaction(async (tx) => {
      const destroyed = await repo.destroyTenantKeks(tx, tenantId);
      await appendAuditEvent(tx, {
        tenantId,
        actor: opts.actor ?? SYSTEM_ACTOR,
        action: 'key.tenant_keys_destroyed',
        target: { type: 'tenant', id: tenantId },
        outcome: 'success',
        details: { destroyedKeks: destroyed.length },
      });
      return destroyed;
    });
    for (const id of ids) this.forget(id);
    return ids.length;
  }

  /** Lists a tenant's KEKs (metadata only, no key material). */
  async listKeks(tenantId: string): Promise<Array<Omit<repo.KekRecord, 'wrappedKey'>>> {
    return (await repo.listKeks(this.db, tenantId)).map(({ wrappedKey: _w, ...rest }) => rest);
  }

  // Not cached here: the caller remembers the KEK only once its transaction has committed.
  private async createKek(tx: Sql, tenantId: string, region: Region, version: number): Promise<UnwrappedKek & { rootKeyId: string }> {
    const id = randomId();
    const key = generateKey();
    const wrapped = await this.providerFor(region).wrap(key, kekContext({ id, tenantId, region, version }));
    await repo.insertKek(tx, { id, tenantId, region, version, state: 'active', rootKeyId: wrapped.rootKeyId, wrappedKey: wrapped.wrapped });
    return { id, version, key, rootKeyId: wrapped.rootKeyId };
  }

  private async unwrapKek(record: repo.KekRecord): Promise<UnwrappedKek> {
    // Refuses destroyed KEKs: this is what makes crypto-shredding a tenant final.
    if (record.state === 'destroyed' || !record.wrappedKey) {
      this.forget(record.id);
      throw keyDestroyed();
    }
    const cached = this.cache.get(record.id);
    if (cached && cached.expires > Date.now()) return cached.kek;
    const key = await this.providerFor(record.region).unwrap({ rootKeyId: record.rootKeyId, wrapped: record.wrappedKey }, kekContext(record));
    const kek = { id: record.id, version: record.version, key };
    this.remember(kek);
    return kek;
  }

  private remember(kek: UnwrappedKek): void {
    this.forget(kek.id);
    if (this.cache.size >= this.opts.cacheMax) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.forget(oldest);
    }
    this.cache.set(kek.id, { kek, expires: Date.now() + this.opts.cacheTtlMs });
  }

  private forget(id: string): void {
    this.cache.delete(id);
  }
}
