// Serves the built web app (web/dist, made by `npm run build:web`): hashed assets under
// /assets/ cached for a year, and index.html — never cached — for the app's own paths, so
// that links the server sends (/open#…, /sign-in#token=…) and reloads of any page work. API
// paths are not touched: an unknown /api/… stays a JSON 404. Without a build, the app's
// paths answer 503 with a page saying how to build it.
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm run build:web` writes the app. */
export const DEFAULT_WEB_DIST = fileURLToPath(new URL('../../web/dist', import.meta.url));

/** Paths of the single-page app (history routing); everything else is the API's. */
export const WEB_APP_PATHS = ['/', '/open', '/sign-in', '/compose', '/sent', '/sent/*', '/admin', '/admin/*', '/settings/*', '/operator', '/operator/*'] as const;

/**
 * The app's Content-Security-Policy: only this origin's scripts and styles (no inline script),
 * and blob: for images, media and frames, because attachments decrypted in the browser are
 * shown from blob: URLs in the viewer. Nothing may frame the app.
 */
export function webAppCsp(publicUrl: string): string {
  const directives = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob: data:",
    "media-src 'self' blob:",
    "frame-src 'self' blob:",
    "object-src 'none'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ];
  if (publicUrl.startsWith('https:')) directives.push('upgrade-insecure-requests');
  return directives.join('; ');
}

const MISSING_BUILD = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sealpost: web app not built</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.5">
<main><h1>The web app has not been built</h1>
<p>The Sealpost server and API are running, but the browser app is missing from <code>web/dist</code>.</p>
<p>Build it with <code>npm run build:web</code> (it also runs on <code>npm install</code>), then reload this page.</p>
<p>The API is available under <code>/api/v1</code>; its description is at <a href="/api/openapi.json">/api/openapi.json</a>.</p></main></body></html>`;

/** Registers the web app's routes on `app`. */
export async function registerWebApp(app: FastifyInstance, opts: { publicUrl: string; distDir?: string }): Promise<void> {
  const distDir = opts.distDir ?? DEFAULT_WEB_DIST;
  const assetsDir = path.join(distDir, 'assets');
  const csp = webAppCsp(opts.publicUrl);

  if (existsSync(assetsDir)) {
    await app.register(fastifyStatic, {
      root: assetsDir,
      prefix: '/assets/',
      // File names carry a content hash: a changed file is a new URL, so caching forever is safe.
      cacheControl: true,
      maxAge: '365d',
      immutable: true,
      index: false,
      list: false,
      dotfiles: 'deny',
    });
  }

  const sendIndex = async (reply: FastifyReply) => {
    let html: string;
    try {
      html = await readFile(path.join(distDir, 'index.html'), 'utf8');
    } catch {
      return reply.status(503).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(MISSING_BUILD);
    }
    // no-cache, not no-store: the browser may keep it but must revalidate, so a new release
    // (new asset hashes) is picked up on the next visit.
    return reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-cache').header('content-security-policy', csp).send(html);
  };

  for (const url of WEB_APP_PATHS) {
    app.get(url, { schema: { hide: true } }, async (_req, reply) => sendIndex(reply));
  }
}
