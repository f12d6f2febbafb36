// The data-category registry: every table and column of every migration, with its category
// (docs PRODUCT.md: content | crm | smart | system), whether it is personal data, and how long
// it is kept. Records of processing, subject requests and retention are generated from this,
// and registry.test.ts fails when it and the migrated schema disagree.
import { errors } from '../../shared/app-error.ts';

/** The four kinds of data Sealpost handles; see PRODUCT.md. */
export const DATA_CATEGORIES = ['content', 'crm', 'smart', 'system'] as const;

/** One of {@link DATA_CATEGORIES}. */
export type DataCategory = (typeof DATA_CATEGORIES)[number];

/** A named retention rule: what ends the data's life and the default period, if any. */
export interface RetentionRuleDefinition {
  description: string;
  /** ISO-8601 duration after which data is deleted by default; null when an event ends it. */
  defaultPeriod: string | null;
  /** Categories this rule may be applied to. */
  appliesTo: readonly DataCategory[];
}

/** Retention rules tables and columns refer to by name. */
export const RETENTION_RULES = {
  content_policy: {
    description:
      "Kept until the tenant's retention policy or the message's label expiry deletes it; deletion crypto-shreds (the data key is destroyed, so the stored ciphertext can never be opened).",
    defaultPeriod: null,
    appliesTo: ['content'],
  },
  crm_account_lifetime: {
    description:
      'Kept for the lifetime of the account or organisation, then for the statutory period for contract and accounting records (6 years in the UK) before deletion.',
    defaultPeriod: null,
    appliesTo: ['crm'],
  },
  system_logs_13m: {
    description: 'Operational logs and usage statistics: deleted 13 months after creation (a year-on-year comparison plus one month).',
    defaultPeriod: 'P13M',
    appliesTo: ['system'],
  },
  smart_rolling_12m: {
    description: 'Learned behaviour and associations: a rolling 12-month window; older observations are deleted.',
    defaultPeriod: 'P12M',
    appliesTo: ['smart'],
  },
  exclusion_while_in_force: {
    description:
      'Suppression lists that exist to honour a right (restriction, erasure): kept while the restriction is in force and, after erasure, for the life of the tenant, so the person is never learned from again.',
    defaultPeriod: null,
    appliesTo: ['smart', 'crm'],
  },
  audit_policy: {
    // 7 years: the 6-year UK limitation period for claims in contract and tort, plus a year
    // for claims notified late, so the trail still exists when a dispute or regulator asks.
    // Tenants may shorten it (data minimisation) or place a legal hold.
    description:
      "Audit trail: kept for the tenant's audit policy period, by default 7 years (the 6-year UK limitation period plus one year for late claims); legal holds suspend deletion.",
    defaultPeriod: 'P7Y',
    appliesTo: ['system'],
  },
  key_lifecycle: {
    description:
      'Key material and key metadata: kept while any object depends on the key; destroyed (crypto-shredding what it protects) on tenant erasure.',
    defaultPeriod: null,
    appliesTo: ['system', 'content'],
  },
  credential_lifetime: {
    description:
      'Sign-in credentials (sessions, API tokens, one-time sign-in links) and what is recorded with them: kept while usable, deleted at the latest 30 days after they end (signed out, expired, used or revoked), and with the account.',
    defaultPeriod: null,
    appliesTo: ['system'],
  },
  rate_limit_window: {
    description: 'Counters of recent attempts used for rate limiting: deleted once their window (minutes to hours) has ended.',
    defaultPeriod: null,
    appliesTo: ['system'],
  },
  schema_permanent: {
    description: 'Schema bookkeeping with no data about people or content: kept as long as the installation.',
    defaultPeriod: null,
    appliesTo: ['system'],
  },
  subject_request_record: {
    description:
      'Data subject requests and their history (who asked, what, when it was due, what was done, counts only): kept for 3 years after the request is closed as evidence of how it was answered (GDPR Art. 5(2), 12), then deleted. Erasure of the person does not erase the record of their request.',
    defaultPeriod: 'P3Y',
    appliesTo: ['crm', 'system'],
  },
  access_export_once: {
    description:
      'The sealed access/portability export of a subject request: crypto-shredded (data key erased, blob deleted) once it has been downloaded, or 7 days after it was made if it never was.',
    defaultPeriod: 'P7D',
    appliesTo: ['crm', 'system'],
  },
  consent_evidence: {
    description:
      "Communication preferences (marketing, product updates, sub-processor alerts) and every change to them: kept while the preference is in force and for 6 years after the person's last change, as evidence that consent was given or withdrawn (GDPR Art. 7(1)); an objection to marketing is kept for as long as the installation runs, so that it is never overridden.",
    defaultPeriod: null,
    appliesTo: ['crm'],
  },
  consent_link_lifetime: {
    description:
      'Double opt-in confirmation links (7 days) and one-click unsubscribe links (13 months after the email carrying them was sent): deleted once they have ended.',
    defaultPeriod: null,
    appliesTo: ['system'],
  },
  legal_hold_record: {
    description:
      'Legal holds and the record of their release: kept while in force and, after release, for the tenant\'s audit policy period (default 7 years), as evidence of why data was kept beyond its retention.',
    defaultPeriod: null,
    appliesTo: ['system'],
  },
  register_lifetime: {
    description:
      "The operator's processing register, sub-processor register and their change history: kept for the life of the installation as evidence of accountability (GDPR Art. 5(2), 30); a change keeps the name of whoever made it.",
    defaultPeriod: null,
    appliesTo: ['system', 'crm'],
  },
  disclosure_record: {
    // Transparency reports compare years, and a disclosure may be challenged or litigated long
    // after it was made: the same 7 years as the audit trail (UK limitation period plus one).
    description:
      'Disclosure requests from authorities and third parties: kept 7 years after the request was received, as evidence of what was asked, decided and disclosed, and for transparency reports.',
    defaultPeriod: 'P7Y',
    appliesTo: ['system'],
  },
} as const satisfies Record<string, RetentionRuleDefinition>;

/** Name of a retention rule in {@link RETENTION_RULES}. */
export type RetentionRule = keyof typeof RETENTION_RULES;

/** identifier: identifies a person (email, user id, IP); personal: about a person; none. */
export type PersonalData = 'identifier' | 'personal' | 'none';

/** Declaration of one column. */
export interface ColumnDeclaration {
  category: DataCategory;
  personal: PersonalData;
  description: string;
  /** Overrides the table's retention rule for this column. */
  retention?: RetentionRule;
}

/** Declaration of one table and all of its columns. */
export interface TableDeclaration {
  category: DataCategory;
  retention: RetentionRule;
  description: string;
  columns: Record<string, ColumnDeclaration>;
}

const sys = (description: string): ColumnDeclaration => ({ category: 'system', personal: 'none', description });
const crm = (description: string, personal: PersonalData = 'none'): ColumnDeclaration => ({ category: 'crm', personal, description });
const sysPersonal = (description: string, personal: PersonalData): ColumnDeclaration => ({ category: 'system', personal, description });
const content = (description: string, personal: PersonalData = 'none'): ColumnDeclaration => ({ category: 'content', personal, description });
const smart = (description: string, personal: PersonalData = 'none'): ColumnDeclaration => ({ category: 'smart', personal, description });

/** Every table and column of all migrations. Add to it in the same change as the migration. */
export const REGISTRY: Record<string, TableDeclaration> = {
  tenants: {
    category: 'crm',
    retention: 'crm_account_lifetime',
    description: 'Customer organisations (and free single-user accounts): the controller-side account record.',
    columns: {
      id: crm('Random identifier of the organisation; names no person.'),
      name: crm(
        "Organisation name. For a free single-user account it is usually the person's own name, so it is treated as identifying.",
        'identifier',
      ),
      region: crm('Data residency region (uk, eea, us) the tenant chose; decides where its Content is stored.'),
      created_at: crm('When the account was created.'),
      plan: crm('free (a single person signed up; Sealpost is controller of their Content) or business (Sealpost is processor for the customer).'),
    },
  },
  key_encryption_keys: {
    category: 'system',
    retention: 'key_lifecycle',
    description: "Tenants' key-encryption keys, wrapped by a root key; destroying them crypto-shreds the tenant's Content.",
    columns: {
      id: sys('Random key identifier.'),
      tenant_id: sys('Owning tenant.'),
      region: sys('Region whose root key wraps this key.'),
      version: sys('Rotation counter per tenant and region.'),
      state: sys('active, retired or destroyed.'),
      root_key_id: sys('Which KeyProvider root key wraps it (an id, never the key).'),
      wrapped_key: sys('Secret: the key wrapped by the root key. NULL once destroyed. Never logged or exported.'),
      created_at: sys('When the key was generated.'),
      retired_at: sys('When it stopped wrapping new data keys.'),
      destroyed_at: sys('When it was destroyed (evidence of crypto-shredding).'),
    },
  },
  sealed_objects: {
    category: 'content',
    retention: 'content_policy',
    description:
      "One encrypted object (message body, attachment, file) per row; the ciphertext is in the blob store. The customer's data subjects' personal data is inside the ciphertext, which Sealpost cannot read.",
    columns: {
      id: sys('Random object identifier; pure metadata that reveals nothing about the content.'),
      tenant_id: sys('Owning tenant; pure metadata.'),
      region: sys('Region the ciphertext is pinned to; pure metadata.'),
      key_id: sys('Random id of the data key, bound into the ciphertext header; pure metadata.'),
      kek_id: sys('Which key-encryption key wraps the data key; pure metadata.'),
      wrapped_key: {
        category: 'content',
        personal: 'none',
        description:
          'The data key, wrapped by the KEK. It unlocks the Content, so it lives and dies with it: setting it to NULL crypto-shreds the object.',
      },
      blob_key: sys('Opaque, random locator of the ciphertext in the blob store; pure metadata.'),
      format_version: sys('Sealed-object format version; pure metadata.'),
      segment_size: sys('Encryption segment size; a format parameter, not derived from the content.'),
      plaintext_length: {
        category: 'content',
        personal: 'none',
        description:
          "Exact size of the plaintext. Derived from the customer's content and can reveal what it is (a scan versus a one-line note), so it is Content, not metadata.",
      },
      created_at: sys('When the object was sealed; pure metadata.'),
      shredded_at: sys('When the data key was destroyed (evidence of erasure).'),
    },
  },
  audit_events: {
    category: 'system',
    retention: 'audit_policy',
    description: 'Append-only, hash-chained audit trail, one chain per tenant plus a system chain.',
    columns: {
      chain: sys("Chain name: the tenant id, or 'system'."),
      chain_seq: sys('Position in the chain, contiguous from 1.'),
      id: sys('Random event identifier.'),
      tenant_id: sys('Tenant the event belongs to, if any.'),
      occurred_at: sys('When the event was recorded, at millisecond precision: the database clock, or the Sealpost server clock for group-committed events (docs/database.md).'),
      actor_type: sys('user, recipient, system, api_token or operator.'),
      actor_id: {
        category: 'system',
        personal: 'identifier',
        description: 'Who acted: a user id, recipient address or token id; identifies a person.',
      },
      action: sys("What happened, e.g. 'sealed_object.created'."),
      target_type: sys('Kind of thing acted on.'),
      target_id: {
        category: 'system',
        personal: 'identifier',
        description: 'What was acted on; for user or recipient targets this identifies a person.',
      },
      outcome: sys('success, failure or denied.'),
      ip: {
        category: 'system',
        personal: 'identifier',
        description: "Client IP address: an online identifier of the actor's device (GDPR Art. 4(1)).",
      },
      user_agent: {
        category: 'system',
        personal: 'personal',
        description: "Client user agent: describes the actor's device and software.",
      },
      details: {
        category: 'system',
        personal: 'personal',
        description: 'Event-specific JSON; never secrets, but may name people (e.g. a recipient address), so treated as personal.',
      },
      detail_refs: {
        category: 'system',
        personal: 'identifier',
        description: 'Generated from details (migration 0016): the email addresses and ids it names, lower-cased, indexed so a person\'s events are found without scanning every event.',
      },
      prev_hash: sys('Hash of the previous event in the chain (32 zero bytes for the first).'),
      hash: sys('SHA-256 over prev_hash and the canonical event; see docs/database.md.'),
    },
  },
  users: {
    category: 'crm',
    retention: 'crm_account_lifetime',
    description: "People who sign in to a tenant (senders, administrators, auditors): the account record, with the role that decides what they may do.",
    columns: {
      id: crm('Random identifier of the user; identifies the person within Sealpost.', 'identifier'),
      tenant_id: crm('Organisation the user belongs to.'),
      email: crm('Sign-in email address, lower-cased; unique across the installation.', 'identifier'),
      display_name: crm('Name shown to others (sender name on notifications).', 'identifier'),
      role: crm('administrator, author, auditor, read_only or disabled (cannot sign in).'),
      password_hash: crm(
        'Secret: Argon2id hash (PHC string) of the password; NULL until the user sets one. Never logged, exported or returned by the API; erased with the account.',
        'personal',
      ),
      password_changed_at: crm('When the password was last set.'),
      created_at: crm('When the account was created.'),
      updated_at: crm('When the account was last changed.'),
    },
  },
  sessions: {
    category: 'system',
    retention: 'credential_lifetime',
    description: 'Signed-in browser sessions (security data): ended by sign-out, 30 minutes idle or 12 hours after sign-in.',
    columns: {
      id: sys('Random session identifier (not the secret).'),
      token_hash: sys('SHA-256 of the session cookie token; the token itself is never stored.'),
      user_id: sysPersonal('The signed-in user.', 'identifier'),
      tenant_id: sys("The user's tenant."),
      method: sys('How the session was opened: password or sign_in_link.'),
      created_at: sys('When the user signed in.'),
      last_seen_at: sys('Last request made with the session (updated at most once a minute); drives the idle timeout.'),
      expires_at: sys('Absolute end of the session.'),
      ip: sysPersonal("IP address the session was opened from: an online identifier of the user's device.", 'identifier'),
      user_agent: sysPersonal("User agent the session was opened with: describes the user's device and software.", 'personal'),
    },
  },
  api_tokens: {
    category: 'system',
    retention: 'credential_lifetime',
    description: 'Personal API tokens for the CLI and integrations (security data); hashed at rest.',
    columns: {
      id: sys('Random token identifier (not the secret).'),
      tenant_id: sys("The owner's tenant."),
      user_id: sysPersonal('The user the token acts as.', 'identifier'),
      name: sysPersonal('Label chosen by the user (often names a device, e.g. "Alice\'s laptop").', 'personal'),
      prefix: sys('First characters of the token (sp_ and 6 more), shown so people can tell tokens apart; useless for signing in.'),
      token_hash: sys('SHA-256 of the token; the token itself is shown once and never stored.'),
      created_at: sys('When the token was created.'),
      last_used_at: sys('Last request made with it (updated at most once a minute).'),
      expires_at: sys('When it stops working.'),
      revoked_at: sys('When it was revoked (by its owner, by signing out, or by disabling the user).'),
    },
  },
  sign_in_links: {
    category: 'system',
    retention: 'credential_lifetime',
    description: 'One-time sign-in links (first start, invitations, recovery); hashed at rest, short-lived, single use.',
    columns: {
      id: sys('Random link identifier (not the secret).'),
      tenant_id: sys("The user's tenant."),
      user_id: sysPersonal('The user the link signs in.', 'identifier'),
      token_hash: sys('SHA-256 of the link token; the token itself is only in the link.'),
      purpose: sys('first_start, invitation or recovery.'),
      created_at: sys('When the link was issued.'),
      expires_at: sys('When it stops working.'),
      used_at: sys('When it was redeemed; a used link never works again.'),
    },
  },
  rate_limits: {
    category: 'system',
    retention: 'rate_limit_window',
    description: 'Fixed-window attempt counters for rate limits (sign-in now, one-time codes later).',
    columns: {
      key_hash: sysPersonal(
        'SHA-256 of the scope and the limited key. Keys are often an email or IP address, so the hash is a pseudonymised identifier.',
        'identifier',
      ),
      scope: sys("What is limited, e.g. 'sign_in_account' or 'sign_in_ip'."),
      window_started_at: sys('Start of the current window.'),
      hits: sys('Attempts counted in the current window.'),
      expires_at: sys('End of the current window; the row is useless afterwards.'),
    },
  },
  labels: {
    category: 'crm',
    retention: 'crm_account_lifetime',
    description: "A tenant's classification labels and the policy each implies (expiry, recipient authentication, restrictions, disclaimer): the customer's configuration.",
    columns: {
      id: crm('Random label identifier.'),
      tenant_id: crm('Owning tenant.'),
      name: crm('Label name, e.g. confidential or OFFICIAL-SENSITIVE.'),
      rank: crm('Sensitivity order; higher is more sensitive.'),
      description: crm('What the label means, shown to senders.'),
      default_expiry_days: crm('Expiry applied to messages sent under the label when the sender sets none.'),
      auth_level: crm('How recipients must prove who they are: email_code or account.'),
      no_forward: crm('Recipients cannot add anyone.'),
      no_download: crm('Attachments are viewable in the portal only.'),
      watermark: crm('Viewers show a watermark.'),
      hide_subject: crm('Notification emails omit the subject.'),
      disclaimer: crm('Text recipients must accept before opening.'),
      created_at: crm('When the label was created.'),
      archived_at: crm('When the label was withdrawn (old messages keep it).'),
      is_default: crm('The label a message gets when the sender names none (one per tenant).'),
    },
  },
  tenant_settings: {
    category: 'crm',
    retention: 'crm_account_lifetime',
    description: "A tenant's notification branding and reply-residency choice, set by its administrators: the customer's configuration.",
    columns: {
      tenant_id: crm('The tenant these settings belong to.'),
      brand_display_name: crm('Name shown as the sender organisation in notification emails and recipient pages; may be a person\'s name for a single-user account.', 'identifier'),
      brand_logo: crm('Logo as a small data: URL (png, jpeg, gif or webp), shown in notification emails and recipient pages.'),
      brand_accent_color: crm('Accent colour (#rrggbb) of notification emails and recipient pages.'),
      brand_footer_text: crm('Plain-text footer of notification emails and recipient pages (often an address).', 'personal'),
      reply_regions: crm("Regions (besides the home region) an external recipient may choose to store their secure reply in; empty: replies stay in the tenant's home region."),
      updated_at: crm('When the settings were last changed.'),
    },
  },
  messages: {
    category: 'content',
    retention: 'content_policy',
    description:
      "Secure messages: the envelope metadata Sealpost needs to decide access. Subject, body and attachment names are sealed in the envelope object, not here. Sealpost processes it for the customer (processor).",
    columns: {
      id: content('Random message identifier.'),
      tenant_id: content("Sender's tenant."),
      thread_id: content('Thread the message belongs to (the first message id).'),
      in_reply_to: content('Message this one replies to.'),
      sender_user_id: content('Sending user (internal sender).', 'identifier'),
      sender_recipient_id: content('Sending recipient (secure reply from an external recipient).', 'identifier'),
      sender_email: content("Sender's address as shown to recipients.", 'identifier'),
      label_id: content('Classification label, deciding the policy.'),
      envelope_object_id: content('Sealed object holding subject, body and attachment names.'),
      attachment_count: content('Number of attachments.'),
      created_at: content('When it was sent.'),
      expires_at: content('When recipients lose access (null: never).'),
      revoked_at: content('When the sender withdrew it for everyone.'),
    },
  },
  pending_uploads: {
    category: 'content',
    retention: 'content_policy',
    description: 'Attachments uploaded and sealed but not yet sent; shredded by retention when abandoned.',
    columns: {
      object_id: content('The sealed object.'),
      tenant_id: content('Owning tenant.'),
      user_id: content('Uploading user (null when a recipient uploaded it for a secure reply).', 'identifier'),
      recipient_id: content('Uploading recipient, for a secure reply (null when a user uploaded it).', 'identifier'),
      created_at: content('When it was uploaded.'),
    },
  },
  message_attachments: {
    category: 'content',
    retention: 'content_policy',
    description: "Which sealed objects are a message's attachments, in order.",
    columns: {
      message_id: content('The message.'),
      position: content('Order of the attachment.'),
      object_id: content('The sealed attachment.'),
    },
  },
  message_recipients: {
    category: 'content',
    retention: 'content_policy',
    description: "A message's recipients (To, Cc, Bcc) with their link and access state. Recipients' addresses are personal data of the customer's correspondents.",
    columns: {
      id: content('Random recipient identifier.'),
      message_id: content('The message.'),
      tenant_id: content("Sender's tenant."),
      email: content("Recipient's address, lower-cased.", 'identifier'),
      kind: content('to, cc or bcc (bcc is never shown to other recipients).'),
      link_token_hash: content("SHA-256 of the recipient's link token; the token itself is stored only wrapped."),
      link_kek_id: content('KEK wrapping the link token.'),
      link_token_wrapped: content('Secret: the link token wrapped by the tenant KEK, to resend the same link; crypto-shredded with the tenant.'),
      added_at: content('When the recipient was added.'),
      removed_at: content('When the sender removed the recipient.'),
      revoked_at: content('When the sender revoked this recipient.'),
      delivery_status: content('pending, sent or failed (the notification email).'),
      delivery_attempts: content('Notification delivery attempts.'),
      delivery_error: content('Last delivery error code (no message text).'),
      notified_at: content('When the notification was accepted by the mail relay.'),
      disclaimer_accepted_at: content('When the recipient accepted the label disclaimer.', 'personal'),
      first_opened_at: content('When the recipient first opened the message.', 'personal'),
      last_opened_at: content('When the recipient last opened the message.', 'personal'),
    },
  },
  access_requests: {
    category: 'content',
    retention: 'content_policy',
    description:
      "Requests for access from people who received a forwarded link and are not recipients: who asked, why, through whose link, and the sender's decision. Processed for the customer (processor).",
    columns: {
      id: content('Random request identifier.'),
      tenant_id: content("Sender's tenant."),
      message_id: content('The message access was asked for.'),
      via_recipient_id: content('The recipient whose link was used (the link that was forwarded).', 'identifier'),
      email: content("Requester's address, lower-cased; they proved control of it with a one-time code.", 'identifier'),
      reason: content('Why they ask, in their own words (optional, at most 500 characters).', 'personal'),
      status: content('unverified (code sent), pending (verified, awaiting the sender), approved or denied.'),
      code_hash: { category: 'system', personal: 'none', retention: 'credential_lifetime', description: 'SHA-256 of request id and one-time code; cleared once the code is used or used up. The code itself is never stored.' },
      code_expires_at: { category: 'system', personal: 'none', retention: 'credential_lifetime', description: 'When the one-time code stops working (10 minutes).' },
      code_attempts: { category: 'system', personal: 'none', retention: 'credential_lifetime', description: 'Wrong code attempts so far (5 use the code up).' },
      created_at: content('When the request was started.'),
      verified_at: content('When the requester proved control of the address.'),
      decided_at: content('When the sender approved or denied it.'),
      decided_by: content('The user who decided.', 'identifier'),
      recipient_id: content('The recipient row the requester became on approval.'),
    },
  },
  recipient_challenges: {
    category: 'system',
    retention: 'credential_lifetime',
    description: 'One-time codes sent to recipients to prove control of their mailbox (security data).',
    columns: {
      id: sys('Random challenge identifier.'),
      recipient_id: sysPersonal('The recipient the code was sent to.', 'identifier'),
      code_hash: sys('SHA-256 of challenge id and code; the code itself is never stored.'),
      created_at: sys('When the code was sent.'),
      expires_at: sys('When the code stops working (10 minutes).'),
      attempts: sys('Wrong attempts so far (5 use the code up).'),
      consumed_at: sys('When the code was used, replaced or used up.'),
    },
  },
  recipient_sessions: {
    category: 'system',
    retention: 'credential_lifetime',
    description: 'Sessions of verified recipients (security data): 30 minutes after a correct code.',
    columns: {
      id: sys('Random session identifier (not the secret).'),
      recipient_id: sysPersonal('The verified recipient.', 'identifier'),
      token_hash: sys('SHA-256 of the session token; the token itself is never stored.'),
      auth_level: sys('How the recipient proved who they are.'),
      created_at: sys('When the session was opened.'),
      expires_at: sys('When it ends.'),
      ip: sysPersonal("IP address of the recipient's device.", 'identifier'),
      user_agent: sysPersonal("User agent of the recipient's device.", 'personal'),
    },
  },
  jobs: {
    category: 'system',
    retention: 'system_logs_13m',
    description: 'Durable background jobs (notification delivery). Payloads hold ids only, never Content or secrets.',
    columns: {
      id: sys('Random job identifier.'),
      kind: sys('What the job does, e.g. notify_recipient.'),
      payload: sys('Ids the job needs (tenant, recipient).'),
      status: sys('queued, running, done or failed.'),
      attempts: sys('Attempts so far.'),
      max_attempts: sys('Attempts before giving up.'),
      run_at: sys('When the job is next due.'),
      locked_until: sys('Lease of the process running it.'),
      last_error: sys('Error code of the last failed attempt.'),
      created_at: sys('When it was enqueued.'),
      finished_at: sys('When it completed or gave up.'),
    },
  },
  prevent_observations: {
    category: 'smart',
    retention: 'smart_rolling_12m',
    description:
      "Smart Data: the metadata of each message sent or received in a tenant (or imported history) that Prevent learns the tenant's mail behaviour from. No bodies; subject words only as keyed hashes. Processed for the customer (processor); never read across tenants.",
    columns: {
      seq: smart('Ascending sequence number, so each server process can catch up with what others learned.'),
      tenant_id: smart('Tenant whose model learns from it.'),
      message_id: smart('The Sealpost message it was learned from; null for imported history.'),
      source: smart('sent (by a user), received (a recipient replied) or import (history loaded by an administrator).'),
      observed_at: smart('When the message was sent; drives recency and the rolling 12-month window.'),
      sender: smart("Sender's address, lower-cased.", 'identifier'),
      recipients: smart('Recipient addresses with their role (to, cc, bcc).', 'identifier'),
      terms: smart('Keyed hashes (HMAC under the tenant term key) of the subject words, for topic profiles; the words cannot be read back.', 'personal'),
      thread_key: smart('Thread the message belongs to.'),
      label_rank: smart('Rank of the classification label it was sent under.'),
    },
  },
  prevent_keys: {
    category: 'system',
    retention: 'key_lifecycle',
    description: "Per-tenant key that turns subject words into term hashes for Prevent, wrapped by the tenant's KEK.",
    columns: {
      tenant_id: sys('Owning tenant.'),
      key_id: sys('Random identifier, bound into the wrapping context.'),
      kek_id: sys('KEK that wraps it.'),
      wrapped_key: sys('Secret: the term key wrapped by the KEK. Never logged or exported.'),
      created_at: sys('When it was generated.'),
    },
  },
  prevent_settings: {
    category: 'crm',
    retention: 'crm_account_lifetime',
    description: "A tenant's Prevent policy (off, monitor, nudge or block per check and severity), rule-check settings and its own mail domains.",
    columns: {
      tenant_id: crm('Tenant the settings belong to.'),
      policy: crm('Mode per check and severity, and the default mode.'),
      rules: crm('Rule-check thresholds, extra webmail domains and custom sensitive-content patterns (pattern sources, never matched values).'),
      internal_domains: crm("The tenant's own mail domains (addresses there are internal)."),
      updated_at: crm('When the settings last changed.'),
      updated_by: crm('Administrator who last changed them.', 'identifier'),
    },
  },
  prevent_exclusions: {
    category: 'smart',
    retention: 'exclusion_while_in_force',
    description: 'People Prevent must not learn from (restricted processing or erased): only a keyed hash of the address is kept, so the list names nobody.',
    columns: {
      tenant_id: smart('Tenant whose model excludes the person.'),
      address_hash: smart('HMAC of the address under the tenant term key.', 'identifier'),
      reason: smart('restricted (Art. 18 restriction) or erased (Art. 17 erasure).'),
      created_at: smart('When the exclusion started.'),
    },
  },
  prevent_decisions: {
    category: 'smart',
    retention: 'smart_rolling_12m',
    description:
      "Each Prevent warning raised at send time and what the sender did (sent anyway, justified, removed the recipient, blocked): feeds back into the model (dismissed warnings are not repeated endlessly; confirmed mistakes strengthen it) and the administrators' dashboard.",
    columns: {
      id: smart('Random identifier.'),
      tenant_id: smart('Tenant of the sender.'),
      user_id: smart('Sender who saw the warning.', 'identifier'),
      message_id: smart('The message sent despite the warning, if it was sent.'),
      decided_at: smart('When the sender decided.'),
      check_kind: smart('Which check raised it (unusual_recipient, lookalike_address, …).'),
      severity: smart('info, warning or critical.'),
      mode: smart('The policy mode in force: monitor, nudge or block.'),
      outcome: smart('logged, sent_anyway, sent_unreviewed, justified, blocked, removed or suppressed.'),
      recipients: smart('Addresses the warning was about.', 'identifier'),
      context_key: smart('SHA-256 of check, recipients and finding, to recognise the same warning again.'),
      justification: smart("The sender's justification for sending anyway, in their words.", 'personal'),
    },
  },
  subject_restrictions: {
    category: 'crm',
    retention: 'exclusion_while_in_force',
    description:
      'People who asked for processing to be restricted (GDPR Art. 18): their data is kept but not otherwise processed (no learning, no marketing) while the row exists; lifting the restriction deletes it.',
    columns: {
      email: crm('Normalised address of the person.', 'identifier'),
      request_id: crm('The subject request that asked for it, if any.'),
      restricted_at: crm('When the restriction started.'),
    },
  },
  subject_requests: {
    category: 'crm',
    retention: 'subject_request_record',
    description:
      'Data subject requests (access and portability, rectification, erasure, restriction, objection to marketing): who asked, what, the identity check, the one-month clock and its extension, and the outcome. Sealpost is controller of this record.',
    columns: {
      id: crm('Random request identifier.'),
      kind: crm('access, rectification, erasure, restriction or objection_to_marketing.'),
      email: crm('Address of the person the request is about (the requester), lower-cased; proven with a one-time code.', 'identifier'),
      name: crm('Name the requester gave (optional).', 'personal'),
      details: crm('What the requester asked for in their own words (what to rectify, why).', 'personal'),
      lift: crm('Restriction requests: true when the person asks for a restriction to be lifted.'),
      status: crm('awaiting_identity, open, in_progress, completed, rejected, routed_to_customer or linked (a duplicate of an open request).'),
      opened_via: crm('Who opened it: public (the person), administrator (of a tenant, on their behalf) or operator (CLI).'),
      opened_by: crm('User id of the administrator, or the operator account (cli:<user>), who opened it.', 'identifier'),
      tenant_id: crm('Tenant whose administrator opened it, if any.'),
      received_at: crm('When the request was received.'),
      verified_at: crm('When the requester proved control of the address (the clock starts).'),
      clock_started_on: crm('Calendar date (UTC) the one-month clock started: the day identity was confirmed.'),
      paused_days: crm('Days the clock was paused after it started.'),
      paused_on: crm('Calendar date (UTC) the clock was paused, while it is paused (waiting for the requester to clarify); null otherwise.'),
      pause_reason: crm('What was asked of the requester while the clock is paused (told to them).', 'personal'),
      extension_months: crm('Extension of the time limit (0, 1 or 2 months), recorded once with a reason.'),
      extension_reason: crm('Why the time limit was extended (told to the requester).', 'personal'),
      extended_at: crm('When the extension was recorded.'),
      due_on: crm('Calendar date the answer is due.'),
      duplicate_of: crm('The open request this duplicate was linked to.'),
      closed_at: crm('When it was completed, rejected or routed.'),
      outcome_note: crm('Note on the outcome: the reason for a rejection, what was rectified.', 'personal'),
      result: crm('What running it did, counts only (erasure report, export size, routings); never the exported data.'),
      code_hash: { category: 'system', personal: 'none', retention: 'credential_lifetime', description: 'SHA-256 of request id and one-time code; cleared once used or used up. The code itself is never stored.' },
      code_expires_at: { category: 'system', personal: 'none', retention: 'credential_lifetime', description: 'When the one-time code stops working (10 minutes).' },
      code_attempts: { category: 'system', personal: 'none', retention: 'credential_lifetime', description: 'Wrong code attempts so far (5 use the code up).' },
    },
  },
  subject_request_events: {
    category: 'crm',
    retention: 'subject_request_record',
    description: 'History of each subject request: every step, who took it and facts about it (never a code, never exported data).',
    columns: {
      id: crm('Random event identifier.'),
      request_id: crm('The request.'),
      at: crm('When it happened.'),
      event: crm('received, code_sent, verified, linked_duplicate, extended, run_started, exported, downloaded, routed, erased, restricted, objected, completed, rejected, …'),
      actor_type: crm('subject, user (an administrator), operator or system.'),
      actor_id: crm('User id or operator account that took the step.', 'identifier'),
      details: crm('Facts about the step (counts, reasons, notes), which may name the requester.', 'personal'),
    },
  },
  subject_request_routings: {
    category: 'crm',
    retention: 'subject_request_record',
    description: "Subject requests routed to a business customer as controller of the Content it holds about the requester; the customer's administrators were told.",
    columns: {
      request_id: crm('The request.'),
      tenant_id: crm('The customer (controller) it was routed to.'),
      messages: crm('How many messages of that customer involve the requester (count only).'),
      routed_at: crm('When it was routed.'),
      notified: crm("How many of the customer's administrators were emailed."),
    },
  },
  subject_request_exports: {
    category: 'system',
    retention: 'access_export_once',
    description:
      'Sealed access/portability exports: the ZIP is encrypted before it is stored, its data key wrapped by the root key under a key scope of its own; downloadable once through a link; shredded after download or expiry.',
    columns: {
      id: sys('Random export identifier (also the sealed object id).'),
      request_id: sys('The access request.'),
      token_hash: sys('SHA-256 of the download link token; the token itself is never stored.'),
      root_key_id: sys('Root key that wraps the data key.'),
      wrapped_key: sys('The data key, wrapped by the root key; erased when the export is shredded.'),
      key_id: sys('Random data-key identifier bound into the sealed header.'),
      blob_key: sys('Where the sealed ZIP is in the blob store.'),
      byte_length: sys('Size of the ZIP in bytes.'),
      created_at: sys('When it was made.'),
      expires_at: sys('When the link stops working (7 days).'),
      downloaded_at: sys('When it was downloaded (once).'),
      shredded_at: sys('When the data key was erased and the blob deleted.'),
    },
  },
  privacy_masking_keys: {
    category: 'system',
    retention: 'key_lifecycle',
    description: "The installation's key for HMAC masking and pseudonyms after an erasure (src/privacy/subjects/), wrapped by the root key.",
    columns: {
      id: sys('Random key identifier, bound into the wrapping context.'),
      root_key_id: sys('Which KeyProvider root key wraps it (an id, never the key).'),
      wrapped_key: sys('Secret: the masking key wrapped by the root key. Never logged or exported.'),
      created_at: sys('When it was generated.'),
    },
  },
  audit_pseudonymisations: {
    category: 'system',
    retention: 'audit_policy',
    description:
      'Audit events whose personal fields were pseudonymised by an erasure: the hash each now verifies against, attested by a later audit event in the same chain. Holds no personal data.',
    columns: {
      chain: sys('Chain of the pseudonymised event.'),
      chain_seq: sys('Position of the pseudonymised event in its chain.'),
      event_id: sys("Id of the 'audit.pseudonymised' event that attests it."),
      redacted_hash: sys('SHA-256 over prev_hash and the canonical event as it reads after pseudonymisation.'),
      redacted_at: sys('When it was pseudonymised.'),
    },
  },
  privacy_seed_applied: {
    category: 'system',
    retention: 'register_lifetime',
    description: 'Which versions of the built-in processing-register seed were applied, so a seed never runs twice over the operator\'s edits.',
    columns: {
      seed_version: sys('Version name of the seed (e.g. 2019-07-05.v1).'),
      applied_at: sys('When it was applied.'),
    },
  },
  privacy_register_settings: {
    category: 'crm',
    retention: 'register_lifetime',
    description: "The installation's controller details for the record of processing (GDPR Art. 30(1)(a), (g)), set by the operator: one row.",
    columns: {
      id: sys('Always true: the table holds one row.'),
      controller_name: crm('Name of the organisation operating this installation (the controller of CRM and System Data).'),
      controller_contact: crm('Contact details of the controller; may name a person.', 'personal'),
      dpo_contact: crm('Contact details of the data protection officer; may name a person.', 'personal'),
      representative: crm("Contact details of the controller's representative (Art. 27), where one is needed; may name a person.", 'personal'),
      organisational_measures: crm('Organisational security measures (Art. 32) the operator applies, in its own words.'),
      transfer_statement: crm('General statement on transfers outside the UK/EEA shown in the privacy notice.'),
      updated_at: crm('When the settings last changed.'),
      updated_by: crm('Who last changed them (an operator account or user id).', 'identifier'),
    },
  },
  privacy_purposes: {
    category: 'system',
    retention: 'register_lifetime',
    description: "Purposes of processing as data (the processing register): what for, why, lawful basis for individuals and businesses, data categories, recipients, retention and transfers. Seeded from the seed privacy policy; edited by the operator. Describes processing, holds no data about people.",
    columns: {
      id: sys('Random identifier.'),
      key: sys('Stable key (e.g. delivery_of_requested_services.provide_service_access).'),
      group_key: sys('Group of purposes (e.g. relationship_management).'),
      group_title: sys('Title of the group as shown in the notice.'),
      position: sys('Order in the register and the notice.'),
      name: sys('What the data is used for.'),
      reasons: sys('Why: the reasons given for the purpose.'),
      basis_individual: sys('Lawful bases (GDPR Art. 6(1)) where the data subject is an individual.'),
      basis_business: sys('Lawful bases where the data subject is a business (or its users).'),
      categories: sys('Data categories processed (content, crm, smart, system).'),
      data_subjects: sys('Categories of data subjects.'),
      recipients: sys('Keys of the sub-processors and other recipients the data is disclosed to for this purpose.'),
      retention_rules: sys("Retention rules (registry.ts) that apply; null means the rules the registry declares for the purpose's categories."),
      transfers: sys('Transfers outside the country or region, as stated.'),
      transfer_safeguards: sys('Safeguards for those transfers (Art. 46), as stated.'),
      notes: sys('Transcription notes and remarks.'),
      source: sys('seed (from the seed document) or operator (added by the operator).'),
      retired_at: sys('When the operator withdrew the purpose (kept for the history).'),
      created_at: sys('When the row was created.'),
      updated_at: sys('When the row last changed.'),
      edited_at: sys('When the operator last edited it (null: as seeded).'),
    },
  },
  privacy_subprocessors: {
    category: 'system',
    retention: 'register_lifetime',
    description: 'Sub-processors and other recipients (group companies, authorities) with purpose, data categories and location; planned engagements and removals carry their effective dates (advance notice).',
    columns: {
      id: sys('Random identifier.'),
      key: sys('Stable key (e.g. zendesk).'),
      kind: sys('sub_processor, group_company or authority.'),
      position: sys('Order in the list.'),
      name: sys('Name of the organisation.'),
      purpose: sys('What it does for us, as stated.'),
      basis_individual: sys('Lawful bases for the disclosure where the data subject is an individual.'),
      basis_business: sys('Lawful bases where the data subject is a business.'),
      categories: sys('Data categories it receives.'),
      categories_note: sys('Qualification of the categories as stated (e.g. "Limited CRM Information").'),
      location: sys('Where it processes the data, as stated.'),
      regions: sys('The regions (uk, eea, us) that location names, for transfer checks.'),
      transfer_safeguards: sys('Safeguards for transfers to it (e.g. standard contractual clauses).'),
      source: sys('seed or operator.'),
      effective_from: sys('When it is (or was) engaged; null when in place before the register.'),
      ends_at: sys('When it stops (or stopped) being used.'),
      created_at: sys('When the row was created.'),
      updated_at: sys('When the row last changed.'),
      edited_at: sys('When the operator last edited it (null: as seeded).'),
    },
  },
  privacy_register_changes: {
    category: 'system',
    retention: 'register_lifetime',
    description: 'History of every change to the processing and sub-processor registers: who, when, what, and when it takes effect.',
    columns: {
      id: sys('Random identifier.'),
      seq: sys('Order of the changes.'),
      entity: sys('register, settings, purpose or subprocessor.'),
      entity_key: sys('Key of the purpose or sub-processor changed.'),
      action: sys('seeded, created, updated, retired, restored, removal_planned or removed.'),
      summary: sys('One line saying what changed.'),
      changes: {
        category: 'system',
        personal: 'personal',
        description: 'Field-by-field before and after values; for settings these can include contact details that name a person.',
      },
      actor_type: sys('operator, user or system.'),
      actor_id: sysPersonal('Who made the change: an operator account (cli:<name>) or a user id.', 'identifier'),
      recorded_at: sys('When the change was made.'),
      effective_at: sys('When the change takes effect (later than recorded_at for advance notice).'),
    },
  },
  privacy_disclosures: {
    category: 'system',
    retention: 'disclosure_record',
    description:
      "The disclosure log: requests from law enforcement, courts, regulators and other third parties, the decision, and what was disclosed (described by category, never copied). Kept by the operator as controller (legal and regulatory risk management).",
    columns: {
      id: sys('Random identifier.'),
      reference: sys('Human reference, DR-<year>-<number>.'),
      requester_kind: sys('law_enforcement, court, regulator, government or other_third_party.'),
      authority: sys('The organisation that asked (e.g. a police force); an organisation, not a person.'),
      jurisdiction: sys('Country or legal system the request was made under.'),
      contact: sysPersonal('Contact at the authority (often an officer\'s name, rank and address).', 'personal'),
      legal_basis: sys('Legal basis the requester cited (statute, order, warrant).'),
      tenant_id: sys('Customer whose data was asked about, if any (for notice to the customer).'),
      requested: sysPersonal('What was requested, in the words of the request; may name the person asked about.', 'personal'),
      requested_categories: sys('Data categories requested (content, crm, smart, system).'),
      status: sys('received, approved, refused, disclosed or challenged.'),
      disclosed_categories: sys('Data categories actually disclosed.'),
      disclosed_description: sysPersonal('Description of what was disclosed (never the data itself); may name the person.', 'personal'),
      decision_reason: sys('Why the request was approved, refused or challenged.'),
      approved_by: sysPersonal('Who approved or refused it (an operator or officer).', 'identifier'),
      received_at: sys('When the request was received.'),
      decided_at: sys('When it was approved, refused or challenged.'),
      disclosed_at: sys('When data was disclosed.'),
      customer_notified_at: sys('When the affected customer was told (null: not told).'),
      subject_notified_at: sys('When the affected person was told (null: not told).'),
      gag: sys('A non-disclosure order forbids telling the customer or person.'),
      gag_until: sys('When the non-disclosure order ends, if known.'),
      notes: sysPersonal('Operator notes.', 'personal'),
      recorded_by: sysPersonal('Who entered the request (an operator account, cli:<name>).', 'identifier'),
      created_at: sys('When the entry was made.'),
      updated_at: sys('When the entry last changed.'),
    },
  },
  tenant_domains: {
    category: 'crm',
    retention: 'crm_account_lifetime',
    description: 'Mail domains a tenant claims, verified by a DNS TXT record: a verified domain lets the tenant take in free accounts on it (after notice).',
    columns: {
      id: crm('Random identifier.'),
      tenant_id: crm('The tenant claiming the domain.'),
      domain: crm('The domain, lower-case (an organisation\'s domain, not a person\'s address).'),
      token: crm('Random token the tenant publishes in a TXT record; not a secret (it is public in DNS once published).'),
      created_by: crm('Administrator who added the domain.', 'identifier'),
      created_at: crm('When the domain was added.'),
      last_checked_at: crm('When the TXT record was last looked up.'),
      last_error: crm('Why the last check failed (no record, wrong token, DNS error); an error code and text, no personal data.'),
      verified_at: crm('When the record was found with the token (null: not verified).'),
    },
  },
  account_transfers: {
    category: 'crm',
    retention: 'crm_account_lifetime',
    description:
      'Offers to move a free account into the business tenant that verified the domain of its address: the notice, the acceptance or due date, and the result (counts of what moved). Evidence that the person was told before the business became controller.',
    columns: {
      id: crm('Random identifier.'),
      user_id: crm('The free account offered for transfer.', 'identifier'),
      from_tenant_id: crm('The free tenant the account leaves.'),
      to_tenant_id: crm('The business tenant it joins.'),
      domain_id: crm('The verified domain that triggered the offer.'),
      status: crm('offered, completed or cancelled.'),
      offered_at: crm('When the offer was made.'),
      notice_sent_at: crm('When the notice email was accepted by the mail relay.'),
      due_at: crm('When the transfer happens without acceptance (end of the notice period).'),
      accepted_at: crm('When the person accepted (null: moved at the due date or not yet).', 'personal'),
      completed_at: crm('When the account was moved.'),
      cancelled_at: crm('When the offer was withdrawn.'),
      cancel_reason: crm('Why it was withdrawn (domain released, account closed, administrator).'),
      moved: crm('Counts of what moved (messages, objects re-wrapped, labels copied); no content.'),
    },
  },
  communication_preferences: {
    category: 'crm',
    retention: 'consent_evidence',
    description:
      'Communication preferences per person (normalised address) and kind of optional email: granted, withdrawn, or objected (marketing; GDPR Art. 21(2), sticky). No row: never opted in, nothing optional is sent.',
    columns: {
      id: crm('Random identifier (job payloads name it instead of the address).'),
      email: crm('Normalised address of the person.', 'identifier'),
      kind: crm('marketing, product_updates or subprocessor_changes.'),
      state: crm('granted, withdrawn or objected.'),
      via: crm('Channel of the latest change: account, double_opt_in, unsubscribe_link, administrator or subject_request.'),
      notice_version: crm('Version of the privacy notice in force when the latest change was made.'),
      updated_at: crm('When the latest change was made.'),
    },
  },
  communication_preference_changes: {
    category: 'crm',
    retention: 'consent_evidence',
    description: 'Every change of a communication preference (old and new state, when, channel, notice version): the evidence of consent and of its withdrawal.',
    columns: {
      id: crm('Random identifier.'),
      seq: crm('Order of the changes.'),
      email: crm('Normalised address of the person.', 'identifier'),
      kind: crm('marketing, product_updates or subprocessor_changes.'),
      from_state: crm('State before: unset, granted, withdrawn or objected.'),
      to_state: crm('State after: granted, withdrawn or objected.'),
      via: crm('account, double_opt_in, unsubscribe_link, administrator or subject_request.'),
      request_id: crm('The subject request that made the change, if any.'),
      actor_id: crm('Who made it when not the person: a user id or operator account (cli:<name>).', 'identifier'),
      notice_version: crm('Version of the privacy notice in force when the change was made.'),
      changed_at: crm('When.'),
    },
  },
  consent_confirmations: {
    category: 'system',
    retention: 'consent_link_lifetime',
    description: 'Pending double opt-in requests: the SHA-256 of the emailed confirmation token (never the token), for 7 days.',
    columns: {
      id: sys('Random identifier (the email job names it).'),
      token_hash: sys('SHA-256 of the confirmation token; empty until the email is sent.'),
      email: sysPersonal('Address that asked to receive the email (unproven until confirmed).', 'identifier'),
      kind: sys('Kind of email asked for.'),
      notice_version: sys('Version of the privacy notice in force when it was asked for.'),
      created_at: sys('When it was asked for.'),
      expires_at: sys('When the link stops working.'),
      confirmed_at: sys('When the link was followed.'),
    },
  },
  unsubscribe_links: {
    category: 'system',
    retention: 'consent_link_lifetime',
    description: 'One-click unsubscribe links (RFC 8058), one per optional email sent: the SHA-256 of the token (never the token), for 13 months.',
    columns: {
      token_hash: sys('SHA-256 of the unsubscribe token.'),
      email: sysPersonal('Address the email was sent to.', 'identifier'),
      kind: sys('Kind of email it unsubscribes from.'),
      created_at: sys('When the email was sent.'),
      expires_at: sys('When the link stops working.'),
      used_at: sys('When it was first used.'),
    },
  },
  retention_policies: {
    category: 'crm',
    retention: 'crm_account_lifetime',
    description: "Retention periods that override the registry's defaults, per tenant (set by its administrators) or for the whole installation (tenant_id NULL, set by the operator).",
    columns: {
      tenant_id: crm('Tenant the period applies to; NULL for the installation-wide default.'),
      key: crm('What it governs: content, content_expired_grace, system or audit.'),
      period: crm('ISO-8601 duration (e.g. P2Y); NULL keeps the data until something else ends it.'),
      updated_at: crm('When it was last set.'),
      updated_by: crm('Who set it: a user id or an operator account (cli:<name>).', 'identifier'),
    },
  },
  legal_holds: {
    category: 'system',
    retention: 'legal_hold_record',
    description: 'Legal holds on a whole tenant, one user or one message: while in force, retention keeps what they cover. Released holds stay as a record.',
    columns: {
      id: sys('Random identifier.'),
      tenant_id: sys('Tenant the hold is in.'),
      scope: sys('tenant, user or message.'),
      user_id: sysPersonal('The user whose messages and trail are held (scope user).', 'identifier'),
      message_id: sys('The message held (scope message).'),
      reason: sysPersonal('Why the hold was placed (e.g. a case reference); may name people.', 'personal'),
      placed_by: sysPersonal('Who placed it: a user id or an operator account.', 'identifier'),
      placed_at: sys('When it was placed.'),
      released_by: sysPersonal('Who released it.', 'identifier'),
      released_at: sys('When it was released (NULL while in force).'),
      release_reason: sysPersonal('Why it was released; may name people.', 'personal'),
    },
  },
  retention_runs: {
    category: 'system',
    retention: 'audit_policy',
    description: 'One report per retention run (scheduled, CLI or API, dry runs too): what was deleted, crypto-shredded and held back, as counts per category and table, never values.',
    columns: {
      id: sys('Random identifier.'),
      tenant_id: sys('Tenant the run was limited to; NULL for every tenant and the installation.'),
      dry_run: sys('True when nothing was changed (the counts say what would have been).'),
      triggered_by: sys('schedule (the daily job), cli, api or direct (a caller such as the benchmark).'),
      actor: sysPersonal('Who started it: a user id or operator account; NULL for the schedule.', 'identifier'),
      status: sys('running, completed or failed.'),
      as_of: sys('The time retention periods were measured from.'),
      started_at: sys('When the run started.'),
      heartbeat_at: sys('Last sign of life of a running run (a stale one is marked failed).'),
      finished_at: sys('When it ended.'),
      counts: sys('Counts per category and table: deleted, shredded, held.'),
      error: sys('Error code when it failed.'),
    },
  },
  retention_run_tenants: {
    category: 'system',
    retention: 'audit_policy',
    description: "A tenant's share of a retention run's counts, so its administrators see their own report only.",
    columns: {
      run_id: sys('The run.'),
      tenant_id: sys('The tenant.'),
      counts: sys('Counts per category and table for this tenant.'),
    },
  },
  audit_checkpoints: {
    category: 'system',
    retention: 'audit_policy',
    description: 'Where an audit chain starts after retention deleted its oldest events: verification starts here instead of at the genesis hash.',
    columns: {
      chain: sys('Chain name (tenant id or system).'),
      first_seq: sys('First position still stored.'),
      prev_hash: sys('Hash of the last deleted event: the prev_hash the first kept event must carry.'),
      removed: sys('Events deleted from the start of the chain so far.'),
      updated_at: sys('When the checkpoint last moved.'),
    },
  },
  schema_migrations: {
    category: 'system',
    retention: 'schema_permanent',
    description: 'Which migrations have been applied, with checksums so edited migrations are detected.',
    columns: {
      id: sys('Numeric prefix of the migration file.'),
      name: sys('Rest of the migration file name.'),
      checksum: sys('SHA-256 (hex) of the file as applied.'),
      applied_at: sys('When it was applied.'),
    },
  },
};

/** A column with its table, as returned by the helpers below. */
export interface DeclaredColumn extends ColumnDeclaration {
  table: string;
  column: string;
  /** The column's own retention rule, or its table's. */
  retention: RetentionRule;
}

/** Every declared column, flattened, with retention resolved. */
export function allColumns(registry: Record<string, TableDeclaration> = REGISTRY): DeclaredColumn[] {
  return Object.entries(registry).flatMap(([table, t]) =>
    Object.entries(t.columns).map(([column, c]) => ({ ...c, table, column, retention: c.retention ?? t.retention })),
  );
}

/** Names of the tables whose (table-level) category is `category`. */
export function tablesByCategory(category: DataCategory, registry: Record<string, TableDeclaration> = REGISTRY): string[] {
  return Object.entries(registry)
    .filter(([, t]) => t.category === category)
    .map(([name]) => name);
}

/** Columns whose category is `category`, wherever their table is filed. */
export function columnsByCategory(category: DataCategory, registry: Record<string, TableDeclaration> = REGISTRY): DeclaredColumn[] {
  return allColumns(registry).filter((c) => c.category === category);
}

/** Columns holding personal data (identifiers and data about people): subject requests start here. */
export function personalColumns(registry: Record<string, TableDeclaration> = REGISTRY): DeclaredColumn[] {
  return allColumns(registry).filter((c) => c.personal !== 'none');
}

/** The retention rule that governs `table`, or `table.column` when given. */
export function retentionOf(table: string, column?: string, registry: Record<string, TableDeclaration> = REGISTRY): RetentionRule {
  const t = registry[table];
  if (!t) throw errors.internal('registry_undeclared', `table ${table} is not declared in the registry`);
  if (column === undefined) return t.retention;
  const c = t.columns[column];
  if (!c) throw errors.internal('registry_undeclared', `column ${table}.${column} is not declared in the registry`);
  return c.retention ?? t.retention;
}

/** True when `value` is one of {@link DATA_CATEGORIES}. */
export function isDataCategory(value: string): value is DataCategory {
  return (DATA_CATEGORIES as readonly string[]).includes(value);
}

/** True when `value` names a rule in {@link RETENTION_RULES}. */
export function isRetentionRule(value: string): value is RetentionRule {
  return Object.hasOwn(RETENTION_RULES, value);
}
