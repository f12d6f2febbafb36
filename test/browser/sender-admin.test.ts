// The sender's controls on a sent message and the administration pages, driven in Chromium
// against the real server (PGlite) and a real SMTP sink. Messages are sent through the API; the
// controls are used through the UI and every change is then checked through the API: per-recipient
// status, revoke one and all with undo, expiry, add and remove recipients, the timeline with an
// open and a wrong code, access requests (one approved, one denied), a recipient's reply in the
// thread; labels (create, retire, restore, edit a policy and see it apply to a message already
// sent and to the next send), notification branding, user roles (change, disable)
// and the audit log (filters, CSV export). Each page state is audited (one main landmark,
// labelled controls) and screenshotted to test-artifacts/browser/admin-*.png.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { parseCsv } from '../../src/privacy/csv.ts';
import { createTestUser, type TestUser } from '../support/api-users.ts';
import { apiClient, codeIn, linkIn, recipientClient, startE2eServer, type E2eServer } from '../support/e2e.ts';
import { audit, launchChromium, screenshot, watchPage } from './support/browser.ts';

const RACHEL = 'rachel@client.example';
const CARL = 'carl@client.example';
const DAN = 'dan@client.example';
const FIONA = 'fiona@elsewhere.example';
const GUS = 'gus@elsewhere.example';
const ERIN = 'erin@partner.example';
const SUBJECT = 'Engagement letter';
const CSV_HEADER = ['occurred_at', 'seq', 'event_id', 'actor_type', 'actor_id', 'actor_email', 'action', 'target_type', 'target_id', 'message_id', 'outcome', 'ip', 'user_agent', 'details'];

/** A datetime-local value (minutes) for `date` in the machine's time zone. */
function localInput(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}T${p(date.getHours())}:${p(date.getMinutes())}`;
}

describe('sender controls and administration in the browser', () => {
  let env: E2eServer;
  let browser: Browser;
  let admin: TestUser;
  let bo: TestUser;
  let senderPage: Page;
  let recipientPage: Page;
  let messageId: string;
  const links: Record<string, string> = {};
  const startedAt = new Date();
  const watched: Array<{ errors: string[] }> = [];
  const call = apiClient(() => env.server);
  const recipient = recipientClient(() => env);

  beforeAll(async () => {
    env = await startE2eServer('pglite', 'browser-sender-admin');
    admin = await createTestUser(env.server, { email: 'ada@firm.example', role: 'administrator' });
    bo = await createTestUser(env.server, { email: 'bo@firm.example', role: 'author', tenantId: admin.tenantId });
    browser = await launchChromium();
    senderPage = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true })).newPage();
    recipientPage = await (await browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
    watched.push(watchPage(senderPage), watchPage(recipientPage));

    const before = env.smtp.messages.length;
    const sent = await call(admin, 'POST', '/api/v1/messages', { to: [RACHEL], cc: [CARL], subject: SUBJECT, text: 'Please sign and return.', label: 'internal' });
    expect(sent.status).toBe(201);
    messageId = sent.body.id;
    for (const address of [RACHEL, CARL]) links[address] = linkIn((await recipient.mailTo(address, before, (m) => linkIn(m.text) !== undefined)).text)!;
    await waitForStatus(RACHEL, 'notified');
    await waitForStatus(CARL, 'notified');

    await senderPage.goto(`${env.server.url}/sign-in`);
    await senderPage.getByLabel('Email address').fill(admin.email);
    await senderPage.getByLabel('Password').fill(admin.password);
    await senderPage.getByRole('button', { name: 'Sign in' }).click();
    await senderPage.waitForURL('**/sent');
  });

  afterAll(async () => {
    await browser?.close();
    await env?.close();
  });

  /** Checks the page state for one main landmark and no unlabelled control, and screenshots it. */
  async function check(page: Page, name: string): Promise<void> {
    expect(await audit(page), name).toEqual({ mains: 1, unlabelled: [] });
    await screenshot(page, `admin-${name}`);
  }

  /** The message as the API shows it to its sender. */
  async function message(): Promise<any> {
    const r = await call(admin, 'GET', `/api/v1/messages/${messageId}`);
    expect(r.status).toBe(200);
    return r.body;
  }

  const recipientOf = async (email: string) => (await message()).recipients.find((r: { email: string }) => r.email === email);

  /** Waits until the background notification job has set `email`'s status. */
  async function waitForStatus(email: string, status: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if ((await recipientOf(email))?.status === status) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await recipientOf(email))?.status).toBe(status);
  }

  /** Requests a code on the open page and reads it from the SMTP sink. */
  async function codeOnOpenPage(address: string): Promise<string> {
    const before = env.smtp.messages.length;
    await recipientPage.getByRole('button', { name: 'Email me a code' }).click();
    return codeIn((await recipient.mailTo(address, before, (m) => codeIn(m.text) !== undefined)).text)!;
  }

  const row = (email: string) => senderPage.getByRole('row', { name: new RegExp(email.replace(/\./g, '\\.')) });
  const notice = (text: string) => senderPage.locator('.notice-slot').getByText(text);

  it('shows a wrong code and an open in the timeline, and each recipient\'s status', async () => {
    await recipientPage.goto(`${env.server.url}/open#${links[RACHEL]}`);
    await recipientPage.getByRole('heading', { name: 'You have a secure message' }).waitFor();
    const code = await codeOnOpenPage(RACHEL);
    const wrong = `${(Number(code[0]) + 1) % 10}${code.slice(1)}`;
    await recipientPage.getByLabel('6-digit code').fill(wrong);
    await recipientPage.getByRole('button', { name: 'Open message' }).click();
    await recipientPage.getByText('That code is not right.').waitFor();
    await check(recipientPage, '01-recipient-wrong-code');
    await recipientPage.getByLabel('6-digit code').fill(code);
    await recipientPage.getByRole('button', { name: 'Open message' }).click();
    await recipientPage.getByRole('heading', { name: SUBJECT }).waitFor();

    await senderPage.getByRole('link', { name: new RegExp(SUBJECT) }).click();
    await senderPage.waitForURL(`**/sent/${messageId}`);
    await senderPage.getByRole('heading', { name: SUBJECT }).waitFor();
    await expect(row(RACHEL).getByText('Opened', { exact: true }).isVisible()).resolves.toBe(true);
    await expect(row(CARL).getByText('Notified', { exact: true }).isVisible()).resolves.toBe(true);
    await expect(row(RACHEL).getByText('—').count()).resolves.toBe(0); // last opened is a time
    const timeline = senderPage.getByRole('list', { name: 'Audit timeline' }).getByRole('listitem');
    const wrongCode = timeline.filter({ hasText: 'Code entered' }).filter({ hasText: 'code wrong' });
    await expect(wrongCode.count()).resolves.toBe(1);
    await expect(wrongCode.getByText(RACHEL, { exact: false }).isVisible()).resolves.toBe(true);
    await expect(timeline.filter({ hasText: 'Opened (keys released to the reader)' }).filter({ hasText: RACHEL }).count()).resolves.toBe(1);
    await expect(timeline.filter({ hasText: 'Code entered' }).filter({ hasNotText: 'code wrong' }).count()).resolves.toBe(1);
    await check(senderPage, '02-message-timeline');
  });

  it('revokes one recipient and undoes it', async () => {
    await senderPage.getByRole('button', { name: `Revoke for ${CARL}` }).click();
    await notice(`Revoked for ${CARL}.`).waitFor();
    await row(CARL).getByText('Revoked', { exact: true }).waitFor();
    expect(await recipientOf(CARL)).toMatchObject({ status: 'revoked', revokedAt: expect.any(String) });
    expect(await recipientOf(RACHEL)).toMatchObject({ status: 'opened', revokedAt: null });
    await check(senderPage, '03-recipient-revoked');

    await senderPage.locator('.notice-slot').getByRole('button', { name: 'Undo', exact: true }).click();
    await notice(`Access restored for ${CARL}.`).waitFor();
    await row(CARL).getByText('Notified', { exact: true }).waitFor();
    expect(await recipientOf(CARL)).toMatchObject({ status: 'notified', revokedAt: null });

    // The row's own button does the same.
    await senderPage.getByRole('button', { name: `Revoke for ${CARL}` }).click();
    await senderPage.getByRole('button', { name: `Undo revoke for ${CARL}` }).click();
    await notice(`Access restored for ${CARL}.`).waitFor();
    expect(await recipientOf(CARL)).toMatchObject({ status: 'notified', revokedAt: null });
  });

  it('revokes for everyone and undoes it', async () => {
    await senderPage.getByRole('button', { name: 'Revoke for everyone' }).click();
    await notice('Revoked. No one can open this message any more.').waitFor();
    expect((await message()).revokedAt).toEqual(expect.any(String));
    await senderPage.getByRole('region', { name: 'Summary' }).getByText('Revoked', { exact: true }).waitFor();
    await check(senderPage, '04-revoked-for-everyone');
    await senderPage.locator('.notice-slot').getByRole('button', { name: 'Undo', exact: true }).click();
    await notice('Revocation undone.').waitFor();
    expect((await message()).revokedAt).toBeNull();

    // And with the header's "Undo revoke".
    await senderPage.getByRole('button', { name: 'Revoke for everyone' }).click();
    await notice('Revoked. No one can open this message any more.').waitFor();
    await senderPage.getByRole('button', { name: 'Undo revoke', exact: true }).click();
    await notice('Revocation undone. Recipients can open the message again.').waitFor();
    expect((await message()).revokedAt).toBeNull();
    await senderPage.getByRole('button', { name: 'Revoke for everyone' }).waitFor();
  });

  it('changes the expiry and removes it', async () => {
    expect((await message()).expiresAt).toBeNull();
    const when = new Date(Date.now() + 10 * 86_400_000);
    const value = localInput(when);
    await senderPage.getByLabel('New expiry').fill(value);
    await senderPage.getByRole('button', { name: 'Change expiry' }).click();
    await notice('Expiry changed.').waitFor();
    const expected = await senderPage.evaluate((v) => new Date(v).toISOString(), value);
    expect((await message()).expiresAt).toBe(expected);
    // The saved expiry shows in the summary; the field is empty for the next change.
    await expect(senderPage.getByLabel('New expiry').inputValue()).resolves.toBe('');
    await expect(senderPage.getByRole('button', { name: 'Change expiry' }).isDisabled()).resolves.toBe(true);
    await expect(senderPage.getByRole('region', { name: 'Summary' }).getByText('Never').count()).resolves.toBe(0);
    await check(senderPage, '05-expiry-changed');

    await senderPage.getByRole('button', { name: 'Remove expiry' }).click();
    await notice('Expiry removed.').waitFor();
    expect((await message()).expiresAt).toBeNull();
    await senderPage.getByRole('region', { name: 'Summary' }).getByText('Never').waitFor();
  });

  it('adds a recipient, who is notified, and removes them, whose link then stops working', async () => {
    const before = env.smtp.messages.length;
    await senderPage.getByRole('button', { name: 'Add recipients' }).click();
    await senderPage.getByLabel('Add to To', { exact: true }).fill(DAN);
    await senderPage.getByLabel('Add to To', { exact: true }).press('Enter');
    await check(senderPage, '06-add-recipient');
    await senderPage.getByRole('button', { name: 'Add and notify' }).click();
    await notice('Recipients added and notified.').waitFor();
    expect(await recipientOf(DAN)).toMatchObject({ kind: 'to', revokedAt: null });
    links[DAN] = linkIn((await recipient.mailTo(DAN, before, (m) => linkIn(m.text) !== undefined)).text)!;
    expect((await call(null, 'POST', '/api/v1/access/link', { link: links[DAN] })).status).toBe(200);
    await row(DAN).waitFor();

    await senderPage.getByRole('button', { name: `Remove ${DAN}` }).click();
    await notice(`${DAN} removed; their link no longer works.`).waitFor();
    await row(DAN).getByText('Removed', { exact: true }).waitFor();
    expect(await recipientOf(DAN)).toMatchObject({ status: 'removed' });
    expect(await call(null, 'POST', '/api/v1/access/link', { link: links[DAN] })).toMatchObject({ status: 404, body: { error: { code: 'link_not_found' } } });
    // The others are untouched.
    expect(await recipientOf(RACHEL)).toMatchObject({ status: 'opened' });
    expect(await recipientOf(CARL)).toMatchObject({ status: 'notified' });
    await check(senderPage, '07-recipient-removed');
  });

  it('lets a forwarded link\'s holder ask for access; the sender approves one (Bcc) and denies another', async () => {
    // Fiona holds Carl's forwarded notification and asks on the open page.
    await recipientPage.goto(`${env.server.url}/sign-in`);
    await recipientPage.goto(`${env.server.url}/open#${links[CARL]}`);
    await recipientPage.getByRole('heading', { name: 'You have a secure message' }).waitFor();
    await recipientPage.getByRole('button', { name: 'ask the sender for access' }).click();
    await recipientPage.getByRole('heading', { name: 'Ask for access' }).waitFor();
    await recipientPage.getByLabel('Your email address').fill(FIONA);
    await recipientPage.getByLabel('Why you need access (optional)').fill('I am Carl\'s colleague and handle the signing.');
    await check(recipientPage, '08-request-access');
    let before = env.smtp.messages.length;
    await recipientPage.getByRole('button', { name: 'Email me a code' }).click();
    const code = codeIn((await recipient.mailTo(FIONA, before, (m) => codeIn(m.text) !== undefined)).text)!;
    await recipientPage.getByLabel('6-digit code').fill(code);
    await recipientPage.getByRole('button', { name: 'Confirm request' }).click();
    await recipientPage.getByText('The sender has been asked.').waitFor();
    await check(recipientPage, '09-request-sent');

    // Gus holds the same link and asks through the API.
    before = env.smtp.messages.length;
    const asked = await call(null, 'POST', '/api/v1/access/requests', { link: links[CARL], email: GUS, reason: 'Forwarded to me' });
    expect(asked.status).toBe(202);
    const gusCode = codeIn((await recipient.mailTo(GUS, before, (m) => codeIn(m.text) !== undefined)).text)!;
    expect((await call(null, 'POST', '/api/v1/access/requests/verify', { requestId: asked.body.requestId, code: gusCode })).status).toBe(200);

    await senderPage.getByRole('button', { name: 'Refresh' }).click();
    const requests = senderPage.getByRole('region', { name: 'Access requests' });
    const request = (email: string) => requests.getByRole('listitem').filter({ hasText: email });
    await request(FIONA).waitFor();
    await request(GUS).waitFor();
    await expect(request(FIONA).getByText('I am Carl\'s colleague and handle the signing.').isVisible()).resolves.toBe(true);
    await expect(request(GUS).getByText(`through ${CARL}'s link`).isVisible()).resolves.toBe(true);
    await check(senderPage, '10-access-requests');

    before = env.smtp.messages.length;
    await requests.getByRole('button', { name: `Approve ${FIONA}` }).click();
    await notice(`${FIONA} can now open the message (added as Bcc).`).waitFor();
    await row(FIONA).waitFor();
    expect(await recipientOf(FIONA)).toMatchObject({ kind: 'bcc', revokedAt: null });
    // Her notification goes out in the background; the page picks up the new status without Refresh.
    await row(FIONA).getByText('Notified', { exact: true }).waitFor({ timeout: 15_000 });
    expect(await recipientOf(FIONA)).toMatchObject({ status: 'notified' });
    // Her own link works: she reads the message.
    links[FIONA] = linkIn((await recipient.mailTo(FIONA, before, (m) => linkIn(m.text) !== undefined)).text)!;
    const read = await recipient.decrypt(await recipient.verify(FIONA, links[FIONA]));
    expect(read.status).toBe(200);
    expect(read.envelope!.subject).toBe(SUBJECT);

    await requests.getByRole('button', { name: `Deny ${GUS}` }).click();
    await notice(`Request from ${GUS} denied.`).waitFor();
    await expect(request(FIONA).getByText('Approved', { exact: true }).isVisible()).resolves.toBe(true);
    await expect(request(GUS).getByText('Denied', { exact: true }).isVisible()).resolves.toBe(true);
    const decided = (await call(admin, 'GET', `/api/v1/messages/${messageId}/access-requests`)).body.requests;
    expect(decided.map((r: { email: string; status: string }) => [r.email, r.status]).sort()).toEqual([[FIONA, 'approved'], [GUS, 'denied']]);
    expect((await message()).recipients.some((r: { email: string }) => r.email === GUS)).toBe(false);
    await check(senderPage, '11-access-decided');
  });

  it('shows a recipient\'s reply in the sender\'s conversation', async () => {
    const text = 'Signed copy to follow by Friday.';
    await recipientPage.goto(`${env.server.url}/sign-in`);
    await recipientPage.goto(`${env.server.url}/open#${links[RACHEL]}`);
    await recipientPage.getByRole('heading', { name: 'You have a secure message' }).waitFor();
    const code = await codeOnOpenPage(RACHEL);
    await recipientPage.getByLabel('6-digit code').fill(code);
    await recipientPage.getByRole('button', { name: 'Open message' }).click();
    await recipientPage.getByRole('heading', { name: SUBJECT }).waitFor();
    await recipientPage.getByRole('button', { name: 'Reply', exact: true }).click();
    await recipientPage.getByLabel('Your reply').fill(text);
    await recipientPage.getByRole('button', { name: 'Send reply' }).click();
    await recipientPage.getByText('Your reply was sent securely').waitFor();

    const thread = (await call(admin, 'GET', `/api/v1/messages/${messageId}/thread`)).body.messages;
    expect(thread.filter((m: { fromRecipient: boolean; text: string }) => m.fromRecipient && m.text === text)).toHaveLength(1);

    await senderPage.getByRole('button', { name: 'Refresh' }).click();
    const reply = senderPage.getByRole('region', { name: 'Conversation' }).getByRole('listitem').filter({ hasText: text });
    await reply.waitFor();
    await expect(reply.getByText('Reply', { exact: true }).isVisible()).resolves.toBe(true);
    await expect(reply.getByText(RACHEL).isVisible()).resolves.toBe(true);
    await senderPage.getByRole('list', { name: 'Audit timeline' }).getByRole('listitem').filter({ hasText: 'Replied' }).first().waitFor();
    await check(senderPage, '12-reply-in-thread');
  });

  /** Opens an administration tab from the header. */
  async function adminTab(name: string): Promise<void> {
    await senderPage.getByRole('link', { name: 'Administration' }).first().click();
    await senderPage.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name, exact: true }).click();
  }

  it('creates a label with its policy, retires and restores it', async () => {
    await adminTab('Labels');
    await senderPage.getByRole('heading', { name: 'Classification labels' }).waitFor();
    await senderPage.getByLabel('Name', { exact: true }).fill('Client-Privileged');
    await senderPage.getByLabel('Rank (0 = least sensitive)').fill('2');
    await senderPage.getByLabel('Description').fill('Legal advice to clients.');
    await senderPage.getByLabel('Default expiry in days (empty: none)').fill('14');
    await senderPage.getByLabel('No forwarding').check();
    await senderPage.getByLabel('No download (view only)').check();
    await senderPage.getByLabel('Watermark').check();
    await senderPage.getByLabel('Disclaimer (optional)').fill('Privileged and confidential.');
    await check(senderPage, '13-new-label');
    await senderPage.getByRole('button', { name: 'Create label' }).click();
    await senderPage.getByText('Label "Client-Privileged" created.').waitFor();
    const item = senderPage.getByRole('listitem').filter({ has: senderPage.getByText('Client-Privileged', { exact: true }) });
    await item.waitFor();

    const find = async () => (await call(admin, 'GET', '/api/v1/labels/all')).body.labels.find((l: { name: string }) => l.name === 'Client-Privileged');
    expect(await find()).toMatchObject({ rank: 2, description: 'Legal advice to clients.', defaultExpiryDays: 14, noForward: true, noDownload: true, watermark: true, hideSubject: false, disclaimer: 'Privileged and confidential.', retiredAt: null, isDefault: false });
    // The policy applies to a send under it.
    const sent = await call(admin, 'POST', '/api/v1/messages', { to: ['label@partner.example'], subject: 'Privileged', text: 'x', label: 'Client-Privileged' });
    expect(sent.status).toBe(201);
    expect((Date.parse(sent.body.expiresAt) - Date.parse(sent.body.createdAt)) / 86_400_000).toBeCloseTo(14, 3);
    await check(senderPage, '14-label-created');

    await item.getByRole('button', { name: 'Retire Client-Privileged' }).click();
    await senderPage.getByText('"Client-Privileged" retired; messages sent under it keep its policy.').waitFor();
    expect((await find()).retiredAt).toEqual(expect.any(String));
    expect((await call(admin, 'GET', '/api/v1/labels')).body.labels.map((l: { name: string }) => l.name)).not.toContain('Client-Privileged');
    await item.getByRole('button', { name: 'Restore Client-Privileged' }).click();
    await senderPage.getByText('"Client-Privileged" is available again.').waitFor();
    expect((await find()).retiredAt).toBeNull();
  });

  it('edits a label\'s policy: a message already sent under it loses its Download button, the next send gets the new expiry', async () => {
    // A message with a file under "public" (downloads allowed, no expiry); Erin opens it.
    const file = Buffer.from('Terms and conditions.\n');
    const uploaded = await fetch(`${env.server.url}/api/v1/uploads`, { method: 'POST', headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/octet-stream', 'content-length': String(file.length) }, body: new Uint8Array(file) });
    expect(uploaded.status).toBe(201);
    const { uploadId } = (await uploaded.json()) as { uploadId: string };
    const before = env.smtp.messages.length;
    const sent = await call(admin, 'POST', '/api/v1/messages', { to: [ERIN], subject: 'Terms', text: 'The terms are attached.', label: 'public', attachments: [{ uploadId, filename: 'terms.txt', contentType: 'text/plain' }] });
    expect(sent.status).toBe(201);
    expect(sent.body.expiresAt).toBeNull();
    const link = linkIn((await recipient.mailTo(ERIN, before, (m) => linkIn(m.text) !== undefined)).text)!;
    const openAsErin = async () => {
      await recipientPage.goto(`${env.server.url}/sign-in`);
      await recipientPage.goto(`${env.server.url}/open#${link}`);
      await recipientPage.getByRole('heading', { name: 'You have a secure message' }).waitFor();
      await recipientPage.getByLabel('6-digit code').fill(await codeOnOpenPage(ERIN));
      await recipientPage.getByRole('button', { name: 'Open message' }).click();
      await recipientPage.getByRole('heading', { name: 'Terms' }).waitFor();
    };
    await openAsErin();
    await recipientPage.getByRole('button', { name: 'Download terms.txt' }).waitFor();

    await adminTab('Labels');
    const item = senderPage.getByRole('listitem').filter({ has: senderPage.getByText('public', { exact: true }) });
    await item.getByRole('button', { name: 'Edit public' }).click();
    const form = senderPage.getByRole('form', { name: 'Edit public' });
    // The form opens on its heading (keyboard users start there) with the current policy.
    await expect.poll(() => senderPage.evaluate(() => document.activeElement?.textContent)).toBe('Edit public');
    await expect(form.getByLabel('Name', { exact: true }).inputValue()).resolves.toBe('public');
    await expect(form.getByLabel('Default expiry in days (empty: none)').inputValue()).resolves.toBe('');
    await expect(form.getByLabel('No download (view only)').isChecked()).resolves.toBe(false);
    await expect(form.getByRole('button', { name: 'Save changes' }).isDisabled()).resolves.toBe(true); // nothing changed yet
    await form.getByText('apply at once to the 1 message already sent under this label').waitFor();
    const invalidFocused = () => senderPage.evaluate(() => document.activeElement?.getAttribute('aria-invalid'));

    // The API's refusals show next to the field at fault, which gets the focus.
    await form.getByLabel('Default expiry in days (empty: none)').fill('5000');
    await form.getByLabel('No download (view only)').check();
    await form.getByLabel('Default expiry in days (empty: none)').press('Enter');
    await form.getByText('Must be a whole number of days from 1 to 3650').waitFor();
    await expect(form.getByLabel('Default expiry in days (empty: none)').getAttribute('aria-invalid')).resolves.toBe('true');
    await expect.poll(invalidFocused).toBe('true');
    await form.getByLabel('Default expiry in days (empty: none)').fill('7');
    await form.getByLabel('Name', { exact: true }).fill('Internal');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await form.getByText('A label named "internal" already exists').waitFor();
    await expect(form.getByLabel('Name', { exact: true }).getAttribute('aria-invalid')).resolves.toBe('true');
    await check(senderPage, '14b-label-edit-refused');
    const publicLabel = async () => (await call(admin, 'GET', '/api/v1/labels/all')).body.labels.find((l: { name: string }) => l.name === 'public');
    expect(await publicLabel()).toMatchObject({ defaultExpiryDays: null, noDownload: false });

    await form.getByLabel('Name', { exact: true }).fill('public');
    await check(senderPage, '14c-label-edit');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await senderPage.getByText('Label "public" saved.').waitFor();
    await expect(form.count()).resolves.toBe(0);
    await expect.poll(() => senderPage.evaluate(() => document.activeElement?.textContent)).toBe('Edit public'); // back on its Edit button
    await item.getByText('Attachments can be viewed but not saved').waitFor();
    expect(await publicLabel()).toMatchObject({ name: 'public', defaultExpiryDays: 7, noDownload: true, noForward: false, watermark: false, disclaimer: null, isDefault: false });

    // Erin's message, sent before the change, now opens without a Download button.
    await openAsErin();
    await recipientPage.getByText('Attachments can be viewed here but not saved.').waitFor();
    await expect(recipientPage.getByRole('button', { name: /Download/ }).count()).resolves.toBe(0);
    await recipientPage.getByRole('button', { name: 'View terms.txt' }).waitFor();
    await check(recipientPage, '14d-label-edit-applies');
    // Its expiry stays as sent; the next send under the label gets the new default.
    expect((await call(admin, 'GET', `/api/v1/messages/${sent.body.id}`)).body.expiresAt).toBeNull();
    const next = await call(admin, 'POST', '/api/v1/messages', { to: [ERIN], subject: 'Terms, again', text: 'x', label: 'public' });
    expect(next.status).toBe(201);
    expect((Date.parse(next.body.expiresAt) - Date.parse(next.body.createdAt)) / 86_400_000).toBeCloseTo(7, 3);
  });

  it('saves the notification branding, and the recipient page wears it', async () => {
    await adminTab('Organisation');
    await senderPage.getByRole('heading', { name: 'Notification branding' }).waitFor();
    await senderPage.getByLabel('Display name').fill('Firm & Partners');
    await senderPage.getByLabel('Accent colour').fill('#aa3300');
    await senderPage.getByLabel('Footer text').fill('Firm & Partners LLP, 2 Example Lane');
    await senderPage.getByRole('button', { name: 'Save branding' }).click();
    await senderPage.getByText('Branding saved.').waitFor();
    const tenant = (await call(admin, 'GET', '/api/v1/tenant')).body;
    expect(tenant.branding).toMatchObject({ displayName: 'Firm & Partners', accentColor: '#aa3300', footerText: 'Firm & Partners LLP, 2 Example Lane' });
    await check(senderPage, '15-branding-saved');

    await senderPage.reload();
    await senderPage.getByRole('heading', { name: 'Notification branding' }).waitFor();
    await expect(senderPage.getByLabel('Display name').inputValue()).resolves.toBe('Firm & Partners');
    await expect(senderPage.getByLabel('Accent colour').inputValue()).resolves.toBe('#aa3300');
    await expect(senderPage.getByLabel('Footer text').inputValue()).resolves.toBe('Firm & Partners LLP, 2 Example Lane');

    await recipientPage.goto(`${env.server.url}/sign-in`);
    await recipientPage.goto(`${env.server.url}/open#${links[CARL]}`);
    await recipientPage.getByRole('banner').getByText('Firm & Partners').waitFor();
    await recipientPage.getByText('Firm & Partners LLP, 2 Example Lane').waitFor();
  });

  it('changes a user\'s role and disables them', async () => {
    await adminTab('Users');
    const role = senderPage.getByLabel(`Role of ${bo.email}`);
    await role.waitFor();
    await role.selectOption('auditor');
    await senderPage.getByText(`${bo.email} is now auditor.`).waitFor();
    const roleOf = async () => (await call(admin, 'GET', '/api/v1/users')).body.users.find((u: { email: string }) => u.email === bo.email).role;
    expect(await roleOf()).toBe('auditor');
    await check(senderPage, '16-role-changed');

    expect((await call(bo, 'GET', '/api/v1/tokens')).status).toBe(200);
    await role.selectOption('disabled');
    await senderPage.getByText(`${bo.email} is disabled and signed out everywhere.`).waitFor();
    expect(await roleOf()).toBe('disabled');
    expect((await call(bo, 'GET', '/api/v1/tokens')).status).toBe(401);
    await expect(senderPage.getByRole('button', { name: `New sign-in link for ${bo.email}` }).isDisabled()).resolves.toBe(true);
    await check(senderPage, '17-user-disabled');
  });

  it('filters the audit log by action and date and exports the same events as CSV', async () => {
    await adminTab('Audit log');
    await senderPage.getByRole('heading', { name: 'Events, newest first' }).waitFor();
    const rows = senderPage.getByRole('region', { name: 'Events, newest first' }).locator('tbody tr');
    await rows.first().waitFor();

    await senderPage.getByLabel('From', { exact: true }).fill(localInput(new Date(startedAt.getTime() - 3_600_000)));
    await senderPage.getByLabel('Action (e.g. message.*)').fill('label.*');
    await senderPage.getByRole('button', { name: 'Apply' }).click();
    const expected = (await call(admin, 'GET', `/api/v1/audit?action=label.*&limit=200&from=${encodeURIComponent(new Date(startedAt.getTime() - 3_600_000).toISOString())}`)).body.events as Array<{ id: string; action: string }>;
    expect(expected.map((e) => e.action).sort()).toEqual(['label.created', 'label.restored', 'label.retired', 'label.updated']);
    await expect.poll(() => rows.count()).toBe(expected.length);
    const shown = await rows.locator('td:nth-child(3)').allTextContents();
    expect(shown).toEqual(expected.map((e) => e.action));
    await check(senderPage, '18-audit-filtered');

    const exportCsv = async () => {
      const [download] = await Promise.all([senderPage.waitForEvent('download'), senderPage.getByRole('link', { name: 'Export CSV' }).click()]);
      expect(download.suggestedFilename()).toMatch(/^sealpost-audit-.*\.csv$/);
      return parseCsv(await readFile((await download.path())!, 'utf8'));
    };
    const csv = await exportCsv();
    expect(csv[0]).toEqual(CSV_HEADER);
    const body = csv.slice(1);
    expect(body.map((r) => r[CSV_HEADER.indexOf('action')])).toEqual(expected.map((e) => e.action).reverse()); // oldest first
    expect(body.map((r) => r[CSV_HEADER.indexOf('event_id')])).toEqual(expected.map((e) => e.id).reverse());

    // A period that ends before this test started: nothing in the table or the export.
    await senderPage.getByLabel('From', { exact: true }).fill('');
    await senderPage.getByLabel('To', { exact: true }).fill(localInput(new Date(startedAt.getTime() - 3_600_000)));
    await senderPage.getByLabel('Action (e.g. message.*)').fill('');
    await senderPage.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => rows.count()).toBe(0);
    await check(senderPage, '19-audit-empty-period');
    expect(await exportCsv()).toEqual([CSV_HEADER]);

    for (const w of watched) expect(w.errors).toEqual([]);
  });
});
