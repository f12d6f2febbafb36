// Free accounts offered a move into the organisation (GET /api/v1/tenant/transfers) and
// withdrawing an open offer (POST /api/v1/tenant/transfers/:id/cancel), for administrators;
// docs/disclosures-statistics-domains.md, "Verified domains and free-to-business transfer".
import { useState } from 'react';
import { Alert, Badge, Loading } from '../components/ui.tsx';
import { api, ApiError } from '../lib/api.ts';
import { formatDate, formatDateTime } from '../lib/format.ts';
import { errorText, useLoad } from '../lib/hooks.ts';
import { Link } from '../lib/router.tsx';
import type { AccountTransfer } from '../lib/types.ts';

const CANCEL_REASONS: Record<string, string> = {
  withdrawn: 'withdrawn by an administrator',
  domain_released: 'the domain was released',
};

function daysUntil(iso: string): number {
  return Math.ceil((Date.parse(iso) - Date.now()) / 86_400_000);
}

/** How a closed transfer ended, in words. */
function outcome(t: AccountTransfer): string {
  if (t.status === 'completed') return t.acceptedAt ? `Moved ${formatDateTime(t.completedAt)}, accepted by the person` : `Moved ${formatDateTime(t.completedAt)}, at the end of the notice period`;
  return `Withdrawn ${formatDateTime(t.cancelledAt)}: ${CANCEL_REASONS[t.cancelReason ?? ''] ?? t.cancelReason ?? 'no reason recorded'}`;
}

/** /admin/transfers */
export function TransfersAdmin() {
  const list = useLoad(() => api<{ transfers: AccountTransfer[] }>('GET', '/api/v1/tenant/transfers').then((r) => r.transfers), []);
  const [notice, setNotice] = useState<{ tone: 'success' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  async function withdraw(t: AccountTransfer) {
    setBusy(true);
    try {
      await api('POST', `/api/v1/tenant/transfers/${encodeURIComponent(t.id)}/cancel`);
      setNotice({ tone: 'success', text: `The offer to ${t.email} was withdrawn. Their account stays a free account.` });
    } catch (err) {
      const text =
        err instanceof ApiError && err.code === 'transfer_not_open'
          ? `The offer to ${t.email} is no longer open: it was accepted, completed or withdrawn in the meantime. The list is up to date now.`
          : err instanceof ApiError && err.code === 'transfer_not_found'
            ? `There is no offer to ${t.email} into your organisation any more. The list is up to date now.`
            : errorText(err);
      setNotice({ tone: 'error', text });
    } finally {
      setBusy(false);
      list.reload();
    }
  }

  const all = list.value ?? [];
  const open = all.filter((t) => t.status === 'offered');
  const closed = all.filter((t) => t.status !== 'offered');
  return (
    <div className="stack">
      <div aria-live="polite">{notice ? <Alert tone={notice.tone}>{notice.text}</Alert> : null}</div>
      <section className="card" aria-labelledby="transfers-open-h">
        <h2 id="transfers-open-h">Open offers</h2>
        <p className="hint">
          When you verify a domain (<Link to="/admin/settings">Organisation</Link>, verified domains), each free Sealpost account on it is emailed an offer to move into your organisation. It moves when the person accepts, or at the end of the notice period. Until then you can withdraw the offer; the account then stays a free account.
        </p>
        {list.error ? <Alert tone="error">{errorText(list.error)}</Alert> : null}
        {list.loading && !list.value ? <Loading /> : null}
        {list.value && open.length === 0 ? <p className="empty">No open offers.</p> : null}
        {open.length > 0 ? (
          <div className="table-wrap">
            <table className="table" aria-labelledby="transfers-open-h">
              <thead>
                <tr>
                  <th scope="col">Account</th>
                  <th scope="col">Offered</th>
                  <th scope="col">Notice emailed</th>
                  <th scope="col">Moves on</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {open.map((t) => {
                  const left = daysUntil(t.dueAt);
                  return (
                    <tr key={t.id}>
                      <td>{t.email}</td>
                      <td>{formatDateTime(t.offeredAt)}</td>
                      <td>{t.noticeSentAt ? formatDateTime(t.noticeSentAt) : <span className="hint">not yet</span>}</td>
                      <td>
                        {formatDate(t.dueAt)} <span className="hint">{left <= 0 ? 'due now' : `in ${left} day${left === 1 ? '' : 's'}`}</span>
                      </td>
                      <td className="actions">
                        <button type="button" className="button button-small" disabled={busy} onClick={() => void withdraw(t)}>
                          Withdraw offer<span className="visually-hidden"> to {t.email}</span>
                        </button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
      <section className="card" aria-labelledby="transfers-closed-h">
        <h2 id="transfers-closed-h">Completed and withdrawn</h2>
        {list.value && closed.length === 0 ? <p className="empty">None yet.</p> : null}
        {closed.length > 0 ? (
          <div className="table-wrap">
            <table className="table" aria-labelledby="transfers-closed-h">
              <thead>
                <tr>
                  <th scope="col">Account</th>
                  <th scope="col">Status</th>
                  <th scope="col">Offered</th>
                  <th scope="col">Outcome</th>
                </tr>
              </thead>
              <tbody>
                {closed.map((t) => (
                  <tr key={t.id}>
                    <td>{t.email}</td>
                    <td>{t.status === 'completed' ? <Badge tone="good">moved</Badge> : <Badge>withdrawn</Badge>}</td>
                    <td>{formatDateTime(t.offeredAt)}</td>
                    <td>{outcome(t)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
    </div>
  );
}
