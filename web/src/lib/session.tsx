// Who is signed in. The session itself is an HttpOnly cookie the page cannot read; what the
// page keeps is the user and the CSRF token, fetched again from /auth/session after a reload.
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { api, ApiError, onSessionExpired, setCsrfToken } from './api.ts';

/** A user as the API presents it. */
export interface User {
  id: string;
  tenantId: string;
  email: string;
  displayName: string;
  role: 'administrator' | 'author' | 'auditor' | 'read_only' | 'disabled';
  hasPassword: boolean;
}

/** What sign-in and link redemption answer. */
export interface SignedIn {
  user: User;
  csrfToken: string;
  expiresAt: string;
  passwordRequired: boolean;
}

interface SessionState {
  /** undefined while loading, null when signed out. */
  user: User | null | undefined;
  /** Whether the user acts for the installation's operator (OPERATOR_EMAILS): the disclosure log. */
  operator: boolean;
  /** Why the person was signed out, shown on the sign-in page. */
  endedReason: string | null;
  signedIn(result: SignedIn): void;
  signOut(): Promise<void>;
  refresh(): Promise<void>;
}

const SessionContext = createContext<SessionState | null>(null);

// Whether this tab was signed in (sessionStorage: per tab, survives a reload). After a reload the
// server has already deleted a session it found ended (the page request itself carried the
// cookie), so /auth/session can only say "not signed in"; this remembers that there was one.
const WAS_SIGNED_IN = 'sealpost.signedIn';
const ENDED = 'Your session has ended, so you were signed out. Sign in again to continue.';

function remember(signedIn: boolean): void {
  try {
    if (signedIn) sessionStorage.setItem(WAS_SIGNED_IN, '1');
    else sessionStorage.removeItem(WAS_SIGNED_IN);
  } catch {
    // Storage disabled: the reason is then not shown after a reload, nothing else changes.
  }
}

function wasSignedIn(): boolean {
  try {
    return sessionStorage.getItem(WAS_SIGNED_IN) === '1';
  } catch {
    return false;
  }
}

/** Loads the session once and keeps it current; listens for ended sessions. */
export function SessionProvider({ children, load }: { children: ReactNode; load: boolean }) {
  const [user, setUser] = useState<User | null | undefined>(load ? undefined : null);
  const [endedReason, setEndedReason] = useState<string | null>(null);
  const [operator, setOperator] = useState(false);

  // Bumped by every sign-in and sign-out: a session check that was already in flight must not
  // overwrite what happened since (e.g. a sign-in link redeemed while the page loaded).
  const generation = useRef(0);

  const refresh = useCallback(async () => {
    const mine = generation.current;
    try {
      const s = await api<{ user: User; csrfToken?: string; operator?: boolean }>('GET', '/api/v1/auth/session', { anonymous: true });
      if (mine !== generation.current) return;
      setCsrfToken(s.csrfToken ?? null);
      remember(true);
      setUser(s.user);
      setOperator(s.operator === true);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status === 0) throw err;
      if (mine !== generation.current) return;
      setCsrfToken(null);
      if (wasSignedIn()) setEndedReason(ENDED);
      remember(false);
      setUser(null);
      setOperator(false);
    }
  }, []);

  useEffect(() => {
    if (load) refresh().catch(() => setUser((u) => (u === undefined ? null : u)));
  }, [load, refresh]);

  useEffect(
    () =>
      onSessionExpired(() => {
        generation.current++;
        setCsrfToken(null);
        remember(false);
        setUser(null);
        setOperator(false);
        setEndedReason(ENDED);
      }),
    [],
  );

  const signedIn = useCallback((result: SignedIn) => {
    generation.current++;
    setCsrfToken(result.csrfToken);
    setEndedReason(null);
    remember(true);
    setUser(result.user);
    // Sign-in answers do not say whether the user acts for the operator: ask once.
    void refresh().catch(() => undefined);
  }, [refresh]);

  const signOut = useCallback(async () => {
    try {
      await api('POST', '/api/v1/auth/logout', { anonymous: true });
    } finally {
      generation.current++;
      setCsrfToken(null);
      setEndedReason(null);
      remember(false);
      setUser(null);
      setOperator(false);
    }
  }, []);

  return <SessionContext.Provider value={{ user, operator, endedReason, signedIn, signOut, refresh }}>{children}</SessionContext.Provider>;
}

/** The session state; only inside SessionProvider. */
export function useSession(): SessionState {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

/** Whether the user may send (and manage what they sent). */
export const canSend = (u: User | null | undefined): boolean => u?.role === 'administrator' || u?.role === 'author';
