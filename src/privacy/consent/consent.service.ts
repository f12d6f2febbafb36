// Communication preferences per person (normalised address): marketing, product updates and
// sub-processor change alerts. Every change is kept with its channel and the privacy-notice
// version in force; nothing optional is sent unless the person opted in, and never to a person
// whose processing is restricted.
//
// Rules that must stay true:
// - Opting out of marketing, by any channel, is an objection (GDPR Art. 21(2)/(3)): state
//   'objected', effective at once, and sticky — only the person themselves (their account, or a
//   confirmed double opt-in) can ever grant marketing again; an administrator or a subject
//   request cannot.
// - Other kinds are withdrawn, not objected.
// - No row means "never opted in": maySend is false.
import { appendAuditEvent } from '../../audit/audit.service.ts';
import type { AuditEventInput } from '../../audit/audit.model.ts';
import { sha256 } from '../../crypto/hash.ts';
import { randomToken } from '../../crypto/keys.ts';
import { requireAddress } from '../../messages/addresses.ts';
import { errors } from '../../shared/app-error.ts';
import { systemClock, type Clock } from '../../shared/clock.ts';
import type { Database, Sql } from '../../storage/database/database.ts';
import { inTransaction } from '../../storage/database/database.ts';
import {
  COMMUNICATION_KINDS,
  type CommunicationKind,
  type ConsentHooks,
  type Preference,
  type PreferenceRecord,
  type PreferenceSource,
  type PreferenceState,
} from './consent.model.ts';
import * as repo from './consent.repository.ts';

/** How long a double opt-in link works. */
export const CONFIRMATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** How long a one-click unsubscribe link works (13 months: old emails still unsubscribe). */
export const UNSUBSCRIBE_TTL_MS = 396 * 24 * 60 * 60 * 1000;

// Tokens in links are 43 characters of base64url (32 random bytes).
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** Who made a change, for the history and the audit log. */
export type PreferenceActor = AuditEventInput['actor'] & { tenantId?: string };

/** The state an opt-in (true) or opt-out (false) of `kind` leads to. */
export function stateFor(kind: CommunicationKind, optIn: boolean): PreferenceState {
  if (optIn) return 'granted';
  return kind === 'marketing' ? 'objected' : 'withdrawn';
}

/** Checks a kind named by a caller; the error names the field and the allowed values. */
export function requireKind(value: string, field = 'kind'): CommunicationKind {
  if ((COMMUNICATION_KINDS as readonly string[]).includes(value)) return value as CommunicationKind;
  throw errors.invalid('invalid_communication_kind', `${field}: must be one of ${COMMUNICATION_KINDS.join(', ')}`, { field });
}

/** Preferences, their history, double opt-in and one-click unsubscribe. */
export class ConsentService implements ConsentHooks {
  private readonly now: Clock;

  constructor(
    private readonly db: Database,
    private readonly opts: { now?: Clock; noticeVersion: () => Promise<string> },
  ) {
    this.now = opts.now ?? systemClock;
  }

  /** The version of the privacy notice in force (recorded with every change). */
  noticeVersion(): Promise<string> {
    return this.opts.noticeVersion();
  }

  /** A person's preferences (every kind, `unset` where never chosen) and their full history. */
  async get(emailInput: string): Promise<PreferenceRecord> {
    const email = requireAddress(emailInput, 'email');
    const [rows, history, restricted] = [await repo.findPreferences(this.db, email), await repo.listChanges(this.db, email), await repo.isRestricted(this.db, email)];
    const byKind = new Map(rows.map((r) => [r.kind, r]));
    const preferences: Preference[] = COMMUNICATION_KINDS.map((kind) => {
      const r = byKind.get(kind);
      return {
        kind,
        state: r?.state ?? 'unset',
        subscribed: r?.state === 'granted' && !restricted,
        via: r?.via ?? null,
        noticeVersion: r?.notice_version ?? null,
        updatedAt: r?.updated_at ?? null,
      };
    });
    return { email, restricted, preferences, history };
  }

  /**
   * Sets several kinds at once (true opts in, false opts out), in one transaction. A change to
   * the same state records nothing. Returns the person's record afterwards.
   */
  async update(emailInput: string, changes: Partial<Record<CommunicationKind, boolean>>, source: PreferenceSource, actor: PreferenceActor): Promise<PreferenceRecord> {
    const email = requireAddress(emailInput, 'email');
    const entries = Object.entries(changes).filter(([, v]) => v !== undefined) as Array<[string, boolean]>;
    if (entries.length === 0) throw errors.invalid('nothing_to_change', `name at least one of ${COMMUNICATION_KINDS.join(', ')} to change`);
    for (const [kind, value] of entries) {
      requireKind(kind);
      if (typeof value !== 'boolean') throw errors.invalid('invalid_preference', `${kind}: must be true (opt in) or false (opt out)`, { field: kind });
    }
    const noticeVersion = source.noticeVersion ?? (await this.noticeVersion());
    await this.db.transaction(async (tx) => {
      for (const [kind, optIn] of entries) await this.apply(tx, email, kind as CommunicationKind, stateFor(kind as CommunicationKind, optIn), { ...source, noticeVersion }, actor);
    });
    return this.get(email);
  }

  /** Objection to marketing (Art. 21(2)): immediate, and never overridden by a later default. */
  async objectToMarketing(emailInput: string, source: PreferenceSource): Promise<void> {
    const email = requireAddress(emailInput, 'email');
    const noticeVersion = source.noticeVersion ?? (await this.noticeVersion());
    await this.db.transaction((tx) => this.apply(tx, email, 'marketing', 'objected', { ...source, noticeVersion }, { type: 'system' }));
  }

  /** False when the person objected, unsubscribed, never opted in, or is restricted. */
  async maySend(emailInput: string, kind: CommunicationKind): Promise<boolean> {
    const email = requireAddress(emailInput, 'email');
    requireKind(kind);
    // Restriction (Art. 18) stops all processing but storage: no optional email of any kind.
    if (await repo.isRestricted(this.db, email)) return false;
    const row = (await repo.findPreferences(this.db, email)).find((r) => r.kind === kind);
    return row?.state === 'granted';
  }

  /** Current recipients of `kind` (opted in, not restricted). Operator use. */
  subscribers(kind: CommunicationKind): Promise<Array<{ email: string; via: PreferenceSource['via']; since: Date }>> {
    return repo.listSubscribers(this.db, requireKind(kind));
  }

  /** Unconfirmed, unexpired double opt-in requests for `kind`. */
  pendingConfirmations(kind: CommunicationKind): Promise<number> {
    return repo.countPendingConfirmations(this.db, requireKind(kind), this.now());
  }

  /**
   * Records a request to receive `kind` that the address must confirm; returns its id (the email
   * job's payload). `noticeVersion` is read by the caller before its transaction (reading the
   * notice inside one would use the database outside the transaction).
   */
  async createConfirmation(sql: Sql, email: string, kind: CommunicationKind, noticeVersion: string): Promise<string> {
    const now = this.now();
    return repo.insertConfirmation(sql, { email, kind, noticeVersion, at: now, expiresAt: new Date(now.getTime() + CONFIRMATION_TTL_MS) });
  }

  /** Makes the token of a pending confirmation (only its hash is stored); undefined when it was confirmed or expired. */
  async issueConfirmationToken(id: string): Promise<{ token: string; email: string; kind: CommunicationKind; expiresAt: Date } | undefined> {
    const token = randomToken(32);
    const row = await repo.setConfirmationToken(this.db, id, sha256(token), this.now());
    return row ? { token, email: row.email, kind: row.kind, expiresAt: row.expires_at } : undefined;
  }

  /** What a confirmation link is for, without using it (the GET page); undefined when unknown or expired. */
  async describeConfirmation(token: string): Promise<{ kind: CommunicationKind; email: string; confirmed: boolean } | undefined> {
    if (!TOKEN.test(token)) return undefined;
    const row = await repo.findConfirmation(this.db, sha256(token));
    if (!row || row.expires_at.getTime() <= this.now().getTime()) return undefined;
    return { kind: row.kind, email: row.email, confirmed: row.confirmed_at !== null };
  }

  /** Confirms a double opt-in: the address is proven, the preference granted. Idempotent. */
  async confirm(token: string): Promise<{ kind: CommunicationKind; email: string }> {
    if (!TOKEN.test(token)) throw errors.notFound('confirmation_not_found', 'this confirmation link is not valid or has expired; ask again');
    const hash = sha256(token);
    return this.db.transaction(async (tx) => {
      const row = await repo.findConfirmation(tx, hash, true);
      const now = this.now();
      if (!row || row.expires_at.getTime() <= now.getTime()) throw errors.notFound('confirmation_not_found', 'this confirmation link is not valid or has expired; ask again');
      if (row.confirmed_at === null) {
        await repo.markConfirmed(tx, hash, now);
        await this.apply(tx, row.email, row.kind, 'granted', { via: 'double_opt_in', ...(row.notice_version ? { noticeVersion: row.notice_version } : {}) }, { type: 'system' });
      }
      return { kind: row.kind, email: row.email };
    });
  }

  /** A one-click unsubscribe token for one optional email to `email` about `kind` (only its hash is stored). */
  async issueUnsubscribeToken(sql: Sql, email: string, kind: CommunicationKind): Promise<string> {
    const token = randomToken(32);
    const now = this.now();
    await repo.insertUnsubscribeLink(sql, { tokenHash: sha256(token), email, kind, at: now, expiresAt: new Date(now.getTime() + UNSUBSCRIBE_TTL_MS) });
    return token;
  }

  /** What an unsubscribe link is for, without using it (the GET page); undefined when unknown or expired. */
  async describeUnsubscribe(token: string): Promise<{ kind: CommunicationKind; email: string; subscribed: boolean } | undefined> {
    if (!TOKEN.test(token)) return undefined;
    const link = await repo.findUnsubscribeLink(this.db, sha256(token));
    if (!link || link.expires_at.getTime() <= this.now().getTime()) return undefined;
    return { kind: link.kind, email: link.email, subscribed: await this.maySend(link.email, link.kind) };
  }

  /** One-click unsubscribe (RFC 8058): opts the link's address out of the link's kind. Idempotent. */
  async unsubscribe(token: string): Promise<{ kind: CommunicationKind; email: string }> {
    const notFound = () => errors.notFound('unsubscribe_link_not_found', 'this unsubscribe link is not valid or has expired; change your preferences in your account or contact the operator');
    if (!TOKEN.test(token)) throw notFound();
    const hash = sha256(token);
    const noticeVersion = await this.noticeVersion();
    return this.db.transaction(async (tx) => {
      const link = await repo.findUnsubscribeLink(tx, hash);
      const now = this.now();
      if (!link || link.expires_at.getTime() <= now.getTime()) throw notFound();
      await repo.markUnsubscribeUsed(tx, hash, now);
      await this.apply(tx, link.email, link.kind, stateFor(link.kind, false), { via: 'unsubscribe_link', noticeVersion }, { type: 'system' });
      return { kind: link.kind, email: link.email };
    });
  }

  /** Deletes confirmation and unsubscribe links that have ended (rule consent_link_lifetime). */
  purgeEndedLinks(): Promise<number> {
    return repo.deleteEndedLinks(this.db, this.now());
  }

  /** Moves one preference to `to`, recording the change; a no-op records nothing. */
  private async apply(sql: Sql, email: string, kind: CommunicationKind, to: PreferenceState, source: PreferenceSource, actor: PreferenceActor): Promise<void> {
    if (to === 'objected' && kind !== 'marketing') throw errors.invalid('invalid_preference', `${kind}: only marketing can be objected to; opt out instead`, { field: kind });
    await inTransaction(sql, async (tx) => {
      const before = await repo.lockPreference(tx, email, kind);
      const from = before?.state ?? 'unset';
      if (from === to) return;
      // The objection is the person's: nobody but the person can lift it.
      if (from === 'objected' && source.via !== 'account' && source.via !== 'double_opt_in') {
        throw errors.conflict('marketing_objection_in_force', 'this person objected to marketing; only they can opt in again (from their account or by confirming a subscription)');
      }
      const now = this.now();
      const id = await repo.savePreference(tx, { email, kind, state: to, via: source.via, noticeVersion: source.noticeVersion ?? null, at: now });
      await repo.insertChange(tx, { email, kind, from, to, source, actorId: actor.type === 'system' ? null : (actor.id ?? null), at: now });
      await appendAuditEvent(tx, {
        ...(actor.tenantId ? { tenantId: actor.tenantId } : {}),
        actor: { type: actor.type, ...(actor.id ? { id: actor.id } : {}) },
        action: 'consent.preference_changed',
        target: { type: 'communication_preference', id },
        outcome: 'success',
        // No address: the preference id leads to it for those allowed to look.
        details: { kind, from, to, via: source.via, ...(source.requestId ? { requestId: source.requestId } : {}) },
      });
    });
  }
}
