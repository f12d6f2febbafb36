-- The subject-data engine (issue #6, part 2: src/privacy/subjects/): the installation's masking
-- key, the record of pseudonymised audit events, and the indexes that let the engine find a
-- person's rows from their addresses and user ids without scanning whole tables.
-- Declared in registry.ts.

-- One key per installation for HMAC masking and pseudonyms (erased addresses become
-- HMAC(key, address), so joins and counts still work but the address cannot be read back or
-- guessed without the key). Wrapped by the KeyProvider's root key, like a KEK; never stored
-- in the clear.
CREATE TABLE privacy_masking_keys (
  id           uuid PRIMARY KEY,
  root_key_id  text NOT NULL,
  wrapped_key  bytea NOT NULL,
  created_at   timestamptz NOT NULL
);

-- Audit events whose personal fields were pseudonymised after an erasure. The row's stored
-- hash (and so the chain) is unchanged; the pseudonymised row verifies against redacted_hash
-- = SHA-256(prev_hash ‖ canonical JSON of the row as it now reads), and the set of rows an
-- erasure pseudonymised is attested by a later event in the same chain
-- ('audit.pseudonymised', details.digest over these rows), so the overlay cannot be edited
-- unnoticed either. See docs/privacy.md, "The audit log".
CREATE TABLE audit_pseudonymisations (
  chain          text NOT NULL,
  chain_seq      bigint NOT NULL,
  event_id       uuid NOT NULL,
  redacted_hash  bytea NOT NULL CHECK (length(redacted_hash) = 32),
  redacted_at    timestamptz NOT NULL,
  PRIMARY KEY (chain, chain_seq, event_id)
);
CREATE INDEX audit_pseudonymisations_event ON audit_pseudonymisations (event_id);

-- Reachability from identifiers (src/privacy/subjects/subject-map.ts). Migration 0011 (retention)
-- adds messages (sender_recipient_id), pending_uploads (recipient_id) and
-- recipient_sessions (recipient_id), which the engine uses too.
CREATE INDEX messages_sender_email ON messages (sender_email);
CREATE INDEX messages_sender_user ON messages (sender_user_id) WHERE sender_user_id IS NOT NULL;
CREATE INDEX audit_events_actor ON audit_events (actor_id) WHERE actor_id IS NOT NULL;
CREATE INDEX audit_events_target ON audit_events (target_id) WHERE target_id IS NOT NULL;
CREATE INDEX access_requests_email ON access_requests (email);
CREATE INDEX access_requests_decided_by ON access_requests (decided_by) WHERE decided_by IS NOT NULL;
CREATE INDEX pending_uploads_user ON pending_uploads (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX prevent_observations_sender_any ON prevent_observations (sender);
CREATE INDEX prevent_decisions_user ON prevent_decisions (user_id) WHERE user_id IS NOT NULL;
