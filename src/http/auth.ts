// Who is calling: resolves the principal from the session cookie or an `Authorization: Bearer`
// personal API token on every request, and enforces CSRF protection for cookie-authenticated
// unsafe requests. Routes read the principal only through requireUser / requireRole.
//
// CSRF defence (docs/api.md, "Cookies and CSRF"):
//  1. SameSite=Lax cookie: browsers do not attach it to cross-site POST/PUT/PATCH/DELETE.
//  2. Origin check: an unsafe request that carries an Origin header must come from Sealpost's
//     own origin (PUBLIC_URL, or the Host it was sent to).
//  3. Synchronizer token: an unsafe request authenticated by the cookie must carry the session's
//     CSRF token in `x-csrf-token`; a cross-site page can neither read nor compute it.
// Bearer-token requests are exempt from 2 and 3: a browser never adds that header on its own.
import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Accounts } from '../accounts/accounts.ts';
import type { OpenedSession, Principal, RequestContext, Role } from '../accounts/account.model.ts';
import type { AuthProblem } from '../accounts/auth.service.ts';
import { csrfTokenMatches } from '../accounts/secrets.ts';
import { AppError, errors } from '../shared/app-error.ts';

/** Name of the session cookie. */
export const SESSION_COOKIE = 'sealpost_session';
/** Header that carries the CSRF token on unsafe cookie-authenticated requests. */
export const CSRF_HEADER = 'x-csrf-token';

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller, or null. Read it through requireUser(), which also reports why there is none. */
    principal: Principal | null;
    /** Why credentials that were presented did not authenticate (null when none were presented). */
    authProblem: AppError | null;
    /** The raw session token from the cookie, when it authenticated the request (to clear or rotate it). */
    sessionToken: string | null;
  }
}

/** Options of {@link installAuth}. */
export interface AuthOptions {
  /** PUBLIC_URL: decides the cookie's Secure flag and the allowed Origin. */
  publicUrl: string;
}

/** Registers the cookie parser and the hook that authenticates every request. */
export async function installAuth(app: FastifyInstance, accounts: Accounts, opts: AuthOptions): Promise<void> {
  await app.register(fastifyCookie);
  app.decorateRequest('principal', null);
  app.decorateRequest('authProblem', null);
  app.decorateRequest('sessionToken', null);
  const publicOrigin = new URL(opts.publicUrl).origin;

  app.addHook('onRequest', async (req) => {
    const unsafe = UNSAFE_METHODS.has(req.method);
    const authorization = req.headers.authorization;
    if (authorization !== undefined) {
      // A bearer token is never sent by a browser on its own, so it needs no CSRF defence. An
      // Authorization header that is not a valid token is an error, never a fall-back to the cookie.
      const m = /^Bearer ([^\s]+)$/i.exec(authorization.trim());
      const result = m ? await accounts.auth.authenticateApiToken(m[1]!) : { problem: 'invalid_credentials' as const };
      if ('principal' in result) req.principal = result.principal;
      else req.authProblem = problemError(result.problem, 'token');
      return;
    }

    // Refuses cross-origin unsafe requests before anything else (also protects sign-in itself
    // from login CSRF: a foreign page signing the victim in to the attacker's account).
    if (unsafe && !originAllowed(req, publicOrigin)) {
      throw errors.forbidden('origin_not_allowed', 'cross-origin requests are not accepted; use an API token for integrations');
    }

    const sessionToken = req.cookies[SESSION_COOKIE];
    if (!sessionToken) return;
    const result = await accounts.auth.authenticateSession(sessionToken);
    if ('problem' in result) {
      req.authProblem = problemError(result.problem, 'session');
      return;
    }
    if (unsafe) {
      const presented = req.headers[CSRF_HEADER];
      // Without the session's CSRF token the cookie does not authenticate an unsafe request.
      if (typeof presented !== 'string' || !csrfTokenMatches(sessionToken, presented)) {
        req.authProblem = errors.forbidden('csrf_token_invalid', `unsafe requests made with the session cookie need the session's CSRF token in the ${CSRF_HEADER} header`);
        return;
      }
    }
    req.principal = result.principal;
    req.sessionToken = sessionToken;
  });
}

/** The caller, or throws: 401 'unauthenticated' / 'session_expired' / …, or 403 'csrf_token_invalid' / 'account_disabled'. */
export function requireUser(req: FastifyRequest): Principal {
  if (req.principal) return req.principal;
  throw req.authProblem ?? errors.unauthenticated('unauthenticated', 'sign in, or send a personal API token as "Authorization: Bearer sp_…"');
}

/** The caller if their role is one of `roles`; otherwise 403 'insufficient_role'. */
export function requireRole(req: FastifyRequest, ...roles: Role[]): Principal {
  const principal = requireUser(req);
  if (!roles.includes(principal.user.role)) {
    throw errors.forbidden('insufficient_role', `this needs the ${roles.join(' or ')} role`);
  }
  return principal;
}

/** True when the user acts for the installation's operator: listed in OPERATOR_EMAILS and not disabled. */
export function isOperator(user: { email: string; role: Role }, operatorEmails: readonly string[]): boolean {
  return user.role !== 'disabled' && operatorEmails.includes(user.email.toLowerCase());
}

/** The caller if they act for the operator; otherwise 403 'operator_only' (tenant administrators included). */
export function requireOperator(req: FastifyRequest, operatorEmails: readonly string[]): Principal {
  const principal = requireUser(req);
  if (!isOperator(principal.user, operatorEmails)) throw errors.forbidden('operator_only', "this is for the installation's operator (OPERATOR_EMAILS)");
  return principal;
}

/** Where the request came from, for the audit log and rate limits. */
export function requestContext(req: FastifyRequest): RequestContext {
  const ua = req.headers['user-agent'];
  return { ip: req.ip, ...(typeof ua === 'string' && ua !== '' ? { userAgent: ua } : {}) };
}

/** Sets the session cookie for a session just opened. */
export function setSessionCookie(reply: FastifyReply, session: OpenedSession, opts: AuthOptions & { maxAgeSeconds: number }): void {
  reply.setCookie(SESSION_COOKIE, session.sessionToken, {
    httpOnly: true, // not readable by scripts: an XSS cannot exfiltrate the session
    secure: opts.publicUrl.startsWith('https:'),
    sameSite: 'lax',
    path: '/',
    maxAge: opts.maxAgeSeconds,
  });
}

/** Removes the session cookie from the browser. */
export function clearSessionCookie(reply: FastifyReply, opts: AuthOptions): void {
  reply.clearCookie(SESSION_COOKIE, { httpOnly: true, secure: opts.publicUrl.startsWith('https:'), sameSite: 'lax', path: '/' });
}

// Same origin when the Origin header is absent (non-browser clients, and browsers on same-origin
// GET-like navigations), equal to PUBLIC_URL's origin, or naming the host the request was sent
// to. `Origin: null` (sandboxed frames, some redirects) is refused.
function originAllowed(req: FastifyRequest, publicOrigin: string): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (origin === publicOrigin) return true;
  try {
    const host = req.headers.host;
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

function problemError(problem: AuthProblem, credential: 'session' | 'token'): AppError {
  switch (problem) {
    case 'session_expired':
      return errors.unauthenticated('session_expired', 'your session has ended; sign in again');
    case 'token_expired':
      return errors.unauthenticated('token_expired', 'this API token has expired; create a new one');
    case 'token_revoked':
      return errors.unauthenticated('token_revoked', 'this API token was revoked');
    case 'account_disabled':
      return errors.forbidden('account_disabled', 'this account is disabled; ask your administrator');
    case 'invalid_credentials':
      return credential === 'token'
        ? errors.unauthenticated('invalid_token', 'the API token is not valid')
        : errors.unauthenticated('unauthenticated', 'your session is not valid; sign in again');
  }
}
