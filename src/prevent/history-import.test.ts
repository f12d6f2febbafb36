import { describe, expect, it } from 'vitest';
import { parseJsonlHistory, parseMboxHistory, splitMbox } from './history-import.ts';

describe('parseJsonlHistory', () => {
  it('reads the benchmark format, lower-casing addresses and dropping bodies', () => {
    const text = [
      JSON.stringify({ id: 'm1', date: '2001-05-03T10:00:00Z', from: 'A@X.com', to: ['B@x.com'], cc: [], bcc: ['c@x.com'], subject: 'Re: budget', body: 'secret' }),
      '',
      JSON.stringify({ id: 'm2', date: '2001-05-04T10:00:00Z', from: 'b@x.com', to: ['a@x.com'] }),
    ].join('\n');
    const out = [...parseJsonlHistory(text)];
    expect(out).toEqual([
      { id: 'm1', at: new Date('2001-05-03T10:00:00Z'), from: 'a@x.com', to: ['b@x.com'], cc: [], bcc: ['c@x.com'], subject: 'Re: budget', threadId: null },
      { id: 'm2', at: new Date('2001-05-04T10:00:00Z'), from: 'b@x.com', to: ['a@x.com'], cc: [], bcc: [], subject: '', threadId: null },
    ]);
    expect(JSON.stringify(out)).not.toContain('secret');
  });

  it('names the line and the field of bad input', () => {
    const good = JSON.stringify({ date: '2001-05-03T10:00:00Z', from: 'a@x.com', to: [] });
    expect(() => [...parseJsonlHistory(`${good}\n{not json`, 'h.jsonl')]).toThrow(/h\.jsonl line 2: not valid JSON/);
    expect(() => [...parseJsonlHistory(JSON.stringify({ date: 'yesterday', from: 'a@x.com' }))]).toThrow(/line 1: "date" must be an ISO-8601 date/);
    expect(() => [...parseJsonlHistory(JSON.stringify({ date: '2001-05-03T10:00:00Z', from: 'nobody' }))]).toThrow(/"from" must be an email address/);
    expect(() => [...parseJsonlHistory(JSON.stringify({ date: '2001-05-03T10:00:00Z', from: 'a@x.com', to: 'b@x.com' }))]).toThrow(/"to" must be a list/);
    expect(() => [...parseJsonlHistory('[1,2]')]).toThrow(/expected a JSON object/);
  });
});

const MBOX = [
  'From alice@example.com Thu May  3 10:00:00 2001',
  'From: "Alice Example" <Alice@Example.com>',
  'To: Bob <bob@example.com>, "Smith, Carol" <carol@example.org>',
  'Cc: team: dave@example.com, erin@example.com;',
  'Date: Thu, 03 May 2001 10:00:00 +0000',
  'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?=',
  'Message-ID: <m1@example.com>',
  '',
  'Body line one',
  'From the body, not a separator because no blank line precedes it? It does: see below.',
  '',
  'From bob@example.com Fri May  4 09:00:00 2001',
  'From: bob@example.com',
  'To: alice@example.com',
  'Date: Fri, 04 May 2001 09:00:00 +0000',
  'Subject: Re: hello',
  '',
  'Thanks',
  '',
].join('\n');

describe('parseMboxHistory', () => {
  it('splits on From lines after a blank line', () => {
    expect(splitMbox(MBOX)).toHaveLength(2);
  });

  it('reads senders, recipients in groups and quoted names, encoded subjects and dates', async () => {
    const out = await parseMboxHistory(MBOX);
    expect(out).toEqual([
      {
        id: '<m1@example.com>',
        at: new Date('2001-05-03T10:00:00Z'),
        from: 'alice@example.com',
        to: ['bob@example.com', 'carol@example.org'],
        cc: ['dave@example.com', 'erin@example.com'],
        bcc: [],
        subject: 'Grüße aus München',
        threadId: null,
      },
      { at: new Date('2001-05-04T09:00:00Z'), from: 'bob@example.com', to: ['alice@example.com'], cc: [], bcc: [], subject: 'Re: hello', threadId: null },
    ]);
  });

  it('names the message that lacks a sender or a date', async () => {
    await expect(parseMboxHistory('From x Thu May  3 10:00:00 2001\nTo: a@b.c\nDate: Thu, 03 May 2001 10:00:00 +0000\n\nhi\n', 'box')).rejects.toThrow(/box message 1: no From address/);
    await expect(parseMboxHistory('From x Thu May  3 10:00:00 2001\nFrom: a@b.c\n\nhi\n')).rejects.toThrow(/message 1: no valid Date header/);
    await expect(parseMboxHistory('just text\n')).rejects.toThrow(/not an mbox file/);
  });
});
