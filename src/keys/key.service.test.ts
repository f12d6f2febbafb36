// Storage-tier tests of the key hierarchy (root key → KEK → data key) through the Content
// store, on PGlite and, with TEST_DATABASE_URL, PostgreSQL. Outcomes are checked in the
// stores themselves: rows, key file and blob bytes.
import { randomBytes } from 'node:crypto';
import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { describeEachDatabase } from '../../test/support/database.ts';
import { buildContentStack, buildTenant, type ContentStack, type TenantRow } from '../../test/support/factories.ts';
import { verifyAuditChains } from '../audit/audit.service.ts';
import { ContentStore } from '../content/content.service.ts';
import { FsBlobStore } from '../storage/blob/fs-blob-store.ts';
import { randomId } from '../crypto/keys.ts';
import { LocalKeyProvider } from '../crypto/local-key-provider.ts';
import type { Database, QueryResult, Sql } from '../storage/database/database.ts';
import * as repo from './key.repository.ts';
import { KeyService } from './key.service.ts';

interface ObjectRow {
  id: string;
  kek_id: string | null;
  wrapped_key: Uint8Array | null;
  blob_key: string;
}

async function objectRows(sql: Sql, tenantId: string): Promise<ObjectRow[]> {
  const { rows } = await sql.query<ObjectRow>('SELECT id, kek_id, wrapped_key, blob_key FROM sealed_objects WHERE tenant_id = $1 ORDER BY id', [tenantId]);
  return rows;
}

async function kekRows(sql: Sql, tenantId: string) {
  const { rows } = await sql.query<{ id: string; version: number; state: string; root_key_id: string; wrapped_key: Uint8Array | null; destroyed_at: Date | null }>(
    'SELECT id, version, state, root_key_id, wrapped_key, destroyed_at FROM key_encryption_keys WHERE tenant_id = $1 ORDER BY region, version',
    [tenantId],
  );
  return rows;
}

async function auditEvents(sql: Sql, tenantId: string) {
  const { rows } = await sql.query<{ action: string; actor_type: string; actor_id: string | null; target_type: string | null; target_id: string | null; details: Record<string, unknown> }>(
    'SELECT action, actor_type, actor_id, target_type, target_id, details FROM audit_events WHERE chain = $1 ORDER BY chain_seq',
    [tenantId],
  );
  return rows;
}

const hex = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString('hex'));

/** Seals `count` objects of distinct random sizes (spanning several 64-byte segments); returns id → plaintext. */
async function sealMany(content: ContentStore, tenantId: string, count: number): Promise<Map<string, Buffer>> {
  const sealed = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    const plaintext = randomBytes(17 + i * 53);
    const record = await content.putBytes(tenantId, plaintext);
    sealed.set(record.id, plaintext);
  }
  return sealed;
}

/** Opens every object with `content` and checks it is byte-identical to what was sealed. */
async function expectAllOpen(content: ContentStore, tenantId: string, sealed: Map<string, Buffer>): Promise<void> {
  for (const [id, plaintext] of sealed) expect((await content.openBytes(tenantId, id)).equals(plaintext)).toBe(true);
}

async function blobBytes(stack: ContentStack, sql: Sql, tenantId: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const row of await objectRows(sql, tenantId)) out.set(row.id, (await readFile(stack.blobPath(row.blob_key))).toString('hex'));
  return out;
}

/**
 * The database as KeyService sees it, counting the data keys each transaction re-wraps, and
 * optionally failing the re-wrap after `failAfter` keys (a crash in the middle of a rotation).
 */
function watchRewraps(db: Database, failAfter?: number): { db: Database; batches: number[] } {
  const REWRAP = /^UPDATE sealed_objects SET kek_id/;
  const batches: number[] = [];
  let total = 0;
  const watched: Database = {
    driver: db.driver,
    query<Row>(text: string, params?: unknown[]): Promise<QueryResult<Row>> {
      return db.query<Row>(text, params);
    },
    transaction(fn) {
      return db.transaction(async (tx) => {
        let inThisTransaction = 0;
        const result = await fn({
          async query<Row>(text: string, params?: unknown[]): Promise<QueryResult<Row>> {
            if (REWRAP.test(text)) {
              total++;
              inThisTransaction++;
              if (failAfter !== undefined && total > failAfter) throw new Error('simulated crash during re-wrap');
            }
            return tx.query<Row>(text, params);
          },
          script: (text) => tx.script(text),
        });
        if (inThisTransaction > 0) batches.push(inThisTransaction);
        return result;
      });
    },
    ping: () => db.ping(),
    close: async () => undefined,
  };
  return { db: watched, batches };
}

describeEachDatabase('key hierarchy', (ctx) => {
  let stack: ContentStack;

  beforeAll(async () => {
    stack = await buildContentStack(ctx.db(), { segmentSize: 64 });
  });

  afterAll(async () => {
    await stack?.cleanup();
  });

  describe('KeyService.activeKek', () => {
    it('does create version 1 on first use, wrapped by the active root key, and return it afterwards', async () => {
      const tenant = await buildTenant(ctx.db());
      expect(await kekRows(ctx.db(), tenant.id)).toEqual([]);

      const first = await stack.keys.activeKek(tenant.id, 'uk');
      const again = await stack.keys.activeKek(tenant.id, 'uk');
      expect(again.id).toBe(first.id);
      expect(first.version).toBe(1);

      const rows = await kekRows(ctx.db(), tenant.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ id: first.id, version: 1, state: 'active', root_key_id: stack.provider.activeRootKeyId() });
      // Stored wrapped (61 bytes), never as the key itself.
      expect(rows[0]!.wrapped_key).toHaveLength(61);
      expect(hex(rows[0]!.wrapped_key)).not.toContain(Buffer.from(first.key).toString('hex'));

      const events = await auditEvents(ctx.db(), tenant.id);
      expect(events).toEqual([
        expect.objectContaining({ action: 'key.kek_created', actor_type: 'system', target_type: 'key_encryption_key', target_id: first.id, details: expect.objectContaining({ region: 'uk', version: 1 }) }),
      ]);
    });

    it('does create exactly one active KEK when first used concurrently by several processes', async () => {
      const tenant = await buildTenant(ctx.db());
      const other = await stack.otherProcess();
      const services = [stack.keys, other.keys, new KeyService(ctx.db(), stack.provider)];
      const keks = await Promise.all(Array.from({ length: 9 }, (_, i) => services[i % services.length]!.activeKek(tenant.id, 'uk')));

      expect(new Set(keks.map((k) => k.id)).size).toBe(1);
      expect(new Set(keks.map((k) => Buffer.from(k.key).toString('hex'))).size).toBe(1);
      const rows = await kekRows(ctx.db(), tenant.id);
      expect(rows.map((r) => [r.id, r.state])).toEqual([[keks[0]!.id, 'active']]);
      expect((await auditEvents(ctx.db(), tenant.id)).filter((e) => e.action === 'key.kek_created')).toHaveLength(1);
      expect((await verifyAuditChains(ctx.db(), { tenantId: tenant.id })).ok).toBe(true);
    });

    it('does keep separate KEKs per tenant and per region', async () => {
      const a = await buildTenant(ctx.db());
      const b = await buildTenant(ctx.db());
      const ids = [
        (await stack.keys.activeKek(a.id, 'uk')).id,
        (await stack.keys.activeKek(a.id, 'eea')).id,
        (await stack.keys.activeKek(b.id, 'uk')).id,
      ];
      expect(new Set(ids).size).toBe(3);
      expect((await stack.keys.listKeks(a.id)).map((k) => k.region)).toEqual(['eea', 'uk']);
    });
  });

  describe('KeyService.newDataKey and unwrapDataKey', () => {
    it('does unwrap a data key only under the tenant, object and key id it was wrapped for', async () => {
      const tenant = await buildTenant(ctx.db());
      const other = await buildTenant(ctx.db());
      const objectId = randomId();
      const keyId = randomId();
      const { dataKey, kekId, wrappedKey } = await stack.keys.newDataKey(tenant.id, 'uk', objectId, keyId);
      expect(wrappedKey).toHaveLength(61);

      const o = { tenantId: tenant.id, objectId, keyId, kekId, wrappedKey };
      expect((await stack.keys.unwrapDataKey(o)).equals(dataKey)).toBe(true);
      await expect(stack.keys.unwrapDataKey({ ...o, objectId: randomId() })).rejects.toMatchObject({ code: 'key_unwrap_failed' });
      await expect(stack.keys.unwrapDataKey({ ...o, keyId: randomId() })).rejects.toMatchObject({ code: 'key_unwrap_failed' });
      await expect(stack.keys.unwrapDataKey({ ...o, tenantId: other.id })).rejects.toMatchObject({ code: 'key_unwrap_failed' });
      const flipped = Buffer.from(wrappedKey);
      flipped[30]! ^= 1;
      await expect(stack.keys.unwrapDataKey({ ...o, wrappedKey: flipped })).rejects.toMatchObject({ code: 'key_unwrap_failed' });
      await expect(stack.keys.unwrapDataKey({ ...o, kekId: randomId() })).rejects.toMatchObject({ code: 'key_not_found' });
    });

    it('does not open objects whose wrapped keys were swapped between rows', async () => {
      const tenant = await buildTenant(ctx.db());
      const sealed = await sealMany(stack.content, tenant.id, 2);
      const [x, y] = [...sealed.keys()] as [string, string];
      // Someone with write access to the database but no key moves wrapped keys around.
      await ctx.db().query(
        `UPDATE sealed_objects AS s SET wrapped_key = o.wrapped_key
           FROM sealed_objects AS o WHERE (s.id, o.id) IN (($1::uuid, $2::uuid), ($2::uuid, $1::uuid))`,
        [x, y],
      );
      const rows = await objectRows(ctx.db(), tenant.id);
      expect(hex(rows.find((r) => r.id === x)!.wrapped_key)).not.toBe(hex(rows.find((r) => r.id === y)!.wrapped_key));

      await expect(stack.content.openBytes(tenant.id, x)).rejects.toMatchObject({ code: 'key_unwrap_failed' });
      await expect(stack.content.openBytes(tenant.id, y)).rejects.toMatchObject({ code: 'key_unwrap_failed' });
    });

    it('does not unwrap KEKs whose wrapped keys were swapped between versions', async () => {
      const tenant = await buildTenant(ctx.db());
      const sealed = await sealMany(stack.content, tenant.id, 1);
      await stack.keys.rotateKek(tenant.id, 'uk');
      const [v1, v2] = await kekRows(ctx.db(), tenant.id);
      await ctx.db().query('UPDATE key_encryption_keys SET wrapped_key = $2 WHERE id = $1', [v1!.id, v2!.wrapped_key]);
      await ctx.db().query('UPDATE key_encryption_keys SET wrapped_key = $2 WHERE id = $1', [v2!.id, v1!.wrapped_key]);

      // A fresh process: nothing cached, so the swapped rows are all it has.
      const fresh = await stack.otherProcess();
      await expect(fresh.keys.kekById(v1!.id)).rejects.toMatchObject({ code: 'key_unwrap_failed' });
      await expect(fresh.content.openBytes(tenant.id, [...sealed.keys()][0]!)).rejects.toMatchObject({ code: 'key_unwrap_failed' });
    });

    it('does refuse a KEK that belongs to another tenant', async () => {
      const a = await buildTenant(ctx.db());
      const b = await buildTenant(ctx.db());
      const objectId = randomId();
      const keyId = randomId();
      const { kekId, wrappedKey } = await stack.keys.newDataKey(a.id, 'uk', objectId, keyId);
      await expect(stack.keys.unwrapDataKey({ tenantId: b.id, objectId, keyId, kekId, wrappedKey })).rejects.toMatchObject({ code: 'key_unwrap_failed' });
    });
  });

  describe('KeyService.rotateKek', () => {
    it('does keep every object readable, re-wrapping data keys under the new KEK without touching payloads', async () => {
      const tenant = await buildTenant(ctx.db());
      const sealed = await sealMany(stack.content, tenant.id, 5);
      const before = await objectRows(ctx.db(), tenant.id);
      const blobsBefore = await blobBytes(stack, ctx.db(), tenant.id);
      const oldKekId = before[0]!.kek_id!;
      expect(new Set(before.map((r) => r.kek_id))).toEqual(new Set([oldKekId]));

      const report = await stack.keys.rotateKek(tenant.id, 'uk', { batchSize: 2, actor: { type: 'operator', id: 'op-1' } });
      expect(report).toMatchObject({ tenantId: tenant.id, region: 'uk', newVersion: 2, rewrapped: 5 });

      const after = await objectRows(ctx.db(), tenant.id);
      for (const row of after) {
        const old = before.find((r) => r.id === row.id)!;
        expect(row.kek_id).toBe(report.newKekId);
        expect(hex(row.wrapped_key)).not.toBe(hex(old.wrapped_key));
      }
      // Payloads are never re-encrypted: the data key did not change.
      expect(await blobBytes(stack, ctx.db(), tenant.id)).toEqual(blobsBefore);
      expect((await kekRows(ctx.db(), tenant.id)).map((k) => [k.id, k.version, k.state])).toEqual([
        [oldKekId, 1, 'retired'],
        [report.newKekId, 2, 'active'],
      ]);
      await expectAllOpen(stack.content, tenant.id, sealed);

      // Nothing depends on the retired KEK any more: destroy it and open everything again,
      // in this process and in one with nothing cached.
      expect(await repo.destroyKeks(ctx.db(), [oldKekId])).toBe(1);
      await expectAllOpen(stack.content, tenant.id, sealed);
      await expectAllOpen((await stack.otherProcess()).content, tenant.id, sealed);

      const rotated = (await auditEvents(ctx.db(), tenant.id)).filter((e) => e.action === 'key.kek_rotated');
      expect(rotated).toEqual([
        expect.objectContaining({ actor_type: 'operator', actor_id: 'op-1', target_id: report.newKekId, details: expect.objectContaining({ region: 'uk', version: 2, retiredKekId: oldKekId }) }),
      ]);
      expect((await verifyAuditChains(ctx.db(), { tenantId: tenant.id })).ok).toBe(true);
    });

    it('does re-wrap in transactions of at most batchSize data keys', async () => {
      const tenant = await buildTenant(ctx.db());
      const sealed = await sealMany(stack.content, tenant.id, 5);
      const watched = watchRewraps(ctx.db());
      const keys = new KeyService(watched.db, stack.provider);

      const report = await keys.rotateKek(tenant.id, 'uk', { batchSize: 2 });
      expect(report.rewrapped).toBe(5);
      expect(watched.batches).toEqual([2, 2, 1]);
      expect(new Set((await objectRows(ctx.db(), tenant.id)).map((r) => r.kek_id))).toEqual(new Set([report.newKekId]));
      await expectAllOpen(stack.content, tenant.id, sealed);
    });

    it('does resume an interrupted re-wrap when rewrapRetired runs again', async () => {
      const tenant = await buildTenant(ctx.db());
      const sealed = await sealMany(stack.content, tenant.id, 5);
      const oldKekId = (await objectRows(ctx.db(), tenant.id))[0]!.kek_id!;
      const crashing = watchRewraps(ctx.db(), 2);

      await expect(new KeyService(crashing.db, stack.provider).rotateKek(tenant.id, 'uk', { batchSize: 2 })).rejects.toThrow('simulated crash during re-wrap');
      const active = (await kekRows(ctx.db(), tenant.id)).find((k) => k.state === 'active')!;
      const kekIds = (await objectRows(ctx.db(), tenant.id)).map((r) => r.kek_id);
      // The first batch committed; the failed one rolled back whole.
      expect(kekIds.filter((id) => id === active.id)).toHaveLength(2);
      expect(kekIds.filter((id) => id === oldKekId)).toHaveLength(3);
      await expectAllOpen(stack.content, tenant.id, sealed);

      expect(await stack.keys.rewrapRetired(tenant.id, 'uk', 2)).toBe(3);
      expect(new Set((await objectRows(ctx.db(), tenant.id)).map((r) => r.kek_id))).toEqual(new Set([active.id]));
      expect(await repo.countDataKeysWrappedBy(ctx.db(), oldKekId)).toBe(0);
      expect(await stack.keys.rewrapRetired(tenant.id, 'uk', 2)).toBe(0);
      await repo.destroyKeks(ctx.db(), [oldKekId]);
      await expectAllOpen((await stack.otherProcess()).content, tenant.id, sealed);
    });

    it('does refuse a batch size that is not a positive integer', async () => {
      const tenant = await buildTenant(ctx.db());
      await sealMany(stack.content, tenant.id, 1);
      // Before the check, batchSize 0 re-wrapped nothing and looped for ever.
      await expect(stack.keys.rewrapRetired(tenant.id, 'uk', 0)).rejects.toMatchObject({ code: 'invalid_batch_size' });
      await expect(stack.keys.rotateKek(tenant.id, 'uk', { batchSize: 1.5 })).rejects.toMatchObject({ code: 'invalid_batch_size' });
      expect((await kekRows(ctx.db(), tenant.id)).map((k) => k.state)).toEqual(['active']);
    });

    it('does give concurrent rotations consecutive versions and leave one active KEK', async () => {
      const tenant = await buildTenant(ctx.db());
      const sealed = await sealMany(stack.content, tenant.id, 3);
      const other = await stack.otherProcess();
      const reports = await Promise.all([stack.keys.rotateKek(tenant.id, 'uk'), other.keys.rotateKek(tenant.id, 'uk')]);

      expect(reports.map((r) => r.newVersion).sort()).toEqual([2, 3]);
      const keks = await kekRows(ctx.db(), tenant.id);
      expect(keks.map((k) => [k.version, k.state])).toEqual([
        [1, 'retired'],
        [2, 'retired'],
        [3, 'active'],
      ]);
      expect(new Set((await objectRows(ctx.db(), tenant.id)).map((r) => r.kek_id))).toEqual(new Set([keks[2]!.id]));
      await expectAllOpen(stack.content, tenant.id, sealed);
    });

    it('does wrap under the new KEK when the row waited for a rotation that committed meanwhile', async () => {
      const tenant = await buildTenant(ctx.db());
      await stack.content.putBytes(tenant.id, Buffer.from('creates v1'));
      // A rotation that stops, holding the series' exclusive lock, right after retiring v1.
      let retired!: () => void;
      const retiring = new Promise<void>((resolve) => (retired = resolve));
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      // Proxies, not copies: the driver classes keep private fields that only their own instances can read.
      const pausing = (tx: Sql): Sql =>
        new Proxy(tx, {
          get(target, prop) {
            const value = Reflect.get(target, prop, target) as unknown;
            if (prop !== 'query') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
            return async (text: string, params?: unknown[]) => {
              const result = await target.query(text, params);
              if (text.startsWith("UPDATE key_encryption_keys SET state = 'retired'")) {
                retired();
                await gate;
              }
              return result;
            };
          },
        });
      const rotatingDb = new Proxy(ctx.db(), {
        get(target, prop) {
          const value = Reflect.get(target, prop, target) as unknown;
          if (prop === 'transaction') return <T>(fn: (tx: Sql) => Promise<T>) => target.transaction((tx) => fn(pausing(tx)));
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
      const rotation = new KeyService(rotatingDb, stack.provider).rotateKek(tenant.id, 'uk');
      await retiring;
      // Queued from outside the rotation's transaction; its row's transaction waits for the lock.
      const putting = new Promise<void>((resolve) => setImmediate(resolve)).then(() => stack.content.putBytes(tenant.id, Buffer.from('written during the rotation')));
      await new Promise((resolve) => setTimeout(resolve, 150));
      release();
      const report = await rotation;
      const record = await putting;
      // Read before the lock was granted, the active KEK would still have been v1.
      expect(record.kekId).toBe(report.newKekId);
      expect((await stack.content.openBytes(tenant.id, record.id)).toString()).toBe('written during the rotation');
    });

    it('does wrap an object that was uploading during a rotation under the new KEK', async () => {
      const tenant = await buildTenant(ctx.db());
      const plaintext = randomBytes(300);
      let reading!: () => void;
      const started = new Promise<void>((resolve) => (reading = resolve));
      const source = new Readable({ read: () => reading() });
      const putting = stack.content.put({ tenantId: tenant.id, plaintextLength: plaintext.length, source });
      // The data key is wrapped (by v1) before the upload starts reading.
      await started;
      const report = await stack.keys.rotateKek(tenant.id, 'uk');
      expect(report.rewrapped).toBe(0);
      source.push(plaintext);
      source.push(null);
      const record = await putting;

      // Before the fix the row landed under the retired v1 after its re-wrap had finished.
      expect(record.kekId).toBe(report.newKekId);
      const v1 = (await kekRows(ctx.db(), tenant.id)).find((k) => k.version === 1)!;
      await repo.destroyKeks(ctx.db(), [v1.id]);
      expect((await (await stack.otherProcess()).content.openBytes(tenant.id, record.id)).equals(plaintext)).toBe(true);
    });
  });

  describe('the active KEK a process saw last', () => {
    /** A process's keys and content on a database that counts its reads of the active KEK outside transactions. */
    async function countingProcess(): Promise<{ keys: KeyService; content: ContentStore; activeReads: () => number }> {
      const { provider } = await stack.otherProcess();
      let reads = 0;
      const counted: Database = {
        driver: ctx.db().driver,
        query<Row>(text: string, params?: unknown[]): Promise<QueryResult<Row>> {
          if (/FROM key_encryption_keys WHERE tenant_id = \$1 AND region = \$2 AND state = 'active'/.test(text)) reads++;
          return ctx.db().query<Row>(text, params);
        },
        transaction: (fn) => ctx.db().transaction(fn),
        ping: () => ctx.db().ping(),
        close: async () => undefined,
      };
      const keys = new KeyService(counted, provider);
      return { keys, content: new ContentStore(counted, new FsBlobStore(stack.blobDir), keys, { segmentSize: 64 }), activeReads: () => reads };
    }

    it('does wrap new objects without reading it again, and under the new KEK after another process rotated it', async () => {
      const tenant = await buildTenant(ctx.db());
      const own = await countingProcess();
      await own.content.putBytes(tenant.id, Buffer.from('first'));
      const readsAfterFirst = own.activeReads();
      expect(readsAfterFirst).toBeGreaterThan(0);
      const second = await own.content.putBytes(tenant.id, Buffer.from('second'));
      expect(own.activeReads()).toBe(readsAfterFirst);
      const v1 = (await kekRows(ctx.db(), tenant.id)).find((k) => k.version === 1)!;
      expect(second.kekId).toBe(v1.id);

      const report = await stack.keys.rotateKek(tenant.id, 'uk');
      const third = await own.content.putBytes(tenant.id, Buffer.from('third'));
      // Wrapped first under v1 from memory, then again under v2 in its transaction.
      expect(third.kekId).toBe(report.newKekId);
      expect(own.activeReads()).toBe(readsAfterFirst);
      await repo.destroyKeks(ctx.db(), [v1.id]);
      expect((await stack.content.openBytes(tenant.id, third.id)).toString()).toBe('third');
    });

    it('does fail the first object of a process that saw a KEK since destroyed by another, then store under a new KEK', async () => {
      const tenant = await buildTenant(ctx.db());
      const own = await countingProcess();
      await own.content.putBytes(tenant.id, Buffer.from('before'));
      await stack.keys.destroyTenantKeys(tenant.id);
      await expect(own.content.putBytes(tenant.id, Buffer.from('refused'))).rejects.toMatchObject({ code: 'key_destroyed' });
      const after = await own.content.putBytes(tenant.id, Buffer.from('after'));
      const keks = await kekRows(ctx.db(), tenant.id);
      expect(keks.find((k) => k.id === after.kekId)).toMatchObject({ version: 2, state: 'active' });
      expect((await own.content.openBytes(tenant.id, after.id)).toString()).toBe('after');
      expect((await objectRows(ctx.db(), tenant.id)).length).toBe(2);
    });
  });

  describe('root key rotation', () => {
    it('does keep objects readable with every KEK re-wrapped under the new root key', async () => {
      const tenant = await buildTenant(ctx.db());
      const bystander = await buildTenant(ctx.db());
      const sealed = await sealMany(stack.content, tenant.id, 3);
      await stack.keys.rotateKek(tenant.id, 'uk');
      for (const [id, bytes] of await sealMany(stack.content, tenant.id, 1)) sealed.set(id, bytes);
      const bystanderObject = await stack.content.putBytes(bystander.id, Buffer.from('not re-wrapped'));

      const oldRoot = stack.provider.activeRootKeyId();
      const newRoot = await stack.provider.rotate();
      expect(newRoot).not.toBe(oldRoot);
      expect(stack.provider.activeRootKeyId()).toBe(newRoot);
      const file = JSON.parse(await readFile(stack.keyFile, 'utf8')) as { active: string; keys: Record<string, string> };
      expect(file.active).toBe(newRoot);
      expect(Object.keys(file.keys)).toEqual(expect.arrayContaining([oldRoot, newRoot]));

      expect(await stack.keys.rewrapKeksUnderActiveRoot(tenant.id)).toBe(2);
      expect((await kekRows(ctx.db(), tenant.id)).map((k) => k.root_key_id)).toEqual([newRoot, newRoot]);
      expect((await kekRows(ctx.db(), bystander.id)).map((k) => k.root_key_id)).toEqual([oldRoot]);
      expect(await stack.keys.rewrapKeksUnderActiveRoot(tenant.id)).toBe(0);
      await expectAllOpen(stack.content, tenant.id, sealed);

      // Prove the old root key is no longer needed: a key file holding only the new one.
      const onlyNew = join(stack.dir, 'keys', 'only-new-root.json');
      await writeFile(onlyNew, JSON.stringify({ format: 'sealpost-root-keys', version: 1, active: newRoot, keys: { [newRoot]: file.keys[newRoot] } }), { mode: 0o600 });
      const keys = new KeyService(ctx.db(), await LocalKeyProvider.open(onlyNew, { create: false }));
      const content = new ContentStore(ctx.db(), stack.blobs, keys, { segmentSize: 64 });
      await expectAllOpen(content, tenant.id, sealed);
      // … while a tenant that was not re-wrapped still needs it.
      await expect(content.openBytes(bystander.id, bystanderObject.id)).rejects.toMatchObject({ code: 'root_key_unknown' });
    });

    it('does let another process open KEKs wrapped under a root key it has not loaded yet', async () => {
      const tenant = await buildTenant(ctx.db());
      const sealed = await sealMany(stack.content, tenant.id, 2);
      const other = await stack.otherProcess();
      await expectAllOpen(other.content, tenant.id, sealed);

      const newRoot = await stack.provider.rotate();
      await stack.keys.rewrapKeksUnderActiveRoot(tenant.id);
      expect(other.provider.activeRootKeyId()).not.toBe(newRoot);

      // Before the fix the other process failed with root_key_unknown until it restarted.
      const fresh = new KeyService(ctx.db(), other.provider);
      await expectAllOpen(new ContentStore(ctx.db(), stack.blobs, fresh, { segmentSize: 64 }), tenant.id, sealed);
      expect(other.provider.activeRootKeyId()).toBe(newRoot);
    });

    it('does keep root keys that another process added when rotating again', async () => {
      const other = await stack.otherProcess();
      const first = await stack.provider.rotate();
      // `other` loaded the file before `first` existed.
      const second = await other.provider.rotate();
      const file = JSON.parse(await readFile(stack.keyFile, 'utf8')) as { active: string; keys: Record<string, string> };
      expect(file.active).toBe(second);
      expect(Object.keys(file.keys)).toEqual(expect.arrayContaining([first, second]));
      expect((await LocalKeyProvider.open(stack.keyFile, { create: false })).activeRootKeyId()).toBe(second);
    });

    it('does create the key file readable by its owner only and refuse one that others can read', async () => {
      const file = join(stack.dir, 'perm', 'root-keys.json');
      await LocalKeyProvider.open(file, { create: true });
      const { mode } = await stat(file);
      expect(mode & 0o777).toBe(0o600);
      await chmod(file, 0o644);
      await expect(LocalKeyProvider.open(file, { create: false })).rejects.toMatchObject({ code: 'root_key_file_permissions' });
      await expect(LocalKeyProvider.open(join(stack.dir, 'perm', 'missing.json'), { create: false })).rejects.toMatchObject({ code: 'root_key_file_missing' });
    });
  });

  describe('KeyService.destroyTenantKeys', () => {
    async function tenantWithObjects(): Promise<{ tenant: TenantRow; sealed: Map<string, Buffer> }> {
      const tenant = await buildTenant(ctx.db());
      const sealed = await sealMany(stack.content, tenant.id, 2);
      // A retired version as well as the active one: both must go.
      await stack.keys.rotateKek(tenant.id, 'uk');
      for (const [id, bytes] of await sealMany(stack.content, tenant.id, 1)) sealed.set(id, bytes);
      return { tenant, sealed };
    }

    it('does make every object of the tenant unopenable in every process, and leave other tenants alone', async () => {
      const { tenant, sealed } = await tenantWithObjects();
      const bystander = await buildTenant(ctx.db());
      const bystanderSealed = await sealMany(stack.content, bystander.id, 1);
      // A second process that opened the tenant's objects, so it holds the unwrapped KEKs in its cache.
      const warm = await stack.otherProcess();
      await expectAllOpen(warm.content, tenant.id, sealed);

      expect(await stack.keys.destroyTenantKeys(tenant.id, { actor: { type: 'operator', id: 'op-2' } })).toBe(2);

      const keks = await kekRows(ctx.db(), tenant.id);
      expect(keks.map((k) => [k.state, k.wrapped_key])).toEqual([
        ['destroyed', null],
        ['destroyed', null],
      ]);
      expect(keks.every((k) => k.destroyed_at instanceof Date)).toBe(true);
      const cold = await stack.otherProcess();
      for (const id of sealed.keys()) {
        await expect(stack.content.openBytes(tenant.id, id)).rejects.toMatchObject({ kind: 'forbidden', code: 'key_destroyed' });
        await expect(cold.content.openBytes(tenant.id, id)).rejects.toMatchObject({ code: 'key_destroyed' });
        // Before the fix this process kept opening the tenant's Content for up to the 60 s
        // cache TTL, because a cached KEK was used without looking at its row. Now every use
        // re-reads the row (one primary-key lookup) and only the key material is cached.
        await expect(warm.content.openBytes(tenant.id, id)).rejects.toMatchObject({ code: 'key_destroyed' });
      }
      await expectAllOpen(stack.content, bystander.id, bystanderSealed);
      await expectAllOpen(cold.content, bystander.id, bystanderSealed);

      expect((await auditEvents(ctx.db(), tenant.id)).at(-1)).toMatchObject({
        action: 'key.tenant_keys_destroyed',
        actor_type: 'operator',
        actor_id: 'op-2',
        target_type: 'tenant',
        target_id: tenant.id,
        details: { destroyedKeks: 2 },
      });
      expect((await verifyAuditChains(ctx.db(), { tenantId: tenant.id })).ok).toBe(true);
    });

    it('does fail an upload that was in progress when the tenant keys were destroyed, leaving no row or blob', async () => {
      const tenant = await buildTenant(ctx.db());
      const own = await buildContentStack(ctx.db(), { segmentSize: 64 });
      onTestFinished(() => own.cleanup());
      await own.keys.activeKek(tenant.id, 'uk');
      let reading!: () => void;
      const started = new Promise<void>((resolve) => (reading = resolve));
      const source = new Readable({ read: () => reading() });
      const putting = own.content.put({ tenantId: tenant.id, plaintextLength: 10, source });
      await started;
      await own.keys.destroyTenantKeys(tenant.id);
      source.push(Buffer.alloc(10, 7));
      source.push(null);

      await expect(putting).rejects.toMatchObject({ code: 'key_destroyed' });
      expect(await objectRows(ctx.db(), tenant.id)).toEqual([]);
      expect(await readdir(own.blobDir, { recursive: true, withFileTypes: true }).then((es) => es.filter((e) => e.isFile()))).toEqual([]);
      expect((await auditEvents(ctx.db(), tenant.id)).map((e) => e.action)).not.toContain('content.sealed');
    });
  });

  describe('KeyService.listKeks', () => {
    it('does list versions and states without key material', async () => {
      const tenant = await buildTenant(ctx.db());
      await stack.keys.activeKek(tenant.id, 'uk');
      await stack.keys.rotateKek(tenant.id, 'uk');
      const list = await stack.keys.listKeks(tenant.id);
      expect(list.map((k) => [k.region, k.version, k.state, k.rootKeyId])).toEqual([
        ['uk', 2, 'active', stack.provider.activeRootKeyId()],
        ['uk', 1, 'retired', stack.provider.activeRootKeyId()],
      ]);
      for (const k of list) expect(Object.keys(k)).not.toContain('wrappedKey');
    });
  });
});

