// Sign-in and the signed-in user's own credentials: /api/v1/auth/* and /api/v1/tokens. Thin:
// parse, call one accounts service, present. See docs/api.md, "Accounts and sign-in".
import type { FastifyInstance } from 'fastify';
import type { Accounts } from '../../accounts/accounts.ts';
import type { OpenedSession } from '../../accounts/account.model.ts';
import { clearSessionCookie, isOperator, requestContext, requireUser, setSessionCookie, type AuthOptions } from '../auth.ts';
import { errorResponses } from './schemas.ts';

const tags = ['accounts'];

const credentialsBody = {
  email: { type: 'string', minLength: 1, maxLength: 320 },
  // Long enough for the 1024-character limit of the password policy in any encoding form.
  password: { type: 'string', minLength: 1, maxLength: 4096 },
} as const;

const signedIn = {
  type: 'object',
  properties: {
    user: { $ref: 'User#' },
    csrfToken: { type: 'string', description: 'Send it as x-csrf-token on every POST/PUT/PATCH/DELETE made with the session cookie.' },
    expiresAt: { type: 'string', format: 'date-time', description: 'Absolute end of the session (it also ends after 30 minutes without requests).' },
    passwordRequired: { type: 'boolean', description: 'True when the user has no password yet and should set one (POST /api/v1/auth/password).' },
  },
  required: ['user', 'csrfToken', 'expiresAt', 'passwordRequired'],
} as const;

const tokenLifetime = { type: 'integer', minimum: 1, maximum: 365, description: 'Days until the token expires (default 90).' } as const;

/** Registers the /api/v1/auth and /api/v1/tokens routes. */
export function registerAuthRoutes(app: FastifyInstance, accounts: Accounts, opts: AuthOptions & { operatorEmails?: readonly string[] }): void {
  const cookieOptions = { ...opts, maxAgeSeconds: accounts.settings.sessionAbsoluteSeconds };
  const present = (s: OpenedSession) => ({ user: s.user, csrfToken: s.csrfToken, expiresAt: s.expiresAt, passwordRequired: !s.user.hasPassword });

  app.post<{ Body: { email: string; password: string } }>(
    '/api/v1/auth/login',
    {
      schema: {
        tags,
        summary: 'Sign in with email and password; sets the sealpost_session cookie',
        body: { type: 'object', properties: credentialsBody, required: ['email', 'password'], additionalProperties: false },
        response: { 200: signedIn, ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (req, reply) => {
      const session = await accounts.auth.login(req.body, requestContext(req));
      setSessionCookie(reply, session, cookieOptions);
      return present(session);
    },
  );

  app.post(
    '/api/v1/auth/logout',
    { schema: { tags, summary: 'Sign out: ends the session (cookie) or revokes the API token used', response: { 204: { type: 'null' }, ...errorResponses(401, 403) } } },
    async (req, reply) => {
      await accounts.auth.logout(requireUser(req), requestContext(req));
      clearSessionCookie(reply, opts);
      return reply.status(204).send();
    },
  );

  app.get(
    '/api/v1/auth/session',
    {
      schema: {
        tags,
        summary: 'Who is signed in; for a session, also its CSRF token',
        response: {
          200: {
            type: 'object',
            properties: {
              user: { $ref: 'User#' },
              via: { type: 'string', enum: ['session', 'api_token'] },
              csrfToken: { type: 'string' },
              expiresAt: { type: 'string', format: 'date-time' },
              operator: { type: 'boolean', description: "Whether the user acts for the installation's operator (OPERATOR_EMAILS): the disclosure log." },
            },
            required: ['user', 'via', 'operator'],
          },
          ...errorResponses(401, 403),
        },
      },
    },
    async (req) => {
      const p = requireUser(req);
      const operator = isOperator(p.user, opts.operatorEmails ?? []);
      return p.via === 'session' ? { user: p.user, via: p.via, csrfToken: p.csrfToken, expiresAt: p.expiresAt, operator } : { user: p.user, via: p.via, operator };
    },
  );

  app.post<{ Body: { token: string } }>(
    '/api/v1/auth/sign-in-links/redeem',
    {
      schema: {
        tags,
        summary: 'Redeem a one-time sign-in link (the token after #token= in the link); sets the session cookie',
        body: { type: 'object', properties: { token: { type: 'string', minLength: 1, maxLength: 200 } }, required: ['token'], additionalProperties: false },
        response: { 200: signedIn, ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (req, reply) => {
      const session = await accounts.auth.redeemSignInLink(req.body.token, requestContext(req));
      setSessionCookie(reply, session, cookieOptions);
      return present(session);
    },
  );

  app.post<{ Body: { newPassword: string; currentPassword?: string } }>(
    '/api/v1/auth/password',
    {
      schema: {
        tags,
        summary: 'Set or change your password (12 to 1024 characters); ends your other sessions',
        description: 'currentPassword is required when a password is set, except in a session opened by a sign-in link.',
        body: {
          type: 'object',
          properties: { newPassword: { type: 'string', maxLength: 4096 }, currentPassword: { type: 'string', maxLength: 4096 } },
          required: ['newPassword'],
          additionalProperties: false,
        },
        response: { 204: { type: 'null' }, ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (req, reply) => {
      await accounts.auth.changePassword(requireUser(req), req.body, requestContext(req));
      return reply.status(204).send();
    },
  );

  app.post<{ Body: { email: string; password: string; name: string; expiresInDays?: number } }>(
    '/api/v1/auth/tokens',
    {
      schema: {
        tags,
        summary: 'Sign in with email and password and create a personal API token (what `sealpost login` does); the token is shown once',
        body: {
          type: 'object',
          properties: { ...credentialsBody, name: { type: 'string', minLength: 1, maxLength: 100 }, expiresInDays: tokenLifetime },
          required: ['email', 'password', 'name'],
          additionalProperties: false,
        },
        response: { 201: { $ref: 'CreatedApiToken#' }, ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (req, reply) => reply.status(201).send(await accounts.auth.createTokenWithPassword(req.body, requestContext(req))),
  );

  app.get(
    '/api/v1/tokens',
    {
      schema: {
        tags,
        summary: 'Your personal API tokens, newest first (never the secrets)',
        response: { 200: { type: 'object', properties: { tokens: { type: 'array', items: { $ref: 'ApiToken#' } } }, required: ['tokens'] }, ...errorResponses(401, 403) },
      },
    },
    async (req) => ({ tokens: await accounts.tokens.list(requireUser(req)) }),
  );

  app.post<{ Body: { name: string; expiresInDays?: number } }>(
    '/api/v1/tokens',
    {
      schema: {
        tags,
        summary: 'Create a personal API token; the token is shown once',
        body: { type: 'object', properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, expiresInDays: tokenLifetime }, required: ['name'], additionalProperties: false },
        response: { 201: { $ref: 'CreatedApiToken#' }, ...errorResponses(400, 401, 403) },
      },
    },
    async (req, reply) => reply.status(201).send(await accounts.tokens.create(requireUser(req), req.body, requestContext(req))),
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/tokens/:id',
    {
      schema: {
        tags,
        summary: 'Revoke one of your personal API tokens',
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
        response: { 200: { $ref: 'ApiToken#' }, ...errorResponses(401, 403, 404) },
      },
    },
    async (req) => accounts.tokens.revoke(requireUser(req), req.params.id, requestContext(req)),
  );
}
