import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHeaders } from '../../test/support/mail.ts';
import { OutboxMailer, SmtpMailer } from './mailer.ts';

describe('OutboxMailer', () => {
  it('writes one complete .eml per message and nothing else', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sealpost-outbox-'));
    const mailer = new OutboxMailer(dir, 'sealpost@example.test');
    const { messageId } = await mailer.send({ to: 'alice@example.test', subject: 'You have a secure message', text: 'Open: https://x.test/m/1' });
    const files = await fs.readdir(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/\.eml$/);
    const headers = parseHeaders(await fs.readFile(path.join(dir, files[0]!)));
    expect(headers.subject).toBe('You have a secure message');
    expect(headers['message-id']).toBe(messageId);
    expect(headers.to).toBe('alice@example.test');
    await fs.rm(dir, { recursive: true });
  });

  it('creates the folder on first use, and again if it was removed since', async () => {
    const parent = await fs.mkdtemp(path.join(os.tmpdir(), 'sealpost-outbox-'));
    const dir = path.join(parent, 'outbox');
    const mailer = new OutboxMailer(dir, 'sealpost@example.test');
    await mailer.send({ to: 'alice@example.test', subject: 'first', text: 'one' });
    await fs.rm(dir, { recursive: true });
    await mailer.send({ to: 'alice@example.test', subject: 'second', text: 'two' });
    const files = await fs.readdir(dir);
    expect(files).toHaveLength(1);
    expect(parseHeaders(await fs.readFile(path.join(dir, files[0]!))).subject).toBe('second');
    await fs.rm(parent, { recursive: true });
  });
});

describe('SmtpMailer', () => {
  const received: Array<{ from: string; to: string[]; raw: Buffer }> = [];
  let server: SMTPServer;
  let port = 0;

  beforeAll(async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks) });
          cb();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.server.address() as { port: number }).port;
  });

  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  it('delivers to a real SMTP server', async () => {
    const mailer = new SmtpMailer(`smtp://127.0.0.1:${port}`, 'sealpost@example.test');
    await mailer.check();
    await mailer.send({ to: 'bob@example.test', subject: 'Hello', text: 'link only' });
    await mailer.close();
    expect(received).toHaveLength(1);
    expect(received[0]!.to).toEqual(['bob@example.test']);
    expect(parseHeaders(received[0]!.raw).subject).toBe('Hello');
  });

  it('reports an unreachable relay as unavailable', async () => {
    const mailer = new SmtpMailer('smtp://127.0.0.1:1', 'sealpost@example.test');
    await expect(mailer.send({ to: 'x@example.test', subject: 's', text: 't' })).rejects.toMatchObject({ code: 'smtp_send_failed', kind: 'unavailable' });
  });
});
