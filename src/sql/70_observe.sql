-- What operators watch (src/pg/observe).

-- Events by what happened to them since the server started (shared memory when the library is
-- preloaded, else this backend's own counts): nothing refused goes uncounted.
CREATE FUNCTION telemetry.ingest_counters()
RETURNS TABLE (status text, events bigint)
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'telemetry_ingest_counters';
COMMENT ON FUNCTION telemetry.ingest_counters() IS
    'Events by what ingest decided (status: accepted, duplicate, quarantined, rejected, sampled_out, opted_out) since the server started: for the whole server when the library is in shared_preload_libraries, else this backend''s own. Decisions count whether or not their transaction committed.';

-- What the policy for undeclared personal data did, since the server started.
CREATE FUNCTION telemetry.pii_counters()
RETURNS TABLE (detector text, action text, decisions bigint)
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'telemetry_pii_counters';
COMMENT ON FUNCTION telemetry.pii_counters() IS
    'Values (and ids) the policy for undeclared personal data acted on since the server started, by detector (email, phone, ..., person_name) and action (redact, hash, drop, reject), one row per pair seen, from track(), track_batch() and the write-path trigger alike: for the whole server when the library is in shared_preload_libraries, else this backend''s own. Counted whether or not the transaction committed. Never a value.';
