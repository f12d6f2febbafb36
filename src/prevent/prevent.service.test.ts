import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMessaging, type Messaging } from '../messages/messaging.ts';
import type { Database, QueryResult, Sql, Transaction } from '../storage/database/database.ts';
import { describeEachDatabase } from '../../test/support/database.ts';
import { buildContentStack, buildTenant, type ContentStack } from '../../test/support/factories.ts';
import { fakeClock, type FakeClock } from '../../test/support/accounts.ts';
import { MemoryMailer } from '../../test/support/messaging.ts';
import type { Draft } from './prevent.model.ts';
import { createPrevent, type Prevent } from './prevent.ts';

const DAY = 86_400_000;

async function addUser(db: Database, tenantId: string, email: string): Promise<{ tenantId: string; userId: string; email: string }> {
  const id = crypto.randomUUID();
  await db.query(`INSERT INTO users (id, tenant_id, email, display_name, role, created_at, updated_at) VALUES ($1, $2, $3, $4, 'author', now(), now())`, [id, tenantId, email, email.split('@')[0]]);
  return { tenantId, userId: id, email };
}

/** `n` messages from `from` to `to`, one a day ending yesterday. */
function history(from: string, to: string[], n: number, now: Date, subject = 'project update') {
  return Array.from({ length: n }, (_, i) => ({ at: new Date(now.getTime() - (n - i) * DAY), from, to, cc: [], bcc: [], subject }));
}

function draft(from: string, to: string[], body = 'Hello,\n\nsee attached.\n', at = new Date()): Draft {
  return { from, recipients: to.map((address) => ({ address, role: 'to' as const })), subject: 'project update', body, labelRank: 1, threadId: null, at };
}

const CARD_BODY = 'Hello,\n\nthe card is 4111 1111 1111 1111, expiry next year.\n';

/** A database that records the parameters of every statement touching Prevent's tables. */
function recording(db: Database, seen: Array<{ text: string; params: unknown[] }>): Database {
  return intercepting(db, (text, params) => {
    if (/prevent_/.test(text)) seen.push({ text, params });
  });
}

/**
 * A database that calls `before` ahead of every statement (the statement waits for what it
 * returns, and fails if it throws), and `after` once a statement has answered.
 */
function intercepting(db: Database, before: (text: string, params: unknown[]) => void | Promise<void>, after?: (text: string) => void): Database {
  const wrapSql = <T extends Sql>(s: T): T =>
    new Proxy(s, {
      get(target, prop, receiver) {
        if (prop === 'query') {
          return async (text: string, params?: unknown[]): Promise<QueryResult<unknown>> => {
            await before(text, params ?? []);
            const result = await target.query(text, params);
            after?.(text);
            return result;
          };
        }
        if (prop === 'transaction') return (fn: (tx: Transaction) => Promise<unknown>) => (target as unknown as Database).transaction((tx) => fn(wrapSql(tx)));
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  return wrapSql(db);
}

describeEachDatabase('Prevent service', (ctx) => {
  let stack: ContentStack;
  let prevent: Prevent;
  let messaging: Messaging;
  let clock: FakeClock;

  beforeAll(async () => {
    stack = await buildContentStack(ctx.db());
    clock = fakeClock(new Date('2026-06-01T12:00:00Z'));
    prevent = createPrevent({ db: ctx.db(), keys: stack.keys, clock });
    messaging = createMessaging({ db: ctx.db(), content: stack.content, keys: stack.keys, mailer: new MemoryMailer(), publicUrl: 'http://sealpost.test', clock, guard: prevent.guard });
  });
  afterAll(async () => stack.cleanup());

  describe('learning', () => {
    it('learns from every send in the same transaction, keeping subject words only as keyed hashes', async () => {
      const t = await buildTenant(ctx.db());
      const alice = await addUser(ctx.db(), t.id, `alice-${t.id.slice(0, 8)}@org.test`);
      const sent = await messaging.messages.send(alice, { to: ['bob@partner.test'], cc: ['carol@partner.test'], subject: 'Quarterly budget', text: 'Figures inside.' });
      const { rows } = await ctx.db().query<{ message_id: string; source: string; sender: string; recipients: unknown; terms: string[]; thread_key: string }>(
        'SELECT message_id, source, sender, recipients, terms, thread_key FROM prevent_observations WHERE tenant_id = $1',
        [t.id],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ message_id: sent.id, source: 'sent', sender: alice.email, thread_key: sent.threadId });
      expect(rows[0]!.recipients).toEqual([{ a: 'bob@partner.test', r: 'to' }, { a: 'carol@partner.test', r: 'cc' }]);
      expect(rows[0]!.terms).toHaveLength(2);
      expect(JSON.stringify(rows[0])).not.toMatch(/budget|quarterly/i);
      for (const term of rows[0]!.terms) expect(term).toMatch(/^[0-9a-f]{16}$/);
    });

    it('learns nothing when the send fails', async () => {
      const t = await buildTenant(ctx.db());
      const alice = await addUser(ctx.db(), t.id, `alice-${t.id.slice(0, 8)}@org.test`);
      await expect(
        messaging.messages.send(alice, { to: ['bob@partner.test'], subject: 'x', text: 'y', attachments: [{ uploadId: crypto.randomUUID(), filename: 'a.txt', contentType: 'text/plain' }] }),
      ).rejects.toMatchObject({ code: 'upload_not_found' });
      const { rows } = await ctx.db().query('SELECT 1 FROM prevent_observations WHERE tenant_id = $1', [t.id]);
      expect(rows).toHaveLength(0);
    });
  });

  describe('catching up with stored observations', () => {
    const isCatchUp = (text: string) => /FROM prevent_observations WHERE tenant_id = \$1 AND seq > \$2/.test(text);

    it('shares one catch-up among the checks that arrive while another runs, and each sees what was stored before it began', async () => {
      const t = await buildTenant(ctx.db());
      let gate: Promise<void> | undefined;
      let open!: () => void;
      let catchUps = 0;
      let settingsRead = 0;
      const db = intercepting(
        ctx.db(),
        async (text) => {
          if (!isCatchUp(text)) return;
          catchUps++;
          await gate;
        },
        (text) => {
          if (/FROM \(SELECT 1\) AS one LEFT JOIN prevent_settings/.test(text)) settingsRead++;
        },
      );
      const gated = createPrevent({ db, keys: stack.keys, clock });
      await gated.service.check(t.id, null, draft('x@org.test', ['bob@partner.test']));
      catchUps = 0;
      gate = new Promise((resolve) => (open = resolve));
      // The first check's catch-up waits at the gate; eight more checks arrive meanwhile.
      const first = gated.service.check(t.id, null, draft('x@org.test', ['bob@partner.test']));
      await vi.waitFor(() => expect(catchUps).toBe(1));
      await gated.service.importHistory(t.id, history('x@org.test', ['bob@partner.test'], 12, clock()));
      const settingsBefore = settingsRead;
      const later = Array.from({ length: 8 }, () => gated.service.check(t.id, null, draft('x@org.test', ['bob@partner.test'])));
      // Each check reads the settings, then (without further I/O) asks for a catch-up.
      await vi.waitFor(() => expect(settingsRead).toBe(settingsBefore + 8));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(catchUps).toBe(1);
      open();
      await first;
      const results = await Promise.all(later);
      // One more catch-up served all eight, and it read the history stored before they began:
      // bob is a usual recipient now, so none of them warns about him.
      expect(catchUps).toBe(2);
      for (const warnings of results) expect(warnings.filter((w) => w.check === 'unusual_recipient' && w.recipients.includes('bob@partner.test'))).toEqual([]);
    });

    it('fails the checks whose catch-up failed, and the next check catches up again', async () => {
      const t = await buildTenant(ctx.db());
      let failNext = false;
      const db = intercepting(ctx.db(), (text) => {
        if (isCatchUp(text) && failNext) {
          failNext = false;
          throw new Error('database went away');
        }
      });
      const flaky = createPrevent({ db, keys: stack.keys, clock });
      await flaky.service.check(t.id, null, draft('x@org.test', ['bob@partner.test']));
      failNext = true;
      await expect(flaky.service.check(t.id, null, draft('x@org.test', ['bob@partner.test']))).rejects.toThrow('database went away');
      await flaky.service.importHistory(t.id, history('x@org.test', ['bob@partner.test'], 12, clock()));
      const warnings = await flaky.service.check(t.id, null, draft('x@org.test', ['bob@partner.test']));
      expect(warnings.filter((w) => w.check === 'unusual_recipient' && w.recipients.includes('bob@partner.test'))).toEqual([]);
    });
  });

  describe('tenant isolation', () => {
    it('gives identical drafts different results in tenants with different histories', async () => {
      const a = await buildTenant(ctx.db());
      const b = await buildTenant(ctx.db());
      const sender = 'x@org.test';
      await prevent.service.importHistory(a.id, history(sender, ['bob@partner.test'], 40, clock()));
      await prevent.service.importHistory(b.id, history(sender, ['carol@other.test'], 40, clock()));
      const d = draft(sender, ['bob@partner.test']);
      const inA = await prevent.service.check(a.id, null, d);
      const inB = await prevent.service.check(b.id, null, d);
      expect(inA.filter((w) => w.recipients.includes('bob@partner.test') && w.check === 'unusual_recipient')).toEqual([]);
      expect(inB.some((w) => w.recipients.includes('bob@partner.test') && w.check === 'unusual_recipient')).toBe(true);
    });

    it("never reads another tenant's rows", async () => {
      const a = await buildTenant(ctx.db());
      const b = await buildTenant(ctx.db());
      await prevent.service.importHistory(b.id, history('y@org.test', ['someone@partner.test'], 20, clock()));
      const seen: Array<{ text: string; params: unknown[] }> = [];
      const isolated = createPrevent({ db: recording(ctx.db(), seen), keys: stack.keys, clock });
      await isolated.service.importHistory(a.id, history('y@org.test', ['bob@partner.test'], 20, clock()));
      await isolated.service.check(a.id, null, draft('y@org.test', ['someone@partner.test']));
      expect(seen.length).toBeGreaterThan(3);
      for (const q of seen) expect(q.params[0], q.text).toBe(a.id);
    });
  });

  describe('policy and feedback', () => {
    it('stops repeating a nudge the sender dismissed twice for the same recipient and finding', async () => {
      const t = await buildTenant(ctx.db());
      const alice = await addUser(ctx.db(), t.id, `alice-${t.id.slice(0, 8)}@org.test`);
      const d = draft(alice.email, ['bob@partner.test'], CARD_BODY);
      for (let i = 0; i < 2; i++) {
        const [card] = (await prevent.service.check(t.id, alice.userId, d)).filter((w) => w.check === 'sensitive_content');
        expect(card).toBeDefined();
        const record = await prevent.service.reviewSend(t.id, alice.userId, d, { acknowledged: [card!.id] });
        await record(ctx.db(), crypto.randomUUID());
      }
      expect((await prevent.service.check(t.id, alice.userId, d)).filter((w) => w.check === 'sensitive_content')).toEqual([]);
      // Another sender in the tenant still sees it.
      expect((await prevent.service.check(t.id, null, d)).some((w) => w.check === 'sensitive_content')).toBe(true);
      const { rows } = await ctx.db().query<{ outcome: string }>(`SELECT outcome FROM prevent_decisions WHERE tenant_id = $1 AND check_kind = 'sensitive_content' ORDER BY decided_at`, [t.id]);
      expect(rows.map((r) => r.outcome)).toEqual(['sent_anyway', 'sent_anyway']);
    });

    it('blocks until a blocking finding is acknowledged with a justification, and records each step', async () => {
      const t = await buildTenant(ctx.db());
      const admin = await addUser(ctx.db(), t.id, `admin-${t.id.slice(0, 8)}@org.test`);
      await prevent.service.updateSettings(t.id, admin.userId, { policy: { defaultMode: 'nudge', checks: { sensitive_content: 'block' } } });
      const d = draft(admin.email, ['bob@partner.test'], CARD_BODY);
      const [card] = (await prevent.service.check(t.id, admin.userId, d)).filter((w) => w.check === 'sensitive_content');
      expect(card).toMatchObject({ mode: 'block' });
      await expect(prevent.service.reviewSend(t.id, admin.userId, d, {})).rejects.toMatchObject({ code: 'prevent_blocked', details: { warnings: [expect.objectContaining({ id: card!.id })] } });
      await expect(prevent.service.reviewSend(t.id, admin.userId, d, { acknowledged: [card!.id] })).rejects.toMatchObject({ code: 'prevent_blocked' });
      const record = await prevent.service.reviewSend(t.id, admin.userId, d, { acknowledged: [card!.id], justification: 'Customer asked for the card on file' });
      await record(ctx.db(), crypto.randomUUID());
      const { rows } = await ctx.db().query<{ outcome: string; justification: string | null }>(
        `SELECT outcome, justification FROM prevent_decisions WHERE tenant_id = $1 AND check_kind = 'sensitive_content' ORDER BY decided_at, outcome`,
        [t.id],
      );
      expect(rows).toEqual([
        { outcome: 'blocked', justification: null },
        { outcome: 'blocked', justification: null },
        { outcome: 'justified', justification: 'Customer asked for the card on file' },
      ]);
    });

    it('logs monitored findings without showing them, and runs no check that is off', async () => {
      const t = await buildTenant(ctx.db());
      const admin = await addUser(ctx.db(), t.id, `admin-${t.id.slice(0, 8)}@org.test`);
      await prevent.service.updateSettings(t.id, admin.userId, { policy: { defaultMode: 'off', checks: { sensitive_content: 'monitor' } } });
      const d = draft(admin.email, ['bob@partner.test'], CARD_BODY);
      expect(await prevent.service.check(t.id, admin.userId, d)).toEqual([]);
      await (await prevent.service.reviewSend(t.id, admin.userId, d, {}))(ctx.db(), crypto.randomUUID());
      const { rows } = await ctx.db().query<{ check_kind: string; outcome: string; mode: string }>('SELECT check_kind, outcome, mode FROM prevent_decisions WHERE tenant_id = $1', [t.id]);
      expect(rows).toEqual([{ check_kind: 'sensitive_content', outcome: 'logged', mode: 'monitor' }]);
    });

    it('flags again a recipient the sender removed after a warning (a confirmed mistake)', async () => {
      const t = await buildTenant(ctx.db());
      const alice = await addUser(ctx.db(), t.id, `alice-${t.id.slice(0, 8)}@org.test`);
      const record = await prevent.service.reviewSend(t.id, alice.userId, draft(alice.email, ['bob@partner.test']), { resolved: [{ check: 'lookalike_address', recipients: ['bob@partnr.test'] }] });
      await record(ctx.db(), crypto.randomUUID());
      const warnings = await prevent.service.check(t.id, alice.userId, draft(alice.email, ['bob@partnr.test']));
      expect(warnings.find((w) => w.check === 'unusual_recipient' && w.recipients[0] === 'bob@partnr.test')?.reason).toMatch(/You removed bob@partnr\.test/);
    });

    it('records the decisions in the send transaction: if they cannot be written, no message is sent', async () => {
      const t = await buildTenant(ctx.db());
      const alice = await addUser(ctx.db(), t.id, `alice-${t.id.slice(0, 8)}@org.test`);
      const db = intercepting(ctx.db(), (text) => {
        if (/INSERT INTO prevent_decisions/.test(text)) throw new Error('decisions not written');
      });
      const guarded = createMessaging({ db, content: stack.content, keys: stack.keys, mailer: new MemoryMailer(), publicUrl: 'http://sealpost.test', clock, guard: createPrevent({ db, keys: stack.keys, clock }).guard });
      // The card number is a nudge: sending it unreviewed is a decision to record.
      await expect(guarded.messages.send(alice, { to: ['bob@partner.test'], subject: 'card', text: CARD_BODY })).rejects.toThrow('decisions not written');
      for (const table of ['messages', 'prevent_decisions', 'prevent_observations']) {
        expect((await ctx.db().query(`SELECT 1 FROM ${table} WHERE tenant_id = $1`, [t.id])).rows, table).toEqual([]);
      }
      const sent = await messaging.messages.send(alice, { to: ['bob@partner.test'], subject: 'card', text: CARD_BODY });
      const { rows } = await ctx.db().query<{ message_id: string; outcome: string }>('SELECT message_id, outcome FROM prevent_decisions WHERE tenant_id = $1', [t.id]);
      expect(rows.length).toBeGreaterThan(0);
      expect(rows).toEqual(rows.map(() => ({ message_id: sent.id, outcome: 'sent_unreviewed' })));
    });

    it("reads the tenant's settings and the sender's feedback with one statement", async () => {
      const t = await buildTenant(ctx.db());
      const alice = await addUser(ctx.db(), t.id, `alice-${t.id.slice(0, 8)}@org.test`);
      const seen: Array<{ text: string; params: unknown[] }> = [];
      const watched = createPrevent({ db: recording(ctx.db(), seen), keys: stack.keys, clock });
      await watched.service.check(t.id, alice.userId, draft(alice.email, ['bob@partner.test'], CARD_BODY));
      const reads = seen.filter((q) => /prevent_settings|prevent_decisions/.test(q.text));
      expect(reads).toHaveLength(1);
      expect(reads[0]!.text).toMatch(/prevent_settings/);
      expect(reads[0]!.text).toMatch(/prevent_decisions/);
      expect(reads[0]!.params.slice(0, 2)).toEqual([t.id, alice.userId]);
    });

    it('refuses an invalid policy with an error naming the field', async () => {
      const t = await buildTenant(ctx.db());
      const admin = await addUser(ctx.db(), t.id, `admin-${t.id.slice(0, 8)}@org.test`);
      await expect(prevent.service.updateSettings(t.id, admin.userId, { policy: { defaultMode: 'loud', checks: {} } })).rejects.toMatchObject({ code: 'invalid_prevent_policy', details: { field: 'policy.defaultMode' } });
      await expect(prevent.service.updateSettings(t.id, admin.userId, { internalDomains: ['org.test', 'not a domain'] })).rejects.toMatchObject({ code: 'invalid_internal_domains' });
    });
  });

  describe('retention and subject rights', () => {
    it("erases a person's Smart Data and never learns about them again", async () => {
      const t = await buildTenant(ctx.db());
      const alice = await addUser(ctx.db(), t.id, `alice-${t.id.slice(0, 8)}@org.test`);
      await prevent.service.importHistory(t.id, [...history(alice.email, ['eve@partner.test', 'bob@partner.test'], 5, clock()), ...history('eve@partner.test', [alice.email], 3, clock())]);
      await (await prevent.service.reviewSend(t.id, alice.userId, draft(alice.email, ['bob@partner.test']), { resolved: [{ check: 'lookalike_address', recipients: ['eve@partner.test'] }] }))(ctx.db(), crypto.randomUUID());

      const erased = await prevent.service.erasePerson(t.id, 'Eve@Partner.test');
      expect(erased.observations).toBe(8);
      expect(erased.decisions).toBeGreaterThanOrEqual(1);
      const mentions = async () =>
        (await ctx.db().query(`SELECT 1 FROM prevent_observations WHERE tenant_id = $1 AND (sender = 'eve@partner.test' OR recipients::text LIKE '%eve@partner.test%')`, [t.id])).rows.length +
        (await ctx.db().query(`SELECT 1 FROM prevent_decisions WHERE tenant_id = $1 AND recipients::text LIKE '%eve@partner.test%'`, [t.id])).rows.length;
      expect(await mentions()).toBe(0);
      expect((await prevent.service.check(t.id, null, draft(alice.email, ['bob@partner.test']))).length).toBeGreaterThanOrEqual(0);

      // Later mail with the erased person is learned without them.
      await messaging.messages.send(alice, { to: ['eve@partner.test', 'bob@partner.test'], subject: 'again', text: 'hi' });
      await prevent.service.importHistory(t.id, history('eve@partner.test', [alice.email], 2, clock()));
      expect(await mentions()).toBe(0);
      const { rows } = await ctx.db().query<{ reason: string }>('SELECT reason FROM prevent_exclusions WHERE tenant_id = $1', [t.id]);
      expect(rows).toEqual([{ reason: 'erased' }]);
    });

    it('stops learning from a restricted person until the restriction is lifted', async () => {
      const t = await buildTenant(ctx.db());
      await prevent.service.restrictPerson(t.id, 'rita@partner.test');
      await prevent.service.importHistory(t.id, history('x@org.test', ['rita@partner.test', 'bob@partner.test'], 2, clock()));
      const count = async () => (await ctx.db().query(`SELECT 1 FROM prevent_observations WHERE tenant_id = $1 AND recipients::text LIKE '%rita@%'`, [t.id])).rows.length;
      expect(await count()).toBe(0);
      await prevent.service.restrictPerson(t.id, 'rita@partner.test', true);
      await prevent.service.importHistory(t.id, history('x@org.test', ['rita@partner.test'], 2, clock()));
      expect(await count()).toBe(2);
    });

    it('does not learn from a person restricted installation-wide, in a tenant that meets them only afterwards', async () => {
      const t = await buildTenant(ctx.db());
      const address = `sam-${t.id.slice(0, 8)}@partner.test`;
      await ctx.db().query('INSERT INTO subject_restrictions (email, restricted_at) VALUES ($1, now())', [address]);
      await prevent.service.importHistory(t.id, [...history('x@org.test', [address, 'bob@partner.test'], 2, clock()), ...history(address, ['x@org.test'], 1, clock())]);
      const { rows } = await ctx.db().query<{ sender: string; recipients: string }>('SELECT sender, recipients::text AS recipients FROM prevent_observations WHERE tenant_id = $1', [t.id]);
      // The two messages to Sam and Bob are kept without Sam; the one from Sam is not kept at all.
      expect(rows).toHaveLength(2);
      for (const r of rows) expect(`${r.sender} ${r.recipients}`).not.toContain(address);
      await ctx.db().query('DELETE FROM subject_restrictions WHERE email = $1', [address]);
    });

    it('keeps a rolling 12 months: older observations are skipped on import and pruned later', async () => {
      const t = await buildTenant(ctx.db());
      const old = history('x@org.test', ['bob@partner.test'], 1, new Date(clock().getTime() - 400 * DAY));
      const recent = history('x@org.test', ['bob@partner.test'], 3, clock());
      expect(await prevent.service.importHistory(t.id, [...old, ...recent])).toEqual({ imported: 3, skipped: 1 });
      clock.advance(362.5 * DAY);
      expect(await prevent.service.pruneExpired(t.id)).toBe(1);
      clock.advance(10 * DAY);
      expect(await prevent.service.pruneExpired(t.id)).toBe(2);
      clock.set(new Date('2026-06-01T12:00:00Z'));
    });
  });
});
