// Structured logs (pino). Secrets never reach a log line: request headers that carry
// credentials and any field named like a secret are redacted wherever they appear.
import pino, { type Logger } from 'pino';

/** Field paths removed from every log line (keys, tokens, one-time codes, passwords, bodies). Name such fields accordingly: `oneTimeCode`, not `code`, which is kept for error codes.. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["x-csrf-token"]',
  'req.headers["x-recipient-session"]',
  'res.headers["set-cookie"]',
  ...['password', 'newPassword', 'currentPassword', 'token', 'sessionToken', 'csrfToken', 'oneTimeCode', 'otp', 'secret', 'key', 'dataKey', 'wrappedKey', 'body', 'plaintext', 'link', 'clientPublicKey'].flatMap((f) => [f, `*.${f}`, `*.*.${f}`]),
];

export type { Logger };

/** Creates the process logger. `destination` is for tests that capture output. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, base: { service: 'sealpost' } }, destination);
}
