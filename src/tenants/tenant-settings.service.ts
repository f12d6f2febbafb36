// A tenant's own settings as its people see them: name and home region (read-only — residency
// never changes by a setting), and the notification branding administrators change. Also the
// branding a recipient page shows for a link, which must say nothing about the message.
import { auditContext } from '../accounts/credential.issuer.ts';
import { getTenant } from '../accounts/tenant.repository.ts';
import type { AuditEventInput } from '../audit/audit.model.ts';
import { appendAuditEvent } from '../audit/audit.service.ts';
import { linkTokenHash } from '../messages/message.service.ts';
import type { Clock } from '../shared/clock.ts';
import type { Region } from '../shared/regions.ts';
import type { Database } from '../storage/database/database.ts';
import { INSTALLATION_BRANDING, parseBrandingChanges, parseLogo, type Branding, type EffectiveBranding } from './branding.ts';
import { readBranding, readEffectiveBranding, tenantOfLinkTokenHash, writeBranding } from './tenant-settings.repository.ts';

/** What GET /api/v1/tenant shows. */
export interface TenantSettings {
  id: string;
  name: string;
  region: Region;
  createdAt: Date;
  branding: Branding;
}

/** Tenant settings and branding. */
export class TenantSettingsService {
  constructor(private readonly deps: { db: Database; clock: Clock }) {}

  /** The tenant's name, home region and branding. */
  async get(tenantId: string): Promise<TenantSettings> {
    const tenant = await getTenant(this.deps.db, tenantId);
    return { id: tenant.id, name: tenant.name, region: tenant.region, createdAt: tenant.createdAt, branding: await readBranding(this.deps.db, tenantId) };
  }

  /** Changes branding fields (null clears one); 'branding_invalid' naming the field otherwise. Audited. */
  async updateBranding(actor: AuditEventInput['actor'], tenantId: string, input: Record<string, unknown>, ctx: { ip?: string; userAgent?: string } = {}): Promise<Branding> {
    const changes = parseBrandingChanges(input);
    return this.deps.db.transaction(async (tx) => {
      await getTenant(tx, tenantId);
      const before = await readBranding(tx, tenantId, { forUpdate: true });
      const after = await writeBranding(tx, tenantId, changes, this.deps.clock());
      const changed: Record<string, unknown> = {};
      for (const key of ['displayName', 'accentColor', 'footerText'] as const) {
        if (key in changes && before[key] !== after[key]) changed[key] = { from: before[key], to: after[key] };
      }
      if ('logo' in changes && before.logo !== after.logo) {
        // The image itself stays out of the log: its type and size say what changed.
        const logo = after.logo ? parseLogo(after.logo) : null;
        changed.logo = logo ? { contentType: logo.contentType, bytes: logo.bytes.length } : null;
      }
      await appendAuditEvent(tx, { tenantId, actor, action: 'tenant.branding_updated', target: { type: 'tenant', id: tenantId }, outcome: 'success', ...auditContext(ctx), details: { changed } });
      return after;
    });
  }

  /**
   * The branding a recipient page shows for a notification link. For a link of a recipient of
   * any message (active, revoked or expired alike) it is that message's organisation's; for an
   * unknown, malformed or removed recipient's link it is the installation's default, with the
   * same shape — so it reveals nothing about the message, only the organisation the email named.
   */
  async forLink(link: string): Promise<EffectiveBranding> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(link)) return INSTALLATION_BRANDING;
    const tenantId = await tenantOfLinkTokenHash(this.deps.db, linkTokenHash(Buffer.from(link, 'base64url')));
    return (tenantId && (await readEffectiveBranding(this.deps.db, tenantId))) || INSTALLATION_BRANDING;
  }
}
