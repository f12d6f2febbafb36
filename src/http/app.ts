// The Fastify application. Routes are thin: parse, call one service, present. Everything
// the routes need comes in through `deps`; the HTTP layer never chooses implementations.
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import helmet from 'helmet';
import type { Accounts } from '../accounts/accounts.ts';
import type { Admin } from '../admin/admin.ts';
import type { Messaging } from '../messages/messaging.ts';
import type { Prevent } from '../prevent/prevent.ts';
import { registerPreventRoutes } from './routes/prevent.routes.ts';
import type { Privacy } from '../privacy/privacy.ts';
import { registerPrivacyRoutes } from './routes/privacy.routes.ts';
import { StatisticsService } from '../privacy/statistics/statistics.service.ts';
import type { Domains } from '../tenants/domains/domains.ts';
import { registerDomainRoutes, registerStatisticsRoutes } from './routes/domains.routes.ts';
import type { Consent } from '../privacy/consent/consent.ts';
import { registerConsentRoutes } from './routes/consent.routes.ts';
import type { RetentionService } from '../privacy/retention/retention.service.ts';
import { registerRetentionRoutes } from './routes/retention.routes.ts';
import type { SubjectRequests } from '../privacy/requests/requests.ts';
import { registerSubjectRequestRoutes } from './routes/subject-requests.routes.ts';
import { installCookiePolicy } from './cookie-policy.ts';
import { registerAccessRoutes } from './routes/access.routes.ts';
import { addMessageSchemas, registerMessageRoutes } from './routes/messages.routes.ts';
import type { Logger } from '../shared/logger.ts';
import { installAuth } from './auth.ts';
import { installErrorHandler } from './error-handler.ts';
import { registerAuthRoutes } from './routes/auth.routes.ts';
import { registerHealthRoutes, type ReadinessProbe } from './routes/health.routes.ts';
import { addSharedSchemas } from './routes/schemas.ts';
import { registerUserRoutes } from './routes/users.routes.ts';
import { registerAdminRoutes } from './routes/admin.routes.ts';
import { registerAuditRoutes } from './routes/audit.routes.ts';
import { registerLabelRoutes } from './routes/labels.routes.ts';
import { registerTenantRoutes } from './routes/tenant.routes.ts';
import { registerDisclosureRoutes } from './routes/disclosures.routes.ts';
import { registerOperatorRegisterRoutes } from './routes/operator-register.routes.ts';
import { registerWebApp } from './web-app.ts';
import type { DisclosureService } from '../privacy/disclosures/disclosure.service.ts';

/** What the HTTP layer needs from the running process. */
export interface HttpDeps {
  logger: Logger;
  bodyLimitBytes: number;
  trustProxy: boolean;
  publicUrl: string;
  version: string;
  readiness: ReadinessProbe[];
  /** Sign-in, users and API tokens. Without it (unit tests of the bare app) no /api/v1 route exists. */
  accounts?: Accounts;
  /** Secure messages (senders' and recipients' routes); needs `accounts`. */
  messaging?: Messaging;
  /** Labels, tenant branding, the audit log and invitations (docs/admin-api.md); needs `messaging`. */
  admin?: Admin;
  /** The pre-send check (Prevent); needs `accounts`. */
  prevent?: Prevent;
  /** Privacy notice, sub-processors (public) and the record of processing (needs `accounts`). */
  privacy?: Privacy;
  /** Verified domains and free-to-business transfers (needs `accounts`). */
  domains?: Domains;
  /** Preferences (needs `accounts`), sub-processor subscriptions, one-click unsubscribe. */
  consent?: Consent;
  /** Retention periods, legal holds and retention reports for administrators (needs `accounts`). */
  retention?: RetentionService;
  /** Data subject requests: the public form and intake, the administrators' queue (needs `accounts`). */
  subjectRequests?: SubjectRequests;
  /** The operator's disclosure log, for the users listed in `operatorEmails` (needs `accounts`). */
  disclosures?: DisclosureService;
  /** Addresses of the users who act for the installation's operator (OPERATOR_EMAILS). */
  operatorEmails?: readonly string[];
}

/** Builds the HTTP app (not listening yet). */
export async function buildHttpApp(deps: HttpDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.bodyLimitBytes,
    trustProxy: deps.trustProxy,
    // Ids for correlating logs; never derived from request content.
    genReqId: () => globalThis.crypto.randomUUID(),
    // Unknown fields are refused, not silently dropped: a misspelt "bcc" must not send anyway.
    ajv: { customOptions: { removeAdditional: false } },
  });

  // Security headers. helmet builds its middleware once here; @fastify/helmet, used until
  // 2026-12-03, rebuilt it (options parsed, CSP directives validated) on every request, which
  // was 3.5 % of the server's busy time in bench:api's key releases.
  const securityHeaders = helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        // Upgrading requests only makes sense when Sealpost is served over TLS.
        upgradeInsecureRequests: deps.publicUrl.startsWith('https:') ? [] : null,
      },
    },
    crossOriginEmbedderPolicy: false,
    strictTransportSecurity: deps.publicUrl.startsWith('https:') ? { maxAge: 31536000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' },
  });
  app.addHook('onRequest', (req, reply, done) => {
    securityHeaders(req.raw, reply.raw, (err?: unknown) => done(err as Error | undefined));
  });
  app.addHook('onSend', (_req, reply, payload, done) => {
    // API responses may carry personal data: keep them out of shared caches.
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    done(null, payload);
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Sealpost API', version: deps.version, description: 'Secure messages, files and privacy operations. Errors are `{ "error": { "code", "message" } }` with stable codes.' },
      servers: [{ url: deps.publicUrl }],
    },
  });
  app.addSchema({
    $id: 'Readiness',
    type: 'object',
    properties: {
      status: { type: 'string', enum: ['ready', 'not_ready'] },
      checks: { type: 'object', additionalProperties: { type: 'object', properties: { ok: { type: 'boolean' }, error: { type: 'string' } }, required: ['ok'] } },
    },
    required: ['status', 'checks'],
  });

  addSharedSchemas(app);

  installErrorHandler(app);
  registerHealthRoutes(app, deps.readiness);
  if (deps.accounts) {
    await installAuth(app, deps.accounts, { publicUrl: deps.publicUrl });
    // After the cookie plugin (installAuth), whose onSend hook writes the Set-Cookie headers this filters.
    installCookiePolicy(app);
    registerAuthRoutes(app, deps.accounts, { publicUrl: deps.publicUrl, operatorEmails: deps.operatorEmails ?? [] });
    registerUserRoutes(app, deps.accounts);
    if (deps.messaging) {
      addMessageSchemas(app);
      registerMessageRoutes(app, deps.messaging);
      registerAccessRoutes(app, deps.messaging);
      if (deps.admin) {
        registerLabelRoutes(app, deps.admin.labels);
        registerTenantRoutes(app, deps.admin.tenant);
        registerAuditRoutes(app, deps.admin.auditLog);
        registerAdminRoutes(app, deps.admin.invitations);
      }
    }
    if (deps.prevent) registerPreventRoutes(app, deps.prevent);
    if (deps.privacy) registerPrivacyRoutes(app, deps.privacy);
    if (deps.privacy) registerOperatorRegisterRoutes(app, deps.privacy, deps.operatorEmails ?? []);
    if (deps.privacy) registerStatisticsRoutes(app, new StatisticsService(deps.privacy.db));
    if (deps.domains) registerDomainRoutes(app, deps.domains);
    if (deps.consent) registerConsentRoutes(app, deps.consent);
    if (deps.retention) registerRetentionRoutes(app, deps.retention);
    if (deps.subjectRequests) registerSubjectRequestRoutes(app, deps.subjectRequests, { publicUrl: deps.publicUrl, operatorEmails: deps.operatorEmails ?? [] });
    if (deps.disclosures) registerDisclosureRoutes(app, deps.disclosures, deps.operatorEmails ?? []);
  }
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await registerWebApp(app, { publicUrl: deps.publicUrl });
  return app;
}
