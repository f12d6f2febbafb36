// lookalike_address: a recipient the sender has never written to that resembles one they have.
// Only recipients who are not contacts are examined, so two real contacts that look alike
// (anna@ and anne@) never warn; what warns is reaching a new address that is one slip away
// from a known one.
import type { ContactStats, Draft, Severity, SmartView, Warning } from '../prevent.model.ts';
import type { RuleCheckSettings } from './settings.ts';
import {
  addressParts, allowedEdits, editDistance, findContact, historyText, mixedScripts, nameTokens, skeleton, type AddressParts,
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

interface Known {
  contact: ContactStats;
  parts: AddressParts;
  skeleton: string;
  name: string;
  localLength: number;
  domainLength: number;
}

interface Match {
  known: Known;
  how: Resemblance;
}

const weight = (c: ContactStats) => 2 * c.sent + c.received;

function resemblance(r: Known, k: Known): Resemblance | null {
  if (r.skeleton === k.skeleton) return 'confusable';
  const localAllowed = allowedEdits(Math.min(r.localLength, k.localLength));
  const domainAllowed = allowedEdits(Math.min(r.domainLength, k.domainLength));
  // Cheap length tests first: most contacts are ruled out without computing a distance.
  const sameLocal = r.parts.local === k.parts.local;
  if (
    Math.abs(r.localLength - k.localLength) <= localAllowed &&
    Math.abs(r.domainLength - k.domainLength) <= domainAllowed &&
    (sameLocal || editDistance(r.parts.local, k.parts.local, localAllowed) <= localAllowed) &&
    (r.parts.domain === k.parts.domain || editDistance(r.parts.domain, k.parts.domain, domainAllowed) <= domainAllowed)
  ) return 'misspelt';
  if (r.name && r.name === k.name) return 'same_name';
  if (sameLocal && r.localLength >= 3 && !ROLE_LOCAL_PARTS.has(r.parts.local)) return 'same_local_part';
  return null;
}

// Derived forms of an address and name, reused across drafts (a sender's contacts recur).
const derivedCache = new Map<string, Omit<Known, 'contact'>>();

function knownOf(contact: ContactStats): Known {
  const key = `${contact.address}\n${contact.name ?? ''}`;
  let derived = derivedCache.get(key);
  if (!derived) {
    const parts = addressParts(contact.address);
    derived = {
      parts,
      skeleton: skeleton(`${parts.local}@${parts.domain}`),
      name: fullName(contact.name),
      localLength: Array.from(parts.local).length,
      domainLength: Array.from(parts.domain).length,
    };
    if (derivedCache.size >= 50_000) derivedCache.clear();
    derivedCache.set(key, derived);
  }
  return { contact, ...derived };
}

// A full name is two or more words; "Sarah" alone is shared by too many people to mean anything.
const fullName = (name: string | undefined) => {
  const t = nameTokens(name ?? '');
  return t.length >= 2 ? t.join(' ') : '';
};

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
  let known: Known[] | undefined; // built on first need: most drafts go only to contacts
  const inDraft = new Set(draft.recipients.map((r) => addressParts(r.address).canonical));
  const warnings: Warning[] = [];
  const done = new Set<string>();

  for (const r of draft.recipients) {
    const parts = addressParts(r.address);
    if (parts.canonical === sender || done.has(parts.canonical)) continue;
    done.add(parts.canonical);
    if (findContact(view, draft.from, r.address)) continue;

    known ??= Array.from(view.contacts(draft.from), knownOf);
    // The same mailbox under another spelling (xn-- or Unicode domain) is the contact itself.
    if (known.some((k) => k.parts.canonical === parts.canonical)) continue;

    const self = knownOf({ address: r.address, ...(r.name ? { name: r.name } : {}), sent: 0, received: 0, firstAt: draft.at, lastAt: draft.at });
    let best: Match | undefined;
    for (const k of known) {
      const how = resemblance(self, k);
      if (!how) continue;
      if (!best || STRENGTH[how] > STRENGTH[best.how] || (STRENGTH[how] === STRENGTH[best.how] && weight(k.contact) > weight(best.known.contact))) {
        best = { known: k, how };
      }
    }

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
    const c = best.known.contact;
    const severity: Severity = best.how === 'confusable' ? 'critical' : 'warning';
    warnings.push({
      check: 'lookalike_address',
      severity,
      recipients: [parts.address],
      reason: reasonFor(parts, best.how, c, scripts),
      // When the intended contact is already on the draft, the look-alike only needs removing.
      fixes: inDraft.has(best.known.parts.canonical)
        ? [{ kind: 'remove_recipient', address: parts.address }]
        : [{ kind: 'replace_recipient', address: parts.address, replacement: c.address }],
    });
  }
  return warnings;
}
