// Every cookie Sealpost sets is declared here, essential or not, and this is the one place that
// enforces Do-Not-Track and Global Privacy Control: when a request carries `DNT: 1` or
// `Sec-GPC: 1`, no non-essential cookie leaves the server. A cookie that is not declared counts
// as non-essential (fail closed: forgetting to declare it cannot make it slip through).
//
// Inventory (docs/privacy.md, "Cookies, Do-Not-Track and GPC"): today the only cookie is the
// session cookie, which is strictly necessary (it keeps you signed in, and the CSRF token is
// derived from it). Sealpost sets no analytics, advertising or preference cookies at all.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SESSION_COOKIE } from './auth.ts';

/** What a cookie is for. */
export interface CookieDeclaration {
  /** Strictly necessary for a service the user asked for (ePrivacy Art. 5(3) exemption). */
  essential: boolean;
  purpose: string;
}

/** Every cookie the server may set. */
export const COOKIES: Record<string, CookieDeclaration> = {
  [SESSION_COOKIE]: { essential: true, purpose: 'Keeps you signed in (HttpOnly, SameSite=Lax); the CSRF token is derived from it. Ends when you sign out or the session expires.' },
};

/** Declares a cookie (at start-up, before it is ever set). */
export function declareCookie(name: string, declaration: CookieDeclaration): void {
  COOKIES[name] = declaration;
}

/** True when the browser asked not to be tracked: `DNT: 1` or `Sec-GPC: 1`. */
export function refusesTracking(headers: FastifyRequest['headers']): boolean {
  return headers.dnt === '1' || headers['sec-gpc'] === '1';
}

/** The GPC support resource (GPC spec §3.5): served at /.well-known/gpc.json. */
export const GPC_RESOURCE = {
  path: '/.well-known/gpc.json',
  // lastUpdate: when this server's handling of GPC last changed.
  body: { gpc: true, lastUpdate: '2026-12-01' },
} as const;

function cookieName(setCookie: string): string {
  return setCookie.slice(0, Math.max(0, setCookie.indexOf('='))).trim();
}

/**
 * Installs the hook that drops non-essential (and undeclared) cookies from responses to
 * requests with DNT or GPC. Install it after @fastify/cookie, whose own onSend hook writes the
 * Set-Cookie headers this one filters.
 */
export function installCookiePolicy(app: FastifyInstance): void {
  app.addHook('onSend', async (req, reply, payload) => {
    const header = reply.getHeader('set-cookie');
    if (header === undefined) return payload;
    const cookies = (Array.isArray(header) ? header : [String(header)]).map(String);
    const undeclared = cookies.map(cookieName).filter((n) => !COOKIES[n]);
    if (undeclared.length > 0) req.log.warn({ cookies: undeclared }, 'cookie not declared in src/http/cookie-policy.ts: treated as non-essential');
    if (!refusesTracking(req.headers)) return payload;
    const kept = cookies.filter((c) => COOKIES[cookieName(c)]?.essential === true);
    if (kept.length === cookies.length) return payload;
    // reply.header() appends Set-Cookie values: remove first, then put back what may stay.
    reply.removeHeader('set-cookie');
    if (kept.length > 0) reply.header('set-cookie', kept);
    return payload;
  });
}
