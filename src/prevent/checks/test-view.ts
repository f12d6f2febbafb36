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
