-- telemetry: a product-analytics event store inside PostgreSQL.
--
-- This file is built by concatenating src/sql/*.sql in name order (see the Makefile). Every
-- name is schema-qualified and every SECURITY DEFINER function pins
-- search_path = pg_catalog, pg_temp (research/security-anchors.md §3.4).

\echo Use "CREATE EXTENSION telemetry" to load this file. \quit

-- Refuse a database whose encoding is not UTF8: the JSON parser, RE2 and the jsonb codec read
-- and write UTF-8, and so do the error messages and the quarantine's paths.
DO $$
BEGIN
    IF pg_catalog.getdatabaseencoding() OPERATOR(pg_catalog.<>) 'UTF8' THEN
        RAISE EXCEPTION 'telemetry needs a database with encoding UTF8; this one is %', pg_catalog.getdatabaseencoding()
            USING ERRCODE = '55000',
                  HINT = 'CREATE DATABASE ... ENCODING ''UTF8'' TEMPLATE template0, then CREATE EXTENSION telemetry there.';
    END IF;
END
$$;

-- Refuse to install into a schema someone else owns: its owner could replace our objects.
DO $$
BEGIN
    IF (SELECT n.nspowner FROM pg_catalog.pg_namespace n WHERE n.nspname OPERATOR(pg_catalog.=) 'telemetry')
       OPERATOR(pg_catalog.<>) (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER)
       AND NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r
                WHERE r.oid OPERATOR(pg_catalog.=)
                      (SELECT n.nspowner FROM pg_catalog.pg_namespace n WHERE n.nspname OPERATOR(pg_catalog.=) 'telemetry'))
    THEN
        RAISE EXCEPTION 'schema telemetry exists and is owned by another, non-superuser role'
            USING ERRCODE = '42501', HINT = 'Drop it or change its owner before CREATE EXTENSION telemetry.';
    END IF;
END
$$;

REVOKE ALL ON SCHEMA telemetry FROM PUBLIC;
COMMENT ON SCHEMA telemetry IS
    'The objects of the telemetry extension: product-analytics events, their catalog, ingest, quarantine, opt-outs and tenancy (DROP EXTENSION leaves the schema itself). PUBLIC has no privilege on it: grant USAGE to the roles that use telemetry (docs/operations.md, "Privileges").';
-- The boundary between the extension and PostgreSQL: how backends learn that a table they
-- cache changed (src/pg/boundary/table_watch), and the diagnostics of the C++/PostgreSQL error
-- boundary (src/pg/boundary/diagnostics).

-- The statement trigger of every table whose rows backends cache (tenant settings, tenant
-- access, opt-outs, secrets, the rollup threshold): it tells them to reload (the same mechanism as the catalog's). The triggers fire
-- ALWAYS, also under session_replication_role = replica.
CREATE FUNCTION telemetry.table_changed()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'telemetry_table_changed';
COMMENT ON FUNCTION telemetry.table_changed() IS
    'Internal trigger function: the statement trigger of telemetry.tenant_settings, tenant_access, opt_outs, secrets and rollup_state (enabled ALWAYS), which makes every backend reload its cache of the table at its next statement. Raises 39P01 when not called as a trigger.';

-- The caches every backend keeps of the catalog, opt-outs, tenant settings and secrets follow
-- their tables through their change triggers. A change made with the triggers disabled
-- (ALTER TABLE ... DISABLE TRIGGER, pg_restore --disable-triggers) needs this call.
CREATE FUNCTION telemetry.invalidate_caches()
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'telemetry_invalidate_caches';
COMMENT ON FUNCTION telemetry.invalidate_caches() IS
    'Makes every backend reload its caches of the catalog, opt-outs, tenant settings, tenant access, secrets and the rollup threshold at its next call: for changes made with triggers disabled.';

-- Drives each path of the C++/PostgreSQL error boundary on purpose (docs/errors.md).
CREATE FUNCTION telemetry.self_test(kind text)
RETURNS text
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'telemetry_self_test';
COMMENT ON FUNCTION telemetry.self_test(text) IS
    'Internal diagnostic, not granted to PUBLIC (docs/errors.md): drives the path of the C++/PostgreSQL error boundary that kind names, on purpose. A failure kind (domain_error, cpp_exception, bad_alloc, postgres_error, ...) raises the ERROR that failure becomes (22023, XX000, 53200...); ok returns ok, and unwound how many C++ objects were destroyed while a PostgreSQL error was carried through them. An unknown kind raises 22023 with a hint listing every kind; NULL raises 22004.';

-- NULL when this build's jsonb reader and writer agree with PostgreSQL on a document, else what
-- differs (docs/errors.md). Used by test/t/004_jsonb_codec.pl.
CREATE FUNCTION telemetry.self_test_jsonb(document text)
RETURNS text
LANGUAGE c VOLATILE STRICT
AS 'MODULE_PATHNAME', 'telemetry_self_test_jsonb';
COMMENT ON FUNCTION telemetry.self_test_jsonb(text) IS
    'Internal diagnostic (test/t/004_jsonb_codec.pl): NULL when this build''s jsonb reader and writer agree with PostgreSQL on the JSON text document (the bytes jsonb_in makes, and the value read back), else what differs. A document either reader refuses raises that reader''s error (22P02 for text that is not JSON); NULL gives NULL.';
-- The event store.
--
-- Range-partitioned by day (UTC) on the event time. Partitions are made ahead from the clock,
-- never from data, and there is no DEFAULT partition (pg_partman #332, #374, #462): an event
-- whose day has no partition is refused with a clear error before the insert, never parked.
-- Partitions cover telemetry.retention_days back, so any event recent enough to be accepted has
-- somewhere to go, and telemetry.premake_days ahead.
--
-- Dump and restore shape this: the parent table is a member of the extension, so pg_dump
-- leaves it to CREATE EXTENSION; partitions are not members, so pg_dump dumps them with their
-- data. The parent therefore has no indexes of its own. Each partition carries its own primary
-- key and index (made by create_partitions), which pg_dump restores after the data; indexes on
-- the parent would be copied onto each partition at ATTACH and collide with the dumped ones.

CREATE SEQUENCE telemetry.events_id_seq;
COMMENT ON SEQUENCE telemetry.events_id_seq IS
    'The ids of telemetry.events, in ingest order. Dumped with its position, so a restored database goes on from it.';

CREATE TABLE telemetry.events (
    id              bigint      NOT NULL DEFAULT pg_catalog.nextval('telemetry.events_id_seq'::pg_catalog.regclass),
    occurred_at     timestamptz NOT NULL,   -- when it happened: the partition key
    received_at     timestamptz NOT NULL,   -- when the database accepted it
    tenant_id       uuid        NOT NULL,
    event_id        uuid        NOT NULL,   -- UUIDv7 made by track(), or the client's id
    sample_weight   real        NOT NULL DEFAULT 1,  -- 1 / sampling rate: multiply to scale counts back
    flags           smallint    NOT NULL DEFAULT 0,  -- what ingest changed: docs/ingest.md, "Flags"
    name            text        NOT NULL,
    user_id         text,
    session_id      text,
    source          text        NOT NULL,   -- server (track), client (track_batch)
    schema_version  text        NOT NULL,   -- SchemaVer of the event type that validated it
    properties      jsonb       NOT NULL
) PARTITION BY RANGE (occurred_at);

-- ids must not start again at 1 after a restore: they order events of the same instant.
SELECT pg_catalog.pg_extension_config_dump('telemetry.events_id_seq', '');

COMMENT ON TABLE telemetry.events IS 'Accepted events, partitioned by UTC day of occurred_at. Written by telemetry.track(), track_batch() and replay_quarantine(), which check every event against the catalog; a row written any other way is held to the size limit and the PII policy by the trigger check_written_event.';
COMMENT ON COLUMN telemetry.events.id IS 'Ingest order (telemetry.events_id_seq): orders events of the same instant.';
COMMENT ON COLUMN telemetry.events.occurred_at IS 'When the event happened (the partition key): as given, else when it was received; shifted for the client''s clock when sent_at is given, and the time it was received when too far ahead (see flags).';
COMMENT ON COLUMN telemetry.events.received_at IS 'When the database received the event (a replay from quarantine keeps the first time).';
COMMENT ON COLUMN telemetry.events.tenant_id IS 'The tenant; 00000000-0000-0000-0000-000000000000 for single-tenant applications.';
COMMENT ON COLUMN telemetry.events.event_id IS 'The event''s id: a UUIDv7 made at ingest, or the client''s event_id in canonical form (unique per tenant within telemetry.dedup_window_days).';
COMMENT ON COLUMN telemetry.events.sample_weight IS '1 / the sample_rate the event was kept under: multiply by it to scale counts back.';
COMMENT ON COLUMN telemetry.events.flags IS 'What ingest changed, as bits: 1 time in the future stored as received_at, 2 time corrected with sent_at, 4 members omitted, 8 x-pii rewrote properties, 16 a lone UTF-16 surrogate replaced, 32 undeclared personal data in properties redacted, hashed or dropped, 64 user_id stored as its keyed hash, 128 session_id likewise (docs/ingest.md, "Flags").';
COMMENT ON COLUMN telemetry.events.name IS 'The event type (telemetry.event_types.name).';
COMMENT ON COLUMN telemetry.events.user_id IS 'The user, 1 to 256 bytes compared byte for byte (an integral JSON number in a batch becomes its integer text), or NULL.';
COMMENT ON COLUMN telemetry.events.session_id IS 'The session, 1 to 256 bytes compared byte for byte (an integral JSON number in a batch becomes its integer text), or NULL.';
COMMENT ON COLUMN telemetry.events.source IS 'How the event came: server (track()) or client (track_batch()).';
COMMENT ON COLUMN telemetry.events.schema_version IS 'The SchemaVer version of the event type that accepted the event.';
COMMENT ON COLUMN telemetry.events.properties IS 'The event''s properties, a JSON object as stored: after omit and x-pii rewriting, within the type''s max_bytes.';

-- The partitions of telemetry.events with the UTC day each one holds.
CREATE FUNCTION telemetry.partitions()
RETURNS TABLE (partition regclass, day date, lower_bound timestamptz, upper_bound timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.oid::pg_catalog.regclass,
           (b.bounds[1]::pg_catalog.timestamptz AT TIME ZONE 'UTC')::pg_catalog.date,
           b.bounds[1]::pg_catalog.timestamptz,
           b.bounds[2]::pg_catalog.timestamptz
    FROM pg_catalog.pg_inherits i
    JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid
    CROSS JOIN LATERAL pg_catalog.regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                                              'FROM \(''([^'']+)''\) TO \(''([^'']+)''\)') AS b(bounds)
    WHERE i.inhparent OPERATOR(pg_catalog.=) 'telemetry.events'::pg_catalog.regclass
    ORDER BY 3
$$;
COMMENT ON FUNCTION telemetry.partitions() IS
    'The partitions of telemetry.events, oldest first: partition, the UTC day of its lower bound, and its bounds [lower_bound, upper_bound). Partitions attached by hand are listed whatever their name (but one bounded by MINVALUE or MAXVALUE is not).';

-- Makes the missing daily partitions from (today - retention) to (today + premake), by the
-- clock p_now in UTC. Idempotent; returns how many it made. Callable by hand, by the
-- maintenance worker, and by CREATE EXTENSION. SECURITY DEFINER: a role with maintenance access
-- (telemetry.grant_tenant_access) runs it without CREATE on the schema.
--
-- Each partition is created on its own, then attached: CREATE TABLE ... PARTITION OF would take
-- an ACCESS EXCLUSIVE lock on telemetry.events, queueing behind every open transaction that has
-- tracked an event and blocking all ingest behind it; ATTACH PARTITION only needs SHARE UPDATE
-- EXCLUSIVE, which ingest does not conflict with (test/isolation/specs/partitions_vs_ingest.spec).
--
-- The indexes of every partition are defined here, and only here:
--   primary key (tenant_id, occurred_at, id): leads with tenant_id like every unique key (no
--     cross-tenant uniqueness oracle), serves "recent events of a tenant", and id orders events
--     of the same instant (FUNNELS.md F2);
--   (tenant_id, name, occurred_at): counts and funnels of one event type over time.
CREATE FUNCTION telemetry.create_partitions(
    p_now        timestamptz DEFAULT pg_catalog.now(),
    p_days_back  integer     DEFAULT NULL,
    p_days_ahead integer     DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER  -- partitions belong to the owner, whoever runs maintenance (access maintenance)
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    days_back  integer := coalesce(p_days_back,
                                   pg_catalog.current_setting('telemetry.retention_days', true)::integer, 90);
    days_ahead integer := coalesce(p_days_ahead,
                                   pg_catalog.current_setting('telemetry.premake_days', true)::integer, 7);
    today      date;
    day        date;
    day_range  tstzrange;
    covered    tstzrange[];
    made       integer := 0;
    part_name  text;
    candidate  text;
    suffix     integer;
    found      text;
BEGIN
    IF p_now IS NULL OR NOT pg_catalog.isfinite(p_now) THEN
        RAISE EXCEPTION 'p_now must be a finite timestamp' USING ERRCODE = '22008';
    END IF;
    IF days_back < 0 OR days_ahead < 0 OR days_back > 3650 OR days_ahead > 365 THEN
        RAISE EXCEPTION 'days back must be within 0..3650 and days ahead within 0..365' USING ERRCODE = '22023';
    END IF;
    -- One creator at a time (the worker and a manual call may overlap).
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('telemetry.create_partitions'));
    -- A day is covered by whatever partition holds it, by its bounds, whatever its name: one of
    -- ours, a sub-partitioned or foreign one attached by hand, a longer archive.
    SELECT pg_catalog.array_agg(pg_catalog.tstzrange(p.lower_bound, p.upper_bound)) INTO covered FROM telemetry.partitions() p;
    today := (p_now AT TIME ZONE 'UTC')::date;
    FOR day IN SELECT g::date FROM pg_catalog.generate_series(today - days_back, today + days_ahead, interval '1 day') AS g
    LOOP
        day_range := pg_catalog.tstzrange(day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
        CONTINUE WHEN EXISTS (SELECT FROM pg_catalog.unnest(covered) AS c(r) WHERE c.r OPERATOR(pg_catalog.@>) day_range);
        -- The name may be taken by something that is not this day's partition (a role with
        -- CREATE on the schema made a table of that name): say what was found, and use another
        -- name rather than leave the day without a partition, refusing its events for good.
        part_name := 'events_p' || pg_catalog.to_char(day, 'YYYYMMDD');
        candidate := part_name;
        suffix := 0;
        WHILE pg_catalog.to_regclass(pg_catalog.format('telemetry.%I', candidate)) IS NOT NULL LOOP
            IF suffix = 0 THEN
                SELECT pg_catalog.format('a %s owned by %s', CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table'
                           WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table'
                           WHEN 'S' THEN 'sequence' WHEN 'i' THEN 'index' ELSE 'relation' END,
                           pg_catalog.pg_get_userbyid(c.relowner))
                  INTO found
                  FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(pg_catalog.format('telemetry.%I', candidate));
                RAISE WARNING 'telemetry.% is % and not the partition of telemetry.events for %', candidate, found,
                              pg_catalog.to_char(day, 'YYYY-MM-DD')
                    USING HINT = 'The day gets a partition of another name; drop or rename the relation to keep the usual names.';
            END IF;
            suffix := suffix + 1;
            candidate := part_name || '_' || suffix;
        END LOOP;
        BEGIN
            EXECUTE pg_catalog.format(
                'CREATE TABLE telemetry.%I (LIKE telemetry.events INCLUDING DEFAULTS INCLUDING STORAGE INCLUDING COMPRESSION)',
                candidate);
            -- (Index names share the namespace too: where ours are taken, PostgreSQL picks.)
            IF pg_catalog.to_regclass(pg_catalog.format('telemetry.%I', candidate || '_pkey')) IS NULL THEN
                EXECUTE pg_catalog.format('ALTER TABLE telemetry.%I ADD CONSTRAINT %I PRIMARY KEY (tenant_id, occurred_at, id)',
                                          candidate, candidate || '_pkey');
            ELSE
                EXECUTE pg_catalog.format('ALTER TABLE telemetry.%I ADD PRIMARY KEY (tenant_id, occurred_at, id)', candidate);
            END IF;
            IF pg_catalog.to_regclass(pg_catalog.format('telemetry.%I', candidate || '_tenant_name_time')) IS NULL THEN
                EXECUTE pg_catalog.format('CREATE INDEX %I ON telemetry.%I (tenant_id, name, occurred_at)',
                                          candidate || '_tenant_name_time', candidate);
            ELSE
                EXECUTE pg_catalog.format('CREATE INDEX ON telemetry.%I (tenant_id, name, occurred_at)', candidate);
            END IF;
            EXECUTE pg_catalog.format(
                'ALTER TABLE telemetry.events ATTACH PARTITION telemetry.%I FOR VALUES FROM (%L) TO (%L)',
                candidate, pg_catalog.lower(day_range), pg_catalog.upper(day_range));
            made := made + 1;
        EXCEPTION WHEN invalid_object_definition THEN
            -- Part of the day is in a partition attached by hand (with other bounds): that day
            -- is the DBA's to arrange; the others are made.
            RAISE WARNING 'telemetry.events has no room for a partition of %: %', pg_catalog.to_char(day, 'YYYY-MM-DD'), SQLERRM;
        END;
    END LOOP;
    RETURN made;
END
$$;
COMMENT ON FUNCTION telemetry.create_partitions(timestamptz, integer, integer) IS
    'Makes the missing daily partitions of telemetry.events, with their primary key and index, for the UTC days from p_days_back (default telemetry.retention_days) before p_now to p_days_ahead (default telemetry.premake_days) after it; returns how many it made. Idempotent; does not block tracking. A day any partition covers is skipped; a day whose usual name is taken gets another name, and one covered only in part is left, each with a WARNING. Errors: p_now NULL or infinite (22008), days back beyond 0..3650 or ahead beyond 0..365 (22023).';

-- Partitions for the coming days (and the retention window behind) exist from the start,
-- unless a dump is being restored: the dump brings its own partitions and data
-- (docs/operations.md, "Dump and restore").
DO $$
DECLARE
    part regclass;
BEGIN
    IF coalesce(pg_catalog.current_setting('telemetry.restoring', true), 'off') OPERATOR(pg_catalog.=) 'on' THEN
        RETURN;
    END IF;
    PERFORM telemetry.create_partitions();
    FOR part IN SELECT p.partition FROM telemetry.partitions() p LOOP
        EXECUTE pg_catalog.format('ALTER EXTENSION telemetry DROP TABLE %s', part);
    END LOOP;
END
$$;
-- The event catalog: which event types exist and the rules each carries (docs/catalog.md).

CREATE FUNCTION telemetry.valid_event_name(name text)
RETURNS boolean
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'telemetry_valid_event_name';

COMMENT ON FUNCTION telemetry.valid_event_name(text) IS
    'The naming rule of event types: true for one or more dot-separated segments of lower-case ASCII letters, digits and underscores, starting with a letter, at most 100 bytes, and not 32 hexadecimal digits (which would read as a tenant''s UUID). Used by the CHECK of telemetry.event_types; granted to PUBLIC.';

CREATE TABLE telemetry.event_types (
    name          text        PRIMARY KEY CHECK (telemetry.valid_event_name(name)),
    version       text        NOT NULL DEFAULT '1-0-0'
                              CHECK (version OPERATOR(pg_catalog.~) '^[1-9][0-9]{0,8}-(0|[1-9][0-9]{0,8})-(0|[1-9][0-9]{0,8})$'),
    status        text        NOT NULL DEFAULT 'active'
                              CHECK (status OPERATOR(pg_catalog.=) ANY (ARRAY['planned', 'active', 'deprecated', 'blocked'])),
    description   text        NOT NULL DEFAULT '',
    sample_rate   float8      NOT NULL DEFAULT 1 CHECK (sample_rate > 0 AND sample_rate <= 1),
    max_bytes     integer     NOT NULL DEFAULT 2048 CHECK (max_bytes BETWEEN 2 AND 65536),
    on_violation  text        NOT NULL DEFAULT 'reject'
                              CHECK (on_violation OPERATOR(pg_catalog.=) ANY (ARRAY['reject', 'quarantine', 'omit'])),
    schema        jsonb       NOT NULL DEFAULT '{"type": "object"}',
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- The size of the schema's compiled patterns (RE2 instructions), set by event_types_checked:
    -- the catalog's patterns together stay within a budget (docs/catalog.md, "Patterns").
    pattern_instructions integer NOT NULL DEFAULT 0
);

COMMENT ON TABLE telemetry.event_types IS 'The event catalog. Change it with telemetry.load_catalog() or telemetry.define_event().';
COMMENT ON COLUMN telemetry.event_types.name IS 'The event type, following the naming rule (telemetry.valid_event_name()).';
COMMENT ON COLUMN telemetry.event_types.version IS 'SchemaVer MODEL-REVISION-ADDITION of the property schema.';
COMMENT ON COLUMN telemetry.event_types.status IS 'planned (declared, refused for now), active, deprecated (accepted, with a warning once per session) or blocked (refused).';
COMMENT ON COLUMN telemetry.event_types.description IS 'What the event type means: documentation (catalog documents allow up to 1000 bytes).';
COMMENT ON COLUMN telemetry.event_types.sample_rate IS 'The share of actors (user, else session, else the event) whose events are kept, above 0 and at most 1; kept events get sample_weight = 1 / sample_rate.';
COMMENT ON COLUMN telemetry.event_types.max_bytes IS 'The size limit of the properties as stored (compact JSON text after x-pii rewriting), 2 to 65536 bytes.';
COMMENT ON COLUMN telemetry.event_types.on_violation IS 'What happens to an event that breaks its schema: reject (an error), quarantine (kept in telemetry.quarantine, as is one over max_bytes) or omit (the offending members removed).';
COMMENT ON COLUMN telemetry.event_types.schema IS 'The property schema, a JSON-Schema subset (docs/catalog.md, "Property schemas").';
COMMENT ON COLUMN telemetry.event_types.created_at IS 'When the event type was declared.';
COMMENT ON COLUMN telemetry.event_types.updated_at IS 'When load_catalog() last changed the event type (an edit by hand changes it only if it sets it).';
COMMENT ON COLUMN telemetry.event_types.pattern_instructions IS 'The RE2 instructions the schema''s patterns compile to, set by a trigger whatever an INSERT says: the catalog''s total stays within 500,000.';

-- The catalog is configuration: pg_dump must dump its rows.
SELECT pg_catalog.pg_extension_config_dump('telemetry.event_types', '');

-- Every backend caches the catalog; this trigger tells them all to rebuild after a change.
CREATE FUNCTION telemetry.catalog_changed()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'telemetry_catalog_changed';
COMMENT ON FUNCTION telemetry.catalog_changed() IS
    'Internal trigger function: the statement trigger of telemetry.event_types (event_types_changed, enabled ALWAYS), which makes every backend rebuild its catalog cache at its next statement, and this one at once. Raises 39P01 when not called as a trigger.';

CREATE TRIGGER event_types_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON telemetry.event_types
    FOR EACH STATEMENT EXECUTE FUNCTION telemetry.catalog_changed();
-- ALWAYS: also under session_replication_role = replica (logical replication's apply worker,
-- some restore tools), which skips ordinary triggers.
ALTER TABLE telemetry.event_types ENABLE ALWAYS TRIGGER event_types_changed;

-- Hand edits of the table get the same schema checks as load_catalog().
CREATE FUNCTION telemetry.check_event_type()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'telemetry_check_event_type';
COMMENT ON FUNCTION telemetry.check_event_type() IS
    'Internal trigger function: BEFORE INSERT OR UPDATE of each row of telemetry.event_types (event_types_checked), which gives edits by hand the schema checks of load_catalog() (22023, naming the JSON path) and sets pattern_instructions. Raises 39P01 when not called as a trigger.';

CREATE TRIGGER event_types_checked
    BEFORE INSERT OR UPDATE ON telemetry.event_types
    FOR EACH ROW EXECUTE FUNCTION telemetry.check_event_type();
ALTER TABLE telemetry.event_types ENABLE ALWAYS TRIGGER event_types_checked;

-- The patterns of the whole catalog within their budget, after every change.
CREATE FUNCTION telemetry.check_catalog_budget()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'telemetry_check_catalog_budget';
COMMENT ON FUNCTION telemetry.check_catalog_budget() IS
    'Internal trigger function: after each INSERT or UPDATE statement on telemetry.event_types (event_types_within_budget), refuses (54000) a catalog whose patterns compile to more than 500,000 RE2 instructions in all. Raises 39P01 when not called as a trigger.';

CREATE TRIGGER event_types_within_budget
    AFTER INSERT OR UPDATE ON telemetry.event_types
    FOR EACH STATEMENT EXECUTE FUNCTION telemetry.check_catalog_budget();
ALTER TABLE telemetry.event_types ENABLE ALWAYS TRIGGER event_types_within_budget;

-- Why changing an event type this way is refused (it would break producers without a new
-- MODEL version, the version goes back, or the schema changed without a new version), or NULL.
CREATE FUNCTION telemetry.catalog_change_refusal(name text, old_version text, old_schema jsonb, old_max_bytes integer,
                                                 new_version text, new_schema jsonb, new_max_bytes integer)
RETURNS text
LANGUAGE c STABLE STRICT
AS 'MODULE_PATHNAME', 'telemetry_catalog_change_refusal';
COMMENT ON FUNCTION telemetry.catalog_change_refusal(text, text, jsonb, integer, text, jsonb, integer) IS
    'Why load_catalog() refuses to change event type name from the old (version, schema, max_bytes) to the new: a change that would break producers without a new MODEL version, a lower version, or a schema or max_bytes changed under the same version; NULL when the change is allowed (or an argument is NULL). A version that is not SchemaVer MODEL-REVISION-ADDITION raises 22023.';

-- The event types of a catalog document, checked and normalised; nothing is stored. Errors
-- name the JSON path of the first problem. Useful on its own to lint a catalog file in CI.
CREATE FUNCTION telemetry.validate_catalog(document jsonb)
RETURNS TABLE (name text, version text, status text, description text, sample_rate float8,
               max_bytes integer, on_violation text, schema jsonb)
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'telemetry_validate_catalog';
COMMENT ON FUNCTION telemetry.validate_catalog(jsonb) IS
    'Checks a catalog document and returns its event types, normalised with their defaults (name, version, status, description, sample_rate, max_bytes, on_violation, schema); stores nothing. A problem anywhere refuses the whole document, the first one named with its JSON path: 22023 for a broken rule; 54000 over 4 MiB, 10,000 event types, 32 levels or 500,000 RE2 instructions of patterns; 22004 for NULL.';

-- Loads or updates event types from one catalog document, in one transaction. Idempotent:
-- loading the same document twice changes nothing the second time. Event types the document
-- does not mention are left as they are. Returns what happened to each declared type.
CREATE FUNCTION telemetry.load_catalog(document jsonb)
RETURNS TABLE (event_name text, action text, version text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    declared record;
    existing telemetry.event_types%ROWTYPE;
    refusal  text;
BEGIN
    -- One catalog change at a time; tracking goes on meanwhile (it only reads the cache).
    LOCK TABLE telemetry.event_types IN SHARE ROW EXCLUSIVE MODE;

    -- validate_catalog() checks the whole document before it returns its first row, so a bad
    -- entry anywhere refuses the document before anything is written.
    FOR declared IN SELECT * FROM telemetry.validate_catalog(document) LOOP
        SELECT * INTO existing FROM telemetry.event_types t WHERE t.name OPERATOR(pg_catalog.=) declared.name;
        event_name := declared.name;
        version := declared.version;
        IF NOT FOUND THEN
            INSERT INTO telemetry.event_types (name, version, status, description, sample_rate, max_bytes,
                                               on_violation, schema)
            VALUES (declared.name, declared.version, declared.status, declared.description, declared.sample_rate,
                    declared.max_bytes, declared.on_violation, declared.schema);
            action := 'created';
        ELSIF (existing.version, existing.status, existing.description, existing.sample_rate, existing.max_bytes,
               existing.on_violation, existing.schema)
              IS NOT DISTINCT FROM
              (declared.version, declared.status, declared.description, declared.sample_rate, declared.max_bytes,
               declared.on_violation, declared.schema) THEN
            action := 'unchanged';
        ELSE
            refusal := telemetry.catalog_change_refusal(declared.name, existing.version, existing.schema, existing.max_bytes,
                                                        declared.version, declared.schema, declared.max_bytes);
            IF refusal IS NOT NULL THEN
                RAISE EXCEPTION '%', refusal USING ERRCODE = '22023',
                    HINT = 'SchemaVer: MODEL-REVISION-ADDITION; docs/catalog.md, "Changing an event type".';
            END IF;
            UPDATE telemetry.event_types t
               SET version = declared.version, status = declared.status, description = declared.description,
                   sample_rate = declared.sample_rate, max_bytes = declared.max_bytes,
                   on_violation = declared.on_violation, schema = declared.schema, updated_at = pg_catalog.now()
             WHERE t.name OPERATOR(pg_catalog.=) declared.name;
            action := 'updated';
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION telemetry.load_catalog(jsonb) IS
    'Loads or updates event types from one catalog document (docs/catalog.md), all or nothing; one row per declared type: event_name, action (created, updated or unchanged) and version. Idempotent; types the document does not mention are left as they are. Errors: those of validate_catalog(), a change that would break producers or lowers the version (22023, see catalog_change_refusal()), patterns over the catalog''s budget (54000). Needs privileges on telemetry.event_types.';

-- Declares or updates one event type: load_catalog() with a one-event document.
CREATE FUNCTION telemetry.define_event(
    name          text,
    schema        jsonb   DEFAULT '{"type": "object"}',
    status        text    DEFAULT 'active',
    version       text    DEFAULT '1-0-0',
    description   text    DEFAULT '',
    sample_rate   float8  DEFAULT 1,
    max_bytes     integer DEFAULT 2048,
    on_violation  text    DEFAULT 'reject')
RETURNS text
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT l.action
    FROM telemetry.load_catalog(pg_catalog.jsonb_build_object('events', pg_catalog.jsonb_build_array(
        pg_catalog.jsonb_build_object('name', name, 'schema', schema, 'status', status, 'version', version,
                                      'description', description, 'sample_rate', sample_rate,
                                      'max_bytes', max_bytes, 'on_violation', on_violation)))) AS l
$$;
COMMENT ON FUNCTION telemetry.define_event(text, jsonb, text, text, text, float8, integer, text) IS
    'Declares or updates one event type: load_catalog() with a document of that one type, whose arguments are its keys, with the same defaults; returns the action (created, updated or unchanged). Errors as load_catalog().';
-- Tenancy: per-tenant settings, and the tenant identity of every call (docs/security.md).
--
-- Who acts for which tenant is decided by what no caller can set: telemetry.tenant_access, which
-- only the extension's owner changes, and tenant tokens signed with a key no tenant role can
-- read (src/pg/tenancy/tenant_identity). Row-level policies on every tenant table ask it once per
-- query (85_tenancy_row_security.sql); functions taking a tenant_id check it (42501).

-- A tenant needs no row here; one is made to change its defaults.
CREATE TABLE telemetry.tenant_settings (
    tenant_id       uuid        PRIMARY KEY,
    retention_days  integer     CHECK (retention_days BETWEEN 1 AND 3650),  -- NULL: telemetry.retention_days
    updated_at      timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE telemetry.tenant_settings IS 'Per-tenant settings: a tenant needs a row only to change a default. Every backend caches them and reloads after a change (trigger tenant_settings_changed). Row-level security: a tenant''s admins read its row.';
COMMENT ON COLUMN telemetry.tenant_settings.tenant_id IS 'The tenant.';
COMMENT ON COLUMN telemetry.tenant_settings.retention_days IS 'Days of raw events kept for the tenant, 1 to 3650: an older event is refused at ingest (22008), and maintenance deletes older ones. At most telemetry.retention_days in effect: partitions are dropped past it. NULL: telemetry.retention_days.';
COMMENT ON COLUMN telemetry.tenant_settings.updated_at IS 'When the row was inserted, unless the INSERT gave another time; an UPDATE changes it only if it sets it.';
SELECT pg_catalog.pg_extension_config_dump('telemetry.tenant_settings', '');
CREATE TRIGGER tenant_settings_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON telemetry.tenant_settings
    FOR EACH STATEMENT EXECUTE FUNCTION telemetry.table_changed();
ALTER TABLE telemetry.tenant_settings ENABLE ALWAYS TRIGGER tenant_settings_changed;

-- Who may do what for which tenant. A role named here, and every role that has its privileges
-- (a member of a group role), has the access. Changed through grant_tenant_access() and
-- revoke_tenant_access(), which also grant and revoke the SQL privileges the level needs. Roles
-- are kept by name, as pg_dump needs: a renamed role's rows stop counting until renamed here.
CREATE TABLE telemetry.tenant_access (
    role_name   name        NOT NULL,
    tenant_id   uuid,
    access      text        NOT NULL
                            CHECK (access OPERATOR(pg_catalog.=) ANY
                                   (ARRAY['ingest', 'read', 'admin', 'service', 'maintenance', 'issuer', 'token'])),
    granted_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT tenant_access_key UNIQUE NULLS NOT DISTINCT (role_name, tenant_id, access),
    CONSTRAINT tenant_access_tenant_rule CHECK (CASE
        WHEN access OPERATOR(pg_catalog.=) ANY (ARRAY['ingest', 'read', 'admin']) THEN tenant_id IS NOT NULL
        WHEN access OPERATOR(pg_catalog.=) ANY (ARRAY['service', 'maintenance', 'token']) THEN tenant_id IS NULL
        ELSE true END)
);
COMMENT ON TABLE telemetry.tenant_access IS 'Who may do what for which tenant (docs/security.md, "Access levels"): the role named, and every role that has its privileges. Change it with telemetry.grant_tenant_access() and revoke_tenant_access(); only the extension''s owner writes it. Row-level security: a tenant''s admins read its rows. Roles are kept by name: rename a role here when renaming it.';
COMMENT ON COLUMN telemetry.tenant_access.role_name IS 'The role given access, by name; it must exist when the row is written (42704 otherwise).';
COMMENT ON COLUMN telemetry.tenant_access.tenant_id IS 'The tenant; NULL for the levels that are for every tenant or none (service, maintenance, token) and for an issuer of every tenant''s tokens.';
COMMENT ON COLUMN telemetry.tenant_access.access IS 'The level: ingest, read, admin (one tenant); service, maintenance, token (no tenant); issuer (one tenant or every tenant).';
COMMENT ON COLUMN telemetry.tenant_access.granted_at IS 'When the access was granted.';
SELECT pg_catalog.pg_extension_config_dump('telemetry.tenant_access', '');
CREATE INDEX tenant_access_tenant ON telemetry.tenant_access (tenant_id);
CREATE TRIGGER tenant_access_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON telemetry.tenant_access
    FOR EACH STATEMENT EXECUTE FUNCTION telemetry.table_changed();
ALTER TABLE telemetry.tenant_access ENABLE ALWAYS TRIGGER tenant_access_changed;

-- Only existing roles can be named: a typo would otherwise grant nothing, silently.
CREATE FUNCTION telemetry.check_tenant_access_role()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) NEW.role_name) THEN
        RAISE EXCEPTION 'role "%" does not exist', NEW.role_name USING ERRCODE = '42704';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION telemetry.check_tenant_access_role() IS
    'Internal trigger function: BEFORE INSERT OR UPDATE of each row of telemetry.tenant_access (tenant_access_checked), which refuses a role_name naming no existing role (42704).';
CREATE TRIGGER tenant_access_checked
    BEFORE INSERT OR UPDATE ON telemetry.tenant_access
    FOR EACH ROW EXECUTE FUNCTION telemetry.check_tenant_access_role();

-- The identity, as the caller sees it.
CREATE FUNCTION telemetry.current_tenant()
RETURNS uuid
LANGUAGE c STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'telemetry_current_tenant';
COMMENT ON FUNCTION telemetry.current_tenant() IS
    'The tenant the caller acts for: the tenant of the token presented in this transaction (set_tenant()), else the one tenant its roles have access to (telemetry.tenant_access); NULL when none, several, or every tenant (service, superusers). Granted to PUBLIC.';

CREATE FUNCTION telemetry.current_access()
RETURNS TABLE (tenant_id uuid, access text, via text)
LANGUAGE c STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'telemetry_current_access';
COMMENT ON FUNCTION telemetry.current_access() IS
    'What the caller may do, one row per grant: tenant_id (NULL: every tenant or none), access (a level of tenant_access; superuser or owner for those who may do everything) and via (the role it was granted to, or token). Granted to PUBLIC: it shows the caller''s own access only.';

-- Row-level policies ask these, each once per query (InitPlans): the tenants the current user
-- may touch for `need` (ingest, read, admin, issue, maintain), as an index range [lower, upper]
-- that holds exactly them (is_range), or else a range to scan and the members to keep.
CREATE FUNCTION telemetry.tenant_scope_lower(need text)
RETURNS uuid
LANGUAGE c STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'telemetry_tenant_scope_lower';
COMMENT ON FUNCTION telemetry.tenant_scope_lower(text) IS
    'Internal, for row-level policies: the lowest tenant the current user may touch for need (ingest, read, admin, issue or maintain); the nil UUID for every tenant; NULL for none. 22023 for another need. Granted to PUBLIC (policies run as the querying role).';
CREATE FUNCTION telemetry.tenant_scope_upper(need text)
RETURNS uuid
LANGUAGE c STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'telemetry_tenant_scope_upper';
COMMENT ON FUNCTION telemetry.tenant_scope_upper(text) IS
    'Internal, for row-level policies: the highest tenant the current user may touch for need; the max UUID for every tenant; NULL for none. Granted to PUBLIC.';
CREATE FUNCTION telemetry.tenant_scope_is_range(need text)
RETURNS boolean
LANGUAGE c STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'telemetry_tenant_scope_is_range';
COMMENT ON FUNCTION telemetry.tenant_scope_is_range(text) IS
    'Internal, for row-level policies: true when every tenant between tenant_scope_lower() and tenant_scope_upper() is in the scope (one tenant, or every tenant); false when only tenant_scope_members() are; NULL for none. Granted to PUBLIC.';
CREATE FUNCTION telemetry.tenant_scope_members(need text)
RETURNS uuid[]
LANGUAGE c STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'telemetry_tenant_scope_members';
COMMENT ON FUNCTION telemetry.tenant_scope_members(text) IS
    'Internal, for row-level policies: the tenants in the scope, sorted, when they are several; NULL otherwise. Granted to PUBLIC.';

CREATE FUNCTION telemetry.require_tenant_access(tenant_id uuid, need text)
RETURNS void
LANGUAGE c STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'telemetry_require_tenant_access';
COMMENT ON FUNCTION telemetry.require_tenant_access(uuid, text) IS
    'Raises 42501 unless the current user may do need (ingest, read, admin, issue or maintain) for the tenant; tenant_id NULL only with maintain. What functions taking a tenant_id call first; the message names the work and the caller''s role, never a tenant. Granted to PUBLIC: it answers only about the caller.';

-- Tenant tokens, for applications that share one pooled login role.
CREATE FUNCTION telemetry.set_tenant(token text)
RETURNS uuid
LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
AS 'MODULE_PATHNAME', 'telemetry_set_tenant';
COMMENT ON FUNCTION telemetry.set_tenant(text) IS
    'Acts for the tenant of a token minted by tenant_token(), with its access levels, until the end of the current transaction (or a rollback to a savepoint made before it); returns the tenant. Each token is accepted once. 42501: malformed, signed with another key, expired, already used, or issued before the server last started; 53400 when telemetry.token_ledger_size unexpired tokens are in use; 55000 without telemetry in shared_preload_libraries; a WARNING outside a transaction block. For roles with token access.';

CREATE FUNCTION telemetry.tenant_token(tenant_id uuid, ttl interval DEFAULT '5 minutes',
                                       access text[] DEFAULT ARRAY['ingest', 'read'])
RETURNS text
LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
AS 'MODULE_PATHNAME', 'telemetry_tenant_token';
COMMENT ON FUNCTION telemetry.tenant_token(uuid, interval, text[]) IS
    'Mints a tenant token for set_tenant(): signed with HMAC-SHA-256 under this database''s key (telemetry.secrets, or the setting telemetry.tenant_token_key), valid once, for ttl (1 second to 1 day), giving access (any of ingest, read, admin). 42501 unless the caller is an issuer of the tenant (its session role); 22023 for a ttl or access out of range; 22004 for NULLs.';

-- Access levels, granted and revoked with the SQL privileges each needs. Functions are named
-- without arguments: every form of them is meant.
CREATE FUNCTION telemetry.access_privileges(access text)
RETURNS TABLE (object_kind text, object_name text, privilege text)
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    -- A level is made of parts: admin reads too, service ingests and reads, and a pooled role
    -- holds what any token may give (ingest, read, admin) besides presenting tokens.
    SELECT DISTINCT p.kind, p.object, p.privilege
    FROM (VALUES ('ingest', 'ingest'), ('read', 'read'), ('admin', 'read'), ('admin', 'admin'),
                 ('service', 'ingest'), ('service', 'read'), ('maintenance', 'maintenance'),
                 ('issuer', 'issuer'), ('token', 'token'), ('token', 'ingest'), ('token', 'read'),
                 ('token', 'admin')) AS l(access, part)
    JOIN (VALUES
        ('ingest', 'FUNCTION', 'track', 'EXECUTE'), ('ingest', 'FUNCTION', 'track_batch', 'EXECUTE'),
        ('read', 'TABLE', 'events', 'SELECT'), ('read', 'TABLE', 'event_types', 'SELECT'),
        ('read', 'FUNCTION', 'partitions', 'EXECUTE'),
        ('read', 'TABLE', 'daily_rollups', 'SELECT'), ('read', 'TABLE', 'daily_totals', 'SELECT'), ('read', 'FUNCTION', 'rollup_watermark', 'EXECUTE'),
        ('read', 'FUNCTION', 'funnel', 'EXECUTE'), ('read', 'FUNCTION', 'funnel_engine', 'EXECUTE'),
        ('read', 'FUNCTION', 'window_funnel', 'EXECUTE'), ('read', 'FUNCTION', 'window_funnel_transition', 'EXECUTE'),
        ('read', 'FUNCTION', 'window_funnel_final', 'EXECUTE'),
        ('read', 'FUNCTION', 'conversion_rate', 'EXECUTE'), ('read', 'FUNCTION', 'completion_rate', 'EXECUTE'),
        ('read', 'FUNCTION', 'escalation_rate', 'EXECUTE'),
        ('read', 'FUNCTION', 'retention', 'EXECUTE'), ('read', 'FUNCTION', 'retention_engine', 'EXECUTE'),
        ('read', 'FUNCTION', 'period_number', 'EXECUTE'), ('read', 'FUNCTION', 'period_start', 'EXECUTE'),
        ('read', 'FUNCTION', 'event_counts', 'EXECUTE'), ('read', 'FUNCTION', 'top_events', 'EXECUTE'),
        ('read', 'FUNCTION', 'unique_users', 'EXECUTE'), ('read', 'FUNCTION', 'active_users', 'EXECUTE'), ('read', 'FUNCTION', 'daily_active_users', 'EXECUTE'),
        ('read', 'FUNCTION', 'stickiness', 'EXECUTE'), ('read', 'FUNCTION', 'dump', 'EXECUTE'),
        ('read', 'FUNCTION', 'calendar_buckets', 'EXECUTE'), ('read', 'FUNCTION', 'rollup_exact_days', 'EXECUTE'),
        ('read', 'FUNCTION', 'rollup_split', 'EXECUTE'),
        ('read', 'FUNCTION', 'property_sum', 'EXECUTE'),
        ('read', 'FUNCTION', 'property_stats', 'EXECUTE'), ('read', 'FUNCTION', 'sessions', 'EXECUTE'),
        ('read', 'FUNCTION', 'sessions_engine', 'EXECUTE'), ('read', 'FUNCTION', 'property_path_terms', 'EXECUTE'),
        ('admin', 'TABLE', 'quarantine', 'SELECT'), ('admin', 'FUNCTION', 'replay_quarantine', 'EXECUTE'),
        ('admin', 'FUNCTION', 'forget_user', 'EXECUTE'), ('admin', 'FUNCTION', 'anonymize_user', 'EXECUTE'),
        ('admin', 'TABLE', 'erasures', 'SELECT'),
        ('admin', 'TABLE', 'opt_outs', 'SELECT, INSERT, DELETE'),
        ('admin', 'FUNCTION', 'opt_out', 'EXECUTE'), ('admin', 'FUNCTION', 'opt_in', 'EXECUTE'),
        ('admin', 'TABLE', 'tenant_settings', 'SELECT'), ('admin', 'TABLE', 'tenant_access', 'SELECT'),
        ('admin', 'TABLE', 'pii_policies', 'SELECT, INSERT, UPDATE, DELETE'), ('admin', 'FUNCTION', 'set_pii_policy', 'EXECUTE'),
        ('admin', 'TABLE', 'rollup_invalidations', 'SELECT, INSERT'), ('admin', 'FUNCTION', 'invalidate_rollups', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'create_partitions', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'purge_event_ids', 'EXECUTE'),
        ('maintenance', 'TABLE', 'event_ids', 'SELECT, DELETE'), ('maintenance', 'TABLE', 'events', 'SELECT'),
        ('maintenance', 'FUNCTION', 'partitions', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'run_maintenance', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'advance_rollups', 'EXECUTE'), ('maintenance', 'FUNCTION', 'refresh_rollups', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'drop_expired_partitions', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'delete_expired_tenant_events', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'drop_expired_rollups', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'trim_maintenance_runs', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'maintenance_step_names', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'begin_maintenance_run', 'EXECUTE'), ('maintenance', 'FUNCTION', 'end_maintenance_run', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'begin_maintenance_step', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'perform_maintenance_step', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'resume_maintenance', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'rollup_watermark', 'EXECUTE'), ('maintenance', 'FUNCTION', 'invalidate_rollups', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'reapply_erasures', 'EXECUTE'), ('maintenance', 'TABLE', 'daily_rollups', 'SELECT'), ('maintenance', 'TABLE', 'daily_totals', 'SELECT'), ('maintenance', 'TABLE', 'rollup_invalidations', 'SELECT, INSERT'),
        ('maintenance', 'TABLE', 'rollup_state', 'SELECT'), ('maintenance', 'TABLE', 'maintenance_runs', 'SELECT'),
        ('maintenance', 'TABLE', 'maintenance_steps', 'SELECT'), ('maintenance', 'TABLE', 'maintenance_status', 'SELECT'),
        ('issuer', 'FUNCTION', 'tenant_token', 'EXECUTE'),
        ('token', 'FUNCTION', 'set_tenant', 'EXECUTE')
    ) AS p(part, kind, object, privilege) ON p.part OPERATOR(pg_catalog.=) l.part
    WHERE l.access OPERATOR(pg_catalog.=) access_privileges.access
$$;
COMMENT ON FUNCTION telemetry.access_privileges(text) IS
    'The SQL privileges an access level needs, which grant_tenant_access() grants and revoke_tenant_access() takes back: object_kind (TABLE or FUNCTION), object_name (in schema telemetry; a function name means all its forms) and privilege. Every level also gets USAGE on the schema.';

-- Grants or revokes one level's privileges to a role (`grant_them` false: revokes those no
-- other level the role keeps needs).
CREATE FUNCTION telemetry.apply_access_privileges(role regrole, access text, grant_them boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    grantee name := (SELECT r.rolname FROM pg_catalog.pg_roles r WHERE r.oid OPERATOR(pg_catalog.=) role);
    p record;
    target text;
    still_needed boolean;
BEGIN
    FOR p IN SELECT * FROM telemetry.access_privileges(access) LOOP
        FOR target IN
            SELECT pg_catalog.format('TABLE telemetry.%I', p.object_name) WHERE p.object_kind OPERATOR(pg_catalog.=) 'TABLE'
            UNION ALL
            SELECT 'ROUTINE ' || f.oid::pg_catalog.regprocedure::text FROM pg_catalog.pg_proc f
            WHERE p.object_kind OPERATOR(pg_catalog.=) 'FUNCTION'
              AND f.pronamespace OPERATOR(pg_catalog.=) 'telemetry'::pg_catalog.regnamespace
              AND f.proname OPERATOR(pg_catalog.=) p.object_name
        LOOP
            IF grant_them THEN
                EXECUTE pg_catalog.format('GRANT %s ON %s TO %I', p.privilege, target, grantee);
            ELSE
                -- Privileges another level the role keeps needs stay.
                SELECT EXISTS (SELECT FROM telemetry.tenant_access a, telemetry.access_privileges(a.access) o
                               WHERE a.role_name OPERATOR(pg_catalog.=) grantee
                                 AND o.object_kind OPERATOR(pg_catalog.=) p.object_kind
                                 AND o.object_name OPERATOR(pg_catalog.=) p.object_name
                                 AND o.privilege OPERATOR(pg_catalog.=) p.privilege)
                  INTO still_needed;
                IF NOT still_needed THEN
                    EXECUTE pg_catalog.format('REVOKE %s ON %s FROM %I', p.privilege, target, grantee);
                END IF;
            END IF;
        END LOOP;
    END LOOP;
    IF grant_them THEN
        EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA telemetry TO %I', grantee);
    ELSIF NOT EXISTS (SELECT FROM telemetry.tenant_access a WHERE a.role_name OPERATOR(pg_catalog.=) grantee) THEN
        EXECUTE pg_catalog.format('REVOKE USAGE ON SCHEMA telemetry FROM %I', grantee);
    END IF;
END
$$;
COMMENT ON FUNCTION telemetry.apply_access_privileges(regrole, text, boolean) IS
    'Internal, for grant_tenant_access() and revoke_tenant_access(): grants the privileges of access_privileges(access) and USAGE on the schema to role (grant_them true), or revokes those that no level the role still has in tenant_access needs (false).';

CREATE FUNCTION telemetry.grant_tenant_access(role regrole, tenant_id uuid, access text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    added boolean;
BEGIN
    IF role IS NULL OR access IS NULL THEN
        RAISE EXCEPTION 'role and access must be given' USING ERRCODE = '22004';
    END IF;
    IF NOT access OPERATOR(pg_catalog.=) ANY (ARRAY['ingest', 'read', 'admin', 'service', 'maintenance', 'issuer', 'token']) THEN
        RAISE EXCEPTION 'access must be one of ingest, read, admin, service, maintenance, issuer, token'
            USING ERRCODE = '22023';
    END IF;
    IF access OPERATOR(pg_catalog.=) ANY (ARRAY['ingest', 'read', 'admin']) AND tenant_id IS NULL THEN
        RAISE EXCEPTION 'access % is for one tenant: tenant_id must be given', access USING ERRCODE = '22023',
            HINT = 'Access to every tenant is the service level.';
    END IF;
    IF access OPERATOR(pg_catalog.=) ANY (ARRAY['service', 'maintenance', 'token']) AND tenant_id IS NOT NULL THEN
        RAISE EXCEPTION 'access % is for every tenant or none: tenant_id must be NULL', access USING ERRCODE = '22023';
    END IF;
    INSERT INTO telemetry.tenant_access AS a (role_name, tenant_id, access)
    VALUES ((SELECT r.rolname FROM pg_catalog.pg_roles r WHERE r.oid OPERATOR(pg_catalog.=) role), tenant_id, access)
    ON CONFLICT ON CONSTRAINT tenant_access_key DO NOTHING;
    added := FOUND;
    PERFORM telemetry.apply_access_privileges(role, access, true);
    RETURN added;
END
$$;
COMMENT ON FUNCTION telemetry.grant_tenant_access(regrole, uuid, text) IS
    'Gives role (and every role that has its privileges) an access level (docs/security.md, "Access levels"): ingest, read or admin of tenant_id; service (ingest and read for every tenant), maintenance (the maintenance steps) or token (presents tenant tokens) with tenant_id NULL; issuer (mints tokens) of tenant_id, or of every tenant with NULL. Also grants the SQL privileges the level needs (access_privileges()). True when the access is new, false when the role had it. 22023 for another level or a tenant_id against its rule, 22004 for NULL role or access; 42501 for anyone but the extension''s owner.';

CREATE FUNCTION telemetry.revoke_tenant_access(role regrole, tenant_id uuid, access text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    removed boolean;
BEGIN
    IF role IS NULL OR access IS NULL THEN
        RAISE EXCEPTION 'role and access must be given' USING ERRCODE = '22004';
    END IF;
    DELETE FROM telemetry.tenant_access a
     WHERE a.role_name OPERATOR(pg_catalog.=) (SELECT r.rolname FROM pg_catalog.pg_roles r WHERE r.oid OPERATOR(pg_catalog.=) role)
       AND a.tenant_id IS NOT DISTINCT FROM revoke_tenant_access.tenant_id
       AND a.access OPERATOR(pg_catalog.=) revoke_tenant_access.access;
    removed := FOUND;
    IF removed THEN
        PERFORM telemetry.apply_access_privileges(role, access, false);
    END IF;
    RETURN removed;
END
$$;
COMMENT ON FUNCTION telemetry.revoke_tenant_access(regrole, uuid, text) IS
    'Takes back what grant_tenant_access(role, tenant_id, access) gave: the row, and the SQL privileges no other level of the role needs (USAGE on the schema when none is left). True when the role had the access, false when not. 22004 for NULL role or access; 42501 for anyone but the extension''s owner.';
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
-- Quarantine: events refused by their schema or size limit under on_violation "quarantine",
-- kept with the reason, the JSON path and the rule, until the catalog is fixed and they are
-- replayed. Properties are kept after x-pii rewriting, so quarantine holds no more personal
-- data than the events table would.
CREATE TABLE telemetry.quarantine (
    id              bigserial,
    tenant_id       uuid        NOT NULL,
    event_id        uuid        NOT NULL,
    name            text        NOT NULL,
    properties      jsonb       NOT NULL,
    user_id         text,
    session_id      text,
    occurred_at     timestamptz NOT NULL,
    received_at     timestamptz NOT NULL,
    source          text        NOT NULL,
    sample_weight   real        NOT NULL,
    flags           smallint    NOT NULL,
    schema_version  text        NOT NULL,   -- the version that refused it
    sqlstate        text        NOT NULL,
    reason          text        NOT NULL,
    json_path       text        NOT NULL,
    rule            text        NOT NULL,
    replay_attempts integer     NOT NULL DEFAULT 0,
    pii_rewritten_paths text[]  NOT NULL DEFAULT '{}',  -- JSON Pointers: what x-pii hashed or redacted
    PRIMARY KEY (tenant_id, id)
);
COMMENT ON SEQUENCE telemetry.quarantine_id_seq IS
    'The ids of telemetry.quarantine (its bigserial id). Dumped with its position, so a restored database goes on from it.';
SELECT pg_catalog.pg_extension_config_dump('telemetry.quarantine', '');
SELECT pg_catalog.pg_extension_config_dump('telemetry.quarantine_id_seq', '');
CREATE INDEX quarantine_tenant_name ON telemetry.quarantine (tenant_id, name);

COMMENT ON TABLE telemetry.quarantine IS 'Events kept aside by on_violation "quarantine"; telemetry.replay_quarantine() ingests them once the catalog accepts them.';
COMMENT ON COLUMN telemetry.quarantine.id IS 'The row''s id: replay_quarantine()''s ids and quarantine_id.';
COMMENT ON COLUMN telemetry.quarantine.tenant_id IS 'The tenant: row-level security shows its rows to its admins (telemetry.tenant_access).';
COMMENT ON COLUMN telemetry.quarantine.event_id IS 'The event''s id, kept when it is replayed.';
COMMENT ON COLUMN telemetry.quarantine.name IS 'The event type.';
COMMENT ON COLUMN telemetry.quarantine.properties IS 'The properties as kept: after x-pii rewriting (see pii_rewritten_paths), at most 64 KB of JSON.';
COMMENT ON COLUMN telemetry.quarantine.user_id IS 'The user, as in telemetry.events, or NULL.';
COMMENT ON COLUMN telemetry.quarantine.session_id IS 'The session, as in telemetry.events, or NULL.';
COMMENT ON COLUMN telemetry.quarantine.occurred_at IS 'When the event happened, as ingest settled it (see telemetry.events.occurred_at).';
COMMENT ON COLUMN telemetry.quarantine.received_at IS 'When the database received the event, kept when it is replayed.';
COMMENT ON COLUMN telemetry.quarantine.source IS 'How the event came: server (track()) or client (track_batch()), kept when it is replayed.';
COMMENT ON COLUMN telemetry.quarantine.sample_weight IS '1 / the sample_rate the event was kept under.';
COMMENT ON COLUMN telemetry.quarantine.flags IS 'What ingest changed, as in telemetry.events.flags.';
COMMENT ON COLUMN telemetry.quarantine.schema_version IS 'The version of the event type that refused the event (the latest replay''s, when one refused it again).';
COMMENT ON COLUMN telemetry.quarantine.sqlstate IS 'The SQLSTATE of the refusal: 23514 for the schema, 54000 for the size; a replay that refuses the event again sets its own.';
COMMENT ON COLUMN telemetry.quarantine.reason IS 'Why the event was refused, as the error message would say; a replay that refuses the event again sets its own.';
COMMENT ON COLUMN telemetry.quarantine.json_path IS 'Where in the properties the (first) violation is, as a JSON path ($ is the properties themselves, as for max_bytes); a replay that rejects the event for a reason without a path leaves it.';
COMMENT ON COLUMN telemetry.quarantine.rule IS 'The broken rule: a schema keyword (type, required, pattern...) or max_bytes; a replay that rejects the event for a reason without a rule leaves it.';
COMMENT ON COLUMN telemetry.quarantine.replay_attempts IS 'How many replays have refused the event again.';
COMMENT ON COLUMN telemetry.quarantine.pii_rewritten_paths IS 'Where x-pii hashed or redacted the properties before they were kept here, as JSON Pointers (RFC 6901, e.g. /email): a replay leaves the values there as they are and rewrites every other value its catalog tags, whatever it looks like.';

-- Re-validates quarantined events of a tenant against the current catalog: those now accepted
-- move to telemetry.events (once), the others stay with their new reason. ids: some rows, or
-- NULL for all of the tenant's.
--
-- SECURITY INVOKER on purpose: the C code first checks who called (an admin of the tenant),
-- which a SECURITY DEFINER function could no longer see, then does the work as the owner of
-- telemetry.quarantine.
CREATE FUNCTION telemetry.replay_quarantine(tenant_id uuid, ids bigint[] DEFAULT NULL)
RETURNS TABLE (quarantine_id bigint, status text, id uuid, reason text)
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'telemetry_replay_quarantine';
COMMENT ON FUNCTION telemetry.replay_quarantine(uuid, bigint[]) IS
    'Sends a tenant''s quarantined events (ids: those rows, NULL: all; at most 10,000 per call, in id order) through ingest again with today''s catalog; one row per event: quarantine_id, status, id (its event_id), reason. accepted: moved to telemetry.events, once; quarantined or rejected: the row stays with the new reason and one more replay_attempts; sampled_out or opted_out: the row is deleted. For the tenant''s admins (telemetry.tenant_access) and the extension''s owner, else 42501; 22004 for a NULL tenant_id.';
-- Personal data: the key behind x-pii "hash", and the users who opted out. Both tables are
-- cached by every backend and followed through telemetry.table_changed() (05_boundary.sql).

-- The key behind x-pii "hash", unless telemetry.pii_hash_key is set. Owner-only, and not dumped:
-- a restored database gets a new key (set telemetry.pii_hash_key to keep hashes stable).
CREATE TABLE telemetry.secrets (
    name   text PRIMARY KEY,
    value  text NOT NULL
);
COMMENT ON TABLE telemetry.secrets IS 'Internal: the random keys behind x-pii "hash" (row pii_hash_key) and tenant tokens (row tenant_token_key), made at CREATE EXTENSION and used unless the settings telemetry.pii_hash_key and telemetry.tenant_token_key are set. Readable by the owner only and not dumped: a restored database gets new keys.';
COMMENT ON COLUMN telemetry.secrets.name IS 'Which secret: pii_hash_key or tenant_token_key.';
COMMENT ON COLUMN telemetry.secrets.value IS 'The secret (64 hexadecimal digits).';
INSERT INTO telemetry.secrets VALUES
    ('pii_hash_key', pg_catalog.replace(pg_catalog.gen_random_uuid()::text || pg_catalog.gen_random_uuid()::text, '-', '')),
    ('tenant_token_key', pg_catalog.replace(pg_catalog.gen_random_uuid()::text || pg_catalog.gen_random_uuid()::text, '-', ''));
CREATE TRIGGER secrets_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON telemetry.secrets
    FOR EACH STATEMENT EXECUTE FUNCTION telemetry.table_changed();
ALTER TABLE telemetry.secrets ENABLE ALWAYS TRIGGER secrets_changed;

-- Users who opted out: none of their events is stored, by any path.
CREATE TABLE telemetry.opt_outs (
    tenant_id      uuid        NOT NULL,
    user_id        text        NOT NULL,
    opted_out_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, user_id)
);
COMMENT ON TABLE telemetry.opt_outs IS 'Users who opted out: none of their events is stored, by any path (track(), track_batch(), replay_quarantine()). Change it with opt_out() and opt_in(); every backend keeps answers about it, renewed after each change (trigger opt_outs_changed).';
COMMENT ON COLUMN telemetry.opt_outs.tenant_id IS 'The tenant.';
COMMENT ON COLUMN telemetry.opt_outs.user_id IS 'The user, compared byte for byte with the events'' user_id.';
COMMENT ON COLUMN telemetry.opt_outs.opted_out_at IS 'When the user opted out.';
SELECT pg_catalog.pg_extension_config_dump('telemetry.opt_outs', '');
CREATE TRIGGER opt_outs_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON telemetry.opt_outs
    FOR EACH STATEMENT EXECUTE FUNCTION telemetry.table_changed();
ALTER TABLE telemetry.opt_outs ENABLE ALWAYS TRIGGER opt_outs_changed;

CREATE FUNCTION telemetry.opt_out(tenant_id uuid, user_id text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF tenant_id IS NULL OR user_id IS NULL OR user_id OPERATOR(pg_catalog.=) '' THEN
        RAISE EXCEPTION 'tenant_id and user_id must be given' USING ERRCODE = '22004';
    END IF;
    PERFORM telemetry.require_tenant_access(opt_out.tenant_id, 'admin');
    INSERT INTO telemetry.opt_outs AS o (tenant_id, user_id) VALUES (opt_out.tenant_id, opt_out.user_id)
    ON CONFLICT ON CONSTRAINT opt_outs_pkey DO NOTHING;
    RETURN FOUND;  -- false: already opted out
END
$$;
COMMENT ON FUNCTION telemetry.opt_out(uuid, text) IS
    'Opts a tenant''s user out: from now on none of the user''s events is stored, by any path (events already stored stay). True when the user was opted out now, false when already. 22004 for a NULL tenant_id, or a NULL or empty user_id; 42501 unless the caller is an admin of the tenant (telemetry.grant_tenant_access).';

CREATE FUNCTION telemetry.opt_in(tenant_id uuid, user_id text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF tenant_id IS NULL OR user_id IS NULL THEN
        RAISE EXCEPTION 'tenant_id and user_id must be given' USING ERRCODE = '22004';
    END IF;
    PERFORM telemetry.require_tenant_access(opt_in.tenant_id, 'admin');
    DELETE FROM telemetry.opt_outs o
     WHERE o.tenant_id OPERATOR(pg_catalog.=) opt_in.tenant_id AND o.user_id OPERATOR(pg_catalog.=) opt_in.user_id;
    RETURN FOUND;  -- false: was not opted out
END
$$;
COMMENT ON FUNCTION telemetry.opt_in(uuid, text) IS
    'Undoes opt_out(): the user''s events are stored again from now on. True when the user was opted out, false when not. 22004 for a NULL tenant_id or user_id; 42501 unless the caller is an admin of the tenant.';

-- PII detection (docs/pii.md, "Detection"): what the detectors find in a document, never the
-- values; changes nothing. A DBA's audit of events stored before detection ran:
--   SELECT e.id, s.* FROM telemetry.events e, telemetry.pii_scan(e.properties) s
CREATE FUNCTION telemetry.pii_scan(properties jsonb)
RETURNS TABLE (path text, detector text)
LANGUAGE c STABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'telemetry_pii_scan';
COMMENT ON FUNCTION telemetry.pii_scan(jsonb) IS
    'What the PII detectors find in a JSON document (docs/pii.md, "Detection"), without changing it and without showing any value: one row per JSON Pointer (RFC 6901, "/user/email"; "" is the root) and detector, in document order. Values (strings, and integral numbers as their digits) are scanned on a normalised copy (fullwidth forms folded, zero-width characters removed, percent-encoding decoded) by email, phone, payment_card (Luhn and card ranges), iban (mod 97 and country length), ip_address, us_ssn, jwt, private_key and api_key; keys by their names (case- and separator-insensitive): email, phone, payment_card, iban, ip_address, us_ssn, password, secret, person_name, street_address, birth_date. Nested objects and arrays are scanned within a budget (10,000 strings, 1 MiB): past it, or at a container too deep to read, a last row (the pointer where the scan stopped, scan_incomplete). A key that itself shows personal data is written ~redacted in the pointer. NULL: no rows. Granted to PUBLIC, since it reads only its argument: any role that may use the schema (any access level) may call it.';

-- The policy for personal data found where the catalog declared none (docs/pii.md, "Policy").
-- A tenant needs no row: the default is redact, for every event type. Cached by every backend
-- (trigger pii_policies_changed).
CREATE TABLE telemetry.pii_policies (
    tenant_id       uuid        NOT NULL,
    event_type      text        NOT NULL DEFAULT '*',
    undeclared_pii  text        NOT NULL CHECK (undeclared_pii IN ('redact', 'hash', 'drop', 'reject', 'allow')),
    updated_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, event_type)
);
COMMENT ON TABLE telemetry.pii_policies IS 'What ingest (track(), track_batch()) and the write-path trigger do with personal data the detectors find where the catalog declares none (no x-pii tag), and in user_id and session_id: one row per tenant for all its event types (event_type *), or for one type, which then wins. No row: redact. Change it with set_pii_policy(). Row-level security: a tenant''s admins read and change its rows.';
COMMENT ON COLUMN telemetry.pii_policies.tenant_id IS 'The tenant.';
COMMENT ON COLUMN telemetry.pii_policies.event_type IS 'The event type the row is for, or * for every type of the tenant without a row of its own.';
COMMENT ON COLUMN telemetry.pii_policies.undeclared_pii IS 'redact (keep the event, the value becomes [redacted:<detector>]), hash (a keyed hash h1:...), drop (remove the member), reject (refuse the event, 23514) or allow (store as sent, without looking). An id (user_id, session_id) is hashed under redact, hash and drop.';
COMMENT ON COLUMN telemetry.pii_policies.updated_at IS 'When the row was last set by set_pii_policy().';
SELECT pg_catalog.pg_extension_config_dump('telemetry.pii_policies', '');
CREATE TRIGGER pii_policies_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON telemetry.pii_policies
    FOR EACH STATEMENT EXECUTE FUNCTION telemetry.table_changed();
ALTER TABLE telemetry.pii_policies ENABLE ALWAYS TRIGGER pii_policies_changed;

CREATE FUNCTION telemetry.set_pii_policy(tenant_id uuid, undeclared_pii text, event_type text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF tenant_id IS NULL THEN
        RAISE EXCEPTION 'tenant_id must be given' USING ERRCODE = '22004';
    END IF;
    IF undeclared_pii IS NOT NULL AND undeclared_pii NOT IN ('redact', 'hash', 'drop', 'reject', 'allow') THEN
        RAISE EXCEPTION 'undeclared_pii must be one of redact, hash, drop, reject, allow'
            USING ERRCODE = '22023', HINT = 'NULL removes the setting: the default (redact, or the tenant''s * row) holds again.';
    END IF;
    IF event_type IS NOT NULL AND event_type OPERATOR(pg_catalog.!~) '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$' THEN
        RAISE EXCEPTION 'event_type is not an event type name' USING ERRCODE = '22023';
    END IF;
    PERFORM telemetry.require_tenant_access(set_pii_policy.tenant_id, 'admin');
    IF undeclared_pii IS NULL THEN
        DELETE FROM telemetry.pii_policies p
        WHERE p.tenant_id OPERATOR(pg_catalog.=) set_pii_policy.tenant_id
          AND p.event_type OPERATOR(pg_catalog.=) coalesce(set_pii_policy.event_type, '*');
        RETURN;
    END IF;
    INSERT INTO telemetry.pii_policies AS p (tenant_id, event_type, undeclared_pii)
    VALUES (set_pii_policy.tenant_id, coalesce(set_pii_policy.event_type, '*'), set_pii_policy.undeclared_pii)
    ON CONFLICT ON CONSTRAINT pii_policies_pkey
    DO UPDATE SET undeclared_pii = excluded.undeclared_pii, updated_at = pg_catalog.now();
END
$$;
COMMENT ON FUNCTION telemetry.set_pii_policy(uuid, text, text) IS
    'Sets what happens to personal data found where the catalog declares none (docs/pii.md, "Policy"), for the tenant''s event type event_type, or for all its types (event_type NULL); undeclared_pii NULL removes the setting. Actions: redact (the default), hash, drop, reject, allow. Takes effect in every session from its next statement. For the tenant''s admins. Errors: NULL tenant_id (22004); an unknown action or a malformed type name (22023); no admin access (42501).';

-- The write-path trigger: every row a role writes to telemetry.events itself (INSERT, COPY,
-- INSERT ... ON CONFLICT DO UPDATE, UPDATE, MERGE) is held to the size limit and the PII policy.
-- On the partitioned table, so PostgreSQL clones it onto every partition, attached or to come.
CREATE FUNCTION telemetry.check_written_event()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'telemetry_check_written_event';
COMMENT ON FUNCTION telemetry.check_written_event() IS
    'Internal trigger function: the BEFORE INSERT OR UPDATE row trigger of telemetry.events (docs/pii.md, "Every write path"). A row written outside track() and track_batch() must have object properties (22023); for a catalog type it holds no x-pii reject value (23514) and gets x-pii hash, redact and drop (a value already hashed or redacted is kept); properties nested too deep or with too many values to check are refused, whatever the type (23514). Then the tenant''s undeclared-PII policy (23514 under reject), and the type''s max_bytes (2048 for an unknown type) on the canonical form (54000); flags record what changed. An UPDATE of the ids alone (anonymize_user()) has only its ids checked. Errors name the JSON path and the detector, and hide the statement and the row from the server log. Passes rows unchanged while telemetry.restoring is on. Raises 39P01 when not called as such a trigger.';
CREATE TRIGGER check_written_event
    BEFORE INSERT OR UPDATE ON telemetry.events
    FOR EACH ROW EXECUTE FUNCTION telemetry.check_written_event();
COMMENT ON TRIGGER check_written_event ON telemetry.events IS
    'Holds every row written outside track() and track_batch() to the size limit and the PII policy (telemetry.check_written_event()).';
-- GDPR erasure (docs/pii.md, "Erasure"): forget_user() erases a user's events, quarantined
-- payloads, dedup entries and opt-out, and recomputes the rollup cells of their days from what
-- remains, in the caller's transaction; anonymize_user() keeps the events and the counts under
-- an unlinkable pseudonym. Both are checked as the caller (admin access to the tenant) and done
-- as the extension's owner (src/pg/pii/erasure.cpp). Each leaves a row in the erasure ledger,
-- with a keyed hash of the user id, never the id; reapply_erasures() applies the ledger again
-- to a database restored from a backup older than an erasure.

CREATE TABLE telemetry.erasures (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    uuid        NOT NULL,
    user_hash    text        NOT NULL,
    key_id       text        NOT NULL,
    kind         text        NOT NULL CHECK (kind OPERATOR(pg_catalog.=) ANY (ARRAY['forget', 'anonymize'])),
    erased_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    erased_by    name        NOT NULL,
    events       bigint      NOT NULL,
    quarantined  bigint      NOT NULL,
    event_ids    bigint      NOT NULL,
    opt_outs     bigint      NOT NULL,
    rollup_days  integer     NOT NULL
);
CREATE INDEX erasures_tenant ON telemetry.erasures (tenant_id, user_hash);
COMMENT ON TABLE telemetry.erasures IS 'The erasure ledger: one row per forget_user() or anonymize_user(), with a keyed hash of the user id (never the id) and what was erased. Dumped with the data; after restoring a backup older than an erasure, copy the current ledger in and run telemetry.reapply_erasures() (resume_maintenance() does). Row-level security: a tenant''s admins read its rows.';
COMMENT ON COLUMN telemetry.erasures.id IS 'The erasure, in order.';
COMMENT ON COLUMN telemetry.erasures.tenant_id IS 'The tenant.';
COMMENT ON COLUMN telemetry.erasures.user_hash IS 'The user id''s keyed hash, as x-pii "hash" stores it (HMAC-SHA-256 with the tenant''s key: h1: and 22 characters).';
COMMENT ON COLUMN telemetry.erasures.key_id IS 'Which hashing key made user_hash (telemetry.erasure_key_id()); a row made with another key cannot be matched.';
COMMENT ON COLUMN telemetry.erasures.kind IS 'forget (erased) or anonymize (pseudonymized).';
COMMENT ON COLUMN telemetry.erasures.erased_at IS 'When.';
COMMENT ON COLUMN telemetry.erasures.erased_by IS 'The role that called (session_user).';
COMMENT ON COLUMN telemetry.erasures.events IS 'Events deleted (forget) or given the pseudonym (anonymize).';
COMMENT ON COLUMN telemetry.erasures.quarantined IS 'Quarantined payloads deleted or given the pseudonym.';
COMMENT ON COLUMN telemetry.erasures.event_ids IS 'Dedup ledger entries of those events and payloads deleted.';
COMMENT ON COLUMN telemetry.erasures.opt_outs IS 'Opt-out rows deleted (forget only).';
COMMENT ON COLUMN telemetry.erasures.rollup_days IS 'Rolled-up days whose cells were recomputed in the same transaction.';
SELECT pg_catalog.pg_extension_config_dump('telemetry.erasures', '');
SELECT pg_catalog.pg_extension_config_dump('telemetry.erasures_id_seq', '');
COMMENT ON SEQUENCE telemetry.erasures_id_seq IS 'The numbers of telemetry.erasures.id.';

CREATE FUNCTION telemetry.erasure_hash(tenant_id uuid, user_id text)
RETURNS text
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'telemetry_erasure_hash';
COMMENT ON FUNCTION telemetry.erasure_hash(uuid, text) IS
    'Internal, the owner''s only (a hash oracle): the erasure ledger''s keyed hash of a user id.';
CREATE FUNCTION telemetry.erasure_key_id()
RETURNS text
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'telemetry_erasure_key_id';
COMMENT ON FUNCTION telemetry.erasure_key_id() IS
    'Internal: which hashing key the erasure ledger''s hashes are made with now (8 bytes of an HMAC of a fixed label, hex; tells nothing of the key).';

CREATE FUNCTION telemetry.detected_id_hash(tenant_id uuid, user_id text)
RETURNS text
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'telemetry_detected_id_hash';
COMMENT ON FUNCTION telemetry.detected_id_hash(uuid, text) IS
    'Internal, the owner''s only (a hash oracle): the keyed hash ingest stores a user_id as when the PII detectors flag it (docs/pii.md, "Policy"), or NULL when they find nothing; what erasure looks for besides the id as given.';

-- The erasure itself, as the owner (forget_user() and anonymize_user() call it after checking
-- the caller; reapply_erasures() with record false and the ledger row's time as the cutoff).
CREATE FUNCTION telemetry.erase_user(p_tenant uuid, p_user_id text, p_kind text, p_user_hash text, p_key_id text,
                                     p_record boolean, p_received_before timestamptz)
RETURNS TABLE (events bigint, quarantined bigint, event_ids bigint, opt_outs bigint, rollup_days integer)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    days date[];
    recomputed date[];
    today date := (pg_catalog.now() AT TIME ZONE 'UTC')::pg_catalog.date;
    n_events bigint := 0;
    n_quarantined bigint := 0;
    n_ids bigint := 0;
    n_opt_outs bigint := 0;
    pseudonym text;
    d date;
    -- The id as sent, and the keyed hash ingest stored instead when it showed personal data.
    hashed_form text := telemetry.detected_id_hash(p_tenant, p_user_id);
    forms text[] := ARRAY[p_user_id, hashed_form];
BEGIN
    -- Taken before any row is touched, as refresh_rollups() takes it: the cells recomputed
    -- below are never written by a refresh at the same time (and no wait can go round in a
    -- circle, since nothing is locked yet).
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('telemetry.refresh_rollups'));
    IF p_kind OPERATOR(pg_catalog.=) 'forget' THEN
        WITH gone AS (
            DELETE FROM telemetry.events e
            WHERE e.tenant_id OPERATOR(pg_catalog.=) p_tenant AND e.user_id OPERATOR(pg_catalog.=) ANY (forms)
              AND (p_received_before IS NULL OR e.received_at OPERATOR(pg_catalog.<=) p_received_before)
            RETURNING e.event_id, e.occurred_at),
        held AS (
            DELETE FROM telemetry.quarantine q
            WHERE q.tenant_id OPERATOR(pg_catalog.=) p_tenant AND q.user_id OPERATOR(pg_catalog.=) ANY (forms)
              AND (p_received_before IS NULL OR q.received_at OPERATOR(pg_catalog.<=) p_received_before)
            RETURNING q.event_id),
        ids AS (
            DELETE FROM telemetry.event_ids i
            WHERE i.tenant_id OPERATOR(pg_catalog.=) p_tenant
              AND i.event_id OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT g.event_id FROM gone g UNION SELECT h.event_id FROM held h))
            RETURNING 1)
        SELECT (SELECT pg_catalog.count(*) FROM gone), (SELECT pg_catalog.count(*) FROM held),
               (SELECT pg_catalog.count(*) FROM ids),
               (SELECT pg_catalog.array_agg(DISTINCT (g.occurred_at AT TIME ZONE 'UTC')::pg_catalog.date) FROM gone g)
        INTO n_events, n_quarantined, n_ids, days;
        DELETE FROM telemetry.opt_outs o
        WHERE o.tenant_id OPERATOR(pg_catalog.=) p_tenant AND o.user_id OPERATOR(pg_catalog.=) ANY (forms)
          AND (p_received_before IS NULL OR o.opted_out_at OPERATOR(pg_catalog.<=) p_received_before);
        GET DIAGNOSTICS n_opt_outs = ROW_COUNT;
    ELSE
        -- One pseudonym for all of the user's rows: their events stay one user to the counts,
        -- and nothing derives it from the id (random).
        pseudonym := 'anon:' OPERATOR(pg_catalog.||) pg_catalog.gen_random_uuid()::text;
        WITH renamed AS (
            UPDATE telemetry.events e SET user_id = pseudonym
            WHERE e.tenant_id OPERATOR(pg_catalog.=) p_tenant AND e.user_id OPERATOR(pg_catalog.=) ANY (forms)
              AND (p_received_before IS NULL OR e.received_at OPERATOR(pg_catalog.<=) p_received_before)
            RETURNING e.occurred_at)
        SELECT pg_catalog.count(*), pg_catalog.array_agg(DISTINCT (r.occurred_at AT TIME ZONE 'UTC')::pg_catalog.date)
        INTO n_events, days FROM renamed r;
        UPDATE telemetry.quarantine q SET user_id = pseudonym
        WHERE q.tenant_id OPERATOR(pg_catalog.=) p_tenant AND q.user_id OPERATOR(pg_catalog.=) ANY (forms)
          AND (p_received_before IS NULL OR q.received_at OPERATOR(pg_catalog.<=) p_received_before);
        GET DIAGNOSTICS n_quarantined = ROW_COUNT;
    END IF;
    -- The rollup cells of the user's rolled-up days, recomputed now from what remains, so the
    -- transaction that erases also corrects (exact counts and sketches). Only this tenant's
    -- days: the rest of the log is the worker's. A day older than the tenant's raw retention
    -- keeps its cells (nothing raw is left to recompute them from); the changes logged at commit
    -- make the next refresh recompute the same days again, which changes nothing.
    recomputed := ARRAY(
        SELECT x FROM pg_catalog.unnest(days) AS x
        WHERE x OPERATOR(pg_catalog.<) telemetry.rollup_watermark()
          AND NOT EXISTS (SELECT FROM telemetry.tenant_settings s
                          WHERE s.tenant_id OPERATOR(pg_catalog.=) p_tenant
                            AND x OPERATOR(pg_catalog.<) (today OPERATOR(pg_catalog.-) s.retention_days))
        ORDER BY x);
    FOREACH d IN ARRAY recomputed LOOP
        PERFORM telemetry.replace_rollup_cells(p_tenant, d, d, today, false);
    END LOOP;
    IF p_record THEN
        INSERT INTO telemetry.erasures (tenant_id, user_hash, key_id, kind, erased_by, events, quarantined, event_ids,
                                        opt_outs, rollup_days)
        VALUES (p_tenant, p_user_hash, p_key_id, p_kind, session_user, n_events, n_quarantined, n_ids, n_opt_outs,
                pg_catalog.cardinality(recomputed));
        -- A restore from an older backup finds the hashed form among stored ids: reapply_erasures()
        -- matches it by a ledger row of its own (its counts are on the row above).
        IF hashed_form IS NOT NULL THEN
            INSERT INTO telemetry.erasures (tenant_id, user_hash, key_id, kind, erased_by, events, quarantined,
                                            event_ids, opt_outs, rollup_days)
            VALUES (p_tenant, telemetry.erasure_hash(p_tenant, hashed_form), p_key_id, p_kind, session_user, 0, 0, 0, 0, 0);
        END IF;
    END IF;
    RETURN QUERY SELECT n_events, n_quarantined, n_ids, n_opt_outs, pg_catalog.cardinality(recomputed);
END
$$;
COMMENT ON FUNCTION telemetry.erase_user(uuid, text, text, text, text, boolean, timestamptz) IS
    'Internal, the owner''s only: the erasure that forget_user() (p_kind forget) and anonymize_user() (anonymize) run after checking the caller, and reapply_erasures() runs again (p_record false: no new ledger row; p_received_before: only rows received, or opt-outs made, by then).';

CREATE FUNCTION telemetry.forget_user(tenant_id uuid, user_id text)
RETURNS TABLE (events bigint, quarantined bigint, event_ids bigint, opt_outs bigint, rollup_days integer)
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'telemetry_forget_user';
COMMENT ON FUNCTION telemetry.forget_user(uuid, text) IS
    'GDPR erasure (docs/pii.md, "Erasure"): deletes, in the caller''s transaction, every event of user_id in the tenant, its quarantined payloads, their dedup ledger entries (telemetry.event_ids) and its opt-out; recomputes the rollup cells (daily_rollups, daily_totals: exact counts and sketches) of its rolled-up days from what remains (days older than the tenant''s raw retention keep their cells); records a row in telemetry.erasures with a keyed hash of user_id, never the id. Returns what it erased: events, quarantined, event_ids, opt_outs, rollup_days. For the tenant''s admins (telemetry.tenant_access), done as the extension''s owner. Errors: NULL tenant_id or user_id (22004); no admin access (42501).';

CREATE FUNCTION telemetry.anonymize_user(tenant_id uuid, user_id text)
RETURNS TABLE (events bigint, quarantined bigint, event_ids bigint, opt_outs bigint, rollup_days integer)
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'telemetry_anonymize_user';
COMMENT ON FUNCTION telemetry.anonymize_user(uuid, text) IS
    'GDPR pseudonymization (docs/pii.md, "Erasure"): keeps every event and quarantined payload of user_id in the tenant, and the counts, but replaces the id with one random pseudonym (anon: and a UUID, not derived from the id), in the caller''s transaction; recomputes the rollup cells of its rolled-up days (their sketches change); the opt-out is kept (it is the user''s choice, and holds no event); records a row in telemetry.erasures with a keyed hash of user_id. Returns events, quarantined, event_ids (0), opt_outs (0), rollup_days. For the tenant''s admins, done as the extension''s owner. Errors: NULL tenant_id or user_id (22004); no admin access (42501).';

-- The ledger again, after a restore: the rows of every user id whose keyed hash is in the
-- ledger, received before the erasure, are erased (or pseudonymized) again, without a new
-- ledger row. A user who came back after their erasure keeps what they sent since.
CREATE FUNCTION telemetry.reapply_erasures()
RETURNS TABLE (users bigint, events bigint, quarantined bigint, unmatched_key bigint)
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER  -- the ledger and the erasure are the owner's; EXECUTE is the maintenance level's
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key text := telemetry.erasure_key_id();
    found record;
    done record;
    touched boolean;
    n_users bigint := 0;
    n_events bigint := 0;
    n_quarantined bigint := 0;
    n_unmatched bigint;
BEGIN
    -- Each distinct user id of the tenants in the ledger, hashed once, with the last forget and
    -- the last anonymize of its hash: rows received by the forget go; of the rest, those
    -- received by the anonymize get a pseudonym.
    FOR found IN
        WITH ids AS (
            SELECT e.tenant_id, e.user_id FROM telemetry.events e
            WHERE e.user_id IS NOT NULL AND e.tenant_id IN (SELECT l.tenant_id FROM telemetry.erasures l)
            UNION
            SELECT q.tenant_id, q.user_id FROM telemetry.quarantine q
            WHERE q.user_id IS NOT NULL AND q.tenant_id IN (SELECT l.tenant_id FROM telemetry.erasures l)
            UNION
            SELECT o.tenant_id, o.user_id FROM telemetry.opt_outs o
            WHERE o.tenant_id IN (SELECT l.tenant_id FROM telemetry.erasures l)),
        hashed AS (
            SELECT i.tenant_id, i.user_id, telemetry.erasure_hash(i.tenant_id, i.user_id) AS user_hash FROM ids i)
        SELECT h.tenant_id, h.user_id, h.user_hash, m.forgotten_at, m.anonymized_at
        FROM hashed h
        JOIN LATERAL (
            SELECT pg_catalog.max(l.erased_at) FILTER (WHERE l.kind OPERATOR(pg_catalog.=) 'forget') AS forgotten_at,
                   pg_catalog.max(l.erased_at) FILTER (WHERE l.kind OPERATOR(pg_catalog.=) 'anonymize') AS anonymized_at
            FROM telemetry.erasures l
            WHERE l.tenant_id OPERATOR(pg_catalog.=) h.tenant_id AND l.user_hash OPERATOR(pg_catalog.=) h.user_hash
              AND l.key_id OPERATOR(pg_catalog.=) key) m ON true
        WHERE m.forgotten_at IS NOT NULL OR m.anonymized_at IS NOT NULL
    LOOP
        touched := false;
        IF found.forgotten_at IS NOT NULL THEN
            SELECT * INTO done FROM telemetry.erase_user(found.tenant_id, found.user_id, 'forget', found.user_hash, key,
                                                         false, found.forgotten_at);
            touched := done.events OPERATOR(pg_catalog.>) 0 OR done.quarantined OPERATOR(pg_catalog.>) 0
                       OR done.opt_outs OPERATOR(pg_catalog.>) 0;
            n_events := n_events OPERATOR(pg_catalog.+) done.events;
            n_quarantined := n_quarantined OPERATOR(pg_catalog.+) done.quarantined;
        END IF;
        IF found.anonymized_at IS NOT NULL THEN
            SELECT * INTO done FROM telemetry.erase_user(found.tenant_id, found.user_id, 'anonymize', found.user_hash,
                                                         key, false, found.anonymized_at);
            touched := touched OR done.events OPERATOR(pg_catalog.>) 0 OR done.quarantined OPERATOR(pg_catalog.>) 0;
            n_events := n_events OPERATOR(pg_catalog.+) done.events;
            n_quarantined := n_quarantined OPERATOR(pg_catalog.+) done.quarantined;
        END IF;
        IF touched THEN
            n_users := n_users OPERATOR(pg_catalog.+) 1;
        END IF;
    END LOOP;
    n_unmatched := (SELECT pg_catalog.count(*) FROM telemetry.erasures l WHERE l.key_id OPERATOR(pg_catalog.<>) key);
    IF n_unmatched OPERATOR(pg_catalog.>) 0 THEN
        RAISE WARNING '% erasure ledger rows were made with another hashing key and cannot be applied', n_unmatched
            USING HINT = 'Set telemetry.pii_hash_key to the key of the database they were made in (docs/operations.md), then run telemetry.reapply_erasures().';
    END IF;
    RETURN QUERY SELECT n_users, n_events, n_quarantined, n_unmatched;
END
$$;
COMMENT ON FUNCTION telemetry.reapply_erasures() IS
    'Applies the erasure ledger (telemetry.erasures) again: the rows of every user id in the events, quarantine or opt-outs of a tenant whose keyed hash a ledger row holds, received (or opted out) by the last forget of that hash, are erased; of the rest, those received by its last anonymize get a pseudonym; rollups corrected; no new ledger row. For a database restored from a backup older than an erasure: copy the current ledger in, then run it (resume_maintenance() does). Returns the users, events and quarantined payloads it erased or pseudonymized again, and unmatched_key: ledger rows made with another hashing key, which it cannot match (a WARNING says so: keep telemetry.pii_hash_key across restores, docs/operations.md). Maintenance level.';
-- Daily rollups (docs/rollup.md): per tenant, UTC day and event type, the weighted event count,
-- exact distinct users and sessions, and a HyperLogLog sketch of the users that merges across
-- days. TimescaleDB's continuous aggregates reduced to days (DESIGN.md §6):
--
--   threshold   telemetry.rollup_state.threshold: a change to an event of a day before it is
--               logged in telemetry.rollup_invalidations, in the changing transaction;
--   watermark   rollup_watermark(): the days before it are materialized; readers take rollups
--               below it and raw events from it on, in one snapshot;
--   refresh     recomputes only the logged (tenant, day) cells, so its work follows what
--               changed, not the size of the table;
--   frozen      a day older than its tenant's raw retention (or than the oldest partition) is
--               never recomputed: retention removes raw events, never the rollups made of them.
--
-- The order that loses no late event (test/isolation/specs/rollup_watermark.spec): writers read
-- the threshold after taking their lock on telemetry.events; advance_rollups() moves it in a
-- transaction of its own, and refresh_rollups() waits for every writer holding that lock
-- (which may have read the old threshold) to finish before materializing the days it closed.

-- One row, written by advance_rollups(); none before the first run.
CREATE TABLE telemetry.rollup_state (
    singleton   boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    threshold   date        NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE telemetry.rollup_state IS 'The rollups'' invalidation threshold, one row written by telemetry.advance_rollups() (none before its first run). Backends cache it (trigger rollup_state_changed).';
COMMENT ON COLUMN telemetry.rollup_state.singleton IS 'Always true: the table has at most one row.';
COMMENT ON COLUMN telemetry.rollup_state.threshold IS 'The first UTC day not yet closed: an insert, update or delete of an event of an earlier day is logged in telemetry.rollup_invalidations.';
COMMENT ON COLUMN telemetry.rollup_state.updated_at IS 'When the threshold last moved.';
SELECT pg_catalog.pg_extension_config_dump('telemetry.rollup_state', '');
CREATE TRIGGER rollup_state_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON telemetry.rollup_state
    FOR EACH STATEMENT EXECUTE FUNCTION telemetry.table_changed();
ALTER TABLE telemetry.rollup_state ENABLE ALWAYS TRIGGER rollup_state_changed;

-- The invalidation log: ranges of days whose rollup cells must be recomputed.
CREATE TABLE telemetry.rollup_invalidations (
    tenant_id   uuid,
    first_day   date        NOT NULL,
    last_day    date        NOT NULL,
    reason      text        NOT NULL CHECK (reason OPERATOR(pg_catalog.=) ANY
                                            (ARRAY['insert', 'update', 'delete', 'truncate', 'closed', 'manual'])),
    logged_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CHECK (last_day OPERATOR(pg_catalog.>=) first_day)
);
COMMENT ON TABLE telemetry.rollup_invalidations IS 'The rollups'' invalidation log: ranges of UTC days of a tenant (or of every tenant) whose cells telemetry.refresh_rollups() recomputes and then deletes. Written when a transaction that changed events of closed days commits (one row per tenant and kind of change), by a TRUNCATE, by advance_rollups() for the days it closes, and by invalidate_rollups(). Row-level security: a tenant''s admins see its rows.';
COMMENT ON COLUMN telemetry.rollup_invalidations.tenant_id IS 'The tenant; NULL: every tenant (days closed, TRUNCATE, invalidate_rollups(NULL, ...)).';
COMMENT ON COLUMN telemetry.rollup_invalidations.first_day IS 'The first UTC day of the range.';
COMMENT ON COLUMN telemetry.rollup_invalidations.last_day IS 'The last UTC day of the range (inclusive).';
COMMENT ON COLUMN telemetry.rollup_invalidations.reason IS 'What logged it: insert, update, delete or truncate of events; closed (advance_rollups); manual (invalidate_rollups).';
COMMENT ON COLUMN telemetry.rollup_invalidations.logged_at IS 'When the logging transaction began.';
SELECT pg_catalog.pg_extension_config_dump('telemetry.rollup_invalidations', '');
CREATE INDEX rollup_invalidations_days ON telemetry.rollup_invalidations (first_day, last_day);

-- The rollups. users_hll uses the hll type of the hll extension, wherever it was installed:
-- this script names it by its schema (a SECURITY DEFINER function never searches a schema
-- other roles may write to).
DO $$
DECLARE
    hll_schema name := (SELECT n.nspname FROM pg_catalog.pg_extension x
                        JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) x.extnamespace
                        WHERE x.extname OPERATOR(pg_catalog.=) 'hll');
BEGIN
    EXECUTE pg_catalog.format($sql$
        CREATE TABLE telemetry.daily_rollups (
            tenant_id     uuid        NOT NULL,
            day           date        NOT NULL,
            name          text        NOT NULL,
            events        numeric     NOT NULL,
            raw_events    bigint      NOT NULL,
            users         bigint      NOT NULL,
            users_hll     %1$I.hll(15, 5) NOT NULL,
            sessions      bigint      NOT NULL,
            refreshed_at  timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, day, name)
        )$sql$, hll_schema);
    EXECUTE pg_catalog.format($sql$
        CREATE TABLE telemetry.daily_totals (
            tenant_id     uuid        NOT NULL,
            day           date        NOT NULL,
            events        numeric     NOT NULL,
            raw_events    bigint      NOT NULL,
            users         bigint,
            users_hll     %1$I.hll(15, 5) NOT NULL,
            sessions      bigint,
            refreshed_at  timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, day)
        )$sql$, hll_schema);
END
$$;
CREATE INDEX daily_rollups_day ON telemetry.daily_rollups (day);
COMMENT ON TABLE telemetry.daily_rollups IS 'Daily rollups of telemetry.events per tenant, UTC day and event type, kept by the maintenance worker (telemetry.run_maintenance): complete for the days before telemetry.rollup_watermark() except cells with a pending invalidation; kept telemetry.rollup_retention_days, longer than raw events. Row-level security: a role reads the rows of the tenants it has read access to.';
COMMENT ON COLUMN telemetry.daily_rollups.tenant_id IS 'The tenant.';
COMMENT ON COLUMN telemetry.daily_rollups.day IS 'The UTC day of occurred_at.';
COMMENT ON COLUMN telemetry.daily_rollups.name IS 'The event type.';
COMMENT ON COLUMN telemetry.daily_rollups.events IS 'Events, weighted: the sum of sample_weight (an event kept at sample_rate 0.1 counts 10).';
COMMENT ON COLUMN telemetry.daily_rollups.raw_events IS 'Events stored, unweighted.';
COMMENT ON COLUMN telemetry.daily_rollups.users IS 'Exact count of distinct non-NULL user_id that day (unweighted: sampling keeps or drops whole events, not users).';
COMMENT ON COLUMN telemetry.daily_rollups.users_hll IS 'HyperLogLog sketch of the day''s user_id (hll_hash_text; log2m 15, regwidth 5: standard error 0.57 %, so within 1.7 % at three standard errors; docs/rollup.md): hll_union_agg over days, then hll_cardinality, counts distinct users across days.';
COMMENT ON COLUMN telemetry.daily_rollups.sessions IS 'Exact count of distinct non-NULL session_id that day.';
COMMENT ON COLUMN telemetry.daily_rollups.refreshed_at IS 'When the cell was last computed.';
SELECT pg_catalog.pg_extension_config_dump('telemetry.daily_rollups', '');
-- The same, over every event type: daily active users exactly, without adding up types (a user
-- active in two types is one user).
CREATE INDEX daily_totals_day ON telemetry.daily_totals (day);
COMMENT ON TABLE telemetry.daily_totals IS 'Daily rollups of telemetry.events per tenant and UTC day over every event type (daily active users), kept with telemetry.daily_rollups by the same refresh, for the same days and with the same retention. Row-level security: a role reads the rows of the tenants it has read access to.';
COMMENT ON COLUMN telemetry.daily_totals.tenant_id IS 'The tenant.';
COMMENT ON COLUMN telemetry.daily_totals.day IS 'The UTC day of occurred_at.';
COMMENT ON COLUMN telemetry.daily_totals.events IS 'Events of every type, weighted: the sum of sample_weight.';
COMMENT ON COLUMN telemetry.daily_totals.raw_events IS 'Events stored, unweighted.';
COMMENT ON COLUMN telemetry.daily_totals.users IS 'Exact count of distinct non-NULL user_id that day, over every event type (the daily active users). NULL for a day rolled up before 0.6.0 whose raw events were gone when it was upgraded (users_hll estimates it).';
COMMENT ON COLUMN telemetry.daily_totals.users_hll IS 'HyperLogLog sketch of the day''s user_id over every event type (as daily_rollups.users_hll).';
COMMENT ON COLUMN telemetry.daily_totals.sessions IS 'Exact count of distinct non-NULL session_id that day; NULL as users.';
COMMENT ON COLUMN telemetry.daily_totals.refreshed_at IS 'When the row was last computed.';
SELECT pg_catalog.pg_extension_config_dump('telemetry.daily_totals', '');

-- The triggers that note changes to events of closed days (src/pg/rollup/rollup_log): a row
-- trigger, cloned onto every partition whatever it is (heap, sub-partitioned, foreign: statement
-- triggers with transition tables cannot collect rows of foreign partitions), and one for
-- TRUNCATE. The note is written to the log when the changing transaction commits, one row per
-- tenant and kind of change. track(), track_batch() and replay_quarantine() write below the
-- executor and note their own events, with a comparison per event.
CREATE FUNCTION telemetry.log_event_changes()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'telemetry_log_event_changes';
COMMENT ON FUNCTION telemetry.log_event_changes() IS
    'Internal trigger function of telemetry.events (enabled ALWAYS): AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW notes the (tenant, day) of a change before the rollup threshold, written to telemetry.rollup_invalidations when the transaction commits; AFTER TRUNCATE logs every closed day of every tenant. Raises 39P01 when not called as such a trigger.';
CREATE TRIGGER events_log_changes AFTER INSERT OR UPDATE OR DELETE ON telemetry.events
    FOR EACH ROW EXECUTE FUNCTION telemetry.log_event_changes();
CREATE TRIGGER events_log_truncates AFTER TRUNCATE ON telemetry.events
    FOR EACH STATEMENT EXECUTE FUNCTION telemetry.log_event_changes();
ALTER TABLE telemetry.events ENABLE ALWAYS TRIGGER events_log_changes;
ALTER TABLE telemetry.events ENABLE ALWAYS TRIGGER events_log_truncates;

-- Internal: waits until every transaction holding a lock on telemetry.events or one of its
-- partitions that conflicts with SHARE (every writer) has ended, without blocking new ones
-- (CREATE INDEX CONCURRENTLY's wait). Subject to lock_timeout.
CREATE FUNCTION telemetry.wait_for_event_writers()
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'telemetry_wait_for_event_writers';
COMMENT ON FUNCTION telemetry.wait_for_event_writers() IS
    'Internal, for refresh_rollups(): waits for every transaction that is writing telemetry.events or one of its partitions to end, without blocking new writers. Subject to lock_timeout (55P03); 55000 unless the transaction is READ COMMITTED (the reads that follow need snapshots taken after the wait).';

-- The first day whose rollups are not materialized: the threshold, or the first day of a
-- range it closed that refresh_rollups() has not materialized yet. NULL before the first run.
CREATE FUNCTION telemetry.rollup_watermark()
RETURNS date
LANGUAGE sql STABLE
SECURITY DEFINER  -- reads the log of every tenant for a value that names none
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT LEAST(s.threshold,
                            (SELECT pg_catalog.min(i.first_day) FROM telemetry.rollup_invalidations i
                             WHERE i.reason OPERATOR(pg_catalog.=) 'closed'))
    FROM telemetry.rollup_state s
$$;
COMMENT ON FUNCTION telemetry.rollup_watermark() IS
    'The rollups'' watermark: the first UTC day whose rollups are not yet materialized (days before it are in telemetry.daily_rollups, but for cells with a pending invalidation); NULL before maintenance first ran. Read it in the same snapshot as the rollups (docs/rollup.md).';

-- Logs a range of days to recompute, for changes that fired no trigger (a TRUNCATE of one
-- partition, data loaded with triggers disabled). As the caller (SECURITY INVOKER): its access
-- is checked here for a clear error, and again by the log's row-level policies, which let a
-- tenant's admins add 'manual' rows of their tenants only.
CREATE FUNCTION telemetry.invalidate_rollups(p_tenant_id uuid, p_from date, p_to date)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_from IS NULL OR p_to IS NULL OR p_to OPERATOR(pg_catalog.<) p_from THEN
        RAISE EXCEPTION 'p_from and p_to must be days with p_from <= p_to' USING ERRCODE = '22023';
    END IF;
    -- Every tenant (NULL) is maintenance's business.
    PERFORM telemetry.require_tenant_access(p_tenant_id, CASE WHEN p_tenant_id IS NULL THEN 'maintain' ELSE 'admin' END);
    INSERT INTO telemetry.rollup_invalidations (tenant_id, first_day, last_day, reason)
    VALUES (p_tenant_id, p_from, p_to, 'manual');
END
$$;
COMMENT ON FUNCTION telemetry.invalidate_rollups(uuid, date, date) IS
    'Logs the UTC days p_from..p_to (inclusive) of a tenant (NULL: every tenant) for recomputation by the next refresh_rollups(): after changes to telemetry.events that fired no trigger (a TRUNCATE of one partition, triggers disabled). Frozen days stay as they are. Runs as the caller. Errors: a missing or reversed range (22023); no admin access to the tenant, or no maintenance access for NULL (42501).';

-- Moves the threshold to p_now's UTC day: the days before it are closed, and logged for
-- refresh_rollups() to materialize. Commit before refresh_rollups() runs (run_maintenance does).
CREATE FUNCTION telemetry.advance_rollups(p_now timestamptz DEFAULT pg_catalog.now())
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER  -- maintenance access; the state belongs to the owner
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target date;
    previous date;
    first_closed date;
BEGIN
    IF p_now IS NULL OR NOT pg_catalog.isfinite(p_now) THEN
        RAISE EXCEPTION 'p_now must be a finite timestamp' USING ERRCODE = '22008';
    END IF;
    target := (p_now AT TIME ZONE 'UTC')::pg_catalog.date;
    SELECT s.threshold INTO previous FROM telemetry.rollup_state s FOR UPDATE;
    IF previous IS NOT NULL AND previous OPERATOR(pg_catalog.>=) target THEN
        RETURN 0;  -- it only moves forward
    END IF;
    -- The first run closes every day that has a partition.
    first_closed := coalesce(previous, (SELECT pg_catalog.min(p.day) FROM telemetry.partitions() p), target);
    INSERT INTO telemetry.rollup_state AS s (singleton, threshold, updated_at) VALUES (true, target, pg_catalog.now())
    ON CONFLICT (singleton) DO UPDATE SET threshold = excluded.threshold, updated_at = excluded.updated_at;
    IF first_closed OPERATOR(pg_catalog.<) target THEN
        INSERT INTO telemetry.rollup_invalidations (tenant_id, first_day, last_day, reason)
        VALUES (NULL, first_closed, target OPERATOR(pg_catalog.-) 1, 'closed');
    END IF;
    RETURN GREATEST(target OPERATOR(pg_catalog.-) first_closed, 0);
END
$$;
COMMENT ON FUNCTION telemetry.advance_rollups(timestamptz) IS
    'Maintenance step: moves the rollup threshold forward to the UTC day of p_now, closing the days before it (the first run closes every day that has a partition), and logs them for refresh_rollups(); returns how many days it closed. Commit before refresh_rollups() (run_maintenance() does). Errors: p_now NULL or infinite (22008).';

-- Recomputes the logged cells, at most p_max_days days of ranges per call (the rest stays in
-- the log for the next call), and returns how many cells it wrote.
-- Replaces the rollup cells and daily totals of a tenant's days (p_tenant NULL: every tenant)
-- with what the events give now: for each range refresh_rollups() takes from the log, and for
-- the days of a user erase_user() erased. A day older than its tenant's own, shorter retention
-- (tenant_settings.retention_days) is frozen for that tenant and stays as it is, unless it is
-- being closed (p_closed: materialized for the first time). Returns the cells written.
CREATE FUNCTION telemetry.replace_rollup_cells(p_tenant uuid, p_first_day date, p_last_day date, p_today date,
                                               p_closed boolean)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    hll_schema name := (SELECT n.nspname FROM pg_catalog.pg_extension x
                        JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) x.extnamespace
                        WHERE x.extname OPERATOR(pg_catalog.=) 'hll');
    n bigint;
BEGIN
    DELETE FROM telemetry.daily_rollups r
    WHERE r.day OPERATOR(pg_catalog.>=) p_first_day AND r.day OPERATOR(pg_catalog.<=) p_last_day
      AND (p_tenant IS NULL OR r.tenant_id OPERATOR(pg_catalog.=) p_tenant)
      AND (p_closed OR NOT EXISTS (
              SELECT FROM telemetry.tenant_settings s
              WHERE s.tenant_id OPERATOR(pg_catalog.=) r.tenant_id
                AND r.day OPERATOR(pg_catalog.<) (p_today OPERATOR(pg_catalog.-) s.retention_days)));
    DELETE FROM telemetry.daily_totals r
    WHERE r.day OPERATOR(pg_catalog.>=) p_first_day AND r.day OPERATOR(pg_catalog.<=) p_last_day
      AND (p_tenant IS NULL OR r.tenant_id OPERATOR(pg_catalog.=) p_tenant)
      AND (p_closed OR NOT EXISTS (
              SELECT FROM telemetry.tenant_settings s
              WHERE s.tenant_id OPERATOR(pg_catalog.=) r.tenant_id
                AND r.day OPERATOR(pg_catalog.<) (p_today OPERATOR(pg_catalog.-) s.retention_days)));
    -- One read of the days' events for both tables: the cells per event type, and the
    -- totals per day (grouping sets: GROUPING(name) is 1 on the totals).
    EXECUTE pg_catalog.format($sql$
        WITH cells AS (
            SELECT e.tenant_id, (e.occurred_at AT TIME ZONE 'UTC')::pg_catalog.date AS day, e.name,
                   GROUPING(e.name) AS all_types,
                   pg_catalog.sum(e.sample_weight::pg_catalog.numeric) AS events, pg_catalog.count(*) AS raw_events,
                   pg_catalog.count(DISTINCT e.user_id) AS users,
                   coalesce(%1$I.hll_add_agg(%1$I.hll_hash_text(e.user_id), 15, 5), %1$I.hll_empty(15, 5)) AS users_hll,
                   pg_catalog.count(DISTINCT e.session_id) AS sessions
            FROM telemetry.events e
            LEFT JOIN telemetry.tenant_settings s ON s.tenant_id OPERATOR(pg_catalog.=) e.tenant_id
            WHERE e.occurred_at OPERATOR(pg_catalog.>=) ($1::pg_catalog.timestamp AT TIME ZONE 'UTC')
              AND e.occurred_at OPERATOR(pg_catalog.<) (($2 OPERATOR(pg_catalog.+) 1)::pg_catalog.timestamp AT TIME ZONE 'UTC')
              AND ($3::pg_catalog.uuid IS NULL OR e.tenant_id OPERATOR(pg_catalog.=) $3)
              AND ($5 OR s.retention_days IS NULL OR e.occurred_at OPERATOR(pg_catalog.>=)
                  (($4 OPERATOR(pg_catalog.-) s.retention_days)::pg_catalog.timestamp AT TIME ZONE 'UTC'))
            GROUP BY GROUPING SETS ((1, 2, e.name), (1, 2))),
        typed AS (
            INSERT INTO telemetry.daily_rollups
                (tenant_id, day, name, events, raw_events, users, users_hll, sessions, refreshed_at)
            SELECT c.tenant_id, c.day, c.name, c.events, c.raw_events, c.users, c.users_hll, c.sessions,
                   pg_catalog.now()
            FROM cells c WHERE c.all_types OPERATOR(pg_catalog.=) 0
            RETURNING 1),
        totals AS (
            INSERT INTO telemetry.daily_totals
                (tenant_id, day, events, raw_events, users, users_hll, sessions, refreshed_at)
            SELECT c.tenant_id, c.day, c.events, c.raw_events, c.users, c.users_hll, c.sessions, pg_catalog.now()
            FROM cells c WHERE c.all_types OPERATOR(pg_catalog.=) 1
            RETURNING 1)
        -- (a data-modifying WITH runs to completion whether read or not)
        SELECT pg_catalog.count(*) FROM typed$sql$,
        hll_schema)
    INTO n
    USING p_first_day, p_last_day, p_tenant, p_today, p_closed;
    RETURN n;
END
$$;
COMMENT ON FUNCTION telemetry.replace_rollup_cells(uuid, date, date, date, boolean) IS
    'Internal (the owner''s): replaces the daily_rollups cells and daily_totals rows of a tenant''s days (NULL: every tenant) in [p_first_day, p_last_day] with what telemetry.events gives now; a day older than the tenant''s own retention at p_today is kept unless p_closed. For refresh_rollups() and erase_user(). Returns the cells written.';

CREATE FUNCTION telemetry.refresh_rollups(p_now timestamptz DEFAULT pg_catalog.now(), p_max_days integer DEFAULT 100)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER  -- maintenance access; rollups and the log belong to the owner
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    threshold date;
    oldest_partition date := (SELECT pg_catalog.min(p.day) FROM telemetry.partitions() p);
    today date;
    budget integer := p_max_days;
    covered pg_catalog.datemultirange := '{}';
    new_days integer;
    range record;
    first_day date;
    last_day date;
    written bigint := 0;
    n bigint;
BEGIN
    IF p_now IS NULL OR NOT pg_catalog.isfinite(p_now) THEN
        RAISE EXCEPTION 'p_now must be a finite timestamp' USING ERRCODE = '22008';
    END IF;
    IF p_max_days IS NULL OR p_max_days OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'p_max_days must be at least 1' USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT FROM telemetry.rollup_state s
               WHERE s.xmin OPERATOR(pg_catalog.=) pg_catalog.xid(pg_catalog.pg_current_xact_id_if_assigned())) THEN
        RAISE EXCEPTION 'the rollup threshold moved in this transaction: commit before refresh_rollups()'
            USING ERRCODE = '55000',
                  DETAIL = 'Writers that read the old threshold are waited for only once the new one is committed.';
    END IF;
    -- One refresher at a time.
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('telemetry.refresh_rollups'));
    SELECT s.threshold INTO threshold FROM telemetry.rollup_state s;
    IF threshold IS NULL THEN
        RETURN 0;
    END IF;
    today := (p_now AT TIME ZONE 'UTC')::pg_catalog.date;
    -- Days newly closed may have writers in flight that read the old threshold and logged
    -- nothing: wait for them to end. Every later statement here has a newer snapshot, which
    -- sees what they committed (READ COMMITTED, checked by the wait).
    IF EXISTS (SELECT FROM telemetry.rollup_invalidations i WHERE i.reason OPERATOR(pg_catalog.=) 'closed') THEN
        PERFORM telemetry.wait_for_event_writers();
    END IF;
    -- Take the log as this snapshot sees it, merged per tenant (NULL: every tenant), and cut to
    -- the days that can be recomputed: closed, and with a partition (a day without one is
    -- frozen: its events are gone; retention drops no partition with logged days).
    FOR range IN
        WITH taken AS (
            DELETE FROM telemetry.rollup_invalidations i RETURNING i.tenant_id, i.first_day, i.last_day, i.reason),
        cut AS (
            SELECT t.tenant_id, t.reason OPERATOR(pg_catalog.=) 'closed' AS closed,
                   GREATEST(t.first_day, oldest_partition) AS first_day,
                   LEAST(t.last_day, threshold OPERATOR(pg_catalog.-) 1) AS last_day
            FROM taken t)
        SELECT c.tenant_id, c.closed,
               pg_catalog.unnest(pg_catalog.range_agg(pg_catalog.daterange(c.first_day, c.last_day, '[]'))) AS days
        FROM cut c
        WHERE c.first_day OPERATOR(pg_catalog.<=) c.last_day
        GROUP BY c.tenant_id, c.closed
        ORDER BY 3
    LOOP
        first_day := pg_catalog.lower(range.days);
        last_day := pg_catalog.upper(range.days) OPERATOR(pg_catalog.-) 1;
        -- The budget counts distinct days (a day of every tenant costs about what the same day
        -- of each tenant in turn does): what is over it goes back into the log, for the next call.
        new_days := (SELECT coalesce(pg_catalog.sum(pg_catalog.upper(x) OPERATOR(pg_catalog.-) pg_catalog.lower(x)), 0)
                     FROM pg_catalog.unnest(pg_catalog.datemultirange(range.days) OPERATOR(pg_catalog.-) covered) AS x);
        IF new_days OPERATOR(pg_catalog.>) budget THEN
            IF budget OPERATOR(pg_catalog.<) 1 THEN
                INSERT INTO telemetry.rollup_invalidations (tenant_id, first_day, last_day, reason)
                VALUES (range.tenant_id, first_day, last_day, CASE WHEN range.closed THEN 'closed' ELSE 'manual' END);
                CONTINUE;
            END IF;
            INSERT INTO telemetry.rollup_invalidations (tenant_id, first_day, last_day, reason)
            VALUES (range.tenant_id, first_day OPERATOR(pg_catalog.+) budget, last_day,
                    CASE WHEN range.closed THEN 'closed' ELSE 'manual' END);
            last_day := first_day OPERATOR(pg_catalog.+) budget OPERATOR(pg_catalog.-) 1;
        END IF;
        new_days := (SELECT coalesce(pg_catalog.sum(pg_catalog.upper(x) OPERATOR(pg_catalog.-) pg_catalog.lower(x)), 0)
                     FROM pg_catalog.unnest(pg_catalog.datemultirange(pg_catalog.daterange(first_day, last_day, '[]'))
                                            OPERATOR(pg_catalog.-) covered) AS x);
        budget := budget OPERATOR(pg_catalog.-) new_days;
        covered := covered OPERATOR(pg_catalog.+) pg_catalog.datemultirange(pg_catalog.daterange(first_day, last_day, '[]'));
        -- Replace the cells of those days (frozen days kept).
        n := telemetry.replace_rollup_cells(range.tenant_id, first_day, last_day, today, range.closed);
        written := written OPERATOR(pg_catalog.+) n;
    END LOOP;
    RETURN written;
END
$$;
COMMENT ON FUNCTION telemetry.refresh_rollups(timestamptz, integer) IS
    'Maintenance step: recomputes the rollup cells telemetry.rollup_invalidations names (merged per tenant; at most p_max_days distinct days per call, the rest stays logged) from telemetry.events, and returns how many cells it wrote. Days not yet closed and days without a partition are dropped from the log and left as they are; so are, for a change logged after they were materialized, days older than their tenant''s own retention (tenant_settings.retention_days) at p_now (frozen). When days were just closed it first waits for the writers in flight. Errors: p_now NULL or infinite (22008); p_max_days below 1 (22023); the threshold moved in this transaction, or days just closed under an isolation level above READ COMMITTED (55000); writers holding on past lock_timeout (55P03).';
-- Maintenance (docs/worker.md): the steps that keep partitions, rollups and retention, each a
-- SQL function of its own with p_now for reproducible runs; their run history and back-off; and
-- run_maintenance(), which chains them. The background worker (src/pg/worker) is only a
-- scheduler: it runs the same sequence as run_maintenance(), each step in its own transaction.

CREATE SEQUENCE telemetry.maintenance_runs_id_seq;
COMMENT ON SEQUENCE telemetry.maintenance_runs_id_seq IS 'The ids of maintenance runs (telemetry.maintenance_runs.run_id).';

-- One row per step of each run. Inserted as running and committed before the step works, so a
-- step whose process died (crash, kill, termination) is found still running by the next run,
-- which marks it failed. Trimmed by the trim_maintenance_runs step.
CREATE TABLE telemetry.maintenance_runs (
    run_id         bigint      NOT NULL,
    step           text        NOT NULL,
    started_at     timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    finished_at    timestamptz,
    status         text        NOT NULL DEFAULT 'running'
                               CHECK (status OPERATOR(pg_catalog.=) ANY (ARRAY['running', 'succeeded', 'failed'])),
    rows_affected  bigint,
    sqlstate       text,
    message        text,
    PRIMARY KEY (run_id, step)
);
CREATE INDEX maintenance_runs_started ON telemetry.maintenance_runs (started_at);
COMMENT ON TABLE telemetry.maintenance_runs IS 'The history of maintenance runs, one row per step run: kept telemetry.maintenance_history_days and at most 1,000 rows per step and status (trim_maintenance_runs). Error messages only, never the detail of an error (it may quote event values).';
COMMENT ON COLUMN telemetry.maintenance_runs.run_id IS 'The run (telemetry.maintenance_runs_id_seq).';
COMMENT ON COLUMN telemetry.maintenance_runs.step IS 'The step: create_partitions, advance_rollups, refresh_rollups, drop_expired_partitions, delete_expired_tenant_events, drop_expired_rollups, purge_event_ids, trim_maintenance_runs.';
COMMENT ON COLUMN telemetry.maintenance_runs.started_at IS 'When the step started (wall clock, whatever p_now the run was given).';
COMMENT ON COLUMN telemetry.maintenance_runs.finished_at IS 'When it finished; NULL while running.';
COMMENT ON COLUMN telemetry.maintenance_runs.status IS 'running, succeeded or failed (an error, or the process ended during the step).';
COMMENT ON COLUMN telemetry.maintenance_runs.rows_affected IS 'What the step returned: partitions made or dropped, days closed, rollup cells written, rows deleted.';
COMMENT ON COLUMN telemetry.maintenance_runs.sqlstate IS 'The SQLSTATE of the failure.';
COMMENT ON COLUMN telemetry.maintenance_runs.message IS 'The error message of the failure (at most 500 characters; quoted values of data errors, SQLSTATE classes 22 and 23, are elided).';

-- Per step: what the last runs did, and the back-off after failures.
CREATE TABLE telemetry.maintenance_steps (
    step                  text        PRIMARY KEY,
    last_started_at       timestamptz,
    last_success_at       timestamptz,
    last_failure_at       timestamptz,
    consecutive_failures  integer     NOT NULL DEFAULT 0,
    next_attempt_at       timestamptz,
    last_sqlstate         text,
    last_message          text,
    last_duration         interval
);
COMMENT ON TABLE telemetry.maintenance_steps IS 'The state of each maintenance step: last start, success and failure, and the back-off: after k failures in a row a step is skipped until naptime × (2^(k-1) - 1) has passed (at most telemetry.maintenance_max_backoff), so the first failure is retried at the next run.';
COMMENT ON COLUMN telemetry.maintenance_steps.step IS 'The step (as in maintenance_runs).';
COMMENT ON COLUMN telemetry.maintenance_steps.last_started_at IS 'When it last started.';
COMMENT ON COLUMN telemetry.maintenance_steps.last_success_at IS 'When it last succeeded.';
COMMENT ON COLUMN telemetry.maintenance_steps.last_failure_at IS 'When it last failed.';
COMMENT ON COLUMN telemetry.maintenance_steps.consecutive_failures IS 'Failures since the last success.';
COMMENT ON COLUMN telemetry.maintenance_steps.next_attempt_at IS 'Before this time runs skip the step (back-off); NULL: no back-off.';
COMMENT ON COLUMN telemetry.maintenance_steps.last_sqlstate IS 'The SQLSTATE of the last failure.';
COMMENT ON COLUMN telemetry.maintenance_steps.last_message IS 'The message of the last failure (as in maintenance_runs).';
COMMENT ON COLUMN telemetry.maintenance_steps.last_duration IS 'How long the last completed attempt took.';

-- Drops whole partitions past telemetry.retention_days, oldest first, once their days are rolled up.
CREATE FUNCTION telemetry.drop_expired_partitions(p_now timestamptz DEFAULT pg_catalog.now())
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER  -- partitions belong to the owner
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    horizon timestamptz;
    watermark date := telemetry.rollup_watermark();
    part record;
    dropped integer := 0;
BEGIN
    IF p_now IS NULL OR NOT pg_catalog.isfinite(p_now) THEN
        RAISE EXCEPTION 'p_now must be a finite timestamp' USING ERRCODE = '22008';
    END IF;
    horizon := (((p_now AT TIME ZONE 'UTC')::pg_catalog.date OPERATOR(pg_catalog.-)
                 coalesce(pg_catalog.current_setting('telemetry.retention_days', true)::integer, 90))::pg_catalog.timestamp
                AT TIME ZONE 'UTC');
    FOR part IN SELECT p.partition, p.lower_bound, p.upper_bound FROM telemetry.partitions() p
                WHERE p.upper_bound OPERATOR(pg_catalog.<=) horizon ORDER BY p.lower_bound
    LOOP
        -- Never before its days are rolled up (the watermark is past them) and every change
        -- logged for them recomputed (a refresh that failed, or was over its budget, leaves its
        -- rows in the log: the partition waits for the next run).
        EXIT WHEN watermark IS NULL
               OR part.upper_bound OPERATOR(pg_catalog.>) (watermark::pg_catalog.timestamp AT TIME ZONE 'UTC');
        CONTINUE WHEN EXISTS (
            SELECT FROM telemetry.rollup_invalidations i
            WHERE i.first_day OPERATOR(pg_catalog.<) (part.upper_bound AT TIME ZONE 'UTC')::pg_catalog.date
              AND i.last_day OPERATOR(pg_catalog.>=) (part.lower_bound AT TIME ZONE 'UTC')::pg_catalog.date);
        -- DETACH, then DROP: both wait at most lock_timeout (run_maintenance sets it) for the
        -- ACCESS EXCLUSIVE lock on the parent, so ingest queues behind them no longer than that.
        EXECUTE pg_catalog.format('ALTER TABLE telemetry.events DETACH PARTITION %s', part.partition);
        EXECUTE pg_catalog.format('DROP TABLE %s', part.partition);
        dropped := dropped OPERATOR(pg_catalog.+) 1;
    END LOOP;
    RETURN dropped;
END
$$;
COMMENT ON FUNCTION telemetry.drop_expired_partitions(timestamptz) IS
    'Maintenance step (retention): detaches and drops, oldest first, the partitions of telemetry.events whose days all lie more than telemetry.retention_days before p_now''s UTC day, and returns how many. Never a partition whose days are not yet rolled up (at or past rollup_watermark()), or have changes logged and not yet recomputed: the rollups keep those days (frozen). Never DELETE: no dead rows, little WAL. Errors: p_now NULL or infinite (22008); lock_timeout (55P03).';

-- Removes the events of tenants whose retention is shorter than the partitions', in bounded batches.
CREATE FUNCTION telemetry.delete_expired_tenant_events(p_now timestamptz DEFAULT pg_catalog.now(),
                                                       p_batch_size integer DEFAULT 10000)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER  -- every tenant's events
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    global_retention integer := coalesce(pg_catalog.current_setting('telemetry.retention_days', true)::integer, 90);
    today date;
    watermark date := telemetry.rollup_watermark();
    tenant record;
    horizon date;
    budget bigint := p_batch_size;
    n bigint;
BEGIN
    IF p_now IS NULL OR NOT pg_catalog.isfinite(p_now) THEN
        RAISE EXCEPTION 'p_now must be a finite timestamp' USING ERRCODE = '22008';
    END IF;
    IF p_batch_size IS NULL OR p_batch_size OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'p_batch_size must be at least 1' USING ERRCODE = '22023';
    END IF;
    IF watermark IS NULL THEN
        RETURN 0;
    END IF;
    today := (p_now AT TIME ZONE 'UTC')::pg_catalog.date;
    FOR tenant IN SELECT s.tenant_id, s.retention_days FROM telemetry.tenant_settings s
                  WHERE s.retention_days OPERATOR(pg_catalog.<) global_retention ORDER BY s.tenant_id
    LOOP
        EXIT WHEN budget OPERATOR(pg_catalog.<) 1;
        -- Only days already rolled up.
        horizon := LEAST(today OPERATOR(pg_catalog.-) tenant.retention_days, watermark);
        DELETE FROM telemetry.events e
        WHERE (e.tenant_id, e.occurred_at, e.id) IN (
            SELECT x.tenant_id, x.occurred_at, x.id FROM telemetry.events x
            WHERE x.tenant_id OPERATOR(pg_catalog.=) tenant.tenant_id
              AND x.occurred_at OPERATOR(pg_catalog.<) (horizon::pg_catalog.timestamp AT TIME ZONE 'UTC')
            ORDER BY x.occurred_at LIMIT budget);
        GET DIAGNOSTICS n = ROW_COUNT;
        budget := budget OPERATOR(pg_catalog.-) n;
    END LOOP;
    RETURN p_batch_size OPERATOR(pg_catalog.-) budget;
END
$$;
COMMENT ON FUNCTION telemetry.delete_expired_tenant_events(timestamptz, integer) IS
    'Maintenance step (retention per tenant): deletes at most p_batch_size events, oldest first, of the tenants whose tenant_settings.retention_days is shorter than telemetry.retention_days, older than that many days before p_now''s UTC day, and returns how many. Only days already rolled up (before rollup_watermark()); their rollups stay (frozen). Errors: p_now NULL or infinite (22008); p_batch_size below 1 (22023).';

-- Rollups have their own, longer retention.
CREATE FUNCTION telemetry.drop_expired_rollups(p_now timestamptz DEFAULT pg_catalog.now(),
                                               p_batch_size integer DEFAULT 100000)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER  -- every tenant's rollups
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    horizon date;
    n bigint;
BEGIN
    IF p_now IS NULL OR NOT pg_catalog.isfinite(p_now) THEN
        RAISE EXCEPTION 'p_now must be a finite timestamp' USING ERRCODE = '22008';
    END IF;
    IF p_batch_size IS NULL OR p_batch_size OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'p_batch_size must be at least 1' USING ERRCODE = '22023';
    END IF;
    horizon := (p_now AT TIME ZONE 'UTC')::pg_catalog.date OPERATOR(pg_catalog.-)
               coalesce(pg_catalog.current_setting('telemetry.rollup_retention_days', true)::integer, 730);
    DELETE FROM telemetry.daily_rollups r
    WHERE (r.tenant_id, r.day, r.name) IN (
        SELECT x.tenant_id, x.day, x.name FROM telemetry.daily_rollups x
        WHERE x.day OPERATOR(pg_catalog.<) horizon ORDER BY x.day LIMIT p_batch_size);
    GET DIAGNOSTICS n = ROW_COUNT;
    -- The days' totals go with their cells: those of days without a cell left.
    DELETE FROM telemetry.daily_totals t
    WHERE (t.tenant_id, t.day) IN (
        SELECT x.tenant_id, x.day FROM telemetry.daily_totals x
        WHERE x.day OPERATOR(pg_catalog.<) horizon
          AND NOT EXISTS (SELECT FROM telemetry.daily_rollups r
                          WHERE r.tenant_id OPERATOR(pg_catalog.=) x.tenant_id AND r.day OPERATOR(pg_catalog.=) x.day)
        ORDER BY x.day LIMIT p_batch_size);
    RETURN n;
END
$$;
COMMENT ON FUNCTION telemetry.drop_expired_rollups(timestamptz, integer) IS
    'Maintenance step (rollup retention): deletes at most p_batch_size rollup cells of days more than telemetry.rollup_retention_days (default 730) before p_now''s UTC day, oldest first, and returns how many; and the daily totals of those days once their cells are gone. Errors: p_now NULL or infinite (22008); p_batch_size below 1 (22023).';

-- Caps the run history.
CREATE FUNCTION telemetry.trim_maintenance_runs(p_now timestamptz DEFAULT pg_catalog.now(),
                                                p_keep_per_step integer DEFAULT 1000)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER  -- the history belongs to the owner
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    IF p_now IS NULL OR NOT pg_catalog.isfinite(p_now) THEN
        RAISE EXCEPTION 'p_now must be a finite timestamp' USING ERRCODE = '22008';
    END IF;
    IF p_keep_per_step IS NULL OR p_keep_per_step OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'p_keep_per_step must be at least 1' USING ERRCODE = '22023';
    END IF;
    WITH ranked AS (
        SELECT r.run_id, r.step, r.finished_at,
               pg_catalog.row_number() OVER (PARTITION BY r.step, r.status ORDER BY r.run_id DESC) AS newest
        FROM telemetry.maintenance_runs r
        WHERE r.status OPERATOR(pg_catalog.<>) 'running')
    DELETE FROM telemetry.maintenance_runs m USING ranked k
    WHERE m.run_id OPERATOR(pg_catalog.=) k.run_id AND m.step OPERATOR(pg_catalog.=) k.step
      AND (k.newest OPERATOR(pg_catalog.>) p_keep_per_step
           OR k.finished_at OPERATOR(pg_catalog.<) (LEAST(p_now, pg_catalog.now()) OPERATOR(pg_catalog.-) pg_catalog.make_interval(
                  days => coalesce(pg_catalog.current_setting('telemetry.maintenance_history_days', true)::integer, 30))));
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION telemetry.trim_maintenance_runs(timestamptz, integer) IS
    'Maintenance step: deletes the finished rows of telemetry.maintenance_runs older than telemetry.maintenance_history_days before p_now or now(), whichever is earlier (the history goes by the wall clock: a run with a later p_now does not erase it), and all but the newest p_keep_per_step per step and status; returns how many. Errors: p_now NULL or infinite (22008); p_keep_per_step below 1 (22023).';

-- The steps, in the order a run takes them.
CREATE FUNCTION telemetry.maintenance_step_names()
RETURNS text[]
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY['create_partitions', 'advance_rollups', 'refresh_rollups', 'drop_expired_partitions',
                 'delete_expired_tenant_events', 'drop_expired_rollups', 'purge_event_ids', 'trim_maintenance_runs']
$$;
COMMENT ON FUNCTION telemetry.maintenance_step_names() IS
    'The maintenance steps in the order run_maintenance() and the worker run them. advance_rollups must commit before refresh_rollups starts.';

-- The advisory lock key of a run (session level: it spans the run's transactions).
CREATE FUNCTION telemetry.begin_maintenance_run()
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER  -- the history belongs to the owner
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    holder integer;
BEGIN
    -- A session-level advisory lock: it spans the run's transactions. This session may hold it
    -- already, left by a run that failed between steps (an error no step caught): it takes the
    -- run over rather than locking again.
    SELECT l.pid INTO holder FROM pg_catalog.pg_locks l
    WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory' AND l.granted
      AND l.database OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d
                                             WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
      AND l.objid OPERATOR(pg_catalog.=) pg_catalog.hashtext('telemetry.run_maintenance')::pg_catalog.oid
      AND l.objsubid OPERATOR(pg_catalog.=) 1
    ORDER BY l.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()
    LIMIT 1;
    IF holder IS DISTINCT FROM pg_catalog.pg_backend_pid()
       AND NOT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtext('telemetry.run_maintenance')) THEN
        RAISE NOTICE 'telemetry maintenance skipped: another run is in progress (process %)', holder;
        RETURN NULL;
    END IF;
    -- Nobody else runs: a step still marked running was cut short (its process ended, or its
    -- run failed).
    WITH cut AS (
        UPDATE telemetry.maintenance_runs r
        SET status = 'failed', finished_at = pg_catalog.clock_timestamp(), sqlstate = '57P01',
            message = 'interrupted: the step did not finish (its process ended: a server restart, crash or termination; or its run failed)'
        WHERE r.status OPERATOR(pg_catalog.=) 'running'
        RETURNING r.step, r.finished_at)
    UPDATE telemetry.maintenance_steps s
    SET last_failure_at = c.finished_at, consecutive_failures = s.consecutive_failures OPERATOR(pg_catalog.+) 1,
        last_sqlstate = '57P01', last_message = 'interrupted: the step did not finish'
    FROM cut c WHERE s.step OPERATOR(pg_catalog.=) c.step;
    RETURN pg_catalog.nextval('telemetry.maintenance_runs_id_seq'::pg_catalog.regclass);
END
$$;
COMMENT ON FUNCTION telemetry.begin_maintenance_run() IS
    'Internal, for run_maintenance() and the worker: takes the session-level advisory lock of maintenance (or takes over a run this session left unfinished) and returns a new run id, after marking failed (57P01) the steps left running; NULL, with a NOTICE naming the process that holds the lock, when another session runs.';

CREATE FUNCTION telemetry.end_maintenance_run(p_run_id bigint)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Held once (begin_maintenance_run takes over a run of this session without locking again).
    IF EXISTS (SELECT FROM pg_catalog.pg_locks l
               WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory' AND l.granted
                 AND l.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid()
                 AND l.objid OPERATOR(pg_catalog.=) pg_catalog.hashtext('telemetry.run_maintenance')::pg_catalog.oid
                 AND l.objsubid OPERATOR(pg_catalog.=) 1) THEN
        PERFORM pg_catalog.pg_advisory_unlock(pg_catalog.hashtext('telemetry.run_maintenance'));
    END IF;
END
$$;
COMMENT ON FUNCTION telemetry.end_maintenance_run(bigint) IS
    'Internal, for run_maintenance() and the worker: releases the advisory lock begin_maintenance_run() took, if this session holds it.';

-- Whether the step is due (not backing off); if so its history row, committed before the work.
CREATE FUNCTION telemetry.begin_maintenance_step(p_run_id bigint, p_step text)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT p_step OPERATOR(pg_catalog.=) ANY (telemetry.maintenance_step_names()) THEN
        RAISE EXCEPTION 'unknown maintenance step' USING ERRCODE = '22023',
              HINT = 'The steps: ' || pg_catalog.array_to_string(telemetry.maintenance_step_names(), ', ') || '.';
    END IF;
    IF EXISTS (SELECT FROM telemetry.maintenance_steps s
               WHERE s.step OPERATOR(pg_catalog.=) p_step
                 AND s.next_attempt_at OPERATOR(pg_catalog.>) pg_catalog.clock_timestamp()) THEN
        RETURN false;
    END IF;
    INSERT INTO telemetry.maintenance_runs (run_id, step) VALUES (p_run_id, p_step);
    INSERT INTO telemetry.maintenance_steps AS s (step, last_started_at) VALUES (p_step, pg_catalog.clock_timestamp())
    ON CONFLICT (step) DO UPDATE SET last_started_at = excluded.last_started_at;
    RETURN true;
END
$$;
COMMENT ON FUNCTION telemetry.begin_maintenance_step(bigint, text) IS
    'Internal, for run_maintenance() and the worker: false when the step is backing off after failures; else records it as running in maintenance_runs (to be committed before perform_maintenance_step) and returns true. 22023 for an unknown step.';

-- Runs one step, catching its error; records the outcome and the back-off. Returns the status.
CREATE FUNCTION telemetry.perform_maintenance_step(p_run_id bigint, p_step text, p_now timestamptz)
RETURNS text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    started timestamptz := pg_catalog.clock_timestamp();
    affected bigint;
    failure_state text;
    failure_message text;
    failures integer;
    -- (Settings with a unit read back with one, '1min' or '5s': as intervals they compare.)
    naptime pg_catalog.float8 := pg_catalog.date_part('epoch',
        coalesce(pg_catalog.current_setting('telemetry.naptime', true), '60')::pg_catalog.interval);
    max_backoff pg_catalog.float8 := pg_catalog.date_part('epoch',
        coalesce(pg_catalog.current_setting('telemetry.maintenance_max_backoff', true), '3600')::pg_catalog.interval);
BEGIN
    BEGIN
        -- Every lock a step waits for, it waits for at most this long.
        PERFORM pg_catalog.set_config('lock_timeout',
            coalesce(pg_catalog.current_setting('telemetry.maintenance_lock_timeout', true), '5s'), true);
        affected := CASE p_step
            WHEN 'create_partitions' THEN telemetry.create_partitions(p_now)
            WHEN 'advance_rollups' THEN telemetry.advance_rollups(p_now)
            WHEN 'refresh_rollups' THEN telemetry.refresh_rollups(p_now)
            WHEN 'drop_expired_partitions' THEN telemetry.drop_expired_partitions(p_now)
            WHEN 'delete_expired_tenant_events' THEN telemetry.delete_expired_tenant_events(p_now)
            WHEN 'drop_expired_rollups' THEN telemetry.drop_expired_rollups(p_now)
            WHEN 'purge_event_ids' THEN telemetry.purge_event_ids(p_now)
            WHEN 'trim_maintenance_runs' THEN telemetry.trim_maintenance_runs(p_now)
        END;
        IF affected IS NULL THEN
            RAISE EXCEPTION 'unknown maintenance step' USING ERRCODE = '22023';
        END IF;
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        -- A cancel (statement_timeout, pg_cancel_backend) is recorded too; the caller then
        -- ends the run.
        GET STACKED DIAGNOSTICS failure_state = RETURNED_SQLSTATE, failure_message = MESSAGE_TEXT;
    END;
    IF failure_state IS NULL THEN
        UPDATE telemetry.maintenance_runs r
        SET status = 'succeeded', finished_at = pg_catalog.clock_timestamp(), rows_affected = affected
        WHERE r.run_id OPERATOR(pg_catalog.=) p_run_id AND r.step OPERATOR(pg_catalog.=) p_step;
        UPDATE telemetry.maintenance_steps s
        SET last_success_at = pg_catalog.clock_timestamp(), consecutive_failures = 0, next_attempt_at = NULL,
            last_duration = pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) started
        WHERE s.step OPERATOR(pg_catalog.=) p_step;
        RETURN 'succeeded';
    END IF;
    -- Data errors may quote the value at fault: keep their message, not the value.
    IF pg_catalog.left(failure_state, 2) OPERATOR(pg_catalog.=) ANY (ARRAY['22', '23']) THEN
        failure_message := pg_catalog.regexp_replace(failure_message, '"[^"]*"', '"…"', 'g');
    END IF;
    failure_message := pg_catalog.left(failure_message, 500);
    UPDATE telemetry.maintenance_runs r
    SET status = 'failed', finished_at = pg_catalog.clock_timestamp(), sqlstate = failure_state, message = failure_message
    WHERE r.run_id OPERATOR(pg_catalog.=) p_run_id AND r.step OPERATOR(pg_catalog.=) p_step;
    UPDATE telemetry.maintenance_steps s
    SET last_failure_at = pg_catalog.clock_timestamp(),
        consecutive_failures = s.consecutive_failures OPERATOR(pg_catalog.+) 1,
        last_sqlstate = failure_state, last_message = failure_message,
        last_duration = pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) started
    WHERE s.step OPERATOR(pg_catalog.=) p_step
    RETURNING s.consecutive_failures INTO failures;
    -- Back off: naptime × (2^(k-1) - 1) after k failures in a row, capped; the first is
    -- retried at the next run.
    UPDATE telemetry.maintenance_steps s
    SET next_attempt_at = s.last_failure_at OPERATOR(pg_catalog.+) pg_catalog.make_interval(secs =>
            LEAST(max_backoff,
                             naptime OPERATOR(pg_catalog.*)
                             (pg_catalog.power(2, LEAST(failures, 30) OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog.-) 1)))
    WHERE s.step OPERATOR(pg_catalog.=) p_step;
    RAISE WARNING 'telemetry maintenance step % failed (SQLSTATE %): %', p_step, failure_state, failure_message;
    RETURN CASE WHEN failure_state OPERATOR(pg_catalog.=) '57014' THEN 'canceled' ELSE 'failed' END;
END
$$;
COMMENT ON FUNCTION telemetry.perform_maintenance_step(bigint, text, timestamptz) IS
    'Internal, for run_maintenance() and the worker: runs one step with lock_timeout = telemetry.maintenance_lock_timeout, catching any error, a cancel included; records the outcome in maintenance_runs and maintenance_steps (a failure backs the step off and raises a WARNING) and returns succeeded, failed, or canceled (57014: the caller ends the run).';

-- The whole maintenance, for a DBA or pg_cron where the worker is not loaded. A procedure, so
-- each step commits on its own; outside a transaction block.
CREATE PROCEDURE telemetry.run_maintenance(p_now timestamptz DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
    run bigint;
    step text;
    outcome text;
BEGIN
    -- (No SET clause: a procedure with one cannot commit. Every name is qualified.)
    IF p_now IS NOT NULL AND NOT pg_catalog.isfinite(p_now) THEN
        RAISE EXCEPTION 'p_now must be a finite timestamp' USING ERRCODE = '22008';
    END IF;
    -- Inside a transaction block this fails (2D000) before anything is held.
    COMMIT;
    run := telemetry.begin_maintenance_run();
    IF run IS NULL THEN
        RETURN;
    END IF;
    COMMIT;
    FOREACH step IN ARRAY telemetry.maintenance_step_names() LOOP
        outcome := NULL;
        -- refresh_rollups waits for writers, then needs snapshots taken after the wait.
        SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
        IF telemetry.begin_maintenance_step(run, step) THEN
            COMMIT;
            SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
            outcome := telemetry.perform_maintenance_step(run, step, coalesce(p_now, pg_catalog.now()));
        END IF;
        COMMIT;
        IF outcome OPERATOR(pg_catalog.=) 'canceled' THEN
            PERFORM telemetry.end_maintenance_run(run);
            COMMIT;
            RAISE EXCEPTION 'telemetry maintenance canceled during step %', step USING ERRCODE = '57014';
        END IF;
    END LOOP;
    PERFORM telemetry.end_maintenance_run(run);
END
$$;
COMMENT ON PROCEDURE telemetry.run_maintenance(timestamptz) IS
    'Runs every maintenance step once, each in its own transaction (CALL it outside a transaction block): create_partitions, advance_rollups, refresh_rollups, drop_expired_partitions, delete_expired_tenant_events, drop_expired_rollups, purge_event_ids, trim_maintenance_runs. p_now (default: each step''s own now()) is the clock the steps go by. A failing step is recorded and backed off; the others still run. Skips with a NOTICE when another run (the worker, another session) is in progress. A cancel (statement_timeout, pg_cancel_backend) is recorded against its step and ends the run (57014). What the worker runs every telemetry.naptime seconds; for pg_cron where the worker is not loaded. Errors: p_now infinite (22008); inside a transaction block (2D000, before anything is held); canceled (57014).';

-- Maintenance does nothing in a database being restored: between CREATE EXTENSION and the end
-- of pg_restore it would make partitions and rollup state that the dump then brings again.
-- CREATE EXTENSION under telemetry.restoring = on pauses every step; resume_maintenance()
-- (after the restore) lets them run.
CREATE FUNCTION telemetry.resume_maintenance()
RETURNS integer
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    -- The erasure ledger first: a backup older than an erasure brought the user back.
    SELECT telemetry.reapply_erasures();
    WITH resumed AS (
        UPDATE telemetry.maintenance_steps s SET next_attempt_at = NULL, last_message = NULL
        WHERE s.next_attempt_at OPERATOR(pg_catalog.=) 'infinity'
        RETURNING 1)
    SELECT pg_catalog.count(*)::integer FROM resumed
$$;
COMMENT ON FUNCTION telemetry.resume_maintenance() IS
    'Lets the maintenance steps run again after a restore (CREATE EXTENSION under telemetry.restoring = on pauses them, so that the worker makes no partition or rollup state the dump brings), after applying the erasure ledger again (reapply_erasures(): a backup older than an erasure brings the user back); returns how many steps were paused. For maintenance access.';
DO $$
BEGIN
    IF coalesce(pg_catalog.current_setting('telemetry.restoring', true), 'off') OPERATOR(pg_catalog.=) 'on' THEN
        INSERT INTO telemetry.maintenance_steps (step, next_attempt_at, last_message)
        SELECT n.step, 'infinity', 'paused while the database is restored: SELECT telemetry.resume_maintenance() after the restore'
        FROM pg_catalog.unnest(telemetry.maintenance_step_names()) AS n(step);
    END IF;
END
$$;

-- What an operator looks at first.
CREATE VIEW telemetry.maintenance_status AS
SELECT n.step,
       s.last_success_at,
       s.last_failure_at,
       s.consecutive_failures,
       s.next_attempt_at,
       s.last_sqlstate,
       s.last_message,
       s.last_duration,
       w.watermark,
       r.threshold,
       CASE WHEN w.watermark IS NOT NULL
            THEN pg_catalog.now() OPERATOR(pg_catalog.-) (w.watermark::pg_catalog.timestamp AT TIME ZONE 'UTC') END AS rollup_lag,
       (SELECT pg_catalog.count(*) FROM telemetry.rollup_invalidations i) AS pending_invalidations,
       (SELECT pg_catalog.max(p.upper_bound) FROM telemetry.partitions() p) AS partition_horizon,
       (SELECT pg_catalog.min(p.day) FROM telemetry.partitions() p) AS oldest_partition
FROM pg_catalog.unnest(telemetry.maintenance_step_names()) WITH ORDINALITY AS n(step, position)
LEFT JOIN telemetry.maintenance_steps s ON s.step OPERATOR(pg_catalog.=) n.step
LEFT JOIN telemetry.rollup_state r ON true
CROSS JOIN LATERAL (SELECT telemetry.rollup_watermark() AS watermark) w
ORDER BY n.position;
COMMENT ON VIEW telemetry.maintenance_status IS 'One row per maintenance step, in run order: its last success and failure (SQLSTATE, message), failures in a row and back-off, last duration; and on every row the rollup watermark (days before it are rolled up), the threshold, rollup lag (now - watermark), pending invalidations, partition horizon (the end of the newest partition) and oldest partition day.';
COMMENT ON COLUMN telemetry.maintenance_status.step IS 'The step.';
COMMENT ON COLUMN telemetry.maintenance_status.last_success_at IS 'When it last succeeded.';
COMMENT ON COLUMN telemetry.maintenance_status.last_failure_at IS 'When it last failed.';
COMMENT ON COLUMN telemetry.maintenance_status.consecutive_failures IS 'Failures since its last success.';
COMMENT ON COLUMN telemetry.maintenance_status.next_attempt_at IS 'Skipped until then (back-off).';
COMMENT ON COLUMN telemetry.maintenance_status.last_sqlstate IS 'SQLSTATE of its last failure.';
COMMENT ON COLUMN telemetry.maintenance_status.last_message IS 'Message of its last failure.';
COMMENT ON COLUMN telemetry.maintenance_status.last_duration IS 'How long its last attempt took.';
COMMENT ON COLUMN telemetry.maintenance_status.watermark IS 'telemetry.rollup_watermark().';
COMMENT ON COLUMN telemetry.maintenance_status.threshold IS 'The invalidation threshold (telemetry.rollup_state).';
COMMENT ON COLUMN telemetry.maintenance_status.rollup_lag IS 'now() minus the start of the watermark day: how old the newest rolled-up data may be.';
COMMENT ON COLUMN telemetry.maintenance_status.pending_invalidations IS 'Rows waiting in telemetry.rollup_invalidations.';
COMMENT ON COLUMN telemetry.maintenance_status.partition_horizon IS 'The upper bound of the newest partition: events up to then have a partition.';
COMMENT ON COLUMN telemetry.maintenance_status.oldest_partition IS 'The UTC day of the oldest partition.';
-- Counts, uniques and engagement (docs/analytics.md, FUNNELS.md "Engagement"): event_counts,
-- top_events, unique_users, active_users, stickiness and dump, in SQL and PL/pgSQL.
--
-- All run as the caller (SECURITY INVOKER) and STABLE: row-level security on events and
-- daily_rollups applies, every statement sees the snapshot of the calling query, and each first
-- asks telemetry.require_tenant_access(tenant_id, 'read') (42501; 22004 for NULL).
--
-- Rollups are read only where they give the very answer the raw events give: whole UTC days,
-- before the watermark, with no pending invalidation (rollup_exact_days()), read in the same
-- query as the raw events of the rest of the range. The rest is read from raw events.

-- The UTC days whose rollup cells are complete and current for every tenant. SECURITY DEFINER
-- (as rollup_watermark()): the log is the maintenance's, and a reader may not see it; the answer
-- names no tenant (the log of every tenant is merged), so it tells a reader nothing about
-- another tenant's data that it could attribute.
CREATE FUNCTION telemetry.rollup_exact_days()
RETURNS pg_catalog.datemultirange
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    -- Days before the oldest partition have no raw events left: their rollups are all there is
    -- (refresh_rollups() drops a change logged for them), so the log does not exclude them.
    WITH state AS (
        SELECT telemetry.rollup_watermark() AS watermark,
               (SELECT pg_catalog.min(p.day) FROM telemetry.partitions() p) AS oldest_partition)
    SELECT CASE WHEN s.watermark IS NULL THEN '{}'::pg_catalog.datemultirange
           ELSE pg_catalog.datemultirange(pg_catalog.daterange(NULL, s.watermark))
                OPERATOR(pg_catalog.-)
                coalesce((SELECT pg_catalog.range_agg(pg_catalog.daterange(GREATEST(i.first_day, s.oldest_partition),
                                                                           i.last_day, '[]'))
                          FROM telemetry.rollup_invalidations i
                          WHERE i.last_day OPERATOR(pg_catalog.>=) s.oldest_partition),
                         '{}'::pg_catalog.datemultirange)
           END
    FROM state s
$$;
COMMENT ON FUNCTION telemetry.rollup_exact_days() IS
    'Internal, for the analytics functions: the UTC days whose cells in telemetry.daily_rollups equal what a GROUP BY over telemetry.events gives, for every tenant: the days before telemetry.rollup_watermark() without a pending row in telemetry.rollup_invalidations (a row of any tenant counts, so the answer names none); days before the oldest partition count whatever the log says (their rollups are all that is left: refresh_rollups() never recomputes them). Empty before maintenance first ran. Read it in the same query as the rollups (one snapshot). SECURITY DEFINER: it reads the log, which readers cannot.';

-- How a function splits ["from", "to") between the rollups and the raw events: the whole UTC
-- days of the range whose rollups are exact (rollup_exact_days(); none unless use_rollups), and
-- the spans of time left, for the raw events. Called in the calling function's query, so read in
-- its snapshot with the rollups and the events (a STABLE function sees the caller's snapshot).
CREATE FUNCTION telemetry.rollup_split("from" timestamptz, "to" timestamptz, use_rollups boolean)
RETURNS TABLE (rollup_days pg_catalog.datemultirange, raw_spans pg_catalog.tstzmultirange)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH first AS (
        -- The first UTC day that starts at or after "from".
        SELECT CASE WHEN ((("from" AT TIME ZONE 'UTC')::pg_catalog.date)::pg_catalog.timestamp AT TIME ZONE 'UTC')
                         OPERATOR(pg_catalog.<) "from"
                    THEN ("from" AT TIME ZONE 'UTC')::pg_catalog.date OPERATOR(pg_catalog.+) 1
                    ELSE ("from" AT TIME ZONE 'UTC')::pg_catalog.date END AS day),
    served AS (
        SELECT CASE WHEN use_rollups AND "from" OPERATOR(pg_catalog.<) "to"
                    THEN telemetry.rollup_exact_days() OPERATOR(pg_catalog.*)
                         pg_catalog.datemultirange(pg_catalog.daterange(f.day, GREATEST(("to" AT TIME ZONE 'UTC')::pg_catalog.date, f.day)))
                    ELSE '{}'::pg_catalog.datemultirange END AS days
        FROM first f)
    SELECT s.days,
           pg_catalog.tstzmultirange(pg_catalog.tstzrange("from", "to"))
           OPERATOR(pg_catalog.-)
           coalesce((SELECT pg_catalog.range_agg(pg_catalog.tstzrange(
                                pg_catalog.lower(d.days)::pg_catalog.timestamp AT TIME ZONE 'UTC',
                                pg_catalog.upper(d.days)::pg_catalog.timestamp AT TIME ZONE 'UTC'))
                     FROM pg_catalog.unnest(s.days) AS d(days)),
                    '{}'::pg_catalog.tstzmultirange)
    FROM served s
$$;
COMMENT ON FUNCTION telemetry.rollup_split(timestamptz, timestamptz, boolean) IS
    'Internal, for the analytics functions that read rollups: one row, rollup_days (the whole UTC days of ["from", "to") that rollup_exact_days() holds; empty unless use_rollups) and raw_spans (the rest of the range, for the raw events). Call it in the same query as the rollups and the events (one snapshot).';

-- The calendar buckets of [from, to) in a time zone, as date_trunc(bucket, ts, tz) makes them:
-- hour buckets are local hours (the repeated hour of a DST change is two buckets, the skipped
-- one none), days have 23 or 25 hours on DST days, weeks start on Monday (ISO), months on the
-- 1st. A bucket the range cuts is included (its start may be before "from").
CREATE FUNCTION telemetry.calendar_buckets("from" timestamptz, "to" timestamptz, bucket text DEFAULT 'day',
                                           tz text DEFAULT 'UTC')
RETURNS TABLE (bucket_start timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    local_from timestamp;
    local_to timestamp;
    estimate numeric;
    first_start timestamptz;
    starts timestamptz[];
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to") THEN
        RAISE EXCEPTION '"from" and "to" must be finite timestamps' USING ERRCODE = '22023';
    END IF;
    IF "from" OPERATOR(pg_catalog.>) "to" THEN
        RAISE EXCEPTION '"from" must not be after "to"' USING ERRCODE = '22023';
    END IF;
    IF bucket IS NULL OR NOT bucket OPERATOR(pg_catalog.=) ANY (ARRAY['hour', 'day', 'week', 'month']) THEN
        RAISE EXCEPTION 'unknown bucket' USING ERRCODE = '22023', HINT = 'hour, day, week or month';
    END IF;
    IF tz IS NULL THEN
        RAISE EXCEPTION 'tz must name a time zone' USING ERRCODE = '22023';
    END IF;
    -- An unknown time zone fails here, with PostgreSQL's own 22023: time zone "..." not recognized.
    local_from := "from" AT TIME ZONE tz;
    local_to := "to" AT TIME ZONE tz;
    IF "from" OPERATOR(pg_catalog.=) "to" THEN
        RETURN;  -- an empty range overlaps no bucket
    END IF;
    -- Refuse a range of too many buckets before making them: the count of local hours, days,
    -- weeks or months is exact but for DST changes and zones that skip days, hence the slack;
    -- the exact count is checked below.
    estimate := CASE
        WHEN bucket OPERATOR(pg_catalog.=) 'hour' THEN
            pg_catalog.ceil((EXTRACT(epoch FROM "to") OPERATOR(pg_catalog.-) EXTRACT(epoch FROM "from"))
                            OPERATOR(pg_catalog./) 3600) OPERATOR(pg_catalog.+) 1
        WHEN bucket OPERATOR(pg_catalog.=) 'day' THEN
            (local_to::pg_catalog.date OPERATOR(pg_catalog.-) local_from::pg_catalog.date) OPERATOR(pg_catalog.+) 1
        WHEN bucket OPERATOR(pg_catalog.=) 'week' THEN
            ((pg_catalog.date_trunc('week', local_to)::pg_catalog.date
              OPERATOR(pg_catalog.-) pg_catalog.date_trunc('week', local_from)::pg_catalog.date) OPERATOR(pg_catalog./) 7)
            OPERATOR(pg_catalog.+) 1
        ELSE
            (((EXTRACT(year FROM local_to) OPERATOR(pg_catalog.-) EXTRACT(year FROM local_from)) OPERATOR(pg_catalog.*) 12)
             OPERATOR(pg_catalog.+) (EXTRACT(month FROM local_to) OPERATOR(pg_catalog.-) EXTRACT(month FROM local_from)))
            OPERATOR(pg_catalog.+) 1
        END;
    IF estimate OPERATOR(pg_catalog.>) 10010 THEN
        RAISE EXCEPTION 'the range holds about % buckets of one %, more than 10,000', estimate, bucket
            USING ERRCODE = '54000', HINT = 'Ask for longer buckets or a shorter range.';
    END IF;
    first_start := pg_catalog.date_trunc(bucket, "from", tz);
    IF bucket OPERATOR(pg_catalog.=) 'hour' THEN
        -- Every hour bucket overlapping the range holds "from", the range's last instant, or a
        -- point of a 15-minute grid from "from" (offsets, and their changes, are multiples of
        -- 15 minutes): one hour in local time may be two buckets or none.
        SELECT pg_catalog.array_agg(DISTINCT pg_catalog.date_trunc('hour', c.x, tz) ORDER BY pg_catalog.date_trunc('hour', c.x, tz))
          INTO starts
          FROM (SELECT g.x FROM pg_catalog.generate_series("from", "to", interval '15 minutes') AS g(x)
                WHERE g.x OPERATOR(pg_catalog.<) "to"
                UNION ALL
                SELECT "to" OPERATOR(pg_catalog.-) interval '1 microsecond') AS c(x);
    ELSE
        -- Local days, weeks or months, each mapped to its instant and back through date_trunc,
        -- which settles a local midnight that does not exist or occurs twice as events' are.
        SELECT pg_catalog.array_agg(DISTINCT b.start ORDER BY b.start)
          INTO starts
          FROM (SELECT pg_catalog.date_trunc(bucket, l.x AT TIME ZONE tz, tz) AS start
                FROM pg_catalog.generate_series(pg_catalog.date_trunc(bucket, local_from), local_to,
                                                (pg_catalog.concat('1 ', bucket))::interval) AS l(x)
                UNION ALL
                SELECT first_start
                UNION ALL
                SELECT pg_catalog.date_trunc(bucket, "to" OPERATOR(pg_catalog.-) interval '1 microsecond', tz)) AS b
         WHERE b.start OPERATOR(pg_catalog.>=) first_start AND b.start OPERATOR(pg_catalog.<) "to";
    END IF;
    IF pg_catalog.cardinality(starts) OPERATOR(pg_catalog.>) 10000 THEN
        RAISE EXCEPTION 'the range holds % buckets of one %, more than 10,000', pg_catalog.cardinality(starts), bucket
            USING ERRCODE = '54000', HINT = 'Ask for longer buckets or a shorter range.';
    END IF;
    RETURN QUERY SELECT s.x FROM pg_catalog.unnest(starts) AS s(x) ORDER BY 1;
END
$$;
COMMENT ON FUNCTION telemetry.calendar_buckets(timestamptz, timestamptz, text, text) IS
    'The calendar buckets that overlap ["from", "to"), oldest first, each as the instant it starts (bucket_start), which may be before "from" when the range cuts it: bucket hour, day, week or month in the time zone tz (a name of pg_timezone_names, an abbreviation or an offset), exactly the values of date_trunc(bucket, ts, tz) for ts in the range (FUNNELS.md, Engagement: ISO weeks start on Monday; DST days have 23 or 25 hours; the repeated hour is two buckets, the skipped one none). No bucket for an empty range ("from" = "to"). Errors: a bound NULL or not finite, "from" after "to", an unknown bucket, tz NULL or unknown (22023); more than 10,000 buckets (54000).';

CREATE FUNCTION telemetry.event_counts(tenant_id uuid, "from" timestamptz, "to" timestamptz,
                                       bucket text DEFAULT 'day', names text[] DEFAULT NULL,
                                       tz text DEFAULT 'UTC')
RETURNS TABLE (bucket_start timestamptz, name text, events numeric, users bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
-- The raw part's spans are known only at run time (partitions pruned then), so the plan's
-- estimates are loose and would make JIT compile for seconds what runs in milliseconds.
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
    starts timestamptz[];
    use_rollups boolean;
BEGIN
    PERFORM telemetry.require_tenant_access(event_counts.tenant_id, 'read');
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to") THEN
        RAISE EXCEPTION '"from" and "to" must be finite timestamps' USING ERRCODE = '22023';
    END IF;
    IF "from" OPERATOR(pg_catalog.>) "to" THEN
        RAISE EXCEPTION '"from" must not be after "to"' USING ERRCODE = '22023';
    END IF;
    IF pg_catalog.array_position(event_counts.names, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'names must not contain NULL' USING ERRCODE = '22004';
    END IF;
    -- Checks bucket and tz (22023) and the number of buckets (54000).
    starts := ARRAY(SELECT b.bucket_start FROM telemetry.calendar_buckets("from", "to", event_counts.bucket, event_counts.tz) b);
    -- Rollups are UTC days: they answer day buckets in UTC, for the days the range holds whole.
    use_rollups := event_counts.bucket OPERATOR(pg_catalog.=) 'day'
                   AND pg_catalog.lower(event_counts.tz) OPERATOR(pg_catalog.=) ANY
                       (ARRAY['utc', 'etc/utc', 'uct', 'etc/uct', 'zulu', 'etc/zulu', 'universal', 'etc/universal']);
    -- One query, so one snapshot: the watermark, the log, the rollups and the raw events.
    RETURN QUERY
    WITH split AS (
        SELECT * FROM telemetry.rollup_split("from", "to", use_rollups)),
    raw_spans AS (
        SELECT r.span FROM split, pg_catalog.unnest(split.raw_spans) AS r(span)),
    counted AS (
        SELECT pg_catalog.date_trunc(event_counts.bucket, e.occurred_at, event_counts.tz) AS bucket_start, e.name,
               pg_catalog.sum(e.sample_weight::pg_catalog.numeric) AS events,
               pg_catalog.count(DISTINCT e.user_id) AS users
        FROM raw_spans r
        JOIN telemetry.events e
          ON e.occurred_at OPERATOR(pg_catalog.>=) pg_catalog.lower(r.span)
         AND e.occurred_at OPERATOR(pg_catalog.<) pg_catalog.upper(r.span)
        WHERE e.tenant_id OPERATOR(pg_catalog.=) event_counts.tenant_id
          AND (event_counts.names IS NULL OR e.name OPERATOR(pg_catalog.=) ANY (event_counts.names))
        GROUP BY 1, 2
        UNION ALL
        SELECT d.day::pg_catalog.timestamp AT TIME ZONE 'UTC', d.name, d.events, d.users
        FROM split s
        JOIN telemetry.daily_rollups d ON s.rollup_days OPERATOR(pg_catalog.@>) d.day
        WHERE d.tenant_id OPERATOR(pg_catalog.=) event_counts.tenant_id
          AND d.day OPERATOR(pg_catalog.>=) pg_catalog.lower(s.rollup_days)
          AND d.day OPERATOR(pg_catalog.<) pg_catalog.upper(s.rollup_days)
          AND (event_counts.names IS NULL OR d.name OPERATOR(pg_catalog.=) ANY (event_counts.names))),
    cell_names AS (
        SELECT n.name FROM pg_catalog.unnest(event_counts.names) AS n(name)
        UNION
        SELECT c.name FROM counted c WHERE event_counts.names IS NULL)
    SELECT b.bucket_start, n.name, coalesce(c.events, 0::pg_catalog.numeric), coalesce(c.users, 0::bigint)
    FROM pg_catalog.unnest(starts) AS b(bucket_start)
    CROSS JOIN cell_names n
    LEFT JOIN counted c ON c.bucket_start OPERATOR(pg_catalog.=) b.bucket_start AND c.name OPERATOR(pg_catalog.=) n.name
    ORDER BY 1, n.name COLLATE "C";
END
$$;
COMMENT ON FUNCTION telemetry.event_counts(uuid, timestamptz, timestamptz, text, text[], text) IS
    'Events and distinct users per calendar bucket and event type, by the counting rules of FUNNELS.md (Engagement, event_counts): the events of tenant_id with occurred_at in ["from", "to") (a bucket the range cuts counts only the events inside), bucket hour, day, week or month in the time zone tz (default UTC; ISO weeks start on Monday, DST days have 23 or 25 hours, the repeated hour is two buckets; see calendar_buckets()); names: the event types to count (NULL: every type with an event in the range; no NULL element). One row per bucket and type, zero rows included (for every type with an event in the range, or every type asked for), ordered by bucket_start, then name in byte order: bucket_start (the instant the bucket starts, maybe before "from"), name, events (the sum of sample_weight: sampled events scaled back) and users (distinct non-NULL user_id, not scaled). Equal to a GROUP BY over the raw events: day buckets in UTC take the days the range holds whole, before the rollup watermark and without a pending invalidation, from telemetry.daily_rollups, read in the same snapshot as the raw events of the rest. Errors: NULL tenant_id, or NULL in names (22004); no read access to the tenant (42501); a bound NULL or not finite, "from" after "to", an unknown bucket, tz NULL or unknown (22023); more than 10,000 buckets (54000).';

CREATE FUNCTION telemetry.top_events(tenant_id uuid, "from" timestamptz, "to" timestamptz, n integer DEFAULT 10)
RETURNS TABLE (name text, events numeric, users bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    PERFORM telemetry.require_tenant_access(top_events.tenant_id, 'read');
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to") THEN
        RAISE EXCEPTION '"from" and "to" must be finite timestamps' USING ERRCODE = '22023';
    END IF;
    IF "from" OPERATOR(pg_catalog.>) "to" THEN
        RAISE EXCEPTION '"from" must not be after "to"' USING ERRCODE = '22023';
    END IF;
    IF top_events.n IS NULL OR top_events.n OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'n must be at least 1' USING ERRCODE = '22023';
    END IF;
    -- Distinct users over the range cannot be added up from days: raw events.
    RETURN QUERY
    SELECT e.name, pg_catalog.sum(e.sample_weight::pg_catalog.numeric), pg_catalog.count(DISTINCT e.user_id)
    FROM telemetry.events e
    WHERE e.tenant_id OPERATOR(pg_catalog.=) top_events.tenant_id
      AND e.occurred_at OPERATOR(pg_catalog.>=) "from" AND e.occurred_at OPERATOR(pg_catalog.<) "to"
    GROUP BY e.name
    ORDER BY 2 DESC, e.name COLLATE "C"
    LIMIT top_events.n;
END
$$;
COMMENT ON FUNCTION telemetry.top_events(uuid, timestamptz, timestamptz, integer) IS
    'The n (default 10, at least 1) event types of tenant_id with the most events in ["from", "to"), by the counting rules of FUNNELS.md (Engagement, as event_counts): name, events (the sum of sample_weight: sampled events scaled back) and users (distinct non-NULL user_id over the whole range, not scaled); ordered by events descending, ties by name in byte order. Read from raw events. Errors: NULL tenant_id (22004); no read access to the tenant (42501); a bound NULL or not finite, "from" after "to", n NULL or below 1 (22023).';

-- The result of unique_users(): a type, since its column exact has the name of an argument
-- (a function's result columns and arguments share one namespace).
CREATE TYPE telemetry.unique_users_result AS (users bigint, exact boolean);
COMMENT ON TYPE telemetry.unique_users_result IS 'The row telemetry.unique_users() returns: users, and whether they were counted exactly.';
COMMENT ON COLUMN telemetry.unique_users_result.users IS 'Distinct users (non-NULL user_id), exact or estimated.';
COMMENT ON COLUMN telemetry.unique_users_result.exact IS 'True when counted exactly from raw events; false for the union of HyperLogLog sketches (within 1.7 %).';

CREATE FUNCTION telemetry.unique_users(tenant_id uuid, "from" timestamptz, "to" timestamptz,
                                       names text[] DEFAULT NULL, exact boolean DEFAULT false)
RETURNS SETOF telemetry.unique_users_result
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
-- The raw part's spans are known only at run time (partitions pruned then), so the plan's
-- estimates are loose and would make JIT compile for seconds what runs in milliseconds.
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
    hll_schema name;
    oldest timestamptz;
BEGIN
    PERFORM telemetry.require_tenant_access(unique_users.tenant_id, 'read');
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to") THEN
        RAISE EXCEPTION '"from" and "to" must be finite timestamps' USING ERRCODE = '22023';
    END IF;
    IF "from" OPERATOR(pg_catalog.>) "to" THEN
        RAISE EXCEPTION '"from" must not be after "to"' USING ERRCODE = '22023';
    END IF;
    IF unique_users.exact IS NULL THEN
        RAISE EXCEPTION 'exact must be true or false' USING ERRCODE = '22023';
    END IF;
    IF pg_catalog.array_position(unique_users.names, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'names must not contain NULL' USING ERRCODE = '22004';
    END IF;
    oldest := (SELECT pg_catalog.min(p.lower_bound) FROM telemetry.partitions() p);
    -- Exact when asked, or when it is cheap and complete: a month or less, all of it in raw
    -- events (from the oldest partition on).
    IF unique_users.exact
       OR (("to" OPERATOR(pg_catalog.-) "from") OPERATOR(pg_catalog.<=) interval '31 days'
           AND "from" OPERATOR(pg_catalog.>=) oldest) THEN
        RETURN QUERY
        SELECT pg_catalog.count(DISTINCT e.user_id), true
        FROM telemetry.events e
        WHERE e.tenant_id OPERATOR(pg_catalog.=) unique_users.tenant_id
          AND e.occurred_at OPERATOR(pg_catalog.>=) "from" AND e.occurred_at OPERATOR(pg_catalog.<) "to"
          AND (unique_users.names IS NULL OR e.name OPERATOR(pg_catalog.=) ANY (unique_users.names));
        RETURN;
    END IF;
    -- Else the union of HyperLogLog sketches (hll(15, 5), as the rollups'): the daily sketches
    -- of the whole UTC days with exact rollups, and sketches of the raw events of the rest.
    -- The hll functions are named by the schema of the extension (never searched).
    hll_schema := (SELECT ns.nspname FROM pg_catalog.pg_extension x
                   JOIN pg_catalog.pg_namespace ns ON ns.oid OPERATOR(pg_catalog.=) x.extnamespace
                   WHERE x.extname OPERATOR(pg_catalog.=) 'hll');
    IF hll_schema IS NULL THEN
        RAISE EXCEPTION 'the hll extension is not installed' USING ERRCODE = '55000';
    END IF;
    RETURN QUERY EXECUTE pg_catalog.format($sql$
        WITH split AS (
            SELECT * FROM telemetry.rollup_split($2, $3, true)),
        raw_spans AS (
            SELECT r.span FROM split, pg_catalog.unnest(split.raw_spans) AS r(span)),
        sketches AS (
            -- Of every type: one sketch a day, the daily totals'; else the named types' cells.
            SELECT d.users_hll AS sketch
            FROM split s
            JOIN telemetry.daily_totals d ON s.rollup_days OPERATOR(pg_catalog.@>) d.day
            WHERE $4::text[] IS NULL AND d.tenant_id OPERATOR(pg_catalog.=) $1
              AND d.day OPERATOR(pg_catalog.>=) pg_catalog.lower(s.rollup_days)
              AND d.day OPERATOR(pg_catalog.<) pg_catalog.upper(s.rollup_days)
            UNION ALL
            SELECT d.users_hll AS sketch
            FROM split s
            JOIN telemetry.daily_rollups d ON s.rollup_days OPERATOR(pg_catalog.@>) d.day
            WHERE $4::text[] IS NOT NULL AND d.tenant_id OPERATOR(pg_catalog.=) $1
              AND d.day OPERATOR(pg_catalog.>=) pg_catalog.lower(s.rollup_days)
              AND d.day OPERATOR(pg_catalog.<) pg_catalog.upper(s.rollup_days)
              AND d.name OPERATOR(pg_catalog.=) ANY ($4::text[])
            UNION ALL
            SELECT %1$I.hll_add_agg(%1$I.hll_hash_text(e.user_id), 15, 5)
            FROM raw_spans r
            JOIN telemetry.events e
              ON e.occurred_at OPERATOR(pg_catalog.>=) pg_catalog.lower(r.span)
             AND e.occurred_at OPERATOR(pg_catalog.<) pg_catalog.upper(r.span)
            WHERE e.tenant_id OPERATOR(pg_catalog.=) $1 AND e.user_id IS NOT NULL
              AND ($4::text[] IS NULL OR e.name OPERATOR(pg_catalog.=) ANY ($4::text[])))
        SELECT coalesce(pg_catalog.round(%1$I.hll_cardinality(%1$I.hll_union_agg(k.sketch)))::bigint, 0::bigint), false
        FROM sketches k$sql$, hll_schema)
    USING unique_users.tenant_id, "from", "to", unique_users.names;
END
$$;
COMMENT ON FUNCTION telemetry.unique_users(uuid, timestamptz, timestamptz, text[], boolean) IS
    'Distinct users (non-NULL user_id, not scaled by sampling) of tenant_id with an event in ["from", "to"), of the types in names (NULL: every type; no NULL element), by FUNNELS.md (Engagement: uniques over several days come from the union of daily HyperLogLog sketches unless exact is asked for; the result says which). One row (telemetry.unique_users_result): users, and exact, true when counted exactly from raw events: when exact is true (only the raw events still kept count), or when the range is 31 days or shorter and starts at or after the oldest partition. Otherwise an estimate, exact false: the union of the hll(15, 5) sketches of telemetry.daily_totals (every type; of telemetry.daily_rollups for named types) for the whole UTC days before the watermark without a pending invalidation, and of sketches of the raw events of the rest of the range, within 1.7 % (exact for small sets; docs/rollup.md, "Precision"). Errors: NULL tenant_id, or NULL in names (22004); no read access to the tenant (42501); a bound NULL or not finite, "from" after "to", exact NULL (22023); the hll extension missing (55000).';

-- Daily active users: distinct users per calendar day in tz, exact. UTC days held whole come
-- from telemetry.daily_totals (exact users over every event type), the rest from raw events, in
-- one query (one snapshot), as event_counts() does.
CREATE FUNCTION telemetry.daily_active_users(tenant_id uuid, "from" timestamptz, "to" timestamptz,
                                             tz text DEFAULT 'UTC')
RETURNS TABLE (day_start timestamptz, users bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off  -- as event_counts(): the raw spans are known only at run time
AS $$
#variable_conflict use_column
DECLARE
    starts timestamptz[];
    use_rollups boolean;
    hll_schema name;
BEGIN
    PERFORM telemetry.require_tenant_access(daily_active_users.tenant_id, 'read');
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to") THEN
        RAISE EXCEPTION '"from" and "to" must be finite timestamps' USING ERRCODE = '22023';
    END IF;
    IF "from" OPERATOR(pg_catalog.>) "to" THEN
        RAISE EXCEPTION '"from" must not be after "to"' USING ERRCODE = '22023';
    END IF;
    IF daily_active_users.tz IS NULL THEN
        RAISE EXCEPTION 'tz must name a time zone' USING ERRCODE = '22023';
    END IF;
    -- Checks tz (22023) and the number of days (54000).
    starts := ARRAY(SELECT b.bucket_start FROM telemetry.calendar_buckets("from", "to", 'day', daily_active_users.tz) b);
    use_rollups := pg_catalog.lower(daily_active_users.tz) OPERATOR(pg_catalog.=) ANY
                   (ARRAY['utc', 'etc/utc', 'uct', 'etc/uct', 'zulu', 'etc/zulu', 'universal', 'etc/universal']);
    hll_schema := (SELECT ns.nspname FROM pg_catalog.pg_extension x
                   JOIN pg_catalog.pg_namespace ns ON ns.oid OPERATOR(pg_catalog.=) x.extnamespace
                   WHERE x.extname OPERATOR(pg_catalog.=) 'hll');
    IF hll_schema IS NULL THEN
        RAISE EXCEPTION 'the hll extension is not installed' USING ERRCODE = '55000';
    END IF;
    RETURN QUERY EXECUTE pg_catalog.format($sql$
    WITH split AS (
        SELECT * FROM telemetry.rollup_split($2, $3, $5)),
    raw_spans AS (
        SELECT r.span FROM split, pg_catalog.unnest(split.raw_spans) AS r(span)),
    counted AS (
        SELECT pg_catalog.date_trunc('day', e.occurred_at, $4) AS day_start, pg_catalog.count(DISTINCT e.user_id) AS users
        FROM raw_spans r
        JOIN telemetry.events e
          ON e.occurred_at OPERATOR(pg_catalog.>=) pg_catalog.lower(r.span)
         AND e.occurred_at OPERATOR(pg_catalog.<) pg_catalog.upper(r.span)
        WHERE e.tenant_id OPERATOR(pg_catalog.=) $1
        GROUP BY 1
        UNION ALL
        -- A day rolled up before 0.6.0 whose raw events were gone at the update has no exact
        -- count: its sketch's estimate (docs/rollup.md).
        SELECT d.day::pg_catalog.timestamp AT TIME ZONE 'UTC',
               coalesce(d.users, pg_catalog.round(%1$I.hll_cardinality(d.users_hll))::bigint)
        FROM split s
        JOIN telemetry.daily_totals d ON s.rollup_days OPERATOR(pg_catalog.@>) d.day
        WHERE d.tenant_id OPERATOR(pg_catalog.=) $1
          AND d.day OPERATOR(pg_catalog.>=) pg_catalog.lower(s.rollup_days)
          AND d.day OPERATOR(pg_catalog.<) pg_catalog.upper(s.rollup_days))
    SELECT b.day_start, coalesce(pg_catalog.sum(c.users), 0)::bigint
    FROM pg_catalog.unnest($6) AS b(day_start)
    LEFT JOIN counted c ON c.day_start OPERATOR(pg_catalog.=) b.day_start
    GROUP BY b.day_start
    ORDER BY b.day_start$sql$, hll_schema)
    USING daily_active_users.tenant_id, "from", "to", daily_active_users.tz, use_rollups, starts;
END
$$;
COMMENT ON FUNCTION telemetry.daily_active_users(uuid, timestamptz, timestamptz, text) IS
    'Daily active users (DAU) of tenant_id by FUNNELS.md (Engagement): per calendar day in time zone tz (default UTC; DST days have 23 or 25 hours, as calendar_buckets() makes them) that ["from", "to") overlaps, the distinct non-NULL user_id with an event of any type in the part of the day inside the range (not scaled by sampling), 0 included, oldest first: day_start (the instant the day starts, maybe before "from") and users. Exact: UTC days the range holds whole, before the rollup watermark and without a pending invalidation, come from telemetry.daily_totals, read in the same snapshot as the raw events of the rest (a day rolled up before 0.6.0 whose raw events were already gone gives its HyperLogLog estimate). Errors: NULL tenant_id (22004); no read access to the tenant (42501); a bound NULL or not finite, "from" after "to", tz NULL or unknown (22023); more than 10,000 days (54000); the hll extension missing (55000).';

CREATE FUNCTION telemetry.active_users(tenant_id uuid, "at" timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE ("window" text, users bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    PERFORM telemetry.require_tenant_access(active_users.tenant_id, 'read');
    IF "at" IS NULL OR NOT pg_catalog.isfinite("at") THEN
        RAISE EXCEPTION 'at must be a finite timestamp' USING ERRCODE = '22023';
    END IF;
    -- Windows in hours, not days: (at - 1 day) would depend on the session's time zone.
    RETURN QUERY
    WITH counts AS (
        SELECT pg_catalog.count(DISTINCT e.user_id) FILTER (WHERE e.occurred_at OPERATOR(pg_catalog.>) ("at" OPERATOR(pg_catalog.-) interval '1 hour')) AS h1,
               pg_catalog.count(DISTINCT e.user_id) FILTER (WHERE e.occurred_at OPERATOR(pg_catalog.>) ("at" OPERATOR(pg_catalog.-) interval '24 hours')) AS h24,
               pg_catalog.count(DISTINCT e.user_id) FILTER (WHERE e.occurred_at OPERATOR(pg_catalog.>) ("at" OPERATOR(pg_catalog.-) interval '168 hours')) AS d7,
               pg_catalog.count(DISTINCT e.user_id) AS d30
        FROM telemetry.events e
        WHERE e.tenant_id OPERATOR(pg_catalog.=) active_users.tenant_id
          AND e.occurred_at OPERATOR(pg_catalog.>) ("at" OPERATOR(pg_catalog.-) interval '720 hours')
          AND e.occurred_at OPERATOR(pg_catalog.<=) "at")
    SELECT w.label, w.users
    FROM counts c
    CROSS JOIN LATERAL (VALUES (1, '1h', c.h1), (2, '24h', c.h24), (3, '7d', c.d7),
                               (4, 'DAU', c.h24), (5, 'WAU', c.d7), (6, 'MAU', c.d30)) AS w(ord, label, users)
    ORDER BY w.ord;
END
$$;
COMMENT ON FUNCTION telemetry.active_users(uuid, timestamptz) IS
    'Active users of tenant_id at the instant at (default now()), by FUNNELS.md (Engagement: DAU / WAU / MAU at time t are the distinct actors with an event in (t-1d, t], (t-7d, t], (t-30d, t]; active users 1h / 24h / 7d are the same with t = now): six rows, window and users (distinct non-NULL user_id with an event in the window, not scaled by sampling), in this order: 1h (at-1h, at], 24h (at-24h, at], 7d (at-168h, at], DAU (at-24h, at], WAU (at-168h, at], MAU (at-720h, at]; days are 24 hours, whatever the session''s time zone. Exact, from raw events. Errors: NULL tenant_id (22004); no read access to the tenant (42501); at NULL or not finite (22023).';

CREATE FUNCTION telemetry.stickiness(tenant_id uuid, "from" timestamptz, "to" timestamptz, period text DEFAULT 'day',
                                     tz text DEFAULT 'UTC')
RETURNS TABLE (periods_active integer, users bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    periods integer;
BEGIN
    PERFORM telemetry.require_tenant_access(stickiness.tenant_id, 'read');
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to") THEN
        RAISE EXCEPTION '"from" and "to" must be finite timestamps' USING ERRCODE = '22023';
    END IF;
    IF "from" OPERATOR(pg_catalog.>) "to" THEN
        RAISE EXCEPTION '"from" must not be after "to"' USING ERRCODE = '22023';
    END IF;
    IF stickiness.period IS NULL OR NOT stickiness.period OPERATOR(pg_catalog.=) ANY (ARRAY['hour', 'day', 'week', 'month']) THEN
        RAISE EXCEPTION 'unknown period' USING ERRCODE = '22023', HINT = 'hour, day, week or month';
    END IF;
    -- The calendar periods in tz that the range overlaps (22023 for an unknown tz, 54000 beyond
    -- 10,000).
    periods := (SELECT pg_catalog.count(*) FROM telemetry.calendar_buckets("from", "to", stickiness.period, stickiness.tz));
    RETURN QUERY
    WITH per_user AS (
        SELECT e.user_id, pg_catalog.count(DISTINCT pg_catalog.date_trunc(stickiness.period, e.occurred_at, stickiness.tz)) AS active
        FROM telemetry.events e
        WHERE e.tenant_id OPERATOR(pg_catalog.=) stickiness.tenant_id
          AND e.occurred_at OPERATOR(pg_catalog.>=) "from" AND e.occurred_at OPERATOR(pg_catalog.<) "to"
          AND e.user_id IS NOT NULL
        GROUP BY e.user_id)
    SELECT k.k, pg_catalog.count(p.user_id)
    FROM pg_catalog.generate_series(1, periods) AS k(k)
    LEFT JOIN per_user p ON p.active OPERATOR(pg_catalog.=) k.k
    GROUP BY k.k
    ORDER BY k.k;
END
$$;
COMMENT ON FUNCTION telemetry.stickiness(uuid, timestamptz, timestamptz, text, text) IS
    'Stickiness of tenant_id by FUNNELS.md (Engagement: over N periods, the number of actors active in exactly 1, 2, ..., N periods): the N calendar periods in time zone tz (period hour, day, week or month, as calendar_buckets() makes them: ISO weeks start on Monday, DST days have 23 or 25 hours) that ["from", "to") overlaps, a period the range cuts counting only its events inside. One row per k = 1..N, in order: periods_active (k) and users (distinct non-NULL user_id with an event in exactly k of the periods; not scaled by sampling), 0 included; no row for an empty range. Exact, from raw events. Errors: NULL tenant_id (22004); no read access to the tenant (42501); a bound NULL or not finite, "from" after "to", an unknown period, tz NULL or unknown (22023); more than 10,000 periods (54000).';

CREATE FUNCTION telemetry.dump(tenant_id uuid, since interval DEFAULT '1 hour', names text[] DEFAULT NULL)
RETURNS SETOF jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    PERFORM telemetry.require_tenant_access(dump.tenant_id, 'read');
    IF dump.since IS NULL OR dump.since OPERATOR(pg_catalog.<=) interval '0' THEN
        RAISE EXCEPTION 'since must be a positive interval' USING ERRCODE = '22023';
    END IF;
    IF pg_catalog.array_position(dump.names, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'names must not contain NULL' USING ERRCODE = '22004';
    END IF;
    RETURN QUERY
    SELECT pg_catalog.to_jsonb(e.*)
    FROM telemetry.events e
    WHERE e.tenant_id OPERATOR(pg_catalog.=) dump.tenant_id
      AND e.occurred_at OPERATOR(pg_catalog.>) (pg_catalog.now() OPERATOR(pg_catalog.-) dump.since)
      AND (dump.names IS NULL OR e.name OPERATOR(pg_catalog.=) ANY (dump.names))
    ORDER BY e.occurred_at DESC, e.id DESC;
END
$$;
COMMENT ON FUNCTION telemetry.dump(uuid, interval, text[]) IS
    'The raw recent events of tenant_id ("telemetry.dump --since 1h"): those with occurred_at after now() - since (default 1 hour; a positive interval, its days and months counted in the session''s time zone), of the types in names (NULL: every type; no NULL element), newest first (occurred_at, then ingest order, descending), each a JSON object of the columns of telemetry.events (id, occurred_at, received_at, tenant_id, event_id, sample_weight, flags, name, user_id, session_id, source, schema_version, properties). Errors: NULL tenant_id, or NULL in names (22004); no read access to the tenant (42501); since NULL, zero or negative (22023).';
-- Funnels (docs/analytics.md, FUNNELS.md F1-F17): telemetry.funnel() checks and shapes its
-- arguments, then the engine (src/pg/analytics/funnel_functions, src/core/analytics/funnel)
-- reads each actor's events once, as the caller (row-level security applies).

CREATE FUNCTION telemetry.funnel_engine(
    tenant_id uuid, "from" timestamptz, "to" timestamptz, conversion_window interval,
    step_names text[], step_wheres jsonb[], exclusion_names text[], exclusion_wheres jsonb[],
    exclusion_from integer[], exclusion_to integer[], mode text, unit text, breakdown text, now timestamptz)
RETURNS TABLE (step integer, breakdown_value text, actors float8, in_progress float8,
               median_seconds float8, avg_seconds float8)
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'telemetry_funnel_engine';
COMMENT ON FUNCTION telemetry.funnel_engine(uuid, timestamptz, timestamptz, interval, text[], jsonb[], text[], jsonb[], integer[], integer[], text, text, text, timestamptz) IS
    'Internal, for telemetry.funnel(), which checks its arguments: the weighted actors, actors in progress and times between steps per breakdown value and step. 42501 for a tenant the caller may not read.';

CREATE FUNCTION telemetry.funnel(
    tenant_id         uuid,
    steps             jsonb,
    "from"            timestamptz,
    "to"              timestamptz,
    conversion_window interval    DEFAULT '14 days',
    mode              text        DEFAULT 'ordered',
    unit              text        DEFAULT 'user',
    exclusions        jsonb       DEFAULT NULL,
    breakdown         text        DEFAULT NULL,
    now               timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (step integer, name text, breakdown_value text, actors bigint,
               conversion_from_first numeric, conversion_from_previous numeric,
               median_seconds_from_previous float8, avg_seconds_from_previous float8, in_progress bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    names text[] := '{}';
    wheres jsonb[] := '{}';
    x_names text[] := '{}';
    x_wheres jsonb[] := '{}';
    x_from integer[] := '{}';
    x_to integer[] := '{}';
    item jsonb;
    i integer;
    n integer;
BEGIN
    IF tenant_id IS NULL THEN
        RAISE EXCEPTION 'tenant_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    PERFORM telemetry.require_tenant_access(tenant_id, 'read');
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to")
       OR "from" OPERATOR(pg_catalog.>=) "to" THEN
        RAISE EXCEPTION 'the range must be finite with "from" before "to"' USING ERRCODE = '22023';
    END IF;
    IF conversion_window IS NULL OR conversion_window OPERATOR(pg_catalog.<=) interval '0' THEN
        RAISE EXCEPTION 'conversion_window must be positive' USING ERRCODE = '22023';
    END IF;
    IF mode IS NULL OR NOT mode OPERATOR(pg_catalog.=) ANY (ARRAY['ordered', 'strict', 'any']) THEN
        RAISE EXCEPTION 'unknown funnel mode' USING ERRCODE = '22023', HINT = 'ordered, strict or any';
    END IF;
    IF unit IS NULL OR NOT unit OPERATOR(pg_catalog.=) ANY (ARRAY['user', 'session']) THEN
        RAISE EXCEPTION 'unknown funnel unit' USING ERRCODE = '22023', HINT = 'user or session';
    END IF;
    IF now IS NULL OR NOT pg_catalog.isfinite(now) THEN
        RAISE EXCEPTION 'now must be a finite timestamp' USING ERRCODE = '22008';
    END IF;
    IF steps IS NULL OR pg_catalog.jsonb_typeof(steps) OPERATOR(pg_catalog.<>) 'array' THEN
        RAISE EXCEPTION 'steps must be a JSON array' USING ERRCODE = '22023';
    END IF;
    n := pg_catalog.jsonb_array_length(steps);
    IF n OPERATOR(pg_catalog.<) 2 OR n OPERATOR(pg_catalog.>) 32 THEN
        RAISE EXCEPTION 'a funnel has 2 to 32 steps' USING ERRCODE = '22023';
    END IF;
    FOR i IN 0 .. n OPERATOR(pg_catalog.-) 1 LOOP
        item := steps OPERATOR(pg_catalog.->) i;
        IF pg_catalog.jsonb_typeof(item) OPERATOR(pg_catalog.=) 'string' THEN
            names := names OPERATOR(pg_catalog.||) (item OPERATOR(pg_catalog.#>>) '{}'::text[]);
            wheres := wheres OPERATOR(pg_catalog.||) '{}'::jsonb;
        ELSIF pg_catalog.jsonb_typeof(item) OPERATOR(pg_catalog.=) 'object'
              AND pg_catalog.jsonb_typeof(item OPERATOR(pg_catalog.->) 'event') OPERATOR(pg_catalog.=) 'string'
              AND coalesce(pg_catalog.jsonb_typeof(item OPERATOR(pg_catalog.->) 'where'), 'object') OPERATOR(pg_catalog.=) 'object'
              AND NOT EXISTS (SELECT FROM pg_catalog.jsonb_object_keys(item) k
                              WHERE NOT k OPERATOR(pg_catalog.=) ANY (ARRAY['event', 'where'])) THEN
            names := names OPERATOR(pg_catalog.||) (item OPERATOR(pg_catalog.->>) 'event');
            wheres := wheres OPERATOR(pg_catalog.||) coalesce(item OPERATOR(pg_catalog.->) 'where', '{}'::jsonb);
        ELSE
            RAISE EXCEPTION 'funnel step $[%] must be an event name or {"event": name, "where": {property: value, ...}}', i
                USING ERRCODE = '22023';
        END IF;
    END LOOP;
    IF exclusions IS NOT NULL AND pg_catalog.jsonb_typeof(exclusions) OPERATOR(pg_catalog.<>) 'null' THEN
        IF pg_catalog.jsonb_typeof(exclusions) OPERATOR(pg_catalog.<>) 'array' THEN
            RAISE EXCEPTION 'exclusions must be a JSON array' USING ERRCODE = '22023';
        END IF;
        IF mode OPERATOR(pg_catalog.=) 'any' AND pg_catalog.jsonb_array_length(exclusions) OPERATOR(pg_catalog.>) 0 THEN
            RAISE EXCEPTION 'exclusions apply to ordered and strict funnels' USING ERRCODE = '22023';
        END IF;
        IF pg_catalog.jsonb_array_length(exclusions) OPERATOR(pg_catalog.>) 32 THEN
            RAISE EXCEPTION 'a funnel has at most 32 exclusions' USING ERRCODE = '22023';
        END IF;
        FOR i IN 0 .. pg_catalog.jsonb_array_length(exclusions) OPERATOR(pg_catalog.-) 1 LOOP
            item := exclusions OPERATOR(pg_catalog.->) i;
            IF pg_catalog.jsonb_typeof(item) OPERATOR(pg_catalog.<>) 'object'
               OR pg_catalog.jsonb_typeof(item OPERATOR(pg_catalog.->) 'event') IS DISTINCT FROM 'string'
               OR pg_catalog.jsonb_typeof(item OPERATOR(pg_catalog.->) 'from') IS DISTINCT FROM 'number'
               OR pg_catalog.jsonb_typeof(item OPERATOR(pg_catalog.->) 'to') IS DISTINCT FROM 'number'
               OR coalesce(pg_catalog.jsonb_typeof(item OPERATOR(pg_catalog.->) 'where'), 'object') OPERATOR(pg_catalog.<>) 'object'
               OR (item OPERATOR(pg_catalog.->>) 'from') !~ '^[0-9]{1,2}$' OR (item OPERATOR(pg_catalog.->>) 'to') !~ '^[0-9]{1,2}$'
               OR (item OPERATOR(pg_catalog.->>) 'from')::integer OPERATOR(pg_catalog.<) 1
               OR (item OPERATOR(pg_catalog.->>) 'to')::integer OPERATOR(pg_catalog.>) n
               OR (item OPERATOR(pg_catalog.->>) 'from')::integer OPERATOR(pg_catalog.>=) (item OPERATOR(pg_catalog.->>) 'to')::integer THEN
                RAISE EXCEPTION 'funnel exclusion $[%] must be {"event": name, "from": k, "to": m} with 1 <= k < m <= %', i, n
                    USING ERRCODE = '22023';
            END IF;
            x_names := x_names OPERATOR(pg_catalog.||) (item OPERATOR(pg_catalog.->>) 'event');
            x_wheres := x_wheres OPERATOR(pg_catalog.||) coalesce(item OPERATOR(pg_catalog.->) 'where', '{}'::jsonb);
            x_from := x_from OPERATOR(pg_catalog.||) (item OPERATOR(pg_catalog.->>) 'from')::integer;
            x_to := x_to OPERATOR(pg_catalog.||) (item OPERATOR(pg_catalog.->>) 'to')::integer;
        END LOOP;
    END IF;
    IF breakdown IS NOT NULL AND breakdown OPERATOR(pg_catalog.=) '' THEN
        RAISE EXCEPTION 'breakdown must name a property' USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
    WITH totals AS (
        SELECT * FROM telemetry.funnel_engine(tenant_id, "from", "to", conversion_window, names, wheres, x_names, x_wheres,
                                              x_from, x_to, mode, unit, breakdown, now)),
    -- Without a breakdown, every step appears, with 0 actors when nobody entered.
    cells AS (
        SELECT s.k AS step, b.value AS breakdown_value
        FROM pg_catalog.generate_series(1, n) AS s(k)
        CROSS JOIN (SELECT DISTINCT t.breakdown_value AS value FROM totals t
                    UNION SELECT NULL::text WHERE breakdown IS NULL) AS b),
    filled AS (
        SELECT c.step, c.breakdown_value, coalesce(t.actors, 0) AS actors, coalesce(t.in_progress, 0) AS in_progress,
               t.median_seconds, t.avg_seconds
        FROM cells c LEFT JOIN totals t
          ON t.step OPERATOR(pg_catalog.=) c.step AND t.breakdown_value IS NOT DISTINCT FROM c.breakdown_value)
    SELECT f.step, names[f.step],
           CASE WHEN breakdown IS NOT NULL THEN coalesce(f.breakdown_value, '(none)') END,
           pg_catalog.round(f.actors)::bigint,
           CASE WHEN pg_catalog.first_value(f.actors) OVER w OPERATOR(pg_catalog.>) 0
                THEN pg_catalog.round((f.actors OPERATOR(pg_catalog./) pg_catalog.first_value(f.actors) OVER w)::numeric, 4) END,
           CASE WHEN f.step OPERATOR(pg_catalog.=) 1 THEN CASE WHEN f.actors OPERATOR(pg_catalog.>) 0 THEN 1.0000 END
                WHEN pg_catalog.lag(f.actors) OVER w OPERATOR(pg_catalog.>) 0
                THEN pg_catalog.round((f.actors OPERATOR(pg_catalog./) pg_catalog.lag(f.actors) OVER w)::numeric, 4) END,
           f.median_seconds, f.avg_seconds, pg_catalog.round(f.in_progress)::bigint
    FROM filled f
    WINDOW w AS (PARTITION BY f.breakdown_value ORDER BY f.step)
    ORDER BY f.breakdown_value NULLS FIRST, f.step;
END
$$;
COMMENT ON FUNCTION telemetry.funnel(uuid, jsonb, timestamptz, timestamptz, interval, text, text, jsonb, text, timestamptz) IS
    'A conversion funnel by the rules of FUNNELS.md F1-F17 (docs/analytics.md): steps, a JSON array of 2 to 32 steps, each an event name or {"event": name, "where": {property: value, ...}} (the properties must contain those values); the actors (unit user: user_id; session: session_id) entering step 1 in ["from", "to"), each step within conversion_window of step 1 (not after now); mode ordered, strict or any; exclusions [{"event": name, "from": k, "to": m, "where": {...}}] (ordered and strict); breakdown: a top-level property, the first non-null value among the actor''s step events, (none) when there is none. One row per (breakdown value and) step: actors (weighted by the inverse sampling rate of their entry event, rounded), conversion_from_first and conversion_from_previous (fractions, 4 decimals), median and average seconds from the previous step, in_progress (not converted with the window still open). Errors: NULL tenant (22004); no read access (42501); a bad range, window, mode, unit, step or exclusion (22023, naming the JSON path); now not finite (22008).';

-- window_funnel(): funnel()'s ordered rules as an aggregate, for an analyst's own GROUP BY.
CREATE FUNCTION telemetry.window_funnel_transition(internal, interval, timestamptz, VARIADIC boolean[])
RETURNS internal
LANGUAGE c CALLED ON NULL INPUT
AS 'MODULE_PATHNAME', 'telemetry_window_funnel_transition';
COMMENT ON FUNCTION telemetry.window_funnel_transition(internal, interval, timestamptz, boolean[]) IS
    'Internal: the transition function of telemetry.window_funnel().';
CREATE FUNCTION telemetry.window_funnel_final(internal)
RETURNS integer
LANGUAGE c
AS 'MODULE_PATHNAME', 'telemetry_window_funnel_final';
COMMENT ON FUNCTION telemetry.window_funnel_final(internal) IS
    'Internal: the final function of telemetry.window_funnel().';
CREATE AGGREGATE telemetry.window_funnel(interval, timestamptz, VARIADIC boolean[]) (
    SFUNC = telemetry.window_funnel_transition,
    STYPE = internal,
    FINALFUNC = telemetry.window_funnel_final
);
COMMENT ON AGGREGATE telemetry.window_funnel(interval, timestamptz, boolean[]) IS
    'The furthest step a group of rows reaches, by funnel()''s ordered rules (FUNNELS.md F2-F7, F10; ClickHouse''s windowFunnel idea): window (positive), the row''s time, then one condition per step (1 to 32, the same number on every row), true where the row fills that step. The step-1 condition bounds entry (put the range there, F12). Ties of time are broken by the order rows arrive: order them by time then id (ORDER BY inside the call) to follow F2 exactly. 0 when no row fills step 1. Errors: window not positive, or a number of conditions outside 1..32 or differing between rows (22023); NULL window or conditions (22004).';

-- Rates (FUNNELS.md, "Rates named rate"): a 2-step ordered funnel per actor, with the funnel's
-- rules and default window; the plain ratio of event counts beside it, named a ratio (it can
-- exceed 1).
CREATE FUNCTION telemetry.conversion_rate(
    tenant_id         uuid,
    from_event        jsonb,
    to_event          jsonb,
    "from"            timestamptz,
    "to"              timestamptz,
    conversion_window interval    DEFAULT '14 days',
    now               timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (actors bigint, converted bigint, rate numeric, from_events numeric, to_events numeric, event_ratio numeric)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH f AS (
        SELECT * FROM telemetry.funnel(tenant_id, pg_catalog.jsonb_build_array(from_event, to_event), "from", "to",
                                       conversion_window, 'ordered', 'user', NULL, NULL, now)),
    -- The steps as funnel() read them (it checked them): a name, or {"event": ..., "where": ...}.
    steps AS (
        SELECT k, CASE WHEN pg_catalog.jsonb_typeof(s) OPERATOR(pg_catalog.=) 'string' THEN s OPERATOR(pg_catalog.#>>) '{}'
                       ELSE s OPERATOR(pg_catalog.->>) 'event' END AS name,
               coalesce(s OPERATOR(pg_catalog.->) 'where', '{}'::jsonb) AS condition
        FROM (VALUES (1, from_event), (2, to_event)) AS x(k, s)),
    -- A step without conditions is counted by event_counts() (whole UTC days from the
    -- rollups); one with conditions from the raw events.
    counts AS (
        SELECT s.k, coalesce(pg_catalog.sum(e.sample_weight::pg_catalog.numeric), 0) AS events
        FROM steps s LEFT JOIN telemetry.events e
          ON e.tenant_id OPERATOR(pg_catalog.=) conversion_rate.tenant_id AND e.name OPERATOR(pg_catalog.=) s.name
         AND e.properties OPERATOR(pg_catalog.@>) s.condition
         AND e.occurred_at OPERATOR(pg_catalog.>=) "from" AND e.occurred_at OPERATOR(pg_catalog.<) "to"
        WHERE s.condition OPERATOR(pg_catalog.<>) '{}'::jsonb
        GROUP BY s.k
        UNION ALL
        SELECT s.k, (SELECT coalesce(pg_catalog.sum(c.events), 0)
                     FROM telemetry.event_counts(conversion_rate.tenant_id, "from", "to", 'day', ARRAY[s.name], 'UTC') c)
        FROM steps s
        WHERE s.condition OPERATOR(pg_catalog.=) '{}'::jsonb)
    SELECT (SELECT f.actors FROM f WHERE f.step OPERATOR(pg_catalog.=) 1),
           (SELECT f.actors FROM f WHERE f.step OPERATOR(pg_catalog.=) 2),
           (SELECT f.conversion_from_first FROM f WHERE f.step OPERATOR(pg_catalog.=) 2),
           (SELECT c.events FROM counts c WHERE c.k OPERATOR(pg_catalog.=) 1),
           (SELECT c.events FROM counts c WHERE c.k OPERATOR(pg_catalog.=) 2),
           (SELECT CASE WHEN a.events OPERATOR(pg_catalog.>) 0
                        THEN pg_catalog.round(b.events OPERATOR(pg_catalog./) a.events, 4) END
            FROM counts a, counts b WHERE a.k OPERATOR(pg_catalog.=) 1 AND b.k OPERATOR(pg_catalog.=) 2)
$$;
COMMENT ON FUNCTION telemetry.conversion_rate(uuid, jsonb, jsonb, timestamptz, timestamptz, interval, timestamptz) IS
    'The share of actors who, after from_event, did to_event within conversion_window (a 2-step ordered funnel, FUNNELS.md F1-F17: entry in ["from", "to"), default window 14 days): actors (entered), converted, rate (converted / actors, 4 decimals, never above 1; NULL when nobody entered); and, named as such, the plain event counts in the range (from_events, to_events, weighted by sampling) and their event_ratio, which can exceed 1. Events as funnel() steps take them: a name or {"event": name, "where": {...}}. Errors: those of funnel() (22004, 42501, 22023, 22008).';

CREATE FUNCTION telemetry.completion_rate(
    tenant_id         uuid,
    "from"            timestamptz,
    "to"              timestamptz,
    conversion_window interval    DEFAULT '14 days',
    now               timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (actors bigint, converted bigint, rate numeric, from_events numeric, to_events numeric, event_ratio numeric)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM telemetry.conversion_rate(tenant_id, '"conversation_started"',
                                            '{"event": "conversation_ended", "where": {"reason": "completed"}}',
                                            "from", "to", conversion_window, now)
$$;
COMMENT ON FUNCTION telemetry.completion_rate(uuid, timestamptz, timestamptz, interval, timestamptz) IS
    'The design documents'' completion rate: conversion_rate() from conversation_started to conversation_ended with reason completed (same columns, rules and errors).';

CREATE FUNCTION telemetry.escalation_rate(
    tenant_id         uuid,
    "from"            timestamptz,
    "to"              timestamptz,
    conversion_window interval    DEFAULT '14 days',
    now               timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (actors bigint, converted bigint, rate numeric, from_events numeric, to_events numeric, event_ratio numeric)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM telemetry.conversion_rate(tenant_id, '"conversation_started"', '"escalation_triggered"',
                                            "from", "to", conversion_window, now)
$$;
COMMENT ON FUNCTION telemetry.escalation_rate(uuid, timestamptz, timestamptz, interval, timestamptz) IS
    'The design documents'' escalation rate: conversion_rate() from conversation_started to escalation_triggered (same columns, rules and errors).';
-- Retention cohorts (docs/analytics.md, FUNNELS.md R1-R6): telemetry.retention() checks its
-- arguments and numbers the calendar periods; the engine (src/pg/analytics/retention_functions,
-- src/core/analytics/retention) counts each actor once.

-- Calendar periods in a time zone, numbered so that consecutive periods have consecutive numbers
-- (R2): hours since the epoch (a repeated hour at a DST change is two periods), days since
-- 2000-01-01 and ISO weeks since Monday 2000-01-03 as the time zone's calendar has them, months
-- since year 0.
CREATE FUNCTION telemetry.period_number(ts timestamptz, period text, tz text)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE period
        WHEN 'hour' THEN pg_catalog.floor(pg_catalog.date_part('epoch', ts) OPERATOR(pg_catalog./) 3600)::bigint
        WHEN 'day' THEN ((ts AT TIME ZONE tz)::pg_catalog.date OPERATOR(pg_catalog.-) '2000-01-01'::pg_catalog.date)::bigint
        WHEN 'week' THEN pg_catalog.floor(((ts AT TIME ZONE tz)::pg_catalog.date OPERATOR(pg_catalog.-) '2000-01-03'::pg_catalog.date)::numeric OPERATOR(pg_catalog./) 7)::bigint
        WHEN 'month' THEN (pg_catalog.date_part('year', ts AT TIME ZONE tz) OPERATOR(pg_catalog.*) 12
                           OPERATOR(pg_catalog.+) pg_catalog.date_part('month', ts AT TIME ZONE tz) OPERATOR(pg_catalog.-) 1)::bigint
    END
$$;
COMMENT ON FUNCTION telemetry.period_number(timestamptz, text, text) IS
    'Internal, for retention(): the number of the calendar period (hour, day, week or month) that ts falls in, in time zone tz: consecutive periods have consecutive numbers (ISO weeks start on Monday).';

-- The start of period number n.
CREATE FUNCTION telemetry.period_start(n bigint, period text, tz text)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE period
        WHEN 'hour' THEN pg_catalog.to_timestamp((n OPERATOR(pg_catalog.*) 3600)::float8)
        WHEN 'day' THEN ('2000-01-01'::pg_catalog.date OPERATOR(pg_catalog.+) n::integer)::pg_catalog.timestamp AT TIME ZONE tz
        WHEN 'week' THEN ('2000-01-03'::pg_catalog.date OPERATOR(pg_catalog.+) (7 OPERATOR(pg_catalog.*) n)::integer)::pg_catalog.timestamp AT TIME ZONE tz
        WHEN 'month' THEN pg_catalog.make_date((n OPERATOR(pg_catalog./) 12)::integer, (n OPERATOR(pg_catalog.%) 12)::integer OPERATOR(pg_catalog.+) 1, 1)::pg_catalog.timestamp AT TIME ZONE tz
    END
$$;
COMMENT ON FUNCTION telemetry.period_start(bigint, text, text) IS
    'Internal, for retention(): when calendar period number n (period_number()) starts, in time zone tz.';

CREATE FUNCTION telemetry.retention_engine(
    tenant_id uuid, start_name text, start_where jsonb, return_name text, return_where jsonb, period text, tz text,
    read_from timestamptz, read_until timestamptz, first_cohort bigint, last_cohort bigint, current bigint,
    periods integer, first_time boolean, on_or_after boolean, unit text)
RETURNS TABLE (cohort bigint, period_index integer, cohort_size bigint, retained bigint, complete boolean)
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'telemetry_retention_engine';
COMMENT ON FUNCTION telemetry.retention_engine(uuid, text, jsonb, text, jsonb, text, text, timestamptz, timestamptz, bigint, bigint, bigint, integer, boolean, boolean, text) IS
    'Internal, for telemetry.retention(), which checks its arguments: the cohort table by period numbers. 42501 for a tenant the caller may not read.';

CREATE FUNCTION telemetry.retention(
    tenant_id    uuid,
    start_event  jsonb,
    return_event jsonb,
    "from"       timestamptz,
    "to"         timestamptz,
    period       text        DEFAULT 'day',
    periods      integer     DEFAULT 7,
    cohort       text        DEFAULT 'first_time',
    criterion    text        DEFAULT 'on',
    tz           text        DEFAULT 'UTC',
    now          timestamptz DEFAULT pg_catalog.now(),
    unit         text        DEFAULT 'user')
RETURNS TABLE (cohort_start timestamptz, period_index integer, cohort_size bigint, retained bigint, rate numeric,
               complete boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    events jsonb[] := ARRAY[start_event, return_event];
    names text[] := '{}';
    wheres jsonb[] := '{}';
    item jsonb;
    first_cohort bigint;
    last_cohort bigint;
BEGIN
    IF tenant_id IS NULL THEN
        RAISE EXCEPTION 'tenant_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    PERFORM telemetry.require_tenant_access(tenant_id, 'read');
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to")
       OR "from" OPERATOR(pg_catalog.>=) "to" THEN
        RAISE EXCEPTION 'the range must be finite with "from" before "to"' USING ERRCODE = '22023';
    END IF;
    IF period IS NULL OR NOT period OPERATOR(pg_catalog.=) ANY (ARRAY['hour', 'day', 'week', 'month']) THEN
        RAISE EXCEPTION 'unknown retention period' USING ERRCODE = '22023', HINT = 'hour, day, week or month';
    END IF;
    IF periods IS NULL OR periods OPERATOR(pg_catalog.<) 1 OR periods OPERATOR(pg_catalog.>) 1000 THEN
        RAISE EXCEPTION 'periods must be within 1..1000' USING ERRCODE = '22023';
    END IF;
    IF cohort IS NULL OR NOT cohort OPERATOR(pg_catalog.=) ANY (ARRAY['first_time', 'recurring']) THEN
        RAISE EXCEPTION 'unknown cohort kind' USING ERRCODE = '22023', HINT = 'first_time or recurring';
    END IF;
    IF criterion IS NULL OR NOT criterion OPERATOR(pg_catalog.=) ANY (ARRAY['on', 'on_or_after']) THEN
        RAISE EXCEPTION 'unknown retention criterion' USING ERRCODE = '22023', HINT = 'on or on_or_after';
    END IF;
    IF unit IS NULL OR NOT unit OPERATOR(pg_catalog.=) ANY (ARRAY['user', 'session']) THEN
        RAISE EXCEPTION 'unknown unit' USING ERRCODE = '22023', HINT = 'user or session';
    END IF;
    IF tz IS NULL OR NOT EXISTS (SELECT FROM pg_catalog.pg_timezone_names z WHERE z.name OPERATOR(pg_catalog.=) tz)
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_timezone_abbrevs z WHERE z.abbrev OPERATOR(pg_catalog.=) tz) THEN
        RAISE EXCEPTION 'unknown time zone' USING ERRCODE = '22023';
    END IF;
    IF now IS NULL OR NOT pg_catalog.isfinite(now) THEN
        RAISE EXCEPTION 'now must be a finite timestamp' USING ERRCODE = '22008';
    END IF;
    FOR i IN 1 .. 2 LOOP
        item := events[i];
        IF pg_catalog.jsonb_typeof(item) OPERATOR(pg_catalog.=) 'string' THEN
            names := names OPERATOR(pg_catalog.||) (item OPERATOR(pg_catalog.#>>) '{}'::text[]);
            wheres := wheres OPERATOR(pg_catalog.||) '{}'::jsonb;
        ELSIF pg_catalog.jsonb_typeof(item) OPERATOR(pg_catalog.=) 'object'
              AND pg_catalog.jsonb_typeof(item OPERATOR(pg_catalog.->) 'event') OPERATOR(pg_catalog.=) 'string'
              AND coalesce(pg_catalog.jsonb_typeof(item OPERATOR(pg_catalog.->) 'where'), 'object') OPERATOR(pg_catalog.=) 'object'
              AND NOT EXISTS (SELECT FROM pg_catalog.jsonb_object_keys(item) k
                              WHERE NOT k OPERATOR(pg_catalog.=) ANY (ARRAY['event', 'where'])) THEN
            names := names OPERATOR(pg_catalog.||) (item OPERATOR(pg_catalog.->>) 'event');
            wheres := wheres OPERATOR(pg_catalog.||) coalesce(item OPERATOR(pg_catalog.->) 'where', '{}'::jsonb);
        ELSE
            RAISE EXCEPTION '% must be an event name or {"event": name, "where": {property: value, ...}}',
                CASE i WHEN 1 THEN 'start_event' ELSE 'return_event' END USING ERRCODE = '22023';
        END IF;
    END LOOP;
    -- The cohort periods whose start lies in ["from", "to") (R1).
    first_cohort := telemetry.period_number("from", period, tz);
    IF telemetry.period_start(first_cohort, period, tz) OPERATOR(pg_catalog.<) "from" THEN
        first_cohort := first_cohort OPERATOR(pg_catalog.+) 1;
    END IF;
    last_cohort := telemetry.period_number("to", period, tz);
    IF telemetry.period_start(last_cohort, period, tz) OPERATOR(pg_catalog.>=) "to" THEN
        last_cohort := last_cohort OPERATOR(pg_catalog.-) 1;
    END IF;
    IF (last_cohort OPERATOR(pg_catalog.-) first_cohort OPERATOR(pg_catalog.+) 1) OPERATOR(pg_catalog.*) (periods OPERATOR(pg_catalog.+) 1)
       OPERATOR(pg_catalog.>) 100000 THEN
        RAISE EXCEPTION 'the cohort table would have more than 100,000 cells' USING ERRCODE = '54000';
    END IF;
    RETURN QUERY
    SELECT telemetry.period_start(r.cohort, period, tz), r.period_index, r.cohort_size,
           CASE WHEN r.complete THEN r.retained END,
           CASE WHEN r.complete AND r.cohort_size OPERATOR(pg_catalog.>) 0
                THEN pg_catalog.round(r.retained::numeric OPERATOR(pg_catalog./) r.cohort_size, 4) END,
           r.complete
    FROM telemetry.retention_engine(tenant_id, names[1], wheres[1], names[2], wheres[2], period, tz,
                                    telemetry.period_start(first_cohort, period, tz),
                                    LEAST(telemetry.period_start(last_cohort OPERATOR(pg_catalog.+) periods OPERATOR(pg_catalog.+) 1, period, tz), now),
                                    first_cohort, last_cohort, telemetry.period_number(now, period, tz), periods,
                                    cohort OPERATOR(pg_catalog.=) 'first_time', criterion OPERATOR(pg_catalog.=) 'on_or_after', unit) r
    ORDER BY r.cohort, r.period_index;
END
$$;
COMMENT ON FUNCTION telemetry.retention(uuid, jsonb, jsonb, timestamptz, timestamptz, text, integer, text, text, text, timestamptz, text) IS
    'The retention cohort table of FUNNELS.md R1-R6 (docs/analytics.md): actors (unit user or session) grouped by the calendar period (period: hour, day, week, month, in time zone tz; ISO weeks) of their first-ever start event (cohort first_time) or of each start event (recurring), for the cohort periods whose start lies in ["from", "to"); for each, period_index 0..periods: cohort_size, retained (a return event in period k, criterion on; in some period >= k, on_or_after; a start event is never its own return), rate (retained / cohort_size, 4 decimals) and complete (false, with retained and rate NULL, while the period has not finished by now). start_event and return_event: an event name or {"event": name, "where": {...}}. Errors: NULL tenant (22004); no read access (42501); bad range, period, periods (1..1000), cohort, criterion, unit, event or time zone (22023); more than 100,000 cells (54000); now not finite (22008).';
-- Numeric properties (docs/analytics.md, issue 11 item 8): property_sum() (token usage by
-- scenario) and property_stats() (durationMs), in PL/pgSQL.
--
-- All run as the caller (SECURITY INVOKER) and STABLE: row-level security on events applies,
-- every statement sees the snapshot of the calling query, and each first asks
-- telemetry.require_tenant_access(tenant_id, 'read') (42501; 22004 for NULL). Nothing the caller
-- gives is put into SQL text: property names are values, used with the jsonb operators.

-- The terms of a value path: 1 to 8 top-level property names joined by '+'.
CREATE FUNCTION telemetry.property_path_terms(value_path text)
RETURNS text[]
LANGUAGE plpgsql IMMUTABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    terms text[];
BEGIN
    IF value_path IS NULL THEN
        RAISE EXCEPTION 'value_path must name a property' USING ERRCODE = '22023';
    END IF;
    terms := pg_catalog.string_to_array(value_path, '+');
    IF pg_catalog.cardinality(terms) OPERATOR(pg_catalog.>) 8 THEN
        RAISE EXCEPTION 'value_path adds % properties, more than 8', pg_catalog.cardinality(terms)
            USING ERRCODE = '22023';
    END IF;
    -- '' is no term at all (string_to_array gives none), not one empty name.
    IF pg_catalog.cardinality(terms) OPERATOR(pg_catalog.=) 0
       OR EXISTS (SELECT FROM pg_catalog.unnest(terms) AS t(term)
               WHERE t.term IS NULL OR t.term OPERATOR(pg_catalog.!~) '^[A-Za-z0-9_]+$') THEN
        RAISE EXCEPTION 'value_path must be property names of [A-Za-z0-9_]+ joined by +'
            USING ERRCODE = '22023', HINT = 'For example durationMs or inputTokens+outputTokens.';
    END IF;
    RETURN terms;
END
$$;
COMMENT ON FUNCTION telemetry.property_path_terms(text) IS
    'Internal, for property_sum() and property_stats(): the property names of a value path, a top-level property name or a sum of 2 to 8 of them joined by + (inputTokens+outputTokens), each of [A-Za-z0-9_]+ (no spaces). Errors: value_path NULL, more than 8 terms, a term empty or of other characters (22023).';

CREATE FUNCTION telemetry.property_sum(tenant_id uuid, name text, value_path text, "from" timestamptz, "to" timestamptz,
                                       group_path text DEFAULT NULL)
RETURNS TABLE (group_value text, total numeric, events numeric, non_numeric bigint)
LANGUAGE plpgsql STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    terms text[];
BEGIN
    PERFORM telemetry.require_tenant_access(property_sum.tenant_id, 'read');
    IF property_sum.name IS NULL THEN
        RAISE EXCEPTION 'name must name an event type' USING ERRCODE = '22004';
    END IF;
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to") THEN
        RAISE EXCEPTION '"from" and "to" must be finite timestamps' USING ERRCODE = '22023';
    END IF;
    IF "from" OPERATOR(pg_catalog.>) "to" THEN
        RAISE EXCEPTION '"from" must not be after "to"' USING ERRCODE = '22023';
    END IF;
    terms := telemetry.property_path_terms(property_sum.value_path);
    IF property_sum.group_path IS NOT NULL AND property_sum.group_path OPERATOR(pg_catalog.!~) '^[A-Za-z0-9_]+$' THEN
        RAISE EXCEPTION 'group_path must be a property name of [A-Za-z0-9_]+' USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
    WITH valued AS (
        -- Each event's value: the sum of its terms when every one is a JSON number, else NULL.
        SELECT CASE WHEN property_sum.group_path IS NULL THEN NULL::text
                    ELSE coalesce(e.properties OPERATOR(pg_catalog.->>) property_sum.group_path, '(none)') END AS group_value,
               e.sample_weight::pg_catalog.numeric AS weight, v.value
        FROM telemetry.events e
        CROSS JOIN LATERAL (
            SELECT CASE WHEN pg_catalog.bool_and(pg_catalog.jsonb_typeof(e.properties OPERATOR(pg_catalog.->) t.term)
                                                 IS NOT DISTINCT FROM 'number')
                        THEN pg_catalog.sum(CASE WHEN pg_catalog.jsonb_typeof(e.properties OPERATOR(pg_catalog.->) t.term)
                                                      OPERATOR(pg_catalog.=) 'number'
                                                 THEN (e.properties OPERATOR(pg_catalog.->) t.term)::pg_catalog.numeric END)
                   END AS value
            FROM pg_catalog.unnest(terms) AS t(term)) AS v
        WHERE e.tenant_id OPERATOR(pg_catalog.=) property_sum.tenant_id
          AND e.name OPERATOR(pg_catalog.=) property_sum.name
          AND e.occurred_at OPERATOR(pg_catalog.>=) "from" AND e.occurred_at OPERATOR(pg_catalog.<) "to")
    SELECT x.group_value,
           coalesce(pg_catalog.sum(x.value OPERATOR(pg_catalog.*) x.weight), 0::pg_catalog.numeric),
           coalesce(pg_catalog.sum(x.weight) FILTER (WHERE x.value IS NOT NULL), 0::pg_catalog.numeric),
           pg_catalog.count(*) FILTER (WHERE x.value IS NULL)
    FROM valued x
    GROUP BY x.group_value
    ORDER BY x.group_value COLLATE "C";
END
$$;
COMMENT ON FUNCTION telemetry.property_sum(uuid, text, text, timestamptz, timestamptz, text) IS
    'The sum of a numeric property of the events of type name of tenant_id with occurred_at in ["from", "to") (token usage by scenario): value_path a top-level property name or 2 to 8 of them joined by + (inputTokens+outputTokens), each of [A-Za-z0-9_]+; group_path NULL (one group) or a top-level property name of [A-Za-z0-9_]+ to group by. An event''s value is the sum of its terms when each is a JSON number; otherwise (a term missing, a string, null, ...) it is counted in non_numeric and skipped, never an error. One row per group with an event, in byte order of group_value (none without events): group_value (the property as text, ''(none)'' where missing or JSON null; NULL when group_path is NULL), total (the sum of value * sample_weight: sampled events scaled back), events (the sum of sample_weight of the events with a numeric value) and non_numeric (the events skipped, not scaled). Property names are used as values with the jsonb operators, never put into SQL text. Errors: NULL tenant_id or name (22004); no read access to the tenant (42501); a bound NULL or not finite, "from" after "to", a bad value_path or group_path (22023).';

CREATE FUNCTION telemetry.property_stats(tenant_id uuid, name text, value_path text, "from" timestamptz, "to" timestamptz,
                                         group_path text DEFAULT NULL)
RETURNS TABLE (group_value text, events numeric, avg float8, min float8, max float8, median float8, p95 float8,
               non_numeric bigint)
LANGUAGE plpgsql STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    terms text[];
BEGIN
    PERFORM telemetry.require_tenant_access(property_stats.tenant_id, 'read');
    IF property_stats.name IS NULL THEN
        RAISE EXCEPTION 'name must name an event type' USING ERRCODE = '22004';
    END IF;
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to") THEN
        RAISE EXCEPTION '"from" and "to" must be finite timestamps' USING ERRCODE = '22023';
    END IF;
    IF "from" OPERATOR(pg_catalog.>) "to" THEN
        RAISE EXCEPTION '"from" must not be after "to"' USING ERRCODE = '22023';
    END IF;
    terms := telemetry.property_path_terms(property_stats.value_path);
    IF property_stats.group_path IS NOT NULL AND property_stats.group_path OPERATOR(pg_catalog.!~) '^[A-Za-z0-9_]+$' THEN
        RAISE EXCEPTION 'group_path must be a property name of [A-Za-z0-9_]+' USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
    WITH valued AS (
        SELECT CASE WHEN property_stats.group_path IS NULL THEN NULL::text
                    ELSE coalesce(e.properties OPERATOR(pg_catalog.->>) property_stats.group_path, '(none)') END AS group_value,
               e.sample_weight::pg_catalog.numeric AS weight,
               -- A JSON number beyond the range of float8 is not a number here (its cast would
               -- fail mid-query).
               CASE WHEN pg_catalog.abs(v.value) OPERATOR(pg_catalog.<) 1e308 THEN v.value END AS value
        FROM telemetry.events e
        CROSS JOIN LATERAL (
            SELECT CASE WHEN pg_catalog.bool_and(pg_catalog.jsonb_typeof(e.properties OPERATOR(pg_catalog.->) t.term)
                                                 IS NOT DISTINCT FROM 'number')
                        THEN pg_catalog.sum(CASE WHEN pg_catalog.jsonb_typeof(e.properties OPERATOR(pg_catalog.->) t.term)
                                                      OPERATOR(pg_catalog.=) 'number'
                                                 THEN (e.properties OPERATOR(pg_catalog.->) t.term)::pg_catalog.numeric END)
                   END AS value
            FROM pg_catalog.unnest(terms) AS t(term)) AS v
        WHERE e.tenant_id OPERATOR(pg_catalog.=) property_stats.tenant_id
          AND e.name OPERATOR(pg_catalog.=) property_stats.name
          AND e.occurred_at OPERATOR(pg_catalog.>=) "from" AND e.occurred_at OPERATOR(pg_catalog.<) "to")
    SELECT x.group_value,
           coalesce(pg_catalog.sum(x.weight) FILTER (WHERE x.value IS NOT NULL), 0::pg_catalog.numeric),
           (pg_catalog.sum(x.value OPERATOR(pg_catalog.*) x.weight)
            OPERATOR(pg_catalog./) NULLIF(pg_catalog.sum(x.weight) FILTER (WHERE x.value IS NOT NULL), 0))::float8,
           pg_catalog.min(x.value)::float8,
           pg_catalog.max(x.value)::float8,
           pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY x.value::float8),
           pg_catalog.percentile_cont(0.95) WITHIN GROUP (ORDER BY x.value::float8),
           pg_catalog.count(*) FILTER (WHERE x.value IS NULL)
    FROM valued x
    GROUP BY x.group_value
    ORDER BY x.group_value COLLATE "C";
END
$$;
COMMENT ON FUNCTION telemetry.property_stats(uuid, text, text, timestamptz, timestamptz, text) IS
    'Statistics of a numeric property (durationMs) of the events of type name of tenant_id with occurred_at in ["from", "to"): value_path a top-level property name or 2 to 8 of them joined by +, each of [A-Za-z0-9_]+; group_path NULL (one group) or a top-level property name of [A-Za-z0-9_]+ to group by. An event''s value is the sum of its terms when each is a JSON number (within the range of float8); otherwise (missing, a string, null, ...) it is counted in non_numeric and skipped, never an error. One row per group with an event, in byte order of group_value (none without events): group_value (the property as text, ''(none)'' where missing or JSON null; NULL when group_path is NULL), events (the sum of sample_weight of the events with a numeric value), avg (weighted by sample_weight), min, max, median and p95 (percentile_cont(0.5) and (0.95) of the values, interpolated, unweighted: each event kept counts once, whatever its sample_weight), in the property''s unit; NULL but events and non_numeric when no value is numeric; non_numeric (the events skipped, not scaled). Property names are used as values with the jsonb operators, never put into SQL text. Errors: NULL tenant_id or name (22004); no read access to the tenant (42501); a bound NULL or not finite, "from" after "to", a bad value_path or group_path (22023).';
-- Sessions (docs/analytics.md, FUNNELS.md Engagement): telemetry.sessions() checks its
-- arguments and makes the buckets; the engine (src/pg/analytics/sessions_functions,
-- src/core/analytics/sessions) reads the events once, as the caller (row-level security applies).

CREATE FUNCTION telemetry.sessions_engine(tenant_id uuid, "from" timestamptz, "to" timestamptz,
                                          bucket_starts timestamptz[])
RETURNS TABLE (bucket_start timestamptz, sessions bigint, bounces bigint, avg_seconds float8, median_seconds float8)
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'telemetry_sessions_engine';
COMMENT ON FUNCTION telemetry.sessions_engine(uuid, timestamptz, timestamptz, timestamptz[]) IS
    'Internal, for telemetry.sessions(), which checks its arguments: per bucket (the last whose start is at or before a session''s start), the sessions starting in ["from", "to"), bounces, average and median seconds. 42501 for a tenant the caller may not read.';

CREATE FUNCTION telemetry.sessions(
    tenant_id uuid,
    "from"    timestamptz,
    "to"      timestamptz,
    tz        text DEFAULT 'UTC',
    bucket    text DEFAULT NULL)
RETURNS TABLE (sessions bigint, avg_seconds float8, median_seconds float8, bounce_rate numeric, bounces bigint,
               bucket_start timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    starts timestamptz[];
BEGIN
    IF sessions.tenant_id IS NULL THEN
        RAISE EXCEPTION 'tenant_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    PERFORM telemetry.require_tenant_access(sessions.tenant_id, 'read');
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to") THEN
        RAISE EXCEPTION '"from" and "to" must be finite timestamps' USING ERRCODE = '22023';
    END IF;
    IF "from" OPERATOR(pg_catalog.>) "to" THEN
        RAISE EXCEPTION '"from" must not be after "to"' USING ERRCODE = '22023';
    END IF;
    IF sessions.tz IS NULL THEN
        RAISE EXCEPTION 'tz must name a time zone' USING ERRCODE = '22023';
    END IF;
    IF sessions.bucket IS NULL THEN
        -- One row for the whole range; an unknown time zone fails here (22023).
        PERFORM "from" AT TIME ZONE sessions.tz;
        starts := ARRAY["from"];
    ELSE
        -- Checks bucket and tz (22023) and the number of buckets (54000).
        starts := ARRAY(SELECT b.bucket_start FROM telemetry.calendar_buckets("from", "to", sessions.bucket, sessions.tz) b);
        IF pg_catalog.cardinality(starts) OPERATOR(pg_catalog.=) 0 THEN
            RETURN;  -- an empty range has no bucket
        END IF;
    END IF;
    RETURN QUERY
    SELECT s.sessions, s.avg_seconds, s.median_seconds,
           CASE WHEN s.sessions OPERATOR(pg_catalog.>) 0
                THEN pg_catalog.round(s.bounces::numeric OPERATOR(pg_catalog./) s.sessions, 4) END,
           s.bounces, s.bucket_start
    FROM telemetry.sessions_engine(sessions.tenant_id, "from", "to", starts) s
    ORDER BY s.bucket_start;
END
$$;
COMMENT ON FUNCTION telemetry.sessions(uuid, timestamptz, timestamptz, text, text) IS
    'Sessions of tenant_id by FUNNELS.md (Engagement, Sessions; docs/analytics.md): events with a session_id form the client''s session as given (never split; read within 24 hours either side of the range); a user''s events without one form sessions among themselves, a new one after a gap of more than 30 minutes or at an event more than 24 hours after the session''s first (exactly 30 minutes or 24 hours continues), never split at midnight in any time zone. The range ["from", "to") holds the sessions that start in it, with their full duration (last minus first event, seconds). One row (bucket NULL; bucket_start = "from"), or one per calendar bucket in tz (hour, day, week or month, as event_counts() makes them) by the session''s start: sessions, avg_seconds and median_seconds (bounces included with duration 0; NULL without sessions; the median of an even count is the mean of the two middle durations), bounce_rate (bounces / sessions, 4 decimals) and bounces (one-event sessions). Counts are not scaled by sampling. Errors: NULL tenant_id (22004); no read access to the tenant (42501); a bound NULL or not finite, "from" after "to", tz NULL or unknown, an unknown bucket (22023); more than 10,000 buckets (54000).';
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
-- Row-level security on every table that holds tenant data (DESIGN.md §5, docs/security.md).
--
-- ENABLE and FORCE: the tables' owner is subject to the policies too, unless it is a superuser
-- (superusers and BYPASSRLS roles never are; never grant BYPASSRLS to a tenant's role). A role
-- sees and changes only the rows of the tenants its identity (tenant_access, or a token) gives it
-- for the work: read for events; admin for the rest; ingest to insert events directly.
--
-- Each policy is the same predicate on tenant_id, written so that the identity is computed once
-- per query (each sub-select is an InitPlan) and the (tenant_id, ...) indexes serve it: the
-- tenants form an index range [lower, upper], exact for one tenant or every tenant; for a role
-- with several tenants the range is scanned and only the members kept. row_security = off makes
-- a query that these policies would filter fail instead of showing more.

ALTER TABLE telemetry.events ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_read ON telemetry.events FOR SELECT
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('read'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('read'))
           AND ((SELECT telemetry.tenant_scope_is_range('read'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('read'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_read ON telemetry.events IS 'A role reads only the rows of the tenants it has read access to (telemetry.tenant_access, or the token presented in the transaction).';
CREATE POLICY tenant_ingest ON telemetry.events FOR INSERT
    WITH CHECK (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('ingest'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('ingest'))
           AND ((SELECT telemetry.tenant_scope_is_range('ingest'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('ingest'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_ingest ON telemetry.events IS 'A role inserts only the rows of the tenants it has ingest access to (telemetry.tenant_access, or the token presented in the transaction).';
CREATE POLICY tenant_update ON telemetry.events FOR UPDATE
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])))
    WITH CHECK (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_update ON telemetry.events IS 'A role updates only the rows of the tenants it has admin access to (telemetry.tenant_access, or the token presented in the transaction).';
CREATE POLICY tenant_delete ON telemetry.events FOR DELETE
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_delete ON telemetry.events IS 'A role deletes only the rows of the tenants it has admin access to (telemetry.tenant_access, or the token presented in the transaction).';

ALTER TABLE telemetry.quarantine ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.quarantine FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_admin ON telemetry.quarantine FOR ALL
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])))
    WITH CHECK (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.quarantine IS 'A role reads and changes only the rows of the tenants it has admin access to (telemetry.tenant_access, or the token presented in the transaction).';

ALTER TABLE telemetry.event_ids ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.event_ids FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_admin ON telemetry.event_ids FOR ALL
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])))
    WITH CHECK (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.event_ids IS 'A role reads and changes only the rows of the tenants it has admin access to (telemetry.tenant_access, or the token presented in the transaction).';

ALTER TABLE telemetry.opt_outs ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.opt_outs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_admin ON telemetry.opt_outs FOR ALL
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])))
    WITH CHECK (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.opt_outs IS 'A role reads and changes only the rows of the tenants it has admin access to (telemetry.tenant_access, or the token presented in the transaction).';

ALTER TABLE telemetry.tenant_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.tenant_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_admin ON telemetry.tenant_settings FOR ALL
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])))
    WITH CHECK (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.tenant_settings IS 'A role reads and changes only the rows of the tenants it has admin access to (telemetry.tenant_access, or the token presented in the transaction).';

ALTER TABLE telemetry.pii_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.pii_policies FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_admin ON telemetry.pii_policies FOR ALL
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])))
    WITH CHECK (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.pii_policies IS 'A role reads and changes only the rows of the tenants it has admin access to (telemetry.tenant_access, or the token presented in the transaction).';

ALTER TABLE telemetry.tenant_access ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.tenant_access FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_admin ON telemetry.tenant_access FOR ALL
    USING ((tenant_id IS NULL AND (SELECT telemetry.tenant_scope_lower('maintain')) IS NOT NULL)
           OR tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])))
    WITH CHECK ((tenant_id IS NULL AND (SELECT telemetry.tenant_scope_lower('maintain')) IS NOT NULL)
           OR tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.tenant_access IS 'A role reads and changes only the rows of the tenants it has admin access to (telemetry.tenant_access, or the token presented in the transaction); the rows without a tenant (service, maintenance, token, issuers of every tenant) only with maintenance access, as the extension''s owner has.';

ALTER TABLE telemetry.daily_rollups ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.daily_rollups FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_read ON telemetry.daily_rollups FOR SELECT
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('read'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('read'))
           AND ((SELECT telemetry.tenant_scope_is_range('read'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('read'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_read ON telemetry.daily_rollups IS 'A role reads only the rollups of the tenants it has read access to (telemetry.tenant_access, or the token presented in the transaction).';
CREATE POLICY tenant_admin ON telemetry.daily_rollups FOR ALL
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])))
    WITH CHECK (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.daily_rollups IS 'Rollups are written by the maintenance steps, as the extension''s owner; a role with the privilege to change them could change only the rows of the tenants it has admin access to (no access level grants it).';

ALTER TABLE telemetry.daily_totals ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.daily_totals FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_read ON telemetry.daily_totals FOR SELECT
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('read'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('read'))
           AND ((SELECT telemetry.tenant_scope_is_range('read'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('read'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_read ON telemetry.daily_totals IS 'A role reads only the daily totals of the tenants it has read access to (telemetry.tenant_access, or the token presented in the transaction).';
CREATE POLICY tenant_admin ON telemetry.daily_totals FOR ALL
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])))
    WITH CHECK (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.daily_totals IS 'Daily totals are written by the maintenance steps, as the extension''s owner; a role with the privilege to change them could change only the rows of the tenants it has admin access to (no access level grants it).';

ALTER TABLE telemetry.erasures ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.erasures FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_admin ON telemetry.erasures FOR SELECT
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.erasures IS 'A tenant''s admins read its erasures (the ledger is written as the extension''s owner by forget_user() and anonymize_user()).';

ALTER TABLE telemetry.rollup_invalidations ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.rollup_invalidations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_admin ON telemetry.rollup_invalidations FOR SELECT
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin ON telemetry.rollup_invalidations IS 'A role reads only the log rows of the tenants it has admin access to.';
CREATE POLICY tenant_admin_invalidates ON telemetry.rollup_invalidations FOR INSERT
    WITH CHECK (reason OPERATOR(pg_catalog.=) 'manual'
           AND tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('admin'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('admin'))
           AND ((SELECT telemetry.tenant_scope_is_range('admin'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('admin'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_admin_invalidates ON telemetry.rollup_invalidations IS 'A role adds only manual log rows (telemetry.invalidate_rollups()), and only for the tenants it has admin access to.';
CREATE POLICY maintenance ON telemetry.rollup_invalidations FOR ALL
    USING ((SELECT telemetry.tenant_scope_lower('maintain')) IS NOT NULL)
    WITH CHECK ((SELECT telemetry.tenant_scope_lower('maintain')) IS NOT NULL);
COMMENT ON POLICY maintenance ON telemetry.rollup_invalidations IS 'Maintenance access, as the extension''s owner has, reads and writes every row, those of every tenant (NULL) included: the refresh takes the log, the ingest paths and advance_rollups() write it.';
-- Privileges: nothing is granted to PUBLIC but what is harmless (docs/security.md). Each
-- access level's privileges are granted by telemetry.grant_tenant_access().

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA telemetry FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA telemetry FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA telemetry FROM PUBLIC;

-- The naming rule is harmless and is used by CHECK constraints, which need EXECUTE.
GRANT EXECUTE ON FUNCTION telemetry.valid_event_name(text) TO PUBLIC;
-- The default of the named text form of track() is evaluated as the caller: it returns NULL.
GRANT EXECUTE ON FUNCTION telemetry.unset_argument() TO PUBLIC;
-- The PII detectors over a document the caller gives: they read nothing else.
GRANT EXECUTE ON FUNCTION telemetry.pii_scan(jsonb) TO PUBLIC;
-- Row-level policies run as the querying role, and call these; each answers only about the
-- caller's own identity.
GRANT EXECUTE ON FUNCTION telemetry.tenant_scope_lower(text), telemetry.tenant_scope_upper(text),
                          telemetry.tenant_scope_is_range(text), telemetry.tenant_scope_members(text),
                          telemetry.current_tenant(), telemetry.current_access(),
                          telemetry.require_tenant_access(uuid, text) TO PUBLIC;
