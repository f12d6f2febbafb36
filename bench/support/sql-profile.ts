// BENCH_PROFILE=1 in a bench: time spent per statement kind (its first 60 characters), so a
// bench can print where a use case spends its database time. Wraps a Database (and the
// transactions it opens) without changing what it does; without BENCH_PROFILE the Database is
// passed through untouched and report() prints nothing.
import type { Database, Sql, Transaction } from '../../src/storage/database/database.ts';

/** A Database whose statements are timed (when `enabled`), and a printer for the top entries. */
export function profiledDatabase(
  db: Database,
  enabled = Boolean(process.env.BENCH_PROFILE),
): { db: Database; report(log: (line: string) => void, top?: number): void; reset(): void } {
  if (!enabled) return { db, report: () => undefined, reset: () => undefined };
  const profile = new Map<string, { ms: number; n: number }>();
  const timed = <T extends Sql>(sql: T): T => {
    const query = sql.query.bind(sql) as Sql['query'];
    return Object.assign(Object.create(sql) as T, {
      query: async (text: string, params?: unknown[]) => {
        const t = performance.now();
        try {
          return await query(text, params);
        } finally {
          const k = text.replace(/\s+/g, ' ').trim().slice(0, 60);
          const p = profile.get(k) ?? { ms: 0, n: 0 };
          p.ms += performance.now() - t;
          p.n += 1;
          profile.set(k, p);
        }
      },
    });
  };
  const wrapped: Database = Object.assign(timed(db), { transaction: <R>(fn: (tx: Transaction) => Promise<R>) => db.transaction((tx) => fn(timed(tx))) });
  return {
    db: wrapped,
    report(log, top = 15) {
      for (const [k, p] of [...profile].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) log(`${(p.ms / 1000).toFixed(3)} s ${String(p.n).padStart(5)}×  ${k}`);
    },
    reset: () => profile.clear(),
  };
}
