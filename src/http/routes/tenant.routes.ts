// The caller's organisation: /api/v1/tenant (name, home region, branding; administrators change
// the branding), and the public /api/v1/branding the recipient pages read for a link.
// docs/admin-api.md §2 describes the rules and what the public route may reveal.
import type { FastifyInstance } from 'fastify';
import type { TenantSettingsService } from '../../tenants/tenant-settings.service.ts';
import { requestContext, requireRole, requireUser } from '../auth.ts';
import { errorResponses } from './schemas.ts';

const tags = ['tenant'];
const nullableString = { type: ['string', 'null'] } as const;

/** Registers /api/v1/tenant and /api/v1/branding. */
export function registerTenantRoutes(app: FastifyInstance, tenant: TenantSettingsService): void {
  app.addSchema({
    $id: 'Branding',
    type: 'object',
    properties: {
      displayName: { ...nullableString, description: "Shown as the sender organisation; null: the organisation's name" },
      logo: { ...nullableString, description: 'data:image/(png|jpeg|gif|webp);base64,… at most 64 KiB decoded' },
      accentColor: { ...nullableString, description: '#rrggbb' },
      footerText: { ...nullableString, description: 'Plain text; line breaks allowed' },
      updatedAt: { type: ['string', 'null'], format: 'date-time' },
    },
    required: ['displayName', 'logo', 'accentColor', 'footerText', 'updatedAt'],
  });

  app.addSchema({
    $id: 'ReplyResidency',
    type: 'object',
    description: "Where external recipients' secure replies are stored: the home region unless the recipient picks one of `allowed`",
    properties: {
      default: { type: 'string', enum: ['uk', 'eea', 'us'] },
      allowed: { type: 'array', items: { type: 'string', enum: ['uk', 'eea', 'us'] } },
      served: { type: 'array', items: { type: 'string', enum: ['uk', 'eea', 'us'] }, description: 'Regions this installation serves; only these can be allowed' },
    },
    required: ['default', 'allowed', 'served'],
  });

  app.get(
    '/api/v1/tenant',
    {
      schema: {
        tags,
        summary: 'Your organisation: name, home region (read-only: residency never changes by a setting) and notification branding',
        response: {
          200: {
            type: 'object',
            properties: { id: { type: 'string' }, name: { type: 'string' }, region: { type: 'string', enum: ['uk', 'eea', 'us'] }, createdAt: { type: 'string', format: 'date-time' }, branding: { $ref: 'Branding#' }, replyResidency: { $ref: 'ReplyResidency#' } },
            required: ['id', 'name', 'region', 'createdAt', 'branding', 'replyResidency'],
          },
          ...errorResponses(401),
        },
      },
    },
    async (req) => tenant.get(requireUser(req).user.tenantId),
  );

  app.patch<{ Body: Record<string, unknown> }>(
    '/api/v1/tenant/branding',
    {
      schema: {
        tags,
        summary: 'Change the notification branding (administrators); null clears a field',
        body: {
          type: 'object',
          properties: { displayName: nullableString, logo: { type: ['string', 'null'], maxLength: 100_000 }, accentColor: nullableString, footerText: nullableString },
          additionalProperties: false,
          minProperties: 1,
        },
        response: { 200: { $ref: 'Branding#' }, ...errorResponses(400, 401, 403) },
      },
    },
    async (req) => {
      const admin = requireRole(req, 'administrator');
      return tenant.updateBranding({ type: 'user', id: admin.user.id }, admin.user.tenantId, req.body, requestContext(req));
    },
  );

  app.put<{ Body: { allowed: unknown } }>(
    '/api/v1/tenant/reply-regions',
    {
      schema: {
        tags,
        summary: "Let external recipients store their replies in other regions this installation serves (administrators); [] keeps every reply in the home region",
        body: { type: 'object', properties: { allowed: { type: 'array', maxItems: 3, items: { type: 'string', maxLength: 20 } } }, required: ['allowed'], additionalProperties: false },
        response: { 200: { $ref: 'ReplyResidency#' }, ...errorResponses(400, 401, 403) },
      },
    },
    async (req) => {
      const admin = requireRole(req, 'administrator');
      return tenant.updateReplyRegions({ type: 'user', id: admin.user.id }, admin.user.tenantId, req.body.allowed, requestContext(req));
    },
  );

  app.post<{ Body: { link: string } }>(
    '/api/v1/branding',
    {
      schema: {
        tags: ['recipients'],
        summary: "Branding for a recipient page: the link's organisation's, or the installation's default for any other link (never says which, nor anything about the message)",
        body: { type: 'object', properties: { link: { type: 'string', minLength: 1, maxLength: 200, description: 'The token from the notification link (after #).' } }, required: ['link'], additionalProperties: false },
        response: {
          200: {
            type: 'object',
            properties: { displayName: { type: 'string' }, logo: nullableString, accentColor: { type: 'string' }, footerText: nullableString },
            required: ['displayName', 'logo', 'accentColor', 'footerText'],
          },
          ...errorResponses(400),
        },
      },
    },
    async (req) => tenant.forLink(req.body.link),
  );
}
