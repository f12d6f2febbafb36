// The API client: JSON in and out, the session's CSRF token on every unsafe request, errors as
// ApiError with the server's stable `code`. A 401 on a signed-in request means the session
// ended (idle timeout, absolute lifetime, sign-out elsewhere): listeners are told so the app
// can send the person back to sign-in with a clear message.

/** An error answer from the API (`{ error: { code, message } }`), or a network failure. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds?: number,
    /** `error.details` of invalid and conflict answers (e.g. the field at fault, or blocking warnings). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
const expiryListeners = new Set<() => void>();

/** Remembers the CSRF token of the current session (from login, link redemption or /auth/session). */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Calls `listener` when a signed-in request is refused because the session ended. */
export function onSessionExpired(listener: () => void): () => void {
  expiryListeners.add(listener);
  return () => expiryListeners.delete(listener);
}

const SESSION_ENDED = new Set(['session_expired', 'unauthenticated', 'session_invalid']);

/** Options of one request. */
export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Do not report a 401 as an ended session (sign-in and recipient calls). */
  anonymous?: boolean;
  signal?: AbortSignal;
}

async function toApiError(res: Response): Promise<ApiError> {
  let code = `http_${res.status}`;
  let message = res.statusText || 'The request failed';
  let details: Record<string, unknown> | undefined;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string; details?: Record<string, unknown> } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
    details = body.error?.details;
  } catch {
    // Not JSON (a proxy's error page): keep the status.
  }
  const retry = Number(res.headers.get('retry-after'));
  return new ApiError(res.status, code, message, Number.isFinite(retry) && retry > 0 ? retry : undefined, details);
}

/** Headers every unsafe request carries (the CSRF token of the session). */
export function csrfHeaders(): Record<string, string> {
  return csrfToken ? { 'x-csrf-token': csrfToken } : {};
}

/** Sends one request and returns the parsed JSON (undefined for 204). */
export async function api<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') Object.assign(headers, csrfHeaders());
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
  } catch {
    throw new ApiError(0, 'network_error', 'Sealpost could not be reached. Check your connection and try again.');
  }
  if (!res.ok) {
    const err = await toApiError(res);
    if (res.status === 401 && !opts.anonymous && SESSION_ENDED.has(err.code)) for (const l of expiryListeners) l();
    throw err;
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Progress of a transfer in bytes. */
export type Progress = (done: number, total: number) => void;

/**
 * Uploads a file as raw bytes with progress (XMLHttpRequest: fetch has no upload progress,
 * and streaming request bodies need HTTP/2 in Chromium). The browser streams the File from
 * disk; Content-Length is set from its size.
 */
export function uploadFile(
  path: string,
  file: Blob,
  headers: Record<string, string>,
  onProgress: Progress,
  signal?: AbortSignal,
  opts: Pick<RequestOptions, 'anonymous'> = {},
): Promise<{ uploadId: string; size: number }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    for (const [k, v] of Object.entries({ ...csrfHeaders(), ...headers })) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      if (xhr.status === 201) {
        onProgress(file.size, file.size);
        resolve(JSON.parse(xhr.responseText) as { uploadId: string; size: number });
        return;
      }
      let code = `http_${xhr.status}`;
      let message = 'The upload failed';
      try {
        const body = JSON.parse(xhr.responseText) as { error?: { code?: string; message?: string } };
        code = body.error?.code ?? code;
        message = body.error?.message ?? message;
      } catch {
        // keep the status
      }
      // As for api(): a signed-in upload refused because the session ended signs the page out.
      if (xhr.status === 401 && !opts.anonymous && SESSION_ENDED.has(code)) for (const l of expiryListeners) l();
      reject(new ApiError(xhr.status, code, message));
    };
    xhr.onerror = () => reject(new ApiError(0, 'network_error', 'The upload was interrupted. Try again.'));
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'The upload was cancelled.'));
    signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(file);
  });
}
