import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/database.ts';
import { buildMessagingHarness, type MessagingHarness } from '../../test/support/messaging.ts';
import { isAppError } from '../shared/app-error.ts';
import { LabelService, parseLabelFields } from './label.service.ts';
import { listLabels } from './labels.ts';

const actor = { type: 'user' as const, id: '00000000-0000-4000-8000-000000000001' };

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isAppError(err)) return err.code;
    throw err;
  }
  throw new Error('expected an AppError');
}

describe('parseLabelFields', () => {
  it('does name the field at fault', () => {
    for (const [input, field] of [
      [{ name: '' }, 'name'],
      [{ name: '-lead' }, 'name'],
      [{ rank: 1.5 }, 'rank'],
      [{ rank: -1 }, 'rank'],
      [{ defaultExpiryDays: 0 }, 'defaultExpiryDays'],
      [{ authLevel: 'sms' }, 'authLevel'],
      [{ noForward: 'yes' }, 'noForward'],
      [{ disclaimer: 'x'.repeat(4001) }, 'disclaimer'],
    ] as const) {
      try {
        parseLabelFields(input as never, 'labels.3.');
        throw new Error(`accepted ${JSON.stringify(input)}`);
      } catch (err) {
        expect(isAppError(err, 'label_invalid')).toBe(true);
        expect((err as { details: { field: string } }).details.field).toBe(`labels.3.${field}`);
      }
    }
  });

  it('does trim and turn a blank disclaimer into none', () => {
    expect(parseLabelFields({ name: '  OFFICIAL-SENSITIVE ', disclaimer: '   ' })).toEqual({ name: 'OFFICIAL-SENSITIVE', disclaimer: null });
  });
});

describeEachDatabase('LabelService', (ctx) => {
  let h: MessagingHarness;
  let labels: LabelService;

  beforeAll(async () => {
    h = await buildMessagingHarness(ctx.db());
    labels = new LabelService(ctx.db());
  });
  afterAll(async () => h.cleanup());

  const events = async (tenantId: string, action: string) =>
    (await ctx.db().query<{ details: Record<string, unknown>; target_id: string }>(`SELECT details, target_id FROM audit_events WHERE chain = $1 AND action = $2 ORDER BY chain_seq`, [tenantId, action])).rows;

  it('does list the default set with internal as the default, and create labels with the documented defaults', async () => {
    const sender = await h.sender('create');
    const all = await labels.listAll(sender.tenantId);
    expect(all.map((l) => [l.name, l.isDefault, l.messageCount, l.retiredAt])).toEqual([
      ['public', false, 0, null],
      ['internal', true, 0, null],
      ['confidential', false, 0, null],
      ['restricted', false, 0, null],
    ]);
    const made = await labels.create(actor, sender.tenantId, { name: 'Board', rank: 5 });
    expect(made).toMatchObject({ name: 'Board', rank: 5, description: '', defaultExpiryDays: null, authLevel: 'email_code', noForward: false, disclaimer: null, isDefault: false, messageCount: 0 });
    expect(await codeOf(labels.create(actor, sender.tenantId, { name: 'BOARD', rank: 1 }))).toBe('label_name_taken');
    expect(await codeOf(labels.create(actor, sender.tenantId, { name: 'NoRank' }))).toBe('label_invalid');
    expect((await events(sender.tenantId, 'label.created')).map((e) => e.target_id)).toEqual([made.id]);
  });

  it('does apply a changed policy to the next send and audit what changed', async () => {
    const sender = await h.sender('policy');
    const internal = (await labels.listAll(sender.tenantId)).find((l) => l.name === 'internal')!;
    const updated = await labels.update(actor, sender.tenantId, internal.id, { defaultExpiryDays: 7, noForward: true, disclaimer: 'Handle with care.' });
    expect(updated).toMatchObject({ defaultExpiryDays: 7, noForward: true, disclaimer: 'Handle with care.' });
    const sent = await h.send(sender, { to: ['x@partner.example'] });
    const row = (await ctx.db().query<{ expires_at: Date; created_at: Date }>(`SELECT expires_at, created_at FROM messages WHERE id = $1`, [sent.id])).rows[0]!;
    expect(row.expires_at.getTime() - row.created_at.getTime()).toBeGreaterThan(6.9 * 86_400_000);
    const [event] = await events(sender.tenantId, 'label.updated');
    expect(event!.details).toEqual({ name: 'internal', changed: { defaultExpiryDays: { from: null, to: 7 }, noForward: { from: false, to: true }, disclaimer: true } });
  });

  it('does move the default, and refuse to retire the default or delete a label in use', async () => {
    const sender = await h.sender('default');
    const all = await labels.listAll(sender.tenantId);
    const byName = (n: string) => all.find((l) => l.name === n)!;
    expect(await codeOf(labels.retire(actor, sender.tenantId, byName('internal').id))).toBe('default_label');
    expect(await codeOf(labels.update(actor, sender.tenantId, byName('internal').id, { isDefault: false }))).toBe('default_label');
    await labels.update(actor, sender.tenantId, byName('public').id, { isDefault: true });
    expect((await listLabels(ctx.db(), sender.tenantId)).filter((l) => l.isDefault).map((l) => l.name)).toEqual(['public']);
    // Sending without a label now uses the new default.
    const sent = await h.send(sender, { to: ['y@partner.example'] });
    expect((await h.messaging.messages.getSent(sender, sent.id)).label).toBe('public');
    for (const n of ['internal', 'confidential', 'restricted']) await labels.delete(actor, sender.tenantId, byName(n).id);
    expect(await codeOf(labels.delete(actor, sender.tenantId, byName('public').id))).toBe('label_in_use');
    expect((await listLabels(ctx.db(), sender.tenantId)).map((l) => l.name)).toEqual(['public']);
    const other = await labels.create(actor, sender.tenantId, { name: 'other', rank: 1 });
    expect((await labels.retire(actor, sender.tenantId, other.id)).retiredAt).toBeInstanceOf(Date);
    expect(await codeOf(labels.retire(actor, sender.tenantId, byName('public').id))).toBe('default_label');
  });

  it('does retire a label in use (old messages keep working) and delete an unused one', async () => {
    const sender = await h.sender('retire');
    const all = await labels.listAll(sender.tenantId);
    const confidential = all.find((l) => l.name === 'confidential')!;
    const sent = await h.send(sender, { to: ['z@partner.example'], label: 'confidential' });
    expect(await codeOf(labels.delete(actor, sender.tenantId, confidential.id))).toBe('label_in_use');
    const retired = await labels.retire(actor, sender.tenantId, confidential.id);
    expect(retired.retiredAt).toBeInstanceOf(Date);
    expect(retired.messageCount).toBe(1);
    expect(await codeOf(h.send(sender, { to: ['z@partner.example'], label: 'confidential' }))).toBe('unknown_label');
    // The recipient of the old message still opens it under the retired label's policy.
    const { envelope } = await h.read(await h.verify(h.linkFor('z@partner.example')));
    expect(envelope.subject).toBeDefined();
    expect((await h.messaging.messages.getSent(sender, sent.id)).label).toBe('confidential');
    const restored = await labels.restore(actor, sender.tenantId, confidential.id);
    expect(restored.retiredAt).toBeNull();
    const publicLabel = all.find((l) => l.name === 'public')!;
    await labels.delete(actor, sender.tenantId, publicLabel.id);
    expect((await ctx.db().query(`SELECT 1 FROM labels WHERE id = $1`, [publicLabel.id])).rows).toEqual([]);
    expect(await codeOf(labels.update(actor, sender.tenantId, publicLabel.id, { rank: 1 }))).toBe('label_not_found');
  });

  it('does replace the set in one go: used labels retired, unused deleted, matches updated', async () => {
    const sender = await h.sender('replace');
    await labels.listAll(sender.tenantId);
    await h.send(sender, { to: ['w@partner.example'], label: 'restricted' });
    const result = await labels.replaceSet(actor, sender.tenantId, [
      { name: 'OFFICIAL', rank: 0, isDefault: true },
      { name: 'OFFICIAL-SENSITIVE', rank: 1, defaultExpiryDays: 90, noForward: true, hideSubject: true, disclaimer: 'Do not share.' },
      { name: 'Public', rank: 0, description: 'renamed by case' },
    ]);
    expect(result).toMatchObject({ created: ['OFFICIAL', 'OFFICIAL-SENSITIVE'], updated: ['Public'], retired: ['restricted'], deleted: ['internal', 'confidential'] });
    expect((await listLabels(ctx.db(), sender.tenantId)).map((l) => [l.name, l.isDefault])).toEqual([
      ['OFFICIAL', true],
      ['Public', false],
      ['OFFICIAL-SENSITIVE', false],
    ]);
    const sent = await h.send(sender, { to: ['v@partner.example'] });
    expect((await h.messaging.messages.getSent(sender, sent.id)).label).toBe('OFFICIAL');
    const [event] = await events(sender.tenantId, 'labels.replaced');
    expect(event!.details).toEqual({ created: ['OFFICIAL', 'OFFICIAL-SENSITIVE'], updated: ['Public'], retired: ['restricted'], deleted: ['internal', 'confidential'] });
  });

  it('does change nothing when a replacement is invalid', async () => {
    const sender = await h.sender('replace-bad');
    const before = await labels.listAll(sender.tenantId);
    expect(await codeOf(labels.replaceSet(actor, sender.tenantId, [{ name: 'A', rank: 0 }, { name: 'B', rank: 1 }]))).toBe('label_invalid');
    expect(await codeOf(labels.replaceSet(actor, sender.tenantId, [{ name: 'A', rank: 0, isDefault: true }, { name: 'a', rank: 1 }]))).toBe('label_invalid');
    expect(await labels.listAll(sender.tenantId)).toEqual(before);
  });
});
