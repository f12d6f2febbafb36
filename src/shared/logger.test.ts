import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

describe('createLogger', () => {
  it('redacts credentials, keys, codes and bodies wherever they appear', () => {
    const lines: string[] = [];
    const sink = new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } });
    const log = createLogger('info', sink as never);
    log.info({ req: { headers: { authorization: 'Bearer abc123', cookie: 'sid=s3cr3t' } }, oneTimeCode: '123456', user: { password: 'hunter2', token: 'tok' }, deep: { x: { key: 'k3y' } }, body: 'hello' }, 'event');
    const out = lines.join('');
    for (const secret of ['abc123', 's3cr3t', '123456', 'hunter2', '"tok"', 'k3y', 'hello']) expect(out).not.toContain(secret);
    expect(out).toContain('[redacted]');
    expect(out).toContain('event');
  });
});
