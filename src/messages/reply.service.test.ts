import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/database.ts';
import { buildMessagingHarness, buildUser, sourceOf, type MessagingHarness } from '../../test/support/messaging.ts';

describeEachDatabase('secure replies and threads', (ctx) => {
  let h: MessagingHarness;

  beforeAll(async () => {
    h = await buildMessagingHarness(ctx.db());
  });

  afterAll(async () => {
    await h.cleanup();
  });

  /** Moves the clock on, so messages of a thread get distinct times (the thread is ordered by them). */
  const tick = () => {
    h.clock.now = new Date(h.clock.now.getTime() + 1000);
  };

  const messageRow = async (id: string) =>
    (await ctx.db().query<{ tenant_id: string; thread_id: string; in_reply_to: string | null; sender_user_id: string | null; sender_recipient_id: string | null; sender_email: string; label_id: string; expires_at: Date | null }>(`SELECT * FROM messages WHERE id = $1`, [id])).rows[0]!;

  it('does send a reply to the sender as a sealed message of the same thread, in the sender tenant, under the same label', async () => {
    const sender = await h.sender('reply');
    const sent = await h.send(sender, { to: ['bob@partner.example'], cc: ['carol@partner.example'], bcc: ['dave@partner.example'], subject: 'Board pack', label: 'confidential' });
    tick();
    const bob = await h.verify(h.linkFor('bob@partner.example'));
    const file = Buffer.from('signed page '.repeat(300));
    const up = await h.messaging.replies.upload(bob, sourceOf(file), { ip: '192.0.2.4' });
    const reply = await h.messaging.replies.reply(bob, { text: 'Signed copy attached.', html: '<p>Signed<script>x()</script></p>', replyAll: false, attachments: [{ uploadId: up.uploadId, filename: 'signed.pdf', contentType: 'application/pdf' }] }, { ip: '192.0.2.4' });
    expect(reply).toMatchObject({ threadId: sent.threadId, inReplyTo: sent.id, subject: 'Re: Board pack', to: [sender.email], cc: [], attachmentCount: 1 });

    const row = await messageRow(reply.id);
    const original = await messageRow(sent.id);
    expect(row).toMatchObject({ tenant_id: sender.tenantId, thread_id: sent.id, in_reply_to: sent.id, sender_user_id: null, sender_email: 'bob@partner.example', label_id: original.label_id });
    expect(row.sender_recipient_id).toBe(sent.recipients.find((r) => r.email === 'bob@partner.example')!.id);
    expect(row.expires_at!.getTime() - h.clock.now.getTime()).toBe(90 * 86_400_000);
    // Sealed in the sender's tenant: the envelope and the attachment are objects of that tenant.
    const { rows: objects } = await ctx.db().query<{ tenant_id: string; region: string }>(`SELECT o.tenant_id, o.region FROM sealed_objects o WHERE o.id IN (SELECT envelope_object_id FROM messages WHERE id = $1 UNION SELECT object_id FROM message_attachments WHERE message_id = $1)`, [reply.id]);
    expect(objects).toEqual([{ tenant_id: sender.tenantId, region: 'uk' }, { tenant_id: sender.tenantId, region: 'uk' }]);
    expect((await ctx.db().query(`SELECT 1 FROM pending_uploads WHERE object_id = $1`, [up.uploadId])).rows).toEqual([]);

    // The original sender is notified like any recipient and opens the reply through their own link.
    await h.deliver();
    const note = h.mailer.to(sender.email).at(-1)!;
    expect(note.subject).toBe('Secure message from bob@partner.example: Re: Board pack');
    expect(note.text).not.toContain('Signed copy');
    const { envelope, files, opened } = await h.read(await h.verify(h.linkFor(sender.email)));
    expect(envelope).toMatchObject({ subject: 'Re: Board pack', text: 'Signed copy attached.', html: '<p>Signed</p>' });
    expect(files.get('signed.pdf')).toEqual(file);
    expect(opened.message).toMatchObject({ sender: 'bob@partner.example', threadId: sent.id, to: [sender.email], cc: [] });
    // Nobody else received it.
    expect(h.mailer.to('carol@partner.example').filter((m) => m.subject.includes('Re:'))).toEqual([]);

    const trail = (await h.messaging.messages.auditTrail(sender, sent.id)).filter((e) => e.action === 'message.replied');
    expect(trail.map((e) => [e.recipient, e.ip, e.outcome])).toEqual([['bob@partner.example', '192.0.2.4', 'success']]);
  });

  it('does reply to all on To and Cc but never Bcc, removed or revoked recipients, nor the replier', async () => {
    const sender = await h.sender('all');
    const sent = await h.send(sender, { to: ['bob@partner.example', 'gone@partner.example'], cc: ['carol@partner.example', 'cut@partner.example'], bcc: ['dave@partner.example'] });
    await h.messaging.messages.removeRecipient(sender, sent.id, sent.recipients.find((r) => r.email === 'gone@partner.example')!.id);
    await h.messaging.messages.setRecipientRevoked(sender, sent.id, sent.recipients.find((r) => r.email === 'cut@partner.example')!.id, true);
    tick();
    const carol = await h.verify(h.linkFor('carol@partner.example'));
    const reply = await h.messaging.replies.reply(carol, { text: 'Agreed.', replyAll: true });
    expect([reply.to, reply.cc]).toEqual([[sender.email, 'bob@partner.example'], []]);
    const { rows } = await ctx.db().query<{ email: string; kind: string }>(`SELECT email, kind FROM message_recipients WHERE message_id = $1 ORDER BY email`, [reply.id]);
    expect(rows).toEqual([{ email: 'bob@partner.example', kind: 'to' }, { email: sender.email, kind: 'to' }].sort((a, b) => a.email.localeCompare(b.email)));
    await h.deliver();
    for (const absent of ['dave@partner.example', 'gone@partner.example', 'cut@partner.example']) expect(h.mailer.to(absent).filter((m) => m.subject.includes('carol@'))).toEqual([]);

    // A Bcc recipient may answer the sender, but not everyone (that would reveal them).
    const dave = await h.verify(h.linkFor('dave@partner.example'));
    await expect(h.messaging.replies.reply(dave, { text: 'me too', replyAll: true })).rejects.toMatchObject({ kind: 'forbidden', code: 'bcc_reply_all' });
    await expect(h.messaging.replies.reply(dave, { text: 'thanks', replyAll: false })).resolves.toMatchObject({ to: [sender.email], cc: [] });
  });

  it('does refuse replies from recipients who may no longer open the message, and other recipients’ uploads', async () => {
    const sender = await h.sender('refuse');
    const sent = await h.send(sender, { to: ['eve@partner.example', 'fay@partner.example'], label: 'restricted' });
    const eve = await h.verify(h.linkFor('eve@partner.example'));
    await expect(h.messaging.replies.reply(eve, { text: 'x', replyAll: false })).rejects.toMatchObject({ code: 'disclaimer_required' });
    await h.messaging.access.acceptDisclaimer(eve);
    const fay = await h.verify(h.linkFor('fay@partner.example'));
    await h.messaging.access.acceptDisclaimer(fay);
    const up = await h.messaging.replies.upload(eve, sourceOf(Buffer.from('eve only')));
    // Fay cannot attach, or discard, Eve's upload.
    await expect(h.messaging.replies.reply(fay, { text: 'x', replyAll: false, attachments: [{ uploadId: up.uploadId, filename: 'a.txt', contentType: 'text/plain' }] })).rejects.toMatchObject({ code: 'upload_not_found' });
    await expect(h.messaging.replies.discardUpload(fay, up.uploadId)).rejects.toMatchObject({ code: 'upload_not_found' });

    await h.messaging.messages.setRevoked(sender, sent.id, true);
    await expect(h.messaging.replies.reply(eve, { text: 'x', replyAll: false })).rejects.toMatchObject({ code: 'message_revoked' });
    await expect(h.messaging.replies.upload(eve, sourceOf(Buffer.from('y')))).rejects.toMatchObject({ code: 'message_revoked' });
    await h.messaging.messages.setRevoked(sender, sent.id, false);
    await h.messaging.messages.removeRecipient(sender, sent.id, sent.recipients.find((r) => r.email === 'eve@partner.example')!.id);
    await expect(h.messaging.replies.reply(eve, { text: 'x', replyAll: false })).rejects.toMatchObject({ code: 'recipient_removed' });
    await expect(h.messaging.replies.reply('C'.repeat(43), { text: 'x', replyAll: false })).rejects.toMatchObject({ code: 'recipient_session_invalid' });

    const { rows } = await ctx.db().query(`SELECT 1 FROM messages WHERE thread_id = $1 AND id <> $1`, [sent.id]);
    expect(rows).toEqual([]);
    const denied = (await h.messaging.messages.auditTrail(sender, sent.id)).filter((e) => e.outcome === 'denied' && e.action === 'message.replied').map((e) => e.reason);
    expect(denied).toEqual(['disclaimer_required', 'message_revoked', 'recipient_removed']);
  });

  it('does show the sender the whole thread in order, replies included, and let them reply within it', async () => {
    const sender = await h.sender('thread');
    const sent = await h.send(sender, { to: ['gil@partner.example'], cc: ['hal@partner.example'], bcc: ['ivo@partner.example'], subject: 'Contract' });
    tick();
    const gil = await h.verify(h.linkFor('gil@partner.example'));
    const r1 = await h.messaging.replies.reply(gil, { text: 'One question.', replyAll: true });
    tick();
    const own = await h.messaging.messages.send(sender, { to: ['gil@partner.example'], subject: 'Re: Contract', text: 'Answer.', inReplyTo: r1.id });
    expect(own).toMatchObject({ threadId: sent.id, inReplyTo: r1.id, label: 'internal' });
    tick();
    // Hal (Cc on Gil's reply) answers Gil only: a message of the thread the sender is not on.
    await h.deliver();
    const halOnR1 = await h.verify(h.linkFor('hal@partner.example'));
    const side = await h.messaging.replies.reply(halOnR1, { text: 'Between us.', replyAll: false });
    expect(side).toMatchObject({ inReplyTo: r1.id, to: ['gil@partner.example'] });

    const thread = await h.messaging.messages.thread(sender, sent.id, { ip: '192.0.2.77' });
    expect(thread.threadId).toBe(sent.id);
    expect(thread.messages.map((m) => [m.id, m.sender, m.sentByYou, m.fromRecipient, m.subject, m.text])).toEqual([
      [sent.id, sender.email, true, false, 'Contract', 'See attached.'],
      [r1.id, 'gil@partner.example', false, true, 'Re: Contract', 'One question.'],
      [own.id, sender.email, true, false, 'Re: Contract', 'Answer.'],
    ]);
    expect(thread.messages[0]).toMatchObject({ to: ['gil@partner.example'], cc: ['hal@partner.example'], bcc: ['ivo@partner.example'], withheld: null });
    expect(thread.messages[1]).toMatchObject({ to: [sender.email], cc: ['hal@partner.example'], bcc: [], inReplyTo: sent.id });
    // The same thread from any message of it; reading the reply was audited.
    expect((await h.messaging.messages.thread(sender, r1.id)).messages.map((m) => m.id)).toEqual(thread.messages.map((m) => m.id));
    const { rows } = await ctx.db().query<{ ip: string }>(`SELECT ip FROM audit_events WHERE action = 'message.read_in_thread' AND target_id = $1 ORDER BY chain_seq`, [r1.id]);
    expect(rows[0]).toEqual({ ip: '192.0.2.77' });

    // A reply revoked or expired is withheld (content null), still listed.
    await ctx.db().query(`UPDATE messages SET revoked_at = now() WHERE id = $1`, [r1.id]);
    expect((await h.messaging.messages.thread(sender, sent.id)).messages[1]).toMatchObject({ withheld: 'message_revoked', subject: null, text: null, html: null, attachments: [] });
  });

  it('does keep threads to their senders: other users, other tenants and bad ids get not_found', async () => {
    const sender = await h.sender('private');
    const colleague = { ...(await h.sender('colleague')), tenantId: sender.tenantId };
    const stranger = await h.sender('stranger');
    const sent = await h.send(sender, { to: ['jo@partner.example'] });
    for (const u of [colleague, stranger]) {
      await expect(h.messaging.messages.thread(u, sent.id)).rejects.toMatchObject({ code: 'message_not_found' });
      await expect(h.messaging.messages.send(u, { to: ['x@partner.example'], subject: 's', text: 't', inReplyTo: sent.id })).rejects.toMatchObject({ code: 'in_reply_to_not_found' });
    }
    // A colleague who only received a message of the thread reads it through their link, not here;
    // they may still answer within the thread.
    const copied = await buildUser(ctx.db(), sender.tenantId, `copied-${sender.tenantId.slice(0, 8)}@acme.example`);
    const toColleague = await h.send(sender, { to: [copied.email] });
    await expect(h.messaging.messages.thread(copied, toColleague.id)).rejects.toMatchObject({ code: 'message_not_found' });
    tick();
    const answer = await h.messaging.messages.send(copied, { to: [sender.email], subject: 'Re', text: 'ok', inReplyTo: toColleague.id });
    expect(answer).toMatchObject({ threadId: toColleague.id, inReplyTo: toColleague.id });
    expect((await h.messaging.messages.thread(copied, toColleague.id)).messages.map((m) => [m.sentByYou, m.text])).toEqual([[false, 'See attached.'], [true, 'ok']]);
    await expect(h.messaging.messages.thread(sender, 'nope')).rejects.toMatchObject({ code: 'message_not_found' });
    await expect(h.messaging.messages.send(sender, { to: ['x@partner.example'], subject: 's', text: 't', inReplyTo: 'nope' })).rejects.toMatchObject({ code: 'in_reply_to_not_found', details: { field: 'inReplyTo' } });
  });
});
