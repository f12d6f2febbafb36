import { describe, expect, it } from 'vitest';
import { isAppError } from './app-error.ts';
import { isRegion, RegionMap, regionNotServed } from './regions.ts';

describe('RegionMap', () => {
  it('does give each served region its own value, in uk, eea, us order', () => {
    const map = new RegionMap({ us: 'us-store', uk: 'uk-store' });
    expect(map.regions).toEqual(['uk', 'us']);
    expect(map.get('us')).toBe('us-store');
    expect(map.entries()).toEqual([['uk', 'uk-store'], ['us', 'us-store']]);
    expect(map.serves('uk')).toBe(true);
    expect(map.serves('eea')).toBe(false);
    expect(map.serves('mars')).toBe(false);
  });

  it('does refuse a region it does not serve instead of falling back to another', () => {
    const map = new RegionMap({ uk: 'uk-store' });
    expect(() => map.get('eea')).toThrow(/does not serve region "eea"; it serves uk/);
    try {
      map.get('eea');
    } catch (err) {
      expect(isAppError(err, 'region_not_served') && err.kind).toBe('unavailable');
    }
    expect(() => new RegionMap({})).toThrow(/at least one region/);
  });

  it('does serve one value everywhere when uniform', () => {
    expect(RegionMap.uniform('one').entries()).toEqual([['uk', 'one'], ['eea', 'one'], ['us', 'one']]);
    expect(RegionMap.uniform('one', ['eea']).regions).toEqual(['eea']);
  });
});

describe('regions', () => {
  it('does recognise region names only', () => {
    expect(['uk', 'eea', 'us', 'UK', 'eu', '', null].map(isRegion)).toEqual([true, true, true, false, false, false, false]);
  });

  it('does explain a region that is not served as invalid input by default', () => {
    const err = regionNotServed('us', ['uk', 'eea']);
    expect(err).toMatchObject({ kind: 'invalid', code: 'region_not_served', details: { region: 'us', served: ['uk', 'eea'] } });
  });
});
