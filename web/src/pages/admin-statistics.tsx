// Anonymous statistics over the organisation's own data, for administrators and auditors
// (GET /api/v1/tenant/statistics/:report; docs/disclosures-statistics-domains.md, "Anonymous
// statistics"). Suppressed cells are shown as suppressed, never as 0, and no totals are added
// here either: a total would let a reader work a suppressed cell out by subtraction.
import { useState, type FormEvent } from 'react';
import { Alert, Badge, Field, Loading, Select } from '../components/ui.tsx';
import { api, ApiError } from '../lib/api.ts';
import { formatDate } from '../lib/format.ts';
import { errorText, useLoad } from '../lib/hooks.ts';
import type { StatisticsReport, TenantReportName } from '../lib/types.ts';

const REPORTS: Array<{ value: TenantReportName; text: string; what: string }> = [
  { value: 'messages_by_label', text: 'Messages sent per week, by label', what: 'Messages your organisation sent, per week (Monday to Sunday, UTC) and classification label.' },
  { value: 'prevent_warnings', text: 'Pre-send check warnings in one month', what: 'Warnings the pre-send check gave in one calendar month, by check and by what the sender did.' },
];

// The server's limits (src/privacy/statistics/suppression.ts): below 2 a count of one person would be published.
const MIN_THRESHOLD = 2;
const MAX_THRESHOLD = 1000;
const DEFAULT_THRESHOLD = 10;

interface Query {
  report: TenantReportName;
  /** messages_by_label: first and last day (inclusive), YYYY-MM-DD; empty for the server's default. */
  from: string;
  to: string;
  /** prevent_warnings: YYYY-MM; empty for last month. */
  month: string;
  threshold: string;
}

const EMPTY: Query = { report: 'messages_by_label', from: '', to: '', month: '', threshold: String(DEFAULT_THRESHOLD) };

/** The day after a YYYY-MM-DD date: the API's `to` is exclusive, the form's "to" includes the day. */
function dayAfter(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

function thresholdProblem(value: string): string | null {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < MIN_THRESHOLD || n > MAX_THRESHOLD) {
    return `Enter a whole number from ${MIN_THRESHOLD} to ${MAX_THRESHOLD}. Below ${MIN_THRESHOLD}, a count of one person would be published.`;
  }
  return null;
}

function queryString(q: Query): string {
  const p = new URLSearchParams();
  if (q.report === 'prevent_warnings') {
    if (q.month) p.set('from', `${q.month}-01`);
  } else {
    if (q.from) p.set('from', q.from);
    if (q.to) p.set('to', dayAfter(q.to));
  }
  p.set('threshold', q.threshold.trim());
  return p.toString();
}

/** Plain words for the API's refusals of a report request. */
function reportError(err: ApiError): string {
  switch (err.code) {
    case 'insufficient_role':
      return 'Statistics are for administrators and auditors.';
    case 'report_not_for_tenants':
      return 'This report covers the whole installation; only the operator can run it.';
    case 'invalid_period':
      return `The dates do not make a period: ${err.message}.`;
    default:
      return errorText(err);
  }
}

const humanise = (key: string) => key.replace(/_/g, ' ');

/** A UTC calendar day (YYYY-MM-DD…) in the reader's locale; noon, so no time zone moves it to another day. */
const day = (iso: string) => formatDate(`${iso.slice(0, 10)}T12:00:00Z`);

function rowLabel(report: StatisticsReport, row: string): string {
  // Week rows are the week's Monday (YYYY-MM-DD).
  if (report.report === 'messages_by_label' && /^\d{4}-\d{2}-\d{2}$/.test(row)) return `Week of ${day(row)}`;
  return humanise(row);
}

// Same rules as src/privacy/csv.ts (RFC 4180, every cell quoted, formula-safe), which the web
// app cannot import: it imports no server code.
function csvCell(value: string | number): string {
  let s = String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

/** The table as CSV, as `sealpost privacy stats --format csv` writes it: suppressed cells as "<threshold". */
export function reportToCsv(r: StatisticsReport): string {
  const lines = [[r.rowsAre, ...r.columns], ...r.rows.map((row, i) => [row, ...(r.cells[i] ?? []).map((c) => (c === null ? `<${r.threshold}` : c))])];
  return lines.map((cells) => `${cells.map(csvCell).join(',')}\r\n`).join('');
}

function downloadCsv(r: StatisticsReport): void {
  const url = URL.createObjectURL(new Blob([reportToCsv(r)], { type: 'text/csv;charset=utf-8' }));
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = `sealpost-statistics-${r.report}-${r.period.from.slice(0, 10)}.csv`;
  document.body.appendChild(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** /admin/statistics (administrators and auditors). */
export function StatisticsAdmin() {
  const [draft, setDraft] = useState<Query>(EMPTY);
  const [applied, setApplied] = useState<Query>(EMPTY);
  const [formError, setFormError] = useState<{ field: 'threshold' | 'to'; text: string } | null>(null);
  const result = useLoad(() => api<StatisticsReport>('GET', `/api/v1/tenant/statistics/${applied.report}?${queryString(applied)}`), [applied]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const bad = thresholdProblem(draft.threshold);
    if (bad) return setFormError({ field: 'threshold', text: bad });
    if (draft.report === 'messages_by_label' && draft.from && draft.to && draft.to < draft.from) return setFormError({ field: 'to', text: 'The last day must not be before the first day.' });
    setFormError(null);
    // A new object even when nothing changed: "Show report" then asks again (new data may have arrived).
    setApplied({ ...draft });
  };

  const r = result.value;
  const title = REPORTS.find((x) => x.value === r?.report)?.text ?? 'Report';
  const serverThresholdError = result.error?.code === 'invalid_threshold' ? errorText(result.error) : null;
  const lastDay = r ? new Date(Date.parse(r.period.to) - 86_400_000).toISOString() : '';

  return (
    <div className="stack">
      <section className="card" aria-labelledby="stats-query-h">
        <h2 id="stats-query-h">Statistics</h2>
        <p className="hint">Counts only, over your organisation's own data; nobody is named. Periods are widened to whole weeks or months. Counts from 1 up to the threshold are suppressed so that no one can be singled out, and no totals are given.</p>
        <form className="inline-form" onSubmit={submit} noValidate>
          <Select label="Report" value={draft.report} onChange={(e) => setDraft({ ...draft, report: e.target.value as TenantReportName })} hint={REPORTS.find((x) => x.value === draft.report)?.what}>
            {REPORTS.map((x) => (
              <option key={x.value} value={x.value}>
                {x.text}
              </option>
            ))}
          </Select>
          {draft.report === 'messages_by_label' ? (
            <>
              <Field label="First day" type="date" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} hint="Empty: 12 weeks before the last day." />
              <Field label="Last day" type="date" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} hint="Included. Empty: today." error={formError?.field === 'to' ? formError.text : null} />
            </>
          ) : (
            <Field label="Month" type="month" placeholder="YYYY-MM" pattern="\d{4}-\d{2}" value={draft.month} onChange={(e) => setDraft({ ...draft, month: e.target.value })} hint="One calendar month (this report has no other period). Empty: last month." />
          )}
          <Field
            label="Threshold"
            type="number"
            inputMode="numeric"
            min={MIN_THRESHOLD}
            max={MAX_THRESHOLD}
            value={draft.threshold}
            onChange={(e) => setDraft({ ...draft, threshold: e.target.value })}
            hint={`Smallest count shown (${MIN_THRESHOLD}–${MAX_THRESHOLD}, default ${DEFAULT_THRESHOLD}).`}
            error={formError?.field === 'threshold' ? formError.text : serverThresholdError}
          />
          <button type="submit" className="button button-primary">
            Show report
          </button>
        </form>
      </section>

      <section className="card" aria-labelledby="stats-report-h" aria-busy={result.loading}>
        <div className="space-between row">
          <h2 id="stats-report-h">{title}</h2>
          {r && r.rows.length > 0 ? (
            <button type="button" className="button button-small" onClick={() => downloadCsv(r)} aria-describedby="stats-csv-hint">
              Download CSV
            </button>
          ) : null}
        </div>
        {result.error && !serverThresholdError ? <Alert tone="error">{reportError(result.error)}</Alert> : null}
        {result.loading && !r ? <Loading /> : null}
        {r ? (
          <>
            <p className="hint">
              {r.report === 'prevent_warnings' ? `${day(r.period.from)} to ${day(lastDay)}` : `Weeks from ${day(r.period.from)} to ${day(lastDay)}`} · rows: {r.rowsAre} · columns: {r.columnsAre} · threshold {r.threshold} ·{' '}
              {r.suppressed === 0 ? 'no cell suppressed' : `${r.suppressed} cell${r.suppressed === 1 ? '' : 's'} suppressed`}
            </p>
            <p className="hint" id="stats-csv-hint">
              <Badge>{`<${r.threshold}`}</Badge> suppressed: at least 1 but fewer than {r.threshold}, not published. 0 means none. The CSV is made in your browser from this table (the API answers JSON); suppressed cells are written as {`<${r.threshold}`}.
            </p>
            {r.rows.length === 0 || r.columns.length === 0 ? (
              <p className="empty">Nothing to show for this period.</p>
            ) : (
              <div className="table-wrap">
                <table className="table" aria-labelledby="stats-report-h">
                  <thead>
                    <tr>
                      <th scope="col">{r.rowsAre}</th>
                      {r.columns.map((c) => (
                        <th scope="col" className="num" key={c}>
                          {r.report === 'prevent_warnings' ? humanise(c) : c}
                        </th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {r.rows.map((row, i) => (
                      <tr key={row}>
                        <th scope="row">{rowLabel(r, row)}</th>
                        {(r.cells[i] ?? []).map((cell, j) =>
                          cell === null ? (
                            <td className="num" key={j} data-suppressed="">
                              <span aria-hidden="true">
                                <Badge>{`<${r.threshold}`}</Badge>
                              </span>
                              <span className="visually-hidden">suppressed (fewer than {r.threshold})</span>
                            </td>
                          ) : (
                            <td className="num" key={j}>
                              {cell}
                            </td>
                          ),
                        )}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
            <p className="hint">{r.note}</p>
          </>
        ) : null}
      </section>
    </div>
  );
}
