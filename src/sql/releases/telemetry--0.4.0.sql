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
-- access, opt-outs, secrets): it tells them to reload (the same mechanism as the catalog's). The triggers fire
-- ALWAYS, also under session_replication_role = replica.
CREATE FUNCTION telemetry.table_changed()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'telemetry_table_changed';
COMMENT ON FUNCTION telemetry.table_changed() IS
    'Internal trigger function: the statement trigger of telemetry.tenant_settings, tenant_access, opt_outs and secrets (enabled ALWAYS), which makes every backend reload its cache of the table at its next statement. Raises 39P01 when not called as a trigger.';

-- The caches every backend keeps of the catalog, opt-outs, tenant settings and secrets follow
-- their tables through their change triggers. A change made with the triggers disabled
-- (ALTER TABLE ... DISABLE TRIGGER, pg_restore --disable-triggers) needs this call.
CREATE FUNCTION telemetry.invalidate_caches()
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'telemetry_invalidate_caches';
COMMENT ON FUNCTION telemetry.invalidate_caches() IS
    'Makes every backend reload its caches of the catalog, opt-outs, tenant settings, tenant access and secrets at its next call: for changes made with triggers disabled.';

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

COMMENT ON TABLE telemetry.events IS 'Accepted events, partitioned by UTC day of occurred_at. Written by telemetry.track(), track_batch() and replay_quarantine(), which check every event against the catalog.';
COMMENT ON COLUMN telemetry.events.id IS 'Ingest order (telemetry.events_id_seq): orders events of the same instant.';
COMMENT ON COLUMN telemetry.events.occurred_at IS 'When the event happened (the partition key): as given, else when it was received; shifted for the client''s clock when sent_at is given, and the time it was received when too far ahead (see flags).';
COMMENT ON COLUMN telemetry.events.received_at IS 'When the database received the event (a replay from quarantine keeps the first time).';
COMMENT ON COLUMN telemetry.events.tenant_id IS 'The tenant; 00000000-0000-0000-0000-000000000000 for single-tenant applications.';
COMMENT ON COLUMN telemetry.events.event_id IS 'The event''s id: a UUIDv7 made at ingest, or the client''s event_id in canonical form (unique per tenant within telemetry.dedup_window_days).';
COMMENT ON COLUMN telemetry.events.sample_weight IS '1 / the sample_rate the event was kept under: multiply by it to scale counts back.';
COMMENT ON COLUMN telemetry.events.flags IS 'What ingest changed, as bits: 1 time in the future stored as received_at, 2 time corrected with sent_at, 4 members omitted, 8 x-pii rewrote properties, 16 a lone UTF-16 surrogate replaced (docs/ingest.md, "Flags").';
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
COMMENT ON COLUMN telemetry.tenant_settings.retention_days IS 'Days of raw events kept for the tenant, 1 to 3650: an older event is refused at ingest (22008). NULL: telemetry.retention_days.';
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
        ('admin', 'TABLE', 'quarantine', 'SELECT'), ('admin', 'FUNCTION', 'replay_quarantine', 'EXECUTE'),
        ('admin', 'TABLE', 'opt_outs', 'SELECT, INSERT, DELETE'),
        ('admin', 'FUNCTION', 'opt_out', 'EXECUTE'), ('admin', 'FUNCTION', 'opt_in', 'EXECUTE'),
        ('admin', 'TABLE', 'tenant_settings', 'SELECT'), ('admin', 'TABLE', 'tenant_access', 'SELECT'),
        ('maintenance', 'FUNCTION', 'create_partitions', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'purge_event_ids', 'EXECUTE'),
        ('maintenance', 'TABLE', 'event_ids', 'SELECT, DELETE'), ('maintenance', 'TABLE', 'events', 'SELECT'),
        ('maintenance', 'FUNCTION', 'partitions', 'EXECUTE'),
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
            SELECT 'FUNCTION ' || f.oid::pg_catalog.regprocedure::text FROM pg_catalog.pg_proc f
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
    'Deletes the dedup ledger''s entries (telemetry.event_ids) seen more than telemetry.dedup_window_days before p_now, which no longer count; returns how many. Run it at least weekly, as create_partitions().';
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
-- What operators watch (src/pg/observe).

-- Events by what happened to them since the server started (shared memory when the library is
-- preloaded, else this backend's own counts): nothing refused goes uncounted.
CREATE FUNCTION telemetry.ingest_counters()
RETURNS TABLE (status text, events bigint)
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'telemetry_ingest_counters';
COMMENT ON FUNCTION telemetry.ingest_counters() IS
    'Events by what ingest decided (status: accepted, duplicate, quarantined, rejected, sampled_out, opted_out) since the server started: for the whole server when the library is in shared_preload_libraries, else this backend''s own. Decisions count whether or not their transaction committed.';
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
-- Privileges: nothing is granted to PUBLIC but what is harmless (docs/security.md). Each
-- access level's privileges are granted by telemetry.grant_tenant_access().

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA telemetry FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA telemetry FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA telemetry FROM PUBLIC;

-- The naming rule is harmless and is used by CHECK constraints, which need EXECUTE.
GRANT EXECUTE ON FUNCTION telemetry.valid_event_name(text) TO PUBLIC;
-- The default of the named text form of track() is evaluated as the caller: it returns NULL.
GRANT EXECUTE ON FUNCTION telemetry.unset_argument() TO PUBLIC;
-- Row-level policies run as the querying role, and call these; each answers only about the
-- caller's own identity.
GRANT EXECUTE ON FUNCTION telemetry.tenant_scope_lower(text), telemetry.tenant_scope_upper(text),
                          telemetry.tenant_scope_is_range(text), telemetry.tenant_scope_members(text),
                          telemetry.current_tenant(), telemetry.current_access(),
                          telemetry.require_tenant_access(uuid, text) TO PUBLIC;
