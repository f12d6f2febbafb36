// Routes: public pages (sign-in, the recipient's /open) and signed-in pages. Signed-out
// visitors of a signed-in page go to sign-in and come back after.
import { useEffect, useState, type ReactNode } from 'react';
import { AppLayout, PublicLayout, type Branding } from './components/layout.tsx';
import { api } from './lib/api.ts';
import { Loading, Page } from './components/ui.tsx';
import { useTitle } from './lib/hooks.ts';
import { Link, matchPath, Router, useRouter } from './lib/router.tsx';
import { SessionProvider, canSend, useSession } from './lib/session.tsx';
import { AdminPage, mayOpenAdmin } from './pages/admin.tsx';
import { ComposePage } from './pages/compose.tsx';
import { MessagePage } from './pages/message.tsx';
import { OperatorPage } from './pages/operator.tsx';
import { OpenPage } from './pages/open.tsx';
import { PreferencesPage } from './pages/preferences.tsx';
import { SentPage } from './pages/sent.tsx';
import { SignInPage } from './pages/sign-in.tsx';

function NotFound() {
  useTitle('Page not found');
  return (
    <Page title="Page not found" narrow>
      <div className="card">
        <p>There is nothing at this address.</p>
        <p>
          <Link to="/sent">Go to your sent messages</Link>
        </p>
      </div>
    </Page>
  );
}

function Forbidden() {
  useTitle('Not available');
  return (
    <Page title="Not available for your role" narrow>
      <div className="card">
        <p>Your role does not include this page. Ask an administrator if you need it.</p>
      </div>
    </Page>
  );
}

/** Signed-in pages: waits for the session, sends signed-out visitors to sign-in. */
function SignedIn({ children }: { children: ReactNode }) {
  const { user } = useSession();
  const { navigate, path } = useRouter();
  useEffect(() => {
    if (user === null) navigate(`/sign-in?next=${encodeURIComponent(path)}`, { replace: true });
  }, [user, navigate, path]);
  if (!user) {
    return (
      <PublicLayout>
        <Page title="Sealpost" narrow>
          <Loading />
        </Page>
      </PublicLayout>
    );
  }
  return <AppLayout>{children}</AppLayout>;
}

/**
 * The recipient's page in the sending organisation's branding. The link travels in the body,
 * never the URL; an unknown link gets the default look, so the branding says nothing about
 * whether a message exists.
 */
function RecipientLayout() {
  const [branding, setBranding] = useState<Branding | null>(null);
  useEffect(() => {
    const link = window.location.hash.replace(/^#/, '').trim();
    if (!link) return;
    api<Branding>('POST', '/api/v1/branding', { body: { link }, anonymous: true }).then(setBranding, () => setBranding(null));
  }, []);
  return (
    <PublicLayout branding={branding}>
      <OpenPage />
    </PublicLayout>
  );
}

/**
 * The recipient's page for the link in the address bar. A different link entered in the same
 * tab changes only the fragment (no page load), so the page is rebuilt for it: otherwise the
 * tab would go on showing the previous message, and keep its keys, under the new address.
 */
function RecipientRoute() {
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const onHashChange = () => setHash(window.location.hash);
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, []);
  return <RecipientLayout key={hash} />;
}

function Routes() {
  const { path, navigate } = useRouter();
  const { user } = useSession();
  if (path === '/open') return <RecipientRoute />;
  if (path === '/sign-in') {
    return (
      <PublicLayout>
        <SignInPage />
      </PublicLayout>
    );
  }
  if (path === '/') {
    queueMicrotask(() => navigate('/sent', { replace: true }));
    return null;
  }
  let page: ReactNode;
  let params: Record<string, string> | null;
  if (path === '/compose') page = canSend(user) || user === undefined ? <ComposePage /> : <Forbidden />;
  else if (path === '/sent') page = <SentPage />;
  else if ((params = matchPath('/sent/:id', path))) page = <MessagePage id={params.id!} />;
  else if (path === '/settings/preferences') page = <PreferencesPage />;
  else if (path === '/operator' || path.startsWith('/operator/')) page = <OperatorPage path={path} />;
  else if (path === '/admin' || path.startsWith('/admin/')) page = user === undefined || mayOpenAdmin(user?.role, path) ? <AdminPage path={path} /> : <Forbidden />;
  else page = <NotFound />;
  return <SignedIn>{page}</SignedIn>;
}

/** The whole app. */
export function App() {
  return (
    <Router>
      <SessionProvider load={window.location.pathname !== '/open'}>
        <Routes />
      </SessionProvider>
    </Router>
  );
}
