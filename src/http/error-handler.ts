// The one place where domain errors become HTTP responses: { error: { code, message } }.
import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError, type ErrorKind } from '../shared/app-error.ts';

/** HTTP status for each error kind. */
export const STATUS_BY_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
};

// Fastify's own error codes, renamed to read like ours; others become FST_ERR_X → 'x'.
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'empty_json_body',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_content_length',
};

/** Installs the error and not-found handlers on a Fastify app. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
    if (err instanceof AppError) {
      const status = STATUS_BY_KIND[err.kind];
      if (status >= 500) req.log.error({ err }, 'request failed');
      const body: { code: string; message: string; details?: Record<string, unknown> } = { code: err.code, message: err.message };
      // Details go out for bad input (which field) and conflicts (e.g. the pre-send findings that
      // block a send); other kinds may carry internal context, so theirs stay in the server.
      if ((err.kind === 'invalid' || err.kind === 'conflict') && err.details) body.details = err.details;
      const retryAfter = err.details?.retryAfterSeconds;
      if (err.kind === 'rate_limited' && typeof retryAfter === 'number') reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfter))));
      return reply.status(status).send({ error: body });
    }
    // Fastify's own errors: schema validation, body too large, bad JSON, etc.
    if (err.validation) {
      return reply.status(400).send({ error: { code: 'invalid_request', message: `${err.validationContext ?? 'request'} ${err.message}` } });
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) {
      req.log.error({ err }, 'request failed');
      return reply.status(status).send({ error: { code: 'internal_error', message: 'something went wrong on our side' } });
    }
    const code = FASTIFY_CODES[err.code] ?? (err.code ?? 'bad_request').replace(/^FST_ERR_/, '').toLowerCase();
    return reply.status(status).send({ error: { code, message: err.message } });
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send({ error: { code: 'route_not_found', message: `no route for ${req.method} ${req.url.split('?')[0]}` } }));
}
