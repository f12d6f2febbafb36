// Accessibility smoke test in Chromium: every page has exactly one main landmark and no
// unlabelled form control; sending and reading work with the keyboard alone (Tab, typing,
// Enter — no clicks).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createTestUser, type TestUser } from '../support/api-users.ts';
import { codeIn, linkIn, startE2eServer, type E2eServer } from '../support/e2e.ts';
import { audit, launchChromium, screenshot } from './support/browser.ts';

const RECIPIENT = 'kim@partner.example';

/** Presses Tab until the focused element's accessible text matches `name` (keyboard only). */
async function tabTo(page: Page, name: RegExp, max = 60): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const label = await page.evaluate(() => {
      const el = document.activeElement as HTMLInputElement | null;
      if (!el) return '';
      const byLabel = el.labels?.[0]?.textContent ?? '';
      const byAria = el.getAttribute('aria-label') ?? (el.getAttribute('aria-labelledby') ? document.getElementById(el.getAttribute('aria-labelledby')!)?.textContent ?? '' : '');
      return `${byLabel} ${byAria} ${el.tagName === 'BUTTON' || el.tagName === 'A' ? el.textContent ?? '' : ''}`.trim();
    });
    if (name.test(label)) return;
  }
  throw new Error(`could not reach ${name} with the Tab key`);
}

describe('accessibility smoke test', () => {
  let env: E2eServer;
  let browser: Browser;
  let sender: TestUser;
  let page: Page;
  let link: string;

  beforeAll(async () => {
    env = await startE2eServer('pglite', 'browser-a11y');
    sender = await createTestUser(env.server, { email: 'ada@sender.example', role: 'administrator' });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await env?.close();
  });

  it('signs in and sends a message with the keyboard only', async () => {
    await page.goto(`${env.server.url}/sign-in`);
    await tabTo(page, /Email address/);
    await page.keyboard.type(sender.email);
    await tabTo(page, /Password/);
    await page.keyboard.type(sender.password);
    await page.keyboard.press('Enter');
    await page.waitForURL('**/sent');

    await page.goto(`${env.server.url}/compose`);
    await page.getByRole('heading', { name: 'New secure message' }).waitFor();
    await tabTo(page, /^To/);
    await page.keyboard.type(`${RECIPIENT} `);
    await tabTo(page, /Subject/);
    await page.keyboard.type('Keyboard only');
    await tabTo(page, /^Message/);
    await page.keyboard.type('Sent without a mouse.');
    await tabTo(page, /Send securely/);
    await page.keyboard.press('Enter');
    const panel = page.getByRole('heading', { name: 'Check before sending' });
    await Promise.race([page.waitForURL(/\/sent\/[0-9a-f-]{36}$/), panel.waitFor()]);
    if (await panel.isVisible()) {
      await tabTo(page, /Reason for sending anyway/);
      await page.keyboard.type('Known partner');
      await tabTo(page, /Send anyway/);
      await page.keyboard.press('Enter');
    }
    await page.waitForURL(/\/sent\/[0-9a-f-]{36}$/);
    const mail = await env.smtp.waitFor((m) => m.to.includes(RECIPIENT) && linkIn(m.text) !== undefined);
    link = linkIn(mail.text)!;
  });

  it('has one main landmark and labelled controls on every signed-in page', async () => {
    for (const p of ['/sent', '/compose', page.url().replace(env.server.url, ''), '/admin/users', '/admin/labels', '/admin/settings', '/admin/prevent', '/admin/audit']) {
      await page.goto(`${env.server.url}${p}`);
      await page.locator('main h1').waitFor();
      await page.waitForLoadState('networkidle');
      const result = await audit(page);
      await screenshot(page, `a11y-${p.replace(/\W+/g, '-').replace(/^-|-$/g, '') || 'root'}`);
      expect(await page.getByRole('alert').count(), `no error shown on ${p}`).toBe(0);
      expect({ page: p, ...result }).toEqual({ page: p, mains: 1, unlabelled: [] });
    }
  });

  it('invites a user by email from the users page: the link goes only to the invitee', async () => {
    await page.goto(`${env.server.url}/admin/users`);
    await page.getByRole('heading', { name: 'Invite a user' }).waitFor();
    const before = env.smtp.messages.length;
    await page.getByLabel('Email address').fill('newcomer@sender.example');
    await page.getByLabel('Name').fill('Newcomer');
    await page.getByRole('button', { name: 'Invite' }).click();
    await page.getByText('a one-time sign-in link was emailed to newcomer@sender.example').waitFor();
    const mail = await env.smtp.waitFor((m) => env.smtp.messages.indexOf(m) >= before && m.to.includes('newcomer@sender.example'));
    expect(mail.text).toMatch(/\/sign-in#/);
    // The page itself never shows the link.
    expect(await page.locator('code.copyable').count()).toBe(0);
  });

  it('shows the administrator the warning the send raised, and saves a policy change', async () => {
    await page.goto(`${env.server.url}/admin/prevent`);
    const byCheck = page.getByRole('table', { name: 'Warnings by check and what the sender did' });
    await byCheck.waitFor();
    // The keyboard-only send above went to a first-time external recipient, with a justification.
    const row = byCheck.getByRole('row', { name: /First-time external recipient/ });
    await expect(row.getByRole('cell').last().textContent()).resolves.toBe('1');
    await page.getByLabel('First-time external recipient').selectOption('block');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText('Pre-send check policy saved').waitFor();
    await screenshot(page, 'admin-prevent-saved');
    const saved = await page.evaluate(async () => (await (await fetch('/api/v1/prevent/settings')).json()) as { policy: { checks: Record<string, unknown> } });
    expect(saved.policy.checks).toEqual({ first_time_external: 'block' });
  });

  it('reads a message with the keyboard only, and the public pages pass the same checks', async () => {
    const recipient = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
    await recipient.goto(`${env.server.url}/open#not-a-real-link-token-000000000000000000000`);
    await recipient.getByRole('heading', { name: 'This link does not work' }).waitFor();
    expect(await audit(recipient)).toEqual({ mains: 1, unlabelled: [] });

    await recipient.goto(`${env.server.url}/sign-in`);
    await recipient.goto(`${env.server.url}/open#${link}`);
    await recipient.getByRole('heading', { name: 'You have a secure message' }).waitFor();
    expect(await audit(recipient)).toEqual({ mains: 1, unlabelled: [] });
    const before = env.smtp.messages.length;
    await tabTo(recipient, /Email me a code/);
    await recipient.keyboard.press('Enter');
    const mail = await env.smtp.waitFor((m) => env.smtp.messages.indexOf(m) >= before && m.to.includes(RECIPIENT) && codeIn(m.text) !== undefined);
    await recipient.getByLabel('6-digit code').waitFor();
    expect(await audit(recipient)).toEqual({ mains: 1, unlabelled: [] });
    // The code field has focus when it appears.
    await recipient.keyboard.type(codeIn(mail.text)!);
    await recipient.keyboard.press('Enter');
    await recipient.getByRole('heading', { name: 'Keyboard only' }).waitFor();
    expect(await audit(recipient)).toEqual({ mains: 1, unlabelled: [] });
    await tabTo(recipient, /^Reply$/);
    await recipient.keyboard.press('Enter');
    await recipient.keyboard.type('Replying with the keyboard.');
    await tabTo(recipient, /Send reply/);
    await recipient.keyboard.press('Enter');
    await recipient.getByText('Your reply was sent securely').waitFor();
    await screenshot(recipient, 'a11y-phone-read-replied');
  });
});
