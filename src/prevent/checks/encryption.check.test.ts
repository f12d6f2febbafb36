import { describe, expect, it } from 'vitest';
import { checkEncryptionRecommended } from './encryption.check.ts';
import { DEFAULT_RULE_CHECK_SETTINGS as settings } from './settings.ts';
import { buildDraft, buildTestView, contact } from './test-view.ts';

const view = buildTestView({ contacts: { 'alice@acme.com': [contact('bob@partner.com')] } });

describe('checkEncryptionRecommended', () => {
  it('does recommend raising the label when content is sensitive and the label is lower or absent', () => {
    for (const labelRank of [null, 0, 1]) {
      const [w] = checkEncryptionRecommended(buildDraft({ recipients: ['bob@partner.com'], body: 'NHS 943 476 5919', labelRank }), view, settings);
      expect(w).toEqual({
        check: 'encryption_recommended', severity: 'warning', recipients: [],
        reason: 'This message contains an NHS number; label it confidential so only the named recipients can open it.',
        fixes: [{ kind: 'raise_label', minimumRank: 2 }],
      });
    }
  });

  it('does suggest it at info level for personal or brand-new outside addresses', () => {
    const [w] = checkEncryptionRecommended(buildDraft({ recipients: ['bob@partner.com', 'x@gmail.com', 'y@newco.io'] }), view, settings);
    expect(w).toMatchObject({ severity: 'info', recipients: ['x@gmail.com', 'y@newco.io'] });
  });

  it('does not recommend it when the label is already sensitive, or nothing calls for it', () => {
    expect(checkEncryptionRecommended(buildDraft({ recipients: ['x@gmail.com'], body: 'Card 4242 4242 4242 4242', labelRank: 2 }), view, settings)).toEqual([]);
    expect(checkEncryptionRecommended(buildDraft({ recipients: ['bob@partner.com', 'carol@acme.com'] }), view, settings)).toEqual([]);
  });

  it('does follow the configured sensitive rank', () => {
    const strict = { ...settings, sensitiveLabelRank: 3 };
    expect(checkEncryptionRecommended(buildDraft({ recipients: ['bob@partner.com'], body: 'SSN 536-22-8726', labelRank: 2 }), view, strict)[0]!.fixes).toEqual([{ kind: 'raise_label', minimumRank: 3 }]);
  });
});
