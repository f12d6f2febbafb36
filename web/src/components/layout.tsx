// The frame of signed-in pages (header, navigation, skip link) and of public pages (recipients,
// sign-in): a banner and one main landmark, nothing that moves once loaded.
import type { CSSProperties, ReactNode } from 'react';
import { Link, useRouter } from '../lib/router.tsx';
import { canSend, useSession } from '../lib/session.tsx';

function Brand() {
  return (
    <span className="brand">
      <svg aria-hidden="true" width="22" height="22" viewBox="0 0 24 24" fill="none">
        <rect x="2.5" y="5" width="19" height="14" rx="2.5" stroke="currentColor" strokeWidth="1.8" />
        <path d="M3.5 6.5 12 13l8.5-6.5" stroke="currentColor" strokeWidth="1.8" strokeLinejoin="round" />
        <circle cx="18" cy="17" r="4.2" fill="var(--accent)" stroke="white" strokeWidth="1.4" />
        <path d="M16.4 17.1l1.1 1.1 2-2.2" stroke="white" strokeWidth="1.4" fill="none" strokeLinecap="round" />
      </svg>
      Sealpost
    </span>
  );
}

/** Skip link to the main content (first tab stop). */
function SkipLink() {
  return (
    <a className="skip-link" href="#main">
      Skip to content
    </a>
  );
}

/** Layout of signed-in pages. */
export function AppLayout({ children }: { children: ReactNode }) {
  const { user, operator, signOut } = useSession();
  const { navigate } = useRouter();
  return (
    <div className="shell">
      <SkipLink />
      <header className="topbar">
        <Link to="/sent" className="brand-link" aria-label="Sealpost home">
          <Brand />
        </Link>
        <nav aria-label="Main">
          <ul className="nav">
            {canSend(user) ? (
              <li>
                <Link to="/compose" className="nav-compose">
                  Compose
                </Link>
              </li>
            ) : null}
            <li>
              <Link to="/sent">Sent</Link>
            </li>
            {user?.role === 'administrator' ? (
              <li>
                <Link to="/admin">Administration</Link>
              </li>
            ) : null}
            {operator ? (
              <li>
                <Link to="/operator/register">Operator</Link>
              </li>
            ) : null}
          </ul>
        </nav>
        <div className="account">
          <span className="account-name" title={user?.email}>
            {user?.displayName}
          </span>
          <Link to="/settings/preferences" className="button button-quiet">
            Email preferences
          </Link>
          <button
            type="button"
            className="button button-quiet"
            onClick={() => {
              void signOut().finally(() => navigate('/sign-in'));
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      {children}
    </div>
  );
}

/** Layout of public pages (recipients, sign-in). */
/** The sending organisation's look on the recipient pages (POST /api/v1/branding, docs/admin-api.md). */
export interface Branding {
  displayName: string;
  logo: string | null;
  accentColor: string | null;
  footerText: string | null;
}

export function PublicLayout({ children, branding }: { children: ReactNode; branding?: Branding | null }) {
  // Only a data: image the server checked (PNG, JPEG, GIF or WebP) is shown; nothing is fetched.
  const logo = branding?.logo && /^data:image\/(png|jpeg|gif|webp);base64,/.test(branding.logo) ? branding.logo : null;
  const accent = branding?.accentColor && /^#[0-9a-f]{6}$/i.test(branding.accentColor) ? branding.accentColor : null;
  const named = branding && branding.displayName !== 'Sealpost' ? branding.displayName : null;
  return (
    <div className="shell shell-public" style={accent ? ({ '--accent': accent } as CSSProperties) : undefined}>
      <SkipLink />
      <header className="topbar topbar-public">
        {named ? (
          <span className="brand">
            {logo ? <img src={logo} alt="" className="brand-logo" /> : null}
            {named}
          </span>
        ) : (
          <Brand />
        )}
        <span className="secure-note">{named ? 'Secure message, delivered by Sealpost' : 'Secure message delivery'}</span>
      </header>
      {children}
      <footer className="public-footer">
        {branding?.footerText ? <p>{branding.footerText}</p> : null}
        <p>Sealpost decrypts messages in your browser. Keys are released only to this tab and are never stored.</p>
      </footer>
    </div>
  );
}
