import { expect, it } from 'vitest';
import { describeEachDatabase } from '../../../test/support/database.ts';
import { openPostgresDatabase } from './postgres-database.ts';
import { prepared, preparedName } from './prepared.ts';

const SQL = prepared('SELECT $1::int + 1 AS n');

describeEachDatabase('prepared statements', (ctx) => {
  it('does leave the text unchanged and give it one stable statement name', async () => {
    expect(SQL).toBe('SELECT $1::int + 1 AS n');
    expect(prepared('SELECT $1::int + 1 AS n')).toBe(SQL);
    expect(preparedName(SQL)).toMatch(/^sp_[0-9a-f]{24}$/);
    expect(preparedName('SELECT 2')).toBeUndefined();
    // Runs the same on both drivers, in and out of a transaction.
    expect((await ctx.db().query<{ n: number }>(SQL, [41])).rows).toEqual([{ n: 42 }]);
    await ctx.db().transaction(async (tx) => expect((await tx.query<{ n: number }>(SQL, [1])).rows).toEqual([{ n: 2 }]));
  });

  it('does prepare registered texts on PostgreSQL, and not when DATABASE_PREPARED_STATEMENTS is off', async () => {
    if (ctx.driver !== 'postgres') return; // PGlite has nothing to prepare
    const url = await ctx.createDatabaseUrl();
    for (const preparedStatements of [true, false]) {
      const db = await openPostgresDatabase(url, { max: 1, preparedStatements });
      try {
        // One connection, and one transaction so both statements run on it.
        const names = await db.transaction(async (tx) => {
          await tx.query(SQL, [1]);
          await tx.query(SQL, [2]);
          return (await tx.query<{ name: string }>('SELECT name FROM pg_prepared_statements')).rows.map((r) => r.name);
        });
        expect(names).toEqual(preparedStatements ? [preparedName(SQL)] : []);
      } finally {
        await db.close();
      }
    }
  });
});
