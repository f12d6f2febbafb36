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

/**
 * Parses DOMAIN_VERIFICATION_DNS_SERVERS: comma-separated IPv4/IPv6 addresses, each with an
 * optional port (`192.0.2.53`, `192.0.2.53:5353`, `[2001:db8::53]:53`). Empty: system resolvers.
 */
export function parseDnsServers(value: string | undefined): string[] {
  if (!value || value.trim() === '') return [];
  return value.split(',').map((s) => {
    const server = s.trim();
    const ipv4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(server);
    const ipv6 = /^\[([0-9a-f:]+)\](?::(\d{1,5}))?$|^([0-9a-f:]+)$/i.exec(server);
    const port = ipv4?.[2] ?? ipv6?.[2];
    if ((!ipv4 && !ipv6) || (port !== undefined && (Number(port) < 1 || Number(port) > 65535))) {
      throw errors.invalid('invalid_configuration', `DOMAIN_VERIFICATION_DNS_SERVERS: "${server.slice(0, 60)}" is not an IP address with an optional port (e.g. 192.0.2.53 or 192.0.2.53:5353)`);
    }
    return server;
  });
}

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
