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
  schema_permanent: {
    description: 'Schema bookkeeping with no data about people or content: kept as long as the installation.',
    defaultPeriod: null,
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
      occurred_at: sys('When the event was recorded (database clock, millisecond precision).'),
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
      prev_hash: sys('Hash of the previous event in the chain (32 zero bytes for the first).'),
      hash: sys('SHA-256 over prev_hash and the canonical event; see docs/database.md.'),
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
