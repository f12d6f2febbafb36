// Entry point of the rule checks: runs every check family on one draft and returns one list of
// warnings, deduplicated and most severe first. The learned checks (unusual_recipient,
// missing_recipient) live in ../engine/ and are merged by the caller.
import { CHECK_KINDS, SEVERITIES, type Draft, type SmartView, type Warning } from '../prevent.model.ts';
import { checkEncryptionRecommended } from './encryption.check.ts';
import { checkGreetingMismatch } from './greeting.check.ts';
import { checkLookalikeAddresses } from './lookalike.check.ts';
import { checkFirstTimeExternal, checkManyExternalDomains, checkManyExternalRecipients, checkPersonalWebmail } from './recipients.check.ts';
import { checkSensitiveContent, findSensitiveContent } from './sensitive-content.check.ts';
import { DEFAULT_RULE_CHECK_SETTINGS, type RuleCheckSettings } from './settings.ts';

/** Every rule check on a draft; pure (the view is read-only), so it may run on each keystroke. */
export function runRuleChecks(draft: Draft, view: SmartView, settings: RuleCheckSettings = DEFAULT_RULE_CHECK_SETTINGS): Warning[] {
  const findings = findSensitiveContent(draft, settings); // scanned once, shared by three checks
  return dedupe([
    ...checkLookalikeAddresses(draft, view, settings),
    ...checkFirstTimeExternal(draft, view, settings),
    ...checkPersonalWebmail(draft, view, settings, findings),
    ...checkManyExternalRecipients(draft, view, settings),
    ...checkManyExternalDomains(draft, view, settings),
    ...checkGreetingMismatch(draft, view, settings),
    ...checkSensitiveContent(draft, view, settings, findings),
    ...checkEncryptionRecommended(draft, view, settings, findings),
  ]);
}

/** One warning per check and recipient set (the most severe), sorted by severity then check. */
export function dedupe(warnings: Warning[]): Warning[] {
  const rank = (w: Warning) => SEVERITIES.indexOf(w.severity);
  const kept = new Map<string, Warning>();
  for (const w of warnings) {
    const key = `${w.check}|${[...new Set(w.recipients)].sort().join(',')}`;
    const prior = kept.get(key);
    if (!prior || rank(w) > rank(prior)) kept.set(key, w);
  }
  return [...kept.values()].sort((a, b) => rank(b) - rank(a) || CHECK_KINDS.indexOf(a.check) - CHECK_KINDS.indexOf(b.check));
}
