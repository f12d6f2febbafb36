// `sealpost audit verify|head`: check the hash chains of the audit log, and print chain heads
// to keep somewhere the database's operators cannot rewrite (then pass them back as anchors).
import { Command } from 'commander';
import type { AuditChainHead } from '../../audit/audit.model.ts';
import { getAuditChainHead, verifyAuditChains } from '../../audit/audit.service.ts';
import { errors } from '../../shared/app-error.ts';
import { type CliIo, print, withRuntime } from '../context.ts';
import { printMessageTrail } from './message.command.ts';

/** Parses `chain:seq:hash` as printed by `sealpost audit head`. */
function parseAnchor(value: string, previous: AuditChainHead[] = []): AuditChainHead[] {
  const m = /^([a-z0-9-]+):(\d+):([0-9a-f]{64})$/.exec(value);
  if (!m) throw errors.invalid('audit_anchor_invalid', `anchor "${value}" is not <chain>:<seq>:<64 hex digits> as printed by "sealpost audit head"`);
  return [...previous, { chain: m[1]!, chainSeq: Number(m[2]), hash: m[3]! }];
}

export function registerAuditCommands(program: Command, io: CliIo): void {
  const audit = program.command('audit').description('verify and anchor the hash-chained audit log; "sealpost audit <messageId>" shows a sent message\'s trail');

  // `sealpost audit <messageId>` (as the issue names it) is the same as `sealpost trail <messageId>`.
  audit
    .command('message <messageId>', { isDefault: true })
    .description("audit trail of a message you sent (needs sealpost login)")
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => printMessageTrail(io, id, opts.json));

  audit
    .command('verify')
    .description('recompute every hash and link; exits with status 1 if anything was edited, inserted or deleted')
    .option('--tenant <id>', 'verify only this tenant\'s chain')
    .option('--anchor <chain:seq:hash>', 'a head recorded earlier (repeatable); it must still be present and unchanged', parseAnchor)
    .option('--json', 'print JSON')
    .action(async (opts: { tenant?: string; anchor?: AuditChainHead[]; json?: boolean }) => {
      const result = await withRuntime((rt) => verifyAuditChains(rt.db, { ...(opts.tenant ? { tenantId: opts.tenant } : {}), ...(opts.anchor ? { anchors: opts.anchor } : {}) }));
      if (opts.json) print(io, result, true);
      else {
        for (const c of result.chains) io.out(`chain ${c.chain}: ${c.events} events, head ${c.headHash}`);
        for (const p of result.problems) io.out(`PROBLEM chain ${p.chain} at ${p.chainSeq}: ${p.problem}`);
        if (result.problemsTruncated) io.out('(more problems not listed)');
        io.out(result.ok ? 'Audit log verified: no problems found.' : 'Audit log verification FAILED.');
      }
      if (!result.ok) process.exitCode = 1;
    });

  audit
    .command('head')
    .description('print a chain head as <chain>:<seq>:<hash>, to anchor outside the database')
    .option('--tenant <id>', 'the tenant\'s chain (default: the system chain)')
    .option('--json', 'print JSON')
    .action(async (opts: { tenant?: string; json?: boolean }) => {
      const head = await withRuntime((rt) => getAuditChainHead(rt.db, opts.tenant ? { tenantId: opts.tenant } : {}));
      if (opts.json) print(io, head, true);
      else io.out(`${head.chain}:${head.chainSeq}:${head.hash}`);
    });
}
