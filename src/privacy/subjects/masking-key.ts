// The installation's masking key: HMAC-SHA-256 under it turns an erased person's identifiers
// into stable pseudonyms (joins and counts keep working; the identifier cannot be read back, and
// without the key it cannot be confirmed by guessing either). It is generated once, wrapped by
// the KeyProvider's root key and stored in privacy_masking_keys; it is never stored in clear.
import type { KeyProvider } from '../../crypto/key-provider.ts';
import { hmacSha256 } from '../../crypto/hash.ts';
import { toHex } from '../../crypto/format/bytes.ts';
import { generateKey, randomId, wrapContext } from '../../crypto/keys.ts';
import type { Database } from '../../storage/database/database.ts';

const context = (id: string) => wrapContext('sealpost/privacy-mask/v1', id);

/** Pseudonyms under the installation's masking key. */
export interface Masker {
  /** Hex HMAC of `purpose` and `value`, shortened to `hexChars` (default 32: 128 bits). */
  mac(purpose: string, value: string, hexChars?: number): string;
  /** An erased address: `erased-<mac>@erased.invalid` (a valid, undeliverable, lower-case address). */
  address(value: string): string;
  /** An audit-log pseudonym: `pseud:<mac>`. */
  pseudonym(value: string): string;
}

/** Loads (creating on first use) the masking key and returns a {@link Masker} over it. */
export async function loadMasker(db: Database, provider: KeyProvider, now: () => Date): Promise<Masker> {
  let row = await readKey(db);
  if (!row) {
    const id = randomId();
    const key = generateKey();
    const wrapped = await provider.wrap(key, context(id));
    key.fill(0);
    // Two processes may race: the first row wins (the table is meant to hold one) and both use it.
    await db.query(
      `INSERT INTO privacy_masking_keys (id, root_key_id, wrapped_key, created_at)
       SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM privacy_masking_keys)`,
      [id, wrapped.rootKeyId, wrapped.wrapped, now()],
    );
    row = await readKey(db);
  }
  const key = await provider.unwrap({ rootKeyId: row!.root_key_id, wrapped: row!.wrapped_key }, context(row!.id));
  const mac = (purpose: string, value: string, hexChars = 32) => toHex(hmacSha256(key, `${purpose}\u0000${value}`)).slice(0, hexChars);
  return {
    mac,
    address: (value) => `erased-${mac('address', value.toLowerCase(), 24)}@erased.invalid`,
    pseudonym: (value) => `pseud:${mac('pseudonym', value.toLowerCase())}`,
  };
}

async function readKey(db: Database): Promise<{ id: string; root_key_id: string; wrapped_key: Uint8Array } | undefined> {
  const { rows } = await db.query<{ id: string; root_key_id: string; wrapped_key: Uint8Array }>(
    'SELECT id, root_key_id, wrapped_key FROM privacy_masking_keys ORDER BY created_at, id LIMIT 1',
  );
  return rows[0];
}
