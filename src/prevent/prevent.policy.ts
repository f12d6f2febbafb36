// A tenant's Prevent policy: for each check (and optionally each severity) one of four modes.
//   off     — the check does not run.
//   monitor — the check runs and its findings are logged for administrators; senders see nothing.
//   nudge   — senders see the warning and may send anyway (the decision is recorded).
//   block   — the send API refuses until the sender removes the cause or gives a justification.
// Resolution: checks[check][severity] → checks[check] (a single mode) → defaultMode.
import { z } from 'zod';
import { errors } from '../shared/app-error.ts';
import { CHECK_KINDS, SEVERITIES, type CheckKind, type Severity } from './prevent.model.ts';

/** What a tenant does with a check's findings. */
export const PREVENT_MODES = ['off', 'monitor', 'nudge', 'block'] as const;
export type PreventMode = (typeof PREVENT_MODES)[number];

/** Mode per check, either one for all severities or one per severity. */
export interface PreventPolicy {
  defaultMode: PreventMode;
  checks: Partial<Record<CheckKind, PreventMode | Partial<Record<Severity, PreventMode>>>>;
}

/** New tenants: every check nudges. Blocking is an administrator's explicit choice. */
export const DEFAULT_PREVENT_POLICY: PreventPolicy = { defaultMode: 'nudge', checks: {} };

const modeSchema = z.enum(PREVENT_MODES);
const perSeverity = z.partialRecord(z.enum(SEVERITIES), modeSchema);
const policySchema = z
  .object({
    defaultMode: modeSchema,
    checks: z.partialRecord(z.enum(CHECK_KINDS), z.union([modeSchema, perSeverity])).default({}),
  })
  .strict();

/** Validates a policy from an administrator; the error names the offending field. */
export function parsePreventPolicy(input: unknown): PreventPolicy {
  const parsed = policySchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = ['policy', ...issue.path.map(String)].join('.');
    throw errors.invalid('invalid_prevent_policy', `${field}: ${issue.message} (modes are ${PREVENT_MODES.join(', ')}; checks are ${CHECK_KINDS.join(', ')})`, { field });
  }
  return parsed.data as PreventPolicy;
}

/** The mode in force for a finding of `check` at `severity`. */
export function modeFor(policy: PreventPolicy, check: CheckKind, severity: Severity): PreventMode {
  const entry = policy.checks[check];
  if (entry === undefined) return policy.defaultMode;
  if (typeof entry === 'string') return entry;
  return entry[severity] ?? policy.defaultMode;
}

/** Whether `check` runs at all (some severity is not off). */
export function checkEnabled(policy: PreventPolicy, check: CheckKind): boolean {
  return SEVERITIES.some((s) => modeFor(policy, check, s) !== 'off');
}
