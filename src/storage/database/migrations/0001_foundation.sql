-- Foundation: tenants, key hierarchy, sealed Content objects, hash-chained audit log.
-- Every table and column here is declared (data category, retention rule) in
-- src/storage/database/registry.ts; registry.test.ts fails when the two disagree.

CREATE TABLE tenants (
  id          uuid PRIMARY KEY,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  region      text NOT NULL CHECK (region IN ('uk', 'eea', 'us')),
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Key-encryption keys: one active version per tenant and region, wrapped by a root key
-- from the KeyProvider. Destroying a tenant's KEKs (wrapped_key := NULL) crypto-shreds
-- all of its Content.
CREATE TABLE key_encryption_keys (
  id            uuid PRIMARY KEY,
  tenant_id     uuid NOT NULL REFERENCES tenants(id),
  region        text NOT NULL CHECK (region IN ('uk', 'eea', 'us')),
  version       integer NOT NULL CHECK (version >= 1),
  state         text NOT NULL CHECK (state IN ('active', 'retired', 'destroyed')),
  root_key_id   text NOT NULL,
  wrapped_key   bytea,
  created_at    timestamptz NOT NULL DEFAULT now(),
  retired_at    timestamptz,
  destroyed_at  timestamptz,
  UNIQUE (tenant_id, region, version),
  CHECK ((state = 'destroyed') = (wrapped_key IS NULL))
);
CREATE UNIQUE INDEX key_encryption_keys_one_active
  ON key_encryption_keys (tenant_id, region) WHERE state = 'active';

-- One row per sealed object (a message body, an attachment, a file). The payload lives in
-- the blob store under blob_key; the data key lives here, wrapped by a KEK. Shredding an
-- object sets wrapped_key to NULL: the payload can then never be opened again.
CREATE TABLE sealed_objects (
  id                uuid PRIMARY KEY,
  tenant_id         uuid NOT NULL REFERENCES tenants(id),
  region            text NOT NULL CHECK (region IN ('uk', 'eea', 'us')),
  key_id            uuid NOT NULL UNIQUE,
  kek_id            uuid REFERENCES key_encryption_keys(id),
  wrapped_key       bytea,
  blob_key          text NOT NULL UNIQUE,
  format_version    smallint NOT NULL,
  segment_size      integer NOT NULL CHECK (segment_size > 0),
  plaintext_length  bigint NOT NULL CHECK (plaintext_length >= 0),
  created_at        timestamptz NOT NULL DEFAULT now(),
  shredded_at       timestamptz,
  CHECK ((shredded_at IS NULL) = (wrapped_key IS NOT NULL AND kek_id IS NOT NULL))
);
CREATE INDEX sealed_objects_kek ON sealed_objects (kek_id);
CREATE INDEX sealed_objects_tenant ON sealed_objects (tenant_id, created_at);

-- Append-only, hash-chained audit log. One chain per tenant ('system' for events with no
-- tenant); chain_seq is contiguous within a chain and hash = SHA-256(prev_hash ‖ canonical
-- event), so editing, inserting or deleting a row breaks verification.
CREATE TABLE audit_events (
  chain         text NOT NULL,
  chain_seq     bigint NOT NULL CHECK (chain_seq >= 1),
  id            uuid NOT NULL UNIQUE,
  tenant_id     uuid REFERENCES tenants(id),
  occurred_at   timestamptz NOT NULL,
  actor_type    text NOT NULL,
  actor_id      text,
  action        text NOT NULL,
  target_type   text,
  target_id     text,
  outcome       text NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
  ip            text,
  user_agent    text,
  details       jsonb NOT NULL DEFAULT '{}'::jsonb,
  prev_hash     bytea NOT NULL,
  hash          bytea NOT NULL,
  PRIMARY KEY (chain, chain_seq)
);
CREATE INDEX audit_events_tenant_time ON audit_events (tenant_id, occurred_at);
