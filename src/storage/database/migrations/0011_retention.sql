-- Retention and legal hold (issue #6 §3). Declared in registry.ts; see docs/privacy.md "Retention".

-- Retention periods that override the registry's defaults (RETENTION_RULES): per tenant, or for
-- the whole installation when tenant_id is NULL. A missing row means "the default".
CREATE TABLE retention_policies (
  tenant_id   uuid REFERENCES tenants(id),
  key         text NOT NULL CHECK (key IN ('content', 'content_expired_grace', 'system', 'audit')),
  -- ISO-8601 duration (validated by the service); NULL: keep until something else ends it.
  period      text CHECK (period IS NULL OR period ~ '^P[0-9YMWD]+$'),
  updated_at  timestamptz NOT NULL,
  updated_by  text NOT NULL CHECK (length(updated_by) BETWEEN 1 AND 200)
);
CREATE UNIQUE INDEX retention_policies_key ON retention_policies (COALESCE(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid), key);

-- Legal holds: while a hold is in force, retention keeps what it covers (a whole tenant, one
-- user's messages and trail, or one message). Releasing records who, when and why; the row stays.
CREATE TABLE legal_holds (
  id              uuid PRIMARY KEY,
  tenant_id       uuid NOT NULL REFERENCES tenants(id),
  scope           text NOT NULL CHECK (scope IN ('tenant', 'user', 'message')),
  user_id         uuid,
  message_id      uuid,
  reason          text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
  placed_by       text NOT NULL CHECK (length(placed_by) BETWEEN 1 AND 200),
  placed_at       timestamptz NOT NULL,
  released_by     text,
  released_at     timestamptz,
  release_reason  text CHECK (release_reason IS NULL OR length(release_reason) BETWEEN 1 AND 1000),
  CHECK ((scope = 'user') = (user_id IS NOT NULL)),
  CHECK ((scope = 'message') = (message_id IS NOT NULL)),
  CHECK ((released_at IS NULL) = (released_by IS NULL))
);
CREATE INDEX legal_holds_active ON legal_holds (tenant_id) WHERE released_at IS NULL;

-- One row per retention run (scheduled, CLI, API; dry runs too): counts only, never values.
CREATE TABLE retention_runs (
  id            uuid PRIMARY KEY,
  tenant_id     uuid REFERENCES tenants(id),
  dry_run       boolean NOT NULL,
  triggered_by  text NOT NULL CHECK (triggered_by IN ('schedule', 'cli', 'api', 'direct')),
  actor         text,
  status        text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
  as_of         timestamptz NOT NULL,
  started_at    timestamptz NOT NULL,
  heartbeat_at  timestamptz NOT NULL,
  finished_at   timestamptz,
  counts        jsonb,
  error         text
);
CREATE INDEX retention_runs_started ON retention_runs (started_at DESC);
-- At most one run that changes data at a time: a second one is refused (crashed runs are
-- marked failed once their heartbeat is stale, see retention.repository.ts).
CREATE UNIQUE INDEX retention_runs_one_active ON retention_runs ((true)) WHERE status = 'running' AND NOT dry_run;

-- Each tenant's share of a run (only tenants with something removed or held), so a tenant's
-- administrators see their own counts and nobody else's.
CREATE TABLE retention_run_tenants (
  run_id     uuid NOT NULL REFERENCES retention_runs(id) ON DELETE CASCADE,
  tenant_id  uuid NOT NULL REFERENCES tenants(id),
  counts     jsonb NOT NULL,
  PRIMARY KEY (run_id, tenant_id)
);
CREATE INDEX retention_run_tenants_tenant ON retention_run_tenants (tenant_id);

-- Where an audit chain starts after retention deleted its oldest events: the first kept position
-- and the hash of the last deleted event (the first kept event's prev_hash), so verification
-- starts there instead of at the genesis hash. Confirmed by an 'audit.pruned' event in the chain.
CREATE TABLE audit_checkpoints (
  chain       text PRIMARY KEY,
  first_seq   bigint NOT NULL CHECK (first_seq > 1),
  prev_hash   bytea NOT NULL CHECK (length(prev_hash) = 32),
  removed     bigint NOT NULL CHECK (removed >= 0),
  updated_at  timestamptz NOT NULL
);

-- Retention looks for old rows by time.
CREATE INDEX messages_expiry ON messages (tenant_id, expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX messages_age ON messages (tenant_id, created_at);
-- Deleting a sealed object checks that no message still names it as its envelope.
CREATE INDEX messages_envelope ON messages (envelope_object_id);
CREATE INDEX messages_in_reply_to ON messages (in_reply_to) WHERE in_reply_to IS NOT NULL;
CREATE INDEX messages_sender_recipient ON messages (sender_recipient_id) WHERE sender_recipient_id IS NOT NULL;
CREATE INDEX recipient_sessions_recipient ON recipient_sessions (recipient_id);
CREATE INDEX access_requests_recipient ON access_requests (recipient_id) WHERE recipient_id IS NOT NULL;
CREATE INDEX access_requests_via ON access_requests (via_recipient_id);
CREATE INDEX pending_uploads_recipient ON pending_uploads (recipient_id) WHERE recipient_id IS NOT NULL;
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE status IN ('done', 'failed');
