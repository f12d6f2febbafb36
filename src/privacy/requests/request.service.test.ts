import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyProvider } from '../../crypto/local-key-provider.ts';
import { JobRunner } from '../../jobs/job.runner.ts';
import { SmtpMailer } from '../../mail/mailer.ts';
import { createLogger } from '../../shared/logger.ts';
import { isAppError } from '../../shared/app-error.ts';
import { FsBlobStore } from '../../storage/blob/fs-blob-store.ts';
import { buildUser, fakeClock, uniqueEmail, type FakeClock } from '../../../test/support/accounts.ts';
import { describeEachDatabase } from '../../../test/support/database.ts';
import { buildTenant } from '../../../test/support/factories.ts';
import { startSmtpSink, type SmtpSink } from '../../../test/support/smtp-sink.ts';
import type { ConsentHooks, PreferenceSource } from '../consent/consent.model.ts';
import type { ControllerRouting, ErasureReport, ErasureVerification, SubjectEngine, SubjectFootprint, SubjectIdentifiers } from '../subjects/subject.model.ts';
import { addCalendarMonths, addDays } from './deadline.ts';
import { createSubjectRequests, type SubjectRequests } from './requests.ts';

const codeIn = (text: string) => /code is (\d{6})/.exec(text)?.[1];
const tokenIn = (text: string) => /\/privacy\/requests\/download#([A-Za-z0-9_-]{43})/.exec(text)?.[1];

/**
 * A stand-in for the subject-rights engine that records what it was asked and answers what the
 * test sets: the workflow is under test here, the engine has its own tests (subject-engine).
 */
function recordingEngine() {
  const calls: Array<{ op: string; subject: SubjectIdentifiers; opts?: unknown }> = [];
  const state = { customers: [] as ControllerRouting[], clean: true, zip: new Uint8Array(Buffer.from('PK\u0003\u0004 a test export of someone’s data')) };
  const footprint = (subject: SubjectIdentifiers): SubjectFootprint => ({ identifiers: subject, tables: [{ table: 'users', category: 'crm', rows: 1 }], customers: state.customers });
  const engine: SubjectEngine = {
    async locate(subject) {
      calls.push({ op: 'locate', subject });
      return footprint(subject);
    },
    async exportAccess(subject) {
      calls.push({ op: 'exportAccess', subject });
      return { zip: state.zip, footprint: footprint(subject) };
    },
    async erase(subject, opts): Promise<ErasureReport> {
      calls.push({ op: 'erase', subject, opts });
      return { deleted: { content: 0, crm: 2, smart: 3, system: 0 }, masked: { content: 0, crm: 0, smart: 0, system: 4 }, shredded: 1, routedTo: state.customers, identifiers: { ...subject, userIds: ['resolved'] } };
    },
    async verifyErased(subject): Promise<ErasureVerification> {
      calls.push({ op: 'verifyErased', subject });
      return state.clean ? { clean: true, remaining: [] } : { clean: false, remaining: [{ table: 'contacts', column: 'email', rows: 1 }] };
    },
    async restrict(subject, opts) {
      calls.push({ op: 'restrict', subject, opts });
    },
    async isRestricted() {
      return false;
    },
  };
  return { engine, calls, state };
}

describeEachDatabase('SubjectRequestService', (ctx) => {
  let smtp: SmtpSink;
  let dir: string;
  let blobs: FsBlobStore;
  let clock: FakeClock;
  let dsr: SubjectRequests;
  // Notices are durable jobs: this runner delivers them as the server's would.
  let runner: JobRunner | undefined;
  let fake: ReturnType<typeof recordingEngine>;
  const objections: Array<{ email: string; source: PreferenceSource }> = [];
  const consent: ConsentHooks = {
    async objectToMarketing(email, source) {
      objections.push({ email, source });
    },
    async maySend() {
      return true;
    },
  };
  const operator = { type: 'operator', id: 'cli:test' } as const;
  const all = { operator: true } as const;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    dir = await mkdtemp(join(tmpdir(), 'sealpost-dsr-'));
    blobs = new FsBlobStore(join(dir, 'blobs'));
    clock = fakeClock(new Date('2027-01-31T10:00:00Z'));
    fake = recordingEngine();
    dsr = createSubjectRequests({
      db: ctx.db(),
      mailer: new SmtpMailer(smtp.url, 'sealpost@example.test'),
      blobs,
      provider: await LocalKeyProvider.open(join(dir, 'root-keys.json'), { create: true }),
      publicUrl: 'https://sealpost.example',
      engine: fake.engine,
      consent,
      now: clock,
      onEnqueued: () => runner?.wake(),
    });
    runner = new JobRunner(ctx.db(), dsr.jobs, createLogger('silent'), { pollMs: 100, batch: 10, leaseSeconds: 60 });
    runner.start();
  });

  afterAll(async () => {
    await runner?.stop();
    await smtp?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The newest email to `to` (arrived after `since`) that matches. */
  const mailTo = (to: string, since: number, match: (text: string) => boolean = () => true) => smtp.waitFor((m) => smtp.messages.indexOf(m) >= since && m.to.includes(to) && match(m.text));

  /** Submits a request as the person and returns its id and the code emailed to them. */
  async function submit(kind: string, email: string, extra: { details?: string; lift?: boolean } = {}) {
    const since = smtp.messages.length;
    const receipt = await dsr.service.submit({ kind, email, ...extra }, { via: 'public', actor: { type: 'subject' } });
    const code = codeIn((await mailTo(email, since, (t) => codeIn(t) !== undefined)).text)!;
    return { id: receipt.requestId, code, receipt };
  }

  async function submitVerified(kind: string, email: string, extra: { details?: string; lift?: boolean } = {}) {
    const { id, code } = await submit(kind, email, extra);
    return { id, receipt: await dsr.service.verify(id, code) };
  }

  const row = async (id: string) => (await ctx.db().query<Record<string, any>>('SELECT * FROM subject_requests WHERE id = $1', [id])).rows[0]!;

  it('does email a code, keep only its hash, and run no clock until identity is confirmed', async () => {
    const email = uniqueEmail('ada');
    const { id, code, receipt } = await submit('access', email);
    expect(receipt.sentTo).toMatch(/^a•••@example\.org$/);
    const stored = await row(id);
    expect(stored.status).toBe('awaiting_identity');
    expect(stored.due_on).toBeNull();
    expect(Buffer.from(stored.code_hash).toString('hex')).not.toContain(Buffer.from(code).toString('hex'));
    const shown = await dsr.service.get(all, id);
    expect(shown.daysLeft).toBeNull();
    expect(shown.events.map((e) => e.event)).toEqual(['received', 'code_sent']);
    // The audit log has the request but never the code.
    const { rows } = await ctx.db().query<{ details: unknown }>(`SELECT details FROM audit_events WHERE target_id = $1`, [id]);
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toContain(code);
  });

  it('does start the month on the day identity is confirmed (31 January → 28 February) and show days left', async () => {
    const email = uniqueEmail('bo');
    const { id, code } = await submit('rectification', email, { details: 'My surname is spelt Smyth, not Smith.' });
    clock.advance(60_000);
    const since = smtp.messages.length;
    const receipt = await dsr.service.verify(id, code);
    expect(receipt).toEqual({ requestId: id, status: 'open', dueOn: '2027-02-28' });
    expect((await mailTo(email, since, (t) => t.includes('2027-02-28'))).text).toContain('2027-02-28');
    const shown = await dsr.service.get(all, id);
    expect(shown.clockStartedOn).toBe('2027-01-31');
    expect(shown.daysLeft).toBe(28);
    expect(shown.overdue).toBe(false);
  });

  it('does refuse a request before identity is confirmed, without writing to the unconfirmed address', async () => {
    const email = uniqueEmail('ulla');
    const { id, code } = await submit('erasure', email);
    const since = smtp.messages.length;
    const refused = await dsr.service.reject(all, id, { reason: 'Opened by mistake, the person told us by phone.' }, { type: 'operator', id: 'cli:operator' });
    expect(refused).toMatchObject({ status: 'rejected', dueOn: null });
    expect(await row(id)).toMatchObject({ status: 'rejected', verified_at: null, outcome_note: 'Opened by mistake, the person told us by phone.' });
    await expect(dsr.service.verify(id, code)).rejects.toMatchObject({ code: expect.stringMatching(/closed|expired|not_found/) });
    while ((await runner!.runDue()) > 0);
    expect(smtp.messages.slice(since).filter((m) => m.to.includes(email))).toEqual([]);
  });

  it('does refuse wrong codes with attempts left, lock after five, and refuse an expired code', async () => {
    const email = uniqueEmail('cy');
    const { id, code } = await submit('erasure', email);
    const wrong = code === '000000' ? '111111' : '000000';
    for (let left = 4; left >= 1; left--) {
      await expect(dsr.service.verify(id, wrong)).rejects.toMatchObject({ code: 'code_wrong', message: expect.stringContaining(`${left} attempt`) });
    }
    await expect(dsr.service.verify(id, wrong)).rejects.toMatchObject({ code: 'code_locked' });
    // Even the right code no longer works once locked.
    await expect(dsr.service.verify(id, code)).rejects.toMatchObject({ code: 'code_expired' });
    expect((await row(id)).code_hash).toBeNull();
    expect((await row(id)).status).toBe('awaiting_identity');

    // A new code works; one left for more than 10 minutes does not.
    const since = smtp.messages.length;
    await dsr.service.resendCode(id);
    const fresh = codeIn((await mailTo(email, since, (t) => codeIn(t) !== undefined)).text)!;
    clock.advance(10 * 60_000 + 1);
    await expect(dsr.service.verify(id, fresh)).rejects.toMatchObject({ code: 'code_expired' });
    await expect(dsr.service.verify(id, 'abc')).rejects.toMatchObject({ code: 'code_expired' });
  });

  it('does refuse bad input naming the field', async () => {
    const at = { via: 'public' as const, actor: { type: 'subject' as const } };
    await expect(dsr.service.submit({ kind: 'deletion', email: 'a@example.org' }, at)).rejects.toMatchObject({ code: 'invalid_kind' });
    await expect(dsr.service.submit({ kind: 'access', email: 'not an address' }, at)).rejects.toMatchObject({ code: 'invalid_address', details: { field: 'email' } });
    await expect(dsr.service.submit({ kind: 'rectification', email: 'a@example.org' }, at)).rejects.toMatchObject({ code: 'details_required' });
    await expect(dsr.service.submit({ kind: 'access', email: 'a@example.org', lift: true }, at)).rejects.toMatchObject({ code: 'lift_not_applicable' });
    await expect(dsr.service.submit({ kind: 'access', email: 'a@example.org', details: 'x'.repeat(4001) }, at)).rejects.toMatchObject({ code: 'details_too_long' });
    await expect(dsr.service.verify('not-a-uuid', '123456')).rejects.toMatchObject({ code: 'subject_request_not_found' });
  });

  it('does limit requests per address', async () => {
    const email = uniqueEmail('flood');
    for (let i = 0; i < 3; i++) await dsr.service.submit({ kind: 'access', email }, { via: 'public', actor: { type: 'subject' } });
    const err = await dsr.service.submit({ kind: 'access', email }, { via: 'public', actor: { type: 'subject' } }).catch((e: unknown) => e);
    expect(isAppError(err, 'rate_limited')).toBe(true);
  });

  it('does link a duplicate to the open request of the same kind and address, with no second clock, and tell the requester', async () => {
    const email = uniqueEmail('dee');
    const first = await submitVerified('erasure', email);
    clock.advance(24 * 3600_000);
    const { id, code } = await submit('erasure', email);
    const since = smtp.messages.length;
    const receipt = await dsr.service.verify(id, code);
    expect(receipt).toEqual({ requestId: id, status: 'linked', dueOn: first.receipt.dueOn, duplicateOf: first.id });
    expect((await mailTo(email, since, (t) => t.includes('already made a request'))).text).toContain('already made a request');
    expect((await dsr.service.get(all, first.id)).events.map((e) => e.event)).toContain('duplicate_received');
    // A different kind is its own request with its own clock.
    const other = await submitVerified('restriction', email);
    expect(other.receipt.status).toBe('open');
  });

  it('does extend once by up to two months with a reason and notify the requester', async () => {
    const email = uniqueEmail('eve');
    const { id, receipt } = await submitVerified('access', email);
    const start = (await dsr.service.get(all, id)).clockStartedOn!;
    expect(receipt.dueOn).toBe(addCalendarMonths(start, 1));
    const since = smtp.messages.length;
    const extended = await dsr.service.extend(all, id, { months: 2, reason: 'Records in several archived systems must be searched.' }, operator);
    expect(extended.dueOn).toBe(addCalendarMonths(start, 3));
    expect(extended.extensionReason).toBe('Records in several archived systems must be searched.');
    // Notices are jobs: the confirmation of the verification may arrive after `since` too.
    const notice = await mailTo(email, since, (t) => t.includes('Records in several archived systems'));
    expect(notice.text).toContain('2 months');
    expect(notice.text).toContain('Records in several archived systems must be searched.');
    expect(notice.text).toContain(addCalendarMonths(start, 3));
    expect(extended.events.map((e) => e.event)).toContain('extended');
    // The notice is a job: its event is recorded once the email went out.
    await expect.poll(async () => (await dsr.service.get(all, id)).events.map((e) => e.event)).toContain('extension_notice_sent');
    await expect(dsr.service.extend(all, id, { months: 1, reason: 'again' }, operator)).rejects.toMatchObject({ code: 'extension_not_allowed' });
    await expect(dsr.service.extend(all, (await submitVerified('erasure', uniqueEmail('x'))).id, { months: 2, reason: ' ' }, operator)).rejects.toMatchObject({ code: 'reason_required' });
  });

  it('does pause the clock while waiting for the requester, tell them what is needed, and move the due date by the days paused', async () => {
    const email = uniqueEmail('pia');
    const { id } = await submitVerified('rectification', email, { details: 'My address is wrong.' });
    const before = await dsr.service.get(all, id);
    const since = smtp.messages.length;
    const paused = await dsr.service.pause(all, id, { reason: 'Which address do you want corrected: home or billing?' }, operator);
    expect(paused).toMatchObject({ pausedOn: before.clockStartedOn, pauseReason: 'Which address do you want corrected: home or billing?', dueOn: before.dueOn });
    const asked = await mailTo(email, since, (t) => t.includes('home or billing'));
    expect(asked.text).toContain('paused');
    // While paused the due date shown moves with every day that passes, and days left stay put.
    clock.advance(5 * 24 * 3600_000);
    const waiting = await dsr.service.get(all, id);
    expect(waiting.dueOn).toBe(addDays(before.dueOn!, 5));
    expect(waiting.daysLeft).toBe(before.daysLeft);
    await expect(dsr.service.pause(all, id, { reason: 'again' }, operator)).rejects.toMatchObject({ code: 'subject_request_paused' });
    await expect(dsr.service.extend(all, id, { months: 1, reason: 'x' }, operator)).rejects.toMatchObject({ code: 'subject_request_paused' });
    const resumed = await dsr.service.resume(all, id, operator);
    expect(resumed).toMatchObject({ pausedOn: null, pauseReason: null, pausedDays: 5, dueOn: addDays(before.dueOn!, 5) });
    expect((await row(id)).due_on).toBe(addDays(before.dueOn!, 5));
    expect(resumed.events.map((e) => e.event)).toEqual(expect.arrayContaining(['paused', 'resumed']));
    await expect(dsr.service.resume(all, id, operator)).rejects.toMatchObject({ code: 'subject_request_not_paused' });
    await expect(dsr.service.pause(all, id, { reason: ' ' }, operator)).rejects.toMatchObject({ code: 'reason_required' });
    // Closed while paused: the pause ends with it, its days counted.
    await dsr.service.pause(all, id, { reason: 'One more question.' }, operator);
    clock.advance(2 * 24 * 3600_000);
    const done = await dsr.service.completeRectification(all, id, { note: 'Billing address corrected.' }, operator);
    expect(done).toMatchObject({ status: 'completed', pausedOn: null, pausedDays: 7 });
    await expect(dsr.service.pause(all, id, { reason: 'late' }, operator)).rejects.toMatchObject({ code: 'subject_request_not_open' });
  });

  it('does keep a notice when the mail server is down, and deliver it once it is back', async () => {
    let down = true;
    const real = new SmtpMailer(smtp.url, 'sealpost@example.test');
    const flaky = { kind: 'smtp' as const, send: async (m: Parameters<SmtpMailer['send']>[0]) => { if (down) throw Object.assign(new Error('relay down'), { code: 'smtp_send_failed' }); return real.send(m); }, check: async () => {}, close: async () => real.close() };
    const own = createSubjectRequests({ db: ctx.db(), mailer: flaky, blobs, provider: await LocalKeyProvider.open(join(dir, 'root-keys.json'), { create: false }), publicUrl: 'https://sealpost.example', engine: fake.engine, consent, now: clock });
    const ownRunner = new JobRunner(ctx.db(), own.jobs, createLogger('silent'));
    // Identity confirmed through the shared service (its code email goes out); the extension through the flaky one.
    const email = uniqueEmail('gil');
    const { id } = await submitVerified('erasure', email);
    const since = smtp.messages.length;
    // The extension itself succeeds although the email cannot be sent now.
    const extended = await own.service.extend(all, id, { months: 1, reason: 'Several systems to search.' }, operator);
    expect(extended.extensionMonths).toBe(1);
    expect(await ownRunner.runDue()).toBeGreaterThanOrEqual(1);
    const { rows } = await ctx.db().query<{ status: string; attempts: number; last_error: string | null }>(`SELECT status, attempts, last_error FROM jobs WHERE kind = 'subject_request.notice' AND payload->>'requestId' = $1 AND payload->>'notice' = 'extended'`, [id]);
    expect(rows[0]).toMatchObject({ status: 'queued', attempts: 1 });
    expect((await dsr.service.get(all, id)).events.map((e) => e.event)).not.toContain('extension_notice_sent');
    // Back up: the retry (made due now) delivers it.
    down = false;
    await ctx.db().query(`UPDATE jobs SET run_at = now() WHERE kind = 'subject_request.notice' AND payload->>'requestId' = $1`, [id]);
    await ownRunner.runDue();
    const notice = await mailTo(email, since, (t) => t.includes('Several systems to search.'));
    expect(notice.text).toContain('1 month');
    expect((await dsr.service.get(all, id)).events.map((e) => e.event)).toContain('extension_notice_sent');
    await real.close();
  });

  it('does run an access request: a sealed export, a link that downloads once, then nothing left to read', async () => {
    const email = uniqueEmail('fay');
    const { id } = await submitVerified('access', email);
    const since = smtp.messages.length;
    const done = await dsr.service.run(id, operator, all);
    expect(done.status).toBe('completed');
    expect(done.result).toMatchObject({ exportBytes: fake.state.zip.length });
    expect(fake.calls.at(-1)).toMatchObject({ op: 'exportAccess', subject: { emails: [email] } });

    const [stored] = await dsr.vault.state(id);
    expect(stored!.hasKey).toBe(true);
    expect(await blobs.exists(stored!.blobKey)).toBe(true);
    // Encrypted at rest: the stored blob does not contain the ZIP's bytes.
    const sealed = Buffer.concat(await (await blobs.get(stored!.blobKey)).toArray());
    expect(sealed.includes(Buffer.from(fake.state.zip))).toBe(false);

    const link = await mailTo(email, since, (t) => tokenIn(t) !== undefined);
    const token = tokenIn(link.text)!;
    await expect(dsr.service.download('x'.repeat(43))).rejects.toMatchObject({ code: 'export_not_found' });
    const got = await dsr.service.download(token);
    expect(Buffer.from(got.zip).equals(Buffer.from(fake.state.zip))).toBe(true);
    await expect(dsr.service.download(token)).rejects.toMatchObject({ code: 'export_gone' });

    const [after] = await dsr.vault.state(id);
    expect(after).toMatchObject({ hasKey: false });
    expect(after!.downloadedAt).not.toBeNull();
    expect(after!.shreddedAt).not.toBeNull();
    expect(await blobs.exists(stored!.blobKey)).toBe(false);
    const { rows } = await ctx.db().query<{ wrapped_key: unknown }>('SELECT wrapped_key FROM subject_request_exports WHERE request_id = $1', [id]);
    expect(rows[0]!.wrapped_key).toBeNull();
    expect((await dsr.service.get(all, id)).events.map((e) => e.event)).toEqual(expect.arrayContaining(['verified', 'run_started', 'exported', 'completed', 'downloaded']));
  });

  it('does shred an export whose link expired unused', async () => {
    const email = uniqueEmail('gus');
    const { id } = await submitVerified('access', email);
    const since = smtp.messages.length;
    await dsr.service.run(id, operator, all);
    const token = tokenIn((await mailTo(email, since, (t) => tokenIn(t) !== undefined)).text)!;
    const [stored] = await dsr.vault.state(id);
    clock.advance(7 * 24 * 3600_000 + 1000);
    expect(await dsr.service.shredExpiredExports()).toBeGreaterThanOrEqual(1);
    expect(await blobs.exists(stored!.blobKey)).toBe(false);
    expect((await dsr.vault.state(id))[0]).toMatchObject({ hasKey: false, downloadedAt: null });
    await expect(dsr.service.download(token)).rejects.toMatchObject({ code: 'export_gone' });
  });

  it('does complete an erasure only when the verification pass is clean, keeping the report', async () => {
    const email = uniqueEmail('hal');
    const { id } = await submitVerified('erasure', email);
    fake.state.clean = false;
    await expect(dsr.service.run(id, operator, all)).rejects.toMatchObject({ code: 'erasure_not_verified' });
    expect((await dsr.service.get(all, id)).status).toBe('in_progress');
    fake.state.clean = true;
    const since = smtp.messages.length;
    const done = await dsr.service.run(id, operator, all);
    expect(done.status).toBe('completed');
    expect(done.result).toMatchObject({ deleted: { crm: 2, smart: 3 }, masked: { system: 4 }, shredded: 1, clean: true });
    // The verification pass gets the identifiers the engine resolved before erasing.
    expect(fake.calls.filter((c) => c.op === 'verifyErased').at(-1)!.subject.userIds).toEqual(['resolved']);
    expect((await mailTo(email, since, (t) => t.includes('completed your request for erasure'))).text).toContain('completed your request for erasure');
    await expect(dsr.service.run(id, operator, all)).rejects.toMatchObject({ code: 'subject_request_closed' });
  });

  it('does route a request about Content held for a business customer to it, tell its administrators and the requester who the controller is', async () => {
    const tenant = await buildTenant(ctx.db(), { name: 'Harbour Law LLP' });
    const admin = await buildUser(ctx.db(), { tenantId: tenant.id, role: 'administrator' });
    const other = await buildTenant(ctx.db());
    const email = uniqueEmail('ivy');
    const { id } = await submitVerified('restriction', email);
    fake.state.customers = [{ tenantId: tenant.id, tenantName: tenant.name, messages: 7 }];
    const since = smtp.messages.length;
    try {
      const done = await dsr.service.run(id, operator, all);
      expect(done.status).toBe('routed_to_customer');
      expect(done.routings).toEqual([expect.objectContaining({ tenantId: tenant.id, tenantName: 'Harbour Law LLP', messages: 7, notified: 1 })]);
    } finally {
      fake.state.customers = [];
    }
    expect(fake.calls.find((c) => c.op === 'restrict' && c.subject.emails[0] === email)).toMatchObject({ opts: { lift: false, requestId: id } });
    const toAdmin = await mailTo(admin.user.email, since);
    expect(toAdmin.text).toContain(email);
    expect(toAdmin.text).toContain('7 messages');
    expect((await mailTo(email, since, (t) => t.includes('controller'))).text).toContain('Harbour Law LLP');
    // The customer's administrators see it (read-only); another tenant does not.
    expect((await dsr.service.list({ tenantId: tenant.id })).map((r) => r.id)).toContain(id);
    await expect(dsr.service.get({ tenantId: other.id }, id)).rejects.toMatchObject({ code: 'subject_request_not_found' });
    await expect(dsr.service.reject({ tenantId: tenant.id }, id, { reason: 'no' }, { type: 'user', id: admin.user.id, tenantId: tenant.id })).rejects.toMatchObject({ code: 'subject_request_routed' });
    const { rows } = await ctx.db().query(`SELECT 1 FROM audit_events WHERE chain = $1 AND action = 'subject_request.routed' AND target_id = $2`, [tenant.id, id]);
    expect(rows).toHaveLength(1);
  });

  it('does take an objection to marketing at once on verification', async () => {
    const email = uniqueEmail('jo');
    const { id, receipt } = await submitVerified('objection_to_marketing', email);
    expect(receipt.status).toBe('completed');
    expect(objections.at(-1)).toEqual({ email, source: { via: 'subject_request', requestId: id } });
    expect((await row(id)).closed_at).not.toBeNull();
  });

  it('does let an administrator open a request for their tenant, which only they and the operator can act on', async () => {
    const tenant = await buildTenant(ctx.db());
    const admin = await buildUser(ctx.db(), { tenantId: tenant.id, role: 'administrator' });
    const other = await buildTenant(ctx.db());
    const actor = { type: 'user' as const, id: admin.user.id, tenantId: tenant.id };
    const email = uniqueEmail('kit');
    const since = smtp.messages.length;
    const receipt = await dsr.service.submit({ kind: 'rectification', email, details: 'Wrong job title on my account.' }, { via: 'administrator', actor, tenantId: tenant.id });
    // The code goes to the subject, not to the administrator.
    const code = codeIn((await mailTo(email, since, (t) => codeIn(t) !== undefined)).text)!;
    await dsr.service.verify(receipt.requestId, code);
    const scope = { tenantId: tenant.id };
    expect((await dsr.service.run(receipt.requestId, actor, scope)).status).toBe('in_progress');
    await expect(dsr.service.completeRectification({ tenantId: other.id }, receipt.requestId, { note: 'x' }, actor)).rejects.toMatchObject({ code: 'subject_request_not_found' });
    const done = await dsr.service.completeRectification(scope, receipt.requestId, { note: 'Job title corrected to "Senior Associate".' }, actor);
    expect(done).toMatchObject({ status: 'completed', outcomeNote: 'Job title corrected to "Senior Associate".', openedVia: 'administrator', openedBy: admin.user.id, tenantId: tenant.id });
    expect(done.daysLeft).toBeNull();
  });

  it('does reject with a reason and tell the requester of their right to complain', async () => {
    const email = uniqueEmail('lu');
    const { id } = await submitVerified('erasure', email);
    const since = smtp.messages.length;
    const done = await dsr.service.reject(all, id, { reason: 'We must keep these records for 6 years by law.' }, operator);
    expect(done).toMatchObject({ status: 'rejected', outcomeNote: 'We must keep these records for 6 years by law.' });
    expect((await mailTo(email, since, (t) => t.includes("Information Commissioner's Office"))).text).toContain("Information Commissioner's Office");
    await expect(dsr.service.reject(all, id, { reason: 'again' }, operator)).rejects.toMatchObject({ code: 'subject_request_closed' });
  });

  it('does list the queue by due date with overdue flagged', async () => {
    const email = uniqueEmail('mo');
    const { id } = await submitVerified('erasure', email);
    clock.advance(40 * 24 * 3600_000);
    const queue = await dsr.service.list(all, { statuses: ['open', 'in_progress'] });
    const mine = queue.find((r) => r.id === id)!;
    expect(mine.overdue).toBe(true);
    expect(mine.daysLeft).toBeLessThan(0);
    const dues = queue.map((r) => r.dueOn!);
    expect([...dues].sort()).toEqual(dues);
  });
});
