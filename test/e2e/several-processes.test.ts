// End to end: two Sealpost servers of one installation (one PostgreSQL database, one data
// directory with the blobs and the root key, one SMTP relay), as behind a load balancer
// (docs/scaling.md). They run in this one test process but share nothing in memory that holds
// state: each has its own database pool, job runner, audit batcher, key caches and Prevent
// model. Every step of a message goes to whichever server; the work must be done once, and what
// one decides (a revoke) must hold at once on the other. PostgreSQL only: the embedded PGlite
// database belongs to one process.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { verifyAuditChains } from '../../src/audit/audit.service.ts';
import { loadConfig } from '../../src/config/config.ts';
import { NOTIFY_RECIPIENT_JOB } from '../../src/messages/message.service.ts';
import { startServer, type RunningServer } from '../../src/runtime/server.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { createTestUser, type TestUser } from '../support/api-users.ts';
import { apiClient, freePort, linkIn, recipientClient, startE2eServer, type E2eServer } from '../support/e2e.ts';

describe.runIf(inject('sealpostPostgres'))('several server processes on one PostgreSQL', () => {
  let first: E2eServer;
  let second: RunningServer;
  let alice: TestUser;

  // Every request names the process it goes to.
  const onFirst = apiClient(() => first.server);
  const onSecond = apiClient(() => second);
  const viaFirst = recipientClient(() => first);
  const viaSecond = recipientClient(() => ({ ...first, server: second }));

  beforeAll(async () => {
    first = await startE2eServer('postgres', 'procs', { SEGMENT_SIZE: '65536' });
    // The same installation, another port (a load balancer would sit in front of both).
    second = await startServer(loadConfig({ ...first.env, PORT: String(await freePort()) }), { logger: createLogger('silent') });
    alice = await createTestUser(first.server, { email: 'alice@acme.example' });
  });

  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('does carry a message across both processes, notifying once, and a revoke on one holds on the other', async () => {
    // Uploaded to one process, sent through the other.
    const file = randomBytes(200_000);
    const upload = await fetch(`${second.url}/api/v1/uploads`, { method: 'POST', headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/octet-stream', 'content-length': String(file.length) }, body: new Uint8Array(file) });
    expect(upload.status).toBe(201);
    const { uploadId } = (await upload.json()) as { uploadId: string };
    const sent = await onFirst(alice, 'POST', '/api/v1/messages', {
      to: ['bob@partner.example', 'carol@partner.example'],
      subject: 'Quarterly figures',
      text: 'Figures attached.',
      attachments: [{ uploadId, filename: 'figures.bin', contentType: 'application/octet-stream' }],
    });
    expect(sent.status).toBe(201);
    const id = sent.body.id as string;

    // Both job runners poll the same queue: every notification is delivered exactly once.
    const note = await viaFirst.mailTo('bob@partner.example', 0, (m) => m.text.includes('Quarterly figures'));
    await viaFirst.mailTo('carol@partner.example', 0, (m) => m.text.includes('Quarterly figures'));
    const pending = async () =>
      (await first.server.runtime.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobs WHERE kind = $1 AND status <> 'done'`, [NOTIFY_RECIPIENT_JOB])).rows[0]!.n;
    await expect.poll(pending, { timeout: 10_000 }).toBe(0);
    for (const address of ['bob@partner.example', 'carol@partner.example']) {
      expect(first.smtp.messages.filter((m) => m.to.includes(address) && m.text.includes('Quarterly figures'))).toHaveLength(1);
    }

    // Code asked of one process, verified by the other; keys released and files served by either.
    const link = linkIn(note.text)!;
    const session = await viaSecond.verify('bob@partner.example', link);
    const bob = await viaFirst.decrypt(session);
    expect(bob.status).toBe(200);
    expect(bob.envelope!.text).toBe('Figures attached.');
    expect(Buffer.compare(bob.files![0]!.bytes, file)).toBe(0);
    expect((await viaSecond.decrypt(session)).status).toBe(200);

    // A revoke through one process refuses the next open on the other; the undo too.
    expect((await onSecond(alice, 'POST', `/api/v1/messages/${id}/revoke`)).status).toBe(200);
    expect(await viaFirst.decrypt(session)).toEqual({ status: 403, error: 'message_revoked' });
    expect((await onFirst(alice, 'POST', `/api/v1/messages/${id}/unrevoke`)).status).toBe(200);
    expect((await viaSecond.decrypt(session)).status).toBe(200);

    // Either process shows the sender the same status and trail.
    const fromSecond = await onSecond(alice, 'GET', `/api/v1/messages/${id}`);
    expect(fromSecond.body.recipients.find((r: { email: string }) => r.email === 'bob@partner.example').status).toBe('opened');
    const trail = await onSecond(alice, 'GET', `/api/v1/messages/${id}/audit`);
    const actions = trail.body.events.map((e: { action: string; outcome: string }) => `${e.action}:${e.outcome}`);
    expect(actions.filter((a: string) => a === 'message.keys_released:success')).toHaveLength(3);
    expect(actions).toEqual(expect.arrayContaining(['message.sent:success', 'message.revoked:success', 'message.keys_released:denied', 'message.unrevoked:success']));

    // Both processes appended to the tenant's one audit chain; it still verifies.
    const verified = await verifyAuditChains(first.server.runtime.db, { tenantId: alice.tenantId });
    expect(verified.ok).toBe(true);
  });

  it('does serve concurrent opens from both processes into one unbroken audit chain', async () => {
    const sent = await onSecond(alice, 'POST', '/api/v1/messages', { to: ['dave@partner.example'], subject: 'Many opens', text: 'x' });
    expect(sent.status).toBe(201);
    const note = await viaFirst.mailTo('dave@partner.example', 0, (m) => m.text.includes('Many opens'));
    const session = await viaFirst.verify('dave@partner.example', linkIn(note.text)!);
    // Both processes' audit batchers append to the same chain at the same time.
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? viaFirst : viaSecond).decrypt(session)));
    expect(results.map((r) => r.status)).toEqual(Array(40).fill(200));
    const trail = await onFirst(alice, 'GET', `/api/v1/messages/${sent.body.id as string}/audit`);
    expect(trail.body.events.filter((e: { action: string }) => e.action === 'message.keys_released')).toHaveLength(40);
    const verified = await verifyAuditChains(first.server.runtime.db, { tenantId: alice.tenantId });
    expect(verified.ok).toBe(true);
  });
});
