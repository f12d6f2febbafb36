-- Disclosure log (issue #6 §6), verified tenant domains and free-to-business account transfers
-- (§8). Declared in registry.ts.

-- Requests from law enforcement and other third parties to disclose data, and what was done
-- about them. What was disclosed is described (categories, a description), never copied here.
CREATE TABLE privacy_disclosures (
  id                    uuid PRIMARY KEY,
  reference             text NOT NULL UNIQUE CHECK (reference ~ '^DR-[0-9]{4}-[0-9]{4,}$'),
  requester_kind        text NOT NULL CHECK (requester_kind IN ('law_enforcement', 'court', 'regulator', 'government', 'other_third_party')),
  authority             text NOT NULL CHECK (length(authority) BETWEEN 1 AND 300),
  jurisdiction          text CHECK (jurisdiction IS NULL OR length(jurisdiction) BETWEEN 1 AND 100),
  contact               text CHECK (contact IS NULL OR length(contact) BETWEEN 1 AND 1000),
  legal_basis           text NOT NULL CHECK (length(legal_basis) BETWEEN 1 AND 2000),
  tenant_id             uuid REFERENCES tenants(id),
  requested             text NOT NULL CHECK (length(requested) BETWEEN 1 AND 4000),
  requested_categories  jsonb NOT NULL DEFAULT '[]',
  status                text NOT NULL CHECK (status IN ('received', 'approved', 'refused', 'disclosed', 'challenged')),
  disclosed_categories  jsonb NOT NULL DEFAULT '[]',
  disclosed_description text CHECK (disclosed_description IS NULL OR length(disclosed_description) BETWEEN 1 AND 4000),
  decision_reason       text CHECK (decision_reason IS NULL OR length(decision_reason) BETWEEN 1 AND 4000),
  approved_by           text CHECK (approved_by IS NULL OR length(approved_by) BETWEEN 1 AND 200),
  received_at           timestamptz NOT NULL,
  decided_at            timestamptz,
  disclosed_at          timestamptz,
  customer_notified_at  timestamptz,
  subject_notified_at   timestamptz,
  gag                   boolean NOT NULL DEFAULT false,
  gag_until             timestamptz,
  notes                 text CHECK (notes IS NULL OR length(notes) <= 4000),
  recorded_by           text NOT NULL,
  created_at            timestamptz NOT NULL,
  updated_at            timestamptz NOT NULL,
  CHECK (gag OR gag_until IS NULL),
  CHECK (status <> 'disclosed' OR disclosed_at IS NOT NULL)
);
CREATE INDEX privacy_disclosures_received ON privacy_disclosures (received_at);

-- Domains a tenant claims; verified by a TXT record carrying the token.
CREATE TABLE tenant_domains (
  id               uuid PRIMARY KEY,
  tenant_id        uuid NOT NULL REFERENCES tenants(id),
  domain           text NOT NULL CHECK (domain = lower(domain) AND length(domain) BETWEEN 3 AND 253),
  token            text NOT NULL CHECK (length(token) BETWEEN 20 AND 100),
  created_by       uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at       timestamptz NOT NULL,
  last_checked_at  timestamptz,
  last_error       text,
  verified_at      timestamptz,
  UNIQUE (tenant_id, domain)
);
-- One tenant owns a verified domain.
CREATE UNIQUE INDEX tenant_domains_verified ON tenant_domains (domain) WHERE verified_at IS NOT NULL;

-- Offers to move a free account into the business tenant that verified its domain.
CREATE TABLE account_transfers (
  id                uuid PRIMARY KEY,
  user_id           uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  from_tenant_id    uuid NOT NULL REFERENCES tenants(id),
  to_tenant_id      uuid NOT NULL REFERENCES tenants(id),
  domain_id         uuid NOT NULL REFERENCES tenant_domains(id),
  status            text NOT NULL CHECK (status IN ('offered', 'completed', 'cancelled')),
  offered_at        timestamptz NOT NULL,
  notice_sent_at    timestamptz,
  due_at            timestamptz NOT NULL,
  accepted_at       timestamptz,
  completed_at      timestamptz,
  cancelled_at      timestamptz,
  cancel_reason     text,
  moved             jsonb,
  CHECK (from_tenant_id <> to_tenant_id)
);
CREATE UNIQUE INDEX account_transfers_open ON account_transfers (user_id) WHERE status = 'offered';
CREATE INDEX account_transfers_due ON account_transfers (due_at) WHERE status = 'offered';
