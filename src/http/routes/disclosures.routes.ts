// The disclosure log for the installation's operator (issue #6 §6): requests from law
// enforcement and other third parties, the decisions, what was disclosed, the CSV export and the
// half-yearly transparency report. Operator means a signed-in user whose address is listed in
// OPERATOR_EMAILS (docs/configuration.md); everyone else is refused with 403 'operator_only',
// tenant administrators included: the log spans every customer and holds gagged requests.
// The same service backs `sealpost privacy disclosures` (docs/disclosures-statistics-domains.md).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DISCLOSURE_STATUSES, REQUESTER_KINDS } from '../../privacy/disclosures/disclosure.model.ts';
import { DisclosureService, disclosuresToCsv } from '../../privacy/disclosures/disclosure.service.ts';
import { requireOperator } from '../auth.ts';
import { optionalDate } from './input.ts';
import { errorResponses } from './schemas.ts';

const tags = ['operator'];
const date = { type: 'string', maxLength: 40 } as const;

function operator(req: FastifyRequest, operatorEmails: readonly string[]) {
  return { type: 'user' as const, id: requireOperator(req, operatorEmails).user.id };
}

/** Registers the operator's disclosure-log routes. */
export function registerDisclosureRoutes(app: FastifyInstance, disclosures: DisclosureService, operatorEmails: readonly string[]): void {
  const filters = {
    type: 'object',
    properties: { from: date, to: date, status: { type: 'string', enum: [...DISCLOSURE_STATUSES] } },
    additionalProperties: false,
  } as const;
  const list = async (req: FastifyRequest<{ Querystring: { from?: string; to?: string; status?: string } }>) => {
    const from = optionalDate(req.query.from, 'from');
    const to = optionalDate(req.query.to, 'to');
    return disclosures.list({ ...(from ? { from } : {}), ...(to ? { to } : {}), ...(req.query.status ? { status: req.query.status } : {}) });
  };

  app.get<{ Querystring: { from?: string; to?: string; status?: string } }>(
    '/api/v1/operator/disclosures',
    { schema: { tags, summary: 'The disclosure log, oldest first, received in [from, to) and optionally with one status (operator)', querystring: filters, response: errorResponses(400, 401, 403) } },
    async (req) => {
      operator(req, operatorEmails);
      return { disclosures: await list(req) };
    },
  );

  app.get<{ Querystring: { from?: string; to?: string; status?: string } }>(
    '/api/v1/operator/disclosures.csv',
    {
      schema: {
        tags,
        summary: "The log as CSV for a transparency report's working file; cells a spreadsheet would run as formulas are prefixed with ' (operator)",
        querystring: filters,
        produces: ['text/csv'],
        response: { 200: { type: 'string', description: 'text/csv' }, ...errorResponses(400, 401, 403) },
      },
    },
    async (req, reply) => {
      operator(req, operatorEmails);
      const csv = disclosuresToCsv(await list(req));
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="sealpost-disclosures-${new Date().toISOString().slice(0, 10)}.csv"`)
        .send(csv);
    },
  );

  app.get<{ Params: { period: string }; Querystring: { threshold?: number } }>(
    '/api/v1/operator/disclosures/report/:period',
    {
      schema: {
        tags,
        summary: 'Transparency report for a half-year (e.g. 2026-H1): requests by authority and status, cells below the threshold suppressed, no totals (operator)',
        params: { type: 'object', properties: { period: { type: 'string', maxLength: 16 } }, required: ['period'] },
        querystring: { type: 'object', properties: { threshold: { type: 'integer', minimum: 2, maximum: 1000 } }, additionalProperties: false },
        response: errorResponses(400, 401, 403),
      },
    },
    async (req) => {
      operator(req, operatorEmails);
      return disclosures.transparencyReport({ half: req.params.period, ...(req.query.threshold !== undefined ? { threshold: req.query.threshold } : {}) });
    },
  );

  app.get<{ Params: { reference: string } }>(
    '/api/v1/operator/disclosures/:reference',
    {
      schema: {
        tags,
        summary: 'One entry by reference (DR-2026-0001) or id (operator)',
        params: { type: 'object', properties: { reference: { type: 'string', maxLength: 64 } }, required: ['reference'] },
        response: errorResponses(401, 403, 404),
      },
    },
    async (req) => {
      operator(req, operatorEmails);
      return { disclosure: await disclosures.get(req.params.reference) };
    },
  );

  // Bodies are validated by the service (one schema for the CLI and the API, every problem named).
  app.post<{ Body: Record<string, unknown> }>(
    '/api/v1/operator/disclosures',
    {
      schema: {
        tags,
        summary: `Record a request: requesterKind (${REQUESTER_KINDS.join(', ')}), authority, legalBasis, requested; optionally jurisdiction, contact, tenantId, requestedCategories, receivedAt, gag, gagUntil, notes (operator)`,
        body: { type: 'object' },
        response: errorResponses(400, 401, 403),
      },
    },
    async (req, reply) => {
      const actor = operator(req, operatorEmails);
      return reply.status(201).send({ disclosure: await disclosures.add(actor, req.body) });
    },
  );

  app.patch<{ Params: { reference: string }; Body: Record<string, unknown> }>(
    '/api/v1/operator/disclosures/:reference',
    {
      schema: {
        tags,
        summary: 'Record a decision (status with approvedBy and decisionReason), the disclosure (disclosedCategories, disclosedDescription), notices, or a correction (operator)',
        params: { type: 'object', properties: { reference: { type: 'string', maxLength: 64 } }, required: ['reference'] },
        body: { type: 'object' },
        response: errorResponses(400, 401, 403, 404, 409),
      },
    },
    async (req) => {
      const actor = operator(req, operatorEmails);
      return { disclosure: await disclosures.update(actor, req.params.reference, req.body) };
    },
  );
}
