// Verified domains and free-to-business transfers, assembled for the runtime.
import type { JobHandler } from '../../jobs/job.runner.ts';
import type { ContentStore } from '../../content/content.service.ts';
import type { KeyService } from '../../keys/key.service.ts';
import type { Mailer } from '../../mail/mailer.ts';
import type { Clock } from '../../shared/clock.ts';
import type { Database } from '../../storage/database/database.ts';
import { AccountTransferService } from './account-transfer.service.ts';
import { NodeDnsTxtLookup, type TxtLookup } from './dns-txt.ts';
import { DomainService } from './domain.service.ts';

/** What the runtime, HTTP layer and CLI use. */
export interface Domains {
  domains: DomainService;
  transfers: AccountTransferService;
  /** Job handlers (transfer notices and due transfers) for the server's runner. */
  jobs: Record<string, JobHandler>;
}

/** Builds the capability; `dnsServers` empty means the system's resolvers (DOMAIN_VERIFICATION_DNS_SERVERS). */
export function createDomains(deps: { db: Database; keys: KeyService; content: ContentStore; mailer: Mailer; publicUrl: string; dnsServers?: string[]; dns?: TxtLookup; onEnqueued?: () => void; now?: Clock }): Domains {
  const clock = deps.now ? { now: deps.now } : {};
  const transfers = new AccountTransferService(deps.db, { keys: deps.keys, content: deps.content, mailer: deps.mailer, publicUrl: deps.publicUrl, ...(deps.onEnqueued ? { onEnqueued: deps.onEnqueued } : {}) }, clock);
  const domains = new DomainService(deps.db, deps.dns ?? new NodeDnsTxtLookup(deps.dnsServers ?? []), transfers, clock);
  return { domains, transfers, jobs: transfers.jobs };
}
