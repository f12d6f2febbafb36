// One-time codes that prove control of a mailbox: 6 digits, emailed, 10 minutes, 5 attempts.
// Shared by recipients opening a link and by people asking for access to a forwarded one.
// Only a hash bound to the challenge's id is stored, so a code is useless for any other challenge.
import { constantTimeEqual, sha256 } from '../crypto/hash.ts';
import { randomBytesOf } from '../crypto/keys.ts';

export const CODE_LIFETIME_MS = 10 * 60 * 1000;
export const CODE_MAX_ATTEMPTS = 5;

/** A uniformly random 6-digit code. */
export function generateCode(): string {
  for (;;) {
    const n = randomBytesOf(4).readUInt32BE(0);
    // Rejection sampling: 4,294,000,000 is a multiple of 10^6, so every code is equally likely.
    if (n < 4_294_000_000) return String(n % 1_000_000).padStart(6, '0');
  }
}

/** What is stored for a code: SHA-256 over the challenge id and the code. */
export function codeHash(challengeId: string, code: string): Uint8Array {
  return sha256(`${challengeId}:${code}`);
}

/**
 * Whether `code` is the one hashed in `stored`. Always hashes (malformed input too) and compares
 * in constant time, so response times say nothing about how close a guess was.
 */
export function codeMatches(stored: Uint8Array, challengeId: string, code: string): boolean {
  const wellFormed = /^\d{6}$/.test(code);
  return constantTimeEqual(Uint8Array.from(stored), codeHash(challengeId, wellFormed ? code : '------')) && wellFormed;
}

/** The error message after a wrong code, counting down the attempts left. */
export function attemptsLeftMessage(left: number): string {
  return `that code is not right; ${left} attempt${left === 1 ? '' : 's'} left`;
}
