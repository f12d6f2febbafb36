// End to end: the administration API (docs/admin-api.md) through the real HTTP server (PGlite,
// and PostgreSQL when TEST_DATABASE_URL is set) with mail to a real SMTP sink: who may do what,
// validation errors, label policy applied to the next send, branding in the notification email
// and on the recipient pages, the audit log's filters, pages and CSV export, email invitations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/runtime/server.ts';
import { createTestUser, type TestUser } from '../support/api-users.ts';
import { apiClient, e2eTargets, linkIn, startE2eServer, type E2eServer } from '../support/e2e.ts';
import type { SmtpSink } from '../support/smtp-sink.ts';

// A 1×1 PNG.
const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const PNG_DATA_URL = `data:image/png;base64,${PNG_BASE64}`;

for (const target of e2eTargets()) {
  describe(`administration API over HTTP [${target}]`, () => {
    let env: E2eServer;
    let server: RunningServer;
    let smtp: SmtpSink;
    let admin: TestUser;
    let author: TestUser;
    let auditor: TestUser;
    let reader: TestUser;
    let otherAdmin: TestUser;

    const api = apiClient(() => server);
    /** Status only (the CSV export is not JSON). */
    const statusOf = async (user: TestUser | null, method: string, p: string) =>
      (await fetch(`${server.url}${p}`, { method, headers: user ? { authorization: `Bearer ${user.token}` } : {} })).status;
    const labelsOf = async (user: TestUser) => (await api(user, 'GET', '/api/v1/labels/all')).body.labels as Array<{ id: string; name: string; isDefault: boolean; retiredAt: string | null; messageCount: number }>;

    beforeAll(async () => {
      env = await startE2eServer(target, 'admin');
      ({ server, smtp } = env);
      admin = await createTestUser(server, { email: `admin-${target}@acme.example`, role: 'administrator', tenantName: 'Acme Ltd' });
      author = await createTestUser(server, { email: `author-${target}@acme.example`, role: 'author', tenantId: admin.tenantId });
      auditor = await createTestUser(server, { email: `auditor-${target}@acme.example`, role: 'auditor', tenantId: admin.tenantId });
      reader = await createTestUser(server, { email: `reader-${target}@acme.example`, role: 'read_only', tenantId: admin.tenantId });
      otherAdmin = await createTestUser(server, { email: `admin-${target}@other.example`, role: 'administrator' });
    });

    afterAll(async () => {
      await env?.close();
    });

    it('does refuse authors, read-only users and (for changes) auditors, and anonymous callers', async () => {
      const internal = (await labelsOf(admin)).find((l) => l.name === 'internal')!;
      const changes: Array<[string, string, unknown?]> = [
        ['POST', '/api/v1/labels', { name: 'x', rank: 1 }],
        ['PUT', '/api/v1/labels', { labels: [{ name: 'x', rank: 0, isDefault: true }] }],
        ['PATCH', `/api/v1/labels/${internal.id}`, { rank: 9 }],
        ['POST', `/api/v1/labels/${internal.id}/retire`],
        ['POST', `/api/v1/labels/${internal.id}/restore`],
        ['DELETE', `/api/v1/labels/${internal.id}`],
        ['PATCH', '/api/v1/tenant/branding', { displayName: 'Evil' }],
        ['POST', '/api/v1/users/invitations', { email: 'x@acme.example', displayName: 'X', role: 'author' }],
        ['POST', `/api/v1/users/${author.id}/invitation`],
      ];
      const reads: Array<[string, string]> = [
        ['GET', '/api/v1/labels/all'],
        ['GET', '/api/v1/audit'],
        ['GET', '/api/v1/audit/export.csv'],
        ['GET', '/api/v1/audit/verify'],
      ];
      for (const [method, path, body] of changes) {
        for (const user of [author, reader, auditor]) {
          const res = await api(user, method, path, body);
          expect([method, path, user.email, res.status, res.body?.error?.code]).toEqual([method, path, user.email, 403, 'insufficient_role']);
        }
        expect((await api(null, method, path, body)).status).toBe(401);
      }
      for (const [method, path] of reads) {
        for (const user of [author, reader]) expect([path, await statusOf(user, method, path)]).toEqual([path, 403]);
        expect([path, await statusOf(auditor, method, path)]).toEqual([path, 200]);
        expect(await statusOf(null, method, path)).toBe(401);
      }
      // Every signed-in user reads the organisation's name and region.
      expect((await api(reader, 'GET', '/api/v1/tenant')).body).toMatchObject({ name: 'Acme Ltd', region: 'uk' });
      // Nothing changed.
      expect((await labelsOf(admin)).find((l) => l.id === internal.id)).toMatchObject({ name: 'internal', retiredAt: null });
      expect((await api(admin, 'GET', '/api/v1/tenant')).body.branding.displayName).toBeNull();
    });

    it("does answer 404 for another organisation's label, as for one that does not exist", async () => {
      const internal = (await labelsOf(admin)).find((l) => l.name === 'internal')!;
      for (const [method, path, body] of [['PATCH', `/api/v1/labels/${internal.id}`, { rank: 7 }], ['POST', `/api/v1/labels/${internal.id}/retire`, undefined], ['DELETE', `/api/v1/labels/${internal.id}`, undefined], ['DELETE', '/api/v1/labels/not-a-uuid', undefined]] as const) {
        const res = await api(otherAdmin, method, path, body);
        expect([path, res.status, res.body.error.code]).toEqual([path, 404, 'label_not_found']);
      }
      expect((await labelsOf(admin)).find((l) => l.id === internal.id)).toMatchObject({ rank: 1, retiredAt: null });
    });

    it('does name the field at fault in validation errors and store nothing', async () => {
      const before = await labelsOf(admin);
      const exportsBefore = (await api(admin, 'GET', '/api/v1/audit?action=audit.exported')).body.events.length;
      const bad: Array<[string, string, unknown, number, string, string?]> = [
        ['POST', '/api/v1/labels', { name: '', rank: 1 }, 400, 'label_invalid', 'name'],
        ['POST', '/api/v1/labels', { name: 'ok', rank: 5000 }, 400, 'label_invalid', 'rank'],
        ['POST', '/api/v1/labels', { name: 'ok', rank: 1, defaultExpiryDays: 0 }, 400, 'label_invalid', 'defaultExpiryDays'],
        ['POST', '/api/v1/labels', { name: 'ok', rank: 1, authLevel: 'sms' }, 400, 'label_invalid', 'authLevel'],
        ['POST', '/api/v1/labels', { name: 'ok', rank: 1, colour: 'red' }, 400, 'invalid_request'],
        ['POST', '/api/v1/labels', { name: 'CONFIDENTIAL', rank: 1 }, 409, 'label_name_taken'],
        ['PUT', '/api/v1/labels', { labels: [{ name: 'A', rank: 0 }] }, 400, 'label_invalid', 'labels'],
        ['PUT', '/api/v1/labels', { labels: [{ name: 'A', rank: 0, isDefault: true }, { name: 'a', rank: 1 }] }, 400, 'label_invalid', 'labels.1.name'],
        ['PATCH', '/api/v1/tenant/branding', { logo: 'https://cdn.example/logo.png' }, 400, 'branding_invalid', 'logo'],
        ['PATCH', '/api/v1/tenant/branding', { logo: `data:image/svg+xml;base64,${Buffer.from('<svg/>').toString('base64')}` }, 400, 'branding_invalid', 'logo'],
        ['PATCH', '/api/v1/tenant/branding', { logo: `data:image/jpeg;base64,${PNG_BASE64}` }, 400, 'branding_invalid', 'logo'],
        ['PATCH', '/api/v1/tenant/branding', { logo: `data:image/png;base64,${Buffer.concat([Buffer.from(PNG_BASE64, 'base64'), Buffer.alloc(70_000)]).toString('base64')}` }, 400, 'branding_invalid', 'logo'],
        ['PATCH', '/api/v1/tenant/branding', { accentColor: 'red' }, 400, 'branding_invalid', 'accentColor'],
        ['PATCH', '/api/v1/tenant/branding', { displayName: 'a\u0007b' }, 400, 'branding_invalid', 'displayName'],
        ['PATCH', '/api/v1/tenant/branding', { footerText: 'x'.repeat(1001) }, 400, 'branding_invalid', 'footerText'],
        ['GET', '/api/v1/audit?from=yesterday', undefined, 400, 'audit_filter_invalid', 'from'],
        ['GET', '/api/v1/audit?from=2026-12-02&to=2026-12-01', undefined, 400, 'audit_filter_invalid', 'from'],
        ['GET', '/api/v1/audit?action=DROP%20TABLE', undefined, 400, 'audit_filter_invalid', 'action'],
        ['GET', '/api/v1/audit?messageId=42', undefined, 400, 'audit_filter_invalid', 'messageId'],
        ['GET', '/api/v1/audit?cursor=bm9wZQ', undefined, 400, 'audit_filter_invalid', 'cursor'],
        ['GET', '/api/v1/audit/export.csv?actor=nobody', undefined, 400, 'audit_filter_invalid', 'actor'],
      ];
      for (const [method, path, body, status, code, field] of bad) {
        const res = await api(admin, method, path, body);
        expect([path, JSON.stringify(body)?.slice(0, 60), res.status, res.body.error.code, res.body.error.details?.field]).toEqual([path, JSON.stringify(body)?.slice(0, 60), status, code, field]);
      }
      expect(await labelsOf(admin)).toEqual(before);
      expect((await api(admin, 'GET', '/api/v1/tenant')).body.branding).toMatchObject({ displayName: null, logo: null, updatedAt: null });
      // A refused export is not recorded as an export.
      expect((await api(admin, 'GET', '/api/v1/audit?action=audit.exported')).body.events.length).toBe(exportsBefore);
    });

    it('does apply a label policy change to the next send', async () => {
      const confidential = (await labelsOf(admin)).find((l) => l.name === 'confidential')!;
      const changed = await api(admin, 'PATCH', `/api/v1/labels/${confidential.id}`, { hideSubject: true, defaultExpiryDays: 3, description: 'Changed.' });
      expect(changed).toMatchObject({ status: 200, body: { hideSubject: true, defaultExpiryDays: 3, description: 'Changed.' } });
      const sent = await api(author, 'POST', '/api/v1/messages', { to: ['policy@partner.example'], subject: 'Merger plans', text: 'Secret.', label: 'confidential' });
      expect(sent.status).toBe(201);
      const days = (Date.parse(sent.body.expiresAt) - Date.parse(sent.body.createdAt)) / 86_400_000;
      expect(days).toBeCloseTo(3, 3);
      const note = await smtp.waitFor((m) => m.to.includes('policy@partner.example') && linkIn(m.text) !== undefined);
      expect(note.text).not.toContain('Merger plans');
      expect(note.html).not.toContain('Merger plans');
      expect(note.headers.subject).toContain('[confidential]');
      // Authors see the change in the list they pick from.
      expect((await api(author, 'GET', '/api/v1/labels')).body.labels.find((l: { name: string }) => l.name === 'confidential')).toMatchObject({ hideSubject: true, defaultExpiryDays: 3, isDefault: false });
    });

    it('does retire a label in use instead of deleting it, and replace the set with the UK protective markings', async () => {
      const restricted = (await labelsOf(admin)).find((l) => l.name === 'restricted')!;
      expect((await api(author, 'POST', '/api/v1/messages', { to: ['kept@partner.example'], subject: 'Kept', text: 'x', label: 'restricted' })).status).toBe(201);
      const refused = await api(admin, 'DELETE', `/api/v1/labels/${restricted.id}`);
      expect(refused).toMatchObject({ status: 409, body: { error: { code: 'label_in_use' } } });
      const internal = (await labelsOf(admin)).find((l) => l.name === 'internal')!;
      expect((await api(admin, 'POST', `/api/v1/labels/${internal.id}/retire`)).body.error.code).toBe('default_label');

      const replaced = await api(admin, 'PUT', '/api/v1/labels', {
        labels: [
          { name: 'OFFICIAL', rank: 0, description: 'Routine business.', isDefault: true },
          { name: 'OFFICIAL-SENSITIVE', rank: 1, defaultExpiryDays: 90, noForward: true, hideSubject: true, watermark: true, disclaimer: 'This message is OFFICIAL-SENSITIVE. Do not share it.' },
        ],
      });
      expect(replaced.status).toBe(200);
      expect(replaced.body.created).toEqual(['OFFICIAL', 'OFFICIAL-SENSITIVE']);
      expect([...replaced.body.retired].sort()).toEqual(['confidential', 'restricted']);
      expect([...replaced.body.deleted].sort()).toEqual(['internal', 'public']);
      expect((await api(author, 'GET', '/api/v1/labels')).body.labels.map((l: { name: string; isDefault: boolean }) => [l.name, l.isDefault])).toEqual([
        ['OFFICIAL', true],
        ['OFFICIAL-SENSITIVE', false],
      ]);
      // A send without a label gets the new default; the old names are refused with the new list.
      const sent = await api(author, 'POST', '/api/v1/messages', { to: ['new@partner.example'], subject: 'New set', text: 'x' });
      expect(sent.body.label).toBe('OFFICIAL');
      const old = await api(author, 'POST', '/api/v1/messages', { to: ['new@partner.example'], subject: 'Old', text: 'x', label: 'confidential' });
      expect(old.body.error).toMatchObject({ code: 'unknown_label' });
      expect(old.body.error.message).toContain('OFFICIAL-SENSITIVE');
      // The message sent under the retired label still shows it.
      const all = await labelsOf(admin);
      expect(all.find((l) => l.name === 'restricted')).toMatchObject({ messageCount: 1 });
      expect(all.find((l) => l.name === 'restricted')!.retiredAt).not.toBeNull();
    });

    it('does brand the notification email (HTML and text) and the recipient pages, without telling links apart', async () => {
      const set = await api(admin, 'PATCH', '/api/v1/tenant/branding', { displayName: 'Acme <Legal>', logo: PNG_DATA_URL, accentColor: '#0A7D5A', footerText: 'Acme Ltd\n1 Example Street, London' });
      expect(set).toMatchObject({ status: 200, body: { displayName: 'Acme <Legal>', logo: PNG_DATA_URL, accentColor: '#0a7d5a', footerText: 'Acme Ltd\n1 Example Street, London' } });
      const sent = await api(author, 'POST', '/api/v1/messages', { to: ['branded@partner.example'], subject: 'Branded', text: 'x' });
      expect(sent.status).toBe(201);
      const note = await smtp.waitFor((m) => m.to.includes('branded@partner.example') && linkIn(m.text) !== undefined);
      expect(note.headers['content-type']).toMatch(/^multipart\//);
      expect(note.text).toContain('Acme <Legal>');
      expect(note.text).toContain('1 Example Street, London');
      expect(note.text).toContain(`${author.email} has sent you a secure message: "Branded"`);
      expect(note.html).toContain('Acme &lt;Legal&gt;');
      expect(note.html).not.toContain('Acme <Legal>');
      expect(note.html).toContain('#0a7d5a');
      expect(note.html).toContain('1 Example Street, London');
      expect(note.html).toContain('src="cid:logo@sealpost"');
      const link = linkIn(note.text)!;
      expect(note.html).toContain(`/open#${link}`);
      const logo = note.parts.find((p) => p.contentId === 'logo@sealpost');
      expect(logo?.contentType).toBe('image/png');
      expect(logo?.bytes.equals(Buffer.from(PNG_BASE64, 'base64'))).toBe(true);

      const expected = { displayName: 'Acme <Legal>', logo: PNG_DATA_URL, accentColor: '#0a7d5a', footerText: 'Acme Ltd\n1 Example Street, London' };
      expect(await api(null, 'POST', '/api/v1/branding', { link })).toMatchObject({ status: 200, body: expected });
      // Revoked: the same answer (the page must not learn the message's state from it).
      expect((await api(author, 'POST', `/api/v1/messages/${sent.body.id}/revoke`)).status).toBe(200);
      expect((await api(null, 'POST', '/api/v1/branding', { link })).body).toEqual(expected);
      // Unknown and malformed links: the installation's default, with the same status and shape.
      const fallback = { displayName: 'Sealpost', logo: null, accentColor: '#1f4e79', footerText: null };
      expect(await api(null, 'POST', '/api/v1/branding', { link: `${link.slice(0, -4)}AAAA` })).toMatchObject({ status: 200, body: fallback });
      expect(await api(null, 'POST', '/api/v1/branding', { link: 'nonsense' })).toMatchObject({ status: 200, body: fallback });

      // Clearing a field falls back to the default.
      expect((await api(admin, 'PATCH', '/api/v1/tenant/branding', { displayName: null, logo: null })).body).toMatchObject({ displayName: null, logo: null, accentColor: '#0a7d5a' });
      expect((await api(null, 'POST', '/api/v1/branding', { link })).body).toMatchObject({ displayName: 'Acme Ltd', logo: null });
      const [event] = (await api(auditor, 'GET', '/api/v1/audit?action=tenant.branding_updated&limit=1')).body.events;
      expect(event.details.changed).toEqual({ displayName: { from: 'Acme <Legal>', to: null }, logo: null });
    });

    it('does email invitations with a working sign-in link that the administrator never sees', async () => {
      const invited = await api(admin, 'POST', '/api/v1/users/invitations', { email: `new-${target}@acme.example`, displayName: 'New Person', role: 'auditor' });
      expect(invited.status).toBe(201);
      expect(invited.body.user).toMatchObject({ email: `new-${target}@acme.example`, role: 'auditor', hasPassword: false });
      expect(invited.body.invitation).toMatchObject({ sentTo: `new-${target}@acme.example`, emailed: true });
      expect(JSON.stringify(invited.body)).not.toContain('/sign-in#');
      const mail = await smtp.waitFor((m) => m.to.includes(`new-${target}@acme.example`) && m.text.includes('/sign-in#'));
      expect(mail.text).toContain('has invited you to Acme Ltd');
      const token = /\/sign-in#token=([A-Za-z0-9_-]+)/.exec(mail.text)![1]!;
      const redeemed = await api(null, 'POST', '/api/v1/auth/sign-in-links/redeem', { token });
      expect(redeemed.status).toBe(200);
      expect(redeemed.body.user.email).toBe(`new-${target}@acme.example`);
      expect((await api(admin, 'POST', '/api/v1/users/invitations', { email: `new-${target}@acme.example`, displayName: 'Again', role: 'author' })).body.error.code).toBe('email_taken');

      // Resend: a new link by email; the used one stays used.
      const resent = await api(admin, 'POST', `/api/v1/users/${invited.body.user.id}/invitation`);
      expect(resent).toMatchObject({ status: 202, body: { sentTo: `new-${target}@acme.example` } });
      const again = await smtp.waitFor((m) => m.to.includes(`new-${target}@acme.example`) && m.text.includes('/sign-in#') && !m.text.includes(token));
      expect(again.text).toContain('has invited you to Acme Ltd');
      expect((await api(otherAdmin, 'POST', `/api/v1/users/${invited.body.user.id}/invitation`)).status).toBe(404);
    });

    it('does filter and page the audit log, export it as safe CSV, and verify the chain', async () => {
      // An event whose user agent a spreadsheet would run as a formula.
      const evil = '=HYPERLINK("http://evil.example","click")';
      const made = await api(admin, 'POST', '/api/v1/labels', { name: 'TOP-SECRET', rank: 9 }, { 'user-agent': evil });
      expect(made.status).toBe(201);

      const labelEvents = await api(auditor, 'GET', '/api/v1/audit?action=label.*');
      expect(labelEvents.status).toBe(200);
      const actions = labelEvents.body.events.map((e: { action: string }) => e.action);
      expect(actions[0]).toBe('label.created');
      expect(new Set(actions)).toEqual(new Set(['label.created', 'label.updated']));
      expect(labelEvents.body.events[0]).toMatchObject({ actor: { type: 'user', id: admin.id, email: admin.email }, target: { type: 'label', id: made.body.id }, outcome: 'success', userAgent: evil, details: { name: 'TOP-SECRET' } });

      // By message: the send and the recipient's events, with the recipient named.
      const sent = await api(author, 'POST', '/api/v1/messages', { to: ['audited@partner.example'], subject: 'Audited', text: 'x' });
      const link = linkIn((await smtp.waitFor((m) => m.to.includes('audited@partner.example') && linkIn(m.text) !== undefined)).text)!;
      expect((await api(null, 'POST', '/api/v1/access/code', { link })).status).toBe(202);
      expect((await api(null, 'POST', '/api/v1/access/verify', { link, code: 'x00000' })).status).toBeGreaterThanOrEqual(400);
      const byMessage = (await api(auditor, 'GET', `/api/v1/audit?messageId=${sent.body.id}`)).body.events as Array<{ action: string; outcome: string; messageId: string; actor: { email: string | null } }>;
      expect(byMessage.every((e) => e.messageId === sent.body.id)).toBe(true);
      expect(byMessage.map((e) => e.action)).toContain('message.sent');
      const denied = (await api(auditor, 'GET', `/api/v1/audit?messageId=${sent.body.id}&outcome=failure`)).body.events.concat((await api(auditor, 'GET', `/api/v1/audit?messageId=${sent.body.id}&outcome=denied`)).body.events);
      expect(denied.length).toBeGreaterThan(0);
      // By actor email, and by time: nothing before the tenant existed.
      const byAuthor = (await api(auditor, 'GET', `/api/v1/audit?actor=${encodeURIComponent(author.email.toUpperCase())}&action=message.sent`)).body.events;
      expect(byAuthor.length).toBeGreaterThanOrEqual(4);
      expect(byAuthor.every((e: { actor: { email: string } }) => e.actor.email === author.email)).toBe(true);
      expect((await api(auditor, 'GET', '/api/v1/audit?to=2000-01-01T00:00:00Z')).body).toEqual({ events: [], nextCursor: null });

      // Cursor pages: newest first, no overlap, no gap.
      const all: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { events: Array<{ seq: string }>; nextCursor: string | null } } = await api(auditor, 'GET', `/api/v1/audit?action=message.sent&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.body.events.length).toBeLessThanOrEqual(2);
        all.push(...page.body.events.map((e) => e.seq));
        cursor = page.body.nextCursor;
      } while (cursor);
      const single = (await api(auditor, 'GET', '/api/v1/audit?action=message.sent&limit=200')).body.events.map((e: { seq: string }) => e.seq);
      expect(all).toEqual(single);
      expect([...all].sort((a, b) => Number(b) - Number(a))).toEqual(all);

      // CSV: header, quoting, formula protection, the export itself last; same filters.
      const res = await fetch(`${server.url}/api/v1/audit/export.csv?action=label.*`, { headers: { authorization: `Bearer ${auditor.token}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="sealpost-audit-\d{4}-\d{2}-\d{2}\.csv"$/);
      const csv = await res.text();
      const lines = csv.split('\r\n');
      expect(lines[0]).toBe('"occurred_at","seq","event_id","actor_type","actor_id","actor_email","action","target_type","target_id","message_id","outcome","ip","user_agent","details"');
      expect(lines.at(-1)).toBe('');
      const row = lines.find((l) => l.includes(made.body.id))!;
      expect(row).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
      expect(row).toContain(`"${admin.email}"`);
      expect(row).toContain('"{""name"":""TOP-SECRET"",""rank"":9,""isDefault"":false}"');
      expect(lines.filter((l) => l.includes('"label.')).length).toBe(labelEvents.body.events.length);
      // Oldest first.
      const seqs = lines.slice(1, -1).map((l) => Number(/^"[^"]*","(\d+)"/.exec(l)![1]));
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      // The export was audited, with its filters.
      const [exported] = (await api(admin, 'GET', '/api/v1/audit?action=audit.exported')).body.events;
      expect(exported).toMatchObject({ actor: { id: auditor.id }, details: { format: 'csv', filters: { action: 'label.*' } } });

      const verified = await api(auditor, 'GET', '/api/v1/audit/verify');
      expect(verified.body).toMatchObject({ ok: true, problems: [], problemsTruncated: false });
      expect(Number(verified.body.headSeq)).toBeGreaterThan(10);
      expect(verified.body.headHash).toMatch(/^[0-9a-f]{64}$/);
      // Other organisations' events never show.
      const foreign = (await api(otherAdmin, 'GET', '/api/v1/audit?limit=200')).body.events;
      expect(foreign.some((e: { actor: { id: string } }) => [admin.id, author.id, auditor.id].includes(e.actor.id))).toBe(false);
    });
  });
}
