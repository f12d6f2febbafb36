import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../../../test/support/database.ts';
import {
  DATA_CATEGORIES,
  isDataCategory,
  isRetentionRule,
  personalColumns,
  REGISTRY,
  RETENTION_RULES,
  retentionOf,
  tablesByCategory,
} from './registry.ts';

// ISO-8601 durations as used for retention: years, months, days (and weeks).
const ISO_DURATION = /^P(?=\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?$/;

interface SchemaColumn {
  table_name: string;
  column_name: string;
}

/** Every disagreement between the schema's columns and REGISTRY, as readable sentences. */
function registryProblems(columns: SchemaColumn[], registry: typeof REGISTRY = REGISTRY): string[] {
  const actual = new Map<string, string[]>();
  for (const c of columns) actual.set(c.table_name, [...(actual.get(c.table_name) ?? []), c.column_name]);
  const problems: string[] = [];
  for (const [table, cols] of actual) {
    const declaration = registry[table];
    if (!declaration) {
      problems.push(`table ${table} has no declaration in registry.ts (columns: ${cols.join(', ')})`);
      continue;
    }
    for (const col of cols) if (!declaration.columns[col]) problems.push(`column ${table}.${col} has no declaration in registry.ts`);
    for (const col of Object.keys(declaration.columns)) if (!cols.includes(col)) problems.push(`declared column ${table}.${col} does not exist`);
  }
  for (const table of Object.keys(registry)) if (!actual.has(table)) problems.push(`declared table ${table} does not exist`);
  return problems;
}

describe('registryProblems', () => {
  it('does name undeclared tables and columns and declarations of missing ones', () => {
    const registry: typeof REGISTRY = {
      t: {
        category: 'system',
        retention: 'schema_permanent',
        description: 'x',
        columns: {
          a: { category: 'system', personal: 'none', description: 'a' },
          gone: { category: 'system', personal: 'none', description: 'gone' },
        },
      },
      vanished: { category: 'system', retention: 'schema_permanent', description: 'v', columns: {} },
    };
    const columns = [
      { table_name: 't', column_name: 'a' },
      { table_name: 't', column_name: 'extra' },
      { table_name: 'new_table', column_name: 'id' },
    ];
    expect(registryProblems(columns, registry)).toEqual([
      'column t.extra has no declaration in registry.ts',
      'declared column t.gone does not exist',
      'table new_table has no declaration in registry.ts (columns: id)',
      'declared table vanished does not exist',
    ]);
  });
});

describeEachDatabase('registry against the migrated schema', (ctx) => {
  it('does declare every table and column, and declare nothing that does not exist', async () => {
    const { rows } = await ctx.db().query<{ table_name: string; column_name: string }>(
      `SELECT c.table_name, c.column_name
         FROM information_schema.columns c
         JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
        WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
        ORDER BY c.table_name, c.ordinal_position`,
    );
    const problems = registryProblems(rows);
    expect(problems).toEqual([]);
    expect(rows.length).toBeGreaterThan(0);
  });
});

describe('registry declarations', () => {
  it('does use only known categories and retention rules, each allowed for its category', () => {
    const problems: string[] = [];
    for (const [table, t] of Object.entries(REGISTRY)) {
      if (!isDataCategory(t.category)) problems.push(`${table}: unknown category ${t.category}`);
      if (!isRetentionRule(t.retention)) problems.push(`${table}: unknown retention ${t.retention}`);
      else if (!(RETENTION_RULES[t.retention].appliesTo as readonly string[]).includes(t.category)) {
        problems.push(`${table}: retention ${t.retention} does not apply to ${t.category}`);
      }
      if (t.description.trim() === '') problems.push(`${table}: empty description`);
      for (const [column, c] of Object.entries(t.columns)) {
        if (!isDataCategory(c.category)) problems.push(`${table}.${column}: unknown category ${c.category}`);
        if (!['identifier', 'personal', 'none'].includes(c.personal)) problems.push(`${table}.${column}: bad personal ${c.personal}`);
        if (c.description.trim() === '') problems.push(`${table}.${column}: empty description`);
        if (c.retention !== undefined) {
          if (!isRetentionRule(c.retention)) problems.push(`${table}.${column}: unknown retention ${c.retention}`);
          else if (!(RETENTION_RULES[c.retention].appliesTo as readonly string[]).includes(c.category)) {
            problems.push(`${table}.${column}: retention ${c.retention} does not apply to ${c.category}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('does document every retention rule in docs/database.md', () => {
    const doc = readFileSync(new URL('../../../docs/database.md', import.meta.url), 'utf8');
    const missing = Object.keys(RETENTION_RULES).filter((name) => !doc.includes(`| \`${name}\` |`));
    expect(missing, 'add these rules to the table in docs/database.md').toEqual([]);
  });

  it('does give every retention rule a description and a valid ISO-8601 period or null', () => {
    for (const [name, rule] of Object.entries(RETENTION_RULES)) {
      expect(rule.description, name).not.toBe('');
      if (rule.defaultPeriod !== null) expect(rule.defaultPeriod, name).toMatch(ISO_DURATION);
      expect(rule.appliesTo.length, name).toBeGreaterThan(0);
      for (const category of rule.appliesTo) expect(DATA_CATEGORIES).toContain(category);
    }
  });

  it('does mark the audit log’s actor, IP and user agent as personal data', () => {
    const personal = personalColumns().map((c) => `${c.table}.${c.column}`);
    expect(personal).toEqual(expect.arrayContaining(['audit_events.actor_id', 'audit_events.ip', 'audit_events.user_agent']));
    expect(personal).not.toContain('audit_events.hash');
  });

  it('does list tables by category and resolve column retention through the table', () => {
    expect(tablesByCategory('content')).toEqual(expect.arrayContaining(['sealed_objects', 'messages', 'message_recipients']));
    expect(tablesByCategory('content')).not.toContain('users');
    expect(tablesByCategory('crm')).toEqual(expect.arrayContaining(['tenants', 'users', 'labels']));
    expect(tablesByCategory('system')).toEqual(expect.arrayContaining(['audit_events', 'key_encryption_keys', 'schema_migrations']));
    expect(retentionOf('audit_events', 'ip')).toBe('audit_policy');
    expect(retentionOf('schema_migrations')).toBe('schema_permanent');
    expect(() => retentionOf('no_such_table')).toThrow(/not declared/);
  });
});
