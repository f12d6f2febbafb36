-- Privacy operations, part 1: the processing register (purposes of processing as data), the
-- sub-processor register, the controller details the record of processing needs, and the
-- history of every change to them. Declared in registry.ts. The rows are seeded at start-up
-- from src/privacy/register/register.seed.ts (not here), once per seed version, so that the
-- operator's edits and deletions are never undone by a later start.

-- One row per seed version applied: the seed never runs twice, whatever the operator changed since.
CREATE TABLE privacy_seed_applied (
  seed_version  text PRIMARY KEY,
  applied_at    timestamptz NOT NULL
);

-- Installation-wide facts of the controller record (GDPR Art. 30(1)(a), (g)): a single row.
CREATE TABLE privacy_register_settings (
  id                       boolean PRIMARY KEY DEFAULT true CHECK (id),
  controller_name          text CHECK (controller_name IS NULL OR length(controller_name) BETWEEN 1 AND 300),
  controller_contact       text CHECK (controller_contact IS NULL OR length(controller_contact) BETWEEN 1 AND 1000),
  dpo_contact              text CHECK (dpo_contact IS NULL OR length(dpo_contact) BETWEEN 1 AND 1000),
  representative           text CHECK (representative IS NULL OR length(representative) BETWEEN 1 AND 1000),
  organisational_measures  text CHECK (organisational_measures IS NULL OR length(organisational_measures) BETWEEN 1 AND 10000),
  transfer_statement       text CHECK (transfer_statement IS NULL OR length(transfer_statement) BETWEEN 1 AND 10000),
  updated_at               timestamptz NOT NULL,
  updated_by               text
);

-- Purposes of processing. One row per row of the seed's purpose tables (a purpose with several
-- reasons, each with its own lawful basis, is several rows sharing a name).
CREATE TABLE privacy_purposes (
  id                  uuid PRIMARY KEY,
  key                 text NOT NULL UNIQUE CHECK (key ~ '^[a-z0-9_.]{1,120}$'),
  group_key           text NOT NULL CHECK (group_key ~ '^[a-z0-9_]{1,80}$'),
  group_title         text NOT NULL CHECK (length(group_title) BETWEEN 1 AND 200),
  position            integer NOT NULL,
  name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 1000),
  reasons             text CHECK (reasons IS NULL OR length(reasons) BETWEEN 1 AND 10000),
  basis_individual    jsonb NOT NULL DEFAULT '[]',
  basis_business      jsonb NOT NULL DEFAULT '[]',
  categories          jsonb NOT NULL DEFAULT '[]',
  data_subjects       jsonb NOT NULL DEFAULT '[]',
  recipients          jsonb NOT NULL DEFAULT '[]',
  retention_rules     jsonb,
  transfers           text CHECK (transfers IS NULL OR length(transfers) BETWEEN 1 AND 10000),
  transfer_safeguards text CHECK (transfer_safeguards IS NULL OR length(transfer_safeguards) BETWEEN 1 AND 10000),
  notes               text CHECK (notes IS NULL OR length(notes) BETWEEN 1 AND 10000),
  source              text NOT NULL CHECK (source IN ('seed', 'operator')),
  retired_at          timestamptz,
  created_at          timestamptz NOT NULL,
  updated_at          timestamptz NOT NULL,
  edited_at           timestamptz
);
CREATE INDEX privacy_purposes_order ON privacy_purposes (position);

-- Sub-processors and other recipients (group companies, authorities). A planned engagement
-- has effective_from in the future; a planned removal has ends_at in the future.
CREATE TABLE privacy_subprocessors (
  id                  uuid PRIMARY KEY,
  key                 text NOT NULL UNIQUE CHECK (key ~ '^[a-z0-9_]{1,80}$'),
  kind                text NOT NULL CHECK (kind IN ('sub_processor', 'group_company', 'authority')),
  position            integer NOT NULL,
  name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
  purpose             text NOT NULL CHECK (length(purpose) BETWEEN 1 AND 10000),
  basis_individual    jsonb NOT NULL DEFAULT '[]',
  basis_business      jsonb NOT NULL DEFAULT '[]',
  categories          jsonb NOT NULL DEFAULT '[]',
  categories_note     text CHECK (categories_note IS NULL OR length(categories_note) BETWEEN 1 AND 2000),
  location            text CHECK (location IS NULL OR length(location) BETWEEN 1 AND 2000),
  regions             jsonb NOT NULL DEFAULT '[]',
  transfer_safeguards text CHECK (transfer_safeguards IS NULL OR length(transfer_safeguards) BETWEEN 1 AND 10000),
  source              text NOT NULL CHECK (source IN ('seed', 'operator')),
  effective_from      timestamptz,
  ends_at             timestamptz,
  created_at          timestamptz NOT NULL,
  updated_at          timestamptz NOT NULL,
  edited_at           timestamptz
);
CREATE INDEX privacy_subprocessors_order ON privacy_subprocessors (position);

-- Every change to the registers: who, when, what (field by field), and when it takes effect
-- (advance notice of sub-processor changes). Append-only by the application.
CREATE TABLE privacy_register_changes (
  id            uuid PRIMARY KEY,
  seq           bigserial NOT NULL UNIQUE,
  entity        text NOT NULL CHECK (entity IN ('register', 'settings', 'purpose', 'subprocessor')),
  entity_key    text,
  action        text NOT NULL CHECK (action IN ('seeded', 'created', 'updated', 'retired', 'restored', 'removal_planned', 'removed')),
  summary       text NOT NULL,
  changes       jsonb NOT NULL DEFAULT '{}',
  actor_type    text NOT NULL,
  actor_id      text,
  recorded_at   timestamptz NOT NULL,
  effective_at  timestamptz NOT NULL
);
CREATE INDEX privacy_register_changes_entity ON privacy_register_changes (entity, entity_key, seq);
