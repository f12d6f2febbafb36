// Storage-tier harness for the secure-messages capability: the real services on a test
// database, a mailer that keeps mail in memory, a job runner to deliver notifications on demand,
// a settable clock and fixed one-time codes.
import { Readable } from 'node:stream';
import { createClientKeyPair, openKeyRelease } from '../../src/crypto/node/key-release.ts';
import { openBuffer } from '../../src/crypto/node/sealed-stream.ts';
import { JobRunner } from '../../src/jobs/job.runner.ts';
import type { Mailer, OutboundMail } from '../../src/mail/mailer.ts';
import { decodeEnvelope, type Envelope } from '../../src/messages/envelope.ts';
import type { Draft, Sender } from '../../src/messages/message.service.ts';
import { createMessaging, type Messaging } from '../../src/messages/messaging.ts';
import { createLogger } from '../../src/shared/logger.ts';
import type { Database, Sql } from '../../src/storage/database/database.ts';
import { buildContentStack, buildTenant, type ContentStack } from './factories.ts';

/** Keeps every mail it is given. */
export class MemoryMailer implements Mailer {
  readonly kind = 'outbox' as const;
  readonly sent: OutboundMail[] = [];
  async send(mail: OutboundMail): Promise<{ messageId: string }> {
    this.sent.push(mail);
    return { messageId: `<${this.sent.length}@test>` };
  }
  async check(): Promise<void> {}
  async close(): Promise<void> {}
  /** Mail sent to `address`, oldest first. */
  to(address: string): OutboundMail[] {
    return this.sent.filter((m) => m.to === address);
  }
}

/** Inserts an author user of the tenant. */
export async function buildUser(sql: Sql, tenantId: string, email: string): Promise<Sender> {
  const id = crypto.randomUUID();
  await sql.query(`INSERT INTO users (id, tenant_id, email, display_name, role, created_at, updated_at) VALUES ($1, $2, $3, $4, 'author', now(), now())`, [id, tenantId, email, email.split('@')[0]]);
  return { tenantId, userId: id, email };
}

/** The link token in a notification text. */
export function linkIn(text: string): string | undefined {
  return /\/open#([A-Za-z0-9_-]{43})/.exec(text)?.[1];
}

export interface MessagingHarness {
  messaging: Messaging;
  mailer: MemoryMailer;
  stack: ContentStack;
  /** Runs every due job (notifications). */
  deliver(): Promise<void>;
  /** The clock the services read; tests may move it. */
  clock: { now: Date };
  /** The code the next code email will carry. */
  code: { next: string };
  /** A fresh tenant with one author; `tag` keeps addresses apart between tests. */
  sender(tag: string): Promise<Sender>;
  /** Sends and delivers the notifications. */
  send(sender: Sender, draft: Partial<Draft> & Pick<Draft, 'to'>): ReturnType<Messaging['messages']['send']>;
  /** The newest notification link mailed to `address`. */
  linkFor(address: string): string;
  /** Link → code → recipient session. */
  verify(link: string): Promise<string>;
  /** Opens and decrypts the message of a session, as a client would. */
  read(session: string): Promise<{ opened: Awaited<ReturnType<Messaging['access']['open']>>; envelope: Envelope; files: Map<string, Buffer> }>;
  cleanup(): Promise<void>;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Builds the harness on `db` (call in beforeAll). */
export async function buildMessagingHarness(db: Database): Promise<MessagingHarness> {
  const stack = await buildContentStack(db);
  const mailer = new MemoryMailer();
  const clock = { now: new Date() };
  const code = { next: '123456' };
  const messaging = createMessaging({ db, content: stack.content, keys: stack.keys, mailer, publicUrl: 'https://sealpost.example', clock: () => clock.now, generateCode: () => code.next });
  const runner = new JobRunner(db, messaging.jobs, createLogger('silent'));
  let ipCounter = 0;
  const h: MessagingHarness = {
    messaging,
    mailer,
    stack,
    clock,
    code,
    async deliver() {
      while ((await runner.runDue()) > 0) {
        // until nothing is due
      }
    },
    async sender(tag) {
      const tenant = await buildTenant(db);
      return buildUser(db, tenant.id, `${tag}-${tenant.id.slice(0, 8)}@acme.example`);
    },
    async send(sender, draft) {
      const sent = await messaging.messages.send(sender, { subject: 'Quarterly figures', text: 'See attached.', ...draft });
      await h.deliver();
      return sent;
    },
    linkFor(address) {
      const link = mailer.to(address).map((m) => linkIn(m.text)).filter((l): l is string => l !== undefined).at(-1);
      if (!link) throw new Error(`no notification for ${address}`);
      return link;
    },
    async verify(link) {
      // A new address each time, so a file's many verifications stay under the per-IP limits.
      const ip = `198.51.100.${(ipCounter = (ipCounter % 250) + 1)}`;
      await messaging.access.requestCode(link, { ip });
      return (await messaging.access.verifyCode(link, code.next, { ip })).sessionToken;
    },
    async read(session) {
      const pair = createClientKeyPair();
      const opened = await messaging.access.open(session, pair.publicKey);
      const keys = openKeyRelease(pair, opened.keyRelease);
      const get = async (objectId: string) => {
        const k = keys.get(objectId)!;
        return openBuffer(k.dataKey, await readAll((await messaging.access.sealedObject(session, objectId, undefined)).stream), { objectId, keyId: k.keyId });
      };
      const envelope = decodeEnvelope(await get(opened.message.envelopeObjectId));
      const files = new Map<string, Buffer>();
      for (const a of envelope.attachments) files.set(a.filename, await get(a.objectId));
      return { opened, envelope, files };
    },
    cleanup: () => stack.cleanup(),
  };
  return h;
}

/** A readable of `bytes`, for uploads. */
export function sourceOf(bytes: Buffer): { length: number; source: Readable } {
  return { length: bytes.length, source: Readable.from([bytes]) };
}
