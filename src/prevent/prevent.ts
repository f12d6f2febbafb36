// The Prevent capability, assembled: the learned model per tenant (engine/), the rule checks
// (checks/), the service that applies policy and records decisions, and the guard that plugs
// it into sending. What the runtime builds and the HTTP layer and CLI use.
import type { KeyService } from '../keys/key.service.ts';
import type { SendGuard } from '../messages/message.service.ts';
import type { Clock } from '../shared/clock.ts';
import type { Database } from '../storage/database/database.ts';
import { SmartModel } from './engine/smart-model.ts';
import { PreventService, type RuleChecks } from './prevent.service.ts';
import { preventSendGuard } from './send-guard.ts';

// TEMPORARY until the rule checks land in ./checks: no rule findings.
type RuleCheckSettings = Record<string, never>;
const RULE_CHECKS: RuleChecks<RuleCheckSettings> = { defaults: {}, parse: () => ({}), run: () => [] };

export interface Prevent {
  db: Database;
  service: PreventService<RuleCheckSettings>;
  /** Plug into messages: checks each send, learns from each message written. */
  guard: SendGuard;
}

/** Builds Prevent for the running process. */
export function createPrevent(deps: { db: Database; keys: KeyService; clock?: Clock }): Prevent {
  const service = new PreventService<RuleCheckSettings>(
    deps.db,
    deps.keys,
    ({ internalDomains }) => new SmartModel({ tenantDomains: internalDomains }),
    RULE_CHECKS,
    deps.clock ? { now: deps.clock } : {},
  );
  return { db: deps.db, service, guard: preventSendGuard(service) };
}
