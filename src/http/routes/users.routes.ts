// Administration of the caller's own organisation's users: /api/v1/users (administrators only).
// Every lookup is scoped to the caller's tenant, so another tenant's user is a plain 404.
import type { FastifyInstance } from 'fastify';
import type { Accounts } from '../../accounts/accounts.ts';
import { ROLES, type Role } from '../../accounts/account.model.ts';
import { requestContext, requireRole } from '../auth.ts';
import { errorResponses } from './schemas.ts';

const tags = ['users'];
const idParams = { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] } as const;

/** Registers the /api/v1/users routes. */
export function registerUserRoutes(app: FastifyInstance, accounts: Accounts): void {
  app.get(
    '/api/v1/users',
    {
      schema: {
        tags,
        summary: "List your organisation's users (administrators)",
        response: { 200: { type: 'object', properties: { users: { type: 'array', items: { $ref: 'User#' } } }, required: ['users'] }, ...errorResponses(401, 403) },
      },
    },
    async (req) => ({ users: await accounts.users.list(requireRole(req, 'administrator').user.tenantId) }),
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/users/:id',
    { schema: { tags, summary: 'One user of your organisation (administrators)', params: idParams, response: { 200: { $ref: 'User#' }, ...errorResponses(401, 403, 404) } } },
    async (req) => accounts.users.get(requireRole(req, 'administrator').user.tenantId, req.params.id),
  );

  app.post<{ Body: { email: string; displayName: string; role: Role } }>(
    '/api/v1/users',
    {
      schema: {
        tags,
        summary: 'Invite a user to your organisation (administrators); returns a one-time sign-in link to hand them',
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
          201: { type: 'object', properties: { user: { $ref: 'User#' }, signInLink: { $ref: 'SignInLink#' } }, required: ['user', 'signInLink'] },
          ...errorResponses(400, 401, 403, 409),
        },
      },
    },
    async (req, reply) => {
      const admin = requireRole(req, 'administrator');
      const invited = await accounts.users.create({ type: 'user', id: admin.user.id }, { ...req.body, tenantId: admin.user.tenantId }, requestContext(req));
      return reply.status(201).send(invited);
    },
  );

  app.patch<{ Params: { id: string }; Body: { role?: Role; displayName?: string } }>(
    '/api/v1/users/:id',
    {
      schema: {
        tags,
        summary: "Change a user's role or display name (administrators); role disabled signs them out everywhere",
        params: idParams,
        body: {
          type: 'object',
          properties: { role: { type: 'string', enum: [...ROLES] }, displayName: { type: 'string', minLength: 1, maxLength: 200 } },
          additionalProperties: false,
          minProperties: 1,
        },
        response: { 200: { $ref: 'User#' }, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (req) => {
      const admin = requireRole(req, 'administrator');
      return accounts.users.update({ type: 'user', id: admin.user.id }, admin.user.tenantId, req.params.id, req.body, requestContext(req));
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/users/:id/sign-in-link',
    {
      schema: {
        tags,
        summary: 'Issue a new one-time sign-in link for a user (lost invitation, forgotten password); earlier links stop working',
        params: idParams,
        response: { 201: { $ref: 'SignInLink#' }, ...errorResponses(401, 403, 404, 409) },
      },
    },
    async (req, reply) => {
      const admin = requireRole(req, 'administrator');
      return reply.status(201).send(await accounts.users.issueSignInLink({ type: 'user', id: admin.user.id }, admin.user.tenantId, req.params.id, requestContext(req)));
    },
  );
}
