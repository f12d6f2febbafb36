// `sealpost tenant create|list`: organisations and their home region. Tenants own users (see
// user.command.ts), keys, Content and audit chains.
import { Command, Option } from 'commander';
import { createTenant, listTenants } from '../../accounts/tenant.repository.ts';
import { appendAuditEvent } from '../../audit/audit.service.ts';
import { REGIONS, regionNotServed, type Region } from '../../shared/regions.ts';
import { type CliIo, print, withRuntime } from '../context.ts';
import { operatorActor } from './operator.ts';

export function registerTenantCommands(program: Command, io: CliIo): void {
  const tenant = program.command('tenant').description('manage tenants (customer organisations)');

  tenant
    .command('create')
    .description('create a tenant; its Content is stored and keyed in its home region')
    .requiredOption('--name <name>', 'organisation name (1 to 200 characters)')
    .addOption(new Option('--region <region>', 'home region').choices(REGIONS).makeOptionMandatory())
    .option('--json', 'print JSON')
    .action(async (opts: { name: string; region: Region; json?: boolean }) => {
      const created = await withRuntime((rt) => {
        // Residency: a tenant whose region has no store and root key here could hold no Content.
        if (!rt.content.servesRegion(opts.region)) throw regionNotServed(opts.region, rt.content.regions);
        return rt.db.transaction(async (tx) => {
          const t = await createTenant(tx, { name: opts.name, region: opts.region });
          await appendAuditEvent(tx, { tenantId: t.id, actor: operatorActor(), action: 'tenant.created', target: { type: 'tenant', id: t.id }, outcome: 'success', details: { region: t.region } });
          return t;
        });
      });
      print(io, created, opts.json);
    });

  tenant
    .command('list')
    .description('list tenants')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const tenants = await withRuntime((rt) => listTenants(rt.db));
      if (!opts.json && tenants.length === 0) io.out('No tenants yet. Create one with: sealpost tenant create --name <name> --region <uk|eea|us>');
      else print(io, tenants, opts.json);
    });
}
