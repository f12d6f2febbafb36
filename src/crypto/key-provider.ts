// Root of the key hierarchy. A KeyProvider holds root keys that never leave it (a local
// file by default; a cloud KMS, Vault transit or an HSM in production) and wraps the
// per-tenant key-encryption keys. Only wrap/unwrap cross this boundary, as with a KMS.

/** Which implementation holds the root keys. */
export const KEY_PROVIDER_KINDS = ['local'] as const;
/** One of {@link KEY_PROVIDER_KINDS}. */
export type KeyProviderKind = (typeof KEY_PROVIDER_KINDS)[number];

/** A key wrapped by a root key, with the id of that root key. */
export interface RootWrappedKey {
  rootKeyId: string;
  wrapped: Uint8Array;
}

/** Holds root keys and wraps/unwraps key-encryption keys with them. */
export interface KeyProvider {
  readonly kind: KeyProviderKind;
  /** Id of the root key that new wraps use. */
  activeRootKeyId(): string;
  /** Wraps a 32-byte key under the active root key, bound to `context`. */
  wrap(key: Uint8Array, context: Uint8Array): Promise<RootWrappedKey>;
  /** Unwraps with the named root key; throws AppError 'key_unwrap_failed' or 'root_key_unknown'. */
  unwrap(wrapped: RootWrappedKey, context: Uint8Array): Promise<Uint8Array>;
  /** Readiness: throws when the provider cannot be used. */
  check(): Promise<void>;
}
