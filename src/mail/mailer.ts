// Outbound mail. On embedded defaults messages are written to an outbox folder as .eml
// files (open them with any mail client); with SMTP_URL they go to a real relay. Either way
// the message is built by nodemailer, so what lands in the outbox is what SMTP would send.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import { randomToken } from '../crypto/keys.ts';
import { errors } from '../shared/app-error.ts';

/** An outbound message. Notification mail carries links, never Content. */
export interface OutboundMail {
  to: string;
  subject: string;
  text: string;
  html?: string;
  headers?: Record<string, string>;
  /** Images the HTML part shows by `cid:` (a tenant's logo); never Content. */
  inlineImages?: Array<{ cid: string; filename: string; contentType: string; content: Buffer }>;
}

/** Sends mail; resolves with the Message-ID once the relay (or outbox) has accepted it. */
export interface Mailer {
  readonly kind: 'outbox' | 'smtp';
  send(mail: OutboundMail): Promise<{ messageId: string }>;
  check(): Promise<void>;
  close(): Promise<void>;
}

/** Writes each message atomically as `<time>-<random>.eml` into a folder. */
export class OutboxMailer implements Mailer {
  readonly kind = 'outbox' as const;
  private readonly transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });

  /** The folder was created (or found) once: later messages skip the mkdir. */
  private ready = false;

  constructor(
    private readonly dir: string,
    private readonly from: string,
  ) {}

  async send(mail: OutboundMail): Promise<{ messageId: string }> {
    const info = await this.transport.sendMail(toNodemailer(this.from, mail));
    const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomToken(6)}.eml`;
    const tmp = path.join(this.dir, `.${name}.tmp`);
    const create = () => fs.open(tmp, 'wx', 0o600);
    if (!this.ready) await this.check();
    const handle = await create().catch(async (err: unknown) => {
      // The folder was removed since: create it again, once.
      if ((err as { code?: string }).code !== 'ENOENT') throw err;
      await this.check();
      return create();
    });
    try {
      await handle.writeFile(info.message as Buffer);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, path.join(this.dir, name));
    return { messageId: info.messageId };
  }

  async check(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    this.ready = true;
  }

  async close(): Promise<void> {}
}

/** Sends through an SMTP relay given as smtp:// or smtps:// URL. */
export class SmtpMailer implements Mailer {
  readonly kind = 'smtp' as const;
  private readonly transport: Transporter;

  constructor(url: string, private readonly from: string) {
    this.transport = nodemailer.createTransport(url);
  }

  async send(mail: OutboundMail): Promise<{ messageId: string }> {
    try {
      const info = await this.transport.sendMail(toNodemailer(this.from, mail));
      return { messageId: info.messageId };
    } catch (err) {
      throw errors.unavailable('smtp_send_failed', `the mail relay did not accept the message: ${(err as Error).message}`, err);
    }
  }

  async check(): Promise<void> {
    try {
      await this.transport.verify();
    } catch (err) {
      throw errors.unavailable('smtp_unavailable', 'the mail relay cannot be reached', err);
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

function toNodemailer(from: string, mail: OutboundMail): SendMailOptions {
  const { inlineImages, ...rest } = mail;
  return { from, ...rest, ...(inlineImages?.length ? { attachments: inlineImages.map((i) => ({ ...i, contentDisposition: 'inline' as const })) } : {}) };
}
