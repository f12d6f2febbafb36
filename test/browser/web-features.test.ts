// The web app's features beyond the basic flow, end to end in Chromium against the real server
// (PGlite) and a real SMTP sink: a formatted body (and a script payload that must not reach the
// reader), a file dropped on the drop zone, a no-download + watermark label (in-page viewer, no
// save button, no plaintext from the server), a multi-segment download with progress (Blob
// path, and the File System Access path above 64 MiB), and ended sessions for sender and
// recipient. Each new page state is audited (one main landmark, labelled controls) and
// screenshotted to test-artifacts/browser/features-*.png.
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { createTestUser, type TestUser } from '../support/api-users.ts';
import { apiClient, codeIn, linkIn, recipientClient, startE2eServer, type E2eServer } from '../support/e2e.ts';
import { audit, launchChromium, screenshot, watchPage } from './support/browser.ts';

const RECIPIENT = 'rachel@client.example';
const MIB = 1024 * 1024;

/** A small valid PNG (RGB, a two-colour pattern), so the viewer has a real image to decode. */
function png(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) row.set((x >> 3) % 2 === (y >> 3) % 2 ? [10, 125, 90] : [240, 240, 240], 1 + x * 3);
    rows.push(row);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

/** A one-page PDF with one line of text (a valid cross-reference table included). */
function pdf(text: string): Buffer {
  const stream = `BT /F1 24 Tf 72 720 Td (${text}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * Records every value the progress bars whose name starts with `prefix` show, as the page
 * renders them (a MutationObserver, so fast updates between two polls are not missed).
 */
async function recordProgress(page: Page, prefix: string): Promise<void> {
  await page.evaluate((p) => {
    const w = window as unknown as { __progress?: number[]; __progressObserver?: MutationObserver };
    w.__progressObserver?.disconnect();
    const seen: number[] = [];
    w.__progress = seen;
    const read = () => {
      for (const el of Array.from(document.querySelectorAll('[role=progressbar]'))) {
        if ((el.getAttribute('aria-label') ?? '').startsWith(p)) seen.push(Number(el.getAttribute('aria-valuenow')));
      }
    };
    w.__progressObserver = new MutationObserver(read);
    w.__progressObserver.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow', 'aria-label'] });
  }, prefix);
}

/** The progress values recorded since recordProgress, and stops recording. */
async function recordedProgress(page: Page): Promise<number[]> {
  return page.evaluate(() => {
    const w = window as unknown as { __progress?: number[]; __progressObserver?: MutationObserver };
    w.__progressObserver?.disconnect();
    return w.__progress ?? [];
  });
}

/** Slows the page's network (bytes per second each way; -1: no limit), so progress is observable. */
async function throttle(cdp: CDPSession, bytesPerSecond: { down: number; up: number } | null): Promise<void> {
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: bytesPerSecond?.down ?? -1, uploadThroughput: bytesPerSecond?.up ?? -1 });
}

describe('web app features in the browser', () => {
  let env: E2eServer;
  let browser: Browser;
  let sender: TestUser;
  let senderPage: Page;
  let recipientPage: Page;
  const watched: Array<{ errors: string[] }> = [];
  const call = apiClient(() => env.server);
  const recipient = recipientClient(() => env);
  const tmpFiles: string[] = [];

  beforeAll(async () => {
    env = await startE2eServer('pglite', 'browser-features');
    // An administrator may send too; the label for item 3 is created through the admin API.
    sender = await createTestUser(env.server, { email: 'sam@sender.example', role: 'administrator' });
    browser = await launchChromium();
    senderPage = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    recipientPage = await (await browser.newContext({ viewport: { width: 1100, height: 900 }, acceptDownloads: true })).newPage();
    watched.push(watchPage(senderPage), watchPage(recipientPage));
    await senderPage.goto(`${env.server.url}/sign-in`);
    await senderPage.getByLabel('Email address').fill(sender.email);
    await senderPage.getByLabel('Password').fill(sender.password);
    await senderPage.getByRole('button', { name: 'Sign in' }).click();
    await senderPage.waitForURL('**/sent');
  });

  afterAll(async () => {
    await browser?.close();
    await env?.close();
    for (const f of tmpFiles) await rm(f, { force: true });
  });

  /** Checks the page state for one main landmark and no unlabelled control, and screenshots it. */
  async function check(page: Page, name: string): Promise<void> {
    expect(await audit(page), name).toEqual({ mains: 1, unlabelled: [] });
    await screenshot(page, `features-${name}`);
  }

  /** Ends the sender's sessions in the database, as their lifetime would. */
  function endSenderSessions() {
    return env.server.runtime.db.query(`UPDATE sessions SET expires_at = now() - interval '1 minute' WHERE user_id = $1`, [sender.id]);
  }

  /** Signs the sender in on the sign-in page, which then returns to compose. */
  async function signInAgainToCompose(): Promise<void> {
    await senderPage.getByLabel('Email address').fill(sender.email);
    await senderPage.getByLabel('Password').fill(sender.password);
    await senderPage.getByRole('button', { name: 'Sign in' }).click();
    await senderPage.waitForURL('**/compose');
  }

  /** Opens compose with the recipient and subject filled in. */
  async function startCompose(subject: string): Promise<void> {
    await senderPage.getByRole('link', { name: 'Compose' }).click();
    await senderPage.getByRole('heading', { name: 'New secure message' }).waitFor();
    await senderPage.getByLabel('To', { exact: true }).fill(RECIPIENT);
    await senderPage.getByLabel('To', { exact: true }).press('Enter');
    await senderPage.getByLabel('Subject').fill(subject);
  }

  /** Sends the draft (past a pre-send warning if one shows) and returns the recipient's link. */
  async function sendDraft(subject: string): Promise<{ link: string; messageId: string }> {
    const before = env.smtp.messages.length;
    await senderPage.getByRole('button', { name: 'Send securely' }).click();
    const sentUrl = /\/sent\/([0-9a-f-]{36})$/;
    const panel = senderPage.getByRole('heading', { name: 'Check before sending' });
    await Promise.race([senderPage.waitForURL(sentUrl), panel.waitFor()]);
    if (await panel.isVisible()) {
      await senderPage.getByLabel(/Reason for sending anyway/).fill('Client, address confirmed by phone');
      await senderPage.getByRole('button', { name: 'Send anyway' }).click();
    }
    await senderPage.waitForURL(sentUrl);
    await senderPage.getByRole('heading', { name: subject }).waitFor();
    const mail = await env.smtp.waitFor((m) => env.smtp.messages.indexOf(m) >= before && m.to.includes(RECIPIENT) && linkIn(m.text) !== undefined);
    return { link: linkIn(mail.text)!, messageId: sentUrl.exec(senderPage.url())![1]! };
  }

  /** Requests a code on the recipient's page, reads it from the SMTP sink and enters it. */
  async function enterCode(page: Page): Promise<void> {
    const before = env.smtp.messages.length;
    await page.getByRole('button', { name: 'Email me a code' }).click();
    const mail = await env.smtp.waitFor((m) => env.smtp.messages.indexOf(m) >= before && m.to.includes(RECIPIENT) && codeIn(m.text) !== undefined);
    await page.getByLabel('6-digit code').fill(codeIn(mail.text)!);
    await page.getByRole('button', { name: 'Open message' }).click();
  }

  /** Opens `link` as the recipient and waits for the decrypted message. */
  async function openAsRecipient(link: string, subject: string): Promise<void> {
    await recipientPage.goto(`${env.server.url}/open#${link}`);
    await recipientPage.getByRole('heading', { name: 'You have a secure message' }).waitFor();
    await enterCode(recipientPage);
    await recipientPage.getByRole('heading', { name: subject }).waitFor();
  }

  /** Clicks the Download button of `filename` and returns the saved file's bytes. */
  async function download(filename: string): Promise<Buffer> {
    const [dl] = await Promise.all([recipientPage.waitForEvent('download'), recipientPage.getByRole('button', { name: `Download ${filename}` }).click()]);
    expect(dl.suggestedFilename()).toBe(filename);
    const saved = path.join(os.tmpdir(), `sealpost-features-${process.pid}-${filename}`);
    tmpFiles.push(saved);
    await dl.saveAs(saved);
    return readFile(saved);
  }

  it('sends a formatted body; the recipient sees the formatting and no script or event handler', async () => {
    const subject = 'Formatted figures';
    await startCompose(subject);
    await senderPage.getByRole('button', { name: 'Formatted', exact: true }).click();
    const editor = senderPage.getByRole('textbox', { name: 'Message' });
    await editor.click();
    await senderPage.keyboard.type('Hello Rachel, ');
    await senderPage.getByRole('button', { name: 'Bold' }).click();
    await senderPage.keyboard.type('Important');
    await senderPage.getByRole('button', { name: 'Bold' }).click();
    await senderPage.keyboard.type(' figures below.');
    await senderPage.keyboard.press('Enter');
    await senderPage.getByRole('button', { name: 'Bulleted list' }).click();
    await senderPage.keyboard.type('First item');
    await senderPage.keyboard.press('Enter');
    await senderPage.keyboard.type('Second item');
    await senderPage.keyboard.press('Enter');
    await senderPage.keyboard.press('Enter'); // an empty item ends the list
    await senderPage.keyboard.type('See the report');
    for (let i = 0; i < 'report'.length; i++) await senderPage.keyboard.press('Shift+ArrowLeft');
    senderPage.once('dialog', (d) => void d.accept('https://example.org/report'));
    await senderPage.getByRole('button', { name: 'Link', exact: true }).click();
    const composed = await editor.innerHTML();
    expect(composed).toMatch(/<(b|strong)>Important<\/(b|strong)>/);
    expect(composed).toMatch(/<ul><li>First item<\/li><li>Second item<\/li><\/ul>/);
    expect(composed).toContain('<a href="https://example.org/report">report</a>');

    // HTML as a paste from elsewhere might bring it (the editor has no source view): script,
    // inline event handlers, a javascript: link, a style attribute. The page's CSP stops the
    // handlers from running here; what matters is that none of it reaches the reader.
    await editor.evaluate((el) => {
      el.insertAdjacentHTML(
        'beforeend',
        '<p id="pasted" style="color:red" onclick="document.title=\'pwned\'">Pasted <img src="/nothing.png" onerror="document.title=\'pwned\'"><script>document.title="pwned"</script><a href="javascript:document.title=\'pwned\'" onmouseover="document.title=\'pwned\'">bad link</a> <svg onload="document.title=\'pwned\'"><text>svg</text></svg>end</p>',
      );
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await check(senderPage, '01-compose-formatted');
    const { link } = await sendDraft(subject);

    await openAsRecipient(link, subject);
    const body = recipientPage.locator('.body-html');
    await expect(body.locator('b, strong').filter({ hasText: 'Important' }).count()).resolves.toBe(1);
    await expect(body.locator('ul > li').allTextContents()).resolves.toEqual(['First item', 'Second item']);
    const a = body.getByRole('link', { name: 'report' });
    await expect(a.getAttribute('href')).resolves.toBe('https://example.org/report');
    await expect(a.getAttribute('rel')).resolves.toBe('noopener noreferrer nofollow');
    // The pasted paragraph's text survives; everything active in it is gone.
    await expect(body.locator('p').filter({ hasText: 'Pasted' }).textContent()).resolves.toMatch(/^Pasted\s*bad link\s*end$/);
    const dom = await recipientPage.evaluate(() => {
      const all = Array.from(document.querySelectorAll('*'));
      const region = document.querySelector('.body-html')!;
      return {
        handlers: all.flatMap((el) => Array.from(el.attributes).filter((at) => /^on/i.test(at.name)).map((at) => `${el.tagName} ${at.name}`)),
        scriptsInBody: region.querySelectorAll('script, img, svg, iframe, object, embed, [style], [id]').length,
        javascriptLinks: Array.from(document.querySelectorAll('a')).filter((x) => /^\s*javascript:/i.test(x.getAttribute('href') ?? '')).length,
        badLinkHref: Array.from(region.querySelectorAll('a')).find((x) => x.textContent === 'bad link')?.getAttribute('href') ?? null,
        title: document.title,
      };
    });
    expect(dom).toEqual({ handlers: [], scriptsInBody: 0, javascriptLinks: 0, badLinkHref: null, title: `${subject} · Sealpost` });
    await check(recipientPage, '02-read-formatted');

    // What the server stored (sealed) is clean too, not only what this browser shows.
    const stored = await recipient.decrypt(await recipient.verify(RECIPIENT, link));
    expect(stored.envelope!.html).toMatch(/<(b|strong)>Important<\/(b|strong)>/);
    expect(stored.envelope!.html).not.toMatch(/<script|<img|<svg|\son\w+=|javascript:|style=/i);
    expect(stored.envelope!.text).toContain('Second item');
  });

  it('uploads a file dropped on the drop zone with progress; the recipient downloads the same bytes', async () => {
    const subject = 'Dropped file';
    const dropped = randomBytes(Math.round(1.5 * MIB));
    await startCompose(subject);
    await senderPage.getByLabel('Message').fill('The file I dropped.');

    // A DataTransfer built in the page, as a drag from the desktop delivers it.
    const transfer = await senderPage.evaluateHandle((b64) => {
      const bin = atob(b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'dropped.bin', { type: 'application/octet-stream' }));
      return dt;
    }, dropped.toString('base64'));
    const zone = senderPage.locator('.dropzone');
    await zone.dispatchEvent('dragenter', { dataTransfer: transfer });
    await zone.dispatchEvent('dragover', { dataTransfer: transfer });
    await expect(zone.getAttribute('class')).resolves.toContain('dropzone-over');
    await screenshot(senderPage, 'features-03-drag-over');

    // Uploads at 512 KiB/s, so the bar has time to move (about 3 s).
    const cdp = await senderPage.context().newCDPSession(senderPage);
    await throttle(cdp, { down: -1, up: 512 * 1024 });
    await recordProgress(senderPage, 'Uploading dropped.bin');
    await zone.dispatchEvent('drop', { dataTransfer: transfer });
    await senderPage.getByRole('progressbar', { name: 'Uploading dropped.bin' }).waitFor();
    await check(senderPage, '04-drop-uploading');
    await senderPage.getByRole('progressbar', { name: 'dropped.bin uploaded' }).waitFor({ timeout: 30_000 });
    await throttle(cdp, null);
    const seen = await recordedProgress(senderPage);
    expect(seen.some((v) => v > 0 && v < 100), `upload progress values seen: ${seen.join(', ')}`).toBe(true);
    await expect(senderPage.getByRole('progressbar', { name: 'dropped.bin uploaded' }).getAttribute('aria-valuenow')).resolves.toBe('100');
    await expect(zone.getAttribute('class')).resolves.not.toContain('dropzone-over');
    await check(senderPage, '05-drop-uploaded');
    const { link } = await sendDraft(subject);

    await openAsRecipient(link, subject);
    expect((await download('dropped.bin')).equals(dropped)).toBe(true);
  });

  it('shows no-download + watermark attachments in the in-page viewer only; the server gives out only sealed bytes', async () => {
    const created = await call(sender, 'POST', '/api/v1/labels', { name: 'view-only', rank: 5, description: 'Read in the portal only.', noDownload: true, watermark: true });
    expect(created.status).toBe(201);
    const subject = 'Board pack';
    const text = 'Board notes\nLine two: the numbers.\n';
    const image = png(96, 64);
    const pdfBytes = pdf('Board summary PDF');
    await startCompose(subject);
    await senderPage.getByLabel('Classification label').selectOption('view-only');
    const implications = senderPage.getByRole('list', { name: 'What "view-only" means' });
    await implications.getByText('Attachments can be viewed but not saved').waitFor();
    await implications.getByText("Watermarked with the reader's address").waitFor();
    await senderPage.getByLabel('Message').fill('Please read the board pack here.');
    await senderPage.locator('input[type=file]').setInputFiles([
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from(text) },
      { name: 'chart.png', mimeType: 'image/png', buffer: image },
      { name: 'summary.pdf', mimeType: 'application/pdf', buffer: pdfBytes },
    ]);
    for (const n of ['notes.txt', 'chart.png', 'summary.pdf']) await senderPage.getByText(`${n} uploaded`).waitFor();
    await check(senderPage, '06-compose-view-only');
    const { link } = await sendDraft(subject);

    // The session token and object ids, as the page got them (to try the server directly below).
    let session: string | undefined;
    let objectIds: string[] = [];
    const onRequest = (r: import('playwright-core').Request) => {
      const h = r.headers()['x-recipient-session'];
      if (h) session = h;
    };
    const onResponse = async (r: import('playwright-core').Response) => {
      if (r.url().endsWith('/api/v1/access/open') && r.status() === 200) objectIds = ((await r.json()) as { message: { attachmentObjectIds: string[] } }).message.attachmentObjectIds;
    };
    recipientPage.on('request', onRequest);
    recipientPage.on('response', onResponse);
    const downloads: string[] = [];
    const onDownload = (d: import('playwright-core').Download) => downloads.push(d.suggestedFilename());
    recipientPage.on('download', onDownload);

    await openAsRecipient(link, subject);
    await recipientPage.getByText('Attachments can be viewed here but not saved.').waitFor();
    await expect(recipientPage.locator('.body-wrap .watermark span').first().textContent()).resolves.toContain(RECIPIENT);
    await expect(recipientPage.getByRole('button', { name: /Download/ }).count()).resolves.toBe(0);
    await expect(recipientPage.getByRole('button', { name: /^View / }).count()).resolves.toBe(3);
    await check(recipientPage, '07-read-view-only');

    await recipientPage.getByRole('button', { name: 'View notes.txt' }).click();
    const viewer = (name: string) => recipientPage.getByRole('region', { name: `Viewing ${name}` });
    await viewer('notes.txt').waitFor();
    await expect(viewer('notes.txt').locator('pre.viewer-text').textContent()).resolves.toBe(text);
    await expect(viewer('notes.txt').locator('.watermark span').first().textContent()).resolves.toContain(RECIPIENT);
    expect(await viewer('notes.txt').locator('.watermark').isVisible()).toBe(true);
    await check(recipientPage, '08-view-text');

    await recipientPage.getByRole('button', { name: 'View chart.png' }).click();
    const img = viewer('chart.png').getByRole('img', { name: 'chart.png' });
    await img.waitFor();
    await expect.poll(() => img.evaluate((el: HTMLImageElement) => (el.complete ? `${el.naturalWidth}x${el.naturalHeight}` : 'loading'))).toBe('96x64');
    expect(await viewer('chart.png').locator('.watermark').isVisible()).toBe(true);
    await check(recipientPage, '09-view-image');

    await recipientPage.getByRole('button', { name: 'View summary.pdf' }).click();
    const frame = viewer('summary.pdf').locator('iframe[title="summary.pdf"]');
    await frame.waitFor();
    await expect(frame.getAttribute('src')).resolves.toMatch(/^blob:.*#toolbar=0$/);
    expect(await viewer('summary.pdf').locator('.watermark').isVisible()).toBe(true);
    // Chromium's own PDF viewer (an extension frame) took the blob and loaded it, rather than
    // offering it as a download: its element's loadState_ (internal to Chromium's viewer;
    // 'failed' for a broken file) becomes 'success'. If a Chromium upgrade renames it, look
    // at chrome://resources pdf_viewer for the new name.
    const pdfViewerState = async () => {
      const frame = recipientPage.frames().find((f) => f.url().startsWith('chrome-extension://mhjfbmdgcfjbbpaeojofohoefgiehjai/'));
      if (!frame) return 'no PDF viewer frame';
      return frame.evaluate(() => (document.querySelector('pdf-viewer') as unknown as { loadState_?: string } | null)?.loadState_ ?? 'no pdf-viewer element').catch((e: unknown) => String(e));
    };
    await expect.poll(pdfViewerState, { timeout: 15_000 }).toBe('success');
    await check(recipientPage, '10-view-pdf');
    expect(downloads).toEqual([]);
    recipientPage.off('request', onRequest);
    recipientPage.off('response', onResponse);
    recipientPage.off('download', onDownload);

    // There is no plaintext download to refuse: the server hands out attachments only as sealed
    // bytes (the viewer needs exactly these), only with the recipient session header.
    expect(session).toBeDefined();
    expect(objectIds).toHaveLength(3);
    for (const id of objectIds) {
      const url = `${env.server.url}/api/v1/access/objects/${id}`;
      const anonymous = await fetch(url);
      expect(anonymous.status).toBe(401);
      const navigated = await recipientPage.request.get(url); // e.g. "open in new tab" / "save link as": no header
      expect(navigated.status()).toBe(401);
      const sealed = Buffer.from(await (await fetch(url, { headers: { 'x-recipient-session': session! } })).arrayBuffer());
      expect(sealed.length).toBeGreaterThan(0);
      for (const plain of [Buffer.from(text), image, pdfBytes]) expect(sealed.includes(plain.subarray(0, 32))).toBe(false);
    }
  });

  it('downloads a multi-segment attachment as a stream with progress (Blob path); the saved bytes match', async () => {
    const subject = 'Large scan';
    const big = randomBytes(Math.round(3.5 * MIB)); // four 1 MiB segments
    await startCompose(subject);
    await senderPage.getByLabel('Message').fill('The scan, about 3.5 MiB.');
    await senderPage.locator('input[type=file]').setInputFiles({ name: 'scan.bin', mimeType: 'application/octet-stream', buffer: big });
    await senderPage.getByText('scan.bin uploaded').waitFor();
    const { link } = await sendDraft(subject);

    await openAsRecipient(link, subject);
    // 1 MiB/s down, so the download takes a few seconds and the bar is seen moving.
    const cdp = await recipientPage.context().newCDPSession(recipientPage);
    await throttle(cdp, { down: MIB, up: -1 });
    await recordProgress(recipientPage, 'Decrypting scan.bin');
    const saving = download('scan.bin');
    await recipientPage.getByRole('progressbar', { name: 'Decrypting scan.bin' }).waitFor();
    await recipientPage.getByText(/ of 3\.5 MB \(\d+%\)$/).waitFor();
    await check(recipientPage, '11-download-progress');
    const saved = await saving;
    await throttle(cdp, null);
    const seen = await recordedProgress(recipientPage);
    expect(new Set(seen.filter((v) => v > 0 && v < 100)).size, `download progress values seen: ${seen.join(', ')}`).toBeGreaterThanOrEqual(2);
    expect(saved.equals(big)).toBe(true);
    await recipientPage.getByRole('progressbar', { name: 'scan.bin decrypted' }).waitFor();
    await expect(recipientPage.getByRole('progressbar', { name: 'scan.bin decrypted' }).getAttribute('aria-valuenow')).resolves.toBe('100');
    await check(recipientPage, '12-download-done');
  });

  it('streams an attachment over 64 MiB straight into a file (File System Access path)', async () => {
    // The save dialog of showSaveFilePicker cannot be answered in headless Chromium, so the
    // page's picker is replaced by one that returns a real file handle in the origin-private
    // file system (OPFS); createWritable() and the streamed writes are Chromium's own.
    const subject = 'Archive over 64 MiB';
    const size = 65 * MIB + 12_345;
    const big = randomBytes(size);
    const file = path.join(os.tmpdir(), `sealpost-features-${process.pid}-archive.bin`);
    tmpFiles.push(file);
    await writeFile(file, big);
    await startCompose(subject);
    await senderPage.getByLabel('Message').fill('The archive.');
    await senderPage.locator('input[type=file]').setInputFiles(file);
    await senderPage.getByText(`${path.basename(file)} uploaded`).waitFor({ timeout: 90_000 });
    const { link } = await sendDraft(subject);

    await openAsRecipient(link, subject);
    await recipientPage.evaluate(() => {
      const w = window as unknown as { showSaveFilePicker: unknown; __picked: string[] };
      w.__picked = [];
      w.showSaveFilePicker = async ({ suggestedName }: { suggestedName: string }) => {
        w.__picked.push(suggestedName);
        const dir = await navigator.storage.getDirectory();
        return dir.getFileHandle(suggestedName, { create: true });
      };
    });
    const downloads: string[] = [];
    const onDownload = (d: import('playwright-core').Download) => downloads.push(d.suggestedFilename());
    recipientPage.on('download', onDownload);
    await recordProgress(recipientPage, `Decrypting ${path.basename(file)}`);
    await recipientPage.getByRole('button', { name: `Download ${path.basename(file)}` }).click();
    await recipientPage.getByRole('progressbar', { name: `${path.basename(file)} decrypted` }).waitFor({ timeout: 90_000 });
    recipientPage.off('download', onDownload);
    const seen = await recordedProgress(recipientPage);
    expect(new Set(seen.filter((v) => v > 0 && v < 100)).size, `progress values seen: ${seen.join(', ')}`).toBeGreaterThanOrEqual(2);
    const written = await recipientPage.evaluate(async (name) => {
      const f = await (await (await navigator.storage.getDirectory()).getFileHandle(name)).getFile();
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await f.arrayBuffer()));
      return { picked: (window as unknown as { __picked: string[] }).__picked, size: f.size, sha256: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('') };
    }, path.basename(file));
    expect(written).toEqual({ picked: [path.basename(file)], size, sha256: sha256(big) });
    expect(downloads).toEqual([]); // written through the picker's file, not a Blob download
  });

  it('sends the sender to sign-in when the session ended: with the reason on the next action, and after a reload', async () => {
    const subject = 'Written while signed out';
    await startCompose(subject);
    await senderPage.getByLabel('Message').fill('This draft outlived its session.');
    const ended = await endSenderSessions();
    expect(ended.rowCount).toBeGreaterThan(0);
    const messagesBefore = (await call(sender, 'GET', '/api/v1/messages')).body;

    await senderPage.getByRole('button', { name: 'Send securely' }).click();
    await senderPage.waitForURL(/\/sign-in\?next=%2Fcompose$/);
    await senderPage.getByRole('heading', { name: 'Sign in to Sealpost' }).waitFor();
    await senderPage.getByText('Your session has ended, so you were signed out. Sign in again to continue.').waitFor();
    await check(senderPage, '13-sender-session-ended');
    // Nothing was sent with the ended session.
    expect((await call(sender, 'GET', '/api/v1/messages')).body).toEqual(messagesBefore);

    await signInAgainToCompose();
    await senderPage.getByRole('heading', { name: 'New secure message' }).waitFor();

    // Ended, then the page is reloaded: the sign-in page with the reason (the server deleted the
    // ended session on the page request, so /auth/session says only "not signed in"; the tab
    // remembers it was signed in), coming back to compose after.
    await endSenderSessions();
    await senderPage.reload();
    await senderPage.waitForURL(/\/sign-in\?next=%2Fcompose$/);
    await senderPage.getByRole('heading', { name: 'Sign in to Sealpost' }).waitFor();
    await senderPage.getByText('Your session has ended, so you were signed out. Sign in again to continue.').waitFor();
    await check(senderPage, '14-sender-session-ended-reload');
    await signInAgainToCompose();

    // Ended, then a file is attached: the upload is refused and the page signs out with the reason.
    await senderPage.getByRole('heading', { name: 'New secure message' }).waitFor();
    await endSenderSessions();
    await senderPage.locator('input[type=file]').setInputFiles({ name: 'late.txt', mimeType: 'text/plain', buffer: Buffer.from('too late') });
    await senderPage.waitForURL(/\/sign-in\?next=%2Fcompose$/);
    await senderPage.getByText('Your session has ended, so you were signed out. Sign in again to continue.').waitFor();
    await signInAgainToCompose();
  });

  it('asks the recipient for a new code when their session ended (download, then reply)', async () => {
    const subject = 'Short session';
    const attachment = randomBytes(200_000);
    await startCompose(subject);
    await senderPage.getByLabel('Message').fill('Open me twice.');
    await senderPage.locator('input[type=file]').setInputFiles({ name: 'short.bin', mimeType: 'application/octet-stream', buffer: attachment });
    await senderPage.getByText('short.bin uploaded').waitFor();
    const { link, messageId } = await sendDraft(subject);
    const expire = async () => {
      const r = await env.server.runtime.db.query(
        `UPDATE recipient_sessions SET expires_at = now() - interval '1 minute' WHERE recipient_id IN (SELECT id FROM message_recipients WHERE message_id = $1) AND expires_at > now()`,
        [messageId],
      );
      expect(r.rowCount).toBe(1);
    };

    await openAsRecipient(link, subject);
    await expire();
    await recipientPage.getByRole('button', { name: 'Download short.bin' }).click();
    await recipientPage.getByRole('heading', { name: 'Your secure session ended' }).waitFor();
    await check(recipientPage, '15-recipient-session-ended');
    await recipientPage.getByRole('button', { name: 'Start again' }).click();
    await recipientPage.getByRole('heading', { name: 'You have a secure message' }).waitFor();
    await check(recipientPage, '16-recipient-new-code');
    await enterCode(recipientPage);
    await recipientPage.getByRole('heading', { name: subject }).waitFor();
    expect((await download('short.bin')).equals(attachment)).toBe(true);

    await expire();
    await recipientPage.getByRole('button', { name: 'Reply', exact: true }).click();
    await recipientPage.getByLabel('Your reply').fill('Thanks.');
    await recipientPage.getByRole('button', { name: 'Send reply' }).click();
    await recipientPage.getByRole('heading', { name: 'Your secure session ended' }).waitFor();

    for (const w of watched) expect(w.errors).toEqual([]);
  });

  it('shows an expired message as expired only after the code, and a clear page when codes are asked for too often', async () => {
    const sendApi = async (to: string, subject: string) => {
      const before = env.smtp.messages.length;
      const sent = await call(sender, 'POST', '/api/v1/messages', { to: [to], subject, text: 'Body.' });
      expect(sent.status).toBe(201);
      const mail = await env.smtp.waitFor((m) => env.smtp.messages.indexOf(m) >= before && m.to.includes(to) && linkIn(m.text) !== undefined);
      return { id: sent.body.id as string, link: linkIn(mail.text)! };
    };
    // Expired: before the code the page is the same as for any link; after it, it says expired.
    const expired = await sendApi(RECIPIENT, 'Expired matter');
    await env.server.runtime.db.query(`UPDATE messages SET expires_at = now() - interval '1 minute' WHERE id = $1`, [expired.id]);
    await recipientPage.goto(`${env.server.url}/open#${expired.link}`);
    await recipientPage.getByRole('heading', { name: 'You have a secure message' }).waitFor();
    await enterCode(recipientPage);
    await recipientPage.getByRole('heading', { name: 'This message has expired' }).waitFor();
    expect(await recipientPage.getByText('Expired matter').count(), 'the subject is not shown').toBe(0);
    await check(recipientPage, '17-recipient-expired');

    // Rate-limited: a sixth code request for one recipient within the hour gets the wait page.
    const other = 'rita@client.example';
    const limited = await sendApi(other, 'Asked too often');
    for (let i = 0; i < 5; i++) expect((await call(null, 'POST', '/api/v1/access/code', { link: limited.link })).status).toBe(202);
    await recipientPage.goto(`${env.server.url}/open#${limited.link}`);
    await recipientPage.getByRole('heading', { name: 'You have a secure message' }).waitFor();
    await recipientPage.getByRole('button', { name: 'Email me a code' }).click();
    await recipientPage.getByRole('heading', { name: 'Please wait a moment' }).waitFor();
    await recipientPage.getByText(/Try again in about \d+ minutes?\./).waitFor();
    await check(recipientPage, '18-recipient-rate-limited');
  });
});
