-- Daily partitions: made ahead from the clock, idempotent, never a DEFAULT partition, not
-- members of the extension (so pg_dump keeps their data).
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- CREATE EXTENSION made telemetry.retention_days (90) back and telemetry.premake_days (7) ahead.
SELECT count(*) AS partitions,
       min(day) = (now() AT TIME ZONE 'UTC')::date - 90 AS first_is_retention_back,
       max(day) = (now() AT TIME ZONE 'UTC')::date + 7 AS last_is_premake_ahead,
       count(*) = count(DISTINCT day) AS one_per_day,
       bool_and(upper_bound - lower_bound = interval '1 day') AS whole_days,
       bool_and(lower_bound = day::timestamp AT TIME ZONE 'UTC') AS utc_days
FROM telemetry.partitions();

SELECT count(*) AS default_partitions FROM pg_partitioned_table pt JOIN pg_class c ON c.oid = pt.partrelid
WHERE c.oid = 'telemetry.events'::regclass AND pt.partdefid <> 0;

SELECT count(*) AS partitions_in_extension
FROM pg_depend d JOIN telemetry.partitions() p ON d.objid = p.partition
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'telemetry') AND d.deptype = 'e';

-- Every partition has the same indexes, made by create_partitions; the parent has none (a
-- parent index would be copied onto partitions at ATTACH and break pg_restore).
SELECT count(*) AS partitions, count(*) FILTER (WHERE indexes = expected) AS with_both_indexes
FROM (SELECT (SELECT array_agg(pg_get_indexdef(i.indexrelid) ORDER BY i.indisprimary DESC) FROM pg_index i
              WHERE i.indrelid = p.partition) AS indexes,
             ARRAY[format('CREATE UNIQUE INDEX %s_pkey ON telemetry.%s USING btree (tenant_id, occurred_at, id)',
                          c.relname, c.relname),
                   format('CREATE INDEX %s_tenant_name_time ON telemetry.%s USING btree (tenant_id, name, occurred_at)',
                          c.relname, c.relname)] AS expected
      FROM telemetry.partitions() p JOIN pg_class c ON c.oid = p.partition) s;
SELECT count(*) AS parent_indexes FROM pg_index WHERE indrelid = 'telemetry.events'::regclass;

-- Idempotent.
SELECT telemetry.create_partitions() AS made_again;

-- The clock, not data, decides: a later p_now makes the days after the current last one.
SELECT telemetry.create_partitions(now() + interval '10 days') AS made_for_later_clock;
SELECT max(day) - (now() AT TIME ZONE 'UTC')::date AS days_ahead FROM telemetry.partitions();

-- Days ahead are for the clock, not for client times: an event time more than
-- telemetry.future_tolerance_seconds ahead is stored as the time it was received, and flagged.
SELECT telemetry.define_event('tick');
SELECT telemetry.track('tick', '{}', NULL, NULL, now() + interval '18 days') AS id \gset
SELECT occurred_at = received_at AS clamped_to_received, flags AS flags_time_clamped FROM telemetry.events WHERE event_id = :'id';

-- A gap (someone dropped a day) is refused before the insert, not sent to a DEFAULT partition;
-- a partition made again is usable at once in this session (the bounds come from the relcache).
SELECT format('telemetry.%I', 'events_p' || to_char((now() AT TIME ZONE 'UTC')::date - 5, 'YYYYMMDD')) AS gap \gset
DROP TABLE :gap;
SELECT telemetry.track('tick', '{}', NULL, NULL, now() - interval '5 days') AS into_gap;
SELECT telemetry.create_partitions() AS refilled;
SELECT telemetry.track('tick', '{}', NULL, NULL, now() - interval '5 days') IS NOT NULL AS after_refill;

-- A relation that takes a day's partition name (a role with CREATE on the schema made it) does
-- not leave the day without a partition: create_partitions() says what it found and names the
-- partition otherwise. (A fixed clock keeps the names in this file stable.)
CREATE ROLE telemetry_regress_squatter;
GRANT CREATE, USAGE ON SCHEMA telemetry TO telemetry_regress_squatter;
SET ROLE telemetry_regress_squatter;
CREATE TABLE telemetry.events_p20300110 (x int);
RESET ROLE;
SELECT telemetry.create_partitions('2030-01-10 12:00:00+00', 0, 0) AS made;
SELECT partition, day, lower_bound, upper_bound FROM telemetry.partitions() WHERE day >= '2030-01-01';
SELECT telemetry.create_partitions('2030-01-10 12:00:00+00', 0, 0) AS made_again;
-- A partition attached by hand with other bounds: the days it holds are covered; a day it holds
-- only in part is left to the DBA, with a warning, and the others are made.
CREATE TABLE telemetry.archive_2030_02 (LIKE telemetry.events);
ALTER TABLE telemetry.events ATTACH PARTITION telemetry.archive_2030_02
    FOR VALUES FROM ('2030-02-01 00:00:00+00') TO ('2030-02-03 12:00:00+00');
SELECT telemetry.create_partitions('2030-02-02 12:00:00+00', 1, 2) AS made_around_the_archive;
SELECT partition, day FROM telemetry.partitions() WHERE day >= '2030-01-31' ORDER BY lower_bound;
DROP TABLE telemetry.events_p20300110, telemetry.events_p20300110_1, telemetry.archive_2030_02, telemetry.events_p20300204;
REVOKE ALL ON SCHEMA telemetry FROM telemetry_regress_squatter;
DROP ROLE telemetry_regress_squatter;

-- Boundaries: midnight UTC belongs to the day it starts.
SELECT telemetry.track('tick', '{}', NULL, NULL, date_trunc('day', now())) AS id \gset
SELECT (SELECT p.day FROM telemetry.partitions() p WHERE p.partition = e.tableoid) - (now() AT TIME ZONE 'UTC')::date
       AS day_offset
FROM telemetry.events e WHERE event_id = :'id';
SELECT telemetry.track('tick', '{}', NULL, NULL, date_trunc('day', now()) - interval '1 microsecond') AS id \gset
SELECT (SELECT p.day FROM telemetry.partitions() p WHERE p.partition = e.tableoid) - (now() AT TIME ZONE 'UTC')::date
       AS day_offset
FROM telemetry.events e WHERE event_id = :'id';

-- Bad arguments.
SELECT telemetry.create_partitions('infinity');
SELECT telemetry.create_partitions(now(), -1);
SELECT telemetry.create_partitions(now(), 0, 366);

-- Settings exist and are checked.
SHOW telemetry.retention_days;
SHOW telemetry.premake_days;
SET telemetry.premake_days = 0;
SET telemetry.not_a_setting = 1;
