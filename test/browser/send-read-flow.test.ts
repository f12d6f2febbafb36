// The whole journey in Chromium against the real server (PGlite) and a real SMTP sink: the
// sender signs in, composes with an attachment and sends; the recipient opens the link from the
// captured email, requests and enters the code, reads, downloads the attachment (bytes
// compared) and replies; the sender sees the open and the reply, and revokes; the recipient
// then gets the revoked page. Screenshots of each step go to test-artifacts/browser/
// (UPDATE_DOCS_SCREENSHOTS=1 also refreshes docs/screenshots/compose.png and read.png).
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createTestUser, type TestUser } from '../support/api-users.ts';
import { codeIn, linkIn, startE2eServer, type E2eServer } from '../support/e2e.ts';
import { launchChromium, screenshot, watchPage } from './support/browser.ts';

const RECIPIENT = 'rachel@client.example';

describe('send, read, reply and revoke in the browser', () => {
  let env: E2eServer;
  let browser: Browser;
  let sender: TestUser;
  let senderPage: Page;
  let recipientPage: Page;
  let link: string;
  const attachment = randomBytes(300_000);
  let attachmentPath: string;
  const watched: Array<{ errors: string[] }> = [];

  beforeAll(async () => {
    env = await startE2eServer('pglite', 'browser-flow');
    sender = await createTestUser(env.server, { email: 'sam@sender.example', role: 'author' });
    // The recipient pages show the sending organisation's branding.
    await env.server.runtime.admin.tenant.updateBranding({ type: 'operator', id: 'test' }, sender.tenantId, { displayName: 'Figures & Co', accentColor: '#0a7d5a', footerText: 'Figures & Co, 1 Example Street' });
    browser = await launchChromium();
    senderPage = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    recipientPage = await (await browser.newContext({ viewport: { width: 1100, height: 900 }, acceptDownloads: true })).newPage();
    watched.push(watchPage(senderPage), watchPage(recipientPage));
    attachmentPath = path.join(os.tmpdir(), `sealpost-browser-${process.pid}-figures.bin`);
    await writeFile(attachmentPath, attachment);
  });

  afterAll(async () => {
    await browser?.close();
    await env?.close();
  });

  it('lets the sender sign in and send a message with an attachment', async () => {
    await senderPage.goto(`${env.server.url}/sign-in`);
    await expect(senderPage.getByRole('main').count()).resolves.toBe(1);
    await senderPage.getByLabel('Email address').fill(sender.email);
    await senderPage.getByLabel('Password').fill(sender.password);
    await screenshot(senderPage, '01-sign-in');
    await senderPage.getByRole('button', { name: 'Sign in' }).click();
    await senderPage.waitForURL('**/sent');

    await senderPage.getByRole('link', { name: 'Compose' }).click();
    await senderPage.getByLabel('To', { exact: true }).fill(RECIPIENT);
    await senderPage.getByLabel('To', { exact: true }).press('Enter');
    await senderPage.getByLabel('Subject').fill('Quarterly figures');
    await senderPage.getByLabel('Message').fill('Hello Rachel,\n\nThe figures are attached.\n\nSam');
    await senderPage.locator('input[type=file]').setInputFiles({ name: 'figures.bin', mimeType: 'application/octet-stream', buffer: attachment });
    await senderPage.getByText('figures.bin uploaded').waitFor();
    await screenshot(senderPage, '02-compose');
    if (process.env.UPDATE_DOCS_SCREENSHOTS) {
      await mkdir('docs/screenshots', { recursive: true });
      await senderPage.screenshot({ path: 'docs/screenshots/compose.png' });
    }
    const before = env.smtp.messages.length;
    await senderPage.getByRole('button', { name: 'Send securely' }).click();
    // A first message to a new external address may get a pre-send warning (Prevent): the
    // panel offers "send anyway" with a reason.
    const sentUrl = /\/sent\/[0-9a-f-]{36}$/;
    const panel = senderPage.getByRole('heading', { name: 'Check before sending' });
    await Promise.race([senderPage.waitForURL(sentUrl), panel.waitFor()]);
    if (await panel.isVisible()) {
      await screenshot(senderPage, '02b-pre-send-check');
      await senderPage.getByLabel(/Reason for sending anyway/).fill('New client, address confirmed by phone');
      await senderPage.getByRole('button', { name: 'Send anyway' }).click();
    }
    await senderPage.waitForURL(sentUrl);
    await senderPage.getByRole('heading', { name: 'Quarterly figures' }).waitFor();
    await screenshot(senderPage, '03-sent');

    const mail = await env.smtp.waitFor((m) => env.smtp.messages.indexOf(m) >= before && m.to.includes(RECIPIENT) && linkIn(m.text) !== undefined);
    link = linkIn(mail.text)!;
  });

  async function enterCode(page: Page) {
    const before = env.smtp.messages.length;
    await page.getByRole('button', { name: 'Email me a code' }).click();
    const mail = await env.smtp.waitFor((m) => env.smtp.messages.indexOf(m) >= before && m.to.includes(RECIPIENT) && codeIn(m.text) !== undefined);
    await page.getByLabel('6-digit code').fill(codeIn(mail.text)!);
    await page.getByRole('button', { name: 'Open message' }).click();
  }

  it('lets the recipient open the link, enter the code, read, download and reply', async () => {
    await recipientPage.goto(`${env.server.url}/open#${link}`);
    await recipientPage.getByRole('heading', { name: 'You have a secure message' }).waitFor();
    await recipientPage.getByRole('banner').getByText('Figures & Co').waitFor();
    await recipientPage.getByText('Figures & Co, 1 Example Street').waitFor();
    await screenshot(recipientPage, '04-open-link');
    await enterCode(recipientPage);
    await recipientPage.getByRole('heading', { name: 'Quarterly figures' }).waitFor();
    await expect(recipientPage.getByText('The figures are attached.').isVisible()).resolves.toBe(true);
    await screenshot(recipientPage, '05-read');
    if (process.env.UPDATE_DOCS_SCREENSHOTS) await recipientPage.screenshot({ path: 'docs/screenshots/read.png' });

    const [download] = await Promise.all([recipientPage.waitForEvent('download'), recipientPage.getByRole('button', { name: /Download/ }).click()]);
    expect(download.suggestedFilename()).toBe('figures.bin');
    const saved = path.join(os.tmpdir(), `sealpost-browser-${process.pid}-downloaded.bin`);
    await download.saveAs(saved);
    expect((await readFile(saved)).equals(attachment)).toBe(true);
    await recipientPage.getByText('figures.bin decrypted').waitFor();
    await screenshot(recipientPage, '06-downloaded');

    await recipientPage.getByRole('button', { name: 'Reply', exact: true }).click();
    await recipientPage.getByLabel('Your reply').fill('Thanks Sam, received and checked.');
    await recipientPage.getByRole('button', { name: 'Send reply' }).click();
    await recipientPage.getByText('Your reply was sent securely').waitFor();
    await screenshot(recipientPage, '07-replied');
  });

  it('shows the sender the open and the reply, and revokes', async () => {
    await senderPage.reload();
    await senderPage.getByRole('heading', { name: 'Quarterly figures' }).waitFor();
    await senderPage.getByText('Opened (keys released to the reader)').first().waitFor();
    await senderPage.getByText('Thanks Sam, received and checked.').waitFor();
    const row = senderPage.getByRole('row', { name: new RegExp(RECIPIENT) });
    await expect(row.getByText('Opened').isVisible()).resolves.toBe(true);
    await screenshot(senderPage, '08-audit-and-reply');
    await senderPage.getByRole('button', { name: 'Revoke for everyone' }).click();
    await senderPage.getByText('Revoked. No one can open this message any more.').waitFor();
    await senderPage.getByRole('button', { name: 'Undo revoke' }).waitFor();
    await screenshot(senderPage, '09-revoked');
  });

  it('shows the recipient the revoked page afterwards', async () => {
    await recipientPage.goto(`${env.server.url}/sign-in`);
    await recipientPage.goto(`${env.server.url}/open#${link}`);
    await recipientPage.getByRole('heading', { name: 'You have a secure message' }).waitFor();
    await enterCode(recipientPage);
    await recipientPage.getByRole('heading', { name: 'This message is no longer available' }).waitFor();
    await screenshot(recipientPage, '10-recipient-revoked');
    for (const w of watched) expect(w.errors).toEqual([]);
  });
});
