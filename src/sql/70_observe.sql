-- What operators watch (src/pg/observe).

-- Events by what happened to them since the server started (shared memory when the library is
-- preloaded, else this backend's own counts): nothing refused goes uncounted.
CREATE FUNCTION telemetry.ingest_counters()
RETURNS TABLE (status text, events bigint)
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'telemetry_ingest_counters';
COMMENT ON FUNCTION telemetry.ingest_counters() IS
    'Events by what ingest decided (status: accepted, duplicate, quarantined, rejected, sampled_out, opted_out) since the server started: for the whole server when the library is in shared_preload_libraries, else this backend''s own. Decisions count whether or not their transaction committed.';
