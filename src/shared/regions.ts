import { AppError, errors } from './app-error.ts';

/** Data-residency regions a tenant's Content can be pinned to. */
export const REGIONS = ['uk', 'eea', 'us'] as const;
/** One of {@link REGIONS}. */
export type Region = (typeof REGIONS)[number];

/** True when `value` names one of {@link REGIONS}. */
export function isRegion(value: unknown): value is Region {
  return typeof value === 'string' && (REGIONS as readonly string[]).includes(value);
}

/**
 * One `T` per region an installation serves (a blob store, a root-key provider). Asking for a
 * region it does not serve is refused: Content of a region must never fall back to another
 * region's store or key.
 */
export class RegionMap<T> {
  private readonly byRegion: ReadonlyMap<Region, T>;

  constructor(entries: Partial<Record<Region, T>>) {
    // Kept in REGIONS order, so listings and readiness reports are stable.
    this.byRegion = new Map(REGIONS.filter((r) => entries[r] !== undefined).map((r) => [r, entries[r] as T]));
    if (this.byRegion.size === 0) throw errors.internal('no_regions', 'an installation serves at least one region');
  }

  /** The same value for every region in `regions` (single-store installations and tests). */
  static uniform<T>(value: T, regions: readonly Region[] = REGIONS): RegionMap<T> {
    return new RegionMap(Object.fromEntries(regions.map((r) => [r, value])) as Partial<Record<Region, T>>);
  }

  /** The regions served, in {@link REGIONS} order. */
  get regions(): Region[] {
    return [...this.byRegion.keys()];
  }

  /** True when `region` is served. */
  serves(region: string): region is Region {
    return isRegion(region) && this.byRegion.has(region);
  }

  /** The value of a served region; AppError unavailable 'region_not_served' otherwise. */
  get(region: Region): T {
    const value = this.byRegion.get(region);
    // Residency: never substitute another region's store or key for a missing one.
    if (value === undefined) throw regionNotServed(region, this.regions, 'unavailable');
    return value;
  }

  /** Every served region with its value. */
  entries(): Array<[Region, T]> {
    return [...this.byRegion.entries()];
  }
}

/** The error for a region this installation does not serve ('invalid' for input, 'unavailable' for stored data). */
export function regionNotServed(region: string, served: readonly Region[], kind: 'invalid' | 'unavailable' = 'invalid'): AppError {
  return new AppError(kind, 'region_not_served', `this installation does not serve region "${String(region).slice(0, 20)}"; it serves ${served.join(', ')} (see REGIONS in docs/configuration.md)`, { region: String(region).slice(0, 20), served: [...served] });
}
