// A recipient field with chips: typing a comma, semicolon, space or Enter turns the text into a
// chip; pasting a list makes several; invalid addresses stay visible, marked and announced,
// so a typo is never silently dropped. Backspace in an empty field removes the last chip.
import { useId, useState, type KeyboardEvent } from 'react';
import { isEmailAddress, splitAddresses } from '../lib/format.ts';

/** A labelled chip input for a list of addresses. */
export function RecipientField({ label, values, onChange, hint }: { label: string; values: string[]; onChange(next: string[]): void; hint?: string }) {
  const id = useId();
  const [text, setText] = useState('');
  const invalid = values.filter((v) => !isEmailAddress(v));

  function commit(raw: string) {
    const add = splitAddresses(raw).filter((a) => !values.includes(a));
    if (add.length) onChange([...values, ...add]);
    setText('');
  }

  function onKeyDown(e: KeyboardEvent<HTMLInputElement>) {
    if ((e.key === 'Enter' || e.key === ',' || e.key === ';' || e.key === ' ' || e.key === 'Tab') && text.trim()) {
      if (e.key !== 'Tab') e.preventDefault();
      commit(text);
    } else if (e.key === 'Backspace' && !text && values.length) {
      onChange(values.slice(0, -1));
    }
  }

  const describedBy = [hint ? `${id}-hint` : null, invalid.length ? `${id}-error` : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <div className={invalid.length ? 'chips chips-invalid' : 'chips'} onClick={() => document.getElementById(id)?.focus()}>
        <ul className="chip-list" aria-label={`${label} recipients`}>
          {values.map((v) => {
            const ok = isEmailAddress(v);
            return (
              <li key={v} className={ok ? 'chip' : 'chip chip-invalid'}>
                <span>{v}</span>
                {ok ? null : <span className="visually-hidden"> (not a valid address)</span>}
                <button type="button" className="chip-remove" aria-label={`Remove ${v} from ${label}`} onClick={() => onChange(values.filter((x) => x !== v))}>
                  ×
                </button>
              </li>
            );
          })}
        </ul>
        <input
          id={id}
          type="text"
          inputMode="email"
          spellCheck={false}
          autoComplete="off"
          value={text}
          aria-describedby={describedBy}
          aria-invalid={invalid.length ? true : undefined}
          onChange={(e) => {
            const v = e.target.value;
            if (/[,;\s]/.test(v.slice(-1)) || /[,;\s]/.test(v.trim())) commit(v);
            else setText(v);
          }}
          onKeyDown={onKeyDown}
          onBlur={() => text.trim() && commit(text)}
        />
      </div>
      {hint ? (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      {invalid.length ? (
        <p className="field-error" id={`${id}-error`} role="alert">
          {invalid.length === 1 ? `"${invalid[0]}" is not a valid email address.` : `${invalid.length} addresses are not valid: ${invalid.join(', ')}.`}
        </p>
      ) : null}
    </div>
  );
}
