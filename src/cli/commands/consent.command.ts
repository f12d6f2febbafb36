// `sealpost privacy preferences …` and `sealpost privacy subscribers …`: the operator's view of
// communication preferences (with their history) and of who receives sub-processor alerts.
// Changes made here are recorded as made by an administrator; they can withdraw anything but can
// never grant marketing to someone who objected to it (only the person can).
import { Command, Option } from 'commander';
import { COMMUNICATION_KINDS, type CommunicationKind } from '../../privacy/consent/consent.model.ts';
import { requireKind } from '../../privacy/consent/consent.service.ts';
import { errors } from '../../shared/app-error.ts';
import { type CliIo, print, withRuntime } from '../context.ts';
import { operatorActor } from './operator.ts';

const onOff = (flag: string) => (value: string): boolean => {
  if (value === 'on') return true;
  if (value === 'off') return false;
  throw errors.invalid('invalid_preference', `${flag}: must be on or off`, { field: flag });
};

/** Registers the consent subcommands under `privacy`. */
export function registerConsentCommands(privacy: Command, io: CliIo): void {
  const preferences = privacy.command('preferences').description("a person's communication preferences (marketing, product updates, sub-processor alerts) and their history");

  preferences
    .command('show')
    .description('show the preferences of one address, with every change (when, how, notice version)')
    .requiredOption('--email <address>', 'the person')
    .option('--json', 'print JSON')
    .action(async (opts: { email: string; json?: boolean }) => {
      const record = await withRuntime((rt) => rt.consent.preferences.get(opts.email));
      if (opts.json) return print(io, record, true);
      io.out(`${record.email}${record.restricted ? '  (processing restricted: no optional email is sent)' : ''}`);
      for (const p of record.preferences) io.out(`  ${p.kind.padEnd(22)} ${p.state.padEnd(10)} ${p.updatedAt ? `${p.updatedAt.toISOString()} via ${p.via} (notice ${p.noticeVersion ?? '?'})` : '(never chosen: nothing sent)'}`);
      if (record.history.length > 0) io.out('history:');
      for (const h of record.history) io.out(`  ${h.changedAt.toISOString()}  ${h.kind.padEnd(22)} ${h.from} → ${h.to} via ${h.via}${h.actorId ? ` by ${h.actorId}` : ''}${h.noticeVersion ? ` (notice ${h.noticeVersion})` : ''}`);
    });

  preferences
    .command('set')
    .description('opt an address in or out (recorded as done by an administrator; an objection to marketing cannot be overridden)')
    .requiredOption('--email <address>', 'the person')
    .addOption(new Option('--marketing <on|off>', 'marketing email (off records an objection)').argParser(onOff('--marketing')))
    .addOption(new Option('--product-updates <on|off>', 'product update email').argParser(onOff('--product-updates')))
    .addOption(new Option('--subprocessor-changes <on|off>', 'sub-processor change alerts').argParser(onOff('--subprocessor-changes')))
    .option('--json', 'print JSON')
    .action(async (opts: { email: string; marketing?: boolean; productUpdates?: boolean; subprocessorChanges?: boolean; json?: boolean }) => {
      const changes: Partial<Record<CommunicationKind, boolean>> = {
        ...(opts.marketing !== undefined ? { marketing: opts.marketing } : {}),
        ...(opts.productUpdates !== undefined ? { product_updates: opts.productUpdates } : {}),
        ...(opts.subprocessorChanges !== undefined ? { subprocessor_changes: opts.subprocessorChanges } : {}),
      };
      if (Object.keys(changes).length === 0) throw errors.invalid('nothing_to_change', 'name at least one of --marketing, --product-updates, --subprocessor-changes with on or off');
      const record = await withRuntime((rt) => rt.consent.preferences.update(opts.email, changes, { via: 'administrator' }, operatorActor()));
      if (opts.json) return print(io, record, true);
      for (const p of record.preferences) io.out(`${p.kind.padEnd(22)} ${p.state}`);
    });

  privacy
    .command('subscribers')
    .description('who receives an optional kind of email now')
    .addCommand(
      new Command('list')
        .description('list current subscribers (opted in and not restricted) and the number of unconfirmed requests')
        .addOption(new Option('--kind <kind>', 'kind of email').choices([...COMMUNICATION_KINDS]).default('subprocessor_changes'))
        .option('--json', 'print JSON')
        .action(async (opts: { kind: string; json?: boolean }) => {
          const kind = requireKind(opts.kind, '--kind');
          const [subscribers, pending] = await withRuntime(async (rt) => [await rt.consent.preferences.subscribers(kind), await rt.consent.preferences.pendingConfirmations(kind)] as const);
          if (opts.json) return print(io, { kind, subscribers, pendingConfirmations: pending }, true);
          for (const s of subscribers) io.out(`${s.email}  since ${s.since.toISOString()} via ${s.via}`);
          io.err(`${subscribers.length} subscriber(s) to ${kind}; ${pending} unconfirmed request(s)`);
        }),
    );
}
