// A free account's pending move into an organisation (GET /api/v1/account/transfer), shown on the
// person's settings page, and accepting it now (POST /api/v1/account/transfer/accept). The move
// happens anyway at the end of the notice period (the seed policy gives no right to refuse);
// until then the person can take a copy of their data or have the account erased.
import { useState } from 'react';
import { Alert } from '../components/ui.tsx';
import { api, ApiError } from '../lib/api.ts';
import { formatDate } from '../lib/format.ts';
import { errorText, useLoad } from '../lib/hooks.ts';
import { useRouter } from '../lib/router.tsx';
import { useSession } from '../lib/session.tsx';
import type { AccountTransfer } from '../lib/types.ts';

/** Plain words for the API's refusals of an acceptance; nothing changed in each case. */
function acceptError(err: unknown): string {
  if (!(err instanceof ApiError)) return errorText(err);
  switch (err.code) {
    case 'transfer_not_found':
    case 'transfer_not_open':
      return 'There is no open offer for your account any more: it may have been withdrawn or already carried out. Nothing was changed by this.';
    case 'transfer_conflict':
      return 'Your account changed while it was being moved (for example, a new message arrived). Nothing has changed; try again.';
    case 'transfer_blocked_by_hold':
      return 'Your account cannot be moved now because its data is under a legal hold. Nothing has changed.';
    case 'free_tenant_shared':
      return 'Your account shares its workspace with other people, so the operator has to move it. Nothing has changed.';
    default:
      return errorText(err);
  }
}

/** The offer, if the signed-in user has one; nothing otherwise. */
export function TransferOffer() {
  const { user, signOut } = useSession();
  const { navigate } = useRouter();
  const offer = useLoad(() => api<{ transfer: AccountTransfer | null }>('GET', '/api/v1/account/transfer').then((r) => r.transfer), []);
  const [understood, setUnderstood] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [moved, setMoved] = useState(false);

  async function accept() {
    setBusy(true);
    setError(null);
    try {
      await api('POST', '/api/v1/account/transfer/accept');
      setMoved(true);
    } catch (err) {
      setError(acceptError(err));
      offer.reload();
    } finally {
      setBusy(false);
    }
  }

  if (moved) {
    // The move ended every session of the account, so the sign-out request itself is refused;
    // signOut() still forgets the session here, which is all that is left to do.
    return (
      <section className="card" aria-labelledby="transfer-h">
        <h2 id="transfer-h">Your account has moved</h2>
        <Alert tone="success">Your account and its messages are now part of the organisation. You were signed out everywhere: sign in again with {user?.email ?? 'the same address'}.</Alert>
        <button type="button" className="button button-primary" onClick={() => void signOut().catch(() => undefined).then(() => navigate('/sign-in'))}>
          Sign in again
        </button>
      </section>
    );
  }
  // A 404 means this installation has no domain features: there is nothing to show.
  if (offer.error && offer.error.status !== 404) return <Alert tone="error">{`Your account's transfer status could not be loaded: ${errorText(offer.error)}`}</Alert>;
  const t = offer.value;
  if (!t) return error ? <Alert tone="error">{error}</Alert> : null;
  const domain = t.email.split('@')[1] ?? '';
  const due = formatDate(t.dueAt);
  return (
    <section className="card" aria-labelledby="transfer-h">
      <h2 id="transfer-h">Your account is moving to an organisation</h2>
      <p>
        The organisation that owns <strong>{domain}</strong> has verified the domain and is taking your free account ({t.email}) into its business account. The move happens on <strong>{due}</strong>, or now if you accept it.
      </p>
      <ul>
        <li>The organisation becomes responsible (the controller) for your account and for the messages and files in it.</li>
        <li>Your past messages, files, their recipients, replies and access history move with your account, and the organisation's administrators will be able to see them.</li>
        <li>You will be signed out and can sign in again with the same address as a member of the organisation; personal API tokens stop working.</li>
      </ul>
      <p className="hint">
        Before {due} you can ask for a copy of your data, or for your account to be erased, which stops the move: see the <a href="/privacy">privacy notice</a>.
      </p>
      <div aria-live="polite">{error ? <Alert tone="error">{error}</Alert> : null}</div>
      <label className="check">
        <input type="checkbox" checked={understood} onChange={(e) => setUnderstood(e.target.checked)} /> I understand that my messages and files move to the organisation and that I will be signed out
      </label>
      <div className="row">
        <button type="button" className="button button-primary" disabled={busy || !understood} onClick={() => void accept()}>
          Accept and move my account now
        </button>
      </div>
    </section>
  );
}
