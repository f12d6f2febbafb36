// End to end: what happens after sending — secure replies and threads, adding and removing
// recipients, and access requests from forwarded links — through the real HTTP server
// (PGlite, and PostgreSQL when TEST_DATABASE_URL is set) with every email delivered by real
// SMTP to an smtp-server sink. Recipients decrypt locally, as the CLI and browser do.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/runtime/server.ts';
import { createTestUser, type TestUser } from '../support/api-users.ts';
import { apiClient, codeIn, e2eTargets, linkIn, recipientClient, startE2eServer, type E2eServer } from '../support/e2e.ts';
import type { ReceivedMail, SmtpSink } from '../support/smtp-sink.ts';

for (const target of e2eTargets()) {
  describe(`after sending: replies, recipients and access requests over HTTP [${target}]`, () => {
    let env: E2eServer;
    let server: RunningServer;
    let smtp: SmtpSink;
    let alice: TestUser;

    const api = apiClient(() => server);
    const { mailTo, verify, decrypt } = recipientClient(() => env);

    /** Waits for the notification of `subject` to `address` and verifies its link. */
    async function openAs(address: string, subject: string, since = 0): Promise<{ link: string; session: string; note: ReceivedMail }> {
      const note = await mailTo(address, since, (m) => linkIn(m.text) !== undefined && m.headers.subject!.includes(subject));
      const link = linkIn(note.text)!;
      return { link, session: await verify(address, link), note };
    }

    const uploadAsRecipient = async (session: string, bytes: Buffer) => {
      const res = await fetch(`${server.url}/api/v1/access/uploads`, { method: 'POST', headers: { 'x-recipient-session': session, 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) }, body: new Uint8Array(bytes) });
      return { status: res.status, body: (await res.json()) as { uploadId: string; size: number; error?: { code: string } } };
    };

    beforeAll(async () => {
      env = await startE2eServer(target, 'replies', { SEGMENT_SIZE: '65536' });
      ({ server, smtp } = env);
      alice = await createTestUser(server, { email: `alice-${target}@acme.example` });
    });

    afterAll(async () => {
      await env?.close();
    });

    it('does deliver a secure reply with an attachment to the sender, who sees it in the thread and answers within it', async () => {
      const sent = await api(alice, 'POST', '/api/v1/messages', { to: ['bob@partner.example'], cc: ['carol@partner.example'], bcc: ['dave@partner.example'], subject: 'Contract draft', text: 'Please sign.', label: 'internal' });
      expect(sent.status).toBe(201);
      const id = sent.body.id as string;

      const bob = await openAs('bob@partner.example', 'Contract draft');
      const signed = randomBytes(150_000);
      const up = await uploadAsRecipient(bob.session, signed);
      expect(up).toMatchObject({ status: 201, body: { size: signed.length } });
      const before = smtp.messages.length;
      const reply = await api(null, 'POST', '/api/v1/access/reply', { text: 'Signed, attached.', replyAll: false, attachments: [{ uploadId: up.body.uploadId, filename: 'signed.pdf', contentType: 'application/pdf' }] }, { 'x-recipient-session': bob.session });
      expect(reply.status).toBe(201);
      expect(reply.body).toMatchObject({ threadId: id, inReplyTo: id, subject: 'Re: Contract draft', to: [alice.email], cc: [], attachmentCount: 1 });

      // The original sender is notified like any recipient (never the content) and opens it with their link.
      const forAlice = await openAs(alice.email, 'Re: Contract draft', before);
      expect(forAlice.note.headers.subject).toBe('Secure message from bob@partner.example: Re: Contract draft');
      expect(forAlice.note.text).not.toContain('Signed, attached.');
      const opened = await decrypt(forAlice.session);
      expect(opened.envelope).toMatchObject({ subject: 'Re: Contract draft', text: 'Signed, attached.' });
      expect(Buffer.compare(opened.files![0]!.bytes, signed)).toBe(0);
      // Only the sender got it.
      await new Promise((r) => setTimeout(r, 300));
      expect(smtp.messages.slice(before).filter((m) => m.headers.subject?.includes('Re: Contract draft')).map((m) => m.to)).toEqual([[alice.email]]);

      // The sender answers within the thread; the thread lists all of it in order.
      const answer = await api(alice, 'POST', '/api/v1/messages', { to: ['bob@partner.example'], subject: 'Re: Contract draft', text: 'Thanks, countersigned.', inReplyTo: reply.body.id });
      expect(answer.body).toMatchObject({ threadId: id, inReplyTo: reply.body.id, label: 'internal' });
      const thread = await api(alice, 'GET', `/api/v1/messages/${id}/thread`);
      expect(thread.status).toBe(200);
      expect(thread.body.messages.map((m: { sender: string; sentByYou: boolean; fromRecipient: boolean; text: string }) => [m.sender, m.sentByYou, m.fromRecipient, m.text])).toEqual([
        [alice.email, true, false, 'Please sign.'],
        ['bob@partner.example', false, true, 'Signed, attached.'],
        [alice.email, true, false, 'Thanks, countersigned.'],
      ]);
      expect(thread.body.messages[0].bcc).toEqual(['dave@partner.example']);
      expect(thread.body.messages[1].attachments).toMatchObject([{ filename: 'signed.pdf', size: signed.length }]);

      const trail = await api(alice, 'GET', `/api/v1/messages/${id}/audit`);
      // The original's trail shows Bob's reply (Alice's answer replied to Bob's message, not to this one).
      expect(trail.body.events.filter((e: { action: string }) => e.action === 'message.replied').map((e: { recipient: string | null; actorType: string }) => [e.recipient, e.actorType])).toEqual([['bob@partner.example', 'recipient']]);
    });

    it('does reply to all on To and Cc, never to Bcc, and refuse a Bcc recipient replying to all', async () => {
      await api(alice, 'POST', '/api/v1/messages', { to: ['erin@partner.example'], cc: ['frank@partner.example'], bcc: ['gina@partner.example'], subject: 'Minutes', text: 'Attached.' });
      const frank = await openAs('frank@partner.example', 'Minutes');
      const before = smtp.messages.length;
      const reply = await api(null, 'POST', '/api/v1/access/reply', { text: 'One correction.', replyAll: true }, { 'x-recipient-session': frank.session });
      expect(reply.body).toMatchObject({ to: [alice.email, 'erin@partner.example'], cc: [] });
      await mailTo('erin@partner.example', before, (m) => m.headers.subject!.includes('Re: Minutes'));
      await mailTo(alice.email, before, (m) => m.headers.subject!.includes('Re: Minutes'));
      await new Promise((r) => setTimeout(r, 300));
      const replyMail = smtp.messages.slice(before).filter((m) => m.headers.subject?.includes('Re: Minutes'));
      expect(replyMail.flatMap((m) => m.to).sort()).toEqual([alice.email, 'erin@partner.example'].sort());
      expect(JSON.stringify(replyMail.map((m) => m.text))).not.toContain('gina@');

      const gina = await openAs('gina@partner.example', 'Minutes');
      const all = await api(null, 'POST', '/api/v1/access/reply', { text: 'x', replyAll: true }, { 'x-recipient-session': gina.session });
      expect([all.status, all.body.error.code]).toEqual([403, 'bcc_reply_all']);
      const one = await api(null, 'POST', '/api/v1/access/reply', { text: 'Thanks', replyAll: false }, { 'x-recipient-session': gina.session });
      expect(one.body).toMatchObject({ to: [alice.email], cc: [] });
    });

    it('does notify added recipients, who can open; removes at once; refuses adding under a no-forward label', async () => {
      const sent = await api(alice, 'POST', '/api/v1/messages', { to: ['hal@partner.example'], subject: 'Rota', text: 'The rota.' });
      const id = sent.body.id as string;
      const hal = await openAs('hal@partner.example', 'Rota');
      const added = await api(alice, 'POST', `/api/v1/messages/${id}/recipients`, { cc: ['ivy@partner.example'] });
      expect(added.status).toBe(200);
      expect(added.body.recipients.map((r: { email: string; kind: string }) => [r.email, r.kind])).toEqual([['hal@partner.example', 'to'], ['ivy@partner.example', 'cc']]);
      const ivy = await openAs('ivy@partner.example', 'Rota');
      expect((await decrypt(ivy.session)).envelope?.text).toBe('The rota.');

      const ivyId = added.body.recipients.find((r: { email: string }) => r.email === 'ivy@partner.example').id;
      const removed = await api(alice, 'DELETE', `/api/v1/messages/${id}/recipients/${ivyId}`);
      expect(removed.body.recipients.find((r: { id: string }) => r.id === ivyId).status).toBe('removed');
      expect(await decrypt(ivy.session)).toEqual({ status: 403, error: 'recipient_removed' });
      const unknown = await api(null, 'POST', '/api/v1/access/link', { link: randomBytes(32).toString('base64url') });
      const gone = await api(null, 'POST', '/api/v1/access/link', { link: ivy.link });
      expect([gone.status, gone.body]).toEqual([unknown.status, unknown.body]);
      expect((await decrypt(hal.session)).status).toBe(200);

      const secret = await api(alice, 'POST', '/api/v1/messages', { to: ['jay@partner.example'], subject: 'Secret', text: 'x', label: 'confidential' });
      const refused = await api(alice, 'POST', `/api/v1/messages/${secret.body.id}/recipients`, { to: ['kim@partner.example'] });
      expect([refused.status, refused.body.error.code]).toEqual([403, 'forwarding_not_allowed']);
      const jayId = secret.body.recipients[0].id;
      expect((await api(alice, 'DELETE', `/api/v1/messages/${secret.body.id}/recipients/${jayId}`)).status).toBe(200);
      const bad = await api(alice, 'POST', `/api/v1/messages/${id}/recipients`, { to: ['nope'] });
      expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_address']);
    });

    it('does let a forwardee request access, verify by code, and open once the sender approves', async () => {
      const sent = await api(alice, 'POST', '/api/v1/messages', { to: ['lee@partner.example'], subject: 'Site survey', text: 'Survey results.' });
      const id = sent.body.id as string;
      const forwarded = linkIn((await mailTo('lee@partner.example', 0, (m) => m.headers.subject!.includes('Site survey'))).text)!;

      const before = smtp.messages.length;
      const asked = await api(null, 'POST', '/api/v1/access/requests', { link: forwarded, email: 'max@contractor.example', reason: 'I run the survey team.' });
      expect(asked.status).toBe(202);
      expect(Object.keys(asked.body).sort()).toEqual(['expiresAt', 'requestId', 'sentTo']);
      expect(JSON.stringify(asked.body)).not.toMatch(/Site survey|lee@/);
      const codeMail = await mailTo('max@contractor.example', before, (m) => codeIn(m.text) !== undefined);
      expect(codeMail.text).not.toMatch(/Site survey|lee@|alice/);
      const wrong = await api(null, 'POST', '/api/v1/access/requests/verify', { requestId: asked.body.requestId, code: codeIn(codeMail.text) === '000000' ? '000001' : '000000' });
      expect([wrong.status, wrong.body.error.code]).toEqual([403, 'code_wrong']);
      const verified = await api(null, 'POST', '/api/v1/access/requests/verify', { requestId: asked.body.requestId, code: codeIn(codeMail.text) });
      expect(verified.body).toEqual({ status: 'pending' });

      const toSender = await mailTo(alice.email, before, (m) => m.headers.subject!.startsWith('Access request'));
      expect(toSender.headers.subject).toBe('Access request for your secure message: Site survey');
      expect(toSender.text).toContain('max@contractor.example asks for access');
      expect(toSender.text).toContain('I run the survey team.');
      const listed = await api(alice, 'GET', `/api/v1/messages/${id}/access-requests`);
      expect(listed.body.requests).toMatchObject([{ id: asked.body.requestId, email: 'max@contractor.example', status: 'pending', via: 'lee@partner.example', reason: 'I run the survey team.' }]);

      const approved = await api(alice, 'POST', `/api/v1/messages/${id}/access-requests/${asked.body.requestId}/approve`);
      expect(approved.body).toMatchObject({ status: 'approved', decidedAt: expect.any(String) });
      const max = await openAs('max@contractor.example', 'Access granted', before);
      const opened = await decrypt(max.session);
      expect(opened.envelope?.text).toBe('Survey results.');
      expect(opened.you).toMatchObject({ email: 'max@contractor.example', kind: 'bcc' });
      const again = await api(alice, 'POST', `/api/v1/messages/${id}/access-requests/${asked.body.requestId}/deny`);
      expect([again.status, again.body.error.code]).toEqual([409, 'access_request_decided']);
      const status = await api(alice, 'GET', `/api/v1/messages/${id}`);
      expect(status.body.recipients.map((r: { email: string; kind: string; status: string }) => [r.email, r.kind, r.status])).toEqual([['lee@partner.example', 'to', 'notified'], ['max@contractor.example', 'bcc', 'opened']]);
    });

    it('does tell a denied requester and never let them in; refuses requests under a no-forward label', async () => {
      const sent = await api(alice, 'POST', '/api/v1/messages', { to: ['ned@partner.example'], subject: 'Salaries', text: 'x' });
      const forwarded = linkIn((await mailTo('ned@partner.example', 0, (m) => m.headers.subject!.includes('Salaries'))).text)!;
      const before = smtp.messages.length;
      const asked = await api(null, 'POST', '/api/v1/access/requests', { link: forwarded, email: 'oz@elsewhere.example' });
      const code = codeIn((await mailTo('oz@elsewhere.example', before)).text);
      await api(null, 'POST', '/api/v1/access/requests/verify', { requestId: asked.body.requestId, code });
      const denied = await api(alice, 'POST', `/api/v1/messages/${sent.body.id}/access-requests/${asked.body.requestId}/deny`);
      expect(denied.body.status).toBe('denied');
      const told = await mailTo('oz@elsewhere.example', before, (m) => m.headers.subject === 'Your request for access was declined');
      expect(linkIn(told.text)).toBeUndefined();
      expect(told.text).not.toContain('Salaries');
      expect((await api(alice, 'GET', `/api/v1/messages/${sent.body.id}`)).body.recipients.map((r: { email: string }) => r.email)).toEqual(['ned@partner.example']);

      const secret = await api(alice, 'POST', '/api/v1/messages', { to: ['pam@partner.example'], subject: 'Restricted one', text: 'x', label: 'restricted' });
      const secretLink = linkIn((await mailTo('pam@partner.example', 0, (m) => m.headers.subject!.includes('[restricted]'))).text)!;
      const refused = await api(null, 'POST', '/api/v1/access/requests', { link: secretLink, email: 'quinn@elsewhere.example' });
      expect([refused.status, refused.body.error.code]).toEqual([403, 'forwarding_not_allowed']);
      expect((await api(alice, 'GET', `/api/v1/messages/${secret.body.id}/access-requests`)).body.requests).toEqual([]);
      const malformed = await api(null, 'POST', '/api/v1/access/requests', { link: forwarded, email: 'quinn@elsewhere.example', extra: true });
      expect([malformed.status, malformed.body.error.code]).toEqual([400, 'invalid_request']);
    });

    it('does refuse, identically, every new sender route to other users, other tenants and anonymous callers', async () => {
      const sent = await api(alice, 'POST', '/api/v1/messages', { to: ['rex@partner.example'], subject: 'Private thread', text: 'x' });
      const id = sent.body.id as string;
      const recipientId = sent.body.recipients[0].id as string;
      const colleague = await createTestUser(server, { email: `colleague-${target}@acme.example`, tenantId: alice.tenantId });
      const stranger = await createTestUser(server, { email: `stranger-${target}@other.example` });
      const requestId = crypto.randomUUID();
      const routes: Array<[string, string, unknown?]> = [
        ['POST', `/api/v1/messages/${id}/recipients`, { to: ['sly@partner.example'] }],
        ['DELETE', `/api/v1/messages/${id}/recipients/${recipientId}`],
        ['GET', `/api/v1/messages/${id}/thread`],
        ['GET', `/api/v1/messages/${id}/access-requests`],
        ['POST', `/api/v1/messages/${id}/access-requests/${requestId}/approve`],
        ['POST', `/api/v1/messages/${id}/access-requests/${requestId}/deny`],
      ];
      const missing = crypto.randomUUID();
      for (const [method, p, body] of routes) {
        const asNonexistent = await api(colleague, method, p.replace(id, missing), body);
        for (const user of [colleague, stranger]) {
          const res = await api(user, method, p, body);
          expect([res.status, res.body.error.code], `${method} ${p}`).toEqual([404, 'message_not_found']);
          expect(res.body).toEqual(asNonexistent.body);
        }
        expect((await api(null, method, p, body)).status, `${method} ${p} anonymous`).toBe(401);
      }
      // A reply in someone else's thread is refused like a message that does not exist.
      const foreign = await api(stranger, 'POST', '/api/v1/messages', { to: ['x@partner.example'], subject: 's', text: 't', inReplyTo: id });
      expect([foreign.status, foreign.body.error.code]).toEqual([400, 'in_reply_to_not_found']);
      const status = await api(alice, 'GET', `/api/v1/messages/${id}`);
      expect(status.body.recipients.map((r: { email: string; status: string }) => [r.email, r.status])).toEqual([['rex@partner.example', expect.not.stringMatching(/removed/)]]);

      // Recipient routes need a verified session.
      for (const [method, p, body] of [['POST', '/api/v1/access/reply', { text: 'x', replyAll: false }], ['DELETE', `/api/v1/access/uploads/${missing}`]] as const) {
        expect((await api(null, method, p, body)).body.error.code).toBe('recipient_session_required');
        expect((await api(null, method, p, body, { 'x-recipient-session': randomBytes(32).toString('base64url') })).body.error.code).toBe('recipient_session_invalid');
      }
      const anonymousUpload = await fetch(`${server.url}/api/v1/access/uploads`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'content-length': '3' }, body: new Uint8Array([1, 2, 3]) });
      expect(anonymousUpload.status).toBe(401);
      const { rows } = await server.runtime.db.query(`SELECT 1 FROM pending_uploads WHERE recipient_id IS NOT NULL AND object_id NOT IN (SELECT object_id FROM message_attachments)`);
      expect(rows).toEqual([]);
    });
  });
}
