// Verified domains and account transfers (docs/admin-api.md, "Domains"), the signed-in user's
// own transfer offer, and anonymous statistics over the caller's own organisation. Thin: parse,
// call one service, present.
import type { FastifyInstance } from 'fastify';
import type { StatisticsService } from '../../privacy/statistics/statistics.service.ts';
import type { Domains } from '../../tenants/domains/domains.ts';
import { requireRole, requireUser } from '../auth.ts';
import { errorResponses } from './schemas.ts';

const tags = ['tenant'];

/** Registers /api/v1/tenant/domains…, /api/v1/tenant/transfers…, /api/v1/account/transfer… */
export function registerDomainRoutes(app: FastifyInstance, d: Domains): void {
  const admin = (req: Parameters<typeof requireRole>[0]) => {
    const p = requireRole(req, 'administrator');
    return { actor: { type: 'user' as const, id: p.user.id }, tenantId: p.user.tenantId };
  };

  app.get('/api/v1/tenant/domains', { schema: { tags, summary: 'Your organisation\'s domains, their TXT records and verification state (administrators)', response: errorResponses(401, 403) } }, async (req) => {
    const a = admin(req);
    return { domains: await d.domains.list(a.tenantId) };
  });

  app.post<{ Body: { domain: string } }>(
    '/api/v1/tenant/domains',
    {
      schema: {
        tags,
        summary: 'Claim a domain; publish the returned TXT record, then verify (administrators)',
        body: { type: 'object', properties: { domain: { type: 'string', minLength: 1, maxLength: 253 } }, required: ['domain'], additionalProperties: false },
        response: errorResponses(400, 401, 403, 409),
      },
    },
    async (req, reply) => {
      const a = admin(req);
      return reply.code(201).send(await d.domains.add(a.actor, a.tenantId, req.body.domain));
    },
  );

  app.post<{ Params: { domain: string } }>(
    '/api/v1/tenant/domains/:domain/verify',
    { schema: { tags, summary: 'Look the TXT record up now; when verified, free accounts on the domain are offered for transfer (administrators)', response: errorResponses(401, 403, 404) } },
    async (req) => {
      const a = admin(req);
      return d.domains.verify(a.actor, a.tenantId, req.params.domain);
    },
  );

  app.delete<{ Params: { domain: string } }>(
    '/api/v1/tenant/domains/:domain',
    { schema: { tags, summary: 'Release a domain; open transfer offers made because of it are cancelled (administrators)', response: errorResponses(401, 403, 404) } },
    async (req, reply) => {
      const a = admin(req);
      await d.domains.remove(a.actor, a.tenantId, req.params.domain);
      return reply.code(204).send();
    },
  );

  app.get('/api/v1/tenant/transfers', { schema: { tags, summary: 'Free accounts offered for transfer into your organisation, and completed transfers (administrators)', response: errorResponses(401, 403) } }, async (req) => {
    const a = admin(req);
    return { transfers: await d.transfers.listInto(a.tenantId) };
  });

  app.post<{ Params: { id: string } }>(
    '/api/v1/tenant/transfers/:id/cancel',
    { schema: { tags, summary: 'Withdraw an open transfer offer (administrators)', params: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } }, required: ['id'] }, response: errorResponses(400, 401, 403, 404, 409) } },
    async (req, reply) => {
      const a = admin(req);
      await d.transfers.cancel(a.actor, a.tenantId, req.params.id);
      return reply.code(204).send();
    },
  );

  app.get('/api/v1/account/transfer', { schema: { tags: ['account'], summary: 'The open offer to move your free account into an organisation, if any', response: errorResponses(401) } }, async (req) => {
    const offer = await d.transfers.openOffer(requireUser(req).user.id);
    return { transfer: offer };
  });

  app.post('/api/v1/account/transfer/accept', { schema: { tags: ['account'], summary: 'Accept the offer now: your account and its messages move into the organisation, and you are signed out', response: errorResponses(401, 404, 409) } }, async (req) => {
    return { transfer: await d.transfers.accept(requireUser(req).user.id) };
  });
}

/** Registers GET /api/v1/tenant/statistics/:report (administrators and auditors, own organisation only). */
export function registerStatisticsRoutes(app: FastifyInstance, stats: StatisticsService): void {
  app.get<{ Params: { report: string }; Querystring: { from?: string; to?: string; threshold?: number } }>(
    '/api/v1/tenant/statistics/:report',
    {
      schema: {
        tags,
        summary: "Anonymous aggregates over your organisation's own data (messages_by_label, prevent_warnings); cells below the threshold are null; administrators and auditors",
        querystring: {
          type: 'object',
          properties: { from: { type: 'string', format: 'date' }, to: { type: 'string', format: 'date' }, threshold: { type: 'integer', minimum: 2, maximum: 1000 } },
          additionalProperties: false,
        },
        response: errorResponses(400, 401, 403),
      },
    },
    async (req) => {
      const p = requireRole(req, 'administrator', 'auditor');
      return stats.run({
        report: req.params.report,
        tenantId: p.user.tenantId,
        ...(req.query.from ? { from: new Date(req.query.from) } : {}),
        ...(req.query.to ? { to: new Date(req.query.to) } : {}),
        ...(req.query.threshold !== undefined ? { threshold: req.query.threshold } : {}),
      });
    },
  );
}
