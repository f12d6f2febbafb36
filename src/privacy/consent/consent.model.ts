// The contract for communication preferences (src/privacy/consent/): what the subject-request
// workflow and the mailers call. Issue #6, part 7.

/** Kinds of email a person may opt in to or out of. Service notices that are strictly necessary are not among them. */
export const COMMUNICATION_KINDS = ['marketing', 'product_updates', 'subprocessor_changes'] as const;
export type CommunicationKind = (typeof COMMUNICATION_KINDS)[number];

/** Where a preference change came from (kept in its history). */
export interface PreferenceSource {
  via: 'subject_request' | 'unsubscribe_link' | 'account' | 'administrator' | 'double_opt_in';
  requestId?: string;
  /** Version of the privacy notice the person was shown, when one was. */
  noticeVersion?: string;
}

/** What other parts of Sealpost need from consent. */
export interface ConsentHooks {
  /** Objection to marketing (Art. 21(2)): takes effect immediately and is never overridden by a later default. */
  objectToMarketing(email: string, source: PreferenceSource): Promise<void>;
  /** False when the person objected, unsubscribed, never opted in, or is restricted. */
  maySend(email: string, kind: CommunicationKind): Promise<boolean>;
}
