// Building blocks every page uses: the page frame (one <main> per page), labelled fields,
// alerts announced to screen readers, progress bars with text equivalents.
import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode, type InputHTMLAttributes, type TextareaHTMLAttributes, type SelectHTMLAttributes } from 'react';
import { formatBytes } from '../lib/format.ts';
import { errorText } from '../lib/hooks.ts';

/** The main landmark of a page, with its heading (focused on navigation for screen readers). */
export function Page({ title, children, narrow, actions }: { title: string; children: ReactNode; narrow?: boolean; actions?: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <main id="main" className={narrow ? 'page page-narrow' : 'page'}>
      <div className="page-head">
        <h1 ref={heading} tabIndex={-1}>
          {title}
        </h1>
        {actions ? <div className="page-actions">{actions}</div> : null}
      </div>
      {children}
    </main>
  );
}

/** A labelled text input; `hint` and `error` are tied to it with aria-describedby. */
export function Field({ label, hint, error, ...input }: { label: string; hint?: ReactNode; error?: string | null } & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  const describedBy = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} aria-invalid={error ? true : undefined} aria-describedby={describedBy} {...input} />
      {hint ? <p className="hint" id={`${id}-hint`}>{hint}</p> : null}
      {error ? <p className="field-error" id={`${id}-error`}>{error}</p> : null}
    </div>
  );
}

/** A labelled textarea; `hint` and `error` are tied to it as for Field. */
export function TextArea({ label, hint, error, ...input }: { label: string; hint?: ReactNode; error?: string | null } & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const id = useId();
  const describedBy = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea id={id} aria-invalid={error ? true : undefined} aria-describedby={describedBy} {...input} />
      {hint ? <p className="hint" id={`${id}-hint`}>{hint}</p> : null}
      {error ? <p className="field-error" id={`${id}-error`}>{error}</p> : null}
    </div>
  );
}

/** A labelled select; `hint` and `error` are tied to it as for Field. */
export function Select({ label, hint, error, children, ...input }: { label: string; hint?: ReactNode; error?: string | null; children: ReactNode } & SelectHTMLAttributes<HTMLSelectElement>) {
  const id = useId();
  const describedBy = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} aria-invalid={error ? true : undefined} aria-describedby={describedBy} {...input}>
        {children}
      </select>
      {hint ? <div className="hint" id={`${id}-hint`}>{hint}</div> : null}
      {error ? <p className="field-error" id={`${id}-error`}>{error}</p> : null}
    </div>
  );
}

/** Checkboxes for choosing any of `options` (shown with underscores as spaces), under a legend. */
export function CheckboxGroup({ legend, options, value, onChange }: { legend: string; options: readonly string[]; value: string[]; onChange(v: string[]): void }) {
  return (
    <fieldset className="field">
      <legend>{legend}</legend>
      {options.map((o) => (
        <label key={o} className="check">
          <input type="checkbox" checked={value.includes(o)} onChange={(e) => onChange(e.target.checked ? [...value, o] : value.filter((x) => x !== o))} /> {o.replace(/_/g, ' ')}
        </label>
      ))}
    </fieldset>
  );
}

/** A form that saves through `save` (disabled while it runs) and shows the server's refusal in place. */
export function SaveForm({ label, button, errorTitle = 'Not saved', save, children }: { label: string; button: string; errorTitle?: string; save(): Promise<void>; children: ReactNode }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await save();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="stack" onSubmit={submit} noValidate aria-label={label}>
      {error ? (
        <Alert tone="error" title={errorTitle}>
          {error}
        </Alert>
      ) : null}
      {children}
      <button type="submit" className="button button-primary" disabled={busy}>
        {button}
      </button>
    </form>
  );
}

/** A message box; errors interrupt screen readers (role=alert), the rest are polite. */
export function Alert({ tone, title, children }: { tone: 'error' | 'info' | 'success' | 'warning'; title?: string; children?: ReactNode }) {
  return (
    <div className={`alert alert-${tone}`} role={tone === 'error' ? 'alert' : 'status'}>
      {title ? <p className="alert-title">{title}</p> : null}
      {children}
    </div>
  );
}

/** A progress bar with a label and bytes done; always the same height (no layout jump). */
export function ProgressBar({ label, done, total }: { label: string; done: number; total: number }) {
  const pct = total > 0 ? Math.min(100, Math.round((done / total) * 100)) : 0;
  return (
    <div className="progress">
      <div className="progress-text">
        <span>{label}</span>
        <span>{total > 0 ? `${formatBytes(done)} of ${formatBytes(total)} (${pct}%)` : ''}</span>
      </div>
      <div className="progress-track" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
        <div className="progress-fill" style={{ width: `${pct}%` }} />
      </div>
    </div>
  );
}

/** A placeholder of stable size while something loads. */
export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="loading" role="status">
      <span className="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

/** A small coloured badge (statuses, labels). */
export function Badge({ tone = 'neutral', children }: { tone?: 'neutral' | 'good' | 'warn' | 'bad' | 'info'; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}
