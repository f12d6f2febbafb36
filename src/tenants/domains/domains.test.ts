import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { buildUser as buildAccountUser, fakeClock } from '../../../test/support/accounts.ts';
import { describeEachDatabase } from '../../../test/support/database.ts';
import { startDnsServer, type TestDnsServer } from '../../../test/support/dns-server.ts';
import { buildTenant } from '../../../test/support/factories.ts';
import { buildMessagingHarness, buildUser, sourceOf, type MessagingHarness } from '../../../test/support/messaging.ts';
import { verifyAuditChains } from '../../audit/audit.service.ts';
import { ContentStore } from '../../content/content.service.ts';
import { RegionMap } from '../../shared/regions.ts';
import type { BlobStore } from '../../storage/blob/blob-store.ts';
import { FsBlobStore } from '../../storage/blob/fs-blob-store.ts';
import { JobRunner } from '../../jobs/job.runner.ts';
import { createPrevent } from '../../prevent/prevent.ts';
import { createSubjectEngine } from '../../privacy/subjects/subject-engine.ts';
import { createLogger } from '../../shared/logger.ts';
import { REGISTRY } from '../../storage/database/registry.ts';
import { AccountTransferService, TRANSFER_NOTICE_DAYS, TRANSFER_PLAN, tenantScopedTables } from './account-transfer.service.ts';
import { NodeDnsTxtLookup } from './dns-txt.ts';
import { DomainService, normaliseDomain } from './domain.service.ts';

describe('domain names and configuration', () => {
  it('does normalise domains and refuse what is not one, or a webmail provider', () => {
    expect(normaliseDomain(' Example.CO.uk. ')).toBe('example.co.uk');
    for (const bad of ['https://x.com', 'a@b.com', 'localhost', '192.168.1.1', 'x..com', '-a.com', 42]) expect(() => normaliseDomain(bad)).toThrow(/not a domain|must be a string/);
    expect(() => normaliseDomain('gmail.com')).toThrow(/personal email provider/);
  });

  it('does give every tenant-scoped table a transfer rule (fail closed)', () => {
    const missing = tenantScopedTables().filter((t) => !Object.hasOwn(TRANSFER_PLAN, t));
    expect(missing, `add these tables to TRANSFER_PLAN in account-transfer.service.ts: ${missing.join(', ')}`).toEqual([]);
    for (const t of Object.keys(TRANSFER_PLAN)) expect(REGISTRY[t], `TRANSFER_PLAN names ${t}, which is not a table`).toBeDefined();
  });
});

describeEachDatabase('verified domains and free-to-business transfer', (ctx) => {
  let dns: TestDnsServer;
  let h: MessagingHarness;
  const clock = fakeClock(new Date());
  let transfers: AccountTransferService;
  let domains: DomainService;
  let runner: JobRunner;

  beforeAll(async () => {
    dns = await startDnsServer();
    h = await buildMessagingHarness(ctx.db());
    transfers = new AccountTransferService(ctx.db(), { keys: h.stack.keys, content: h.stack.content, mailer: h.mailer, publicUrl: 'https://sealpost.example' }, { now: clock });
    domains = new DomainService(ctx.db(), new NodeDnsTxtLookup([dns.address], { timeoutMs: 1000, tries: 1 }), transfers, { now: clock });
    runner = new JobRunner(ctx.db(), transfers.jobs, createLogger('silent'));
  });
  afterAll(async () => {
    await dns?.close();
    await h?.cleanup();
  });

  /** Claims the domain for the business tenant, publishes its TXT record and verifies it (which makes the offers). */
  async function verifyDomain(tenantId: string, domain: string, actor: Parameters<DomainService['add']>[0] = { type: 'system' }) {
    const added = await domains.add(actor, tenantId, domain);
    dns.txt.set(added.record.name, [[added.record.value]]);
    return domains.verify(actor, tenantId, domain);
  }

  async function freeAccount(email: string) {
    const tenant = await buildTenant(ctx.db(), { name: email });
    await ctx.db().query(`UPDATE tenants SET plan = 'free' WHERE id = $1`, [tenant.id]);
    return buildUser(ctx.db(), tenant.id, email);
  }

  it('does verify a domain only when its TXT record carries the token, through a real DNS server', async () => {
    const domain = `acme-${crypto.randomUUID().slice(0, 8)}.example`;
    const business = await buildTenant(ctx.db(), { name: 'Acme Ltd' });
    const admin = await buildAccountUser(ctx.db(), { tenantId: business.id, role: 'administrator' });
    const actor = { type: 'user' as const, id: admin.user.id };
    const added = await domains.add(actor, business.id, domain.toUpperCase());
    expect(added.record).toEqual({ name: `_sealpost-verification.${domain}`, type: 'TXT', value: `sealpost-verification=${added.token}` });

    const none = await domains.verify(actor, business.id, domain);
    expect(none).toMatchObject({ verified: false, offers: 0 });
    expect(none.domain.lastError).toMatch(/no TXT record/);
    dns.txt.set(added.record.name, [['sealpost-verification=someone-elses-token-000000']]);
    expect((await domains.verify(actor, business.id, added.id)).domain.lastError).toMatch(/do not carry/);
    // A long value split into several strings, as DNS providers do, is joined before comparing.
    dns.txt.set(added.record.name, [['v=spf1 -all'], [added.record.value.slice(0, 30), added.record.value.slice(30)]]);
    const ok = await domains.verify(actor, business.id, domain);
    expect(ok.verified).toBe(true);
    expect(dns.queries).toContain(added.record.name);

    // One organisation per verified domain.
    const rival = await buildTenant(ctx.db());
    await expect(domains.add({ type: 'system' }, rival.id, domain)).rejects.toMatchObject({ code: 'domain_taken' });
    const { rows } = await ctx.db().query<{ action: string; outcome: string }>(`SELECT action, outcome FROM audit_events WHERE chain = $1 AND action LIKE 'tenant_domain.%' ORDER BY chain_seq`, [business.id]);
    expect(rows.map((r) => `${r.action}:${r.outcome}`)).toEqual([
      'tenant_domain.added:success',
      'tenant_domain.verification_failed:failure',
      'tenant_domain.verification_failed:failure',
      'tenant_domain.verified:success',
    ]);
  });

  it('does offer free accounts on the domain, email a notice, and move the account with its Content on acceptance', async () => {
    const domain = `clinic-${crypto.randomUUID().slice(0, 8)}.example`;
    const business = await buildTenant(ctx.db(), { name: 'Riverside Clinic' });
    const carol = await freeAccount(`carol@${domain}`);
    const elsewhere = await freeAccount(`dave@not-${domain}`);
    const staff = await buildUser(ctx.db(), business.id, `staff@${domain}`); // already a business user: no offer

    // Carol's past use: a message with an attachment to an outside recipient, who has opened it.
    const attachment = Buffer.from('scan of the referral letter');
    const upload = await h.messaging.uploads.upload(carol, sourceOf(attachment));
    const sent = await h.send(carol, { to: ['bob@partner.example'], attachments: [{ uploadId: upload.uploadId, filename: 'referral.pdf', contentType: 'application/pdf' }] });
    const link = h.linkFor('bob@partner.example');
    expect((await h.read(await h.verify(link))).files.get('referral.pdf')).toEqual(attachment);

    const verified = await verifyDomain(business.id, domain, { type: 'operator', id: 'cli:ops' });
    expect(verified.offers).toBe(1);
    const offer = await transfers.openOffer(carol.userId);
    expect(offer).toMatchObject({ status: 'offered', toTenantId: business.id, fromTenantId: carol.tenantId });
    expect(offer!.dueAt.getTime() - clock().getTime()).toBe(TRANSFER_NOTICE_DAYS * 86_400_000);
    expect(await transfers.openOffer(elsewhere.userId)).toBeNull();
    expect(await transfers.openOffer(staff.userId)).toBeNull();

    // The notice: durable job, says who becomes controller, what moves, and when.
    while ((await runner.runDue()) > 0);
    const notice = h.mailer.to(carol.email).at(-1)!;
    expect(notice.subject).toBe('Your Sealpost account is moving to Riverside Clinic');
    expect(notice.text).toContain('Riverside Clinic becomes responsible (the controller)');
    expect(notice.text).toContain("past messages, files, their recipients, replies and access history move with your account");
    expect(notice.text).toContain(offer!.dueAt.toISOString().slice(0, 10));
    expect(notice.text).not.toContain(link);

    const done = await transfers.accept(carol.userId);
    expect(done.status).toBe('completed');
    expect(done.moved).toMatchObject({ messages: 1, objects_rewrapped: 2, recipients: 1 });

    // In the stores: the user, the message and its objects belong to the business now, wrapped by its KEK.
    const user = (await ctx.db().query<{ tenant_id: string; role: string }>(`SELECT tenant_id, role FROM users WHERE id = $1`, [carol.userId])).rows[0]!;
    expect(user).toEqual({ tenant_id: business.id, role: 'author' });
    const msg = (await ctx.db().query<{ tenant_id: string; label_tenant: string }>(`SELECT m.tenant_id, l.tenant_id AS label_tenant FROM messages m JOIN labels l ON l.id = m.label_id WHERE m.id = $1`, [sent.id])).rows[0]!;
    expect(msg).toEqual({ tenant_id: business.id, label_tenant: business.id });
    const objects = await ctx.db().query<{ tenant_id: string; state: string; kek_tenant: string }>(
      `SELECT o.tenant_id, k.state, k.tenant_id AS kek_tenant FROM sealed_objects o JOIN key_encryption_keys k ON k.id = o.kek_id WHERE o.id IN (SELECT envelope_object_id FROM messages WHERE id = $1 UNION SELECT object_id FROM message_attachments WHERE message_id = $1)`,
      [sent.id],
    );
    expect(objects.rows).toEqual([
      { tenant_id: business.id, state: 'active', kek_tenant: business.id },
      { tenant_id: business.id, state: 'active', kek_tenant: business.id },
    ]);
    expect((await ctx.db().query(`SELECT 1 FROM sealed_objects WHERE tenant_id = $1`, [carol.tenantId])).rows).toHaveLength(0);
    // The free tenant's keys protect nothing any more and are destroyed.
    const freeKeks = await ctx.db().query<{ state: string }>(`SELECT state FROM key_encryption_keys WHERE tenant_id = $1`, [carol.tenantId]);
    expect(freeKeks.rows.length).toBeGreaterThan(0);
    expect(freeKeks.rows.every((k) => k.state === 'destroyed')).toBe(true);

    // The recipient's link still works and the Content still opens (re-wrapped, payload untouched).
    const again = await h.read(await h.verify(link));
    expect(again.files.get('referral.pdf')).toEqual(attachment);
    await expect(h.stack.content.openBytes(carol.tenantId, again.opened.message.envelopeObjectId)).rejects.toMatchObject({ code: 'content_not_found' });

    // Audited in both chains, and both chains still verify.
    for (const chain of [business.id, carol.tenantId]) {
      const { rows } = await ctx.db().query<{ action: string }>(`SELECT action FROM audit_events WHERE chain = $1 AND action LIKE 'account_transfer.%' ORDER BY chain_seq`, [chain]);
      expect(rows.map((r) => r.action)).toEqual(chain === business.id ? ['account_transfer.offered', 'account_transfer.completed'] : ['account_transfer.offered', 'account_transfer.notice_sent', 'account_transfer.completed']);
    }
    expect((await verifyAuditChains(ctx.db(), { tenantId: business.id })).ok).toBe(true);
    await expect(transfers.accept(carol.userId)).rejects.toMatchObject({ code: 'transfer_not_found' });
  });

  it('does move the account at the end of the notice period when the person does nothing', async () => {
    const domain = `firm-${crypto.randomUUID().slice(0, 8)}.example`;
    const business = await buildTenant(ctx.db(), { name: 'Firm LLP' });
    const erin = await freeAccount(`erin@${domain}`);
    await h.send(erin, { to: ['client@home.example'] });
    await verifyDomain(business.id, domain);
    while ((await runner.runDue()) > 0);
    expect(await transfers.completeDue()).toEqual([]); // not due yet
    expect((await transfers.openOffer(erin.userId))?.status).toBe('offered');
    clock.advance(TRANSFER_NOTICE_DAYS * 86_400_000 + 1000);
    const done = await transfers.completeDue();
    expect(done.map((t) => t.userId)).toContain(erin.userId);
    const row = (await ctx.db().query<{ status: string; accepted_at: Date | null }>(`SELECT status, accepted_at FROM account_transfers WHERE user_id = $1`, [erin.userId])).rows[0]!;
    expect(row).toEqual({ status: 'completed', accepted_at: null });
    expect((await ctx.db().query<{ tenant_id: string }>(`SELECT tenant_id FROM users WHERE id = $1`, [erin.userId])).rows[0]!.tenant_id).toBe(business.id);
  });

  it('does not move an account the person had erased during the notice period', async () => {
    const domain = `gone-${crypto.randomUUID().slice(0, 8)}.example`;
    const business = await buildTenant(ctx.db(), { name: 'Gone Ltd' });
    const gil = await freeAccount(`gil@${domain}`);
    await h.send(gil, { to: ['client@home.example'] });
    await verifyDomain(business.id, domain);
    while ((await runner.runDue()) > 0);
    expect((await transfers.openOffer(gil.userId))?.status).toBe('offered');

    const engine = createSubjectEngine({ db: ctx.db(), content: h.stack.content, provider: h.stack.provider, prevent: createPrevent({ db: ctx.db(), keys: h.stack.keys }).service });
    await engine.erase({ emails: [gil.email], userIds: [] });
    expect(await transfers.openOffer(gil.userId)).toBeNull();

    clock.advance(TRANSFER_NOTICE_DAYS * 86_400_000 + 1000);
    expect((await transfers.completeDue()).map((t) => t.userId)).not.toContain(gil.userId);
    while ((await runner.runDue()) > 0);
    await expect(transfers.accept(gil.userId)).rejects.toMatchObject({ code: 'transfer_not_found' });
    // Nothing of the account reached the organisation: no offer left, no user, no messages.
    const count = async (sql: string, params: unknown[]) => Number((await ctx.db().query<{ n: string }>(sql, params)).rows[0]!.n);
    expect(await count('SELECT count(*) AS n FROM account_transfers WHERE user_id = $1', [gil.userId])).toBe(0);
    expect(await count('SELECT count(*) AS n FROM users WHERE tenant_id = $1', [business.id])).toBe(0);
    expect(await count('SELECT count(*) AS n FROM messages WHERE tenant_id = $1', [business.id])).toBe(0);
    expect((await verifyAuditChains(ctx.db(), { tenantId: business.id })).ok).toBe(true);
  });

  it("does move an account across regions (its Content copied into the organisation's region store, left nowhere else) and cancel offers when the domain is released", async () => {
    const domain = `eu-${crypto.randomUUID().slice(0, 8)}.example`;
    const business = await buildTenant(ctx.db(), { name: 'EU GmbH', region: 'eea' });
    const fay = await freeAccount(`fay@${domain}`);
    const hal = await freeAccount(`hal@${domain}`);
    // One store per region, as a multi-region installation has them.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sealpost-transfer-regions-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const stores = { uk: new FsBlobStore(path.join(dir, 'uk')), eea: new FsBlobStore(path.join(dir, 'eea')) };
    const content = new ContentStore(ctx.db(), new RegionMap<BlobStore>(stores), h.stack.keys, { segmentSize: 1024 });
    const regional = new AccountTransferService(ctx.db(), { keys: h.stack.keys, content, mailer: h.mailer, publicUrl: 'https://sealpost.example' }, { now: clock });
    const bytes = crypto.getRandomValues(new Uint8Array(5000));
    const object = await content.putBytes(fay.tenantId, bytes);
    expect([object.region, await stores.uk.exists(object.blobKey)]).toEqual(['uk', true]);

    await verifyDomain(business.id, domain);
    // A move that fails after the copy was made leaves the copy nowhere and the object where it was.
    const files = async (region: 'uk' | 'eea') => (await readdir(path.join(dir, region), { recursive: true, withFileTypes: true }).catch(() => [])).filter((e) => e.isFile()).length;
    await ctx.db().query(`CREATE FUNCTION fail_transfer() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$`);
    await ctx.db().query(`CREATE TRIGGER fail_transfer BEFORE UPDATE ON users FOR EACH ROW WHEN (OLD.id = '${fay.userId}') EXECUTE FUNCTION fail_transfer()`);
    try {
      await expect(regional.accept(fay.userId)).rejects.toMatchObject({ code: 'database_error' });
    } finally {
      await ctx.db().query('DROP TRIGGER fail_transfer ON users');
      await ctx.db().query('DROP FUNCTION fail_transfer()');
    }
    expect([await files('uk'), await files('eea')]).toEqual([1, 0]);
    expect(await content.get(fay.tenantId, object.id)).toMatchObject({ region: 'uk', blobKey: object.blobKey });
    expect(Buffer.from(await content.openBytes(fay.tenantId, object.id)).equals(Buffer.from(bytes))).toBe(true);

    const done = await regional.accept(fay.userId);
    expect(done.moved).toMatchObject({ objects_rewrapped: 1, objects_moved_region: 1 });
    expect([await files('uk'), await files('eea')]).toEqual([0, 1]);
    const moved = await content.get(business.id, object.id);
    expect(moved.region).toBe('eea');
    expect(moved.blobKey).not.toBe(object.blobKey);
    expect(await stores.eea.exists(moved.blobKey)).toBe(true);
    expect(await stores.uk.exists(object.blobKey)).toBe(false);
    expect(Buffer.from(await content.openBytes(business.id, object.id)).equals(Buffer.from(bytes))).toBe(true);
    const kek = (await ctx.db().query<{ region: string; tenant_id: string }>('SELECT k.region, k.tenant_id FROM sealed_objects o JOIN key_encryption_keys k ON k.id = o.kek_id WHERE o.id = $1', [object.id])).rows[0];
    expect(kek).toEqual({ region: 'eea', tenant_id: business.id });
    expect((await ctx.db().query<{ state: string }>('SELECT DISTINCT state FROM key_encryption_keys WHERE tenant_id = $1', [fay.tenantId])).rows).toEqual([{ state: 'destroyed' }]);

    await domains.remove({ type: 'system' }, business.id, domain);
    expect(await transfers.openOffer(hal.userId)).toBeNull();
    // The cancelled offer points at the claim, so it is kept as evidence, no longer verified.
    expect((await domains.list(business.id)).map((d) => [d.domain, d.verifiedAt])).toEqual([[domain, null]]);
    const other = await buildTenant(ctx.db());
    await domains.add({ type: 'system' }, other.id, `unused-${domain}`);
    await domains.remove({ type: 'system' }, other.id, `unused-${domain}`);
    expect(await domains.list(other.id)).toEqual([]);
  });
});
