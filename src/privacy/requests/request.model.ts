// Vocabulary of data subject requests (issue #6, part 2): kinds, statuses, who opened them, and
// what the operator, administrators and the requester see.
import type { CalendarDate } from './deadline.ts';

/** Rights a person may exercise here. `access` includes portability (the export is JSON and CSV). */
export const SUBJECT_REQUEST_KINDS = ['access', 'rectification', 'erasure', 'restriction', 'objection_to_marketing'] as const;
/** One of {@link SUBJECT_REQUEST_KINDS}. */
export type SubjectRequestKind = (typeof SUBJECT_REQUEST_KINDS)[number];

/**
 * awaiting_identity (code sent, no clock) → open (verified, clock running) → in_progress →
 * completed | rejected | routed_to_customer (Sealpost's part done, the rest is the customer's as
 * controller). `linked`: a duplicate of a request still open for the same address and kind.
 */
export const SUBJECT_REQUEST_STATUSES = ['awaiting_identity', 'open', 'in_progress', 'completed', 'rejected', 'routed_to_customer', 'linked'] as const;
/** One of {@link SUBJECT_REQUEST_STATUSES}. */
export type SubjectRequestStatus = (typeof SUBJECT_REQUEST_STATUSES)[number];

/** Statuses in which a request still needs work (the queue). */
export const ACTIVE_STATUSES: readonly SubjectRequestStatus[] = ['awaiting_identity', 'open', 'in_progress'];

/** How a request came in. */
export type OpenedVia = 'public' | 'administrator' | 'operator';

/** Who took a step, for the request's history and the audit log. */
export type RequestActor =
  | { type: 'subject' }
  | { type: 'user'; id: string; tenantId: string }
  | { type: 'operator'; id: string }
  | { type: 'system' };

/** Where a request came from over HTTP (for rate limits and the audit log). */
export interface RequestOrigin {
  ip?: string;
  userAgent?: string;
}

/** One step in a request's history. */
export interface SubjectRequestEvent {
  at: Date;
  event: string;
  actorType: 'subject' | 'user' | 'operator' | 'system';
  actorId: string | null;
  details: Record<string, unknown>;
}

/** A customer the request was routed to as controller of Content about the requester. */
export interface SubjectRequestRouting {
  tenantId: string;
  tenantName: string;
  messages: number;
  routedAt: Date;
  notified: number;
}

/** A request as the operator and administrators see it. */
export interface SubjectRequest {
  id: string;
  kind: SubjectRequestKind;
  email: string;
  name: string | null;
  details: string | null;
  /** Restriction requests: asks to lift a restriction. */
  lift: boolean;
  status: SubjectRequestStatus;
  openedVia: OpenedVia;
  openedBy: string | null;
  tenantId: string | null;
  receivedAt: Date;
  verifiedAt: Date | null;
  /** Day the clock started (identity confirmed); null while awaiting identity. */
  clockStartedOn: CalendarDate | null;
  pausedDays: number;
  /** Set while the clock is paused (waiting for the requester); the due date shown moves daily meanwhile. */
  pausedOn: CalendarDate | null;
  /** What was asked of the requester while paused. */
  pauseReason: string | null;
  extensionMonths: number;
  extensionReason: string | null;
  dueOn: CalendarDate | null;
  /** Days until due (0 on the day, negative when overdue); null while no clock runs or once closed. */
  daysLeft: number | null;
  overdue: boolean;
  duplicateOf: string | null;
  closedAt: Date | null;
  outcomeNote: string | null;
  /** Counts only: what running it did. */
  result: Record<string, unknown> | null;
}

/** A request with its history and routings. */
export interface SubjectRequestDetail extends SubjectRequest {
  events: SubjectRequestEvent[];
  routings: SubjectRequestRouting[];
}

/** What the requester is told after asking (nothing about anyone's data). */
export interface IntakeReceipt {
  requestId: string;
  /** Masked address the code went to. */
  sentTo: string;
  codeExpiresAt: Date;
}

/** What the requester is told after verifying. */
export interface VerificationReceipt {
  requestId: string;
  status: SubjectRequestStatus;
  dueOn: CalendarDate;
  /** Set when this request was linked to one already open (no second clock). */
  duplicateOf?: string;
}
