// Secure messages from the command line: send (with streamed attachment uploads), sent items,
// status, revoke/expire, a message's audit trail, and `read` — which proves mailbox control
// with the emailed code and decrypts locally: the server hands over keys wrapped to a key pair
// made for this one read, and sealed bytes.
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command, Option } from 'commander';
import { createClientKeyPair, openKeyRelease } from '../../crypto/node/key-release.ts';
import { createOpenStream, openBuffer } from '../../crypto/node/sealed-stream.ts';
import { randomToken } from '../../crypto/keys.ts';
import { decodeEnvelope } from '../../messages/envelope.ts';
import type { OpenedMessage } from '../../messages/recipient-access.service.ts';
import type { SentMessage } from '../../messages/message.service.ts';
import { AppError, errors } from '../../shared/app-error.ts';
import { callApi } from '../api-client.ts';
import { type CliIo, print } from '../context.ts';
import { readCredentials, type StoredCredentials } from '../credentials.ts';
import { promptSecret } from '../prompt.ts';

const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];

async function signedIn(): Promise<StoredCredentials> {
  const c = await readCredentials();
  if (!c) throw errors.unauthenticated('not_signed_in', 'sign in first: sealpost login --server <url> --email <address>');
  return c;
}

/** A progress line on stderr for long transfers (only when stderr is a terminal). */
function progress(label: string, total: number): Transform {
  let done = 0;
  let last = 0;
  const tty = process.stderr.isTTY;
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      done += chunk.length;
      const now = Date.now();
      if (tty && (now - last > 200 || done === total)) {
        last = now;
        const pct = total ? Math.floor((done / total) * 100) : 100;
        const bar = '#'.repeat(Math.floor(pct / 5)).padEnd(20, '.');
        process.stderr.write(`\r${label} [${bar}] ${pct}% ${(done / 1048576).toFixed(1)}/${(total / 1048576).toFixed(1)} MiB`);
        if (done === total) process.stderr.write('\n');
      }
      cb(null, chunk);
    },
  });
}

async function failFromResponse(res: Response, server: string): Promise<never> {
  const body = (await res.json().catch(() => undefined)) as { error?: { code: string; message: string } } | undefined;
  if (body?.error) throw new AppError(res.status === 404 ? 'not_found' : res.status === 401 ? 'unauthenticated' : res.status === 403 ? 'forbidden' : res.status === 429 ? 'rate_limited' : 'invalid', body.error.code, body.error.message);
  throw errors.unavailable('unexpected_response', `${server} answered ${res.status}`);
}

async function uploadFile(c: StoredCredentials, file: string): Promise<{ uploadId: string; size: number }> {
  const size = (await stat(file).catch(() => {
    throw errors.invalid('file_not_found', `cannot read ${file}`);
  })).size;
  const body = Readable.toWeb(createReadStream(file).pipe(progress(`uploading ${path.basename(file)}`, size))) as ReadableStream;
  const res = await fetch(`${c.server}/api/v1/uploads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/octet-stream', 'content-length': String(size) },
    body,
    duplex: 'half',
  } as RequestInit);
  if (!res.ok) await failFromResponse(res, c.server);
  return (await res.json()) as { uploadId: string; size: number };
}

const CONTENT_TYPES: Record<string, string> = { '.pdf': 'application/pdf', '.txt': 'text/plain', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.csv': 'text/csv', '.zip': 'application/zip', '.json': 'application/json', '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' };

function summary(m: SentMessage) {
  return { id: m.id, subject: m.subject, label: m.label, createdAt: m.createdAt, expiresAt: m.expiresAt ?? 'never', revokedAt: m.revokedAt ?? '-', recipients: m.recipients.map((r) => `${r.email} (${r.kind}, ${r.status})`).join('; '), attachments: m.attachments.map((a) => `${a.filename} (${a.size} bytes)`).join('; ') || '-' };
}

/** The token from a notification link (`…/open#<token>`), or the token itself. */
export function linkTokenOf(link: string): { server?: string; token: string } {
  const hash = link.indexOf('#');
  if (hash < 0) return { token: link.trim() };
  const url = new URL(link);
  return { server: url.origin, token: link.slice(hash + 1).trim() };
}

export function registerMessageCommands(program: Command, io: CliIo): void {
  program
    .command('send')
    .description('send a secure message (recipients get a notification with a link, never the content)')
    .option('--to <addresses>', 'recipient (repeatable or comma-separated)', collect)
    .option('--cc <addresses>', 'Cc recipient (repeatable or comma-separated)', collect)
    .option('--bcc <addresses>', 'Bcc recipient, invisible to others (repeatable or comma-separated)', collect)
    .requiredOption('--subject <text>', 'subject')
    .option('--body-file <file>', 'file with the plain-text body ("-" for standard input)')
    .option('--body <text>', 'plain-text body given inline')
    .option('--attach <file>', 'attach a file (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .option('--label <name>', 'classification label (see the labels of your organisation with: sealpost labels)')
    .addOption(new Option('--expires <date>', 'expiry as an ISO date/time (default: the label\'s)'))
    .option('--no-expiry', 'never expire, whatever the label says')
    .option('--json', 'print JSON')
    .action(async (opts: { to?: string[]; cc?: string[]; bcc?: string[]; subject: string; bodyFile?: string; body?: string; attach?: string[]; label?: string; expires?: string; expiry: boolean; json?: boolean }) => {
      const c = await signedIn();
      if (opts.body !== undefined && opts.bodyFile) throw errors.invalid('body_twice', 'give the body with --body or --body-file, not both');
      const text = opts.body ?? (opts.bodyFile === '-' ? await new Response(Readable.toWeb(process.stdin) as ReadableStream).text() : opts.bodyFile ? await readFile(opts.bodyFile, 'utf8').catch(() => { throw errors.invalid('file_not_found', `cannot read ${opts.bodyFile}`); }) : '');
      let expiresAt: string | null | undefined;
      if (!opts.expiry) expiresAt = null;
      else if (opts.expires) {
        const d = new Date(opts.expires);
        if (Number.isNaN(d.getTime())) throw errors.invalid('invalid_expiry', `--expires "${opts.expires}" is not a date`);
        expiresAt = d.toISOString();
      }
      const attachments = [];
      for (const file of opts.attach ?? []) {
        const { uploadId } = await uploadFile(c, file);
        attachments.push({ uploadId, filename: path.basename(file), contentType: CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream' });
      }
      const sent = await callApi<SentMessage>(c.server, 'POST', '/api/v1/messages', {
        token: c.token,
        body: { to: opts.to ?? [], ...(opts.cc ? { cc: opts.cc } : {}), ...(opts.bcc ? { bcc: opts.bcc } : {}), subject: opts.subject, text, ...(opts.label ? { label: opts.label } : {}), ...(expiresAt !== undefined ? { expiresAt } : {}), attachments },
      });
      print(io, opts.json ? sent : summary(sent), opts.json);
    });

  program
    .command('labels')
    .description("list your organisation's classification labels and what each implies")
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const c = await signedIn();
      const { labels } = await callApi<{ labels: Array<Record<string, unknown>> }>(c.server, 'GET', '/api/v1/labels', { token: c.token });
      print(io, labels, opts.json);
    });

  program
    .command('sent')
    .description('list the messages you sent, newest first')
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'print JSON')
    .action(async (opts: { limit: string; json?: boolean }) => {
      const c = await signedIn();
      const { messages } = await callApi<{ messages: Array<Record<string, unknown>> }>(c.server, 'GET', `/api/v1/messages?limit=${encodeURIComponent(opts.limit)}`, { token: c.token });
      if (!opts.json && messages.length === 0) io.out('You have not sent any messages yet.');
      else print(io, messages, opts.json);
    });

  program
    .command('status <messageId>')
    .description('per-recipient status of a message you sent (notified, delivery failed, opened, revoked, expired)')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const c = await signedIn();
      const m = await callApi<SentMessage>(c.server, 'GET', `/api/v1/messages/${encodeURIComponent(id)}`, { token: c.token });
      if (opts.json) print(io, m, true);
      else {
        print(io, summary(m), false);
        for (const r of m.recipients) io.out(`  ${r.kind.padEnd(3)} ${r.email.padEnd(40)} ${r.status}${r.deliveryError ? ` (${r.deliveryError})` : ''}${r.lastOpenedAt ? ` last opened ${new Date(r.lastOpenedAt).toISOString()}` : ''}`);
      }
    });

  program
    .command('revoke <messageId>')
    .description('revoke a message for everyone, or for one recipient; --undo reverses it')
    .option('--recipient <address>', 'revoke only this recipient')
    .option('--undo', 'undo the revocation')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { recipient?: string; undo?: boolean; json?: boolean }) => {
      const c = await signedIn();
      const verb = opts.undo ? 'unrevoke' : 'revoke';
      let path_ = `/api/v1/messages/${encodeURIComponent(id)}/${verb}`;
      if (opts.recipient) {
        const m = await callApi<SentMessage>(c.server, 'GET', `/api/v1/messages/${encodeURIComponent(id)}`, { token: c.token });
        const r = m.recipients.find((x) => x.email === opts.recipient!.trim().toLowerCase());
        if (!r) throw errors.notFound('recipient_not_found', `${opts.recipient} is not a recipient of this message`);
        path_ = `/api/v1/messages/${encodeURIComponent(id)}/recipients/${r.id}/${verb}`;
      }
      const m = await callApi<SentMessage>(c.server, 'POST', path_, { token: c.token });
      print(io, opts.json ? m : summary(m), opts.json);
    });

  program
    .command('expire <messageId>')
    .description('change when a message expires (--at) or remove its expiry (--never)')
    .option('--at <date>', 'new expiry (ISO date/time, in the future)')
    .option('--never', 'remove the expiry')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { at?: string; never?: boolean; json?: boolean }) => {
      const c = await signedIn();
      if (!!opts.at === !!opts.never) throw errors.invalid('expiry_required', 'give exactly one of --at <date> or --never');
      const at = opts.at ? new Date(opts.at) : null;
      if (at && Number.isNaN(at.getTime())) throw errors.invalid('invalid_expiry', `--at "${opts.at}" is not a date`);
      const m = await callApi<SentMessage>(c.server, 'PATCH', `/api/v1/messages/${encodeURIComponent(id)}`, { token: c.token, body: { expiresAt: at ? at.toISOString() : null } });
      print(io, opts.json ? m : summary(m), opts.json);
    });

  program
    .command('trail <messageId>')
    .description('audit trail of a message you sent: sends, codes requested, opens, refusals, revocations')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const c = await signedIn();
      const { events } = await callApi<{ events: Array<{ occurredAt: string; action: string; outcome: string; recipient: string | null; ip: string | null; reason: string | null }> }>(c.server, 'GET', `/api/v1/messages/${encodeURIComponent(id)}/audit`, { token: c.token });
      if (opts.json) print(io, events, true);
      else for (const e of events) io.out(`${e.occurredAt}  ${e.action.padEnd(26)} ${e.outcome.padEnd(8)} ${e.recipient ?? ''}${e.ip ? ` from ${e.ip}` : ''}${e.reason ? ` (${e.reason})` : ''}`);
    });

  program
    .command('read <link>')
    .description('open a secure message from its notification link: asks for the emailed code, decrypts on this machine')
    .option('--server <url>', 'server URL (default: taken from the link)')
    .option('--out <dir>', 'save attachments into this directory')
    .option('--accept-disclaimer', 'accept the label\'s disclaimer without asking')
    .option('--json', 'print JSON (subject, sender, recipients, body, attachments)')
    .action(async (link: string, opts: { server?: string; out?: string; acceptDisclaimer?: boolean; json?: boolean }) => {
      const parsed = linkTokenOf(link);
      const server = (opts.server ?? parsed.server)?.replace(/\/$/, '');
      if (!server) throw errors.invalid('server_required', 'give the whole link from the email, or --server <url> with the token');
      const info = await callApi<{ maskedEmail: string }>(server, 'POST', '/api/v1/access/link', { body: { link: parsed.token } });
      const sent = await callApi<{ sentTo: string }>(server, 'POST', '/api/v1/access/code', { body: { link: parsed.token } });
      io.err(`A one-time code was sent to ${sent.sentTo ?? info.maskedEmail}.`);
      const code = process.env.SEALPOST_CODE ?? (await promptSecret('Code: '));
      const { sessionToken } = await callApi<{ sessionToken: string }>(server, 'POST', '/api/v1/access/verify', { body: { link: parsed.token, code } });
      const headers = { 'x-recipient-session': sessionToken };
      const recipientApi = async <T>(method: string, p: string, body?: unknown): Promise<T> => {
        const res = await fetch(`${server}${p}`, { method, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
        if (!res.ok) await failFromResponse(res, server);
        return (res.status === 204 ? undefined : await res.json()) as T;
      };
      const status = await recipientApi<{ disclaimer: string | null; disclaimerAccepted: boolean }>('GET', '/api/v1/access/status');
      if (status.disclaimer && !status.disclaimerAccepted) {
        io.err(`\n${status.disclaimer}\n`);
        const answer = opts.acceptDisclaimer ? 'yes' : (await promptSecret('Type "yes" to accept: ')).trim().toLowerCase();
        if (answer !== 'yes') throw errors.forbidden('disclaimer_required', 'the disclaimer was not accepted; the message was not opened');
        await recipientApi('POST', '/api/v1/access/disclaimer');
      }
      const pair = createClientKeyPair();
      const opened = await recipientApi<OpenedMessage>('POST', '/api/v1/access/open', { clientPublicKey: pair.publicKey });
      const keys = openKeyRelease(pair, opened.keyRelease);
      const fetchSealed = async (objectId: string) => {
        const res = await fetch(`${server}/api/v1/access/objects/${objectId}`, { headers });
        if (!res.ok || !res.body) await failFromResponse(res, server);
        return res;
      };
      const envelopeKey = keys.get(opened.message.envelopeObjectId);
      if (!envelopeKey) throw errors.internal('key_missing', 'the server did not release the envelope key');
      const envelope = decodeEnvelope(await openBuffer(envelopeKey.dataKey, new Uint8Array(await (await fetchSealed(opened.message.envelopeObjectId)).arrayBuffer()), { objectId: opened.message.envelopeObjectId, keyId: envelopeKey.keyId }));
      const saved: string[] = [];
      if (opts.out && envelope.attachments.length > 0) {
        if (opened.message.label.noDownload) {
          io.err(`This message is labelled "${opened.message.label.name}": attachments can only be viewed in the Sealpost portal, not saved.`);
        } else {
          for (const a of envelope.attachments) {
            const key = keys.get(a.objectId);
            if (!key) throw errors.internal('key_missing', `the server did not release the key of ${a.filename}`);
            const target = path.join(opts.out, path.basename(a.filename));
            const tmp = `${target}.${randomToken(6)}.part`;
            const res = await fetchSealed(a.objectId);
            try {
              // Decrypted as it streams; written to a temporary file renamed only once every segment authenticated.
              await pipeline(Readable.fromWeb(res.body! as never), createOpenStream(key.dataKey, { objectId: a.objectId, keyId: key.keyId }), progress(`decrypting ${a.filename}`, a.size), createWriteStream(tmp, { mode: 0o600 }));
              await rename(tmp, target);
            } catch (err) {
              await rm(tmp, { force: true });
              throw err;
            }
            saved.push(target);
          }
        }
      }
      for (const k of keys.values()) k.dataKey.fill(0);
      const result = {
        from: opened.message.sender,
        to: opened.message.to,
        cc: opened.message.cc,
        you: `${opened.you.email} (${opened.you.kind})`,
        sentAt: opened.message.sentAt,
        label: opened.message.label.name,
        subject: envelope.subject,
        attachments: envelope.attachments.map((a) => ({ filename: a.filename, size: a.size, contentType: a.contentType })),
        saved,
        text: envelope.text,
      };
      if (opts.json) print(io, { ...result, messageId: opened.message.id }, true);
      else {
        io.out(`From:    ${result.from}\nTo:      ${result.to.join(', ')}${result.cc.length ? `\nCc:      ${result.cc.join(', ')}` : ''}\nSent:    ${new Date(result.sentAt).toISOString()}\nLabel:   ${result.label}\nSubject: ${result.subject}\n`);
        io.out(result.text);
        for (const a of result.attachments) io.out(`[attachment] ${a.filename} (${a.size} bytes)`);
        for (const s of saved) io.out(`saved ${s}`);
      }
    });
}
