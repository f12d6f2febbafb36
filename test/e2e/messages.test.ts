// End to end: secure messages through the real HTTP server (PGlite, and PostgreSQL when
// TEST_DATABASE_URL is set) with notifications and codes delivered by real SMTP to an
// smtp-server sink. The recipient side decrypts locally, as the CLI and browser do.
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientKeyPair } from '../../src/crypto/node/key-release.ts';
import type { RunningServer } from '../../src/runtime/server.ts';
import type { SmtpSink } from '../support/smtp-sink.ts';
import { createTestUser, type TestUser } from '../support/api-users.ts';
import { apiClient, e2eTargets, linkIn, recipientClient, startE2eServer, type E2eServer } from '../support/e2e.ts';

for (const target of e2eTargets()) {
  describe(`secure messages over HTTP [${target}]`, () => {
    let env: E2eServer;
    let server: RunningServer;
    let smtp: SmtpSink;
    let dataDir: string;
    let alice: TestUser;

    const api = apiClient(() => server);
    const { mailTo, verify, decrypt } = recipientClient(() => env);

    const upload = async (user: TestUser, bytes: Buffer) => {
      const res = await fetch(`${server.url}/api/v1/uploads`, { method: 'POST', headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) }, body: new Uint8Array(bytes) });
      return { status: res.status, body: (await res.json()) as { uploadId: string; size: number } };
    };

    /** The recipient's side: link from the email → code from the email → session. */
    async function openAsRecipient(address: string, subjectHint?: string) {
      const note = await mailTo(address, 0, (m) => linkIn(m.text) !== undefined && (!subjectHint || m.text.includes(subjectHint)));
      const link = linkIn(note.text)!;
      return { link, session: await verify(address, link), note };
    }

    beforeAll(async () => {
      env = await startE2eServer(target, 'msg', { SEGMENT_SIZE: '65536' });
      ({ server, smtp, dataDir } = env);
      alice = await createTestUser(server, { email: `alice-${target}@acme.example` });
    });

    afterAll(async () => {
      await env?.close();
    });

    it('does carry a message with attachments from sender to recipient byte for byte, with revoke and undo', async () => {
      const big = randomBytes(300_000);
      const small = Buffer.from('name,amount\nbob,12\n');
      const up1 = await upload(alice, big);
      const up2 = await upload(alice, small);
      expect(up1).toMatchObject({ status: 201, body: { size: big.length } });
      const sent = await api(alice, 'POST', '/api/v1/messages', {
        to: ['bob@partner.example'],
        cc: ['carol@partner.example'],
        bcc: ['dave@partner.example'],
        subject: 'Board pack',
        text: 'The board pack is attached.',
        html: '<p>The <b>board</b> pack<script>alert(1)</script></p>',
        label: 'confidential',
        attachments: [
          { uploadId: up1.body.uploadId, filename: 'pack.bin', contentType: 'application/octet-stream' },
          { uploadId: up2.body.uploadId, filename: 'figures.csv', contentType: 'text/csv' },
        ],
      });
      expect(sent.status).toBe(201);
      const id = sent.body.id as string;

      const { session, note } = await openAsRecipient('bob@partner.example', 'Board pack');
      expect(note.headers.subject).toContain('Board pack');
      expect(note.text).not.toContain('board pack is attached');
      expect(note.text).not.toContain('dave@partner.example');
      const bob = await decrypt(session);
      expect(bob.status).toBe(200);
      if (!bob.envelope || !bob.files) throw new Error('not opened');
      expect(bob.envelope.text).toBe('The board pack is attached.');
      expect(bob.envelope.html).toBe('<p>The <b>board</b> pack</p>');
      expect(bob.files.map((f) => f.filename)).toEqual(['pack.bin', 'figures.csv']);
      expect(Buffer.compare(bob.files[0]!.bytes, big)).toBe(0);
      expect(bob.files[1]!.bytes.toString()).toBe(small.toString());
      expect(bob.message.to).toEqual(['bob@partner.example']);
      expect(bob.message.cc).toEqual(['carol@partner.example']);
      expect(JSON.stringify(bob)).not.toContain('dave@partner.example');

      // Bcc recipient: notified, can open, sees itself only.
      const daveSession = (await openAsRecipient('dave@partner.example', 'Board pack')).session;
      const dave = await decrypt(daveSession);
      expect(dave.you).toMatchObject({ email: 'dave@partner.example', kind: 'bcc' });

      // Sender sees the open; revoke; the recipient is refused; undo; open again.
      const status = await api(alice, 'GET', `/api/v1/messages/${id}`);
      expect(status.body.recipients.find((r: { email: string }) => r.email === 'bob@partner.example').status).toBe('opened');
      expect((await api(alice, 'POST', `/api/v1/messages/${id}/revoke`)).status).toBe(200);
      expect(await decrypt(session)).toEqual({ status: 403, error: 'message_revoked' });
      const sealedAfter = await fetch(`${server.url}/api/v1/access/objects/${bob.message.envelopeObjectId}`, { headers: { 'x-recipient-session': session } });
      expect(sealedAfter.status).toBe(403);
      expect((await api(alice, 'POST', `/api/v1/messages/${id}/unrevoke`)).status).toBe(200);
      expect((await decrypt(session)).status).toBe(200);

      // Per-recipient revoke touches only that recipient.
      const bobId = status.body.recipients.find((r: { email: string }) => r.email === 'bob@partner.example').id;
      expect((await api(alice, 'POST', `/api/v1/messages/${id}/recipients/${bobId}/revoke`)).status).toBe(200);
      expect(await decrypt(session)).toEqual({ status: 403, error: 'message_revoked' });
      expect((await decrypt(daveSession)).status).toBe(200);

      const trail = await api(alice, 'GET', `/api/v1/messages/${id}/audit`);
      const actions = trail.body.events.map((e: { action: string; outcome: string }) => `${e.action}:${e.outcome}`);
      expect(actions).toEqual(expect.arrayContaining(['message.sent:success', 'recipient.code_requested:success', 'recipient.code_verified:success', 'message.keys_released:success', 'message.revoked:success', 'message.keys_released:denied', 'message.unrevoked:success', 'recipient.revoked:success']));
      expect(trail.body.events.find((e: { action: string }) => e.action === 'message.keys_released').ip).toBe('127.0.0.1');
    });

    it('does change and remove the expiry, refusing keys while expired', async () => {
      const sent = await api(alice, 'POST', '/api/v1/messages', { to: ['erin@partner.example'], subject: 'Short-lived', text: 'x' });
      const id = sent.body.id as string;
      const { session } = await openAsRecipient('erin@partner.example', 'Short-lived');
      expect((await api(alice, 'PATCH', `/api/v1/messages/${id}`, { expiresAt: new Date(Date.now() - 60_000).toISOString() })).body.error.code).toBe('invalid_expiry');
      // Expire it now by setting a time a moment ahead and waiting it out.
      const soon = new Date(Date.now() + 1500);
      expect((await api(alice, 'PATCH', `/api/v1/messages/${id}`, { expiresAt: soon.toISOString() })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1600));
      expect(await decrypt(session)).toEqual({ status: 403, error: 'message_expired' });
      expect((await api(alice, 'GET', `/api/v1/messages/${id}`)).body.recipients[0].status).toBe('expired');
      expect((await api(alice, 'PATCH', `/api/v1/messages/${id}`, { expiresAt: null })).status).toBe(200);
      expect((await decrypt(session)).status).toBe(200);
    });

    it('does lock a code after five wrong attempts', async () => {
      await api(alice, 'POST', '/api/v1/messages', { to: ['frank@partner.example'], subject: 'Locked', text: 'x' });
      const note = await smtp.waitFor((m) => m.to.includes('frank@partner.example') && m.text.includes('Locked'));
      const link = linkIn(note.text)!;
      expect((await api(null, 'POST', '/api/v1/access/code', { link })).status).toBe(202);
      const codes = [];
      for (let i = 0; i < 5; i++) codes.push((await api(null, 'POST', '/api/v1/access/verify', { link, code: String(100000 + i) })).body.error.code);
      // (A random code could collide with one of the guesses: one in 200,000.)
      expect(codes).toEqual(['code_wrong', 'code_wrong', 'code_wrong', 'code_wrong', 'code_locked']);
      expect((await api(null, 'POST', '/api/v1/access/verify', { link, code: '123456' })).body.error.code).toBe('code_expired');
    });

    it('does refuse, identically, every sender route to other users, other tenants and anonymous callers', async () => {
      const sent = await api(alice, 'POST', '/api/v1/messages', { to: ['gina@partner.example'], subject: 'Private', text: 'x' });
      const id = sent.body.id as string;
      const colleague = await createTestUser(server, { email: `colleague-${target}@acme.example`, tenantId: alice.tenantId });
      const stranger = await createTestUser(server, { email: `stranger-${target}@other.example` });
      const routes: Array<[string, string, unknown?]> = [
        ['GET', `/api/v1/messages/${id}`],
        ['GET', `/api/v1/messages/${id}/audit`],
        ['POST', `/api/v1/messages/${id}/revoke`],
        ['POST', `/api/v1/messages/${id}/unrevoke`],
        ['PATCH', `/api/v1/messages/${id}`, { expiresAt: null }],
        ['POST', `/api/v1/messages/${id}/recipients/${sent.body.recipients[0].id}/revoke`],
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
      expect((await api(stranger, 'GET', '/api/v1/messages')).body.messages).toEqual([]);
      expect((await api(alice, 'GET', `/api/v1/messages/${id}`)).body.revokedAt).toBeNull();
    });

    it('does refuse recipient routes without a valid session, and objects that are not part of the message', async () => {
      const res = await api(null, 'POST', '/api/v1/access/open', { clientPublicKey: createClientKeyPair().publicKey });
      expect([res.status, res.body.error.code]).toEqual([401, 'recipient_session_required']);
      const forged = await api(null, 'POST', '/api/v1/access/open', { clientPublicKey: createClientKeyPair().publicKey }, { 'x-recipient-session': randomBytes(32).toString('base64url') });
      expect([forged.status, forged.body.error.code]).toEqual([401, 'recipient_session_invalid']);
      expect((await api(null, 'POST', '/api/v1/access/link', { link: randomBytes(32).toString('base64url') })).body.error.code).toBe('link_not_found');
      expect((await api(null, 'POST', '/api/v1/access/code', { link: 'short' })).body.error.code).toBe('link_not_found');

      // A verified recipient cannot fetch another message's objects.
      const other = await api(alice, 'POST', '/api/v1/messages', { to: ['hal@partner.example'], subject: 'Other', text: 'x' });
      await api(alice, 'POST', '/api/v1/messages', { to: ['ivy@partner.example'], subject: 'Mine', text: 'x' });
      const { session } = await openAsRecipient('ivy@partner.example', 'Mine');
      const { rows } = await server.runtime.db.query<{ envelope_object_id: string }>('SELECT envelope_object_id FROM messages WHERE id = $1', [other.body.id]);
      const foreign = await fetch(`${server.url}/api/v1/access/objects/${rows[0]!.envelope_object_id}`, { headers: { 'x-recipient-session': session } });
      expect(foreign.status).toBe(404);
      const badKey = await api(null, 'POST', '/api/v1/access/open', { clientPublicKey: 'AAAA' }, { 'x-recipient-session': session });
      expect([badKey.status, badKey.body.error.code]).toEqual([400, 'invalid_public_key']);
    });

    it('does reject malformed and oversized input with named errors and store nothing half-written', async () => {
      const blobDir = path.join(dataDir, 'blobs');
      const countBlobs = async () => {
        let n = 0;
        const walk = async (d: string): Promise<void> => {
          for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) e.isDirectory() ? await walk(path.join(d, e.name)) : n++;
        };
        await walk(blobDir);
        return n;
      };
      const countRows = async () => Number((await server.runtime.db.query<{ n: string }>('SELECT count(*) AS n FROM sealed_objects')).rows[0]!.n);
      const [blobs0, rows0] = [await countBlobs(), await countRows()];
      const cases: Array<[unknown, number, string]> = [
        [{ to: ['bob@partner.example'], subject: 's' }, 400, 'invalid_request'],
        [{ to: ['not-an-address'], subject: 's', text: 't' }, 400, 'invalid_address'],
        [{ to: [], subject: 's', text: 't' }, 400, 'no_recipients'],
        [{ to: ['bob@partner.example'], subject: 's', text: 't', label: 'nope' }, 400, 'unknown_label'],
        [{ to: ['bob@partner.example'], subject: 's', text: 't', extra: 1 }, 400, 'invalid_request'],
        [{ to: ['bob@partner.example'], subject: 's', text: 't', attachments: [{ uploadId: crypto.randomUUID(), filename: 'x', contentType: 'text/plain' }] }, 400, 'upload_not_found'],
      ];
      for (const [body, status, code] of cases) {
        const res = await api(alice, 'POST', '/api/v1/messages', body);
        if (!res.body?.error) throw new Error(`unexpected ${res.status} ${JSON.stringify(res.body)} for ${JSON.stringify(body)}`);
        expect([res.status, res.body.error.code], JSON.stringify(body)).toEqual([status, code]);
      }
      const tooBig = await api(alice, 'POST', '/api/v1/messages', { to: ['bob@partner.example'], subject: 's', text: 'x'.repeat(1100 * 1024) });
      expect([tooBig.status, tooBig.body.error.code]).toEqual([413, 'body_too_large']);
      const noLength = await fetch(`${server.url}/api/v1/uploads`, { method: 'POST', headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/octet-stream' }, body: new Blob([Buffer.from('abc')]).stream(), duplex: 'half' } as RequestInit);
      expect([noLength.status, ((await noLength.json()) as { error: { code: string } }).error.code]).toEqual([400, 'length_required']);
      expect([await countBlobs(), await countRows()]).toEqual([blobs0, rows0]);
    });
  });
}
