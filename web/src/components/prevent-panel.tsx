// The pre-send check panel: warnings from Prevent (POST /api/v1/prevent/check) with their
// severity, one plain sentence each, one-click fixes, and "send anyway" with an optional
// justification. It only presents; the compose page applies fixes to the draft.
import { useId, useState } from 'react';
import type { Label, PreventWarning as Warning, SuggestedFix } from '../lib/types.ts';
import { Badge } from './ui.tsx';

const SEVERITY_TONE = { info: 'info', warning: 'warn', critical: 'bad' } as const;
const SEVERITY_WORD = { info: 'Note', warning: 'Warning', critical: 'Critical' } as const;

/** Text of a fix's button. */
export function fixLabel(fix: SuggestedFix, labels: Label[]): string | null {
  switch (fix.kind) {
    case 'remove_recipient':
      return `Remove ${fix.address}`;
    case 'replace_recipient':
      return `Replace with ${fix.replacement}`;
    case 'move_to_bcc':
      return fix.addresses.length === 1 ? `Move ${fix.addresses[0]} to Bcc` : `Move ${fix.addresses.length} recipients to Bcc`;
    case 'add_recipient':
      return `Add ${fix.address}`;
    case 'raise_label': {
      const target = [...labels].sort((a, b) => a.rank - b.rank).find((l) => l.rank >= fix.minimumRank);
      return target ? `Use label "${target.name}"` : null;
    }
    case 'remove_content':
      return null; // the sender edits the body; no automatic fix
  }
}

/** The panel; `onFix` applies a fix, `onSendAnyway` sends with the justification given. */
export function PreventPanel({ warnings, labels, onFix, onSendAnyway, sending }: { warnings: Warning[]; labels: Label[]; onFix(w: Warning, fix: SuggestedFix): void; onSendAnyway(justification: string): void; sending: boolean }) {
  const id = useId();
  const [justification, setJustification] = useState('');
  // A blocking warning can only be sent past with a reason (the server enforces it too).
  const blocking = warnings.some((w) => w.mode === 'block');
  return (
    <section className="prevent" aria-labelledby={`${id}-title`} role="region">
      <h2 id={`${id}-title`}>Check before sending</h2>
      <p className="hint">Sealpost noticed {warnings.length === 1 ? 'something' : `${warnings.length} things`} about this message. Fix {warnings.length === 1 ? 'it' : 'them'} with one click, or send anyway.</p>
      <ul className="warning-list">
        {warnings.map((w, i) => (
          <li key={`${w.check}-${i}`} className={`warning warning-${w.severity}`}>
            <div className="warning-head">
              <Badge tone={SEVERITY_TONE[w.severity]}>{SEVERITY_WORD[w.severity]}</Badge>
              <span>{w.reason}</span>
              {w.mode === 'block' ? <span className="hint">Blocks sending</span> : null}
            </div>
            {w.fixes.length ? (
              <div className="row">
                {w.fixes.map((f, j) => {
                  const text = fixLabel(f, labels);
                  return text ? (
                    <button key={j} type="button" className="button button-small" onClick={() => onFix(w, f)}>
                      {text}
                    </button>
                  ) : f.kind === 'remove_content' ? (
                    <span key={j} className="hint">
                      Consider removing: {f.description}
                    </span>
                  ) : null;
                })}
              </div>
            ) : null}
          </li>
        ))}
      </ul>
      <div className="field">
        <label htmlFor={`${id}-why`}>Reason for sending anyway {blocking ? '(required by your organisation)' : '(optional)'}</label>
        <input id={`${id}-why`} value={justification} maxLength={1000} required={blocking} aria-required={blocking} onChange={(e) => setJustification(e.target.value)} />
      </div>
      <button type="button" className="button button-danger" onClick={() => onSendAnyway(justification.trim())} disabled={sending || (blocking && !justification.trim())}>
        Send anyway
      </button>
    </section>
  );
}
