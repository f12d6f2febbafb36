// Administration: users (invite, role, disable, new sign-in link), classification labels and
// their policies, tenant settings and branding, the pre-send check (dashboard, policy, history
// import), privacy requests, retention and legal holds, account transfers, anonymous statistics
// (also for auditors: the only tab they see) and the organisation's audit log.
import { useState, type FormEvent } from 'react';
import { Alert, Badge, Field, Loading, Page, Select } from '../components/ui.tsx';
import { api } from '../lib/api.ts';
import { formatDate } from '../lib/format.ts';
import { errorText, useLoad, useTitle } from '../lib/hooks.ts';
import { Link } from '../lib/router.tsx';
import { useSession, type User } from '../lib/session.tsx';
import { PreventAdmin } from './admin-prevent.tsx';
import { PrivacyOrgAdmin, PrivacyRequestsAdmin, RetentionAdmin } from './admin-privacy.tsx';
import { StatisticsAdmin } from './admin-statistics.tsx';
import { AuditAdmin, LabelsAdmin, SettingsAdmin } from './admin-tenant.tsx';
import { TransfersAdmin } from './admin-transfers.tsx';

const ROLES: Array<{ value: User['role']; text: string }> = [
  { value: 'administrator', text: 'Administrator' },
  { value: 'author', text: 'Author' },
  { value: 'auditor', text: 'Auditor' },
  { value: 'read_only', text: 'Read only' },
  { value: 'disabled', text: 'Disabled' },
];

type Role = User['role'];

/** The tabs, and who may open each (the API refuses the others anyway). */
const TABS: Array<{ path: string; text: string; roles: readonly Role[] }> = [
  { path: '/admin/users', text: 'Users', roles: ['administrator'] },
  { path: '/admin/labels', text: 'Labels', roles: ['administrator'] },
  { path: '/admin/settings', text: 'Organisation', roles: ['administrator'] },
  { path: '/admin/transfers', text: 'Account transfers', roles: ['administrator'] },
  { path: '/admin/prevent', text: 'Pre-send check', roles: ['administrator'] },
  { path: '/admin/privacy-requests', text: 'Privacy requests', roles: ['administrator'] },
  { path: '/admin/retention', text: 'Retention', roles: ['administrator'] },
  { path: '/admin/statistics', text: 'Statistics', roles: ['administrator', 'auditor'] },
  { path: '/admin/audit', text: 'Audit log', roles: ['administrator'] },
];

const tabsFor = (role: Role | undefined) => TABS.filter((t) => role !== undefined && t.roles.includes(role));
const tabOf = (path: string) => TABS.find((t) => path === t.path || path.startsWith(`${t.path}/`));

/** Whether a user with `role` may open `path` (/admin or a tab under it). */
export function mayOpenAdmin(role: Role | undefined, path: string): boolean {
  const tab = tabOf(path);
  return tab ? tab.roles.includes(role as Role) : tabsFor(role).length > 0;
}

export function AdminPage({ path }: { path: string }) {
  const { user } = useSession();
  const tabs = tabsFor(user?.role);
  const current = tabOf(path) ?? tabs[0] ?? TABS[0]!;
  useTitle(`Administration: ${current.text}`);
  return (
    <Page title="Administration">
      <nav aria-label="Administration" className="tabs">
        <ul>
          {tabs.map((t) => (
            <li key={t.path}>
              <Link to={t.path}>{t.text}</Link>
            </li>
          ))}
        </ul>
      </nav>
      {current.path === '/admin/users' ? (
        <UsersAdmin />
      ) : current.path === '/admin/labels' ? (
        <LabelsAdmin />
      ) : current.path === '/admin/settings' ? (
        <div className="stack">
          <SettingsAdmin />
          <PrivacyOrgAdmin />
        </div>
      ) : current.path === '/admin/prevent' ? (
        <PreventAdmin />
      ) : current.path === '/admin/privacy-requests' ? (
        <PrivacyRequestsAdmin path={path} />
      ) : current.path === '/admin/retention' ? (
        <RetentionAdmin />
      ) : current.path === '/admin/transfers' ? (
        <TransfersAdmin />
      ) : current.path === '/admin/statistics' ? (
        <StatisticsAdmin />
      ) : (
        <AuditAdmin />
      )}
    </Page>
  );
}

function UsersAdmin() {
  const { user: me } = useSession();
  const users = useLoad(() => api<{ users: User[] }>('GET', '/api/v1/users').then((r) => r.users), []);
  const [notice, setNotice] = useState<{ tone: 'success' | 'error'; text: string; link?: string } | null>(null);
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState<User['role']>('author');
  const [byEmail, setByEmail] = useState(true);
  const [busy, setBusy] = useState(false);

  async function run(fn: () => Promise<unknown>, ok: (r: any) => { text: string; link?: string }) {
    setBusy(true);
    try {
      const r = await fn();
      setNotice({ tone: 'success', ...ok(r) });
      users.reload();
    } catch (err) {
      setNotice({ tone: 'error', text: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  // The new role is taken from the event at once: the select is controlled, so by the time the request
  // answers React has put it back to the old role until the list reloads.
  const changeRole = (u: User, role: Role) =>
    void run(() => api('PATCH', `/api/v1/users/${u.id}`, { body: { role } }), () => ({ text: role === 'disabled' ? `${u.email} is disabled and signed out everywhere.` : `${u.email} is now ${role.replace('_', ' ')}.` }));

  const invite = (e: FormEvent) => {
    e.preventDefault();
    const body = { email: email.trim(), displayName: name.trim(), role };
    // By email (the default) only the invitee ever sees the link; otherwise it is shown here to hand over.
    if (byEmail) {
      void run(
        () => api('POST', '/api/v1/users/invitations', { body }),
        (r: { user: User; invitation: { sentTo: string; emailed: boolean } }) => {
          setEmail('');
          setName('');
          return {
            text: r.invitation.emailed
              ? `${r.user.email} was invited: a one-time sign-in link was emailed to ${r.invitation.sentTo} (valid 24 hours).`
              : `${r.user.email} was created, but the invitation email could not be sent. Use "Email a new link" below to try again.`,
          };
        },
      );
      return;
    }
    void run(
      () => api('POST', '/api/v1/users', { body }),
      (r: { user: User; signInLink: { url: string } }) => {
        setEmail('');
        setName('');
        return { text: `${r.user.email} was invited. Send them this one-time sign-in link (valid 24 hours):`, link: r.signInLink.url };
      },
    );
  };

  return (
    <div className="stack">
      <div aria-live="polite">
        {notice ? (
          <Alert tone={notice.tone}>
            {notice.text}
            {notice.link ? (
              <p>
                <code className="copyable">{notice.link}</code>
              </p>
            ) : null}
          </Alert>
        ) : null}
      </div>
      <section className="card" aria-labelledby="invite-h">
        <h2 id="invite-h">Invite a user</h2>
        <form className="inline-form" onSubmit={invite} noValidate>
          <Field label="Email address" type="email" value={email} onChange={(e) => setEmail(e.target.value)} required />
          <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} required />
          <Select label="Role" value={role} onChange={(e) => setRole(e.target.value as User['role'])}>
            {ROLES.filter((r) => r.value !== 'disabled').map((r) => (
              <option key={r.value} value={r.value}>
                {r.text}
              </option>
            ))}
          </Select>
          <label className="check">
            <input type="checkbox" checked={byEmail} onChange={(e) => setByEmail(e.target.checked)} /> Email the invitation
          </label>
          <button type="submit" className="button button-primary" disabled={busy || !email.trim() || !name.trim()}>
            Invite
          </button>
        </form>
      </section>
      <section className="card" aria-labelledby="users-h">
        <h2 id="users-h">Users</h2>
        {users.error ? <Alert tone="error">{errorText(users.error)}</Alert> : null}
        {users.loading && !users.value ? <Loading /> : null}
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Since</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {(users.value ?? []).map((u) => (
                <tr key={u.id}>
                  <td>
                    {u.displayName} {u.id === me?.id ? <Badge>you</Badge> : null}
                  </td>
                  <td>{u.email}</td>
                  <td>
                    <label className="visually-hidden" htmlFor={`role-${u.id}`}>
                      Role of {u.email}
                    </label>
                    <select id={`role-${u.id}`} value={u.role} disabled={busy} onChange={(e) => changeRole(u, e.target.value as Role)}>
                      {ROLES.map((r) => (
                        <option key={r.value} value={r.value}>
                          {r.text}
                        </option>
                      ))}
                    </select>
                    {u.hasPassword ? null : <span className="hint"> invitation pending</span>}
                  </td>
                  <td>{formatDate((u as User & { createdAt?: string }).createdAt)}</td>
                  <td className="actions">
                    <button type="button" className="button button-small button-quiet" disabled={busy || u.role === 'disabled'} onClick={() => void run(() => api<{ url: string }>('POST', `/api/v1/users/${u.id}/sign-in-link`), (r: { url?: string; signInLink?: { url: string } }) => ({ text: `New one-time sign-in link for ${u.email} (earlier links stop working):`, link: r.url ?? r.signInLink?.url ?? '' }))}>
                      New sign-in link<span className="visually-hidden"> for {u.email}</span>
                    </button>
                    <button type="button" className="button button-small button-quiet" disabled={busy || u.role === 'disabled'} onClick={() => void run(() => api<{ sentTo: string }>('POST', `/api/v1/users/${u.id}/invitation`), (r: { sentTo: string }) => ({ text: `A new one-time sign-in link was emailed to ${r.sentTo} (earlier links stop working).` }))}>
                      Email a new link<span className="visually-hidden"> to {u.email}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </div>
  );
}
