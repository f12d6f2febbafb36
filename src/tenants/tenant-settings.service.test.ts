import { describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/database.ts';
import { buildTenant } from '../../test/support/factories.ts';
import { isAppError } from '../shared/app-error.ts';
import { INSTALLATION_BRANDING, parseLogo } from './branding.ts';
import { TenantSettingsService } from './tenant-settings.service.ts';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const actor = { type: 'user' as const, id: '00000000-0000-4000-8000-000000000002' };

describe('parseLogo', () => {
  it('does accept a small PNG and refuse remote URLs, SVG and mislabelled bytes', () => {
    expect(parseLogo(`data:image/png;base64,${PNG}`).bytes.length).toBe(Buffer.from(PNG, 'base64').length);
    for (const bad of ['https://x.example/l.png', `data:image/svg+xml;base64,${PNG}`, `data:image/gif;base64,${PNG}`, 'data:image/png;base64,@@@', `data:image/png,${PNG}`]) {
      expect(() => parseLogo(bad), bad).toThrow(expect.objectContaining({ code: 'branding_invalid' }));
    }
  });
});

describeEachDatabase('TenantSettingsService', (ctx) => {
  const clock = () => new Date('2026-12-01T12:00:00.000Z');

  it('does store the reply regions a tenant allows, only served ones, without the home region, and audit the change', async () => {
    const tenant = await buildTenant(ctx.db(), { region: 'uk' });
    const service = new TenantSettingsService({ db: ctx.db(), clock, regions: ['uk', 'eea'] });
    expect((await service.get(tenant.id)).replyResidency).toEqual({ default: 'uk', allowed: [], served: ['uk', 'eea'] });
    expect(await service.updateReplyRegions(actor, tenant.id, ['eea', 'uk'])).toEqual({ default: 'uk', allowed: ['eea'], served: ['uk', 'eea'] });
    // Branding written afterwards leaves the reply regions alone, and the other way round.
    await service.updateBranding(actor, tenant.id, { accentColor: '#abcdef' });
    expect((await service.get(tenant.id)).replyResidency.allowed).toEqual(['eea']);
    expect((await service.get(tenant.id)).branding.accentColor).toBe('#abcdef');
    for (const [input, code] of [[['us'], 'region_not_served'], [['mars'], 'invalid_reply_regions'], ['eea', 'invalid_reply_regions'], [['uk', 'eea', 'us', 'uk'], 'invalid_reply_regions']] as const) {
      await expect(service.updateReplyRegions(actor, tenant.id, input), JSON.stringify(input)).rejects.toSatisfy((e) => isAppError(e, code));
    }
    expect(await service.updateReplyRegions(actor, tenant.id, [])).toMatchObject({ allowed: [] });
    const { rows } = await ctx.db().query<{ details: { from: string[]; to: string[] } }>(`SELECT details FROM audit_events WHERE tenant_id = $1 AND action = 'tenant.reply_regions_updated' ORDER BY chain_seq`, [tenant.id]);
    expect(rows.map((r) => r.details)).toEqual([{ from: [], to: ['eea'] }, { from: ['eea'], to: [] }]);
  });

  it('does store branding, keep absent fields, clear null ones, and audit without copying the logo', async () => {
    const tenant = await buildTenant(ctx.db(), { name: 'Acme' });
    const service = new TenantSettingsService({ db: ctx.db(), clock });
    expect((await service.get(tenant.id)).branding).toEqual({ displayName: null, logo: null, accentColor: null, footerText: null, updatedAt: null });
    await service.updateBranding(actor, tenant.id, { displayName: ' Acme Legal ', logo: `data:image/png;base64,${PNG}`, accentColor: '#ABCDEF' });
    const after = await service.updateBranding(actor, tenant.id, { footerText: 'Line 1\r\nLine 2', displayName: null });
    expect(after).toEqual({ displayName: null, logo: `data:image/png;base64,${PNG}`, accentColor: '#abcdef', footerText: 'Line 1\nLine 2', updatedAt: clock() });
    const { rows } = await ctx.db().query<{ brand_accent_color: string; brand_display_name: string | null }>(`SELECT * FROM tenant_settings WHERE tenant_id = $1`, [tenant.id]);
    expect(rows).toEqual([expect.objectContaining({ brand_accent_color: '#abcdef', brand_display_name: null })]);
    const events = (await ctx.db().query<{ details: { changed: Record<string, unknown> } }>(`SELECT details FROM audit_events WHERE chain = $1 AND action = 'tenant.branding_updated' ORDER BY chain_seq`, [tenant.id])).rows;
    expect(events[0]!.details.changed.logo).toEqual({ contentType: 'image/png', bytes: Buffer.from(PNG, 'base64').length });
    expect(JSON.stringify(events)).not.toContain(PNG.slice(0, 20));
  });

  it('does refuse bad input and leave nothing written', async () => {
    const tenant = await buildTenant(ctx.db());
    const service = new TenantSettingsService({ db: ctx.db(), clock });
    for (const input of [{}, { accentColor: 'blue' }, { displayName: '' }, { footerText: 'x'.repeat(1001) }, { logo: 'https://x.example/a.png' }, { colour: '#000000' }]) {
      await expect(service.updateBranding(actor, tenant.id, input)).rejects.toSatisfy((e) => isAppError(e, 'branding_invalid'));
    }
    expect((await ctx.db().query(`SELECT 1 FROM tenant_settings WHERE tenant_id = $1`, [tenant.id])).rows).toEqual([]);
    expect((await ctx.db().query(`SELECT 1 FROM audit_events WHERE chain = $1`, [tenant.id])).rows).toEqual([]);
  });

  it('does answer the installation default for links that belong to no one', async () => {
    const service = new TenantSettingsService({ db: ctx.db(), clock });
    expect(await service.forLink('A'.repeat(43))).toEqual(INSTALLATION_BRANDING);
    expect(await service.forLink('short')).toEqual(INSTALLATION_BRANDING);
  });
});
