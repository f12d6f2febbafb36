// Retention and legal hold for a tenant's administrators (auditors read): the organisation's
// retention periods, its legal holds, its retention reports, and a run limited to it.
// docs/admin-api.md §"Retention and legal hold" describes the rules.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RetentionService } from '../../privacy/retention/retention.service.ts';
import { requireRole } from '../auth.ts';
import { errorResponses } from './schemas.ts';

const tags = ['privacy'];
const uuid = { type: 'string', maxLength: 64 } as const;

function administrator(req: FastifyRequest) {
  const { user } = requireRole(req, 'administrator');
  return { tenantId: user.tenantId, actor: { type: 'user' as const, id: user.id } };
}

function reader(req: FastifyRequest) {
  return requireRole(req, 'administrator', 'auditor').user.tenantId;
}

/** Registers the retention and hold routes. */
export function registerRetentionRoutes(app: FastifyInstance, retention: RetentionService): void {
  app.get(
    '/api/v1/privacy/retention/policies',
    { schema: { tags, summary: "The organisation's retention periods in force, with their source (default, installation, tenant); administrators and auditors", response: errorResponses(401, 403) } },
    async (req) => ({ policies: await retention.policies(reader(req)) }),
  );

  app.put<{ Params: { key: string }; Body: { period: string | null } }>(
    '/api/v1/privacy/retention/policies/:key',
    {
      schema: {
        tags,
        summary: 'Set a retention period (administrators): an ISO-8601 duration such as P2Y, null to keep (content only), or "default" to fall back to the installation or registry default',
        params: { type: 'object', properties: { key: { type: 'string', maxLength: 64 } }, required: ['key'] },
        body: { type: 'object', properties: { period: { type: ['string', 'null'], maxLength: 32 } }, required: ['period'], additionalProperties: false },
        response: errorResponses(400, 401, 403),
      },
    },
    async (req) => {
      const { tenantId, actor } = administrator(req);
      return { policies: await retention.setPolicy(actor, tenantId, req.params.key, req.body.period) };
    },
  );

  app.get<{ Querystring: { limit?: number } }>(
    '/api/v1/privacy/retention/reports',
    {
      schema: {
        tags,
        summary: "Retention reports, newest first: the organisation's own runs and its share of installation-wide runs (counts per table and category, never values); administrators and auditors",
        querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 20 } }, additionalProperties: false },
        response: errorResponses(400, 401, 403),
      },
    },
    async (req) => ({ reports: await retention.reports({ tenantId: reader(req), limit: req.query.limit ?? 20 }) }),
  );

  app.post<{ Body: { dryRun?: boolean } }>(
    '/api/v1/privacy/retention/runs',
    {
      schema: {
        tags,
        summary: 'Run retention for the organisation now (administrators); dryRun (the default) reports what would be removed without changing anything',
        body: { type: 'object', properties: { dryRun: { type: 'boolean', default: true } }, additionalProperties: false },
        response: errorResponses(400, 401, 403, 409),
      },
    },
    async (req, reply) => {
      const { tenantId, actor } = administrator(req);
      const report = await retention.run({ dryRun: req.body?.dryRun ?? true, tenantId, triggeredBy: 'api', actor });
      return reply.status(201).send(report);
    },
  );

  app.get<{ Querystring: { includeReleased?: boolean } }>(
    '/api/v1/privacy/holds',
    {
      schema: {
        tags,
        summary: "The organisation's legal holds (active ones, or all with includeReleased=true); administrators and auditors",
        querystring: { type: 'object', properties: { includeReleased: { type: 'boolean', default: false } }, additionalProperties: false },
        response: errorResponses(400, 401, 403),
      },
    },
    async (req) => ({ holds: await retention.listHolds(reader(req), { includeReleased: req.query.includeReleased ?? false }) }),
  );

  app.post<{ Body: { scope: string; userId?: string; messageId?: string; reason: string } }>(
    '/api/v1/privacy/holds',
    {
      schema: {
        tags,
        summary: 'Place a legal hold on the whole organisation, one user or one message (administrators): retention keeps what it covers until it is released',
        body: {
          type: 'object',
          properties: { scope: { type: 'string', enum: ['tenant', 'user', 'message'] }, userId: uuid, messageId: uuid, reason: { type: 'string', maxLength: 1000 } },
          required: ['scope', 'reason'],
          additionalProperties: false,
        },
        response: errorResponses(400, 401, 403, 404),
      },
    },
    async (req, reply) => {
      const { tenantId, actor } = administrator(req);
      return reply.status(201).send(await retention.placeHold(actor, tenantId, req.body));
    },
  );

  app.post<{ Params: { id: string }; Body: { reason: string } }>(
    '/api/v1/privacy/holds/:id/release',
    {
      schema: {
        tags,
        summary: 'Release a legal hold (administrators), recording who, when and why; the hold stays listed as released',
        params: { type: 'object', properties: { id: uuid }, required: ['id'] },
        body: { type: 'object', properties: { reason: { type: 'string', maxLength: 1000 } }, required: ['reason'], additionalProperties: false },
        response: errorResponses(400, 401, 403, 404, 409),
      },
    },
    async (req) => {
      const { tenantId, actor } = administrator(req);
      return retention.releaseHold(actor, tenantId, req.params.id, req.body.reason);
    },
  );
}
