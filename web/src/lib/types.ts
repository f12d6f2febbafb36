// Shapes of the API the sender pages use (docs/api.md). The Prevent warning mirrors
// src/prevent/prevent.model.ts (imported as a type: no server code reaches the bundle).
import type { Warning } from '../../../src/prevent/prevent.model.ts';
export type { SuggestedFix, Severity } from '../../../src/prevent/prevent.model.ts';

/**
 * A warning as POST /api/v1/prevent/check returns it: the finding plus its stable `id` (to
 * acknowledge when sending anyway) and the policy `mode` (nudge: may send anyway; block:
 * sending past it needs a justification).
 */
export type PreventWarning = Warning & { id: string; mode: 'nudge' | 'block' };

/** A classification label and its policy. */
export interface Label {
  id: string;
  name: string;
  rank: number;
  description: string;
  defaultExpiryDays: number | null;
  authLevel: 'email_code' | 'account';
  noForward: boolean;
  noDownload: boolean;
  watermark: boolean;
  hideSubject: boolean;
  disclaimer: string | null;
}

/** Per-recipient delivery and access state. */
export type RecipientStatus = 'pending' | 'notified' | 'delivery_failed' | 'opened' | 'revoked' | 'expired' | 'removed';

/** A message as its sender sees it. */
export interface SentMessage {
  id: string;
  threadId: string;
  inReplyTo: string | null;
  subject: string;
  /** Crypto-shredded by retention or an erasure: only who, when and the label are left. */
  contentErased?: boolean;
  label: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  attachments: Array<{ objectId: string; filename: string; contentType: string; size: number }>;
  recipients: Array<{
    id: string;
    email: string;
    kind: 'to' | 'cc' | 'bcc';
    status: RecipientStatus;
    deliveryAttempts: number;
    deliveryError: string | null;
    notifiedAt: string | null;
    firstOpenedAt: string | null;
    lastOpenedAt: string | null;
    revokedAt: string | null;
  }>;
}

/** A line of the sent list. */
export interface SentSummary {
  id: string;
  threadId: string;
  inReplyTo: string | null;
  subject: string;
  /** Crypto-shredded by retention or an erasure: only who, when and the label are left. */
  contentErased?: boolean;
  label: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  recipientCount: number;
  attachmentCount: number;
}

/** One audit event of a message. */
export interface AuditEvent {
  occurredAt: string;
  action: string;
  outcome: string;
  actorType: string;
  actorId: string | null;
  recipient: string | null;
  ip: string | null;
  userAgent: string | null;
  reason: string | null;
}

/** One message of a thread, opened for the sender. */
export interface ThreadMessage {
  id: string;
  inReplyTo: string | null;
  sender: string;
  sentByYou: boolean;
  fromRecipient: boolean;
  label: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  to: string[];
  cc: string[];
  bcc: string[];
  withheld: 'message_revoked' | 'message_expired' | 'content_erased' | null;
  subject: string | null;
  text: string | null;
  html: string | null;
  attachments: Array<{ objectId: string; filename: string; contentType: string; size: number }>;
}

/** A request for access from a forwarded link. */
export interface AccessRequest {
  id: string;
  email: string;
  reason: string | null;
  status: 'pending' | 'approved' | 'denied';
  via: string;
  requestedAt: string;
  decidedAt: string | null;
}

/** Reports an organisation's administrators and auditors may run (src/privacy/statistics, TENANT_REPORTS). */
export type TenantReportName = 'messages_by_label' | 'prevent_warnings';

/**
 * A statistics report as GET /api/v1/tenant/statistics/:report returns it. `cells[r][c]` is a
 * count (at least `threshold`), 0, or null when the count was suppressed (1 to threshold − 1).
 * There are no totals, on purpose: they would give suppressed cells away by subtraction.
 */
export interface StatisticsReport {
  report: TenantReportName;
  scope: 'installation' | 'tenant';
  /** What the report covers, widened to whole weeks or months; `to` is exclusive. */
  period: { from: string; to: string };
  rowsAre: string;
  columnsAre: string;
  threshold: number;
  rows: string[];
  columns: string[];
  cells: Array<Array<number | null>>;
  suppressed: number;
  note: string;
}

/** An offer to move a free account into an organisation (src/tenants/domains/domain.repository.ts). */
export interface AccountTransfer {
  id: string;
  userId: string;
  email: string;
  fromTenantId: string;
  toTenantId: string;
  domainId: string;
  status: 'offered' | 'completed' | 'cancelled';
  offeredAt: string;
  noticeSentAt: string | null;
  /** When the move happens if the person does not accept earlier. */
  dueAt: string;
  acceptedAt: string | null;
  completedAt: string | null;
  cancelledAt: string | null;
  cancelReason: string | null;
  moved: Record<string, number> | null;
}
