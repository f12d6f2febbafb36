// The audit hash chain, as pure functions, so an auditor can re-implement it from
// docs/database.md: hash = SHA-256(prev_hash ‖ UTF-8(canonical JSON of the event)).
import { sha256 } from '../crypto/hash.ts';
import { concatBytes, toHex } from '../crypto/format/bytes.ts';
import type { AuditEventRecord } from './audit.model.ts';

/** prev_hash of the first event of every chain: 32 zero bytes. */
export const GENESIS_HASH: Uint8Array = new Uint8Array(32);

/** Hex of {@link GENESIS_HASH}. */
export const GENESIS_HASH_HEX = toHex(GENESIS_HASH);

/**
 * Canonical JSON: object keys sorted (by UTF-16 code units) at every depth, no whitespace,
 * strings and numbers as JSON.stringify writes them — the same bytes RFC 8785 (JCS) gives for
 * these values. Throws on anything JSON cannot represent exactly (undefined, NaN, Infinity,
 * bigint, Dates and other class instances), so two encoders can never disagree silently.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON cannot encode a non-finite number');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError('canonical JSON encodes only plain objects');
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot encode ${typeof value}`);
  }
}

/** The fields an event's hash covers: every stored column except prev_hash and hash. */
export type HashedAuditFields = Omit<AuditEventRecord, 'prevHash' | 'hash'>;

/**
 * The object whose canonical JSON is hashed, keyed by column name so it can be rebuilt from a
 * plain SQL dump: chain_seq as a decimal string, occurred_at as ISO-8601 UTC with milliseconds,
 * absent values as null.
 */
export function hashedObject(e: HashedAuditFields): Record<string, unknown> {
  return {
    chain: e.chain,
    chain_seq: e.chainSeq,
    id: e.id,
    tenant_id: e.tenantId,
    occurred_at: e.occurredAt.toISOString(),
    actor_type: e.actorType,
    actor_id: e.actorId,
    action: e.action,
    target_type: e.targetType,
    target_id: e.targetId,
    outcome: e.outcome,
    ip: e.ip,
    user_agent: e.userAgent,
    details: e.details,
  };
}

/** SHA-256(prevHash ‖ UTF-8(canonicalJson(hashedObject(fields)))). */
export function computeAuditHash(prevHash: Uint8Array, fields: HashedAuditFields): Uint8Array {
  const body = new TextEncoder().encode(canonicalJson(hashedObject(fields)));
  return sha256(concatBytes(prevHash, body));
}

/** True when `a` and `b` hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
