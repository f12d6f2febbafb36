// Minimal JSON client for commands that talk to a Sealpost server over its API (login, logout,
// and later send/read). Server errors become AppErrors with the server's own code, so the CLI
// prints `error (<code>): <message>` whether a problem was found locally or remotely.
import { AppError, ERROR_KINDS, type ErrorKind } from '../shared/app-error.ts';

const KIND_BY_STATUS: Record<number, ErrorKind> = { 400: 'invalid', 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found', 409: 'conflict', 429: 'rate_limited', 503: 'unavailable' };

/** Calls `method path` on `server` with an optional JSON body and bearer token; returns the parsed JSON (undefined for 204). */
export async function callApi<T>(server: string, method: string, path: string, opts: { body?: unknown; token?: string; timeoutMs?: number } = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${server}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
      redirect: 'error',
    });
  } catch (err) {
    throw new AppError('unavailable', 'server_unreachable', `could not reach ${server}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    throw new AppError('unavailable', 'unexpected_response', `${server} answered ${res.status} with something that is not JSON; is it a Sealpost server?`);
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
    const kind = KIND_BY_STATUS[res.status] ?? (res.status >= 500 ? 'unavailable' : 'invalid');
    const details = e?.details && typeof e.details === 'object' ? (e.details as Record<string, unknown>) : undefined;
    if (e && typeof e.code === 'string' && typeof e.message === 'string') throw new AppError(ERROR_KINDS.includes(kind) ? kind : 'invalid', e.code, e.message, details);
    throw new AppError(kind, 'unexpected_response', `${server} answered ${res.status}`);
  }
  return json as T;
}
