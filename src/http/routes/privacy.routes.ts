// Privacy operations over HTTP. Public, without authentication and without cookies: the
// privacy notice (GET /privacy, GET /api/v1/privacy/notice) and the sub-processor register
// (GET /subprocessors, GET /api/v1/privacy/subprocessors). For administrators and auditors:
// the record of processing (GET /api/v1/privacy/ropa?format=json|csv|html), the register and
// its history. Edits are the operator's, through the CLI (docs/privacy.md, "Who may edit").
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { privacyNoticeToHtml } from '../../privacy/privacy-notice.ts';
import type { Privacy } from '../../privacy/privacy.ts';
import { PRIVACY_CSS, PRIVACY_CSS_PATH } from '../../privacy/html.ts';
import { recordToCsv, recordToHtml } from '../../privacy/record-of-processing.ts';
import { subprocessorListToHtml } from '../../privacy/subprocessors.ts';
import { requireRole } from '../auth.ts';
import { errorResponses } from './schemas.ts';

const tags = ['privacy'];

/** Formats of the record of processing. */
export const ROPA_FORMATS = ['json', 'csv', 'html'] as const;

// Public pages change only when the operator edits the register: a short shared cache is fine
// (they hold nothing about the reader).
function publicPage(reply: FastifyReply, type: string): FastifyReply {
  return reply.header('content-type', type).header('cache-control', 'public, max-age=60');
}

function auditorOrAdministrator(req: FastifyRequest) {
  return requireRole(req, 'administrator', 'auditor').user;
}

/** Registers the privacy routes. */
export function registerPrivacyRoutes(app: FastifyInstance, privacy: Privacy): void {
  app.get(PRIVACY_CSS_PATH, { schema: { hide: true } }, async (_req, reply) => publicPage(reply, 'text/css; charset=utf-8').send(PRIVACY_CSS));

  app.get('/privacy', { schema: { tags, summary: 'The privacy notice (HTML), generated from the processing register; public' } }, async (_req, reply) =>
    publicPage(reply, 'text/html; charset=utf-8').send(privacyNoticeToHtml(await privacy.notice())),
  );

  app.get('/api/v1/privacy/notice', { schema: { tags, summary: 'The privacy notice as JSON: purposes, lawful bases, recipients, transfers, retention per category; public' } }, async (_req, reply) =>
    publicPage(reply, 'application/json; charset=utf-8').send(await privacy.notice()),
  );

  app.get('/subprocessors', { schema: { tags, summary: 'The sub-processor register (HTML) with planned changes and history; public' } }, async (_req, reply) =>
    publicPage(reply, 'text/html; charset=utf-8').send(subprocessorListToHtml(await privacy.publicSubprocessors())),
  );

  app.get('/api/v1/privacy/subprocessors', { schema: { tags, summary: 'The sub-processor register as JSON: current, planned (with effective dates) and history; public' } }, async (_req, reply) =>
    publicPage(reply, 'application/json; charset=utf-8').send(await privacy.publicSubprocessors()),
  );

  app.get<{ Querystring: { format?: (typeof ROPA_FORMATS)[number] } }>(
    '/api/v1/privacy/ropa',
    {
      schema: {
        tags,
        summary: 'Record of processing activities (GDPR Art. 30(1) controller and 30(2) processor records) with gaps flagged; administrators and auditors',
        description: 'The processor record lists only your own organisation as controller. format=csv and format=html return text/csv and text/html.',
        querystring: { type: 'object', properties: { format: { type: 'string', enum: [...ROPA_FORMATS], default: 'json' } }, additionalProperties: false },
        produces: ['application/json', 'text/csv', 'text/html'],
        response: errorResponses(400, 401, 403),
      },
    },
    async (req, reply) => {
      const user = auditorOrAdministrator(req);
      const ropa = await privacy.recordOfProcessing({ tenantId: user.tenantId });
      const date = ropa.generatedAt.slice(0, 10);
      switch (req.query.format ?? 'json') {
        case 'csv':
          return reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="sealpost-ropa-${date}.csv"`).send(recordToCsv(ropa));
        case 'html':
          return reply.header('content-type', 'text/html; charset=utf-8').send(recordToHtml(ropa));
        default:
          return reply.header('content-type', 'application/json; charset=utf-8').send(ropa);
      }
    },
  );

  app.get(
    '/api/v1/privacy/register',
    { schema: { tags, summary: 'The processing register as stored: purposes (retired included), sub-processors and controller settings; administrators and auditors', response: errorResponses(401, 403) } },
    async (req) => {
      auditorOrAdministrator(req);
      return { purposes: await privacy.purposes(), subprocessors: await privacy.subprocessors(), settings: await privacy.settings() };
    },
  );

  app.get(
    '/api/v1/privacy/history',
    { schema: { tags, summary: 'Every change to the registers: who, when, what and when it takes effect; administrators and auditors', response: errorResponses(401, 403) } },
    async (req) => {
      auditorOrAdministrator(req);
      return { changes: await privacy.history() };
    },
  );
}
