// Sign in with email and password, or with a one-time link (/sign-in#token=…), then set a
// password when the account has none yet. Room is left for a second factor (TOTP, passkeys):
// the form is one step of a small state machine.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Alert, Field, Page } from '../components/ui.tsx';
import { api, ApiError } from '../lib/api.ts';
import { errorText, useTitle } from '../lib/hooks.ts';
import { useRouter } from '../lib/router.tsx';
import { useSession, type SignedIn } from '../lib/session.tsx';

type Step = 'password' | 'redeeming' | 'set-password';

/** The page after sign-in: where the person was going, or their sent items. */
function nextPath(): string {
  const next = new URLSearchParams(window.location.search).get('next');
  // Only same-site paths: an open redirect would let a link send people anywhere after sign-in.
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/sent';
}

export function SignInPage() {
  const { signedIn, endedReason, user } = useSession();
  const { navigate } = useRouter();
  const [step, setStep] = useState<Step>(() => (/^#token=/.test(window.location.hash) ? 'redeeming' : 'password'));
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [newPassword, setNewPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const redeemed = useRef(false);
  useTitle(step === 'set-password' ? 'Choose a password' : 'Sign in');

  useEffect(() => {
    if (user && step === 'password') navigate(nextPath(), { replace: true });
  }, [user, step, navigate]);

  useEffect(() => {
    if (step !== 'redeeming' || redeemed.current) return;
    redeemed.current = true;
    const token = window.location.hash.replace(/^#token=/, '');
    // The token leaves the address bar at once: it must not stay in history or be bookmarked.
    window.history.replaceState(null, '', '/sign-in');
    api<SignedIn>('POST', '/api/v1/auth/sign-in-links/redeem', { body: { token }, anonymous: true }).then(
      (result) => {
        signedIn(result);
        if (result.passwordRequired) setStep('set-password');
        else navigate(nextPath(), { replace: true });
      },
      (err: unknown) => {
        setStep('password');
        setError(err instanceof ApiError && err.status === 401 ? 'This sign-in link has been used, has expired or was replaced by a newer one. Ask your administrator for a new link, or sign in with your password.' : errorText(err));
      },
    );
  }, [step, signedIn, navigate]);

  async function submitPassword(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const result = await api<SignedIn>('POST', '/api/v1/auth/login', { body: { email: email.trim(), password }, anonymous: true });
      signedIn(result);
      navigate(nextPath(), { replace: true });
    } catch (err) {
      if (err instanceof ApiError && err.code === 'invalid_credentials') setError('The email address or password is not right.');
      else if (err instanceof ApiError && err.code === 'rate_limited') setError(`Too many attempts. Try again in ${Math.ceil((err.retryAfterSeconds ?? 900) / 60)} minutes, or use a sign-in link from your administrator.`);
      else setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  async function submitNewPassword(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api('POST', '/api/v1/auth/password', { body: { newPassword } });
      navigate(nextPath(), { replace: true });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  if (step === 'redeeming') {
    return (
      <Page title="Signing you in" narrow>
        <p role="status">Checking your sign-in link…</p>
      </Page>
    );
  }

  if (step === 'set-password') {
    return (
      <Page title="Choose a password" narrow>
        <form className="card form" onSubmit={submitNewPassword} noValidate>
          <p>You are signed in with a one-time link. Choose a password for your next sign-in.</p>
          {error ? <Alert tone="error">{error}</Alert> : null}
          <Field label="New password" type="password" autoComplete="new-password" required minLength={12} value={newPassword} onChange={(e) => setNewPassword(e.target.value)} hint="At least 12 characters. A few unrelated words make a strong, memorable password." />
          <button className="button button-primary" type="submit" disabled={busy || newPassword.length < 12}>
            {busy ? 'Saving…' : 'Set password and continue'}
          </button>
        </form>
      </Page>
    );
  }

  return (
    <Page title="Sign in to Sealpost" narrow>
      <form className="card form" onSubmit={submitPassword} noValidate>
        {endedReason ? <Alert tone="info">{endedReason}</Alert> : null}
        {error ? <Alert tone="error">{error}</Alert> : null}
        <Field label="Email address" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <Field label="Password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        <button className="button button-primary" type="submit" disabled={busy || !email || !password}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="hint">Forgot your password? Ask your administrator for a one-time sign-in link.</p>
      </form>
    </Page>
  );
}
