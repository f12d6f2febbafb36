import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createLogger } from '../shared/logger.ts';
import { errors } from '../shared/app-error.ts';
import { buildHttpApp } from './app.ts';

describe('buildHttpApp', () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    app = await buildHttpApp({ logger: createLogger('silent'), bodyLimitBytes: 1024, trustProxy: false, publicUrl: 'https://sealpost.example', version: '0.0.0-test', readiness: [{ name: 'database', check: async () => { throw errors.unavailable('database_unavailable', 'down'); } }] });
    app.post('/echo', async (req) => ({ got: req.body }));
    app.get('/boom', async () => {
      throw new Error('internal detail that must not leak');
    });
    app.get('/conflict', async () => {
      throw errors.conflict('already_exists', 'that already exists');
    });
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
  });

  it('does refuse a body over the configured limit with 413 and a named error', async () => {
    const res = await app.inject({ method: 'POST', url: '/echo', payload: { pad: 'x'.repeat(2000) } });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ error: { code: 'body_too_large', message: expect.any(String) } });
    const ok = await app.inject({ method: 'POST', url: '/echo', payload: { pad: 'x' } });
    expect(ok.statusCode).toBe(200);
  });

  it('does answer malformed JSON with 400 and a named error', async () => {
    const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"a":' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'invalid_json', message: expect.any(String) } });
  });

  it('does map AppError kinds to status codes in one place and hide internal errors', async () => {
    const conflict = await app.inject({ method: 'GET', url: '/conflict' });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toEqual({ error: { code: 'already_exists', message: 'that already exists' } });
    const boom = await app.inject({ method: 'GET', url: '/boom' });
    expect(boom.statusCode).toBe(500);
    expect(boom.body).not.toContain('internal detail');
    expect(boom.json()).toEqual({ error: { code: 'internal_error', message: expect.any(String) } });
  });

  it('does report a failing dependency on /readyz by its error code only', async () => {
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'not_ready', checks: { database: { ok: false, error: 'database_unavailable' } } });
  });

  it('does send HSTS and upgrade-insecure-requests only when the public URL is https', async () => {
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.headers['strict-transport-security']).toContain('max-age=31536000');
    expect(res.headers['content-security-policy']).toContain('upgrade-insecure-requests');
    const plain = await buildHttpApp({ logger: createLogger('silent'), bodyLimitBytes: 1024, trustProxy: false, publicUrl: 'http://127.0.0.1:8080', version: '0', readiness: [] });
    try {
      const r = await plain.inject({ method: 'GET', url: '/healthz' });
      expect(r.headers['strict-transport-security']).toBeUndefined();
      expect(r.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    } finally {
      await plain.close();
    }
  });
});
