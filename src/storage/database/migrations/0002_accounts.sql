-- Accounts: users of a tenant with a role, browser sessions, personal API tokens, one-time
-- sign-in links, and a generic rate-limit counter. Secrets (session tokens, API tokens,
-- sign-in link tokens) are stored only as SHA-256 hashes; passwords only as Argon2id hashes.
-- Every table and column here is declared in src/storage/database/registry.ts.

-- Email addresses are unique across the installation (one sign-in per address) and stored
-- lower-cased by the application; the CHECK is the backstop (ASCII only, so it means the
-- same under every database locale).
CREATE TABLE users (
  id                   uuid PRIMARY KEY,
  tenant_id            uuid NOT NULL REFERENCES tenants(id),
  email                text NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 254 AND email !~ '[A-Z]'),
  display_name         text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
  role                 text NOT NULL CHECK (role IN ('administrator', 'author', 'auditor', 'read_only', 'disabled')),
  password_hash        text,
  password_changed_at  timestamptz,
  created_at           timestamptz NOT NULL,
  updated_at           timestamptz NOT NULL,
  CHECK ((password_hash IS NULL) = (password_changed_at IS NULL))
);
CREATE INDEX users_tenant ON users (tenant_id, email);

-- Browser sessions. The cookie carries a random token; only its SHA-256 is stored, so a
-- copy of this table cannot be replayed. The CSRF token is derived from the session token
-- (HMAC), so it is not stored either.
CREATE TABLE sessions (
  id            uuid PRIMARY KEY,
  token_hash    bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  user_id       uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  tenant_id     uuid NOT NULL REFERENCES tenants(id),
  method        text NOT NULL CHECK (method IN ('password', 'sign_in_link')),
  created_at    timestamptz NOT NULL,
  last_seen_at  timestamptz NOT NULL,
  expires_at    timestamptz NOT NULL,
  ip            text,
  user_agent    text
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Personal API tokens (CLI, integrations): `sp_` + 43 random base64url characters. Only the
-- SHA-256 is stored, with a short prefix so people can tell their tokens apart.
CREATE TABLE api_tokens (
  id            uuid PRIMARY KEY,
  tenant_id     uuid NOT NULL REFERENCES tenants(id),
  user_id       uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  prefix        text NOT NULL,
  token_hash    bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  created_at    timestamptz NOT NULL,
  last_used_at  timestamptz,
  expires_at    timestamptz NOT NULL,
  revoked_at    timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id, created_at);

-- One-time sign-in links (first start, invitations, recovery). used_at is set atomically
-- when a link is redeemed, so a link opens at most one session.
CREATE TABLE sign_in_links (
  id          uuid PRIMARY KEY,
  tenant_id   uuid NOT NULL REFERENCES tenants(id),
  user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash  bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  purpose     text NOT NULL CHECK (purpose IN ('first_start', 'invitation', 'recovery')),
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
CREATE INDEX sign_in_links_user ON sign_in_links (user_id);

-- Fixed-window counters for rate limits (sign-in attempts now, one-time codes later). The key
-- often names a person (an email address, an IP address), so only SHA-256(scope, key) is kept.
CREATE TABLE rate_limits (
  key_hash           bytea PRIMARY KEY CHECK (length(key_hash) = 32),
  scope              text NOT NULL,
  window_started_at  timestamptz NOT NULL,
  hits               integer NOT NULL CHECK (hits >= 0),
  expires_at         timestamptz NOT NULL
);
CREATE INDEX rate_limits_expires ON rate_limits (expires_at);
