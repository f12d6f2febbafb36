import { existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../../../test/support/database.ts';
import { buildMessagingHarness, type MessagingHarness } from '../../../test/support/messaging.ts';
import { verifyAuditChains } from '../../audit/audit.service.ts';
import { JobRunner } from '../../jobs/job.runner.ts';
import type { Sender } from '../../messages/message.service.ts';
import { createPrevent } from '../../prevent/prevent.ts';
import { createSubjectEngine } from '../subjects/subject-engine.ts';
import { createLogger } from '../../shared/logger.ts';
import type { Database } from '../../storage/database/database.ts';
import { parseDuration, subtractDuration } from './duration.ts';
import { createRetention, type Retention } from './retention.ts';
import { RETENTION_JOB, scheduleRetention } from './retention.job.ts';

const DAY = 86_400_000;
const OPERATOR = { type: 'operator' as const, id: 'cli:test' };

describe('durations', () => {
  it('does parse years, months, weeks and days and refuse anything else', () => {
    expect(parseDuration('P1Y6M2W3D')).toEqual({ years: 1, months: 6, weeks: 2, days: 3 });
    for (const bad of ['P', '2Y', 'P1H', 'PT1H', 'P-1D', 'P1.5Y', '']) expect(() => parseDuration(bad)).toThrow(/ISO-8601/);
  });

  it('does count calendar months back and clamp to the end of the month', () => {
    expect(subtractDuration(new Date('2027-03-31T10:00:00Z'), parseDuration('P1M')).toISOString()).toBe('2027-02-28T10:00:00.000Z');
    expect(subtractDuration(new Date('2027-03-31T10:00:00Z'), parseDuration('P13M')).toISOString()).toBe('2026-02-28T10:00:00.000Z');
    expect(subtractDuration(new Date('2027-01-10T00:00:00Z'), parseDuration('P2Y10D')).toISOString()).toBe('2024-12-31T00:00:00.000Z');
  });
});

/** Rows of every table retention touches, for one tenant, and how many objects are still readable. */
async function snapshot(db: Database, tenantId: string): Promise<Record<string, number>> {
  const q = async (sql: string) => Number((await db.query<{ n: string }>(sql, [tenantId])).rows[0]!.n);
  return {
    messages: await q(`SELECT count(*) AS n FROM messages WHERE tenant_id = $1`),
    message_recipients: await q(`SELECT count(*) AS n FROM message_recipients WHERE tenant_id = $1`),
    message_attachments: await q(`SELECT count(*) AS n FROM message_attachments a JOIN messages m ON m.id = a.message_id WHERE m.tenant_id = $1`),
    recipient_challenges: await q(`SELECT count(*) AS n FROM recipient_challenges c JOIN message_recipients r ON r.id = c.recipient_id WHERE r.tenant_id = $1`),
    recipient_sessions: await q(`SELECT count(*) AS n FROM recipient_sessions s JOIN message_recipients r ON r.id = s.recipient_id WHERE r.tenant_id = $1`),
    access_requests: await q(`SELECT count(*) AS n FROM access_requests WHERE tenant_id = $1`),
    pending_uploads: await q(`SELECT count(*) AS n FROM pending_uploads WHERE tenant_id = $1`),
    sealed_objects: await q(`SELECT count(*) AS n FROM sealed_objects WHERE tenant_id = $1`),
    live_objects: await q(`SELECT count(*) AS n FROM sealed_objects WHERE tenant_id = $1 AND shredded_at IS NULL`),
    prevent_observations: await q(`SELECT count(*) AS n FROM prevent_observations WHERE tenant_id = $1`),
    prevent_decisions: await q(`SELECT count(*) AS n FROM prevent_decisions WHERE tenant_id = $1`),
    audit_events: await q(`SELECT count(*) AS n FROM audit_events WHERE chain = $1::text`),
  };
}

async function addObservation(db: Database, tenantId: string, at: Date): Promise<void> {
  await db.query(
    `INSERT INTO prevent_observations (tenant_id, source, observed_at, sender, recipients, terms) VALUES ($1, 'import', $2, 'a@acme.example', '[{"a":"b@partner.example","r":"to"}]', '[]')`,
    [tenantId, at],
  );
}

async function addDecision(db: Database, tenantId: string, userId: string | null, at: Date, messageId: string | null = null): Promise<void> {
  await db.query(
    `INSERT INTO prevent_decisions (id, tenant_id, user_id, message_id, decided_at, check_kind, severity, mode, outcome, recipients, context_key)
     VALUES ($1, $2, $3, $4, $5, 'unusual_recipient', 'warning', 'nudge', 'sent_anyway', '["b@partner.example"]', $6)`,
    [crypto.randomUUID(), tenantId, userId, messageId, at, 'a'.repeat(64)],
  );
}

describeEachDatabase('retention', (ctx) => {
  let h: MessagingHarness;
  let retention: Retention;
  const realNow = new Date();

  const build = (db: Database, harness: MessagingHarness) => {
    const prevent = createPrevent({ db, keys: harness.stack.keys, clock: () => harness.clock.now });
    return createRetention({ db, deleteBlob: (_region, key) => harness.stack.blobs.delete(key), prevent: prevent.service, clock: () => harness.clock.now, logger: createLogger('silent') });
  };

  beforeAll(async () => {
    h = await buildMessagingHarness(ctx.db());
    retention = build(ctx.db(), h);
  });

  afterAll(async () => {
    await h.cleanup();
  });

  /** Sends as of `at` (the harness clock), then puts the clock back. */
  async function sendAt(at: Date, sender: Sender, draft: Parameters<MessagingHarness['send']>[1]) {
    const saved = h.clock.now;
    h.clock.now = at;
    try {
      return await h.send(sender, draft);
    } finally {
      h.clock.now = saved;
    }
  }

  async function upload(sender: Sender, text: string) {
    const bytes = Buffer.from(text);
    return h.messaging.uploads.upload(sender, { length: bytes.length, source: Readable.from([bytes]) });
  }

  it('does delete or shred what is due in every category, and a dry run reports the same without changing anything', async () => {
    const db = ctx.db();
    const alice = await h.sender('alice');
    const t = alice.tenantId;
    const longAgo = new Date(realNow.getTime() - 3 * 365 * DAY);

    // Content: an old message with an attachment (tenant policy P2Y deletes it), one that expired
    // 40 days ago (shredded after the 30-day grace), one that expired 10 days ago (still in grace), a recent one.
    const att = await upload(alice, 'attachment bytes');
    const old = await sendAt(longAgo, alice, { to: ['old@partner.example'], attachments: [{ uploadId: att.uploadId, filename: 'a.txt', contentType: 'text/plain' }] });
    const expired = await sendAt(new Date(realNow.getTime() - 60 * DAY), alice, { to: ['exp@partner.example'], expiresAt: new Date(realNow.getTime() - 59 * DAY + DAY) });
    await db.query(`UPDATE messages SET expires_at = $2 WHERE id = $1`, [expired.id, new Date(realNow.getTime() - 40 * DAY)]);
    const inGrace = await sendAt(new Date(realNow.getTime() - 20 * DAY), alice, { to: ['grace@partner.example'], expiresAt: new Date(realNow.getTime() - 19 * DAY + DAY) });
    await db.query(`UPDATE messages SET expires_at = $2 WHERE id = $1`, [inGrace.id, new Date(realNow.getTime() - 10 * DAY)]);
    const recent = await h.send(alice, { to: ['new@partner.example'] });

    // Codes: the recipient of the recent message verified 40 days ago (ended code and session), and now.
    await h.verify(h.linkFor('new@partner.example'));
    await db.query(
      `UPDATE recipient_challenges SET created_at = $2, expires_at = $2, consumed_at = $2 WHERE recipient_id IN (SELECT id FROM message_recipients WHERE message_id = $1)`,
      [recent.id, new Date(realNow.getTime() - 40 * DAY)],
    );
    await db.query(`UPDATE recipient_sessions SET created_at = $2, expires_at = $2 WHERE recipient_id IN (SELECT id FROM message_recipients WHERE message_id = $1)`, [recent.id, new Date(realNow.getTime() - 40 * DAY)]);
    await h.verify(h.linkFor('new@partner.example'));

    // An upload abandoned two days ago and one from now.
    const abandoned = await upload(alice, 'never sent');
    await db.query(`UPDATE pending_uploads SET created_at = $2 WHERE object_id = $1`, [abandoned.uploadId, new Date(realNow.getTime() - 2 * DAY)]);
    const fresh = await upload(alice, 'still drafting');

    // Smart Data: two observations and a decision older than 12 months, one of each recent.
    await addObservation(db, t, new Date(realNow.getTime() - 400 * DAY));
    await addObservation(db, t, new Date(realNow.getTime() - 370 * DAY));
    await addObservation(db, t, new Date(realNow.getTime() - 10 * DAY));
    await addDecision(db, t, alice.userId, new Date(realNow.getTime() - 400 * DAY));
    await addDecision(db, t, alice.userId, new Date(realNow.getTime() - 10 * DAY));

    await retention.service.setPolicy(OPERATOR, t, 'content', 'P2Y');
    const objectsOfOld = (await db.query<{ id: string; blob_key: string }>(
      `SELECT o.id, o.blob_key FROM sealed_objects o WHERE o.id IN (SELECT envelope_object_id FROM messages WHERE id = $1 UNION SELECT object_id FROM message_attachments WHERE message_id = $1)`,
      [old.id],
    )).rows;
    expect(objectsOfOld).toHaveLength(2);
    const expiredEnvelope = (await db.query<{ envelope_object_id: string }>(`SELECT envelope_object_id FROM messages WHERE id = $1`, [expired.id])).rows[0]!.envelope_object_id;

    const before = await snapshot(db, t);
    const dry = await retention.runRetention({ dryRun: true, tenantId: t, now: realNow, batchSize: 2 });
    expect(await snapshot(db, t)).toEqual(before);
    expect(dry).toMatchObject({ dryRun: true, status: 'completed', tenantId: t });

    const real = await retention.runRetention({ dryRun: false, tenantId: t, now: realNow, batchSize: 2 });
    expect(real.tables).toEqual(dry.tables);
    expect(real.categories).toEqual(dry.categories);
    expect(real.tables).toMatchObject({
      messages: { deleted: 1, shredded: 0, held: 0 },
      message_recipients: { deleted: 1 },
      message_attachments: { deleted: 1 },
      // The old message's two objects are shredded and deleted; the expired one's envelope and the abandoned upload are shredded.
      sealed_objects: { shredded: 4, deleted: 3, held: 0 },
      pending_uploads: { deleted: 1 },
      recipient_challenges: { deleted: 1 },
      recipient_sessions: { deleted: 1 },
      prevent_observations: { deleted: 2 },
      prevent_decisions: { deleted: 1 },
    });
    expect(real.categories.content!.deleted).toBeGreaterThan(0);
    expect(real.categories.smart).toEqual({ deleted: 3, shredded: 0, held: 0 });

    // In the stores: the old message is gone with its objects and ciphertext, the expired one is unreadable, the rest untouched.
    expect((await db.query(`SELECT 1 FROM messages WHERE id = $1`, [old.id])).rows).toHaveLength(0);
    expect((await db.query(`SELECT 1 FROM sealed_objects WHERE id = ANY($1::uuid[])`, [objectsOfOld.map((o) => o.id)])).rows).toHaveLength(0);
    for (const o of objectsOfOld) expect(existsSync(h.stack.blobPath(o.blob_key))).toBe(false);
    await expect(h.stack.content.open(t, expiredEnvelope)).rejects.toMatchObject({ code: 'content_shredded' });
    await expect(h.stack.content.open(t, abandoned.uploadId)).rejects.toMatchObject({ code: 'content_not_found' });
    const graceEnvelope = (await db.query<{ envelope_object_id: string }>(`SELECT envelope_object_id FROM messages WHERE id = $1`, [inGrace.id])).rows[0]!.envelope_object_id;
    expect((await h.stack.content.openBytes(t, graceEnvelope)).length).toBeGreaterThan(0);
    expect((await h.stack.content.openBytes(t, fresh.uploadId)).toString()).toBe('still drafting');
    expect((await h.read(await h.verify(h.linkFor('new@partner.example')))).envelope.subject).toBe('Quarterly figures');
    const after = await snapshot(db, t);
    expect(after.prevent_observations).toBe(1);
    expect(after.prevent_decisions).toBe(1);
    expect(after.recipient_sessions).toBeGreaterThanOrEqual(1);

    // Idempotent: nothing more is due.
    const again = await retention.runRetention({ dryRun: false, tenantId: t, now: realNow });
    expect(again.totalRemoved).toBe(0);

    // The report is stored (counts only) and the run is in the tenant's audit trail.
    const [latest] = await retention.service.reports({ tenantId: t, limit: 1 });
    expect(latest!.id).toBe(again.id);
    const reports = await retention.service.reports({ tenantId: t, limit: 10 });
    expect(reports.map((r) => r.id)).toContain(real.id);
    const { rows: events } = await db.query<{ details: { tables: Record<string, unknown> } }>(
      `SELECT details FROM audit_events WHERE chain = $1 AND action = 'retention.run_completed' AND target_id = $2`,
      [t, real.id],
    );
    expect(Object.keys(events[0]!.details.tables)).toContain('messages');
    expect(JSON.stringify(events[0]!.details)).not.toContain('@');
  });

  it('does keep what a legal hold covers (tenant, user, message) and report it as held', async () => {
    const db = ctx.db();
    const bob = await h.sender('bob');
    const carol = { ...(await h.sender('carol')), tenantId: bob.tenantId };
    await db.query(`UPDATE users SET tenant_id = $1 WHERE id = $2`, [bob.tenantId, carol.userId]);
    const longAgo = new Date(realNow.getTime() - 3 * 365 * DAY);
    const byBob = await sendAt(longAgo, bob, { to: ['x@partner.example'] });
    const held = await sendAt(longAgo, carol, { to: ['y@partner.example'] });
    const free = await sendAt(longAgo, carol, { to: ['z@partner.example'] });
    await addDecision(db, bob.tenantId, bob.userId, new Date(realNow.getTime() - 400 * DAY));
    await retention.service.setPolicy(OPERATOR, bob.tenantId, 'content', 'P2Y');

    const userHold = await retention.service.placeHold(OPERATOR, bob.tenantId, { scope: 'user', userId: bob.userId, reason: 'Case 2027-17 (employment tribunal)' });
    const messageHold = await retention.service.placeHold(OPERATOR, bob.tenantId, { scope: 'message', messageId: held.id, reason: 'Regulator inquiry' });

    const dry = await retention.runRetention({ dryRun: true, tenantId: bob.tenantId, now: realNow });
    const report = await retention.runRetention({ dryRun: false, tenantId: bob.tenantId, now: realNow });
    expect(report.tables).toEqual(dry.tables);
    expect(report.tables.messages).toEqual({ deleted: 1, shredded: 0, held: 2 });
    expect(report.tables.sealed_objects).toMatchObject({ held: 2 });
    expect(report.tables.prevent_decisions).toEqual({ deleted: 0, shredded: 0, held: 1 });
    const remaining = (await db.query<{ id: string }>(`SELECT id FROM messages WHERE tenant_id = $1`, [bob.tenantId])).rows.map((r) => r.id);
    expect(remaining.sort()).toEqual([byBob.id, held.id].sort());
    expect(remaining).not.toContain(free.id);
    expect((await h.stack.content.openBytes(bob.tenantId, (await db.query<{ envelope_object_id: string }>(`SELECT envelope_object_id FROM messages WHERE id = $1`, [held.id])).rows[0]!.envelope_object_id)).length).toBeGreaterThan(0);

    // Releasing is recorded; the next run removes what is no longer held.
    const released = await retention.service.releaseHold(OPERATOR, bob.tenantId, messageHold.id, 'Inquiry closed');
    expect(released).toMatchObject({ releasedBy: 'cli:test', releaseReason: 'Inquiry closed' });
    expect(released.releasedAt).toBeInstanceOf(Date);
    await expect(retention.service.releaseHold(OPERATOR, bob.tenantId, messageHold.id, 'again')).rejects.toMatchObject({ code: 'hold_already_released' });
    const next = await retention.runRetention({ dryRun: false, tenantId: bob.tenantId, now: realNow });
    expect(next.tables.messages).toEqual({ deleted: 1, shredded: 0, held: 1 });
    expect((await retention.service.listHolds(bob.tenantId)).map((x) => x.id)).toEqual([userHold.id]);
    expect((await retention.service.listHolds(bob.tenantId, { includeReleased: true })).map((x) => x.id).sort()).toEqual([userHold.id, messageHold.id].sort());

    // A tenant hold keeps everything, Smart Data included.
    const dave = await h.sender('dave');
    await sendAt(longAgo, dave, { to: ['w@partner.example'] });
    await addObservation(db, dave.tenantId, new Date(realNow.getTime() - 400 * DAY));
    await retention.service.setPolicy(OPERATOR, dave.tenantId, 'content', 'P2Y');
    await retention.service.placeHold(OPERATOR, dave.tenantId, { scope: 'tenant', reason: 'Litigation hold' });
    const beforeHeld = await snapshot(db, dave.tenantId);
    const heldReport = await retention.runRetention({ dryRun: false, tenantId: dave.tenantId, now: new Date(realNow.getTime() + 8 * 366 * DAY) });
    expect(heldReport.totalRemoved).toBe(0);
    expect(heldReport.tables.messages).toEqual({ deleted: 0, shredded: 0, held: 1 });
    expect(heldReport.tables.prevent_observations).toEqual({ deleted: 0, shredded: 0, held: 1 });
    expect(heldReport.tables.audit_events!.held).toBeGreaterThan(0);
    const afterHeld = await snapshot(db, dave.tenantId);
    expect({ ...afterHeld, audit_events: 0 }).toEqual({ ...beforeHeld, audit_events: 0 });
  });

  it('does keep replies and their thread until the newest is due, and count that the same dry', async () => {
    const db = ctx.db();
    const erin = await h.sender('erin');
    const longAgo = new Date(realNow.getTime() - 3 * 365 * DAY);
    const first = await sendAt(longAgo, erin, { to: ['r@partner.example'] });
    const second = await sendAt(new Date(longAgo.getTime() + DAY), erin, { to: ['r@partner.example'], inReplyTo: first.id });
    const third = await sendAt(new Date(realNow.getTime() - DAY), erin, { to: ['r@partner.example'], inReplyTo: first.id });
    await retention.service.setPolicy(OPERATOR, erin.tenantId, 'content', 'P2Y');
    const dry = await retention.runRetention({ dryRun: true, tenantId: erin.tenantId, now: realNow });
    const real = await retention.runRetention({ dryRun: false, tenantId: erin.tenantId, now: realNow, batchSize: 1 });
    expect(real.tables).toEqual(dry.tables);
    // The second message goes; the first stays (a recent reply points at it) but its Content is shredded.
    expect(real.tables.messages).toEqual({ deleted: 1, shredded: 0, held: 0 });
    const ids = (await db.query<{ id: string }>(`SELECT id FROM messages WHERE tenant_id = $1`, [erin.tenantId])).rows.map((r) => r.id);
    expect(ids.sort()).toEqual([first.id, third.id].sort());
    expect(ids).not.toContain(second.id);
    const env = (await db.query<{ envelope_object_id: string }>(`SELECT envelope_object_id FROM messages WHERE id = $1`, [first.id])).rows[0]!.envelope_object_id;
    await expect(h.stack.content.open(erin.tenantId, env)).rejects.toMatchObject({ code: 'content_shredded' });
  });

  it('does delete old audit events from the start of the chain and keep it verifiable', async () => {
    const db = ctx.db();
    const fay = await h.sender('fay');
    const m1 = await h.send(fay, { to: ['a1@partner.example'] });
    const m2 = await h.send(fay, { to: ['a2@partner.example'] });
    await h.send(fay, { to: ['a3@partner.example'] });
    await retention.service.placeHold(OPERATOR, fay.tenantId, { scope: 'message', messageId: m2.id, reason: 'Complaint' });
    const chainBefore = await snapshot(db, fay.tenantId);
    const { rows: firstHeld } = await db.query<{ seq: string }>(`SELECT min(chain_seq) AS seq FROM audit_events WHERE chain = $1 AND target_type = 'message' AND target_id = $2`, [fay.tenantId, m2.id]);
    expect(Number(firstHeld[0]!.seq)).toBeGreaterThan(1);
    const head = Number((await db.query<{ seq: string }>(`SELECT max(chain_seq) AS seq FROM audit_events WHERE chain = $1`, [fay.tenantId])).rows[0]!.seq);

    const later = new Date(realNow.getTime() + 8 * 366 * DAY);
    const dry = await retention.runRetention({ dryRun: true, tenantId: fay.tenantId, now: later });
    expect(await snapshot(db, fay.tenantId)).toEqual(chainBefore);
    const real = await retention.runRetention({ dryRun: false, tenantId: fay.tenantId, now: later, batchSize: 2 });
    expect(real.tables.audit_events).toEqual(dry.tables.audit_events);
    // Everything before the first event about the held message went; from there on, all stays.
    expect(real.tables.audit_events!.deleted).toBe(Number(firstHeld[0]!.seq) - 1);
    expect(real.tables.audit_events!.held).toBe(head - Number(firstHeld[0]!.seq));
    const { rows: kept } = await db.query<{ seq: string }>(`SELECT min(chain_seq) AS seq FROM audit_events WHERE chain = $1`, [fay.tenantId]);
    expect(kept[0]!.seq).toBe(firstHeld[0]!.seq);
    expect((await db.query(`SELECT 1 FROM audit_events WHERE chain = $1 AND target_id = $2`, [fay.tenantId, m1.id])).rows).toHaveLength(0);

    const verified = await verifyAuditChains(db, { tenantId: fay.tenantId });
    expect(verified.problems).toEqual([]);
    expect(verified.ok).toBe(true);

    // A checkpoint moved behind the log's back is caught: no chained 'audit.pruned' event records it.
    const { rows: cp } = await db.query<{ first_seq: string; prev_hash: Uint8Array }>(`SELECT first_seq, prev_hash FROM audit_checkpoints WHERE chain = $1`, [fay.tenantId]);
    await db.query(`DELETE FROM audit_events WHERE chain = $1 AND chain_seq = $2`, [fay.tenantId, cp[0]!.first_seq]);
    const { rows: nextRow } = await db.query<{ prev_hash: Uint8Array }>(`SELECT prev_hash FROM audit_events WHERE chain = $1 AND chain_seq = $2`, [fay.tenantId, (BigInt(cp[0]!.first_seq) + 1n).toString()]);
    await db.query(`UPDATE audit_checkpoints SET first_seq = first_seq + 1, prev_hash = $2 WHERE chain = $1`, [fay.tenantId, nextRow[0]!.prev_hash]);
    const tampered = await verifyAuditChains(db, { tenantId: fay.tenantId });
    expect(tampered.ok).toBe(false);
    expect(tampered.problems.map((p) => p.problem)).toContain('checkpoint_unconfirmed');
  });

  it('does prune a whole chain except its newest event, and appends after it still verify', async () => {
    const db = ctx.db();
    const gus = await h.sender('gus');
    await h.send(gus, { to: ['g1@partner.example'] });
    await h.send(gus, { to: ['g2@partner.example'] });
    const report = await retention.runRetention({ dryRun: false, tenantId: gus.tenantId, now: new Date(realNow.getTime() + 8 * 366 * DAY), batchSize: 3 });
    expect(report.tables.audit_events!.deleted).toBeGreaterThan(3);
    await h.send(gus, { to: ['g3@partner.example'] });
    expect((await verifyAuditChains(db, { tenantId: gus.tenantId })).ok).toBe(true);
    // Running again removes only what became old since (the pruned markers are new).
    const again = await retention.runRetention({ dryRun: false, tenantId: gus.tenantId, now: new Date(realNow.getTime() + 8 * 366 * DAY) });
    expect((await verifyAuditChains(db, { tenantId: gus.tenantId })).ok).toBe(true);
    expect(again.tables.audit_events?.deleted ?? 0).toBeGreaterThanOrEqual(0);
  });

  it('does keep a chain with pseudonymised events verifiable after pruning it', async () => {
    const db = ctx.db();
    const ida = await h.sender('ida');
    await h.send(ida, { to: ['erased-later@partner.example'] });
    // The recipient's own actions put their address in the tenant's trail.
    await h.verify(h.linkFor('erased-later@partner.example'));
    await h.send(ida, { to: ['kept@partner.example'] });
    const prevent = createPrevent({ db, keys: h.stack.keys });
    const engine = createSubjectEngine({ db, content: h.stack.content, provider: h.stack.provider, prevent: prevent.service });
    await engine.erase({ emails: ['erased-later@partner.example'], userIds: [] });
    const overlays = async () => Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM audit_pseudonymisations WHERE chain = $1`, [ida.tenantId])).rows[0]!.n);
    expect(await overlays()).toBeGreaterThan(0);
    expect((await verifyAuditChains(db, { tenantId: ida.tenantId })).ok).toBe(true);
    const later = new Date(realNow.getTime() + 8 * 366 * DAY);
    // The attesting event is the chain's newest, so it stays, with its overlay whole.
    const report = await retention.runRetention({ dryRun: false, tenantId: ida.tenantId, now: later });
    expect(report.tables.audit_events!.deleted).toBeGreaterThan(0);
    expect(await overlays()).toBeGreaterThan(0);
    expect((await verifyAuditChains(db, { tenantId: ida.tenantId })).problems).toEqual([]);
    // Once newer events exist, the attesting event goes with the rows it covers, and so does the overlay.
    await h.send(ida, { to: ['kept@partner.example'] });
    const again = await retention.runRetention({ dryRun: false, tenantId: ida.tenantId, now: later });
    expect(again.tables.audit_events!.deleted).toBeGreaterThan(0);
    expect(await overlays()).toBe(0);
    expect((await verifyAuditChains(db, { tenantId: ida.tenantId })).problems).toEqual([]);
  });

  it('does validate policies and holds with errors that name the problem', async () => {
    const hal = await h.sender('hal');
    const t = hal.tenantId;
    await expect(retention.service.setPolicy(OPERATOR, t, 'content', 'two years')).rejects.toMatchObject({ code: 'retention_period_invalid' });
    await expect(retention.service.setPolicy(OPERATOR, t, 'audit', 'P1M')).rejects.toMatchObject({ code: 'retention_period_out_of_bounds' });
    await expect(retention.service.setPolicy(OPERATOR, t, 'audit', null)).rejects.toMatchObject({ code: 'retention_period_required' });
    await expect(retention.service.setPolicy(OPERATOR, t, 'smart', 'P6M')).rejects.toMatchObject({ code: 'retention_policy_fixed' });
    await expect(retention.service.setPolicy(OPERATOR, t, 'system', 'P2Y')).rejects.toMatchObject({ code: 'retention_policy_installation_only' });
    await expect(retention.service.setPolicy(OPERATOR, t, 'colour', 'P2Y')).rejects.toMatchObject({ code: 'retention_policy_unknown' });
    await ctx.db().query(`INSERT INTO labels (id, tenant_id, name, rank, auth_level, default_expiry_days) VALUES ($1, $2, 'long-lived', 1, 'email_code', 400)`, [crypto.randomUUID(), t]);
    await expect(retention.service.setPolicy(OPERATOR, t, 'content', 'P1Y')).rejects.toMatchObject({ code: 'retention_period_shorter_than_label_expiry' });
    const set = await retention.service.setPolicy(OPERATOR, t, 'content', 'P2Y');
    expect(set.find((p) => p.key === 'content')).toMatchObject({ period: 'P2Y', source: 'tenant', defaultPeriod: null });
    expect(set.find((p) => p.key === 'audit')).toMatchObject({ period: 'P7Y', source: 'default' });
    expect(set.find((p) => p.key === 'smart')).toMatchObject({ period: 'P12M', source: 'fixed', settable: false });
    const reset = await retention.service.setPolicy(OPERATOR, t, 'content', 'default');
    expect(reset.find((p) => p.key === 'content')).toMatchObject({ period: null, source: 'default' });
    const { rows } = await ctx.db().query<{ details: Record<string, unknown> }>(`SELECT details FROM audit_events WHERE chain = $1 AND action = 'retention.policy_changed' ORDER BY chain_seq`, [t]);
    expect(rows.map((r) => r.details)).toEqual([
      { key: 'content', period: 'P2Y', previous: 'default' },
      { key: 'content', period: 'default', previous: 'P2Y' },
    ]);

    await expect(retention.service.placeHold(OPERATOR, t, { scope: 'user', reason: 'x' })).rejects.toMatchObject({ code: 'hold_user_invalid' });
    await expect(retention.service.placeHold(OPERATOR, t, { scope: 'user', userId: crypto.randomUUID(), reason: 'x' })).rejects.toMatchObject({ code: 'user_not_found' });
    await expect(retention.service.placeHold(OPERATOR, t, { scope: 'message', messageId: crypto.randomUUID(), reason: 'x' })).rejects.toMatchObject({ code: 'message_not_found' });
    await expect(retention.service.placeHold(OPERATOR, t, { scope: 'tenant', reason: '  ' })).rejects.toMatchObject({ code: 'hold_reason_invalid' });
    await expect(retention.service.placeHold(OPERATOR, t, { scope: 'everything', reason: 'x' })).rejects.toMatchObject({ code: 'hold_scope_invalid' });
    await expect(retention.runRetention({ dryRun: true, tenantId: t, batchSize: 0 })).rejects.toMatchObject({ code: 'retention_batch_invalid' });
    await expect(retention.runRetention({ dryRun: true, tenantId: crypto.randomUUID() })).rejects.toMatchObject({ code: 'tenant_not_found' });
  });
});

describeEachDatabase('retention job', (ctx) => {
  it('does run from the queue, survive a failure with a retry, refuse a concurrent run, and queue the next day', async () => {
    const db = await ctx.createDatabase();
    const h = await buildMessagingHarness(db);
    try {
      const ivy = await h.sender('ivy');
      await addObservation(db, ivy.tenantId, new Date(Date.now() - 400 * DAY));
      await db.query(`INSERT INTO jobs (id, kind, payload, status, max_attempts, created_at, finished_at) VALUES ($1, 'notify_recipient', '{}', 'done', 1, $2, $2)`, [crypto.randomUUID(), new Date(Date.now() - 14 * 31 * DAY)]);
      const prevent = createPrevent({ db, keys: h.stack.keys });
      let failNext = true;
      const flaky = {
        // Fault injection: the first attempt fails as if the database had gone away mid-run.
        pruneExpired: async (tenantId: string, batchSize?: number, now?: Date) => {
          if (failNext) {
            failNext = false;
            throw Object.assign(new Error('connection lost'), { code: 'database_unavailable' });
          }
          return prevent.service.pruneExpired(tenantId, batchSize, now);
        },
      };
      const retention = createRetention({ db, deleteBlob: (_r, k) => h.stack.blobs.delete(k), prevent: flaky, logger: createLogger('silent') });
      const runner = new JobRunner(db, retention.jobs, createLogger('silent'));

      expect(await scheduleRetention(db, new Date(Date.now() - 1000))).toBe(true);
      expect(await scheduleRetention(db, new Date(Date.now() - 1000))).toBe(false);
      expect(await runner.runDue()).toBe(1);
      const { rows: failed } = await db.query<{ status: string; attempts: number; last_error: string }>(`SELECT status, attempts, last_error FROM jobs WHERE kind = $1`, [RETENTION_JOB]);
      expect(failed).toEqual([{ status: 'queued', attempts: 1, last_error: 'database_unavailable' }]);
      const { rows: runs } = await db.query<{ status: string; error: string }>(`SELECT status, error FROM retention_runs`);
      expect(runs).toEqual([{ status: 'failed', error: 'database_unavailable' }]);

      // While a run changes data, another is refused.
      await db.query(`INSERT INTO retention_runs (id, dry_run, triggered_by, status, as_of, started_at, heartbeat_at) VALUES ($1, false, 'cli', 'running', now(), now(), now())`, [crypto.randomUUID()]);
      await expect(retention.runRetention({ dryRun: false })).rejects.toMatchObject({ code: 'retention_run_in_progress' });
      // ... unless its heartbeat is long gone (its process died).
      await db.query(`UPDATE retention_runs SET heartbeat_at = now() - interval '1 hour' WHERE status = 'running'`);

      await db.query(`UPDATE jobs SET run_at = now() WHERE kind = $1`, [RETENTION_JOB]);
      expect(await runner.runDue()).toBe(1);
      const { rows: jobs } = await db.query<{ status: string; run_at: Date }>(`SELECT status, run_at FROM jobs WHERE kind = $1 ORDER BY created_at`, [RETENTION_JOB]);
      expect(jobs.map((j) => j.status)).toEqual(['done', 'queued']);
      expect(jobs[1]!.run_at.getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);
      const [report] = await retention.service.reports({ tenantId: null, limit: 1 });
      expect(report).toMatchObject({ status: 'completed', triggeredBy: 'schedule', dryRun: false });
      expect(report!.tables.prevent_observations).toEqual({ deleted: 1, shredded: 0, held: 0 });
      expect(report!.tables.jobs).toEqual({ deleted: 1, shredded: 0, held: 0 });
      expect((await db.query(`SELECT status FROM retention_runs WHERE error = 'abandoned'`)).rows).toHaveLength(1);
      // The tenant sees its own share of the installation-wide run.
      const [share] = await retention.service.reports({ tenantId: ivy.tenantId, limit: 1 });
      expect(share!.tables).toEqual({ prevent_observations: { deleted: 1, shredded: 0, held: 0 } });
    } finally {
      await h.cleanup();
    }
  });
});
