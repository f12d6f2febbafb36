import { describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/database.ts';
import { buildTenant } from '../../test/support/factories.ts';
import { toHex } from '../crypto/format/bytes.ts';
import type { Database } from '../storage/database/database.ts';
import { openPostgresDatabase } from '../storage/database/postgres-database.ts';
import { AuditBatcher } from './audit.batch.ts';
import type { AuditEventInput, AuditEventRecord } from './audit.model.ts';
import { appendAuditEvent, appendAuditEvents, verifyAuditChains } from './audit.service.ts';

function event(tenantId: string, n: number, source = 'a', extra: Partial<AuditEventInput> = {}): AuditEventInput {
  return { tenantId, actor: { type: 'recipient', id: `r-${n}` }, action: 'message.keys_released', target: { type: 'message', id: `m-${n}` }, outcome: 'success', ip: '192.0.2.1', details: { n, source }, ...extra };
}

/** The chain as stored: position, the event's details, and the links. */
async function storedChain(db: Database, chain: string) {
  const { rows } = await db.query<{ chain_seq: string; details: { n: number; source: string }; prev_hash: Uint8Array; hash: Uint8Array }>(
    'SELECT chain_seq, details, prev_hash, hash FROM audit_events WHERE chain = $1 ORDER BY chain_seq',
    [chain],
  );
  return rows;
}

/** Counts the transactions, and the statements outside them, run through `db`. */
function countingTransactions(db: Database): { db: Database; count: () => number; statements: () => number } {
  let count = 0;
  let statements = 0;
  const counted = new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === 'transaction') {
        return (fn: Parameters<Database['transaction']>[0]) => {
          count++;
          return target.transaction(fn);
        };
      }
      if (prop === 'query') {
        return (...args: Parameters<Database['query']>) => {
          statements++;
          return target.query(...args);
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { db: counted, count: () => count, statements: () => statements };
}

describeEachDatabase('audit batcher', (ctx) => {
  describe('AuditBatcher', () => {
    it('does append concurrent events in call order, in a few transactions, as a chain that verifies', async () => {
      const tenant = await buildTenant(ctx.db());
      const counted = countingTransactions(ctx.db());
      const batcher = new AuditBatcher(counted.db);
      const records = await Promise.all(Array.from({ length: 100 }, (_, n) => batcher.append(event(tenant.id, n))));

      expect(records.map((r) => r.chainSeq)).toEqual(Array.from({ length: 100 }, (_, n) => String(n + 1)));
      const stored = await storedChain(ctx.db(), tenant.id);
      expect(stored.map((r) => r.details.n)).toEqual(Array.from({ length: 100 }, (_, n) => n));
      expect(stored.map((r) => toHex(r.hash))).toEqual(records.map((r) => toHex(r.hash)));
      // The first goes out alone at once, with the chain's lock; the rest queued behind it and went
      // in one batch: one INSERT after the head the batcher had just appended, no transaction.
      expect(counted.count()).toBe(1);
      expect(counted.statements()).toBe(1);
      await expect(verifyAuditChains(ctx.db(), { tenantId: tenant.id })).resolves.toMatchObject({ ok: true, problems: [] });
    });

    it('does keep the chain valid with another process batching and single appends at the same time', async () => {
      // Two Database handles on one database stand for two server processes (PostgreSQL); on
      // PGlite, which is one process by nature, both batchers share the one database.
      const url = ctx.driver === 'postgres' ? await ctx.createDatabaseUrl() : undefined;
      const one = url ? await openPostgresDatabase(url, { max: 5 }) : ctx.db();
      const two = url ? await openPostgresDatabase(url, { max: 5 }) : ctx.db();
      try {
        const tenant = await buildTenant(one);
        const a = new AuditBatcher(one, 7);
        const b = new AuditBatcher(two, 7);
        await Promise.all([
          ...Array.from({ length: 60 }, (_, n) => a.append(event(tenant.id, n, 'a'))),
          ...Array.from({ length: 60 }, (_, n) => b.append(event(tenant.id, n, 'b'))),
          ...Array.from({ length: 20 }, (_, n) => appendAuditEvent(one, event(tenant.id, n, 'single'))),
        ]);

        const stored = await storedChain(one, tenant.id);
        expect(stored.map((r) => r.chain_seq)).toEqual(Array.from({ length: 140 }, (_, n) => String(n + 1)));
        for (const [i, row] of stored.entries()) if (i > 0) expect(toHex(row.prev_hash)).toBe(toHex(stored[i - 1]!.hash));
        // Each batcher's events are chained in the order they were appended.
        for (const source of ['a', 'b']) {
          expect(stored.filter((r) => r.details.source === source).map((r) => r.details.n)).toEqual(Array.from({ length: 60 }, (_, n) => n));
        }
        await expect(verifyAuditChains(one, { tenantId: tenant.id })).resolves.toMatchObject({ ok: true, problems: [] });
      } finally {
        if (url) await Promise.all([one.close(), two.close()]);
      }
    });

    it('does append in one statement after the head it appended last, and take the locked path when someone else appended', async () => {
      const tenant = await buildTenant(ctx.db());
      const counted = countingTransactions(ctx.db());
      const batcher = new AuditBatcher(counted.db);
      await batcher.append(event(tenant.id, 0));
      expect([counted.count(), counted.statements()]).toEqual([1, 0]);
      await batcher.append(event(tenant.id, 1));
      expect([counted.count(), counted.statements()]).toEqual([1, 1]);

      const single = await appendAuditEvent(ctx.db(), event(tenant.id, 2, 'single'));
      const after = await batcher.append(event(tenant.id, 3));
      // Its one-statement INSERT stored nothing (the chain had moved on), then the locked path ran.
      expect([counted.count(), counted.statements()]).toEqual([2, 2]);
      expect(after.chainSeq).toBe('4');
      expect(toHex(after.prevHash)).toBe(toHex(single.hash));
      expect((await storedChain(ctx.db(), tenant.id)).map((r) => r.chain_seq)).toEqual(['1', '2', '3', '4']);
      await expect(verifyAuditChains(ctx.db(), { tenantId: tenant.id })).resolves.toMatchObject({ ok: true, problems: [] });
    });

    it('does wait for an append still being committed and then chain after it', async () => {
      const tenant = await buildTenant(ctx.db());
      const batcher = new AuditBatcher(ctx.db());
      await batcher.append(event(tenant.id, 0));
      // Released from inside the transaction, but queued from outside it, as another request would.
      let release!: () => void;
      const late = new Promise<void>((resolve) => (release = resolve)).then(() => batcher.append(event(tenant.id, 2)));
      await ctx.db().transaction(async (tx) => {
        await appendAuditEvent(tx, event(tenant.id, 1, 'single'));
        // Not committed yet: the batcher's INSERT takes position 2 only if this rolls back.
        release();
        await new Promise((resolve) => setTimeout(resolve, 100));
      });
      await expect(late).resolves.toMatchObject({ chainSeq: '3' });
      expect((await storedChain(ctx.db(), tenant.id)).map((r) => [r.chain_seq, r.details.source])).toEqual([
        ['1', 'a'],
        ['2', 'single'],
        ['3', 'a'],
      ]);
      await expect(verifyAuditChains(ctx.db(), { tenantId: tenant.id })).resolves.toMatchObject({ ok: true, problems: [] });
    });

    it('does leave a removed tail visible: it chains after the last event it appended, not after what is left', async () => {
      const tenant = await buildTenant(ctx.db());
      const batcher = new AuditBatcher(ctx.db());
      for (let n = 0; n < 4; n++) await batcher.append(event(tenant.id, n));
      await ctx.db().query('DELETE FROM audit_events WHERE chain = $1 AND chain_seq >= 3', [tenant.id]);
      await expect(batcher.append(event(tenant.id, 4))).resolves.toMatchObject({ chainSeq: '5' });
      await expect(verifyAuditChains(ctx.db(), { tenantId: tenant.id })).resolves.toMatchObject({ ok: false });
    });

    it('does reject only the invalid event of a batch and append the others, in order', async () => {
      const tenant = await buildTenant(ctx.db());
      const batcher = new AuditBatcher(ctx.db());
      const results = await Promise.allSettled([
        batcher.append(event(tenant.id, 0)),
        batcher.append(event(tenant.id, 1)),
        batcher.append(event(tenant.id, 2, 'a', { action: 'Not An Action' })),
        batcher.append(event(tenant.id, 3)),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'audit_event_invalid', details: { field: 'action' } });
      expect((await storedChain(ctx.db(), tenant.id)).map((r) => r.details.n)).toEqual([0, 1, 3]);
      await expect(verifyAuditChains(ctx.db(), { tenantId: tenant.id })).resolves.toMatchObject({ ok: true });
    });

    it('does refuse a batch size that is not a positive integer', () => {
      expect(() => new AuditBatcher(ctx.db(), 0)).toThrow('maxBatch must be a positive integer');
    });
  });

  describe('appendAuditEvents', () => {
    it('does append a batch after what is already in the chain, with one timestamp', async () => {
      const tenant = await buildTenant(ctx.db());
      const first = await appendAuditEvent(ctx.db(), event(tenant.id, 0));
      const batch = await appendAuditEvents(ctx.db(), [event(tenant.id, 1), event(tenant.id, 2), event(tenant.id, 3)]);
      expect(batch.map((r) => r.chainSeq)).toEqual(['2', '3', '4']);
      expect(toHex(batch[0]!.prevHash)).toBe(toHex(first.hash));
      expect(new Set(batch.map((r) => r.id)).size).toBe(3);
      expect(new Set(batch.map((r) => r.occurredAt.getTime())).size).toBe(1);
      expect(await appendAuditEvents(ctx.db(), [])).toEqual([]);
      await expect(verifyAuditChains(ctx.db(), { tenantId: tenant.id })).resolves.toMatchObject({ ok: true });
    });

    it('does read the head only once the lock is granted: an append committed meanwhile is chained after', async () => {
      const tenant = await buildTenant(ctx.db());
      await appendAuditEvent(ctx.db(), event(tenant.id, 0));
      let release!: () => void;
      const waiting = new Promise<void>((resolve) => (release = resolve)).then(() => appendAuditEvents(ctx.db(), [event(tenant.id, 2), event(tenant.id, 3)]));
      let held: AuditEventRecord | undefined;
      await ctx.db().transaction(async (tx) => {
        held = await appendAuditEvent(tx, event(tenant.id, 1, 'held'));
        release();
        // The batch is now waiting for the chain's lock, which this transaction holds.
        await new Promise((resolve) => setTimeout(resolve, 100));
      });
      const batch = await waiting;
      expect(batch.map((r) => r.chainSeq)).toEqual(['3', '4']);
      expect(toHex(batch[0]!.prevHash)).toBe(toHex(held!.hash));
      await expect(verifyAuditChains(ctx.db(), { tenantId: tenant.id })).resolves.toMatchObject({ ok: true, problems: [] });
    });

    it('does refuse events of several chains, or any invalid event, and store none', async () => {
      const tenant = await buildTenant(ctx.db());
      const other = await buildTenant(ctx.db());
      await expect(appendAuditEvents(ctx.db(), [event(tenant.id, 1), event(other.id, 2)])).rejects.toMatchObject({ code: 'audit_batch_mixed_chains' });
      await expect(appendAuditEvents(ctx.db(), [event(tenant.id, 1), event(tenant.id, 2, 'a', { outcome: 'ok' as never })])).rejects.toMatchObject({
        code: 'audit_event_invalid',
      });
      expect(await storedChain(ctx.db(), tenant.id)).toEqual([]);
      expect(await storedChain(ctx.db(), other.id)).toEqual([]);
    });
  });
});
