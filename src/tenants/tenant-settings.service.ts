// A tenant's own settings as its people see them: name and home region (read-only — residency
// never changes by a setting), the notification branding administrators change, and the regions
// external recipients may store their replies in. Also the branding a recipient page shows for a
// link, which must say nothing about the message.
import { auditContext } from '../accounts/credential.issuer.ts';
import { getTenant } from '../accounts/tenant.repository.ts';
import type { AuditEventInput } from '../audit/audit.model.ts';
import { appendAuditEvent } from '../audit/audit.service.ts';
import { linkTokenHash } from '../messages/message.service.ts';
import { errors } from '../shared/app-error.ts';
import type { Clock } from '../shared/clock.ts';
import { isRegion, REGIONS, type Region } from '../shared/regions.ts';
import type { Database } from '../storage/database/database.ts';
import { INSTALLATION_BRANDING, parseBrandingChanges, parseLogo, type Branding, type EffectiveBranding } from './branding.ts';
import { readBranding, readEffectiveBranding, readReplyRegions, tenantOfLinkTokenHash, writeBranding, writeReplyRegions } from './tenant-settings.repository.ts';

/** What GET /api/v1/tenant shows. */
export interface TenantSettings {
  id: string;
  name: string;
  region: Region;
  createdAt: Date;
  branding: Branding;
  /** Where external recipients' replies may be stored. */
  replyResidency: ReplyResidency;
}

/** Where an external recipient's reply may be stored: the home region, plus `allowed` chosen by the tenant. */
export interface ReplyResidency {
  /** The tenant's home region: replies go here unless the recipient picks another allowed one. */
  default: Region;
  /** Other regions recipients may choose (set by administrators; empty: no choice). */
  allowed: Region[];
  /** The regions this installation serves (only these can be allowed). */
  served: Region[];
}

/** Tenant settings and branding. */
export class TenantSettingsService {
  /** `regions`: the regions the installation serves (default: all). */
  constructor(private readonly deps: { db: Database; clock: Clock; regions?: readonly Region[] }) {}

  private get served(): Region[] {
    return [...(this.deps.regions ?? REGIONS)];
  }

  /** The tenant's name, home region, branding and reply residency. */
  async get(tenantId: string): Promise<TenantSettings> {
    const tenant = await getTenant(this.deps.db, tenantId);
    return {
      id: tenant.id,
      name: tenant.name,
      region: tenant.region,
      createdAt: tenant.createdAt,
      branding: await readBranding(this.deps.db, tenantId),
      replyResidency: { default: tenant.region, allowed: await readReplyRegions(this.deps.db, tenantId), served: this.served },
    };
  }

  /**
   * Sets the regions (besides the home region) external recipients may store their replies in;
   * `[]` withdraws the choice. Each must be served by this installation. Audited. Replies already
   * stored stay where they are.
   */
  async updateReplyRegions(actor: AuditEventInput['actor'], tenantId: string, input: unknown, ctx: { ip?: string; userAgent?: string } = {}): Promise<ReplyResidency> {
    if (!Array.isArray(input) || input.length > REGIONS.length) throw errors.invalid('invalid_reply_regions', `allowed must be a list of at most ${REGIONS.length} regions (${REGIONS.join(', ')})`, { field: 'allowed' });
    for (const r of input) {
      if (!isRegion(r)) throw errors.invalid('invalid_reply_regions', `allowed: "${String(r).slice(0, 20)}" is not a region; use ${REGIONS.join(', ')}`, { field: 'allowed' });
      // Only a region with its own store and root key here can hold Content.
      if (!this.served.includes(r)) throw errors.invalid('region_not_served', `allowed: this installation does not serve region ${r}; it serves ${this.served.join(', ')}`, { field: 'allowed' });
    }
    return this.deps.db.transaction(async (tx) => {
      const tenant = await getTenant(tx, tenantId);
      // The home region is always allowed; storing it would say nothing.
      const allowed = REGIONS.filter((r) => r !== tenant.region && (input as string[]).includes(r));
      const before = await readReplyRegions(tx, tenantId, { forUpdate: true });
      await writeReplyRegions(tx, tenantId, allowed, this.deps.clock());
      await appendAuditEvent(tx, { tenantId, actor, action: 'tenant.reply_regions_updated', target: { type: 'tenant', id: tenantId }, outcome: 'success', ...auditContext(ctx), details: { from: before, to: allowed } });
      return { default: tenant.region, allowed, served: this.served };
    });
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
