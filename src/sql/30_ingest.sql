-- Ingest: track() records one event inside the caller's transaction; track_batch() records a
-- client's batch and reports on every event. Both run the same pipeline (docs/ingest.md).
--
-- SECURITY DEFINER: callers get EXECUTE on these functions, never INSERT on telemetry.events, so
-- every stored event went through the catalog's checks. Their search path is pinned to pg_catalog
-- (no pg_temp) inside the C code for the whole call (src/pg/guard.hpp, pin_search_path), not with
-- SET search_path here: that option costs a GUC save and restore on every event.

-- Each form of track() comes twice. The short one takes exactly the arguments most calls give
-- (tenant, name, properties, user, session), with no defaults: PostgreSQL fills a default in by
-- re-reading the function's stored default expressions, in the parser and again in the planner,
-- on every statement it parses: one to two µs per default, measured, and the last three
-- arguments of the long form would cost a twentieth of a whole track() call (docs/benchmarks.md).
-- The long form takes every argument, by position or by name (event_id => ...), with defaults.
--
-- In the long forms user_id and session_id are varchar, not text, and that is what makes the
-- pair work: with the same types PostgreSQL could not choose between them for a call that fits
-- both ("function is not unique"); with these, it takes the short form for text and untyped
-- arguments, and the long form for varchar ones. Both store the same. docs/api.md has the rules.
--
-- The multi-tenant long form has no default for properties, unlike the single-tenant one: with
-- one, PostgreSQL could not choose between the two forms for track('page_viewed', '{}') written
-- with untyped literals (each argument position prefers a different form).
CREATE FUNCTION telemetry.track(
    tenant_id   uuid,
    name        text,
    properties  jsonb,
    user_id     text,
    session_id  text)
RETURNS uuid
LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
AS 'MODULE_PATHNAME', 'telemetry_track';

CREATE FUNCTION telemetry.track(
    tenant_id   uuid,
    name        text,
    properties  jsonb,
    user_id     varchar     DEFAULT NULL,
    session_id  varchar     DEFAULT NULL,
    occurred_at timestamptz DEFAULT NULL,
    event_id    uuid        DEFAULT NULL,
    sent_at     timestamptz DEFAULT NULL)
RETURNS uuid
LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
AS 'MODULE_PATHNAME', 'telemetry_track';

COMMENT ON FUNCTION telemetry.track(uuid, text, jsonb, text, text) IS
    'Records one event of a tenant and returns its event_id (NULL when it was not stored: opted out, sampled out, quarantined). Raises an error naming the broken rule when the event is refused.';
COMMENT ON FUNCTION telemetry.track(uuid, text, jsonb, varchar, varchar, timestamptz, uuid, timestamptz) IS
    'Records one event of a tenant and returns its event_id (NULL when it was not stored: opted out, sampled out, quarantined). Raises an error naming the broken rule when the event is refused.';

-- The single-tenant forms: events go to the nil-UUID tenant.
CREATE FUNCTION telemetry.track(
    name        text,
    properties  jsonb,
    user_id     text,
    session_id  text)
RETURNS uuid
LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
AS 'MODULE_PATHNAME', 'telemetry_track_default_tenant';

CREATE FUNCTION telemetry.track(
    name        text,
    properties  jsonb       DEFAULT '{}',
    user_id     varchar     DEFAULT NULL,
    session_id  varchar     DEFAULT NULL,
    occurred_at timestamptz DEFAULT NULL,
    event_id    uuid        DEFAULT NULL,
    sent_at     timestamptz DEFAULT NULL)
RETURNS uuid
LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
AS 'MODULE_PATHNAME', 'telemetry_track_default_tenant';

COMMENT ON FUNCTION telemetry.track(text, jsonb, text, text) IS
    'Records one event for single-tenant applications (tenant 00000000-0000-0000-0000-000000000000).';
COMMENT ON FUNCTION telemetry.track(text, jsonb, varchar, varchar, timestamptz, uuid, timestamptz) IS
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
