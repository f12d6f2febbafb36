// `sealpost serve` (what `npm start` runs): open everything, listen, print the URL, and shut
// down cleanly on SIGINT/SIGTERM so in-flight requests finish and PGlite is closed properly.
import type { Command } from 'commander';
import { loadConfig } from '../../config/config.ts';
import { startServer } from '../../runtime/server.ts';
import type { CliIo } from '../context.ts';

export function registerServeCommand(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description('run the Sealpost server (PORT and HOST choose where it listens; see docs/configuration.md)')
    .action(async () => {
      const config = loadConfig(process.env);
      const started = Date.now();
      const server = await startServer(config);
      const where = config.database.kind === 'pglite' ? `embedded PGlite in ${config.database.dataDir}` : 'PostgreSQL (DATABASE_URL)';
      io.out(`Sealpost ${server.runtime.version} is ready at ${server.url} (${where}; started in ${Date.now() - started} ms)`);
      if (config.mail.kind === 'outbox') io.out(`Outgoing mail is written to ${config.mail.dir}`);

      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        server.runtime.logger.info({ signal }, 'shutting down');
        server.close().then(
          () => process.exit(0),
          (err: unknown) => {
            server.runtime.logger.error({ err }, 'error during shutdown');
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
}
