// End to end: a label that requires an account. A recipient who has a Sealpost account opens
// the message by signing in instead of with a code; a code alone is not enough, and someone
// else's account is refused — over HTTP, with mail through a real SMTP sink.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/runtime/server.ts';
import { createTestUser, type TestUser } from '../support/api-users.ts';
import { apiClient, e2eTargets, linkIn, recipientClient, startE2eServer, type E2eServer } from '../support/e2e.ts';

for (const target of e2eTargets()) {
  describe(`recipients who must sign in to an account [${target}]`, () => {
    let env: E2eServer;
    let server: RunningServer;
    let sender: TestUser;
    let recipient: TestUser;
    let colleague: TestUser;
    const api = apiClient(() => server);
    const { mailTo, verify, decrypt } = recipientClient(() => env);

    beforeAll(async () => {
      env = await startE2eServer(target, 'recipient-account');
      server = env.server;
      sender = await createTestUser(server, { email: `sender-${target}@acme.example` });
      // The recipient has an account of their own, in their own organisation.
      recipient = await createTestUser(server, { email: `rita-${target}@partner.example` });
      colleague = await createTestUser(server, { email: `colin-${target}@partner.example`, tenantId: recipient.tenantId });
      // A tenant's labels are made on first use; then 'restricted' is changed to require an account.
      expect((await api(sender, 'GET', '/api/v1/labels')).status).toBe(200);
      const { rowCount } = await server.runtime.db.query(`UPDATE labels SET auth_level = 'account' WHERE tenant_id = $1 AND name = 'restricted'`, [sender.tenantId]);
      expect(rowCount).toBe(1);
    });
    afterAll(async () => {
      await env?.close();
    });

    it('does refuse a code alone, refuse another account, and open for the recipient signed in to theirs', async () => {
      const sent = await api(sender, 'POST', '/api/v1/messages', { to: [recipient.email], subject: 'Board minutes', text: 'Strictly for you.', label: 'restricted' });
      expect(sent.status).toBe(201);
      const note = await mailTo(recipient.email, 0, (m) => linkIn(m.text) !== undefined);
      const link = linkIn(note.text)!;
      expect((await api(null, 'POST', '/api/v1/access/link', { link })).body).toMatchObject({ authLevel: 'account' });

      const withCode = await verify(recipient.email, link);
      expect(await decrypt(withCode)).toMatchObject({ status: 403, error: 'account_required' });

      expect(await api(null, 'POST', '/api/v1/access/account', { link })).toMatchObject({ status: 401 });
      expect(await api(colleague, 'POST', '/api/v1/access/account', { link })).toMatchObject({ status: 403, body: { error: { code: 'account_mismatch' } } });

      const signedIn = await api(recipient, 'POST', '/api/v1/access/account', { link });
      expect(signedIn.status).toBe(200);
      expect(await decrypt(signedIn.body.sessionToken)).toMatchObject({ status: 403, error: 'disclaimer_required' });
      expect((await api(null, 'POST', '/api/v1/access/disclaimer', undefined, { 'x-recipient-session': signedIn.body.sessionToken })).status).toBe(204);
      const opened = await decrypt(signedIn.body.sessionToken);
      expect(opened).toMatchObject({ status: 200, envelope: { subject: 'Board minutes', text: 'Strictly for you.' } });

      const audit = await api(sender, 'GET', `/api/v1/messages/${sent.body.id}/audit`);
      const events = (audit.body.events as Array<{ action: string; outcome: string; reason: string | null }>).filter((e) => e.action === 'recipient.account_verified');
      expect(events.map((e) => [e.outcome, e.reason])).toEqual([
        ['denied', 'account_mismatch'],
        ['success', null],
      ]);
    });
  });
}
