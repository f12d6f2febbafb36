// The organisation's audit log for administrators and auditors: /api/v1/audit (filtered pages),
// /api/v1/audit/export.csv (streamed CSV), /api/v1/audit/verify (hash-chain verification).
// docs/admin-api.md §3 describes filters, shapes and the CSV format.
import type { FastifyInstance } from 'fastify';
import type { AuditFilterInput, AuditLogService } from '../../admin/audit-log.service.ts';
import { MAX_AUDIT_PAGE } from '../../admin/audit-log.service.ts';
import { requestContext, requireRole } from '../auth.ts';
import { errorResponses } from './schemas.ts';

const tags = ['audit'];
const filterProperties = {
  from: { type: 'string', maxLength: 40, description: 'ISO 8601; events at or after it' },
  to: { type: 'string', maxLength: 40, description: 'ISO 8601; events before it' },
  actor: { type: 'string', maxLength: 320, description: 'User or recipient id, or an email address' },
  actorType: { type: 'string', maxLength: 20 },
  action: { type: 'string', maxLength: 102, description: 'Exact action, or a prefix such as message.*' },
  messageId: { type: 'string', maxLength: 64 },
  outcome: { type: 'string', maxLength: 20 },
} as const;

const nullableString = { type: ['string', 'null'] } as const;

/** Registers the audit log routes. */
export function registerAuditRoutes(app: FastifyInstance, auditLog: AuditLogService): void {
  app.get<{ Querystring: AuditFilterInput & { limit?: number; cursor?: string } }>(
    '/api/v1/audit',
    {
      schema: {
        tags,
        summary: "Your organisation's audit events, newest first, filtered (administrators, auditors)",
        querystring: {
          type: 'object',
          properties: { ...filterProperties, limit: { type: 'integer', minimum: 1, maximum: MAX_AUDIT_PAGE }, cursor: { type: 'string', maxLength: 100 } },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              events: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' },
                    seq: { type: 'string' },
                    occurredAt: { type: 'string', format: 'date-time' },
                    actor: { type: 'object', properties: { type: { type: 'string' }, id: nullableString, email: nullableString }, required: ['type', 'id', 'email'] },
                    action: { type: 'string' },
                    target: { type: ['object', 'null'], properties: { type: { type: 'string' }, id: nullableString } },
                    messageId: nullableString,
                    outcome: { type: 'string' },
                    ip: nullableString,
                    userAgent: nullableString,
                    details: { type: 'object', additionalProperties: true },
                  },
                  required: ['id', 'seq', 'occurredAt', 'actor', 'action', 'target', 'messageId', 'outcome', 'ip', 'userAgent', 'details'],
                },
              },
              nextCursor: nullableString,
            },
            required: ['events', 'nextCursor'],
          },
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (req) => {
      const { limit, cursor, ...filters } = req.query;
      return auditLog.list(requireRole(req, 'administrator', 'auditor').user.tenantId, filters, { limit, cursor });
    },
  );

  app.get<{ Querystring: AuditFilterInput }>(
    '/api/v1/audit/export.csv',
    {
      schema: {
        tags,
        summary: 'The same events as CSV, oldest first, streamed; cells that a spreadsheet would run as formulas are prefixed with \' (administrators, auditors)',
        querystring: { type: 'object', properties: filterProperties, additionalProperties: false },
        produces: ['text/csv'],
        response: { 200: { type: 'string', description: 'text/csv' }, ...errorResponses(400, 401, 403) },
      },
    },
    async (req, reply) => {
      const user = requireRole(req, 'administrator', 'auditor').user;
      const stream = await auditLog.exportCsv({ type: 'user', id: user.id }, user.tenantId, req.query, requestContext(req));
      const date = new Date().toISOString().slice(0, 10);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="sealpost-audit-${date}.csv"`)
        .send(stream);
    },
  );

  app.get(
    '/api/v1/audit/verify',
    {
      schema: {
        tags,
        summary: "Re-compute your organisation's audit hash chain (administrators, auditors); reads every event",
        response: {
          200: {
            type: 'object',
            properties: {
              ok: { type: 'boolean' },
              events: { type: 'integer' },
              headSeq: { type: 'string' },
              headHash: { type: 'string' },
              problems: { type: 'array', items: { type: 'object', properties: { seq: { type: 'string' }, problem: { type: 'string' } }, required: ['seq', 'problem'] } },
              problemsTruncated: { type: 'boolean' },
              verifiedAt: { type: 'string', format: 'date-time' },
            },
            required: ['ok', 'events', 'headSeq', 'headHash', 'problems', 'problemsTruncated', 'verifiedAt'],
          },
          ...errorResponses(401, 403),
        },
      },
    },
    async (req) => auditLog.verify(requireRole(req, 'administrator', 'auditor').user.tenantId),
  );
}
