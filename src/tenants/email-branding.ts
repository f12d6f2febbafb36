// A tenant's branding in the shape the email layout takes (src/mail/branded-email.ts).
import type { EmailBranding } from '../mail/branded-email.ts';
import type { Sql } from '../storage/database/database.ts';
import { INSTALLATION_BRANDING, parseLogo } from './branding.ts';
import { readEffectiveBranding } from './tenant-settings.repository.ts';

/** The branding notification emails of `tenantId` are rendered with (the installation's for an unknown tenant). */
export async function loadEmailBranding(sql: Sql, tenantId: string): Promise<EmailBranding> {
  const b = (await readEffectiveBranding(sql, tenantId)) ?? INSTALLATION_BRANDING;
  let logo: EmailBranding['logo'] = null;
  if (b.logo) {
    try {
      logo = parseLogo(b.logo);
    } catch {
      // Checked when it was set; a logo that no longer parses must not stop the notification.
      logo = null;
    }
  }
  return { displayName: b.displayName, accentColor: b.accentColor, footerText: b.footerText, logo };
}
