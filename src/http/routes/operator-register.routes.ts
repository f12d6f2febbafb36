// The processing register and the sub-processor register, edited by the installation's operator
// (issue #6 §1, §5): users listed in OPERATOR_EMAILS; everyone else 403 'operator_only'. The
// same RegisterService as `sealpost privacy purpose|subprocessor|settings …`: every input
// validated with the field named, every change recorded with who, when and effective when, and
// sub-processor changes alert the subscribers (the runtime's register is the one they listen to).
// What the register generates (record of processing, notice, public list) is read elsewhere
// (privacy.routes.ts).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Privacy } from '../../privacy/privacy.ts';
import { requireOperator } from '../auth.ts';
import { optionalDate } from './input.ts';
import { errorResponses } from './schemas.ts';

const tags = ['operator'];
const keyParam = { type: 'object', properties: { key: { type: 'string', maxLength: 120 } }, required: ['key'] } as const;

/** Registers the operator's register routes. */
export function registerOperatorRegisterRoutes(app: FastifyInstance, privacy: Privacy, operatorEmails: readonly string[]): void {
  const actor = (req: FastifyRequest) => ({ type: 'user' as const, id: requireOperator(req, operatorEmails).user.id });

  app.get(
    '/api/v1/operator/register',
    { schema: { tags, summary: 'The processing register: purposes, sub-processors (upcoming and ended included), controller details and the latest changes (operator)', response: errorResponses(401, 403) } },
    async (req) => {
      actor(req);
      const [purposes, subprocessors, settings, history] = [await privacy.purposes(), await privacy.subprocessors(), await privacy.settings(), await privacy.history()];
      return { purposes, subprocessors, settings, changes: history.slice(-50).reverse() };
    },
  );

  app.patch<{ Body: Record<string, unknown> }>(
    '/api/v1/operator/register/settings',
    { schema: { tags, summary: 'Change the controller details: controllerName, controllerContact, dpoContact, representative, organisationalMeasures, transferStatement (operator)', body: { type: 'object' }, response: errorResponses(400, 401, 403) } },
    async (req) => ({ settings: await privacy.register.updateSettings(actor(req), req.body) }),
  );

  app.post<{ Body: Record<string, unknown> }>(
    '/api/v1/operator/register/purposes',
    { schema: { tags, summary: 'Add a purpose of your own: key, groupKey, groupTitle, name, and any field of a purpose (operator)', body: { type: 'object' }, response: errorResponses(400, 401, 403, 409) } },
    async (req, reply) => reply.status(201).send({ purpose: await privacy.register.addPurpose(actor(req), req.body) }),
  );

  app.patch<{ Params: { key: string }; Body: Record<string, unknown> }>(
    '/api/v1/operator/register/purposes/:key',
    {
      schema: {
        tags,
        summary: 'Change fields of a purpose: name, reasons, basisIndividual, basisBusiness, categories, dataSubjects, recipients, retentionRules, transfers, transferSafeguards, notes, groupKey, groupTitle, position (operator)',
        params: keyParam,
        body: { type: 'object' },
        response: errorResponses(400, 401, 403, 404),
      },
    },
    async (req) => ({ purpose: await privacy.register.updatePurpose(actor(req), req.params.key, req.body) }),
  );

  app.post<{ Params: { key: string; action: string } }>(
    '/api/v1/operator/register/purposes/:key/:action',
    {
      schema: {
        tags,
        summary: 'Retire a purpose (it leaves the notice and the record, kept in the history) or restore it (operator)',
        params: { type: 'object', properties: { key: { type: 'string', maxLength: 120 }, action: { type: 'string', enum: ['retire', 'restore'] } }, required: ['key', 'action'] },
        response: errorResponses(400, 401, 403, 404),
      },
    },
    async (req) => ({ purpose: await privacy.register.setPurposeRetired(actor(req), req.params.key, req.params.action === 'retire') }),
  );

  app.post<{ Body: Record<string, unknown> }>(
    '/api/v1/operator/register/subprocessors',
    {
      schema: {
        tags,
        summary: 'Add a sub-processor: key, name, purpose, and kind, bases, categories, location, regions, transferSafeguards; effectiveFrom in the future announces it in advance (subscribers are alerted) (operator)',
        body: { type: 'object' },
        response: errorResponses(400, 401, 403, 409),
      },
    },
    async (req, reply) => reply.status(201).send({ subprocessor: await privacy.register.addSubprocessor(actor(req), req.body) }),
  );

  app.patch<{ Params: { key: string }; Body: Record<string, unknown> }>(
    '/api/v1/operator/register/subprocessors/:key',
    {
      schema: {
        tags,
        summary: 'Change fields of a sub-processor; effectiveAt (optional) is when the change applies, for advance notice (operator)',
        params: keyParam,
        body: { type: 'object' },
        response: errorResponses(400, 401, 403, 404),
      },
    },
    async (req) => {
      const { effectiveAt, ...patch } = req.body;
      return { subprocessor: await privacy.register.updateSubprocessor(actor(req), req.params.key, patch, optionalDate(effectiveAt, 'effectiveAt')) };
    },
  );

  app.post<{ Params: { key: string }; Body: { endsAt?: string } }>(
    '/api/v1/operator/register/subprocessors/:key/remove',
    {
      schema: {
        tags,
        summary: 'End a sub-processor, now or on endsAt (advance notice; subscribers are alerted) (operator)',
        params: keyParam,
        body: { type: 'object', properties: { endsAt: { type: 'string', maxLength: 40 } }, additionalProperties: false },
        response: errorResponses(400, 401, 403, 404, 409),
      },
    },
    async (req) => ({ subprocessor: await privacy.register.removeSubprocessor(actor(req), req.params.key, optionalDate(req.body?.endsAt, 'endsAt')) }),
  );
}
