// The signed-in user's email preferences (GET/PUT /api/v1/me/preferences; docs/privacy.md,
// "Consent and communication preferences"): optional kinds of email, each off until the person
// opts in, with every change and the privacy-notice version in force when it was made. A free
// account that an organisation is taking over also sees that offer here, and can accept it.
import { useState } from 'react';
import { Alert, Badge, Loading, Page } from '../components/ui.tsx';
import { api } from '../lib/api.ts';
import { formatDateTime } from '../lib/format.ts';
import { errorText, useLoad, useTitle } from '../lib/hooks.ts';
import { TransferOffer } from './account-transfer.tsx';

type Kind = 'marketing' | 'productUpdates' | 'subprocessorChanges';

interface Preference {
  state: 'unset' | 'granted' | 'withdrawn' | 'objected';
  subscribed: boolean;
  via: string | null;
  noticeVersion: string | null;
  updatedAt: string | null;
}

interface PreferenceRecord {
  email: string;
  restricted: boolean;
  noticeVersion: string;
  preferences: Partial<Record<Kind, Preference>>;
  history: Array<{ kind: Kind; from: string; to: string; via: string; noticeVersion: string | null; changedAt: string }>;
}

const KINDS: Array<{ kind: Kind; name: string; what: string }> = [
  { kind: 'marketing', name: 'News and offers', what: 'Occasional news about Sealpost and offers. Turning this off is an objection: nobody but you can turn it back on.' },
  { kind: 'productUpdates', name: 'Product updates', what: 'New features and changes to how Sealpost works.' },
  { kind: 'subprocessorChanges', name: 'Sub-processor changes', what: 'Advance notice when we add or change a company that processes data for us.' },
];

const VIA_TEXT: Record<string, string> = {
  account: 'in your account',
  double_opt_in: 'by confirming an emailed link',
  unsubscribe_link: 'with an unsubscribe link',
  administrator: 'by an administrator',
  subject_request: 'by a privacy request',
  import: 'by an import',
};

const STATE_TEXT: Record<string, string> = { unset: 'never chosen', granted: 'on', withdrawn: 'off', objected: 'off (objection)' };

/** /settings/preferences */
export function PreferencesPage() {
  useTitle('Email preferences');
  const record = useLoad(() => api<PreferenceRecord>('GET', '/api/v1/me/preferences'), []);
  const [notice, setNotice] = useState<{ tone: 'success' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  async function change(kind: Kind, on: boolean, name: string) {
    setBusy(true);
    try {
      record.set(await api<PreferenceRecord>('PUT', '/api/v1/me/preferences', { body: { [kind]: on } }));
      setNotice({ tone: 'success', text: `${name}: ${on ? 'on' : 'off'}.` });
    } catch (err) {
      setNotice({ tone: 'error', text: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  const r = record.value;
  return (
    <Page title="Email preferences" narrow>
      <div className="stack">
        <TransferOffer />
        <div aria-live="polite">{notice ? <Alert tone={notice.tone}>{notice.text}</Alert> : null}</div>
        {record.error ? <Alert tone="error">{errorText(record.error)}</Alert> : null}
        {!r && !record.error ? <Loading /> : null}
        {r ? (
          <>
            <section className="card" aria-labelledby="prefs-h">
              <h2 id="prefs-h">Optional emails to {r.email}</h2>
              <p className="hint">Secure-message notifications, codes and sign-in links are always sent: they are part of the service. Everything below is off until you turn it on.</p>
              {r.restricted ? <Alert tone="info">Processing of your data is restricted at your request, so no optional email is sent to you, whatever you choose here.</Alert> : null}
              <fieldset className="field">
                <legend>Send me</legend>
                {KINDS.map(({ kind, name, what }) => {
                  const p = r.preferences[kind];
                  const on = p?.state === 'granted';
                  return (
                    <div key={kind} className="pref">
                      <label className="check">
                        <input type="checkbox" checked={on} disabled={busy} aria-describedby={`pref-${kind}-hint`} onChange={(e) => void change(kind, e.target.checked, name)} /> {name}
                      </label>
                      <p className="hint" id={`pref-${kind}-hint`}>
                        {what} {p?.updatedAt ? `Last changed ${formatDateTime(p.updatedAt)} ${VIA_TEXT[p.via ?? ''] ?? ''}.` : ''}
                      </p>
                    </div>
                  );
                })}
              </fieldset>
              <p className="hint">
                Privacy notice version in force: <code>{r.noticeVersion}</code> (recorded with every change). <a href="/privacy">Read the privacy notice</a>.
              </p>
            </section>
            <section className="card" aria-labelledby="prefs-history-h">
              <h2 id="prefs-history-h">History</h2>
              {r.history.length === 0 ? (
                <p className="empty">No changes yet.</p>
              ) : (
                <div className="table-wrap">
                  <table className="table" aria-labelledby="prefs-history-h">
                    <thead>
                      <tr>
                        <th scope="col">When</th>
                        <th scope="col">Email</th>
                        <th scope="col">Change</th>
                        <th scope="col">How</th>
                        <th scope="col">Notice version</th>
                      </tr>
                    </thead>
                    <tbody>
                      {[...r.history].reverse().map((h, i) => (
                        <tr key={i}>
                          <td>{formatDateTime(h.changedAt)}</td>
                          <td>{KINDS.find((k) => k.kind === h.kind)?.name ?? h.kind}</td>
                          <td>
                            {STATE_TEXT[h.from] ?? h.from} → <Badge tone={h.to === 'granted' ? 'good' : 'neutral'}>{STATE_TEXT[h.to] ?? h.to}</Badge>
                          </td>
                          <td>{VIA_TEXT[h.via] ?? h.via}</td>
                          <td>
                            <code>{h.noticeVersion ?? '—'}</code>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </section>
          </>
        ) : null}
      </div>
    </Page>
  );
}
