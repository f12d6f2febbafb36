// Anonymous aggregate statistics (issue #6 §9): counts only, grouped by values that identify no
// one (weeks, label names, Prevent check kinds and outcomes, request kinds), with every small
// cell suppressed by suppression.ts. The SQL never selects a tenant id, user id, name or
// address into the output; tenant-level reports count only that tenant's rows.
//
// Each report is one table over its data; no report publishes totals, and no two reports are
// drawn from the same rows with different dimensions (see docs/privacy.md, "Anonymous
// statistics", for why that matters and what is left).
import { CHECK_KINDS } from '../../prevent/prevent.model.ts';
import { errors } from '../../shared/app-error.ts';
import type { Clock } from '../../shared/clock.ts';
import { systemClock } from '../../shared/clock.ts';
import type { Sql } from '../../storage/database/database.ts';
import { bucketRange, buildTable, checkThreshold, monthStart, type RawCell, type StatisticsTable } from './suppression.ts';

/** The reports there are. */
export const REPORTS = ['messages_by_label', 'prevent_warnings', 'subject_requests'] as const;

/** One of {@link REPORTS}. */
export type ReportName = (typeof REPORTS)[number];

/** Reports a tenant's administrators may run over their own tenant. */
export const TENANT_REPORTS = ['messages_by_label', 'prevent_warnings'] as const satisfies readonly ReportName[];

/** Installation-wide: a label name is shown only when at least this many tenants have a label of that name. */
export const MIN_TENANTS_PER_LABEL_NAME = 5;

/** Installation-wide: a cell is published only when at least this many tenants contributed to it. */
export const MIN_CONTRIBUTING_TENANTS = 3;

/**
 * Installation-wide: a cell is published only when no single tenant contributed more than this
 * share of it (the (1, k) dominance rule of statistical disclosure control, k = 85 %).
 */
export const MAX_TENANT_SHARE = 0.85;

/**
 * Installation-wide: nor when two tenants together contributed more than this share (the (2, k)
 * rule, k = 90 %): otherwise either of them could subtract its own count and read the other's.
 */
export const MAX_TOP_TWO_SHARE = 0.9;

/** The suppression rules of installation-wide cells (several tenants contribute to them). */
const INSTALLATION_RULES = { minContributors: MIN_CONTRIBUTING_TENANTS, maxShare: MAX_TENANT_SHARE, maxTopTwoShare: MAX_TOP_TWO_SHARE };

/** Label names used by too few tenants (or, installation-wide, any tenant-specific name) are counted here. */
export const OTHER_LABELS = '(other labels)';

/** Prevent outcomes, in the order of the table's columns. */
export const PREVENT_OUTCOMES = ['logged', 'sent_anyway', 'sent_unreviewed', 'justified', 'blocked', 'removed', 'suppressed'] as const;

/** Subject request kinds, in the order of the table's columns. */
export const SUBJECT_REQUEST_KINDS = ['access', 'rectification', 'erasure', 'restriction', 'objection_to_marketing'] as const;

/** A published report. */
export interface StatisticsReport extends StatisticsTable {
  report: ReportName;
  /** 'installation' or 'tenant' (the caller's own organisation; never named in the output). */
  scope: 'installation' | 'tenant';
  /** The period actually covered (aligned to whole weeks or months). */
  period: { from: string; to: string };
  /** What rows and columns are. */
  rowsAre: string;
  columnsAre: string;
  note: string;
}

/** What a caller asks for. */
export interface ReportRequest {
  report: string;
  /** Installation-wide when absent (operator); the tenant's own rows otherwise. */
  tenantId?: string;
  from?: Date;
  to?: Date;
  threshold?: number | string;
}

const NOTE =
  'Counts below the threshold are shown as null ("fewer than threshold"). No totals are published: add the shown cells for a lower bound. Periods are whole weeks (Monday, UTC) or calendar months.';

/** Runs the aggregate reports. */
export class StatisticsService {
  private readonly now: Clock;

  constructor(
    private readonly sql: Sql,
    opts: { now?: Clock } = {},
  ) {
    this.now = opts.now ?? systemClock;
  }

  /** Runs one report; `tenantId` limits it to that tenant (administrators' API). */
  async run(req: ReportRequest): Promise<StatisticsReport> {
    const threshold = checkThreshold(req.threshold);
    if (!(REPORTS as readonly string[]).includes(req.report)) throw errors.invalid('unknown_report', `report must be one of ${REPORTS.join(', ')}`);
    const report = req.report as ReportName;
    if (req.tenantId !== undefined && !(TENANT_REPORTS as readonly string[]).includes(report)) {
      throw errors.forbidden('report_not_for_tenants', `${report} is installation-wide; tenants may run ${TENANT_REPORTS.join(', ')}`);
    }
    const now = this.now();
    switch (report) {
      case 'messages_by_label':
        return this.messagesByLabel(req, threshold, now);
      case 'prevent_warnings':
        return this.preventWarnings(req, threshold, now);
      case 'subject_requests':
        return this.subjectRequests(req, threshold, now);
    }
  }

  /** Messages sent per week (rows) per classification label name (columns). */
  private async messagesByLabel(req: ReportRequest, threshold: number, now: Date): Promise<StatisticsReport> {
    const to = req.to ?? now;
    const from = req.from ?? new Date(to.getTime() - 12 * 7 * 86_400_000);
    const range = bucketRange(from, to, 'week');
    const tenantId = req.tenantId ?? null;
    // Installation-wide, a label name some tenant made up could name it ("Acme board papers"):
    // only names at least MIN_TENANTS_PER_LABEL_NAME tenants share are shown. Decided from all
    // labels, not the period's messages, so the folding is the same for every period asked.
    const shown = tenantId
      ? null
      : (
          await this.sql.query<{ name: string }>(
            `SELECT name FROM labels GROUP BY name HAVING count(DISTINCT tenant_id) >= $1 ORDER BY name`,
            [MIN_TENANTS_PER_LABEL_NAME],
          )
        ).rows.map((r) => r.name);
    const { rows } = await this.sql.query<{ week: string; label: string; n: string; tenants: string; largest: string; top_two: string }>(
      `SELECT week, label, sum(n) AS n, count(*) AS tenants, max(n) AS largest, sum(n) FILTER (WHERE rank <= 2) AS top_two
         FROM (SELECT *, row_number() OVER (PARTITION BY week, label ORDER BY n DESC) AS rank
                 FROM (SELECT to_char(date_trunc('week', m.created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS week,
                              CASE WHEN $4::text[] IS NULL OR l.name = ANY($4::text[]) THEN l.name ELSE $5 END AS label,
                              m.tenant_id, count(*) AS n
                         FROM messages m JOIN labels l ON l.id = m.label_id
                        WHERE m.created_at >= $1 AND m.created_at < $2 AND ($3::uuid IS NULL OR m.tenant_id = $3)
                        GROUP BY 1, 2, 3) AS per_tenant) AS ranked
        GROUP BY 1, 2`,
      [range.from, range.to, tenantId, shown, OTHER_LABELS],
    );
    const columns = tenantId
      ? (await this.sql.query<{ name: string }>(`SELECT name FROM labels WHERE tenant_id = $1 ORDER BY rank, name`, [tenantId])).rows.map((r) => r.name)
      : [...shown!, OTHER_LABELS];
    const raw: RawCell[] = rows.map((r) => ({ row: r.week, column: r.label, count: Number(r.n), contributors: Number(r.tenants), largest: Number(r.largest), topTwo: Number(r.top_two) }));
    const table = buildTable(raw, { threshold, rows: range.keys, columns, ...(tenantId ? {} : INSTALLATION_RULES) });
    return this.present('messages_by_label', req, table, range, 'weeks (Monday, UTC)', 'classification labels');
  }

  /** Prevent warnings in one calendar month: check kind (rows) by what the sender did (columns). */
  private async preventWarnings(req: ReportRequest, threshold: number, now: Date): Promise<StatisticsReport> {
    // One fixed period size and no time dimension: if months and quarters (or arbitrary ranges)
    // were both offered, one could be subtracted from the other to expose a suppressed cell.
    const month = monthStart(req.from ?? new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)));
    if (req.to !== undefined) throw errors.invalid('invalid_period', 'prevent_warnings covers one calendar month: give only from (any day of the month)');
    const range = bucketRange(month, new Date(month.getTime() + 86_400_000), 'month');
    const tenantId = req.tenantId ?? null;
    const { rows } = await this.sql.query<{ kind: string; outcome: string; n: string; tenants: string; largest: string; top_two: string }>(
      `SELECT kind, outcome, sum(n) AS n, count(*) AS tenants, max(n) AS largest, sum(n) FILTER (WHERE rank <= 2) AS top_two
         FROM (SELECT check_kind AS kind, outcome, tenant_id, count(*) AS n,
                      row_number() OVER (PARTITION BY check_kind, outcome ORDER BY count(*) DESC) AS rank
                 FROM prevent_decisions
                WHERE decided_at >= $1 AND decided_at < $2 AND ($3::uuid IS NULL OR tenant_id = $3)
                GROUP BY 1, 2, 3) AS per_tenant
        GROUP BY 1, 2`,
      [range.from, range.to, tenantId],
    );
    const known = new Set<string>(CHECK_KINDS);
    const raw: RawCell[] = rows.map((r) => ({ row: known.has(r.kind) ? r.kind : '(other checks)', column: r.outcome, count: Number(r.n), contributors: Number(r.tenants), largest: Number(r.largest), topTwo: Number(r.top_two) }));
    const rowKeys: string[] = [...CHECK_KINDS, ...(raw.some((c) => c.row === '(other checks)') ? ['(other checks)'] : [])];
    const table = buildTable(raw, { threshold, rows: rowKeys, columns: [...PREVENT_OUTCOMES], ...(tenantId ? {} : INSTALLATION_RULES) });
    return this.present('prevent_warnings', req, table, range, 'Prevent checks', "what the sender did (the warning's outcome)");
  }

  /** Subject requests received per month (rows) by kind (columns); installation-wide only. */
  private async subjectRequests(req: ReportRequest, threshold: number, now: Date): Promise<StatisticsReport> {
    const exists = await this.sql.query<{ t: string | null }>(`SELECT to_regclass('public.subject_requests')::text AS t`);
    if (!exists.rows[0]?.t) throw errors.unavailable('report_unavailable', 'subject requests are not recorded by this installation yet');
    const to = req.to ?? now;
    const from = req.from ?? new Date(Date.UTC(to.getUTCFullYear() - 1, to.getUTCMonth(), 1));
    const range = bucketRange(from, to, 'month');
    const { rows } = await this.sql.query<{ month: string; kind: string; n: string }>(
      `SELECT to_char(date_trunc('month', received_at AT TIME ZONE 'UTC'), 'YYYY-MM') AS month, kind, count(*) AS n
         FROM subject_requests
        WHERE received_at >= $1 AND received_at < $2 AND duplicate_of IS NULL
        GROUP BY 1, 2`,
      [range.from, range.to],
    );
    const raw: RawCell[] = rows.map((r) => ({ row: r.month, column: r.kind, count: Number(r.n) }));
    const table = buildTable(raw, { threshold, rows: range.keys, columns: [...SUBJECT_REQUEST_KINDS] });
    return this.present('subject_requests', req, table, range, 'months (UTC)', 'kind of request (duplicates not counted)');
  }

  private present(report: ReportName, req: ReportRequest, table: StatisticsTable, range: { from: Date; to: Date }, rowsAre: string, columnsAre: string): StatisticsReport {
    return {
      report,
      scope: req.tenantId ? 'tenant' : 'installation',
      period: { from: range.from.toISOString(), to: range.to.toISOString() },
      rowsAre,
      columnsAre,
      ...table,
      note: NOTE,
    };
  }
}

/** A report as CSV: one header row, one row per table row; suppressed cells as "<threshold". */
export function reportToCsvRows(r: StatisticsReport): Array<Array<string | number>> {
  return [[r.rowsAre, ...r.columns], ...r.rows.map((row, i) => [row, ...r.cells[i]!.map((c) => (c === null ? `<${r.threshold}` : c))])];
}
