// The processing register as first seeded: the purpose tables and the "Who we may share your
// information with" table of the seed platform privacy policy (seed-document.txt, a copy of
// ../shared/seeds/002_3b4f72368e410c33.txt, "last updated 5 July 2019"), transcribed as data.
//
// Rules of the transcription, so that nothing is invented:
// - names and reasons are quoted verbatim (register.seed.test.ts checks every one against the
//   document); lawful bases and information types are the seed's words mapped onto the
//   vocabularies of purpose.model.ts and registry.ts;
// - where the seed puts several reasons (each with its own lawful basis) under one purpose, each
//   reason is its own row sharing the purpose's name, because each is a processing activity;
// - what the seed does not state stays empty (recipients per purpose, transfer safeguards,
//   data subjects of the trailing marketing paragraph…), and the record of processing flags it
//   as a gap instead of filling it in.
//
// Seeding runs at every start-up but applies each SEED_VERSION once (privacy_seed_applied), so
// the operator's edits and deletions are never undone. A future seed version may only add rows
// with new keys; rows that already exist are never touched (ON CONFLICT DO NOTHING).
import { appendAuditEvent } from '../../audit/audit.service.ts';
import type { Database } from '../../storage/database/database.ts';
import type { DataCategory } from '../../storage/database/registry.ts';
import type { Region } from '../../shared/regions.ts';
import type { LawfulBasis, RecipientKind } from './purpose.model.ts';

/** Version of this seed; bump only when adding rows with new keys. */
export const SEED_VERSION = 'egress-platform-privacy-2019-07-05.v1';

/** A purpose as the seed states it. */
export interface SeedPurpose {
  key: string;
  name: string;
  reasons: string | null;
  basisIndividual: LawfulBasis[];
  basisBusiness: LawfulBasis[];
  categories: DataCategory[];
  transfers?: string;
  notes?: string;
}

/** A group of purposes: one table of the seed. */
export interface SeedGroup {
  key: string;
  title: string;
  purposes: SeedPurpose[];
}

/** A recipient as the seed states it. */
export interface SeedSubprocessor {
  key: string;
  kind: RecipientKind;
  name: string;
  purpose: string;
  basisIndividual: LawfulBasis[];
  basisBusiness: LawfulBasis[];
  categories: DataCategory[];
  categoriesNote?: string;
  location: string;
  regions: Region[];
}

const LI: LawfulBasis = 'legitimate_interests';
const CON: LawfulBasis = 'contract';
const LO: LawfulBasis = 'legal_obligation';
const CONSENT: LawfulBasis = 'consent';

// The seed's column headings name the two kinds of data subject; its opening says whose data
// it is: "information about you (and, if you’re a business, your users)".
const SUBJECT_INDIVIDUAL = 'Customers who are individuals (“where you’re an individual”)';
const SUBJECT_BUSINESS = 'Business customers and their users (“where you’re a business”; “and, if you’re a business, your users”)';

/** Data subjects implied by which lawful-basis columns of the seed apply. */
export function seedDataSubjects(p: Pick<SeedPurpose, 'basisIndividual' | 'basisBusiness'>): string[] {
  const applies = (b: LawfulBasis[]) => b.length > 0 && !b.includes('not_applicable');
  return [...(applies(p.basisIndividual) ? [SUBJECT_INDIVIDUAL] : []), ...(applies(p.basisBusiness) ? [SUBJECT_BUSINESS] : [])];
}

const ALL: DataCategory[] = ['crm', 'system', 'content', 'smart'];

/** The six purpose tables of "How we use the data that we collect". */
export const SEED_GROUPS: SeedGroup[] = [
  {
    key: 'relationship_management',
    title: 'Relationship management',
    purposes: [
      {
        key: 'relationship_management.manage_relationship.pre_contract',
        name: 'Manage, track and develop our relationship with you and your employer or organisation',
        reasons: 'Processing to complete any pre-contract processes that you request.',
        basisIndividual: [CON],
        basisBusiness: [LI],
        categories: ['crm'],
      },
      {
        key: 'relationship_management.manage_relationship.productive_relationship',
        name: 'Manage, track and develop our relationship with you and your employer or organisation',
        reasons:
          'To ensure that we have a productive relationship where we’re able to meet customer needs and respond to them both proactively and reactively. This is core to our business and forms the cornerstone of success. If we were unable to process personal data for this purpose, our business would cease to function properly.',
        basisIndividual: [LI],
        basisBusiness: [LI],
        categories: ['crm', 'system'],
      },
      {
        key: 'relationship_management.manage_relationship.sales_opportunities',
        name: 'Manage, track and develop our relationship with you and your employer or organisation',
        reasons:
          'To contact you in relation to potential sales opportunities, and to understand you and your employer or organisation better through the use of third party data.',
        basisIndividual: [LI],
        basisBusiness: [LI],
        categories: ['crm'],
      },
      {
        key: 'relationship_management.manage_relationship.reports_and_profiles',
        name: 'Manage, track and develop our relationship with you and your employer or organisation',
        reasons: 'We may use your information to create reports or profiles for marketing and analytics purposes.',
        basisIndividual: [LI],
        basisBusiness: [LI],
        categories: ['crm', 'system'],
      },
    ],
  },
  {
    key: 'delivery_of_requested_services',
    title: 'Delivery of requested services',
    purposes: [
      {
        key: 'delivery_of_requested_services.service_access_and_support',
        name: 'Provide the service access and support to you',
        reasons: 'To ensure that we meet our contractual obligations to you.',
        basisIndividual: [CON],
        basisBusiness: [LI],
        categories: ALL,
      },
      {
        key: 'delivery_of_requested_services.guidance',
        name: 'Provide guidance on our services',
        reasons: 'This could include responding to pre-contract questions, and also dealing with support or service questions during our contract with you.',
        basisIndividual: [CON],
        basisBusiness: [LI],
        categories: ALL,
      },
      {
        key: 'delivery_of_requested_services.complaints_and_support_tickets',
        name: 'Respond to and resolve complaints, queries, requests and support tickets',
        reasons:
          'To respond to your queries, complaints and to ensure that you’re able to use our platform and services appropriately. This may involve the recording of calls that you make to our support desks or sales teams for training and monitoring purposes. We use a ‘follow-the-sun’ support structure which means that calls may be recorded outside the country you’re located in depending on the time of your call and the support staff responding. Processing of Content may be required for resolving some support tickets.',
        basisIndividual: [LI],
        basisBusiness: [LI],
        categories: ALL,
        transfers:
          'We use a ‘follow-the-sun’ support structure which means that calls may be recorded outside the country you’re located in depending on the time of your call and the support staff responding.',
      },
      {
        key: 'delivery_of_requested_services.services_functioning',
        name: 'Ensure our services are functioning properly',
        reasons:
          'To ensure that we can provide the services that we’re contracted to provide. This may include both automated and manual processing (but not automated decision making in the context of the Data Protection laws in the UK).',
        basisIndividual: [LI, CON],
        basisBusiness: [LI],
        categories: ALL,
      },
      {
        key: 'delivery_of_requested_services.issues_and_updates_alerts',
        name: 'Alert you to issues or updates to your services',
        reasons: 'To ensure that you’re presented with relevant messaging based on the access and services that you’ve purchased from us and our group.',
        basisIndividual: [LI],
        basisBusiness: [LI],
        categories: ALL,
      },
      {
        key: 'delivery_of_requested_services.scan_metadata_and_encrypt',
        name: 'Scan meta data to provide you with feedback on the interactions you are about to make, to apply Risk-Based Protection or to decrypt using Smart Authentication, or to encrypt or unencrypt email traffic and Content',
        reasons:
          'To provide our Risk-based Protection, Smart Authentication and secure email services. Risk-based Protection and Smart Authentication use certain Smart Data in order to understand your, and any of your users’, behaviour and associations. Secure email requires the processing to meet the encryption and decryption obligations where you’ve requested this service.',
        basisIndividual: [CON],
        basisBusiness: [LI],
        categories: ALL,
      },
      {
        key: 'delivery_of_requested_services.third_party_plugins',
        name: 'Enable third party plug-ins you request',
        reasons: 'To integrate with and respond to third party plug-ins in order to provide the requested services.',
        basisIndividual: [CON],
        basisBusiness: [LI],
        categories: ALL,
      },
      {
        key: 'delivery_of_requested_services.service_information',
        name: 'Service Information by electronic means',
        reasons:
          'We may send, or otherwise display, to you information about the services you receive from us (e.g. how you use them, how you could do so more efficiently, faults, issues, updates or notices of times when they’ll not be available).',
        basisIndividual: [CON],
        basisBusiness: [LI],
        categories: ['crm', 'system', 'smart'],
      },
    ],
  },
  {
    key: 'contractual_obligations_and_rights',
    title: 'Delivering on contractual obligations and exercising rights',
    purposes: [
      {
        key: 'contractual_obligations_and_rights.payments',
        name: 'Make and manage payments made by, or due to, you',
        reasons: 'Processing to achieve this purpose may take place both pre and post contract agreement (e.g. initial subscription payment and renewals).',
        basisIndividual: [CON, LI],
        basisBusiness: [LI],
        categories: ['crm', 'system'],
      },
      {
        key: 'contractual_obligations_and_rights.audit_obligations.own_rights_and_compliance',
        name: 'Meet and perform our audit obligations',
        reasons: 'We recognise that processing may be required in order to exercise our rights under the terms of our contract with you, or for our own compliance purposes.',
        basisIndividual: [LI, LO],
        basisBusiness: [LI, LO],
        categories: ['crm', 'system', 'smart'],
      },
      {
        key: 'contractual_obligations_and_rights.audit_obligations.customer_audits',
        name: 'Meet and perform our audit obligations',
        reasons: 'Processing may be required where requested by a customer to meet any audits conducted in accordance with the terms of our contracts with them.',
        basisIndividual: [CON],
        basisBusiness: [LI],
        categories: ['crm', 'system', 'smart'],
      },
      {
        key: 'contractual_obligations_and_rights.recover_money_owed',
        name: 'Recover money owed to us or other companies in our group',
        reasons: 'To ensure that payments are both made and timely.',
        basisIndividual: [LI],
        basisBusiness: [LI],
        categories: ['crm'],
      },
      {
        key: 'contractual_obligations_and_rights.data_subject_rights',
        name: 'Responding to and actioning any request by you in exercising your legal rights in relation to your personal data',
        reasons:
          'Processing may be required to provide confirmation of information to you (e.g. if you make a data subject access or data portability request) or in order to action a request that you make (e.g. correction, deletion, erasure or restriction).',
        basisIndividual: [LI, LO],
        basisBusiness: [LI],
        categories: ['crm', 'system', 'smart', 'content'],
      },
      {
        key: 'contractual_obligations_and_rights.exercising_our_rights',
        name: 'Exercising our rights',
        reasons:
          'We may need to process certain information (including personal data) in order to exercise or enforce our rights under our agreement with you (including this and any other relevant policies).',
        basisIndividual: [LI, LO],
        basisBusiness: [LI, LO],
        categories: ['crm', 'system'],
      },
    ],
  },
  {
    key: 'legal_and_regulatory_risk',
    title: 'Legal and regulatory risk management',
    purposes: [
      {
        key: 'legal_and_regulatory_risk.detect_and_prevent_crime',
        name: 'Detect and prevent crime',
        reasons: 'To ensure that we and our group can both detect and report criminal activity.',
        basisIndividual: [LI],
        basisBusiness: [LI],
        categories: ['crm', 'system', 'smart'],
      },
      {
        key: 'legal_and_regulatory_risk.manage_risk',
        name: 'Manage risk for us, our group and our customers',
        reasons: 'To ensure that we and our group can manage legal and regulatory risk and do so in the most appropriate and compliant manner.',
        basisIndividual: [LI, LO],
        basisBusiness: [LI],
        categories: ['crm', 'system', 'smart'],
      },
      {
        key: 'legal_and_regulatory_risk.legal_obligations',
        name: 'Obey our or our group’s legal obligations',
        reasons:
          'To ensure that we and our group can manage legal and regulatory risk and requests in the most appropriate and compliant manner. This may include adapting the way we and our group operates or engages to meet new or future obligations.',
        basisIndividual: [LI, LO],
        basisBusiness: [LI, LO],
        categories: ['crm', 'system', 'smart'],
      },
      {
        key: 'legal_and_regulatory_risk.accurate_records',
        name: 'Keep our records accurate and up-to-date',
        reasons: 'Processing to ensure we meet our obligations in respect of data accuracy (this may include acting in response to your notifications).',
        basisIndividual: [LI, LO],
        basisBusiness: [LI, LO],
        categories: ['crm'],
      },
      {
        key: 'legal_and_regulatory_risk.run_our_businesses',
        name: 'Run our and our group’s businesses in an efficient and proper way',
        reasons:
          'We use shared systems, activities, suppliers and sub-processors in order to help manage legal and regulatory risk within our group, and to operate in a way that ensures quality, consistency and security of service delivery.',
        basisIndividual: [LI],
        basisBusiness: [LI],
        categories: ['crm', 'system', 'smart'],
      },
    ],
  },
  {
    key: 'innovation_and_system_development',
    title: 'Innovation and system development',
    purposes: [
      {
        key: 'innovation_and_system_development.develop_new_systems',
        name: 'Develop new systems, features, functionality and ways to meet customer needs',
        reasons:
          'We have a legitimate interest to understand how our services are used, and to look at areas where customer needs could be met either as new functionality, or in improved ways.',
        basisIndividual: [LI],
        basisBusiness: [LI],
        categories: ['crm', 'system', 'smart'],
      },
      {
        key: 'innovation_and_system_development.study_usage',
        name: 'Study how customers and users use our services',
        reasons: 'We have a legitimate interest to understand how our services are used, and how customers benefit from the services that we provide to them.',
        basisIndividual: [LI],
        basisBusiness: [LI],
        categories: ['crm', 'system', 'smart'],
      },
      {
        key: 'innovation_and_system_development.test_new_products',
        name: 'Test new products and services',
        reasons: 'We have a legitimate interest in ensuring that prior to being launched, products and services operate in a secure and efficient manner.',
        basisIndividual: [LI],
        basisBusiness: [LI],
        categories: ['crm', 'system', 'smart'],
      },
      {
        key: 'innovation_and_system_development.exercise_contractual_rights',
        name: 'Exercise our contractual rights',
        reasons: 'To ensure that we appropriately protect ourselves and our group based upon our contractual rights.',
        basisIndividual: [LI],
        basisBusiness: [LI],
        categories: ['crm', 'system'],
      },
      {
        key: 'innovation_and_system_development.right_websites',
        name: 'Show you the right websites',
        reasons:
          'To ensure that you enter into any contractual relationship with the right company in our group. This also enables us to present content relevant to that jurisdiction where appropriate.',
        basisIndividual: [LI],
        basisBusiness: [LI],
        categories: ['crm', 'system'],
        notes: 'The seed lists the information type as “CRM Information, System Data, IP address”. Sealpost records IP addresses as System Data (e.g. sessions.ip, audit_events.ip in the registry).',
      },
      {
        key: 'innovation_and_system_development.anonymous_reports',
        name: 'To create anonymous reports and statistics',
        reasons:
          'We have a legitimate interest in understanding market risks, trends and activities and, where relevant, utilising the anonymous insights that we can gain from our services in the provision of both internal and publicly available reports, blogs and other communications.',
        basisIndividual: [LI],
        basisBusiness: [LI],
        categories: ['crm', 'system', 'smart'],
      },
    ],
  },
  {
    key: 'marketing_and_promotion',
    title: 'Marketing and promotion',
    purposes: [
      {
        key: 'marketing_and_promotion.marketing_activities',
        name: 'To develop and carry out marketing activities',
        reasons:
          'We have a legitimate interest to conduct marketing, promotional and other advertising activities in order to grow our brand, and the awareness of our products and services. We may use information that we source from third-party data providers to contact you where this is permitted by law. We may also use information we collect about the domain of your email address (e.g. about your employer or organisation, it’s sector/industry) or that we can relate back to you (e.g. through cookies) about the products you’re interested in to tailor our communications and make them more relevant to you.\n\nWhen you download a whitepaper through our website, the information you provide may be initially stored in the US or Singapore before being transferred to us if those countries are closer to you than the EEA or UK.',
        basisIndividual: [LI, CONSENT],
        basisBusiness: [LI],
        categories: ['crm', 'system'],
        transfers:
          'When you download a whitepaper through our website, the information you provide may be initially stored in the US or Singapore before being transferred to us if those countries are closer to you than the EEA or UK.',
      },
      {
        key: 'marketing_and_promotion.competitions_and_promotions',
        name: 'To enable your participation in competitions and promotions',
        reasons: 'Where you’ve elected to take part, we will process your information in order to enable you to participate.',
        basisIndividual: [CONSENT],
        basisBusiness: ['not_applicable'],
        categories: ['crm', 'system'],
      },
      {
        key: 'marketing_and_promotion.products_and_services_information',
        name: 'We may use information that we hold about you (or if you’re a business, your users) to send information about our and our group companies’ products and services.',
        reasons:
          'This may be by email or other electronic means available to us in the future. We may use other information available to us in order to tailor our communications. If you’re an individual in most circumstances we’ll only do this if we have your consent but there may be some situations where we have a legitimate interest in doing so (e.g. where you complete a purchase through our online ecommerce platform).',
        basisIndividual: [CONSENT, LI],
        basisBusiness: [],
        categories: [],
        notes:
          'Transcribed from the paragraph that follows the Marketing and promotion table; the seed gives it no table row, so the lawful basis where the data subject is a business and the information types are not stated.',
      },
    ],
  },
];

/** "Who we may share your information with" (the sub-processor table), in the seed's order. */
export const SEED_SUBPROCESSORS: SeedSubprocessor[] = [
  {
    key: 'microsoft',
    kind: 'sub_processor',
    name: 'Microsoft',
    purpose:
      'If you use Microsoft Office Online to edit documents within Egress Workspace, please be aware of how your Content is processed by Microsoft when using this tool.',
    basisIndividual: [CON],
    basisBusiness: [LI],
    categories: ['content'],
    location: 'Variable based on Microsoft policy',
    regions: [],
  },
  {
    key: 'microsoft_dynamics',
    kind: 'sub_processor',
    name: 'Microsoft Dynamics',
    purpose: 'Legacy system that was used by us and our group companies for customer relationship management services. It is being decommissioned.',
    basisIndividual: [LI],
    basisBusiness: [LI],
    categories: ['crm'],
    location: 'EEA',
    regions: ['eea'],
  },
  {
    key: 'salesforce',
    kind: 'sub_processor',
    name: 'Salesforce, Inc.',
    purpose: 'Our Group’s CRM platform, used by our group companies for customer relationship management services.',
    basisIndividual: [LI],
    basisBusiness: [LI],
    categories: ['crm'],
    location: 'EEA',
    regions: ['eea'],
  },
  {
    key: 'group_companies',
    kind: 'group_company',
    name: 'Egress Group companies',
    purpose:
      'We use shared systems (such as our CRM platform, account systems and other internal platforms and processes) in order to operate our group effectively. Your information may be stored on these shared systems and therefore be accessible to other companies within our group.',
    basisIndividual: [LI],
    basisBusiness: [LI],
    categories: ['crm', 'system', 'smart'],
    location: 'Generally hosted within EEA but may be transferred within the Group',
    regions: ['eea'],
  },
  {
    key: 'host_providers',
    kind: 'sub_processor',
    name: 'Host providers',
    purpose: 'If you subscribe to our services, we’ll host your Content on one or more of the providers listed on our website. Your Content will remain encrypted and these providers will not have access to it.',
    basisIndividual: [CON, LI],
    basisBusiness: [LI],
    categories: ['crm', 'system', 'content', 'smart'],
    location: 'Generally EEA. US hosting may be available through agreement.',
    regions: ['eea', 'us'],
  },
  {
    key: 'zendesk',
    kind: 'sub_processor',
    name: 'Zendesk, Inc.',
    purpose: 'Provides our support service system (including support ticket system and online chat service).',
    basisIndividual: [LI],
    basisBusiness: [LI],
    categories: ['crm'],
    categoriesNote: 'CRM Information, data that you provide as part of your support ticket (we ask that this is kept to the minimum necessary and that you don’t include Content)',
    location: 'EEA',
    regions: ['eea'],
  },
  {
    key: 'callitech_moneypenny',
    kind: 'sub_processor',
    name: 'CalliTech Limited (trading as MoneyPenny)',
    purpose: 'Provide overflow support call services, and transfer out-of-hours support calls to our engineers.',
    basisIndividual: [LI],
    basisBusiness: [LI],
    categories: ['crm'],
    location: 'UK',
    regions: ['uk'],
  },
  {
    key: 'logmein',
    kind: 'sub_processor',
    name: 'LogMeIn, Inc.',
    purpose:
      'Provide our webinars, conference calls and remote access to your device (if that is required) are provided by this entity. You’re able to determine if these are used (i.e. by accepting an invite to attend a webinar, conference call or by accepting our request to access your device – although this is rare).',
    basisIndividual: [LI],
    basisBusiness: [LI],
    categories: ['crm', 'system'],
    categoriesNote: 'CRM Information (data you provide when registering), System Data',
    location: 'EEA',
    regions: ['eea'],
  },
  {
    key: 'zoom',
    kind: 'sub_processor',
    name: 'Zoom Video Communications, Inc.',
    purpose:
      'Provide our webinars, conference calls and remote access to your device (if that is required) are provided by this entity. You’re able to determine if these are used (i.e. by accepting an invite to attend a webinar, conference call or by accepting our request to access your device – although this is rare).',
    basisIndividual: [LI, CONSENT],
    basisBusiness: [LI],
    categories: ['crm'],
    location: 'United States',
    regions: ['us'],
  },
  {
    key: 'communigator',
    kind: 'sub_processor',
    name: 'CommuniGator Ltd.',
    purpose:
      'Assist in data collection and the sending out of marketing correspondence (therefore only relevant where you’ve consented to receiving this material). We also use a cookie provided by CommuniGator Ltd, please see our Cookie Policy for more information.',
    basisIndividual: [LI],
    basisBusiness: [LI],
    categories: ['crm'],
    location: 'EEA',
    regions: ['eea'],
  },
  {
    key: 'marketo',
    kind: 'sub_processor',
    name: 'Marketo, Inc.',
    purpose:
      'Assist in data collection and the sending out of marketing correspondence (therefore only relevant where you’ve consented to receiving this material). We also use a cookie provided by Marketo, Inc. Please see our Cookie Policy for more information.',
    basisIndividual: [LI],
    basisBusiness: [LI],
    categories: ['crm'],
    location: 'EEA',
    regions: ['eea'],
  },
  {
    key: 'the_it_service',
    kind: 'sub_processor',
    name: 'The IT Service Limited',
    purpose: 'May be involved in providing training services to you where you purchase these from us.',
    basisIndividual: [LI, CON],
    basisBusiness: [LI],
    categories: ['crm'],
    location: 'UK',
    regions: ['uk'],
  },
  {
    key: 'wisepops',
    kind: 'sub_processor',
    name: 'Wisepops, SAS',
    purpose: 'May be involved where you download a white paper from egress.com.',
    basisIndividual: [LI, CONSENT],
    basisBusiness: [LI],
    categories: ['crm'],
    categoriesNote: 'Limited CRM Information',
    location: 'Will be initially collected in the territory closest to your location at the time of downloading the white paper',
    regions: [],
  },
  {
    key: 'twilio',
    kind: 'sub_processor',
    name: 'Twilio, Inc.',
    purpose: 'Provide the SMS service that may be used for two factor authentication or password resets when you use our services.',
    basisIndividual: [LI],
    basisBusiness: [LI],
    categories: ['crm'],
    categoriesNote: 'Limited CRM Information',
    location: 'United States',
    regions: ['us'],
  },
  {
    key: 'mailgun',
    kind: 'sub_processor',
    name: 'MailGun Technologies, Inc.',
    purpose: 'Provide mail delivery services in relation to Secure Workspace, Webforms and eDiscovery & Analytics',
    basisIndividual: [LI],
    basisBusiness: [LI],
    categories: ['crm', 'system'],
    location: 'Either US or EEA depending on your location',
    regions: ['us', 'eea'],
  },
  {
    key: 'law_enforcement',
    kind: 'authority',
    name: 'Law enforcement',
    purpose:
      'We reserve the right to disclose information in order to comply with national, EU or Member State law to which we’re subject, including to meet national security and law enforcement requirements.',
    basisIndividual: [LI],
    basisBusiness: [LI],
    categories: ['crm', 'system', 'content', 'smart'],
    location: 'Variable depending on the nature of the request',
    regions: [],
  },
];

/**
 * The general transfer statement of the seed ("Who we may share your information with"), used
 * as the register's initial transfer statement. It is a commitment, not a named safeguard, so
 * the record of processing still flags sub-processors outside the UK/EEA without one.
 */
export const SEED_TRANSFER_STATEMENT =
  'Where any transfer outside of the country or region that you’re located in (e.g. the European Economic Area (EEA), the United States or the UK) occurs, we’ll ensure that any such transfer or processing is subject to appropriate legal and technical safeguards with our sub-processors in line with local law requirements.';

/** What one seeding did. */
export interface SeedResult {
  applied: boolean;
  purposes: number;
  subprocessors: number;
}

/**
 * Seeds the register once per {@link SEED_VERSION}. Safe to call at every start-up and from
 * several processes at once: an advisory lock serialises them and the applied version is
 * re-checked under it. Existing rows (same key) are never touched.
 */
export async function seedRegister(db: Database, now: Date = new Date()): Promise<SeedResult> {
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('sealpost:privacy_seed'))`);
    const done = await tx.query(`SELECT 1 FROM privacy_seed_applied WHERE seed_version = $1`, [SEED_VERSION]);
    if (done.rows.length > 0) return { applied: false, purposes: 0, subprocessors: 0 };

    let purposes = 0;
    let position = 0;
    for (const group of SEED_GROUPS) {
      for (const p of group.purposes) {
        position += 10;
        const r = await tx.query(
          `INSERT INTO privacy_purposes (id, key, group_key, group_title, position, name, reasons, basis_individual, basis_business,
             categories, data_subjects, recipients, retention_rules, transfers, transfer_safeguards, notes, source, created_at, updated_at)
           VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, '[]', NULL, $11, NULL, $12, 'seed', $13, $13)
           ON CONFLICT (key) DO NOTHING`,
          [
            p.key, group.key, group.title, position, p.name, p.reasons,
            JSON.stringify(p.basisIndividual), JSON.stringify(p.basisBusiness), JSON.stringify(p.categories),
            JSON.stringify(seedDataSubjects(p)), p.transfers ?? null, p.notes ?? null, now,
          ],
        );
        purposes += r.rowCount;
      }
    }
    let subprocessors = 0;
    position = 0;
    for (const s of SEED_SUBPROCESSORS) {
      position += 10;
      const r = await tx.query(
        `INSERT INTO privacy_subprocessors (id, key, kind, position, name, purpose, basis_individual, basis_business, categories,
           categories_note, location, regions, transfer_safeguards, source, effective_from, ends_at, created_at, updated_at)
         VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, 'seed', NULL, NULL, $12, $12)
         ON CONFLICT (key) DO NOTHING`,
        [
          s.key, s.kind, position, s.name, s.purpose, JSON.stringify(s.basisIndividual), JSON.stringify(s.basisBusiness),
          JSON.stringify(s.categories), s.categoriesNote ?? null, s.location, JSON.stringify(s.regions), now,
        ],
      );
      subprocessors += r.rowCount;
    }
    await tx.query(
      `INSERT INTO privacy_register_settings (id, transfer_statement, updated_at, updated_by) VALUES (true, $1, $2, NULL)
       ON CONFLICT (id) DO NOTHING`,
      [SEED_TRANSFER_STATEMENT, now],
    );
    await tx.query(`INSERT INTO privacy_seed_applied (seed_version, applied_at) VALUES ($1, $2)`, [SEED_VERSION, now]);
    await tx.query(
      `INSERT INTO privacy_register_changes (id, entity, entity_key, action, summary, changes, actor_type, actor_id, recorded_at, effective_at)
       VALUES (gen_random_uuid(), 'register', NULL, 'seeded', $1, $2, 'system', NULL, $3, $3)`,
      [`seeded ${purposes} purposes and ${subprocessors} recipients from ${SEED_VERSION}`, JSON.stringify({ seedVersion: { from: null, to: SEED_VERSION } }), now],
    );
    await appendAuditEvent(tx, {
      actor: { type: 'system' },
      action: 'privacy_register.seeded',
      target: { type: 'privacy_register' },
      outcome: 'success',
      details: { seedVersion: SEED_VERSION, purposes, subprocessors },
    });
    return { applied: true, purposes, subprocessors };
  });
}
