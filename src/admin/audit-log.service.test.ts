import { expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/database.ts';
import { buildTenant } from '../../test/support/factories.ts';
import { appendAuditEvent } from '../audit/audit.service.ts';
import { isAppError } from '../shared/app-error.ts';
import { AuditLogService } from './audit-log.service.ts';

describeEachDatabase('AuditLogService', (ctx) => {
  it("does filter one tenant's chain, treat '_' in action prefixes literally, and page without gaps", async () => {
    const tenant = await buildTenant(ctx.db());
    const other = await buildTenant(ctx.db());
    const add = (tenantId: string, action: string, outcome: 'success' | 'denied' = 'success') =>
      appendAuditEvent(ctx.db(), { tenantId, actor: { type: 'system' }, action, outcome, details: {} });
    for (const a of ['sign_in.succeeded', 'signxin.succeeded', 'message.sent', 'message.sent']) await add(tenant.id, a);
    await add(tenant.id, 'message.keys_released', 'denied');
    await add(other.id, 'message.sent');
    const log = new AuditLogService(ctx.db());
    expect((await log.list(tenant.id, { action: 'sign_in.*' })).events.map((e) => e.action)).toEqual(['sign_in.succeeded']);
    expect((await log.list(tenant.id, { action: 'message.sent' })).events).toHaveLength(2);
    expect((await log.list(tenant.id, { outcome: 'denied' })).events.map((e) => e.action)).toEqual(['message.keys_released']);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await log.list(tenant.id, {}, { limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.events.map((e) => e.seq));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(['5', '4', '3', '2', '1']);
    await expect(log.list(tenant.id, {}, { limit: 0 })).rejects.toSatisfy((e) => isAppError(e, 'audit_filter_invalid'));
  });

  it('does stream the CSV oldest first, ending with its own audit event, and verify the chain', async () => {
    const tenant = await buildTenant(ctx.db());
    await appendAuditEvent(ctx.db(), { tenantId: tenant.id, actor: { type: 'system' }, action: 'label.created', outcome: 'success', userAgent: '@evil', details: { name: 'x' } });
    const log = new AuditLogService(ctx.db());
    const chunks: string[] = [];
    for await (const c of await log.exportCsv({ type: 'user', id: 'u1' }, tenant.id, {})) chunks.push(c.toString());
    const lines = chunks.join('').split('\r\n');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain('"\'@evil"');
    expect(lines[2]).toContain('"audit.exported"');
    expect(await log.verify(tenant.id)).toMatchObject({ ok: true, events: 2, headSeq: '2', problems: [] });
  });
});
