-- Data subject requests (issue #6, part 2): the workflow around the subject-rights engine.
-- Declared in registry.ts. See docs/privacy.md, "Subject requests".
--
-- A request is received (public page, JSON API, an administrator or the operator), the
-- requester proves control of the address with a one-time code (only its hash is kept, and only
-- until it is used up), then the one-month clock runs from verification. Every step is an event.

CREATE TABLE subject_requests (
  id                 uuid PRIMARY KEY,
  kind               text NOT NULL CHECK (kind IN ('access', 'rectification', 'erasure', 'restriction', 'objection_to_marketing')),
  email              text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
  name               text CHECK (name IS NULL OR length(name) BETWEEN 1 AND 200),
  details            text CHECK (details IS NULL OR length(details) BETWEEN 1 AND 4000),
  -- Restriction requests: true asks for an existing restriction to be lifted.
  lift               boolean NOT NULL DEFAULT false,
  status             text NOT NULL CHECK (status IN ('awaiting_identity', 'open', 'in_progress', 'completed', 'rejected', 'routed_to_customer', 'linked')),
  opened_via         text NOT NULL CHECK (opened_via IN ('public', 'administrator', 'operator')),
  opened_by          text CHECK (opened_by IS NULL OR length(opened_by) BETWEEN 1 AND 200),
  -- The tenant whose administrator opened it (they may follow it); NULL: opened by the person or the operator.
  tenant_id          uuid REFERENCES tenants(id),
  received_at        timestamptz NOT NULL,
  verified_at        timestamptz,
  -- The clock: starts at verification, paused days are added, extended once by up to two months.
  clock_started_on   date,
  paused_days        integer NOT NULL DEFAULT 0 CHECK (paused_days >= 0),
  extension_months   integer NOT NULL DEFAULT 0 CHECK (extension_months BETWEEN 0 AND 2),
  extension_reason   text CHECK (extension_reason IS NULL OR length(extension_reason) BETWEEN 1 AND 2000),
  extended_at        timestamptz,
  due_on             date,
  -- A duplicate of a request still open for the same verified address and kind: no second clock.
  duplicate_of       uuid REFERENCES subject_requests(id),
  closed_at          timestamptz,
  outcome_note       text CHECK (outcome_note IS NULL OR length(outcome_note) BETWEEN 1 AND 4000),
  -- What running it did (counts only: erasure report, export size, routings); never exported data.
  result             jsonb,
  code_hash          bytea,
  code_expires_at    timestamptz,
  code_attempts      integer NOT NULL DEFAULT 0 CHECK (code_attempts >= 0),
  CHECK ((status = 'awaiting_identity') = (verified_at IS NULL)),
  CHECK ((status = 'linked') = (duplicate_of IS NOT NULL)),
  CHECK ((verified_at IS NULL) = (due_on IS NULL)),
  CHECK ((extension_months = 0) = (extension_reason IS NULL))
);
CREATE INDEX subject_requests_queue ON subject_requests (status, due_on);
CREATE INDEX subject_requests_email ON subject_requests (email, kind);
-- One clock per address and kind: at most one verified request that is not closed.
CREATE UNIQUE INDEX subject_requests_one_open ON subject_requests (email, kind) WHERE status IN ('open', 'in_progress');

CREATE TABLE subject_request_events (
  id           uuid PRIMARY KEY,
  request_id   uuid NOT NULL REFERENCES subject_requests(id) ON DELETE CASCADE,
  at           timestamptz NOT NULL,
  event        text NOT NULL CHECK (event ~ '^[a-z][a-z_]*$'),
  actor_type   text NOT NULL CHECK (actor_type IN ('subject', 'user', 'operator', 'system')),
  actor_id     text CHECK (actor_id IS NULL OR length(actor_id) BETWEEN 1 AND 200),
  details      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX subject_request_events_request ON subject_request_events (request_id, at, id);

-- Content about the requester held for a business customer: the customer is the controller and
-- the request is routed to them (their administrators are told; the requester is told who).
CREATE TABLE subject_request_routings (
  request_id   uuid NOT NULL REFERENCES subject_requests(id) ON DELETE CASCADE,
  tenant_id    uuid NOT NULL REFERENCES tenants(id),
  messages     integer NOT NULL CHECK (messages >= 0),
  routed_at    timestamptz NOT NULL,
  notified     integer NOT NULL DEFAULT 0 CHECK (notified >= 0),
  PRIMARY KEY (request_id, tenant_id)
);
CREATE INDEX subject_request_routings_tenant ON subject_request_routings (tenant_id, routed_at);

-- The sealed access export: its data key is wrapped by the root key under a key scope of its own
-- (Sealpost is controller of the export), the link token is kept only as its SHA-256. After the
-- one download or at expiry the wrapped key is erased (crypto-shredded) and the blob deleted.
CREATE TABLE subject_request_exports (
  id             uuid PRIMARY KEY,
  request_id     uuid NOT NULL REFERENCES subject_requests(id) ON DELETE CASCADE,
  token_hash     bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  root_key_id    text NOT NULL,
  wrapped_key    bytea,
  key_id         uuid NOT NULL,
  blob_key       text NOT NULL,
  byte_length    bigint NOT NULL CHECK (byte_length >= 0),
  created_at     timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL,
  downloaded_at  timestamptz,
  shredded_at    timestamptz,
  CHECK ((shredded_at IS NULL) = (wrapped_key IS NOT NULL))
);
CREATE INDEX subject_request_exports_live ON subject_request_exports (expires_at) WHERE shredded_at IS NULL;
