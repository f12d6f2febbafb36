// Labels and their policies, organisation settings (region, notification branding) and the
// organisation's audit log with filters and CSV export — against docs/admin-api.md.
import { useState, type FormEvent } from 'react';
import { Alert, Badge, Field, Loading, Select } from '../components/ui.tsx';
import { api } from '../lib/api.ts';
import { describeExpiry, formatDateTime } from '../lib/format.ts';
import { errorText, useLoad } from '../lib/hooks.ts';
import type { Label } from '../lib/types.ts';
import { labelImplications } from './compose.tsx';

type ManagedLabel = Label & { isDefault?: boolean; retiredAt: string | null; createdAt: string; messageCount: number };

function useNotice() {
  const [notice, setNotice] = useState<{ tone: 'success' | 'error'; text: string } | null>(null);
  const view = <div aria-live="polite">{notice ? <Alert tone={notice.tone}>{notice.text}</Alert> : null}</div>;
  return { view, ok: (text: string) => setNotice({ tone: 'success', text }), fail: (err: unknown) => setNotice({ tone: 'error', text: errorText(err) }) };
}

export function LabelsAdmin() {
  const labels = useLoad(() => api<{ labels: ManagedLabel[] }>('GET', '/api/v1/labels/all').then((r) => r.labels), []);
  const notice = useNotice();
  const [form, setForm] = useState({ name: '', rank: '1', description: '', defaultExpiryDays: '', noForward: false, noDownload: false, watermark: false, hideSubject: false, disclaimer: '' });
  const [busy, setBusy] = useState(false);

  async function run(fn: () => Promise<unknown>, text: string) {
    setBusy(true);
    try {
      await fn();
      notice.ok(text);
      labels.reload();
    } catch (err) {
      notice.fail(err);
    } finally {
      setBusy(false);
    }
  }

  const create = (e: FormEvent) => {
    e.preventDefault();
    const body = {
      name: form.name.trim(),
      rank: Number(form.rank),
      description: form.description.trim(),
      defaultExpiryDays: form.defaultExpiryDays ? Number(form.defaultExpiryDays) : null,
      noForward: form.noForward,
      noDownload: form.noDownload,
      watermark: form.watermark,
      hideSubject: form.hideSubject,
      disclaimer: form.disclaimer.trim() || null,
    };
    void run(() => api('POST', '/api/v1/labels', { body }), `Label "${body.name}" created.`);
  };

  const flag = (key: 'noForward' | 'noDownload' | 'watermark' | 'hideSubject', text: string) => (
    <label className="check">
      <input type="checkbox" checked={form[key]} onChange={(e) => setForm({ ...form, [key]: e.target.checked })} /> {text}
    </label>
  );

  return (
    <div className="stack">
      {notice.view}
      <section className="card" aria-labelledby="labels-h">
        <h2 id="labels-h">Classification labels</h2>
        {labels.error ? <Alert tone="error">{errorText(labels.error)}</Alert> : null}
        {labels.loading && !labels.value ? <Loading /> : null}
        <ul className="plain-list">
          {(labels.value ?? []).map((l) => (
            <li key={l.id} className="thread-item">
              <p className="thread-head">
                <strong>{l.name}</strong> <span className="hint">rank {l.rank}</span> {l.isDefault ? <Badge tone="info">default</Badge> : null} {l.retiredAt ? <Badge>retired</Badge> : null}
                <span className="hint">{l.messageCount} message{l.messageCount === 1 ? '' : 's'}</span>
              </p>
              {l.description ? <p className="hint">{l.description}</p> : null}
              <p className="hint">{labelImplications(l).join(' · ')}</p>
              <div className="row">
                {l.retiredAt ? (
                  <button type="button" className="button button-small" disabled={busy} onClick={() => void run(() => api('POST', `/api/v1/labels/${l.id}/restore`), `"${l.name}" is available again.`)}>
                    Restore<span className="visually-hidden"> {l.name}</span>
                  </button>
                ) : (
                  <button type="button" className="button button-small" disabled={busy || l.isDefault} onClick={() => void run(() => api('POST', `/api/v1/labels/${l.id}/retire`), `"${l.name}" retired; messages sent under it keep its policy.`)}>
                    Retire<span className="visually-hidden"> {l.name}</span>
                  </button>
                )}
              </div>
            </li>
          ))}
        </ul>
      </section>
      <section className="card" aria-labelledby="new-label-h">
        <h2 id="new-label-h">New label</h2>
        <form className="form" onSubmit={create} noValidate>
          <div className="two-col">
            <Field label="Name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} required />
            <Field label="Rank (0 = least sensitive)" type="number" min={0} value={form.rank} onChange={(e) => setForm({ ...form, rank: e.target.value })} />
          </div>
          <Field label="Description" value={form.description} onChange={(e) => setForm({ ...form, description: e.target.value })} />
          <Field label="Default expiry in days (empty: none)" type="number" min={1} value={form.defaultExpiryDays} onChange={(e) => setForm({ ...form, defaultExpiryDays: e.target.value })} hint={describeExpiry(form.defaultExpiryDays ? Number(form.defaultExpiryDays) : null)} />
          <fieldset className="field">
            <legend>Restrictions</legend>
            {flag('noForward', 'No forwarding')}
            {flag('noDownload', 'No download (view only)')}
            {flag('watermark', 'Watermark')}
            {flag('hideSubject', 'Hide subject in notifications')}
          </fieldset>
          <Field label="Disclaimer (optional)" value={form.disclaimer} onChange={(e) => setForm({ ...form, disclaimer: e.target.value })} />
          <button type="submit" className="button button-primary" disabled={busy || !form.name.trim()}>
            Create label
          </button>
        </form>
      </section>
    </div>
  );
}

interface Tenant {
  id: string;
  name: string;
  region: string;
  branding: { displayName: string | null; logo: string | null; accentColor: string | null; footerText: string | null; updatedAt: string | null };
}

export function SettingsAdmin() {
  const tenant = useLoad(() => api<Tenant>('GET', '/api/v1/tenant'), []);
  const notice = useNotice();
  const [draft, setDraft] = useState<Partial<Tenant['branding']>>({});
  const [busy, setBusy] = useState(false);
  if (tenant.error) return <Alert tone="error">{errorText(tenant.error)}</Alert>;
  if (!tenant.value) return <Loading />;
  const t = tenant.value;
  const b = { ...t.branding, ...draft };

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      await api('PATCH', '/api/v1/tenant/branding', { body: draft });
      notice.ok('Branding saved. Notification emails and recipient pages use it from now on.');
      setDraft({});
      tenant.reload();
    } catch (err) {
      notice.fail(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="stack">
      {notice.view}
      <section className="card" aria-labelledby="org-h">
        <h2 id="org-h">Organisation</h2>
        <dl className="meta">
          <dt>Name</dt>
          <dd>{t.name}</dd>
          <dt>Region</dt>
          <dd>
            {t.region.toUpperCase()} <span className="hint">Where messages and keys are stored; set when the organisation was created.</span>
          </dd>
        </dl>
      </section>
      <section className="card" aria-labelledby="brand-h">
        <h2 id="brand-h">Notification branding</h2>
        <form className="form" onSubmit={save} noValidate>
          <Field label="Display name" value={b.displayName ?? ''} maxLength={100} onChange={(e) => setDraft({ ...draft, displayName: e.target.value || null })} hint="Shown as the sender organisation in emails and on recipient pages." />
          <Field label="Accent colour" type="color" value={b.accentColor ?? '#1f4e79'} onChange={(e) => setDraft({ ...draft, accentColor: e.target.value })} />
          <Field
            label="Logo (PNG, JPEG, GIF or WebP, at most 64 KB)"
            type="file"
            accept="image/png,image/jpeg,image/gif,image/webp"
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (!file) return;
              const reader = new FileReader();
              reader.onload = () => setDraft((d) => ({ ...d, logo: String(reader.result) }));
              reader.readAsDataURL(file);
            }}
          />
          {b.logo ? <img src={b.logo} alt="Current logo" className="logo-preview" /> : null}
          <div className="field">
            <label htmlFor="footer-text">Footer text</label>
            <textarea id="footer-text" rows={3} maxLength={1000} value={b.footerText ?? ''} onChange={(e) => setDraft({ ...draft, footerText: e.target.value || null })} />
          </div>
          <button type="submit" className="button button-primary" disabled={busy || Object.keys(draft).length === 0}>
            Save branding
          </button>
        </form>
      </section>
    </div>
  );
}

interface OrgAuditEvent {
  id: string;
  occurredAt: string;
  actor: { type: string; id: string | null; email: string | null };
  action: string;
  outcome: string;
  ip: string | null;
  messageId: string | null;
}

export function AuditAdmin() {
  const [filters, setFilters] = useState({ from: '', to: '', actor: '', action: '', outcome: '' });
  const [applied, setApplied] = useState(filters);
  const [pages, setPages] = useState<OrgAuditEvent[]>([]);
  const query = (f: typeof filters, cursor?: string) => {
    const q = new URLSearchParams();
    if (f.from) q.set('from', new Date(f.from).toISOString());
    if (f.to) q.set('to', new Date(f.to).toISOString());
    if (f.actor.trim()) q.set('actor', f.actor.trim());
    if (f.action.trim()) q.set('action', f.action.trim());
    if (f.outcome) q.set('outcome', f.outcome);
    if (cursor) q.set('cursor', cursor);
    return q.toString();
  };
  const first = useLoad(() => api<{ events: OrgAuditEvent[]; nextCursor: string | null }>('GET', `/api/v1/audit?${query(applied)}`).then((r) => { setPages([]); return r; }), [applied]);
  const [cursor, setCursor] = useState<string | null>(null);
  const next = cursor ?? first.value?.nextCursor ?? null;
  const events = [...(first.value?.events ?? []), ...pages];

  async function more() {
    if (!next) return;
    const r = await api<{ events: OrgAuditEvent[]; nextCursor: string | null }>('GET', `/api/v1/audit?${query(applied, next)}`);
    setPages((p) => [...p, ...r.events]);
    setCursor(r.nextCursor ?? '');
  }

  return (
    <div className="stack">
      <section className="card" aria-labelledby="audit-filter-h">
        <h2 id="audit-filter-h">Filter</h2>
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            setCursor(null);
            setApplied(filters);
          }}
          noValidate
        >
          <Field label="From" type="datetime-local" value={filters.from} onChange={(e) => setFilters({ ...filters, from: e.target.value })} />
          <Field label="To" type="datetime-local" value={filters.to} onChange={(e) => setFilters({ ...filters, to: e.target.value })} />
          <Field label="Who (email or id)" value={filters.actor} onChange={(e) => setFilters({ ...filters, actor: e.target.value })} />
          <Field label="Action (e.g. message.*)" value={filters.action} onChange={(e) => setFilters({ ...filters, action: e.target.value })} />
          <Select label="Outcome" value={filters.outcome} onChange={(e) => setFilters({ ...filters, outcome: e.target.value })}>
            <option value="">Any</option>
            <option value="success">Success</option>
            <option value="failure">Failure</option>
            <option value="denied">Denied</option>
          </Select>
          <button type="submit" className="button button-primary">
            Apply
          </button>
          <a className="button" href={`/api/v1/audit/export.csv?${query(applied)}`} download>
            Export CSV
          </a>
        </form>
      </section>
      <section className="card" aria-labelledby="audit-list-h">
        <h2 id="audit-list-h">Events, newest first</h2>
        {first.error ? <Alert tone="error">{errorText(first.error)}</Alert> : null}
        {first.loading && !first.value ? <Loading /> : null}
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">Outcome</th>
                <th scope="col">From</th>
              </tr>
            </thead>
            <tbody>
              {events.map((e) => (
                <tr key={e.id}>
                  <td>{formatDateTime(e.occurredAt)}</td>
                  <td>{e.actor.email ?? e.actor.type}</td>
                  <td>{e.action}</td>
                  <td>
                    <Badge tone={e.outcome === 'success' ? 'good' : 'bad'}>{e.outcome}</Badge>
                  </td>
                  <td>{e.ip ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {next ? (
          <button type="button" className="button" onClick={() => void more()}>
            Load more
          </button>
        ) : null}
      </section>
    </div>
  );
}
