// End to end: the accounts commands of the `sealpost` binary as child processes — `user add`
// and `user list` against the data directory, `login`/`logout` against a running server, and
// the first start of `sealpost serve` on embedded defaults.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLI_COMMAND_TIMEOUT_MS, CLI_TEST_TIMEOUT_MS } from '../support/cli-timeouts.ts';
import { loadConfig } from '../../src/config/config.ts';
import { startServer, type RunningServer } from '../../src/runtime/server.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { openDatabase } from '../../src/storage/database/open-database.ts';
import { SEALPOST_BIN as BIN, sealpost, type CliRun as Run } from '../support/cli.ts';

vi.setConfig({ testTimeout: CLI_TEST_TIMEOUT_MS });

/** Starts `sealpost serve`, waits until it says it is ready (and for the first-start block, if any), stops it with SIGTERM. */
async function serveOnce(env: Record<string, string>, whileRunning: (stdout: string) => Promise<void>): Promise<Run> {
  const child = spawn(process.execPath, [BIN, 'serve'], { env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), PORT: '0', ...env } });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not become ready:\n${stdout}\n${stderr}`)), CLI_COMMAND_TIMEOUT_MS);
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      // The first-start block ends with the "Lost it?" line; a later start prints only the ready line.
      if (/is ready at/.test(stdout) && (!/First start/.test(stdout) || /Lost it\?.*\n\n/.test(stdout))) {
        clearTimeout(timer);
        // Anything printed right after "ready" arrives within the same tick; give it a moment.
        setTimeout(resolve, 200);
      }
    });
    child.on('close', () => reject(new Error(`serve exited early:\n${stdout}\n${stderr}`)));
  });
  try {
    await whileRunning(stdout);
  } finally {
    child.kill('SIGTERM');
  }
  return { code: await exited, stdout, stderr };
}

const tokenOf = (text: string): string => /sign-in#token=([A-Za-z0-9_-]{43})/.exec(text)![1]!;

describe('sealpost user and login commands', () => {
  let dir: string;
  let dataDir: string;
  let configHome: string;
  let env: Record<string, string>;
  let tenantId: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'sealpost-cli-accounts-'));
    dataDir = path.join(dir, 'data');
    configHome = path.join(dir, 'config');
    env = { DATA_DIR: dataDir, XDG_CONFIG_HOME: configHome };
    tenantId = (JSON.parse((await sealpost(['tenant', 'create', '--name', 'Acme Ltd', '--region', 'uk', '--json'], env)).stdout) as { id: string }).id;
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('does add a user and print a one-time sign-in link, then list the tenant\'s users', async () => {
    const added = await sealpost(['user', 'add', '--tenant', tenantId, '--email', 'Alice@Example.org', '--name', 'Alice', '--role', 'administrator'], env);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(added.stdout).toContain('Created alice@example.org (administrator).');
    expect(added.stdout).toMatch(/^ {2}http:\/\/127\.0\.0\.1:8080\/sign-in#token=[A-Za-z0-9_-]{43}$/m);

    const json = await sealpost(['user', 'add', '--tenant', tenantId, '--email', 'bob@example.org', '--name', 'Bob', '--role', 'author', '--json'], env);
    expect(JSON.parse(json.stdout)).toMatchObject({ user: { email: 'bob@example.org', role: 'author', hasPassword: false }, signInLink: { url: expect.stringContaining('#token=') } });

    const listed = JSON.parse((await sealpost(['user', 'list', '--tenant', tenantId, '--json'], env)).stdout) as Array<{ email: string }>;
    expect(listed.map((u) => u.email)).toEqual(['alice@example.org', 'bob@example.org']);

    const dup = await sealpost(['user', 'add', '--tenant', tenantId, '--email', 'ALICE@example.org', '--name', 'A', '--role', 'author'], env);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/^error \(email_taken\): /);
    const badRole = await sealpost(['user', 'add', '--tenant', tenantId, '--email', 'c@example.org', '--name', 'C', '--role', 'disabled'], env);
    expect(badRole.code).toBe(1);

    // The link is stored only as a hash; the audit chain still verifies.
    const verified = await sealpost(['audit', 'verify', '--tenant', tenantId, '--json'], env);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true });
    const db = await openDatabase({ dataDir });
    try {
      const { rows } = await db.query('SELECT * FROM sign_in_links');
      expect(JSON.stringify(rows, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64url') : v))).not.toContain(tokenOf(added.stdout));
    } finally {
      await db.close();
    }
  });

  describe('against a running server', () => {
    let server: RunningServer;
    let password: string;

    beforeAll(async () => {
      // A fresh link for Alice, then the server on the same data directory.
      const link = await sealpost(['user', 'sign-in-link', '--email', 'alice@example.org'], env);
      expect(link.code).toBe(0);
      server = await startServer(loadConfig({ PORT: '0', DATA_DIR: dataDir }), { logger: createLogger('silent') });
      const redeemed = await fetch(`${server.url}/api/v1/auth/sign-in-links/redeem`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: tokenOf(link.stdout) }) });
      expect(redeemed.status).toBe(200);
      const cookie = /sealpost_session=([^;]+)/.exec(redeemed.headers.get('set-cookie')!)![1]!;
      const { csrfToken } = (await redeemed.json()) as { csrfToken: string };
      password = 'a long and memorable passphrase';
      const set = await fetch(`${server.url}/api/v1/auth/password`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: `sealpost_session=${cookie}`, 'x-csrf-token': csrfToken },
        body: JSON.stringify({ newPassword: password }),
      });
      expect(set.status).toBe(204);
    });

    afterAll(async () => {
      await server?.close();
    });

    it('does log in with SEALPOST_PASSWORD, keep the token in an owner-only file, and log out revoking it', async () => {
      const login = await sealpost(['login', '--server', server.url, '--email', 'alice@example.org'], { ...env, SEALPOST_PASSWORD: password });
      expect(login.stderr).toBe('');
      expect(login.code).toBe(0);
      expect(login.stdout).toContain('Signed in to');
      expect(login.stdout).toContain('alice@example.org (administrator)');
      const file = path.join(configHome, 'sealpost', 'credentials.json');
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await stat(path.dirname(file))).mode & 0o077).toBe(0);
      const stored = JSON.parse(await readFile(file, 'utf8')) as { server: string; token: string };
      expect(stored.server).toBe(server.url);
      expect(stored.token).toMatch(/^sp_/);
      expect(login.stdout).not.toContain(stored.token);
      expect(login.stdout).not.toContain(password);

      const session = await fetch(`${server.url}/api/v1/auth/session`, { headers: { authorization: `Bearer ${stored.token}` } });
      expect(((await session.json()) as { user: { email: string } }).user.email).toBe('alice@example.org');

      const logout = await sealpost(['logout'], env);
      expect(logout.code).toBe(0);
      await expect(stat(file)).rejects.toThrow(/ENOENT/);
      const after = await fetch(`${server.url}/api/v1/auth/session`, { headers: { authorization: `Bearer ${stored.token}` } });
      expect(after.status).toBe(401);
      expect(((await after.json()) as { error: { code: string } }).error.code).toBe('token_revoked');

      const again = await sealpost(['logout'], env);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('Not signed in');
    });

    it('does read the password from a pipe when SEALPOST_PASSWORD is not set', async () => {
      const login = await sealpost(['login', '--server', server.url, '--email', 'alice@example.org', '--json'], env, { input: `${password}\n` });
      expect(login.code).toBe(0);
      expect(JSON.parse(login.stdout)).toMatchObject({ email: 'alice@example.org', tokenPrefix: expect.stringMatching(/^sp_/) });
      expect((await sealpost(['logout'], env)).code).toBe(0);
    });

    it('does refuse a wrong password with one clear line and store nothing', async () => {
      const login = await sealpost(['login', '--server', server.url, '--email', 'alice@example.org'], { ...env, SEALPOST_PASSWORD: 'not the right one' });
      expect(login.code).toBe(1);
      expect(login.stderr.trim()).toMatch(/^error \(invalid_credentials\): /);
      await expect(stat(path.join(configHome, 'sealpost', 'credentials.json'))).rejects.toThrow(/ENOENT/);
    });

    it('does refuse to send a password to a plain-http server on another machine', async () => {
      const login = await sealpost(['login', '--server', 'http://sealpost.example.org', '--email', 'alice@example.org'], { ...env, SEALPOST_PASSWORD: password });
      expect(login.code).toBe(1);
      expect(login.stderr).toMatch(/^error \(insecure_server_url\): /);
    });
  });
});

describe('sealpost serve first start', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'sealpost-first-start-'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('does create one organisation and administrator and print a sign-in link once, never again', async () => {
    const env = { DATA_DIR: dataDir, SEALPOST_TENANT_NAME: 'Riverside Surgery', SEALPOST_ADMIN_EMAIL: 'Practice.Manager@Riverside.example', LOG_LEVEL: 'warn' };
    const first = await serveOnce(env, async (stdout) => {
      const url = /is ready at (http:\/\/\S+)/.exec(stdout)![1]!;
      const redeemed = await fetch(`${url}/api/v1/auth/sign-in-links/redeem`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: tokenOf(stdout) }) });
      expect(redeemed.status).toBe(200);
      expect(await redeemed.json()).toMatchObject({ user: { email: 'practice.manager@riverside.example', role: 'administrator' }, passwordRequired: true });
    });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('First start: created the organisation "Riverside Surgery" (region uk) and its administrator practice.manager@riverside.example.');
    expect(first.stdout.match(/sign-in#token=/g)).toHaveLength(1);

    const second = await serveOnce(env, async () => {});
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('is ready at');
    expect(second.stdout).not.toContain('First start');
    expect(second.stdout).not.toContain('#token=');

    const db = await openDatabase({ dataDir });
    try {
      expect((await db.query('SELECT name, region FROM tenants')).rows).toEqual([{ name: 'Riverside Surgery', region: 'uk' }]);
      expect((await db.query('SELECT email, role FROM users')).rows).toEqual([{ email: 'practice.manager@riverside.example', role: 'administrator' }]);
      // The printed link was redeemed once; only its hash was ever stored.
      expect((await db.query('SELECT purpose FROM sign_in_links WHERE used_at IS NOT NULL')).rows).toEqual([{ purpose: 'first_start' }]);
    } finally {
      await db.close();
    }
  });
});
