// The key hierarchy: root key (KeyProvider) → KEK per tenant and region (versioned, wrapped
// by the root key, stored in key_encryption_keys) → a fresh data key per sealed object
// (wrapped by the KEK, stored in sealed_objects). Payloads are never touched by rotation.

import type { KeyProvider } from '../crypto/key-provider.ts';
import { generateKey, randomId, unwrapKey, wrapContext, wrapKey } from '../crypto/keys.ts';
import { AppError, errors } from '../shared/app-error.ts';
import type { Region } from '../shared/regions.ts';
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

/** Context binding a data key to its tenant, object and key id (so wrapped keys cannot be swapped between rows). */
export const dataKeyContext = (tenantId: string, objectId: string, keyId: string) => wrapContext('sealpost/dek/v1', tenantId, objectId, keyId);

/** Manages KEKs and wraps/unwraps data keys. One instance per process; it caches unwrapped KEKs briefly. */
export class KeyService {
  // Unwrapped KEKs, to avoid a KMS round trip per object. Entries expire so that a KEK
  // destroyed by another process stops working here within the TTL at most.
  private readonly cache = new Map<string, { kek: UnwrappedKek; expires: number }>();

  constructor(
    private readonly db: Database,
    private readonly provider: KeyProvider,
    private readonly opts: { cacheTtlMs: number; cacheMax: number } = { cacheTtlMs: 60_000, cacheMax: 1000 },
  ) {}

  /** The active KEK for a tenant and region, created (version 1) on first use. */
  async activeKek(tenantId: string, region: Region): Promise<UnwrappedKek> {
    const existing = await repo.findActiveKek(this.db, tenantId, region);
    if (existing) return this.unwrapKek(existing);
    try {
      return await this.db.transaction(async (tx) => this.createKek(tx, tenantId, region, (await repo.maxKekVersion(tx, tenantId, region)) + 1));
    } catch (err) {
      // Another process created it at the same moment (one-active unique index): use theirs.
      const raced = await repo.findActiveKek(this.db, tenantId, region);
      if (raced) return this.unwrapKek(raced);
      throw err;
    }
  }

  /** A KEK by id; throws forbidden 'key_destroyed' once it has been destroyed. */
  async kekById(id: string): Promise<UnwrappedKek> {
    const cached = this.cache.get(id);
    if (cached && cached.expires > Date.now()) return cached.kek;
    const record = await repo.findKek(this.db, id);
    if (!record) throw errors.notFound('key_not_found', `no key-encryption key ${id}`);
    return this.unwrapKek(record);
  }

  /** Generates a data key and wraps it with the tenant's active KEK. */
  async newDataKey(tenantId: string, region: Region, objectId: string, keyId: string): Promise<{ dataKey: Buffer; kekId: string; wrappedKey: Buffer }> {
    const kek = await this.activeKek(tenantId, region);
    const dataKey = generateKey();
    return { dataKey, kekId: kek.id, wrappedKey: wrapKey(kek.key, dataKey, dataKeyContext(tenantId, objectId, keyId)) };
  }

  /** Unwraps an object's data key. */
  async unwrapDataKey(o: { tenantId: string; objectId: string; keyId: string; kekId: string; wrappedKey: Uint8Array }): Promise<Buffer> {
    const kek = await this.kekById(o.kekId);
    return unwrapKey(kek.key, o.wrappedKey, dataKeyContext(o.tenantId, o.objectId, o.keyId));
  }

  /**
   * Rotates a tenant's KEK in a region: a new version becomes active, then every data key
   * wrapped by older versions is re-wrapped in batches (short transactions, no long locks).
   * Safe to run again after a crash: it resumes with whatever is still wrapped by old KEKs.
   */
  async rotateKek(tenantId: string, region: Region, opts: { batchSize?: number } = {}): Promise<RotationReport> {
    const fresh = await this.db.transaction(async (tx) => {
      const version = (await repo.maxKekVersion(tx, tenantId, region)) + 1;
      await repo.retireActiveKek(tx, tenantId, region);
      return this.createKek(tx, tenantId, region, version);
    });
    const rewrapped = await this.rewrapRetired(tenantId, region, opts.batchSize ?? 500);
    return { tenantId, region, newKekId: fresh.id, newVersion: fresh.version, rewrapped };
  }

  /** Re-wraps every data key still under a retired KEK of this tenant/region with the active KEK. */
  async rewrapRetired(tenantId: string, region: Region, batchSize = 500): Promise<number> {
    const retired = (await repo.listKeks(this.db, tenantId)).filter((k) => k.region === region && k.state === 'retired');
    let total = 0;
    for (const old of retired) {
      for (;;) {
        const n = await this.db.transaction(async (tx) => {
          const active = await repo.findActiveKek(tx, tenantId, region);
          if (!active) throw errors.internal('no_active_kek', 'no active key-encryption key to re-wrap into');
          const activeKek = await this.unwrapKek(active);
          const oldKek = await this.unwrapKek(old);
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
  async rewrapKeksUnderActiveRoot(tenantId: string): Promise<number> {
    let n = 0;
    for (const k of await repo.listKeks(this.db, tenantId)) {
      if (k.state === 'destroyed' || k.rootKeyId === this.provider.activeRootKeyId()) continue;
      const kek = await this.unwrapKek(k);
      const wrapped = await this.provider.wrap(kek.key, kekContext(k));
      await repo.updateKekWrapping(this.db, k.id, wrapped.rootKeyId, wrapped.wrapped);
      n++;
    }
    return n;
  }

  /**
   * Crypto-shreds all of a tenant's Content: erases every KEK of the tenant in every
   * region. Data keys and payloads may remain on disk and in backups; nothing can open them.
   */
  async destroyTenantKeys(tenantId: string): Promise<number> {
    const keks = await repo.listKeks(this.db, tenantId);
    const n = await repo.destroyKeks(this.db, keks.map((k) => k.id));
    for (const k of keks) this.cache.delete(k.id);
    return n;
  }

  /** Lists a tenant's KEKs (metadata only, no key material). */
  async listKeks(tenantId: string): Promise<Array<Omit<repo.KekRecord, 'wrappedKey'>>> {
    return (await repo.listKeks(this.db, tenantId)).map(({ wrappedKey: _w, ...rest }) => rest);
  }

  private async createKek(tx: Sql, tenantId: string, region: Region, version: number): Promise<UnwrappedKek> {
    const id = randomId();
    const key = generateKey();
    const wrapped = await this.provider.wrap(key, kekContext({ id, tenantId, region, version }));
    await repo.insertKek(tx, { id, tenantId, region, version, state: 'active', rootKeyId: wrapped.rootKeyId, wrappedKey: wrapped.wrapped });
    const kek = { id, version, key };
    this.remember(kek);
    return kek;
  }

  private async unwrapKek(record: repo.KekRecord): Promise<UnwrappedKek> {
    // Refuses destroyed KEKs: this is what makes crypto-shredding a tenant final.
    if (record.state === 'destroyed' || !record.wrappedKey) {
      this.cache.delete(record.id);
      throw new AppError('forbidden', 'key_destroyed', 'the key protecting this content has been destroyed; it can no longer be opened');
    }
    const cached = this.cache.get(record.id);
    if (cached && cached.expires > Date.now()) return cached.kek;
    const key = await this.provider.unwrap({ rootKeyId: record.rootKeyId, wrapped: record.wrappedKey }, kekContext(record));
    const kek = { id: record.id, version: record.version, key };
    this.remember(kek);
    return kek;
  }

  private remember(kek: UnwrappedKek): void {
    if (this.cache.size >= this.opts.cacheMax) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(kek.id, { kek, expires: Date.now() + this.opts.cacheTtlMs });
  }
}
