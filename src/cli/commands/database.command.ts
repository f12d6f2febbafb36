// `sealpost migrate`: apply pending migrations without starting the server (serve also
// migrates on start-up; this is for deploy pipelines that migrate as a separate step).
import type { Command } from 'commander';
import { type CliIo, withRuntime } from '../context.ts';

export function registerDatabaseCommands(program: Command, io: CliIo): void {
  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .action(async () => {
      // openRuntime migrates; report what the schema is at afterwards.
      await withRuntime(async (rt) => {
        const { rows } = await rt.db.query<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id');
        io.out(`Database schema is current (${rows.length} migration${rows.length === 1 ? '' : 's'} applied, latest ${rows.at(-1)?.id ?? 'none'}).`);
      });
    });
}
