-- Administration: per-tenant notification branding, and a default classification label that
-- administrators choose (instead of the built-in name 'internal'). Declared in registry.ts.

-- One row per tenant that has set any branding; a tenant without a row uses the defaults.
-- The logo is stored as the data: URL the administrator gave (small, type- and size-checked
-- by the application): the server never fetches remote images.
CREATE TABLE tenant_settings (
  tenant_id            uuid PRIMARY KEY REFERENCES tenants(id),
  brand_display_name   text CHECK (brand_display_name IS NULL OR length(brand_display_name) BETWEEN 1 AND 100),
  brand_logo           text CHECK (brand_logo IS NULL OR (brand_logo LIKE 'data:image/%' AND length(brand_logo) <= 90000)),
  brand_accent_color   text CHECK (brand_accent_color IS NULL OR brand_accent_color ~ '^#[0-9a-f]{6}$'),
  brand_footer_text    text CHECK (brand_footer_text IS NULL OR length(brand_footer_text) BETWEEN 1 AND 1000),
  updated_at           timestamptz NOT NULL
);

-- The label a message gets when the sender names none; at most one per tenant. Existing
-- tenants keep what they had: 'internal' when it is active.
ALTER TABLE labels ADD COLUMN is_default boolean NOT NULL DEFAULT false;
UPDATE labels SET is_default = true WHERE name = 'internal' AND archived_at IS NULL;
CREATE UNIQUE INDEX labels_one_default ON labels (tenant_id) WHERE is_default;
