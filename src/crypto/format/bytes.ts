// Byte helpers shared by the Node and browser implementations. Pure: no Node APIs, no
// WebCrypto, only Uint8Array/DataView, so the same file runs in Chromium.

/** Concatenates byte arrays into one new array. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** Parses lower- or upper-case hex; throws on odd length or a non-hex digit. */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new TypeError('invalid hex string');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True for a lower-case canonical UUID string (the form Sealpost stores). */
export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}

/** 16 bytes of a canonical UUID string. */
export function uuidToBytes(uuid: string): Uint8Array {
  if (!isUuid(uuid)) throw new TypeError('expected a lower-case UUID');
  return fromHex(uuid.replace(/-/g, ''));
}

/** Canonical lower-case UUID string of 16 bytes. */
export function bytesToUuid(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new TypeError('a UUID is 16 bytes');
  const h = toHex(bytes);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Constant-time equality for equal-length secrets; false for different lengths. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** base64url without padding (RFC 4648 §5), as used in JSON APIs and JWKs. */
export function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Parses base64url (padding optional); throws TypeError on any other character. */
export function fromBase64Url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text) || text.replace(/=+$/, '').length % 4 === 1) throw new TypeError('invalid base64url string');
  const binary = atob(text.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

const utf8 = new TextEncoder();

/** Length-prefixed concatenation (u32 big-endian length ‖ UTF-8 bytes per part): ("ab","c") ≠ ("a","bc"). */
export function lengthPrefixed(...parts: Array<string | Uint8Array>): Uint8Array {
  // One output buffer, sized up front (UTF-8 needs at most 3 bytes per UTF-16 unit): this runs
  // on every key release, and a buffer per part plus a concatenation was 2.5 % of bench:api.
  let capacity = 0;
  for (const p of parts) capacity += 4 + (typeof p === 'string' ? 3 * p.length : p.length);
  const out = new Uint8Array(capacity);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const p of parts) {
    let length: number;
    if (typeof p === 'string') {
      length = utf8.encodeInto(p, out.subarray(offset + 4)).written;
    } else {
      out.set(p, offset + 4);
      length = p.length;
    }
    view.setUint32(offset, length);
    offset += 4 + length;
  }
  return out.subarray(0, offset);
}
