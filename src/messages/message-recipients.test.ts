import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClientKeyPair } from '../crypto/node/key-release.ts';
import { describeEachDatabase } from '../../test/support/database.ts';
import { buildMessagingHarness, type MessagingHarness } from '../../test/support/messaging.ts';

describeEachDatabase('adding and removing recipients after sending', (ctx) => {
  let h: MessagingHarness;

  beforeAll(async () => {
    h = await buildMessagingHarness(ctx.db());
  });

  afterAll(async () => {
    await h.cleanup();
  });

  const recipientRow = async (messageId: string, email: string) =>
    (await ctx.db().query<{ id: string; kind: string; removed_at: Date | null; link_token_hash: Uint8Array }>(`SELECT id, kind, removed_at, link_token_hash FROM message_recipients WHERE message_id = $1 AND email = $2`, [messageId, email])).rows[0];

  it('does add recipients who are notified with their own link and can open the message', async () => {
    const sender = await h.sender('add');
    const sent = await h.send(sender, { to: ['first@partner.example'] });
    const after = await h.messaging.messages.addRecipients(sender, sent.id, { to: ['Second@Partner.example'], bcc: ['quiet@partner.example', 'first@partner.example'] }, { ip: '192.0.2.9' });
    expect(after.recipients.map((r) => [r.email, r.kind])).toEqual([['first@partner.example', 'to'], ['second@partner.example', 'to'], ['quiet@partner.example', 'bcc']]);
    await h.deliver();

    const note = h.mailer.to('second@partner.example')[0]!;
    expect(note.text).toContain(`${sender.email} has sent you a secure message: "Quarterly figures"`);
    expect(note.text).not.toContain('See attached.');
    // The recipient already on the message was neither re-added nor notified again.
    expect(h.mailer.to('first@partner.example')).toHaveLength(1);

    const { envelope, opened } = await h.read(await h.verify(h.linkFor('second@partner.example')));
    expect(envelope.text).toBe('See attached.');
    expect(opened.message.to).toEqual(['first@partner.example', 'second@partner.example']);
    expect(opened.message.cc).toEqual([]);
    expect((await h.messaging.messages.getSent(sender, sent.id)).recipients.find((r) => r.email === 'second@partner.example')!.status).toBe('opened');

    const trail = await h.messaging.messages.auditTrail(sender, sent.id);
    expect(trail.filter((e) => e.action === 'recipient.added').map((e) => [e.recipient, e.outcome, e.ip])).toEqual([
      ['second@partner.example', 'success', '192.0.2.9'],
      ['quiet@partner.example', 'success', '192.0.2.9'],
    ]);
  });

  it('does refuse to add recipients under a no-forward label, store nothing, and audit the refusal', async () => {
    const sender = await h.sender('nofwd');
    const sent = await h.send(sender, { to: ['only@partner.example'], label: 'confidential' });
    await expect(h.messaging.messages.addRecipients(sender, sent.id, { to: ['extra@partner.example'] })).rejects.toMatchObject({ kind: 'forbidden', code: 'forwarding_not_allowed', message: expect.stringContaining('confidential') });
    expect(await recipientRow(sent.id, 'extra@partner.example')).toBeUndefined();
    const denied = (await h.messaging.messages.auditTrail(sender, sent.id)).filter((e) => e.outcome === 'denied');
    expect(denied.map((e) => [e.action, e.reason])).toEqual([['recipient.added', 'forwarding_not_allowed']]);
  });

  it('does remove a recipient at once: the link is unknown before verification, the session refused after', async () => {
    const sender = await h.sender('rm');
    const sent = await h.send(sender, { to: ['stay@partner.example', 'go@partner.example'], label: 'restricted' });
    const link = h.linkFor('go@partner.example');
    const session = await h.verify(link);
    await h.messaging.access.acceptDisclaimer(session);
    const go = sent.recipients.find((r) => r.email === 'go@partner.example')!;

    // Removing is allowed under no-forward labels too.
    const after = await h.messaging.messages.removeRecipient(sender, sent.id, go.id, { ip: '192.0.2.9' });
    expect(after.recipients.find((r) => r.id === go.id)!.status).toBe('removed');
    expect((await recipientRow(sent.id, 'go@partner.example'))!.removed_at).toBeInstanceOf(Date);
    await expect(h.messaging.access.open(session, createClientKeyPair().publicKey)).rejects.toMatchObject({ code: 'recipient_removed' });
    await expect(h.messaging.access.describeLink(link)).rejects.toMatchObject({ code: 'link_not_found' });
    await expect(h.messaging.access.requestCode(link)).rejects.toMatchObject({ code: 'link_not_found' });
    // The same answer as for a link that never existed.
    const unknown = await h.messaging.access.describeLink('A'.repeat(43)).catch((e: unknown) => e);
    expect(await h.messaging.access.describeLink(link).catch((e: unknown) => e)).toEqual(unknown);
    // The others are untouched; removing twice changes nothing.
    const stay = await h.verify(h.linkFor('stay@partner.example'));
    await h.messaging.access.acceptDisclaimer(stay);
    await expect(h.read(stay)).resolves.toHaveProperty('envelope.subject', 'Quarterly figures');
    await h.messaging.messages.removeRecipient(sender, sent.id, go.id);
    const removed = (await h.messaging.messages.auditTrail(sender, sent.id)).filter((e) => e.action === 'recipient.removed');
    expect(removed.map((e) => [e.recipient, e.ip])).toEqual([['go@partner.example', '192.0.2.9']]);
  });

  it('does give a removed recipient who is added back a new link, and never the old link or session', async () => {
    const sender = await h.sender('readd');
    const sent = await h.send(sender, { to: ['back@partner.example'] });
    const oldLink = h.linkFor('back@partner.example');
    const oldSession = await h.verify(oldLink);
    const before = (await recipientRow(sent.id, 'back@partner.example'))!;
    await h.messaging.messages.removeRecipient(sender, sent.id, before.id);
    const after = await h.messaging.messages.addRecipients(sender, sent.id, { cc: ['back@partner.example'] });
    expect(after.recipients.map((r) => [r.id, r.kind, r.status])).toEqual([[before.id, 'cc', 'pending']]);
    await h.deliver();

    const newLink = h.linkFor('back@partner.example');
    expect(newLink).not.toBe(oldLink);
    expect(Buffer.from((await recipientRow(sent.id, 'back@partner.example'))!.link_token_hash)).not.toEqual(Buffer.from(before.link_token_hash));
    await expect(h.messaging.access.describeLink(oldLink)).rejects.toMatchObject({ code: 'link_not_found' });
    await expect(h.messaging.access.open(oldSession, createClientKeyPair().publicKey)).rejects.toMatchObject({ code: 'recipient_session_invalid' });
    await expect(h.read(await h.verify(newLink))).resolves.toHaveProperty('envelope.subject', 'Quarterly figures');
  });

  it('does validate added addresses and the recipient limit, leaving the message as it was', async () => {
    const sender = await h.sender('badadd');
    const sent = await h.send(sender, { to: ['a@partner.example'] });
    await expect(h.messaging.messages.addRecipients(sender, sent.id, {})).rejects.toMatchObject({ code: 'no_recipients' });
    await expect(h.messaging.messages.addRecipients(sender, sent.id, { to: ['ok@partner.example'], cc: ['not an address'] })).rejects.toMatchObject({ code: 'invalid_address', message: expect.stringContaining('cc[0]') });
    const many = Array.from({ length: 500 }, (_, i) => `r${i}@partner.example`);
    await expect(h.messaging.messages.addRecipients(sender, sent.id, { bcc: many })).rejects.toMatchObject({ code: 'too_many_recipients' });
    const { rows } = await ctx.db().query(`SELECT email FROM message_recipients WHERE message_id = $1`, [sent.id]);
    expect(rows).toEqual([{ email: 'a@partner.example' }]);
  });

  it('does not let another user, or another tenant, add or remove recipients', async () => {
    const sender = await h.sender('owner');
    const colleague = { ...(await h.sender('colleague')), tenantId: sender.tenantId };
    const stranger = await h.sender('stranger');
    const sent = await h.send(sender, { to: ['mine@partner.example'] });
    for (const u of [colleague, stranger]) {
      await expect(h.messaging.messages.addRecipients(u, sent.id, { to: ['x@partner.example'] })).rejects.toMatchObject({ code: 'message_not_found' });
      await expect(h.messaging.messages.removeRecipient(u, sent.id, sent.recipients[0]!.id)).rejects.toMatchObject({ code: 'message_not_found' });
    }
    await expect(h.messaging.messages.removeRecipient(sender, sent.id, 'not-a-uuid')).rejects.toMatchObject({ code: 'recipient_not_found' });
    await expect(h.messaging.messages.removeRecipient(sender, sent.id, crypto.randomUUID())).rejects.toMatchObject({ code: 'recipient_not_found' });
    expect((await h.messaging.messages.getSent(sender, sent.id)).recipients.map((r) => r.status)).toEqual(['notified']);
  });
});
