/** Data-residency regions a tenant's Content can be pinned to. */
export const REGIONS = ['uk', 'eea', 'us'] as const;
/** One of {@link REGIONS}. */
export type Region = (typeof REGIONS)[number];
