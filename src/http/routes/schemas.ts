// JSON schemas shared by several routes (registered once with app.addSchema, referenced as
// `Name#`), so the OpenAPI document describes each shape once.
import type { FastifyInstance } from 'fastify';
import { ROLES } from '../../accounts/account.model.ts';

/** Registers the shared schemas. */
export function addSharedSchemas(app: FastifyInstance): void {
  app.addSchema({
    $id: 'Error',
    type: 'object',
    description: 'Every error: a stable snake_case code and a message for people.',
    properties: {
      error: {
        type: 'object',
        properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object', additionalProperties: true } },
        required: ['code', 'message'],
      },
    },
    required: ['error'],
  });
  app.addSchema({
    $id: 'User',
    type: 'object',
    properties: {
      id: { type: 'string', format: 'uuid' },
      tenantId: { type: 'string', format: 'uuid' },
      email: { type: 'string' },
      displayName: { type: 'string' },
      role: { type: 'string', enum: [...ROLES] },
      hasPassword: { type: 'boolean' },
      createdAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
    },
    required: ['id', 'tenantId', 'email', 'displayName', 'role', 'hasPassword', 'createdAt', 'updatedAt'],
  });
  const tokenProperties = {
    id: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    prefix: { type: 'string', description: 'sp_ and the next 6 characters: tells tokens apart, cannot be used to sign in.' },
    createdAt: { type: 'string', format: 'date-time' },
    lastUsedAt: { type: ['string', 'null'], format: 'date-time' },
    expiresAt: { type: 'string', format: 'date-time' },
    revokedAt: { type: ['string', 'null'], format: 'date-time' },
  };
  app.addSchema({ $id: 'ApiToken', type: 'object', properties: tokenProperties, required: Object.keys(tokenProperties) });
  app.addSchema({
    $id: 'CreatedApiToken',
    type: 'object',
    properties: {
      ...tokenProperties,
      token: { type: 'string', description: 'The secret, shown this once: send it as "Authorization: Bearer <token>". Only its SHA-256 is stored.' },
      user: { $ref: 'User#' },
    },
    required: [...Object.keys(tokenProperties), 'token'],
  });
  app.addSchema({
    $id: 'SignInLink',
    type: 'object',
    properties: {
      url: { type: 'string', description: 'Works once, until expiresAt. The token is in the fragment (#token=…), which browsers never send to servers.' },
      expiresAt: { type: 'string', format: 'date-time' },
    },
    required: ['url', 'expiresAt'],
  });
}

/** `{ status: { $ref: 'Error#' } }` for each status, for route schemas. */
export function errorResponses(...statuses: number[]): Record<number, { $ref: string }> {
  return Object.fromEntries(statuses.map((s) => [s, { $ref: 'Error#' }]));
}
