// Chromium for the browser tests: Debian's /usr/bin/chromium driven by playwright-core (no
// browser download), screenshots kept in test-artifacts/browser/ (git-ignored), and a bundler
// for code the page needs that the app does not expose (the crypto module for the vectors).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'browser');

/** Launches headless Chromium; fails with a clear message when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's "chromium" package (.ci/run does) or set CHROMIUM_PATH`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** Saves a full-page screenshot as test-artifacts/browser/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Bundles `entry` (TypeScript, relative to the repository) into one script for page.addScriptTag. */
export async function bundleForPage(entry: string): Promise<string> {
  const { build } = await import('vite');
  const result = await build({
    configFile: false,
    logLevel: 'silent',
    root: ROOT,
    build: { write: false, minify: false, lib: { entry: path.join(ROOT, entry), formats: ['iife'], name: 'sealpostTestBundle', fileName: 'bundle' } },
  });
  const outputs = Array.isArray(result) ? result : [result];
  for (const o of outputs) {
    if ('output' in o) {
      const chunk = o.output.find((c) => c.type === 'chunk');
      if (chunk && chunk.type === 'chunk') return chunk.code;
    }
  }
  throw new Error(`could not bundle ${entry}`);
}

/** Collects page errors and failed same-origin requests other than the expected ones. */
export function watchPage(page: Page): { errors: string[] } {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return { errors };
}

/** Signs in on the sign-in page with a password and waits for the sent-messages page. */
export async function signIn(page: Page, baseUrl: string, user: { email: string; password: string }): Promise<void> {
  await page.goto(`${baseUrl}/sign-in`);
  await page.getByLabel('Email address').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/sent');
}

/** Number of main landmarks and the visible form controls without an accessible name. */
export async function audit(page: Page): Promise<{ mains: number; unlabelled: string[] }> {
  return page.evaluate(() => {
    const mains = document.querySelectorAll('main, [role=main]').length;
    const controls = Array.from(document.querySelectorAll<HTMLElement>('input, select, textarea, [role=textbox], button'));
    const unlabelled = controls
      .filter((el) => {
        const input = el as HTMLInputElement;
        if (input.type === 'hidden') return false;
        const named = (input.labels && input.labels.length > 0) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || (el.tagName === 'BUTTON' && el.textContent?.trim());
        return !named;
      })
      .map((el) => el.outerHTML.slice(0, 120));
    return { mains, unlabelled };
  });
}
