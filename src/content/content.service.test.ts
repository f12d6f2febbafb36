// Storage-tier tests of the Content store: sealing into an FsBlobStore, opening whole and by
// range, tenant isolation, failed uploads, tampering and crypto-shredding, on PGlite and, with
// TEST_DATABASE_URL, PostgreSQL. Outcomes are checked in the rows and blob files themselves.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { describeEachDatabase } from '../../test/support/database.ts';
import { buildContentStack, buildTenant, type ContentStack } from '../../test/support/factories.ts';
import { verifyAuditChains } from '../audit/audit.service.ts';
import { HEADER_LENGTH, TAG_LENGTH } from '../crypto/format/sealed-object.ts';
import { randomId } from '../crypto/keys.ts';
import type { Sql } from '../storage/database/database.ts';
import { shredSealedObject } from './content.repository.ts';
import { ContentStore, objectsJson } from './content.service.ts';

const SEGMENT = 1024;

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function objectRow(sql: Sql, id: string) {
  const { rows } = await sql.query<{ tenant_id: string; kek_id: string | null; wrapped_key: Uint8Array | null; blob_key: string; plaintext_length: string; shredded_at: Date | null }>(
    'SELECT tenant_id, kek_id, wrapped_key, blob_key, plaintext_length, shredded_at FROM sealed_objects WHERE id = $1',
    [id],
  );
  return rows[0];
}

async function objectCount(sql: Sql, tenantId: string): Promise<number> {
  const { rows } = await sql.query<{ n: string }>('SELECT count(*) AS n FROM sealed_objects WHERE tenant_id = $1', [tenantId]);
  return Number(rows[0]!.n);
}

async function auditEvents(sql: Sql, tenantId: string) {
  const { rows } = await sql.query<{ action: string; actor_type: string; actor_id: string | null; target_type: string | null; target_id: string | null; details: Record<string, unknown> }>(
    'SELECT action, actor_type, actor_id, target_type, target_id, details FROM audit_events WHERE chain = $1 ORDER BY chain_seq',
    [tenantId],
  );
  return rows;
}

/** Every file under `dir`, temporary files included. */
async function filesUnder(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Yields `bytes` in chunks of awkward sizes, so segments are assembled across chunk boundaries. */
async function* inChunks(bytes: Buffer): AsyncGenerator<Uint8Array> {
  const sizes = [1, 7, 500, 1023, 3000];
  for (let offset = 0, i = 0; offset < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield bytes.subarray(offset, offset + n);
    offset += n;
  }
}

describeEachDatabase('Content store', (ctx) => {
  let stack: ContentStack;

  beforeAll(async () => {
    stack = await buildContentStack(ctx.db(), { segmentSize: SEGMENT });
  });

  afterAll(async () => {
    await stack?.cleanup();
  });

  /** A stack of its own, for tests that look at every file in the blob directory. */
  async function freshStack(): Promise<ContentStack> {
    const own = await buildContentStack(ctx.db(), { segmentSize: SEGMENT });
    onTestFinished(() => own.cleanup());
    return own;
  }

  describe('put and open', () => {
    it.each([0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 4 * SEGMENT + 77])('does round-trip %i bytes, storing only sealed bytes', async (size) => {
      const tenant = await buildTenant(ctx.db(), { region: 'eea' });
      const plaintext = randomBytes(size);
      const record = await stack.content.putBytes(tenant.id, plaintext);

      expect(record).toMatchObject({ tenantId: tenant.id, region: 'eea', formatVersion: 1, segmentSize: SEGMENT, plaintextLength: size, shreddedAt: null });
      const segments = Math.max(1, Math.ceil(size / SEGMENT));
      const stored = await readFile(stack.blobPath(record.blobKey));
      expect(stored.length).toBe(HEADER_LENGTH + segments * TAG_LENGTH + size);
      if (size >= 16) expect(stored.includes(plaintext.subarray(0, 16))).toBe(false);

      const opened = await stack.content.open(tenant.id, record.id);
      expect(opened.length).toBe(size);
      expect((await readAll(opened.stream)).equals(plaintext)).toBe(true);
      expect((await stack.content.openBytes(tenant.id, record.id)).equals(plaintext)).toBe(true);
      expect(await stack.content.get(tenant.id, record.id)).toEqual(record);
    });

    it('does seal a multi-segment stream that arrives in chunks of any size', async () => {
      const tenant = await buildTenant(ctx.db());
      const plaintext = randomBytes(6 * SEGMENT + 5);
      const record = await stack.content.put({ tenantId: tenant.id, plaintextLength: plaintext.length, source: inChunks(plaintext) });
      expect((await stack.content.openBytes(tenant.id, record.id)).equals(plaintext)).toBe(true);
      const row = await objectRow(ctx.db(), record.id);
      expect(row).toMatchObject({ tenant_id: tenant.id, plaintext_length: String(plaintext.length), shredded_at: null });
      expect(row!.wrapped_key).toHaveLength(61);
    });

    it('does open any byte range [start, end) exactly as the same slice of the plaintext', async () => {
      const tenant = await buildTenant(ctx.db());
      // Small segments so that ranges cross many segment boundaries.
      const small = new ContentStore(ctx.db(), stack.blobs, stack.keys, { segmentSize: 64 });
      const plaintext = randomBytes(64 * 7 + 13);
      const { id } = await small.putBytes(tenant.id, plaintext);
      const L = plaintext.length;

      const check = async (start: number, end?: number) => {
        const opened = await small.open(tenant.id, id, end === undefined ? { start } : { start, end });
        const expected = plaintext.subarray(start, end ?? L);
        expect(opened.length).toBe(expected.length);
        expect((await readAll(opened.stream)).toString('hex')).toBe(expected.toString('hex'));
      };
      for (const [start, end] of [[0, 0], [0, L], [63, 65], [64, 128], [L, L], [L - 1, L], [0, 1]] as const) await check(start, end);
      await fc.assert(
        fc.asyncProperty(fc.nat({ max: L }), fc.nat({ max: L }), fc.boolean(), async (a, b, open) => {
          const [start, end] = a <= b ? [a, b] : [b, a];
          await check(start, open ? undefined : end);
        }),
        { numRuns: 60 },
      );

      await expect(small.open(tenant.id, id, { start: 5, end: 3 })).rejects.toMatchObject({ code: 'invalid_range' });
      await expect(small.open(tenant.id, id, { start: 0, end: L + 1 })).rejects.toMatchObject({ code: 'invalid_range' });
    });

    it('does open the empty range of an empty object', async () => {
      const tenant = await buildTenant(ctx.db());
      const { id } = await stack.content.putBytes(tenant.id, new Uint8Array(0));
      const opened = await stack.content.open(tenant.id, id, { start: 0, end: 0 });
      expect(opened.length).toBe(0);
      expect(await readAll(opened.stream)).toHaveLength(0);
    });

    it('does record content.sealed in the tenant audit chain, as system unless an actor is given', async () => {
      const tenant = await buildTenant(ctx.db());
      const first = await stack.content.putBytes(tenant.id, Buffer.from('first'));
      const second = await stack.content.put({ tenantId: tenant.id, plaintextLength: 6, source: inChunks(Buffer.from('second')), actor: { type: 'user', id: 'user-7' } });

      const sealed = (await auditEvents(ctx.db(), tenant.id)).filter((e) => e.action === 'content.sealed');
      expect(sealed).toEqual([
        expect.objectContaining({ actor_type: 'system', actor_id: null, target_type: 'sealed_object', target_id: first.id, details: { region: 'uk' } }),
        expect.objectContaining({ actor_type: 'user', actor_id: 'user-7', target_id: second.id }),
      ]);
      expect((await verifyAuditChains(ctx.db(), { tenantId: tenant.id })).ok).toBe(true);
    });

    it('does refuse a bad length or an unknown tenant before storing anything', async () => {
      const own = await freshStack();
      const tenant = await buildTenant(ctx.db());
      await expect(own.content.put({ tenantId: tenant.id, plaintextLength: -1, source: inChunks(Buffer.alloc(1)) })).rejects.toMatchObject({ code: 'invalid_content_length' });
      await expect(own.content.putBytes(randomId(), Buffer.from('x'))).rejects.toMatchObject({ code: 'tenant_not_found' });
      await expect(own.content.putBytes('not-a-tenant', Buffer.from('x'))).rejects.toMatchObject({ code: 'tenant_not_found' });
      expect(await filesUnder(own.blobDir)).toEqual([]);
    });
  });

  describe('failed uploads', () => {
    it('does leave no row and no blob when the source fails midway', async () => {
      const own = await freshStack();
      const tenant = await buildTenant(ctx.db());
      async function* failing(): AsyncGenerator<Uint8Array> {
        yield randomBytes(SEGMENT + 300);
        throw new Error('client went away');
      }
      await expect(own.content.put({ tenantId: tenant.id, plaintextLength: 4 * SEGMENT, source: failing() })).rejects.toThrow('client went away');
      expect(await objectCount(ctx.db(), tenant.id)).toBe(0);
      expect(await filesUnder(own.blobDir)).toEqual([]);
      expect((await auditEvents(ctx.db(), tenant.id)).map((e) => e.action)).not.toContain('content.sealed');
    });

    it.each([
      ['fewer', 2 * SEGMENT - 1],
      ['more', 2 * SEGMENT + 1],
    ])('does leave no row and no blob when the source yields %s bytes than declared', async (_label, actual) => {
      const own = await freshStack();
      const tenant = await buildTenant(ctx.db());
      await expect(own.content.put({ tenantId: tenant.id, plaintextLength: 2 * SEGMENT, source: inChunks(randomBytes(actual)) })).rejects.toMatchObject({
        code: 'plaintext_length_mismatch',
      });
      expect(await objectCount(ctx.db(), tenant.id)).toBe(0);
      expect(await filesUnder(own.blobDir)).toEqual([]);
    });
  });

  describe('staged objects (recorded in the caller’s transaction)', () => {
    it('does commit the row with the caller’s transaction, and hand the content.sealed event to the caller', async () => {
      const own = await freshStack();
      const tenant = await buildTenant(ctx.db());
      const plaintext = randomBytes(3 * SEGMENT + 5);
      const staged = await own.content.stageBytes(tenant.id, plaintext, { actor: { type: 'user', id: 'u-1' } });
      // Written but not recorded: the blob exists, no row names it yet.
      expect(await filesUnder(own.blobDir)).toHaveLength(1);
      expect(await objectRow(ctx.db(), staged.id)).toBeUndefined();
      const { record, audit } = await ctx.db().transaction((tx) => staged.record(tx));
      expect(record).toMatchObject({ id: staged.id, tenantId: tenant.id, plaintextLength: plaintext.length });
      expect(audit).toMatchObject({ tenantId: tenant.id, action: 'content.sealed', actor: { type: 'user', id: 'u-1' }, target: { type: 'sealed_object', id: staged.id } });
      expect((await auditEvents(ctx.db(), tenant.id)).map((e) => e.action)).not.toContain('content.sealed'); // the caller appends it
      expect((await own.content.openBytes(tenant.id, staged.id)).equals(plaintext)).toBe(true);
      await expect(staged.record(ctx.db())).rejects.toMatchObject({ code: 'staged_content_settled' });
    });

    it.each([0, 1, SEGMENT])('does stage %i bytes (one segment, sealed with no stream) and open them back', async (size) => {
      const own = await freshStack();
      const tenant = await buildTenant(ctx.db());
      const plaintext = randomBytes(size);
      const staged = await own.content.stageBytes(tenant.id, plaintext);
      expect(await filesUnder(own.blobDir)).toHaveLength(1);
      await ctx.db().transaction((tx) => staged.record(tx));
      expect((await own.content.openBytes(tenant.id, staged.id)).equals(plaintext)).toBe(true);
    });

    it('does leave no row and no blob when the caller’s transaction rolls back and the object is abandoned', async () => {
      const own = await freshStack();
      const tenant = await buildTenant(ctx.db());
      const staged = await own.content.stageBytes(tenant.id, randomBytes(2 * SEGMENT));
      await expect(
        ctx.db().transaction(async (tx) => {
          await staged.record(tx);
          throw new Error('the send failed after the row was inserted');
        }),
      ).rejects.toThrow('the send failed');
      await staged.abandon();
      expect(await objectCount(ctx.db(), tenant.id)).toBe(0);
      expect(await filesUnder(own.blobDir)).toEqual([]);
      await expect(own.content.get(tenant.id, staged.id)).rejects.toMatchObject({ code: 'content_not_found' });
    });
  });

  describe('tenant isolation', () => {
    it('does not let another tenant get, open or shred an object', async () => {
      const a = await buildTenant(ctx.db());
      const b = await buildTenant(ctx.db());
      const plaintext = Buffer.from('tenant A only');
      const { id } = await stack.content.putBytes(a.id, plaintext);

      await expect(stack.content.get(b.id, id)).rejects.toMatchObject({ kind: 'not_found', code: 'content_not_found' });
      await expect(stack.content.open(b.id, id)).rejects.toMatchObject({ code: 'content_not_found' });
      await expect(stack.content.open(b.id, id, { start: 0, end: 1 })).rejects.toMatchObject({ code: 'content_not_found' });
      await expect(stack.content.shred(b.id, id)).rejects.toMatchObject({ code: 'content_not_found' });
      expect((await objectRow(ctx.db(), id))!.shredded_at).toBeNull();
      expect((await stack.content.openBytes(a.id, id)).equals(plaintext)).toBe(true);
    });

    it('does answer content_not_found for ids that are not UUIDs, and accept upper-case ones', async () => {
      const tenant = await buildTenant(ctx.db());
      const plaintext = Buffer.from('case');
      const { id } = await stack.content.putBytes(tenant.id, plaintext);
      await expect(stack.content.open(tenant.id, 'not-a-uuid')).rejects.toMatchObject({ code: 'content_not_found' });
      await expect(stack.content.get('x', id)).rejects.toMatchObject({ code: 'content_not_found' });
      // The key and header are bound to the stored (lower-case) ids, not to how the caller spelt them.
      expect((await stack.content.openBytes(tenant.id.toUpperCase(), id.toUpperCase())).equals(plaintext)).toBe(true);
    });
  });

  describe('tampering with stored blobs', () => {
    const plaintext = randomBytes(3 * SEGMENT + 10);
    const positions: Array<[string, number]> = [
      ['the header magic', 1],
      ['the object id in the header', 20],
      ['the first ciphertext byte', HEADER_LENGTH],
      ['the second segment', HEADER_LENGTH + SEGMENT + TAG_LENGTH + 3],
      ['the final tag', HEADER_LENGTH + 3 * (SEGMENT + TAG_LENGTH) + 10 + TAG_LENGTH - 1],
    ];

    it.each(positions)('does fail with decryption_failed after a flipped byte in %s', async (_where, offset) => {
      const tenant = await buildTenant(ctx.db());
      const { id, blobKey } = await stack.content.putBytes(tenant.id, plaintext);
      const path = stack.blobPath(blobKey);
      const bytes = await readFile(path);
      expect(offset).toBeLessThan(bytes.length);
      bytes[offset]! ^= 0x01;
      await writeFile(path, bytes);

      await expect(stack.content.open(tenant.id, id).then((o) => readAll(o.stream))).rejects.toMatchObject({ code: 'decryption_failed' });
      // The range that covers the flipped byte (the header is read for every range).
      const at = Math.max(0, Math.min(plaintext.length - 1, Math.floor((offset - HEADER_LENGTH) / (SEGMENT + TAG_LENGTH)) * SEGMENT));
      // A range read checks the header before streaming, so open itself may be what fails.
      await expect(stack.content.open(tenant.id, id, { start: at, end: at + 1 }).then((o) => readAll(o.stream))).rejects.toMatchObject({ code: 'decryption_failed' });
    });

    it('does fail with decryption_failed when the blob was truncated', async () => {
      const tenant = await buildTenant(ctx.db());
      const { id, blobKey } = await stack.content.putBytes(tenant.id, plaintext);
      await truncate(stack.blobPath(blobKey), HEADER_LENGTH + SEGMENT + TAG_LENGTH);
      await expect(readAll((await stack.content.open(tenant.id, id)).stream)).rejects.toMatchObject({ code: 'decryption_failed', details: { reason: 'truncated' } });
      // Before the fix a range read past the end surfaced as the blob store's invalid_range (the caller's fault).
      await expect(stack.content.open(tenant.id, id, { start: plaintext.length - 1 }).then((o) => readAll(o.stream))).rejects.toMatchObject({ code: 'decryption_failed', details: { reason: 'truncated' } });
      await truncate(stack.blobPath(blobKey), 10);
      await expect(stack.content.open(tenant.id, id, { start: 0, end: 1 }).then((o) => readAll(o.stream))).rejects.toMatchObject({ code: 'decryption_failed' });
    });

    it("does not open another object's blob copied over this one", async () => {
      const tenant = await buildTenant(ctx.db());
      const x = await stack.content.putBytes(tenant.id, randomBytes(100));
      const y = await stack.content.putBytes(tenant.id, randomBytes(100));
      await copyFile(stack.blobPath(x.blobKey), stack.blobPath(y.blobKey));

      await expect(stack.content.openBytes(tenant.id, y.id)).rejects.toMatchObject({ code: 'decryption_failed', details: { reason: 'wrong_object' } });
      await expect(stack.content.open(tenant.id, y.id, { start: 0, end: 10 }).then((o) => readAll(o.stream))).rejects.toMatchObject({ code: 'decryption_failed', details: { reason: 'wrong_object' } });
    });
  });

  describe('data keys for a release', () => {
    it('does return the keys of several objects in the order asked, or none at all', async () => {
      const tenant = await buildTenant(ctx.db());
      const other = await buildTenant(ctx.db());
      const objects = [await stack.content.putBytes(tenant.id, randomBytes(10)), await stack.content.putBytes(tenant.id, randomBytes(2 * SEGMENT))];
      const keys = await stack.content.dataKeys(tenant.id, [objects[1]!.id, objects[0]!.id.toUpperCase()]);
      expect(keys.map((k) => k.objectId)).toEqual([objects[1]!.id, objects[0]!.id]);
      for (const [i, k] of keys.entries()) {
        expect(k.keyId).toBe(objects[1 - i]!.keyId);
        expect(k.dataKey.equals((await stack.content.dataKey(tenant.id, k.objectId)).dataKey)).toBe(true);
      }
      expect(await stack.content.dataKeys(tenant.id, [])).toEqual([]);
      // Another tenant's object, an unknown id, a non-UUID or one shredded object: nothing is returned.
      const foreign = await stack.content.putBytes(other.id, randomBytes(10));
      await expect(stack.content.dataKeys(tenant.id, [objects[0]!.id, foreign.id])).rejects.toMatchObject({ code: 'content_not_found' });
      await expect(stack.content.dataKeys(tenant.id, [objects[0]!.id, randomId()])).rejects.toMatchObject({ code: 'content_not_found' });
      await expect(stack.content.dataKeys(tenant.id, [objects[0]!.id, '../x'])).rejects.toMatchObject({ code: 'content_not_found' });
      await stack.content.shred(tenant.id, objects[1]!.id);
      await expect(stack.content.dataKeys(tenant.id, [objects[0]!.id, objects[1]!.id])).rejects.toMatchObject({ code: 'content_shredded' });
      // Destroyed tenant keys: refused at once, whatever the cache holds.
      await stack.keys.destroyTenantKeys(tenant.id);
      await expect(stack.content.dataKeys(tenant.id, [objects[0]!.id])).rejects.toMatchObject({ code: 'key_destroyed' });
    });
  });

  describe('objects read in the caller’s query (objectsJson)', () => {
    it('does open an object read with its KEK in another query, with the same refusals as openBytes', async () => {
      const tenant = await buildTenant(ctx.db());
      const small = randomBytes(10);
      const large = randomBytes(2 * SEGMENT + 3);
      const objects = [await stack.content.putBytes(tenant.id, small), await stack.content.putBytes(tenant.id, large)];
      const read = async (id: string) =>
        (await ctx.db().query<{ objects: unknown }>(`SELECT ${objectsJson('$1::uuid', 'ARRAY[$2::uuid]')} AS objects`, [tenant.id, id])).rows[0]!.objects;
      // One segment (no stream) and several (streamed).
      expect((await stack.content.openBytesFrom(objects[0]!.id, await read(objects[0]!.id))).equals(small)).toBe(true);
      expect((await stack.content.openBytesFrom(objects[1]!.id.toUpperCase(), await read(objects[1]!.id))).equals(large)).toBe(true);
      // The column names other objects only, or none: not found.
      await expect(stack.content.openBytesFrom(objects[0]!.id, await read(objects[1]!.id))).rejects.toMatchObject({ code: 'content_not_found' });
      await expect(stack.content.openBytesFrom(objects[0]!.id, await read(randomId()))).rejects.toMatchObject({ code: 'content_not_found' });
      await stack.content.shred(tenant.id, objects[0]!.id);
      await expect(stack.content.openBytesFrom(objects[0]!.id, await read(objects[0]!.id))).rejects.toMatchObject({ code: 'content_shredded' });
      await stack.keys.destroyTenantKeys(tenant.id);
      // Read after the destruction: refused, whatever the cache holds.
      await expect(stack.content.openBytesFrom(objects[1]!.id, await read(objects[1]!.id))).rejects.toMatchObject({ code: 'key_destroyed' });
    });
  });

  describe('shred', () => {
    it('does shred with a heap-only update: only the unindexed key columns change, so no index gets a new entry', async () => {
      const tenant = await buildTenant(ctx.db());
      const { id } = await stack.content.putBytes(tenant.id, Buffer.from('shred me'));
      const kekId = (await objectRow(ctx.db(), id))!.kek_id;
      // The statement the shredders run (ContentStore.shred, retention and erasure use the same SET).
      // The backend's counters (they may include earlier, not yet reported transactions: compare before and after).
      const counters = async (tx: Sql) =>
        (await tx.query<{ updated: string; hot: string }>(
          `SELECT pg_stat_get_xact_tuples_updated('sealed_objects'::regclass) AS updated, pg_stat_get_xact_tuples_hot_updated('sealed_objects'::regclass) AS hot`,
        )).rows[0]!;
      const hot = await ctx.db().transaction(async (tx) => {
        const before = await counters(tx);
        expect(await shredSealedObject(tx, tenant.id, id)).toBe(true);
        const after = await counters(tx);
        return { updated: Number(after.updated) - Number(before.updated), hot: Number(after.hot) - Number(before.hot) };
      });
      expect(hot).toEqual({ updated: 1, hot: 1 });
      expect(await objectRow(ctx.db(), id)).toMatchObject({ wrapped_key: null, kek_id: kekId });
    });

    it('does erase the wrapped key and the blob, so not even a restored copy of the blob opens', async () => {
      const tenant = await buildTenant(ctx.db());
      const { id, blobKey } = await stack.content.putBytes(tenant.id, randomBytes(2 * SEGMENT));
      const kept = await stack.content.putBytes(tenant.id, Buffer.from('kept'));
      const path = stack.blobPath(blobKey);
      const backup = `${stack.dir}/backup-${blobKey}`;
      await copyFile(path, backup);

      await stack.content.shred(tenant.id, id, { actor: { type: 'user', id: 'user-1' } });

      const row = await objectRow(ctx.db(), id);
      // kek_id stays as a record of which KEK wrapped the key that no longer exists (migration 0017).
      expect(row).toMatchObject({ wrapped_key: null });
      expect(row!.shredded_at).toBeInstanceOf(Date);
      expect(await stack.blobs.exists(blobKey)).toBe(false);
      await expect(stack.content.open(tenant.id, id)).rejects.toMatchObject({ code: 'content_shredded' });

      // The blob comes back from a backup of the blob store: still nothing can open it.
      await mkdir(dirname(path), { recursive: true });
      await copyFile(backup, path);
      await rm(backup);
      await expect(stack.content.openBytes(tenant.id, id)).rejects.toMatchObject({ code: 'content_shredded' });
      await expect(stack.content.open(tenant.id, id, { start: 0, end: 1 })).rejects.toMatchObject({ code: 'content_shredded' });
      await expect((await stack.otherProcess()).content.openBytes(tenant.id, id)).rejects.toMatchObject({ code: 'content_shredded' });
      expect((await stack.content.openBytes(tenant.id, kept.id)).toString()).toBe('kept');

      // Shredding again changes nothing and records nothing.
      await stack.content.shred(tenant.id, id);
      const shredded = (await auditEvents(ctx.db(), tenant.id)).filter((e) => e.action === 'content.shredded');
      expect(shredded).toEqual([expect.objectContaining({ actor_type: 'user', actor_id: 'user-1', target_type: 'sealed_object', target_id: id })]);
      expect((await verifyAuditChains(ctx.db(), { tenantId: tenant.id })).ok).toBe(true);
    });
  });
});
