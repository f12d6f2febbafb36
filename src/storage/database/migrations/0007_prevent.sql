-- Prevent: what a tenant's mail behaviour teaches the pre-send check (Smart Data), the
-- tenant's policy for each check, and the decisions senders took on warnings. Declared in
-- registry.ts.
--
-- Smart Data is metadata only: who wrote to whom, in which role, when, in which thread, under
-- which label. Subjects are sealed Content, so the words the topic profiles learn from are kept
-- only as keyed hashes (HMAC under a per-tenant key, itself wrapped by the tenant's KEK); the
-- words cannot be read back from this table, and destroying the tenant's keys makes the hashes
-- meaningless. Bodies are never stored.

CREATE TABLE prevent_observations (
  seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id    uuid NOT NULL REFERENCES tenants(id),
  message_id   uuid,
  source       text NOT NULL CHECK (source IN ('sent', 'received', 'import')),
  observed_at  timestamptz NOT NULL,
  sender       text NOT NULL CHECK (sender = lower(sender) AND length(sender) BETWEEN 3 AND 254),
  recipients   jsonb NOT NULL CHECK (jsonb_typeof(recipients) = 'array'),
  terms        jsonb NOT NULL CHECK (jsonb_typeof(terms) = 'array'),
  thread_key   text CHECK (thread_key IS NULL OR length(thread_key) <= 200),
  label_rank   integer
);
CREATE INDEX prevent_observations_tenant ON prevent_observations (tenant_id, seq);
CREATE INDEX prevent_observations_age ON prevent_observations (tenant_id, observed_at);
CREATE INDEX prevent_observations_sender ON prevent_observations (tenant_id, sender);
CREATE INDEX prevent_observations_recipients ON prevent_observations USING gin (recipients jsonb_path_ops);

-- The per-tenant key that turns words into term hashes, wrapped like a data key.
CREATE TABLE prevent_keys (
  tenant_id    uuid PRIMARY KEY REFERENCES tenants(id),
  key_id       uuid NOT NULL,
  kek_id       uuid NOT NULL REFERENCES key_encryption_keys(id),
  wrapped_key  bytea NOT NULL,
  created_at   timestamptz NOT NULL
);

CREATE TABLE prevent_settings (
  tenant_id         uuid PRIMARY KEY REFERENCES tenants(id),
  policy            jsonb NOT NULL,
  rules             jsonb NOT NULL,
  internal_domains  jsonb NOT NULL CHECK (jsonb_typeof(internal_domains) = 'array'),
  updated_at        timestamptz NOT NULL,
  updated_by        uuid REFERENCES users(id) ON DELETE SET NULL
);

-- People the model must not learn from: restricted (Art. 18) or erased subjects. Only a keyed
-- hash of the address is kept, so the list itself does not name them.
CREATE TABLE prevent_exclusions (
  tenant_id     uuid NOT NULL REFERENCES tenants(id),
  address_hash  bytea NOT NULL CHECK (length(address_hash) = 32),
  reason        text NOT NULL CHECK (reason IN ('restricted', 'erased')),
  created_at    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, address_hash)
);

CREATE TABLE prevent_decisions (
  id             uuid PRIMARY KEY,
  tenant_id      uuid NOT NULL REFERENCES tenants(id),
  user_id        uuid REFERENCES users(id) ON DELETE SET NULL,
  message_id     uuid,
  decided_at     timestamptz NOT NULL,
  check_kind     text NOT NULL,
  severity       text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  mode           text NOT NULL CHECK (mode IN ('monitor', 'nudge', 'block')),
  outcome        text NOT NULL CHECK (outcome IN ('logged', 'sent_anyway', 'sent_unreviewed', 'justified', 'blocked', 'removed', 'suppressed')),
  recipients     jsonb NOT NULL CHECK (jsonb_typeof(recipients) = 'array'),
  context_key    text NOT NULL CHECK (length(context_key) = 64),
  justification  text CHECK (justification IS NULL OR length(justification) BETWEEN 1 AND 1000)
);
CREATE INDEX prevent_decisions_tenant ON prevent_decisions (tenant_id, decided_at);
CREATE INDEX prevent_decisions_feedback ON prevent_decisions (tenant_id, user_id, context_key);
CREATE INDEX prevent_decisions_recipients ON prevent_decisions USING gin (recipients jsonb_path_ops);
