// Shared harness for end-to-end tests over HTTP: the real server (PGlite, or an empty
// PostgreSQL database when TEST_DATABASE_URL is set) with mail to a real SMTP sink, a small
// JSON client, and the recipient's side of opening a message (code by email → session →
// released keys → local decryption), as the CLI and browser do it.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect, inject } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { createClientKeyPair, openKeyRelease } from '../../src/crypto/node/key-release.ts';
import { openBuffer } from '../../src/crypto/node/sealed-stream.ts';
import { decodeEnvelope } from '../../src/messages/envelope.ts';
import { startServer, type RunningServer } from '../../src/runtime/server.ts';
import { createLogger } from '../../src/shared/logger.ts';
import type { TestUser } from './api-users.ts';
import { createDatabase, databaseUrl, dropDatabase, randomHex } from './postgres-admin.ts';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from './smtp-sink.ts';

/** A free TCP port on 127.0.0.1 (so PUBLIC_URL can name it before the server starts). */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Database drivers the end-to-end suites run on in this process. */
export function e2eTargets(): Array<'pglite' | 'postgres'> {
  return inject('sealpostPostgres') ? ['pglite', 'postgres'] : ['pglite'];
}

/** A running server with its SMTP sink and data directory. */
export interface E2eServer {
  server: RunningServer;
  smtp: SmtpSink;
  dataDir: string;
  /** The environment it was started with (to start another process of the same installation). */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Starts the server on `target` with mail to a fresh SMTP sink; `env` adds variables. */
export async function startE2eServer(target: 'pglite' | 'postgres', label: string, env: Record<string, string> = {}): Promise<E2eServer> {
  const smtp = await startSmtpSink();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `sealpost-e2e-${label}-`));
  const port = await freePort();
  const vars: Record<string, string> = { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, DATA_DIR: dataDir, SMTP_URL: smtp.url, MAIL_FROM: 'sealpost@example.test', ...env };
  const postgres = inject('sealpostPostgres');
  let dbName: string | undefined;
  if (target === 'postgres' && postgres) {
    dbName = `${postgres.prefix}${randomHex(8)}`;
    await createDatabase(postgres.url, dbName, 'template0');
    vars.DATABASE_URL = databaseUrl(postgres.url, dbName);
  }
  const server = await startServer(loadConfig(vars), { logger: createLogger('silent') });
  return {
    server,
    smtp,
    dataDir,
    env: vars,
    async close() {
      await server.close();
      await smtp.close();
      await rm(dataDir, { recursive: true, force: true });
      if (dbName && postgres) await dropDatabase(postgres.url, dbName);
    },
  };
}

/** A JSON response as the tests read it. */
export interface ApiResponse {
  status: number;
  body: any;
  headers: Headers;
}

/** Calls the API as `user` (bearer token) or anonymously, with optional JSON body and headers. */
export function apiClient(server: () => RunningServer) {
  return async (user: TestUser | null, method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> => {
    const res = await fetch(`${server().url}${p}`, {
      method,
      headers: { ...(user ? { authorization: `Bearer ${user.token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  };
}

/** The link token in a notification's text. */
export const linkIn = (text: string): string | undefined => /\/open#([A-Za-z0-9_-]{43})/.exec(text)?.[1];
/** The one-time code in a code email's text. */
export const codeIn = (text: string): string | undefined => /code is (\d{6})/.exec(text)?.[1];

/** What a recipient got from opening a message: a refusal, or the decrypted envelope and files. */
export interface Decrypted {
  status: number;
  error?: string;
  message?: any;
  you?: any;
  envelope?: ReturnType<typeof decodeEnvelope>;
  files?: Array<{ filename: string; bytes: Buffer }>;
}

/** The recipient's side of the API, over one server and its SMTP sink. */
export function recipientClient(env: () => E2eServer) {
  const api = apiClient(() => env().server);
  const smtp = () => env().smtp;

  /** The first email to `address` that arrives after `since` (an index into smtp.messages) and matches. */
  const mailTo = (address: string, since: number, match: (m: ReceivedMail) => boolean = () => true) =>
    smtp().waitFor((m) => smtp().messages.indexOf(m) >= since && m.to.includes(address) && match(m));

  /** A link from a notification → code by email → recipient session token. */
  async function verify(address: string, link: string): Promise<string> {
    const before = smtp().messages.length;
    expect((await api(null, 'POST', '/api/v1/access/code', { link })).status).toBe(202);
    const code = codeIn((await mailTo(address, before, (m) => codeIn(m.text) !== undefined)).text)!;
    const verified = await api(null, 'POST', '/api/v1/access/verify', { link, code });
    expect(verified.status).toBe(200);
    return verified.body.sessionToken as string;
  }

  /** Releases the keys to a fresh client key pair and decrypts envelope and attachments locally. */
  async function decrypt(session: string): Promise<Decrypted> {
    const pair = createClientKeyPair();
    const opened = await api(null, 'POST', '/api/v1/access/open', { clientPublicKey: pair.publicKey }, { 'x-recipient-session': session });
    if (opened.status !== 200) return { status: opened.status, error: opened.body.error.code as string };
    const keys = openKeyRelease(pair, opened.body.keyRelease);
    const get = async (objectId: string) => {
      const res = await fetch(`${env().server.url}/api/v1/access/objects/${objectId}`, { headers: { 'x-recipient-session': session } });
      expect(res.status).toBe(200);
      const k = keys.get(objectId)!;
      return openBuffer(k.dataKey, new Uint8Array(await res.arrayBuffer()), { objectId, keyId: k.keyId });
    };
    const envelope = decodeEnvelope(await get(opened.body.message.envelopeObjectId));
    const files = await Promise.all(envelope.attachments.map(async (a) => ({ ...a, bytes: await get(a.objectId) })));
    return { status: 200, message: opened.body.message, you: opened.body.you, envelope, files };
  }

  return { mailTo, verify, decrypt };
}
