// `sealpost domains add|verify|list|remove --tenant <id>` (the operator's side of verified
// domains; administrators use /api/v1/tenant/domains) and `sealpost domains transfers|run-transfers`.
import type { Command } from 'commander';
import type { Runtime } from '../../runtime/runtime.ts';
import { createDomains, type Domains } from '../../tenants/domains/domains.ts';
import { type CliIo, print, withRuntime } from '../context.ts';
import { operatorActor } from './operator.ts';

function domainsOf(rt: Runtime): Domains {
  return createDomains({ db: rt.db, keys: rt.keys, content: rt.content, mailer: rt.mailer, publicUrl: rt.config.publicUrl, dnsServers: rt.config.dnsServers });
}

/** Registers `sealpost domains …`. */
export function registerDomainCommands(program: Command, io: CliIo): void {
  const d = program.command('domains').description("a tenant's verified domains (DNS TXT record) and the transfer of free accounts on them into the tenant");
  d.command('add <domain>')
    .description('claim a domain for a tenant and print the TXT record to publish')
    .requiredOption('--tenant <id>', 'tenant id')
    .option('--json', 'print JSON')
    .action(async (domain: string, o: { tenant: string; json?: boolean }) => print(io, await withRuntime((rt) => domainsOf(rt).domains.add(operatorActor(), o.tenant, domain)), o.json));
  d.command('verify <domain>')
    .description('look the TXT record up; when verified, free accounts on the domain are offered for transfer (each is emailed a notice)')
    .requiredOption('--tenant <id>', 'tenant id')
    .option('--json', 'print JSON')
    .action(async (domain: string, o: { tenant: string; json?: boolean }) => {
      const r = await withRuntime((rt) => domainsOf(rt).domains.verify(operatorActor(), o.tenant, domain));
      if (o.json) return print(io, r, true);
      io.out(r.verified ? `${r.domain.domain} verified; ${r.offers} free account(s) offered for transfer` : `${r.domain.domain} not verified: ${r.domain.lastError}`);
      if (!r.verified) process.exitCode = 1;
    });
  d.command('list')
    .requiredOption('--tenant <id>', 'tenant id')
    .option('--json', 'print JSON')
    .action(async (o: { tenant: string; json?: boolean }) => print(io, await withRuntime((rt) => domainsOf(rt).domains.list(o.tenant)), o.json));
  d.command('remove <domain>')
    .description('release a domain; open transfer offers made because of it are cancelled')
    .requiredOption('--tenant <id>', 'tenant id')
    .action(async (domain: string, o: { tenant: string }) => withRuntime((rt) => domainsOf(rt).domains.remove(operatorActor(), o.tenant, domain)));
  d.command('transfers')
    .description('transfers into a tenant (offered, completed, cancelled)')
    .requiredOption('--tenant <id>', 'tenant id')
    .option('--json', 'print JSON')
    .action(async (o: { tenant: string; json?: boolean }) => print(io, await withRuntime((rt) => domainsOf(rt).transfers.listInto(o.tenant)), o.json));
  d.command('run-transfers')
    .description('complete every transfer whose notice period has ended (the server also does this with a scheduled job)')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const done = await withRuntime((rt) => domainsOf(rt).transfers.completeDue());
      if (o.json) return print(io, done, true);
      io.out(`${done.length} transfer(s) completed`);
    });
}
