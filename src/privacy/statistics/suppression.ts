// Small-cell suppression for anonymous aggregate statistics (issue #6 §9). Pure functions: the
// SQL in statistics.service.ts returns raw grouped counts; everything published goes through
// buildTable() here, so the rules below hold for every report.
//
// What must stay true (statistics.test.ts checks it with generated data):
// - no published cell is a count between 1 and threshold - 1 (such cells become null: "fewer
//   than <threshold>");
// - no totals, subtotals or margins are published: with them a suppressed cell could be
//   recovered by subtraction (total - the other cells). Readers who need a total add the
//   published cells and see that it is a lower bound when some are suppressed;
// - the caller cannot choose the bucket edges: periods are whole UTC weeks (or months), so two
//   reports over overlapping ranges contain identical cells and cannot be subtracted to expose
//   one day.
import { errors } from '../../shared/app-error.ts';

/** Default minimum published count. */
export const DEFAULT_THRESHOLD = 10;

/**
 * Lowest threshold a caller may ask for. A threshold of 1 would publish every count, including
 * counts of exactly one person or event, which single that person out; 2 is the least that
 * never does. Anything below is refused, not silently raised.
 */
export const MIN_THRESHOLD = 2;

/** Highest threshold accepted (above it every realistic cell is suppressed). */
export const MAX_THRESHOLD = 1000;

/** Validates a caller's threshold; undefined gives the default. */
export function checkThreshold(value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_THRESHOLD;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < MIN_THRESHOLD || n > MAX_THRESHOLD) {
    throw errors.invalid(
      'invalid_threshold',
      `threshold must be a whole number from ${MIN_THRESHOLD} to ${MAX_THRESHOLD} (default ${DEFAULT_THRESHOLD}); below ${MIN_THRESHOLD} a count of one person would be published`,
    );
  }
  return n;
}

/** One raw grouped count, as the SQL returns it. */
export interface RawCell {
  row: string;
  column: string;
  count: number;
  /** Distinct tenants that contributed to the count (installation-wide reports). */
  contributors?: number;
  /** The largest count one tenant contributed (installation-wide reports). */
  largest?: number;
  /** The two largest counts two tenants contributed, added (installation-wide reports). */
  topTwo?: number;
}

/** A published table: cells are counts ≥ threshold, 0, or null (suppressed). */
export interface StatisticsTable {
  threshold: number;
  /** Row keys in order (e.g. weeks '2025-W03'). */
  rows: string[];
  /** Column keys in order (e.g. label names, check kinds). */
  columns: string[];
  /** cells[r][c]: the count, 0 for none, or null when 1 ≤ count < threshold. */
  cells: Array<Array<number | null>>;
  /** How many cells were suppressed. */
  suppressed: number;
}

/**
 * Builds a published table from raw counts. `rows` and `columns` fix the order and make empty
 * cells explicit zeros; raw cells outside them are refused (a bug, not data to drop silently).
 */
export function buildTable(
  raw: RawCell[],
  opts: { threshold: number; rows: string[]; columns: string[]; minContributors?: number; maxShare?: number; maxTopTwoShare?: number },
): StatisticsTable {
  const threshold = checkThreshold(opts.threshold);
  const rowIndex = new Map(opts.rows.map((r, i) => [r, i]));
  const colIndex = new Map(opts.columns.map((c, i) => [c, i]));
  const counts = opts.rows.map(() => opts.columns.map(() => 0));
  const contributors = opts.rows.map(() => opts.columns.map(() => 0));
  const largest = opts.rows.map(() => opts.columns.map(() => 0));
  const topTwo = opts.rows.map(() => opts.columns.map(() => 0));
  for (const cell of raw) {
    const r = rowIndex.get(cell.row);
    const c = colIndex.get(cell.column);
    if (r === undefined || c === undefined) throw errors.internal('statistics_cell_outside_table', 'a counted value is not a row or column of the report');
    if (!Number.isInteger(cell.count) || cell.count < 0) throw errors.internal('statistics_bad_count', 'a count is not a non-negative integer');
    counts[r]![c]! += cell.count;
    contributors[r]![c]! += cell.contributors ?? 0;
    // Raw cells merged into one (e.g. '(other checks)'): the largest of theirs is a lower bound.
    largest[r]![c]! = Math.max(largest[r]![c]!, cell.largest ?? 0);
    topTwo[r]![c]! = Math.max(topTwo[r]![c]!, cell.topTwo ?? 0);
  }
  const minContributors = opts.minContributors ?? 0;
  const maxShare = opts.maxShare ?? 1;
  const maxTopTwoShare = opts.maxTopTwoShare ?? 1;
  let suppressed = 0;
  const cells = counts.map((row, r) =>
    row.map((n, c) => {
      // Primary suppression: a small non-zero count could single out a person or a tenant.
      // Installation-wide: a cell fed by fewer than minContributors tenants is suppressed too,
      // or a tenant could subtract its own (known) count and read another tenant's.
      // Dominance ((1, k) rule): when one tenant makes up more than maxShare of a cell, the
      // published count is close to that tenant's own, and it tells every other reader about it.
      // Dominance ((2, k) rule): when two tenants make up more than maxTopTwoShare, either of
      // them can subtract its own count and learn roughly the other's.
      const dominated = largest[r]![c]! > maxShare * n || topTwo[r]![c]! > maxTopTwoShare * n;
      if ((n > 0 && n < threshold) || (n > 0 && contributors[r]![c]! < minContributors) || (n > 0 && dominated)) {
        suppressed++;
        return null;
      }
      return n;
    }),
  );
  return { threshold, rows: opts.rows, columns: opts.columns, cells, suppressed };
}

/** Monday 00:00 UTC of the week containing `d`. */
export function weekStart(d: Date): Date {
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  const dow = (new Date(day).getUTCDay() + 6) % 7; // Monday = 0
  return new Date(day - dow * 86_400_000);
}

/** First day of the month containing `d`, 00:00 UTC. */
export function monthStart(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
}

/** Bucket sizes a report may use. */
export const BUCKETS = ['week', 'month'] as const;

/** One of {@link BUCKETS}. */
export type Bucket = (typeof BUCKETS)[number];

/**
 * Whole buckets covering [from, to): `from` is moved back to its bucket's start and `to` forward
 * to the next bucket edge, so cells are always complete buckets (see the file comment).
 */
export function bucketRange(from: Date, to: Date, bucket: Bucket): { from: Date; to: Date; keys: string[] } {
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw errors.invalid('invalid_period', 'from and to must be dates such as 2025-01-31');
  if (to <= from) throw errors.invalid('invalid_period', 'to must be after from');
  const start = bucket === 'week' ? weekStart(from) : monthStart(from);
  const keys: string[] = [];
  let cursor = start;
  while (cursor < to) {
    keys.push(bucketKey(cursor, bucket));
    cursor = nextBucket(cursor, bucket);
    if (keys.length > 520) throw errors.invalid('invalid_period', 'a report covers at most 520 buckets (10 years of weeks)');
  }
  return { from: start, to: cursor, keys };
}

function nextBucket(d: Date, bucket: Bucket): Date {
  return bucket === 'week' ? new Date(d.getTime() + 7 * 86_400_000) : new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
}

/** The bucket's name: its first day as YYYY-MM-DD (week, Monday) or YYYY-MM (month). */
export function bucketKey(d: Date, bucket: Bucket): string {
  const start = bucket === 'week' ? weekStart(d) : monthStart(d);
  const iso = start.toISOString();
  return bucket === 'week' ? iso.slice(0, 10) : iso.slice(0, 7);
}
