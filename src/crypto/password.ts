// Password hashing: Argon2id (RFC 9106) through @node-rs/argon2, stored as PHC strings
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash) so the parameters travel with each hash and can be
// raised later without breaking existing ones (see passwordNeedsRehash).
//
// Parameters: m = 19 MiB, t = 2, p = 1 — the OWASP Password Storage Cheat Sheet's first
// Argon2id configuration. About 15 ms per hash on one core of a current server, so a sign-in
// costs little while an offline attacker pays 19 MiB and two passes per guess. Raising m is
// the better lever when the hardware allows it (OWASP lists m = 46 MiB, t = 1 as equivalent).
import { hash, parseOptions, verify } from '@node-rs/argon2';

/** The Argon2id parameters new hashes use. */
export const PASSWORD_HASH_PARAMS = {
  // Algorithm.Argon2id; the enum is a `const enum`, which isolated modules cannot import.
  algorithm: 2,
  memoryCost: 19 * 1024,
  timeCost: 2,
  parallelism: 1,
  outputLen: 32,
} as const;

/** Hashes a password with Argon2id and a fresh 16-byte salt; returns the PHC string. */
export async function hashPassword(password: string): Promise<string> {
  return hash(password, PASSWORD_HASH_PARAMS);
}

// Verified against when there is no real hash (unknown email, no password set yet), so that
// those answers take as long as a wrong password and timing does not reveal which accounts
// exist. Computed once, lazily, with the same parameters as real hashes.
let dummyHash: Promise<string> | undefined;

/**
 * True when `password` matches `phc`. Given `null` it still runs a full verification against a
 * dummy hash and returns false, so callers can take the same time whether or not an account
 * (or its password) exists. The comparison inside the library is constant-time.
 */
export async function verifyPassword(phc: string | null, password: string): Promise<boolean> {
  if (phc === null) {
    dummyHash ??= hashPassword('sealpost dummy password for constant-time verification');
    await verify(await dummyHash, password).catch(() => false);
    return false;
  }
  try {
    return await verify(phc, password);
  } catch {
    // A malformed stored hash must fail closed, never throw a 500 that differs from "wrong".
    return false;
  }
}

/** True when `phc` was made with other parameters than {@link PASSWORD_HASH_PARAMS} (rehash on next sign-in). */
export function passwordNeedsRehash(phc: string): boolean {
  try {
    const o = parseOptions(phc);
    return (
      o.algorithm !== PASSWORD_HASH_PARAMS.algorithm ||
      o.memoryCost < PASSWORD_HASH_PARAMS.memoryCost ||
      o.timeCost < PASSWORD_HASH_PARAMS.timeCost ||
      o.outputLen < PASSWORD_HASH_PARAMS.outputLen
    );
  } catch {
    return true;
  }
}
