// Secure messages from the command line: send (with streamed attachment uploads), sent items,
// status, revoke/expire, adding and removing recipients, access requests, threads, a message's
// audit trail, and the recipient's side: `read` — which proves mailbox control with the emailed
// code and decrypts locally (the server hands over keys wrapped to a key pair made for this one
// read, and sealed bytes) — and `reply`, which proves it the same way and sends a secure reply.
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
import type { AccessRequest } from '../../messages/access-request.service.ts';
import type { SentReply } from '../../messages/reply.service.ts';
import type { SentMessage, Thread } from '../../messages/message.service.ts';
import { AppError, errors } from '../../shared/app-error.ts';
import { callApi } from '../api-client.ts';
import { type CliIo, print } from '../context.ts';
import { readCredentials, type StoredCredentials } from '../credentials.ts';
import { promptLine, promptSecret } from '../prompt.ts';
import { formatWarnings, type CheckedWarning } from './prevent-client.command.ts';

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

/** Streams a file to an upload route (a sender's, or a recipient's for a reply), with a progress bar. */
async function uploadFile(server: string, route: string, auth: Record<string, string>, file: string): Promise<{ uploadId: string; size: number }> {
  const size = (await stat(file).catch(() => {
    throw errors.invalid('file_not_found', `cannot read ${file}`);
  })).size;
  const body = Readable.toWeb(createReadStream(file).pipe(progress(`uploading ${path.basename(file)}`, size))) as ReadableStream;
  const res = await fetch(`${server}${route}`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/octet-stream', 'content-length': String(size) },
    body,
    duplex: 'half',
  } as RequestInit);
  if (!res.ok) await failFromResponse(res, server);
  return (await res.json()) as { uploadId: string; size: number };
}

/** Uploads each file and returns the attachments list a message or reply refers to. */
async function uploadAttachments(server: string, route: string, auth: Record<string, string>, files: string[] = []): Promise<Array<{ uploadId: string; filename: string; contentType: string }>> {
  const attachments = [];
  for (const file of files) {
    const { uploadId } = await uploadFile(server, route, auth, file);
    attachments.push({ uploadId, filename: path.basename(file), contentType: CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream' });
  }
  return attachments;
}

/**
 * Runs the pre-send check and shows its warnings on stderr. Nudges: on a terminal the sender is
 * asked whether to send anyway (unless --yes); in scripts the send goes ahead, as the server's
 * nudge policy allows. Blocking warnings need a justification (--justify, or asked for on a
 * terminal). Returns the decision to send with, or undefined when there was nothing to decide.
 */
async function reviewWarnings(io: CliIo, c: StoredCredentials, draft: Record<string, unknown>, opts: { yes?: boolean; justify?: string }): Promise<{ acknowledged: string[]; justification?: string } | undefined> {
  let warnings: CheckedWarning[];
  try {
    ({ warnings } = await callApi<{ warnings: CheckedWarning[] }>(c.server, 'POST', '/api/v1/prevent/check', { token: c.token, body: draft }));
  } catch (err) {
    // An older server without Prevent: send as before. Bad input is reported by the send itself.
    if (err instanceof AppError && (err.code === 'not_found' || err.kind === 'not_found')) return undefined;
    throw err;
  }
  // Information-only findings do not interrupt a send from the terminal (`prevent check` lists them).
  warnings = warnings.filter((w) => w.severity !== 'info' || w.mode === 'block');
  if (warnings.length === 0) return undefined;
  io.err('Pre-send check:');
  for (const line of formatWarnings(warnings)) io.err(`  ${line}`);
  const blocking = warnings.some((w) => w.mode === 'block');
  let justification = opts.justify?.trim() || undefined;
  if (process.stdin.isTTY && !opts.yes) {
    const answer = (await promptLine('Send anyway? [y/N] ')).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') throw errors.conflict('send_cancelled', 'not sent: you chose to review the warnings');
    if (blocking && !justification) justification = (await promptLine('Your organisation requires a justification: ')).trim() || undefined;
  }
  if (blocking && !justification) throw errors.conflict('prevent_blocked', 'not sent: your organisation blocks this message unless you give a justification (--justify "...")');
  return { acknowledged: warnings.map((w) => w.id), ...(justification ? { justification } : {}) };
}

/** The plain-text body from --body or --body-file ("-": standard input); empty when neither is given. */
async function readBody(opts: { body?: string; bodyFile?: string }): Promise<string> {
  if (opts.body !== undefined && opts.bodyFile) throw errors.invalid('body_twice', 'give the body with --body or --body-file, not both');
  if (opts.body !== undefined) return opts.body;
  if (opts.bodyFile === '-') return new Response(Readable.toWeb(process.stdin) as ReadableStream).text();
  if (opts.bodyFile) return readFile(opts.bodyFile, 'utf8').catch(() => {
    throw errors.invalid('file_not_found', `cannot read ${opts.bodyFile}`);
  });
  return '';
}

/** A verified recipient session, and a way to call the recipients' API with it. */
interface RecipientSession {
  server: string;
  headers: Record<string, string>;
  call<T>(method: string, p: string, body?: unknown): Promise<T>;
}

/**
 * The recipient's side of a link: asks the server to email a code, prompts for it (or reads
 * SEALPOST_CODE), verifies it, and accepts the label's disclaimer when there is one (asking
 * first unless `acceptDisclaimer`). Shared by `read` and `reply`.
 */
async function verifyRecipient(io: CliIo, link: string, opts: { server?: string; acceptDisclaimer?: boolean }): Promise<RecipientSession> {
  const parsed = linkTokenOf(link);
  const server = (opts.server ?? parsed.server)?.replace(/\/$/, '');
  if (!server) throw errors.invalid('server_required', 'give the whole link from the email, or --server <url> with the token');
  const info = await callApi<{ maskedEmail: string }>(server, 'POST', '/api/v1/access/link', { body: { link: parsed.token } });
  const sent = await callApi<{ sentTo: string }>(server, 'POST', '/api/v1/access/code', { body: { link: parsed.token } });
  io.err(`A one-time code was sent to ${sent.sentTo ?? info.maskedEmail}.`);
  const code = process.env.SEALPOST_CODE ?? (await promptSecret('Code: '));
  const { sessionToken } = await callApi<{ sessionToken: string }>(server, 'POST', '/api/v1/access/verify', { body: { link: parsed.token, code } });
  const headers = { 'x-recipient-session': sessionToken };
  const call = async <T>(method: string, p: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${server}${p}`, { method, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    if (!res.ok) await failFromResponse(res, server);
    return (res.status === 204 ? undefined : await res.json()) as T;
  };
  const status = await call<{ disclaimer: string | null; disclaimerAccepted: boolean }>('GET', '/api/v1/access/status');
  if (status.disclaimer && !status.disclaimerAccepted) {
    io.err(`\n${status.disclaimer}\n`);
    const answer = opts.acceptDisclaimer ? 'yes' : (await promptSecret('Type "yes" to accept: ')).trim().toLowerCase();
    if (answer !== 'yes') throw errors.forbidden('disclaimer_required', 'the disclaimer was not accepted; the message was not opened');
    await call('POST', '/api/v1/access/disclaimer');
  }
  return { server, headers, call };
}

/** The id of a recipient of one of your messages, by address. */
async function recipientIdOf(c: StoredCredentials, messageId: string, address: string): Promise<string> {
  const m = await callApi<SentMessage>(c.server, 'GET', `/api/v1/messages/${encodeURIComponent(messageId)}`, { token: c.token });
  const r = m.recipients.find((x) => x.email === address.trim().toLowerCase() && x.status !== 'removed');
  if (!r) throw errors.notFound('recipient_not_found', `${address} is not a recipient of this message`);
  return r.id;
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
    .option('--yes', 'send despite pre-send warnings without asking')
    .option('--justify <text>', 'why you send despite warnings your organisation blocks on')
    .option('--json', 'print JSON')
    .action(async (opts: { to?: string[]; cc?: string[]; bcc?: string[]; subject: string; bodyFile?: string; body?: string; attach?: string[]; label?: string; expires?: string; expiry: boolean; yes?: boolean; justify?: string; json?: boolean }) => {
      const c = await signedIn();
      const text = await readBody(opts);
      // The pre-send check runs before anything is uploaded, so a refusal costs nothing.
      const prevent = await reviewWarnings(io, c, { to: opts.to ?? [], ...(opts.cc ? { cc: opts.cc } : {}), ...(opts.bcc ? { bcc: opts.bcc } : {}), subject: opts.subject, text, ...(opts.label ? { label: opts.label } : {}) }, opts);
      let expiresAt: string | null | undefined;
      if (!opts.expiry) expiresAt = null;
      else if (opts.expires) {
        const d = new Date(opts.expires);
        if (Number.isNaN(d.getTime())) throw errors.invalid('invalid_expiry', `--expires "${opts.expires}" is not a date`);
        expiresAt = d.toISOString();
      }
      const attachments = await uploadAttachments(c.server, '/api/v1/uploads', { authorization: `Bearer ${c.token}` }, opts.attach);
      const sent = await callApi<SentMessage>(c.server, 'POST', '/api/v1/messages', {
        token: c.token,
        body: { to: opts.to ?? [], ...(opts.cc ? { cc: opts.cc } : {}), ...(opts.bcc ? { bcc: opts.bcc } : {}), subject: opts.subject, text, ...(opts.label ? { label: opts.label } : {}), ...(expiresAt !== undefined ? { expiresAt } : {}), attachments, ...(prevent ? { prevent } : {}) },
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
      if (opts.recipient) path_ = `/api/v1/messages/${encodeURIComponent(id)}/recipients/${await recipientIdOf(c, id, opts.recipient)}/${verb}`;
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
    .description('audit trail of a message you sent: sends, codes requested, opens, refusals, revocations (also: sealpost audit <messageId>)')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => printMessageTrail(io, id, opts.json));

  program
    .command('read <link>')
    .description('open a secure message from its notification link: asks for the emailed code, decrypts on this machine')
    .option('--server <url>', 'server URL (default: taken from the link)')
    .option('--out <dir>', 'save attachments into this directory')
    .option('--accept-disclaimer', 'accept the label\'s disclaimer without asking')
    .option('--json', 'print JSON (subject, sender, recipients, body, attachments)')
    .action(async (link: string, opts: { server?: string; out?: string; acceptDisclaimer?: boolean; json?: boolean }) => {
      const { server, headers, call } = await verifyRecipient(io, link, opts);
      const pair = createClientKeyPair();
      const opened = await call<OpenedMessage>('POST', '/api/v1/access/open', { clientPublicKey: pair.publicKey });
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

  program
    .command('reply <link>')
    .description('send a secure reply to a message you received: asks for the emailed code, then replies to the sender (--all: also To and Cc)')
    .option('--body-file <file>', 'file with the plain-text reply ("-" for standard input)')
    .option('--body <text>', 'plain-text reply given inline')
    .option('--all', 'reply to all: the sender and the To and Cc recipients (never Bcc)')
    .option('--attach <file>', 'attach a file (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .option('--server <url>', 'server URL (default: taken from the link)')
    .option('--accept-disclaimer', "accept the label's disclaimer without asking")
    .option('--json', 'print JSON')
    .action(async (link: string, opts: { bodyFile?: string; body?: string; all?: boolean; attach?: string[]; server?: string; acceptDisclaimer?: boolean; json?: boolean }) => {
      const text = await readBody(opts);
      if (text.trim() === '') throw errors.invalid('body_required', 'give the reply with --body-file <file> or --body <text>');
      const { server, headers, call } = await verifyRecipient(io, link, opts);
      const attachments = await uploadAttachments(server, '/api/v1/access/uploads', headers, opts.attach);
      const sent = await call<SentReply>('POST', '/api/v1/access/reply', { text, replyAll: !!opts.all, attachments });
      print(io, opts.json ? sent : { id: sent.id, subject: sent.subject, to: sent.to.join(', '), cc: sent.cc.join(', ') || '-', attachments: sent.attachmentCount }, opts.json);
    });

  const recipients = program.command('recipients').description('add recipients to a message you sent, or remove them');
  recipients
    .command('add <messageId>')
    .description('add recipients after sending; each gets a notification with their own link (not under a no-forward label)')
    .option('--to <addresses>', 'recipient (repeatable or comma-separated)', collect)
    .option('--cc <addresses>', 'Cc recipient (repeatable or comma-separated)', collect)
    .option('--bcc <addresses>', 'Bcc recipient, invisible to others (repeatable or comma-separated)', collect)
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { to?: string[]; cc?: string[]; bcc?: string[]; json?: boolean }) => {
      const c = await signedIn();
      const m = await callApi<SentMessage>(c.server, 'POST', `/api/v1/messages/${encodeURIComponent(id)}/recipients`, { token: c.token, body: { ...(opts.to ? { to: opts.to } : {}), ...(opts.cc ? { cc: opts.cc } : {}), ...(opts.bcc ? { bcc: opts.bcc } : {}) } });
      print(io, opts.json ? m : summary(m), opts.json);
    });
  recipients
    .command('remove <messageId>')
    .description('remove a recipient: their link stops working at once')
    .requiredOption('--recipient <address>', 'the recipient to remove')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { recipient: string; json?: boolean }) => {
      const c = await signedIn();
      const m = await callApi<SentMessage>(c.server, 'DELETE', `/api/v1/messages/${encodeURIComponent(id)}/recipients/${await recipientIdOf(c, id, opts.recipient)}`, { token: c.token });
      print(io, opts.json ? m : summary(m), opts.json);
    });

  const requests = program.command('requests').description('access requests for a message you sent, from people who hold a forwarded link: list, approve, deny');
  requests
    .command('list <messageId>', { isDefault: true })
    .description('list the access requests of a message (the default: sealpost requests <messageId>)')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const c = await signedIn();
      const { requests: list } = await callApi<{ requests: AccessRequest[] }>(c.server, 'GET', `/api/v1/messages/${encodeURIComponent(id)}/access-requests`, { token: c.token });
      if (opts.json) print(io, list, true);
      else if (list.length === 0) io.out('No access requests for this message.');
      else for (const r of list) io.out(`${r.id}  ${r.status.padEnd(8)} ${r.email} (link of ${r.via}, ${new Date(r.requestedAt).toISOString()})${r.reason ? `\n    reason: ${r.reason.replace(/\n/g, ' ')}` : ''}`);
    });
  for (const decision of ['approve', 'deny'] as const) {
    requests
      .command(`${decision} <messageId> <requestId>`)
      .description(decision === 'approve' ? 'approve: the requester becomes a Bcc recipient and is notified with their own link' : 'deny: the requester is told by email')
      .option('--json', 'print JSON')
      .action(async (id: string, requestId: string, opts: { json?: boolean }) => {
        const c = await signedIn();
        const r = await callApi<AccessRequest>(c.server, 'POST', `/api/v1/messages/${encodeURIComponent(id)}/access-requests/${encodeURIComponent(requestId)}/${decision}`, { token: c.token });
        if (opts.json) print(io, r, true);
        else io.out(`${r.email}: ${r.status}`);
      });
  }

  program
    .command('thread <messageId>')
    .description('a thread you are part of, oldest first: your messages and the replies you received')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const c = await signedIn();
      const t = await callApi<Thread>(c.server, 'GET', `/api/v1/messages/${encodeURIComponent(id)}/thread`, { token: c.token });
      if (opts.json) {
        print(io, t, true);
        return;
      }
      for (const [i, m] of t.messages.entries()) {
        if (i > 0) io.out('');
        io.out(`── ${new Date(m.createdAt).toISOString()}  ${m.sentByYou ? 'you' : m.sender}${m.fromRecipient ? ' (secure reply)' : ''}  [${m.id}]`);
        io.out(`To:      ${m.to.join(', ')}${m.cc.length ? `\nCc:      ${m.cc.join(', ')}` : ''}${m.bcc.length ? `\nBcc:     ${m.bcc.join(', ')}` : ''}`);
        if (m.withheld) {
          io.out(`(content withheld: ${m.withheld === 'message_revoked' ? 'revoked' : 'expired'})`);
          continue;
        }
        io.out(`Subject: ${m.subject}\n`);
        io.out(m.text ?? '');
        for (const a of m.attachments) io.out(`[attachment] ${a.filename} (${a.size} bytes)`);
      }
    });
}

/** Prints a sent message's audit trail (`sealpost trail <id>` and `sealpost audit <id>`). */
export async function printMessageTrail(io: CliIo, id: string, json: boolean | undefined): Promise<void> {
  const c = await signedIn();
  const { events } = await callApi<{ events: Array<{ occurredAt: string; action: string; outcome: string; recipient: string | null; ip: string | null; reason: string | null }> }>(c.server, 'GET', `/api/v1/messages/${encodeURIComponent(id)}/audit`, { token: c.token });
  if (json) print(io, events, true);
  else for (const e of events) io.out(`${e.occurredAt}  ${e.action.padEnd(26)} ${e.outcome.padEnd(8)} ${e.recipient ?? ''}${e.ip ? ` from ${e.ip}` : ''}${e.reason ? ` (${e.reason})` : ''}`);
}
