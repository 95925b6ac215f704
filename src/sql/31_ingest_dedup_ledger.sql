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
