import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { domainToASCII, domainToUnicode } from 'node:url';
import { addressParts, bitCount, charMask, codePointLength, editDistance, skeleton } from './text.ts';
import { referenceEditDistance } from './test-view.ts';

// Reference optimal-string-alignment distance: the full matrix over Array.from code points, no
// early exit. editDistance must agree with it wherever the distance is within `max`.

// Small alphabets make near misses (the interesting cases) common; the emoji and the accented
// letter test code points outside the BMP and combining forms.
const letters = fc.constantFrom('a', 'b', 'c', 'n', 'r', 'm', '.', '1', 'é', 'а', '😀');
const word = fc.array(letters, { maxLength: 12 }).map((a) => a.join(''));
/** A word and a copy with up to three random edits. */
const nearPair = fc.tuple(word, fc.array(fc.tuple(fc.nat(20), fc.nat(3), letters), { maxLength: 3 })).map(([w, edits]) => {
  const a = Array.from(w);
  const b = [...a];
  for (const [at, kind, ch] of edits) {
    const i = b.length ? at % b.length : 0;
    if (kind === 0) b.splice(i, 0, ch);
    else if (kind === 1) b.splice(i, 1);
    else if (kind === 2) b[i] = ch;
    else if (i + 1 < b.length) [b[i], b[i + 1]] = [b[i + 1]!, b[i]!];
  }
  return [a.join(''), b.join('')] as const;
});

describe('editDistance', () => {
  it('does agree with the full-matrix distance, capped at max + 1', () => {
    fc.assert(
      fc.property(fc.oneof(nearPair, fc.tuple(word, word)), fc.nat(3), ([a, b], max) => {
        expect(editDistance(a, b, max)).toBe(Math.min(referenceEditDistance(a, b), max + 1));
      }),
      { numRuns: 2000 },
    );
  });

  it('does count a character outside the BMP as one', () => {
    expect(editDistance('a😀b', 'ab', 2)).toBe(1);
    expect(editDistance('😀', '😁', 2)).toBe(1);
  });
});

describe('charMask', () => {
  it('does differ in at most two bits per edit (so it may rule out pairs before editDistance)', () => {
    fc.assert(
      fc.property(fc.oneof(nearPair, fc.tuple(word, word)), ([a, b]) => {
        expect(bitCount(charMask(a) ^ charMask(b))).toBeLessThanOrEqual(2 * referenceEditDistance(a, b));
      }),
      { numRuns: 2000 },
    );
  });

  it('does count bits like a plain loop', () => {
    fc.assert(fc.property(fc.integer(), (x) => {
      let n = 0;
      for (let v = x >>> 0; v; v >>>= 1) n += v & 1;
      expect(bitCount(x)).toBe(n);
    }));
  });
});

describe('codePointLength', () => {
  it('does count what Array.from counts', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
      expect(codePointLength(s)).toBe(Array.from(s).length);
    }));
  });
});

// The general path of skeleton(), which the ASCII shortcut must match.
const CONFUSABLE_ASCII: Record<string, string> = { '0': 'o', '1': 'l', '|': 'l' };
const slowSkeleton = (text: string) =>
  Array.from(text.normalize('NFKC').toLowerCase(), (ch) => CONFUSABLE_ASCII[ch] ?? ch).join('').normalize('NFD').replace(/\p{M}+/gu, '').replace(/rn/g, 'm').replace(/vv/g, 'w');

describe('skeleton', () => {
  it('does give ASCII the same form as the general path', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...'aAbrRnNvVwW01|l.-_@xX9 ') }), (s) => {
      expect(skeleton(s)).toBe(slowSkeleton(s));
    }));
    fc.assert(fc.property(fc.string({ unit: 'grapheme-ascii' }), (s) => {
      expect(skeleton(s)).toBe(slowSkeleton(s));
    }));
  });

  it('does still map look-alikes outside ASCII', () => {
    expect(skeleton('billing@аpple.com')).toBe('billing@apple.com');
    expect(skeleton('JÖRG@Example.com')).toBe('jorg@example.com');
  });
});

describe('addressParts', () => {
  it('does split ASCII and Unicode addresses as the general path does', () => {
    const unit = fc.constantFrom(...'aB0-_.@ xX', 'é', 'ü', 'а', 'Ω');
    fc.assert(fc.property(fc.string({ unit, maxLength: 20 }), (s) => {
      const a = s.trim().normalize('NFC').toLowerCase();
      const at = a.lastIndexOf('@');
      const raw = at < 0 ? '' : a.slice(at + 1);
      const asciiDomain = (raw && domainToASCII(raw)) || raw;
      const local = at < 0 ? a : a.slice(0, at);
      expect(addressParts(s)).toEqual({ address: a, local, domain: ((raw && domainToUnicode(raw)) || raw).normalize('NFC'), asciiDomain, canonical: `${local}@${asciiDomain}` });
    }));
  });
});
