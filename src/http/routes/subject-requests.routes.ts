// Data subject requests over HTTP (docs/privacy.md, "Subject requests"; docs/api.md).
// Public, without cookies: the form (GET/POST /privacy/requests), the JSON intake
// (POST /api/v1/privacy/requests), code checks and the one-time download. For a tenant's
// administrators: the queue of requests their organisation opened or that were routed to it, and
// the actions on the ones it opened. The operator handles Sealpost's own queue with `sealpost dsr`.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DOWNLOAD_PAGE_PATH, DOWNLOAD_SCRIPT, DOWNLOAD_SCRIPT_PATH, REQUEST_PAGE_PATH, codeFormPage, confirmedPage, downloadPage, problemPage, requestFormPage } from '../../privacy/requests/request.pages.ts';
import { SUBJECT_REQUEST_KINDS, SUBJECT_REQUEST_STATUSES, type RequestActor, type SubjectRequestStatus } from '../../privacy/requests/request.model.ts';
import type { RequestScope, SubjectRequests } from '../../privacy/requests/requests.ts';
import { AppError, errors, isAppError } from '../../shared/app-error.ts';
import { requestContext, requireOperator, requireRole } from '../auth.ts';
import { errorResponses } from './schemas.ts';

const tags = ['privacy'];
const uuidParams = { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'], additionalProperties: false } as const;
const MAX_FORM_BYTES = 16 * 1024;

const FormSchema = z.object({
  kind: z.string().max(40).optional(),
  email: z.string().max(400).optional(),
  name: z.string().max(400).optional(),
  details: z.string().max(8000).optional(),
  lift: z.string().max(10).optional(),
  requestId: z.string().max(64).optional(),
  code: z.string().max(20).optional(),
  token: z.string().max(200).optional(),
});

function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.status(status).header('content-type', 'text/html; charset=utf-8').send(body);
}

function statusOf(err: AppError): number {
  if (err.code === 'export_gone') return 410;
  return { not_found: 404, forbidden: 403, invalid: 400, rate_limited: 429, conflict: 409 }[err.kind as string] ?? 500;
}

// The public form carries no credential, so a forged cross-site post could only make someone's
// browser ask for a code to be mailed to an address; refusing foreign origins stops even that.
function refuseCrossSite(req: FastifyRequest, publicUrl: string): void {
  const origin = req.headers.origin;
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site') throw errors.forbidden('cross_site_form', 'this form can only be sent from its own page');
  if (origin === undefined) return;
  const own = new Set([new URL(publicUrl).origin, `${req.protocol}://${req.host}`]);
  if (!own.has(origin)) throw errors.forbidden('cross_site_form', 'this form can only be sent from its own page');
}

/** The administrator's scope and actor; 403 for other roles. */
function administrator(req: FastifyRequest): { scope: RequestScope; actor: RequestActor } {
  const { user } = requireRole(req, 'administrator');
  return { scope: { tenantId: user.tenantId }, actor: { type: 'user', id: user.id, tenantId: user.tenantId } };
}

function parseStatuses(value: string | undefined): SubjectRequestStatus[] | undefined {
  if (value === undefined || value === '') return undefined;
  const list = value.split(',').map((s) => s.trim());
  for (const s of list) {
    if (!(SUBJECT_REQUEST_STATUSES as readonly string[]).includes(s)) throw errors.invalid('invalid_status', `status: expected a comma-separated list of ${SUBJECT_REQUEST_STATUSES.join(', ')}`, { field: 'status' });
  }
  return list as SubjectRequestStatus[];
}

/** Registers the subject-request routes. */
export function registerSubjectRequestRoutes(app: FastifyInstance, requests: SubjectRequests, opts: { publicUrl: string; operatorEmails?: readonly string[] }): void {
  const service = requests.service;

  // The HTML pages post ordinary forms: parse them here only, not for the whole API.
  void app.register(async (pages) => {
    pages.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: MAX_FORM_BYTES }, (_req, body, done) => {
      try {
        done(null, FormSchema.parse(Object.fromEntries(new URLSearchParams(body as string))));
      } catch {
        done(errors.invalid('invalid_form', 'the form could not be read'), undefined);
      }
    });
    const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

    pages.get(REQUEST_PAGE_PATH, { schema: { tags, summary: 'The form for a data subject request (HTML); public, no cookies' } }, async (_req, reply) => html(noStore(reply), 200, requestFormPage()));

    pages.post<{ Body: z.infer<typeof FormSchema> }>(REQUEST_PAGE_PATH, { schema: { hide: true } }, async (req, reply) => {
      const form = req.body ?? {};
      const values = { kind: form.kind ?? '', email: form.email ?? '', name: form.name ?? '', details: form.details ?? '', lift: form.lift ?? '' };
      try {
        refuseCrossSite(req, opts.publicUrl);
        const receipt = await service.submit(
          { kind: form.kind ?? '', email: form.email ?? '', name: form.name, details: form.details, lift: form.lift === 'true' },
          { via: 'public', actor: { type: 'subject' }, origin: requestContext(req) },
        );
        return html(noStore(reply), 200, codeFormPage({ requestId: receipt.requestId, sentTo: receipt.sentTo }));
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        return html(noStore(reply), statusOf(err), requestFormPage({ error: err.message, values }));
      }
    });

    pages.post<{ Body: z.infer<typeof FormSchema> }>(`${REQUEST_PAGE_PATH}/verify`, { schema: { hide: true } }, async (req, reply) => {
      const requestId = req.body?.requestId ?? '';
      try {
        refuseCrossSite(req, opts.publicUrl);
        const receipt = await service.verify(requestId, req.body?.code ?? '', { origin: requestContext(req) });
        return html(noStore(reply), 200, confirmedPage({ requestId: receipt.requestId, status: receipt.status, dueOn: receipt.dueOn, ...(receipt.duplicateOf ? { duplicateOf: receipt.duplicateOf } : {}) }));
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        if (err.code === 'code_wrong') return html(noStore(reply), 403, codeFormPage({ requestId, sentTo: 'your address', error: err.message }));
        return html(noStore(reply), statusOf(err), problemPage('We could not confirm your request', err.message));
      }
    });

    pages.post<{ Body: z.infer<typeof FormSchema> }>(`${REQUEST_PAGE_PATH}/code`, { schema: { hide: true } }, async (req, reply) => {
      try {
        refuseCrossSite(req, opts.publicUrl);
        const receipt = await service.resendCode(req.body?.requestId ?? '', requestContext(req));
        return html(noStore(reply), 200, codeFormPage({ requestId: receipt.requestId, sentTo: receipt.sentTo }));
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        return html(noStore(reply), statusOf(err), problemPage('We could not send a new code', err.message));
      }
    });

    pages.get(DOWNLOAD_PAGE_PATH, { schema: { tags, summary: 'The page behind the download link of an access export (HTML); the token is in the fragment' } }, async (_req, reply) => html(noStore(reply), 200, downloadPage()));
    pages.get(DOWNLOAD_SCRIPT_PATH, { schema: { hide: true } }, async (_req, reply) => reply.header('content-type', 'text/javascript; charset=utf-8').header('cache-control', 'public, max-age=300').send(DOWNLOAD_SCRIPT));

    pages.post<{ Body: z.infer<typeof FormSchema> }>(DOWNLOAD_PAGE_PATH, { schema: { hide: true } }, async (req, reply) => {
      try {
        refuseCrossSite(req, opts.publicUrl);
        const { requestId, zip } = await service.download(req.body?.token ?? '', requestContext(req));
        return sendZip(reply, requestId, zip);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        return html(noStore(reply), statusOf(err), problemPage(err.code === 'export_gone' ? 'This download has ended' : 'Download not found', err.message));
      }
    });
  });

  const sendZip = (reply: FastifyReply, requestId: string, zip: Buffer) =>
    reply
      .header('content-type', 'application/zip')
      .header('content-disposition', `attachment; filename="sealpost-data-${requestId.slice(0, 8)}.zip"`)
      .header('cache-control', 'no-store')
      .send(zip);

  app.post<{ Body: { kind: string; email: string; name?: string; details?: string; lift?: boolean } }>(
    '/api/v1/privacy/requests',
    {
      schema: {
        tags,
        summary: 'Make a data subject request; a one-time code is emailed to the address (public, rate-limited). With an administrator\'s credentials it is opened on the person\'s behalf for your organisation',
        body: {
          type: 'object',
          properties: {
            kind: { type: 'string', enum: [...SUBJECT_REQUEST_KINDS] },
            email: { type: 'string', minLength: 1, maxLength: 320 },
            name: { type: 'string', maxLength: 400 },
            details: { type: 'string', maxLength: 8000 },
            lift: { type: 'boolean' },
          },
          required: ['kind', 'email'],
          additionalProperties: false,
        },
        response: {
          202: { type: 'object', properties: { requestId: { type: 'string' }, sentTo: { type: 'string' }, codeExpiresAt: { type: 'string', format: 'date-time' } }, required: ['requestId', 'sentTo', 'codeExpiresAt'] },
          ...errorResponses(400, 403, 429),
        },
      },
    },
    async (req, reply) => {
      const origin = requestContext(req);
      const admin = req.principal?.user.role === 'administrator' ? req.principal.user : undefined;
      const receipt = admin
        ? await service.submit(req.body, { via: 'administrator', actor: { type: 'user', id: admin.id, tenantId: admin.tenantId }, tenantId: admin.tenantId, origin })
        : await service.submit(req.body, { via: 'public', actor: { type: 'subject' }, origin });
      return reply.status(202).send(receipt);
    },
  );

  app.post<{ Params: { id: string }; Body: { code: string } }>(
    '/api/v1/privacy/requests/:id/verify',
    {
      schema: {
        tags,
        summary: 'Confirm a request with the emailed code (public); the one-month clock starts. 5 wrong codes use the code up',
        params: uuidParams,
        body: { type: 'object', properties: { code: { type: 'string', maxLength: 20 } }, required: ['code'], additionalProperties: false },
        response: {
          200: { type: 'object', properties: { requestId: { type: 'string' }, status: { type: 'string' }, dueOn: { type: 'string' }, duplicateOf: { type: 'string' } }, required: ['requestId', 'status', 'dueOn'] },
          ...errorResponses(400, 403, 404, 429),
        },
      },
    },
    async (req) => service.verify(req.params.id, req.body.code, { origin: requestContext(req) }),
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/privacy/requests/:id/code',
    {
      schema: {
        tags,
        summary: 'Email a new code for a request awaiting confirmation (public, rate-limited)',
        params: uuidParams,
        response: { 202: { type: 'object', properties: { requestId: { type: 'string' }, sentTo: { type: 'string' }, codeExpiresAt: { type: 'string', format: 'date-time' } }, required: ['requestId', 'sentTo', 'codeExpiresAt'] }, ...errorResponses(404, 429) },
      },
    },
    async (req, reply) => reply.status(202).send(await service.resendCode(req.params.id, requestContext(req))),
  );

  app.post<{ Body: { token: string } }>(
    '/api/v1/privacy/requests/download',
    {
      schema: {
        tags,
        summary: 'Download an access export once with the token from the emailed link (application/zip); 410 once used or expired',
        body: { type: 'object', properties: { token: { type: 'string', maxLength: 200 } }, required: ['token'], additionalProperties: false },
        produces: ['application/zip'],
        response: errorResponses(404, 410),
      },
    },
    async (req, reply) => {
      try {
        const { requestId, zip } = await service.download(req.body.token, requestContext(req));
        return sendZip(reply, requestId, zip);
      } catch (err) {
        if (isAppError(err, 'export_gone')) return reply.status(410).send({ error: { code: err.code, message: err.message } });
        throw err;
      }
    },
  );

  // The queue, twice: an organisation's administrators see the requests it opened or that were
  // routed to it; the installation's operator (OPERATOR_EMAILS) sees every request, as with
  // `sealpost dsr`, and answers those where Sealpost is controller.
  const queues = [
    {
      prefix: '/api/v1/privacy/requests',
      who: 'administrators, requests your organisation opened',
      listSummary: 'The queue (administrators): requests your organisation opened or that were routed to it as controller, by due date, with days left and overdue flagged',
      resolve: administrator,
    },
    {
      prefix: '/api/v1/operator/requests',
      who: 'operator',
      listSummary: "The installation's queue (operator): every request, by due date, with days left and overdue flagged",
      resolve: (req: FastifyRequest): { scope: RequestScope; actor: RequestActor } => ({ scope: { operator: true }, actor: { type: 'operator', id: requireOperator(req, opts.operatorEmails ?? []).user.id } }),
    },
  ];
  for (const q of queues) {
    app.get<{ Querystring: { status?: string } }>(
      q.prefix,
      {
        schema: {
          tags,
          summary: q.listSummary,
          querystring: { type: 'object', properties: { status: { type: 'string', maxLength: 200 } }, additionalProperties: false },
          response: errorResponses(400, 401, 403),
        },
      },
      async (req) => {
        const { scope } = q.resolve(req);
        const statuses = parseStatuses(req.query.status);
        return { requests: await service.list(scope, statuses ? { statuses } : {}) };
      },
    );

    app.get<{ Params: { id: string } }>(
      `${q.prefix}/:id`,
      { schema: { tags, summary: `One request with its history and routings (${q.who})`, params: uuidParams, response: errorResponses(401, 403, 404) } },
      async (req) => service.get(q.resolve(req).scope, req.params.id),
    );

    app.post<{ Params: { id: string }; Body: { months: number; reason: string } }>(
      `${q.prefix}/:id/extend`,
      {
        schema: {
          tags,
          summary: `Extend the time limit once by 1 or 2 months with a reason; the requester is emailed the reason and the new date (${q.who})`,
          params: uuidParams,
          body: { type: 'object', properties: { months: { type: 'integer', minimum: 1, maximum: 2 }, reason: { type: 'string', minLength: 1, maxLength: 4000 } }, required: ['months', 'reason'], additionalProperties: false },
          response: errorResponses(400, 401, 403, 404, 409),
        },
      },
      async (req) => {
        const { scope, actor } = q.resolve(req);
        return service.extend(scope, req.params.id, req.body, actor);
      },
    );

    app.post<{ Params: { id: string }; Body: { reason: string } }>(
      `${q.prefix}/:id/pause`,
      {
        schema: {
          tags,
          summary: `Pause the clock while waiting for the requester to clarify; they are emailed what is needed (${q.who})`,
          params: uuidParams,
          body: { type: 'object', properties: { reason: { type: 'string', minLength: 1, maxLength: 4000 } }, required: ['reason'], additionalProperties: false },
          response: errorResponses(400, 401, 403, 404, 409),
        },
      },
      async (req) => {
        const { scope, actor } = q.resolve(req);
        return service.pause(scope, req.params.id, req.body, actor);
      },
    );

    app.post<{ Params: { id: string } }>(
      `${q.prefix}/:id/resume`,
      { schema: { tags, summary: `Restart a paused clock; the due date moves by the days paused (${q.who})`, params: uuidParams, response: errorResponses(401, 403, 404, 409) } },
      async (req) => {
        const { scope, actor } = q.resolve(req);
        return service.resume(scope, req.params.id, actor);
      },
    );

    app.post<{ Params: { id: string } }>(
      `${q.prefix}/:id/run`,
      { schema: { tags, summary: `Carry out a confirmed request (${q.who})`, params: uuidParams, response: errorResponses(401, 403, 404, 409, 503) } },
      async (req) => {
        const { scope, actor } = q.resolve(req);
        return service.run(req.params.id, actor, scope);
      },
    );

    app.post<{ Params: { id: string }; Body: { reason: string } }>(
      `${q.prefix}/:id/reject`,
      {
        schema: {
          tags,
          summary: `Refuse a request with a reason; the requester is told, with their right to complain (${q.who})`,
          params: uuidParams,
          body: { type: 'object', properties: { reason: { type: 'string', minLength: 1, maxLength: 4000 } }, required: ['reason'], additionalProperties: false },
          response: errorResponses(400, 401, 403, 404, 409),
        },
      },
      async (req) => {
        const { scope, actor } = q.resolve(req);
        return service.reject(scope, req.params.id, req.body, actor);
      },
    );

    app.post<{ Params: { id: string }; Body: { note: string } }>(
      `${q.prefix}/:id/complete`,
      {
        schema: {
          tags,
          summary: `Mark a rectification done with a note of what was corrected (sent to the requester) (${q.who})`,
          params: uuidParams,
          body: { type: 'object', properties: { note: { type: 'string', minLength: 1, maxLength: 4000 } }, required: ['note'], additionalProperties: false },
          response: errorResponses(400, 401, 403, 404, 409),
        },
      },
      async (req) => {
        const { scope, actor } = q.resolve(req);
        return service.completeRectification(scope, req.params.id, req.body, actor);
      },
    );
  }

  app.post<{ Params: { id: string } }>(
    '/api/v1/privacy/requests/:id/instruct-erasure',
    {
      schema: {
        tags,
        summary: 'As controller, instruct Sealpost to erase the Content your organisation holds about the person of an erasure request routed to you (administrators)',
        params: uuidParams,
        response: errorResponses(401, 403, 404, 409, 503),
      },
    },
    async (req) => {
      const { scope, actor } = administrator(req);
      if (!('tenantId' in scope)) throw errors.forbidden('administrator_required', 'only an organisation can instruct the erasure of its own Content');
      return service.instructErasure(scope, req.params.id, actor);
    },
  );
}
