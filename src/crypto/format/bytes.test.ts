import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64Url, lengthPrefixed, toBase64Url, toHex } from './bytes.ts';

describe('lengthPrefixed', () => {
  it('does write a big-endian u32 length before the UTF-8 bytes of every part', () => {
    expect(toHex(lengthPrefixed('ab', new Uint8Array([1, 2, 3]), ''))).toBe('00000002' + '6162' + '00000003' + '010203' + '00000000');
  });

  it('does measure strings in UTF-8 bytes, not UTF-16 units', () => {
    // é is 2 bytes, € is 3, 🔒 (a surrogate pair) is 4.
    expect(toHex(lengthPrefixed('é€🔒'))).toBe('00000009' + 'c3a9' + 'e282ac' + 'f09f9492');
  });

  it('does give the same bytes as encoding each part separately (property)', () => {
    const part = fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.uint8Array({ maxLength: 40 }));
    fc.assert(
      fc.property(fc.array(part, { maxLength: 6 }), (parts) => {
        const expected: number[] = [];
        for (const p of parts) {
          const b = typeof p === 'string' ? new TextEncoder().encode(p) : p;
          expected.push((b.length >>> 24) & 255, (b.length >>> 16) & 255, (b.length >>> 8) & 255, b.length & 255, ...b);
        }
        expect([...lengthPrefixed(...parts)]).toEqual(expected);
      }),
    );
  });
});

describe('base64url', () => {
  it('does round-trip any bytes without padding and with the URL-safe alphabet (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const text = toBase64Url(bytes);
        expect(text).toMatch(/^[A-Za-z0-9_-]*$/);
        expect(text).toBe(Buffer.from(bytes).toString('base64url'));
        expect([...fromBase64Url(text)]).toEqual([...bytes]);
      }),
    );
  });

  it('does refuse characters outside the alphabet and impossible lengths', () => {
    for (const bad of ['a+b', 'a/b', 'abcde', 'ab cd', '====']) expect(() => fromBase64Url(bad)).toThrow(TypeError);
  });
});
