// Sent items: newest first, with the state of each message at a glance.
import { Alert, Badge, Loading, Page } from '../components/ui.tsx';
import { api } from '../lib/api.ts';
import { formatDateTime } from '../lib/format.ts';
import { errorText, useLoad, useTitle } from '../lib/hooks.ts';
import { Link } from '../lib/router.tsx';
import { canSend, useSession } from '../lib/session.tsx';
import type { SentSummary } from '../lib/types.ts';

/** A message's overall state in one word. */
export function messageState(m: { revokedAt: string | null; expiresAt: string | null }): { text: string; tone: 'good' | 'bad' | 'warn' } {
  if (m.revokedAt) return { text: 'Revoked', tone: 'bad' };
  if (m.expiresAt && new Date(m.expiresAt) <= new Date()) return { text: 'Expired', tone: 'warn' };
  return { text: 'Active', tone: 'good' };
}

export function SentPage() {
  useTitle('Sent');
  const { user } = useSession();
  const list = useLoad(() => api<{ messages: SentSummary[] }>('GET', '/api/v1/messages?limit=100').then((r) => r.messages), []);
  return (
    <Page
      title="Sent"
      actions={
        canSend(user) ? (
          <Link to="/compose" className="button button-primary">
            New message
          </Link>
        ) : null
      }
    >
      {list.error ? <Alert tone="error">{errorText(list.error)}</Alert> : null}
      {list.loading && !list.value ? <Loading /> : null}
      {list.value && list.value.length === 0 ? (
        <div className="card empty">
          <p>Nothing sent yet.</p>
          {canSend(user) ? <p>Messages you send appear here, with who opened them and controls to revoke or extend access.</p> : null}
        </div>
      ) : null}
      {list.value && list.value.length ? (
        <ul className="message-list" aria-label="Sent messages">
          {list.value.map((m) => {
            const s = messageState(m);
            return (
              <li key={m.id}>
                <Link to={`/sent/${m.id}`} className="message-row">
                  <span className="message-subject">{m.contentErased ? '(content erased)' : m.subject || '(no subject)'}</span>
                  <span className="message-info">
                    <Badge tone="info">{m.label}</Badge> <Badge tone={s.tone}>{s.text}</Badge>
                    <span>
                      {m.recipientCount} recipient{m.recipientCount === 1 ? '' : 's'}
                      {m.attachmentCount ? ` · ${m.attachmentCount} file${m.attachmentCount === 1 ? '' : 's'}` : ''}
                    </span>
                  </span>
                  <time dateTime={m.createdAt} className="message-date">
                    {formatDateTime(m.createdAt)}
                  </time>
                </Link>
              </li>
            );
          })}
        </ul>
      ) : null}
    </Page>
  );
}
