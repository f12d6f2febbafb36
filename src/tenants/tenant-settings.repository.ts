// SQL for tenant_settings. No validation here: see branding.ts and tenant-settings.service.ts.
import type { Region } from '../shared/regions.ts';
import type { Sql } from '../storage/database/database.ts';
import type { Branding, BrandingChanges, EffectiveBranding } from './branding.ts';
import { effectiveBranding } from './branding.ts';

interface SettingsRow {
  brand_display_name: string | null;
  brand_logo: string | null;
  brand_accent_color: string | null;
  brand_footer_text: string | null;
  updated_at: Date;
}

const NONE: Branding = { displayName: null, logo: null, accentColor: null, footerText: null, updatedAt: null };

const toBranding = (r: SettingsRow | undefined): Branding =>
  r ? { displayName: r.brand_display_name, logo: r.brand_logo, accentColor: r.brand_accent_color, footerText: r.brand_footer_text, updatedAt: r.updated_at } : NONE;

/** The tenant's branding as set (all null when never set). */
export async function readBranding(sql: Sql, tenantId: string, opts: { forUpdate?: boolean } = {}): Promise<Branding> {
  const { rows } = await sql.query<SettingsRow>(`SELECT * FROM tenant_settings WHERE tenant_id = $1${opts.forUpdate ? ' FOR UPDATE' : ''}`, [tenantId]);
  return toBranding(rows[0]);
}

/** The tenant's branding with defaults filled in (its name when no display name is set); null for an unknown tenant. */
export async function readEffectiveBranding(sql: Sql, tenantId: string): Promise<EffectiveBranding | null> {
  const { rows } = await sql.query<SettingsRow & { name: string }>(
    `SELECT t.name, s.brand_display_name, s.brand_logo, s.brand_accent_color, s.brand_footer_text, s.updated_at
       FROM tenants t LEFT JOIN tenant_settings s ON s.tenant_id = t.id WHERE t.id = $1`,
    [tenantId],
  );
  const row = rows[0];
  if (!row) return null;
  return effectiveBranding(row.updated_at ? toBranding(row) : NONE, row.name);
}

/** Applies `changes` (absent fields kept, null clears) and returns the result. */
export async function writeBranding(sql: Sql, tenantId: string, changes: BrandingChanges, now: Date): Promise<Branding> {
  const keep = (field: keyof BrandingChanges) => (field in changes ? 'EXCLUDED' : 'tenant_settings');
  const { rows } = await sql.query<SettingsRow>(
    `INSERT INTO tenant_settings (tenant_id, brand_display_name, brand_logo, brand_accent_color, brand_footer_text, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (tenant_id) DO UPDATE SET
       brand_display_name = ${keep('displayName')}.brand_display_name,
       brand_logo = ${keep('logo')}.brand_logo,
       brand_accent_color = ${keep('accentColor')}.brand_accent_color,
       brand_footer_text = ${keep('footerText')}.brand_footer_text,
       updated_at = EXCLUDED.updated_at
     RETURNING *`,
    [tenantId, changes.displayName ?? null, changes.logo ?? null, changes.accentColor ?? null, changes.footerText ?? null, now],
  );
  return toBranding(rows[0]);
}

/** Regions (besides home) the tenant lets recipients store replies in; empty when never set. */
export async function readReplyRegions(sql: Sql, tenantId: string, opts: { forUpdate?: boolean } = {}): Promise<Region[]> {
  const { rows } = await sql.query<{ reply_regions: Region[] }>(`SELECT reply_regions FROM tenant_settings WHERE tenant_id = $1${opts.forUpdate ? ' FOR UPDATE' : ''}`, [tenantId]);
  return rows[0]?.reply_regions ?? [];
}

/** Replaces the tenant's reply regions (validated by the caller). */
export async function writeReplyRegions(sql: Sql, tenantId: string, regions: Region[], now: Date): Promise<void> {
  await sql.query(
    `INSERT INTO tenant_settings (tenant_id, reply_regions, updated_at) VALUES ($1, $2::text[], $3)
     ON CONFLICT (tenant_id) DO UPDATE SET reply_regions = EXCLUDED.reply_regions, updated_at = EXCLUDED.updated_at`,
    [tenantId, regions, now],
  );
}

/** The tenant of the recipient a link token hash belongs to; null when none or the recipient was removed. */
export async function tenantOfLinkTokenHash(sql: Sql, tokenHash: Uint8Array): Promise<string | null> {
  const { rows } = await sql.query<{ tenant_id: string }>(`SELECT tenant_id FROM message_recipients WHERE link_token_hash = $1 AND removed_at IS NULL`, [tokenHash]);
  return rows[0]?.tenant_id ?? null;
}
