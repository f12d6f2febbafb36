// Tenants (customer organisations): they own users, keys, Content and audit chains.
import { randomId } from '../crypto/keys.ts';
import { errors } from '../shared/app-error.ts';
import type { Region } from '../shared/regions.ts';
import { REGIONS } from '../shared/regions.ts';
import type { Sql } from '../storage/database/database.ts';

/** A customer organisation with its home region. */
export interface Tenant {
  id: string;
  name: string;
  region: Region;
  createdAt: Date;
}

interface TenantRow {
  id: string;
  name: string;
  region: Region;
  created_at: Date;
}

const toTenant = (r: TenantRow): Tenant => ({ id: r.id, name: r.name, region: r.region, createdAt: r.created_at });

/** Creates a tenant; validates name and region. */
export async function createTenant(sql: Sql, input: { name: string; region: Region }): Promise<Tenant> {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 200) throw errors.invalid('invalid_tenant_name', 'tenant name must be 1 to 200 characters');
  if (!REGIONS.includes(input.region)) throw errors.invalid('invalid_region', `region must be one of ${REGIONS.join(', ')}`);
  const { rows } = await sql.query<TenantRow>('INSERT INTO tenants (id, name, region) VALUES ($1, $2, $3) RETURNING *', [randomId(), name, input.region]);
  return toTenant(rows[0]!);
}

/** Loads a tenant or throws not_found 'tenant_not_found'. */
export async function getTenant(sql: Sql, id: string): Promise<Tenant> {
  const { rows } = await sql.query<TenantRow>('SELECT * FROM tenants WHERE id = $1', [id]);
  if (!rows[0]) throw errors.notFound('tenant_not_found', `no tenant with id ${id}`);
  return toTenant(rows[0]);
}

/** All tenants, oldest first. */
export async function listTenants(sql: Sql): Promise<Tenant[]> {
  const { rows } = await sql.query<TenantRow>('SELECT * FROM tenants ORDER BY created_at, id');
  return rows.map(toTenant);
}
