import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sha256, sha256Hex } from '../crypto/hash.ts';
import { toHex } from '../crypto/format/bytes.ts';
import { canonicalJson, computeAuditHash, GENESIS_HASH, GENESIS_HASH_HEX, hashedObject, type HashedAuditFields } from './audit.chain.ts';

// A fixed event and its hash, computed independently (coreutils: 32 zero bytes followed by the
// canonical JSON, piped to sha256sum). If this changes, every stored chain stops verifying.
const VECTOR_FIELDS: HashedAuditFields = {
  chain: '6f1c1a52-8d4e-4a43-9a57-0c1d2e3f4a5b',
  chainSeq: '1',
  id: '0b4d3e2f-1a2b-4c3d-8e4f-5a6b7c8d9e0f',
  tenantId: '6f1c1a52-8d4e-4a43-9a57-0c1d2e3f4a5b',
  occurredAt: new Date('2025-01-02T03:04:05.678Z'),
  actorType: 'user',
  actorId: 'user-42',
  action: 'sealed_object.created',
  targetType: 'sealed_object',
  targetId: 'obj-7',
  outcome: 'success',
  ip: '192.0.2.1',
  userAgent: 'Mozilla/5.0',
  details: { size: 1024, labels: ['official', 'sensitive'], note: 'é' },
};
const VECTOR_CANONICAL =
  '{"action":"sealed_object.created","actor_id":"user-42","actor_type":"user","chain":"6f1c1a52-8d4e-4a43-9a57-0c1d2e3f4a5b",' +
  '"chain_seq":"1","details":{"labels":["official","sensitive"],"note":"é","size":1024},"id":"0b4d3e2f-1a2b-4c3d-8e4f-5a6b7c8d9e0f",' +
  '"ip":"192.0.2.1","occurred_at":"2025-01-02T03:04:05.678Z","outcome":"success","target_id":"obj-7","target_type":"sealed_object",' +
  '"tenant_id":"6f1c1a52-8d4e-4a43-9a57-0c1d2e3f4a5b","user_agent":"Mozilla/5.0"}';
const VECTOR_HASH = 'fd76d3e891ceb1835d95f0ee94f703b59ef8ea2651b22243cf3c9b401c45bdec';

describe('sha256', () => {
  it('does match the FIPS 180-2 test vectors', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(toHex(sha256(new TextEncoder().encode('abc')))).toBe(sha256Hex('abc'));
  });

  it('does return a plain 32-byte Uint8Array', () => {
    const digest = sha256('x');
    expect(digest.constructor).toBe(Uint8Array);
    expect(digest.length).toBe(32);
  });
});

describe('canonicalJson', () => {
  it('does sort keys at every depth and keep array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('does write strings and numbers as JSON.stringify does', () => {
    expect(canonicalJson(['é\n"', 1e21, 0.1, -0, 1.5e-7])).toBe('["é\\n\\"",1e+21,0.1,0,1.5e-7]');
  });

  it('does refuse values JSON cannot represent exactly', () => {
    for (const bad of [undefined, Number.NaN, Infinity, 1n, new Date(0), { a: undefined }, [() => 1]]) {
      expect(() => canonicalJson(bad), String(bad)).toThrow(TypeError);
    }
  });

  it('does give the same text for any key order, and parse back to the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        const reparsed = JSON.parse(text) as unknown;
        expect(canonicalJson(reparsed)).toBe(text);
        const shuffled = JSON.parse(JSON.stringify(value, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v))) as unknown;
        expect(canonicalJson(shuffled)).toBe(text);
      }),
    );
  });
});

describe('computeAuditHash', () => {
  it('does hash the documented canonical form (pinned vector)', () => {
    expect(canonicalJson(hashedObject(VECTOR_FIELDS))).toBe(VECTOR_CANONICAL);
    expect(toHex(computeAuditHash(GENESIS_HASH, VECTOR_FIELDS))).toBe(VECTOR_HASH);
    expect(GENESIS_HASH_HEX).toBe('0'.repeat(64));
  });

  it('does change when any field or the previous hash changes', () => {
    const base = toHex(computeAuditHash(GENESIS_HASH, VECTOR_FIELDS));
    const variants: Partial<HashedAuditFields>[] = [
      { chain: 'system' },
      { chainSeq: '2' },
      { id: '0b4d3e2f-1a2b-4c3d-8e4f-5a6b7c8d9e00' },
      { tenantId: null },
      { occurredAt: new Date('2025-01-02T03:04:05.679Z') },
      { actorType: 'operator' },
      { actorId: null },
      { action: 'sealed_object.deleted' },
      { targetType: null },
      { targetId: 'obj-8' },
      { outcome: 'denied' },
      { ip: '192.0.2.2' },
      { userAgent: null },
      { details: { size: 1025, labels: ['official', 'sensitive'], note: 'é' } },
    ];
    for (const change of variants) {
      expect(toHex(computeAuditHash(GENESIS_HASH, { ...VECTOR_FIELDS, ...change })), JSON.stringify(change)).not.toBe(base);
    }
    const otherPrev = new Uint8Array(32);
    otherPrev[31] = 1;
    expect(toHex(computeAuditHash(otherPrev, VECTOR_FIELDS))).not.toBe(base);
  });
});
