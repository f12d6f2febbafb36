// A small in-memory SmartView and draft factory for tests of the rule checks (and for the
// integration tests that reuse them). Not used by production code.
import { domainToASCII } from 'node:url';
import type { ContactStats, Draft, DraftRecipient, SmartView } from '../prevent.model.ts';

/** Contacts per sender, the tenant's domains and when other domains were first seen. */
export interface TestViewInput {
  /** The tenant's own domains (ASCII or Unicode). */
  internalDomains?: string[];
  /** sender → contacts; `contact()` below builds entries. */
  contacts?: Record<string, ContactStats[]>;
  /** domain → first seen; domains of contacts are added automatically. */
  domains?: Record<string, Date>;
}

const ascii = (domain: string) => domainToASCII(domain) || domain;
const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1);

/** An in-memory view over the given data; addresses are matched exactly as stored, like a real view. */
export function buildTestView(input: TestViewInput = {}): SmartView {
  const internal = new Set((input.internalDomains ?? ['acme.com']).map(ascii));
  const contacts = new Map(Object.entries(input.contacts ?? {}));
  const domains = new Map(Object.entries(input.domains ?? {}).map(([d, at]) => [ascii(d), at]));
  for (const list of contacts.values()) {
    for (const c of list) if (!domains.has(ascii(domainOf(c.address)))) domains.set(ascii(domainOf(c.address)), c.firstAt);
  }
  return {
    contact: (sender, address) => contacts.get(sender)?.find((c) => c.address === address),
    contacts: (sender) => contacts.get(sender) ?? [],
    domainFirstSeen: (domain) => domains.get(ascii(domain)),
    isInternal: (address) => internal.has(ascii(domainOf(address))),
  };
}

/** A contact the sender has emailed `sent` times and heard from `received` times. */
export function contact(address: string, sent = 10, received = 5, name?: string): ContactStats {
  return {
    address,
    ...(name ? { name } : {}),
    sent,
    received,
    firstAt: new Date('2025-01-06T09:00:00Z'),
    lastAt: new Date('2026-11-20T09:00:00Z'),
  };
}

/** A recipient: "Name <address>" or a bare address, To unless another role is given. */
export function recipient(spec: string, role: DraftRecipient['role'] = 'to'): DraftRecipient {
  const m = /^(.*?)\s*<([^>]+)>$/.exec(spec);
  return m ? { address: m[2]!.toLowerCase(), name: m[1]!, role } : { address: spec.toLowerCase(), role };
}

/** A draft from alice@acme.com with no label, given recipients as strings or objects. */
export function buildDraft(overrides: Partial<Omit<Draft, 'recipients'>> & { recipients?: (string | DraftRecipient)[] } = {}): Draft {
  const { recipients = [], ...rest } = overrides;
  return {
    from: 'alice@acme.com',
    subject: 'Quarterly figures',
    body: 'Please find the figures attached.',
    labelRank: null,
    at: new Date('2026-12-01T10:00:00Z'),
    ...rest,
    recipients: recipients.map((r) => (typeof r === 'string' ? recipient(r) : r)),
  };
}

/**
 * Reference optimal-string-alignment distance for tests: the full matrix over Array.from code
 * points, no early exit and no shortcuts. The checks' editDistance and filters must agree with it.
 */
export function referenceEditDistance(a: string, b: string): number {
  const s = Array.from(a);
  const t = Array.from(b);
  const d = Array.from({ length: s.length + 1 }, (_, i) => Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (s[i - 1] === t[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[s.length]![t.length]!;
}
