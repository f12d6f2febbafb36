// ISO-8601 durations as retention uses them: years, months, weeks and days (P2Y, P13M, P30D,
// P1Y6M). No time part: retention is decided by the day, and months and years are calendar
// months and years (P1M from 31 January is the last day of February), as the registry means them.
import { errors } from '../../shared/app-error.ts';

/** A parsed duration. */
export interface Duration {
  years: number;
  months: number;
  weeks: number;
  days: number;
}

const PATTERN = /^P(?=\d)(?:(\d{1,3})Y)?(?:(\d{1,4})M)?(?:(\d{1,4})W)?(?:(\d{1,5})D)?$/;

/** Parses `text` (e.g. "P2Y"); throws invalid `retention_period_invalid` naming `field`. */
export function parseDuration(text: string, field = 'period'): Duration {
  const m = PATTERN.exec(text);
  if (!m) {
    throw errors.invalid('retention_period_invalid', `${field} must be an ISO-8601 duration in years, months, weeks or days, e.g. P2Y, P13M, P30D (got "${text.slice(0, 40)}")`, { field });
  }
  return { years: Number(m[1] ?? 0), months: Number(m[2] ?? 0), weeks: Number(m[3] ?? 0), days: Number(m[4] ?? 0) };
}

/** `date` moved back by `d` (calendar arithmetic in UTC; the day is clamped to the month's end). */
export function subtractDuration(date: Date, d: Duration): Date {
  const out = new Date(date.getTime());
  const day = out.getUTCDate();
  out.setUTCDate(1);
  out.setUTCMonth(out.getUTCMonth() - d.months - 12 * d.years);
  const lastDay = new Date(Date.UTC(out.getUTCFullYear(), out.getUTCMonth() + 1, 0)).getUTCDate();
  out.setUTCDate(Math.min(day, lastDay));
  out.setUTCDate(out.getUTCDate() - d.days - 7 * d.weeks);
  return out;
}

/** Approximate length in days (a month as 30.44 days), for comparing against bounds. */
export function approximateDays(d: Duration): number {
  return d.years * 365.25 + d.months * 30.44 + d.weeks * 7 + d.days;
}
