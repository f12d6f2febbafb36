// The contract between the subject-request workflow (src/privacy/requests/) and the engine that
// finds, exports, erases and restricts a person's data by walking the category registry
// (src/privacy/subjects/). Issue #6, part 2.
// Implemented by createSubjectEngine() in subject-engine.ts. Additions made there, all optional
// fields so existing callers compile: SubjectIdentifiers.names, ErasureReport.identifiers,
// ErasureVerification.kept and .heldForCustomers.

/** Who a request is about: normalised (lower-case) email addresses and the user ids they own. */
export interface SubjectIdentifiers {
  emails: string[];
  /** users.id of accounts with one of the emails; the engine fills these in when empty. */
  userIds: string[];
  /**
   * Added by the engine (compatible): display names of those accounts, searched for by
   * verifyErased. Pass `ErasureReport.identifiers` to verifyErased, since after an erasure the
   * accounts, and so their ids and names, can no longer be looked up.
   */
  names?: string[];
}

/** Rows held about a subject in one table. */
export interface TableFootprint {
  table: string;
  category: 'content' | 'crm' | 'smart' | 'system';
  rows: number;
}

/**
 * Content about the subject that Sealpost holds for a business customer (the customer is the
 * controller): requests about it are routed to that customer.
 */
export interface ControllerRouting {
  tenantId: string;
  tenantName: string;
  /** Messages the subject sent or received in that tenant. */
  messages: number;
}

/** Everything held about a subject, by table, and who is controller of which Content. */
export interface SubjectFootprint {
  identifiers: SubjectIdentifiers;
  tables: TableFootprint[];
  /** Business tenants holding Content about the person (route to them). */
  customers: ControllerRouting[];
}

/** What an erasure did, per category (counts only, never values). */
export interface ErasureReport {
  deleted: Record<'content' | 'crm' | 'smart' | 'system', number>;
  masked: Record<'content' | 'crm' | 'smart' | 'system', number>;
  /** Sealed objects whose data keys were destroyed. */
  shredded: number;
  /** Tenants whose Content was left alone because the customer is controller and gave no instruction. */
  routedTo: ControllerRouting[];
  /** Added by the engine (compatible): the resolved identifiers, to pass to verifyErased. */
  identifiers?: SubjectIdentifiers;
}

/** The verification pass after an erasure. */
export interface ErasureVerification {
  clean: boolean;
  /** Where an identifier of the subject was still found (table.column and a count). */
  remaining: Array<{ table: string; column: string; rows: number }>;
  /** Added (compatible): identifiers still present in columns the map keeps on purpose, with the reason. */
  kept?: Array<{ table: string; column: string; rows: number; reason: string }>;
  /** Added (compatible): identifiers in Content held for business customers that gave no instruction (routed to them). */
  heldForCustomers?: Array<{ table: string; column: string; rows: number }>;
}

/** The engine the request workflow drives. All methods are idempotent. */
export interface SubjectEngine {
  locate(subject: SubjectIdentifiers): Promise<SubjectFootprint>;
  /**
   * The access/portability export: a ZIP (JSON + CSV per table, a README) of everything held
   * about the person across CRM, System and Smart Data, and the Content they sent where
   * Sealpost is the controller (free accounts). Returned as bytes; the caller seals it.
   */
  exportAccess(subject: SubjectIdentifiers): Promise<{ zip: Uint8Array; footprint: SubjectFootprint }>;
  /**
   * Erasure: CRM deleted or HMAC-masked by rule, Smart Data deleted and the person excluded
   * from learning, System Data pseudonymised, Content crypto-shredded where Sealpost is
   * controller or where `instructedBy` lists the customer tenant.
   */
  erase(subject: SubjectIdentifiers, opts?: { instructedBy?: string[]; requestId?: string }): Promise<ErasureReport>;
  verifyErased(subject: SubjectIdentifiers): Promise<ErasureVerification>;
  /** Restriction (Art. 18): stops all processing but storage; `lift` ends it. */
  restrict(subject: SubjectIdentifiers, opts?: { lift?: boolean; requestId?: string }): Promise<void>;
  isRestricted(email: string): Promise<boolean>;
}
