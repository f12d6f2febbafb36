-- Consent and communication preferences (issue #6, part 7) and the double opt-in and one-click
-- unsubscribe links behind them. Declared in registry.ts.
--
-- One row per person (normalised address) and kind of email they may opt in to. No row means
-- never opted in: nothing optional is sent. 'objected' (marketing only) is an objection under
-- GDPR Art. 21(2): sticky, never overridden by a default, an import or an administrator.
CREATE TABLE communication_preferences (
  id              uuid PRIMARY KEY,
  email           text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 320),
  kind            text NOT NULL CHECK (kind IN ('marketing', 'product_updates', 'subprocessor_changes')),
  state           text NOT NULL CHECK (state IN ('granted', 'withdrawn', 'objected')),
  CHECK (state <> 'objected' OR kind = 'marketing'),
  via             text NOT NULL,
  notice_version  text,
  updated_at      timestamptz NOT NULL,
  UNIQUE (email, kind)
);
CREATE INDEX communication_preferences_kind_state ON communication_preferences (kind, state);

-- Every change of a preference: from which state to which, when, through which channel and
-- with which version of the privacy notice shown. Append-only by the application; it is the
-- evidence that consent was given or withdrawn (Art. 7(1)).
CREATE TABLE communication_preference_changes (
  id              uuid PRIMARY KEY,
  seq             bigserial NOT NULL UNIQUE,
  email           text NOT NULL CHECK (email = lower(email)),
  kind            text NOT NULL,
  from_state      text NOT NULL CHECK (from_state IN ('unset', 'granted', 'withdrawn', 'objected')),
  to_state        text NOT NULL CHECK (to_state IN ('granted', 'withdrawn', 'objected')),
  via             text NOT NULL CHECK (via IN ('subject_request', 'unsubscribe_link', 'account', 'administrator', 'double_opt_in')),
  request_id      uuid,
  actor_id        text,
  notice_version  text,
  changed_at      timestamptz NOT NULL
);
CREATE INDEX communication_preference_changes_email ON communication_preference_changes (email, seq);

-- Double opt-in: a request to receive one kind of email waits here until the link emailed to
-- the address is followed. Only the SHA-256 of the link's token is kept.
-- The row is written when the request is accepted; the token is made (and its hash stored) by
-- the job that sends the email, so no job payload ever holds a token.
CREATE TABLE consent_confirmations (
  id              uuid PRIMARY KEY,
  token_hash      bytea UNIQUE CHECK (length(token_hash) = 32),
  email           text NOT NULL CHECK (email = lower(email)),
  kind            text NOT NULL CHECK (kind IN ('marketing', 'product_updates', 'subprocessor_changes')),
  notice_version  text,
  created_at      timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL,
  confirmed_at    timestamptz
);
CREATE INDEX consent_confirmations_expires ON consent_confirmations (expires_at);

-- One-click unsubscribe links (RFC 8058): one per optional email sent; only the SHA-256 of the
-- token is kept. It unsubscribes its address from its kind, nothing else.
CREATE TABLE unsubscribe_links (
  token_hash      bytea PRIMARY KEY CHECK (length(token_hash) = 32),
  email           text NOT NULL CHECK (email = lower(email)),
  kind            text NOT NULL CHECK (kind IN ('marketing', 'product_updates', 'subprocessor_changes')),
  created_at      timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL,
  used_at         timestamptz
);
CREATE INDEX unsubscribe_links_expires ON unsubscribe_links (expires_at);
