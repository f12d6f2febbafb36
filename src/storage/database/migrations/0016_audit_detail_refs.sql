-- The identifiers an audit event's details name (email addresses and ids), as an indexed array,
-- so the subject-data engine finds a person's events with an index instead of matching the JSON
-- text of every event (issue #6 benchmark: a full scan of a million events per request).
-- Generated from details, so every insert and every pseudonymisation keeps it right with no
-- code on the write path. Not part of the hash chain (it is derived). Declared in registry.ts.
--
-- Tokens: within each string value of details, every run of address characters around one @
-- (lower-cased, trailing dots dropped) and every UUID (lower-cased). The engine matches a
-- person's identifiers exactly against them; an identifier this cannot produce as a whole
-- token (an address with quotes, spaces or brackets) is still found by matching the text
-- (subject-map.ts, :detailsOdd).
CREATE FUNCTION audit_detail_refs(details jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT t.ref), '{}')
    FROM (SELECT rtrim(lower(m[1]), '.') AS ref
            FROM jsonb_path_query(details, 'strict $.**') AS v(j),
                 regexp_matches(v.j #>> '{}', '([^][[:space:]@"<>(),;:\\]+@[^][[:space:]@"<>(),;:\\]+|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})', 'g') AS m
           WHERE jsonb_typeof(v.j) = 'string') AS t
$$;

ALTER TABLE audit_events ADD COLUMN detail_refs text[] GENERATED ALWAYS AS (audit_detail_refs(details)) STORED;
CREATE INDEX audit_events_detail_refs ON audit_events USING gin (detail_refs);
