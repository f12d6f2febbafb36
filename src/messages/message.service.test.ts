import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClientKeyPair, openKeyRelease } from '../crypto/node/key-release.ts';
import { openBuffer } from '../crypto/node/sealed-stream.ts';
import { JobRunner } from '../jobs/job.runner.ts';
import { OutboxMailer } from '../mail/mailer.ts';
import { createLogger } from '../shared/logger.ts';
import type { Database, Sql } from '../storage/database/database.ts';
import { describeEachDatabase } from '../../test/support/database.ts';
import { buildContentStack, buildTenant, type ContentStack } from '../../test/support/factories.ts';
import { decodeEnvelope } from './envelope.ts';
import { createMessaging, type Messaging } from './messaging.ts';
import type { Sender } from './message.service.ts';

async function buildUser(db: Database, tenantId: string, email: string): Promise<Sender> {
  const id = crypto.randomUUID();
  await db.query(`INSERT INTO users (id, tenant_id, email, display_name, role, created_at, updated_at) VALUES ($1, $2, $3, $4, 'author', now(), now())`, [id, tenantId, email, email.split('@')[0]]);
  return { tenantId, userId: id, email };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** `db` with a count of the statements it and its transactions run, and their texts. */
function countingStatements(db: Database): { db: Database; count: () => number; texts: string[]; params: unknown[][] } {
  let n = 0;
  const texts: string[] = [];
  const params: unknown[][] = [];
  const wrap = <T extends object>(sql: T): T =>
    new Proxy(sql, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        if (prop === 'query') return (...args: unknown[]) => (n++, texts.push(String(args[0])), params.push((args[1] as unknown[] | undefined) ?? []), (value as (...a: unknown[]) => unknown).apply(target, args));
        if (prop === 'transaction') return (fn: (tx: Sql) => Promise<unknown>) => (value as (f: (tx: Sql) => Promise<unknown>) => unknown).call(target, (tx: Sql) => fn(wrap(tx)));
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    });
  return { db: wrap(db), count: () => n, texts, params };
}

describeEachDatabase('secure messages', (ctx) => {
  let stack: ContentStack;
  let outbox: string;
  let messaging: Messaging;
  let runner: JobRunner;
  let now = new Date();
  let nextCode = '123456';

  beforeAll(async () => {
    stack = await buildContentStack(ctx.db());
    outbox = await mkdtemp(join(tmpdir(), 'sealpost-outbox-'));
    messaging = createMessaging({ db: ctx.db(), content: stack.content, keys: stack.keys, mailer: new OutboxMailer(outbox, 'sealpost@example.test'), publicUrl: 'https://sealpost.example', clock: () => now, generateCode: () => nextCode });
    runner = new JobRunner(ctx.db(), messaging.jobs, createLogger('silent'));
  });

  afterAll(async () => {
    await stack.cleanup();
    await rm(outbox, { recursive: true, force: true });
  });

  async function mails(to: string): Promise<string[]> {
    const out = [];
    for (const f of (await readdir(outbox)).sort()) if (f.endsWith('.eml')) {
      const raw = await readFile(join(outbox, f), 'utf8');
      if (new RegExp(`^To: ${to}$`, 'mi').test(raw)) out.push(raw.replace(/=\r?\n/g, '').replace(/=3D/g, '='));
    }
    return out;
  }

  async function linkFor(email: string): Promise<string> {
    const all = await mails(email);
    const m = /\/open#([A-Za-z0-9_-]{43})/.exec(all.find((t) => t.includes('/open#')) ?? '');
    if (!m) throw new Error(`no notification for ${email}`);
    return m[1]!;
  }

  async function sendOne(sender: Sender, overrides: Partial<Parameters<Messaging['messages']['send']>[1]> = {}) {
    const sent = await messaging.messages.send(sender, { to: ['to@partner.example'], cc: ['cc@partner.example'], bcc: ['hidden@partner.example'], subject: 'Quarterly figures', text: 'See attached.', ...overrides });
    await runner.runDue();
    return sent;
  }

  async function verify(link: string): Promise<string> {
    await messaging.access.requestCode(link, { ip: '192.0.2.1' });
    return (await messaging.access.verifyCode(link, nextCode, { ip: '192.0.2.1' })).sessionToken;
  }

  it('does write a send to six recipients with as many statements as a send to one', async () => {
    const counted = countingStatements(ctx.db());
    const own = createMessaging({ db: counted.db, content: stack.content, keys: stack.keys, mailer: new OutboxMailer(outbox, 'sealpost@example.test'), publicUrl: 'https://sealpost.example', clock: () => now, generateCode: () => nextCode });
    const tenant = await buildTenant(ctx.db());
    const sender = await buildUser(ctx.db(), tenant.id, `count-${tenant.id.slice(0, 8)}@acme.example`);
    const statements = async (to: string[]) => {
      const before = counted.count();
      await own.messages.send(sender, { to, subject: 'Count', text: 'x' });
      return counted.count() - before;
    };
    await statements(['warm@partner.example']);
    const one = await statements(['one@partner.example']);
    const six = await statements(Array.from({ length: 6 }, (_, i) => `six-${i}@partner.example`));
    expect(six).toBe(one);
    const { rows } = await ctx.db().query<{ n: string }>(
      `SELECT count(*) AS n FROM jobs j JOIN message_recipients r ON r.id = (j.payload->>'recipientId')::uuid WHERE r.email LIKE 'six-%' AND r.tenant_id = $1`,
      [tenant.id],
    );
    expect(Number(rows[0]!.n)).toBe(6);
  });

  it('does answer a send with what reading the message back gives (answered from what was written, not re-read)', async () => {
    const tenant = await buildTenant(ctx.db());
    const sender = await buildUser(ctx.db(), tenant.id, `answer-${tenant.id.slice(0, 8)}@acme.example`);
    const upload = await messaging.uploads.upload(sender, { length: 3, source: Readable.from([Buffer.from('abc')]) });
    const sent = await messaging.messages.send(sender, {
      to: ['zed@partner.example', 'a.b@partner.example', 'ab@partner.example', 'A-c@partner.example'],
      cc: ['Cc.2@partner.example', 'cc-1@partner.example'],
      bcc: ['b@hidden.example', 'a@hidden.example'],
      subject: 'Figures',
      text: 'x',
      label: 'confidential',
      attachments: [{ uploadId: upload.uploadId, filename: 'a.txt', contentType: 'text/plain' }],
    });
    expect(sent.recipients.map((r) => r.email)).toEqual(['a-c@partner.example', 'a.b@partner.example', 'ab@partner.example', 'zed@partner.example', 'cc-1@partner.example', 'cc.2@partner.example', 'a@hidden.example', 'b@hidden.example']);
    expect(sent.recipients.every((r) => r.status === 'pending')).toBe(true);
    expect(sent.expiresAt).not.toBeNull();
    // Read back before the notifications are delivered: the same, field for field.
    expect(await messaging.messages.getSent(sender, sent.id)).toEqual(sent);
    await runner.runDue();
  });

  it('does send, notify each recipient with a link (never the body), verify a code and release keys only the client can use', async () => {
    const tenant = await buildTenant(ctx.db());
    const sender = await buildUser(ctx.db(), tenant.id, `sender-${tenant.id.slice(0, 8)}@acme.example`);
    const file = Buffer.from('attachment bytes '.repeat(500));
    const upload = await messaging.uploads.upload(sender, { length: file.length, source: Readable.from([file]) });
    const sent = await sendOne(sender, { to: [`To-${tenant.id.slice(0, 8)}@Partner.example`], attachments: [{ uploadId: upload.uploadId, filename: 'figures.csv', contentType: 'text/csv' }] });
    const toAddress = `to-${tenant.id.slice(0, 8)}@partner.example`;

    expect(sent.recipients.map((r) => [r.email, r.kind])).toEqual([[toAddress, 'to'], ['cc@partner.example', 'cc'], ['hidden@partner.example', 'bcc']]);
    expect((await messaging.messages.getSent(sender, sent.id)).recipients.every((r) => r.status === 'notified')).toBe(true);

    const [notification] = await mails(toAddress);
    expect(notification).toContain('Quarterly figures');
    expect(notification).not.toContain('See attached.');
    expect(notification).not.toContain('hidden@partner.example');

    const link = await linkFor(toAddress);
    expect(await messaging.access.describeLink(link)).toEqual({ maskedEmail: 't•••@partner.example', authLevel: 'email_code' });
    nextCode = '480213';
    const session = await verify(link);
    const codeMail = (await mails(toAddress)).find((m) => m.includes('480213'));
    expect(codeMail).toBeDefined();

    const pair = createClientKeyPair();
    const opened = await messaging.access.open(session, pair.publicKey, { ip: '192.0.2.1', userAgent: 'test' });
    expect(opened.message.to).toEqual([toAddress]);
    expect(opened.message.cc).toEqual(['cc@partner.example']);
    expect(JSON.stringify(opened)).not.toContain('hidden@partner.example');

    const keys = openKeyRelease(pair, opened.keyRelease);
    const envelopeKey = keys.get(opened.message.envelopeObjectId)!;
    const sealedEnvelope = await messaging.access.sealedObject(session, opened.message.envelopeObjectId, undefined);
    const envelope = decodeEnvelope(await openBuffer(envelopeKey.dataKey, await readAll(sealedEnvelope.stream), { objectId: opened.message.envelopeObjectId, keyId: envelopeKey.keyId }));
    expect(envelope).toMatchObject({ subject: 'Quarterly figures', text: 'See attached.', attachments: [{ filename: 'figures.csv', size: file.length }] });
    const attachmentKey = keys.get(upload.uploadId)!;
    const sealedAttachment = await messaging.access.sealedObject(session, upload.uploadId, undefined);
    expect(await openBuffer(attachmentKey.dataKey, await readAll(sealedAttachment.stream), { objectId: upload.uploadId, keyId: attachmentKey.keyId })).toEqual(file);

    const status = await messaging.messages.getSent(sender, sent.id);
    expect(status.recipients.find((r) => r.email === toAddress)!.status).toBe('opened');
    const trail = await messaging.messages.auditTrail(sender, sent.id);
    expect(trail.map((e) => e.action)).toEqual(expect.arrayContaining(['message.sent', 'recipient.code_requested', 'recipient.code_verified', 'message.keys_released', 'message.object_downloaded']));
    expect(trail.find((e) => e.action === 'message.keys_released')).toMatchObject({ recipient: toAddress, ip: '192.0.2.1', userAgent: 'test', outcome: 'success' });
  });

  it('does keep listing a message whose content was crypto-shredded, showing only that it was erased', async () => {
    const tenant = await buildTenant(ctx.db());
    const sender = await buildUser(ctx.db(), tenant.id, `shred-${tenant.id.slice(0, 8)}@acme.example`);
    const kept = await sendOne(sender, { subject: 'Still here' });
    const gone = await sendOne(sender, { subject: 'Shredded by retention' });
    const { rows } = await ctx.db().query<{ envelope_object_id: string }>('SELECT envelope_object_id FROM messages WHERE id = $1', [gone.id]);
    await stack.content.shred(tenant.id, rows[0]!.envelope_object_id);

    // Both were sent at the test clock's same instant, so the list's order between them is not fixed.
    const list = await messaging.messages.listSent(sender);
    expect(list.map((m) => [m.id, m.subject, m.contentErased]).sort()).toEqual(
      [
        [gone.id, '', true],
        [kept.id, 'Still here', false],
      ].sort(),
    );
    const detail = await messaging.messages.getSent(sender, gone.id);
    expect(detail).toMatchObject({ subject: '', contentErased: true, attachments: [] });
    expect(detail.recipients.map((r) => r.email)).toContain('to@partner.example');
    const thread = await messaging.messages.thread(sender, gone.id);
    expect(thread.messages.map((m) => [m.withheld, m.subject])).toEqual([['content_erased', null]]);
  });

  it('does release no key once an attachment is shredded or the tenant\'s keys are destroyed (read with the session in one query)', async () => {
    const tenant = await buildTenant(ctx.db());
    const sender = await buildUser(ctx.db(), tenant.id, `keys-${tenant.id.slice(0, 8)}@acme.example`);
    const upload = await messaging.uploads.upload(sender, { length: 3, source: Readable.from([Buffer.from('abc')]) });
    const to = `keys-${tenant.id.slice(0, 8)}@partner.example`;
    const sent = await sendOne(sender, { to: [to], cc: [], bcc: [], attachments: [{ uploadId: upload.uploadId, filename: 'a.txt', contentType: 'text/plain' }] });
    nextCode = '246810';
    const session = await verify(await linkFor(to));
    const pair = createClientKeyPair();
    const opened = await messaging.access.open(session, pair.publicKey);
    expect([...openKeyRelease(pair, opened.keyRelease).keys()].sort()).toEqual([opened.message.envelopeObjectId, ...opened.message.attachmentObjectIds].sort());

    await stack.content.shred(tenant.id, upload.uploadId);
    await expect(messaging.access.open(session, pair.publicKey)).rejects.toMatchObject({ code: 'content_shredded' });
    expect(sent.id).toBe(opened.message.id);

    // A message with nothing shredded, then the tenant's keys destroyed: refused as well.
    const other = `keys2-${tenant.id.slice(0, 8)}@partner.example`;
    await sendOne(sender, { to: [other], cc: [], bcc: [] });
    const second = await verify(await linkFor(other));
    await messaging.access.open(second, pair.publicKey);
    await stack.keys.destroyTenantKeys(tenant.id);
    await expect(messaging.access.open(second, pair.publicKey)).rejects.toMatchObject({ code: 'key_destroyed' });
  });

  it('does show a Bcc recipient only itself, and hide Bcc from everyone else', async () => {
    const tenant = await buildTenant(ctx.db());
    const sender = await buildUser(ctx.db(), tenant.id, `bcc-${tenant.id.slice(0, 8)}@acme.example`);
    const bcc = `secret-${tenant.id.slice(0, 8)}@partner.example`;
    await sendOne(sender, { to: [`a-${tenant.id.slice(0, 8)}@partner.example`], cc: [], bcc: [bcc] });
    const session = await verify(await linkFor(bcc));
    const opened = await messaging.access.open(session, createClientKeyPair().publicKey);
    expect(opened.you).toMatchObject({ email: bcc, kind: 'bcc' });
    expect(opened.message.to).toEqual([`a-${tenant.id.slice(0, 8)}@partner.example`]);
    expect(opened.message.to.concat(opened.message.cc)).not.toContain(bcc);
  });

  it('does lock a code after five wrong attempts, and accept a fresh code afterwards', async () => {
    const tenant = await buildTenant(ctx.db());
    const sender = await buildUser(ctx.db(), tenant.id, `lock-${tenant.id.slice(0, 8)}@acme.example`);
    const to = `lock-${tenant.id.slice(0, 8)}@partner.example`;
    await sendOne(sender, { to: [to], cc: [], bcc: [] });
    const link = await linkFor(to);
    nextCode = '111111';
    await messaging.access.requestCode(link);
    for (let i = 1; i <= 4; i++) await expect(messaging.access.verifyCode(link, '999999')).rejects.toMatchObject({ code: 'code_wrong' });
    await expect(messaging.access.verifyCode(link, '999999')).rejects.toMatchObject({ code: 'code_locked' });
    await expect(messaging.access.verifyCode(link, '111111')).rejects.toMatchObject({ code: 'code_expired' });
    nextCode = '222222';
    await messaging.access.requestCode(link);
    await expect(messaging.access.verifyCode(link, '222222')).resolves.toHaveProperty('sessionToken');
  });

  it('does refuse keys after revocation (everyone or one recipient), allow them again after undo, and audit each refusal', async () => {
    const tenant = await buildTenant(ctx.db());
    const sender = await buildUser(ctx.db(), tenant.id, `rev-${tenant.id.slice(0, 8)}@acme.example`);
    const to = `rev-${tenant.id.slice(0, 8)}@partner.example`;
    const sent = await sendOne(sender, { to: [to], cc: [], bcc: [] });
    const link = await linkFor(to);
    const session = await verify(link);
    const key = createClientKeyPair().publicKey;

    await messaging.messages.setRevoked(sender, sent.id, true);
    await expect(messaging.access.open(session, key)).rejects.toMatchObject({ code: 'message_revoked' });
    // Before verification the link looks the same as for an active message.
    expect(await messaging.access.describeLink(link)).toEqual({ maskedEmail: expect.any(String), authLevel: 'email_code' });
    await messaging.messages.setRevoked(sender, sent.id, false);
    await expect(messaging.access.open(session, key)).resolves.toHaveProperty('keyRelease');

    const recipientId = sent.recipients[0]!.id;
    await messaging.messages.setRecipientRevoked(sender, sent.id, recipientId, true);
    await expect(messaging.access.sealedObject(session, sent.id, undefined)).rejects.toMatchObject({ code: 'message_revoked' });
    expect((await messaging.messages.getSent(sender, sent.id)).recipients[0]!.status).toBe('revoked');
    await messaging.messages.setRecipientRevoked(sender, sent.id, recipientId, false);
    await expect(messaging.access.open(session, key)).resolves.toHaveProperty('keyRelease');

    const denied = (await messaging.messages.auditTrail(sender, sent.id)).filter((e) => e.outcome === 'denied');
    expect(denied.map((e) => e.reason)).toEqual(['message_revoked', 'message_revoked']);
  });

  it('does refuse keys once the message has expired, and open again when the sender extends it', async () => {
    const tenant = await buildTenant(ctx.db());
    const sender = await buildUser(ctx.db(), tenant.id, `exp-${tenant.id.slice(0, 8)}@acme.example`);
    const to = `exp-${tenant.id.slice(0, 8)}@partner.example`;
    const sent = await sendOne(sender, { to: [to], cc: [], bcc: [], label: 'confidential' });
    expect(sent.expiresAt!.getTime() - sent.createdAt.getTime()).toBe(90 * 86_400_000);
    await messaging.messages.setExpiry(sender, sent.id, new Date(now.getTime() + 60_000));
    const session = await verify(await linkFor(to));
    const saved = now;
    try {
      now = new Date(saved.getTime() + 120_000);
      // The session itself is still valid (30 minutes); the message is not.
      await expect(messaging.access.open(session, createClientKeyPair().publicKey)).rejects.toMatchObject({ code: 'message_expired' });
      expect((await messaging.messages.getSent(sender, sent.id)).recipients[0]!.status).toBe('expired');
      await messaging.messages.setExpiry(sender, sent.id, null);
      await expect(messaging.access.open(session, createClientKeyPair().publicKey)).resolves.toHaveProperty('keyRelease');
    } finally {
      now = saved;
    }
  });

  it('does require the disclaimer of a restricted message and hide its subject from the notification', async () => {
    const tenant = await buildTenant(ctx.db());
    const sender = await buildUser(ctx.db(), tenant.id, `dis-${tenant.id.slice(0, 8)}@acme.example`);
    const to = `dis-${tenant.id.slice(0, 8)}@partner.example`;
    await sendOne(sender, { to: [to], cc: [], bcc: [], label: 'restricted', subject: 'Merger codename Falcon' });
    const [notification] = await mails(to);
    expect(notification).not.toContain('Falcon');
    const session = await verify(await linkFor(to));
    expect(await messaging.access.status(session)).toMatchObject({ disclaimer: expect.stringContaining('restricted'), disclaimerAccepted: false });
    await expect(messaging.access.open(session, createClientKeyPair().publicKey)).rejects.toMatchObject({ code: 'disclaimer_required' });
    await messaging.access.acceptDisclaimer(session);
    const opened = await messaging.access.open(session, createClientKeyPair().publicKey);
    expect(opened.message.label).toEqual({ name: 'restricted', noForward: true, noDownload: true, watermark: true });
  });

  it('does not let another user of the same tenant, or of another tenant, see or change a message', async () => {
    const tenant = await buildTenant(ctx.db());
    const other = await buildTenant(ctx.db());
    const sender = await buildUser(ctx.db(), tenant.id, `own-${tenant.id.slice(0, 8)}@acme.example`);
    const colleague = await buildUser(ctx.db(), tenant.id, `col-${tenant.id.slice(0, 8)}@acme.example`);
    const stranger = await buildUser(ctx.db(), other.id, `str-${other.id.slice(0, 8)}@other.example`);
    const sent = await sendOne(sender, { to: [`own-${tenant.id.slice(0, 8)}@partner.example`], cc: [], bcc: [] });
    for (const u of [colleague, stranger, { ...stranger, tenantId: tenant.id }]) {
      await expect(messaging.messages.getSent(u, sent.id)).rejects.toMatchObject({ code: 'message_not_found' });
      await expect(messaging.messages.setRevoked(u, sent.id, true)).rejects.toMatchObject({ code: 'message_not_found' });
      await expect(messaging.messages.auditTrail(u, sent.id)).rejects.toMatchObject({ code: 'message_not_found' });
    }
    await expect(messaging.messages.getSent(sender, 'not-a-uuid')).rejects.toMatchObject({ code: 'message_not_found' });
    expect((await messaging.messages.getSent(sender, sent.id)).revokedAt).toBeNull();
  });

  it('does reject bad drafts with named errors and leave nothing stored', async () => {
    const tenant = await buildTenant(ctx.db());
    const sender = await buildUser(ctx.db(), tenant.id, `bad-${tenant.id.slice(0, 8)}@acme.example`);
    const count = async () => Number((await ctx.db().query<{ n: string }>(`SELECT count(*) AS n FROM sealed_objects WHERE tenant_id = $1`, [tenant.id])).rows[0]!.n);
    const before = await count();
    const draft = { to: ['ok@partner.example'], subject: 'x', text: 'y' };
    await expect(messaging.messages.send(sender, { ...draft, to: [] })).rejects.toMatchObject({ code: 'no_recipients' });
    await expect(messaging.messages.send(sender, { ...draft, to: ['not an address'] })).rejects.toMatchObject({ code: 'invalid_address', message: expect.stringContaining('to[0]') });
    await expect(messaging.messages.send(sender, { ...draft, label: 'top-secret' })).rejects.toMatchObject({ code: 'unknown_label', message: expect.stringContaining('confidential') });
    await expect(messaging.messages.send(sender, { ...draft, expiresAt: new Date(now.getTime() - 1000) })).rejects.toMatchObject({ code: 'invalid_expiry' });
    await expect(messaging.messages.send(sender, { ...draft, attachments: [{ uploadId: crypto.randomUUID(), filename: 'a.pdf', contentType: 'application/pdf' }] })).rejects.toMatchObject({ code: 'upload_not_found' });
    const upload = await messaging.uploads.upload(sender, { length: 3, source: Readable.from([Buffer.from('abc')]) });
    await expect(messaging.messages.send(sender, { ...draft, attachments: [{ uploadId: upload.uploadId, filename: '../etc/passwd', contentType: 'text/plain' }] })).rejects.toMatchObject({ code: 'invalid_filename' });
    expect(await count()).toBe(before + 1); // only the upload, still pending
    // An upload that ends early is refused and leaves no object.
    await expect(messaging.uploads.upload(sender, { length: 10, source: Readable.from([Buffer.from('short')]) })).rejects.toMatchObject({ code: 'plaintext_length_mismatch' });
    expect(await count()).toBe(before + 1);
    const { rows } = await ctx.db().query(`SELECT 1 FROM messages WHERE tenant_id = $1`, [tenant.id]);
    expect(rows).toHaveLength(0);
  });

  it('does leave no message, envelope row, envelope blob or audit event when the send transaction fails', async () => {
    const tenant = await buildTenant(ctx.db());
    const sender = await buildUser(ctx.db(), tenant.id, `rollback-${tenant.id.slice(0, 8)}@acme.example`);
    // A guard whose learning step fails inside the send's transaction, after the envelope's row was inserted.
    const guard = { review: async () => async () => {}, learn: async () => async () => { throw new Error('learning failed'); } };
    const failing = createMessaging({ db: ctx.db(), content: stack.content, keys: stack.keys, mailer: new OutboxMailer(outbox, 'sealpost@example.test'), publicUrl: 'https://sealpost.example', guard });
    const blobFiles = async () => (await readdir(stack.blobDir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).length;
    const blobsBefore = await blobFiles();
    await expect(failing.messages.send(sender, { to: ['someone@partner.example'], subject: 'not sent', text: 'never stored' })).rejects.toThrow('learning failed');
    const counts = await ctx.db().query<{ objects: string; messages: string; events: string }>(
      `SELECT (SELECT count(*) FROM sealed_objects WHERE tenant_id = $1) AS objects, (SELECT count(*) FROM messages WHERE tenant_id = $1) AS messages,
              (SELECT count(*) FROM audit_events WHERE chain = $1::text AND action IN ('content.sealed', 'message.sent')) AS events`,
      [tenant.id],
    );
    expect(counts.rows[0]).toEqual({ objects: '0', messages: '0', events: '0' });
    expect(await blobFiles()).toBe(blobsBefore);
  });

  it('does wrap link tokens with the KEK active in the send transaction, also right after another process rotated it', async () => {
    const tenant = await buildTenant(ctx.db());
    const sender = await buildUser(ctx.db(), tenant.id, `rotate-${tenant.id.slice(0, 8)}@acme.example`);
    const linkKeks = async (messageId: string) =>
      (await ctx.db().query<{ link_kek_id: string }>('SELECT link_kek_id FROM message_recipients WHERE message_id = $1', [messageId])).rows.map((r) => r.link_kek_id);
    const first = await messaging.messages.send(sender, { to: ['r1@partner.example'], subject: 'before', text: 'x' });
    const other = await stack.otherProcess();
    const report = await other.keys.rotateKek(tenant.id, 'uk');
    // This process last saw the old KEK; the send's transaction finds the new one.
    const second = await messaging.messages.send(sender, { to: ['r2@partner.example'], subject: 'after', text: 'y' });
    expect(await linkKeks(second.id)).toEqual([report.newKekId]);
    expect(await linkKeks(first.id)).not.toEqual([report.newKekId]);
    const { rows } = await ctx.db().query<{ kek_id: string }>('SELECT o.kek_id FROM sealed_objects o JOIN messages m ON m.envelope_object_id = o.id WHERE m.id = $1', [second.id]);
    expect(rows[0]!.kek_id).toBe(report.newKekId);
    expect(await messaging.messages.linkToken(tenant.id, second.recipients[0]!.id)).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  });

  it('does record the deliveries of a claimed batch together, each attempt counted', async () => {
    const counted = countingStatements(ctx.db());
    const tenant = await buildTenant(ctx.db());
    const ours = ['a', 'b', 'c'].map((x) => `${x}-${tenant.id.slice(0, 8)}@partner.example`);
    // The relay accepts our three notifications at the same moment, once all three are in hand.
    const outboxMailer = new OutboxMailer(outbox, 'sealpost@example.test');
    const waiting: Array<() => void> = [];
    const mailer = {
      ...outboxMailer,
      kind: outboxMailer.kind,
      check: () => outboxMailer.check(),
      close: () => outboxMailer.close(),
      send: async (mail: Parameters<OutboxMailer['send']>[0]) => {
        const accepted = await outboxMailer.send(mail);
        if (ours.includes(mail.to)) {
          await new Promise<void>((resolve) => {
            waiting.push(resolve);
            if (waiting.length === ours.length) waiting.forEach((release) => release());
          });
        }
        return accepted;
      },
    };
    const own = createMessaging({ db: counted.db, content: stack.content, keys: stack.keys, mailer, publicUrl: 'https://sealpost.example' });
    const ownRunner = new JobRunner(counted.db, own.jobs, createLogger('silent'), { pollMs: 500, batch: 50, leaseSeconds: 120 });
    const sender = await buildUser(ctx.db(), tenant.id, `batch-${tenant.id.slice(0, 8)}@acme.example`);
    const sent = await own.messages.send(sender, { to: ours.slice(0, 2), cc: ours.slice(2), subject: 'Batch', text: 'x' });
    const ids = sent.recipients.map((r) => r.id);
    const before = counted.texts.length;
    await ownRunner.runDue();
    const recipients = (await own.messages.getSent(sender, sent.id)).recipients;
    expect(recipients.map((r) => [r.email, r.status, r.deliveryAttempts, r.deliveryError])).toEqual(ours.map((email) => [email, 'notified', 1, null]));
    // The first delivery goes out at once, alone, unless an earlier test's delivery (due in the
    // same runs) was being recorded; those that finished meanwhile share the next statement.
    const updates = counted.texts.map((text, i) => ({ text, params: counted.params[i]! })).slice(before).filter((q) => /UPDATE message_recipients/.test(q.text) && JSON.stringify(q.params).match(new RegExp(ids.join('|'))));
    expect(updates.length).toBeGreaterThanOrEqual(1);
    expect(updates.length).toBeLessThanOrEqual(2);
  });

  it('does retry a failed notification with backoff and report the failure to the sender when it gives up', async () => {
    const tenant = await buildTenant(ctx.db());
    const sender = await buildUser(ctx.db(), tenant.id, `fail-${tenant.id.slice(0, 8)}@acme.example`);
    const failing = createMessaging({ db: ctx.db(), content: stack.content, keys: stack.keys, mailer: { kind: 'smtp', send: async () => { throw Object.assign(new Error('relay down'), { code: 'smtp_send_failed' }); }, check: async () => {}, close: async () => {} }, publicUrl: 'https://sealpost.example' });
    const failingRunner = new JobRunner(ctx.db(), failing.jobs, createLogger('silent'));
    const sent = await failing.messages.send(sender, { to: [`fail-${tenant.id.slice(0, 8)}@partner.example`], subject: 's', text: 't' });
    await ctx.db().query(`UPDATE jobs SET max_attempts = 2 WHERE payload->>'recipientId' = $1`, [sent.recipients[0]!.id]);
    expect(await failingRunner.runDue()).toBeGreaterThanOrEqual(1);
    expect((await failing.messages.getSent(sender, sent.id)).recipients[0]).toMatchObject({ status: 'pending', deliveryError: 'smtp_send_failed', deliveryAttempts: 1 });
    const { rows } = await ctx.db().query<{ run_at: Date; status: string }>(`SELECT run_at, status FROM jobs WHERE payload->>'recipientId' = $1`, [sent.recipients[0]!.id]);
    expect(rows[0]!.status).toBe('queued');
    expect(rows[0]!.run_at.getTime()).toBeGreaterThan(Date.now());
    await ctx.db().query(`UPDATE jobs SET run_at = now() WHERE payload->>'recipientId' = $1`, [sent.recipients[0]!.id]);
    await failingRunner.runDue();
    expect((await failing.messages.getSent(sender, sent.id)).recipients[0]).toMatchObject({ status: 'delivery_failed', deliveryError: 'smtp_send_failed' });
  });
});
