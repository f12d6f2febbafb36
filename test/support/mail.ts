// Minimal reading of captured RFC 5322 messages for tests: unfolded headers by lower-case name.
/** Header fields of a raw message (first occurrence wins). */
export function parseHeaders(raw: Buffer | string): Record<string, string> {
  const text = raw.toString();
  const end = text.search(/\r?\n\r?\n/);
  const unfolded = (end >= 0 ? text.slice(0, end) : text).replace(/\r?\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of unfolded.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    if (!(name in headers)) headers[name] = line.slice(i + 1).trim();
  }
  return headers;
}
