// /operator/disclosures: the installation operator's disclosure log (issue #6 §6; API
// /api/v1/operator/disclosures, docs/disclosures-statistics-domains.md). Who asked, on what legal
// basis, for what; the decision and who made it; what was disclosed (described, never the data);
// notices and gag orders. Only users listed in OPERATOR_EMAILS may open it: everyone else gets
// the API's 'operator_only' refusal, shown as "not available".
import { useState, type FormEvent } from 'react';
import { Alert, Badge, CheckboxGroup, Field, Loading, SaveForm, Select, TextArea } from '../components/ui.tsx';
import { api, ApiError } from '../lib/api.ts';
import { formatDate } from '../lib/format.ts';
import { errorText, useLoad } from '../lib/hooks.ts';

// The server's vocabulary (src/privacy/disclosures/disclosure.model.ts); the web app imports no server code.
const KINDS = [
  ['law_enforcement', 'Law enforcement'],
  ['court', 'Court'],
  ['regulator', 'Regulator'],
  ['government', 'Government'],
  ['other_third_party', 'Other third party'],
] as const;
const STATUSES = ['received', 'approved', 'refused', 'disclosed', 'challenged'] as const;
type Status = (typeof STATUSES)[number];
const NEXT: Record<Status, Status[]> = { received: ['approved', 'refused', 'challenged'], approved: ['disclosed', 'refused', 'challenged'], challenged: ['approved', 'refused'], refused: ['challenged'], disclosed: [] };
const CATEGORIES = ['content', 'crm', 'smart', 'system'] as const;

interface Disclosure {
  reference: string;
  requesterKind: string;
  authority: string;
  jurisdiction: string | null;
  legalBasis: string;
  tenantId: string | null;
  requested: string;
  requestedCategories: string[];
  status: Status;
  disclosedCategories: string[];
  disclosedDescription: string | null;
  decisionReason: string | null;
  approvedBy: string | null;
  receivedAt: string;
  decidedAt: string | null;
  disclosedAt: string | null;
  gag: boolean;
  gagUntil: string | null;
}

interface Report {
  period: { name: string };
  rows: string[];
  columns: string[];
  cells: Array<Array<number | null>>;
  threshold: number;
  suppressed: number;
}

const kindText = (k: string) => KINDS.find(([v]) => v === k)?.[1] ?? k;
const tone = (s: Status) => (s === 'disclosed' ? 'warn' : s === 'refused' ? 'good' : s === 'challenged' ? 'info' : 'neutral');

const EMPTY_NEW = { requesterKind: 'law_enforcement', authority: '', jurisdiction: '', legalBasis: '', requested: '', tenantId: '', requestedCategories: [] as string[], gag: false, gagUntil: '' };

function RecordForm({ onRecorded }: { onRecorded(d: Disclosure): void }) {
  const [f, setF] = useState(EMPTY_NEW);
  const save = async () => {
    const body = {
      requesterKind: f.requesterKind,
      authority: f.authority,
      legalBasis: f.legalBasis,
      requested: f.requested,
      requestedCategories: f.requestedCategories,
      ...(f.jurisdiction.trim() ? { jurisdiction: f.jurisdiction } : {}),
      ...(f.tenantId.trim() ? { tenantId: f.tenantId.trim() } : {}),
      ...(f.gag ? { gag: true, ...(f.gagUntil ? { gagUntil: f.gagUntil } : {}) } : {}),
    };
    const { disclosure } = await api<{ disclosure: Disclosure }>('POST', '/api/v1/operator/disclosures', { body });
    setF(EMPTY_NEW);
    onRecorded(disclosure);
  };
  return (
    <section className="card" aria-labelledby="dr-new-h">
      <h2 id="dr-new-h">Record a request</h2>
      <SaveForm label="Record a request" button="Record request" errorTitle="Not recorded" save={save}>
        <Select label="Who asked" value={f.requesterKind} onChange={(e) => setF({ ...f, requesterKind: e.target.value })}>
          {KINDS.map(([v, t]) => (
            <option key={v} value={v}>
              {t}
            </option>
          ))}
        </Select>
        <Field label="Authority" value={f.authority} onChange={(e) => setF({ ...f, authority: e.target.value })} hint="The body that asked, e.g. Metropolitan Police Service." />
        <Field label="Jurisdiction (optional)" value={f.jurisdiction} onChange={(e) => setF({ ...f, jurisdiction: e.target.value })} />
        <Field label="Legal basis cited" value={f.legalBasis} onChange={(e) => setF({ ...f, legalBasis: e.target.value })} hint="The law or order they rely on, e.g. IPA 2016 s.61." />
        <TextArea label="What was requested" value={f.requested} onChange={(e) => setF({ ...f, requested: e.target.value })} rows={3} />
        <CheckboxGroup options={CATEGORIES} legend="Data categories requested" value={f.requestedCategories} onChange={(v) => setF({ ...f, requestedCategories: v })} />
        <Field label="Customer concerned (tenant id, optional)" value={f.tenantId} onChange={(e) => setF({ ...f, tenantId: e.target.value })} />
        <label className="check">
          <input type="checkbox" checked={f.gag} onChange={(e) => setF({ ...f, gag: e.target.checked })} /> A non-disclosure order (gag) forbids telling the customer or the person
        </label>
        {f.gag ? <Field label="Gag until (optional)" type="date" value={f.gagUntil} onChange={(e) => setF({ ...f, gagUntil: e.target.value })} /> : null}
      </SaveForm>
    </section>
  );
}

function DecisionForm({ d, onSaved }: { d: Disclosure; onSaved(d: Disclosure): void }) {
  const next = NEXT[d.status];
  const [status, setStatus] = useState<Status>(next[0] ?? d.status);
  const [approvedBy, setApprovedBy] = useState('');
  const [reason, setReason] = useState('');
  const [categories, setCategories] = useState<string[]>([]);
  const [description, setDescription] = useState('');
  if (next.length === 0) return <p className="hint">A disclosure is final; corrections go through the CLI (`sealpost privacy disclosures update`).</p>;
  const save = async () => {
    const body =
      status === 'disclosed'
        ? { status, disclosedCategories: categories, disclosedDescription: description }
        : { status, ...(approvedBy.trim() ? { approvedBy } : {}), ...(reason.trim() ? { decisionReason: reason } : {}) };
    const { disclosure } = await api<{ disclosure: Disclosure }>('PATCH', `/api/v1/operator/disclosures/${encodeURIComponent(d.reference)}`, { body });
    onSaved(disclosure);
  };
  return (
    <SaveForm label={`Decision on ${d.reference}`} button="Save" save={save}>
      <Select label="New status" value={status} onChange={(e) => setStatus(e.target.value as Status)}>
        {next.map((s) => (
          <option key={s} value={s}>
            {s}
          </option>
        ))}
      </Select>
      {status === 'disclosed' ? (
        <>
          <CheckboxGroup options={CATEGORIES} legend="Data categories disclosed" value={categories} onChange={setCategories} />
          <TextArea label="What was disclosed" value={description} onChange={(e) => setDescription(e.target.value)} rows={2} hint="Describe it (e.g. one account record); never paste the data itself." />
        </>
      ) : (
        <>
          <Field label="Decided by" value={approvedBy} onChange={(e) => setApprovedBy(e.target.value)} hint="Who approved or refused it (needed for both)." />
          <TextArea label="Reason" value={reason} onChange={(e) => setReason(e.target.value)} rows={2} />
        </>
      )}
    </SaveForm>
  );
}

function ReportCard() {
  const now = new Date();
  const [period, setPeriod] = useState(`${now.getUTCFullYear()}-H${now.getUTCMonth() < 6 ? 1 : 2}`);
  const [threshold, setThreshold] = useState('10');
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      setReport(await api<Report>('GET', `/api/v1/operator/disclosures/report/${encodeURIComponent(period.trim())}?threshold=${encodeURIComponent(threshold.trim())}`));
    } catch (err) {
      setReport(null);
      setError(errorText(err));
    }
  };
  return (
    <section className="card" aria-labelledby="dr-report-h">
      <h2 id="dr-report-h">Transparency report</h2>
      <p className="hint">Requests received in a half-year by authority and current status. Counts from 1 up to the threshold are suppressed, and no totals are given.</p>
      <form className="inline-form" onSubmit={submit} noValidate>
        <Field label="Half-year" value={period} onChange={(e) => setPeriod(e.target.value)} hint="e.g. 2026-H1 (January–June) or 2026-H2." />
        <Field label="Threshold" type="number" min={2} max={1000} value={threshold} onChange={(e) => setThreshold(e.target.value)} />
        <button type="submit" className="button">
          Show report
        </button>
      </form>
      {error ? <Alert tone="error">{error}</Alert> : null}
      {report ? (
        report.rows.length === 0 ? (
          <p className="empty">No requests received in {report.period.name}.</p>
        ) : (
          <div className="table-wrap">
            <table className="table" aria-label={`Transparency report ${report.period.name}`}>
              <thead>
                <tr>
                  <th scope="col">Authority</th>
                  {report.columns.map((c) => (
                    <th scope="col" className="num" key={c}>
                      {c}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {report.rows.map((row, i) => (
                  <tr key={row}>
                    <th scope="row">{row}</th>
                    {report.columns.map((c, j) => (
                      <td className="num" key={c}>
                        {report.cells[i]?.[j] === null ? <Badge>{`<${report.threshold}`}</Badge> : report.cells[i]?.[j]}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : null}
    </section>
  );
}

/** /operator/disclosures (the installation's operator): the Disclosure log tab of the operator's page. */
export function DisclosureLog() {
  const [status, setStatus] = useState<Status | ''>('');
  const [selected, setSelected] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const list = useLoad(() => api<{ disclosures: Disclosure[] }>('GET', `/api/v1/operator/disclosures${status ? `?status=${status}` : ''}`), [status]);
  if (list.error instanceof ApiError && list.error.code === 'operator_only') {
    return (
      <div className="card">
        <p>The disclosure log is for the installation's operator. Ask whoever runs this Sealpost installation.</p>
      </div>
    );
  }
  const entries = list.value?.disclosures ?? [];
  const current = entries.find((d) => d.reference === selected) ?? null;
  const saved = (d: Disclosure, what: string) => {
    setNotice(`${d.reference} ${what}.`);
    setSelected(d.reference);
    list.reload();
  };
  return (
    <div className="stack">
      <p className="hint">Requests from law enforcement, courts, regulators and other third parties: who asked, the legal basis, the decision and who made it, and what was disclosed. Every change is recorded in the installation's audit log, never in a customer's own.</p>
      <div role="status" aria-live="polite">
        {notice ? <Alert tone="success">{notice}</Alert> : null}
      </div>
      <section className="card" aria-labelledby="dr-list-h" aria-busy={list.loading}>
        <div className="space-between row">
          <h2 id="dr-list-h">Requests</h2>
          <a className="button button-small" href={`/api/v1/operator/disclosures.csv${status ? `?status=${status}` : ''}`} download>
            Download CSV
          </a>
        </div>
        <Select label="Status" value={status} onChange={(e) => setStatus(e.target.value as Status | '')}>
          <option value="">Any</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </Select>
        {list.error ? <Alert tone="error">{errorText(list.error)}</Alert> : null}
        {list.loading && !list.value ? <Loading /> : null}
        {list.value && entries.length === 0 ? <p className="empty">No requests recorded.</p> : null}
        {entries.length > 0 ? (
          <div className="table-wrap">
            <table className="table" aria-labelledby="dr-list-h">
              <thead>
                <tr>
                  <th scope="col">Reference</th>
                  <th scope="col">Received</th>
                  <th scope="col">Who asked</th>
                  <th scope="col">Legal basis</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((d) => (
                  <tr key={d.reference} aria-selected={d.reference === selected}>
                    <th scope="row">
                      <button type="button" className="linklike" onClick={() => setSelected(d.reference)}>
                        {d.reference}
                      </button>
                    </th>
                    <td>{formatDate(d.receivedAt)}</td>
                    <td>
                      {d.authority} ({kindText(d.requesterKind)})
                    </td>
                    <td>{d.legalBasis}</td>
                    <td>
                      <Badge tone={tone(d.status)}>{d.status}</Badge> {d.gag ? <Badge tone="bad">gag{d.gagUntil ? ` until ${formatDate(d.gagUntil)}` : ''}</Badge> : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
      {current ? (
        <section className="card" aria-labelledby="dr-one-h">
          <h2 id="dr-one-h">{current.reference}</h2>
          <dl className="meta">
            <dt>Requested</dt>
            <dd>
              {current.requested}
              {current.requestedCategories.length ? ` (${current.requestedCategories.join(', ')})` : ''}
            </dd>
            {current.jurisdiction ? (
              <>
                <dt>Jurisdiction</dt>
                <dd>{current.jurisdiction}</dd>
              </>
            ) : null}
            {current.approvedBy ? (
              <>
                <dt>Decided by</dt>
                <dd>
                  {current.approvedBy}
                  {current.decidedAt ? ` on ${formatDate(current.decidedAt)}` : ''}
                  {current.decisionReason ? `: ${current.decisionReason}` : ''}
                </dd>
              </>
            ) : null}
            {current.status === 'disclosed' ? (
              <>
                <dt>Disclosed</dt>
                <dd>
                  {current.disclosedDescription} ({current.disclosedCategories.join(', ')}){current.disclosedAt ? ` on ${formatDate(current.disclosedAt)}` : ''}
                </dd>
              </>
            ) : null}
          </dl>
          <DecisionForm key={`${current.reference}-${current.status}`} d={current} onSaved={(d) => saved(d, `is now ${d.status}`)} />
        </section>
      ) : null}
      <RecordForm onRecorded={(d) => saved(d, 'recorded')} />
      <ReportCard />
    </div>
  );
}
