-- Secure messages: classification labels, messages, recipients, recipient verification,
-- recipient sessions and durable background jobs. Declared in registry.ts.
--
-- What is Content and sealed: the subject, the body and attachment names and types live in
-- one sealed "envelope" object per message (sealed_objects), attachments in their own sealed
-- objects. What stays in the clear here is the envelope metadata the server needs to decide
-- access: who sent to whom, when, under which label, and whether it was revoked or expired.

CREATE TABLE labels (
  id                   uuid PRIMARY KEY,
  tenant_id            uuid NOT NULL REFERENCES tenants(id),
  name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
  rank                 integer NOT NULL CHECK (rank >= 0),
  description          text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
  default_expiry_days  integer CHECK (default_expiry_days IS NULL OR default_expiry_days BETWEEN 1 AND 3650),
  auth_level           text NOT NULL CHECK (auth_level IN ('email_code', 'account')),
  no_forward           boolean NOT NULL DEFAULT false,
  no_download          boolean NOT NULL DEFAULT false,
  watermark            boolean NOT NULL DEFAULT false,
  hide_subject         boolean NOT NULL DEFAULT false,
  disclaimer           text CHECK (disclaimer IS NULL OR length(disclaimer) BETWEEN 1 AND 4000),
  created_at           timestamptz NOT NULL DEFAULT now(),
  archived_at          timestamptz,
  UNIQUE (tenant_id, name)
);

CREATE TABLE messages (
  id                   uuid PRIMARY KEY,
  tenant_id            uuid NOT NULL REFERENCES tenants(id),
  thread_id            uuid NOT NULL,
  in_reply_to          uuid REFERENCES messages(id),
  sender_user_id       uuid REFERENCES users(id),
  sender_recipient_id  uuid,
  sender_email         text NOT NULL,
  label_id             uuid NOT NULL REFERENCES labels(id),
  envelope_object_id   uuid NOT NULL REFERENCES sealed_objects(id),
  attachment_count     integer NOT NULL CHECK (attachment_count >= 0),
  created_at           timestamptz NOT NULL DEFAULT now(),
  expires_at           timestamptz,
  revoked_at           timestamptz,
  CHECK ((sender_user_id IS NULL) <> (sender_recipient_id IS NULL))
);
CREATE INDEX messages_sender ON messages (tenant_id, sender_user_id, created_at);
CREATE INDEX messages_thread ON messages (thread_id, created_at);

-- Attachments uploaded (sealed) but not yet part of a sent message. Deleted when the message
-- is sent; stale ones are crypto-shredded by retention.
CREATE TABLE pending_uploads (
  object_id   uuid PRIMARY KEY REFERENCES sealed_objects(id),
  tenant_id   uuid NOT NULL REFERENCES tenants(id),
  user_id     uuid NOT NULL REFERENCES users(id),
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE message_attachments (
  message_id   uuid NOT NULL REFERENCES messages(id),
  position     integer NOT NULL CHECK (position >= 0),
  object_id    uuid NOT NULL UNIQUE REFERENCES sealed_objects(id),
  PRIMARY KEY (message_id, position)
);

-- One row per recipient. The link token is random; only its SHA-256 is used for lookups, and
-- it is kept wrapped by the tenant's KEK so that a retried notification carries the same link.
CREATE TABLE message_recipients (
  id                      uuid PRIMARY KEY,
  message_id              uuid NOT NULL REFERENCES messages(id),
  tenant_id               uuid NOT NULL REFERENCES tenants(id),
  email                   text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
  kind                    text NOT NULL CHECK (kind IN ('to', 'cc', 'bcc')),
  link_token_hash         bytea NOT NULL UNIQUE,
  link_kek_id             uuid REFERENCES key_encryption_keys(id),
  link_token_wrapped      bytea,
  added_at                timestamptz NOT NULL DEFAULT now(),
  removed_at              timestamptz,
  revoked_at              timestamptz,
  delivery_status         text NOT NULL DEFAULT 'pending' CHECK (delivery_status IN ('pending', 'sent', 'failed')),
  delivery_attempts       integer NOT NULL DEFAULT 0,
  delivery_error          text,
  notified_at             timestamptz,
  disclaimer_accepted_at  timestamptz,
  first_opened_at         timestamptz,
  last_opened_at          timestamptz,
  UNIQUE (message_id, email)
);
CREATE INDEX message_recipients_email ON message_recipients (email);

-- One-time codes proving control of a recipient's mailbox. Only a keyed hash is stored.
CREATE TABLE recipient_challenges (
  id            uuid PRIMARY KEY,
  recipient_id  uuid NOT NULL REFERENCES message_recipients(id),
  code_hash     bytea NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  consumed_at   timestamptz
);
CREATE INDEX recipient_challenges_recipient ON recipient_challenges (recipient_id, created_at);

-- A verified recipient's session (after a correct code). Only the token's SHA-256 is stored.
CREATE TABLE recipient_sessions (
  id            uuid PRIMARY KEY,
  recipient_id  uuid NOT NULL REFERENCES message_recipients(id),
  token_hash    bytea NOT NULL UNIQUE,
  auth_level    text NOT NULL CHECK (auth_level IN ('email_code', 'account')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  ip            text,
  user_agent    text
);

-- Durable background jobs (notification delivery, later retention and exports).
CREATE TABLE jobs (
  id            uuid PRIMARY KEY,
  kind          text NOT NULL,
  payload       jsonb NOT NULL,
  status        text NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
  attempts      integer NOT NULL DEFAULT 0,
  max_attempts  integer NOT NULL CHECK (max_attempts >= 1),
  run_at        timestamptz NOT NULL DEFAULT now(),
  locked_until  timestamptz,
  last_error    text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz
);
CREATE INDEX jobs_due ON jobs (run_at) WHERE status IN ('queued', 'running');
