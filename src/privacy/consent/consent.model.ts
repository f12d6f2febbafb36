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

/** A person's standing for one kind: `objected` is for marketing only (sticky, GDPR Art. 21(2)). */
export const PREFERENCE_STATES = ['granted', 'withdrawn', 'objected'] as const;
export type PreferenceState = (typeof PREFERENCE_STATES)[number];

/** One preference as stored; `unset` means the person never chose (nothing optional is sent). */
export interface Preference {
  kind: CommunicationKind;
  state: PreferenceState | 'unset';
  /** True when optional email of this kind may be sent (granted and not restricted). */
  subscribed: boolean;
  via: PreferenceSource['via'] | null;
  noticeVersion: string | null;
  updatedAt: Date | null;
}

/** One recorded change of a preference. */
export interface PreferenceChange {
  seq: number;
  kind: CommunicationKind;
  from: PreferenceState | 'unset';
  to: PreferenceState;
  via: PreferenceSource['via'];
  requestId: string | null;
  actorId: string | null;
  noticeVersion: string | null;
  changedAt: Date;
}

/** Everything about one person's preferences. */
export interface PreferenceRecord {
  email: string;
  restricted: boolean;
  preferences: Preference[];
  history: PreferenceChange[];
}
