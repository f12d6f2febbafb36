// Vocabulary of the processing register: purposes of processing, sub-processors, the
// controller's details and the history of changes. The record of processing, the privacy
// notice and the sub-processor page are all generated from these, joined with the category
// registry (src/storage/database/registry.ts).
import type { DataCategory, RetentionRule } from '../../storage/database/registry.ts';
import type { Region } from '../../shared/regions.ts';
import type { AuditEventInput } from '../../audit/audit.model.ts';

/** Lawful bases of GDPR Art. 6(1), plus 'not_applicable' where the seed says "N/A". */
export const LAWFUL_BASES = ['consent', 'contract', 'legal_obligation', 'vital_interests', 'public_task', 'legitimate_interests', 'not_applicable'] as const;

/** One of {@link LAWFUL_BASES}. */
export type LawfulBasis = (typeof LAWFUL_BASES)[number];

/** How each basis is named in the seed documents and the notice, with its article. */
export const LAWFUL_BASIS_LABELS: Record<LawfulBasis, { label: string; article: string | null }> = {
  consent: { label: 'Consent', article: 'Art. 6(1)(a)' },
  contract: { label: 'Performance of contract', article: 'Art. 6(1)(b)' },
  legal_obligation: { label: 'Legal obligation', article: 'Art. 6(1)(c)' },
  vital_interests: { label: 'Vital interests', article: 'Art. 6(1)(d)' },
  public_task: { label: 'Public task', article: 'Art. 6(1)(e)' },
  legitimate_interests: { label: 'Legitimate interests', article: 'Art. 6(1)(f)' },
  not_applicable: { label: 'N/A', article: null },
};

/** How the seed documents name each data category. */
export const CATEGORY_LABELS: Record<DataCategory, string> = {
  content: 'Content',
  crm: 'CRM Information',
  smart: 'Smart Data',
  system: 'System Data',
};

/**
 * Sealpost's role for each category (seed 000, "Is Egress a Controller or Processor"):
 * controller of CRM and System Data (Art. 30(1) record), processor of Content and Smart Data
 * held for customers (Art. 30(2) record).
 */
export const CATEGORY_ROLES: Record<DataCategory, 'controller' | 'processor'> = {
  content: 'processor',
  crm: 'controller',
  smart: 'processor',
  system: 'controller',
};

/** Kinds of recipient in the sub-processor register. */
export const RECIPIENT_KINDS = ['sub_processor', 'group_company', 'authority'] as const;

/** One of {@link RECIPIENT_KINDS}. */
export type RecipientKind = (typeof RECIPIENT_KINDS)[number];

/** Where a register row came from. */
export type RegisterSource = 'seed' | 'operator';

/** One purpose of processing: one row of the seed's purpose tables. */
export interface Purpose {
  id: string;
  /** Stable key, `<group>.<purpose>[.<reason>]`. */
  key: string;
  groupKey: string;
  groupTitle: string;
  position: number;
  /** "What we use it for". */
  name: string;
  /** "Our reasons"; null where the seed gives none. */
  reasons: string | null;
  /** "Our lawful basis where you're an individual"; empty when not stated. */
  basisIndividual: LawfulBasis[];
  /** "Our lawful basis where you're a business"; empty when not stated. */
  basisBusiness: LawfulBasis[];
  /** "Information type"; empty when not stated. */
  categories: DataCategory[];
  dataSubjects: string[];
  /** Keys of sub-processors / recipients; empty when none are linked. */
  recipients: string[];
  /** Retention rules; null means "as the registry declares for these categories". */
  retentionRules: RetentionRule[] | null;
  transfers: string | null;
  transferSafeguards: string | null;
  notes: string | null;
  source: RegisterSource;
  retiredAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** When the operator last edited it; null while it is as seeded. */
  editedAt: Date | null;
}

/** A sub-processor or other recipient of personal data. */
export interface Subprocessor {
  id: string;
  key: string;
  kind: RecipientKind;
  position: number;
  name: string;
  /** "Our reasons": what it does for us. */
  purpose: string;
  basisIndividual: LawfulBasis[];
  basisBusiness: LawfulBasis[];
  categories: DataCategory[];
  /** Qualification of the categories as stated (e.g. "Limited CRM Information"). */
  categoriesNote: string | null;
  /** "Data residency", as stated. */
  location: string | null;
  /** The regions the location names; empty when it names none precisely. */
  regions: Region[];
  transferSafeguards: string | null;
  source: RegisterSource;
  /** When it is engaged; in the future for a planned addition; null when in place before the register. */
  effectiveFrom: Date | null;
  /** When it stops being used; in the future for a planned removal. */
  endsAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  editedAt: Date | null;
}

/** Installation-wide controller details (one row). Null fields are gaps in the record. */
export interface RegisterSettings {
  controllerName: string | null;
  controllerContact: string | null;
  dpoContact: string | null;
  representative: string | null;
  organisationalMeasures: string | null;
  transferStatement: string | null;
  updatedAt: Date | null;
  updatedBy: string | null;
}

/** Entities whose changes are recorded. */
export type RegisterEntity = 'register' | 'settings' | 'purpose' | 'subprocessor';

/** What happened to an entity. */
export type RegisterAction = 'seeded' | 'created' | 'updated' | 'retired' | 'restored' | 'removal_planned' | 'removed';

/** Who changed the register: as the audit log names actors (an operator at the CLI: cli:<account>). */
export type RegisterActor = AuditEventInput['actor'];

/** One recorded change: who, when, what, and when it takes effect. */
export interface RegisterChange {
  id: string;
  seq: number;
  entity: RegisterEntity;
  entityKey: string | null;
  action: RegisterAction;
  summary: string;
  /** Field → { from, to }. */
  changes: Record<string, { from: unknown; to: unknown }>;
  actorType: string;
  actorId: string | null;
  recordedAt: Date;
  effectiveAt: Date;
}

/** Formats lawful bases the way the seed writes them ("Performance of contract, Legitimate interests"). */
export function formatBases(bases: readonly LawfulBasis[]): string {
  return bases.map((b) => LAWFUL_BASIS_LABELS[b].label).join(', ');
}

/** Formats data categories the way the seed writes them. */
export function formatCategories(categories: readonly DataCategory[]): string {
  return categories.map((c) => CATEGORY_LABELS[c]).join(', ');
}
