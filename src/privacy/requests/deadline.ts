// Deadline arithmetic for data subject requests, as pure functions over calendar dates
// ('YYYY-MM-DD', UTC). Our reading of the rule (docs/privacy.md, "Subject requests"):
//
// - GDPR Art. 12(3): answer "without undue delay and in any event within one month of receipt",
//   extendable "by two further months where necessary", telling the person within the first month.
// - ICO guidance: the month runs from the day the request is received to the corresponding
//   calendar date of the next month; when that date does not exist (31 January), it is the last
//   day of the next month (28 or 29 February). Where identity must be confirmed first, the time
//   limit starts only once it is: so the clock starts on the day identity is verified.
// - A pause after the clock started (e.g. waiting for the person to clarify) moves the due date
//   by the days paused.
// We do not move a due date that falls on a weekend or bank holiday (ICO allows the next working
// day): answering earlier is always allowed, so the stricter date is shown.

/** A calendar date, 'YYYY-MM-DD'. */
export type CalendarDate = string;

/** Most months an extension may add (Art. 12(3)). */
export const MAX_EXTENSION_MONTHS = 2;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function parts(date: CalendarDate): { y: number; m: number; d: number } {
  const match = DATE.exec(date);
  if (!match) throw new RangeError(`not a calendar date: ${date}`);
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) throw new RangeError(`not a calendar date: ${date}`);
  return { y, m, d };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const format = (y: number, m: number, d: number): CalendarDate => `${pad(y, 4)}-${pad(m)}-${pad(d)}`;

/** True in Gregorian leap years. */
export function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** Days in month `m` (1–12) of year `y`. */
export function daysInMonth(y: number, m: number): number {
  return [31, isLeapYear(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
}

/** The UTC calendar date of an instant. */
export function toCalendarDate(instant: Date): CalendarDate {
  return instant.toISOString().slice(0, 10);
}

/** The same day of the month `months` later; the last day of that month when it has no such day. */
export function addCalendarMonths(date: CalendarDate, months: number): CalendarDate {
  if (!Number.isInteger(months) || months < 0) throw new RangeError('months must be a non-negative integer');
  const { y, m, d } = parts(date);
  const index = y * 12 + (m - 1) + months;
  const [ny, nm] = [Math.floor(index / 12), (index % 12) + 1];
  return format(ny, nm, Math.min(d, daysInMonth(ny, nm)));
}

/** `date` plus `days` calendar days (negative goes back). */
export function addDays(date: CalendarDate, days: number): CalendarDate {
  if (!Number.isInteger(days)) throw new RangeError('days must be an integer');
  const { y, m, d } = parts(date);
  return toCalendarDate(new Date(Date.UTC(y, m - 1, d + days)));
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: CalendarDate, to: CalendarDate): number {
  const a = parts(from);
  const b = parts(to);
  return Math.round((Date.UTC(b.y, b.m - 1, b.d) - Date.UTC(a.y, a.m - 1, a.d)) / 86_400_000);
}

/** What decides a request's due date. */
export interface ClockState {
  /** Day identity was confirmed; null while awaiting identity (no clock runs). */
  startedOn: CalendarDate | null;
  /** Days paused after the clock started. */
  pausedDays: number;
  /** 0, 1 or 2. */
  extensionMonths: number;
}

/** The due date: one month (plus any extension) from the start, moved by the days paused; null while awaiting identity. */
export function dueDate(clock: ClockState): CalendarDate | null {
  if (clock.startedOn === null) return null;
  if (!Number.isInteger(clock.pausedDays) || clock.pausedDays < 0) throw new RangeError('pausedDays must be a non-negative integer');
  if (!Number.isInteger(clock.extensionMonths) || clock.extensionMonths < 0 || clock.extensionMonths > MAX_EXTENSION_MONTHS) {
    throw new RangeError(`extensionMonths must be 0 to ${MAX_EXTENSION_MONTHS}`);
  }
  return addDays(addCalendarMonths(clock.startedOn, 1 + clock.extensionMonths), clock.pausedDays);
}

/** Days left until `due` as seen on `today`: 0 on the due day, negative once overdue. */
export function daysLeft(due: CalendarDate, today: CalendarDate): number {
  return daysBetween(today, due);
}

/** True after the due day has passed. */
export function isOverdue(due: CalendarDate, today: CalendarDate): boolean {
  return daysLeft(due, today) < 0;
}

/**
 * Checks an extension: once only, 1 or 2 months, with a reason, and recorded before the
 * original month has run out (the person must be told within the first month). Returns the
 * reason trimmed; throws RangeError naming what is wrong.
 */
export function checkExtension(input: { current: ClockState; months: number; reason: string; today: CalendarDate }): string {
  if (input.current.startedOn === null) throw new RangeError('the clock has not started: identity is not confirmed yet');
  if (input.current.extensionMonths > 0) throw new RangeError('the time limit was already extended once');
  if (!Number.isInteger(input.months) || input.months < 1 || input.months > MAX_EXTENSION_MONTHS) throw new RangeError(`months must be 1 or ${MAX_EXTENSION_MONTHS}`);
  const reason = input.reason.trim();
  if (reason === '') throw new RangeError('a reason is required');
  const due = dueDate(input.current)!;
  if (isOverdue(due, input.today)) throw new RangeError(`the first month ended on ${due}; an extension must be made and told within it`);
  return reason;
}
