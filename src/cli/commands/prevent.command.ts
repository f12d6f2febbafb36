// `sealpost prevent …`: Prevent from the command line. `score` is the benchmark engine contract
// (embedded: trains on a history file, no server or database). Further subcommands (`check`,
// `import`) register on the same group: see registerPreventCommands.
import { Command } from 'commander';
import { scoreFiles } from '../../prevent/engine/score.ts';
import type { CliIo } from '../context.ts';

const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((v) => v.trim().toLowerCase()).filter(Boolean)];

/** Adds the `prevent` command group and returns it, so other subcommands can be added to it. */
export function registerPreventCommands(program: Command, io: CliIo): Command {
  const prevent = program.command('prevent').description('pre-send checks: learn how a tenant emails and warn about misaddressed or risky sends');
  registerScoreCommand(prevent, io);
  return prevent;
}

function registerScoreCommand(prevent: Command, io: CliIo): void {
  prevent
    .command('score')
    .description('benchmark engine: learn one tenant from --history, score each recipient of each --input message, write JSONL to --output (../shared/bench/prevent/README.md)')
    .requiredOption('--history <file>', 'JSONL of past messages to learn from')
    .requiredOption('--input <file>', 'JSONL of messages to score')
    .requiredOption('--output <file>', 'where to write one {"id","recipients":[{"address","risk"}],"warn":[…]} line per input message')
    .option('--domain <domain>', "the tenant's own domain (repeatable; default: the domains the history was sent from)", collect)
    .option('--quiet', 'no summary on stderr')
    .action(async (opts: { history: string; input: string; output: string; domain?: string[]; quiet?: boolean }) => {
      const r = await scoreFiles({ history: opts.history, input: opts.input, output: opts.output, ...(opts.domain ? { tenantDomains: opts.domain } : {}) });
      if (!opts.quiet) {
        io.err(
          `prevent score: learned ${r.historyMessages} messages in ${r.buildSeconds.toFixed(2)} s (${r.fit.trainingMessages} training messages, warn above risk ${r.fit.warnThreshold.toFixed(3)}); ` +
            `scored ${r.inputMessages} in ${r.scoreSeconds.toFixed(2)} s, ${r.warned} with a warning`,
        );
      }
    });
}
