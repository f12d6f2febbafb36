// Small helpers for the server-rendered privacy pages (notice, sub-processors, record of
// processing): every value is escaped, and the pages carry their own inline-free stylesheet.

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Paragraphs from text with blank lines between them. */
export function paragraphs(value: string | null | undefined): string {
  if (!value) return '';
  return value
    .split(/\n\s*\n/)
    .map((p) => `<p>${escapeHtml(p.trim())}</p>`)
    .join('');
}

// No inline <style>: the server's Content-Security-Policy (default-src 'self') forbids it, so
// the look comes from semantic markup and this stylesheet served at PRIVACY_CSS_PATH.
/** Path of the pages' stylesheet. */
export const PRIVACY_CSS_PATH = '/privacy/style.css';

/** The stylesheet of the privacy pages. */
export const PRIVACY_CSS = `body{font-family:system-ui,sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border:1px solid #ccc;padding:.4rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}.gap{color:#8a1c1c;font-weight:600}.muted{color:#666}code{font-size:.9em}
section{margin:2rem 0}h1{font-size:1.7rem}h2{font-size:1.35rem;border-bottom:1px solid #ddd}h3{font-size:1.1rem}`;

/** A complete page around `body`. */
export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><link rel="stylesheet" href="${PRIVACY_CSS_PATH}"></head><body><main>${body}</main></body></html>`;
}
