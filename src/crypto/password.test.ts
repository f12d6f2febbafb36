import { parseOptions } from '@node-rs/argon2';
import { describe, expect, it } from 'vitest';
import { hashPassword, PASSWORD_HASH_PARAMS, passwordNeedsRehash, verifyPassword } from './password.ts';

describe('hashPassword / verifyPassword', () => {
  it('does round-trip: the password verifies against its own hash', async () => {
    const phc = await hashPassword('correct horse battery staple');
    expect(await verifyPassword(phc, 'correct horse battery staple')).toBe(true);
  });

  it('does produce Argon2id with the documented parameters and a fresh salt every time', async () => {
    const a = await hashPassword('same password twice');
    const b = await hashPassword('same password twice');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const o = parseOptions(a);
    expect(o).toMatchObject({ memoryCost: PASSWORD_HASH_PARAMS.memoryCost, timeCost: 2, parallelism: 1, outputLen: 32, saltLen: 16 });
    expect(a).not.toContain('same password');
  });

  it('does refuse a wrong password, a one-character change, a truncation and the empty string', async () => {
    const phc = await hashPassword('correct horse battery staple');
    for (const wrong of ['Correct horse battery staple', 'correct horse battery stapl', 'correct horse battery staple ', '']) {
      expect(await verifyPassword(phc, wrong)).toBe(false);
    }
  });

  it('does return false, after a full dummy verification, when there is no hash', async () => {
    expect(await verifyPassword(null, 'anything at all')).toBe(false);
  });

  it('does fail closed on a malformed or tampered stored hash instead of throwing', async () => {
    const phc = await hashPassword('correct horse battery staple');
    const flipped = phc.slice(0, -2) + (phc.at(-2) === 'A' ? 'B' : 'A') + phc.at(-1);
    expect(await verifyPassword(flipped, 'correct horse battery staple')).toBe(false);
    expect(await verifyPassword('not a phc string', 'correct horse battery staple')).toBe(false);
  });

  it('does ask for a rehash of hashes made with weaker parameters only', async () => {
    expect(passwordNeedsRehash(await hashPassword('x'.repeat(12)))).toBe(false);
    const { hash } = await import('@node-rs/argon2');
    expect(passwordNeedsRehash(await hash('x'.repeat(12), { memoryCost: 4096, timeCost: 1 }))).toBe(true);
    expect(passwordNeedsRehash('garbage')).toBe(true);
  });
});
