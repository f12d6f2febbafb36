// `sealpost retention …` and `sealpost hold …`: the operator's side of retention — run it now
// (or dry), read reports, show and set periods (per tenant or installation-wide), and place,
// release and list legal holds. docs/privacy.md "Retention".
import { Command } from 'commander';
import { z } from 'zod';
import type { LegalHold, RetentionReport } from '../../privacy/retention/retention.model.ts';
import { errors } from '../../shared/app-error.ts';
import { type CliIo, print, withRuntime } from '../context.ts';
import { operatorActor } from './operator.ts';

const intOption = (name: string, min: number, max: number) => (value: string) => {
  const parsed = z.coerce.number().int().min(min).max(max).safeParse(value);
  if (!parsed.success) throw errors.invalid('invalid_option', `--${name} must be a whole number from ${min} to ${max} (got "${value.slice(0, 20)}")`);
  return parsed.data;
};

function printReport(io: CliIo, r: RetentionReport): void {
  io.out(`${r.dryRun ? 'DRY RUN ' : ''}retention run ${r.id}: ${r.status}${r.error ? ` (${r.error})` : ''}, as of ${r.asOf.toISOString()}${r.tenantId ? `, tenant ${r.tenantId}` : ', all tenants'}`);
  io.out(`  ${r.dryRun ? 'would remove' : 'removed'} ${r.totalRemoved} (rows deleted and objects shredded), held back ${r.totalHeld}`);
  for (const [category, c] of Object.entries(r.categories)) io.out(`  ${category.padEnd(8)} deleted ${c.deleted}, shredded ${c.shredded}, held ${c.held}`);
  for (const [table, c] of Object.entries(r.tables)) io.out(`    ${table.padEnd(24)} deleted ${c.deleted}, shredded ${c.shredded}, held ${c.held}`);
}

function holdLine(h: LegalHold): string {
  const target = h.scope === 'tenant' ? 'whole tenant' : h.scope === 'user' ? `user ${h.userId}` : `message ${h.messageId}`;
  const state = h.releasedAt ? `released ${h.releasedAt.toISOString()} by ${h.releasedBy}: ${h.releaseReason}` : 'in force';
  return `${h.id}  tenant ${h.tenantId}  ${target}  placed ${h.placedAt.toISOString()} by ${h.placedBy}  (${state})\n    reason: ${h.reason}`;
}

/** Registers `retention` and `hold`. */
export function registerRetentionCommands(program: Command, io: CliIo): void {
  const retention = program.command('retention').description('retention per category and tenant: run it (or dry), read reports, show and set periods');

  retention
    .command('run')
    .description('delete or crypto-shred what is due now, skipping legal holds, and print the report (also runs daily in the server)')
    .option('--dry-run', 'report what would be removed without changing anything')
    .option('--tenant <id>', 'only this tenant (nothing installation-wide)')
    .option('--batch-size <n>', 'rows per batch (1 to 50000, default 20000)', intOption('batch-size', 1, 50_000))
    .option('--json', 'print JSON')
    .action(async (opts: { dryRun?: boolean; tenant?: string; batchSize?: number; json?: boolean }) => {
      const report = await withRuntime((rt) =>
        rt.retention.service.run({ dryRun: opts.dryRun ?? false, triggeredBy: 'cli', actor: operatorActor(), ...(opts.tenant ? { tenantId: opts.tenant } : {}), ...(opts.batchSize ? { batchSize: opts.batchSize } : {}) }),
      );
      if (opts.json) print(io, report, true);
      else printReport(io, report);
    });

  retention
    .command('report')
    .description('the latest retention reports (counts only)')
    .option('--last <n>', 'how many (1 to 1000, default 1)', intOption('last', 1, 1000))
    .option('--tenant <id>', "a tenant's runs and its share of installation-wide runs")
    .option('--json', 'print JSON')
    .action(async (opts: { last?: number; tenant?: string; json?: boolean }) => {
      const reports = await withRuntime((rt) => rt.retention.service.reports({ tenantId: opts.tenant ?? null, limit: opts.last ?? 1 }));
      if (opts.json) print(io, reports, true);
      else if (reports.length === 0) io.out('No retention runs yet.');
      else reports.forEach((r) => printReport(io, r));
    });

  const policy = retention.command('policy').description('retention periods: registry defaults, installation-wide and per-tenant overrides');
  policy
    .command('show')
    .description('periods in force and where each comes from')
    .option('--tenant <id>', "the tenant's periods (default: the installation's)")
    .option('--json', 'print JSON')
    .action(async (opts: { tenant?: string; json?: boolean }) => {
      const policies = await withRuntime((rt) => rt.retention.service.policies(opts.tenant ?? null));
      if (opts.json) print(io, policies, true);
      else for (const p of policies) io.out(`${p.key.padEnd(22)} ${(p.period ?? 'keep').padEnd(6)} ${p.source.padEnd(12)} ${p.settable ? '' : '(fixed) '}${p.description}`);
    });
  policy
    .command('set <key> <period>')
    .description('set content, content_expired_grace, audit (per tenant or installation) or system (installation): an ISO-8601 duration (P2Y, P13M, P30D), "keep" (content only) or "default"')
    .option('--tenant <id>', 'set it for this tenant (default: the whole installation)')
    .option('--json', 'print JSON')
    .action(async (key: string, period: string, opts: { tenant?: string; json?: boolean }) => {
      const value = period === 'keep' ? null : period;
      const policies = await withRuntime((rt) => rt.retention.service.setPolicy(operatorActor(), opts.tenant ?? null, key, value));
      const p = policies.find((x) => x.key === key)!;
      if (opts.json) print(io, p, true);
      else io.out(`${p.key} is now ${p.period ?? 'keep'} (${p.source})`);
    });

  const hold = program.command('hold').description('legal holds: while one is in force, retention keeps what it covers');
  hold
    .command('add')
    .description('place a hold on a whole tenant, one user or one message')
    .requiredOption('--tenant <id>', 'the tenant')
    .option('--user <id>', 'hold this user\'s messages and trail')
    .option('--message <id>', 'hold this message')
    .option('--whole-tenant', 'hold everything of the tenant')
    .requiredOption('--reason <text>', 'why (e.g. a case reference); kept with the hold, not in the audit log')
    .option('--json', 'print JSON')
    .action(async (opts: { tenant: string; user?: string; message?: string; wholeTenant?: boolean; reason: string; json?: boolean }) => {
      const chosen = [opts.user !== undefined, opts.message !== undefined, opts.wholeTenant === true].filter(Boolean).length;
      if (chosen !== 1) throw errors.invalid('hold_scope_required', 'give exactly one of --user <id>, --message <id> or --whole-tenant');
      const input = opts.user !== undefined ? { scope: 'user', userId: opts.user } : opts.message !== undefined ? { scope: 'message', messageId: opts.message } : { scope: 'tenant' };
      const placed = await withRuntime((rt) => rt.retention.service.placeHold(operatorActor(), opts.tenant, { ...input, reason: opts.reason }));
      if (opts.json) print(io, placed, true);
      else io.out(`Hold placed:\n${holdLine(placed)}`);
    });
  hold
    .command('release <id>')
    .description('release a hold (recorded with who, when and why)')
    .requiredOption('--reason <text>', 'why it is released')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { reason: string; json?: boolean }) => {
      const released = await withRuntime((rt) => rt.retention.service.releaseHold(operatorActor(), null, id, opts.reason));
      if (opts.json) print(io, released, true);
      else io.out(`Hold released:\n${holdLine(released)}`);
    });
  hold
    .command('list')
    .description('holds in force (with --all, released ones too)')
    .option('--tenant <id>', 'only this tenant')
    .option('--all', 'include released holds')
    .option('--json', 'print JSON')
    .action(async (opts: { tenant?: string; all?: boolean; json?: boolean }) => {
      const holds = await withRuntime((rt) => rt.retention.service.listHolds(opts.tenant ?? null, { includeReleased: opts.all ?? false }));
      if (opts.json) print(io, holds, true);
      else if (holds.length === 0) io.out(opts.all ? 'No legal holds.' : 'No legal holds in force.');
      else holds.forEach((h) => io.out(holdLine(h)));
    });
}
