import { describe, expect, it } from 'vitest';
import { AppError, isAppError } from '../../shared/app-error.ts';
import { describeEachDatabase } from '../../../test/support/database.ts';
import { buildTenant } from '../../../test/support/factories.ts';
import { inTransaction, isDatabase } from './database.ts';

interface TypesRow {
  b: Uint8Array;
  empty: Uint8Array;
  j: unknown;
  ja: unknown;
  t: Date;
  i8: string;
  i8max: string;
  n: string;
  d: string;
  i8s: string[];
  i4: number;
  u: string;
  nul: null;
}

const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);
const INSTANT = new Date('2024-02-29T23:59:58.123Z');
const JSON_VALUE = { b: [1, 'two', null, true, { c: 0.1 }], a: 'ünïcødé 🔒', n: -12.5e-3 };

describeEachDatabase('Database', (ctx) => {
  describe('value normalisation', () => {
    it('does round-trip bytea, jsonb, timestamptz, int8, numeric and date to the same JS values', async () => {
      const { rows } = await ctx.db().query<TypesRow>(
        `SELECT $1::bytea AS b, $2::bytea AS empty, $3::jsonb AS j, $4::jsonb AS ja, $5::timestamptz AS t,
                $6::int8 AS i8, $7::int8 AS i8max, $8::numeric AS n, $9::date AS d, $10::int8[] AS i8s,
                $11::int4 AS i4, $12::uuid AS u, NULL::text AS nul`,
        [
          ALL_BYTES,
          new Uint8Array(0),
          JSON.stringify(JSON_VALUE),
          JSON.stringify([1, [2], { x: 3 }]),
          INSTANT,
          '9007199254740993',
          9223372036854775807n,
          '12345678901234567890.000001',
          '2024-02-29',
          ['1', '-9223372036854775808'],
          42,
          '0f0e0d0c-0b0a-4908-8706-050403020100',
        ],
      );
      const row = rows[0]!;
      expect(row.b).toBeInstanceOf(Uint8Array);
      expect(Array.from(row.b)).toEqual(Array.from(ALL_BYTES));
      expect(row.empty).toBeInstanceOf(Uint8Array);
      expect(row.empty.length).toBe(0);
      expect(row.j).toEqual(JSON_VALUE);
      expect(row.ja).toEqual([1, [2], { x: 3 }]);
      expect(row.t).toBeInstanceOf(Date);
      expect(row.t.toISOString()).toBe(INSTANT.toISOString());
      expect(row.i8).toBe('9007199254740993');
      expect(row.i8max).toBe('9223372036854775807');
      expect(row.n).toBe('12345678901234567890.000001');
      expect(row.d).toBe('2024-02-29');
      expect(row.i8s).toEqual(['1', '-9223372036854775808']);
      expect(row.i4).toBe(42);
      expect(row.u).toBe('0f0e0d0c-0b0a-4908-8706-050403020100');
      expect(row.nul).toBeNull();
    });

    it('does return int8 aggregates such as count(*) as strings', async () => {
      const { rows } = await ctx.db().query<{ c: unknown }>('SELECT count(*) AS c FROM (VALUES (1), (2)) v(x)');
      expect(rows[0]!.c).toBe('2');
    });

    it('does store and read back bytea and jsonb columns of a real table', async () => {
      const tenant = await buildTenant(ctx.db());
      const id = crypto.randomUUID();
      await ctx.db().query(
        `INSERT INTO audit_events (chain, chain_seq, id, tenant_id, occurred_at, actor_type, action, outcome, details, prev_hash, hash)
         VALUES ($1, 1, $2, $3, $4, 'system', 'test.stored', 'success', $5::jsonb, $6, $7)`,
        [tenant.id, id, tenant.id, INSTANT, JSON.stringify(JSON_VALUE), new Uint8Array(32), ALL_BYTES.slice(0, 32)],
      );
      const { rows } = await ctx.db().query<{ details: unknown; hash: Uint8Array; occurred_at: Date; chain_seq: string }>(
        'SELECT details, hash, occurred_at, chain_seq FROM audit_events WHERE id = $1',
        [id],
      );
      expect(rows[0]!.details).toEqual(JSON_VALUE);
      expect(Array.from(rows[0]!.hash)).toEqual(Array.from(ALL_BYTES.slice(0, 32)));
      expect(rows[0]!.occurred_at.getTime()).toBe(INSTANT.getTime());
      expect(rows[0]!.chain_seq).toBe('1');
    });

    it('does report affected rows in rowCount', async () => {
      const tenant = await buildTenant(ctx.db());
      const r = await ctx.db().query('UPDATE tenants SET name = $2 WHERE id = $1', [tenant.id, 'Renamed']);
      expect(r.rowCount).toBe(1);
      const none = await ctx.db().query('UPDATE tenants SET name = $2 WHERE id = $1', [crypto.randomUUID(), 'x']);
      expect(none.rowCount).toBe(0);
    });
  });

  describe('transaction', () => {
    it('does commit when the callback resolves', async () => {
      const id = crypto.randomUUID();
      await ctx.db().transaction(async (tx) => {
        await buildTenant(tx, { id });
      });
      const { rows } = await ctx.db().query('SELECT id FROM tenants WHERE id = $1', [id]);
      expect(rows).toHaveLength(1);
    });

    it('does roll back every statement and rethrow the same error when the callback throws', async () => {
      const id = crypto.randomUUID();
      const boom = new Error('boom');
      const failing = ctx.db().transaction(async (tx) => {
        await buildTenant(tx, { id });
        await tx.query('UPDATE tenants SET name = $2 WHERE id = $1', [id, 'changed']);
        throw boom;
      });
      await expect(failing).rejects.toBe(boom);
      const { rows } = await ctx.db().query('SELECT id FROM tenants WHERE id = $1', [id]);
      expect(rows).toHaveLength(0);
    });

    it('does roll back when a statement fails inside it', async () => {
      const id = crypto.randomUUID();
      const failing = ctx.db().transaction(async (tx) => {
        await buildTenant(tx, { id });
        await tx.query('SELECT 1 / 0');
      });
      await expect(failing).rejects.toMatchObject({ kind: 'internal', code: 'database_error' });
      const { rows } = await ctx.db().query('SELECT id FROM tenants WHERE id = $1', [id]);
      expect(rows).toHaveLength(0);
    });

    it('does run multi-statement scripts', async () => {
      const table = `script_${crypto.randomUUID().replace(/-/g, '')}`;
      await ctx.db().transaction((tx) => tx.script(`CREATE TABLE ${table} (x int); INSERT INTO ${table} VALUES (1), (2);`));
      const { rows } = await ctx.db().query(`SELECT count(*) AS c FROM ${table}`);
      expect(rows[0]).toEqual({ c: '2' });
      await ctx.db().query(`DROP TABLE ${table}`);
    });

    it('does refuse the database itself inside its own transaction instead of deadlocking', async () => {
      const db = ctx.db();
      const failing = db.transaction(async () => {
        await db.query('SELECT 1');
      });
      await expect(failing).rejects.toMatchObject({ code: 'query_outside_transaction' });
      const nested = db.transaction(() => db.transaction(async () => 1));
      await expect(nested).rejects.toMatchObject({ code: 'query_outside_transaction' });
      // The database is still usable afterwards.
      await db.ping();
    });

    it('does refuse a transaction handle used after the transaction ended', async () => {
      let leaked: { query: (text: string) => Promise<unknown> } | undefined;
      await ctx.db().transaction(async (tx) => {
        leaked = tx;
      });
      await expect(leaked!.query('SELECT 1')).rejects.toMatchObject({ code: 'transaction_closed' });
    });

    it('does join the caller’s transaction in inTransaction', async () => {
      const db = ctx.db();
      expect(isDatabase(db)).toBe(true);
      const id = crypto.randomUUID();
      const failing = db.transaction(async (tx) => {
        expect(isDatabase(tx)).toBe(false);
        await inTransaction(tx, (inner) => buildTenant(inner, { id }));
        throw new Error('outer fails');
      });
      await expect(failing).rejects.toThrow('outer fails');
      const { rows } = await db.query('SELECT id FROM tenants WHERE id = $1', [id]);
      expect(rows).toHaveLength(0);
    });
  });

  describe('errors', () => {
    it('does turn a unique violation into a conflict naming the constraint', async () => {
      const tenant = await buildTenant(ctx.db());
      const err = await buildTenant(ctx.db(), { id: tenant.id }).catch((e: unknown) => e);
      expect(isAppError(err, 'unique_violation')).toBe(true);
      expect(err).toMatchObject({ kind: 'conflict', details: { sqlState: '23505', constraint: 'tenants_pkey', table: 'tenants' } });
    });

    it('does turn a foreign-key violation into a conflict', async () => {
      const err = await ctx
        .db()
        .query(
          `INSERT INTO key_encryption_keys (id, tenant_id, region, version, state, root_key_id, wrapped_key)
           VALUES ($1, $2, 'uk', 1, 'active', 'root-1', $3)`,
          [crypto.randomUUID(), crypto.randomUUID(), new Uint8Array([1])],
        )
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'conflict', code: 'foreign_key_violation' });
    });

    it('does not carry statement parameters in the error or its cause', async () => {
      const secret = 'do-not-log-this-value-7f3a';
      const err = await ctx
        .db()
        .query('SELECT $1::text::int', [secret])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      const appErr = err as AppError;
      expect(appErr.code).toBe('database_error');
      expect(appErr.details).toEqual({ sqlState: '22P02' });
      expect(appErr.message).not.toContain(secret);
      expect((appErr.cause as Error).message).not.toContain(secret);
      const cause = appErr.cause as Record<string, unknown>;
      expect(cause).not.toHaveProperty('params');
      expect(cause).not.toHaveProperty('query');
      expect(JSON.stringify({ ...appErr, cause: { ...cause } })).not.toContain('params');
    });
  });

  describe('lifecycle', () => {
    it('does answer ping, close twice, and report itself unavailable once closed', async () => {
      const db = await ctx.createDatabase({ migrated: false });
      expect(db.driver).toBe(ctx.driver);
      await db.ping();
      await db.close();
      await db.close();
      await expect(db.query('SELECT 1')).rejects.toMatchObject({ kind: 'unavailable', code: 'database_unavailable' });
    });
  });
});
