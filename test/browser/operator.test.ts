// The operator's pages in Chromium against the real server (PGlite). Disclosure log: a user
// listed in OPERATOR_EMAILS sees "Disclosure log" in the navigation, records a gagged request
// from the police, approves it, records the disclosure, downloads the log as CSV and shows the
// half-year's transparency report. Processing register: edits the controller details and a
// purpose (a contradictory lawful basis is refused with the server's reason), and adds a
// sub-processor with advance notice, which the public list then announces. A tenant
// administrator has no such links and is told the pages are not for them. Every state is
// checked through the API as well. Screenshots go to test-artifacts/browser/.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { parseCsv } from '../../src/privacy/csv.ts';
import { createTestUser, type TestUser } from '../support/api-users.ts';
import { apiClient, codeIn, startE2eServer, type E2eServer } from '../support/e2e.ts';
import { audit, launchChromium, screenshot, signIn, watchPage } from './support/browser.ts';

describe("the operator's pages in the browser", () => {
  let env: E2eServer;
  let browser: Browser;
  let operator: TestUser;
  let admin: TestUser;
  const watched: Array<{ errors: string[] }> = [];
  const call = apiClient(() => env.server);

  beforeAll(async () => {
    env = await startE2eServer('pglite', 'browser-disclosures', { OPERATOR_EMAILS: 'legal@sealpost-operator.example' });
    operator = await createTestUser(env.server, { email: 'legal@sealpost-operator.example', role: 'author', tenantName: 'Operator Ltd' });
    admin = await createTestUser(env.server, { email: 'ada@firm.example', role: 'administrator', tenantName: 'Firm Ltd' });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await env?.close();
    for (const w of watched) expect(w.errors).toEqual([]);
  });

  it('lets the operator record a request, decide it, record the disclosure, export it and report on it', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    watched.push(watchPage(page));
    await signIn(page, env.server.url, operator);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Operator' }).click();
    await page.getByRole('navigation', { name: 'Operator' }).getByRole('link', { name: 'Disclosure log' }).click();
    await page.getByText('No requests recorded.').waitFor();
    expect(await audit(page)).toEqual({ mains: 1, unlabelled: [] });

    // A bad form first: the server names what is missing.
    await page.getByRole('button', { name: 'Record request' }).click();
    await page.getByText('Not recorded').waitFor();
    await expect(page.getByRole('alert').filter({ hasText: 'authority' }).count()).resolves.toBe(1);

    await page.getByLabel('Who asked').selectOption('law_enforcement');
    await page.getByLabel('Authority').fill('Metropolitan Police Service');
    await page.getByLabel('Legal basis cited').fill('IPA 2016 s.61');
    await page.getByLabel('What was requested').fill('Account details of one user');
    await page.getByRole('group', { name: 'Data categories requested' }).getByLabel('crm').check();
    await page.getByLabel(/non-disclosure order/).check();
    await page.getByLabel('Gag until (optional)').fill('2030-01-01');
    await page.getByRole('button', { name: 'Record request' }).click();
    await page.getByText(/DR-\d{4}-\d{4} recorded\./).waitFor();
    const listed = await call(operator, 'GET', '/api/v1/operator/disclosures');
    expect(listed.body.disclosures).toHaveLength(1);
    const ref = listed.body.disclosures[0].reference as string;
    expect(listed.body.disclosures[0]).toMatchObject({ authority: 'Metropolitan Police Service', requestedCategories: ['crm'], gag: true, status: 'received' });
    const table = page.getByRole('table', { name: 'Requests' });
    await table.getByRole('row', { name: new RegExp(`${ref}.*gag until`) }).waitFor();
    await screenshot(page, 'disclosures-01-recorded');

    // Approve, then record what was disclosed.
    const decision = page.getByRole('form', { name: `Decision on ${ref}` });
    await decision.getByLabel('New status').selectOption('approved');
    await decision.getByLabel('Decided by').fill('Head of Legal');
    await decision.getByLabel('Reason').fill('Valid production order');
    await decision.getByRole('button', { name: 'Save' }).click();
    await page.getByText(`${ref} is now approved.`).waitFor();
    await page.getByText('Head of Legal', { exact: false }).first().waitFor();
    const disclose = page.getByRole('form', { name: `Decision on ${ref}` });
    await disclose.getByLabel('New status').selectOption('disclosed');
    await disclose.getByRole('group', { name: 'Data categories disclosed' }).getByLabel('crm').check();
    await disclose.getByLabel('What was disclosed').fill('One account record');
    await disclose.getByRole('button', { name: 'Save' }).click();
    await page.getByText(`${ref} is now disclosed.`).waitFor();
    await page.getByText(/A disclosure is final/).waitFor();
    expect((await call(operator, 'GET', `/api/v1/operator/disclosures/${ref}`)).body.disclosure).toMatchObject({
      status: 'disclosed',
      approvedBy: 'Head of Legal',
      disclosedCategories: ['crm'],
      disclosedDescription: 'One account record',
    });
    expect(await audit(page)).toEqual({ mains: 1, unlabelled: [] });
    await screenshot(page, 'disclosures-02-disclosed');

    // The CSV is the server's export, downloaded with the session cookie.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV' }).click()]);
    const rows = parseCsv(await readFile((await download.path())!, 'utf8'));
    expect(rows[0]!.slice(0, 3)).toEqual(['reference', 'requesterKind', 'authority']);
    expect(rows.slice(1).map((r) => [r[0], r[9]])).toEqual([[ref, 'disclosed']]);

    // The half-year's report, with the one request below the threshold: suppressed, not 0.
    await page.getByRole('button', { name: 'Show report' }).click();
    const report = page.getByRole('table', { name: /Transparency report/ });
    await report.waitFor();
    const row = report.getByRole('row', { name: /Metropolitan Police Service \(law_enforcement\)/ });
    await expect(row.getByText('<10').count()).resolves.toBe(1);
    await screenshot(page, 'disclosures-03-report');
    await context.close();
  });

  it('lets the operator edit the processing register: controller details, a purpose, and a sub-processor announced in advance', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    watched.push(watchPage(page));
    await signIn(page, env.server.url, operator);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Operator' }).click();
    await page.getByRole('navigation', { name: 'Operator' }).getByRole('link', { name: 'Processing register' }).click();
    await page.getByRole('heading', { name: 'Controller details' }).waitFor();
    const settings = page.getByRole('form', { name: 'Controller details' });
    await settings.getByLabel('Controller name').fill('Sealpost Operations Ltd');
    await settings.getByRole('button', { name: 'Save controller details' }).click();
    await page.getByText('Controller details saved.').waitFor();
    expect((await call(operator, 'GET', '/api/v1/operator/register')).body.settings.controllerName).toBe('Sealpost Operations Ltd');

    const { body: register } = await call(operator, 'GET', '/api/v1/operator/register');
    const key = register.purposes[0].key as string;
    await page.getByRole('table', { name: 'Purposes of processing' }).getByRole('button', { name: key, exact: true }).click();
    const form = page.getByRole('form', { name: `Purpose ${key}` });
    // A basis the register refuses: "not applicable" with a real basis.
    const individual = form.getByRole('group', { name: 'Lawful basis (the person is an individual)' });
    await individual.getByLabel('not applicable').check();
    await individual.getByLabel('consent').check();
    await form.getByRole('button', { name: 'Save purpose' }).click();
    await form.getByText(/not_applicable cannot be combined/).waitFor();
    await individual.getByLabel('not applicable').uncheck();
    await individual.getByLabel('consent').uncheck();
    await form.getByLabel('Transfer safeguards').fill('EU SCCs (2021/914)');
    await form.getByRole('button', { name: 'Save purpose' }).click();
    await page.getByText(`Purpose ${key} saved.`).waitFor();
    const purpose = (await call(operator, 'GET', '/api/v1/operator/register')).body.purposes.find((p: { key: string }) => p.key === key);
    expect(purpose).toMatchObject({ transferSafeguards: 'EU SCCs (2021/914)', basisIndividual: register.purposes[0].basisIndividual });

    const later = new Date(Date.now() + 40 * 86_400_000).toISOString().slice(0, 10);
    const add = page.getByRole('form', { name: 'New sub-processor' });
    await add.getByLabel('Key').fill('northwind_hosting');
    await add.getByLabel('Name').fill('Northwind Hosting');
    await add.getByLabel('What it does').fill('Backup storage of sealed Content');
    await add.getByLabel('Location').fill('Frankfurt, Germany');
    await add.getByRole('group', { name: 'Regions' }).getByLabel('eea').check();
    await add.getByRole('group', { name: 'Data categories received' }).getByLabel('content').check();
    await add.getByLabel('Engaged from (optional)').fill(later);
    await add.getByRole('button', { name: 'Add sub-processor' }).click();
    await page.getByText(`Northwind Hosting added, engaged from ${later}; subscribers are told.`).waitFor();
    await page.getByRole('table', { name: 'Sub-processors' }).getByRole('button', { name: 'Northwind Hosting' }).waitFor();
    await page.getByText(`Northwind Hosting will be engaged from ${later}`).waitFor();
    expect(JSON.stringify((await call(null, 'GET', '/api/v1/privacy/subprocessors')).body)).toContain('Northwind Hosting');
    expect(await audit(page)).toEqual({ mains: 1, unlabelled: [] });
    await screenshot(page, 'register-01-edited');
    await context.close();
  });

  it("shows the operator the installation's privacy requests, and lets them extend one with a reason", async () => {
    const opened = await call(null, 'POST', '/api/v1/privacy/requests', { kind: 'access', email: 'sam@person.example', name: 'Sam Person' }, { origin: env.server.url });
    expect(opened.status).toBe(202);
    const mail = await env.smtp.waitFor((m) => m.to.includes('sam@person.example') && codeIn(m.text) !== undefined);
    expect((await call(null, 'POST', `/api/v1/privacy/requests/${opened.body.requestId}/verify`, { code: codeIn(mail.text) })).body.status).toBe('open');
    // Not in any organisation's queue: it is the operator's.
    expect((await call(admin, 'GET', '/api/v1/privacy/requests')).body.requests).toEqual([]);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    watched.push(watchPage(page));
    await signIn(page, env.server.url, operator);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Operator' }).click();
    await page.getByRole('navigation', { name: 'Operator' }).getByRole('link', { name: 'Privacy requests' }).click();
    const row = page.getByRole('table', { name: 'Privacy requests' }).getByRole('row', { name: /sam@person\.example/ });
    await row.getByRole('link').click();
    await page.getByRole('heading', { name: 'Actions' }).waitFor();
    await page.getByLabel('Reason for the extension').fill('The request covers several accounts and needs more time.');
    await page.getByRole('button', { name: 'Extend', exact: true }).click();
    await page.getByText(/Time limit extended/).waitFor();
    const detail = await call(operator, 'GET', `/api/v1/operator/requests/${opened.body.requestId}`);
    expect(detail.body).toMatchObject({ extensionMonths: 2, extensionReason: 'The request covers several accounts and needs more time.' });
    expect(await audit(page)).toEqual({ mains: 1, unlabelled: [] });
    await screenshot(page, 'operator-requests-01-extended');
    await context.close();
  });

  it('shows a tenant administrator no link, and tells them the pages are not theirs', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    watched.push(watchPage(page));
    await signIn(page, env.server.url, admin);
    await page.getByRole('link', { name: 'Administration' }).waitFor();
    await expect(page.getByRole('link', { name: 'Operator' }).count()).resolves.toBe(0);
    await page.goto(`${env.server.url}/operator/disclosures`);
    await page.getByText(/for the installation's operator/).waitFor();
    await expect(page.getByText('Metropolitan').count()).resolves.toBe(0);
    await page.goto(`${env.server.url}/operator/register`);
    await page.getByText(/edited by the installation's operator/).waitFor();
    await page.goto(`${env.server.url}/operator/requests`);
    await page.getByText(/for the installation's operator/).waitFor();
    await context.close();
  });
});
