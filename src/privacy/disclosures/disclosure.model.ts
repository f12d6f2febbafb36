// Vocabulary of the disclosure log (issue #6 §6): requests from law enforcement and other third
// parties to disclose data, the decision, and a description of what was disclosed.
import type { DataCategory } from '../../storage/database/registry.ts';

/** Who asked. */
export const REQUESTER_KINDS = ['law_enforcement', 'court', 'regulator', 'government', 'other_third_party'] as const;

/** One of {@link REQUESTER_KINDS}. */
export type RequesterKind = (typeof REQUESTER_KINDS)[number];

/** Where a request stands. */
export const DISCLOSURE_STATUSES = ['received', 'approved', 'refused', 'disclosed', 'challenged'] as const;

/** One of {@link DISCLOSURE_STATUSES}. */
export type DisclosureStatus = (typeof DISCLOSURE_STATUSES)[number];

/**
 * Allowed status changes. A challenged request may later be approved or refused (the challenge
 * was decided); a disclosure is final; a refusal may be challenged by the requester, which
 * brings it back to challenged.
 */
export const DISCLOSURE_TRANSITIONS: Record<DisclosureStatus, readonly DisclosureStatus[]> = {
  received: ['approved', 'refused', 'challenged'],
  approved: ['disclosed', 'refused', 'challenged'],
  challenged: ['approved', 'refused'],
  refused: ['challenged'],
  disclosed: [],
};

/** One entry of the log. */
export interface Disclosure {
  id: string;
  reference: string;
  requesterKind: RequesterKind;
  authority: string;
  jurisdiction: string | null;
  contact: string | null;
  legalBasis: string;
  tenantId: string | null;
  requested: string;
  requestedCategories: DataCategory[];
  status: DisclosureStatus;
  disclosedCategories: DataCategory[];
  disclosedDescription: string | null;
  decisionReason: string | null;
  approvedBy: string | null;
  receivedAt: Date;
  decidedAt: Date | null;
  disclosedAt: Date | null;
  customerNotifiedAt: Date | null;
  subjectNotifiedAt: Date | null;
  gag: boolean;
  gagUntil: Date | null;
  notes: string | null;
  recordedBy: string;
  createdAt: Date;
  updatedAt: Date;
}
