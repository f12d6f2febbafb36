// Reading message metadata from JSONL, the format of ../shared/bench/prevent/README.md:
//   {"id": "m1", "date": "2001-05-03T10:00:00Z", "from": "a@x.com", "to": ["b@x.com"], "cc": [], "bcc": [], "subject": "…", "body": "optional"}
// Every problem is reported with the file and line, so a bad export is easy to fix.
import { readFile } from 'node:fs/promises';
import { errors } from '../../shared/app-error.ts';
import type { Observation } from '../prevent.model.ts';

/** One JSONL message: its metadata as an Observation, and the body when the line has one. */
export interface MessageLine {
  observation: Observation;
  body: string;
  /** 1-based line number in the file. */
  line: number;
}

/** Parses a JSONL file of messages, failing on the first bad line with file:line and the reason. */
export async function readMessageFile(file: string): Promise<MessageLine[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw errors.invalid('prevent_file_unreadable', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseMessageLines(text, file);
}

/** Parses JSONL text (see {@link readMessageFile}); `file` only names the source in errors. */
export function parseMessageLines(text: string, file: string): MessageLine[] {
  const out: MessageLine[] = [];
  const ids = new Set<string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (!raw) continue;
    const where = `${file}:${i + 1}`;
    const bad = (why: string) => errors.invalid('prevent_message_invalid', `${where}: ${why}`);
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch (err) {
      throw bad(`not valid JSON (${(err as Error).message})`);
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw bad('expected one JSON object per line');
    const m = v as Record<string, unknown>;
    if ((typeof m.id !== 'string' && typeof m.id !== 'number') || String(m.id) === '') throw bad('"id" must be a non-empty string or number');
    const id = String(m.id);
    if (ids.has(id)) throw bad(`duplicate id "${id}"`);
    ids.add(id);
    if (typeof m.date !== 'string' || !Number.isFinite(Date.parse(m.date))) throw bad('"date" must be an ISO 8601 date string');
    if (typeof m.from !== 'string' || !m.from.trim()) throw bad('"from" must be a non-empty address');
    const list = (k: 'to' | 'cc' | 'bcc'): string[] => {
      const a = m[k];
      if (a === undefined || a === null) return [];
      if (!Array.isArray(a) || a.some((x) => typeof x !== 'string')) throw bad(`"${k}" must be an array of addresses`);
      return (a as string[]).map((x) => x.trim().toLowerCase()).filter(Boolean);
    };
    const to = list('to'), cc = list('cc'), bcc = list('bcc');
    if (m.subject !== undefined && m.subject !== null && typeof m.subject !== 'string') throw bad('"subject" must be a string');
    if (m.body !== undefined && m.body !== null && typeof m.body !== 'string') throw bad('"body" must be a string');
    if (m.thread !== undefined && m.thread !== null && typeof m.thread !== 'string') throw bad('"thread" must be a string');
    out.push({
      observation: {
        id,
        at: new Date(m.date),
        from: m.from.trim().toLowerCase(),
        to,
        cc,
        bcc,
        subject: (m.subject as string | undefined) ?? '',
        threadId: (m.thread as string | undefined) ?? null,
      },
      body: (m.body as string | undefined) ?? '',
      line: i + 1,
    });
  }
  return out;
}
