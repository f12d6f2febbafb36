-- The KEK series' shared lock and the active KEK in one round trip (issue #3: it runs inside
-- every send's and upload's transaction, to wrap the new object's data key with the KEK that is
-- active once no rotation is under way).
--
-- Takes the shared advisory lock of a tenant's KEK series in a region (the same two-key lock as
-- lockKekSeries in src/keys/key.repository.ts; a rotation takes it exclusively), then reads the
-- active KEK. VOLATILE matters: a volatile function takes a fresh snapshot for each query it
-- runs, so in READ COMMITTED the read happens after the lock was granted and sees a rotation
-- that committed while this waited. A plain statement could not: its one snapshot would
-- predate the lock, and the object would be wrapped under the KEK that rotation retired.
CREATE FUNCTION kek_lock_active_shared(p_series text, p_tenant uuid, p_region text)
RETURNS SETOF key_encryption_keys
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(hashtext('sealpost:kek'), hashtext(p_series));
  RETURN QUERY
    SELECT * FROM key_encryption_keys k
     WHERE k.tenant_id = p_tenant AND k.region = p_region AND k.state = 'active';
END
$$;
