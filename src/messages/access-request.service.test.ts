import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/database.ts';
import { buildMessagingHarness, linkIn, type MessagingHarness } from '../../test/support/messaging.ts';
import { ACCESS_REQUEST_LIMITS } from './access-request.service.ts';

describeEachDatabase('access requests from forwarded links', (ctx) => {
  let h: MessagingHarness;

  beforeAll(async () => {
    h = await buildMessagingHarness(ctx.db());
  });

  afterAll(async () => {
    await h.cleanup();
  });

  const requestRow = async (id: string) =>
    (await ctx.db().query<{ status: string; code_hash: Uint8Array | null; code_attempts: number; recipient_id: string | null; decided_by: string | null; reason: string | null }>(`SELECT status, code_hash, code_attempts, recipient_id, decided_by, reason FROM access_requests WHERE id = $1`, [id])).rows[0]!;

  /** The forwarded link, a request and its code: what the person who got the forward does. */
  async function ask(link: string, email: string, reason?: string) {
    h.code.next = String(100000 + Math.floor(Math.random() * 900000));
    const started = await h.messaging.accessRequests.request(link, { email, reason }, { ip: '203.0.113.7', userAgent: 'test' });
    const mail = h.mailer.to(email.toLowerCase()).at(-1)!;
    const code = /code is (\d{6})/.exec(mail.text)![1]!;
    return { started, code, mail };
  }

  it('does let a forwardee ask, verify their address, and become a Bcc recipient when the sender approves', async () => {
    const sender = await h.sender('appr');
    const sent = await h.send(sender, { to: ['bob@partner.example'], cc: ['carol@partner.example'], subject: 'Board pack' });
    const forwarded = h.linkFor('bob@partner.example');

    const { started, code, mail } = await ask(forwarded, 'Eve@Elsewhere.example', 'Bob asked me to review\u0007 the pack.');
    expect(started).toEqual({ requestId: expect.any(String), sentTo: 'e•••@elsewhere.example', expiresAt: expect.any(Date) });
    // The requester learns nothing about the message: not its subject, sender's recipients or content.
    for (const text of [JSON.stringify(started), mail.subject, mail.text]) {
      expect(text).not.toMatch(/Board pack|bob@|carol@|See attached/);
    }
    // Nothing reaches the sender before the code is entered.
    expect(await h.messaging.accessRequests.list(sender, sent.id)).toEqual([]);
    expect((await requestRow(started.requestId)).status).toBe('unverified');

    expect(await h.messaging.accessRequests.verify(started.requestId, code, { ip: '203.0.113.7' })).toEqual({ status: 'pending' });
    expect((await requestRow(started.requestId)).code_hash).toBeNull();
    await h.deliver();
    const ask_ = h.mailer.to(sender.email).at(-1)!;
    expect(ask_.subject).toBe('Access request for your secure message: Board pack');
    expect(ask_.text).toContain('eve@elsewhere.example asks for access');
    expect(ask_.text).toContain('the link you sent to bob@partner.example');
    expect(ask_.text).toContain('> Bob asked me to review  the pack.');
    expect(ask_.text).toContain(`sealpost requests ${sent.id}`);

    const [listed] = await h.messaging.accessRequests.list(sender, sent.id);
    expect(listed).toMatchObject({ id: started.requestId, email: 'eve@elsewhere.example', reason: 'Bob asked me to review  the pack.', status: 'pending', via: 'bob@partner.example', decidedAt: null });

    const approved = await h.messaging.accessRequests.approve(sender, sent.id, started.requestId, { ip: '192.0.2.50' });
    expect(approved).toMatchObject({ status: 'approved', decidedAt: expect.any(Date) });
    const row = await requestRow(started.requestId);
    expect(row.decided_by).toBe(sender.userId);
    const status = await h.messaging.messages.getSent(sender, sent.id);
    expect(status.recipients.find((r) => r.email === 'eve@elsewhere.example')).toMatchObject({ id: row.recipient_id, kind: 'bcc' });

    await h.deliver();
    const granted = h.mailer.to('eve@elsewhere.example').at(-1)!;
    expect(granted.subject).toContain('Access granted');
    expect(granted.text).toContain('has approved your request');
    const { envelope, opened } = await h.read(await h.verify(linkIn(granted.text)!));
    expect(envelope.subject).toBe('Board pack');
    expect(opened.you).toMatchObject({ email: 'eve@elsewhere.example', kind: 'bcc' });
    // Added as Bcc: the others never see the requester.
    const bob = await h.read(await h.verify(forwarded));
    expect(JSON.stringify(bob.opened.message)).not.toContain('eve@');

    await expect(h.messaging.accessRequests.approve(sender, sent.id, started.requestId)).rejects.toMatchObject({ code: 'access_request_decided' });
    const trail = (await h.messaging.messages.auditTrail(sender, sent.id)).map((e) => `${e.action}:${e.outcome}:${e.recipient}`);
    expect(trail).toEqual(expect.arrayContaining(['access_request.created:success:eve@elsewhere.example', 'access_request.verified:success:eve@elsewhere.example', 'recipient.added:success:eve@elsewhere.example', 'access_request.approved:success:eve@elsewhere.example']));
  });

  it('does tell a denied requester, and never let them open the message', async () => {
    const sender = await h.sender('deny');
    const sent = await h.send(sender, { to: ['dan@partner.example'] });
    const { started, code } = await ask(h.linkFor('dan@partner.example'), 'mallory@elsewhere.example');
    await h.messaging.accessRequests.verify(started.requestId, code);
    const denied = await h.messaging.accessRequests.deny(sender, sent.id, started.requestId);
    expect(denied).toMatchObject({ status: 'denied', reason: null });
    await h.deliver();
    const mails = h.mailer.to('mallory@elsewhere.example');
    expect(mails.at(-1)).toMatchObject({ subject: 'Your request for access was declined', text: expect.stringContaining(`${sender.email} has declined`) });
    expect(mails.some((m) => linkIn(m.text))).toBe(false);
    expect((await h.messaging.messages.getSent(sender, sent.id)).recipients.map((r) => r.email)).toEqual(['dan@partner.example']);
    await expect(h.messaging.accessRequests.approve(sender, sent.id, started.requestId)).rejects.toMatchObject({ code: 'access_request_decided' });
    expect((await h.messaging.messages.auditTrail(sender, sent.id)).map((e) => e.action)).toContain('access_request.denied');
  });

  it('does refuse requests under a no-forward label before any code is sent, and audit the refusal', async () => {
    const sender = await h.sender('nofwd');
    const sent = await h.send(sender, { to: ['nina@partner.example'], label: 'confidential' });
    const before = h.mailer.sent.length;
    await expect(h.messaging.accessRequests.request(h.linkFor('nina@partner.example'), { email: 'olga@elsewhere.example' })).rejects.toMatchObject({ kind: 'forbidden', code: 'forwarding_not_allowed' });
    expect(h.mailer.sent.length).toBe(before);
    expect((await ctx.db().query(`SELECT 1 FROM access_requests WHERE message_id = $1`, [sent.id])).rows).toEqual([]);
    const denied = (await h.messaging.messages.auditTrail(sender, sent.id)).filter((e) => e.outcome === 'denied');
    expect(denied.map((e) => [e.action, e.reason, e.recipient])).toEqual([['access_request.created', 'forwarding_not_allowed', 'olga@elsewhere.example']]);
  });

  it('does answer the same for a revoked message as for an active one, and refuse unknown and removed links alike', async () => {
    const sender = await h.sender('same');
    const sent = await h.send(sender, { to: ['pat@partner.example', 'quin@partner.example'] });
    await h.messaging.messages.setRevoked(sender, sent.id, true);
    const { started } = await ask(h.linkFor('pat@partner.example'), 'rob@elsewhere.example');
    expect(Object.keys(started).sort()).toEqual(['expiresAt', 'requestId', 'sentTo']);
    const quin = sent.recipients.find((r) => r.email === 'quin@partner.example')!;
    await h.messaging.messages.removeRecipient(sender, sent.id, quin.id);
    await expect(h.messaging.accessRequests.request(h.linkFor('quin@partner.example'), { email: 'rob@elsewhere.example' })).rejects.toMatchObject({ code: 'link_not_found' });
    await expect(h.messaging.accessRequests.request('B'.repeat(43), { email: 'rob@elsewhere.example' })).rejects.toMatchObject({ code: 'link_not_found' });
    await expect(h.messaging.accessRequests.request(h.linkFor('pat@partner.example'), { email: 'not an address' })).rejects.toMatchObject({ code: 'invalid_address', details: { field: 'email' } });
    await expect(h.messaging.accessRequests.request(h.linkFor('pat@partner.example'), { email: 'rob@elsewhere.example', reason: 'x'.repeat(501) })).rejects.toMatchObject({ code: 'reason_too_long' });
  });

  it('does lock a request code after five wrong attempts and never accept it afterwards', async () => {
    const sender = await h.sender('lock');
    await h.send(sender, { to: ['sam@partner.example'] });
    const { started, code } = await ask(h.linkFor('sam@partner.example'), 'tom@elsewhere.example');
    const wrong = code === '000000' ? '000001' : '000000';
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push(await h.messaging.accessRequests.verify(started.requestId, i === 2 ? 'abc' : wrong).catch((e: { code: string }) => e.code));
    expect(codes).toEqual(['code_wrong', 'code_wrong', 'code_wrong', 'code_wrong', 'code_locked']);
    await expect(h.messaging.accessRequests.verify(started.requestId, code)).rejects.toMatchObject({ code: 'code_expired' });
    expect(await requestRow(started.requestId)).toMatchObject({ status: 'unverified', code_hash: null, code_attempts: 5 });
    await expect(h.messaging.accessRequests.verify('not-a-uuid', code)).rejects.toMatchObject({ code: 'access_request_not_found' });
  });

  it('does refuse an expired code, a second request while one is pending, and a requester who is already a recipient', async () => {
    const sender = await h.sender('misc');
    const sent = await h.send(sender, { to: ['uma@partner.example'] });
    const link = h.linkFor('uma@partner.example');
    const late = await ask(link, 'vic@elsewhere.example');
    const saved = h.clock.now;
    h.clock.now = new Date(saved.getTime() + 11 * 60_000);
    await expect(h.messaging.accessRequests.verify(late.started.requestId, late.code)).rejects.toMatchObject({ code: 'code_expired' });
    h.clock.now = saved;

    const first = await ask(link, 'vic@elsewhere.example');
    await h.messaging.accessRequests.verify(first.started.requestId, first.code);
    const second = await ask(link, 'vic@elsewhere.example');
    await expect(h.messaging.accessRequests.verify(second.started.requestId, second.code)).rejects.toMatchObject({ kind: 'conflict', code: 'access_request_pending' });
    const self = await ask(link, 'uma@partner.example');
    await expect(h.messaging.accessRequests.verify(self.started.requestId, self.code)).rejects.toMatchObject({ kind: 'conflict', code: 'already_recipient' });
    expect((await h.messaging.accessRequests.list(sender, sent.id)).map((r) => [r.email, r.status])).toEqual([['vic@elsewhere.example', 'pending']]);
  });

  it('does rate-limit requests per link', async () => {
    const sender = await h.sender('rate');
    await h.send(sender, { to: ['walt@partner.example'] });
    const link = h.linkFor('walt@partner.example');
    for (let i = 0; i < ACCESS_REQUEST_LIMITS.perLink.limit; i++) await h.messaging.accessRequests.request(link, { email: `x${i}@elsewhere.example` });
    await expect(h.messaging.accessRequests.request(link, { email: 'late@elsewhere.example' })).rejects.toMatchObject({ kind: 'rate_limited', details: { retryAfterSeconds: expect.any(Number) } });
  });

  it('does not let another user, or another tenant, list or decide requests', async () => {
    const sender = await h.sender('own');
    const colleague = { ...(await h.sender('col')), tenantId: sender.tenantId };
    const stranger = await h.sender('str');
    const sent = await h.send(sender, { to: ['xena@partner.example'] });
    const { started, code } = await ask(h.linkFor('xena@partner.example'), 'yan@elsewhere.example');
    await h.messaging.accessRequests.verify(started.requestId, code);
    for (const u of [colleague, stranger]) {
      await expect(h.messaging.accessRequests.list(u, sent.id)).rejects.toMatchObject({ code: 'message_not_found' });
      await expect(h.messaging.accessRequests.approve(u, sent.id, started.requestId)).rejects.toMatchObject({ code: 'message_not_found' });
      await expect(h.messaging.accessRequests.deny(u, sent.id, started.requestId)).rejects.toMatchObject({ code: 'message_not_found' });
    }
    // A request of another message is not found through this one.
    const other = await h.send(sender, { to: ['zed@partner.example'] });
    await expect(h.messaging.accessRequests.approve(sender, other.id, started.requestId)).rejects.toMatchObject({ code: 'access_request_not_found' });
    expect((await requestRow(started.requestId)).status).toBe('pending');
  });
});
