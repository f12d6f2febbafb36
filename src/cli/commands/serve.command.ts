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
      // First start on embedded defaults: an organisation and an administrator to sign in as.
      // The link is printed this once and never again (only its hash is stored).
      const first = config.embedded
        ? await server.runtime.accounts.users.bootstrapFirstStart({ ...config.firstStart, region: config.region }).catch(async (err: unknown) => {
            await server.close();
            throw err;
          })
        : null;

      const where = config.database.kind === 'pglite' ? `embedded PGlite in ${config.database.dataDir}` : 'PostgreSQL (DATABASE_URL)';
      io.out(`Sealpost ${server.runtime.version} is ready at ${server.url} (${where}; started in ${Date.now() - started} ms)`);
      if (config.mail.kind === 'outbox') io.out(`Outgoing mail is written to ${config.mail.dir}`);
      if (first) {
        io.out('');
        io.out(`First start: created the organisation "${first.tenant.name}" (region ${first.tenant.region}) and its administrator ${first.user.email}.`);
        io.out(`Sign in with this one-time link before ${first.signInLink.expiresAt.toISOString()}; it works once and will not be shown again:`);
        io.out(`  ${first.signInLink.url}`);
        io.out(`(Lost it? Stop the server and run: sealpost user sign-in-link --email ${first.user.email})`);
        io.out('');
      }

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
