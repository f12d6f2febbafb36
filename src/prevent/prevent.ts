// The Prevent capability, assembled: the learned model per tenant (engine/), the rule checks
// (checks/), the service that applies policy and records decisions, and the guard that plugs
// it into sending. What the runtime builds and the HTTP layer and CLI use.
import type { KeyService } from '../keys/key.service.ts';
import type { SendGuard } from '../messages/message.service.ts';
import type { Clock } from '../shared/clock.ts';
import type { Database } from '../storage/database/database.ts';
import { runRuleChecks } from './checks/rule-checks.ts';
import { DEFAULT_RULE_CHECK_SETTINGS, parseRuleCheckSettings, type RuleCheckSettings } from './checks/settings.ts';
import { SmartModel } from './engine/smart-model.ts';
import { PreventService, type RuleChecks } from './prevent.service.ts';
import { preventSendGuard } from './send-guard.ts';

const RULE_CHECKS: RuleChecks<RuleCheckSettings> = {
  defaults: DEFAULT_RULE_CHECK_SETTINGS,
  parse: (input) => parseRuleCheckSettings(input),
  run: runRuleChecks,
};

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
