// Sanitises message HTML in the browser before it is shown. The server already sanitised it at
// sending (src/messages/envelope.ts); this second pass runs on what was decrypted here, so a
// compromised or buggy sender path still cannot run script in the reader's page. The document
// is parsed inert (DOMParser does not run scripts or load images) and rebuilt from an allow-list.

const ALLOWED = new Set(['P', 'BR', 'B', 'STRONG', 'I', 'EM', 'U', 'S', 'BLOCKQUOTE', 'CODE', 'PRE', 'UL', 'OL', 'LI', 'A', 'H1', 'H2', 'H3', 'H4', 'TABLE', 'THEAD', 'TBODY', 'TR', 'TH', 'TD', 'HR', 'SPAN', 'DIV']);
const HTML_NS = 'http://www.w3.org/1999/xhtml';
// Dropped with everything inside them (their text is not content a reader should see).
const DROP = new Set(['SCRIPT', 'STYLE', 'TEMPLATE', 'IFRAME', 'OBJECT', 'EMBED', 'SVG', 'MATH', 'NOSCRIPT', 'TITLE', 'HEAD']);

function safeHref(href: string): string | null {
  try {
    // Absolute addresses only (no base): an empty or relative href would otherwise resolve
    // against the base and become a link to an address nobody wrote.
    const url = new URL(href);
    return ['https:', 'http:', 'mailto:'].includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

function copy(from: Node, to: Node, doc: Document): void {
  for (const child of Array.from(from.childNodes)) {
    if (child.nodeType === Node.TEXT_NODE) {
      to.appendChild(doc.createTextNode(child.textContent ?? ''));
    } else if (child.nodeType === Node.ELEMENT_NODE) {
      const el = child as Element;
      // SVG and MathML elements keep their lower-case tagName ('svg', 'text'), so the upper-case
      // sets below would not see them: foreign content is dropped whole, as DROP intends.
      if (el.namespaceURI !== HTML_NS || DROP.has(el.tagName)) continue;
      if (!ALLOWED.has(el.tagName)) {
        copy(el, to, doc); // unwrap: keep the text, lose the element
        continue;
      }
      const out = doc.createElement(el.tagName.toLowerCase());
      if (el.tagName === 'A') {
        const href = safeHref(el.getAttribute('href') ?? '');
        if (href) {
          out.setAttribute('href', href);
          out.setAttribute('rel', 'noopener noreferrer nofollow');
          out.setAttribute('target', '_blank');
        }
      }
      if (el.tagName === 'TD' || el.tagName === 'TH') {
        for (const a of ['colspan', 'rowspan']) {
          const v = el.getAttribute(a);
          if (v && /^\d{1,3}$/.test(v)) out.setAttribute(a, v);
        }
      }
      copy(el, out, doc);
      to.appendChild(out);
    }
  }
}

/** Returns HTML containing only allow-listed elements and attributes. */
export function sanitizeHtml(html: string): string {
  const parsed = new DOMParser().parseFromString(html, 'text/html');
  const doc = document.implementation.createHTMLDocument('');
  const root = doc.createElement('div');
  copy(parsed.body, root, doc);
  return root.innerHTML;
}
