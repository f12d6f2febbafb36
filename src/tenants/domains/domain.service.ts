// Verified domains (issue #6 §8): a tenant's administrator claims a domain, publishes a TXT record
// with a random token, and asks Sealpost to check it. Once verified (one tenant per domain), free
// accounts on that domain are offered for transfer into the tenant (account-transfer.service.ts).
import { appendAuditEvent } from '../../audit/audit.service.ts';
import type { AuditEventInput } from '../../audit/audit.model.ts';
import { randomId, randomToken } from '../../crypto/keys.ts';
import { errors, isAppError } from '../../shared/app-error.ts';
import type { Clock } from '../../shared/clock.ts';
import { systemClock } from '../../shared/clock.ts';
import type { Database } from '../../storage/database/database.ts';
import type { AccountTransferService } from './account-transfer.service.ts';
import type { TxtLookup } from './dns-txt.ts';
import * as repo from './domain.repository.ts';
import type { TenantDomain } from './domain.repository.ts';

/** Name of the TXT record, under the claimed domain. */
export const VERIFICATION_LABEL = '_sealpost-verification';

/** Prefix of the TXT record's value. */
export const VERIFICATION_PREFIX = 'sealpost-verification=';

/** Who acts: an administrator of the tenant, or the operator. */
export type DomainActor = AuditEventInput['actor'];

/** A domain as shown to its administrators, with what to publish. */
export interface DomainView extends TenantDomain {
  record: { name: string; type: 'TXT'; value: string };
}

// Letters, digits and hyphens per label, at least two labels, a letter-only TLD (no IP addresses).
const DOMAIN = /^(?=.{3,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** Personal-webmail domains no organisation can claim (their free accounts belong to people, not employers). */
export const UNCLAIMABLE_DOMAINS = new Set([
  'gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.com', 'hotmail.co.uk', 'live.com', 'msn.com', 'yahoo.com', 'yahoo.co.uk', 'icloud.com', 'me.com',
  'aol.com', 'proton.me', 'protonmail.com', 'gmx.com', 'gmx.de', 'web.de', 'mail.com', 'zoho.com', 'yandex.com', 'btinternet.com', 'sky.com',
]);

/** Normalises and validates a domain name; names what is wrong. */
export function normaliseDomain(input: unknown): string {
  if (typeof input !== 'string') throw errors.invalid('invalid_domain', 'domain must be a string such as example.com');
  const d = input.trim().toLowerCase().replace(/\.$/, '');
  if (!DOMAIN.test(d)) throw errors.invalid('invalid_domain', `"${d.slice(0, 80)}" is not a domain name such as example.com (letters, digits and hyphens; no scheme, path or @)`);
  if (UNCLAIMABLE_DOMAINS.has(d)) throw errors.invalid('domain_not_claimable', `${d} is a personal email provider; accounts there belong to people, not to an organisation`);
  return d;
}

const view = (d: TenantDomain): DomainView => ({ ...d, record: { name: `${VERIFICATION_LABEL}.${d.domain}`, type: 'TXT', value: `${VERIFICATION_PREFIX}${d.token}` } });

/** Claims, verifies, lists and releases a tenant's domains. */
export class DomainService {
  private readonly now: Clock;

  constructor(
    private readonly db: Database,
    private readonly dns: TxtLookup,
    private readonly transfers: AccountTransferService,
    opts: { now?: Clock } = {},
  ) {
    this.now = opts.now ?? systemClock;
  }

  /** Claims a domain for a tenant; returns the TXT record to publish. */
  async add(actor: DomainActor, tenantId: string, input: unknown): Promise<DomainView> {
    const domain = normaliseDomain(input);
    return this.db.transaction(async (tx) => {
      const owner = await repo.verifiedOwner(tx, domain);
      if (owner && owner !== tenantId) throw errors.conflict('domain_taken', `${domain} is already verified by another organisation`);
      if (await repo.findDomain(tx, tenantId, domain)) throw errors.conflict('domain_exists', `${domain} is already added; verify it with its TXT record`);
      const created = await repo.insertDomain(tx, { id: randomId(), tenantId, domain, token: randomToken(24), createdBy: actor.type === 'user' ? (actor.id ?? null) : null, now: this.now() });
      await appendAuditEvent(tx, { tenantId, actor, action: 'tenant_domain.added', target: { type: 'tenant_domain', id: created.id }, outcome: 'success', details: { domain } });
      return view(created);
    });
  }

  /** A tenant's domains with their records. */
  async list(tenantId: string): Promise<DomainView[]> {
    return (await repo.listDomains(this.db, tenantId)).map(view);
  }

  /**
   * Looks the TXT record up; when it carries the token the domain is verified and free accounts
   * on it are offered for transfer. A failed check says why and changes nothing else.
   */
  async verify(actor: DomainActor, tenantId: string, idOrName: string): Promise<{ domain: DomainView; verified: boolean; offers: number }> {
    const claimed = await repo.findDomain(this.db, tenantId, idOrName);
    if (!claimed) throw errors.notFound('domain_not_found', `no domain ${idOrName} for this organisation; add it first`);
    const name = `${VERIFICATION_LABEL}.${claimed.domain}`;
    let error: string | null = null;
    try {
      const records = await this.dns.resolveTxt(name);
      // Exact match of the whole value: a record that merely contains the token does not count.
      if (!records.includes(`${VERIFICATION_PREFIX}${claimed.token}`)) {
        error = records.length === 0 ? `no TXT record at ${name}` : `the TXT records at ${name} do not carry this domain's token`;
      }
    } catch (err) {
      if (!isAppError(err, 'dns_unavailable')) throw err;
      error = err.message;
    }
    const now = this.now();
    const result = await this.db.transaction(async (tx) => {
      const current = await repo.findDomain(tx, tenantId, claimed.id, true);
      if (!current) throw errors.notFound('domain_not_found', `no domain ${idOrName} for this organisation`);
      if (error === null) {
        const owner = await repo.verifiedOwner(tx, current.domain);
        if (owner && owner !== tenantId) error = `${current.domain} is already verified by another organisation`;
      }
      const wasVerified = current.verifiedAt !== null;
      const updated = await repo.recordCheck(tx, current.id, { now, error, verified: error === null });
      await appendAuditEvent(tx, {
        tenantId,
        actor,
        action: error === null ? 'tenant_domain.verified' : 'tenant_domain.verification_failed',
        target: { type: 'tenant_domain', id: current.id },
        outcome: error === null ? 'success' : 'failure',
        details: { domain: current.domain, ...(error ? { reason: error } : {}) },
      });
      const offers = error === null && !wasVerified ? await this.transfers.offerAll(tx, updated, actor) : 0;
      return { domain: view(updated), verified: error === null, offers };
    });
    return result;
  }

  /** Releases a claim; open offers made because of it are cancelled. */
  async remove(actor: DomainActor, tenantId: string, idOrName: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const d = await repo.findDomain(tx, tenantId, idOrName, true);
      if (!d) throw errors.notFound('domain_not_found', `no domain ${idOrName} for this organisation`);
      await this.transfers.cancelForDomain(tx, d.id, 'domain_released', actor);
      const { rows } = await tx.query(`SELECT 1 FROM account_transfers WHERE domain_id = $1 LIMIT 1`, [d.id]);
      // Completed transfers keep pointing at the domain as evidence: the claim is kept, unverified.
      if (rows.length > 0) await tx.query(`UPDATE tenant_domains SET verified_at = NULL, last_error = 'released' WHERE id = $1`, [d.id]);
      else await repo.deleteDomain(tx, d.id);
      await appendAuditEvent(tx, { tenantId, actor, action: 'tenant_domain.removed', target: { type: 'tenant_domain', id: d.id }, outcome: 'success', details: { domain: d.domain } });
    });
  }
}
