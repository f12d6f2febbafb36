// Recipients' API — /api/v1/access: describe a link, request and verify a one-time code, accept
// a disclaimer, get the message's keys wrapped to the client's session key, download sealed
// bytes to decrypt locally, and write secure replies (with attachments). People who hold a
// forwarded link ask the sender for access here too. The link token travels in request bodies
// (never in a URL, so it stays out of logs); the recipient session in the X-Recipient-Session header.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { errors } from '../../shared/app-error.ts';
import { MAX_REASON_LENGTH } from '../../messages/access-request.service.ts';
import type { Messaging } from '../../messages/messaging.ts';
import { MAX_ATTACHMENT_BYTES } from '../../messages/upload.service.ts';
import { requestContext, requireUser } from '../auth.ts';
import { errorResponses } from './schemas.ts';

export const RECIPIENT_SESSION_HEADER = 'x-recipient-session';

const tags = ['recipients'];
const link = { type: 'string', minLength: 1, maxLength: 200, description: 'The token from the notification link (after #).' } as const;

function recipientSession(req: FastifyRequest): string {
  const value = req.headers[RECIPIENT_SESSION_HEADER];
  if (typeof value !== 'string' || value === '') throw errors.unauthenticated('recipient_session_required', `verify your code first and send the session as ${RECIPIENT_SESSION_HEADER}`);
  return value;
}

/** Parses `Range: bytes=a-b` (one range, inclusive end) into an exclusive range; undefined when absent. */
function parseRange(header: string | undefined): { start: number; end?: number } | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (!m) throw errors.invalid('invalid_range', 'only a single "bytes=start-end" range is supported');
  return { start: Number(m[1]), ...(m[2] ? { end: Number(m[2]) + 1 } : {}) };
}

export function registerAccessRoutes(app: FastifyInstance, messaging: Messaging): void {
  const access = messaging.access;

  app.post<{ Body: { link: string } }>(
    '/api/v1/access/link',
    {
      schema: {
        tags,
        summary: 'What the link page shows before verification (the same for an active, revoked or expired message)',
        body: { type: 'object', properties: { link }, required: ['link'], additionalProperties: false },
        response: { 200: { type: 'object', properties: { maskedEmail: { type: 'string' }, authLevel: { type: 'string' } }, required: ['maskedEmail', 'authLevel'] }, ...errorResponses(400, 404) },
      },
    },
    async (req) => access.describeLink(req.body.link),
  );

  app.post<{ Body: { link: string } }>(
    '/api/v1/access/code',
    {
      schema: {
        tags,
        summary: 'Email a 6-digit one-time code (10 minutes, 5 attempts) to the recipient; rate-limited per recipient and per IP',
        body: { type: 'object', properties: { link }, required: ['link'], additionalProperties: false },
        response: { 202: { type: 'object', properties: { sentTo: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } }, required: ['sentTo', 'expiresAt'] }, ...errorResponses(400, 404, 429, 503) },
      },
    },
    async (req, reply) => reply.status(202).send(await access.requestCode(req.body.link, requestContext(req))),
  );

  app.post<{ Body: { link: string; code: string } }>(
    '/api/v1/access/verify',
    {
      schema: {
        tags,
        summary: 'Check the code; returns a recipient session token (30 minutes) for the X-Recipient-Session header',
        body: { type: 'object', properties: { link, code: { type: 'string', minLength: 1, maxLength: 12 } }, required: ['link', 'code'], additionalProperties: false },
        response: { 200: { type: 'object', properties: { sessionToken: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } }, required: ['sessionToken', 'expiresAt'] }, ...errorResponses(400, 403, 404, 429) },
      },
    },
    async (req) => access.verifyCode(req.body.link, req.body.code.trim(), requestContext(req)),
  );

  app.post<{ Body: { link: string } }>(
    '/api/v1/access/account',
    {
      schema: {
        tags,
        summary: "Recipients with a Sealpost account: sign in (session cookie or API token) instead of a code; required by labels whose authentication level is 'account'",
        body: { type: 'object', properties: { link }, required: ['link'], additionalProperties: false },
        response: { 200: { type: 'object', properties: { sessionToken: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } }, required: ['sessionToken', 'expiresAt'] }, ...errorResponses(400, 401, 403, 404, 429) },
      },
    },
    async (req) => {
      const { user } = requireUser(req);
      return access.openWithAccount(req.body.link, { id: user.id, email: user.email }, requestContext(req));
    },
  );

  app.get(
    '/api/v1/access/status',
    { schema: { tags, summary: 'Whether a disclaimer must be accepted before opening', response: { 200: { type: 'object', properties: { disclaimer: { type: ['string', 'null'] }, disclaimerAccepted: { type: 'boolean' } }, required: ['disclaimer', 'disclaimerAccepted'] }, ...errorResponses(401) } } },
    async (req) => access.status(recipientSession(req)),
  );

  app.post('/api/v1/access/disclaimer', { schema: { tags, summary: "Accept the label's disclaimer", response: { 204: { type: 'null' }, ...errorResponses(401) } } }, async (req, reply) => {
    await access.acceptDisclaimer(recipientSession(req), requestContext(req));
    return reply.status(204).send();
  });

  app.post<{ Body: { clientPublicKey: string } }>(
    '/api/v1/access/open',
    {
      schema: {
        tags,
        summary: "Release the message's data keys wrapped to the client's ephemeral P-256 public key (docs/format.md §2.9), after checking the whole policy; audited",
        body: { type: 'object', properties: { clientPublicKey: { type: 'string', minLength: 1, maxLength: 200 } }, required: ['clientPublicKey'], additionalProperties: false },
        response: {
          200: {
            type: 'object',
            properties: {
              message: {
                type: 'object',
                properties: {
                  id: { type: 'string' },
                  threadId: { type: 'string' },
                  sender: { type: 'string' },
                  sentAt: { type: 'string', format: 'date-time' },
                  expiresAt: { type: ['string', 'null'], format: 'date-time' },
                  label: { type: 'object', properties: { name: { type: 'string' }, noForward: { type: 'boolean' }, noDownload: { type: 'boolean' }, watermark: { type: 'boolean' } }, required: ['name', 'noForward', 'noDownload', 'watermark'] },
                  envelopeObjectId: { type: 'string' },
                  attachmentObjectIds: { type: 'array', items: { type: 'string' } },
                  to: { type: 'array', items: { type: 'string' } },
                  cc: { type: 'array', items: { type: 'string' } },
                },
                required: ['id', 'threadId', 'sender', 'sentAt', 'expiresAt', 'label', 'envelopeObjectId', 'attachmentObjectIds', 'to', 'cc'],
              },
              you: { type: 'object', properties: { recipientId: { type: 'string' }, email: { type: 'string' }, kind: { type: 'string' } }, required: ['recipientId', 'email', 'kind'] },
              keyRelease: {
                type: 'object',
                properties: {
                  version: { type: 'integer' },
                  algorithm: { type: 'string' },
                  releaseId: { type: 'string' },
                  audience: { type: 'string' },
                  serverPublicKey: { type: 'string' },
                  salt: { type: 'string' },
                  keys: { type: 'array', items: { type: 'object', properties: { objectId: { type: 'string' }, keyId: { type: 'string' }, wrapped: { type: 'string' } }, required: ['objectId', 'keyId', 'wrapped'] } },
                },
                required: ['version', 'algorithm', 'releaseId', 'audience', 'serverPublicKey', 'salt', 'keys'],
              },
            },
            required: ['message', 'you', 'keyRelease'],
          },
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (req) => access.open(recipientSession(req), req.body.clientPublicKey, requestContext(req)),
  );

  app.get<{ Params: { objectId: string } }>(
    '/api/v1/access/objects/:objectId',
    {
      schema: {
        tags,
        summary: 'Sealed bytes of the envelope or an attachment, to decrypt with a released key; supports a single Range',
        params: { type: 'object', properties: { objectId: { type: 'string', maxLength: 64 } }, required: ['objectId'] },
        response: { ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      const range = parseRange(req.headers.range);
      const sealed = await access.sealedObject(recipientSession(req), req.params.objectId, range, requestContext(req));
      reply.header('content-type', 'application/octet-stream').header('accept-ranges', 'bytes').header('content-length', String(sealed.length));
      if (range) reply.status(206).header('content-range', `bytes ${sealed.start}-${sealed.start + sealed.length - 1}/${sealed.totalLength}`);
      return reply.send(sealed.stream);
    },
  );

  app.post<{ Body: { link: string; email: string; reason?: string } }>(
    '/api/v1/access/requests',
    {
      schema: {
        tags,
        summary: 'Ask the sender for access through a forwarded link: emails a one-time code to your own address. Says nothing about the message; 403 forwarding_not_allowed under a no-forward label',
        body: { type: 'object', properties: { link, email: { type: 'string', minLength: 1, maxLength: 320 }, reason: { type: 'string', maxLength: MAX_REASON_LENGTH } }, required: ['link', 'email'], additionalProperties: false },
        response: { 202: { type: 'object', properties: { requestId: { type: 'string' }, sentTo: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } }, required: ['requestId', 'sentTo', 'expiresAt'] }, ...errorResponses(400, 403, 404, 429, 503) },
      },
    },
    async (req, reply) => reply.status(202).send(await messaging.accessRequests.request(req.body.link, { email: req.body.email, reason: req.body.reason }, requestContext(req))),
  );

  app.post<{ Body: { requestId: string; code: string } }>(
    '/api/v1/access/requests/verify',
    {
      schema: {
        tags,
        summary: 'Check the code of an access request; the request then goes to the sender (status pending)',
        body: { type: 'object', properties: { requestId: { type: 'string', minLength: 1, maxLength: 64 }, code: { type: 'string', minLength: 1, maxLength: 12 } }, required: ['requestId', 'code'], additionalProperties: false },
        response: { 200: { type: 'object', properties: { status: { type: 'string', enum: ['pending'] } }, required: ['status'] }, ...errorResponses(400, 403, 404, 409, 429) },
      },
    },
    async (req) => messaging.accessRequests.verify(req.body.requestId, req.body.code.trim(), requestContext(req)),
  );

  app.get(
    '/api/v1/access/reply-regions',
    {
      schema: {
        tags,
        summary: "Where your reply may be stored: the sender organisation's home region (default) and any other region it lets recipients choose",
        response: { 200: { type: 'object', properties: { default: { type: 'string', enum: ['uk', 'eea', 'us'] }, choices: { type: 'array', items: { type: 'string', enum: ['uk', 'eea', 'us'] } } }, required: ['default', 'choices'] }, ...errorResponses(401, 403) },
      },
    },
    async (req) => messaging.replies.regions(recipientSession(req), requestContext(req)),
  );

  // Reply attachments: the raw file as the body, sealed as it streams in (Content-Length required).
  app.register(async (scope) => {
    scope.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
    scope.post<{ Querystring: { region?: string } }>(
      '/api/v1/access/uploads',
      {
        bodyLimit: MAX_ATTACHMENT_BYTES,
        schema: {
          tags,
          summary: "Upload one attachment for a secure reply (raw bytes, Content-Type application/octet-stream, Content-Length required); sealed in the sender's organisation, private to you until you reply",
          querystring: { type: 'object', properties: { region: { type: 'string', maxLength: 20, description: 'Region to store it in (one of GET /api/v1/access/reply-regions choices; the reply must name the same region). Default: the home region.' } }, additionalProperties: false },
          response: { 201: { type: 'object', properties: { uploadId: { type: 'string' }, size: { type: 'integer' }, region: { type: 'string' } }, required: ['uploadId', 'size', 'region'] }, ...errorResponses(400, 401, 403, 411, 429) },
        },
      },
      async (req, reply) => {
        const session = recipientSession(req);
        const length = Number(req.headers['content-length']);
        if (!req.headers['content-length'] || !Number.isSafeInteger(length)) throw errors.invalid('length_required', 'send the file size as Content-Length (chunked uploads are not accepted)');
        return reply.status(201).send(await messaging.replies.upload(session, { length, source: req.body as Readable, ...(req.query.region !== undefined ? { region: req.query.region } : {}) }, requestContext(req)));
      },
    );
  });

  app.delete<{ Params: { id: string } }>(
    '/api/v1/access/uploads/:id',
    { schema: { tags, summary: 'Discard a reply attachment that was not sent (crypto-shredded)', params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] }, response: { 204: { type: 'null' }, ...errorResponses(401, 403, 404) } } },
    async (req, reply) => {
      await messaging.replies.discardUpload(recipientSession(req), req.params.id, requestContext(req));
      return reply.status(204).send();
    },
  );

  app.post<{ Body: { text: string; html?: string | null; replyAll: boolean; region?: string; attachments?: Array<{ uploadId: string; filename: string; contentType: string }> } }>(
    '/api/v1/access/reply',
    {
      schema: {
        tags,
        summary: "Secure reply: a new sealed message in the thread, to the sender (replyAll: also the message's To and Cc, never Bcc); each recipient is notified with a link",
        body: {
          type: 'object',
          properties: {
            text: { type: 'string' },
            html: { type: ['string', 'null'] },
            replyAll: { type: 'boolean' },
            region: { type: 'string', maxLength: 20, description: "Region to store the reply in: one of GET /api/v1/access/reply-regions choices. Default: the sender organisation's home region." },
            attachments: {
              type: 'array',
              maxItems: 100,
              items: { type: 'object', properties: { uploadId: { type: 'string', maxLength: 64 }, filename: { type: 'string', minLength: 1, maxLength: 255 }, contentType: { type: 'string', minLength: 3, maxLength: 255 } }, required: ['uploadId', 'filename', 'contentType'], additionalProperties: false },
            },
          },
          required: ['text', 'replyAll'],
          additionalProperties: false,
        },
        response: {
          201: {
            type: 'object',
            properties: { id: { type: 'string' }, threadId: { type: 'string' }, inReplyTo: { type: 'string' }, subject: { type: 'string' }, to: { type: 'array', items: { type: 'string' } }, cc: { type: 'array', items: { type: 'string' } }, attachmentCount: { type: 'integer' }, region: { type: 'string' } },
            required: ['id', 'threadId', 'inReplyTo', 'subject', 'to', 'cc', 'attachmentCount', 'region'],
          },
          ...errorResponses(400, 401, 403, 409, 429),
        },
      },
    },
    async (req, reply) => reply.status(201).send(await messaging.replies.reply(recipientSession(req), req.body, requestContext(req))),
  );
}
