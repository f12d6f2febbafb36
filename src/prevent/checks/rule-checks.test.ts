import { describe, expect, it } from 'vitest';
import type { Warning } from '../prevent.model.ts';
import { dedupe, runRuleChecks } from './rule-checks.ts';
import { parseRuleCheckSettings } from './settings.ts';
import { buildDraft, buildTestView, contact, recipient } from './test-view.ts';

const view = buildTestView({
  contacts: { 'alice@acme.com': [contact('john.smith@acme.com', 40, 20, 'John Smith'), contact('bob@partner.com', 5, 5, 'Bob Brown')] },
  domains: { 'gmail.com': new Date('2020-01-01T00:00:00Z') },
});

describe('runRuleChecks', () => {
  it('does say nothing about an ordinary draft to known people', () => {
    expect(runRuleChecks(buildDraft({ recipients: ['john.smith@acme.com', recipient('bob@partner.com', 'cc')], body: 'Hi John,\nSee you Friday.' }), view)).toEqual([]);
  });

  it('does combine the checks, most severe first', () => {
    const draft = buildDraft({
      recipients: ['john.smith@gmail.com'],
      body: 'Hi Sarah,\nMy card is 4242 4242 4242 4242.',
    });
    const warnings = runRuleChecks(draft, view);
    expect(warnings.map((w) => [w.check, w.severity])).toEqual([
      ['personal_webmail', 'critical'],
      ['lookalike_address', 'warning'],
      ['greeting_mismatch', 'warning'],
      ['sensitive_content', 'warning'],
      ['encryption_recommended', 'warning'],
      ['first_time_external', 'info'],
    ]);
    for (const w of warnings) expect(w.reason).not.toContain('4242 4242');
  });

  it('does use tenant settings, including custom patterns', () => {
    const settings = parseRuleCheckSettings({ customPatterns: [{ name: 'Deal code', pattern: 'DEAL-\\d{4}' }] });
    const warnings = runRuleChecks(buildDraft({ recipients: ['bob@partner.com'], subject: 'DEAL-2026 terms' }), view, settings);
    expect(warnings.find((w) => w.check === 'sensitive_content')!.reason).toContain('1 match of “Deal code”');
  });

  it('does not crash on odd input: empty lists, addresses without @, very long bodies', () => {
    expect(runRuleChecks(buildDraft({ recipients: [], body: '' }), view)).toEqual([]);
    expect(() => runRuleChecks(buildDraft({ recipients: ['not-an-address', '@', 'x@'], body: 'Hi ,\n'.repeat(50_000) }), view)).not.toThrow();
  });
});

describe('dedupe', () => {
  const w = (severity: Warning['severity'], recipients: string[]): Warning => ({ check: 'first_time_external', severity, recipients, reason: severity, fixes: [] });

  it('does keep one warning per check and recipient set, the most severe', () => {
    expect(dedupe([w('info', ['a@x.com', 'b@x.com']), w('warning', ['b@x.com', 'a@x.com']), w('info', ['a@x.com'])]).map((x) => x.reason)).toEqual(['warning', 'info']);
  });
});
