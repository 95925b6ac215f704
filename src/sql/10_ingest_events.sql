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
