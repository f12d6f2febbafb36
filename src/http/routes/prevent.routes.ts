// Prevent's API: check a draft before sending, the tenant's policy and settings, the warnings
// dashboard, and importing mail history to learn from — /api/v1/prevent/*.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requireRole } from '../auth.ts';
import type { Prevent } from '../../prevent/prevent.ts';
import { resolveDraft, type DraftInput } from '../../prevent/draft-input.ts';
import { parseJsonlHistory, parseMboxHistory } from '../../prevent/history-import.ts';
import { optionalDate } from './input.ts';
import { errorResponses } from './schemas.ts';

const tags = ['prevent'];
const addressList = { type: 'array', maxItems: 500, items: { type: 'string', minLength: 1, maxLength: 400 } } as const;
const MAX_IMPORT_BYTES = 64 * 1024 * 1024;

const warningSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'Stable id of the finding; acknowledge it when sending anyway' },
    check: { type: 'string' },
    severity: { type: 'string', enum: ['info', 'warning', 'critical'] },
    mode: { type: 'string', enum: ['nudge', 'block'], description: 'nudge: you may send anyway; block: fix it or send with a justification' },
    recipients: { type: 'array', items: { type: 'string' } },
    reason: { type: 'string' },
    fixes: { type: 'array', items: { type: 'object', additionalProperties: true } },
    risk: { type: 'number' },
  },
  required: ['id', 'check', 'severity', 'mode', 'recipients', 'reason', 'fixes'],
} as const;

function principal(req: FastifyRequest, ...roles: Array<'administrator' | 'author' | 'auditor'>) {
  const { user } = requireRole(req, ...roles);
  return { tenantId: user.tenantId, userId: user.id, email: user.email };
}

/** Registers /api/v1/prevent/*. */
export function registerPreventRoutes(app: FastifyInstance, prevent: Prevent): void {
  app.post<{ Body: DraftInput }>(
    '/api/v1/prevent/check',
    {
      schema: {
        tags,
        summary: 'Check a draft before sending: what Prevent would warn about under your organisation\'s policy',
        body: {
          type: 'object',
          properties: {
            to: addressList,
            cc: addressList,
            bcc: addressList,
            subject: { type: 'string', maxLength: 998 },
            text: { type: 'string', maxLength: 4 * 1024 * 1024 },
            html: { type: ['string', 'null'] },
            label: { type: 'string', minLength: 1, maxLength: 64 },
            inReplyTo: { type: 'string', maxLength: 64 },
          },
          required: ['to', 'subject', 'text'],
          additionalProperties: false,
        },
        response: { 200: { type: 'object', properties: { warnings: { type: 'array', items: warningSchema } }, required: ['warnings'] }, ...errorResponses(400, 401, 403) },
      },
    },
    async (req) => {
      const sender = principal(req, 'administrator', 'author');
      const draft = await resolveDraft(prevent.db, sender, req.body, new Date());
      return { warnings: await prevent.service.check(sender.tenantId, sender.userId, draft) };
    },
  );

  app.get(
    '/api/v1/prevent/settings',
    { schema: { tags, summary: 'Your organisation\'s Prevent policy (mode per check and severity), rule settings and internal domains', response: errorResponses(401, 403) } },
    async (req) => prevent.service.settings(principal(req, 'administrator').tenantId),
  );

  app.put<{ Body: { policy?: unknown; rules?: unknown; internalDomains?: unknown } }>(
    '/api/v1/prevent/settings',
    {
      schema: {
        tags,
        summary: 'Change the Prevent policy, rule settings or internal domains (parts not given stay as they are)',
        body: { type: 'object', properties: { policy: { type: 'object' }, rules: { type: 'object' }, internalDomains: { type: 'array' } }, additionalProperties: false },
        response: errorResponses(400, 401, 403),
      },
    },
    async (req) => {
      const admin = principal(req, 'administrator');
      return prevent.service.updateSettings(admin.tenantId, admin.userId, req.body);
    },
  );

  app.get<{ Querystring: { from?: string; to?: string } }>(
    '/api/v1/prevent/dashboard',
    {
      schema: {
        tags,
        summary: 'Warnings by week, check and outcome (default: the last 12 weeks)',
        querystring: { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' } }, additionalProperties: false },
        response: errorResponses(400, 401, 403),
      },
    },
    async (req) => {
      const who = principal(req, 'administrator', 'auditor');
      const to = optionalDate(req.query.to, 'to') ?? new Date();
      const from = optionalDate(req.query.from, 'from') ?? new Date(to.getTime() - 84 * 86_400_000);
      return prevent.service.dashboard(who.tenantId, from, to);
    },
  );

  // History to learn from arrives as the file itself: JSONL or mbox.
  app.register(async (scoped) => {
    scoped.addContentTypeParser(['application/x-ndjson', 'application/jsonl', 'application/mbox'], { parseAs: 'string', bodyLimit: MAX_IMPORT_BYTES }, (_req, body, done) => done(null, body));
    scoped.post<{ Body: string }>(
      '/api/v1/prevent/import',
      {
        bodyLimit: MAX_IMPORT_BYTES,
        schema: {
          tags,
          summary: 'Import mail history (Content-Type application/x-ndjson for JSONL, application/mbox for mbox) into your organisation\'s Smart Data',
          response: { 200: { type: 'object', properties: { imported: { type: 'integer' }, skipped: { type: 'integer' } }, required: ['imported', 'skipped'] }, ...errorResponses(400, 401, 403, 415) },
        },
      },
      async (req) => {
        const admin = principal(req, 'administrator');
        const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
        const messages = type === 'application/mbox' ? await parseMboxHistory(req.body, 'mbox') : [...parseJsonlHistory(req.body, 'jsonl')];
        return prevent.service.importHistory(admin.tenantId, messages);
      },
    );
  });
}
