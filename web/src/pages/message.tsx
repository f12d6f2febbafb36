// One sent message: per-recipient status, controls after sending (revoke all or one and undo,
// expiry, add and remove recipients, access requests), the thread with replies, and the audit
// timeline of sends, code requests, opens, downloads and refusals.
import { useEffect, useState, type FormEvent } from 'react';
import { RecipientField } from '../components/recipients.tsx';
import { Alert, Badge, Field, Loading, Page } from '../components/ui.tsx';
import { api, ApiError } from '../lib/api.ts';
import { formatBytes, formatDateTime, isEmailAddress } from '../lib/format.ts';
import { errorText, useLoad, useTitle } from '../lib/hooks.ts';
import { sanitizeHtml } from '../lib/sanitize.ts';
import type { AccessRequest, AuditEvent, RecipientStatus, SentMessage, ThreadMessage } from '../lib/types.ts';
import { messageState } from './sent.tsx';

const STATUS: Record<RecipientStatus, { text: string; tone: 'neutral' | 'good' | 'warn' | 'bad' | 'info' }> = {
  pending: { text: 'Sending notification', tone: 'neutral' },
  notified: { text: 'Notified', tone: 'info' },
  delivery_failed: { text: 'Delivery failed', tone: 'bad' },
  opened: { text: 'Opened', tone: 'good' },
  revoked: { text: 'Revoked', tone: 'bad' },
  expired: { text: 'Expired', tone: 'warn' },
  removed: { text: 'Removed', tone: 'neutral' },
};

/** Plain words for an audit action. */
function describeAction(e: AuditEvent): string {
  const words: Record<string, string> = {
    'message.sent': 'Message sent',
    'message.keys_released': 'Opened (keys released to the reader)',
    'message.object_downloaded': 'File or message downloaded',
    'message.revoked': 'Revoked for everyone',
    'message.unrevoked': 'Revocation undone',
    'message.expiry_changed': 'Expiry changed',
    'message.replied': 'Replied',
    'message.read_in_thread': 'Read in the conversation',
    'recipient.revoked': 'Revoked for a recipient',
    'recipient.unrevoked': "A recipient's revocation undone",
    'recipient.added': 'Recipient added',
    'recipient.removed': 'Recipient removed',
    'recipient.code_requested': 'Code requested',
    'recipient.code_verified': 'Code entered',
    'recipient.disclaimer_accepted': 'Disclaimer accepted',
    'access_request.created': 'Access requested',
    'access_request.verified': 'Access request confirmed',
    'access_request.approved': 'Access request approved',
    'access_request.denied': 'Access request denied',
  };
  return words[e.action] ?? e.action.replace(/[._]/g, ' ');
}

/** How long after opening the page or acting on it recipients' statuses are watched, and how often. */
const STATUS_WATCH_MS = 30_000;
const STATUS_POLL_MS = 1_000;

export function MessagePage({ id }: { id: string }) {
  const msg = useLoad(() => api<SentMessage>('GET', `/api/v1/messages/${encodeURIComponent(id)}`), [id]);
  const audit = useLoad(() => api<{ events: AuditEvent[] }>('GET', `/api/v1/messages/${encodeURIComponent(id)}/audit`).then((r) => r.events), [id]);
  const thread = useLoad(() => api<{ messages: ThreadMessage[] }>('GET', `/api/v1/messages/${encodeURIComponent(id)}/thread`).then((r) => r.messages), [id]);
  const requests = useLoad(() => api<{ requests: AccessRequest[] }>('GET', `/api/v1/messages/${encodeURIComponent(id)}/access-requests`).then((r) => r.requests), [id]);
  const [notice, setNotice] = useState<{ tone: 'success' | 'error'; text: string; undo?: () => Promise<unknown> } | null>(null);
  const [busy, setBusy] = useState(false);
  const [watchUntil, setWatchUntil] = useState(() => Date.now() + STATUS_WATCH_MS);
  useTitle(msg.value?.subject ?? 'Message');

  // Notifications are sent in the background: while a recipient is still "Sending notification"
  // shortly after the page opened or after an action (approving a request adds a Bcc recipient,
  // adding recipients notifies them), reload the message so the status changes on its own.
  useEffect(() => {
    if (!msg.value?.recipients.some((r) => r.status === 'pending') || Date.now() >= watchUntil) return;
    const timer = setTimeout(() => msg.reload(), STATUS_POLL_MS);
    return () => clearTimeout(timer);
  }, [msg.value, watchUntil, msg.reload]);

  /** Runs one action; resolves to whether it succeeded (forms clear their input on success). */
  async function act(run: () => Promise<SentMessage | unknown>, success: string, undo?: () => Promise<unknown>): Promise<boolean> {
    setBusy(true);
    try {
      const r = await run();
      if (r && typeof r === 'object' && 'recipients' in r) msg.set(r as SentMessage);
      // Also supersedes a status reload already under way, which could answer with older data.
      msg.reload();
      setWatchUntil(Date.now() + STATUS_WATCH_MS);
      setNotice({ tone: 'success', text: success, ...(undo ? { undo } : {}) });
      audit.reload();
      requests.reload();
      return true;
    } catch (err) {
      setNotice({ tone: 'error', text: errorText(err) });
      return false;
    } finally {
      setBusy(false);
    }
  }

  if (msg.error) {
    return (
      <Page title="Message not found">
        <Alert tone="error">{msg.error instanceof ApiError && msg.error.status === 404 ? 'This message does not exist or was not sent by you.' : errorText(msg.error)}</Alert>
      </Page>
    );
  }
  if (!msg.value) {
    return (
      <Page title="Message">
        <Loading />
      </Page>
    );
  }
  const m = msg.value;
  const base = `/api/v1/messages/${encodeURIComponent(m.id)}`;
  const state = messageState(m);
  const revoke = () => act(() => api('POST', `${base}/revoke`), 'Revoked. No one can open this message any more.', () => act(() => api('POST', `${base}/unrevoke`), 'Revocation undone.'));

  return (
    <Page
      title={m.contentErased ? '(content erased)' : m.subject || '(no subject)'}
      actions={
        m.revokedAt ? (
          <button type="button" className="button" disabled={busy} onClick={() => void act(() => api('POST', `${base}/unrevoke`), 'Revocation undone. Recipients can open the message again.')}>
            Undo revoke
          </button>
        ) : (
          <button type="button" className="button button-danger" disabled={busy} onClick={() => void revoke()}>
            Revoke for everyone
          </button>
        )
      }
    >
      <div aria-live="polite" className="notice-slot">
        {notice ? (
          <Alert tone={notice.tone}>
            {notice.text}{' '}
            {notice.undo ? (
              <button type="button" className="linklike" onClick={() => void notice.undo!()}>
                Undo
              </button>
            ) : null}
          </Alert>
        ) : null}
      </div>
      <div className="grid">
        <div className="stack">
          <section className="card" aria-labelledby="summary-h">
            <h2 id="summary-h">Summary</h2>
            <dl className="meta">
              <dt>State</dt>
              <dd>
                <Badge tone={state.tone}>{state.text}</Badge>
              </dd>
              <dt>Label</dt>
              <dd>
                <Badge tone="info">{m.label}</Badge>
              </dd>
              <dt>Sent</dt>
              <dd>{formatDateTime(m.createdAt)}</dd>
              <dt>Expires</dt>
              <dd>{m.expiresAt ? formatDateTime(m.expiresAt) : 'Never'}</dd>
              {m.attachments.length ? (
                <>
                  <dt>Files</dt>
                  <dd>{m.attachments.map((a) => `${a.filename} (${formatBytes(a.size)})`).join(', ')}</dd>
                </>
              ) : null}
            </dl>
            <ExpiryForm message={m} busy={busy} onSave={(expiresAt) => act(() => api('PATCH', base, { body: { expiresAt } }), expiresAt ? 'Expiry changed.' : 'Expiry removed.')} />
          </section>
          <section className="card" aria-labelledby="recipients-h">
            <h2 id="recipients-h">Recipients</h2>
            <div className="table-wrap">
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">Recipient</th>
                    <th scope="col">Status</th>
                    <th scope="col">Last opened</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {m.recipients.map((r) => (
                    <tr key={r.id}>
                      <td>
                        {r.email} <span className="hint">{r.kind.toUpperCase()}</span>
                      </td>
                      <td>
                        <Badge tone={STATUS[r.status].tone}>{STATUS[r.status].text}</Badge>
                        {r.deliveryError ? <span className="hint"> {r.deliveryError}</span> : null}
                      </td>
                      <td>{r.lastOpenedAt ? formatDateTime(r.lastOpenedAt) : '—'}</td>
                      <td className="actions">
                        {r.status === 'removed' ? null : r.revokedAt ? (
                          <button type="button" className="button button-small" disabled={busy} onClick={() => void act(() => api('POST', `${base}/recipients/${r.id}/unrevoke`), `Access restored for ${r.email}.`)}>
                            Undo revoke<span className="visually-hidden"> for {r.email}</span>
                          </button>
                        ) : (
                          <button type="button" className="button button-small" disabled={busy} onClick={() => void act(() => api('POST', `${base}/recipients/${r.id}/revoke`), `Revoked for ${r.email}.`, () => act(() => api('POST', `${base}/recipients/${r.id}/unrevoke`), `Access restored for ${r.email}.`))}>
                            Revoke<span className="visually-hidden"> for {r.email}</span>
                          </button>
                        )}
                        {r.status === 'removed' ? null : (
                          <button type="button" className="button button-small button-quiet" disabled={busy} onClick={() => void act(() => api('DELETE', `${base}/recipients/${r.id}`), `${r.email} removed; their link no longer works.`)}>
                            Remove<span className="visually-hidden"> {r.email}</span>
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <AddRecipients busy={busy} onAdd={(body) => act(() => api('POST', `${base}/recipients`, { body }), 'Recipients added and notified.')} />
          </section>
          {requests.value && requests.value.length ? (
            <section className="card" aria-labelledby="requests-h">
              <h2 id="requests-h">Access requests</h2>
              <ul className="plain-list">
                {requests.value.map((r) => (
                  <li key={r.id} className="request">
                    <p>
                      <strong>{r.email}</strong> asked {formatDateTime(r.requestedAt)} through {r.via}'s link.
                      {r.reason ? <span className="quote"> “{r.reason}”</span> : null}
                    </p>
                    {r.status === 'pending' ? (
                      <div className="row">
                        <button type="button" className="button button-small button-primary" disabled={busy} onClick={() => void act(() => api('POST', `${base}/access-requests/${r.id}/approve`), `${r.email} can now open the message (added as Bcc).`)}>
                          Approve<span className="visually-hidden"> {r.email}</span>
                        </button>
                        <button type="button" className="button button-small" disabled={busy} onClick={() => void act(() => api('POST', `${base}/access-requests/${r.id}/deny`), `Request from ${r.email} denied.`)}>
                          Deny<span className="visually-hidden"> {r.email}</span>
                        </button>
                      </div>
                    ) : (
                      <Badge tone={r.status === 'approved' ? 'good' : 'neutral'}>{r.status === 'approved' ? 'Approved' : 'Denied'}</Badge>
                    )}
                  </li>
                ))}
              </ul>
            </section>
          ) : null}
          <section className="card" aria-labelledby="thread-h">
            <h2 id="thread-h">Conversation</h2>
            {thread.loading && !thread.value ? <Loading /> : null}
            {thread.error ? <Alert tone="error">{errorText(thread.error)}</Alert> : null}
            <ol className="thread">
              {(thread.value ?? []).map((t) => (
                <li key={t.id} className={t.fromRecipient ? 'thread-item thread-reply' : 'thread-item'} aria-current={t.id === m.id ? 'true' : undefined}>
                  <p className="thread-head">
                    <strong>{t.sentByYou ? 'You' : t.sender}</strong> <span className="hint">to {[...t.to, ...t.cc].join(', ')}</span> <time dateTime={t.createdAt} className="hint">{formatDateTime(t.createdAt)}</time>
                    {t.fromRecipient ? <Badge tone="info">Reply</Badge> : null}
                  </p>
                  {t.withheld ? (
                    <p className="hint">{t.withheld === 'message_revoked' ? 'This message was revoked.' : t.withheld === 'content_erased' ? 'The content of this message was erased under your organisation\'s retention policy or an erasure request.' : 'This message has expired.'}</p>
                  ) : t.html ? (
                    <div className="body body-html" dangerouslySetInnerHTML={{ __html: sanitizeHtml(t.html) }} />
                  ) : (
                    <div className="body body-text">{t.text}</div>
                  )}
                  {t.attachments.length ? <p className="hint">Files: {t.attachments.map((a) => `${a.filename} (${formatBytes(a.size)})`).join(', ')}</p> : null}
                </li>
              ))}
            </ol>
          </section>
        </div>
        <section className="card timeline-card" aria-labelledby="audit-h">
          <div className="row space-between">
            <h2 id="audit-h">Activity</h2>
            <button type="button" className="button button-small button-quiet" onClick={() => { audit.reload(); msg.reload(); thread.reload(); requests.reload(); }}>
              Refresh
            </button>
          </div>
          {audit.loading && !audit.value ? <Loading /> : null}
          <ol className="timeline" aria-label="Audit timeline">
            {(audit.value ?? []).map((e, i) => (
              <li key={i} className={e.outcome === 'success' ? 'tl-item' : 'tl-item tl-denied'}>
                <p className="tl-what">
                  {describeAction(e)}
                  {e.outcome !== 'success' ? <Badge tone="bad">{e.reason ? e.reason.replace(/_/g, ' ') : e.outcome}</Badge> : null}
                </p>
                <p className="hint">
                  <time dateTime={e.occurredAt}>{formatDateTime(e.occurredAt)}</time>
                  {e.recipient ? ` · ${e.recipient}` : ''}
                  {e.ip ? ` · from ${e.ip}` : ''}
                </p>
                {e.userAgent ? <p className="hint tl-ua">{e.userAgent}</p> : null}
              </li>
            ))}
          </ol>
        </section>
      </div>
    </Page>
  );
}

function ExpiryForm({ message, busy, onSave }: { message: SentMessage; busy: boolean; onSave(expiresAt: string | null): Promise<boolean> }) {
  const [value, setValue] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    // Once saved, the new expiry shows in the summary above; the field is for the next change.
    if (value) void onSave(new Date(value).toISOString()).then((saved) => saved && setValue(''));
  };
  return (
    <form className="inline-form" onSubmit={submit} noValidate>
      <Field label="New expiry" type="datetime-local" value={value} onChange={(e) => setValue(e.target.value)} />
      <button type="submit" className="button button-small" disabled={busy || !value}>
        Change expiry
      </button>
      {message.expiresAt ? (
        <button type="button" className="button button-small button-quiet" disabled={busy} onClick={() => void onSave(null)}>
          Remove expiry
        </button>
      ) : null}
    </form>
  );
}

function AddRecipients({ busy, onAdd }: { busy: boolean; onAdd(body: { to?: string[]; cc?: string[]; bcc?: string[] }): Promise<boolean> }) {
  const [open, setOpen] = useState(false);
  const [to, setTo] = useState<string[]>([]);
  const [bcc, setBcc] = useState<string[]>([]);
  if (!open) {
    return (
      <button type="button" className="button button-small" onClick={() => setOpen(true)}>
        Add recipients
      </button>
    );
  }
  const ok = to.length + bcc.length > 0 && [...to, ...bcc].every(isEmailAddress);
  return (
    <form
      className="form"
      onSubmit={(e) => {
        e.preventDefault();
        void onAdd({ to, bcc }).then((added) => {
          if (!added) return;
          setTo([]);
          setBcc([]);
          setOpen(false);
        });
      }}
      noValidate
    >
      <RecipientField label="Add to To" values={to} onChange={setTo} />
      <RecipientField label="Add to Bcc" values={bcc} onChange={setBcc} />
      <div className="row">
        <button type="submit" className="button button-small button-primary" disabled={busy || !ok}>
          Add and notify
        </button>
        <button type="button" className="button button-small button-quiet" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
