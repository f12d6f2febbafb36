// Liveness and readiness. /readyz checks every dependency a request may need.
import type { FastifyInstance } from 'fastify';

/** What /readyz checks. */
export interface ReadinessProbe {
  name: string;
  check: () => Promise<void>;
}

/** Registers GET /healthz and GET /readyz. */
export function registerHealthRoutes(app: FastifyInstance, probes: ReadinessProbe[]): void {
  app.get('/healthz', { schema: { tags: ['health'], summary: 'Liveness: the process is up', response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } }, async () => ({ status: 'ok' }));

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'Readiness: database, blob store and key provider reachable',
        response: {
          200: { $ref: 'Readiness#' },
          503: { $ref: 'Readiness#' },
        },
      },
    },
    async (_req, reply) => {
      const checks: Record<string, { ok: boolean; error?: string }> = {};
      await Promise.all(
        probes.map(async (p) => {
          try {
            await p.check();
            checks[p.name] = { ok: true };
          } catch (err) {
            // Report which dependency failed, not its internals (no hostnames or credentials).
            checks[p.name] = { ok: false, error: (err as { code?: string }).code ?? 'unreachable' };
          }
        }),
      );
      const ok = Object.values(checks).every((c) => c.ok);
      return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not_ready', checks });
    },
  );
}
