-- Ingest: track() records one event inside the caller's transaction; track_batch() records a
-- client's batch and reports on every event. Both run the same pipeline (docs/ingest.md).
--
-- SECURITY DEFINER: callers get EXECUTE on these functions, never INSERT on telemetry.events, so
-- every stored event went through the catalog's checks. Their search path is pinned to pg_catalog
-- (no pg_temp) inside the C code for the whole call (src/pg/guard.hpp, pin_search_path), not with
-- SET search_path here: that option costs a GUC save and restore on every event.

-- properties has no default here, unlike in the single-tenant form: with one, PostgreSQL could
-- not choose between the two forms for track('page_viewed', '{}') written with untyped
-- literals (each argument position prefers a different form). docs/api.md has the rules.
CREATE FUNCTION telemetry.track(
    tenant_id   uuid,
    name        text,
    properties  jsonb,
    user_id     text        DEFAULT NULL,
    session_id  text        DEFAULT NULL,
    occurred_at timestamptz DEFAULT NULL,
    event_id    uuid        DEFAULT NULL,
    sent_at     timestamptz DEFAULT NULL)
RETURNS uuid
LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
AS 'MODULE_PATHNAME', 'telemetry_track';

COMMENT ON FUNCTION telemetry.track(uuid, text, jsonb, text, text, timestamptz, uuid, timestamptz) IS
    'Records one event of a tenant and returns its event_id (NULL when it was not stored: opted out, sampled out, quarantined). Raises an error naming the broken rule when the event is refused.';

-- The single-tenant form: events go to the nil-UUID tenant.
CREATE FUNCTION telemetry.track(
    name        text,
    properties  jsonb       DEFAULT '{}',
    user_id     text        DEFAULT NULL,
    session_id  text        DEFAULT NULL,
    occurred_at timestamptz DEFAULT NULL,
    event_id    uuid        DEFAULT NULL,
    sent_at     timestamptz DEFAULT NULL)
RETURNS uuid
LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
AS 'MODULE_PATHNAME', 'telemetry_track_default_tenant';

COMMENT ON FUNCTION telemetry.track(text, jsonb, text, text, timestamptz, uuid, timestamptz) IS
    'Records one event for single-tenant applications (tenant 00000000-0000-0000-0000-000000000000).';

-- A client's batch: a JSON array of events. One row per event, in order; the statuses always
-- add up to the number of events. One bad event never refuses the others; only a batch that
-- is not a JSON array, or is over the limits, is an error. The text form parses the batch once
-- and refuses an oversized one before parsing; the jsonb form takes what PostgreSQL parsed.
CREATE FUNCTION telemetry.track_batch(tenant_id uuid, events text, sent_at timestamptz DEFAULT NULL)
RETURNS TABLE ("index" integer, status text, id uuid, reason text, sqlstate text)
LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
AS 'MODULE_PATHNAME', 'telemetry_track_batch_text';

CREATE FUNCTION telemetry.track_batch(tenant_id uuid, events jsonb, sent_at timestamptz DEFAULT NULL)
RETURNS TABLE ("index" integer, status text, id uuid, reason text, sqlstate text)
LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
AS 'MODULE_PATHNAME', 'telemetry_track_batch_jsonb';

-- Events by what happened to them since the server started (shared memory when the library is
-- preloaded, else this backend's own counts): nothing refused goes uncounted.
CREATE FUNCTION telemetry.ingest_counters()
RETURNS TABLE (status text, events bigint)
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'telemetry_ingest_counters';
