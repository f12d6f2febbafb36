-- Residency of replies: which regions a tenant lets its external recipients store their replies
-- in (besides the tenant's home region, always allowed). Empty: replies stay in the home region.
-- Declared in src/storage/database/registry.ts.
ALTER TABLE tenant_settings
  ADD COLUMN reply_regions text[] NOT NULL DEFAULT '{}'
    CHECK (reply_regions <@ ARRAY['uk', 'eea', 'us']::text[]);
