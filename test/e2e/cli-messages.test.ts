// End to end: sending and reading with the `sealpost` CLI as people use it — child processes
// against the real server, mail through a real SMTP sink, the code typed on standard input.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLI_TEST_TIMEOUT_MS } from '../support/cli-timeouts.ts';
import { createTenant } from '../../src/accounts/tenant.repository.ts';
import { loadConfig } from '../../src/config/config.ts';
import { startServer, type RunningServer } from '../../src/runtime/server.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { freePort } from '../support/e2e.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';
import { sealpost } from '../support/cli.ts';

vi.setConfig({ testTimeout: CLI_TEST_TIMEOUT_MS });

describe('sealpost send and read (CLI)', () => {
  let dir: string;
  let server: RunningServer;
  let smtp: SmtpSink;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'sealpost-cli-msg-'));
    smtp = await startSmtpSink();
    const port = await freePort();
    server = await startServer(loadConfig({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, DATA_DIR: path.join(dir, 'data'), SMTP_URL: smtp.url }), { logger: createLogger('silent') });
    env = { HOME: dir, XDG_CONFIG_HOME: path.join(dir, 'config') };
  });

  afterAll(async () => {
    await server?.close();
    await smtp?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('does sign in with a one-time link, send with an attachment, and let the recipient read and save it byte for byte', async () => {
    const tenant = await createTenant(server.runtime.db, { name: 'CLI Co', region: 'uk' });
    const invited = await server.runtime.accounts.users.create({ type: 'operator', id: 'test' }, { tenantId: tenant.id, email: 'sam@cli.example', displayName: 'Sam', role: 'author' });
    const login = await sealpost(['login', '--link', invited.signInLink.url], { ...env, SEALPOST_PASSWORD: 'a perfectly long password' });
    expect(login.stderr).toBe('');
    expect(login.stdout).toContain('Signed in');
    const credentials = path.join(dir, 'config', 'sealpost', 'credentials.json');
    expect(JSON.parse(await readFile(credentials, 'utf8'))).toMatchObject({ email: 'sam@cli.example' });

    const attachment = path.join(dir, 'report.pdf');
    const bytes = randomBytes(700_000);
    await writeFile(attachment, bytes);
    const bodyFile = path.join(dir, 'body.txt');
    await writeFile(bodyFile, 'Dear Rita,\nthe report is attached.\n');
    const sent = await sealpost(['send', '--to', 'rita@partner.example', '--subject', 'Annual report', '--body-file', bodyFile, '--attach', attachment, '--label', 'confidential', '--json'], env);
    // Not a terminal: the send goes ahead under the default nudge policy, and the pre-send
    // check's finding (rita is new to this organisation) is shown on stderr, not swallowed.
    expect(sent.stderr).toMatch(/^Pre-send check:\n/);
    expect(sent.stderr).toContain('rita@partner.example');
    const message = JSON.parse(sent.stdout) as { id: string; attachments: Array<{ filename: string; size: number }> };
    expect(message.attachments).toEqual([expect.objectContaining({ filename: 'report.pdf', size: bytes.length })]);

    const note = await smtp.waitFor((m) => m.to.includes('rita@partner.example') && m.text.includes('/open#'));
    const link = /(http:\/\/\S+\/open#[A-Za-z0-9_-]{43})/.exec(note.text)![1]!;
    const out = path.join(dir, 'rita');
    await import('node:fs/promises').then((fs) => fs.mkdir(out));
    const codesBefore = smtp.messages.length;
    let answered = false;
    const read = await sealpost(['read', link, '--out', out, '--json'], env, { onStderr: (stderr, stdin) => {
      if (answered || !stderr.includes('one-time code was sent')) return;
      answered = true;
      smtp.waitFor((m) => smtp.messages.indexOf(m) >= codesBefore && /code is (\d{6})/.test(m.text)).then((m) => stdin.end(`${/code is (\d{6})/.exec(m.text)![1]}\n`));
    } });
    expect(read.code).toBe(0);
    const result = JSON.parse(read.stdout) as { subject: string; text: string; from: string; saved: string[] };
    expect(result).toMatchObject({ subject: 'Annual report', text: 'Dear Rita,\nthe report is attached.\n', from: 'sam@cli.example' });
    expect(Buffer.compare(await readFile(path.join(out, 'report.pdf')), bytes)).toBe(0);

    const status = JSON.parse((await sealpost(['status', message.id, '--json'], env)).stdout) as { recipients: Array<{ status: string }> };
    expect(status.recipients[0]!.status).toBe('opened');

    const revoked = await sealpost(['revoke', message.id, '--json'], env);
    expect(JSON.parse(revoked.stdout).revokedAt).not.toBeNull();
    let answeredAgain = false;
    const codesBefore2 = smtp.messages.length;
    const refused = await sealpost(['read', link], env, { onStderr: (stderr, stdin) => {
      if (answeredAgain || !stderr.includes('one-time code was sent')) return;
      answeredAgain = true;
      smtp.waitFor((m) => smtp.messages.indexOf(m) >= codesBefore2 && /code is (\d{6})/.test(m.text)).then((m) => stdin.end(`${/code is (\d{6})/.exec(m.text)![1]}\n`));
    } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('error (message_revoked)');

    const trail = await sealpost(['trail', message.id], env);
    expect(trail.stdout).toMatch(/message\.keys_released\s+denied\s+rita@partner\.example/);
    // `sealpost audit <id>`, as the issue names it, is the same trail.
    expect((await sealpost(['audit', message.id], env)).stdout).toBe(trail.stdout);
  });

  it('does make the recipient accept the disclaimer of a restricted message and not save its attachments (no-download)', async () => {
    const attachment = path.join(dir, 'secret.txt');
    await writeFile(attachment, 'for your eyes only');
    const sent = await sealpost(['send', '--to', 'vic@partner.example', '--subject', 'Restricted pack', '--body', 'See attachment.', '--attach', attachment, '--label', 'restricted', '--json'], env);
    expect(sent.stderr).toBe('');
    const note = await smtp.waitFor((m) => m.to.includes('vic@partner.example') && m.text.includes('/open#'));
    expect(note.text).not.toContain('Restricted pack');
    const link = /(http:\/\/\S+\/open#[A-Za-z0-9_-]{43})/.exec(note.text)![1]!;
    const out = path.join(dir, 'vic');
    await import('node:fs/promises').then((fs) => fs.mkdir(out));
    const codesBefore = smtp.messages.length;
    let answered = false;
    const read = await sealpost(['read', link, '--out', out, '--accept-disclaimer'], env, { onStderr: (stderr, stdin) => {
      if (answered || !stderr.includes('one-time code was sent')) return;
      answered = true;
      smtp.waitFor((m) => smtp.messages.indexOf(m) >= codesBefore && /code is (\d{6})/.test(m.text)).then((m) => stdin.end(`${/code is (\d{6})/.exec(m.text)![1]}\n`));
    } });
    expect(read.code).toBe(0);
    expect(read.stderr).toContain('restricted information');
    expect(read.stderr).toContain('can only be viewed in the Sealpost portal');
    expect(read.stdout).toContain('Subject: Restricted pack');
    expect(await import('node:fs/promises').then((fs) => fs.readdir(out))).toEqual([]);
  });

  it('does refuse commands that need a sign-in when there is none, with one clear line', async () => {
    const res = await sealpost(['sent'], { HOME: dir, XDG_CONFIG_HOME: path.join(dir, 'nobody') });
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toBe('error (not_signed_in): sign in first: sealpost login --server <url> --email <address>');
  });
});
