// The recipient's page: /open#<link token>. Link → code by email → disclaimer (if the label
// has one) → keys released to this tab → decrypted here → read, download or view, reply.
// Before the code is verified every link looks the same (active, revoked or expired): only a
// verified recipient learns the message's state. An unknown link gets one page that says
// nothing about whether a message exists.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { AttachmentPicker, useDraftFiles } from '../components/attachments.tsx';
import { Alert, Badge, Field, Loading, Page, ProgressBar, Select, TextArea } from '../components/ui.tsx';
import { ApiError } from '../lib/api.ts';
import { formatBytes, formatDateTime } from '../lib/format.ts';
import { errorText, useTitle } from '../lib/hooks.ts';
import { blobCollector, decryptAttachment, openMessage, recipientApi, RECIPIENT_SESSION_HEADER, type OpenedSession } from '../lib/recipient.ts';
import { sanitizeHtml } from '../lib/sanitize.ts';

type State =
  | { kind: 'checking' }
  | { kind: 'unknown' }
  | { kind: 'rate_limited'; retryAfter?: number }
  | { kind: 'start'; maskedEmail: string }
  | { kind: 'code'; maskedEmail: string; sentTo: string }
  | { kind: 'disclaimer'; session: string; text: string }
  | { kind: 'opening'; session: string }
  | { kind: 'read'; session: string; opened: OpenedSession }
  | { kind: 'withdrawn'; reason: 'revoked' | 'expired' | 'removed' }
  | { kind: 'session_ended' }
  | { kind: 'request_access' }
  | { kind: 'failed'; message: string };

const linkFromHash = (): string => window.location.hash.replace(/^#/, '').trim();

/** Maps refusals after verification to the state shown (the recipient proved who they are). */
function refusalState(err: unknown): State | null {
  if (!(err instanceof ApiError)) return null;
  if (err.code === 'message_revoked') return { kind: 'withdrawn', reason: 'revoked' };
  if (err.code === 'message_expired') return { kind: 'withdrawn', reason: 'expired' };
  if (err.code === 'recipient_removed' || err.code === 'link_not_found') return { kind: 'unknown' };
  if (err.code === 'recipient_session_invalid' || err.code === 'recipient_session_required') return { kind: 'session_ended' };
  if (err.status === 429) return { kind: 'rate_limited', ...(err.retryAfterSeconds ? { retryAfter: err.retryAfterSeconds } : {}) };
  return null;
}

/**
 * Whether a refusal while reading ends the reading: 403 (withdrawn, expired, removed) and 401
 * (the 30-minute session ended), so the page changes to say so instead of showing the server's
 * sentence next to a file or the reply box.
 */
const endsReading = (err: unknown): boolean => err instanceof ApiError && (err.status === 401 || err.status === 403);

export function OpenPage() {
  const [link] = useState(linkFromHash);
  const [state, setState] = useState<State>({ kind: 'checking' });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [code, setCode] = useState('');

  useTitle(state.kind === 'read' ? state.opened.envelope.subject || 'Secure message' : 'Secure message');

  useEffect(() => {
    if (!link) {
      setState({ kind: 'unknown' });
      return;
    }
    recipientApi.describe(link).then(
      (d) => setState({ kind: 'start', maskedEmail: d.maskedEmail }),
      (err: unknown) => setState(refusalState(err) ?? { kind: 'failed', message: errorText(err) }),
    );
  }, [link]);

  async function requestCode() {
    if (state.kind !== 'start' && state.kind !== 'code') return;
    setBusy(true);
    setError(null);
    try {
      const r = await recipientApi.requestCode(link);
      setCode('');
      setState({ kind: 'code', maskedEmail: state.maskedEmail, sentTo: r.sentTo });
    } catch (err) {
      const s = refusalState(err);
      if (s) setState(s);
      else setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  async function open(session: string) {
    setState({ kind: 'opening', session });
    try {
      const opened = await openMessage(session);
      setState({ kind: 'read', session, opened });
    } catch (err) {
      if (err instanceof ApiError && err.code === 'disclaimer_required') {
        const st = await recipientApi.status(session);
        setState({ kind: 'disclaimer', session, text: st.disclaimer ?? '' });
        return;
      }
      setState(refusalState(err) ?? { kind: 'failed', message: `The message could not be opened: ${errorText(err)}` });
    }
  }

  async function verify(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { sessionToken } = await recipientApi.verify(link, code.replace(/\s+/g, ''));
      const st = await recipientApi.status(sessionToken);
      if (st.disclaimer && !st.disclaimerAccepted) setState({ kind: 'disclaimer', session: sessionToken, text: st.disclaimer });
      else await open(sessionToken);
    } catch (err) {
      const s = refusalState(err);
      if (s) setState(s);
      else if (err instanceof ApiError && err.code === 'code_wrong') setError('That code is not right. Check the latest email from Sealpost and try again.');
      else if (err instanceof ApiError && (err.code === 'code_locked' || err.code === 'code_expired')) setError('This code can no longer be used. Request a new code.');
      else setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  async function acceptDisclaimer() {
    if (state.kind !== 'disclaimer') return;
    setBusy(true);
    try {
      await recipientApi.acceptDisclaimer(state.session);
      await open(state.session);
    } catch (err) {
      setState(refusalState(err) ?? { kind: 'failed', message: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  switch (state.kind) {
    case 'checking':
      return (
        <Page title="Secure message" narrow>
          <Loading label="Checking your link…" />
        </Page>
      );
    case 'unknown':
      return (
        <Page title="This link does not work" narrow>
          <div className="card">
            <p>The link may be incomplete, or it is no longer valid. Open it again from the email you received, making sure the whole address was copied.</p>
            <p>If you expected a message, contact the person who sent it.</p>
          </div>
        </Page>
      );
    case 'rate_limited':
      return (
        <Page title="Please wait a moment" narrow>
          <div className="card">
            <p>There have been too many attempts with this link or from your network.</p>
            <p>{state.retryAfter ? `Try again in about ${Math.max(1, Math.ceil(state.retryAfter / 60))} minutes.` : 'Try again a little later.'}</p>
          </div>
        </Page>
      );
    case 'withdrawn':
      return (
        <Page title={state.reason === 'expired' ? 'This message has expired' : 'This message is no longer available'} narrow>
          <div className="card">
            {state.reason === 'expired' ? <p>The sender set this message to expire, and that time has passed. It can no longer be opened.</p> : <p>The sender has withdrawn access to this message. It can no longer be opened.</p>}
            <p>If you still need it, contact the sender.</p>
          </div>
        </Page>
      );
    case 'session_ended':
      return (
        <Page title="Your secure session ended" narrow>
          <div className="card">
            <p>For your protection, access ends after 30 minutes. Open the link again and request a new code to continue.</p>
            <button type="button" className="button button-primary" onClick={() => window.location.reload()}>
              Start again
            </button>
          </div>
        </Page>
      );
    case 'failed':
      return (
        <Page title="Something went wrong" narrow>
          <Alert tone="error">{state.message}</Alert>
        </Page>
      );
    case 'request_access':
      return <RequestAccess link={link} onBack={() => window.location.reload()} />;
    case 'start':
    case 'code':
      return (
        <Page title="You have a secure message" narrow>
          <div className="card form">
            <p>
              To open it, confirm that you can read email sent to <strong>{state.maskedEmail}</strong>. We will email you a 6-digit code.
            </p>
            {error ? <Alert tone="error">{error}</Alert> : null}
            {state.kind === 'start' ? (
              <button type="button" className="button button-primary" onClick={() => void requestCode()} disabled={busy}>
                {busy ? 'Sending…' : 'Email me a code'}
              </button>
            ) : (
              <form onSubmit={verify} className="form" noValidate>
                <Alert tone="info">A code was sent to {state.sentTo}. It is valid for 10 minutes.</Alert>
                <Field label="6-digit code" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]*" maxLength={12} required value={code} onChange={(e) => setCode(e.target.value)} autoFocus className="code-input" />
                <div className="row">
                  <button type="submit" className="button button-primary" disabled={busy || code.replace(/\s+/g, '').length < 6}>
                    {busy ? 'Checking…' : 'Open message'}
                  </button>
                  <button type="button" className="button button-quiet" onClick={() => void requestCode()} disabled={busy}>
                    Send a new code
                  </button>
                </div>
              </form>
            )}
            <p className="hint">
              Not your address? The message was sent to someone else; you can{' '}
              <button type="button" className="linklike" onClick={() => setState({ kind: 'request_access' })}>
                ask the sender for access
              </button>
              .
            </p>
          </div>
        </Page>
      );
    case 'disclaimer':
      return (
        <Page title="Before you open this message" narrow>
          <div className="card form">
            <p className="disclaimer">{state.text}</p>
            <button type="button" className="button button-primary" onClick={() => void acceptDisclaimer()} disabled={busy}>
              I accept, open the message
            </button>
          </div>
        </Page>
      );
    case 'opening':
      return (
        <Page title="Opening your message" narrow>
          <Loading label="Decrypting in your browser…" />
        </Page>
      );
    case 'read':
      return <ReadMessage session={state.session} opened={state.opened} onRefused={(err) => setState(refusalState(err) ?? { kind: 'failed', message: errorText(err) })} />;
  }
}

/** The watermark drawn over content when the label asks for one (who opened it, and when). */
function Watermark({ text }: { text: string }) {
  return (
    <div className="watermark" aria-hidden="true">
      {Array.from({ length: 24 }, (_, i) => (
        <span key={i}>{text}</span>
      ))}
    </div>
  );
}

const VIEWABLE = (type: string) => type.startsWith('text/') || /^image\/(png|jpeg|gif|webp|avif|bmp)$/.test(type) || type === 'application/pdf';

type FileState = { done: number; total: number; state: 'idle' | 'working' | 'done' | 'failed'; error?: string };

// Above this size a file goes straight to disk when the browser can (File System Access);
// smaller ones are collected into a Blob, which the browser may keep out of the JS heap.
const DIRECT_TO_DISK_BYTES = 64 * 1024 * 1024;

function ReadMessage({ session, opened, onRefused }: { session: string; opened: OpenedSession; onRefused(err: unknown): void }) {
  const { message, envelope, you } = opened;
  const [files, setFiles] = useState<Record<string, FileState>>({});
  const [viewer, setViewer] = useState<{ name: string; type: string; url: string; text?: string } | null>(null);
  const watermarkText = `${you.email} · ${new Date().toLocaleString()}`;
  const html = envelope.html ? sanitizeHtml(envelope.html) : null;
  const viewerRef = useRef<HTMLDivElement>(null);

  useEffect(() => () => {
    if (viewer) URL.revokeObjectURL(viewer.url);
  }, [viewer]);

  const setFile = (id: string, patch: Partial<FileState>) => setFiles((f) => ({ ...f, [id]: { done: 0, total: 0, state: 'idle', ...f[id], ...patch } }));

  async function decryptTo(objectId: string, sink: WritableStream<Uint8Array>) {
    setFile(objectId, { state: 'working', done: 0, error: undefined });
    await decryptAttachment(session, opened, objectId, sink, (done, total) => setFile(objectId, { done, total }));
    setFile(objectId, { state: 'done' });
  }

  async function download(a: (typeof envelope.attachments)[number]) {
    try {
      const picker = (window as unknown as { showSaveFilePicker?: (o: { suggestedName: string }) => Promise<{ createWritable(): Promise<WritableStream<Uint8Array>> }> }).showSaveFilePicker;
      if (picker && a.size > DIRECT_TO_DISK_BYTES) {
        const handle = await picker({ suggestedName: a.filename });
        await decryptTo(a.objectId, await handle.createWritable());
        return;
      }
      const collector = blobCollector(a.contentType);
      await decryptTo(a.objectId, collector.sink);
      const url = URL.createObjectURL(collector.blob());
      const anchor = document.createElement('a');
      anchor.href = url;
      anchor.download = a.filename;
      document.body.appendChild(anchor);
      anchor.click();
      anchor.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') return setFile(a.objectId, { state: 'idle' });
      if (endsReading(err)) return onRefused(err);
      setFile(a.objectId, { state: 'failed', error: errorText(err) });
    }
  }

  async function view(a: (typeof envelope.attachments)[number]) {
    try {
      const collector = blobCollector(a.contentType);
      await decryptTo(a.objectId, collector.sink);
      const blob = collector.blob();
      const text = a.contentType.startsWith('text/') ? await blob.text() : undefined;
      setViewer({ name: a.filename, type: a.contentType, url: URL.createObjectURL(blob), ...(text !== undefined ? { text } : {}) });
      setTimeout(() => viewerRef.current?.focus(), 0);
    } catch (err) {
      if (endsReading(err)) return onRefused(err);
      setFile(a.objectId, { state: 'failed', error: errorText(err) });
    }
  }

  return (
    <Page title={envelope.subject || '(no subject)'}>
      <article className="card message" aria-labelledby="message-meta">
        <dl className="meta" id="message-meta">
          <dt>From</dt>
          <dd>{message.sender}</dd>
          <dt>To</dt>
          <dd>{message.to.join(', ') || '—'}</dd>
          {message.cc.length ? (
            <>
              <dt>Cc</dt>
              <dd>{message.cc.join(', ')}</dd>
            </>
          ) : null}
          <dt>Sent</dt>
          <dd>{formatDateTime(message.sentAt)}</dd>
          {message.expiresAt ? (
            <>
              <dt>Expires</dt>
              <dd>{formatDateTime(message.expiresAt)}</dd>
            </>
          ) : null}
        </dl>
        <p className="label-line">
          <Badge tone="info">{message.label.name}</Badge>
          {message.label.noForward ? <span className="hint"> Do not forward.</span> : null}
          {message.label.noDownload ? <span className="hint"> Attachments can be viewed here but not saved.</span> : null}
          {you.kind === 'bcc' ? <span className="hint"> You received this as a blind copy.</span> : null}
        </p>
        <div className="body-wrap">
          {message.label.watermark ? <Watermark text={watermarkText} /> : null}
          {html ? <div className="body body-html" dangerouslySetInnerHTML={{ __html: html }} /> : <div className="body body-text">{envelope.text}</div>}
        </div>
        {envelope.attachments.length ? (
          <section aria-labelledby="attachments-heading" className="attachments-read">
            <h2 id="attachments-heading">Attachments</h2>
            <ul className="file-list">
              {envelope.attachments.map((a) => {
                const f = files[a.objectId];
                return (
                  <li key={a.objectId} className="file-item">
                    <div className="file-row">
                      <span className="file-name">{a.filename}</span>
                      <span className="file-size">{formatBytes(a.size)}</span>
                      {message.label.noDownload ? (
                        VIEWABLE(a.contentType) ? (
                          <button type="button" className="button button-small" onClick={() => void view(a)} disabled={f?.state === 'working'}>
                            View<span className="visually-hidden"> {a.filename}</span>
                          </button>
                        ) : (
                          <span className="hint">Cannot be saved under this label</span>
                        )
                      ) : (
                        <button type="button" className="button button-small" onClick={() => void download(a)} disabled={f?.state === 'working'}>
                          Download<span className="visually-hidden"> {a.filename}</span>
                        </button>
                      )}
                    </div>
                    {f && f.state !== 'idle' ? f.state === 'failed' ? <p className="field-error" role="alert">{f.error}</p> : <ProgressBar label={f.state === 'done' ? `${a.filename} decrypted` : `Decrypting ${a.filename}`} done={f.done} total={f.total || a.size} /> : null}
                  </li>
                );
              })}
            </ul>
          </section>
        ) : null}
      </article>
      {viewer ? (
        <section className="card viewer" aria-label={`Viewing ${viewer.name}`} tabIndex={-1} ref={viewerRef}>
          <div className="row space-between">
            <h2>{viewer.name}</h2>
            <button type="button" className="button button-quiet" onClick={() => setViewer(null)}>
              Close viewer
            </button>
          </div>
          <div className="viewer-frame" onContextMenu={(e) => e.preventDefault()}>
            {message.label.watermark ? <Watermark text={watermarkText} /> : null}
            {viewer.text !== undefined ? <pre className="viewer-text">{viewer.text}</pre> : viewer.type.startsWith('image/') ? <img src={viewer.url} alt={viewer.name} /> : <iframe title={viewer.name} src={`${viewer.url}#toolbar=0`} />}
          </div>
        </section>
      ) : null}
      <ReplyForm session={session} opened={opened} onRefused={onRefused} />
    </Page>
  );
}

const REGION_NAMES: Record<string, string> = { uk: 'United Kingdom', eea: 'European Economic Area', us: 'United States' };

function ReplyForm({ session, opened, onRefused }: { session: string; opened: OpenedSession; onRefused(err: unknown): void }) {
  const [open, setOpen] = useState<null | 'reply' | 'all'>(null);
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [sent, setSent] = useState<string | null>(null);
  // Residency: offered only when the sender's organisation lets recipients choose (docs/privacy.md).
  const [regions, setRegions] = useState<{ default: string; choices: string[] } | null>(null);
  const [region, setRegion] = useState<string | null>(null);
  const draft = useDraftFiles(`/api/v1/access/uploads${region ? `?region=${region}` : ''}`, { [RECIPIENT_SESSION_HEADER]: session }, { anonymous: true });
  const isBcc = opened.you.kind === 'bcc';

  useEffect(() => {
    if (open === null || regions) return;
    // Without the list the reply simply goes to the default region.
    recipientApi.replyRegions(session).then(setRegions, () => undefined);
  }, [open, regions, session]);

  async function send(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await recipientApi.reply(session, { text, html: null, replyAll: open === 'all', ...(region ? { region } : {}), attachments: draft.attachments() });
      setSent(`Your reply was sent securely to ${[...r.to, ...r.cc].join(', ')}.`);
      setText('');
      draft.clear();
      setOpen(null);
    } catch (err) {
      if (endsReading(err) && !(err instanceof ApiError && err.code === 'bcc_reply_all')) onRefused(err);
      else setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card reply" aria-labelledby="reply-heading">
      <h2 id="reply-heading">Reply securely</h2>
      {sent ? <Alert tone="success">{sent}</Alert> : null}
      {open === null ? (
        <div className="row">
          <button type="button" className="button button-primary" onClick={() => setOpen('reply')}>
            Reply
          </button>
          <button type="button" className="button" onClick={() => setOpen('all')} disabled={isBcc} aria-describedby={isBcc ? 'bcc-note' : undefined}>
            Reply all
          </button>
          {isBcc ? (
            <span className="hint" id="bcc-note">
              As a blind-copy recipient you can reply to the sender only.
            </span>
          ) : null}
        </div>
      ) : (
        <form className="form" onSubmit={send} noValidate>
          <p className="hint">{open === 'all' ? `To ${opened.message.sender} and everyone on To and Cc.` : `To ${opened.message.sender}.`} Your reply is sealed like the original.</p>
          {error ? <Alert tone="error">{error}</Alert> : null}
          <TextArea label="Your reply" rows={6} required value={text} onChange={(e) => setText(e.target.value)} autoFocus />
          {regions && regions.choices.length > 1 ? (
            <Select
              label="Store my reply in"
              hint={draft.files.length > 0 ? 'Remove the attachments to change where your reply is stored.' : 'The sender’s organisation lets you choose where your reply is stored.'}
              value={region ?? regions.default}
              disabled={draft.files.length > 0}
              onChange={(e) => setRegion(e.target.value)}
            >
              {regions.choices.map((r) => (
                <option key={r} value={r}>
                  {REGION_NAMES[r] ?? r}
                </option>
              ))}
            </Select>
          ) : null}
          <AttachmentPicker draft={draft} />
          <div className="row">
            <button type="submit" className="button button-primary" disabled={busy || !text.trim() || draft.busy}>
              {busy ? 'Sending…' : 'Send reply'}
            </button>
            <button type="button" className="button button-quiet" onClick={() => setOpen(null)}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

function RequestAccess({ link, onBack }: { link: string; onBack(): void }) {
  const [email, setEmail] = useState('');
  const [reason, setReason] = useState('');
  const [requestId, setRequestId] = useState<string | null>(null);
  const [code, setCode] = useState('');
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function ask(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setRequestId((await recipientApi.requestAccess(link, email.trim(), reason.trim())).requestId);
    } catch (err) {
      setError(err instanceof ApiError && err.code === 'forwarding_not_allowed' ? 'This message cannot be shared further. Contact the sender directly.' : errorText(err));
    } finally {
      setBusy(false);
    }
  }

  async function confirm(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await recipientApi.verifyAccessRequest(requestId!, code.trim());
      setDone(true);
    } catch (err) {
      setError(err instanceof ApiError && err.code === 'already_recipient' ? 'You are already a recipient: open the link in the notification sent to you.' : errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Page title="Ask for access" narrow>
      <div className="card form">
        {done ? (
          <Alert tone="success" title="Request sent">
            The sender has been asked. If they approve, you will receive your own secure link by email.
          </Alert>
        ) : requestId ? (
          <form className="form" onSubmit={confirm} noValidate>
            <Alert tone="info">We emailed a code to {email}. Enter it to confirm the request.</Alert>
            {error ? <Alert tone="error">{error}</Alert> : null}
            <Field label="6-digit code" inputMode="numeric" autoComplete="one-time-code" required value={code} onChange={(e) => setCode(e.target.value)} />
            <button type="submit" className="button button-primary" disabled={busy || code.trim().length < 6}>
              Confirm request
            </button>
          </form>
        ) : (
          <form className="form" onSubmit={ask} noValidate>
            <p>If this notification was forwarded to you, you can ask the sender to give you access. They decide; nothing is shown to you until they do.</p>
            {error ? <Alert tone="error">{error}</Alert> : null}
            <Field label="Your email address" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
            <TextArea label="Why you need access (optional)" rows={3} maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
            <div className="row">
              <button type="submit" className="button button-primary" disabled={busy || !email.trim()}>
                Email me a code
              </button>
              <button type="button" className="button button-quiet" onClick={onBack}>
                Back
              </button>
            </div>
          </form>
        )}
      </div>
    </Page>
  );
}
