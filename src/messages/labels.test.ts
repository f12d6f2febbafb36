import { expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/database.ts';
import { buildTenant } from '../../test/support/factories.ts';
import { DEFAULT_LABELS, listLabels } from './labels.ts';

describeEachDatabase('labels', (ctx) => {
  it('does give every concurrent first caller the whole default set, created once', async () => {
    const tenant = await buildTenant(ctx.db());
    // Callers keep arriving while the first one creates the set, as the first sends of a new
    // organisation do: none may see part of it.
    const callers = Array.from({ length: 8 }, async () => {
      const seen = [];
      for (let i = 0; i < 10; i++) seen.push((await listLabels(ctx.db(), tenant.id)).map((l) => l.name));
      return seen;
    });
    const lists = (await Promise.all(callers)).flat();
    for (const names of lists) expect(names).toEqual(DEFAULT_LABELS.map((l) => l.name));
    const { rows } = await ctx.db().query<{ n: string }>('SELECT count(*) AS n FROM labels WHERE tenant_id = $1', [tenant.id]);
    expect(Number(rows[0]!.n)).toBe(DEFAULT_LABELS.length);
  });
});
