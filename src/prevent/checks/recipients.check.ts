// Checks on who receives a draft, from the tenant's history and the recipient list alone:
// first_time_external, personal_webmail, many_external_recipients, many_external_domains.
import type { Draft, SmartView, Warning } from '../prevent.model.ts';
import { findSensitiveContent, describeFindings, hasIdentifier, type SensitiveFinding } from './sensitive-content.check.ts';
import { isPersonalWebmail, type RuleCheckSettings } from './settings.ts';
import { addressParts, domainFirstSeen, externalRecipients, findContact, listText } from './text.ts';

/** The draft's recipients without repeats (the same address in To and Cc counts once). */
function uniqueRecipients(draft: Draft) {
  const seen = new Set<string>();
  return draft.recipients.filter((r) => {
    const key = addressParts(r.address).canonical;
    return !seen.has(key) && (seen.add(key), true);
  });
}

/**
 * One warning per external recipient the sender has never exchanged mail with: `info`, or
 * `warning` when no one in the organisation has exchanged mail with that domain either.
 */
export function checkFirstTimeExternal(draft: Draft, view: SmartView, _settings?: RuleCheckSettings): Warning[] {
  const warnings: Warning[] = [];
  for (const r of externalRecipients(uniqueRecipients(draft), view)) {
    if (findContact(view, draft.from, r.address)) continue;
    const parts = addressParts(r.address);
    const newDomain = domainFirstSeen(view, parts) === undefined;
    warnings.push({
      check: 'first_time_external',
      severity: newDomain ? 'warning' : 'info',
      recipients: [r.address],
      reason: newDomain
        ? `You have never emailed ${r.address}, and no one in your organisation has exchanged mail with ${parts.domain} before.`
        : `You have never emailed ${r.address} before.`,
      fixes: [{ kind: 'remove_recipient', address: r.address }],
    });
  }
  return warnings;
}

/**
 * One warning per external recipient at a personal webmail domain when the content is
 * sensitive or the label is at or above the sensitive rank: `critical` when the draft holds a
 * card, bank, or national identity number; otherwise `warning`.
 */
export function checkPersonalWebmail(
  draft: Draft,
  view: SmartView,
  settings: RuleCheckSettings,
  findings: SensitiveFinding[] = findSensitiveContent(draft, settings),
): Warning[] {
  const labelled = draft.labelRank !== null && draft.labelRank >= settings.sensitiveLabelRank;
  if (findings.length === 0 && !labelled) return [];
  const why = findings.length > 0 ? `this message contains ${listText(describeFindings(findings))}` : 'this message is labelled confidential or higher';
  return externalRecipients(uniqueRecipients(draft), view)
    .filter((r) => {
      const p = addressParts(r.address);
      return isPersonalWebmail(p.domain, settings.personalWebmailDomains) || isPersonalWebmail(p.asciiDomain, settings.personalWebmailDomains);
    })
    .map((r) => ({
      check: 'personal_webmail' as const,
      severity: hasIdentifier(findings) ? ('critical' as const) : ('warning' as const),
      recipients: [r.address],
      reason: `${r.address} is a personal email account, and ${why}.`,
      fixes: [{ kind: 'remove_recipient' as const, address: r.address }],
    }));
}

/**
 * Too many visible external recipients: everyone sees everyone's address. People at one
 * organisation already know each other's addresses, so it counts only when the visible
 * external recipients span two or more domains, or use personal webmail.
 */
export function checkManyExternalRecipients(draft: Draft, view: SmartView, settings: RuleCheckSettings): Warning[] {
  const visible = externalRecipients(uniqueRecipients(draft), view).filter((r) => r.role !== 'bcc');
  if (visible.length <= settings.maxVisibleExternalRecipients) return [];
  const domains = new Set(visible.map((r) => addressParts(r.address).asciiDomain));
  const [only] = domains;
  if (domains.size === 1 && only !== undefined && !isPersonalWebmail(only, settings.personalWebmailDomains)) return [];
  const addresses = visible.map((r) => r.address);
  return [{
    check: 'many_external_recipients',
    severity: visible.length >= settings.criticalVisibleExternalRecipients ? 'critical' : 'warning',
    recipients: addresses,
    reason: `${visible.length} people outside your organisation are in To or Cc, so each will see all the others' addresses; use Bcc to keep them private.`,
    fixes: [{ kind: 'move_to_bcc', addresses }],
  }];
}

/** Recipients (any role) spanning more distinct external domains than the setting: `warning`. */
export function checkManyExternalDomains(draft: Draft, view: SmartView, settings: RuleCheckSettings): Warning[] {
  const external = externalRecipients(uniqueRecipients(draft), view);
  const domains = [...new Set(external.map((r) => addressParts(r.address).domain))];
  if (domains.length <= settings.maxExternalDomains) return [];
  const shown = domains.length > 4 ? `${domains.slice(0, 4).join(', ')} and ${domains.length - 4} more` : listText(domains);
  return [{
    check: 'many_external_domains',
    severity: 'warning',
    recipients: external.map((r) => r.address),
    reason: `This message goes to ${domains.length} outside organisations (${shown}); check that each of them should receive it.`,
    fixes: [],
  }];
}
