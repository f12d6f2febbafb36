// Privacy operations for administrators — against docs/api.md ("Subject requests") and
// docs/admin-api.md (§2 reply regions, §5 retention and legal hold): the subject-request queue and
// its actions, retention periods, legal holds and retention reports, the record of processing,
// reply regions and verified domains.
import { useState, type FormEvent, type ReactNode } from 'react';
import { Alert, Badge, Field, Loading, Select, TextArea } from '../components/ui.tsx';
import { api } from '../lib/api.ts';
import { formatDate, formatDateTime } from '../lib/format.ts';
import { errorText, useLoad } from '../lib/hooks.ts';
import { Link } from '../lib/router.tsx';
import { useSession } from '../lib/session.tsx';

/** The success/error notice slot every tab keeps (fixed place, announced). */
function useNotice() {
  const [notice, setNotice] = useState<{ tone: 'success' | 'error'; text: string } | null>(null);
  const view = <div aria-live="polite">{notice ? <Alert tone={notice.tone}>{notice.text}</Alert> : null}</div>;
  return { view, ok: (text: string) => setNotice({ tone: 'success', text }), fail: (err: unknown) => setNotice({ tone: 'error', text: errorText(err) }), clear: () => setNotice(null) };
}

/** Runs one action with a busy flag and the notice; returns whether it succeeded. */
function useAction(notice: ReturnType<typeof useNotice>) {
  const [busy, setBusy] = useState(false);
  async function run(fn: () => Promise<unknown>, text: string | ((r: any) => string), after?: () => void): Promise<boolean> {
    setBusy(true);
    try {
      const r = await fn();
      notice.ok(typeof text === 'string' ? text : text(r));
      after?.();
      return true;
    } catch (err) {
      notice.fail(err);
      return false;
    } finally {
      setBusy(false);
    }
  }
  return { busy, run };
}

// ---------------------------------------------------------------------------------------------
// Subject requests

const KIND_TEXT: Record<string, string> = {
  access: 'Access (copy of data)',
  rectification: 'Rectification',
  erasure: 'Erasure',
  restriction: 'Restriction',
  objection_to_marketing: 'Objection to marketing',
};

const STATUS_TEXT: Record<string, { text: string; tone: 'neutral' | 'good' | 'warn' | 'bad' | 'info' }> = {
  awaiting_identity: { text: 'awaiting identity', tone: 'neutral' },
  open: { text: 'open', tone: 'info' },
  in_progress: { text: 'in progress', tone: 'warn' },
  completed: { text: 'completed', tone: 'good' },
  rejected: { text: 'rejected', tone: 'bad' },
  routed_to_customer: { text: 'routed to customer', tone: 'info' },
  linked: { text: 'linked to an earlier request', tone: 'neutral' },
};

interface SubjectRequest {
  id: string;
  kind: string;
  email: string;
  name: string | null;
  details: string | null;
  lift: boolean;
  status: string;
  openedVia: 'public' | 'administrator' | 'operator';
  tenantId: string | null;
  receivedAt: string;
  verifiedAt: string | null;
  clockStartedOn: string | null;
  pausedDays: number;
  pausedOn: string | null;
  pauseReason: string | null;
  extensionMonths: number;
  extensionReason: string | null;
  dueOn: string | null;
  daysLeft: number | null;
  overdue: boolean;
  duplicateOf: string | null;
  closedAt: string | null;
  outcomeNote: string | null;
  result: Record<string, unknown> | null;
}

interface SubjectRequestDetail extends SubjectRequest {
  events: Array<{ at: string; event: string; actorType: string; actorId: string | null; details: Record<string, unknown> }>;
  routings: Array<{ tenantId: string; tenantName: string; messages: number; routedAt: string; notified: number }>;
}

const REQUESTS_PATH = '/admin/privacy-requests';

/** Whose queue a page shows: an organisation's (its administrators) or the installation's (the operator). */
export interface QueueScope {
  /** The API's queue routes. */
  api: string;
  /** The page's own path. */
  path: string;
  /** The operator acts on every request; an organisation only on those it opened. */
  operator: boolean;
}

const ORGANISATION_QUEUE: QueueScope = { api: '/api/v1/privacy/requests', path: REQUESTS_PATH, operator: false };
/** The installation's queue (/operator/requests; users listed in OPERATOR_EMAILS). */
export const OPERATOR_QUEUE: QueueScope = { api: '/api/v1/operator/requests', path: '/operator/requests', operator: true };

function kindText(r: Pick<SubjectRequest, 'kind' | 'lift'>): string {
  return r.kind === 'restriction' && r.lift ? 'Lift a restriction' : (KIND_TEXT[r.kind] ?? r.kind);
}

function StatusBadge({ status }: { status: string }) {
  const s = STATUS_TEXT[status] ?? { text: status, tone: 'neutral' as const };
  return <Badge tone={s.tone}>{s.text}</Badge>;
}

/** "12 days left", "due today", "3 days overdue" (overdue in red), or a dash when no clock runs. */
function DaysLeft({ r }: { r: Pick<SubjectRequest, 'daysLeft' | 'overdue'> }) {
  if (r.daysLeft === null) return <span className="hint">—</span>;
  if (r.overdue || r.daysLeft < 0) return <Badge tone="bad">{`${Math.abs(r.daysLeft)} day${Math.abs(r.daysLeft) === 1 ? '' : 's'} overdue`}</Badge>;
  if (r.daysLeft === 0) return <Badge tone="warn">due today</Badge>;
  return <span className={r.daysLeft <= 7 ? 'days-soon' : undefined}>{`${r.daysLeft} day${r.daysLeft === 1 ? '' : 's'} left`}</span>;
}

/** /admin/privacy-requests and /admin/privacy-requests/:id. */
export function PrivacyRequestsAdmin({ path, scope = ORGANISATION_QUEUE }: { path: string; scope?: QueueScope }) {
  const id = path.startsWith(`${scope.path}/`) ? decodeURIComponent(path.slice(scope.path.length + 1)) : null;
  return id ? <RequestDetail id={id} scope={scope} /> : <RequestQueue scope={scope} />;
}

const QUEUE_FILTERS = [
  { value: 'active', text: 'Needs work (awaiting identity, open, in progress)', status: 'awaiting_identity,open,in_progress' },
  { value: 'closed', text: 'Closed (completed, rejected, routed, linked)', status: 'completed,rejected,routed_to_customer,linked' },
  { value: 'all', text: 'All', status: '' },
];

function RequestQueue({ scope }: { scope: QueueScope }) {
  const [filter, setFilter] = useState('active');
  const status = QUEUE_FILTERS.find((f) => f.value === filter)?.status ?? '';
  const list = useLoad(() => api<{ requests: SubjectRequest[] }>('GET', `${scope.api}${status ? `?status=${status}` : ''}`).then((r) => r.requests), [status]);
  const notice = useNotice();
  const { busy, run } = useAction(notice);
  const [form, setForm] = useState({ kind: 'access', email: '', name: '', details: '' });

  const open = (e: FormEvent) => {
    e.preventDefault();
    const body = { kind: form.kind, email: form.email.trim(), ...(form.name.trim() ? { name: form.name.trim() } : {}), ...(form.details.trim() ? { details: form.details.trim() } : {}) };
    void run(() => api('POST', '/api/v1/privacy/requests', { body }), (r: { sentTo: string }) => `Request opened. A confirmation code was emailed to ${r.sentTo}; the clock starts once the person enters it.`, () => {
      setForm({ kind: 'access', email: '', name: '', details: '' });
      list.reload();
    });
  };

  const requests = list.value ?? [];
  return (
    <div className="stack">
      {notice.view}
      <section className="card" aria-labelledby="dsr-queue-h">
        <div className="space-between">
          <h2 id="dsr-queue-h">Privacy requests</h2>
          <Select label="Show" value={filter} onChange={(e) => setFilter(e.target.value)}>
            {QUEUE_FILTERS.map((f) => (
              <option key={f.value} value={f.value}>
                {f.text}
              </option>
            ))}
          </Select>
        </div>
        <p className="hint">
          {scope.operator
            ? "Every request received by this installation: Sealpost answers those where it is controller (its own accounts' data) and routes the Content part to the organisations that hold it."
            : 'Requests your organisation opened, and requests routed to it as controller of messages about the person.'}{' '}
          The time limit is one month from when the person confirmed their identity; it can be extended once, with a reason.
        </p>
        {list.error ? <Alert tone="error">{errorText(list.error)}</Alert> : null}
        {list.loading && !list.value ? <Loading /> : null}
        {list.value && requests.length === 0 ? <p className="empty">No requests here.</p> : null}
        {requests.length > 0 ? (
          <div className="table-wrap">
            <table className="table" aria-labelledby="dsr-queue-h">
              <thead>
                <tr>
                  <th scope="col">Kind</th>
                  <th scope="col">Person</th>
                  <th scope="col">Status</th>
                  <th scope="col">Received</th>
                  <th scope="col">Due</th>
                  <th scope="col">Days left</th>
                </tr>
              </thead>
              <tbody>
                {requests.map((r) => (
                  <tr key={r.id} className={r.overdue ? 'row-overdue' : undefined}>
                    <td>
                      <Link to={`${scope.path}/${r.id}`}>{kindText(r)}</Link>
                    </td>
                    <td>{r.email}</td>
                    <td>
                      <StatusBadge status={r.status} /> {!scope.operator && r.openedVia !== 'administrator' ? <span className="hint">routed</span> : null}
                    </td>
                    <td>{formatDate(r.receivedAt)}</td>
                    <td>{r.dueOn ? formatDate(`${r.dueOn}T12:00:00Z`) : '—'}</td>
                    <td>
                      <DaysLeft r={r} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
      {scope.operator ? null : (
      <section className="card" aria-labelledby="dsr-open-h">
        <h2 id="dsr-open-h">Open a request on someone's behalf</h2>
        <p className="hint">For a request that reached you another way (a letter, a phone call). The person is emailed a code to confirm it is them.</p>
        <form className="form" onSubmit={open} noValidate>
          <div className="two-col">
            <Select label="Kind" value={form.kind} onChange={(e) => setForm({ ...form, kind: e.target.value })}>
              {Object.entries(KIND_TEXT).map(([value, text]) => (
                <option key={value} value={value}>
                  {text}
                </option>
              ))}
            </Select>
            <Field label="Their email address" type="email" value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} required />
          </div>
          <Field label="Their name (optional)" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
          <TextArea label={form.kind === 'rectification' ? 'What should be corrected' : 'Details (optional)'} rows={2} value={form.details} onChange={(e) => setForm({ ...form, details: e.target.value })} />
          <button type="submit" className="button button-primary" disabled={busy || !form.email.trim()}>
            Open request
          </button>
        </form>
      </section>
      )}
    </div>
  );
}

function describeDetails(details: Record<string, unknown>): string {
  // Ids of our own organisation say nothing to the reader.
  return Object.entries(details)
    .filter(([k]) => k !== 'tenantId')
    .map(([k, v]) => `${k.replace(/([A-Z])/g, ' $1').toLowerCase()}: ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
    .join(' · ');
}

function RequestDetail({ id, scope }: { id: string; scope: QueueScope }) {
  const { user } = useSession();
  const request = useLoad(() => api<SubjectRequestDetail>('GET', `${scope.api}/${encodeURIComponent(id)}`), [id]);
  const notice = useNotice();
  const { busy, run } = useAction(notice);
  const [extend, setExtend] = useState({ months: '2', reason: '' });
  const [pauseReason, setPauseReason] = useState('');
  const [rejectReason, setRejectReason] = useState('');
  const [note, setNote] = useState('');

  const back = (
    <p>
      <Link to={scope.path}>← All privacy requests</Link>
    </p>
  );
  if (request.error)
    return (
      <div className="stack">
        {back}
        <Alert tone="error">{errorText(request.error)}</Alert>
      </div>
    );
  if (!request.value) return <Loading />;
  const r = request.value;
  // Requests routed to us (opened by the person or the operator) are answered directly by the
  // organisation for its own messages; the API refuses actions on them (403 subject_request_routed).
  const ours = scope.operator || (r.tenantId !== null && r.tenantId === user?.tenantId);
  const active = r.status === 'open' || r.status === 'in_progress';
  const act = (fn: () => Promise<unknown>, text: string | ((x: any) => string), reset?: () => void) =>
    void run(fn, text, () => {
      reset?.();
      request.reload();
    });

  return (
    <div className="stack">
      {back}
      {notice.view}
      <section className="card" aria-labelledby="dsr-h">
        <h2 id="dsr-h">
          {kindText(r)} <StatusBadge status={r.status} />
        </h2>
        <dl className="meta">
          <dt>Person</dt>
          <dd>
            {r.email}
            {r.name ? ` (${r.name})` : ''}
          </dd>
          {r.details ? (
            <>
              <dt>Details</dt>
              <dd>{r.details}</dd>
            </>
          ) : null}
          <dt>Opened</dt>
          <dd>{r.openedVia === 'administrator' ? 'by your organisation' : r.openedVia === 'public' ? 'by the person, and routed to your organisation' : 'by the operator, and routed to your organisation'}</dd>
          <dt>Received</dt>
          <dd>{formatDateTime(r.receivedAt)}</dd>
          <dt>Identity confirmed</dt>
          <dd>{r.verifiedAt ? formatDateTime(r.verifiedAt) : 'not yet (no clock runs until the person enters the emailed code)'}</dd>
          <dt>Due</dt>
          <dd data-testid="due-date">
            {r.dueOn ? formatDate(`${r.dueOn}T12:00:00Z`) : '—'}
            {r.dueOn ? ' · ' : null}
            <DaysLeft r={r} />
          </dd>
          {r.pausedOn ? (
            <>
              <dt>Clock paused</dt>
              <dd data-testid="paused">
                since {formatDate(`${r.pausedOn}T12:00:00Z`)}, waiting for the person: {r.pauseReason} (the due date moves a day for every day paused)
              </dd>
            </>
          ) : null}
          {r.extensionMonths > 0 ? (
            <>
              <dt>Extended</dt>
              <dd>
                by {r.extensionMonths} month{r.extensionMonths === 1 ? '' : 's'}: {r.extensionReason}
              </dd>
            </>
          ) : null}
          {r.duplicateOf ? (
            <>
              <dt>Duplicate of</dt>
              <dd>
                <Link to={`${scope.path}/${r.duplicateOf}`}>the earlier request</Link>
              </dd>
            </>
          ) : null}
          {r.outcomeNote ? (
            <>
              <dt>Outcome</dt>
              <dd>{r.outcomeNote}</dd>
            </>
          ) : null}
          {r.result ? (
            <>
              <dt>Result</dt>
              <dd>{describeDetails(r.result)}</dd>
            </>
          ) : null}
        </dl>
        {r.routings.length > 0 ? (
          <p className="hint">
            Routed to {r.routings.map((x) => `${x.tenantName} (${x.messages} message${x.messages === 1 ? '' : 's'}, ${formatDate(x.routedAt)})`).join(', ')}.
          </p>
        ) : null}
      </section>

      {!ours ? (
        <>
          <Alert tone="info" title="Routed to your organisation">
            This request was routed to your organisation because it holds messages about the person, and you are their controller. Answer the person directly for your own messages.
          </Alert>
          {r.kind === 'erasure' && !r.events.some((e) => e.event === 'customer_erasure_done') ? (
            <section className="card" aria-labelledby="dsr-instruct-h">
              <h2 id="dsr-instruct-h">Erase your messages about the person</h2>
              <p className="hint">If you decide the person has the right to erasure, Sealpost erases, on your instruction, the messages your organisation sent to or received from them: their content is crypto-shredded and cannot be recovered.</p>
              <button type="button" className="button button-danger" disabled={busy} onClick={() => act(() => api('POST', `/api/v1/privacy/requests/${r.id}/instruct-erasure`), 'Your messages about the person were erased.')}>
                Erase our messages about this person
              </button>
            </section>
          ) : null}
        </>
      ) : (
        <section className="card" aria-labelledby="dsr-actions-h">
          <h2 id="dsr-actions-h">Actions</h2>
          {!active ? <p className="hint">{r.status === 'awaiting_identity' ? 'Nothing can be done until the person confirms their identity with the emailed code.' : 'This request is closed.'}</p> : null}
          {active ? (
            <div className="stack">
              <div>
                <button type="button" className="button button-primary" disabled={busy || r.status !== 'open'} onClick={() => act(() => api('POST', `${scope.api}/${r.id}/run`), 'The request was carried out. Its history below says what was done.')}>
                  Carry out the request
                </button>
                <p className="hint">{r.kind === 'rectification' ? 'Rectification: correct the data, then mark it done below with a note.' : 'Access sends the person a one-time download link; erasure deletes and crypto-shreds; restriction and objection take effect at once.'}</p>
              </div>
              {r.pausedOn ? (
                <div>
                  <button type="button" className="button" disabled={busy} onClick={() => act(() => api('POST', `${scope.api}/${r.id}/resume`), 'Clock resumed. The due date moved by the days it was paused.')}>
                    Resume the clock
                  </button>
                  <p className="hint">Resume once the person has answered.</p>
                </div>
              ) : (
                <form
                  className="form"
                  aria-labelledby="dsr-pause-h"
                  onSubmit={(e) => {
                    e.preventDefault();
                    act(() => api('POST', `${scope.api}/${r.id}/pause`, { body: { reason: pauseReason.trim() } }), 'Clock paused. The person was emailed what you need.', () => setPauseReason(''));
                  }}
                  noValidate
                >
                  <h3 id="dsr-pause-h">Ask the person to clarify</h3>
                  <Field label="What you need from the person" value={pauseReason} maxLength={4000} onChange={(e) => setPauseReason(e.target.value)} hint="Sent to the person. The time limit is paused until you resume it." />
                  <button type="submit" className="button" disabled={busy || !pauseReason.trim()}>
                    Pause and ask
                  </button>
                </form>
              )}
              {r.extensionMonths === 0 && !r.pausedOn ? (
                <form
                  className="form"
                  aria-labelledby="dsr-extend-h"
                  onSubmit={(e) => {
                    e.preventDefault();
                    act(() => api('POST', `${scope.api}/${r.id}/extend`, { body: { months: Number(extend.months), reason: extend.reason.trim() } }), 'Time limit extended. The person was emailed the reason and the new date.', () => setExtend({ months: '2', reason: '' }));
                  }}
                  noValidate
                >
                  <h3 id="dsr-extend-h">Extend the time limit</h3>
                  <div className="two-col">
                    <Select label="Extend by" value={extend.months} onChange={(e) => setExtend({ ...extend, months: e.target.value })}>
                      <option value="1">1 month</option>
                      <option value="2">2 months</option>
                    </Select>
                    <Field label="Reason for the extension" value={extend.reason} maxLength={4000} onChange={(e) => setExtend({ ...extend, reason: e.target.value })} hint="Sent to the person. Allowed once, within the first month, for complex or numerous requests." />
                  </div>
                  <button type="submit" className="button" disabled={busy || !extend.reason.trim()}>
                    Extend
                  </button>
                </form>
              ) : null}
              {r.kind === 'rectification' ? (
                <form
                  className="form"
                  aria-labelledby="dsr-complete-h"
                  onSubmit={(e) => {
                    e.preventDefault();
                    act(() => api('POST', `${scope.api}/${r.id}/complete`, { body: { note: note.trim() } }), 'Marked done. The note was sent to the person.', () => setNote(''));
                  }}
                  noValidate
                >
                  <h3 id="dsr-complete-h">Mark the rectification done</h3>
                  <TextArea label="What was corrected" rows={2} maxLength={4000} value={note} onChange={(e) => setNote(e.target.value)} hint="Sent to the person." />
                  <button type="submit" className="button" disabled={busy || !note.trim()}>
                    Mark done
                  </button>
                </form>
              ) : null}
              <form
                className="form"
                aria-labelledby="dsr-reject-h"
                onSubmit={(e) => {
                  e.preventDefault();
                  act(() => api('POST', `${scope.api}/${r.id}/reject`, { body: { reason: rejectReason.trim() } }), 'Request refused. The person was told why and of their right to complain.', () => setRejectReason(''));
                }}
                noValidate
              >
                <h3 id="dsr-reject-h">Refuse the request</h3>
                <TextArea label="Reason for refusing" rows={2} maxLength={4000} value={rejectReason} onChange={(e) => setRejectReason(e.target.value)} hint="Sent to the person, with their right to complain to the supervisory authority." />
                <button type="submit" className="button button-danger" disabled={busy || !rejectReason.trim()}>
                  Refuse
                </button>
              </form>
            </div>
          ) : null}
        </section>
      )}

      <section className="card" aria-labelledby="dsr-history-h">
        <h2 id="dsr-history-h">History</h2>
        <ol className="plain-list timeline">
          {r.events.map((e, i) => (
            <li key={i} className="tl-item">
              <span className="tl-what">{e.event.replace(/_/g, ' ')}</span> <span className="hint">{formatDateTime(e.at)} · {e.actorType === 'user' ? 'an administrator' : e.actorType === 'subject' ? 'the person' : e.actorType}</span>
              {Object.keys(e.details).length > 0 ? <p className="hint">{describeDetails(e.details)}</p> : null}
            </li>
          ))}
        </ol>
      </section>
    </div>
  );
}

// ---------------------------------------------------------------------------------------------
// Retention and legal hold

interface EffectivePolicy {
  key: string;
  category: string;
  period: string | null;
  source: 'tenant' | 'installation' | 'default' | 'fixed';
  defaultPeriod?: string | null;
  description: string;
  settable: boolean;
}

interface LegalHold {
  id: string;
  scope: 'tenant' | 'user' | 'message';
  userId: string | null;
  messageId: string | null;
  reason: string;
  placedBy: string;
  placedAt: string;
  releasedBy: string | null;
  releasedAt: string | null;
  releaseReason: string | null;
}

interface Counts {
  deleted: number;
  shredded: number;
  held: number;
}

interface RetentionReport {
  id: string;
  dryRun: boolean;
  tenantId: string | null;
  triggeredBy: string;
  status: 'running' | 'completed' | 'failed';
  asOf: string;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
  categories: Record<string, Counts>;
  totalRemoved: number;
  totalHeld: number;
}

const POLICY_NAMES: Record<string, string> = {
  content: 'Messages and their content',
  content_expired_grace: 'Content of expired messages',
  system: 'Background jobs',
  audit: 'Audit log',
  smart: 'Smart Data (pre-send check)',
  crm: 'Accounts and settings',
};

const SOURCE_TEXT: Record<EffectivePolicy['source'], string> = {
  tenant: "your organisation's",
  installation: 'installation default',
  default: 'default',
  fixed: 'fixed',
};

/** "P2Y" → "2 years"; anything unusual is shown as is. */
function describePeriod(period: string | null): string {
  if (period === null) return 'kept (no period)';
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$/.exec(period);
  if (!m) return period;
  const parts = [[m[1], 'year'], [m[2], 'month'], [m[3], 'week'], [m[4], 'day']]
    .filter(([n]) => n !== undefined && n !== '0')
    .map(([n, unit]) => `${n} ${unit}${n === '1' ? '' : 's'}`);
  return parts.length > 0 ? parts.join(' ') : period;
}

export function RetentionAdmin() {
  const notice = useNotice();
  const { busy, run } = useAction(notice);
  const policies = useLoad(() => api<{ policies: EffectivePolicy[] }>('GET', '/api/v1/privacy/retention/policies').then((r) => r.policies), []);
  const [showReleased, setShowReleased] = useState(false);
  const holds = useLoad(() => api<{ holds: LegalHold[] }>('GET', `/api/v1/privacy/holds?includeReleased=${showReleased}`).then((r) => r.holds), [showReleased]);
  const reports = useLoad(() => api<{ reports: RetentionReport[] }>('GET', '/api/v1/privacy/retention/reports?limit=10').then((r) => r.reports), []);
  const [drafts, setDrafts] = useState<Record<string, string>>({});
  const [errorsByKey, setErrorsByKey] = useState<Record<string, string>>({});
  const [hold, setHold] = useState({ scope: 'tenant', target: '', reason: '' });
  const [releaseReasons, setReleaseReasons] = useState<Record<string, string>>({});

  async function savePolicy(key: string, period: string | null) {
    setErrorsByKey((e) => ({ ...e, [key]: '' }));
    try {
      const r = await api<{ policies: EffectivePolicy[] }>('PUT', `/api/v1/privacy/retention/policies/${key}`, { body: { period } });
      policies.set(r.policies);
      setDrafts((d) => ({ ...d, [key]: '' }));
      notice.ok(period === 'default' ? `${POLICY_NAMES[key] ?? key}: back to the default.` : `${POLICY_NAMES[key] ?? key}: ${describePeriod(period)}.`);
    } catch (err) {
      // The server's validation message names what is wrong (format, bounds, label expiry).
      setErrorsByKey((e) => ({ ...e, [key]: errorText(err) }));
    }
  }

  const place = (e: FormEvent) => {
    e.preventDefault();
    const body = { scope: hold.scope, reason: hold.reason.trim(), ...(hold.scope === 'user' ? { userId: hold.target.trim() } : hold.scope === 'message' ? { messageId: hold.target.trim() } : {}) };
    void run(() => api('POST', '/api/v1/privacy/holds', { body }), 'Legal hold placed. Retention keeps everything it covers until it is released.', () => {
      setHold({ scope: 'tenant', target: '', reason: '' });
      holds.reload();
    });
  };

  return (
    <div className="stack">
      {notice.view}
      <section className="card" aria-labelledby="ret-policies-h">
        <h2 id="ret-policies-h">Retention periods</h2>
        <p className="hint">
          Periods are ISO-8601 durations: <code>P2Y</code> (2 years), <code>P13M</code>, <code>P30D</code>. "Use default" removes your organisation's own value.
        </p>
        {policies.error ? <Alert tone="error">{errorText(policies.error)}</Alert> : null}
        {policies.loading && !policies.value ? <Loading /> : null}
        <ul className="plain-list">
          {(policies.value ?? []).map((p) => (
            <li key={p.key} className="thread-item">
              <p className="thread-head">
                <strong>{POLICY_NAMES[p.key] ?? p.key}</strong> <Badge>{p.category}</Badge> <span>{describePeriod(p.period)}</span> <span className="hint">({p.period ?? 'keep'}, {SOURCE_TEXT[p.source]}{p.source === 'tenant' && p.defaultPeriod !== undefined ? `; default ${describePeriod(p.defaultPeriod)}` : ''})</span>
              </p>
              <p className="hint">{p.description}</p>
              {p.settable ? (
                <form
                  className="inline-form"
                  onSubmit={(e) => {
                    e.preventDefault();
                    const v = (drafts[p.key] ?? '').trim();
                    void savePolicy(p.key, v.toLowerCase() === 'keep' ? null : v.toUpperCase());
                  }}
                  noValidate
                >
                  <Field label={`New period for ${(POLICY_NAMES[p.key] ?? p.key).toLowerCase()}`} value={drafts[p.key] ?? ''} placeholder={p.key === 'content' ? 'e.g. P2Y, or keep' : 'e.g. P2Y'} onChange={(e) => setDrafts({ ...drafts, [p.key]: e.target.value })} error={errorsByKey[p.key] || null} />
                  <button type="submit" className="button button-small" disabled={!(drafts[p.key] ?? '').trim()}>
                    Save<span className="visually-hidden"> {POLICY_NAMES[p.key] ?? p.key}</span>
                  </button>
                  {p.source === 'tenant' ? (
                    <button type="button" className="button button-small button-quiet" onClick={() => void savePolicy(p.key, 'default')}>
                      Use default<span className="visually-hidden"> for {POLICY_NAMES[p.key] ?? p.key}</span>
                    </button>
                  ) : null}
                </form>
              ) : (
                <p className="hint">{p.source === 'fixed' ? 'Cannot be changed.' : 'Set by the operator for the whole installation.'}</p>
              )}
            </li>
          ))}
        </ul>
      </section>

      <section className="card" aria-labelledby="ret-holds-h">
        <div className="space-between">
          <h2 id="ret-holds-h">Legal holds</h2>
          <label className="check">
            <input type="checkbox" checked={showReleased} onChange={(e) => setShowReleased(e.target.checked)} /> Show released holds
          </label>
        </div>
        <p className="hint">A hold suspends deletion: retention keeps everything it covers (the whole organisation, one user's messages, or one message) until it is released.</p>
        {holds.error ? <Alert tone="error">{errorText(holds.error)}</Alert> : null}
        {holds.value && holds.value.length === 0 ? <p className="empty">No {showReleased ? '' : 'active '}legal holds.</p> : null}
        <ul className="plain-list">
          {(holds.value ?? []).map((h) => {
            const what = h.scope === 'tenant' ? 'Whole organisation' : h.scope === 'user' ? `User ${h.userId}` : `Message ${h.messageId}`;
            return (
              <li key={h.id} className="thread-item" data-hold={h.id}>
                <p className="thread-head">
                  <strong>{what}</strong> {h.releasedAt ? <Badge>released {formatDate(h.releasedAt)}</Badge> : <Badge tone="warn">active</Badge>} <span className="hint">placed {formatDateTime(h.placedAt)}</span>
                </p>
                <p>{h.reason}</p>
                {h.releasedAt ? (
                  <p className="hint">Released: {h.releaseReason}</p>
                ) : (
                  <form
                    className="inline-form"
                    onSubmit={(e) => {
                      e.preventDefault();
                      void run(() => api('POST', `/api/v1/privacy/holds/${h.id}/release`, { body: { reason: (releaseReasons[h.id] ?? '').trim() } }), 'Legal hold released. Retention applies again to what it covered.', () => holds.reload());
                    }}
                    noValidate
                  >
                    <Field label={`Reason for releasing the hold on ${what.toLowerCase()}`} value={releaseReasons[h.id] ?? ''} maxLength={1000} onChange={(e) => setReleaseReasons({ ...releaseReasons, [h.id]: e.target.value })} />
                    <button type="submit" className="button button-small" disabled={busy || !(releaseReasons[h.id] ?? '').trim()}>
                      Release<span className="visually-hidden"> hold on {what}</span>
                    </button>
                  </form>
                )}
              </li>
            );
          })}
        </ul>
        <form className="form" onSubmit={place} aria-labelledby="ret-place-h" noValidate>
          <h3 id="ret-place-h">Place a legal hold</h3>
          <div className="two-col">
            <Select label="Hold" value={hold.scope} onChange={(e) => setHold({ ...hold, scope: e.target.value, target: '' })}>
              <option value="tenant">The whole organisation</option>
              <option value="user">One user</option>
              <option value="message">One message</option>
            </Select>
            {hold.scope !== 'tenant' ? <Field label={hold.scope === 'user' ? 'User id' : 'Message id'} value={hold.target} onChange={(e) => setHold({ ...hold, target: e.target.value })} hint={hold.scope === 'user' ? 'From the Users tab or the audit log.' : 'From the message address (/sent/<id>) or the audit log.'} /> : null}
          </div>
          <Field label="Reason for the hold" value={hold.reason} maxLength={1000} onChange={(e) => setHold({ ...hold, reason: e.target.value })} hint="Kept with the hold (for example the matter or case reference)." />
          <button type="submit" className="button button-primary" disabled={busy || !hold.reason.trim() || (hold.scope !== 'tenant' && !hold.target.trim())}>
            Place hold
          </button>
        </form>
      </section>

      <section className="card" aria-labelledby="ret-reports-h">
        <div className="space-between">
          <h2 id="ret-reports-h">Retention reports</h2>
          <button type="button" className="button" disabled={busy} onClick={() => void run(() => api('POST', '/api/v1/privacy/retention/runs', { body: { dryRun: true } }), (r: RetentionReport) => `Dry run: ${r.totalRemoved} would be removed, ${r.totalHeld} kept back by legal holds. Nothing was changed.`, () => reports.reload())}>
            Dry run now
          </button>
        </div>
        <p className="hint">What each run removed (counts only, never content). A dry run reports what would be removed without changing anything.</p>
        {reports.error ? <Alert tone="error">{errorText(reports.error)}</Alert> : null}
        {reports.value && reports.value.length === 0 ? <p className="empty">No retention runs yet.</p> : null}
        {reports.value && reports.value.length > 0 ? (
          <div className="table-wrap">
            <table className="table" aria-labelledby="ret-reports-h">
              <thead>
                <tr>
                  <th scope="col">Run</th>
                  <th scope="col">Status</th>
                  <th scope="col">Removed per category</th>
                  <th scope="col">Removed</th>
                  <th scope="col">Held back</th>
                </tr>
              </thead>
              <tbody>
                {reports.value.map((rep) => (
                  <tr key={rep.id}>
                    <td>
                      {formatDateTime(rep.startedAt)} {rep.dryRun ? <Badge tone="info">dry run</Badge> : null} <span className="hint">{rep.triggeredBy}{rep.tenantId === null ? ', installation-wide' : ''}</span>
                    </td>
                    <td>
                      <Badge tone={rep.status === 'completed' ? 'good' : rep.status === 'failed' ? 'bad' : 'warn'}>{rep.status}</Badge>
                    </td>
                    <td>{categoryCounts(rep.categories)}</td>
                    <td>{rep.totalRemoved}</td>
                    <td>{rep.totalHeld}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
    </div>
  );
}

function categoryCounts(categories: Record<string, Counts>): ReactNode {
  const entries = Object.entries(categories).filter(([, c]) => c.deleted + c.shredded + c.held > 0);
  if (entries.length === 0) return <span className="hint">nothing</span>;
  return entries.map(([cat, c]) => `${cat}: ${c.deleted} deleted, ${c.shredded} shredded${c.held ? `, ${c.held} held` : ''}`).join('; ');
}

// ---------------------------------------------------------------------------------------------
// Organisation: record of processing, reply regions, verified domains

interface ReplyResidency {
  default: string;
  allowed: string[];
  served: string[];
}

interface DomainView {
  id: string;
  domain: string;
  createdAt: string;
  lastCheckedAt: string | null;
  lastError: string | null;
  verifiedAt: string | null;
  record: { name: string; type: 'TXT'; value: string };
}

/** The privacy parts of the Organisation tab, shown under the organisation settings. */
export function PrivacyOrgAdmin() {
  return (
    <div className="stack">
      <RecordOfProcessing />
      <ReplyRegions />
      <Domains />
    </div>
  );
}

function RecordOfProcessing() {
  return (
    <section className="card" aria-labelledby="ropa-h">
      <h2 id="ropa-h">Record of processing</h2>
      <p className="hint">GDPR Article 30: what Sealpost processes for your organisation as processor, and as controller, with gaps flagged. Generated from the processing register when opened.</p>
      <div className="row">
        <a className="button button-small" href="/api/v1/privacy/ropa?format=html" target="_blank" rel="noopener">
          Open as a page
        </a>
        <a className="button button-small" href="/api/v1/privacy/ropa?format=csv" download>
          Download CSV
        </a>
        <a className="button button-small" href="/api/v1/privacy/ropa?format=json" target="_blank" rel="noopener">
          JSON
        </a>
      </div>
    </section>
  );
}

const REGION_NAMES: Record<string, string> = { uk: 'United Kingdom', eea: 'European Economic Area', us: 'United States' };

function ReplyRegions() {
  const tenant = useLoad(() => api<{ replyResidency?: ReplyResidency }>('GET', '/api/v1/tenant').then((t) => t.replyResidency ?? null), []);
  const notice = useNotice();
  const { busy, run } = useAction(notice);
  const [draft, setDraft] = useState<string[] | null>(null);
  if (tenant.error) return <Alert tone="error">{errorText(tenant.error)}</Alert>;
  if (tenant.value === undefined) return <Loading />;
  const res = tenant.value;
  if (!res) return null;
  const others = res.served.filter((r) => r !== res.default);
  const chosen = draft ?? res.allowed;
  return (
    <section className="card" aria-labelledby="regions-h">
      <h2 id="regions-h">Where recipients' replies are stored</h2>
      {notice.view}
      <p className="hint">
        Replies from external recipients are stored in your home region ({REGION_NAMES[res.default] ?? res.default.toUpperCase()}) unless you let them choose another region this installation serves. Replies already stored stay where they are.
      </p>
      {others.length === 0 ? (
        <p className="hint">This installation serves only your home region.</p>
      ) : (
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void run(() => api('PUT', '/api/v1/tenant/reply-regions', { body: { allowed: chosen } }), chosen.length ? `Recipients may now also store replies in: ${chosen.map((r) => r.toUpperCase()).join(', ')}.` : 'Every reply is stored in your home region.', () => {
              setDraft(null);
              tenant.reload();
            });
          }}
          noValidate
        >
          <fieldset className="field">
            <legend>Recipients may also choose</legend>
            {others.map((region) => (
              <label key={region} className="check">
                <input type="checkbox" checked={chosen.includes(region)} onChange={(e) => setDraft(e.target.checked ? [...chosen, region] : chosen.filter((x) => x !== region))} /> {REGION_NAMES[region] ?? region.toUpperCase()}
              </label>
            ))}
          </fieldset>
          <button type="submit" className="button button-small" disabled={busy || draft === null}>
            Save regions
          </button>
        </form>
      )}
    </section>
  );
}

function Domains() {
  const domains = useLoad(() => api<{ domains: DomainView[] }>('GET', '/api/v1/tenant/domains').then((r) => r.domains), []);
  const notice = useNotice();
  const { busy, run } = useAction(notice);
  const [name, setName] = useState('');
  return (
    <section className="card" aria-labelledby="domains-h">
      <h2 id="domains-h">Verified domains</h2>
      {notice.view}
      <p className="hint">Prove your organisation owns a domain by publishing a TXT record; free accounts on a verified domain are then offered to move into your organisation.</p>
      {domains.error ? <Alert tone="error">{errorText(domains.error)}</Alert> : null}
      <ul className="plain-list">
        {(domains.value ?? []).map((d) => (
          <li key={d.id} className="thread-item">
            <p className="thread-head">
              <strong>{d.domain}</strong> {d.verifiedAt ? <Badge tone="good">verified {formatDate(d.verifiedAt)}</Badge> : <Badge tone="warn">not verified</Badge>}
              {d.lastCheckedAt ? <span className="hint">checked {formatDateTime(d.lastCheckedAt)}</span> : null}
            </p>
            {d.verifiedAt ? null : (
              <>
                <p className="hint">Publish this TXT record, then verify:</p>
                <code className="copyable">{`${d.record.name}. ${d.record.type} "${d.record.value}"`}</code>
                {d.lastError ? <p className="field-error">{d.lastError}</p> : null}
              </>
            )}
            <div className="row">
              <button type="button" className="button button-small" disabled={busy} onClick={() => void run(() => api('POST', `/api/v1/tenant/domains/${encodeURIComponent(d.domain)}/verify`), (r: { verified: boolean; offers: number; domain: DomainView }) => (r.verified ? `${d.domain} is verified.${r.offers ? ` ${r.offers} free account${r.offers === 1 ? ' was' : 's were'} offered a move into your organisation.` : ''}` : `${d.domain} is not verified yet: ${r.domain.lastError ?? 'the record was not found'}.`), () => domains.reload())}>
                {d.verifiedAt ? 'Check again' : 'Verify'}
                <span className="visually-hidden"> {d.domain}</span>
              </button>
              <button type="button" className="button button-small button-quiet" disabled={busy} onClick={() => void run(() => api('DELETE', `/api/v1/tenant/domains/${encodeURIComponent(d.domain)}`), `${d.domain} was released.`, () => domains.reload())}>
                Remove<span className="visually-hidden"> {d.domain}</span>
              </button>
            </div>
          </li>
        ))}
      </ul>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void run(() => api('POST', '/api/v1/tenant/domains', { body: { domain: name.trim() } }), `${name.trim()} added. Publish its TXT record, then verify.`, () => {
            setName('');
            domains.reload();
          });
        }}
        noValidate
      >
        <Field label="Domain" value={name} placeholder="example.com" onChange={(e) => setName(e.target.value)} />
        <button type="submit" className="button button-small" disabled={busy || !name.trim()}>
          Add domain
        </button>
      </form>
    </section>
  );
}
