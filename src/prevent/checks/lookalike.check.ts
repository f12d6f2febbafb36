// lookalike_address: a recipient the sender has never written to that resembles one they have.
// Only recipients who are not contacts are examined, so two real contacts that look alike
// (anna@ and anne@) never warn; what warns is reaching a new address that is one slip away
// from a known one.
import type { ContactIndex, ContactStats, Draft, Severity, SmartView, Warning } from '../prevent.model.ts';
import { fullNameKey } from './address-forms.ts';
import type { RuleCheckSettings } from './settings.ts';
import {
  addressParts, allowedEdits, bitCount, charMask, codePointLength, editDistance, findContact, historyText, mixedScripts,
  skeleton, type AddressParts,
} from './text.ts';

// Local parts that name a role, not a person: info@a.com and info@b.com are different mailboxes.
const ROLE_LOCAL_PARTS = new Set([
  'info', 'admin', 'office', 'contact', 'hello', 'sales', 'support', 'help', 'billing', 'accounts',
  'finance', 'hr', 'jobs', 'careers', 'press', 'media', 'marketing', 'team', 'mail', 'enquiries',
  'inquiries', 'noreply', 'no-reply', 'postmaster', 'webmaster', 'service', 'legal', 'privacy', 'security',
]);

/** How an address resembles a contact, strongest first. */
type Resemblance = 'confusable' | 'misspelt' | 'same_name' | 'same_local_part';
const STRENGTH: Record<Resemblance, number> = { confusable: 4, misspelt: 3, same_name: 2, same_local_part: 1 };

/** An address's forms as the comparison needs them; derived from the address alone. */
interface AddressForms {
  parts: AddressParts;
  skeleton: string;
  localLength: number;
  domainLength: number;
  /** {@link charMask} of the local part and of the domain. */
  localMask: number;
  domainMask: number;
}

interface Match {
  contact: ContactStats;
  forms: AddressForms;
  how: Resemblance;
}

/** A recipient who is not a contact, and the contact it most resembles so far. */
interface NewRecipient {
  parts: AddressParts;
  forms: AddressForms;
  /** Full display name ('' when none). */
  name: string;
  best?: Match;
  /** A contact turned out to be this very mailbox under another spelling. */
  isContact: boolean;
}

const weight = (c: ContactStats) => 2 * c.sent + c.received;

/** Whether two strings are at most `allowed` edits apart; the length and mask tests are exact shortcuts. */
function withinEdits(a: string, b: string, lengthGap: number, maskA: number, maskB: number, allowed: number): boolean {
  if (a === b) return true;
  if (lengthGap > allowed || bitCount(maskA ^ maskB) > 2 * allowed) return false;
  return editDistance(a, b, allowed) <= allowed;
}

const NONE: readonly NewRecipient[] = [];

/**
 * The draft's new recipients, indexed so that each contact is compared only with those it could
 * resemble: equal skeleton, name or local part are map lookups, and the spelling test runs only
 * against recipients whose domain is close to the contact's (worked out once per domain). The
 * result is what comparing every recipient with every contact would give (a property test
 * checks this against a brute-force scan).
 */
class NewRecipients {
  private readonly byCanonical = new Map<string, NewRecipient>();
  private readonly bySkeleton = new Map<string, NewRecipient[]>();
  private readonly byName = new Map<string, NewRecipient[]>();
  private readonly byLocal = new Map<string, NewRecipient[]>();
  private readonly byNearDomain = new Map<string, NewRecipient[]>();

  constructor(readonly list: readonly NewRecipient[]) {
    for (const r of list) {
      this.byCanonical.set(r.parts.canonical, r);
      push(this.bySkeleton, r.forms.skeleton, r);
      if (r.name) push(this.byName, r.name, r);
      // The same local part at another domain only counts for personal mailboxes of 3+ characters.
      if (r.forms.localLength >= 3 && !ROLE_LOCAL_PARTS.has(r.parts.local)) push(this.byLocal, r.parts.local, r);
    }
  }

  /** Compares one contact with the recipients, keeping each recipient's strongest, most-used match. */
  compare(contact: ContactStats, k: AddressForms, kName: string): void {
    // The same mailbox under another spelling (xn-- or Unicode domain) is the contact itself.
    const same = this.byCanonical.get(k.parts.canonical);
    if (same) same.isContact = true;
    for (const r of this.bySkeleton.get(k.skeleton) ?? NONE) offer(r, contact, k, 'confusable');
    for (const r of this.nearDomain(k)) {
      const rf = r.forms;
      const allowed = allowedEdits(Math.min(rf.localLength, k.localLength));
      if (withinEdits(rf.parts.local, k.parts.local, Math.abs(rf.localLength - k.localLength), rf.localMask, k.localMask, allowed)) offer(r, contact, k, 'misspelt');
    }
    if (kName) for (const r of this.byName.get(kName) ?? NONE) offer(r, contact, k, 'same_name');
    for (const r of this.byLocal.get(k.parts.local) ?? NONE) offer(r, contact, k, 'same_local_part');
  }

  /**
   * The same comparison over a sender's contacts given as ids into the model's table of derived
   * forms: integers are compared, text only for near-miss spellings, and a contact's own record
   * is read only when it matches. Visits contacts in the same order as compare(), so the
   * outcome is the same (a property test checks this).
   */
  compareIndexed(index: ContactIndex): void {
    const t = index.forms;
    const ids = (forms: (r: NewRecipient) => string, keep: (r: NewRecipient) => boolean = () => true) => {
      const m = new Map<number, NewRecipient[]>();
      for (const r of this.list) if (keep(r)) push(m, t.idOf(forms(r)), r);
      m.delete(-1);
      return m;
    };
    const byCanonical = new Map<number, NewRecipient>();
    for (const r of this.list) byCanonical.set(t.idOf(r.parts.canonical), r);
    byCanonical.delete(-1);
    const bySkeleton = ids((r) => r.forms.skeleton);
    const byName = ids((r) => r.name, (r) => r.name !== '');
    const byLocal = ids((r) => r.parts.local, (r) => r.forms.localLength >= 3 && !ROLE_LOCAL_PARTS.has(r.parts.local));
    const near = new Map<number, readonly NewRecipient[]>();
    const matched = new Map<number, { contact: ContactStats; forms: AddressForms }>();
    const offerId = (r: NewRecipient, c: number, how: Resemblance) => {
      let m = matched.get(c);
      if (!m) {
        const contact = index.stats(c);
        m = { contact, forms: formsOf(contact.address) };
        matched.set(c, m);
      }
      offer(r, m.contact, m.forms, how);
    };
    for (const c of index.ids) {
      const canonical = t.canonical[c]!;
      if (canonical < 0) continue; // erased
      const same = byCanonical.get(canonical);
      if (same) same.isContact = true;
      for (const r of bySkeleton.get(t.skeleton[c]!) ?? NONE) offerId(r, c, 'confusable');
      const domain = t.domain[c]!;
      let close = near.get(domain);
      if (!close) near.set(domain, (close = this.near(t.text(domain), t.domainLength[c]!, t.domainMask[c]!)));
      for (const r of close) {
        const rf = r.forms;
        const length = t.localLength[c]!;
        const allowed = allowedEdits(Math.min(rf.localLength, length));
        if (withinEdits(rf.parts.local, t.text(t.local[c]!), Math.abs(rf.localLength - length), rf.localMask, t.localMask[c]!, allowed)) offerId(r, c, 'misspelt');
      }
      const name = t.name[c]!;
      if (name >= 0) for (const r of byName.get(name) ?? NONE) offerId(r, c, 'same_name');
      for (const r of byLocal.get(t.local[c]!) ?? NONE) offerId(r, c, 'same_local_part');
    }
  }

  /** Recipients whose domain is within the allowed edits of this contact's domain (once per domain). */
  private nearDomain(k: AddressForms): readonly NewRecipient[] {
    let near = this.byNearDomain.get(k.parts.domain);
    if (!near) this.byNearDomain.set(k.parts.domain, (near = this.near(k.parts.domain, k.domainLength, k.domainMask)));
    return near;
  }

  /** Recipients whose domain is within the allowed edits of `domain`. */
  private near(domain: string, length: number, mask: number): NewRecipient[] {
    return this.list.filter((r) => {
      const rf = r.forms;
      return withinEdits(rf.parts.domain, domain, Math.abs(rf.domainLength - length), rf.domainMask, mask, allowedEdits(Math.min(rf.domainLength, length)));
    });
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

/**
 * Records a resemblance if it beats the recipient's match so far: a stronger kind, or the same
 * kind with a contact the sender writes to more (on a tie the earlier contact stays). A pair that
 * resembles in several ways is offered each of them; only the strongest can win.
 */
function offer(r: NewRecipient, contact: ContactStats, forms: AddressForms, how: Resemblance): void {
  const best = r.best;
  if (!best || STRENGTH[how] > STRENGTH[best.how] || (STRENGTH[how] === STRENGTH[best.how] && weight(contact) > weight(best.contact))) {
    r.best = { contact, forms, how };
  }
}

// Derived forms of addresses and names, reused across drafts (a sender's contacts recur).
const formsCache = new Map<string, AddressForms>();
const nameCache = new Map<string, string>();

function formsOf(address: string): AddressForms {
  let forms = formsCache.get(address);
  if (!forms) {
    const parts = addressParts(address);
    forms = {
      parts,
      skeleton: skeleton(`${parts.local}@${parts.domain}`),
      localLength: codePointLength(parts.local),
      domainLength: codePointLength(parts.domain),
      localMask: charMask(parts.local),
      domainMask: charMask(parts.domain),
    };
    if (formsCache.size >= 50_000) formsCache.clear();
    formsCache.set(address, forms);
  }
  return forms;
}

function fullNameOf(name: string | undefined): string {
  if (!name) return '';
  let full = nameCache.get(name);
  if (full === undefined) {
    full = fullNameKey(name);
    if (nameCache.size >= 50_000) nameCache.clear();
    nameCache.set(name, full);
  }
  return full;
}

/** How to show an address so look-alike characters are visible: with its ASCII (punycode) form. */
function shown(p: AddressParts): string {
  return p.domain !== p.asciiDomain ? `${p.local}@${p.domain} (${p.local}@${p.asciiDomain})` : p.address;
}

function reasonFor(r: AddressParts, how: Resemblance, c: ContactStats, scripts: string[]): string {
  const history = historyText(c);
  switch (how) {
    case 'confusable':
      return `${shown(r)} looks like ${c.address} but is a different address${scripts.length ? ` (it mixes ${scripts.join(' and ')} letters)` : ' (accented or look-alike characters)'}; ${history}.`;
    case 'misspelt':
      return `You have never emailed ${r.address}; did you mean ${c.address}? ${capitalise(history)}.`;
    case 'same_name':
      return `You have never emailed ${r.address}, but ${c.name ?? 'this name'} is ${c.address} in your mail; ${history}.`;
    case 'same_local_part':
      return `You have never emailed ${r.address}; you usually email ${c.address} (${history}).`;
  }
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * One warning per recipient who is not a contact but resembles one: `critical` for look-alike
 * characters (deliberate imitation), `warning` for a near-miss spelling, the same display name
 * or the same local part at another domain, and `warning` for an address that mixes scripts
 * even when no contact resembles it. The fix replaces it with the most-used matching contact.
 */
export function checkLookalikeAddresses(draft: Draft, view: SmartView, _settings?: RuleCheckSettings): Warning[] {
  const sender = addressParts(draft.from).canonical;
  const inDraft = new Set(draft.recipients.map((r) => addressParts(r.address).canonical));

  // The recipients who are not contacts, each once, in draft order. Most drafts go only to
  // contacts, and then the sender's address book is not read at all.
  const unknown: NewRecipient[] = [];
  const done = new Set<string>();
  for (const r of draft.recipients) {
    const parts = addressParts(r.address);
    if (parts.canonical === sender || done.has(parts.canonical)) continue;
    done.add(parts.canonical);
    if (findContact(view, draft.from, r.address)) continue;
    unknown.push({ parts, forms: formsOf(r.address), name: fullNameOf(r.name), isContact: false });
  }
  if (unknown.length === 0) return [];

  // One pass over the address book for all of them: the contacts are the long list. The model
  // offers them as ids into its table of derived forms; other views give the records.
  const index = new NewRecipients(unknown);
  const contacts = view.contactIndex?.(draft.from);
  if (contacts) index.compareIndexed(contacts);
  else if (!view.contactIndex) for (const contact of view.contacts(draft.from)) index.compare(contact, formsOf(contact.address), fullNameOf(contact.name));

  const warnings: Warning[] = [];
  for (const { parts, best, isContact } of unknown) {
    if (isContact) continue;
    const scripts = mixedScripts(parts);
    if (!best) {
      if (scripts.length > 0) {
        warnings.push({
          check: 'lookalike_address',
          severity: 'warning',
          recipients: [parts.address],
          reason: `${shown(parts)} mixes ${scripts.join(' and ')} letters, a common way to imitate a real address.`,
          fixes: [{ kind: 'remove_recipient', address: parts.address }],
        });
      }
      continue;
    }
    const c = best.contact;
    const severity: Severity = best.how === 'confusable' ? 'critical' : 'warning';
    warnings.push({
      check: 'lookalike_address',
      severity,
      recipients: [parts.address],
      reason: reasonFor(parts, best.how, c, scripts),
      // When the intended contact is already on the draft, the look-alike only needs removing.
      fixes: inDraft.has(best.forms.parts.canonical)
        ? [{ kind: 'remove_recipient', address: parts.address }]
        : [{ kind: 'replace_recipient', address: parts.address, replacement: c.address }],
    });
  }
  return warnings;
}
