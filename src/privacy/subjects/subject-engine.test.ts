// The subject-data engine on a realistic pair of tenants (a business customer and a free
// account), through the real messaging, Prevent and Content services; outcomes asserted in the
// database and the blob store. Runs on PGlite and, with TEST_DATABASE_URL, on PostgreSQL.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { appendAuditEvent, verifyAuditChains } from '../../audit/audit.service.ts';
import { ContentStore } from '../../content/content.service.ts';
import { RegionMap } from '../../shared/regions.ts';
import type { BlobStore } from '../../storage/blob/blob-store.ts';
import { FsBlobStore } from '../../storage/blob/fs-blob-store.ts';
import { createMessaging, type Messaging } from '../../messages/messaging.ts';
import type { Sender } from '../../messages/message.service.ts';
import { JobRunner } from '../../jobs/job.runner.ts';
import { createPrevent, type Prevent } from '../../prevent/prevent.ts';
import { createLogger } from '../../shared/logger.ts';
import type { Database } from '../../storage/database/database.ts';
import { describeEachDatabase } from '../../../test/support/database.ts';
import { buildContentStack, buildTenant, type ContentStack } from '../../../test/support/factories.ts';
import { buildUser, linkIn, MemoryMailer } from '../../../test/support/messaging.ts';
import { createSubjectEngine, type SubjectDataEngine } from './subject-engine.ts';

const CODE = '424242';

/** Every table and every column of the schema, as text, searched for any of `needles` (case-insensitive). */
async function scanEverything(db: Database, needles: string[]): Promise<Array<{ table: string; column: string; tenantIds: string[] }>> {
  const { rows: cols } = await db.query<{ table_name: string; column_name: string }>(
    "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, column_name",
  );
  const hasTenant = new Set(cols.filter((c) => c.column_name === 'tenant_id').map((c) => c.table_name));
  const found: Array<{ table: string; column: string; tenantIds: string[] }> = [];
  for (const c of cols) {
    const tenant = hasTenant.has(c.table_name) ? 'tenant_id::text' : 'NULL';
    const { rows } = await db.query<{ t: string | null }>(
      `SELECT ${tenant} AS t FROM "${c.table_name}" WHERE lower("${c.column_name}"::text) LIKE ANY($1::text[])`,
      [needles.map((n) => `%${n.toLowerCase()}%`)],
    );
    if (rows.length > 0) found.push({ table: c.table_name, column: c.column_name, tenantIds: [...new Set(rows.map((r) => r.t ?? 'none'))] });
  }
  return found;
}

/** Rows of `table` as JSON text, for before/after comparisons. */
async function snapshot(db: Database, sql: string, params: unknown[]): Promise<string[]> {
  const { rows } = await db.query<Record<string, unknown>>(sql, params);
  return rows.map((r) => JSON.stringify(r)).sort();
}

describeEachDatabase('subject-data engine', (ctx) => {
  let stack: ContentStack;
  let prevent: Prevent;
  let messaging: Messaging;
  let mailer: MemoryMailer;
  let engine: SubjectDataEngine;
  let runner: JobRunner;
  const deliver = async () => {
    while ((await runner.runDue()) > 0) {
      // until nothing is due
    }
  };
  const upload = async (owner: Sender, text: string) =>
    (await messaging.uploads.upload(owner, { length: Buffer.byteLength(text), source: Readable.from([Buffer.from(text)]) })).uploadId;
  const session = async (address: string, ip: string) => {
    const link = mailer.to(address).map((m) => linkIn(m.text)).filter((l): l is string => l !== undefined).at(-1)!;
    await messaging.access.requestCode(link, { ip });
    return (await messaging.access.verifyCode(link, CODE, { ip, userAgent: 'ErinBrowser/1.0' })).sessionToken;
  };

  const envelopeOf = async (messageId: string) =>
    (await ctx.db().query<{ envelope_object_id: string }>('SELECT envelope_object_id FROM messages WHERE id = $1', [messageId])).rows[0]!.envelope_object_id;

  beforeAll(async () => {
    const db = ctx.db();
    stack = await buildContentStack(db);
    mailer = new MemoryMailer();
    prevent = createPrevent({ db, keys: stack.keys });
    messaging = createMessaging({ db, content: stack.content, keys: stack.keys, mailer, publicUrl: 'https://sealpost.example', generateCode: () => CODE, guard: prevent.guard });
    runner = new JobRunner(db, messaging.jobs, createLogger('silent'));
    engine = createSubjectEngine({ db, content: stack.content, provider: stack.provider, prevent: prevent.service });
  });
  afterAll(async () => stack.cleanup());

  /** A business customer (Acme: bob, alice), a free account (Erin, the subject), and a partner (carol). */
  async function world() {
    const db = ctx.db();
    const tag = crypto.randomUUID().slice(0, 8);
    const acme = await buildTenant(db, { name: `Acme ${tag}` });
    const free = await buildTenant(db, { name: `Erin Quaintance ${tag}` });
    await db.query("UPDATE tenants SET plan = 'free' WHERE id = $1", [free.id]);
    const bob = await buildUser(db, acme.id, `bob-${tag}@acme.example`);
    const alice = await buildUser(db, acme.id, `alice-${tag}@acme.example`);
    const erin = await buildUser(db, free.id, `erin-${tag}@mail.example`);
    const erinName = `Erin Quaintance ${tag}`;
    await db.query('UPDATE users SET display_name = $1 WHERE id = $2', [erinName, erin.userId]);
    await db.query("INSERT INTO tenant_settings (tenant_id, brand_display_name, brand_footer_text, updated_at) VALUES ($1, $2, 'Erin, 1 High St', now())", [free.id, erinName]);
    const carol = `carol-${tag}@partner.example`;

    // Erin (free account: Sealpost is controller) sends with an attachment, to Acme and to carol.
    const fromErin = await messaging.messages.send(erin, {
      to: [bob.email],
      cc: [carol],
      subject: `Tenancy ${tag}`,
      text: 'My documents, as promised.',
      attachments: [{ uploadId: await upload(erin, 'passport scan bytes'), filename: 'passport.pdf', contentType: 'application/pdf' }],
    });
    // Acme (business: Sealpost is processor) writes to Erin and to carol; Erin replies securely.
    const toErin = await messaging.messages.send(bob, { to: [erin.email], subject: `Your claim ${tag}`, text: 'Please see the decision.', attachments: [{ uploadId: await upload(bob, 'decision letter'), filename: 'decision.pdf', contentType: 'application/pdf' }] });
    const toCarol = await messaging.messages.send(bob, { to: [carol], subject: `Invoice ${tag}`, text: 'Invoice attached.' });
    await deliver();
    const erinSession = await session(erin.email, '203.0.113.7');
    const reply = await messaging.replies.reply(erinSession, { text: 'Thank you, I accept.', replyAll: false });
    await deliver();
    // Erin asks for access to a link carol forwarded her.
    const carolLink = mailer.to(carol).map((m) => linkIn(m.text)).filter((l): l is string => l !== undefined).at(-1)!;
    await messaging.accessRequests.request(carolLink, { email: erin.email, reason: `Erin here (${erinName}), carol sent me this` }, { ip: '203.0.113.7' });
    // Credentials of Erin's account.
    await db.query(
      `INSERT INTO sessions (id, token_hash, user_id, tenant_id, method, created_at, last_seen_at, expires_at, ip, user_agent)
       VALUES ($1, $2, $3, $4, 'password', now(), now(), now() + interval '1 hour', '203.0.113.7', 'ErinBrowser/1.0')`,
      [crypto.randomUUID(), crypto.getRandomValues(new Uint8Array(32)), erin.userId, free.id],
    );
    return { tag, acme, free, bob, alice, erin, erinName, carol, fromErin, toErin, toCarol, reply };
  }

  it('finds the person in every table the map declares, and routes Content held for business customers', async () => {
    const w = await world();
    const f = await engine.locate({ emails: [w.erin.email.toUpperCase()], userIds: [] });
    expect(f.identifiers.userIds).toEqual([w.erin.userId]);
    const rows = Object.fromEntries(f.tables.map((t) => [t.table, t.rows]));
    expect(rows).toMatchObject({ users: 1, tenants: 1, tenant_settings: 1, sessions: 1, access_requests: 1, recipient_sessions: 1 });
    expect(rows['messages']).toBe(2); // her own message and her secure reply
    expect(rows['message_recipients']).toBe(1);
    expect(rows['prevent_observations']).toBeGreaterThanOrEqual(2);
    expect(rows['audit_events']).toBeGreaterThan(3);
    expect(f.customers).toEqual([{ tenantId: w.acme.id, tenantName: w.acme.name, messages: 2 }]);
  });

  it('finds audit events that name the person only inside details (nested, in free text, an address the index cannot hold) and pseudonymises them', async () => {
    const db = ctx.db();
    const tag = crypto.randomUUID().slice(0, 8);
    const t = await buildTenant(db, { name: `Details ${tag}` });
    const plain = `dora-${tag}@mail.example`;
    const odd = `jörg(${tag})@mail.example`;
    const other = `xdora-${tag}@mail.example`;
    const note = (details: Record<string, unknown>) => appendAuditEvent(db, { tenantId: t.id, actor: { type: 'system' }, action: 'test.noted', outcome: 'success', details: details as never });
    await note({ list: [{ email: plain.toUpperCase() }] });
    await note({ note: `forwarded to <mailto:${plain}>.` });
    await note({ email: odd });
    await note({ email: other });
    const refs = await db.query<{ detail_refs: string[] }>('SELECT detail_refs FROM audit_events WHERE chain = $1 ORDER BY chain_seq', [t.id]);
    expect(refs.rows.map((r) => r.detail_refs).slice(-4)).toEqual([[plain], [plain], [], [other]]); // the odd address is no token: found by its text

    const count = async (email: string) => (await engine.locate({ emails: [email], userIds: [] })).tables.find((x) => x.table === 'audit_events')!.rows;
    expect(await count(plain)).toBe(2); // not xdora's, which only contains the address
    expect(await count(odd)).toBe(1);

    await engine.erase({ emails: [plain], userIds: [] });
    await engine.erase({ emails: [odd], userIds: [] });
    const left = await db.query<{ details: unknown; detail_refs: string[] }>('SELECT details, detail_refs FROM audit_events WHERE chain = $1 ORDER BY chain_seq', [t.id]);
    const text = JSON.stringify(left.rows).toLowerCase();
    expect(text.replaceAll(other, '')).not.toContain(plain);
    expect(text).not.toContain(odd.toLowerCase());
    expect(text).toContain(other);
    expect(await count(plain)).toBe(0);
    expect((await verifyAuditChains(db, { tenantId: t.id })).ok).toBe(true);
  });

  it('refuses a subject without valid identifiers', async () => {
    await expect(engine.locate({ emails: ['not an address'], userIds: [] })).rejects.toMatchObject({ code: 'subject_email_invalid' });
    await expect(engine.locate({ emails: [], userIds: [] })).rejects.toMatchObject({ code: 'subject_empty' });
    await expect(engine.locate({ emails: [], userIds: ['42'] })).rejects.toMatchObject({ code: 'subject_user_id_invalid' });
    await expect(engine.erase({ emails: ['a@b.example'], userIds: [] }, { instructedBy: ['acme'] })).rejects.toMatchObject({ code: 'instructed_by_invalid' });
  });

  it('exports a ZIP of JSON and CSV per table, the Content she sent from her free account, and a README; never credentials', async () => {
    const w = await world();
    const { zip, footprint } = await engine.exportAccess({ emails: [w.erin.email], userIds: [] });
    const files = unzipSync(zip);
    const names = Object.keys(files);
    expect(names).toEqual(expect.arrayContaining(['README.txt', 'footprint.json', 'crm/users.json', 'crm/users.csv', 'smart/prevent_observations.json', 'system/audit_events.csv', 'system/sessions.json']));
    const users = JSON.parse(strFromU8(files['crm/users.json']!)) as Array<Record<string, unknown>>;
    expect(users).toEqual([expect.objectContaining({ id: w.erin.userId, email: w.erin.email, display_name: w.erinName })]);
    expect(users[0]).not.toHaveProperty('password_hash');
    const sessions = JSON.parse(strFromU8(files['system/sessions.json']!)) as Array<Record<string, unknown>>;
    expect(sessions[0]).toMatchObject({ ip: '203.0.113.7' });
    expect(sessions[0]).not.toHaveProperty('token_hash');
    expect(strFromU8(files['crm/users.csv']!).split('\r\n')[0]).toContain('"email"');
    // Her own message, decrypted; nothing of Acme's Content (the customer is its controller).
    const message = JSON.parse(strFromU8(files[`content/${w.fromErin.id}/message.json`]!)) as { subject: string; text: string };
    expect(message).toMatchObject({ subject: `Tenancy ${w.tag}`, text: 'My documents, as promised.' });
    expect(strFromU8(files[`content/${w.fromErin.id}/attachments/1-passport.pdf`]!)).toBe('passport scan bytes');
    expect(names.some((n) => n.includes(w.toErin.id) || n.includes(w.reply.id))).toBe(false);
    const exportedMessages = JSON.parse(strFromU8(files['content/messages.json']!)) as Array<{ id: string }>;
    expect(exportedMessages.map((m) => m.id)).toEqual([w.fromErin.id]);
    const recipients = files['content/message_recipients.json'];
    expect(recipients === undefined || !strFromU8(recipients).includes(w.acme.id)).toBe(true);
    const readme = strFromU8(files['README.txt']!);
    expect(readme).toContain('password_hash');
    expect(readme).toContain('HMAC');
    expect(readme).toContain(w.acme.name);
    expect(footprint.customers.map((c) => c.tenantId)).toEqual([w.acme.id]);
    // Nothing of anyone else's credentials anywhere in the archive.
    const all = names.filter((n) => n !== 'README.txt').map((n) => strFromU8(files[n]!)).join('\n');
    expect(all).not.toMatch(/token_hash|code_hash|link_token|wrapped_key/);
  });

  it('restricts and lifts: the restriction row and Prevent exclusions in every tenant that knows her', async () => {
    const w = await world();
    const subject = { emails: [w.erin.email], userIds: [] };
    await engine.restrict(subject);
    await engine.restrict(subject); // idempotent
    expect(await engine.isRestricted(w.erin.email.toUpperCase())).toBe(true);
    const excl = await ctx.db().query<{ tenant_id: string }>("SELECT tenant_id FROM prevent_exclusions WHERE reason = 'restricted' AND tenant_id = ANY($1::uuid[])", [[w.acme.id, w.free.id]]);
    expect(excl.rows.map((r) => r.tenant_id).sort()).toEqual([w.acme.id, w.free.id].sort());
    await engine.restrict(subject, { lift: true });
    expect(await engine.isRestricted(w.erin.email)).toBe(false);
    const after = await ctx.db().query("SELECT 1 FROM prevent_exclusions WHERE reason = 'restricted' AND tenant_id = ANY($1::uuid[])", [[w.acme.id, w.free.id]]);
    expect(after.rows).toHaveLength(0);
  });

  it('erases: gone from every table except Content held for the business customer; others untouched; Content shredded; audit still verifies', async () => {
    const db = ctx.db();
    const w = await world();
    const others = async () => [
      ...(await snapshot(db, 'SELECT * FROM users WHERE id = ANY($1::uuid[])', [[w.bob.userId, w.alice.userId]])),
      ...(await snapshot(db, 'SELECT id, email, revoked_at, first_opened_at FROM message_recipients WHERE email = $1', [w.carol])),
      ...(await snapshot(db, 'SELECT id, sender_email, sender_user_id FROM messages WHERE sender_user_id = $1', [w.bob.userId])),
      ...(await snapshot(db, 'SELECT id, name, plan FROM tenants WHERE id = $1', [w.acme.id])),
      ...(await snapshot(db, 'SELECT sender, recipients FROM prevent_observations WHERE tenant_id = $1 AND message_id = $2', [w.acme.id, w.toCarol.id])),
    ];
    const before = await others();
    const envelope = await envelopeOf(w.fromErin.id);
    const { rows: blobRows } = await db.query<{ blob_key: string }>('SELECT blob_key FROM sealed_objects WHERE id = $1', [envelope]);

    const report = await engine.erase({ emails: [w.erin.email], userIds: [] });
    expect(report.shredded).toBe(2); // her envelope and her attachment
    expect(report.deleted.crm).toBeGreaterThanOrEqual(1);
    expect(report.deleted.smart).toBeGreaterThanOrEqual(2);
    expect(report.masked.system).toBeGreaterThan(0);
    expect(report.routedTo.map((r) => r.tenantId)).toEqual([w.acme.id]);

    const verification = await engine.verifyErased(report.identifiers!);
    expect(verification.remaining).toEqual([]);
    expect(verification.clean).toBe(true);
    expect(verification.heldForCustomers!.map((h) => `${h.table}.${h.column}`)).toEqual(expect.arrayContaining(['message_recipients.email', 'messages.sender_email']));

    // Independently of the map: every column of every table.
    const found = await scanEverything(db, [w.erin.email, w.erin.userId, w.erinName]);
    for (const f of found) {
      expect(['messages', 'message_recipients', 'access_requests'], `${f.table}.${f.column}`).toContain(f.table);
      expect(f.tenantIds, `${f.table}.${f.column}`).toEqual([w.acme.id]);
    }
    expect(found.length).toBeGreaterThan(0);

    expect(await others()).toEqual(before);
    await expect(stack.content.open(w.free.id, envelope)).rejects.toMatchObject({ code: 'content_shredded' });
    expect(existsSync(stack.blobPath(blobRows[0]!.blob_key))).toBe(false);
    // Acme's Content is the customer's: untouched without its instruction.
    expect((await stack.content.openBytes(w.acme.id, await envelopeOf(w.toErin.id))).length).toBeGreaterThan(0);

    const audit = await verifyAuditChains(db);
    expect(audit.problems).toEqual([]);
    expect(audit.ok).toBe(true);
  });

  it('leaves a state a re-run finishes when a part fails: the shred and the audit pseudonymisation commit first, the rest never without them', async () => {
    const db = ctx.db();
    const w = await world();
    const subject = { emails: [w.erin.email], userIds: [] };
    const envelope = await envelopeOf(w.fromErin.id);
    const sent = async () => (await db.query<{ sender_email: string }>('SELECT sender_email FROM messages WHERE id = $1', [w.fromErin.id])).rows[0]!.sender_email;
    const account = async () => (await db.query('SELECT 1 FROM users WHERE id = $1', [w.erin.userId])).rows.length;
    const failOn = async (table: string, event: string, condition: string) => {
      await db.query(`CREATE FUNCTION fail_erasure_part() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$`);
      await db.query(`CREATE TRIGGER fail_erasure_part BEFORE ${event} ON ${table} FOR EACH ROW WHEN (${condition}) EXECUTE FUNCTION fail_erasure_part()`);
    };
    const heal = async (table: string) => {
      await db.query(`DROP TRIGGER fail_erasure_part ON ${table}`);
      await db.query('DROP FUNCTION fail_erasure_part()');
    };

    // The Content shred fails: the rest rolls back, so her messages can still be found.
    await failOn('sealed_objects', 'UPDATE', 'NEW.wrapped_key IS NULL');
    try {
      await expect(engine.erase(subject)).rejects.toMatchObject({ code: 'database_error' });
    } finally {
      await heal('sealed_objects');
    }
    expect(await account()).toBe(1);
    expect(await sent()).toBe(w.erin.email);
    expect((await stack.content.openBytes(w.free.id, envelope)).length).toBeGreaterThan(0);

    // The rest fails at its last step: the shred and the pseudonymisation have committed.
    await failOn('users', 'DELETE', `OLD.id = '${w.erin.userId}'`);
    try {
      await expect(engine.erase(subject)).rejects.toMatchObject({ code: 'database_error' });
    } finally {
      await heal('users');
    }
    expect(await account()).toBe(1);
    expect(await sent()).toBe(w.erin.email);
    await expect(stack.content.open(w.free.id, envelope)).rejects.toMatchObject({ code: 'content_shredded' });
    expect((await db.query('SELECT 1 FROM audit_events WHERE actor_id = $1', [w.erin.userId])).rows).toEqual([]);

    // A re-run finishes the job.
    const report = await engine.erase(subject);
    expect(report.shredded).toBe(0);
    expect(await account()).toBe(0);
    expect((await engine.verifyErased(report.identifiers!)).remaining).toEqual([]);
    expect((await verifyAuditChains(db)).ok).toBe(true);
  });

  it("deletes a shredded object's blob from its own region's store", async () => {
    const db = ctx.db();
    const w = await world();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sealpost-erase-regions-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const eea = new FsBlobStore(dir);
    const content = new ContentStore(db, new RegionMap<BlobStore>({ uk: stack.blobs, eea }), stack.keys, { segmentSize: 1024 });
    const regional = createSubjectEngine({ db, content, provider: stack.provider, prevent: prevent.service });
    // An upload of hers kept in another region than her account's.
    const object = await content.putBytes(w.free.id, Buffer.from('kept in the EEA'), { region: 'eea' });
    await db.query('INSERT INTO pending_uploads (object_id, tenant_id, user_id) VALUES ($1, $2, $3)', [object.id, w.free.id, w.erin.userId]);
    expect(await eea.exists(object.blobKey)).toBe(true);

    await regional.erase({ emails: [w.erin.email], userIds: [] });
    await expect(content.open(w.free.id, object.id)).rejects.toMatchObject({ code: 'content_shredded' });
    expect(await eea.exists(object.blobKey)).toBe(false);
  });

  it('verifies by whole names: another person whose name only begins with hers is not a remainder', async () => {
    const db = ctx.db();
    const w = await world();
    const other = await buildUser(db, w.acme.id, `erinson-${w.tag}@acme.example`);
    await db.query('UPDATE users SET display_name = $1 WHERE id = $2', [`${w.erinName}son`, other.userId]);
    const report = await engine.erase({ emails: [w.erin.email], userIds: [] }, { instructedBy: [w.acme.id] });
    expect(report.identifiers!.names).toContain(w.erinName);
    expect((await engine.verifyErased(report.identifiers!)).remaining).toEqual([]);
    // Her name as a whole word, in any case, is still found.
    await db.query('UPDATE users SET display_name = $1 WHERE id = $2', [`Dr. ${w.erinName.toUpperCase()}.`, other.userId]);
    expect((await engine.verifyErased(report.identifiers!)).remaining).toEqual([{ table: 'users', column: 'display_name', rows: 1 }]);
  });

  it('refuses to erase while a legal hold covers the person, and changes nothing', async () => {
    const db = ctx.db();
    const w = await world();
    const hold = crypto.randomUUID();
    await db.query(
      "INSERT INTO legal_holds (id, tenant_id, scope, message_id, reason, placed_by, placed_at) VALUES ($1, $2, 'message', $3, 'Claim 2026/17', 'cli:operator', now())",
      [hold, w.acme.id, w.toErin.id],
    );
    const before = await scanEverything(db, [w.erin.email]);
    await expect(engine.erase({ emails: [w.erin.email], userIds: [] })).rejects.toMatchObject({ code: 'legal_hold_in_force' });
    expect(await scanEverything(db, [w.erin.email])).toEqual(before);
    await db.query("UPDATE legal_holds SET released_at = now(), released_by = 'cli:operator', release_reason = 'settled' WHERE id = $1", [hold]);
    await expect(engine.erase({ emails: [w.erin.email], userIds: [] })).resolves.toMatchObject({ shredded: 2 });
  });

  it("erases Content held for a customer on its instruction; idempotent; tampering with a pseudonymised audit row is still detected", async () => {
    const db = ctx.db();
    const w = await world();
    const subject = { emails: [w.erin.email], userIds: [] };
    const first = await engine.erase(subject);
    const second = await engine.erase(first.identifiers!, { instructedBy: [w.acme.id] });
    expect(second.shredded).toBe(3); // Acme's message to her (envelope and attachment) and her reply's envelope
    expect(second.routedTo).toEqual([]);
    const found = await scanEverything(db, [w.erin.email, w.erin.userId, w.erinName]);
    expect(found).toEqual([]);
    const v = await engine.verifyErased(first.identifiers!);
    expect(v).toMatchObject({ clean: true, remaining: [], heldForCustomers: [] });
    await expect(stack.content.open(w.acme.id, await envelopeOf(w.toErin.id))).rejects.toMatchObject({ code: 'content_shredded' });
    // carol's message from Acme was not about Erin.
    expect((await stack.content.openBytes(w.acme.id, await envelopeOf(w.toCarol.id))).length).toBeGreaterThan(0);

    const third = await engine.erase(first.identifiers!, { instructedBy: [w.acme.id] });
    expect(third.shredded).toBe(0);
    expect((await verifyAuditChains(db, { tenantId: w.acme.id })).ok).toBe(true);

    const { rows } = await db.query<{ chain: string; chain_seq: string }>('SELECT chain, chain_seq FROM audit_pseudonymisations WHERE chain = $1 LIMIT 1', [w.acme.id]);
    await db.query("UPDATE audit_events SET actor_id = 'someone-else' WHERE chain = $1 AND chain_seq = $2", [rows[0]!.chain, rows[0]!.chain_seq]);
    const tampered = await verifyAuditChains(db, { tenantId: w.acme.id });
    expect(tampered.problems).toContainEqual({ chain: w.acme.id, chainSeq: Number(rows[0]!.chain_seq), problem: 'hash_mismatch' });
    await db.query('DELETE FROM audit_pseudonymisations WHERE chain = $1 AND chain_seq = $2', [rows[0]!.chain, rows[0]!.chain_seq]);
    expect((await verifyAuditChains(db, { tenantId: w.acme.id })).problems.map((p) => p.problem)).toContain('pseudonymisation_unattested');
  });
});
