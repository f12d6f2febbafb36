/** What went wrong, in terms the domain understands; the HTTP layer maps it to a status code. */
export const ERROR_KINDS = [
  'not_found',
  'forbidden',
  'unauthenticated',
  'invalid',
  'conflict',
  'rate_limited',
  'unavailable',
  'internal',
] as const;

/** Kind of an {@link AppError}. */
export type ErrorKind = (typeof ERROR_KINDS)[number];

/**
 * The one error type of Sealpost. `code` is stable snake_case (clients and tests match on it);
 * `message` is for people and must never contain secrets, keys, codes or content.
 */
export class AppError extends Error {
  override readonly name = 'AppError';

  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Shorthand constructors, so call sites read as what happened. */
export const errors = {
  notFound: (code: string, message: string, details?: Record<string, unknown>) =>
    new AppError('not_found', code, message, details),
  invalid: (code: string, message: string, details?: Record<string, unknown>) =>
    new AppError('invalid', code, message, details),
  conflict: (code: string, message: string, details?: Record<string, unknown>) =>
    new AppError('conflict', code, message, details),
  forbidden: (code: string, message: string, details?: Record<string, unknown>) =>
    new AppError('forbidden', code, message, details),
  unauthenticated: (code: string, message: string) => new AppError('unauthenticated', code, message),
  /** `retryAfterSeconds` becomes the HTTP Retry-After header. */
  rateLimited: (code: string, message: string, retryAfterSeconds: number) =>
    new AppError('rate_limited', code, message, { retryAfterSeconds }),
  unavailable: (code: string, message: string, cause?: unknown) =>
    new AppError('unavailable', code, message, undefined, { cause }),
  internal: (code: string, message: string, cause?: unknown) =>
    new AppError('internal', code, message, undefined, { cause }),
};

/** True when `err` is an AppError with the given code (handy in tests and retries). */
export function isAppError(err: unknown, code?: string): err is AppError {
  return err instanceof AppError && (code === undefined || err.code === code);
}
