// Start-up check for data in regions this installation no longer serves. Taking a region out
// of REGIONS does not move what is stored there: its tenants cannot send and their Content
// cannot be opened (no blob store or root key for it is configured). That must not go
// unnoticed, so the server logs it at start-up and /readyz reports `region_data_not_served`
// until REGIONS names the region again (or its data is moved or erased).
import { AppError } from '../shared/app-error.ts';
import { REGIONS, type Region } from '../shared/regions.ts';
import type { Sql } from '../storage/database/database.ts';

/** A region that holds tenants or live Content but is not served. */
export interface UnservedRegion {
  region: Region;
  tenants: number;
  objects: number;
}

/** Regions outside `served` that still have home tenants or unshredded Content objects. */
export async function unservedRegionData(sql: Sql, served: readonly Region[]): Promise<UnservedRegion[]> {
  const others = REGIONS.filter((r) => !served.includes(r));
  if (others.length === 0) return [];
  const { rows } = await sql.query<{ region: Region; tenants: string; objects: string }>(
    `SELECT r.region,
            (SELECT count(*) FROM tenants t WHERE t.region = r.region) AS tenants,
            (SELECT count(*) FROM sealed_objects o WHERE o.region = r.region AND o.shredded_at IS NULL) AS objects
       FROM unnest($1::text[]) AS r(region)`,
    [others],
  );
  return rows.map((r) => ({ region: r.region, tenants: Number(r.tenants), objects: Number(r.objects) })).filter((r) => r.tenants > 0 || r.objects > 0);
}

/** The readiness failure for {@link unservedRegionData}'s findings (no tenant names or ids). */
export function unservedRegionError(found: UnservedRegion[]): AppError {
  const what = found.map((r) => `${r.region} (${r.tenants} tenant${r.tenants === 1 ? '' : 's'}, ${r.objects} Content object${r.objects === 1 ? '' : 's'})`).join(', ');
  return new AppError('unavailable', 'region_data_not_served', `data is stored in regions this installation does not serve: ${what}; add them to REGIONS again`);
}
