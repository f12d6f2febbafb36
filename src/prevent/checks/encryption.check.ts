// encryption_recommended: the label is below the sensitive rank while the content or the
// recipients call for more protection; the fix raises the label (which brings the label's
// expiry, no-forward and authentication rules with it).
import type { Draft, SmartView, Warning } from '../prevent.model.ts';
import { describeFindings, findSensitiveContent, type SensitiveFinding } from './sensitive-content.check.ts';
import { isPersonalWebmail, type RuleCheckSettings } from './settings.ts';
import { addressParts, domainFirstSeen, externalRecipients, findContact, listText } from './text.ts';

/**
 * External recipients whose address alone is a risk: personal webmail, or a first contact at a
 * domain the organisation has never exchanged mail with.
 */
export function riskyExternalRecipients(draft: Draft, view: SmartView, settings: RuleCheckSettings): string[] {
  return externalRecipients(draft.recipients, view)
    .filter((r) => {
      const p = addressParts(r.address);
      if (isPersonalWebmail(p.domain, settings.personalWebmailDomains) || isPersonalWebmail(p.asciiDomain, settings.personalWebmailDomains)) return true;
      return !findContact(view, draft.from, r.address) && domainFirstSeen(view, p) === undefined;
    })
    .map((r) => r.address);
}

/**
 * One warning for the draft when its label is below the sensitive rank (or it has none) and
 * it holds sensitive content (`warning`) or goes to risky external recipients (`info`).
 */
export function checkEncryptionRecommended(
  draft: Draft,
  view: SmartView,
  settings: RuleCheckSettings,
  findings: SensitiveFinding[] = findSensitiveContent(draft, settings),
): Warning[] {
  if (draft.labelRank !== null && draft.labelRank >= settings.sensitiveLabelRank) return [];
  const risky = riskyExternalRecipients(draft, view, settings);
  if (findings.length === 0 && risky.length === 0) return [];
  const fix = { kind: 'raise_label' as const, minimumRank: settings.sensitiveLabelRank };
  if (findings.length > 0) {
    return [{
      check: 'encryption_recommended',
      severity: 'warning',
      recipients: [],
      reason: `This message contains ${listText(describeFindings(findings))}; label it confidential so only the named recipients can open it.`,
      fixes: [fix],
    }];
  }
  return [{
    check: 'encryption_recommended',
    severity: 'info',
    recipients: risky,
    reason: `${listText(risky.slice(0, 3))}${risky.length > 3 ? ` and ${risky.length - 3} more` : ''} ${risky.length === 1 ? 'is a personal or new outside address' : 'are personal or new outside addresses'}; consider labelling this message confidential.`,
    fixes: [fix],
  }];
}
