// Serving the built web app: index.html for the app's paths (never cached, with the app's CSP),
// hashed assets cached for a year, API paths untouched, and a clear 503 page without a build.
import Fastify from 'fastify';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWebApp } from './web-app.ts';

describe('registerWebApp', () => {
  let dist: string;
  beforeAll(async () => {
    dist = await mkdtemp(path.join(os.tmpdir(), 'sealpost-web-'));
    await mkdir(path.join(dist, 'assets'));
    await writeFile(path.join(dist, 'index.html'), '<!doctype html><title>app</title>');
    await writeFile(path.join(dist, 'assets', 'index-abc123.js'), 'console.log(1)');
  });
  afterAll(async () => rm(dist, { recursive: true, force: true }));

  async function app(distDir: string) {
    const a = Fastify();
    await registerWebApp(a, { publicUrl: 'https://mail.example', distDir });
    a.get('/api/v1/ping', async () => ({ ok: true }));
    return a;
  }

  it('answers index.html for every app path, revalidated and under the app CSP', async () => {
    const a = await app(dist);
    for (const url of ['/', '/open', '/sign-in', '/compose', '/sent', '/sent/5d0f', '/admin/users']) {
      const res = await a.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.body).toContain('<title>app</title>');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.headers['content-security-policy']).toContain('upgrade-insecure-requests');
    }
  });

  it('caches hashed assets for a year and leaves other paths to the API', async () => {
    const a = await app(dist);
    const asset = await a.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await a.inject({ method: 'GET', url: '/api/v1/ping' })).json()).toEqual({ ok: true });
    expect((await a.inject({ method: 'GET', url: '/api/v1/nothing' })).statusCode).toBe(404);
    expect((await a.inject({ method: 'GET', url: '/assets/missing.js' })).statusCode).toBe(404);
  });

  it('explains how to build the app when the build is missing', async () => {
    const a = await app(path.join(dist, 'does-not-exist'));
    const res = await a.inject({ method: 'GET', url: '/open' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build:web');
    expect(res.headers['cache-control']).toBe('no-store');
  });
});
