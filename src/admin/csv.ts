// CSV for spreadsheets: RFC 4180 quoting, and protection against formula injection.

// A cell starting with one of these is run as a formula by Excel, LibreOffice and Google Sheets
// (e.g. a user agent "=HYPERLINK(…)" chosen by an attacker); a leading ' makes it plain text.
const FORMULA_START = /^[=+\-@\t\r]/;

/** One cell: null and undefined become empty; everything is quoted, quotes doubled. */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '""';
  let s = String(value);
  if (FORMULA_START.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

/** One record, CRLF-terminated as RFC 4180 asks. */
export function csvRow(cells: Array<string | number | boolean | null | undefined>): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}
