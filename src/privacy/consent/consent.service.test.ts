import { expect, it } from 'vitest';
import { describeEachDatabase } from '../../../test/support/database.ts';
import { sha256 } from '../../crypto/hash.ts';
import { OutboxMailer } from '../../mail/mailer.ts';
import { isAppError } from '../../shared/app-error.ts';
import { createPrivacy } from '../privacy.ts';
import { SUBPROCESSOR_ALERT_JOB } from '../subscriptions/subscription.service.ts';
import { createConsent } from './consent.ts';
import { ConsentService } from './consent.service.ts';

const operator = { type: 'operator' as const, id: 'cli:dpo' };

describeEachDatabase('ConsentService', (ctx) => {
  let t = new Date('2027-01-10T09:00:00.000Z').getTime();
  const clock = () => new Date(t);
  const service = () => new ConsentService(ctx.db(), { now: clock, noticeVersion: async () => 'v-test-0001' });
  const unique = (name: string) => `${name}-${crypto.randomUUID().slice(0, 8)}@people.example`;

  it('does send nothing to a person who never opted in, and keeps every change with channel and notice version', async () => {
    const s = service();
    const email = unique('ann');
    expect(await s.maySend(email, 'subprocessor_changes')).toBe(false);
    expect((await s.get(email)).preferences.every((p) => p.state === 'unset' && !p.subscribed)).toBe(true);

    await s.update(email.toUpperCase(), { subprocessor_changes: true, product_updates: true }, { via: 'account' }, { type: 'user', id: 'u-1' });
    await s.update(email, { subprocessor_changes: true }, { via: 'account' }, { type: 'user', id: 'u-1' }); // no change: nothing recorded
    t += 60_000;
    await s.update(email, { product_updates: false }, { via: 'administrator' }, operator);
    expect(await s.maySend(email, 'subprocessor_changes')).toBe(true);
    expect(await s.maySend(email, 'product_updates')).toBe(false);

    const record = await s.get(email);
    expect(record.history.map((h) => [h.kind, h.from, h.to, h.via, h.noticeVersion, h.actorId])).toEqual([
      ['subprocessor_changes', 'unset', 'granted', 'account', 'v-test-0001', 'u-1'],
      ['product_updates', 'unset', 'granted', 'account', 'v-test-0001', 'u-1'],
      ['product_updates', 'granted', 'withdrawn', 'administrator', 'v-test-0001', 'cli:dpo'],
    ]);
    // Stored under the normalised address, and the audit log names no address.
    const { rows } = await ctx.db().query<{ email: string; state: string }>(`SELECT email, state FROM communication_preferences WHERE email = $1 ORDER BY kind`, [email]);
    expect(rows).toEqual([
      { email, state: 'withdrawn' },
      { email, state: 'granted' },
    ]);
    const audit = await ctx.db().query<{ details: unknown }>(`SELECT details FROM audit_events WHERE action = 'consent.preference_changed'`);
    expect(audit.rows.length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(audit.rows)).not.toContain(email);
  });

  it('does make an objection to marketing immediate and sticky: no administrator or request can undo it, only the person', async () => {
    const s = service();
    const email = unique('bob');
    await s.update(email, { marketing: true }, { via: 'double_opt_in' }, { type: 'system' });
    expect(await s.maySend(email, 'marketing')).toBe(true);

    await s.objectToMarketing(email, { via: 'subject_request', requestId: '00000000-0000-4000-8000-0000000000aa' });
    expect(await s.maySend(email, 'marketing')).toBe(false);
    await s.objectToMarketing(email, { via: 'subject_request' }); // idempotent
    await expect(s.update(email, { marketing: true }, { via: 'administrator' }, operator)).rejects.toSatisfy((e) => isAppError(e, 'marketing_objection_in_force'));
    await expect(s.update(email, { marketing: true }, { via: 'subject_request' }, { type: 'system' })).rejects.toSatisfy((e) => isAppError(e, 'marketing_objection_in_force'));
    expect(await s.maySend(email, 'marketing')).toBe(false);

    const record = await s.get(email);
    expect(record.history.map((h) => [h.from, h.to, h.via, h.requestId])).toEqual([
      ['unset', 'granted', 'double_opt_in', null],
      ['granted', 'objected', 'subject_request', '00000000-0000-4000-8000-0000000000aa'],
    ]);
    // An objection by someone never seen before is recorded too (so a later import cannot opt them in).
    const stranger = unique('carol');
    await s.objectToMarketing(stranger, { via: 'subject_request' });
    await expect(s.update(stranger, { marketing: true }, { via: 'administrator' }, operator)).rejects.toSatisfy((e) => isAppError(e, 'marketing_objection_in_force'));
    // The person themselves may opt in again.
    await s.update(email, { marketing: true }, { via: 'account' }, { type: 'user', id: 'u-2' });
    expect(await s.maySend(email, 'marketing')).toBe(true);
  });

  it('does send nothing optional to a restricted person and leaves them out of subscriber lists', async () => {
    const s = service();
    const email = unique('dan');
    await s.update(email, { marketing: true, subprocessor_changes: true }, { via: 'account' }, { type: 'user', id: 'u-3' });
    expect((await s.subscribers('subprocessor_changes')).map((x) => x.email)).toContain(email);
    await ctx.db().query(`INSERT INTO subject_restrictions (email, restricted_at) VALUES ($1, now())`, [email]);
    expect(await s.maySend(email, 'marketing')).toBe(false);
    expect(await s.maySend(email, 'subprocessor_changes')).toBe(false);
    expect((await s.subscribers('subprocessor_changes')).map((x) => x.email)).not.toContain(email);
    const record = await s.get(email);
    expect(record.restricted).toBe(true);
    expect(record.preferences.find((p) => p.kind === 'marketing')).toMatchObject({ state: 'granted', subscribed: false });
  });

  it('does refuse bad input with errors naming the field, and writes nothing', async () => {
    const s = service();
    await expect(s.maySend('not an address', 'marketing')).rejects.toSatisfy((e) => isAppError(e, 'invalid_address'));
    const email = unique('eve');
    await expect(s.update(email, { newsletter: true } as never, { via: 'account' }, { type: 'system' })).rejects.toSatisfy((e) => isAppError(e, 'invalid_communication_kind'));
    await expect(s.update(email, {}, { via: 'account' }, { type: 'system' })).rejects.toSatisfy((e) => isAppError(e, 'nothing_to_change'));
    await expect(s.update(email, { marketing: 'yes' } as never, { via: 'account' }, { type: 'system' })).rejects.toSatisfy((e) => isAppError(e, 'invalid_preference'));
    expect((await ctx.db().query(`SELECT 1 FROM communication_preference_changes WHERE email = $1`, [email])).rows).toEqual([]);
  });

  it('does confirm a double opt-in once, keep only the token hash, and refuse it after 7 days', async () => {
    const s = service();
    const email = unique('fay');
    const id = await s.createConfirmation(ctx.db(), email, 'subprocessor_changes', 'v-test-0001');
    const issued = (await s.issueConfirmationToken(id))!;
    expect(issued.email).toBe(email);
    const stored = await ctx.db().query<{ token_hash: Uint8Array }>(`SELECT token_hash FROM consent_confirmations WHERE id = $1`, [id]);
    expect(Buffer.from(stored.rows[0]!.token_hash)).toEqual(Buffer.from(sha256(issued.token)));
    expect(JSON.stringify(stored.rows)).not.toContain(issued.token);

    expect(await s.describeConfirmation(issued.token)).toEqual({ kind: 'subprocessor_changes', email, confirmed: false });
    expect(await s.maySend(email, 'subprocessor_changes')).toBe(false); // looking is not confirming
    await s.confirm(issued.token);
    await s.confirm(issued.token); // idempotent
    expect(await s.maySend(email, 'subprocessor_changes')).toBe(true);
    expect((await s.get(email)).history).toEqual([expect.objectContaining({ to: 'granted', via: 'double_opt_in', noticeVersion: 'v-test-0001' })]);

    const late = unique('gus');
    const lateToken = (await s.issueConfirmationToken(await s.createConfirmation(ctx.db(), late, 'subprocessor_changes', 'v-test-0001')))!.token;
    t += 7 * 24 * 3600_000 + 1;
    await expect(s.confirm(lateToken)).rejects.toSatisfy((e) => isAppError(e, 'confirmation_not_found'));
    await expect(s.confirm('x'.repeat(43))).rejects.toSatisfy((e) => isAppError(e, 'confirmation_not_found'));
    expect(await s.maySend(late, 'subprocessor_changes')).toBe(false);
    expect(await s.purgeEndedLinks()).toBeGreaterThanOrEqual(1);
    expect((await ctx.db().query(`SELECT 1 FROM consent_confirmations WHERE email = $1`, [late])).rows).toEqual([]);
  });

  it('does unsubscribe with a link: alerts are withdrawn, marketing becomes an objection', async () => {
    const s = service();
    const email = unique('hal');
    await s.update(email, { marketing: true, subprocessor_changes: true }, { via: 'account' }, { type: 'user', id: 'u-4' });
    const alertToken = await s.issueUnsubscribeToken(ctx.db(), email, 'subprocessor_changes');
    const marketingToken = await s.issueUnsubscribeToken(ctx.db(), email, 'marketing');
    expect(await s.describeUnsubscribe(alertToken)).toEqual({ kind: 'subprocessor_changes', email, subscribed: true });
    expect(await s.maySend(email, 'subprocessor_changes')).toBe(true); // looking is not unsubscribing

    await s.unsubscribe(alertToken);
    await s.unsubscribe(alertToken);
    await s.unsubscribe(marketingToken);
    const record = await s.get(email);
    expect(Object.fromEntries(record.preferences.map((p) => [p.kind, p.state]))).toEqual({ marketing: 'objected', product_updates: 'unset', subprocessor_changes: 'withdrawn' });
    expect(record.history.filter((h) => h.via === 'unsubscribe_link').map((h) => h.to)).toEqual(['withdrawn', 'objected']);
    await expect(s.unsubscribe('A'.repeat(43))).rejects.toSatisfy((e) => isAppError(e, 'unsubscribe_link_not_found'));
    const { rows } = await ctx.db().query(`SELECT 1 FROM unsubscribe_links WHERE token_hash = $1`, [sha256(alertToken)]);
    expect(rows).toHaveLength(1);
  });

  it('does queue one alert per confirmed subscriber in the transaction of a sub-processor change, and none for other changes', async () => {
    const db = await ctx.createDatabase();
    const privacy = createPrivacy({ db });
    await privacy.seed();
    const consent = createConsent({ db, mailer: new OutboxMailer('/nonexistent', 'x@example.test'), publicUrl: 'https://sealpost.example', privacy });
    const [a, b, c] = [unique('ida'), unique('jon'), unique('kim')];
    await consent.preferences.update(a, { subprocessor_changes: true }, { via: 'account' }, { type: 'system' });
    await consent.preferences.update(b, { subprocessor_changes: true }, { via: 'account' }, { type: 'system' });
    await consent.preferences.update(b, { subprocessor_changes: false }, { via: 'account' }, { type: 'system' });
    await consent.preferences.update(c, { marketing: true }, { via: 'account' }, { type: 'system' });
    const jobs = () => db.query<{ payload: { changeId: string; preferenceId: string } }>(`SELECT payload FROM jobs WHERE kind = $1`, [SUBPROCESSOR_ALERT_JOB]);

    await privacy.register.updatePurpose(operator, (await privacy.purposes())[0]!.key, { notes: 'edited' });
    expect((await jobs()).rows).toEqual([]);

    await privacy.register.addSubprocessor(operator, { key: 'new_host', name: 'New Host Ltd', purpose: 'Hosting', effectiveFrom: new Date(Date.now() + 30 * 86_400_000) });
    const queued = (await jobs()).rows;
    expect(queued).toHaveLength(1);
    const pref = await db.query<{ email: string }>(`SELECT email FROM communication_preferences WHERE id = $1`, [queued[0]!.payload.preferenceId]);
    expect(pref.rows[0]!.email).toBe(a);
    const change = await db.query<{ entity_key: string }>(`SELECT entity_key FROM privacy_register_changes WHERE id = $1`, [queued[0]!.payload.changeId]);
    expect(change.rows[0]!.entity_key).toBe('new_host');
    // The payload holds ids only.
    expect(JSON.stringify(queued)).not.toContain('@');

    // A change that fails rolls back its alerts with it.
    await expect(privacy.register.addSubprocessor(operator, { key: 'new_host', name: 'Again', purpose: 'Hosting' })).rejects.toSatisfy((e) => isAppError(e, 'subprocessor_exists'));
    expect((await jobs()).rows).toHaveLength(1);
  });
});
