// The message body: plain text, or simple formatted text (bold, italic, lists, links) in a
// contenteditable region. What is sent is sanitised here and again by the server; the text
// version is always sent too, for recipients' clients that show plain text.
import { useEffect, useId, useRef } from 'react';
import { sanitizeHtml } from '../lib/sanitize.ts';

/** Body of a draft. */
export interface DraftBody {
  mode: 'plain' | 'rich';
  text: string;
  html: string;
}

const COMMANDS = [
  { command: 'bold', label: 'Bold', glyph: 'B' },
  { command: 'italic', label: 'Italic', glyph: 'I' },
  { command: 'insertUnorderedList', label: 'Bulleted list', glyph: '•' },
  { command: 'insertOrderedList', label: 'Numbered list', glyph: '1.' },
] as const;

/** What the send request carries for a body. */
export function bodyForSend(body: DraftBody): { text: string; html: string | null } {
  if (body.mode === 'plain') return { text: body.text, html: null };
  return { text: body.text, html: sanitizeHtml(body.html) };
}

/** A labelled body editor with a plain/formatted switch. */
export function BodyEditor({ value, onChange }: { value: DraftBody; onChange(next: DraftBody): void }) {
  const id = useId();
  const editor = useRef<HTMLDivElement>(null);

  useEffect(() => {
    // Seed the editable region when switching to formatted mode (React does not manage its children).
    if (value.mode === 'rich' && editor.current && editor.current.innerHTML !== value.html) {
      editor.current.innerHTML = value.html || value.text.split('\n').map((l) => `<p>${l.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!) || '<br>'}</p>`).join('');
      sync();
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value.mode]);

  function sync() {
    const el = editor.current;
    if (el) onChange({ mode: 'rich', html: el.innerHTML, text: el.innerText });
  }

  function exec(command: string, arg?: string) {
    editor.current?.focus();
    document.execCommand(command, false, arg);
    sync();
  }

  return (
    <div className="field">
      <div className="row space-between">
        <span className="label" id={`${id}-label`}>
          Message
        </span>
        <div className="segmented" role="group" aria-label="Body format">
          <button type="button" aria-pressed={value.mode === 'plain'} onClick={() => onChange({ ...value, mode: 'plain' })}>
            Plain text
          </button>
          <button type="button" aria-pressed={value.mode === 'rich'} onClick={() => onChange({ ...value, mode: 'rich' })}>
            Formatted
          </button>
        </div>
      </div>
      {value.mode === 'plain' ? (
        <textarea aria-labelledby={`${id}-label`} rows={10} value={value.text} onChange={(e) => onChange({ ...value, text: e.target.value, html: '' })} />
      ) : (
        <div className="rich">
          <div className="toolbar" role="toolbar" aria-label="Formatting">
            {COMMANDS.map((c) => (
              <button key={c.command} type="button" aria-label={c.label} title={c.label} onMouseDown={(e) => e.preventDefault()} onClick={() => exec(c.command)}>
                {c.glyph}
              </button>
            ))}
            <button
              type="button"
              aria-label="Link"
              title="Link"
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => {
                const url = window.prompt('Link address (https://…)');
                if (url && /^(https?:|mailto:)/i.test(url)) exec('createLink', url);
              }}
            >
              🔗
            </button>
          </div>
          <div ref={editor} className="rich-area" contentEditable role="textbox" aria-multiline="true" aria-labelledby={`${id}-label`} tabIndex={0} onInput={sync} suppressContentEditableWarning />
        </div>
      )}
    </div>
  );
}
