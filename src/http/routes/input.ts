// Route input that JSON schemas cannot check on their own, parsed the same way everywhere.
import { errors } from '../../shared/app-error.ts';

/** A date or time given as text (query string or body); undefined when absent or empty, 400 'invalid_date' naming the field otherwise. */
export function optionalDate(value: unknown, field: string): Date | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const d = typeof value === 'string' ? new Date(value) : new Date(NaN);
  if (Number.isNaN(d.getTime())) throw errors.invalid('invalid_date', `${field}: "${String(value).slice(0, 40)}" is not a date (use e.g. 2027-01-31 or an ISO-8601 time)`, { field });
  return d;
}
