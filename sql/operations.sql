-- Operations (docs/operations.md): metrics() in the Prometheus text format, health() and
-- alerts() at fixed instants, recent(), the activity sample, and who may call them. The fixed
-- instant is noon (UTC) ten days ago, inside the partitions the clock made; outputs show only
-- what that instant decides (statuses, counts), never the real clock.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';
\set SHOW_CONTEXT never
SELECT (date_trunc('day', now() AT TIME ZONE 'UTC') - interval '10 days' + interval '12 hours') AT TIME ZONE 'UTC' AS t0 \gset
\set a '''aaaaaaaa-0000-4000-8000-000000000001'''
\set b '''bbbbbbbb-0000-4000-8000-000000000002'''
SELECT count(*) FROM telemetry.load_catalog('{"events": [
  {"name": "lesson_completed", "schema": {"properties": {"minutes": {"type": "number"}, "score": {"type": "integer"}, "level": {"type": "string"}}}},
  {"name": "card_reviewed", "on_violation": "quarantine", "schema": {"properties": {"ease": {"type": "integer"}}}}]}');

-- A value of metrics(): the sample of a series, by its exact name and labels.
CREATE FUNCTION pg_temp.sample(series text) RETURNS double precision LANGUAGE sql AS $$
    SELECT split_part(line, ' ', 2)::double precision
    FROM regexp_split_to_table(telemetry.metrics(), E'\n') AS line
    WHERE split_part(line, ' ', 1) = series
$$;

-- 1. metrics(): every family has HELP and TYPE, counters end in _total, and ingest moves the
--    counters by exactly what was decided.
SELECT coalesce(pg_temp.sample('telemetry_events_total{status="accepted",event_type="lesson_completed"}'), 0) AS accepted_before,
       coalesce(pg_temp.sample('telemetry_events_refused_total{status="rejected",reason="schema"}'), 0) AS schema_before,
       coalesce(pg_temp.sample('telemetry_events_total{status="rejected",event_type="_unknown"}'), 0) AS unknown_before,
       pg_temp.sample('telemetry_events_received_total') AS received_before,
       pg_temp.sample('telemetry_event_payload_bytes_count') AS sizes_before \gset
SELECT count(*) AS accepted FROM generate_series(1, 3) i,
       LATERAL telemetry.track(:a, 'lesson_completed', jsonb_build_object('minutes', 10 * i, 'score', i), 'u' || i) t;
SELECT telemetry.track(:a, 'lesson_completed', '{"score": "high"}');
SELECT telemetry.track(:a, 'no_such_type', '{}');
SELECT pg_temp.sample('telemetry_events_total{status="accepted",event_type="lesson_completed"}') - :accepted_before AS accepted,
       pg_temp.sample('telemetry_events_refused_total{status="rejected",reason="schema"}') - :schema_before AS rejected_schema,
       pg_temp.sample('telemetry_events_total{status="rejected",event_type="_unknown"}') - :unknown_before AS rejected_unknown,
       pg_temp.sample('telemetry_events_received_total') - :received_before AS received,
       pg_temp.sample('telemetry_event_payload_bytes_count') - :sizes_before AS sized;
-- A batch is counted once, per type and status, like its events one by one.
SELECT pg_temp.sample('telemetry_events_total{status="accepted",event_type="lesson_completed"}') AS accepted_before,
       coalesce(pg_temp.sample('telemetry_events_total{status="quarantined",event_type="card_reviewed"}'), 0) AS quarantined_before,
       coalesce(pg_temp.sample('telemetry_events_total{status="rejected",event_type="_unknown"}'), 0) AS unknown_before \gset
SELECT status, count(*) FROM telemetry.track_batch(:a, '[
  {"name": "lesson_completed", "properties": {"minutes": 1}}, {"name": "lesson_completed", "properties": {"minutes": 2}},
  {"name": "card_reviewed", "properties": {"ease": "easy"}}, {"name": "nope_not_here"}, {"name": "Bad Name"}]') GROUP BY 1 ORDER BY 1;
SELECT pg_temp.sample('telemetry_events_total{status="accepted",event_type="lesson_completed"}') - :accepted_before AS accepted,
       pg_temp.sample('telemetry_events_total{status="quarantined",event_type="card_reviewed"}') - :quarantined_before AS quarantined,
       pg_temp.sample('telemetry_events_total{status="rejected",event_type="_unknown"}') - :unknown_before AS rejected_unknown;
-- The families, in order, and their types.
SELECT substr(line, 8) AS family_and_type FROM regexp_split_to_table(telemetry.metrics(), E'\n') AS line
WHERE line LIKE '# TYPE %' AND line NOT LIKE '%worker_last_run%' AND line NOT LIKE '%timestamp_seconds %'
  AND line NOT LIKE '%duration_seconds %' AND line NOT LIKE '%pii_decisions%';
-- No sample line without its family's HELP and TYPE before it; every counter ends in _total.
WITH lines AS (SELECT line, n FROM regexp_split_to_table(telemetry.metrics(), E'\n') WITH ORDINALITY AS l(line, n)),
     families AS (SELECT split_part(line, ' ', 3) AS family, split_part(line, ' ', 4) AS type, n FROM lines WHERE line LIKE '# TYPE %')
SELECT count(*) FILTER (WHERE f.family IS NULL) AS samples_without_family,
       count(*) FILTER (WHERE f.type = 'counter' AND split_part(split_part(l.line, ' ', 1), '{', 1) NOT LIKE '%\_total') AS counters_without_total
FROM lines l
LEFT JOIN LATERAL (SELECT f.* FROM families f WHERE f.n < l.n ORDER BY f.n DESC LIMIT 1) f ON true
WHERE l.line <> '' AND l.line NOT LIKE '#%'
  AND (f.family IS NULL OR split_part(split_part(l.line, ' ', 1), '{', 1) NOT IN (f.family, f.family || '_bucket', f.family || '_sum', f.family || '_count'));
-- Tenant labels only when asked for.
SELECT count(*) AS tenant_series FROM regexp_split_to_table(telemetry.metrics(), E'\n') AS line WHERE line LIKE 'telemetry_tenant_events_total%';
SET telemetry.metrics_tenant_labels = on;
SELECT pg_temp.sample('telemetry_tenant_events_total{tenant="aaaaaaaa-0000-4000-8000-000000000001",status="accepted"}') >= 3 AS tenant_counted;
RESET telemetry.metrics_tenant_labels;

-- 2. The activity sample at t0 (the step sample_activity), and the gauges it feeds.
-- 20 events in the hour before noon on t0's day and on each of the 7 days before, by 5 learners
-- a day per tenant (new learners each day).
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, source, schema_version, properties)
SELECT :'t0'::timestamptz - d * interval '1 day' - i * interval '1 minute' + interval '1 minute',
       :'t0'::timestamptz - d * interval '1 day', CASE WHEN i % 2 = 0 THEN :a::uuid ELSE :b::uuid END,
       gen_random_uuid(), 'lesson_completed', 'learner-' || (i % 5) || '-' || d, 'server', '1-0-0',
       jsonb_build_object('minutes', i)
FROM generate_series(0, 7) d, generate_series(1, 20) i;
SELECT telemetry.sample_activity(:'t0') AS tenants_sampled;
SELECT tenant_id, sampled_at = :'t0' AS at_t0, last_event_at = :'t0' AS last_event_at_t0, events_1h,
       active_users_1h, active_users_24h, active_users_7d
FROM telemetry.activity ORDER BY tenant_id;
SELECT label_value AS "window", value FROM telemetry.metric_gauges(:'t0') WHERE metric = 'telemetry_active_users';
-- A week later nobody is active: the rows go.
SELECT telemetry.sample_activity(:'t0'::timestamptz + interval '8 days') AS tenants_sampled, count(*) AS rows_left
FROM (SELECT 1) x LEFT JOIN telemetry.activity ON false GROUP BY 1;
SELECT count(*) AS activity_rows FROM telemetry.activity;

-- 3. alerts() and health() at fixed instants. At t0 the hour before has 20 events, as on each
--    of the 7 days before: nothing about the rate fires.
SELECT alert, severity, value, threshold FROM telemetry.alerts(:'t0') WHERE alert = 'TelemetryEventRateDrop';
-- Delete most of t0's hour: 4 events left against an average of 20.
DELETE FROM telemetry.events WHERE occurred_at > :'t0'::timestamptz - interval '1 hour' AND occurred_at <= :'t0'
  AND occurred_at < :'t0'::timestamptz - interval '3 minutes';
SELECT alert, severity, value, threshold, summary FROM telemetry.alerts(:'t0') WHERE alert = 'TelemetryEventRateDrop';
-- At t0 the last event is a minute old; 10 minutes later nothing came: TelemetryNoEvents. No
-- maintenance ever ran before t0: TelemetryWorkerFailing.
SELECT "check", status, value, threshold FROM telemetry.health(:'t0') WHERE "check" IN ('last_event_age', 'ingest_error_rate', 'worker_alive');
SELECT alert, severity, value, threshold FROM telemetry.alerts(:'t0'::timestamptz + interval '10 minutes') ORDER BY alert;
SELECT "check", status, detail FROM telemetry.health(:'t0'::timestamptz + interval '2 hours') WHERE "check" = 'last_event_age';
-- Maintenance runs now; at the real now it is alive, partitions are ready a week ahead, the
-- oldest partition is within retention.
CALL telemetry.run_maintenance();
SELECT "check", status FROM telemetry.health() WHERE "check" IN ('worker_alive', 'rollup_lag', 'partition_horizon', 'oldest_partition');
-- At 06:00 six days on, the partitions end within 2 days (1.75; critical under one);
-- retention is 4 days late.
SELECT date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '6 days 6 hours' AS later \gset
SELECT "check", status, threshold FROM telemetry.health(:'later') WHERE "check" IN ('partition_horizon', 'oldest_partition');
SELECT alert, severity FROM telemetry.alerts(:'later') WHERE alert = 'TelemetryPartitionHorizonShort';
-- A failing step: 3 failures in a row is critical.
UPDATE telemetry.maintenance_steps SET consecutive_failures = 3 WHERE step = 'refresh_rollups';
SELECT "check", status, detail FROM telemetry.health() WHERE "check" = 'worker_alive';
SELECT alert FROM telemetry.alerts() WHERE alert = 'TelemetryWorkerFailing';
SELECT pg_temp.sample('telemetry_maintenance_step_consecutive_failures{step="refresh_rollups"}') AS failures_gauge;
UPDATE telemetry.maintenance_steps SET consecutive_failures = 0 WHERE step = 'refresh_rollups';
-- A quarantined event: the quarantine grows (received now).
SELECT telemetry.track(:a, 'card_reviewed', '{"ease": "hard"}') IS NULL AS quarantined;
SELECT "check", status, value FROM telemetry.health() WHERE "check" = 'quarantine_growth';
SELECT alert, severity, value FROM telemetry.alerts() WHERE alert = 'TelemetryQuarantineGrowing';
SELECT pg_temp.sample('telemetry_quarantine_events') AS quarantine_gauge;
-- Refusals among the events of the last 5 minutes (shared memory), as a ratio.
SELECT "check", value > 0 AS some_refused, threshold FROM telemetry.health() WHERE "check" = 'ingest_error_rate';

-- 4. recent(): the debug drawer at t0 + 1 minute, over the 5 minutes before.
SELECT event_type, events, rejected, quarantined, users, averages FROM telemetry.recent('5 minutes', :'t0'::timestamptz + interval '1 minute');
-- Now: the events tracked above, and what was refused (server-wide counts from shared memory).
-- (Other tests' refusals of the last minutes count too: the types of this one only.)
SELECT event_type, events > 0 AS stored, rejected > 0 AS some_rejected, quarantined > 0 AS some_quarantined
FROM telemetry.recent() WHERE event_type IN ('_unknown', 'card_reviewed', 'lesson_completed') ORDER BY event_type;

-- 5. Bad arguments.
SELECT * FROM telemetry.recent('2 hours');
SELECT * FROM telemetry.recent('0 seconds');
SELECT * FROM telemetry.health('infinity');
SELECT * FROM telemetry.alerts(NULL);
SELECT * FROM telemetry.recent_counters(61);
SELECT telemetry.sample_activity(NULL);

-- 6. Who may look: pg_monitor and the maintenance level; nobody else.
CREATE ROLE ops_nobody;
CREATE ROLE ops_monitor IN ROLE pg_monitor;
SET ROLE ops_nobody;
SELECT telemetry.metrics();
SELECT * FROM telemetry.health();
RESET ROLE;
SET ROLE ops_monitor;
SELECT length(telemetry.metrics()) > 0 AS monitor_reads_metrics;
SELECT count(*) AS checks FROM telemetry.health();
SELECT count(*) >= 0 AS monitor_reads_alerts FROM telemetry.alerts();
-- recent(): no privilege on the events, so no stored events; the refusal counts are server-wide.
SELECT bool_and(events IS NULL AND averages IS NULL) AS no_events_seen, bool_or(rejected > 0) AS refusals_seen FROM telemetry.recent();
RESET ROLE;
-- A tenant's reader: its own events in the drawer, no server-wide counts (NULL), under a
-- generic plan too (recent_counters(), which it may not execute, is never in its queries).
CREATE ROLE ops_reader;
SELECT telemetry.grant_tenant_access('ops_reader', :a, 'read');
SET ROLE ops_reader;
SET plan_cache_mode = force_generic_plan;
SELECT event_type, events > 0 AS stored, rejected, quarantined FROM telemetry.recent() ORDER BY event_type;
SELECT telemetry.metrics();
RESET plan_cache_mode;
RESET ROLE;
SELECT telemetry.revoke_tenant_access('ops_reader', :a, 'read');
DROP ROLE ops_nobody;
DROP ROLE ops_monitor;
DROP ROLE ops_reader;
