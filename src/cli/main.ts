// The `sealpost` command line. Each command group lives in ./commands; this file wires them
// and turns errors into one clear line (and exit status 1) instead of a stack trace.
import { Command, CommanderError } from 'commander';
import { isAppError } from '../shared/app-error.ts';
import { VERSION } from '../runtime/runtime.ts';
import { registerAuditCommands } from './commands/audit.command.ts';
import { registerMessageCommands } from './commands/message.command.ts';
import { registerPreventCommands } from './commands/prevent.command.ts';
import { registerPrivacyCommands } from './commands/privacy.command.ts';
import { registerDsrCommands } from './commands/dsr.command.ts';
import { registerDomainCommands } from './commands/domains.command.ts';
import { registerConsentCommands } from './commands/consent.command.ts';
import { registerRetentionCommands } from './commands/retention.command.ts';
import { registerPreventClientCommands } from './commands/prevent-client.command.ts';
import { registerDatabaseCommands } from './commands/database.command.ts';
import { registerJobCommands } from './commands/jobs.command.ts';
import { registerKeyCommands } from './commands/keys.command.ts';
import { registerServeCommand } from './commands/serve.command.ts';
import { registerTenantCommands } from './commands/tenant.command.ts';
import { registerUserCommands } from './commands/user.command.ts';
import { type CliIo, processIo } from './context.ts';

/** Builds the program; exported for tests that inspect commands without running them. */
export function buildProgram(io: CliIo = processIo): Command {
  const program = new Command('sealpost')
    .description('Sealpost: send sensitive information by email, sealed. Configuration comes from environment variables (docs/configuration.md).')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();
  registerServeCommand(program, io);
  registerDatabaseCommands(program, io);
  registerJobCommands(program, io);
  registerTenantCommands(program, io);
  registerUserCommands(program, io);
  registerKeyCommands(program, io);
  registerAuditCommands(program, io);
  registerMessageCommands(program, io);
  registerPreventClientCommands(registerPreventCommands(program, io), io);
  registerPrivacyCommands(program, io);
  registerDomainCommands(program, io);
  registerConsentCommands(program.commands.find((c) => c.name() === 'privacy')!, io);
  registerRetentionCommands(program, io);
  registerDsrCommands(program, io);
  return program;
}

/** Runs the CLI with `argv` as in process.argv. Sets process.exitCode on failure. */
export async function main(argv: string[], io: CliIo = processIo): Promise<void> {
  // `sealpost … | head` closes the pipe early: that is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  try {
    await buildProgram(io).parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version also end up here, with exit code 0; commander has printed already.
      process.exitCode = err.exitCode;
      return;
    }
    if (isAppError(err)) {
      io.err(`error (${err.code}): ${err.message}`);
    } else {
      io.err(`error: ${(err as Error)?.message ?? String(err)}`);
      if (process.env.SEALPOST_DEBUG) io.err((err as Error)?.stack ?? '');
    }
    process.exitCode = 1;
  }
}
