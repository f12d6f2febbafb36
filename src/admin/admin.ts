// The administration capability as the runtime wires it: labels, tenant settings and branding,
// the organisation-wide audit log, and email invitations.
import type { Accounts } from '../accounts/accounts.ts';
import type { Mailer } from '../mail/mailer.ts';
import { LabelService } from '../messages/label.service.ts';
import { systemClock, type Clock } from '../shared/clock.ts';
import type { Region } from '../shared/regions.ts';
import type { Database } from '../storage/database/database.ts';
import { TenantSettingsService } from '../tenants/tenant-settings.service.ts';
import { AuditLogService } from './audit-log.service.ts';
import { InvitationService } from './invitation.service.ts';

/** What administrators (and auditors, for the audit log) use. */
export interface Admin {
  labels: LabelService;
  tenant: TenantSettingsService;
  auditLog: AuditLogService;
  invitations: InvitationService;
}

/** Builds the administration services. */
export function createAdmin(deps: { db: Database; mailer: Mailer; accounts: Accounts; clock?: Clock; regions?: readonly Region[] }): Admin {
  return {
    labels: new LabelService(deps.db),
    tenant: new TenantSettingsService({ db: deps.db, clock: deps.clock ?? systemClock, regions: deps.regions }),
    auditLog: new AuditLogService(deps.db),
    invitations: new InvitationService({ db: deps.db, users: deps.accounts.users, mailer: deps.mailer }),
  };
}
