-- Counts, uniques and engagement (src/sql/65_analytics.sql, FUNNELS.md "Engagement"): every
-- function against a reference query in plain SQL on generated data (ties, late events, sampled
-- events, the two DST changes of Europe/Berlin, cut buckets, empty ranges, a tenant without
-- events), with some days rolled up and some not; proof that rolled-up days are read from the
-- rollups, and that a day with a pending invalidation is not; a reader of one tenant; and the
-- bad arguments with their SQLSTATEs.
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- The clock. Europe/Berlin's clocks go back on the last Sunday of October (03:00 CEST is 02:00
-- CET again, at 01:00 UTC) and forward on the last Sunday of March (02:00 CET is 03:00 CEST, at
-- 01:00 UTC). fall: that Sunday in October of last year; spring: the one in March of next
-- year (open days, and far from the real clock, which dates the events for dump()). p_now, the
-- clock of maintenance, is noon UTC ten days after fall (always a Wednesday); today is its
-- day. Partitions are made for the days used (track() is not used: events are inserted
-- directly, which any day with a partition takes). Outputs show days relative to these.
SELECT extract(year FROM now() AT TIME ZONE 'UTC')::integer - 1 AS y \gset
SELECT make_date(:y, 10, 31) - extract(dow FROM make_date(:y, 10, 31))::integer AS fall,
       make_date(:y + 2, 3, 31) - extract(dow FROM make_date(:y + 2, 3, 31))::integer AS spring \gset
SELECT :'fall'::date + 10 AS today \gset
SELECT (:'today'::date + time '12:00') AT TIME ZONE 'UTC' AS p_now,
       :'today'::date::timestamp AT TIME ZONE 'UTC' AS d0 \gset
SELECT extract(isodow FROM :'p_now'::timestamptz) AS p_now_weekday,
       to_char(:'fall'::date, 'Dy') AS fall, to_char(:'spring'::date, 'Dy') AS spring;
\set a '''aaaaaaaa-0000-4000-8000-000000000001'''
\set b '''bbbbbbbb-0000-4000-8000-000000000002'''
\set c '''cccccccc-0000-4000-8000-000000000003'''
\set d '''dddddddd-0000-4000-8000-000000000004'''

SELECT telemetry.create_partitions(:'p_now', 90, 7) > 0 AS made_around_p_now,
       telemetry.create_partitions((:'spring'::date + time '12:00') AT TIME ZONE 'UTC', 1, 1) >= 0 AS made_around_spring;

-- Events of a and b: 45 days (-39 .. +5) at any minute of the day, four types, 3 in 7 of b, a
-- weight of 4 for every eighth (sampled at 0.25), no user for every eleventh (moduli prime to
-- 45, so that every day has some of each).
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, session_id,
                              source, schema_version, properties, sample_weight)
SELECT :'d0'::timestamptz + ((g % 45) - 39) * interval '1 day' + ((g * 37) % 1440) * interval '1 minute',
       now(), CASE WHEN g % 7 < 3 THEN :b::uuid ELSE :a::uuid END, gen_random_uuid(),
       (ARRAY['page_viewed', 'signed_up', 'checkout', 'search'])[1 + (g / 13) % 4],
       CASE WHEN g % 11 = 0 THEN NULL ELSE 'user-' || (g % 53) END, 'session-' || (g % 29),
       'server', '1-0-0', '{}', CASE WHEN g % 8 = 0 THEN 4 ELSE 1 END
FROM generate_series(1, 3000) g;
-- Around each DST change, an event every 10 minutes from 22:00 UTC the day before to 02:50 UTC
-- (30 events, users dst-0, dst-1, dst-2 in turn): of a at fall, of d at spring (in the future,
-- which dump() does not cut off: not a's), and a few of b at both.
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, source, schema_version, properties)
SELECT ((day - 1) + time '22:00') AT TIME ZONE 'UTC' + k * interval '10 minutes', now(), s.tenant, gen_random_uuid(),
       'dst', 'dst-' || (k % 3), 'server', '1-0-0', '{}'::jsonb
FROM (VALUES (:'fall'::date, :a::uuid), (:'spring'::date, :d::uuid)) AS s(day, tenant), generate_series(0, 29) k
UNION ALL
SELECT ((day - 1) + time '22:00') AT TIME ZONE 'UTC' + k * interval '50 minutes', now(), :b::uuid, gen_random_uuid(),
       'dst', 'dst-b', 'server', '1-0-0', '{}'
FROM (VALUES (:'fall'::date), (:'spring'::date)) AS s(day), generate_series(0, 5) k;
-- Ties on day +6: zeta 5 events; tie_a 4 events, tie_b 1 event of weight 4, tie_c 2 of weight 2
-- (4 each, weighted).
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, source, schema_version, properties, sample_weight)
SELECT :'d0'::timestamptz + interval '6 days' + k * interval '1 hour', now(), :a::uuid, gen_random_uuid(), t.name,
       'tie-user-' || k, 'server', '1-0-0', '{}', t.weight
FROM (VALUES ('zeta', 5, 1), ('tie_a', 4, 1), ('tie_b', 1, 4), ('tie_c', 2, 2)) AS t(name, events, weight),
     generate_series(1, t.events) k;
-- Tenant d: one event per user at the edges of the active-user windows at p_now.
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, source, schema_version, properties)
SELECT :'p_now'::timestamptz + e.offs, now(), :d::uuid, gen_random_uuid(), 'seen', e.user_id, 'server', '1-0-0', '{}'
FROM (VALUES ('month-edge', interval '-720 hours'), ('month', interval '-720 hours' + interval '1 second'),
             ('day-edge', interval '-24 hours'), ('day', interval '-24 hours' + interval '1 microsecond'),
             ('half-hour', interval '-30 minutes'), ('now', interval '0'),
             ('future', interval '1 microsecond')) AS e(user_id, offs);
-- Recent events of a, by the real clock, for dump().
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, source, schema_version, properties)
VALUES (now() - interval '10 minutes', now(), :a, gen_random_uuid(), 'page_viewed', 'recent-1', 'server', '1-0-0', '{"n": 1}'),
       (now() - interval '50 minutes', now(), :a, gen_random_uuid(), 'signed_up', 'recent-2', 'server', '1-0-0', '{"n": 2}'),
       (now() - interval '50 minutes', now(), :a, gen_random_uuid(), 'page_viewed', 'recent-3', 'server', '1-0-0', '{"n": 3}'),
       (now() - interval '2 hours', now(), :a, gen_random_uuid(), 'page_viewed', 'recent-4', 'server', '1-0-0', '{"n": 4}'),
       (now() - interval '20 minutes', now(), :b, gen_random_uuid(), 'page_viewed', 'recent-b', 'server', '1-0-0', '{"n": 5}');

-- Maintenance at p_now closes and rolls up every day before today.
CALL telemetry.run_maintenance(:'p_now');
SELECT telemetry.rollup_watermark() - :'today'::date AS watermark,
       (SELECT count(*) FROM telemetry.rollup_invalidations) AS pending,
       (SELECT count(DISTINCT day) FROM telemetry.daily_rollups WHERE tenant_id = :a) AS days_rolled_up_of_a;
SELECT telemetry.rollup_exact_days() = datemultirange(daterange(NULL, :'today'::date)) AS exact_days_before_today;

-- Late events, after the run: two of a on day -3 (one of a type never seen before) are logged,
-- and stay pending until the next refresh.
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, source, schema_version, properties, sample_weight)
VALUES (:'d0'::timestamptz - interval '3 days' + interval '10 hours', now(), :a, gen_random_uuid(), 'page_viewed', 'late-1', 'server', '1-0-0', '{}', 4),
       (:'d0'::timestamptz - interval '3 days' + interval '11 hours', now(), :a, gen_random_uuid(), 'late_type', 'late-2', 'server', '1-0-0', '{}', 1);
SELECT left(tenant_id::text, 8) AS tenant, first_day - :'today'::date AS first_day, last_day - :'today'::date AS last_day, reason
FROM telemetry.rollup_invalidations;
SELECT telemetry.rollup_exact_days() = datemultirange(daterange(NULL, :'today'::date - 3), daterange(:'today'::date - 2, :'today'::date))
       AS exact_days_but_day_minus_3;

-- The references, in plain SQL: a GROUP BY over the raw events of the tenant in [f, u), on a
-- grid of buckets made from every minute of the range (ranges here are whole minutes).
CREATE FUNCTION pg_temp.ref_counts(t uuid, f timestamptz, u timestamptz, b text, nm text[], z text)
RETURNS TABLE (bucket_start timestamptz, name text, events numeric, users bigint) LANGUAGE sql AS $$
    WITH buckets AS (
        SELECT DISTINCT date_trunc(b, x, z) AS bucket_start
        FROM generate_series(f, u, interval '1 minute') x WHERE x < u),
    ev AS (
        SELECT * FROM telemetry.events e
        WHERE e.tenant_id = t AND e.occurred_at >= f AND e.occurred_at < u AND (nm IS NULL OR e.name = ANY (nm))),
    names AS (
        SELECT unnest(nm) AS name UNION SELECT ev.name FROM ev WHERE nm IS NULL),
    agg AS (
        SELECT date_trunc(b, ev.occurred_at, z) AS bucket_start, ev.name,
               sum(ev.sample_weight::numeric) AS events, count(DISTINCT ev.user_id) AS users
        FROM ev GROUP BY 1, 2)
    SELECT k.bucket_start, n.name, coalesce(a.events, 0), coalesce(a.users, 0)
    FROM buckets k CROSS JOIN names n LEFT JOIN agg a USING (bucket_start, name)
$$;
-- event_counts() against it: its cells, their events, and the rows in one and not the other
-- (EXCEPT ALL both ways: must be 0).
CREATE FUNCTION pg_temp.check_counts(t uuid, f timestamptz, u timestamptz, b text, nm text[], z text)
RETURNS TABLE (cells bigint, events numeric, differences bigint) LANGUAGE sql AS $$
    WITH fn AS (SELECT * FROM telemetry.event_counts(t, f, u, b, nm, z)),
    ref AS (SELECT * FROM pg_temp.ref_counts(t, f, u, b, nm, z))
    SELECT (SELECT count(*) FROM fn), (SELECT sum(fn.events) FROM fn),
           (SELECT count(*) FROM ((SELECT * FROM fn EXCEPT ALL SELECT * FROM ref)
                                  UNION ALL (SELECT * FROM ref EXCEPT ALL SELECT * FROM fn)) x)
$$;

-- event_counts: by day, hour, week and month, in UTC and Europe/Berlin, over closed days (from
-- rollups where whole), day -3 (pending), today and later (open), ranges that cut buckets, and
-- around both DST changes; names asked for (one never seen), tenants b and c (none), an empty
-- range and a range without events. a's 45 days hold both rolled-up and raw days.
SELECT x.label, r.*
FROM (VALUES
    ('a, day, UTC, 45 days', :a::uuid, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz + interval '7 days', 'day', NULL::text[], 'UTC'),
    ('a, day, UTC, cut', :a, :'d0'::timestamptz - interval '20 days' + interval '5 hours', :'d0'::timestamptz + interval '2 days 7 hours', 'day', NULL, 'UTC'),
    ('a, day, Etc/UTC, cut', :a, :'d0'::timestamptz - interval '20 days' + interval '5 hours', :'d0'::timestamptz + interval '2 days 7 hours', 'day', NULL, 'Etc/UTC'),
    ('a, hour, UTC, cut', :a, :'d0'::timestamptz - interval '20 days' + interval '5 hours 13 minutes', :'d0'::timestamptz + interval '2 days 7 hours', 'hour', NULL, 'UTC'),
    ('a, week, UTC', :a, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz + interval '7 days', 'week', NULL, 'UTC'),
    ('a, month, UTC', :a, :'d0'::timestamptz - interval '60 days', :'d0'::timestamptz + interval '7 days', 'month', NULL, 'UTC'),
    ('a, day, Berlin, 45 days', :a, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz + interval '7 days', 'day', NULL, 'Europe/Berlin'),
    ('a, hour, Berlin, fall', :a, :'fall'::date - interval '2 days', :'fall'::date + interval '2 days', 'hour', NULL, 'Europe/Berlin'),
    ('a, day, Berlin, fall', :a, :'fall'::date - interval '2 days', :'fall'::date + interval '2 days', 'day', NULL, 'Europe/Berlin'),
    ('d, hour, Berlin, spring', :d, :'spring'::date - interval '2 days', :'spring'::date + interval '2 days', 'hour', NULL, 'Europe/Berlin'),
    ('d, day, Berlin, spring', :d, :'spring'::date - interval '2 days', :'spring'::date + interval '2 days', 'day', NULL, 'Europe/Berlin'),
    ('a, week, Berlin', :a, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz + interval '7 days', 'week', NULL, 'Europe/Berlin'),
    ('a, month, Berlin', :a, :'d0'::timestamptz - interval '60 days', :'d0'::timestamptz + interval '7 days', 'month', NULL, 'Europe/Berlin'),
    ('a, day, UTC, 2 names', :a, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz + interval '7 days', 'day', '{page_viewed,never_seen}', 'UTC'),
    ('a, hour, Berlin, 2 names', :a, :'fall'::date - interval '1 day', :'fall'::date + interval '1 day', 'hour', '{dst,never_seen}', 'Europe/Berlin'),
    ('b, day, UTC, 45 days', :b, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz + interval '7 days', 'day', NULL, 'UTC'),
    ('b, hour, Berlin, fall', :b, :'fall'::date - interval '2 days', :'fall'::date + interval '2 days', 'hour', NULL, 'Europe/Berlin'),
    ('b, week, Berlin', :b, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz + interval '7 days', 'week', NULL, 'Europe/Berlin'),
    ('c, day, UTC', :c, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz + interval '7 days', 'day', NULL, 'UTC'),
    ('c, day, UTC, 1 name', :c, :'d0'::timestamptz - interval '3 days', :'d0'::timestamptz, 'day', '{page_viewed}', 'UTC'),
    ('a, empty range', :a, :'p_now'::timestamptz, :'p_now'::timestamptz, 'day', NULL, 'UTC'),
    ('a, empty range, 1 name', :a, :'p_now'::timestamptz, :'p_now'::timestamptz, 'hour', '{page_viewed}', 'UTC'),
    ('a, no events, 1 name', :a, :'spring'::date + interval '3 days', :'spring'::date + interval '5 days', 'day', '{page_viewed}', 'Europe/Berlin'),
    ('a, no events', :a, :'spring'::date + interval '3 days', :'spring'::date + interval '5 days', 'day', NULL, 'UTC')
) AS x(label, t, f, u, b, nm, z)
CROSS JOIN LATERAL pg_temp.check_counts(x.t, x.f, x.u, x.b, x.nm, x.z) r;

-- What the rules mean, around fall: by hour in Berlin, 02:00 is two buckets (CEST, then CET);
-- the local day of the change has 25 hours and holds all 30 events; by UTC day the same events
-- fall on two days (12 and 18).
SET timezone = 'Europe/Berlin';
SELECT bucket_start::date - :'fall'::date AS day, to_char(bucket_start, 'HH24:MI TZH') AS starts, events, users
FROM telemetry.event_counts(:a, (:'fall'::date - 1 + time '22:00') AT TIME ZONE 'UTC', (:'fall'::date + time '03:00') AT TIME ZONE 'UTC',
                            'hour', '{dst}', 'Europe/Berlin');
SELECT bucket_start::date - :'fall'::date AS day, to_char(bucket_start, 'HH24:MI TZH') AS starts,
       lead(bucket_start) OVER (ORDER BY bucket_start) - bucket_start AS length, events, users
FROM telemetry.event_counts(:a, (:'fall'::date - 1)::timestamp AT TIME ZONE 'Europe/Berlin',
                            (:'fall'::date + 2)::timestamp AT TIME ZONE 'Europe/Berlin', 'day', '{dst}', 'Europe/Berlin');
-- Around spring (tenant d): 02:00 does not exist (no bucket), the day has 23 hours.
SELECT bucket_start::date - :'spring'::date AS day, to_char(bucket_start, 'HH24:MI TZH') AS starts, events, users
FROM telemetry.event_counts(:d, (:'spring'::date - 1 + time '22:00') AT TIME ZONE 'UTC', (:'spring'::date + time '03:00') AT TIME ZONE 'UTC',
                            'hour', '{dst}', 'Europe/Berlin');
SELECT bucket_start::date - :'spring'::date AS day, to_char(bucket_start, 'HH24:MI TZH') AS starts,
       lead(bucket_start) OVER (ORDER BY bucket_start) - bucket_start AS length, events, users
FROM telemetry.event_counts(:d, (:'spring'::date - 1)::timestamp AT TIME ZONE 'Europe/Berlin',
                            (:'spring'::date + 2)::timestamp AT TIME ZONE 'Europe/Berlin', 'day', '{dst}', 'Europe/Berlin');
-- Weeks start on Monday at 00:00 local time, months on the 1st, on either side of a change.
SELECT to_char(bucket_start, 'Dy HH24:MI') AS week_starts, count(DISTINCT bucket_start) AS weeks,
       count(DISTINCT to_char(bucket_start, 'TZH')) AS utc_offsets
FROM telemetry.event_counts(:a, :'fall'::date - interval '20 days', :'fall'::date + interval '20 days', 'week', '{dst}', 'Europe/Berlin')
GROUP BY 1;
SELECT to_char(bucket_start, 'DD HH24:MI') AS month_starts, count(DISTINCT bucket_start) AS months
FROM telemetry.event_counts(:a, :'fall'::date - interval '50 days', :'fall'::date + interval '50 days', 'month', '{dst}', 'Europe/Berlin')
GROUP BY 1;
SET timezone = 'UTC';
SELECT (bucket_start AT TIME ZONE 'UTC')::date - :'fall'::date AS day, events, users
FROM telemetry.event_counts(:a, :'fall'::date - interval '1 day', :'fall'::date + interval '1 day', 'day', '{dst}');
-- A cut bucket counts only the events inside the range, and starts before it.
SELECT bucket_start - :'d0'::timestamptz AS starts, events,
       (SELECT sum(sample_weight::numeric) FROM telemetry.events
        WHERE tenant_id = :a AND name = 'page_viewed'
          AND occurred_at >= :'d0'::timestamptz - interval '2 days' + interval '18 hours'
          AND occurred_at < :'d0'::timestamptz - interval '1 day') AS events_in_range
FROM telemetry.event_counts(:a, :'d0'::timestamptz - interval '2 days' + interval '18 hours', :'d0'::timestamptz - interval '1 day',
                            'day', '{page_viewed}');
-- Zero rows for a type asked for and never seen, in every bucket; none for an empty range.
SELECT name, count(*) AS buckets, sum(events) AS events, sum(users) AS users
FROM telemetry.event_counts(:a, :'d0'::timestamptz - interval '4 days', :'d0'::timestamptz, 'day', '{never_seen,page_viewed}')
GROUP BY name ORDER BY name;
SELECT count(*) AS cells FROM telemetry.event_counts(:a, :'p_now', :'p_now', 'hour', '{page_viewed}');

-- Which days come from the rollups. Tamper with two cells of a (in a transaction rolled back):
-- day -5 (rolled up, nothing pending) and day -3 (a late event pending). event_counts by UTC day
-- shows the tampering of day -5, which it read from the rollups, and not that of day -3, which
-- it read from the raw events; nor any when the range cuts day -5, or by Berlin day, or by hour.
BEGIN;
UPDATE telemetry.daily_rollups SET events = events + 1000, users = users + 1000
WHERE tenant_id = :a AND name = 'page_viewed' AND day IN (:'today'::date - 5, :'today'::date - 3);
SELECT (f.bucket_start AT TIME ZONE 'UTC')::date - :'today'::date AS day, f.events - r.events AS events_beyond_raw,
       f.users - r.users AS users_beyond_raw
FROM telemetry.event_counts(:a, :'d0'::timestamptz - interval '6 days', :'d0'::timestamptz - interval '1 day', 'day', '{page_viewed}') f
JOIN pg_temp.ref_counts(:a, :'d0'::timestamptz - interval '6 days', :'d0'::timestamptz - interval '1 day', 'day', '{page_viewed}', 'UTC') r
  USING (bucket_start, name)
ORDER BY 1;
SELECT x.label, r.differences
FROM (VALUES
    ('day -5 cut', :'d0'::timestamptz - interval '5 days' + interval '1 minute', :'d0'::timestamptz - interval '4 days', 'day', 'UTC'),
    ('day -5 by Berlin day', :'d0'::timestamptz - interval '6 days', :'d0'::timestamptz - interval '4 days', 'day', 'Europe/Berlin'),
    ('day -5 by hour', :'d0'::timestamptz - interval '5 days', :'d0'::timestamptz - interval '4 days', 'hour', 'UTC'),
    ('day -5 by week', :'d0'::timestamptz - interval '5 days', :'d0'::timestamptz - interval '4 days', 'week', 'UTC')
) AS x(label, f, u, b, z)
CROSS JOIN LATERAL pg_temp.check_counts(:a, x.f, x.u, x.b, '{page_viewed}', x.z) r;
ROLLBACK;
-- The late events are in the answer while the rollups do not have them yet.
SELECT d.events AS rollup_events,
       (SELECT events FROM telemetry.event_counts(:a, :'d0'::timestamptz - interval '3 days', :'d0'::timestamptz - interval '2 days',
                                                  'day', '{page_viewed}')) AS event_counts,
       (SELECT sum(sample_weight::numeric) FROM telemetry.events WHERE tenant_id = :a AND name = 'page_viewed'
          AND occurred_at >= :'d0'::timestamptz - interval '3 days' AND occurred_at < :'d0'::timestamptz - interval '2 days') AS raw_events
FROM telemetry.daily_rollups d WHERE d.tenant_id = :a AND d.name = 'page_viewed' AND d.day = :'today'::date - 3;
SELECT name, events, users FROM telemetry.event_counts(:a, :'d0'::timestamptz - interval '3 days', :'d0'::timestamptz - interval '2 days')
WHERE name = 'late_type';
-- After the next run the cell is refreshed, nothing is pending, and day -3 is read from the
-- rollups too.
CALL telemetry.run_maintenance(:'p_now');
SELECT count(*) AS pending FROM telemetry.rollup_invalidations;
BEGIN;
UPDATE telemetry.daily_rollups SET events = events + 1000
WHERE tenant_id = :a AND name = 'page_viewed' AND day = :'today'::date - 3;
SELECT f.events - r.events AS events_beyond_raw
FROM telemetry.event_counts(:a, :'d0'::timestamptz - interval '3 days', :'d0'::timestamptz - interval '2 days', 'day', '{page_viewed}') f,
     pg_temp.ref_counts(:a, :'d0'::timestamptz - interval '3 days', :'d0'::timestamptz - interval '2 days', 'day', '{page_viewed}', 'UTC') r;
ROLLBACK;
-- A pending invalidation of every tenant (NULL) sends the day to the raw events for all.
SELECT telemetry.invalidate_rollups(NULL, :'today'::date - 5, :'today'::date - 5);
BEGIN;
UPDATE telemetry.daily_rollups SET events = events + 1000 WHERE day = :'today'::date - 5;
SELECT x.t, r.differences
FROM (VALUES ('a', :a::uuid), ('b', :b::uuid)) AS x(t, id)
CROSS JOIN LATERAL pg_temp.check_counts(x.id, :'d0'::timestamptz - interval '6 days', :'d0'::timestamptz - interval '4 days', 'day', NULL, 'UTC') r;
ROLLBACK;
CALL telemetry.run_maintenance(:'p_now');
-- The whole comparison again, now that day -3 is rolled up.
SELECT x.label, r.*
FROM (VALUES
    ('a, day, UTC, 45 days', :a::uuid, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz + interval '7 days', 'day', NULL::text[]),
    ('b, day, UTC, 45 days', :b, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz + interval '7 days', 'day', NULL),
    ('a, day, UTC, 2 names', :a, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz + interval '7 days', 'day', '{late_type,never_seen}')
) AS x(label, t, f, u, b, nm)
CROSS JOIN LATERAL pg_temp.check_counts(x.t, x.f, x.u, x.b, x.nm, 'UTC') r;

-- daily_active_users against its reference (distinct users per day in the time zone, of every
-- type), with day -3 rolled up again and a tampered total read only where it comes from
-- daily_totals (whole UTC days, nothing pending).
CREATE FUNCTION pg_temp.check_dau(t uuid, f timestamptz, u timestamptz, z text)
RETURNS TABLE (days bigint, users bigint, differences bigint) LANGUAGE sql AS $$
    WITH fn AS (SELECT * FROM telemetry.daily_active_users(t, f, u, z)),
    ref AS (
        SELECT b.bucket_start AS day_start, count(DISTINCT e.user_id) AS users
        FROM telemetry.calendar_buckets(f, u, 'day', z) b
        LEFT JOIN telemetry.events e
          ON e.tenant_id = t AND e.occurred_at >= f AND e.occurred_at < u
         AND date_trunc('day', e.occurred_at, z) = b.bucket_start
        GROUP BY 1)
    SELECT (SELECT count(*) FROM fn), (SELECT sum(fn.users) FROM fn),
           (SELECT count(*) FROM ((SELECT * FROM fn EXCEPT ALL SELECT * FROM ref)
                                  UNION ALL (SELECT * FROM ref EXCEPT ALL SELECT * FROM fn)) x)
$$;
SELECT x.label, r.*
FROM (VALUES
    ('a, UTC, 45 days', :a::uuid, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz + interval '7 days', 'UTC'),
    ('a, UTC, cut days', :a, :'d0'::timestamptz - interval '20 days 5 hours', :'d0'::timestamptz + interval '13 hours', 'UTC'),
    ('a, Berlin, across fall', :a, :'d0'::timestamptz - interval '14 days', :'d0'::timestamptz, 'Europe/Berlin'),
    ('b, UTC, 45 days', :b, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz + interval '7 days', 'UTC'),
    ('c, UTC, 14 days', :c, :'d0'::timestamptz - interval '14 days', :'d0'::timestamptz, 'UTC'),
    ('a, empty range', :a, :'p_now'::timestamptz, :'p_now'::timestamptz, 'UTC')
) AS x(label, t, f, u, z)
CROSS JOIN LATERAL pg_temp.check_dau(x.t, x.f, x.u, x.z) r;
BEGIN;
UPDATE telemetry.daily_totals SET users = users + 1000 WHERE tenant_id = :a AND day = :'today'::date - 5;
SELECT (f.day_start AT TIME ZONE 'UTC')::date - :'today'::date AS day, f.users - r.users AS users_beyond_raw
FROM telemetry.daily_active_users(:a, :'d0'::timestamptz - interval '6 days', :'d0'::timestamptz - interval '4 days') f
JOIN (SELECT date_trunc('day', occurred_at, 'UTC') AS day_start, count(DISTINCT user_id) AS users FROM telemetry.events
      WHERE tenant_id = :a GROUP BY 1) r USING (day_start)
ORDER BY 1;
SELECT sum(users) AS berlin_days_read_raw FROM telemetry.daily_active_users(:a, :'d0'::timestamptz - interval '6 days',
                                                                          :'d0'::timestamptz - interval '4 days', 'Europe/Berlin');
ROLLBACK;

-- top_events against its reference (order included: ordinality against row_number()): events
-- weighted, ties by name. On day +6, zeta has 5 events, tie_a 4 (4 events), tie_b 4 (one of
-- weight 4), tie_c 4 (two of weight 2).
CREATE FUNCTION pg_temp.check_top(t uuid, f timestamptz, u timestamptz, n integer)
RETURNS TABLE (rows_returned bigint, differences bigint) LANGUAGE sql AS $$
    WITH fn AS (SELECT * FROM telemetry.top_events(t, f, u, n) WITH ORDINALITY),
    ref AS (
        SELECT * FROM (
            SELECT e.name, sum(e.sample_weight::numeric) AS events, count(DISTINCT e.user_id) AS users,
                   row_number() OVER (ORDER BY sum(e.sample_weight::numeric) DESC, e.name COLLATE "C") AS position
            FROM telemetry.events e WHERE e.tenant_id = t AND e.occurred_at >= f AND e.occurred_at < u
            GROUP BY e.name) x
        WHERE x.position <= n)
    SELECT (SELECT count(*) FROM fn),
           (SELECT count(*) FROM ((SELECT * FROM fn EXCEPT ALL SELECT * FROM ref)
                                  UNION ALL (SELECT * FROM ref EXCEPT ALL SELECT * FROM fn)) x)
$$;
SELECT * FROM telemetry.top_events(:a, :'d0'::timestamptz + interval '6 days', :'d0'::timestamptz + interval '7 days');
SELECT * FROM telemetry.top_events(:a, :'d0'::timestamptz + interval '6 days', :'d0'::timestamptz + interval '7 days', 2);
SELECT x.label, r.*
FROM (VALUES
    ('a, 46 days, 10', :a::uuid, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz + interval '7 days', 10),
    ('a, 46 days, 3', :a, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz + interval '7 days', 3),
    ('a, day +6, 3', :a, :'d0'::timestamptz + interval '6 days', :'d0'::timestamptz + interval '7 days', 3),
    ('a, day +6, 1', :a, :'d0'::timestamptz + interval '6 days', :'d0'::timestamptz + interval '7 days', 1),
    ('a, fall, 5', :a, :'fall'::date - interval '1 day', :'fall'::date + interval '1 day', 5),
    ('b, 46 days, 10', :b, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz + interval '7 days', 10),
    ('c, 46 days, 10', :c, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz + interval '7 days', 10),
    ('a, empty range', :a, :'p_now'::timestamptz, :'p_now'::timestamptz, 10)
) AS x(label, t, f, u, n)
CROSS JOIN LATERAL pg_temp.check_top(x.t, x.f, x.u, x.n) r;

-- unique_users against count(DISTINCT user_id): exact when asked, or for 31 days or less from
-- the oldest partition on; otherwise the union of daily sketches (exact false), which for sets
-- this small (the sketches' explicit form) is the exact count too.
CREATE FUNCTION pg_temp.ref_unique(t uuid, f timestamptz, u timestamptz, nm text[]) RETURNS bigint LANGUAGE sql AS $$
    SELECT count(DISTINCT e.user_id) FROM telemetry.events e
    WHERE e.tenant_id = t AND e.occurred_at >= f AND e.occurred_at < u AND (nm IS NULL OR e.name = ANY (nm))
$$;
SELECT x.label, u.exact, u.users, pg_temp.ref_unique(x.t, x.f, x.u, x.nm) AS reference
FROM (VALUES
    ('a, 46 days', :a::uuid, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz + interval '7 days', NULL::text[], false),
    ('a, 46 days, exact', :a, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz + interval '7 days', NULL, true),
    ('a, 46 days cut', :a, :'d0'::timestamptz - interval '39 days' + interval '7 hours', :'d0'::timestamptz + interval '5 days 3 hours', NULL, false),
    ('a, 46 days, 1 name', :a, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz + interval '7 days', '{checkout}', false),
    ('a, 46 days, 2 names', :a, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz + interval '7 days', '{dst,tie_b}', false),
    ('a, 31 days', :a, :'d0'::timestamptz - interval '31 days', :'d0'::timestamptz, NULL, false),
    ('a, 31 days and 1 second', :a, :'d0'::timestamptz - interval '31 days 1 second', :'d0'::timestamptz, NULL, false),
    ('a, 5 days', :a, :'d0'::timestamptz - interval '5 days', :'d0'::timestamptz, NULL, false),
    ('a, before the partitions', :a, :'d0'::timestamptz - interval '100 days', :'d0'::timestamptz - interval '85 days', NULL, false),
    ('b, 46 days', :b, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz + interval '7 days', NULL, false),
    ('c, 46 days', :c, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz + interval '7 days', NULL, false),
    ('c, 46 days, exact', :c, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz + interval '7 days', NULL, true),
    ('a, empty range', :a, :'p_now'::timestamptz, :'p_now'::timestamptz, NULL, false)
) AS x(label, t, f, u, nm, ex)
CROSS JOIN LATERAL telemetry.unique_users(x.t, x.f, x.u, x.nm, x.ex) u;
-- The estimate reads the rollups' sketches for whole exact days (the daily totals' for every
-- type, the cells' for named types), the raw events for the rest: a user added to the sketches
-- of day -5 shows in it, not in the exact count; added to day -5 of a range that cuts it, it
-- does not show.
BEGIN;
UPDATE telemetry.daily_totals SET users_hll = hll_add(users_hll, hll_hash_text('phantom'))
WHERE tenant_id = :a AND day = :'today'::date - 5;
UPDATE telemetry.daily_rollups SET users_hll = hll_add(users_hll, hll_hash_text('phantom'))
WHERE tenant_id = :a AND name = 'page_viewed' AND day = :'today'::date - 5;
SELECT (SELECT users FROM telemetry.unique_users(:a, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz)) AS estimate,
       (SELECT users FROM telemetry.unique_users(:a, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz, exact => true)) AS exact,
       (SELECT users FROM telemetry.unique_users(:a, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz - interval '4 days 1 hour')) AS estimate_cut,
       (SELECT users FROM telemetry.unique_users(:a, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz - interval '4 days 1 hour', exact => true)) AS exact_cut,
       (SELECT users FROM telemetry.unique_users(:a, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz, '{page_viewed}')) AS estimate_page_viewed,
       (SELECT users FROM telemetry.unique_users(:a, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz, '{page_viewed}', exact => true)) AS exact_page_viewed;
ROLLBACK;

-- active_users against its reference, FUNNELS.md: distinct users in (at - window, at], the
-- rows in order (ordinality).
CREATE FUNCTION pg_temp.check_active(t uuid, at timestamptz)
RETURNS TABLE (result text, differences bigint) LANGUAGE sql AS $$
    WITH fn AS (SELECT * FROM telemetry.active_users(t, at) WITH ORDINALITY),
    ref AS (
        SELECT w.name, (SELECT count(DISTINCT e.user_id) FROM telemetry.events e
                        WHERE e.tenant_id = t AND e.occurred_at > at - w.length AND e.occurred_at <= at), w.position
        FROM (VALUES ('1h', interval '1 hour', 1), ('24h', interval '24 hours', 2), ('7d', interval '168 hours', 3),
                     ('DAU', interval '24 hours', 4), ('WAU', interval '168 hours', 5), ('MAU', interval '720 hours', 6))
             AS w(name, length, position))
    SELECT (SELECT string_agg(fn."window" || '=' || fn.users, ' ' ORDER BY fn.ordinality) FROM fn),
           (SELECT count(*) FROM ((SELECT * FROM fn EXCEPT ALL SELECT * FROM ref)
                                  UNION ALL (SELECT * FROM ref EXCEPT ALL SELECT * FROM fn)) x)
$$;
-- Tenant d's users sit at the edges: month-edge and day-edge exactly 720 and 24 hours back
-- (out of the month and the day), month and day just inside, half-hour, now (in), future (out).
SELECT * FROM telemetry.active_users(:d, :'p_now');
SELECT x.label, r.*
FROM (VALUES
    ('a at p_now', :a::uuid, :'p_now'::timestamptz),
    ('a at fall + 1 hour', :a, :'fall'::date + interval '1 hour'),
    ('a at day -20 03:17', :a, :'d0'::timestamptz - interval '20 days' + interval '3 hours 17 minutes'),
    ('b at p_now', :b, :'p_now'::timestamptz),
    ('c at p_now', :c, :'p_now'::timestamptz),
    ('d at p_now', :d, :'p_now'::timestamptz),
    ('d at p_now + 1 hour', :d, :'p_now'::timestamptz + interval '1 hour')
) AS x(label, t, at)
CROSS JOIN LATERAL pg_temp.check_active(x.t, x.at) r;

-- stickiness against its reference: per user, the number of calendar periods of the range in
-- the time zone with an event; users per count 1..N.
CREATE FUNCTION pg_temp.check_stickiness(t uuid, f timestamptz, u timestamptz, p text, tz text DEFAULT 'UTC')
RETURNS TABLE (periods bigint, users bigint, differences bigint) LANGUAGE sql AS $$
    WITH fn AS (SELECT * FROM telemetry.stickiness(t, f, u, p, tz)),
    periods AS (SELECT count(DISTINCT date_trunc(p, x, tz)) AS n
                FROM generate_series(f, u, interval '1 minute') x WHERE x < u),
    per_user AS MATERIALIZED (
        SELECT e.user_id, count(DISTINCT date_trunc(p, e.occurred_at, tz)) AS k
        FROM telemetry.events e
        WHERE e.tenant_id = t AND e.occurred_at >= f AND e.occurred_at < u AND e.user_id IS NOT NULL
        GROUP BY 1),
    ref AS (SELECT g::integer AS periods_active, count(pu.user_id) AS users
            FROM periods CROSS JOIN generate_series(1, periods.n) g LEFT JOIN per_user pu ON pu.k = g
            GROUP BY g)
    SELECT (SELECT count(*) FROM fn), (SELECT sum(fn.users) FROM fn),
           (SELECT count(*) FROM ((SELECT * FROM fn EXCEPT ALL SELECT * FROM ref)
                                  UNION ALL (SELECT * FROM ref EXCEPT ALL SELECT * FROM fn)) x)
$$;
SELECT x.label, r.*
FROM (VALUES
    ('a, day, 14 days', :a::uuid, :'d0'::timestamptz - interval '14 days', :'d0'::timestamptz, 'day', 'UTC'),
    ('a, Berlin days, across fall', :a, :'d0'::timestamptz - interval '14 days', :'d0'::timestamptz, 'day', 'Europe/Berlin'),
    ('a, Kolkata hours, 2 days', :a, :'d0'::timestamptz - interval '12 days', :'d0'::timestamptz - interval '10 days', 'hour', 'Asia/Kolkata'),
    ('a, Berlin weeks, 46 days', :a, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz + interval '7 days', 'week', 'Europe/Berlin'),
    ('a, day, 46 days cut', :a, :'d0'::timestamptz - interval '39 days' + interval '5 hours', :'d0'::timestamptz + interval '7 days', 'day', 'UTC'),
    ('a, hour, 3 days', :a, :'d0'::timestamptz - interval '3 days', :'d0'::timestamptz, 'hour', 'UTC'),
    ('a, week, 46 days', :a, :'d0'::timestamptz - interval '39 days', :'d0'::timestamptz + interval '7 days', 'week', 'UTC'),
    ('a, month, 67 days', :a, :'d0'::timestamptz - interval '60 days', :'d0'::timestamptz + interval '7 days', 'month', 'UTC'),
    ('b, day, 14 days', :b, :'d0'::timestamptz - interval '14 days', :'d0'::timestamptz, 'day', 'UTC'),
    ('c, day, 14 days', :c, :'d0'::timestamptz - interval '14 days', :'d0'::timestamptz, 'day', 'UTC'),
    ('a, empty range', :a, :'p_now'::timestamptz, :'p_now'::timestamptz, 'day', 'UTC')
) AS x(label, t, f, u, p, tz)
CROSS JOIN LATERAL pg_temp.check_stickiness(x.t, x.f, x.u, x.p, x.tz) r;
SELECT * FROM telemetry.stickiness(:a, :'d0'::timestamptz - interval '3 days', :'d0'::timestamptz);

-- dump: a's events of the last hour, newest first (same instant: later ingest first), as JSON
-- objects of every column; against the rows themselves.
SELECT e ->> 'name' AS name, e ->> 'user_id' AS user_id, e -> 'properties' AS properties,
       (SELECT count(*) FROM jsonb_object_keys(e)) AS keys
FROM telemetry.dump(:a) e;
SELECT count(*) AS differences FROM (
    (SELECT * FROM telemetry.dump(:a, '1 hour') WITH ORDINALITY
     EXCEPT ALL
     SELECT to_jsonb(e), row_number() OVER (ORDER BY e.occurred_at DESC, e.id DESC)
     FROM telemetry.events e WHERE e.tenant_id = :a AND e.occurred_at > now() - interval '1 hour')
    UNION ALL
    (SELECT to_jsonb(e), row_number() OVER (ORDER BY e.occurred_at DESC, e.id DESC)
     FROM telemetry.events e WHERE e.tenant_id = :a AND e.occurred_at > now() - interval '1 hour'
     EXCEPT ALL
     SELECT * FROM telemetry.dump(:a, '1 hour') WITH ORDINALITY)) x;
SELECT e ->> 'user_id' AS user_id FROM telemetry.dump(:a, '3 hours', '{page_viewed}') e;
SELECT count(*) AS events_of_c FROM telemetry.dump(:c, '1 year');

-- A reader of tenant a: the same results as the superuser's for a (row-level security applies,
-- and no row of b counts), and 42501 for b and c. (EXECUTE is granted here; the read level is
-- to grant it.)
CREATE FUNCTION pg_temp.results_of(t uuid)
RETURNS TABLE (call text, result jsonb) LANGUAGE sql AS $$
    SELECT 'event_counts day UTC', jsonb_agg(f) FROM telemetry.event_counts(t, current_setting('test.d0')::timestamptz - interval '39 days',
                                                                         current_setting('test.d0')::timestamptz + interval '7 days') f
    UNION ALL
    SELECT 'event_counts hour Berlin', jsonb_agg(f) FROM telemetry.event_counts(t, current_setting('test.fall')::date - interval '2 days',
                                                                             current_setting('test.fall')::date + interval '2 days', 'hour', NULL, 'Europe/Berlin') f
    UNION ALL
    SELECT 'top_events', jsonb_agg(f) FROM telemetry.top_events(t, current_setting('test.d0')::timestamptz - interval '39 days',
                                                                 current_setting('test.d0')::timestamptz + interval '7 days') f
    UNION ALL
    SELECT 'unique_users estimate', jsonb_agg(f) FROM telemetry.unique_users(t, current_setting('test.d0')::timestamptz - interval '39 days',
                                                                            current_setting('test.d0')::timestamptz + interval '7 days') f
    UNION ALL
    SELECT 'unique_users exact', jsonb_agg(f) FROM telemetry.unique_users(t, current_setting('test.d0')::timestamptz - interval '39 days',
                                                                         current_setting('test.d0')::timestamptz + interval '7 days', NULL, true) f
    UNION ALL
    SELECT 'active_users', jsonb_agg(f) FROM telemetry.active_users(t, current_setting('test.d0')::timestamptz) f
    UNION ALL
    SELECT 'stickiness', jsonb_agg(f) FROM telemetry.stickiness(t, current_setting('test.d0')::timestamptz - interval '14 days',
                                                                 current_setting('test.d0')::timestamptz) f
    UNION ALL
    SELECT 'dump', jsonb_agg(f) FROM telemetry.dump(t, '3 hours') f
$$;
SELECT set_config('test.d0', :'d0', false) IS NOT NULL AND set_config('test.fall', :'fall', false) IS NOT NULL AS clock_set;
-- A late event of a on day -4 stays pending while both run: the reader, who may not read the
-- log, must still have that day read from the raw events, not from the stale rollups.
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, source, schema_version, properties)
VALUES (:'d0'::timestamptz - interval '4 days' + interval '9 hours', now(), :a, gen_random_uuid(), 'signed_up', 'late-3', 'server', '1-0-0', '{}');
SELECT left(tenant_id::text, 8) AS tenant, first_day - :'today'::date AS first_day, reason FROM telemetry.rollup_invalidations;
CREATE TEMP TABLE superuser_results AS SELECT * FROM pg_temp.results_of(:a);
SELECT count(*) AS calls, count(*) FILTER (WHERE jsonb_array_length(result) > 0) AS with_rows FROM superuser_results;
CREATE ROLE analytics_reader;
SELECT telemetry.grant_tenant_access('analytics_reader', :a, 'read');
-- (The read level grants EXECUTE on every analytics function: nothing else is granted.)
GRANT SELECT ON superuser_results TO analytics_reader;
CREATE FUNCTION pg_temp.error_of(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END
$$;
SET ROLE analytics_reader;
SELECT s.call, s.result = r.result AS same_as_superuser
FROM superuser_results s FULL JOIN pg_temp.results_of(:a) r USING (call) ORDER BY call COLLATE "C";
SELECT count(*) AS rows_of_b_seen FROM telemetry.events WHERE tenant_id = :b;
SELECT pg_temp.error_of('SELECT count(*) FROM telemetry.rollup_invalidations') AS reading_the_log;
SELECT t.tenant, v.call, pg_temp.error_of(format('SELECT * FROM telemetry.%s', format(v.call, t.id))) AS error
FROM (VALUES ('event_counts(%L, now() - interval ''1 day'', now())'),
             ('top_events(%L, now() - interval ''1 day'', now())'),
             ('unique_users(%L, now() - interval ''1 day'', now())'),
             ('active_users(%L)'),
             ('stickiness(%L, now() - interval ''1 day'', now())'),
             ('dump(%L)')) AS v(call),
     (VALUES ('b', :b::uuid), ('c', :c::uuid)) AS t(tenant, id)
ORDER BY t.tenant, v.call COLLATE "C";
RESET ROLE;
REVOKE EXECUTE ON FUNCTION telemetry.event_counts(uuid, timestamptz, timestamptz, text, text[], text),
                           telemetry.top_events(uuid, timestamptz, timestamptz, integer),
                           telemetry.unique_users(uuid, timestamptz, timestamptz, text[], boolean),
                           telemetry.active_users(uuid, timestamptz),
                           telemetry.stickiness(uuid, timestamptz, timestamptz, text, text),
                           telemetry.dump(uuid, interval, text[]),
                           telemetry.calendar_buckets(timestamptz, timestamptz, text, text),
                           telemetry.rollup_exact_days() FROM analytics_reader;
REVOKE SELECT ON superuser_results FROM analytics_reader;
SELECT telemetry.revoke_tenant_access('analytics_reader', :a, 'read');
DROP ROLE analytics_reader;

-- Bad arguments, with their SQLSTATEs.
SELECT v.call, pg_temp.error_of('SELECT * FROM telemetry.' || v.call) AS error
FROM (VALUES
    ($$event_counts(NULL, now() - interval '1 day', now())$$),
    ($$event_counts('aaaaaaaa-0000-4000-8000-000000000001', now(), now() - interval '1 day')$$),
    ($$event_counts('aaaaaaaa-0000-4000-8000-000000000001', NULL, now())$$),
    ($$event_counts('aaaaaaaa-0000-4000-8000-000000000001', now(), NULL)$$),
    ($$event_counts('aaaaaaaa-0000-4000-8000-000000000001', '-infinity', now())$$),
    ($$event_counts('aaaaaaaa-0000-4000-8000-000000000001', now() - interval '1 day', now(), 'year')$$),
    ($$event_counts('aaaaaaaa-0000-4000-8000-000000000001', now() - interval '1 day', now(), NULL)$$),
    ($$event_counts('aaaaaaaa-0000-4000-8000-000000000001', now() - interval '1 day', now(), 'Day')$$),
    ($$event_counts('aaaaaaaa-0000-4000-8000-000000000001', now() - interval '1 day', now(), 'day', NULL, 'Mars/Olympus')$$),
    ($$event_counts('aaaaaaaa-0000-4000-8000-000000000001', now() - interval '1 day', now(), 'day', NULL, NULL)$$),
    ($$event_counts('aaaaaaaa-0000-4000-8000-000000000001', now() - interval '1 day', now(), 'day', '{page_viewed,NULL}')$$),
    ($$event_counts('aaaaaaaa-0000-4000-8000-000000000001', '2000-01-01 00:00+00', '2000-01-01 00:00+00'::timestamptz + interval '730 days', 'hour')$$),
    ($$event_counts('aaaaaaaa-0000-4000-8000-000000000001', '2000-01-01 00:00+00', '2000-01-01 00:00+00'::timestamptz + interval '10001 days')$$),
    ($$event_counts('aaaaaaaa-0000-4000-8000-000000000001', '2000-01-01 00:00+00', '2000-01-01 00:00+00'::timestamptz + interval '10000 days 1 second')$$),
    ($$top_events(NULL, now() - interval '1 day', now())$$),
    ($$top_events('aaaaaaaa-0000-4000-8000-000000000001', now(), now() - interval '1 day')$$),
    ($$top_events('aaaaaaaa-0000-4000-8000-000000000001', now() - interval '1 day', now(), 0)$$),
    ($$top_events('aaaaaaaa-0000-4000-8000-000000000001', now() - interval '1 day', now(), NULL)$$),
    ($$unique_users(NULL, now() - interval '1 day', now())$$),
    ($$unique_users('aaaaaaaa-0000-4000-8000-000000000001', now(), now() - interval '1 day')$$),
    ($$unique_users('aaaaaaaa-0000-4000-8000-000000000001', now() - interval '1 day', 'infinity')$$),
    ($$unique_users('aaaaaaaa-0000-4000-8000-000000000001', now() - interval '1 day', now(), NULL, NULL)$$),
    ($$unique_users('aaaaaaaa-0000-4000-8000-000000000001', now() - interval '1 day', now(), '{NULL}')$$),
    ($$active_users(NULL)$$),
    ($$active_users('aaaaaaaa-0000-4000-8000-000000000001', NULL)$$),
    ($$active_users('aaaaaaaa-0000-4000-8000-000000000001', 'infinity')$$),
    ($$daily_active_users(NULL, now() - interval '1 day', now())$$),
    ($$daily_active_users('aaaaaaaa-0000-4000-8000-000000000001', now(), now() - interval '1 day')$$),
    ($$daily_active_users('aaaaaaaa-0000-4000-8000-000000000001', now() - interval '1 day', 'infinity')$$),
    ($$daily_active_users('aaaaaaaa-0000-4000-8000-000000000001', now() - interval '1 day', now(), NULL)$$),
    ($$daily_active_users('aaaaaaaa-0000-4000-8000-000000000001', now() - interval '1 day', now(), 'Mars/Olympus')$$),
    ($$daily_active_users('aaaaaaaa-0000-4000-8000-000000000001', '2000-01-01 00:00+00', '2040-01-01 00:00+00')$$),
    ($$stickiness(NULL, now() - interval '1 day', now())$$),
    ($$stickiness('aaaaaaaa-0000-4000-8000-000000000001', now(), now() - interval '1 day')$$),
    ($$stickiness('aaaaaaaa-0000-4000-8000-000000000001', NULL, now())$$),
    ($$stickiness('aaaaaaaa-0000-4000-8000-000000000001', now() - interval '1 day', now(), 'quarter')$$),
    ($$stickiness('aaaaaaaa-0000-4000-8000-000000000001', now() - interval '1 day', now(), NULL)$$),
    ($$stickiness('aaaaaaaa-0000-4000-8000-000000000001', '2000-01-01 00:00+00', '2000-01-01 00:00+00'::timestamptz + interval '730 days', 'hour')$$),
    ($$stickiness('aaaaaaaa-0000-4000-8000-000000000001', now() - interval '1 day', now(), 'day', 'Mars/Olympus')$$),
    ($$dump(NULL)$$),
    ($$dump('aaaaaaaa-0000-4000-8000-000000000001', '0 seconds')$$),
    ($$dump('aaaaaaaa-0000-4000-8000-000000000001', '-1 hour')$$),
    ($$dump('aaaaaaaa-0000-4000-8000-000000000001', NULL)$$),
    ($$dump('aaaaaaaa-0000-4000-8000-000000000001', '1 hour', '{NULL}')$$),
    ($$calendar_buckets(now() - interval '1 day', now(), 'minute')$$),
    ($$calendar_buckets(now(), now() - interval '1 day')$$)
) AS v(call);
-- 10,000 buckets are allowed (days -9990 .. +9, rolled up and raw).
SELECT count(*) AS buckets, sum(events) AS events,
       sum(events) = (SELECT sum(sample_weight::numeric) FROM telemetry.events WHERE tenant_id = :a AND name = 'page_viewed'
                      AND occurred_at < :'d0'::timestamptz + interval '10 days') AS events_right
FROM telemetry.event_counts(:a, :'d0'::timestamptz - interval '9990 days', :'d0'::timestamptz + interval '10 days', 'day', '{page_viewed}');
