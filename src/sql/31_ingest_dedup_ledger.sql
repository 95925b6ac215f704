-- The dedup ledger (src/pg/ingest/dedup_ledger).

-- The event_ids clients sent, for exact deduplication within telemetry.dedup_window_days.
-- Only client-supplied ids are recorded: ids made by track() are unique by construction. An
-- entry older than the window no longer counts (track() and track_batch() check its age);
-- purge_event_ids() reclaims the space.
CREATE TABLE telemetry.event_ids (
    tenant_id  uuid        NOT NULL,
    event_id   uuid        NOT NULL,
    seen_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, event_id)
);
COMMENT ON TABLE telemetry.event_ids IS 'The dedup ledger: the event_ids clients sent, per tenant, recorded in the event''s transaction. An id seen within telemetry.dedup_window_days is a duplicate; purge_event_ids() removes older entries. Ids made by track() are never recorded.';
COMMENT ON COLUMN telemetry.event_ids.tenant_id IS 'The tenant.';
COMMENT ON COLUMN telemetry.event_ids.event_id IS 'A client''s event_id, in canonical form.';
COMMENT ON COLUMN telemetry.event_ids.seen_at IS 'When the id was received (renewed when it comes again after the window).';
SELECT pg_catalog.pg_extension_config_dump('telemetry.event_ids', '');

CREATE FUNCTION telemetry.purge_event_ids(p_now timestamptz DEFAULT pg_catalog.now())
RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    WITH gone AS (
        DELETE FROM telemetry.event_ids e
        WHERE e.seen_at OPERATOR(pg_catalog.<) (p_now OPERATOR(pg_catalog.-)
              pg_catalog.make_interval(days => coalesce(pg_catalog.current_setting('telemetry.dedup_window_days', true)::integer, 7)))
        RETURNING 1)
    SELECT pg_catalog.count(*) FROM gone
$$;
COMMENT ON FUNCTION telemetry.purge_event_ids(timestamptz) IS
    'Maintenance step (run_maintenance): deletes the dedup ledger''s entries (telemetry.event_ids) seen more than telemetry.dedup_window_days before p_now, which no longer count; returns how many.';
