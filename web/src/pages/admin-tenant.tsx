// Labels and their policies, organisation settings (region, notification branding) and the
// organisation's audit log with filters and CSV export — against docs/admin-api.md.
import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { Alert, Badge, Field, Loading, Select, TextArea } from '../components/ui.tsx';
import { api, ApiError } from '../lib/api.ts';
import { describeExpiry, formatDateTime } from '../lib/format.ts';
import { errorText, useLoad } from '../lib/hooks.ts';
import type { Label } from '../lib/types.ts';
import { labelImplications } from './compose.tsx';

type ManagedLabel = Label & { isDefault?: boolean; retiredAt: string | null; createdAt: string; messageCount: number };

function useNotice() {
  const [notice, setNotice] = useState<{ tone: 'success' | 'error'; text: string } | null>(null);
  const view = <div aria-live="polite">{notice ? <Alert tone={notice.tone}>{notice.text}</Alert> : null}</div>;
  return { view, ok: (text: string) => setNotice({ tone: 'success', text }), fail: (err: unknown) => setNotice({ tone: 'error', text: errorText(err) }), clear: () => setNotice(null) };
}

/** What the label form holds: the inputs' raw values (numbers as typed). */
interface LabelDraft {
  name: string;
  rank: string;
  description: string;
  defaultExpiryDays: string;
  authLevel: Label['authLevel'];
  noForward: boolean;
  noDownload: boolean;
  watermark: boolean;
  hideSubject: boolean;
  disclaimer: string;
  isDefault: boolean;
}

type LabelField = keyof LabelDraft;
type FieldErrors = Partial<Record<LabelField, string>>;
type LabelBody = Partial<Omit<Label, 'id'> & { isDefault: boolean }>;

const EMPTY_DRAFT: LabelDraft = { name: '', rank: '1', description: '', defaultExpiryDays: '', authLevel: 'email_code', noForward: false, noDownload: false, watermark: false, hideSubject: false, disclaimer: '', isDefault: false };

const draftOf = (l: ManagedLabel): LabelDraft => ({
  name: l.name,
  rank: String(l.rank),
  description: l.description,
  defaultExpiryDays: l.defaultExpiryDays === null ? '' : String(l.defaultExpiryDays),
  authLevel: l.authLevel,
  noForward: l.noForward,
  noDownload: l.noDownload,
  watermark: l.watermark,
  hideSubject: l.hideSubject,
  disclaimer: l.disclaimer ?? '',
  isDefault: l.isDefault === true,
});

const WHOLE = /^\s*\d+\s*$/;

/**
 * The request body for `draft` (only what differs from `current` when editing), or the fields
 * a number cannot be read from (the API's schema would refuse them without naming the field).
 */
function bodyOf(draft: LabelDraft, current?: ManagedLabel): { body: LabelBody; errors: FieldErrors } {
  const errors: FieldErrors = {};
  if (!WHOLE.test(draft.rank)) errors.rank = 'Must be a whole number from 0 to 1000.';
  if (draft.defaultExpiryDays.trim() && !WHOLE.test(draft.defaultExpiryDays)) errors.defaultExpiryDays = 'Must be a whole number of days from 1 to 3650, or empty for no expiry.';
  const full: Required<LabelBody> = {
    name: draft.name.trim(),
    rank: Number(draft.rank),
    description: draft.description.trim(),
    defaultExpiryDays: draft.defaultExpiryDays.trim() ? Number(draft.defaultExpiryDays) : null,
    authLevel: draft.authLevel,
    noForward: draft.noForward,
    noDownload: draft.noDownload,
    watermark: draft.watermark,
    hideSubject: draft.hideSubject,
    disclaimer: draft.disclaimer.trim() || null,
    isDefault: draft.isDefault,
  };
  const body: LabelBody = {};
  for (const key of Object.keys(full) as Array<keyof LabelBody>) {
    // isDefault can only be switched on (another label takes it over); false is never sent.
    if (key === 'isDefault' ? full.isDefault && !current?.isDefault : !current || full[key] !== current[key]) (body as Record<string, unknown>)[key] = full[key];
  }
  return { body, errors };
}

const FIELD_OF_CODE: Record<string, LabelField> = { label_name_taken: 'name', default_label: 'isDefault', label_retired: 'isDefault' };

/** The field an API refusal is about (label_invalid names it in details.field), if the form shows it. */
function fieldOf(err: unknown): LabelField | null {
  if (!(err instanceof ApiError)) return null;
  const field = err.code === 'label_invalid' ? err.details?.field : FIELD_OF_CODE[err.code];
  return typeof field === 'string' && field in EMPTY_DRAFT ? (field as LabelField) : null;
}

/** The API's message without its "field: " prefix, as a sentence next to the field. */
const fieldMessage = (err: ApiError, field: string) => {
  const text = err.message.startsWith(`${field}: `) ? err.message.slice(field.length + 2) : err.message;
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}`;
};

/**
 * The fields of a label, shared by "New label" and "Edit": saving sends what `bodyOf` builds;
 * a refusal about one field is shown next to it (and focused), anything else in the page notice.
 */
function LabelForm({ name, initial, current, submitText, busy, onSubmit, onCancel, children }: {
  name: string;
  initial: LabelDraft;
  current?: ManagedLabel;
  submitText: string;
  busy: boolean;
  onSubmit(body: LabelBody): Promise<boolean>;
  onCancel?(): void;
  children?: ReactNode;
}) {
  const [draft, setDraft] = useState(initial);
  const [errors, setErrors] = useState<FieldErrors>({});
  const formRef = useRef<HTMLFormElement>(null);
  const formId = useId();
  const { body } = bodyOf(draft, current);
  const changed = Object.keys(body).length > 0;

  const set = <K extends LabelField>(key: K, value: LabelDraft[K]) => {
    setDraft((d) => ({ ...d, [key]: value }));
    setErrors((e) => (e[key] ? { ...e, [key]: undefined } : e));
  };
  const focusInvalid = () => setTimeout(() => formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus(), 0);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const built = bodyOf(draft, current);
    if (Object.keys(built.errors).length) {
      setErrors(built.errors);
      focusInvalid();
      return;
    }
    setErrors({});
    try {
      if ((await onSubmit(built.body)) && !current) setDraft(initial);
    } catch (err) {
      const field = fieldOf(err);
      if (!field) return; // onSubmit rethrows only refusals about a field
      setErrors({ [field]: fieldMessage(err as ApiError, field) });
      focusInvalid();
    }
  };

  const flag = (key: 'noForward' | 'noDownload' | 'watermark' | 'hideSubject' | 'isDefault', text: string, disabled = false) => (
    <div>
      <label className="check">
        <input type="checkbox" checked={draft[key]} disabled={disabled} aria-invalid={errors[key] ? true : undefined} aria-describedby={errors[key] ? `${formId}-${key}-error` : undefined} onChange={(e) => set(key, e.target.checked)} /> {text}
      </label>
      {errors[key] ? (
        <p className="field-error" id={`${formId}-${key}-error`}>
          {errors[key]}
        </p>
      ) : null}
    </div>
  );
  const expiry = WHOLE.test(draft.defaultExpiryDays) ? Number(draft.defaultExpiryDays) : null;

  return (
    <form ref={formRef} className="form" aria-label={name} onSubmit={(e) => void submit(e)} noValidate>
      {children}
      <div className="two-col">
        <Field label="Name" value={draft.name} onChange={(e) => set('name', e.target.value)} error={errors.name} required />
        <Field label="Rank (0 = least sensitive)" type="number" min={0} max={1000} value={draft.rank} onChange={(e) => set('rank', e.target.value)} error={errors.rank} />
      </div>
      <Field label="Description" value={draft.description} onChange={(e) => set('description', e.target.value)} error={errors.description} />
      <Field label="Default expiry in days (empty: none)" type="number" min={1} max={3650} value={draft.defaultExpiryDays} onChange={(e) => set('defaultExpiryDays', e.target.value)} hint={draft.defaultExpiryDays.trim() && expiry === null ? null : describeExpiry(expiry)} error={errors.defaultExpiryDays} />
      <Select label="How recipients prove who they are" value={draft.authLevel} onChange={(e) => set('authLevel', e.target.value as Label['authLevel'])} error={errors.authLevel}>
        <option value="email_code">A one-time code sent to their address</option>
        <option value="account">Signing in to an account</option>
      </Select>
      <fieldset className="field">
        <legend>Restrictions</legend>
        {flag('noForward', 'No forwarding')}
        {flag('noDownload', 'No download (view only)')}
        {flag('watermark', 'Watermark')}
        {flag('hideSubject', 'Hide subject in notifications')}
      </fieldset>
      <TextArea label="Disclaimer (optional)" rows={2} value={draft.disclaimer} onChange={(e) => set('disclaimer', e.target.value)} error={errors.disclaimer} />
      {flag('isDefault', current?.isDefault ? 'The default label (make another label the default to change this)' : 'Make this the default label', current?.isDefault === true || !!current?.retiredAt)}
      <div className="row">
        <button type="submit" className="button button-primary" disabled={busy || !draft.name.trim() || !changed}>
          {submitText}
        </button>
        {onCancel ? (
          <button type="button" className="button button-quiet" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}

/** When each policy field takes effect for messages already sent (docs/admin-api.md §1). */
function policyTiming(l: ManagedLabel): string {
  const sent = l.messageCount === 1 ? 'the 1 message already sent' : `the ${l.messageCount} messages already sent`;
  return `Changes to how recipients prove who they are, forwarding, downloading, the watermark and the disclaimer apply at once to ${sent} under this label (at each recipient's next open); a new default expiry applies only to messages sent from now on, and hiding the subject to notifications not yet sent.`;
}

export function LabelsAdmin() {
  const labels = useLoad(() => api<{ labels: ManagedLabel[] }>('GET', '/api/v1/labels/all').then((r) => r.labels), []);
  const notice = useNotice();
  const [busy, setBusy] = useState(false);
  const [editing, setEditing] = useState<string | null>(null);

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

  /** Saves through `fn`; a refusal about one field is rethrown for the form to show next to it. */
  async function save(fn: () => Promise<unknown>, text: string): Promise<boolean> {
    setBusy(true);
    try {
      await fn();
      notice.ok(text);
      labels.reload();
      return true;
    } catch (err) {
      if (fieldOf(err)) {
        notice.clear();
        throw err;
      }
      notice.fail(err);
      return false;
    } finally {
      setBusy(false);
    }
  }

  const closeEditor = (id: string) => {
    setEditing(null);
    // Keyboard users continue from the button that opened the form.
    setTimeout(() => document.getElementById(`edit-label-${id}`)?.focus(), 0);
  };

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
              {editing === l.id ? (
                <LabelForm
                  name={`Edit ${l.name}`}
                  initial={draftOf(l)}
                  current={l}
                  submitText="Save changes"
                  busy={busy}
                  onCancel={() => closeEditor(l.id)}
                  onSubmit={async (body) => {
                    const ok = await save(() => api('PATCH', `/api/v1/labels/${l.id}`, { body }), `Label "${body.name ?? l.name}" saved.`);
                    if (ok) closeEditor(l.id);
                    return ok;
                  }}
                >
                  <EditIntro label={l} />
                </LabelForm>
              ) : (
                <div className="row">
                  <button type="button" id={`edit-label-${l.id}`} className="button button-small" disabled={busy || editing !== null} onClick={() => setEditing(l.id)}>
                    Edit<span className="visually-hidden"> {l.name}</span>
                  </button>
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
              )}
            </li>
          ))}
        </ul>
      </section>
      <section className="card" aria-labelledby="new-label-h">
        <h2 id="new-label-h">New label</h2>
        <LabelForm
          name="New label"
          initial={EMPTY_DRAFT}
          submitText="Create label"
          busy={busy}
          onSubmit={(body) => save(() => api('POST', '/api/v1/labels', { body }), `Label "${body.name ?? ''}" created.`)}
        />
      </section>
    </div>
  );
}

/** The heading of the edit form (focused when it opens) and when its changes take effect. */
function EditIntro({ label }: { label: ManagedLabel }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <>
      <h3 ref={heading} tabIndex={-1}>
        Edit {label.name}
      </h3>
      <Alert tone="info">{policyTiming(label)}</Alert>
    </>
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
