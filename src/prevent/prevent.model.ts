// Prevent's vocabulary: what a draft looks like to the checks, what they say back, and the
// read-only view of a tenant's Smart Data the checks consult. Shared by the learned model
// (engine/), the rule checks (checks/), the service that enforces policy, the API and the web
// app's pre-send panel. Pure types and constants: no I/O here.
import type { AddressFormsTable } from './checks/address-forms.ts';

/** Where an address sits on a message. */
export const RECIPIENT_ROLES = ['to', 'cc', 'bcc'] as const;
export type RecipientRole = (typeof RECIPIENT_ROLES)[number];

/** A recipient of a draft or an observed message: address lower-cased, display name as typed. */
export interface DraftRecipient {
  address: string;
  name?: string;
  role: RecipientRole;
}

/**
 * What a sender is about to send. Body text is used for the check only and is never stored
 * or logged; what is learned from a send is the metadata in {@link Observation}.
 */
export interface Draft {
  /** Sender's address, lower-cased. */
  from: string;
  recipients: DraftRecipient[];
  subject: string;
  /** Plain text of the body (the HTML body's text when only HTML exists). */
  body: string;
  /** Rank of the classification label (0 public … higher is more sensitive); null: none. */
  labelRank: number | null;
  /** Thread the draft replies in, if any. */
  threadId?: string | null;
  /** When the draft is being sent; the model's clock for recency. */
  at: Date;
}

/** One message the model learns from: metadata only (no body is ever kept). */
export interface Observation {
  id: string;
  at: Date;
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string;
  threadId?: string | null;
  labelRank?: number | null;
  /** Display names as written on the message, by lower-cased address (optional). */
  names?: Record<string, string>;
}

/** Every check Prevent runs; stable ids used in policy, feedback, the API and the dashboard. */
export const CHECK_KINDS = [
  'unusual_recipient',
  'lookalike_address',
  'first_time_external',
  'personal_webmail',
  'many_external_recipients',
  'many_external_domains',
  'greeting_mismatch',
  'sensitive_content',
  'missing_recipient',
  'encryption_recommended',
] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

/** How serious a warning is; policy is set per check and severity. */
export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** A one-click fix the compose page can apply. */
export type SuggestedFix =
  | { kind: 'remove_recipient'; address: string }
  | { kind: 'replace_recipient'; address: string; replacement: string }
  | { kind: 'move_to_bcc'; addresses: string[] }
  | { kind: 'add_recipient'; address: string }
  | { kind: 'raise_label'; minimumRank: number }
  | { kind: 'remove_content'; description: string };

/** One finding about a draft. */
export interface Warning {
  check: CheckKind;
  severity: Severity;
  /** Recipients concerned (lower-cased); empty when the finding is about the whole draft. */
  recipients: string[];
  /** One plain sentence a sender understands at a glance; never echoes sensitive values in full. */
  reason: string;
  fixes: SuggestedFix[];
  /** Model score in [0, 1] for learned checks; absent for rule checks. */
  risk?: number;
}

/** What the learned model knows of one of a sender's contacts. */
export interface ContactStats {
  address: string;
  /** Display name last seen with the address, if any. */
  name?: string;
  /** Messages the sender sent with this address among the recipients. */
  sent: number;
  /** Messages this address sent to the sender. */
  received: number;
  firstAt: Date;
  lastAt: Date;
}

/**
 * Read-only view of one tenant's Smart Data for one check. Rule checks depend on this
 * interface only, so they can be tested with a small in-memory view.
 */
export interface SmartView {
  /** The sender's history with one address; undefined when they never exchanged mail. */
  contact(sender: string, address: string): ContactStats | undefined;
  /** All of the sender's contacts (for lookalike and greeting checks). */
  contacts(sender: string): Iterable<ContactStats>;
  /** When anyone in the tenant first exchanged mail with a domain; undefined: never. */
  domainFirstSeen(domain: string): Date | undefined;
  /** Whether an address belongs to the tenant (its own domains). */
  isInternal(address: string): boolean;
  /**
   * The sender's contacts as address ids with their derived forms, in the order of contacts();
   * optional (the lookalike check scans contacts() without it). undefined: no contacts.
   */
  contactIndex?(sender: string): ContactIndex | undefined;
}

/** A sender's contacts as ids into a table of derived address forms (see SmartView.contactIndex). */
export interface ContactIndex {
  ids: Iterable<number>;
  forms: AddressFormsTable;
  /** The history with one of the ids. */
  stats(id: number): ContactStats;
}
