// `sealpost keys …`: rotate a tenant's key-encryption key (data keys are re-wrapped, payloads
// untouched), rotate the root key, list KEKs, and crypto-shred a whole tenant.
import { Command, Option } from 'commander';
import { getTenant, listTenants } from '../../accounts/tenant.repository.ts';
import { LocalKeyProvider } from '../../crypto/local-key-provider.ts';
import { errors } from '../../shared/app-error.ts';
import { REGIONS, regionNotServed, type Region } from '../../shared/regions.ts';
import { type CliIo, print, withRuntime } from '../context.ts';

export function registerKeyCommands(program: Command, io: CliIo): void {
  const keys = program.command('keys').description('manage the key hierarchy (root key → tenant KEKs → data keys)');

  keys
    .command('list')
    .description('list a tenant\'s key-encryption keys (metadata only, never key material)')
    .requiredOption('--tenant <id>', 'tenant id')
    .option('--json', 'print JSON')
    .action(async (opts: { tenant: string; json?: boolean }) => {
      const list = await withRuntime(async (rt) => {
        await getTenant(rt.db, opts.tenant);
        return rt.keys.listKeks(opts.tenant);
      });
      if (!opts.json && list.length === 0) io.out('This tenant has no key-encryption keys yet (one is created when its first Content is sealed).');
      else print(io, list, opts.json);
    });

  keys
    .command('rotate')
    .description('make a new KEK version active for a tenant and re-wrap every data key under it, in batches')
    .requiredOption('--tenant <id>', 'tenant id')
    .addOption(new Option('--region <region>', 'region of the KEK (default: the tenant\'s home region)').choices(REGIONS))
    .option('--json', 'print JSON')
    .action(async (opts: { tenant: string; region?: Region; json?: boolean }) => {
      const report = await withRuntime(async (rt) => {
        const tenant = await getTenant(rt.db, opts.tenant);
        return rt.keys.rotateKek(tenant.id, opts.region ?? tenant.region);
      });
      print(io, report, opts.json);
    });

  keys
    .command('rotate-root')
    .description('add a new root key, make it active and re-wrap the KEKs under it (every served region, or one with --region)')
    .addOption(new Option('--region <region>', 'only this region\'s root key (default: every region the installation serves)').choices(REGIONS))
    .option('--json', 'print JSON')
    .action(async (opts: { region?: Region; json?: boolean }) => {
      const report = await withRuntime(async (rt) => {
        if (opts.region !== undefined && !rt.keyProviders.serves(opts.region)) throw regionNotServed(opts.region, rt.keyProviders.regions);
        const out = [];
        for (const [region, provider] of rt.keyProviders.entries()) {
          if (opts.region !== undefined && region !== opts.region) continue;
          if (!(provider instanceof LocalKeyProvider)) {
            throw errors.invalid('root_rotation_unsupported', `root keys of the ${provider.kind} provider are rotated in the provider itself`);
          }
          // Each region's KEKs move to that region's new root key only.
          const rootKeyId = await provider.rotate();
          let rewrapped = 0;
          for (const t of await listTenants(rt.db)) rewrapped += await rt.keys.rewrapKeksUnderActiveRoot(t.id, { region });
          out.push({ region, rootKeyId, rewrappedKeks: rewrapped });
        }
        // One region (served or asked for): one object, as this command always printed; several: a list.
        return out.length === 1 ? out[0] : out;
      });
      print(io, report, opts.json);
    });

  keys
    .command('destroy-tenant')
    .description('crypto-shred ALL Content of a tenant by destroying its KEKs; irreversible')
    .requiredOption('--tenant <id>', 'tenant id')
    .requiredOption('--confirm <name>', 'the tenant\'s exact name, to confirm')
    .option('--json', 'print JSON')
    .action(async (opts: { tenant: string; confirm: string; json?: boolean }) => {
      const report = await withRuntime(async (rt) => {
        const tenant = await getTenant(rt.db, opts.tenant);
        if (opts.confirm !== tenant.name) throw errors.invalid('confirmation_mismatch', 'the --confirm value must be the tenant\'s exact name; nothing was destroyed');
        return { tenantId: tenant.id, destroyedKeks: await rt.keys.destroyTenantKeys(tenant.id) };
      });
      print(io, report, opts.json);
    });
}
