// /operator/register: the installation operator edits the processing register (purposes of
// processing, controller details) and the sub-processor register (issue #6 §1, §5; API
// /api/v1/operator/register, docs/privacy.md "Who may edit"). The record of processing, the
// privacy notice and the public sub-processor list are generated from what is saved here; a
// sub-processor change alerts the subscribers, with its effective date as advance notice.
// Only users listed in OPERATOR_EMAILS may open it; everyone else gets 'operator_only'.
import { useState } from 'react';
import { Alert, Badge, CheckboxGroup, Field, Loading, SaveForm, Select, TextArea } from '../components/ui.tsx';
import { api, ApiError } from '../lib/api.ts';
import { formatDate, formatDateTime } from '../lib/format.ts';
import { errorText, useLoad } from '../lib/hooks.ts';

// The server's vocabulary (src/privacy/register/purpose.model.ts); the web app imports no server code.
const BASES = ['consent', 'contract', 'legal_obligation', 'vital_interests', 'public_task', 'legitimate_interests', 'not_applicable'] as const;
const CATEGORIES = ['content', 'crm', 'smart', 'system'] as const;
const REGIONS = ['uk', 'eea', 'us'] as const;
const KINDS = ['sub_processor', 'group_company', 'authority'] as const;

interface Purpose {
  key: string;
  groupTitle: string;
  name: string;
  reasons: string | null;
  basisIndividual: string[];
  basisBusiness: string[];
  categories: string[];
  dataSubjects: string[];
  recipients: string[];
  retentionRules: string[] | null;
  transfers: string | null;
  transferSafeguards: string | null;
  notes: string | null;
  retiredAt: string | null;
}

interface Subprocessor {
  key: string;
  kind: string;
  name: string;
  purpose: string;
  categories: string[];
  location: string | null;
  regions: string[];
  transferSafeguards: string | null;
  effectiveFrom: string | null;
  endsAt: string | null;
}

interface Settings {
  controllerName: string | null;
  controllerContact: string | null;
  dpoContact: string | null;
  representative: string | null;
  organisationalMeasures: string | null;
  transferStatement: string | null;
}

interface Change {
  id: string;
  summary: string;
  recordedAt?: string;
  effectiveAt: string;
}

interface Register {
  purposes: Purpose[];
  subprocessors: Subprocessor[];
  settings: Settings;
  changes: Change[];
}

const humanise = (s: string) => s.replace(/_/g, ' ');
/** Text for an optional field: empty becomes null (the register's "no value"). */
const orNull = (s: string) => (s.trim() === '' ? null : s);
const lines = (s: string) => s.split('\n').map((x) => x.trim()).filter((x) => x !== '');

const SETTINGS_FIELDS = ['controllerName', 'controllerContact', 'dpoContact', 'representative', 'organisationalMeasures', 'transferStatement'] as const;

function SettingsForm({ settings, onSaved }: { settings: Settings; onSaved(what: string): void }) {
  const [f, setF] = useState(() => Object.fromEntries(SETTINGS_FIELDS.map((k) => [k, settings[k] ?? ''])) as Record<keyof Settings, string>);
  const field = (key: keyof Settings, label: string, long = false) =>
    long ? (
      <TextArea label={label} value={f[key] ?? ''} rows={3} onChange={(e) => setF({ ...f, [key]: e.target.value })} />
    ) : (
      <Field label={label} value={f[key] ?? ''} onChange={(e) => setF({ ...f, [key]: e.target.value })} />
    );
  return (
    <SaveForm
      label="Controller details"
      button="Save controller details"
      save={async () => {
        const body = Object.fromEntries(SETTINGS_FIELDS.map((k) => [k, orNull(f[k] ?? '')]));
        await api('PATCH', '/api/v1/operator/register/settings', { body });
        onSaved('Controller details saved.');
      }}
    >
      {field('controllerName', 'Controller name')}
      {field('controllerContact', 'Controller contact')}
      {field('dpoContact', 'Data protection officer contact')}
      {field('representative', 'Art. 27 representative')}
      {field('organisationalMeasures', 'Organisational security measures', true)}
      {field('transferStatement', 'General statement on international transfers', true)}
    </SaveForm>
  );
}

function PurposeForm({ p, subprocessors, onSaved }: { p: Purpose; subprocessors: Subprocessor[]; onSaved(what: string, tone?: 'success' | 'error'): void }) {
  const [f, setF] = useState({
    name: p.name,
    reasons: p.reasons ?? '',
    basisIndividual: p.basisIndividual,
    basisBusiness: p.basisBusiness,
    categories: p.categories,
    dataSubjects: p.dataSubjects.join('\n'),
    recipients: p.recipients,
    retentionRules: (p.retentionRules ?? []).join(', '),
    transfers: p.transfers ?? '',
    transferSafeguards: p.transferSafeguards ?? '',
    notes: p.notes ?? '',
  });
  const path = `/api/v1/operator/register/purposes/${encodeURIComponent(p.key)}`;
  return (
    <>
      <SaveForm
        label={`Purpose ${p.key}`}
        button="Save purpose"
        save={async () => {
          const rules = f.retentionRules.split(',').map((x) => x.trim()).filter((x) => x !== '');
          await api('PATCH', path, {
            body: {
              name: f.name,
              reasons: orNull(f.reasons),
              basisIndividual: f.basisIndividual,
              basisBusiness: f.basisBusiness,
              categories: f.categories,
              dataSubjects: lines(f.dataSubjects),
              recipients: f.recipients,
              retentionRules: rules.length ? rules : null,
              transfers: orNull(f.transfers),
              transferSafeguards: orNull(f.transferSafeguards),
              notes: orNull(f.notes),
            },
          });
          onSaved(`Purpose ${p.key} saved.`);
        }}
      >
        <TextArea label="What we use it for" value={f.name} rows={2} onChange={(e) => setF({ ...f, name: e.target.value })} />
        <TextArea label="Reasons" value={f.reasons} rows={3} onChange={(e) => setF({ ...f, reasons: e.target.value })} />
        <CheckboxGroup legend="Lawful basis (the person is an individual)" options={BASES} value={f.basisIndividual} onChange={(v) => setF({ ...f, basisIndividual: v })} />
        <CheckboxGroup legend="Lawful basis (the person is a business)" options={BASES} value={f.basisBusiness} onChange={(v) => setF({ ...f, basisBusiness: v })} />
        <CheckboxGroup legend="Data categories" options={CATEGORIES} value={f.categories} onChange={(v) => setF({ ...f, categories: v })} />
        <TextArea label="Data subjects" hint="One per line." value={f.dataSubjects} rows={2} onChange={(e) => setF({ ...f, dataSubjects: e.target.value })} />
        <CheckboxGroup legend="Recipients (sub-processors)" options={subprocessors.map((s) => s.key)} value={f.recipients} onChange={(v) => setF({ ...f, recipients: v })} />
        <Field label="Retention rules" hint="Rule names from the registry, comma-separated; empty: as the registry declares per table." value={f.retentionRules} onChange={(e) => setF({ ...f, retentionRules: e.target.value })} />
        <TextArea label="Transfers" value={f.transfers} rows={2} onChange={(e) => setF({ ...f, transfers: e.target.value })} />
        <TextArea label="Transfer safeguards" value={f.transferSafeguards} rows={2} onChange={(e) => setF({ ...f, transferSafeguards: e.target.value })} />
        <TextArea label="Notes" value={f.notes} rows={2} onChange={(e) => setF({ ...f, notes: e.target.value })} />
      </SaveForm>
      <button
        type="button"
        className="button"
        onClick={() =>
          void api('POST', `${path}/${p.retiredAt ? 'restore' : 'retire'}`).then(
            () => onSaved(`Purpose ${p.key} ${p.retiredAt ? 'restored' : 'retired'}.`),
            (err: unknown) => onSaved(`Not changed: ${errorText(err)}`, 'error'),
          )
        }
      >
        {p.retiredAt ? 'Restore purpose' : 'Retire purpose'}
      </button>
    </>
  );
}

function NewPurposeForm({ onSaved }: { onSaved(what: string): void }) {
  const [f, setF] = useState({ key: '', groupKey: '', groupTitle: '', name: '' });
  return (
    <SaveForm
      label="New purpose"
      button="Add purpose"
      save={async () => {
        await api('POST', '/api/v1/operator/register/purposes', { body: f });
        onSaved(`Purpose ${f.key} added.`);
        setF({ key: '', groupKey: '', groupTitle: '', name: '' });
      }}
    >
      <Field label="Key" hint="group.purpose, a–z, 0–9, _ and ." value={f.key} onChange={(e) => setF({ ...f, key: e.target.value })} />
      <Field label="Group key" value={f.groupKey} onChange={(e) => setF({ ...f, groupKey: e.target.value })} />
      <Field label="Group title" value={f.groupTitle} onChange={(e) => setF({ ...f, groupTitle: e.target.value })} />
      <TextArea label="What we use it for" value={f.name} rows={2} onChange={(e) => setF({ ...f, name: e.target.value })} />
    </SaveForm>
  );
}

function SubprocessorForm({ s, onSaved }: { s: Subprocessor; onSaved(what: string): void }) {
  const [f, setF] = useState({ name: s.name, kind: s.kind, purpose: s.purpose, location: s.location ?? '', regions: s.regions, categories: s.categories, transferSafeguards: s.transferSafeguards ?? '', effectiveAt: '' });
  const [endsAt, setEndsAt] = useState('');
  const path = `/api/v1/operator/register/subprocessors/${encodeURIComponent(s.key)}`;
  return (
    <>
      <SaveForm
        label={`Sub-processor ${s.key}`}
        button="Save sub-processor"
        save={async () => {
          const { effectiveAt, ...rest } = f;
          await api('PATCH', path, { body: { ...rest, location: orNull(f.location), transferSafeguards: orNull(f.transferSafeguards), ...(effectiveAt ? { effectiveAt } : {}) } });
          onSaved(`${f.name} saved; subscribers are told.`);
        }}
      >
        <Field label="Name" value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} />
        <Select label="Kind" value={f.kind} onChange={(e) => setF({ ...f, kind: e.target.value })}>
          {KINDS.map((k) => (
            <option key={k} value={k}>
              {humanise(k)}
            </option>
          ))}
        </Select>
        <TextArea label="What it does" value={f.purpose} rows={2} onChange={(e) => setF({ ...f, purpose: e.target.value })} />
        <Field label="Location" value={f.location} onChange={(e) => setF({ ...f, location: e.target.value })} />
        <CheckboxGroup legend="Regions" options={REGIONS} value={f.regions} onChange={(v) => setF({ ...f, regions: v })} />
        <CheckboxGroup legend="Data categories received" options={CATEGORIES} value={f.categories} onChange={(v) => setF({ ...f, categories: v })} />
        <TextArea label="Transfer safeguards" value={f.transferSafeguards} rows={2} onChange={(e) => setF({ ...f, transferSafeguards: e.target.value })} />
        <Field label="The change applies from (optional)" type="date" hint="A later date gives subscribers advance notice." value={f.effectiveAt} onChange={(e) => setF({ ...f, effectiveAt: e.target.value })} />
      </SaveForm>
      {s.endsAt ? null : (
        <SaveForm
          label={`End ${s.key}`}
          button="End this sub-processor"
          save={async () => {
            await api('POST', `${path}/remove`, { body: endsAt ? { endsAt } : {} });
            onSaved(`${s.name} ${endsAt ? `ends on ${endsAt}` : 'ended'}; subscribers are told.`);
          }}
        >
          <Field label="Ends on (optional)" type="date" hint="Empty: now." value={endsAt} onChange={(e) => setEndsAt(e.target.value)} />
        </SaveForm>
      )}
    </>
  );
}

function NewSubprocessorForm({ onSaved }: { onSaved(what: string): void }) {
  const empty = { key: '', name: '', purpose: '', location: '', regions: [] as string[], categories: [] as string[], effectiveFrom: '' };
  const [f, setF] = useState(empty);
  return (
    <SaveForm
      label="New sub-processor"
      button="Add sub-processor"
      save={async () => {
        const { effectiveFrom, location, ...rest } = f;
        await api('POST', '/api/v1/operator/register/subprocessors', { body: { ...rest, ...(orNull(location) ? { location } : {}), ...(effectiveFrom ? { effectiveFrom } : {}) } });
        onSaved(`${f.name} added${effectiveFrom ? `, engaged from ${effectiveFrom}` : ''}; subscribers are told.`);
        setF(empty);
      }}
    >
      <Field label="Key" hint="a–z, 0–9 and _" value={f.key} onChange={(e) => setF({ ...f, key: e.target.value })} />
      <Field label="Name" value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} />
      <TextArea label="What it does" value={f.purpose} rows={2} onChange={(e) => setF({ ...f, purpose: e.target.value })} />
      <Field label="Location" value={f.location} onChange={(e) => setF({ ...f, location: e.target.value })} />
      <CheckboxGroup legend="Regions" options={REGIONS} value={f.regions} onChange={(v) => setF({ ...f, regions: v })} />
      <CheckboxGroup legend="Data categories received" options={CATEGORIES} value={f.categories} onChange={(v) => setF({ ...f, categories: v })} />
      <Field label="Engaged from (optional)" type="date" hint="A later date gives subscribers advance notice." value={f.effectiveFrom} onChange={(e) => setF({ ...f, effectiveFrom: e.target.value })} />
    </SaveForm>
  );
}

/** /operator/register (the installation's operator): the Processing register tab of the operator's page. */
export function ProcessingRegister() {
  const register = useLoad(() => api<Register>('GET', '/api/v1/operator/register'), []);
  const [purposeKey, setPurposeKey] = useState<string | null>(null);
  const [subKey, setSubKey] = useState<string | null>(null);
  const [notice, setNotice] = useState<{ text: string; tone: 'success' | 'error' } | null>(null);
  const [version, setVersion] = useState(0);
  if (register.error instanceof ApiError && register.error.code === 'operator_only') {
    return (
      <div className="card">
        <p>The processing register is edited by the installation's operator. Ask whoever runs this Sealpost installation.</p>
      </div>
    );
  }
  const r = register.value;
  const saved = (text: string, tone: 'success' | 'error' = 'success') => {
    setNotice({ text, tone });
    setVersion((v) => v + 1);
    register.reload();
  };
  const purpose = r?.purposes.find((p) => p.key === purposeKey);
  const sub = r?.subprocessors.find((s) => s.key === subKey);
  return (
    <div className="stack">
      <p className="hint">
        What the installation processes, why, on which lawful basis, who receives it and where. The record of processing, the privacy notice (<a href="/privacy">/privacy</a>) and the public
        sub-processor list (<a href="/subprocessors">/subprocessors</a>) are generated from it; every change is kept in the history below and in the installation's audit log.
      </p>
      <div role="status" aria-live="polite">
        {notice ? <Alert tone={notice.tone}>{notice.text}</Alert> : null}
      </div>
      {register.error ? <Alert tone="error">{errorText(register.error)}</Alert> : null}
      {!r ? <Loading /> : null}
      {r ? (
        <>
          <section className="card" aria-labelledby="reg-settings-h">
            <h2 id="reg-settings-h">Controller details</h2>
            <SettingsForm key={`settings-${version}`} settings={r.settings} onSaved={saved} />
          </section>

          <section className="card" aria-labelledby="reg-purposes-h">
            <h2 id="reg-purposes-h">Purposes of processing</h2>
            <div className="table-wrap">
              <table className="table" aria-labelledby="reg-purposes-h">
                <thead>
                  <tr>
                    <th scope="col">Key</th>
                    <th scope="col">What we use it for</th>
                    <th scope="col">Categories</th>
                    <th scope="col">Status</th>
                  </tr>
                </thead>
                <tbody>
                  {r.purposes.map((p) => (
                    <tr key={p.key} aria-selected={p.key === purposeKey}>
                      <th scope="row">
                        <button type="button" className="linklike" onClick={() => setPurposeKey(p.key)}>
                          {p.key}
                        </button>
                      </th>
                      <td>{p.name}</td>
                      <td>{p.categories.join(', ')}</td>
                      <td>{p.retiredAt ? <Badge>retired</Badge> : <Badge tone="good">in use</Badge>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {purpose ? (
              <div className="stack">
                <h3>Edit {purpose.key}</h3>
                <PurposeForm key={`${purpose.key}-${version}`} p={purpose} subprocessors={r.subprocessors} onSaved={saved} />
              </div>
            ) : null}
            <h3>Add a purpose</h3>
            <NewPurposeForm onSaved={saved} />
          </section>

          <section className="card" aria-labelledby="reg-subs-h">
            <h2 id="reg-subs-h">Sub-processors</h2>
            <div className="table-wrap">
              <table className="table" aria-labelledby="reg-subs-h">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Location</th>
                    <th scope="col">Categories</th>
                    <th scope="col">From</th>
                    <th scope="col">Until</th>
                  </tr>
                </thead>
                <tbody>
                  {r.subprocessors.map((s) => (
                    <tr key={s.key} aria-selected={s.key === subKey}>
                      <th scope="row">
                        <button type="button" className="linklike" onClick={() => setSubKey(s.key)}>
                          {s.name}
                        </button>
                      </th>
                      <td>{s.location}</td>
                      <td>{s.categories.join(', ')}</td>
                      <td>{s.effectiveFrom ? formatDate(s.effectiveFrom) : ''}</td>
                      <td>{s.endsAt ? formatDate(s.endsAt) : ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {sub ? (
              <div className="stack">
                <h3>Edit {sub.name}</h3>
                <SubprocessorForm key={`${sub.key}-${version}`} s={sub} onSaved={saved} />
              </div>
            ) : null}
            <h3>Add a sub-processor</h3>
            <NewSubprocessorForm onSaved={saved} />
          </section>

          <section className="card" aria-labelledby="reg-history-h">
            <h2 id="reg-history-h">Latest changes</h2>
            <ul className="plain-list">
              {r.changes.map((c) => (
                <li key={c.id}>
                  {c.summary} <span className="hint">(effective {formatDateTime(c.effectiveAt)})</span>
                </li>
              ))}
            </ul>
          </section>
        </>
      ) : null}
    </div>
  );
}
