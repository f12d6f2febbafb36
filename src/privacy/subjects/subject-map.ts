// Reachability and erasure, declared as data, for every table that holds personal data
// (registry.ts: a column with personal 'identifier' or 'personal'). For each such table: how the
// rows about a person are found from their email addresses and user ids, and what erasure does
// to each personal column. subject-map.test.ts fails when a table or column holding personal
// data has no declaration here, or when a declaration names something the registry does not
// have: a migration that adds personal data without a path breaks the build, not a request.
//
// `where` is SQL over the table's own columns with these tokens (the engine binds them):
//   :emails    text[]  the person's addresses (lower-case)
//   :userIds   uuid[]  users.id of their accounts
//   :ids       text[]  both of the above and the ids of their message_recipients rows, as text
//                      (audit actors and targets name a person by any of them)
//   :patterns  text[]  '%<identifier>%' for each of them, for free text and JSON (ILIKE)
//   :rateKeys  text[]  hex SHA-256 rate-limit keys the person's addresses and ids can have
//   :detailsOdd        audit_events.details::text ILIKE the patterns of those :ids that
//                      detail_refs cannot hold as a whole token (see migration 0016), or false
//                      when there are none (so the planner can use the indexes)
// and, for declarations with `perAddress`, once per address (OR-ed), so GIN indexes are used:
//   :address text, :recipientEntry jsonb ([{"a": address}]), :addressList jsonb ([address])

/** What erasure does to a column. */
export const ERASURE_ACTIONS = {
  delete_row: 'the row is deleted',
  hmac_mask: 'replaced by an HMAC under the installation masking key (joins and counts keep working; the value cannot be read back)',
  rekey: 'the user id is replaced by a fresh random id of a tombstone account (only where other rows still refer to it; otherwise deleted)',
  pseudonymise: 'identifiers replaced by pseudonyms (pseud:<HMAC>); audit rows keep verifying (audit_pseudonymisations)',
  clear: 'set to NULL',
  keep: 'kept, for the reason given',
} as const;

/** One of {@link ERASURE_ACTIONS}. */
export type ErasureAction = keyof typeof ERASURE_ACTIONS;

/** Erasure of one column: the action and why it is the right one for this column. */
export interface ColumnErasure {
  action: ErasureAction;
  reason: string;
}

/** How a table's rows about a person are found, exported and erased. */
export interface TableReach {
  /** The path from the identifiers, in words (shown in docs and the export README). */
  path: string;
  /** SQL condition selecting the rows about the person; null when they cannot be found by query. */
  where: string | null;
  /** Bind `where` once per address and OR the copies (for GIN-indexed jsonb containment). */
  perAddress?: boolean;
  /**
   * Column holding the tenant, for Content held for a customer: rows in business tenants are
   * the customer's (Sealpost is processor) and are exported and erased only on its instruction.
   */
  tenantColumn?: string;
  /** Columns never exported, with the reason (secrets; other people's credentials). */
  withheld?: Record<string, string>;
  /** Every personal column of the table (and any other column erasure changes). */
  columns: Record<string, ColumnErasure>;
  /** What erasure also does beyond the columns (crypto-shredding, Prevent). */
  also?: string;
  /**
   * Rows erasure deletes, for tables without their own step in the engine (same tokens as
   * `where`). Columns declared 'pseudonymise' outside audit_events are rewritten generically.
   */
  deleteWhere?: string;
}

const del = (reason: string): ColumnErasure => ({ action: 'delete_row', reason });
const mask = (reason: string): ColumnErasure => ({ action: 'hmac_mask', reason });
const pseud = (reason: string): ColumnErasure => ({ action: 'pseudonymise', reason });
const clear = (reason: string): ColumnErasure => ({ action: 'clear', reason });
const keep = (reason: string): ColumnErasure => ({ action: 'keep', reason });
const rekey = (reason: string): ColumnErasure => ({ action: 'rekey', reason });

// The person's recipient rows, as an array computed once before the scan: `x = ANY(ARRAY(…))`.
// Written as `x IN (SELECT …)` and OR-ed with other terms, PostgreSQL filters every row of the
// table through a hashed subplan (a full scan of a million messages, bench:privacy); as an array
// each OR-ed term keeps its own index.
const SUBJECT_RECIPIENTS = 'ANY(ARRAY(SELECT id FROM message_recipients WHERE email = ANY(:emails)))';
const SUBJECT_FREE_TENANTS = "(SELECT id FROM tenants WHERE plan = 'free' AND id IN (SELECT tenant_id FROM users WHERE id = ANY(:userIds)))";
const HELD = 'Content held for a business customer is erased only on its instruction (the request is routed to it); elsewhere';

/** The reachability map, keyed by table. */
export const SUBJECT_MAP: Record<string, TableReach> = {
  tenants: {
    path: "users.tenant_id of the person's accounts, where the tenant is a free (single-person) account",
    where: `id IN ${SUBJECT_FREE_TENANTS}`,
    columns: {
      name: mask("A free account is usually named after its owner; a business tenant's name is the organisation's and is not selected."),
    },
  },
  audit_events: {
    path: "actor_id or target_id is one of the person's addresses, user ids or recipient ids, or details mention one (detail_refs, the identifiers details names)",
    where: 'actor_id = ANY(:ids) OR target_id = ANY(:ids) OR detail_refs && :ids OR :detailsOdd',
    withheld: {
      prev_hash: 'Chain bookkeeping, not about the person.',
      hash: 'Chain bookkeeping, not about the person.',
      detail_refs: 'An index of the identifiers in details, which is exported itself.',
    },
    columns: {
      actor_id: pseud('System Data kept for the audit policy period (legal claims); pseudonymised, the chain still verifies.'),
      target_id: pseud('As actor_id.'),
      ip: clear("Cleared on events the person performed: their device's address is not needed to prove what happened."),
      user_agent: clear('As ip.'),
      details: pseud('Identifiers inside the JSON are replaced by the same pseudonyms.'),
      detail_refs: pseud('Generated from details, so it holds the pseudonyms once details does.'),
    },
  },
  users: {
    path: "users.email is one of the person's addresses (this gives the user ids)",
    where: 'id = ANY(:userIds)',
    withheld: { password_hash: 'A password hash is a credential, never exported.' },
    columns: {
      id: rekey("Messages sent for a business customer and decisions taken as its administrator still refer to the account; a tombstone with a fresh id keeps those joins, unlinkable to the person's id."),
      email: mask('Deleted with the row; a tombstone carries erased-<HMAC>@erased.invalid.'),
      display_name: del('Deleted with the row; a tombstone is named "Erased user".'),
      password_hash: del('Deleted with the row.'),
    },
  },
  sessions: {
    path: 'user_id is one of the user ids',
    where: 'user_id = ANY(:userIds)',
    withheld: { token_hash: 'Hash of a session credential.' },
    columns: { user_id: del('Security data about a signed-in device; ends with the account.'), ip: del('With the row.'), user_agent: del('With the row.') },
  },
  api_tokens: {
    path: 'user_id is one of the user ids',
    where: 'user_id = ANY(:userIds)',
    withheld: { token_hash: 'Hash of an API credential.' },
    columns: { user_id: del('Credentials end with the account.'), name: del('With the row.') },
  },
  sign_in_links: {
    path: 'user_id is one of the user ids',
    where: 'user_id = ANY(:userIds)',
    withheld: { token_hash: 'Hash of a sign-in credential.' },
    columns: { user_id: del('Credentials end with the account.') },
  },
  rate_limits: {
    path: "key_hash is SHA-256(scope, key) for a scope keyed by an address, user id or recipient id of the person",
    where: "encode(key_hash, 'hex') = ANY(:rateKeys)",
    columns: { key_hash: del('Short-lived counters; nothing to keep.') },
  },
  tenant_settings: {
    path: "the person's free tenant",
    where: `tenant_id IN ${SUBJECT_FREE_TENANTS}`,
    columns: {
      brand_display_name: del("A free account's branding is usually the owner's name."),
      brand_footer_text: del('May hold an address or a name.'),
    },
  },
  messages: {
    path: "sender_user_id is one of the user ids, sender_email one of the addresses, or sender_recipient_id one of the person's recipient rows (a secure reply)",
    where: `sender_user_id = ANY(:userIds) OR sender_email = ANY(:emails) OR sender_recipient_id = ${SUBJECT_RECIPIENTS}`,
    tenantColumn: 'tenant_id',
    columns: {
      sender_user_id: rekey('Points to the tombstone account after erasure.'),
      sender_recipient_id: keep('Points to a recipient row, whose address is masked itself.'),
      sender_email: mask(`${HELD} masked.`),
    },
    also: `Envelope and attachments crypto-shredded (data keys destroyed, blobs deleted) where Sealpost is controller (free accounts) or the customer instructed it. ${HELD} Content is untouched.`,
  },
  pending_uploads: {
    path: "user_id is one of the user ids, or recipient_id one of the person's recipient rows",
    where: `user_id = ANY(:userIds) OR recipient_id = ${SUBJECT_RECIPIENTS}`,
    tenantColumn: 'tenant_id',
    columns: { user_id: del(`${HELD} deleted, the upload crypto-shredded.`), recipient_id: del('As user_id.') },
  },
  message_recipients: {
    path: 'email is one of the addresses',
    where: 'email = ANY(:emails)',
    tenantColumn: 'tenant_id',
    withheld: { link_token_hash: 'Hash of the access link.', link_token_wrapped: 'The access link itself (a credential), wrapped.', link_kek_id: 'Key bookkeeping.' },
    columns: {
      email: mask(`${HELD} masked; access is revoked and the wrapped link destroyed.`),
      disclaimer_accepted_at: clear('What the person did; not needed once they are gone.'),
      first_opened_at: clear('As disclaimer_accepted_at.'),
      last_opened_at: clear('As disclaimer_accepted_at.'),
    },
  },
  access_requests: {
    path: 'email is one of the addresses (they asked), or decided_by one of the user ids (they decided)',
    where: 'email = ANY(:emails) OR decided_by = ANY(:userIds)',
    tenantColumn: 'tenant_id',
    withheld: { code_hash: 'Hash of a one-time code.' },
    columns: {
      via_recipient_id: keep('Points to a recipient row, masked itself when it is the person\'s.'),
      email: del(`${HELD} requests the person made are deleted.`),
      reason: del('With the row.'),
      decided_by: rekey('A decision the person took as a sender stays with the tombstone account.'),
    },
  },
  recipient_challenges: {
    path: "recipient_id is one of the person's recipient rows",
    where: `recipient_id = ${SUBJECT_RECIPIENTS}`,
    withheld: { code_hash: 'Hash of a one-time code.' },
    columns: { recipient_id: del('Security data (one-time codes), in every tenant.') },
  },
  recipient_sessions: {
    path: "recipient_id is one of the person's recipient rows",
    where: `recipient_id = ${SUBJECT_RECIPIENTS}`,
    withheld: { token_hash: 'Hash of a session credential.' },
    columns: { recipient_id: del('Security data about the person\'s device, in every tenant.'), ip: del('With the row.'), user_agent: del('With the row.') },
  },
  prevent_observations: {
    path: 'sender is the address, or recipients contain it (jsonb [{"a": address, "r": role}])',
    where: 'sender = :address OR recipients @> :recipientEntry',
    perAddress: true,
    columns: {
      sender: del('Smart Data: deleted in every tenant (PreventService.erasePerson) and the person excluded from future learning.'),
      recipients: del('As sender (the whole observation goes: it is about the person).'),
      terms: del('As sender.'),
    },
  },
  prevent_exclusions: {
    path: "address_hash is HMAC(tenant term key, address): reachable only through Prevent, per tenant",
    where: null,
    columns: {
      address_hash: keep('The suppression list that keeps an erased or restricted person out of learning; a keyed hash that names nobody.'),
    },
  },
  prevent_settings: {
    path: 'updated_by is one of the user ids',
    where: 'updated_by = ANY(:userIds)',
    columns: { updated_by: rekey('The tenant\'s settings stay; who changed them last becomes the tombstone.') },
  },
  prevent_decisions: {
    path: 'user_id is one of the user ids (they decided), or recipients contain an address (the warning was about them)',
    where: 'user_id = ANY(:userIds) OR recipients @> :addressList',
    perAddress: true,
    columns: {
      user_id: del('Smart Data about the person\'s sending: deleted.'),
      recipients: del('Deleted with the row (PreventService.erasePerson, every tenant).'),
      justification: del('The person\'s own words: deleted with the row.'),
    },
  },
  subject_restrictions: {
    path: 'email is one of the addresses',
    where: 'email = ANY(:emails)',
    columns: { email: del('Nothing left to restrict once erased; Prevent keeps its own (hashed) exclusion.') },
  },
  privacy_register_settings: {
    path: 'updated_by is a user id, or a contact field mentions an address',
    where: 'updated_by = ANY(:ids) OR controller_contact ILIKE ANY(:patterns) OR dpo_contact ILIKE ANY(:patterns) OR representative ILIKE ANY(:patterns)',
    columns: {
      updated_by: pseud('Who last edited the register.'),
      controller_contact: keep("The operator's published controller contact: changed by the operator (sealpost privacy settings), never by an erasure."),
      dpo_contact: keep('As controller_contact.'),
      representative: keep('As controller_contact.'),
    },
  },
  subject_requests: {
    path: 'email is one of the addresses (their requests), or opened_by one of the ids (an administrator who opened one)',
    where: 'email = ANY(:emails) OR opened_by = ANY(:ids)',
    columns: {
      email: keep('The record of how a request was answered, including an erasure request, is kept 3 years (subject_request_record; GDPR Art. 5(2), 12).'),
      name: keep('As email.'),
      details: keep('As email.'),
      opened_by: pseud('An administrator who opened a request for someone else.'),
      extension_reason: keep('As email.'),
      pause_reason: keep('As email.'),
      outcome_note: keep('As email.'),
    },
  },
  subject_request_events: {
    path: "request_id of the person's requests, or actor_id one of the ids",
    where: 'actor_id = ANY(:ids) OR request_id IN (SELECT id FROM subject_requests WHERE email = ANY(:emails))',
    columns: {
      actor_id: pseud('Who took a step on someone else\'s request.'),
      details: keep('History of the request record (subject_request_record).'),
    },
  },
  privacy_disclosures: {
    path: 'approved_by or recorded_by is one of the ids, or the request text mentions an address',
    where: 'approved_by = ANY(:ids) OR recorded_by = ANY(:ids) OR requested ILIKE ANY(:patterns) OR disclosed_description ILIKE ANY(:patterns) OR notes ILIKE ANY(:patterns)',
    columns: {
      contact: keep("The authority's officer, not the person."),
      requested: keep('Evidence of a disclosure to an authority, kept 7 years (disclosure_record) and possibly under a gag order: erasure does not apply (Art. 17(3)(b), (e)).'),
      disclosed_description: keep('As requested.'),
      notes: keep('As requested.'),
      approved_by: pseud('An operator or officer who approved it.'),
      recorded_by: pseud('The operator account that entered it.'),
    },
  },
  tenant_domains: {
    path: 'created_by is one of the user ids',
    where: 'created_by = ANY(:userIds)',
    columns: { created_by: clear('Set to NULL by the foreign key when the account is deleted (or replaced by a tombstone).') },
  },
  account_transfers: {
    path: 'user_id is one of the user ids',
    where: 'user_id = ANY(:userIds)',
    deleteWhere: 'user_id = ANY(:userIds)',
    columns: { user_id: del('An offer to move the account; ends with the account.'), accepted_at: del('With the row.') },
  },
  communication_preferences: {
    path: 'email is one of the addresses',
    where: 'email = ANY(:emails)',
    deleteWhere: 'email = ANY(:emails)',
    columns: { email: del('Deleted: marketing needs opt-in consent, so with no record nothing is sent.') },
  },
  communication_preference_changes: {
    path: 'email is one of the addresses, or actor_id one of the ids',
    where: 'email = ANY(:emails) OR actor_id = ANY(:ids)',
    deleteWhere: 'email = ANY(:emails)',
    columns: {
      email: del('The history of a consent that no longer governs anything.'),
      actor_id: pseud("Who changed someone else's preference."),
    },
  },
  consent_confirmations: {
    path: 'email is one of the addresses',
    where: 'email = ANY(:emails)',
    deleteWhere: 'email = ANY(:emails)',
    columns: { email: del('A pending double opt-in.') },
  },
  unsubscribe_links: {
    path: 'email is one of the addresses',
    where: 'email = ANY(:emails)',
    deleteWhere: 'email = ANY(:emails)',
    columns: { email: del('Links in mail already sent; nothing more will be sent.') },
  },
  retention_policies: {
    path: 'updated_by is one of the ids',
    where: 'updated_by = ANY(:ids)',
    columns: { updated_by: pseud('Who set a retention policy.') },
  },
  legal_holds: {
    path: 'user_id is one of the user ids (a hold on their data), placed_by or released_by one of the ids, or a reason mentions them',
    where: 'user_id = ANY(:userIds) OR placed_by = ANY(:ids) OR released_by = ANY(:ids) OR reason ILIKE ANY(:patterns) OR release_reason ILIKE ANY(:patterns)',
    columns: {
      user_id: keep('A legal hold exists to preserve evidence for legal claims (Art. 17(3)(e)); it is released by whoever placed it, not by an erasure.'),
      reason: keep('As user_id.'),
      placed_by: pseud('Who placed a hold on someone else.'),
      released_by: pseud('Who released it.'),
      release_reason: keep('As user_id.'),
    },
  },
  retention_runs: {
    path: 'actor is one of the ids',
    where: 'actor = ANY(:ids)',
    columns: { actor: pseud('Who started a retention run.') },
  },
  privacy_register_changes: {
    path: 'actor_id is a user id, or changes mention an address',
    where: 'actor_id = ANY(:ids) OR changes::text ILIKE ANY(:patterns)',
    columns: {
      actor_id: pseud('Who changed the register.'),
      changes: keep('History of the published register (accountability, Art. 5(2)): contact details the operator published stay as published.'),
    },
  },
};

