// Reading mail history for Prevent to learn from: JSONL (one message per line, the format of
// ../shared/bench/prevent: id, date, from, to, cc, bcc, subject, optional body) and mbox files
// (headers parsed with postal-mime). Only metadata comes out; bodies are dropped here.
import PostalMime from 'postal-mime';
import { errors } from '../shared/app-error.ts';
import type { Observation } from './prevent.model.ts';

/** A message to learn from, without an id of ours yet. */
export type HistoryMessage = Omit<Observation, 'id'> & { id?: string };

const MAX_RECIPIENTS = 1000;

function addresses(value: unknown, where: string, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > MAX_RECIPIENTS || value.some((a) => typeof a !== 'string')) {
    throw errors.invalid('invalid_history', `${where}: "${field}" must be a list of at most ${MAX_RECIPIENTS} addresses`, { field });
  }
  return value.map((a: string) => a.trim().toLowerCase()).filter((a) => a.includes('@') && a.length <= 254);
}

/** Parses JSONL history; errors name the line. Blank lines are skipped. */
export function* parseJsonlHistory(text: string, source = 'input'): Generator<HistoryMessage> {
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo++;
    if (!line.trim()) continue;
    const where = `${source} line ${lineNo}`;
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw errors.invalid('invalid_history', `${where}: not valid JSON`);
    }
    if (typeof m !== 'object' || m === null || Array.isArray(m)) throw errors.invalid('invalid_history', `${where}: expected a JSON object per line`);
    const from = typeof m.from === 'string' ? m.from.trim().toLowerCase() : '';
    if (!from.includes('@')) throw errors.invalid('invalid_history', `${where}: "from" must be an email address`, { field: 'from' });
    const at = typeof m.date === 'string' ? new Date(m.date) : new Date(NaN);
    if (Number.isNaN(at.getTime())) throw errors.invalid('invalid_history', `${where}: "date" must be an ISO-8601 date`, { field: 'date' });
    if (m.subject !== undefined && typeof m.subject !== 'string') throw errors.invalid('invalid_history', `${where}: "subject" must be a string`, { field: 'subject' });
    yield {
      ...(typeof m.id === 'string' ? { id: m.id } : {}),
      at,
      from,
      to: addresses(m.to, where, 'to'),
      cc: addresses(m.cc, where, 'cc'),
      bcc: addresses(m.bcc, where, 'bcc'),
      subject: (m.subject as string | undefined) ?? '',
      threadId: typeof m.thread === 'string' ? m.thread : null,
    };
  }
}

/**
 * Splits an mbox file into messages: each starts at a "From " line at the start of the file or
 * after a blank line (mboxrd: ">From " inside bodies is left alone, we never read bodies).
 */
export function splitMbox(text: string): string[] {
  const out: string[] = [];
  const lines = text.split(/\r?\n/);
  let current: string[] | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('From ') && (i === 0 || lines[i - 1] === '')) {
      if (current) out.push(current.join('\r\n'));
      current = [];
      continue;
    }
    current?.push(line);
  }
  if (current) out.push(current.join('\r\n'));
  return out;
}

/** Parses an mbox file's messages (headers only matter); a message without From or Date is an error naming it. */
export async function parseMboxHistory(text: string, source = 'input'): Promise<HistoryMessage[]> {
  const raw = splitMbox(text);
  if (raw.length === 0 && text.trim()) throw errors.invalid('invalid_history', `${source}: not an mbox file (no line starting with "From ")`);
  const out: HistoryMessage[] = [];
  for (const [i, message] of raw.entries()) {
    const where = `${source} message ${i + 1}`;
    // Headers are all we need; cutting the body off keeps large attachments out of the parser.
    const headerEnd = message.indexOf('\r\n\r\n');
    const headers = headerEnd >= 0 ? message.slice(0, headerEnd + 4) : `${message}\r\n\r\n`;
    const email = await PostalMime.parse(headers);
    const from = email.from?.address?.trim().toLowerCase() ?? '';
    if (!from.includes('@')) throw errors.invalid('invalid_history', `${where}: no From address`);
    const at = email.date ? new Date(email.date) : new Date(NaN);
    if (Number.isNaN(at.getTime())) throw errors.invalid('invalid_history', `${where}: no valid Date header`);
    const list = (as: Array<{ address?: string; group?: Array<{ address?: string }> }> | undefined) =>
      (as ?? []).flatMap((a) => (a.group ? a.group.map((g) => g.address ?? '') : [a.address ?? ''])).map((a) => a.trim().toLowerCase()).filter((a) => a.includes('@'));
    out.push({
      ...(email.messageId ? { id: email.messageId } : {}),
      at,
      from,
      to: list(email.to),
      cc: list(email.cc),
      bcc: list(email.bcc),
      subject: email.subject ?? '',
      // Without a thread id the model falls back to the subject; In-Reply-To is not a thread id.
      threadId: null,
    });
  }
  return out;
}
