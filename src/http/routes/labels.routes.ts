// Administering classification labels: /api/v1/labels (the list every user reads is in
// messages.routes.ts). Administrators change labels; auditors may read the full list.
// docs/admin-api.md §1 describes the rules.
import type { FastifyInstance } from 'fastify';
import type { LabelFieldsInput, LabelService } from '../../messages/label.service.ts';
import { requestContext, requireRole } from '../auth.ts';
import { errorResponses } from './schemas.ts';

const tags = ['labels'];
const idParams = { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;

const fieldProperties = {
  name: { type: 'string', maxLength: 200 },
  rank: { type: 'integer' },
  description: { type: 'string', maxLength: 2000 },
  defaultExpiryDays: { type: ['integer', 'null'] },
  authLevel: { type: 'string' },
  noForward: { type: 'boolean' },
  noDownload: { type: 'boolean' },
  watermark: { type: 'boolean' },
  hideSubject: { type: 'boolean' },
  disclaimer: { type: ['string', 'null'], maxLength: 8000 },
  isDefault: { type: 'boolean' },
} as const;

const labelInput = { type: 'object', properties: fieldProperties, additionalProperties: false } as const;

/** Registers the shapes the label routes use (after addMessageSchemas, which defines Label). */
function addLabelSchemas(app: FastifyInstance): void {
  app.addSchema({
    $id: 'ManagedLabel',
    type: 'object',
    properties: {
      id: { type: 'string' },
      name: { type: 'string' },
      rank: { type: 'integer' },
      description: { type: 'string' },
      defaultExpiryDays: { type: ['integer', 'null'] },
      authLevel: { type: 'string', enum: ['email_code', 'account'] },
      noForward: { type: 'boolean' },
      noDownload: { type: 'boolean' },
      watermark: { type: 'boolean' },
      hideSubject: { type: 'boolean' },
      disclaimer: { type: ['string', 'null'] },
      isDefault: { type: 'boolean' },
      retiredAt: { type: ['string', 'null'], format: 'date-time', description: 'When it was withdrawn from senders; null while active' },
      createdAt: dateTime,
      messageCount: { type: 'integer', description: 'Messages sent under it (a label in use can be retired, not deleted)' },
    },
    required: ['id', 'name', 'rank', 'description', 'defaultExpiryDays', 'authLevel', 'noForward', 'noDownload', 'watermark', 'hideSubject', 'disclaimer', 'isDefault', 'retiredAt', 'createdAt', 'messageCount'],
  });
}

/** Registers the label administration routes. */
export function registerLabelRoutes(app: FastifyInstance, labels: LabelService): void {
  addLabelSchemas(app);
  const labelList = { type: 'object', properties: { labels: { type: 'array', items: { $ref: 'ManagedLabel#' } } }, required: ['labels'] } as const;
  const actorOf = (req: Parameters<typeof requireRole>[0]) => {
    const admin = requireRole(req, 'administrator');
    return { tenantId: admin.user.tenantId, actor: { type: 'user' as const, id: admin.user.id }, ctx: requestContext(req) };
  };

  app.get(
    '/api/v1/labels/all',
    { schema: { tags, summary: 'Every label, retired ones too, with how many messages were sent under each (administrators, auditors)', response: { 200: labelList, ...errorResponses(401, 403) } } },
    async (req) => ({ labels: await labels.listAll(requireRole(req, 'administrator', 'auditor').user.tenantId) }),
  );

  app.post<{ Body: LabelFieldsInput }>(
    '/api/v1/labels',
    { schema: { tags, summary: 'Create a label (administrators); name and rank are required', body: { ...labelInput, required: ['name', 'rank'] }, response: { 201: { $ref: 'ManagedLabel#' }, ...errorResponses(400, 401, 403, 409) } } },
    async (req, reply) => {
      const { tenantId, actor, ctx } = actorOf(req);
      return reply.status(201).send(await labels.create(actor, tenantId, req.body, ctx));
    },
  );

  app.put<{ Body: { labels: LabelFieldsInput[] } }>(
    '/api/v1/labels',
    {
      schema: {
        tags,
        summary: "Replace the organisation's label set (administrators): listed names are created or updated, unlisted labels deleted when unused and retired otherwise",
        body: { type: 'object', properties: { labels: { type: 'array', minItems: 1, maxItems: 50, items: { ...labelInput, required: ['name', 'rank'] } } }, required: ['labels'], additionalProperties: false },
        response: {
          200: {
            type: 'object',
            properties: {
              labels: { type: 'array', items: { $ref: 'ManagedLabel#' } },
              created: { type: 'array', items: { type: 'string' } },
              updated: { type: 'array', items: { type: 'string' } },
              retired: { type: 'array', items: { type: 'string' } },
              deleted: { type: 'array', items: { type: 'string' } },
            },
            required: ['labels', 'created', 'updated', 'retired', 'deleted'],
          },
          ...errorResponses(400, 401, 403, 409),
        },
      },
    },
    async (req) => {
      const { tenantId, actor, ctx } = actorOf(req);
      return labels.replaceSet(actor, tenantId, req.body.labels, ctx);
    },
  );

  app.patch<{ Params: { id: string }; Body: LabelFieldsInput }>(
    '/api/v1/labels/:id',
    { schema: { tags, summary: "Change a label's name or policy (administrators)", params: idParams, body: { ...labelInput, minProperties: 1 }, response: { 200: { $ref: 'ManagedLabel#' }, ...errorResponses(400, 401, 403, 404, 409) } } },
    async (req) => {
      const { tenantId, actor, ctx } = actorOf(req);
      return labels.update(actor, tenantId, req.params.id, req.body, ctx);
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/labels/:id/retire',
    { schema: { tags, summary: 'Withdraw a label from senders; messages sent under it keep working (administrators)', params: idParams, response: { 200: { $ref: 'ManagedLabel#' }, ...errorResponses(401, 403, 404, 409) } } },
    async (req) => {
      const { tenantId, actor, ctx } = actorOf(req);
      return labels.retire(actor, tenantId, req.params.id, ctx);
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/labels/:id/restore',
    { schema: { tags, summary: 'Make a retired label available to senders again (administrators)', params: idParams, response: { 200: { $ref: 'ManagedLabel#' }, ...errorResponses(401, 403, 404) } } },
    async (req) => {
      const { tenantId, actor, ctx } = actorOf(req);
      return labels.restore(actor, tenantId, req.params.id, ctx);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/labels/:id',
    { schema: { tags, summary: 'Delete a label no message was sent under (administrators); 409 label_in_use otherwise', params: idParams, response: { 204: { type: 'null' }, ...errorResponses(401, 403, 404, 409) } } },
    async (req, reply) => {
      const { tenantId, actor, ctx } = actorOf(req);
      await labels.delete(actor, tenantId, req.params.id, ctx);
      return reply.status(204).send();
    },
  );
}
