// Picking files (button or drag-and-drop) and uploading each with its own progress bar. Used
// by compose (sender uploads) and by recipients' replies (recipient uploads): only the upload
// URL and headers differ.
import { useId, useRef, useState, type DragEvent } from 'react';
import { ApiError, uploadFile } from '../lib/api.ts';
import { formatBytes } from '../lib/format.ts';
import { ProgressBar } from './ui.tsx';

/** One attachment of a draft. */
export interface DraftFile {
  key: string;
  file: File;
  done: number;
  state: 'uploading' | 'uploaded' | 'failed';
  uploadId?: string;
  error?: string;
}

/**
 * Attachments of a draft: state and actions. `anonymous`: the upload is not made with the
 * sign-in session (a recipient's reply), so a 401 does not sign the page out.
 */
export function useDraftFiles(uploadPath: string, headers: Record<string, string>, opts: { anonymous?: boolean } = {}) {
  const [files, setFiles] = useState<DraftFile[]>([]);
  const aborts = useRef(new Map<string, AbortController>());
  const update = (key: string, patch: Partial<DraftFile>) => setFiles((fs) => fs.map((f) => (f.key === key ? { ...f, ...patch } : f)));

  function add(list: FileList | File[]) {
    for (const file of Array.from(list)) {
      const key = `${file.name}-${file.size}-${Math.random().toString(36).slice(2)}`;
      const abort = new AbortController();
      aborts.current.set(key, abort);
      setFiles((fs) => [...fs, { key, file, done: 0, state: 'uploading' }]);
      uploadFile(uploadPath, file, headers, (done) => update(key, { done }), abort.signal, opts).then(
        (r) => update(key, { state: 'uploaded', uploadId: r.uploadId, done: file.size }),
        (err: unknown) => {
          if (err instanceof ApiError && err.code === 'aborted') return;
          update(key, { state: 'failed', error: err instanceof Error ? err.message : 'upload failed' });
        },
      );
    }
  }

  function remove(key: string) {
    aborts.current.get(key)?.abort();
    setFiles((fs) => fs.filter((f) => f.key !== key));
  }

  return {
    files,
    add,
    remove,
    clear: () => setFiles([]),
    busy: files.some((f) => f.state === 'uploading'),
    failed: files.some((f) => f.state === 'failed'),
    /** What the send request lists. */
    attachments: () => files.filter((f) => f.state === 'uploaded').map((f) => ({ uploadId: f.uploadId!, filename: f.file.name, contentType: f.file.type || 'application/octet-stream' })),
  };
}

/** The picker, drop zone and per-file progress. */
export function AttachmentPicker({ draft, label = 'Attachments' }: { draft: ReturnType<typeof useDraftFiles>; label?: string }) {
  const id = useId();
  const [over, setOver] = useState(false);
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    if (e.dataTransfer.files.length) draft.add(e.dataTransfer.files);
  };
  return (
    <fieldset className="field attachments">
      <legend>{label}</legend>
      <div
        className={over ? 'dropzone dropzone-over' : 'dropzone'}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        <p>
          Drag files here, or{' '}
          <label htmlFor={id} className="file-label">
            choose files
          </label>
          <input
            id={id}
            className="visually-hidden-input"
            type="file"
            multiple
            onChange={(e) => {
              if (e.target.files) draft.add(e.target.files);
              e.target.value = '';
            }}
          />
        </p>
        <p className="hint">Each file is sealed as it uploads; nothing is stored unencrypted.</p>
      </div>
      {draft.files.length ? (
        <ul className="file-list" aria-label="Attached files">
          {draft.files.map((f) => (
            <li key={f.key} className="file-item">
              <div className="file-row">
                <span className="file-name">{f.file.name}</span>
                <span className="file-size">{formatBytes(f.file.size)}</span>
                <button type="button" className="button button-quiet button-small" onClick={() => draft.remove(f.key)} aria-label={`Remove ${f.file.name}`}>
                  Remove
                </button>
              </div>
              {f.state === 'failed' ? (
                <p className="field-error" role="alert">
                  {f.file.name}: {f.error}
                </p>
              ) : (
                <ProgressBar label={f.state === 'uploaded' ? `${f.file.name} uploaded` : `Uploading ${f.file.name}`} done={f.done} total={f.file.size} />
              )}
            </li>
          ))}
        </ul>
      ) : null}
    </fieldset>
  );
}
