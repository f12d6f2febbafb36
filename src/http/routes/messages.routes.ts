// Senders' API: labels, attachment uploads, sending (and replying within a thread), sent items,
// threads and the controls after sending (revoke, un-revoke, per-recipient revoke, expiry,
// adding and removing recipients, deciding access requests) — /api/v1/{labels,uploads,messages}.
// Every lookup is scoped to the caller: another user's message is the same 404 as none.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { requestContext, requireRole, requireUser } from '../auth.ts';
import { errors } from '../../shared/app-error.ts';
import { listLabels } from '../../messages/labels.ts';
import type { Messaging } from '../../messages/messaging.ts';
import type { Sender } from '../../messages/message.service.ts';
import { MAX_ATTACHMENT_BYTES } from '../../messages/upload.service.ts';
import { errorResponses } from './schemas.ts';

const tags = ['messages'];
const id = { type: 'string', maxLength: 64 } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const nullableDateTime = { type: ['string', 'null'], format: 'date-time' } as const;

/** Registers the shapes the message routes share. */
export function addMessageSchemas(app: FastifyInstance): void {
  app.addSchema({
    $id: 'Label',
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
      isDefault: { type: 'boolean', description: 'The label a message gets when the sender names none' },
    },
    required: ['id', 'name', 'rank', 'description', 'defaultExpiryDays', 'authLevel', 'noForward', 'noDownload', 'watermark', 'hideSubject', 'disclaimer'],
  });
  app.addSchema({
    $id: 'SentMessage',
    type: 'object',
    properties: {
      id: { type: 'string' },
      threadId: { type: 'string' },
      inReplyTo: { type: ['string', 'null'] },
      subject: { type: 'string' },
      contentErased: { type: 'boolean', description: 'The content was crypto-shredded (retention or erasure): subject and attachments are gone, the record of who it went to stays.' },
      label: { type: 'string' },
      createdAt: dateTime,
      expiresAt: nullableDateTime,
      revokedAt: nullableDateTime,
      attachments: {
        type: 'array',
        items: { type: 'object', properties: { objectId: { type: 'string' }, filename: { type: 'string' }, contentType: { type: 'string' }, size: { type: 'integer' } }, required: ['objectId', 'filename', 'contentType', 'size'] },
      },
      recipients: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            email: { type: 'string' },
            kind: { type: 'string', enum: ['to', 'cc', 'bcc'] },
            status: { type: 'string', enum: ['pending', 'notified', 'delivery_failed', 'opened', 'revoked', 'expired', 'removed'] },
            deliveryAttempts: { type: 'integer' },
            deliveryError: { type: ['string', 'null'] },
            notifiedAt: nullableDateTime,
            firstOpenedAt: nullableDateTime,
            lastOpenedAt: nullableDateTime,
            revokedAt: nullableDateTime,
          },
          required: ['id', 'email', 'kind', 'status', 'deliveryAttempts', 'deliveryError', 'notifiedAt', 'firstOpenedAt', 'lastOpenedAt', 'revokedAt'],
        },
      },
    },
    required: ['id', 'threadId', 'inReplyTo', 'subject', 'label', 'createdAt', 'expiresAt', 'revokedAt', 'attachments', 'recipients'],
  });
  app.addSchema({
    $id: 'AccessRequest',
    type: 'object',
    description: 'A request for access from someone who holds a forwarded link and proved control of their address.',
    properties: {
      id: { type: 'string' },
      email: { type: 'string' },
      reason: { type: ['string', 'null'] },
      status: { type: 'string', enum: ['pending', 'approved', 'denied'] },
      via: { type: 'string', description: 'The recipient whose link was used (whose notification was forwarded).' },
      requestedAt: dateTime,
      decidedAt: nullableDateTime,
    },
    required: ['id', 'email', 'reason', 'status', 'via', 'requestedAt', 'decidedAt'],
  });
  app.addSchema({
    $id: 'ThreadMessage',
    type: 'object',
    properties: {
      id: { type: 'string' },
      inReplyTo: { type: ['string', 'null'] },
      sender: { type: 'string' },
      sentByYou: { type: 'boolean' },
      fromRecipient: { type: 'boolean', description: 'A secure reply written by a recipient.' },
      label: { type: 'string' },
      createdAt: dateTime,
      expiresAt: nullableDateTime,
      revokedAt: nullableDateTime,
      to: { type: 'array', items: { type: 'string' } },
      cc: { type: 'array', items: { type: 'string' } },
      bcc: { type: 'array', items: { type: 'string' }, description: 'Only for messages you sent.' },
      withheld: { type: ['string', 'null'], enum: ['message_revoked', 'message_expired', 'content_erased', null], description: 'Why the content is not shown: revoked or expired (received messages), or crypto-shredded by retention or erasure (any message).' },
      subject: { type: ['string', 'null'] },
      text: { type: ['string', 'null'] },
      html: { type: ['string', 'null'] },
      attachments: {
        type: 'array',
        items: { type: 'object', properties: { objectId: { type: 'string' }, filename: { type: 'string' }, contentType: { type: 'string' }, size: { type: 'integer' } }, required: ['objectId', 'filename', 'contentType', 'size'] },
      },
    },
    required: ['id', 'inReplyTo', 'sender', 'sentByYou', 'fromRecipient', 'label', 'createdAt', 'expiresAt', 'revokedAt', 'to', 'cc', 'bcc', 'withheld', 'subject', 'text', 'html', 'attachments'],
  });
}

const SENDING_ROLES = ['administrator', 'author'] as const;

function senderOf(req: FastifyRequest, roles: readonly ('administrator' | 'author' | 'auditor' | 'read_only')[] = SENDING_ROLES): Sender {
  const { user } = roles.length ? requireRole(req, ...roles) : requireUser(req);
  return { tenantId: user.tenantId, userId: user.id, email: user.email };
}

const addressList = { type: 'array', maxItems: 500, items: { type: 'string', minLength: 1, maxLength: 320 } } as const;

/** Registers the senders' routes. */
export function registerMessageRoutes(app: FastifyInstance, messaging: Messaging): void {
  app.get('/api/v1/labels', { schema: { tags, summary: "Your organisation's classification labels and their policies", response: { 200: { type: 'object', properties: { labels: { type: 'array', items: { $ref: 'Label#' } } }, required: ['labels'] }, ...errorResponses(401) } } }, async (req) => ({
    labels: await listLabels(messaging.db, requireUser(req).user.tenantId),
  }));

  // Uploads take the raw file as the body, streamed straight into the sealer: send
  // Content-Length (the sealed format declares the length up front).
  app.register(async (scope) => {
    scope.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
    scope.post(
      '/api/v1/uploads',
      {
        bodyLimit: MAX_ATTACHMENT_BYTES,
        schema: {
          tags,
          summary: 'Upload one attachment (raw bytes, Content-Type application/octet-stream, Content-Length required); it is sealed as it streams in. Attach it to a message by its uploadId.',
          response: { 201: { type: 'object', properties: { uploadId: { type: 'string' }, size: { type: 'integer' } }, required: ['uploadId', 'size'] }, ...errorResponses(400, 401, 403, 411) },
        },
      },
      async (req, reply) => {
        const sender = senderOf(req);
        const length = Number(req.headers['content-length']);
        if (!req.headers['content-length'] || !Number.isSafeInteger(length)) throw errors.invalid('length_required', 'send the file size as Content-Length (chunked uploads are not accepted)');
        const result = await messaging.uploads.upload(sender, { length, source: req.body as Readable }, requestContext(req));
        return reply.status(201).send(result);
      },
    );
  });

  app.delete<{ Params: { id: string } }>('/api/v1/uploads/:id', { schema: { tags, summary: 'Discard an upload that was not sent (crypto-shredded)', params: { type: 'object', properties: { id }, required: ['id'] }, response: { 204: { type: 'null' }, ...errorResponses(401, 403, 404) } } }, async (req, reply) => {
    await messaging.uploads.discard(senderOf(req), req.params.id);
    return reply.status(204).send();
  });

  app.post<{ Body: { to: string[]; cc?: string[]; bcc?: string[]; subject: string; text: string; html?: string | null; label?: string; expiresAt?: string | null; inReplyTo?: string; prevent?: unknown; attachments?: Array<{ uploadId: string; filename: string; contentType: string }> } }>(
    '/api/v1/messages',
    {
      schema: {
        tags,
        summary: 'Send a secure message; each recipient gets a notification with a unique link (never the content)',
        body: {
          type: 'object',
          properties: {
            to: addressList,
            cc: addressList,
            bcc: addressList,
            subject: { type: 'string', maxLength: 998 },
            text: { type: 'string' },
            html: { type: ['string', 'null'] },
            label: { type: 'string', minLength: 1, maxLength: 64 },
            expiresAt: nullableDateTime,
            inReplyTo: { type: 'string', maxLength: 64, description: 'Reply within a thread: a message you sent or received. The label defaults to that message\'s.' },
            prevent: {
              type: 'object',
              description: 'Your answer to pre-send warnings (see POST /api/v1/prevent/check): acknowledged warning ids, a justification (required to send past blocking warnings), and findings you fixed (resolved)',
              additionalProperties: true,
            },
            attachments: {
              type: 'array',
              maxItems: 100,
              items: { type: 'object', properties: { uploadId: { type: 'string', maxLength: 64 }, filename: { type: 'string', minLength: 1, maxLength: 255 }, contentType: { type: 'string', minLength: 3, maxLength: 255 } }, required: ['uploadId', 'filename', 'contentType'], additionalProperties: false },
            },
          },
          required: ['to', 'subject', 'text'],
          additionalProperties: false,
        },
        response: { 201: { $ref: 'SentMessage#' }, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (req, reply) => {
      const { expiresAt, ...draft } = req.body;
      const sent = await messaging.messages.send(senderOf(req), { ...draft, ...(expiresAt === undefined ? {} : { expiresAt: expiresAt === null ? null : new Date(expiresAt) }) }, requestContext(req));
      return reply.status(201).send(sent);
    },
  );

  app.get<{ Querystring: { limit?: number; before?: string } }>(
    '/api/v1/messages',
    {
      schema: {
        tags,
        summary: 'Your sent messages, newest first',
        querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 200 }, before: dateTime }, additionalProperties: false },
        response: {
          200: {
            type: 'object',
            properties: {
              messages: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { id: { type: 'string' }, threadId: { type: 'string' }, inReplyTo: { type: ['string', 'null'] }, subject: { type: 'string' }, contentErased: { type: 'boolean' }, label: { type: 'string' }, createdAt: dateTime, expiresAt: nullableDateTime, revokedAt: nullableDateTime, recipientCount: { type: 'integer' }, attachmentCount: { type: 'integer' } },
                  required: ['id', 'threadId', 'subject', 'label', 'createdAt', 'expiresAt', 'revokedAt', 'recipientCount', 'attachmentCount'],
                },
              },
            },
            required: ['messages'],
          },
          ...errorResponses(400, 401),
        },
      },
    },
    async (req) => ({ messages: await messaging.messages.listSent(senderOf(req, []), { ...(req.query.limit ? { limit: req.query.limit } : {}), ...(req.query.before ? { before: new Date(req.query.before) } : {}) }) }),
  );

  const messageParams = { type: 'object', properties: { id }, required: ['id'] } as const;
  app.get<{ Params: { id: string } }>('/api/v1/messages/:id', { schema: { tags, summary: 'One of your messages, with per-recipient status', params: messageParams, response: { 200: { $ref: 'SentMessage#' }, ...errorResponses(401, 404) } } }, async (req) =>
    messaging.messages.getSent(senderOf(req, []), req.params.id),
  );

  for (const [path, revoked] of [['revoke', true], ['unrevoke', false]] as const) {
    app.post<{ Params: { id: string } }>(`/api/v1/messages/:id/${path}`, { schema: { tags, summary: revoked ? 'Revoke the message for every recipient' : 'Undo a revocation', params: messageParams, response: { 200: { $ref: 'SentMessage#' }, ...errorResponses(401, 403, 404) } } }, async (req) =>
      messaging.messages.setRevoked(senderOf(req), req.params.id, revoked, requestContext(req)),
    );
    app.post<{ Params: { id: string; recipientId: string } }>(
      `/api/v1/messages/:id/recipients/:recipientId/${path}`,
      { schema: { tags, summary: revoked ? 'Revoke one recipient' : "Undo one recipient's revocation", params: { type: 'object', properties: { id, recipientId: id }, required: ['id', 'recipientId'] }, response: { 200: { $ref: 'SentMessage#' }, ...errorResponses(401, 403, 404) } } },
      async (req) => messaging.messages.setRecipientRevoked(senderOf(req), req.params.id, req.params.recipientId, revoked, requestContext(req)),
    );
  }

  app.patch<{ Params: { id: string }; Body: { expiresAt: string | null } }>(
    '/api/v1/messages/:id',
    { schema: { tags, summary: 'Change (future time) or remove (null) the expiry', params: messageParams, body: { type: 'object', properties: { expiresAt: nullableDateTime }, required: ['expiresAt'], additionalProperties: false }, response: { 200: { $ref: 'SentMessage#' }, ...errorResponses(400, 401, 403, 404) } } },
    async (req) => messaging.messages.setExpiry(senderOf(req), req.params.id, req.body.expiresAt === null ? null : new Date(req.body.expiresAt), requestContext(req)),
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/messages/:id/audit',
    {
      schema: {
        tags,
        summary: 'Audit trail of one of your messages: sends, code requests, opens, refusals, revocations',
        params: messageParams,
        response: {
          200: {
            type: 'object',
            properties: {
              events: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { occurredAt: dateTime, action: { type: 'string' }, outcome: { type: 'string' }, actorType: { type: 'string' }, actorId: { type: ['string', 'null'] }, recipient: { type: ['string', 'null'] }, ip: { type: ['string', 'null'] }, userAgent: { type: ['string', 'null'] }, reason: { type: ['string', 'null'] } },
                  required: ['occurredAt', 'action', 'outcome', 'actorType', 'actorId', 'recipient', 'ip', 'userAgent', 'reason'],
                },
              },
            },
            required: ['events'],
          },
          ...errorResponses(401, 404),
        },
      },
    },
    async (req) => ({ events: await messaging.messages.auditTrail(senderOf(req, []), req.params.id) }),
  );

  const recipientParams = { type: 'object', properties: { id, recipientId: id }, required: ['id', 'recipientId'] } as const;
  app.post<{ Params: { id: string }; Body: { to?: string[]; cc?: string[]; bcc?: string[] } }>(
    '/api/v1/messages/:id/recipients',
    {
      schema: {
        tags,
        summary: 'Add recipients after sending; each is notified with their own link. Refused (403 forwarding_not_allowed) under a no-forward label',
        params: messageParams,
        body: { type: 'object', properties: { to: addressList, cc: addressList, bcc: addressList }, additionalProperties: false },
        response: { 200: { $ref: 'SentMessage#' }, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (req) => messaging.messages.addRecipients(senderOf(req), req.params.id, req.body, requestContext(req)),
  );

  app.delete<{ Params: { id: string; recipientId: string } }>(
    '/api/v1/messages/:id/recipients/:recipientId',
    { schema: { tags, summary: 'Remove a recipient: their link stops working at once (allowed under every label)', params: recipientParams, response: { 200: { $ref: 'SentMessage#' }, ...errorResponses(401, 403, 404) } } },
    async (req) => messaging.messages.removeRecipient(senderOf(req), req.params.id, req.params.recipientId, requestContext(req)),
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/messages/:id/thread',
    {
      schema: {
        tags,
        summary: "The thread of one of your messages, oldest first: what you sent and what you received in it (recipients' secure replies included), opened for you",
        params: messageParams,
        response: { 200: { type: 'object', properties: { threadId: { type: 'string' }, messages: { type: 'array', items: { $ref: 'ThreadMessage#' } } }, required: ['threadId', 'messages'] }, ...errorResponses(401, 404) },
      },
    },
    async (req) => messaging.messages.thread(senderOf(req, []), req.params.id, requestContext(req)),
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/messages/:id/access-requests',
    { schema: { tags, summary: 'Requests for access to one of your messages from people who hold a forwarded link, newest first', params: messageParams, response: { 200: { type: 'object', properties: { requests: { type: 'array', items: { $ref: 'AccessRequest#' } } }, required: ['requests'] }, ...errorResponses(401, 404) } } },
    async (req) => ({ requests: await messaging.accessRequests.list(senderOf(req, []), req.params.id) }),
  );

  for (const decision of ['approve', 'deny'] as const) {
    app.post<{ Params: { id: string; requestId: string } }>(
      `/api/v1/messages/:id/access-requests/:requestId/${decision}`,
      {
        schema: {
          tags,
          summary: decision === 'approve' ? 'Approve a request: the requester becomes a Bcc recipient and is notified with their own link' : 'Deny a request; the requester is told by email',
          params: { type: 'object', properties: { id, requestId: id }, required: ['id', 'requestId'] },
          response: { 200: { $ref: 'AccessRequest#' }, ...errorResponses(401, 403, 404, 409) },
        },
      },
      async (req) => messaging.accessRequests[decision](senderOf(req), req.params.id, req.params.requestId, requestContext(req)),
    );
  }
}
