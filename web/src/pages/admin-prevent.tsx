// Administration of the pre-send check: the dashboard of warnings by check and outcome over
// time, the organisation's policy (a mode per check), its own mail domains, and importing mail
// history for the model to learn from — against the Prevent section of docs/api.md.
import { useState, type ChangeEvent, type FormEvent } from 'react';
import { Alert, Field, Loading, Select } from '../components/ui.tsx';
import { api, ApiError, csrfHeaders } from '../lib/api.ts';
import { formatDate } from '../lib/format.ts';
import { errorText, useLoad } from '../lib/hooks.ts';

const CHECKS: Array<{ id: string; text: string }> = [
  { id: 'unusual_recipient', text: 'Unusual recipient (learned)' },
  { id: 'missing_recipient', text: 'Missing likely recipient (learned)' },
  { id: 'lookalike_address', text: 'Lookalike or misspelt address' },
  { id: 'first_time_external', text: 'First-time external recipient' },
  { id: 'personal_webmail', text: 'Personal webmail address' },
  { id: 'many_external_recipients', text: 'Many visible external recipients' },
  { id: 'many_external_domains', text: 'Too many external domains' },
  { id: 'greeting_mismatch', text: 'Greeting names someone not on the message' },
  { id: 'sensitive_content', text: 'Sensitive content (card, IBAN, NI, NHS, SSN, custom)' },
  { id: 'encryption_recommended', text: 'Encryption or stronger label recommended' },
];

const MODES = [
  { value: 'off', text: 'Off: the check does not run' },
  { value: 'monitor', text: 'Monitor: log only, senders see nothing' },
  { value: 'nudge', text: 'Nudge: warn, the sender may send anyway' },
  { value: 'block', text: 'Block: the sender must fix it or justify' },
];

const OUTCOMES: Array<{ id: string; text: string }> = [
  { id: 'removed', text: 'Fixed (recipient removed)' },
  { id: 'sent_anyway', text: 'Sent anyway' },
  { id: 'justified', text: 'Sent with justification' },
  { id: 'blocked', text: 'Blocked' },
  { id: 'sent_unreviewed', text: 'Sent without review (API)' },
  { id: 'suppressed', text: 'Not shown again (dismissed before)' },
  { id: 'logged', text: 'Logged (monitor)' },
];

type ModeValue = 'off' | 'monitor' | 'nudge' | 'block';
interface Settings {
  policy: { defaultMode: ModeValue; checks: Record<string, ModeValue | Record<string, ModeValue>> };
  internalDomains: string[];
}
interface Dashboard {
  from: string;
  to: string;
  rows: Array<{ week: string; check: string; outcome: string; count: number }>;
  totals: Record<string, Record<string, number>>;
}

const checkText = (id: string) => CHECKS.find((c) => c.id === id)?.text ?? id;

function useNotice() {
  const [notice, setNotice] = useState<{ tone: 'success' | 'error'; text: string } | null>(null);
  const view = <div aria-live="polite">{notice ? <Alert tone={notice.tone}>{notice.text}</Alert> : null}</div>;
  return { view, ok: (text: string) => setNotice({ tone: 'success', text }), fail: (err: unknown) => setNotice({ tone: 'error', text: errorText(err) }) };
}

export function PreventAdmin() {
  return (
    <div className="stack">
      <PreventDashboard />
      <PreventPolicy />
      <PreventImport />
    </div>
  );
}

function PreventDashboard() {
  const [weeks, setWeeks] = useState('12');
  const board = useLoad(() => {
    const to = new Date();
    const from = new Date(to.getTime() - Number(weeks) * 7 * 86_400_000);
    return api<Dashboard>('GET', `/api/v1/prevent/dashboard?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`);
  }, [weeks]);
  const b = board.value;
  const checks = b ? Object.keys(b.totals).sort((x, y) => sum(b.totals[y]!) - sum(b.totals[x]!)) : [];
  const outcomes = OUTCOMES.filter((o) => checks.some((c) => (b?.totals[c]?.[o.id] ?? 0) > 0));
  const perWeek = new Map<string, number>();
  for (const r of b?.rows ?? []) perWeek.set(r.week, (perWeek.get(r.week) ?? 0) + r.count);
  const weekList = [...perWeek.entries()].sort(([x], [y]) => x.localeCompare(y));
  const peak = Math.max(1, ...weekList.map(([, n]) => n));

  return (
    <section aria-labelledby="prevent-dash-h" className="card">
      <h2 id="prevent-dash-h">Pre-send warnings</h2>
      <p className="hint">What the pre-send check raised and what senders did about it. Counts only; the messages themselves are not shown here.</p>
      <Select label="Period" value={weeks} onChange={(e: ChangeEvent<HTMLSelectElement>) => setWeeks(e.target.value)}>
        <option value="4">Last 4 weeks</option>
        <option value="12">Last 12 weeks</option>
        <option value="52">Last 12 months</option>
      </Select>
      {board.loading && !b ? <Loading /> : null}
      {board.error ? <Alert tone="error">{errorText(board.error)}</Alert> : null}
      {b && checks.length === 0 ? <p>No warnings in this period.</p> : null}
      {b && checks.length > 0 ? (
        <>
          <div className="table-wrap">
            <table className="table">
              <caption>Warnings by check and what the sender did</caption>
              <thead>
                <tr>
                  <th scope="col">Check</th>
                  {outcomes.map((o) => (
                    <th scope="col" key={o.id} className="num">
                      {o.text}
                    </th>
                  ))}
                  <th scope="col" className="num">
                    Total
                  </th>
                </tr>
              </thead>
              <tbody>
                {checks.map((c) => (
                  <tr key={c}>
                    <th scope="row">{checkText(c)}</th>
                    {outcomes.map((o) => (
                      <td key={o.id} className="num">
                        {b.totals[c]?.[o.id] ?? 0}
                      </td>
                    ))}
                    <td className="num">{sum(b.totals[c]!)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="table-wrap">
            <table className="table">
              <caption>Warnings per week</caption>
              <thead>
                <tr>
                  <th scope="col">Week of</th>
                  <th scope="col" className="num">
                    Warnings
                  </th>
                  <th scope="col">
                    <span className="visually-hidden-input">Bar</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {weekList.map(([week, n]) => (
                  <tr key={week}>
                    <th scope="row">{formatDate(week)}</th>
                    <td className="num">{n}</td>
                    <td aria-hidden="true" style={{ width: '50%' }}>
                      <div className="bar" style={{ width: `${Math.round((n / peak) * 100)}%` }} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </section>
  );
}

function sum(row: Record<string, number>): number {
  return Object.values(row).reduce((a, n) => a + n, 0);
}

function PreventPolicy() {
  const settings = useLoad(() => api<Settings>('GET', '/api/v1/prevent/settings'), []);
  const notice = useNotice();
  const [draft, setDraft] = useState<{ defaultMode: ModeValue; checks: Record<string, string>; domains: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const s = settings.value;
  const form =
    draft ??
    (s
      ? {
          defaultMode: s.policy.defaultMode,
          // A per-severity setting is shown as "custom" and left as it is unless changed here.
          checks: Object.fromEntries(CHECKS.map((c) => [c.id, typeof s.policy.checks[c.id] === 'string' ? (s.policy.checks[c.id] as string) : s.policy.checks[c.id] ? 'custom' : ''])),
          domains: s.internalDomains.join(', '),
        }
      : null);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!form || !s) return;
    setBusy(true);
    try {
      const checks: Settings['policy']['checks'] = {};
      for (const c of CHECKS) {
        const v = form.checks[c.id];
        if (v === 'custom') checks[c.id] = s.policy.checks[c.id]!;
        else if (v) checks[c.id] = v as ModeValue;
      }
      const internalDomains = form.domains
        .split(/[\s,]+/)
        .map((d) => d.trim().toLowerCase())
        .filter(Boolean);
      const saved = await api<Settings>('PUT', '/api/v1/prevent/settings', { body: { policy: { defaultMode: form.defaultMode, checks }, internalDomains } });
      settings.set(saved);
      setDraft(null);
      notice.ok('Pre-send check policy saved. It applies to the next message anyone sends.');
    } catch (err) {
      notice.fail(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="prevent-policy-h" className="card">
      <h2 id="prevent-policy-h">Policy</h2>
      {settings.loading && !s ? <Loading /> : null}
      {settings.error ? <Alert tone="error">{errorText(settings.error)}</Alert> : null}
      {form ? (
        <form className="form" onSubmit={save} noValidate>
          <Select label="Every check, unless set below" value={form.defaultMode} onChange={(e: ChangeEvent<HTMLSelectElement>) => setDraft({ ...form, defaultMode: e.target.value as ModeValue })}>
            {MODES.map((m) => (
              <option key={m.value} value={m.value}>
                {m.text}
              </option>
            ))}
          </Select>
          <fieldset className="field">
            <legend>Per check</legend>
            {CHECKS.map((c) => (
              <Select key={c.id} label={c.text} value={form.checks[c.id] ?? ''} onChange={(e: ChangeEvent<HTMLSelectElement>) => setDraft({ ...form, checks: { ...form.checks, [c.id]: e.target.value } })}>
                <option value="">As above</option>
                {form.checks[c.id] === 'custom' ? <option value="custom">Custom per severity (set through the API)</option> : null}
                {MODES.map((m) => (
                  <option key={m.value} value={m.value}>
                    {m.text}
                  </option>
                ))}
              </Select>
            ))}
          </fieldset>
          <Field
            label="Your organisation's mail domains"
            hint="Addresses at these domains count as internal. Leave empty to use the domains of your users."
            value={form.domains}
            onChange={(e) => setDraft({ ...form, domains: e.target.value })}
          />
          <button className="button button-primary" type="submit" disabled={busy}>
            Save policy
          </button>
          {notice.view}
        </form>
      ) : null}
    </section>
  );
}

function PreventImport() {
  const notice = useNotice();
  const [busy, setBusy] = useState(false);

  const upload = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (!file) return;
    const type = /\.(jsonl|ndjson)$/i.test(file.name) ? 'application/x-ndjson' : /\.mbox$/i.test(file.name) ? 'application/mbox' : null;
    if (!type) {
      notice.fail(new ApiError(0, 'unsupported_file', `${file.name}: choose a .jsonl (one message per line) or an .mbox file`));
      return;
    }
    setBusy(true);
    try {
      const res = await fetch('/api/v1/prevent/import', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': type, accept: 'application/json', ...csrfHeaders() }, body: file });
      const json = (await res.json()) as { imported?: number; skipped?: number; error?: { message?: string } };
      if (!res.ok) throw new ApiError(res.status, 'import_failed', json.error?.message ?? `The import failed (${res.status})`);
      notice.ok(`Imported ${json.imported} messages from ${file.name}${json.skipped ? `; ${json.skipped} older than 12 months were skipped` : ''}.`);
    } catch (err) {
      notice.fail(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="prevent-import-h" className="card">
      <h2 id="prevent-import-h">Learn from past mail</h2>
      <p className="hint">
        Give the check a head start with your organisation's recent mail history: an mbox export, or JSON lines of <code>{'{id, date, from, to, cc, bcc, subject}'}</code>. Only who wrote to whom, when and about what
        is kept (subject words as keyed hashes), for 12 months. Up to 64 MiB per file.
      </p>
      <label className="button" aria-disabled={busy}>
        {busy ? 'Importing…' : 'Choose a file to import'}
        <input type="file" accept=".mbox,.jsonl,.ndjson" className="visually-hidden-input" onChange={upload} disabled={busy} />
      </label>
      {notice.view}
    </section>
  );
}
