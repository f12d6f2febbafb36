// Administration routes that complete /api/v1/users: invitations sent by email (the link goes to
// the invitee only, never back to the administrator). docs/admin-api.md §4.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ROLES, type Role } from '../../accounts/account.model.ts';
import type { Inviter, InvitationService } from '../../admin/invitation.service.ts';
import { requestContext, requireRole } from '../auth.ts';
import { errorResponses } from './schemas.ts';

const tags = ['users'];
const invitationSent = {
  type: 'object',
  properties: { sentTo: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' }, emailed: { type: 'boolean' } },
  required: ['sentTo', 'expiresAt'],
} as const;

function inviter(req: FastifyRequest): { tenantId: string; inviter: Inviter } {
  const admin = requireRole(req, 'administrator');
  return { tenantId: admin.user.tenantId, inviter: { actor: { type: 'user', id: admin.user.id }, displayName: admin.user.displayName, email: admin.user.email } };
}

/** Registers the invitation routes. */
export function registerAdminRoutes(app: FastifyInstance, invitations: InvitationService): void {
  app.post<{ Body: { email: string; displayName: string; role: Role } }>(
    '/api/v1/users/invitations',
    {
      schema: {
        tags,
        summary: 'Invite a user by email (administrators): creates the user and emails them a one-time sign-in link; emailed is false if the relay refused (resend)',
        body: {
          type: 'object',
          properties: {
            email: { type: 'string', minLength: 1, maxLength: 320 },
            displayName: { type: 'string', minLength: 1, maxLength: 200 },
            role: { type: 'string', enum: ROLES.filter((r) => r !== 'disabled') },
          },
          required: ['email', 'displayName', 'role'],
          additionalProperties: false,
        },
        response: {
          201: { type: 'object', properties: { user: { $ref: 'User#' }, invitation: { ...invitationSent, required: ['sentTo', 'expiresAt', 'emailed'] } }, required: ['user', 'invitation'] },
          ...errorResponses(400, 401, 403, 409),
        },
      },
    },
    async (req, reply) => {
      const { tenantId, inviter: by } = inviter(req);
      return reply.status(201).send(await invitations.invite(by, tenantId, req.body, requestContext(req)));
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/users/:id/invitation',
    {
      schema: {
        tags,
        summary: 'Email a new one-time sign-in link to a user (administrators); earlier unused links stop working',
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
        response: { 202: invitationSent, ...errorResponses(401, 403, 404, 409, 503) },
      },
    },
    async (req, reply) => {
      const { tenantId, inviter: by } = inviter(req);
      return reply.status(202).send(await invitations.resend(by, tenantId, req.params.id, requestContext(req)));
    },
  );
}
