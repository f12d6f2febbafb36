import { describe, expect, it } from 'vitest';
import { addCalendarMonths, addDays, checkExtension, daysBetween, daysInMonth, daysLeft, dueDate, isLeapYear, isOverdue, toCalendarDate } from './deadline.ts';

describe('addCalendarMonths', () => {
  it('does land on the same day of the next month', () => {
    expect(addCalendarMonths('2027-09-03', 1)).toBe('2027-10-03');
    expect(addCalendarMonths('2027-01-15', 1)).toBe('2027-02-15');
  });

  it('does clamp to the end of a shorter month (31 January → 28 February)', () => {
    expect(addCalendarMonths('2027-01-31', 1)).toBe('2027-02-28');
    expect(addCalendarMonths('2027-01-30', 1)).toBe('2027-02-28');
    expect(addCalendarMonths('2027-01-29', 1)).toBe('2027-02-28');
    expect(addCalendarMonths('2027-03-31', 1)).toBe('2027-04-30');
    expect(addCalendarMonths('2027-08-31', 1)).toBe('2027-09-30');
  });

  it('does give 29 February in leap years, including 2000 but not 2100', () => {
    expect(addCalendarMonths('2028-01-31', 1)).toBe('2028-02-29');
    expect(addCalendarMonths('2028-01-29', 1)).toBe('2028-02-29');
    expect(addCalendarMonths('2000-01-31', 1)).toBe('2000-02-29');
    expect(addCalendarMonths('2100-01-31', 1)).toBe('2100-02-28');
  });

  it('does go from 29 February to 29 March, and never past a month end', () => {
    expect(addCalendarMonths('2028-02-29', 1)).toBe('2028-03-29');
    expect(addCalendarMonths('2028-02-28', 1)).toBe('2028-03-28');
  });

  it('does cross year ends and add several months from the original day', () => {
    expect(addCalendarMonths('2027-12-31', 1)).toBe('2028-01-31');
    expect(addCalendarMonths('2027-11-30', 3)).toBe('2028-02-29');
    expect(addCalendarMonths('2027-12-31', 3)).toBe('2028-03-31');
    // Three months at once, not three steps of one: 31 Jan + 3 = 30 Apr, not 28 Apr.
    expect(addCalendarMonths('2027-01-31', 3)).toBe('2027-04-30');
    expect(addCalendarMonths('2027-05-15', 0)).toBe('2027-05-15');
  });

  it('does refuse malformed dates and negative months', () => {
    expect(() => addCalendarMonths('2027-02-30', 1)).toThrow(RangeError);
    expect(() => addCalendarMonths('2027-13-01', 1)).toThrow(RangeError);
    expect(() => addCalendarMonths('27-01-01', 1)).toThrow(RangeError);
    expect(() => addCalendarMonths('2027-01-01', -1)).toThrow(RangeError);
    expect(() => addCalendarMonths('2027-01-01', 1.5)).toThrow(RangeError);
  });
});

describe('calendar helpers', () => {
  it('does know leap years and month lengths', () => {
    expect([1900, 2000, 2024, 2027, 2028, 2100].map(isLeapYear)).toEqual([false, true, true, false, true, false]);
    expect(daysInMonth(2027, 2)).toBe(28);
    expect(daysInMonth(2028, 2)).toBe(29);
    expect(daysInMonth(2027, 4)).toBe(30);
    expect(daysInMonth(2027, 12)).toBe(31);
  });

  it('does add days across month and year ends and count days between dates', () => {
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2027-02-28', 1)).toBe('2027-03-01');
    expect(addDays('2027-12-31', 1)).toBe('2028-01-01');
    expect(addDays('2027-03-01', -1)).toBe('2027-02-28');
    expect(daysBetween('2027-02-01', '2027-03-01')).toBe(28);
    expect(daysBetween('2028-02-01', '2028-03-01')).toBe(29);
    expect(daysBetween('2027-03-01', '2027-02-01')).toBe(-28);
  });

  it('does take the UTC date of an instant', () => {
    expect(toCalendarDate(new Date('2027-01-31T23:59:59.999Z'))).toBe('2027-01-31');
    expect(toCalendarDate(new Date('2027-02-01T00:00:00+01:00'))).toBe('2027-01-31');
  });
});

describe('dueDate', () => {
  it('does run no clock while awaiting identity', () => {
    expect(dueDate({ startedOn: null, pausedDays: 0, extensionMonths: 0 })).toBeNull();
  });

  it('does fall due one month after the clock started', () => {
    expect(dueDate({ startedOn: '2027-01-31', pausedDays: 0, extensionMonths: 0 })).toBe('2027-02-28');
    expect(dueDate({ startedOn: '2028-01-31', pausedDays: 0, extensionMonths: 0 })).toBe('2028-02-29');
  });

  it('does start the month on verification, not on receipt (pause while awaiting identity)', () => {
    // Received 20 January, identity confirmed 3 February: due 3 March, not 20 February.
    expect(dueDate({ startedOn: '2027-02-03', pausedDays: 0, extensionMonths: 0 })).toBe('2027-03-03');
  });

  it('does move the due date by the days paused after the clock started (resume)', () => {
    expect(dueDate({ startedOn: '2027-01-31', pausedDays: 5, extensionMonths: 0 })).toBe('2027-03-05');
    expect(dueDate({ startedOn: '2027-12-20', pausedDays: 14, extensionMonths: 0 })).toBe('2028-02-03');
  });

  it('does add an extension of one or two months from the start, with end-of-month clamp', () => {
    expect(dueDate({ startedOn: '2027-01-31', pausedDays: 0, extensionMonths: 2 })).toBe('2027-04-30');
    expect(dueDate({ startedOn: '2027-11-30', pausedDays: 0, extensionMonths: 2 })).toBe('2028-02-29');
    expect(dueDate({ startedOn: '2027-03-15', pausedDays: 0, extensionMonths: 1 })).toBe('2027-05-15');
    expect(dueDate({ startedOn: '2027-03-15', pausedDays: 3, extensionMonths: 2 })).toBe('2027-06-18');
  });

  it('does refuse more than two months of extension or negative pauses', () => {
    expect(() => dueDate({ startedOn: '2027-03-15', pausedDays: 0, extensionMonths: 3 })).toThrow(RangeError);
    expect(() => dueDate({ startedOn: '2027-03-15', pausedDays: -1, extensionMonths: 0 })).toThrow(RangeError);
  });
});

describe('daysLeft and isOverdue', () => {
  it('does count down to 0 on the due day and go negative after it', () => {
    expect(daysLeft('2027-02-28', '2027-01-31')).toBe(28);
    expect(daysLeft('2027-02-28', '2027-02-28')).toBe(0);
    expect(isOverdue('2027-02-28', '2027-02-28')).toBe(false);
    expect(daysLeft('2027-02-28', '2027-03-02')).toBe(-2);
    expect(isOverdue('2027-02-28', '2027-03-01')).toBe(true);
  });
});

describe('checkExtension', () => {
  const clock = { startedOn: '2027-01-31', pausedDays: 0, extensionMonths: 0 };

  it('does allow one extension of 1 or 2 months with a reason within the first month', () => {
    expect(checkExtension({ current: clock, months: 2, reason: '  many systems to search  ', today: '2027-02-28' })).toBe('many systems to search');
    expect(checkExtension({ current: clock, months: 1, reason: 'complex', today: '2027-02-01' })).toBe('complex');
  });

  it('does refuse a second extension, a missing reason, a wrong length, a late one, or one before identity', () => {
    expect(() => checkExtension({ current: { ...clock, extensionMonths: 1 }, months: 1, reason: 'x', today: '2027-02-01' })).toThrow(/already extended/);
    expect(() => checkExtension({ current: clock, months: 2, reason: '  ', today: '2027-02-01' })).toThrow(/reason/);
    expect(() => checkExtension({ current: clock, months: 3, reason: 'x', today: '2027-02-01' })).toThrow(/months/);
    expect(() => checkExtension({ current: clock, months: 0, reason: 'x', today: '2027-02-01' })).toThrow(/months/);
    expect(() => checkExtension({ current: clock, months: 2, reason: 'x', today: '2027-03-01' })).toThrow(/first month ended on 2027-02-28/);
    expect(() => checkExtension({ current: { ...clock, startedOn: null }, months: 2, reason: 'x', today: '2027-02-01' })).toThrow(/identity/);
  });
});
