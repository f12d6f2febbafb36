// Who an administrative CLI command acts as, for the audit log.
import os from 'node:os';
import type { AuditEventInput } from '../../audit/audit.model.ts';

/** The operating-system account that ran the command (System Data, kept in the audit log). */
export function operatorActor(): AuditEventInput['actor'] {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // No passwd entry (some containers): keep 'unknown'.
  }
  return { type: 'operator', id: `cli:${user}` };
}
