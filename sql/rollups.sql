-- Daily rollups, their invalidation log and retention (docs/rollup.md, docs/worker.md), with a
-- fixed clock p_now for every maintenance step. After inserts, late inserts (raw INSERT, track(),
-- track_batch(), a replay from quarantine), updates, deletes, an erasure and retention runs,
-- every rollup cell equals a GROUP BY over the raw events still retained, frozen days keep
-- their cells, and every HyperLogLog estimate is within its documented error.
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- The clock of the steps: noon (UTC) today, so that track() (which goes by the real clock)
-- writes into the same days. Outputs show days relative to it.
SELECT (date_trunc('day', now() AT TIME ZONE 'UTC') + interval '12 hours') AT TIME ZONE 'UTC' AS p_now \gset
SELECT :'p_now'::timestamptz::date AS today \gset
\set a '''aaaaaaaa-0000-4000-8000-000000000001'''
\set b '''bbbbbbbb-0000-4000-8000-000000000002'''

-- Every difference between the rollups and the raw events, for the days that are closed
-- (before the watermark) and still retained for their tenant at p_now; none is the answer.
CREATE FUNCTION pg_temp.rollup_differences(p_now timestamptz)
RETURNS TABLE (problem text, tenant text, day integer, name text) LANGUAGE sql AS $$
    WITH retained AS (
        SELECT t.tenant_id,
               GREATEST((SELECT min(p.day) FROM telemetry.partitions() p),
                        (p_now AT TIME ZONE 'UTC')::date - coalesce(s.retention_days, 90)) AS first_day
        FROM (SELECT DISTINCT tenant_id FROM telemetry.events
              UNION SELECT DISTINCT tenant_id FROM telemetry.daily_rollups) t
        LEFT JOIN telemetry.tenant_settings s USING (tenant_id)),
    raw AS (
        SELECT e.tenant_id, (e.occurred_at AT TIME ZONE 'UTC')::date AS day, e.name,
               sum(e.sample_weight::numeric) AS events, count(*) AS raw_events,
               count(DISTINCT e.user_id) AS users, count(DISTINCT e.session_id) AS sessions
        FROM telemetry.events e GROUP BY 1, 2, 3),
    closed_raw AS (
        SELECT r.* FROM raw r JOIN retained USING (tenant_id)
        WHERE r.day < telemetry.rollup_watermark() AND r.day >= retained.first_day),
    closed_rollups AS (
        SELECT d.* FROM telemetry.daily_rollups d JOIN retained USING (tenant_id)
        WHERE d.day < telemetry.rollup_watermark() AND d.day >= retained.first_day)
    SELECT CASE WHEN c.tenant_id IS NULL THEN 'cell without events'
                WHEN d.tenant_id IS NULL THEN 'events without cell'
                ELSE 'cell differs' END,
           left(coalesce(c.tenant_id, d.tenant_id)::text, 8),
           coalesce(c.day, d.day) - (p_now AT TIME ZONE 'UTC')::date,
           coalesce(c.name, d.name)
    FROM closed_raw c FULL JOIN closed_rollups d USING (tenant_id, day, name)
    WHERE c.tenant_id IS NULL OR d.tenant_id IS NULL
       OR (c.events, c.raw_events, c.users, c.sessions) IS DISTINCT FROM (d.events, d.raw_events, d.users, d.sessions)
    UNION ALL
    -- The daily totals (every type, name '*'), against the same days' raw events.
    SELECT CASE WHEN c.tenant_id IS NULL THEN 'total without events'
                WHEN d.tenant_id IS NULL THEN 'events without total'
                ELSE 'total differs' END,
           left(coalesce(c.tenant_id, d.tenant_id)::text, 8),
           coalesce(c.day, d.day) - (p_now AT TIME ZONE 'UTC')::date, '*'
    FROM (SELECT e.tenant_id, (e.occurred_at AT TIME ZONE 'UTC')::date AS day, sum(e.sample_weight::numeric) AS events,
                 count(*) AS raw_events, count(DISTINCT e.user_id) AS users, count(DISTINCT e.session_id) AS sessions,
                 hll_cardinality(hll_add_agg(hll_hash_text(e.user_id), 15, 5)) AS estimate
          FROM telemetry.events e JOIN retained USING (tenant_id)
          WHERE e.occurred_at < telemetry.rollup_watermark()::timestamp AT TIME ZONE 'UTC'
            AND e.occurred_at >= retained.first_day::timestamp AT TIME ZONE 'UTC'
          GROUP BY 1, 2) c
    FULL JOIN (SELECT d.*, hll_cardinality(d.users_hll) AS estimate FROM telemetry.daily_totals d JOIN retained USING (tenant_id)
               WHERE d.day < telemetry.rollup_watermark() AND d.day >= retained.first_day) d USING (tenant_id, day)
    WHERE c.tenant_id IS NULL OR d.tenant_id IS NULL
       OR (c.events, c.raw_events, c.users, c.sessions, c.estimate)
          IS DISTINCT FROM (d.events, d.raw_events, d.users, d.sessions, d.estimate)
$$;

-- The log, days relative to p_now.
CREATE FUNCTION pg_temp.log(p_now timestamptz)
RETURNS TABLE (tenant text, first_day integer, last_day integer, reason text) LANGUAGE sql AS $$
    SELECT coalesce(left(i.tenant_id::text, 8), 'every'),
           CASE WHEN i.first_day = '-infinity' THEN NULL ELSE i.first_day - (p_now AT TIME ZONE 'UTC')::date END,
           i.last_day - (p_now AT TIME ZONE 'UTC')::date, i.reason
    FROM telemetry.rollup_invalidations i ORDER BY 1, 2 NULLS FIRST, 3, 4
$$;

SELECT count(*) FROM telemetry.load_catalog($${"events": [
  {"name": "page_viewed", "schema": {"type": "object"}},
  {"name": "signed_up", "schema": {"type": "object"}},
  {"name": "checkout", "on_violation": "quarantine",
   "schema": {"required": ["cart"], "properties": {"cart": {"type": "string"}}}}
]}$$);
-- Tenant b keeps raw events 3 days only; a keeps the default 90.
INSERT INTO telemetry.tenant_settings (tenant_id, retention_days) VALUES (:b, 3);

-- Ten days of events, both tenants, three event types, sampled events weighing 4, some
-- anonymous (no user_id) and some without a session.
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, session_id,
                              source, schema_version, properties, sample_weight)
SELECT :'p_now'::timestamptz - (g % 10) * interval '1 day' - (g % 17) * interval '37 minutes', now(),
       CASE WHEN g % 3 = 0 THEN :b::uuid ELSE :a::uuid END, gen_random_uuid(),
       (ARRAY['page_viewed', 'signed_up', 'checkout'])[1 + g % 3 % 2 + g % 7 / 6],
       CASE WHEN g % 11 = 0 THEN NULL ELSE 'user-' || (g % 97) END,
       CASE WHEN g % 13 = 0 THEN NULL ELSE 'session-' || (g % 41) END,
       'server', '1-0-0', '{}', CASE WHEN g % 5 = 0 THEN 4 ELSE 1 END
FROM generate_series(1, 3000) g;

-- Before the first run there is no threshold: nothing is logged, no day is closed.
SELECT telemetry.rollup_watermark() AS watermark, count(*) AS logged FROM telemetry.rollup_invalidations;

-- The first run closes every day before today (p_now's UTC day) and rolls them up.
CALL telemetry.run_maintenance(:'p_now');
SELECT step, status, sqlstate FROM telemetry.maintenance_runs ORDER BY run_id, step;
SELECT telemetry.rollup_watermark() = :'today'::date AS watermark_is_today,
       (SELECT threshold FROM telemetry.rollup_state) = :'today'::date AS threshold_is_today;
SELECT count(*) AS cells, count(DISTINCT day) AS days, sum(raw_events) AS events_rolled_up
FROM telemetry.daily_rollups;
SELECT * FROM pg_temp.rollup_differences(:'p_now');
-- Today is open: its events are not rolled up.
SELECT count(*) AS cells_of_today FROM telemetry.daily_rollups WHERE day = :'today'::date;

-- The run also deleted tenant b's events older than its 3 days, after rolling them up: that
-- DELETE was logged like any other (the next refresh drops it: those days are frozen for b).
SELECT * FROM pg_temp.log(:'p_now');
TRUNCATE telemetry.rollup_invalidations;

-- Changes to closed days are logged in their transaction, once per statement and tenant.
-- A raw INSERT of late events for two days of a, and one (a frozen day) of b:
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, source, schema_version, properties)
VALUES (:'p_now'::timestamptz - interval '2 days', now(), :a, gen_random_uuid(), 'page_viewed', 'late-1', 'server', '1-0-0', '{}'),
       (:'p_now'::timestamptz - interval '4 days', now(), :a, gen_random_uuid(), 'signed_up', 'late-2', 'server', '1-0-0', '{}'),
       (:'p_now'::timestamptz - interval '5 days', now(), :b, gen_random_uuid(), 'page_viewed', 'late-3', 'server', '1-0-0', '{}');
-- An event of today is not logged (today is not rolled up yet).
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, source, schema_version, properties)
VALUES (:'p_now', now(), :a, gen_random_uuid(), 'page_viewed', 'today-1', 'server', '1-0-0', '{}');
SELECT * FROM pg_temp.log(:'p_now');
TRUNCATE telemetry.rollup_invalidations;

-- track() and track_batch() note each closed (tenant, day); the note is written to the log when
-- the transaction commits (nothing before), one row per tenant and kind of change.
BEGIN;
SELECT telemetry.track(:a, 'page_viewed', '{}', 'late-4', 's-late', :'p_now'::timestamptz - interval '1 day') IS NOT NULL AS stored;
SELECT telemetry.track(:a, 'page_viewed', '{}', 'late-5', 's-late', :'p_now'::timestamptz - interval '1 day') IS NOT NULL AS stored;
SELECT telemetry.track(:a, 'page_viewed', '{}', 'today-2', NULL, :'p_now') IS NOT NULL AS stored;
SELECT "index", status FROM telemetry.track_batch(:b, jsonb_build_array(
    jsonb_build_object('name', 'signed_up', 'properties', '{}'::jsonb, 'user_id', 'late-6',
                       'occurred_at', :'p_now'::timestamptz - interval '2 days'),
    jsonb_build_object('name', 'signed_up', 'properties', '{}'::jsonb, 'user_id', 'late-7',
                       'occurred_at', :'p_now'::timestamptz - interval '2 days' + interval '1 hour')));
SELECT * FROM pg_temp.log(:'p_now');
COMMIT;
SELECT * FROM pg_temp.log(:'p_now');
-- A rolled-back change leaves no log row; a change in a savepoint rolled back may still be
-- logged (the log may say more than happened, never less).
BEGIN;
SELECT telemetry.track(:a, 'signed_up', '{}', 'late-8', NULL, :'p_now'::timestamptz - interval '3 days') IS NOT NULL AS stored;
ROLLBACK;
BEGIN;
SAVEPOINT s;
SELECT telemetry.track(:a, 'signed_up', '{}', 'late-9', NULL, :'p_now'::timestamptz - interval '6 days') IS NOT NULL AS stored;
ROLLBACK TO SAVEPOINT s;
SELECT telemetry.track(:a, 'signed_up', '{}', 'late-10', NULL, :'p_now'::timestamptz - interval '6 days') IS NOT NULL AS stored;
COMMIT;
SELECT * FROM pg_temp.log(:'p_now');

-- A replay from quarantine of a late event is logged too.
SELECT telemetry.track(:a, 'checkout', '{"total": 3}', 'late-11', NULL, :'p_now'::timestamptz - interval '7 days') AS quarantined;
SELECT count(*) FROM telemetry.load_catalog($${"events": [
  {"name": "checkout", "version": "2-0-0", "on_violation": "quarantine", "schema": {"type": "object"}}
]}$$);
SELECT status FROM telemetry.replay_quarantine(:a);

-- An update logs the old and new days (moving a row to another day's partition is a delete
-- and an insert there); a delete (a user's erasure) logs the days it removed from.
UPDATE telemetry.events SET occurred_at = occurred_at - interval '1 day'
WHERE tenant_id = :a AND user_id = 'user-5' AND (occurred_at AT TIME ZONE 'UTC')::date = :'today'::date - 8;
UPDATE telemetry.events SET name = 'signed_up'
WHERE tenant_id = :a AND user_id = 'user-7' AND (occurred_at AT TIME ZONE 'UTC')::date = :'today'::date - 4;
DELETE FROM telemetry.events WHERE tenant_id = :a AND user_id = 'user-8'
  AND occurred_at >= :'p_now'::timestamptz - interval '3 days';
SELECT * FROM pg_temp.log(:'p_now');

-- The rollups are stale until the next run, which recomputes only the logged cells.
SELECT count(*) > 0 AS stale_before FROM pg_temp.rollup_differences(:'p_now');
CREATE TEMP TABLE before_refresh AS SELECT tenant_id, day, name, refreshed_at FROM telemetry.daily_rollups;
SELECT pg_sleep(0.01);
CALL telemetry.run_maintenance(:'p_now');
SELECT * FROM pg_temp.rollup_differences(:'p_now');
-- (What is left is b's retention delete of its late event of 5 days back, made after the
-- refresh in the same run.)
SELECT * FROM pg_temp.log(:'p_now');
-- Only the cells of the days logged were recomputed: a's day -5 was not touched.
SELECT (d.day - :'today'::date) AS day, count(*) FILTER (WHERE d.refreshed_at > b.refreshed_at) AS recomputed,
       count(*) AS cells
FROM telemetry.daily_rollups d JOIN before_refresh b USING (tenant_id, day, name)
WHERE d.tenant_id = :a GROUP BY d.day ORDER BY 1;
-- Tenant b's late event of a frozen day (5 days back, retention 3) changed nothing, and the
-- run deleted b's events older than 3 days (their rollups stay).
SELECT (day - :'today'::date) AS day, sum(raw_events) AS rolled_up,
       (SELECT count(*) FROM telemetry.events e WHERE e.tenant_id = :b
        AND (e.occurred_at AT TIME ZONE 'UTC')::date = d.day) AS raw_events_left
FROM telemetry.daily_rollups d WHERE tenant_id = :b AND day < :'today'::date - 2 GROUP BY day ORDER BY 1;
SELECT rows_affected AS b_events_deleted FROM telemetry.maintenance_runs
WHERE step = 'delete_expired_tenant_events' ORDER BY run_id DESC LIMIT 1;

-- Manual invalidation: a tenant's admin or maintenance; NULL is every tenant.
SELECT telemetry.invalidate_rollups(:a, :'today'::date - 3, :'today'::date - 2);
SELECT telemetry.invalidate_rollups(NULL, :'today'::date - 1, :'today'::date - 1);
SELECT * FROM pg_temp.log(:'p_now');
SELECT telemetry.invalidate_rollups(:a, :'today'::date - 1, :'today'::date - 3);
SELECT telemetry.invalidate_rollups(:a, NULL, :'today'::date);
SELECT telemetry.refresh_rollups(:'p_now') > 0 AS recomputed;
SELECT * FROM pg_temp.rollup_differences(:'p_now');

-- A TRUNCATE of events logs every closed day of every tenant; the refresh empties the
-- retained days' cells and leaves frozen ones.
CREATE TEMP TABLE frozen_before AS
SELECT * FROM telemetry.daily_rollups WHERE tenant_id = :b AND day < :'today'::date - 3;
BEGIN;
TRUNCATE telemetry.events;
SELECT * FROM pg_temp.log(:'p_now');
SELECT telemetry.refresh_rollups(:'p_now') AS cells_written;
SELECT left(tenant_id::text, 8) AS tenant, day >= :'today'::date - 3 AS retained, count(*) AS cells
FROM telemetry.daily_rollups GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(*) AS frozen_cells_changed FROM (
    SELECT tenant_id, day, name, events, raw_events, users, sessions FROM frozen_before
    EXCEPT SELECT tenant_id, day, name, events, raw_events, users, sessions FROM telemetry.daily_rollups) x;
ROLLBACK;

-- Refreshing in the transaction that moved the threshold would not wait for the writers that
-- read the old one: refused.
BEGIN;
SELECT telemetry.advance_rollups(:'p_now'::timestamptz + interval '1 day') AS days_closed;
SELECT telemetry.refresh_rollups(:'p_now'::timestamptz + interval '1 day');
ROLLBACK;
-- The wait needs READ COMMITTED (what follows it must see what the writers committed).
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT telemetry.wait_for_event_writers();
ROLLBACK;
-- Bad arguments.
SELECT telemetry.advance_rollups('infinity');
SELECT telemetry.refresh_rollups(:'p_now', 0);
SELECT telemetry.drop_expired_partitions(NULL);
SELECT telemetry.delete_expired_tenant_events(:'p_now', 0);
SELECT telemetry.drop_expired_rollups(:'p_now', -1);
CALL telemetry.run_maintenance('-infinity');
BEGIN;
CALL telemetry.run_maintenance(:'p_now');
ROLLBACK;
SELECT telemetry.begin_maintenance_step(1, 'vacuum_everything');

-- Under row-level security: a reader of tenant a sees a's cells only; a maintenance role runs
-- the whole maintenance without any other privilege.
CREATE ROLE rollup_reader;
CREATE ROLE rollup_maintainer;
SELECT telemetry.grant_tenant_access('rollup_reader', :a, 'read');
SELECT telemetry.grant_tenant_access('rollup_maintainer', NULL, 'maintenance');
SET ROLE rollup_reader;
SELECT DISTINCT left(tenant_id::text, 8) AS tenant FROM telemetry.daily_rollups;
SELECT telemetry.rollup_watermark() = :'today'::date AS reader_sees_watermark;
SELECT count(*) FROM telemetry.rollup_invalidations;
CALL telemetry.run_maintenance(:'p_now');
RESET ROLE;
SELECT telemetry.invalidate_rollups(:a, :'today'::date - 2, :'today'::date - 2);
RESET ROLE;
-- A tenant's admin invalidates its own days, and no other tenant's, nor every tenant's; it adds
-- manual rows only (a 'closed' row would move the watermark of every tenant).
CREATE ROLE rollup_admin_a;
SELECT telemetry.grant_tenant_access('rollup_admin_a', :a, 'admin');
SET ROLE rollup_admin_a;
SELECT telemetry.invalidate_rollups(:a, :'today'::date - 2, :'today'::date - 2);
SELECT telemetry.invalidate_rollups(:b, :'today'::date - 2, :'today'::date - 2);
SELECT telemetry.invalidate_rollups(NULL, :'today'::date - 2, :'today'::date - 2);
INSERT INTO telemetry.rollup_invalidations (tenant_id, first_day, last_day, reason)
VALUES (:a, '2000-01-01', '2000-01-01', 'closed');
INSERT INTO telemetry.rollup_invalidations (tenant_id, first_day, last_day, reason)
VALUES (:b, :'today'::date - 2, :'today'::date - 2, 'manual');
SELECT left(tenant_id::text, 8) AS tenant, reason FROM telemetry.rollup_invalidations;
RESET ROLE;
SELECT coalesce(left(tenant_id::text, 8), 'every') AS tenant, reason, count(*) FROM telemetry.rollup_invalidations GROUP BY 1, 2 ORDER BY 1;
SELECT telemetry.revoke_tenant_access('rollup_admin_a', :a, 'admin');
DROP ROLE rollup_admin_a;
SET ROLE rollup_maintainer;
SELECT telemetry.invalidate_rollups(NULL, :'today'::date - 3, :'today'::date - 3);
CALL telemetry.run_maintenance(:'p_now');
SELECT step, last_sqlstate, consecutive_failures FROM telemetry.maintenance_status;
RESET ROLE;

-- A failing step is recorded, the other steps of the run still run, and it backs off: retried
-- at the next run after one failure, then skipped for naptime × (2^(k-1) - 1).
-- (With the table renamed, drop_expired_rollups fails; refresh_rollups, with nothing logged,
-- touches no table.)
ALTER TABLE telemetry.daily_rollups RENAME TO daily_rollups_away;
CALL telemetry.run_maintenance(:'p_now');
CALL telemetry.run_maintenance(:'p_now');
CALL telemetry.run_maintenance(:'p_now');
SELECT run_id - (SELECT min(run_id) FROM telemetry.maintenance_runs WHERE status = 'failed') AS run,
       step, status, sqlstate, message
FROM telemetry.maintenance_runs
WHERE run_id >= (SELECT min(run_id) FROM telemetry.maintenance_runs WHERE status = 'failed')
  AND step IN ('advance_rollups', 'refresh_rollups', 'drop_expired_rollups', 'trim_maintenance_runs')
ORDER BY run_id, step;
SELECT step, consecutive_failures, last_sqlstate,
       next_attempt_at - last_failure_at AS back_off
FROM telemetry.maintenance_status WHERE consecutive_failures > 0;
ALTER TABLE telemetry.daily_rollups_away RENAME TO daily_rollups;
UPDATE telemetry.maintenance_steps SET next_attempt_at = now();  -- as if the back-off had passed
CALL telemetry.run_maintenance(:'p_now');
SELECT step, consecutive_failures, last_sqlstate, next_attempt_at FROM telemetry.maintenance_status
WHERE step = 'drop_expired_rollups';

-- Retention, 85 days later: the partitions past 90 days are dropped whole (no DELETE), their
-- days' cells stay as they were (frozen), and the retained ones still equal the raw events.
-- First with a late event of day -9 logged and a refresh that fails: the partition of day -9
-- stays until the event is rolled up (the others past 90 days go).
CREATE TEMP TABLE cells_before AS SELECT * FROM telemetry.daily_rollups;
SELECT count(*) AS partitions_before, min(day) - :'today'::date AS oldest FROM telemetry.partitions();
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, source, schema_version, properties)
VALUES (:'p_now'::timestamptz - interval '9 days', now(), :a, gen_random_uuid(), 'page_viewed', 'late-13', 'server', '1-0-0', '{}');
ALTER TABLE telemetry.daily_rollups RENAME TO daily_rollups_away;
CALL telemetry.run_maintenance(:'p_now'::timestamptz + interval '85 days');
ALTER TABLE telemetry.daily_rollups_away RENAME TO daily_rollups;
SELECT step, status, rows_affected FROM telemetry.maintenance_runs
WHERE run_id = (SELECT max(run_id) FROM telemetry.maintenance_runs) ORDER BY step;
SELECT min(day) - :'today'::date AS oldest_partition, count(*) FILTER (WHERE day < :'today'::date - 5) AS kept_past_retention
FROM telemetry.partitions();
UPDATE telemetry.maintenance_steps SET next_attempt_at = now();  -- as if the back-off had passed
CALL telemetry.run_maintenance(:'p_now'::timestamptz + interval '85 days');
SELECT step, status, rows_affected FROM telemetry.maintenance_runs
WHERE run_id = (SELECT max(run_id) FROM telemetry.maintenance_runs) ORDER BY step;
SELECT min(day) - :'today'::date AS oldest_partition FROM telemetry.partitions();
-- The cells that differ from before: day -9 of a gained the late event, and today's are new
-- (the day is closed now); every other cell is as it was.
SELECT left(x.tenant_id::text, 8) AS tenant, x.day - :'today'::date AS day, x.name,
       c.raw_events AS raw_events_before, x.raw_events, c.users AS users_before, x.users FROM (
    SELECT tenant_id, day, name, events, raw_events, users, sessions FROM telemetry.daily_rollups
    EXCEPT SELECT tenant_id, day, name, events, raw_events, users, sessions FROM cells_before) x
LEFT JOIN cells_before c USING (tenant_id, day, name)
ORDER BY 2, 1, 3;
DELETE FROM cells_before c USING telemetry.daily_rollups d
WHERE (c.tenant_id, c.day, c.name) = (d.tenant_id, d.day, d.name) AND c.raw_events <> d.raw_events;
INSERT INTO cells_before SELECT * FROM telemetry.daily_rollups d
WHERE NOT EXISTS (SELECT FROM cells_before c WHERE (c.tenant_id, c.day, c.name) = (d.tenant_id, d.day, d.name));
SELECT * FROM pg_temp.rollup_differences(:'p_now'::timestamptz + interval '85 days');
-- A late event for a day whose partition is gone has nowhere to go; an invalidation of days
-- frozen (for every tenant before -5, for b before 82) changes no cell.
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, source, schema_version, properties)
VALUES (:'p_now'::timestamptz - interval '7 days', now(), :a, gen_random_uuid(), 'page_viewed', 'late-12', 'server', '1-0-0', '{}');
SELECT telemetry.invalidate_rollups(NULL, :'today'::date - 10, :'today'::date - 1);
SELECT telemetry.refresh_rollups(:'p_now'::timestamptz + interval '85 days') AS cells_written;
SELECT count(*) AS frozen_cells_changed FROM (
    SELECT tenant_id, day, name, events, raw_events, users, sessions FROM cells_before
    EXCEPT SELECT tenant_id, day, name, events, raw_events, users, sessions FROM telemetry.daily_rollups) x;

-- Rollups have their own retention (telemetry.rollup_retention_days).
SET telemetry.rollup_retention_days = 88;
SELECT telemetry.drop_expired_rollups(:'p_now'::timestamptz + interval '85 days') AS cells_dropped;
SELECT min(day) - :'today'::date AS oldest_cell FROM telemetry.daily_rollups;
SELECT min(day) - :'today'::date AS oldest_total,
       (SELECT count(*) FROM telemetry.daily_totals t
        WHERE NOT EXISTS (SELECT FROM telemetry.daily_rollups r WHERE (r.tenant_id, r.day) = (t.tenant_id, t.day))) AS totals_without_cells
FROM telemetry.daily_totals;
RESET telemetry.rollup_retention_days;

-- The status view.
SELECT step, last_success_at IS NOT NULL AS succeeded, consecutive_failures, watermark - :'today'::date AS watermark,
       pending_invalidations, (partition_horizon AT TIME ZONE 'UTC')::date - :'today'::date AS horizon,
       oldest_partition - :'today'::date AS oldest_partition
FROM telemetry.maintenance_status;

-- The sketches: every cell's HyperLogLog estimate is within 3 standard errors (3 × 0.57 %) of
-- its exact count, and exact for small cells (the explicit and sparse forms).
SELECT format_type(atttypid, atttypmod) AS users_hll_type FROM pg_attribute
WHERE attrelid = 'telemetry.daily_rollups'::regclass AND attname = 'users_hll';
SELECT count(*) AS cells, count(*) FILTER (WHERE round(hll_cardinality(users_hll)) = users) AS exact,
       count(*) FILTER (WHERE abs(hll_cardinality(users_hll) - users) > 0.0172 * users + 1) AS beyond_error
FROM telemetry.daily_rollups;

-- Why log2m 15: a million distinct users over 30 days (33,334 a day, as daily sketches), and
-- the union of the 30 sketches, for four populations of user ids: each estimate is within 2 %.
-- Precision 15's standard error is 0.57 %, so 2 % is 3.5 of them; at 14 (0.81 %) an unlucky
-- population (user-1 ... user-1000000 is one) is off by 2.5 %.
WITH days AS (
    SELECT prefix, g % 30 AS day, hll_add_agg(hll_hash_text(prefix || g), 15, 5) AS sketch,
           hll_add_agg(hll_hash_text(prefix || g), 14, 5) AS sketch_14
    FROM generate_series(1, 1000000) g, (VALUES ('user-'), ('u'), ('acct:'), ('visitor.')) AS p(prefix)
    GROUP BY 1, 2)
SELECT prefix, count(*) AS daily_sketches,
       round((hll_cardinality(hll_union_agg(sketch)) / 10000 - 100)::numeric, 2) AS error_pct,
       abs(hll_cardinality(hll_union_agg(sketch)) - 1000000) <= 20000 AS within_2_pct,
       round((hll_cardinality(hll_union_agg(sketch_14)) / 10000 - 100)::numeric, 2) AS error_pct_at_14
FROM days GROUP BY prefix ORDER BY prefix;

SELECT telemetry.revoke_tenant_access('rollup_reader', :a, 'read');
SELECT telemetry.revoke_tenant_access('rollup_maintainer', NULL, 'maintenance');
DROP ROLE rollup_reader;
DROP ROLE rollup_maintainer;

-- A database being restored (CREATE EXTENSION under telemetry.restoring = on) pauses every
-- step, so that the worker makes no partition or rollup state the dump brings again;
-- resume_maintenance() lets them run.
SET telemetry.restoring = on;
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
RESET telemetry.restoring;
SELECT step, next_attempt_at, last_message FROM telemetry.maintenance_status LIMIT 2;
CALL telemetry.run_maintenance(:'p_now');
SELECT count(*) AS runs, (SELECT count(*) FROM telemetry.partitions()) AS partitions FROM telemetry.maintenance_runs;
SELECT telemetry.resume_maintenance() AS steps_resumed;
CALL telemetry.run_maintenance(:'p_now');
SELECT count(*) AS steps_run, count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
       (SELECT count(*) > 0 FROM telemetry.partitions()) AS partitions_made FROM telemetry.maintenance_runs;
