-- The chain's lock and head in one round trip (issue #3: every round trip made while a chain's
-- lock is held caps that chain's appends per second; sends append inside their transaction).
--
-- Takes the chain's advisory lock (held until the calling transaction ends; the same key as
-- the fast path's INSERT in src/audit/audit.repository.ts), then reads the head, `count` new event ids and a
-- timestamp. VOLATILE matters: a volatile function takes a fresh snapshot for each query it
-- runs, so in READ COMMITTED the head is read after the lock was granted and sees every event
-- committed before then. A plain statement could not do both: its one snapshot would predate
-- the lock.
CREATE FUNCTION audit_lock_head(p_chain text, p_count integer)
RETURNS TABLE (chain_seq bigint, hash bytea, ids text[], occurred_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('audit:' || p_chain));
  RETURN QUERY
    SELECT h.chain_seq, h.hash,
           ARRAY(SELECT gen_random_uuid()::text FROM generate_series(1, p_count)),
           date_trunc('milliseconds', clock_timestamp())
      FROM (SELECT 1) AS one
      LEFT JOIN LATERAL (SELECT e.chain_seq, e.hash FROM audit_events e
                          WHERE e.chain = p_chain ORDER BY e.chain_seq DESC LIMIT 1) AS h ON true;
END
$$;
