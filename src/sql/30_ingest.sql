-- Ingest: track() records one event inside the caller's transaction; track_batch() records a
-- client's batch and reports on every event. Both run the same pipeline (docs/ingest.md).
--
-- SECURITY DEFINER: callers get EXECUTE on these functions, never INSERT on telemetry.events, so
-- every stored event went through the catalog's checks. Their search path is set to pg_catalog,
-- pg_temp inside the C code, and only when SQL or executor code is about to run
-- (src/pg/boundary/search_path.hpp), not with SET search_path here: that option costs a GUC save and
-- restore on every event, most of which never need it.

-- track() comes in six forms: four typed ones, which calls with typed arguments take (a uuid
-- tenant, jsonb properties), and two text ones, which calls with untyped or text-typed arguments
-- take, as drivers send them (node-postgres, psycopg 3 with strings, JDBC's setString). Which
-- call takes which form is PostgreSQL's overload resolution; the declarations below are chosen
-- so that every documented call resolves, from every kind of argument, to the form it means,
-- without "function is not unique" (docs/api.md, "Choosing between the forms";
-- sql/track_forms.sql shows each).
--
-- The typed forms come twice. The short one takes exactly the arguments most calls give
-- (tenant, name, properties, user, session), with no defaults: PostgreSQL fills a default in by
-- re-reading the function's stored default expressions, in the parser and again in the planner,
-- on every statement it parses: one to two µs per default, measured, and the last three
-- arguments of the long form would cost a twentieth of a whole track() call (docs/benchmarks.md).
-- The long form takes every argument, by position or by name (event_id => ...), with defaults.
-- In the long forms user_id and session_id are varchar, not text: with the same types
-- PostgreSQL could not choose between the two for a call that fits both; with these, it takes
-- the short form for text arguments and the long one for varchar ones. Both store the same.
--
-- The text forms cannot know from types whether the first argument is a tenant or an event
-- name (the multi-tenant and single-tenant forms share their arities), so the first argument
-- decides: a UUID is a tenant, anything else an event name (src/core/ingest/track_arguments.hpp). With
-- untyped arguments PostgreSQL prefers text wherever a candidate offers it, so a form whose
-- every argument is text wins such a call: track(VARIADIC text[]) takes positional calls of two
-- to eight arguments, with no defaults to fill in. Calls with named arguments cannot reach a
-- variadic function; they take track(tenant_id text, name text, properties bpchar, ...), whose
-- every parameter is named and has a default (a marker, telemetry.unset_argument(), by which it
-- knows the arguments a call left out: in a single-tenant call, the positional arguments are
-- the ones given before the first left out). Its properties are bpchar (a string type that is
-- not text) only to keep it apart from the variadic form: for positional calls the variadic
-- form has text there and wins, for named calls the named form is the only all-string
-- candidate. Both read the arguments' raw bytes (trailing spaces included) and store what the
-- typed forms would. The multi-tenant typed long form has no default for properties: with one,
-- the typed forms would compete with each other for two-argument calls; nor has the
-- single-tenant one, which would compete with the named text form for track('page_viewed')
-- (that call, like every untyped one- or two-argument call, takes the named text form).
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
    properties  jsonb,
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

-- The text forms (see above).
CREATE FUNCTION telemetry.track(VARIADIC arguments text[])
RETURNS uuid
LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
AS 'MODULE_PATHNAME', 'telemetry_track_positional_text';

-- The named text form's defaults: a marker by which it knows an argument the call left out
-- (a NULL could have been given). VOLATILE, so the planner keeps the call in place.
CREATE FUNCTION telemetry.unset_argument()
RETURNS text
LANGUAGE c VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'telemetry_unset_argument';
COMMENT ON FUNCTION telemetry.unset_argument() IS
    'Internal: returns NULL. The default of every argument of the named text form of track(), by which that form tells the arguments a call left out from those given as NULL; not meant to be called otherwise. Granted to PUBLIC: a default is evaluated as the caller.';

CREATE FUNCTION telemetry.track(
    tenant_id   text    DEFAULT telemetry.unset_argument(),
    name        text    DEFAULT telemetry.unset_argument(),
    properties  bpchar  DEFAULT telemetry.unset_argument(),
    user_id     text    DEFAULT telemetry.unset_argument(),
    session_id  text    DEFAULT telemetry.unset_argument(),
    occurred_at text    DEFAULT telemetry.unset_argument(),
    event_id    text    DEFAULT telemetry.unset_argument(),
    sent_at     text    DEFAULT telemetry.unset_argument())
RETURNS uuid
LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
AS 'MODULE_PATHNAME', 'telemetry_track_named_text';

COMMENT ON FUNCTION telemetry.track(text[]) IS
    'Records one event: what positional calls with untyped or text arguments (drivers) resolve to. A first argument that is a UUID makes it track(tenant_id, name, properties, user_id, session_id, occurred_at, event_id, sent_at), else track(name, properties, user_id, session_id, occurred_at, event_id, sent_at). Same result and errors as the typed forms.';
COMMENT ON FUNCTION telemetry.track(text, text, bpchar, text, text, text, text, text) IS
    'Records one event: what calls with named arguments and untyped or text arguments (drivers) resolve to. A first argument that is a UUID is the tenant; in a single-tenant call, positional arguments take the single-tenant order and named ones their name. Same result and errors as the typed forms.';

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

-- What untyped and text-typed calls resolve to (drivers): the tenant and sent_at are read as the
-- typed forms' uuid and timestamptz would be.
CREATE FUNCTION telemetry.track_batch(tenant_id text, events text, sent_at text DEFAULT NULL)
RETURNS TABLE ("index" integer, status text, id uuid, reason text, sqlstate text)
LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
AS 'MODULE_PATHNAME', 'telemetry_track_batch_untyped';

COMMENT ON FUNCTION telemetry.track_batch(uuid, text, timestamptz) IS
    'Records a client''s batch (a JSON array of at most 10,000 events, 16 MiB, 1,000,000 JSON values), parsed once here; one row per event with its status (accepted, duplicate, quarantined, rejected, sampled_out, opted_out), id, reason and SQLSTATE, in order (index from 0). One bad event never refuses the others; only the batch as a whole is an error: NULL tenant_id or events (22004), not JSON (22P02), not a JSON array (22023), over its limits (54000).';
COMMENT ON FUNCTION telemetry.track_batch(uuid, jsonb, timestamptz) IS
    'Records a client''s batch already parsed by PostgreSQL (jsonb); otherwise as the text form.';
COMMENT ON FUNCTION telemetry.track_batch(text, text, text) IS
    'Records a client''s batch: what calls with untyped or text arguments (drivers) resolve to; the tenant and sent_at are read as uuid and timestamptz.';
