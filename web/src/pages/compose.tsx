// Compose a secure message: recipients as chips (To, Cc, Bcc), a label whose consequences are
// spelt out, a plain or formatted body, attachments sealed as they upload, and the pre-send
// check (Prevent) before anything is sent.
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { AttachmentPicker, useDraftFiles } from '../components/attachments.tsx';
import { BodyEditor, bodyForSend, type DraftBody } from '../components/body-editor.tsx';
import { PreventPanel } from '../components/prevent-panel.tsx';
import { RecipientField } from '../components/recipients.tsx';
import { Alert, Field, Loading, Page, Select } from '../components/ui.tsx';
import { api, ApiError } from '../lib/api.ts';
import { describeExpiry, isEmailAddress } from '../lib/format.ts';
import { errorText, useLoad, useTitle } from '../lib/hooks.ts';
import { useRouter } from '../lib/router.tsx';
import type { Label, PreventWarning as Warning, SentMessage, SuggestedFix } from '../lib/types.ts';

/** Plain sentences for what a label implies. */
export function labelImplications(l: Label): string[] {
  const out = [describeExpiry(l.defaultExpiryDays).replace(/^./, (c) => c.toUpperCase()), l.authLevel === 'account' ? 'Recipients must sign in to an account' : 'Recipients confirm a one-time code sent to their address'];
  if (l.noForward) out.push('Cannot be forwarded; no one else can ask for access');
  if (l.noDownload) out.push('Attachments can be viewed but not saved');
  if (l.watermark) out.push("Watermarked with the reader's address");
  if (l.hideSubject) out.push('Subject hidden from notification emails');
  if (l.disclaimer) out.push('Recipients must accept a disclaimer first');
  return out;
}

const dateInputValue = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 10);

export function ComposePage() {
  useTitle('Compose');
  const { navigate } = useRouter();
  const labels = useLoad(() => api<{ labels: Label[] }>('GET', '/api/v1/labels').then((r) => r.labels), []);
  const [to, setTo] = useState<string[]>([]);
  const [cc, setCc] = useState<string[]>([]);
  const [bcc, setBcc] = useState<string[]>([]);
  const [showCc, setShowCc] = useState(false);
  const [subject, setSubject] = useState('');
  const [labelName, setLabelName] = useState('internal');
  const [expiry, setExpiry] = useState<string>(''); // '' = the label's default
  const [body, setBody] = useState<DraftBody>({ mode: 'plain', text: '', html: '' });
  const draftFiles = useDraftFiles('/api/v1/uploads', {});
  const [warnings, setWarnings] = useState<Warning[] | null>(null);
  // Findings the sender fixed with one click: reported with the send so Prevent learns they were real.
  const [resolved, setResolved] = useState<Array<{ check: Warning['check']; recipients: string[] }>>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const label = useMemo(() => labels.value?.find((l) => l.name === labelName), [labels.value, labelName]);
  useEffect(() => setExpiry(''), [labelName]);

  const all = [...to, ...cc, ...bcc];
  const invalid = all.filter((a) => !isEmailAddress(a));
  const canSend = to.length + cc.length + bcc.length > 0 && invalid.length === 0 && !draftFiles.busy && !draftFiles.failed && !busy;

  function draftBody() {
    const { text, html } = bodyForSend(body);
    return {
      to,
      cc,
      bcc,
      subject: subject.trim(),
      text,
      html,
      label: labelName,
      ...(expiry === 'never' ? { expiresAt: null } : expiry ? { expiresAt: new Date(`${expiry}T23:59:59`).toISOString() } : {}),
    };
  }

  /** Runs the pre-send check; a missing endpoint (404) means Prevent is not installed: no warnings. */
  async function check(): Promise<Warning[]> {
    const { to, cc, bcc, subject, text, html, label } = draftBody();
    const draft = { to, cc, bcc, subject, text, html, label };
    try {
      const r = await api<{ warnings: Warning[] }>('POST', '/api/v1/prevent/check', { body: draft });
      return r.warnings ?? [];
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 405)) return [];
      throw err;
    }
  }

  async function send(opts: { skipCheck: boolean; justification?: string }) {
    setBusy(true);
    setError(null);
    try {
      if (!opts.skipCheck) {
        const found = await check();
        if (found.length) {
          setWarnings(found);
          return;
        }
      }
      const prevent = {
        ...(opts.skipCheck && warnings?.length ? { acknowledged: warnings.map((w) => w.id) } : {}),
        ...(opts.skipCheck && opts.justification ? { justification: opts.justification } : {}),
        ...(resolved.length ? { resolved } : {}),
      };
      const sent = await api<SentMessage>('POST', '/api/v1/messages', { body: { ...draftBody(), attachments: draftFiles.attachments(), ...(Object.keys(prevent).length ? { prevent } : {}) } });
      navigate(`/sent/${sent.id}`);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'prevent_blocked' && Array.isArray(err.details?.warnings)) {
        setWarnings(err.details.warnings as Warning[]);
        setError('Your organisation requires a reason to send past these warnings.');
        return;
      }
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  function applyFix(w: Warning, fix: SuggestedFix) {
    const without = (list: string[], a: string) => list.filter((x) => x !== a);
    switch (fix.kind) {
      case 'remove_recipient':
        setTo((l) => without(l, fix.address));
        setCc((l) => without(l, fix.address));
        setBcc((l) => without(l, fix.address));
        break;
      case 'replace_recipient': {
        const swap = (l: string[]) => l.map((x) => (x === fix.address ? fix.replacement : x));
        setTo(swap);
        setCc(swap);
        setBcc(swap);
        break;
      }
      case 'move_to_bcc':
        setTo((l) => l.filter((x) => !fix.addresses.includes(x)));
        setCc((l) => l.filter((x) => !fix.addresses.includes(x)));
        setBcc((l) => [...l, ...fix.addresses.filter((a) => !l.includes(a))]);
        break;
      case 'add_recipient':
        setTo((l) => (l.includes(fix.address) ? l : [...l, fix.address]));
        break;
      case 'raise_label': {
        const target = [...(labels.value ?? [])].sort((a, b) => a.rank - b.rank).find((l) => l.rank >= fix.minimumRank);
        if (target) setLabelName(target.name);
        break;
      }
      case 'remove_content':
        return;
    }
    if (w.recipients.length) setResolved((r) => [...r, { check: w.check, recipients: w.recipients }]);
    setWarnings((ws) => (ws ? ws.filter((x) => x !== w) : ws));
  }

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void send({ skipCheck: false });
  };

  if (labels.loading && !labels.value) {
    return (
      <Page title="New secure message">
        <Loading />
      </Page>
    );
  }

  return (
    <Page title="New secure message">
      <form className="compose" onSubmit={onSubmit} noValidate>
        <div className="card form">
          {error ? <Alert tone="error">{error}</Alert> : null}
          {labels.error ? <Alert tone="error">Labels could not be loaded: {errorText(labels.error)}</Alert> : null}
          <RecipientField label="To" values={to} onChange={setTo} />
          {showCc ? (
            <>
              <RecipientField label="Cc" values={cc} onChange={setCc} />
              <RecipientField label="Bcc" values={bcc} onChange={setBcc} hint="Bcc recipients are hidden from everyone else and cannot reply to all." />
            </>
          ) : (
            <button type="button" className="linklike" onClick={() => setShowCc(true)}>
              Add Cc or Bcc
            </button>
          )}
          <Field label="Subject" value={subject} maxLength={998} onChange={(e) => setSubject(e.target.value)} hint={label?.hideSubject ? 'This label keeps the subject out of notification emails.' : 'Recipients see the subject in the notification email.'} />
          <div className="two-col">
            <Select
              label="Classification label"
              value={labelName}
              onChange={(e) => setLabelName(e.target.value)}
              hint={
                label ? (
                  <>
                  {label.description ? <span>{label.description}</span> : null}
                  <ul className="implications" aria-label={`What "${label.name}" means`}>
                    {labelImplications(label).map((s) => (
                      <li key={s}>{s}</li>
                    ))}
                  </ul>
                  </>
                ) : null
              }
            >
              {(labels.value ?? []).map((l) => (
                <option key={l.id} value={l.name}>
                  {l.name.charAt(0).toUpperCase() + l.name.slice(1)}
                </option>
              ))}
            </Select>
            <Select label="Expiry" value={expiry && expiry !== 'never' ? 'date' : expiry} onChange={(e) => setExpiry(e.target.value === 'date' ? dateInputValue(new Date(Date.now() + 7 * 86_400_000)) : e.target.value)}>
              <option value="">Label default ({label ? describeExpiry(label.defaultExpiryDays) : '…'})</option>
              <option value="date">On a date…</option>
              <option value="never">Never</option>
            </Select>
          </div>
          {expiry && expiry !== 'never' ? <Field label="Expires at the end of" type="date" min={dateInputValue(new Date())} value={expiry} onChange={(e) => setExpiry(e.target.value)} /> : null}
          <BodyEditor value={body} onChange={setBody} />
          <AttachmentPicker draft={draftFiles} />
        </div>
        {warnings && warnings.length ? <PreventPanel warnings={warnings} labels={labels.value ?? []} onFix={applyFix} onSendAnyway={(j) => void send({ skipCheck: true, justification: j })} sending={busy} /> : null}
        <div className="send-bar">
          <button type="submit" className="button button-primary" disabled={!canSend}>
            {busy ? 'Sending…' : 'Send securely'}
          </button>
          <span className="hint" aria-live="polite">
            {draftFiles.busy ? 'Waiting for uploads to finish…' : invalid.length ? 'Fix the invalid addresses to send.' : all.length === 0 ? 'Add at least one recipient.' : `${all.length} recipient${all.length === 1 ? '' : 's'}`}
          </span>
        </div>
      </form>
    </Page>
  );
}
