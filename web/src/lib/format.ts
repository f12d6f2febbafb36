// Formatting helpers shared by the pages.

/** "12.3 MB" style sizes. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** A date and time in the reader's locale. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A date in the reader's locale. */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleDateString(undefined, { dateStyle: 'medium' });
}

// The same rule as the server (src/messages/addresses.ts), so a chip is red exactly when the
// server would refuse the address; the server still validates and names the one it refuses.
const ADDRESS = /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

/** Whether `value` (lower-cased) is an address the server accepts. */
export function isEmailAddress(value: string): boolean {
  const a = value.trim().toLowerCase();
  if (a.length < 3 || a.length > 254) return false;
  const local = a.split('@')[0];
  if (!local || local.length > 64 || local.startsWith('.') || local.endsWith('.') || local.includes('..')) return false;
  return ADDRESS.test(a);
}

/** Splits pasted text ("a@x, b@y; c@z") into addresses. */
export function splitAddresses(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((s) => s.replace(/^<|>$/g, '').trim().toLowerCase())
    .filter(Boolean);
}

/** Plain words for a label's expiry. */
export function describeExpiry(days: number | null): string {
  if (days === null) return 'no expiry';
  return days === 1 ? 'expires after 1 day' : `expires after ${days} days`;
}
