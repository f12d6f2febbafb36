// Runs the HTTP server on top of a Runtime: `sealpost serve` and the end-to-end tests both
// start Sealpost through here, so what the tests exercise is what operators run.
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/config.ts';
import { nativeGcmProblem } from '../crypto/node/native-gcm.ts';
import { segmentRunner } from '../crypto/node/segment-runner.ts';
import { buildHttpApp } from '../http/app.ts';
import { DisclosureService } from '../privacy/disclosures/disclosure.service.ts';
import type { Logger } from '../shared/logger.ts';
import { unservedRegionError } from './region-check.ts';
import { ensureRetentionScheduled } from '../privacy/retention/retention.job.ts';
import { openRuntime, type Runtime } from './runtime.ts';

/** A listening Sealpost server. */
export interface RunningServer {
  runtime: Runtime;
  app: FastifyInstance;
  /** Where it actually listens (PORT=0 picks a free port). */
  url: string;
  /** Stops accepting requests, lets in-flight ones finish, then closes every resource. */
  close(): Promise<void>;
}

/** Opens the runtime and listens on config.host:config.port. */
export async function startServer(config: Config, opts: { logger?: Logger } = {}): Promise<RunningServer> {
  const runtime = await openRuntime(config, opts);
  let app: FastifyInstance | undefined;
  try {
    app = await buildHttpApp({
      logger: runtime.logger,
      bodyLimitBytes: config.bodyLimitBytes,
      trustProxy: config.trustProxy,
      publicUrl: config.publicUrl,
      version: runtime.version,
      readiness: runtime.readiness,
      accounts: runtime.accounts,
      messaging: runtime.messaging,
      admin: runtime.admin,
      prevent: runtime.prevent,
      privacy: runtime.privacy,
      domains: runtime.domains,
      consent: runtime.consent,
      retention: runtime.retention.service,
      subjectRequests: runtime.subjectRequests,
      disclosures: new DisclosureService(runtime.db),
      operatorEmails: config.operatorEmails,
    });
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await app?.close().catch(() => undefined);
    await runtime.close();
    throw err;
  }
  // Retention of sign-in credentials (credential_lifetime, rate_limit_window): ended sessions,
  // old links, tokens and rate-limit counters are deleted hourly. Idempotent, so every node may run it.
  let purging: Promise<unknown> = Promise.resolve();
  const purge = () => {
    purging = runtime.accounts.auth.purgeEndedCredentials().catch((err: unknown) => runtime.logger.warn({ err }, 'could not purge ended credentials'));
    // Ended double opt-in and unsubscribe links (consent_link_lifetime).
    purging = Promise.all([purging, runtime.consent.preferences.purgeEndedLinks().catch((err: unknown) => runtime.logger.warn({ err }, 'could not purge ended consent links'))]);
    // Access exports whose one-time link expired unused are crypto-shredded (access_export_once).
    purging = Promise.all([purging, runtime.subjectRequests.service.shredExpiredExports().catch((err: unknown) => runtime.logger.warn({ err }, 'could not shred expired access exports'))]);
  };
  const purgeTimer = setInterval(purge, 60 * 60 * 1000);
  purgeTimer.unref();
  purge();
  // The daily retention run is a durable job: one is queued whatever the number of nodes, and
  // whichever node polls first runs it (docs/privacy.md, "Retention").
  await ensureRetentionScheduled(runtime.db).catch((err: unknown) => runtime.logger.warn({ err }, 'could not schedule the retention run'));
  runtime.jobs.start();
  runtime.retention.runner.start();
  // Said by the server only (CLI commands open the same runtime and would repeat it on every call).
  if (runtime.unservedRegions.length > 0) runtime.logger.error({ regions: runtime.unservedRegions }, unservedRegionError(runtime.unservedRegions).message);
  // Large files use the native AES-GCM addon that npm install builds; without it they still
  // work, on worker threads, for about 1.5 times the CPU (docs/development.md).
  if (segmentRunner().kind !== 'native') {
    runtime.logger.warn({ reason: nativeGcmProblem() }, 'native AES-GCM addon not loaded: large files are sealed and opened on worker threads, which is slower');
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;
  const listening = app;
  return {
    runtime,
    app: listening,
    url,
    close: () =>
      (closing ??= (async () => {
        clearInterval(purgeTimer);
        await listening.close();
        await runtime.jobs.stop();
        await purging;
        await runtime.close();
      })()),
  };
}
