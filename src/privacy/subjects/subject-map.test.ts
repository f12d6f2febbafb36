// Fail closed: every table and column holding personal data must have a reachability and
// erasure declaration, and every declaration must name something that exists.
import { describe, expect, it } from 'vitest';
import { REGISTRY, personalColumns, type TableDeclaration } from '../../storage/database/registry.ts';
import { ERASURE_ACTIONS, SUBJECT_MAP, type TableReach } from './subject-map.ts';

/** Every problem with `map` against `registry`, as sentences. */
function mapProblems(map: Record<string, TableReach>, registry: Record<string, TableDeclaration>): string[] {
  const problems: string[] = [];
  for (const c of personalColumns(registry)) {
    const reach = map[c.table];
    if (!reach) problems.push(`${c.table} holds personal data (${c.column}) but has no declaration in SUBJECT_MAP`);
    else if (!reach.columns[c.column]) problems.push(`${c.table}.${c.column} holds personal data but has no erasure rule`);
  }
  for (const [table, reach] of Object.entries(map)) {
    const t = registry[table];
    if (!t) {
      problems.push(`SUBJECT_MAP declares ${table}, which the registry does not have`);
      continue;
    }
    const named = [...Object.keys(reach.columns), ...Object.keys(reach.withheld ?? {}), ...(reach.tenantColumn ? [reach.tenantColumn] : [])];
    for (const col of named) if (!t.columns[col]) problems.push(`SUBJECT_MAP names ${table}.${col}, which the registry does not have`);
    for (const [col, rule] of Object.entries(reach.columns)) {
      if (!Object.hasOwn(ERASURE_ACTIONS, rule.action)) problems.push(`${table}.${col}: unknown erasure action ${rule.action}`);
      if (rule.reason.trim().length === 0) problems.push(`${table}.${col}: an erasure rule needs a reason`);
    }
    // A table nobody can query is acceptable only when nothing has to be erased from it.
    if (reach.where === null && Object.values(reach.columns).some((r) => r.action !== 'keep')) {
      problems.push(`${table} cannot be reached by query but declares erasure other than keep`);
    }
    if (reach.where !== null && reach.perAddress && !/:address|:recipientEntry|:addressList/.test(reach.where)) {
      problems.push(`${table} is bound per address but its condition uses no per-address token`);
    }
  }
  return problems;
}

// The negative cases assert only what they add, so each fails for its own reason alone.
const baseline = new Set(mapProblems(SUBJECT_MAP, REGISTRY));
const newProblems = (map: Record<string, TableReach>, registry: Record<string, TableDeclaration>) => mapProblems(map, registry).filter((p) => !baseline.has(p));

describe('subject map (fail closed)', () => {
  it('declares how to reach and erase every table and column that holds personal data, and nothing else', () => {
    expect(mapProblems(SUBJECT_MAP, REGISTRY)).toEqual([]);
  });

  it('fails when a migration adds personal data without a declaration', () => {
    const registry: Record<string, TableDeclaration> = {
      ...REGISTRY,
      newsletter_signups: {
        category: 'crm',
        retention: 'crm_account_lifetime',
        description: 'test',
        columns: { email: { category: 'crm', personal: 'identifier', description: 'test' } },
      },
    };
    expect(newProblems(SUBJECT_MAP, registry)).toEqual(['newsletter_signups holds personal data (email) but has no declaration in SUBJECT_MAP']);
  });

  it('fails when a personal column is added to a declared table without a rule', () => {
    const users = REGISTRY['users']!;
    const registry = { ...REGISTRY, users: { ...users, columns: { ...users.columns, phone: { category: 'crm' as const, personal: 'personal' as const, description: 'test' } } } };
    expect(newProblems(SUBJECT_MAP, registry)).toEqual(['users.phone holds personal data but has no erasure rule']);
  });

  it('fails when a declaration names a table or column that does not exist', () => {
    const map: Record<string, TableReach> = {
      ...SUBJECT_MAP,
      users: { ...SUBJECT_MAP['users']!, columns: { ...SUBJECT_MAP['users']!.columns, nickname: { action: 'delete_row', reason: 'x' } } },
      old_table: { path: 'x', where: 'true', columns: {} },
    };
    expect(newProblems(map, REGISTRY)).toEqual([
      'SUBJECT_MAP names users.nickname, which the registry does not have',
      'SUBJECT_MAP declares old_table, which the registry does not have',
    ]);
  });
});
