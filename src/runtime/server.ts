// Runs the HTTP server on top of a Runtime: `sealpost serve` and the end-to-end tests both
// start Sealpost through here, so what the tests exercise is what operators run.
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/config.ts';
import { buildHttpApp } from '../http/app.ts';
import type { Logger } from '../shared/logger.ts';
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
    });
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await app?.close().catch(() => undefined);
    await runtime.close();
    throw err;
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
        await listening.close();
        await runtime.close();
      })()),
  };
}
