import { describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/database.ts';
import { buildTenant } from '../../test/support/factories.ts';
import { toHex } from '../crypto/format/bytes.ts';
import type { Database, Sql } from '../storage/database/database.ts';
import { computeAuditHash, GENESIS_HASH_HEX } from './audit.chain.ts';
import type { AuditEventInput } from './audit.model.ts';
import { appendAuditEvent, getAuditChainHead, verifyAuditChains } from './audit.service.ts';

function event(tenantId: string | undefined, n: number, extra: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    ...(tenantId !== undefined ? { tenantId } : {}),
    actor: { type: 'user', id: `user-${n % 3}` },
    action: 'sealed_object.created',
    target: { type: 'sealed_object', id: `object-${n}` },
    outcome: 'success',
    ip: n % 2 ? '192.0.2.10' : '2001:db8::1',
    userAgent: 'Mozilla/5.0 (test)',
    details: { n, labels: ['official'], ratio: 0.1 * n, nested: { b: true, a: null } },
    ...extra,
  };
}

async function appendMany(sql: Sql, tenantId: string | undefined, count: number): Promise<void> {
  for (let n = 1; n <= count; n++) await appendAuditEvent(sql, event(tenantId, n));
}

async function chainSeqs(db: Database, chain: string): Promise<string[]> {
  const { rows } = await db.query<{ chain_seq: string }>('SELECT chain_seq FROM audit_events WHERE chain = $1 ORDER BY chain_seq', [chain]);
  return rows.map((r) => r.chain_seq);
}

describeEachDatabase('audit log', (ctx) => {
  describe('appendAuditEvent', () => {
    it('does store the event with contiguous positions and links, and return it as stored', async () => {
      const tenant = await buildTenant(ctx.db());
      const first = await appendAuditEvent(ctx.db(), event(tenant.id, 1));
      const second = await appendAuditEvent(ctx.db(), event(tenant.id, 2));
      expect(first).toMatchObject({ chain: tenant.id, chainSeq: '1', tenantId: tenant.id, actorType: 'user', outcome: 'success' });
      expect(toHex(first.prevHash)).toBe(GENESIS_HASH_HEX);
      expect(second.chainSeq).toBe('2');
      expect(toHex(second.prevHash)).toBe(toHex(first.hash));
      expect(first.occurredAt.getUTCMilliseconds()).toBe(first.occurredAt.getTime() % 1000);

      const { rows } = await ctx.db().query<{ hash: Uint8Array; details: unknown; occurred_at: Date }>(
        'SELECT hash, details, occurred_at FROM audit_events WHERE id = $1',
        [second.id],
      );
      expect(toHex(rows[0]!.hash)).toBe(toHex(second.hash));
      expect(rows[0]!.details).toEqual(second.details);
      expect(rows[0]!.occurred_at.getTime()).toBe(second.occurredAt.getTime());
    });

    it('does hash details exactly as they read back from jsonb', async () => {
      const tenant = await buildTenant(ctx.db());
      await appendAuditEvent(
        ctx.db(),
        event(tenant.id, 1, {
          details: { when: new Date('2025-01-01T00:00:00Z'), skip: undefined, big: 1e21, tiny: 5e-324, emoji: '🔒 ü', list: [3, 2, 1], z: { y: { x: 0.30000000000000004 } } },
          userAgent: 'x'.repeat(600),
        }),
      );
      await expect(verifyAuditChains(ctx.db(), { tenantId: tenant.id })).resolves.toMatchObject({ ok: true, problems: [] });
      const { rows } = await ctx.db().query<{ details: Record<string, unknown>; user_agent: string }>(
        'SELECT details, user_agent FROM audit_events WHERE chain = $1',
        [tenant.id],
      );
      expect(rows[0]!.details.when).toBe('2025-01-01T00:00:00.000Z');
      expect(rows[0]!.details).not.toHaveProperty('skip');
      expect(rows[0]!.user_agent).toHaveLength(512);
    });

    it('does put events without a tenant on the system chain', async () => {
      const e = await appendAuditEvent(ctx.db(), { actor: { type: 'system' }, action: 'server.started', outcome: 'success' });
      expect(e).toMatchObject({ chain: 'system', tenantId: null, actorId: null, targetType: null, details: {} });
    });

    it('does join the caller’s transaction, so a rolled-back change leaves no event', async () => {
      const tenant = await buildTenant(ctx.db());
      const failing = ctx.db().transaction(async (tx) => {
        await appendAuditEvent(tx, event(tenant.id, 1));
        throw new Error('the audited change failed');
      });
      await expect(failing).rejects.toThrow('the audited change failed');
      expect(await chainSeqs(ctx.db(), tenant.id)).toEqual([]);

      await ctx.db().transaction(async (tx) => {
        await appendAuditEvent(tx, event(tenant.id, 1));
        await appendAuditEvent(tx, event(tenant.id, 2));
      });
      expect(await chainSeqs(ctx.db(), tenant.id)).toEqual(['1', '2']);
    });

    it('does produce contiguous positions and a valid chain for 20 concurrent appends', async () => {
      const tenant = await buildTenant(ctx.db());
      const other = await buildTenant(ctx.db());
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => appendAuditEvent(ctx.db(), event(i % 4 === 0 ? other.id : tenant.id, i))),
      );
      expect(await chainSeqs(ctx.db(), tenant.id)).toEqual(Array.from({ length: 15 }, (_, i) => String(i + 1)));
      expect(await chainSeqs(ctx.db(), other.id)).toEqual(['1', '2', '3', '4', '5']);
      await expect(verifyAuditChains(ctx.db(), { tenantId: tenant.id })).resolves.toMatchObject({ ok: true });
      await expect(verifyAuditChains(ctx.db(), { tenantId: other.id })).resolves.toMatchObject({ ok: true });
    });

    it.each([
      ['action', { action: 'Created' }, 'action'],
      ['action without a dot', { action: 'created' }, 'action'],
      ['actor type', { actor: { type: 'robot' } }, 'actor.type'],
      ['outcome', { outcome: 'ok' }, 'outcome'],
      ['tenant id in upper case', { tenantId: 'AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA' }, 'tenantId'],
      ['ip', { ip: 'not-an-ip' }, 'ip'],
      ['actor id with NUL', { actor: { type: 'user', id: 'a\u0000b' } }, 'actor.id'],
      ['unknown field', { extra: 1 }, 'event'],
    ] as [string, Record<string, unknown>, string][])('does reject an invalid %s, naming the field', async (_label, change, field) => {
      const input = { ...event(undefined, 1), ...change } as AuditEventInput;
      await expect(appendAuditEvent(ctx.db(), input)).rejects.toMatchObject({ kind: 'invalid', code: 'audit_event_invalid', details: { field } });
    });

    it('does reject details that look like secrets or are too large', async () => {
      const tenant = await buildTenant(ctx.db());
      for (const details of [{ password: 'x' }, { nested: { accessToken: 'x' } }, { list: [{ one_time_code: '123456' }] }]) {
        await expect(appendAuditEvent(ctx.db(), event(tenant.id, 1, { details }))).rejects.toMatchObject({ code: 'audit_details_secret' });
      }
      await expect(appendAuditEvent(ctx.db(), event(tenant.id, 1, { details: { body: 'x'.repeat(9000) } }))).rejects.toMatchObject({
        code: 'audit_details_too_large',
      });
      await expect(appendAuditEvent(ctx.db(), event(tenant.id, 1, { details: { s: '\ud800' } }))).rejects.toMatchObject({
        code: 'audit_details_invalid',
      });
      expect(await chainSeqs(ctx.db(), tenant.id)).toEqual([]);
    });
  });

  describe('verifyAuditChains', () => {
    it('does verify a chain of 50 events, reading it in pages of any size', async () => {
      const tenant = await buildTenant(ctx.db());
      await appendMany(ctx.db(), tenant.id, 50);
      const head = await getAuditChainHead(ctx.db(), { tenantId: tenant.id });
      for (const pageSize of [1000, 7, 10, 1]) {
        const result = await verifyAuditChains(ctx.db(), { tenantId: tenant.id, pageSize });
        expect(result).toEqual({
          ok: true,
          chains: [{ chain: tenant.id, events: 50, headHash: head.hash }],
          problems: [],
          problemsTruncated: false,
        });
      }
      expect(head.chainSeq).toBe(50);
    });

    it.each([
      ['occurred_at', `occurred_at = occurred_at + interval '1 second'`],
      ['occurred_at (by one microsecond)', `occurred_at = occurred_at + interval '1 microsecond'`],
      ['id', 'id = gen_random_uuid()'],
      ['tenant_id', 'tenant_id = NULL'],
      ['actor_type', `actor_type = 'operator'`],
      ['actor_id', `actor_id = 'someone-else'`],
      ['action', `action = 'sealed_object.deleted'`],
      ['target_type', `target_type = 'tenant'`],
      ['target_id', `target_id = 'object-999'`],
      ['outcome', `outcome = 'denied'`],
      ['ip', `ip = '198.51.100.7'`],
      ['user_agent', `user_agent = 'curl/8'`],
      ['details', `details = jsonb_set(details, '{n}', '999')`],
    ])('does detect an UPDATE of %s in a middle row', async (_field, assignment) => {
      const tenant = await buildTenant(ctx.db());
      await appendMany(ctx.db(), tenant.id, 7);
      await ctx.db().query(`UPDATE audit_events SET ${assignment} WHERE chain = $1 AND chain_seq = 4`, [tenant.id]);
      const result = await verifyAuditChains(ctx.db(), { tenantId: tenant.id, pageSize: 3 });
      expect(result.ok).toBe(false);
      expect(result.problems).toEqual([{ chain: tenant.id, chainSeq: 4, problem: 'hash_mismatch' }]);
    });

    it('does detect a re-hashed middle row through the next row’s link', async () => {
      const tenant = await buildTenant(ctx.db());
      await appendMany(ctx.db(), tenant.id, 7);
      // The attacker edits a row and recomputes its hash correctly.
      const { rows } = await ctx.db().query<{ prev_hash: Uint8Array }>('SELECT prev_hash FROM audit_events WHERE chain = $1 AND chain_seq = 4', [tenant.id]);
      await ctx.db().query(`UPDATE audit_events SET outcome = 'denied' WHERE chain = $1 AND chain_seq = 4`, [tenant.id]);
      const page = await readRow(ctx.db(), tenant.id, 4);
      await ctx.db().query('UPDATE audit_events SET hash = $2 WHERE chain = $1 AND chain_seq = 4', [tenant.id, computeAuditHash(rows[0]!.prev_hash, page)]);
      const result = await verifyAuditChains(ctx.db(), { tenantId: tenant.id });
      expect(result.problems).toEqual([{ chain: tenant.id, chainSeq: 5, problem: 'prev_hash_mismatch' }]);
    });

    it('does detect an UPDATE of the stored hashes and positions', async () => {
      const tenant = await buildTenant(ctx.db());
      await appendMany(ctx.db(), tenant.id, 7);
      await ctx.db().query(`UPDATE audit_events SET prev_hash = $2 WHERE chain = $1 AND chain_seq = 3`, [tenant.id, new Uint8Array(32)]);
      await ctx.db().query(`UPDATE audit_events SET chain_seq = 60 WHERE chain = $1 AND chain_seq = 7`, [tenant.id]);
      const result = await verifyAuditChains(ctx.db(), { tenantId: tenant.id });
      expect(result.problems).toEqual(
        expect.arrayContaining([
          { chain: tenant.id, chainSeq: 3, problem: 'prev_hash_mismatch' },
          { chain: tenant.id, chainSeq: 3, problem: 'hash_mismatch' },
          { chain: tenant.id, chainSeq: 60, problem: 'seq_gap' },
          { chain: tenant.id, chainSeq: 60, problem: 'hash_mismatch' },
        ]),
      );
    });

    it('does detect a DELETE of a middle row', async () => {
      const tenant = await buildTenant(ctx.db());
      await appendMany(ctx.db(), tenant.id, 10);
      await ctx.db().query('DELETE FROM audit_events WHERE chain = $1 AND chain_seq = 5', [tenant.id]);
      const result = await verifyAuditChains(ctx.db(), { tenantId: tenant.id, pageSize: 4 });
      expect(result.ok).toBe(false);
      expect(result.problems).toEqual([
        { chain: tenant.id, chainSeq: 6, problem: 'seq_gap' },
        { chain: tenant.id, chainSeq: 6, problem: 'prev_hash_mismatch' },
      ]);
    });

    it('does detect a forged row inserted in the middle, even one hashed correctly', async () => {
      const tenant = await buildTenant(ctx.db());
      await appendMany(ctx.db(), tenant.id, 8);
      // Make room after position 4 (two steps: the primary key is checked row by row).
      await ctx.db().query('UPDATE audit_events SET chain_seq = chain_seq + 1000 WHERE chain = $1 AND chain_seq > 4', [tenant.id]);
      await ctx.db().query('UPDATE audit_events SET chain_seq = chain_seq - 999 WHERE chain = $1 AND chain_seq > 1000', [tenant.id]);
      const four = await readRow(ctx.db(), tenant.id, 4);
      const forged = { ...four, chainSeq: '5', id: crypto.randomUUID(), action: 'sealed_object.deleted', prevHash: four.hash };
      await ctx.db().query(
        `INSERT INTO audit_events (chain, chain_seq, id, tenant_id, occurred_at, actor_type, actor_id, action, target_type, target_id, outcome, ip, user_agent, details, prev_hash, hash)
         VALUES ($1, 5, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14, $15)`,
        [forged.chain, forged.id, forged.tenantId, forged.occurredAt, forged.actorType, forged.actorId, forged.action, forged.targetType, forged.targetId,
          forged.outcome, forged.ip, forged.userAgent, JSON.stringify(forged.details), forged.prevHash, computeAuditHash(forged.prevHash, forged)],
      );
      const result = await verifyAuditChains(ctx.db(), { tenantId: tenant.id });
      expect(result.ok).toBe(false);
      // The forged row itself verifies; the renumbered row after it does not.
      expect(result.problems).not.toContainEqual(expect.objectContaining({ chainSeq: 5 }));
      expect(result.problems).toContainEqual({ chain: tenant.id, chainSeq: 6, problem: 'prev_hash_mismatch' });
      expect(result.problems).toContainEqual({ chain: tenant.id, chainSeq: 6, problem: 'hash_mismatch' });
    });

    it('does detect a forged row appended with a made-up hash', async () => {
      const tenant = await buildTenant(ctx.db());
      await appendMany(ctx.db(), tenant.id, 3);
      const head = await readRow(ctx.db(), tenant.id, 3);
      await ctx.db().query(
        `INSERT INTO audit_events (chain, chain_seq, id, tenant_id, occurred_at, actor_type, action, outcome, details, prev_hash, hash)
         VALUES ($1, 4, $2, $3, now(), 'operator', 'tenant.erased', 'success', '{}', $4, $5)`,
        [tenant.id, crypto.randomUUID(), tenant.id, head.hash, new Uint8Array(32).fill(7)],
      );
      const result = await verifyAuditChains(ctx.db(), { tenantId: tenant.id });
      expect(result.problems).toEqual([{ chain: tenant.id, chainSeq: 4, problem: 'hash_mismatch' }]);
    });

    it('does notice removal of the newest rows only against an anchored head', async () => {
      const tenant = await buildTenant(ctx.db());
      await appendMany(ctx.db(), tenant.id, 6);
      const anchor = await getAuditChainHead(ctx.db(), { tenantId: tenant.id });
      await appendMany(ctx.db(), tenant.id, 2);
      // Later events do not disturb an older anchor.
      await expect(verifyAuditChains(ctx.db(), { tenantId: tenant.id, anchors: [anchor] })).resolves.toMatchObject({ ok: true });

      await ctx.db().query('DELETE FROM audit_events WHERE chain = $1 AND chain_seq >= 5', [tenant.id]);
      // The documented limit: the shortened chain is internally consistent.
      await expect(verifyAuditChains(ctx.db(), { tenantId: tenant.id })).resolves.toMatchObject({ ok: true });
      const anchored = await verifyAuditChains(ctx.db(), { tenantId: tenant.id, anchors: [anchor] });
      expect(anchored.problems).toEqual([{ chain: tenant.id, chainSeq: 6, problem: 'anchor_mismatch' }]);
    });

    it('does keep chains independent', async () => {
      const a = await buildTenant(ctx.db());
      const b = await buildTenant(ctx.db());
      await appendMany(ctx.db(), a.id, 5);
      await appendMany(ctx.db(), b.id, 5);
      expect(await chainSeqs(ctx.db(), b.id)).toEqual(['1', '2', '3', '4', '5']);
      await ctx.db().query(`UPDATE audit_events SET outcome = 'failure' WHERE chain = $1 AND chain_seq = 2`, [a.id]);
      await expect(verifyAuditChains(ctx.db(), { tenantId: b.id })).resolves.toMatchObject({ ok: true });
      await expect(verifyAuditChains(ctx.db(), { tenantId: a.id })).resolves.toMatchObject({ ok: false });
    });

    it('does verify every chain, including system and anchored but vanished ones', async () => {
      const db = await ctx.createDatabase();
      const a = await buildTenant(db);
      const b = await buildTenant(db);
      await appendMany(db, a.id, 3);
      await appendMany(db, b.id, 4);
      await appendMany(db, undefined, 2);
      const all = await verifyAuditChains(db, { pageSize: 2 });
      expect(all.ok).toBe(true);
      expect(all.chains.map((c) => [c.chain, c.events]).sort()).toEqual([[a.id, 3], [b.id, 4], ['system', 2]].sort());
      expect(await getAuditChainHead(db, { tenantId: crypto.randomUUID() })).toMatchObject({ chainSeq: 0, hash: GENESIS_HASH_HEX });

      const anchor = await getAuditChainHead(db, { tenantId: b.id });
      await db.query('DELETE FROM audit_events WHERE chain = $1', [b.id]);
      await db.query(`UPDATE audit_events SET ip = '203.0.113.9' WHERE chain = 'system' AND chain_seq = 1`);
      const broken = await verifyAuditChains(db, { anchors: [anchor] });
      expect(broken.problems).toEqual(
        expect.arrayContaining([
          { chain: 'system', chainSeq: 1, problem: 'hash_mismatch' },
          { chain: b.id, chainSeq: 4, problem: 'anchor_mismatch' },
        ]),
      );
      expect(broken.problems).toHaveLength(2);
    });
  });
});

/** One stored row, for tests that forge rows the way an attacker with write access could. */
async function readRow(db: Database, chain: string, seq: number) {
  const { rows } = await db.query<{
    chain: string; chain_seq: string; id: string; tenant_id: string | null; occurred_at: Date; actor_type: string; actor_id: string | null;
    action: string; target_type: string | null; target_id: string | null; outcome: string; ip: string | null; user_agent: string | null;
    details: Record<string, never>; prev_hash: Uint8Array; hash: Uint8Array;
  }>('SELECT * FROM audit_events WHERE chain = $1 AND chain_seq = $2', [chain, seq]);
  const r = rows[0]!;
  return {
    chain: r.chain, chainSeq: r.chain_seq, id: r.id, tenantId: r.tenant_id, occurredAt: r.occurred_at, actorType: r.actor_type, actorId: r.actor_id,
    action: r.action, targetType: r.target_type, targetId: r.target_id, outcome: r.outcome, ip: r.ip, userAgent: r.user_agent, details: r.details,
    prevHash: r.prev_hash, hash: r.hash,
  };
}
