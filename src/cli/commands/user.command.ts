// `sealpost user add|list|sign-in-link` (administration, run with the server's environment)
// and `sealpost login|logout` (a client of a running server: creates a personal API token with
// email and password and keeps it in the credentials file).
import os from 'node:os';
import { Command, Option } from 'commander';
import type { InvitedUser } from '../../accounts/user.service.ts';
import { ROLES, type Role, type User } from '../../accounts/account.model.ts';
import { getTenant } from '../../accounts/tenant.repository.ts';
import { AppError, errors } from '../../shared/app-error.ts';
import { callApi } from '../api-client.ts';
import { type CliIo, print, withRuntime } from '../context.ts';
import { credentialsPath, deleteCredentials, readCredentials, writeCredentials } from '../credentials.ts';
import { promptSecret } from '../prompt.ts';
import { operatorActor } from './operator.ts';

export function registerUserCommands(program: Command, io: CliIo): void {
  const user = program.command('user').description("manage an organisation's users (run with the server's environment)");

  user
    .command('add')
    .description('create a user and print a one-time sign-in link to hand them (valid 24 hours)')
    .requiredOption('--tenant <id>', 'tenant id')
    .requiredOption('--email <email>', 'sign-in email address (unique across the installation)')
    .requiredOption('--name <name>', 'display name')
    .addOption(new Option('--role <role>', 'role').choices(ROLES.filter((r) => r !== 'disabled')).makeOptionMandatory())
    .option('--json', 'print JSON')
    .action(async (opts: { tenant: string; email: string; name: string; role: Role; json?: boolean }) => {
      const invited = await withRuntime(async (rt) => {
        await getTenant(rt.db, opts.tenant);
        return rt.accounts.users.create(operatorActor(), { tenantId: opts.tenant, email: opts.email, displayName: opts.name, role: opts.role });
      });
      printInvited(io, invited, opts.json, `Created ${invited.user.email} (${invited.user.role}).`);
    });

  user
    .command('list')
    .description("list a tenant's users")
    .requiredOption('--tenant <id>', 'tenant id')
    .option('--json', 'print JSON')
    .action(async (opts: { tenant: string; json?: boolean }) => {
      const users = await withRuntime(async (rt) => {
        await getTenant(rt.db, opts.tenant);
        return rt.accounts.users.list(opts.tenant);
      });
      if (!opts.json && users.length === 0) io.out('This tenant has no users yet. Add one with: sealpost user add --tenant <id> --email <email> --name <name> --role administrator');
      else print(io, users.map(presentUser), opts.json);
    });

  user
    .command('sign-in-link')
    .description('issue a new one-time sign-in link for a user (lost invitation, forgotten password); earlier links stop working')
    .requiredOption('--email <email>', "the user's email address")
    .option('--json', 'print JSON')
    .action(async (opts: { email: string; json?: boolean }) => {
      const invited = await withRuntime(async (rt) => {
        const u = await rt.accounts.users.getByEmail(opts.email);
        return { user: u, signInLink: await rt.accounts.users.issueSignInLink(operatorActor(), u.tenantId, u.id) };
      });
      printInvited(io, invited, opts.json, `New sign-in link for ${invited.user.email}.`);
    });

  program
    .command('login')
    .description('sign in to a Sealpost server and keep a personal API token for the other commands')
    .option('--server <url>', 'the server, e.g. https://sealpost.example.org')
    .option('--email <email>', 'your sign-in email address')
    .option('--link <url>', 'a one-time sign-in link (first start, invitation): choose a password and sign in with it')
    .option('--name <name>', 'name of the API token (default: "sealpost CLI on <host name>")')
    .option('--allow-http', 'allow a plain http:// server that is not on this machine (sends your password unencrypted)')
    .option('--json', 'print JSON')
    .action(async (opts: { server?: string; email?: string; link?: string; name?: string; allowHttp?: boolean; json?: boolean }) => {
      let server: string;
      let email: string;
      // SEALPOST_PASSWORD is for scripts; people are prompted, without echo.
      let password: string;
      if (opts.link) {
        const link = new URL(opts.link);
        server = parseServerUrl(opts.server ?? link.origin, opts.allowHttp === true);
        const token = link.hash.replace(/^#(token=)?/, '');
        if (!token) throw errors.invalid('invalid_sign_in_link', 'the sign-in link has no token after #');
        // Redeem the link for a short session, choose a password in it, then sign in with it.
        const redeemed = await fetch(`${server}/api/v1/auth/sign-in-links/redeem`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }), redirect: 'error' });
        const body = (await redeemed.json().catch(() => ({}))) as { csrfToken?: string; user?: { email: string }; error?: { code: string; message: string } };
        if (!redeemed.ok || !body.csrfToken || !body.user) throw new AppError('invalid', body.error?.code ?? 'sign_in_link_failed', body.error?.message ?? `the server answered ${redeemed.status}`);
        const cookie = (redeemed.headers.get('set-cookie') ?? '').split(';')[0]!;
        email = body.user.email;
        password = process.env.SEALPOST_PASSWORD ?? (await promptSecret(`Choose a password for ${email} (at least 12 characters): `));
        const set = await fetch(`${server}/api/v1/auth/password`, { method: 'POST', headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': body.csrfToken }, body: JSON.stringify({ newPassword: password }), redirect: 'error' });
        if (!set.ok) {
          const e = ((await set.json().catch(() => ({}))) as { error?: { code: string; message: string } }).error;
          throw new AppError('invalid', e?.code ?? 'password_not_set', `${e?.message ?? `the server answered ${set.status}`}; ask for a new sign-in link (sealpost user sign-in-link) and try again`);
        }
      } else {
        if (!opts.server || !opts.email) throw errors.invalid('login_target_required', 'give --server and --email, or --link with a one-time sign-in link');
        server = parseServerUrl(opts.server, opts.allowHttp === true);
        email = opts.email;
        password = process.env.SEALPOST_PASSWORD ?? (await promptSecret(`Password for ${email} at ${server}: `));
      }
      if (password === '') throw errors.invalid('password_required', 'no password given');
      const created = await callApi<{ token: string; prefix: string; expiresAt: string; user: { email: string; role: string } }>(server, 'POST', '/api/v1/auth/tokens', {
        body: { email, password, name: opts.name ?? `sealpost CLI on ${os.hostname()}`.slice(0, 100) },
      });
      const file = await writeCredentials({ server, token: created.token, email: created.user.email });
      const summary = { server, email: created.user.email, role: created.user.role, tokenPrefix: created.prefix, expiresAt: created.expiresAt, credentialsFile: file };
      if (opts.json) print(io, summary, true);
      else io.out(`Signed in to ${server} as ${created.user.email} (${created.user.role}). Token ${created.prefix}… saved in ${file}; it expires ${created.expiresAt}.`);
    });

  program
    .command('logout')
    .description('revoke the stored API token on its server and delete the credentials file')
    .action(async () => {
      const stored = await readCredentials();
      if (!stored) {
        io.out(`Not signed in (no ${credentialsPath()}).`);
        return;
      }
      let revokeError: AppError | undefined;
      try {
        await callApi(stored.server, 'POST', '/api/v1/auth/logout', { token: stored.token });
      } catch (err) {
        // Already revoked or expired: the token is dead either way.
        if (!(err instanceof AppError && err.kind === 'unauthenticated')) revokeError = err instanceof AppError ? err : errors.unavailable('logout_failed', String(err));
      }
      // The local copy goes in any case: keeping a token the user asked to forget helps nobody.
      await deleteCredentials();
      if (revokeError) {
        throw new AppError(revokeError.kind, revokeError.code, `deleted ${credentialsPath()}, but the token could not be revoked on ${stored.server} (${revokeError.message}); revoke it there under your API tokens`);
      }
      io.out(`Signed out of ${stored.server}; the token was revoked and ${credentialsPath()} deleted.`);
    });
}

function presentUser(u: User) {
  return { id: u.id, email: u.email, displayName: u.displayName, role: u.role, hasPassword: u.hasPassword, createdAt: u.createdAt };
}

function printInvited(io: CliIo, invited: InvitedUser, json: boolean | undefined, headline: string): void {
  if (json) {
    print(io, { user: presentUser(invited.user), signInLink: invited.signInLink }, true);
    return;
  }
  io.out(headline);
  io.out(`One-time sign-in link (works once, until ${invited.signInLink.expiresAt.toISOString()}):`);
  io.out(`  ${invited.signInLink.url}`);
}

// A password sent over plain http can be read by anyone on the path; loopback never leaves the machine.
function parseServerUrl(value: string, allowHttp: boolean): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw errors.invalid('invalid_server_url', `--server must be a URL such as https://sealpost.example.org, not "${value}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw errors.invalid('invalid_server_url', '--server must start with https:// (or http:// for this machine)');
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) || url.hostname.startsWith('127.');
  if (url.protocol === 'http:' && !loopback && !allowHttp) {
    throw errors.invalid('insecure_server_url', `${url.origin} is not https: your password would cross the network unencrypted. Use https://, or --allow-http if you really mean it`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
