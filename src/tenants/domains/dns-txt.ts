// Looking up TXT records for domain verification. One small interface so the service does not
// care where answers come from; the one implementation asks real DNS servers through node:dns
// (the system's resolvers, or those named by DOMAIN_VERIFICATION_DNS_SERVERS).
import { Resolver } from 'node:dns/promises';
import { errors } from '../../shared/app-error.ts';

/** Answers TXT queries: each record's strings joined, as RFC 7208 does for long records. */
export interface TxtLookup {
  resolveTxt(name: string): Promise<string[]>;
}

/** DNS error codes that mean "there is no such record" rather than "DNS did not answer". */
const NO_RECORD = new Set(['ENODATA', 'ENOTFOUND', 'NXDOMAIN']);

/** TXT lookups through node:dns, against `servers` (or the system's resolvers when empty). */
export class NodeDnsTxtLookup implements TxtLookup {
  private readonly resolver: Resolver;

  constructor(servers: string[] = [], opts: { timeoutMs?: number; tries?: number } = {}) {
    this.resolver = new Resolver({ timeout: opts.timeoutMs ?? 3000, tries: opts.tries ?? 2 });
    if (servers.length > 0) this.resolver.setServers(servers);
  }

  async resolveTxt(name: string): Promise<string[]> {
    try {
      return (await this.resolver.resolveTxt(name)).map((chunks) => chunks.join(''));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (NO_RECORD.has(code)) return [];
      throw errors.unavailable('dns_unavailable', `DNS lookup of ${name} failed (${code || 'error'}); try again later`, err);
    }
  }
}
