-- Foundations for data-subject rights (issue #6). Declared in registry.ts.

-- Who is controller of a tenant's Content: for a free single-user account the person signed up
-- for themselves and Sealpost is the controller; for a business tenant Sealpost processes
-- Content on the customer's instructions (processor) and subject requests about it are routed
-- to the customer.
ALTER TABLE tenants ADD COLUMN plan text NOT NULL DEFAULT 'business' CHECK (plan IN ('free', 'business'));

-- People whose processing is restricted (GDPR Art. 18): their data is stored but not otherwise
-- processed (Prevent does not learn from them, no marketing is sent) until the restriction is
-- lifted. Keyed by the normalised (lower-case) address the request was verified for.
CREATE TABLE subject_restrictions (
  email          text PRIMARY KEY CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 320),
  request_id     uuid,
  restricted_at  timestamptz NOT NULL
);
