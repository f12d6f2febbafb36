// Consent over HTTP (docs/privacy.md, "Consent and preferences"):
// - signed-in users: GET/PUT /api/v1/me/preferences;
// - public: subscribe to sub-processor changes (POST /api/v1/privacy/subprocessors/subscriptions,
//   and the form on /subprocessors), confirm it (/c/TOKEN), one-click unsubscribe (/u/TOKEN,
//   RFC 8058), and /.well-known/gpc.json.
// GET of /c/ and /u/ only shows a button; only POST changes anything (mail scanners follow links).
// The tokens in those paths are credentials: the routes log no URL.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Consent } from '../../privacy/consent/consent.ts';
import type { CommunicationKind, PreferenceRecord } from '../../privacy/consent/consent.model.ts';
import { UNSUBSCRIBE_PATH } from '../../privacy/consent/optional-mail.ts';
import { confirmedPage, confirmPage, subscribeRequestedPage, unsubscribedPage, unsubscribePage } from '../../privacy/consent/pages.ts';
import { CONFIRM_PATH } from '../../privacy/subscriptions/subscription.jobs.ts';
import { errors, isAppError } from '../../shared/app-error.ts';
import { requestContext, requireUser } from '../auth.ts';
import { GPC_RESOURCE } from '../cookie-policy.ts';
import { errorResponses } from './schemas.ts';

const tags = ['privacy'];
/** Path of the public subscribe form's target. */
export const SUBSCRIBE_FORM_PATH = '/subprocessors/subscribe';

/** camelCase field of the API ↔ kind. */
const FIELDS: Record<string, CommunicationKind> = { marketing: 'marketing', productUpdates: 'product_updates', subprocessorChanges: 'subprocessor_changes' };
const FIELD_OF: Record<CommunicationKind, string> = { marketing: 'marketing', product_updates: 'productUpdates', subprocessor_changes: 'subprocessorChanges' };

// Keeps tokens in paths out of the request log lines.
const quietUrl = { logSerializers: { req: (req: FastifyRequest) => ({ method: req.method, url: `${req.routeOptions.url ?? ''}`.replace(/:token$/, '[redacted]') }) } };

function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  // Personal (names an address), so never cached; not framed (helmet already denies it).
  return reply.status(status).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(body);
}

/** The API shape of a person's preferences. */
function present(r: PreferenceRecord, noticeVersion: string) {
  return {
    email: r.email,
    restricted: r.restricted,
    noticeVersion,
    preferences: Object.fromEntries(r.preferences.map((p) => [FIELD_OF[p.kind], { state: p.state, subscribed: p.subscribed, via: p.via, noticeVersion: p.noticeVersion, updatedAt: p.updatedAt?.toISOString() ?? null }])),
    history: r.history.map((h) => ({ kind: FIELD_OF[h.kind], from: h.from, to: h.to, via: h.via, noticeVersion: h.noticeVersion, changedAt: h.changedAt.toISOString() })),
  };
}

// RFC 8058 §3.1: the POST body carries List-Unsubscribe=One-Click, as
// application/x-www-form-urlencoded or multipart/form-data.
function isOneClick(body: unknown): boolean {
  if (typeof body !== 'string') return false;
  if (new URLSearchParams(body).get('List-Unsubscribe') === 'One-Click') return true;
  return /name="List-Unsubscribe"\r?\n(?:[^\r\n]+\r?\n)*\r?\nOne-Click\r?\n/.test(body);
}

/** Registers the consent routes. */
export function registerConsentRoutes(app: FastifyInstance, consent: Consent): void {
  const preferenceSchema = {
    type: 'object',
    properties: {
      state: { type: 'string', enum: ['unset', 'granted', 'withdrawn', 'objected'] },
      subscribed: { type: 'boolean', description: 'True when this kind of email is sent to you now.' },
      via: { type: ['string', 'null'] },
      noticeVersion: { type: ['string', 'null'] },
      updatedAt: { type: ['string', 'null'], format: 'date-time' },
    },
  };
  const recordSchema = {
    type: 'object',
    properties: {
      email: { type: 'string' },
      restricted: { type: 'boolean' },
      noticeVersion: { type: 'string', description: 'Version of the privacy notice in force; recorded with every change.' },
      preferences: { type: 'object', properties: Object.fromEntries(Object.keys(FIELDS).map((f) => [f, preferenceSchema])) },
      history: {
        type: 'array',
        items: { type: 'object', properties: { kind: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, via: { type: 'string' }, noticeVersion: { type: ['string', 'null'] }, changedAt: { type: 'string', format: 'date-time' } } },
      },
    },
  };

  app.get('/api/v1/me/preferences', { schema: { tags, summary: 'Your communication preferences (marketing, product updates, sub-processor alerts) and their history', response: { 200: recordSchema, ...errorResponses(401) } } }, async (req) => {
    const user = requireUser(req).user;
    return present(await consent.preferences.get(user.email), await consent.preferences.noticeVersion());
  });

  app.put<{ Body: Record<string, boolean> }>(
    '/api/v1/me/preferences',
    {
      schema: {
        tags,
        summary: 'Opt in (true) or out (false) of kinds of optional email; opting out of marketing is an objection (immediate, and only you can undo it)',
        body: { type: 'object', properties: Object.fromEntries(Object.keys(FIELDS).map((f) => [f, { type: 'boolean' }])), additionalProperties: false, minProperties: 1 },
        response: { 200: recordSchema, ...errorResponses(400, 401, 403) },
      },
    },
    async (req) => {
      const principal = requireUser(req);
      const changes = Object.fromEntries(Object.entries(req.body).map(([f, v]) => [FIELDS[f]!, v]));
      const noticeVersion = await consent.preferences.noticeVersion();
      const record = await consent.preferences.update(principal.user.email, changes, { via: 'account', noticeVersion }, { type: 'user', id: principal.user.id, tenantId: principal.user.tenantId });
      return present(record, noticeVersion);
    },
  );

  app.post<{ Body: { email: string } }>(
    '/api/v1/privacy/subprocessors/subscriptions',
    {
      schema: {
        tags,
        summary: 'Ask for email alerts when the sub-processor register changes; a confirmation link is emailed first (double opt-in); public, rate-limited',
        description: 'The answer is the same whether or not the address is already subscribed.',
        body: { type: 'object', properties: { email: { type: 'string', maxLength: 320 } }, required: ['email'], additionalProperties: false },
        response: { 202: { type: 'object', properties: { status: { type: 'string' }, message: { type: 'string' } } }, ...errorResponses(400, 429) },
      },
    },
    async (req, reply) => reply.status(202).send(await consent.subscriptions.requestSubscription(req.body.email, requestContext(req))),
  );

  app.get(GPC_RESOURCE.path, { schema: { tags, summary: 'Global Privacy Control support resource (GPC spec §3.5): this site honours Sec-GPC' } }, async (_req, reply) =>
    reply.header('content-type', 'application/json').header('cache-control', 'public, max-age=86400').send(GPC_RESOURCE.body),
  );

  // The pages: form and one-click bodies, parsed only in this scope.
  app.register(async (scope) => {
    for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data']) {
      if (!scope.hasContentTypeParser(type)) scope.addContentTypeParser(type, { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => done(null, body));
    }

    scope.post<{ Body: unknown }>(SUBSCRIBE_FORM_PATH, { schema: { hide: true } }, async (req, reply) => {
      const email = typeof req.body === 'string' ? new URLSearchParams(req.body).get('email') : null;
      try {
        const accepted = await consent.subscriptions.requestSubscription(email ?? undefined, requestContext(req));
        return html(reply, 200, subscribeRequestedPage(accepted.message));
      } catch (err) {
        if (isAppError(err, 'invalid_address')) return html(reply, 400, subscribeRequestedPage('That is not an email address. Go back and check it.'));
        if (isAppError(err, 'too_many_subscription_requests')) return html(reply.header('retry-after', String(err.details?.retryAfterSeconds ?? 60)), 429, subscribeRequestedPage('Too many requests. Try again later.'));
        throw err;
      }
    });

    scope.get<{ Params: { token: string } }>(`${CONFIRM_PATH}:token`, { schema: { hide: true }, ...quietUrl }, async (req, reply) => {
      const c = await consent.preferences.describeConfirmation(req.params.token);
      return html(reply, c ? 200 : 404, confirmPage(`${CONFIRM_PATH}${req.params.token}`, c));
    });

    scope.post<{ Params: { token: string } }>(`${CONFIRM_PATH}:token`, { schema: { hide: true }, ...quietUrl }, async (req, reply) => {
      try {
        const { kind } = await consent.preferences.confirm(req.params.token);
        return html(reply, 200, confirmedPage(kind));
      } catch (err) {
        if (isAppError(err, 'confirmation_not_found')) return html(reply, 404, confirmPage('', undefined));
        throw err;
      }
    });

    scope.get<{ Params: { token: string } }>(`${UNSUBSCRIBE_PATH}:token`, { schema: { hide: true }, ...quietUrl }, async (req, reply) => {
      const link = await consent.preferences.describeUnsubscribe(req.params.token);
      return html(reply, link ? 200 : 404, unsubscribePage(`${UNSUBSCRIBE_PATH}${req.params.token}`, link));
    });

    // One-click (RFC 8058): no cookie, no login, no CSRF token — the unguessable token is the authority.
    scope.post<{ Params: { token: string }; Body: unknown }>(`${UNSUBSCRIBE_PATH}:token`, { schema: { hide: true }, ...quietUrl }, async (req, reply) => {
      if (!isOneClick(req.body)) throw errors.invalid('one_click_body_required', 'the body must be List-Unsubscribe=One-Click (application/x-www-form-urlencoded or multipart/form-data)');
      try {
        const { kind } = await consent.preferences.unsubscribe(req.params.token);
        return html(reply, 200, unsubscribedPage(kind));
      } catch (err) {
        if (isAppError(err, 'unsubscribe_link_not_found')) return html(reply, 404, unsubscribePage('', undefined));
        throw err;
      }
    });
  });
}
