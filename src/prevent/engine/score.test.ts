import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import type { CliIo } from '../../cli/context.ts';

let dir: string;
const file = (name: string) => path.join(dir, name);
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

/** Runs `sealpost …` in-process and returns what it printed and its exit code. */
async function sealpost(...args: string[]): Promise<{ out: string[]; err: string[]; code: number }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l) };
  process.exitCode = 0;
  await main(['node', 'sealpost', ...args], io);
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { out, err, code };
}

function history(): unknown[] {
  const rows: unknown[] = [];
  for (let i = 0; i < 40; i++) {
    const date = new Date(Date.UTC(2001, 0, 1 + i)).toISOString();
    rows.push({ id: `h${i}`, date, from: 'Alice@Corp.example', to: ['bob@corp.example'], cc: i % 2 ? ['carol@corp.example'] : [], bcc: [], subject: 'Re: budget' });
    if (i % 5 === 0) rows.push({ id: `r${i}`, date, from: 'bob@corp.example', to: ['alice@corp.example'], subject: 'budget' });
  }
  return rows;
}

const input = [
  { id: 't1', date: '2001-03-01T10:00:00Z', from: 'alice@corp.example', to: ['bob@corp.example', 'zed@elsewhere.example'], cc: [], bcc: [], subject: 'budget', body: 'numbers attached' },
  { id: 't2', date: '2001-03-02T10:00:00Z', from: 'alice@corp.example', to: ['BOB@corp.example'], cc: ['carol@corp.example'] },
  { id: 't3', date: '2001-03-03T10:00:00Z', from: 'nobody@corp.example', to: ['bob@corp.example'], subject: '' },
];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sealpost-score-'));
  await writeFile(file('history.jsonl'), jsonl(history()));
  await writeFile(file('input.jsonl'), jsonl(input));
});
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(() => {
  process.exitCode = 0;
});

describe('sealpost prevent score', () => {
  it('writes one line per input message as the engine contract specifies', async () => {
    const r = await sealpost('prevent', 'score', '--history', file('history.jsonl'), '--input', file('input.jsonl'), '--output', file('out.jsonl'));
    expect(r.code).toBe(0);
    expect(r.err.join('\n')).toMatch(/learned 48 messages .* scored 3 /);
    const lines = (await readFile(file('out.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.id)).toEqual(['t1', 't2', 't3']);
    for (const l of lines) {
      expect(Object.keys(l).sort()).toEqual(['id', 'recipients', 'warn']);
      for (const x of l.recipients) {
        expect(typeof x.address).toBe('string');
        expect(x.risk).toBeGreaterThanOrEqual(0);
        expect(x.risk).toBeLessThanOrEqual(1);
      }
      for (const w of l.warn) expect(l.recipients.map((x: { address: string }) => x.address)).toContain(w);
    }
    expect(lines[0].recipients.map((x: { address: string }) => x.address)).toEqual(['bob@corp.example', 'zed@elsewhere.example']);
    expect(lines[1].recipients.map((x: { address: string }) => x.address)).toEqual(['bob@corp.example', 'carol@corp.example']);
    const [bob, zed] = lines[0].recipients;
    expect(zed.risk).toBeGreaterThan(bob.risk);
    expect(lines[0].warn).toEqual(['zed@elsewhere.example']);
    expect(lines[1].warn).toEqual([]);
  });

  it('fails with the file and line of a bad input line, and writes no output', async () => {
    await writeFile(file('bad.jsonl'), jsonl([input[0]]) + '{"id": "t9", "date": "2001-03-01", "from": "a@x"\n');
    const r = await sealpost('prevent', 'score', '--history', file('history.jsonl'), '--input', file('bad.jsonl'), '--output', file('bad-out.jsonl'));
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toContain(`error (prevent_message_invalid): ${file('bad.jsonl')}:2: not valid JSON`);
    await expect(readFile(file('bad-out.jsonl'))).rejects.toThrow(/ENOENT/);
  });

  it.each([
    [{ id: 'x', date: 'yesterday', from: 'a@x', to: [] }, '"date" must be an ISO 8601 date string'],
    [{ id: 'x', date: '2001-01-01', to: ['b@x'] }, '"from" must be a non-empty address'],
    [{ id: 'x', date: '2001-01-01', from: 'a@x', to: 'b@x' }, '"to" must be an array of addresses'],
    [{ date: '2001-01-01', from: 'a@x', to: ['b@x'] }, '"id" must be a non-empty string or number'],
    [[1, 2], 'expected one JSON object per line'],
  ])('names the field of an invalid history line (%j)', async (row, why) => {
    await writeFile(file('bad-history.jsonl'), jsonl([history()[0], row]));
    const r = await sealpost('prevent', 'score', '--history', file('bad-history.jsonl'), '--input', file('input.jsonl'), '--output', file('o.jsonl'));
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toContain(`${file('bad-history.jsonl')}:2: ${why}`);
  });

  it('rejects duplicate ids, a missing file and an empty history', async () => {
    await writeFile(file('dup.jsonl'), jsonl([input[0], input[0]]));
    let r = await sealpost('prevent', 'score', '--history', file('history.jsonl'), '--input', file('dup.jsonl'), '--output', file('o.jsonl'));
    expect(r.err.join('\n')).toContain(`${file('dup.jsonl')}:2: duplicate id "t1"`);
    r = await sealpost('prevent', 'score', '--history', file('missing.jsonl'), '--input', file('input.jsonl'), '--output', file('o.jsonl'));
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toContain(`error (prevent_file_unreadable): cannot read ${file('missing.jsonl')}: ENOENT`);
    await writeFile(file('empty.jsonl'), '\n');
    r = await sealpost('prevent', 'score', '--history', file('empty.jsonl'), '--input', file('input.jsonl'), '--output', file('o.jsonl'));
    expect(r.err.join('\n')).toContain('no messages to learn from');
  });

  it('requires --history, --input and --output', async () => {
    const r = await sealpost('prevent', 'score', '--history', file('history.jsonl'));
    expect(r.code).not.toBe(0);
  });
});
