// A real SMTP server for tests (smtp-server), capturing every message it receives.
import { SMTPServer } from 'smtp-server';
import { parseHeaders } from './mail.ts';

/** One received message. */
export interface ReceivedMail {
  from: string;
  to: string[];
  raw: Buffer;
  headers: Record<string, string>;
  /** Text body (the text/plain part of a multipart message), with quoted-printable or base64 decoded. */
  text: string;
  /** The text/html part of a multipart message, decoded; undefined when there is none. */
  html?: string;
  /** Inline and attached parts other than the text and HTML bodies (e.g. a cid: logo). */
  parts: Array<{ contentType: string; contentId?: string; bytes: Buffer }>;
}

/** A running SMTP sink. */
export interface SmtpSink {
  url: string;
  messages: ReceivedMail[];
  /** Resolves with the first message (received or arriving within `timeoutMs`) that matches. */
  waitFor(match: (m: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  /** Makes the next `n` deliveries fail with a temporary SMTP error (451). */
  failNext(n: number): void;
  close(): Promise<void>;
}

function bodyBytes(raw: Buffer, headers: Record<string, string>): Buffer {
  const text = raw.toString('latin1');
  const start = text.search(/\r?\n\r?\n/);
  const body = start >= 0 ? text.slice(start).replace(/^\r?\n\r?\n/, '') : '';
  if (/quoted-printable/i.test(headers['content-transfer-encoding'] ?? '')) {
    return Buffer.from(body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
  }
  if (/base64/i.test(headers['content-transfer-encoding'] ?? '')) return Buffer.from(body.replace(/\s+/g, ''), 'base64');
  return Buffer.from(body, 'latin1');
}

function decodeBody(raw: Buffer, headers: Record<string, string>): string {
  return bodyBytes(raw, headers).toString('utf8').replace(/\r\n/g, '\n');
}

// Leaf parts of a (possibly nested) multipart message, each with its own headers.
function leafParts(raw: Buffer, headers: Record<string, string>): Array<{ raw: Buffer; headers: Record<string, string> }> {
  const boundary = /^multipart\/[^;]+;.*boundary="?([^";]+)"?/is.exec(headers['content-type'] ?? '')?.[1];
  if (!boundary) return [{ raw, headers }];
  const text = raw.toString('latin1');
  const sections = text.split(`--${boundary}`).slice(1);
  const out: Array<{ raw: Buffer; headers: Record<string, string> }> = [];
  for (const section of sections) {
    if (section.startsWith('--')) break;
    const part = Buffer.from(section.replace(/^\r?\n/, ''), 'latin1');
    out.push(...leafParts(part, parseHeaders(part)));
  }
  return out;
}

/** Starts an SMTP sink on a free port of 127.0.0.1 (no TLS, no auth). */
export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  const waiters: Array<{ match: (m: ReceivedMail) => boolean; resolve: (m: ReceivedMail) => void }> = [];
  let failures = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (failures > 0) {
          failures--;
          const err = new Error('try again later') as Error & { responseCode: number };
          err.responseCode = 451;
          cb(err);
          return;
        }
        const raw = Buffer.concat(chunks);
        const headers = parseHeaders(raw);
        const leaves = leafParts(raw, headers);
        const textPart = leaves.find((p) => /^text\/plain/i.test(p.headers['content-type'] ?? 'text/plain'));
        const htmlPart = leaves.find((p) => /^text\/html/i.test(p.headers['content-type'] ?? ''));
        const mail: ReceivedMail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          headers,
          text: textPart ? decodeBody(textPart.raw, textPart.headers) : '',
          ...(htmlPart ? { html: decodeBody(htmlPart.raw, htmlPart.headers) } : {}),
          parts: leaves
            .filter((p) => p !== textPart && p !== htmlPart)
            .map((p) => ({ contentType: (p.headers['content-type'] ?? '').split(';')[0]!.trim(), ...(p.headers['content-id'] ? { contentId: p.headers['content-id'].replace(/^<|>$/g, '') } : {}), bytes: bodyBytes(p.raw, p.headers) })),
        };
        messages.push(mail);
        for (const w of waiters.splice(0)) {
          if (w.match(mail)) w.resolve(mail);
          else waiters.push(w);
        }
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    waitFor(match, timeoutMs = 10_000) {
      const found = messages.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no matching email arrived')), timeoutMs);
        waiters.push({ match, resolve: (m) => { clearTimeout(timer); resolve(m); } });
      });
    },
    failNext(n) {
      failures = n;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
