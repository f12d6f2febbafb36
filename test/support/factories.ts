// Small builders for storage tests: each inserts one valid row and returns it.
import type { Sql } from '../../src/storage/database/database.ts';

/** A tenants row as tests see it. */
export interface TenantRow {
  id: string;
  name: string;
  region: 'uk' | 'eea' | 'us';
  createdAt: Date;
}

/** Inserts a tenant with a random id (override any field) and returns the stored row. */
export async function buildTenant(sql: Sql, overrides: Partial<TenantRow> = {}): Promise<TenantRow> {
  const id = overrides.id ?? crypto.randomUUID();
  const { rows } = await sql.query<{ id: string; name: string; region: TenantRow['region']; created_at: Date }>(
    `INSERT INTO tenants (id, name, region, created_at) VALUES ($1, $2, $3, COALESCE($4, now()))
     RETURNING id, name, region, created_at`,
    [id, overrides.name ?? `Tenant ${id.slice(0, 8)}`, overrides.region ?? 'uk', overrides.createdAt ?? null],
  );
  const row = rows[0]!;
  return { id: row.id, name: row.name, region: row.region, createdAt: row.created_at };
}
