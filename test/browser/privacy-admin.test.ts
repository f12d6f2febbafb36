// Privacy operations in Chromium against the real server (PGlite) and a real SMTP sink: the new
// administration pages (privacy requests, retention, the organisation tab's privacy parts) and a
// user's email preferences each have one main landmark and no unlabelled control; a subject
// request opened through the API and confirmed with the emailed code shows in the queue with its
// days left and is extended with a reason; a retention period is refused with the server's
// message and then saved; a legal hold is placed and released; a dry run reports; a user turns a
// preference on and sees the change in the history. Statistics: a report over messages sent
// through the API shows a small count as suppressed (not 0), for administrators and auditors, and
// downloads as CSV. Account transfers: a domain verified through a real DNS server offers two free
// accounts; the administrator withdraws one offer, the other person accepts theirs from their
// settings page and signs in again as a member. Screenshots go to test-artifacts/browser/.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { parseCsv } from '../../src/privacy/csv.ts';
import { createTestUser, type TestUser } from '../support/api-users.ts';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.ts';
import { apiClient, codeIn, startE2eServer, type E2eServer } from '../support/e2e.ts';
import { audit, launchChromium, screenshot, signIn, watchPage } from './support/browser.ts';

const PERSON = 'pat@customer.example';

/** The date as the app shows a calendar date (the page's locale). */
function shownDate(page: Page, day: string): Promise<string> {
  return page.evaluate((d) => new Date(`${d}T12:00:00Z`).toLocaleDateString(undefined, { dateStyle: 'medium' }), day);
}

describe('privacy operations in the browser', () => {
  let env: E2eServer;
  let browser: Browser;
  let admin: TestUser;
  let author: TestUser;
  let page: Page;
  let requestId: string;
  let dns: TestDnsServer;
  const watched: Array<{ errors: string[] }> = [];
  const call = apiClient(() => env.server);

  beforeAll(async () => {
    dns = await startDnsServer();
    env = await startE2eServer('pglite', 'browser-privacy', { DOMAIN_VERIFICATION_DNS_SERVERS: dns.address });
    admin = await createTestUser(env.server, { email: 'ada@firm.example', role: 'administrator' });
    author = await createTestUser(env.server, { email: 'bo@firm.example', role: 'author', tenantId: admin.tenantId });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    watched.push(watchPage(page));
    await signIn(page, env.server.url, admin);
  });

  afterAll(async () => {
    await browser?.close();
    await env?.close();
    await dns?.close();
  });

  it('shows a request opened through the API and confirmed with the emailed code, with its days left', async () => {
    const opened = await call(admin, 'POST', '/api/v1/privacy/requests', { kind: 'access', email: PERSON, name: 'Pat Doe' });
    expect(opened.status).toBe(202);
    requestId = opened.body.requestId;
    const mail = await env.smtp.waitFor((m) => m.to.includes(PERSON) && codeIn(m.text) !== undefined);
    const verified = await call(null, 'POST', `/api/v1/privacy/requests/${requestId}/verify`, { code: codeIn(mail.text) });
    expect(verified.status).toBe(200);
    expect(verified.body.status).toBe('open');
    const listed = await call(admin, 'GET', '/api/v1/privacy/requests');
    const mine = listed.body.requests.find((r: { id: string }) => r.id === requestId);
    expect(mine.daysLeft).toBeGreaterThanOrEqual(27);

    await page.getByRole('link', { name: 'Administration' }).click();
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Privacy requests' }).click();
    const table = page.getByRole('table', { name: 'Privacy requests' });
    await table.waitFor();
    const row = table.getByRole('row', { name: new RegExp(PERSON) });
    await expect(row.textContent()).resolves.toContain(`${mine.daysLeft} days left`);
    await expect(row.textContent()).resolves.toContain(await shownDate(page, verified.body.dueOn));
    await expect(row.textContent()).resolves.toContain('open');
    await screenshot(page, 'privacy-01-queue');
  });

  it('extends the request with a reason and shows the new due date and the history', async () => {
    await page.getByRole('link', { name: 'Access (copy of data)' }).click();
    await page.waitForURL(`**/admin/privacy-requests/${requestId}`);
    await page.getByRole('heading', { name: 'History' }).waitFor();
    const before = await call(admin, 'GET', `/api/v1/privacy/requests/${requestId}`);
    await page.getByLabel('Extend by').selectOption('2');
    await page.getByLabel('Reason for the extension').fill('Several years of messages to search');
    await page.getByRole('button', { name: 'Extend', exact: true }).click();
    await page.getByText('Time limit extended').waitFor();

    const after = await call(admin, 'GET', `/api/v1/privacy/requests/${requestId}`);
    expect(after.body.extensionMonths).toBe(2);
    expect(after.body.extensionReason).toBe('Several years of messages to search');
    expect(after.body.dueOn > before.body.dueOn).toBe(true);
    // The notice can show before the page has re-read the request: wait for the new date.
    const shown = await shownDate(page, after.body.dueOn);
    await expect.poll(() => page.getByTestId('due-date').textContent()).toContain(shown);
    await expect.poll(() => page.getByTestId('due-date').textContent()).toContain(`${after.body.daysLeft} days left`);
    await page.getByText('by 2 months: Several years of messages to search').waitFor();
    await page.locator('.tl-item', { hasText: 'extended' }).first().waitFor();
    // The person is told the reason and the new date.
    await env.smtp.waitFor((m) => m.to.includes(PERSON) && m.text.includes('Several years of messages to search'));
    expect(await page.getByRole('button', { name: 'Extend', exact: true }).count(), 'a request is extended once').toBe(0);
    await screenshot(page, 'privacy-02-extended');
  });

  it('pauses the clock to ask the person something, then resumes it', async () => {
    await page.getByLabel('What you need from the person').fill('Which years of messages do you want?');
    await page.getByRole('button', { name: 'Pause and ask' }).click();
    await page.getByText('Clock paused.').waitFor();
    await page.getByTestId('paused').getByText('Which years of messages do you want?').waitFor();
    const paused = await call(admin, 'GET', `/api/v1/privacy/requests/${requestId}`);
    expect(paused.body).toMatchObject({ pauseReason: 'Which years of messages do you want?', pausedOn: expect.any(String) });
    await env.smtp.waitFor((m) => m.to.includes(PERSON) && m.text.includes('Which years of messages do you want?'));
    expect(await audit(page)).toEqual({ mains: 1, unlabelled: [] });
    await screenshot(page, 'privacy-02b-paused');
    await page.getByRole('button', { name: 'Resume the clock' }).click();
    await page.getByText('Clock resumed.').waitFor();
    const resumed = await call(admin, 'GET', `/api/v1/privacy/requests/${requestId}`);
    expect(resumed.body.pausedOn).toBeNull();
    expect(resumed.body.dueOn).toBe(paused.body.dueOn); // paused and resumed the same day
    await page.locator('.tl-item', { hasText: 'resumed' }).first().waitFor();
  });

  it('shows the server\'s validation error for a retention period, then saves a valid one', async () => {
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Retention' }).click();
    const field = page.getByLabel('New period for audit log');
    await field.waitFor();
    await field.fill('two years');
    await page.getByRole('button', { name: 'Save Audit log' }).click();
    // The field is marked once the server's answer arrives (a round trip after the click).
    await expect.poll(() => field.getAttribute('aria-invalid'), { timeout: 10_000 }).toBe('true');
    const described = await field.getAttribute('aria-describedby');
    const message = await page.locator(`[id="${described!.split(' ').pop()}"]`).textContent();
    expect(message).toMatch(/ISO-8601|duration/i);

    await field.fill('P3Y');
    await page.getByRole('button', { name: 'Save Audit log' }).click();
    await page.getByText('Audit log: 3 years.').waitFor();
    const policies = await call(admin, 'GET', '/api/v1/privacy/retention/policies');
    expect(policies.body.policies.find((p: { key: string }) => p.key === 'audit')).toMatchObject({ period: 'P3Y', source: 'tenant' });
  });

  it('places and releases a legal hold, and runs a dry run', async () => {
    await page.getByLabel('Hold', { exact: true }).selectOption('tenant');
    await page.getByLabel('Reason for the hold').fill('Matter 2026-114: litigation hold');
    await page.getByRole('button', { name: 'Place hold' }).click();
    await page.getByText('Legal hold placed').waitFor();
    const placed = await call(admin, 'GET', '/api/v1/privacy/holds');
    expect(placed.body.holds).toHaveLength(1);
    expect(placed.body.holds[0]).toMatchObject({ scope: 'tenant', reason: 'Matter 2026-114: litigation hold', releasedAt: null });
    await page.getByText('Matter 2026-114: litigation hold').waitFor();
    await screenshot(page, 'privacy-03-hold-placed');

    await page.getByLabel('Reason for releasing the hold on whole organisation').fill('Matter settled');
    await page.getByRole('button', { name: /^Release/ }).click();
    await page.getByText('Legal hold released').waitFor();
    const all = await call(admin, 'GET', '/api/v1/privacy/holds?includeReleased=true');
    expect(all.body.holds[0]).toMatchObject({ releaseReason: 'Matter settled' });
    expect(all.body.holds[0].releasedAt).not.toBeNull();
    // The notice shows before the page has re-read the holds: wait for the list, then count.
    await page.getByText('No active legal holds.').waitFor();
    await expect(page.getByText('No active legal holds.').count()).resolves.toBe(1);

    await page.getByRole('button', { name: 'Dry run now' }).click();
    await page.getByText(/Dry run: \d+ would be removed/).waitFor();
    await page.getByRole('table', { name: 'Retention reports' }).getByText('dry run').first().waitFor();
    await screenshot(page, 'privacy-04-retention');
  });

  it('has one main landmark and labelled controls on every new page', async () => {
    for (const p of ['/admin/privacy-requests', `/admin/privacy-requests/${requestId}`, '/admin/retention', '/admin/settings', '/settings/preferences']) {
      await page.goto(`${env.server.url}${p}`);
      await page.locator('main h1').waitFor();
      await page.waitForLoadState('networkidle');
      const result = await audit(page);
      await screenshot(page, `privacy-a11y-${p.replace(/\W+/g, '-').replace(/^-|-$/g, '').replace(/[0-9a-f]{8}-[0-9a-f-]{27}$/, 'detail')}`);
      expect(await page.getByRole('alert').count(), `no error shown on ${p}`).toBe(0);
      expect({ page: p, ...result }).toEqual({ page: p, mains: 1, unlabelled: [] });
    }
    // The organisation tab's privacy parts: the record of processing the API serves, and domains.
    await page.goto(`${env.server.url}/admin/settings`);
    const html = page.getByRole('link', { name: 'Open as a page' });
    await expect(html.getAttribute('href')).resolves.toBe('/api/v1/privacy/ropa?format=html');
    const ropa = await page.evaluate(async () => (await fetch('/api/v1/privacy/ropa?format=html')).headers.get('content-type'));
    expect(ropa).toContain('text/html');
    await page.getByLabel('Domain', { exact: true }).fill('firm.example');
    await page.getByRole('button', { name: 'Add domain' }).click();
    await page.getByText('firm.example added').waitFor();
    const domains = await call(admin, 'GET', '/api/v1/tenant/domains');
    await page.getByText(domains.body.domains[0].record.value).waitFor();
    await screenshot(page, 'privacy-05-organisation');
  });

  it('lets a user turn an email preference on and shows the change in the history', async () => {
    const userPage = await (await browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
    watched.push(watchPage(userPage));
    await signIn(userPage, env.server.url, author);
    await userPage.getByRole('link', { name: 'Email preferences' }).click();
    await userPage.waitForURL('**/settings/preferences');
    await userPage.getByText('No changes yet.').waitFor();
    const box = userPage.getByLabel('Product updates');
    await expect(box.isChecked()).resolves.toBe(false);
    // A click, not check(): the box is controlled and turns on only once the server has saved it.
    await box.click();
    await userPage.getByText('Product updates: on.').waitFor();
    await expect.poll(() => box.isChecked(), { timeout: 10_000 }).toBe(true);
    const history = userPage.getByRole('table', { name: 'History' });
    const row = history.getByRole('row', { name: /Product updates/ });
    await row.waitFor();
    await expect.poll(() => row.textContent(), { timeout: 10_000 }).toMatch(/never chosen → on/);
    await expect(row.textContent()).resolves.toContain('in your account');
    const saved = await call(author, 'GET', '/api/v1/me/preferences');
    expect(saved.body.preferences.productUpdates.state).toBe('granted');
    await expect(row.textContent()).resolves.toContain(saved.body.noticeVersion);
    expect(await audit(userPage)).toEqual({ mains: 1, unlabelled: [] });
    await screenshot(userPage, 'privacy-06-preferences');
    expect(watched.flatMap((w) => w.errors)).toEqual([]);
  });

  it('shows a statistics report with a small count suppressed (not 0), and downloads it as CSV', async () => {
    for (let i = 0; i < 3; i++) expect((await call(author, 'POST', '/api/v1/messages', { to: ['stats@partner.example'], subject: `Weekly ${i}`, text: 'x', label: 'internal' })).status).toBe(201);
    expect((await call(author, 'POST', '/api/v1/messages', { to: ['stats@partner.example'], subject: 'One off', text: 'x', label: 'confidential' })).status).toBe(201);
    const expected = (await call(admin, 'GET', '/api/v1/tenant/statistics/messages_by_label?threshold=2')).body;
    const week = expected.cells.findIndex((row: Array<number | null>) => row.some((c) => c !== 0));
    const internal = expected.columns.indexOf('internal');
    const confidential = expected.columns.indexOf('confidential');
    expect(expected.cells[week][internal]).toBe(3);
    expect(expected.cells[week][confidential], 'one message is below the threshold of 2').toBeNull();

    await page.goto(`${env.server.url}/admin/users`);
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Statistics' }).click();
    await page.waitForURL('**/admin/statistics');
    const table = page.getByRole('table', { name: 'Messages sent per week, by label' });
    const row = table.getByRole('row', { name: `Week of ${await shownDate(page, expected.rows[week])}` });
    const cellsOf = () => row.locator('td').evaluateAll((tds) => tds.map((td) => ({ text: td.textContent ?? '', suppressed: td.hasAttribute('data-suppressed') })));
    // The default threshold (10) suppresses both.
    await row.waitFor();
    let cells = await cellsOf();
    expect(cells[internal]).toEqual({ text: '<10suppressed (fewer than 10)', suppressed: true });

    // A threshold below 2 is refused in the form, with the rule; nothing is asked of the server.
    const threshold = page.getByLabel('Threshold');
    await threshold.fill('1');
    await page.getByRole('button', { name: 'Show report' }).click();
    await expect(threshold.getAttribute('aria-invalid')).resolves.toBe('true');
    await page.getByText('Enter a whole number from 2 to 1000').waitFor();

    await threshold.fill('2');
    await page.getByRole('button', { name: 'Show report' }).click();
    await expect.poll(async () => (await cellsOf())[internal]?.text, { timeout: 10_000 }).toBe('3');
    cells = await cellsOf();
    expect(cells[confidential]).toEqual({ text: '<2suppressed (fewer than 2)', suppressed: true });
    expect(cells.filter((c) => c.suppressed)).toHaveLength(1);
    await page.getByText('1 cell suppressed').waitFor();
    expect(await audit(page)).toEqual({ mains: 1, unlabelled: [] });
    await screenshot(page, 'privacy-07-statistics');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^sealpost-statistics-messages_by_label-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = parseCsv(await readFile((await download.path())!, 'utf8'));
    expect(csv[0]).toEqual([expected.rowsAre, ...expected.columns]);
    expect(csv).toHaveLength(expected.rows.length + 1);
    expect(csv[week + 1]![0]).toBe(expected.rows[week]);
    expect(csv[week + 1]![internal + 1]).toBe('3');
    expect(csv[week + 1]![confidential + 1]).toBe('<2');

    // Auditors see the statistics (their only administration tab), and not the rest.
    const auditor = await createTestUser(env.server, { email: 'aud@firm.example', role: 'auditor', tenantId: admin.tenantId });
    const auditorPage = await (await browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
    watched.push(watchPage(auditorPage));
    await signIn(auditorPage, env.server.url, auditor);
    await auditorPage.goto(`${env.server.url}/admin/statistics`);
    await auditorPage.getByRole('table', { name: 'Messages sent per week, by label' }).waitFor();
    await expect(auditorPage.getByRole('navigation', { name: 'Administration' }).getByRole('link').allTextContents()).resolves.toEqual(['Statistics']);
    expect(await audit(auditorPage)).toEqual({ mains: 1, unlabelled: [] });
    await auditorPage.goto(`${env.server.url}/admin/users`);
    await auditorPage.getByRole('heading', { name: 'Not available for your role' }).waitFor();
    await auditorPage.context().close();
  });

  describe('account transfers', () => {
    const DOMAIN = 'newhires.example';
    let fay: TestUser;
    let gus: TestUser;

    beforeAll(async () => {
      // Two free accounts on the domain, each the only user of its own free tenant.
      fay = await createTestUser(env.server, { email: `fay@${DOMAIN}` });
      gus = await createTestUser(env.server, { email: `gus@${DOMAIN}` });
      await env.server.runtime.db.query(`UPDATE tenants SET plan = 'free' WHERE id = ANY($1::uuid[])`, [[fay.tenantId, gus.tenantId]]);
      const added = await call(admin, 'POST', '/api/v1/tenant/domains', { domain: DOMAIN });
      expect(added.status).toBe(201);
      dns.txt.set(added.body.record.name, [[added.body.record.value]]);
      const verified = await call(admin, 'POST', `/api/v1/tenant/domains/${DOMAIN}/verify`);
      expect(verified.body).toMatchObject({ verified: true, offers: 2 });
    });

    it('lets an administrator see the open offers and withdraw one', async () => {
      await page.goto(`${env.server.url}/admin/settings`);
      await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Account transfers' }).click();
      await page.waitForURL('**/admin/transfers');
      const open = page.getByRole('table', { name: 'Open offers' });
      await open.getByRole('row', { name: new RegExp(`gus@${DOMAIN}`) }).waitFor();
      const fayRow = open.getByRole('row', { name: new RegExp(`fay@${DOMAIN}`) });
      await expect(fayRow.textContent()).resolves.toMatch(/in 30 days/);
      expect(await audit(page)).toEqual({ mains: 1, unlabelled: [] });
      await screenshot(page, 'privacy-08-transfers-open');

      await page.getByRole('button', { name: `Withdraw offer to fay@${DOMAIN}` }).click();
      await page.getByText(`The offer to fay@${DOMAIN} was withdrawn`).waitFor();
      const listed = (await call(admin, 'GET', '/api/v1/tenant/transfers')).body.transfers;
      expect(listed.find((t: { email: string }) => t.email === `fay@${DOMAIN}`)).toMatchObject({ status: 'cancelled', cancelReason: 'withdrawn' });
      expect(listed.find((t: { email: string }) => t.email === `gus@${DOMAIN}`)).toMatchObject({ status: 'offered' });
      expect((await call(fay, 'GET', '/api/v1/account/transfer')).body).toEqual({ transfer: null });
      await page.getByRole('table', { name: 'Completed and withdrawn' }).getByRole('row', { name: /fay@newhires\.example.*withdrawn by an administrator/ }).waitFor();
      expect(await open.getByRole('row', { name: new RegExp(`fay@${DOMAIN}`) }).count()).toBe(0);
      await screenshot(page, 'privacy-09-transfers-withdrawn');
    });

    it('shows a person their pending offer on their settings page and moves the account when they accept', async () => {
      const gusPage = await (await browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
      watched.push(watchPage(gusPage));
      await signIn(gusPage, env.server.url, gus);
      await gusPage.getByRole('link', { name: 'Email preferences' }).click();
      await gusPage.getByRole('heading', { name: 'Your account is moving to an organisation' }).waitFor();
      const offer = (await call(gus, 'GET', '/api/v1/account/transfer')).body.transfer;
      await gusPage.getByText(`The move happens on ${await gusPage.evaluate((d) => new Date(d).toLocaleDateString(undefined, { dateStyle: 'medium' }), offer.dueAt)}`).waitFor();
      const accept = gusPage.getByRole('button', { name: 'Accept and move my account now' });
      await expect(accept.isDisabled(), 'not before the person has ticked that they understand').resolves.toBe(true);
      expect(await audit(gusPage)).toEqual({ mains: 1, unlabelled: [] });
      await screenshot(gusPage, 'privacy-10-transfer-offer');

      await gusPage.getByLabel('I understand that my messages and files move to the organisation').check();
      await accept.click();
      await gusPage.getByRole('heading', { name: 'Your account has moved' }).waitFor();
      const done = (await call(admin, 'GET', '/api/v1/tenant/transfers')).body.transfers.find((t: { email: string }) => t.email === gus.email);
      expect(done).toMatchObject({ status: 'completed', id: offer.id });
      expect(done.acceptedAt).not.toBeNull();
      const { rows } = await env.server.runtime.db.query<{ tenant_id: string }>('SELECT tenant_id FROM users WHERE id = $1', [gus.id]);
      expect(rows[0]!.tenant_id).toBe(admin.tenantId);
      expect((await call(gus, 'GET', '/api/v1/account/transfer')).status, 'personal API tokens stop working').toBe(401);
      expect(await audit(gusPage)).toEqual({ mains: 1, unlabelled: [] });
      await screenshot(gusPage, 'privacy-11-transfer-accepted');

      // Signed out everywhere: signing in again works, now as a member of the organisation.
      await gusPage.getByRole('button', { name: 'Sign in again' }).click();
      await gusPage.waitForURL('**/sign-in');
      await signIn(gusPage, env.server.url, gus);
      await gusPage.getByRole('link', { name: 'Email preferences' }).click();
      await gusPage.getByText('No changes yet.').waitFor();
      expect(await gusPage.getByRole('heading', { name: 'Your account is moving to an organisation' }).count()).toBe(0);
      await gusPage.context().close();

      await page.goto(`${env.server.url}/admin/transfers`);
      await page.getByRole('table', { name: 'Completed and withdrawn' }).getByRole('row', { name: /gus@newhires\.example.*accepted by the person/ }).waitFor();
      await page.getByText('No open offers.').waitFor();
      expect(watched.flatMap((w) => w.errors)).toEqual([]);
    });
  });
});
