-- Ingest: telemetry.track() records one event inside the caller's transaction.
--
-- SECURITY DEFINER: callers get EXECUTE on these functions, never INSERT on telemetry.events, so
-- every stored event went through the catalog's checks.

-- properties has no default here, unlike in the single-tenant form: with one, PostgreSQL could
-- not choose between the two forms for track('page_viewed', '{}') written with untyped
-- literals (each argument position prefers a different form). docs/api.md has the rules.
CREATE FUNCTION telemetry.track(
    tenant_id   uuid,
    name        text,
    properties  jsonb,
    user_id     text        DEFAULT NULL,
    session_id  text        DEFAULT NULL,
    occurred_at timestamptz DEFAULT NULL)
RETURNS uuid
LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'telemetry_track';

COMMENT ON FUNCTION telemetry.track(uuid, text, jsonb, text, text, timestamptz) IS
    'Records one event of a tenant and returns its event_id. Raises an error naming the broken rule when the event is refused.';

-- The single-tenant form: events go to the nil-UUID tenant.
CREATE FUNCTION telemetry.track(
    name        text,
    properties  jsonb       DEFAULT '{}',
    user_id     text        DEFAULT NULL,
    session_id  text        DEFAULT NULL,
    occurred_at timestamptz DEFAULT NULL)
RETURNS uuid
LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'telemetry_track_default_tenant';

COMMENT ON FUNCTION telemetry.track(text, jsonb, text, text, timestamptz) IS
    'Records one event for single-tenant applications (tenant 00000000-0000-0000-0000-000000000000).';
