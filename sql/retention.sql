-- telemetry.retention(): the cohort table of FUNNELS.md R1-R6 against a reference query in plain
-- SQL on generated data (days, weeks in a time zone with a DST change, on and on_or_after,
-- first_time and recurring), the vectors, unfinished periods, another tenant, bad arguments.
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- Day 0: 2026-10-20 (UTC), so that the data spans the end of daylight saving time in New York
-- (2026-11-01) whatever the date the test runs; its partitions are made for it.
SELECT '2026-10-20 00:00:00+00' AS d0 \gset
SELECT telemetry.create_partitions('2026-11-30', 45, 0) >= 0 AS partitions_made;
\set t '''00000000-0000-4000-8000-0000000000bb'''
SELECT setseed(0.25);
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, source, schema_version, properties)
SELECT :'d0'::timestamptz + floor(random() * 35 * 86400) * interval '1 second', now(), :t, gen_random_uuid(),
       (ARRAY['signup', 'visit', 'visit', 'visit'])[1 + floor(random() * 4)::integer], 'user-' || floor(random() * 80)::integer,
       'server', '1-0-0', '{}'
FROM generate_series(1, 3000);

-- The reference: R1-R6 in plain SQL, for first_time cohorts.
CREATE FUNCTION pg_temp.reference(p_start text, p_return text, p_from timestamptz, p_to timestamptz, p_period text,
                                  p_periods integer, p_tz text, p_on_or_after boolean, p_now timestamptz)
RETURNS TABLE (cohort_start timestamptz, period_index integer, cohort_size bigint, retained bigint, complete boolean)
LANGUAGE sql AS $$
    WITH firsts AS (
        SELECT user_id, min(date_trunc(p_period, occurred_at, p_tz)) AS cohort
        FROM telemetry.events WHERE tenant_id = '00000000-0000-4000-8000-0000000000bb' AND name = p_start GROUP BY user_id),
    cohorts AS (SELECT * FROM firsts WHERE cohort >= p_from AND cohort < p_to),
    -- Every period starting in the range (found hour by hour: DST days have 23 or 25 hours).
    all_cohorts AS (
        SELECT DISTINCT date_trunc(p_period, g, p_tz) AS cohort
        FROM generate_series(p_from - interval '8 days', p_to, interval '1 hour') g
        WHERE date_trunc(p_period, g, p_tz) >= p_from AND date_trunc(p_period, g, p_tz) < p_to),
    returns AS (
        SELECT DISTINCT user_id, date_trunc(p_period, occurred_at, p_tz) AS period FROM telemetry.events
        WHERE tenant_id = '00000000-0000-4000-8000-0000000000bb' AND name = p_return AND occurred_at < p_now),
    cells AS (
        SELECT a.cohort, k FROM all_cohorts a, generate_series(0, p_periods) k)
    SELECT c.cohort, c.k,
           (SELECT count(*) FROM cohorts x WHERE x.cohort = c.cohort),
           CASE WHEN (c.cohort AT TIME ZONE p_tz + (c.k + 1) * ('1 ' || p_period)::interval) AT TIME ZONE p_tz <= p_now THEN
               CASE WHEN c.k = 0 THEN (SELECT count(*) FROM cohorts x WHERE x.cohort = c.cohort)
                    ELSE (SELECT count(*) FROM cohorts x WHERE x.cohort = c.cohort AND EXISTS (
                              SELECT FROM returns r WHERE r.user_id = x.user_id
                                AND CASE WHEN p_on_or_after
                                         THEN r.period >= (x.cohort AT TIME ZONE p_tz + c.k * ('1 ' || p_period)::interval) AT TIME ZONE p_tz
                                         ELSE r.period = (x.cohort AT TIME ZONE p_tz + c.k * ('1 ' || p_period)::interval) AT TIME ZONE p_tz END)) END
           END,
           (c.cohort AT TIME ZONE p_tz + (c.k + 1) * ('1 ' || p_period)::interval) AT TIME ZONE p_tz <= p_now
    FROM cells c
$$;
-- Every combination equals the reference cell for cell.
SELECT period, tz, criterion,
       (SELECT count(*) FROM (
            SELECT cohort_start, period_index, cohort_size, retained, complete
            FROM telemetry.retention(:t, '"signup"', '"visit"', :'d0'::timestamptz, :'d0'::timestamptz + interval '20 days',
                                     period, 5, 'first_time', criterion, tz, :'d0'::timestamptz + interval '30 days')
            EXCEPT SELECT * FROM pg_temp.reference('signup', 'visit', :'d0'::timestamptz, :'d0'::timestamptz + interval '20 days',
                                                   period, 5, tz, criterion = 'on_or_after', :'d0'::timestamptz + interval '30 days')) x) AS differences,
       (SELECT count(*) FROM telemetry.retention(:t, '"signup"', '"visit"', :'d0'::timestamptz, :'d0'::timestamptz + interval '20 days',
                                     period, 5, 'first_time', criterion, tz, :'d0'::timestamptz + interval '30 days')) AS cells,
       (SELECT sum(cohort_size) FILTER (WHERE period_index = 0) FROM telemetry.retention(:t, '"signup"', '"visit"', :'d0'::timestamptz,
                                     :'d0'::timestamptz + interval '20 days', period, 5, 'first_time', criterion, tz,
                                     :'d0'::timestamptz + interval '30 days')) AS actors
FROM (VALUES ('day'), ('week')) AS p(period), (VALUES ('UTC'), ('America/New_York')) AS z(tz), (VALUES ('on'), ('on_or_after')) AS c(criterion)
ORDER BY 1, 2, 3;

-- A few cells to read: weekly, with unfinished periods at the end (now = day 30).
SELECT cohort_start::date, period_index, cohort_size, retained, rate, complete
FROM telemetry.retention(:t, '"signup"', '"visit"', :'d0'::timestamptz, :'d0'::timestamptz + interval '14 days', 'week', 3,
                         now => :'d0'::timestamptz + interval '30 days')
ORDER BY 1, 2;
-- Recurring cohorts hold every actor with a start event in the period: at least the first_time ones.
SELECT bool_and(r.cohort_size >= f.cohort_size) AS recurring_holds_first_time, sum(r.cohort_size) > sum(f.cohort_size) AS and_more
FROM telemetry.retention(:t, '"signup"', '"visit"', :'d0'::timestamptz, :'d0'::timestamptz + interval '20 days', cohort => 'recurring') r
JOIN telemetry.retention(:t, '"signup"', '"visit"', :'d0'::timestamptz, :'d0'::timestamptz + interval '20 days') f USING (cohort_start, period_index)
WHERE period_index = 0;

-- The vectors: calendar days (start at 23:50, return at 00:10 the next day: retained at day 1), and a
-- start event that is also the return event, twice on day 0 only: not retained at day 1.
\set v '''00000000-0000-4000-8000-0000000000cc'''
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, source, schema_version, properties) VALUES
    (:'d0'::timestamptz + interval '23 hours 50 minutes', now(), :v, gen_random_uuid(), 'open', 'late-night', 'server', '1-0-0', '{}'),
    (:'d0'::timestamptz + interval '24 hours 10 minutes', now(), :v, gen_random_uuid(), 'open', 'late-night', 'server', '1-0-0', '{}'),
    (:'d0'::timestamptz + interval '10 hours', now(), :v, gen_random_uuid(), 'open', 'same-day', 'server', '1-0-0', '{}'),
    (:'d0'::timestamptz + interval '11 hours', now(), :v, gen_random_uuid(), 'open', 'same-day', 'server', '1-0-0', '{}');
SELECT period_index, cohort_size, retained FROM telemetry.retention(:v, '"open"', '"open"', :'d0'::timestamptz,
    :'d0'::timestamptz + interval '1 day', periods => 2);
-- An empty tenant: every cohort, size 0.
SELECT count(*) AS cells, sum(cohort_size) AS actors FROM telemetry.retention('00000000-0000-4000-8000-0000000000dd', '"open"', '"open"',
    :'d0'::timestamptz, :'d0'::timestamptz + interval '3 days', periods => 1);

-- Another tenant's rows never count.
CREATE ROLE retention_reader;
SELECT telemetry.grant_tenant_access('retention_reader', :v, 'read');
SET ROLE retention_reader;
SELECT period_index, cohort_size, retained FROM telemetry.retention(:v, '"open"', '"open"', :'d0'::timestamptz,
    :'d0'::timestamptz + interval '1 day', periods => 1);
SELECT count(*) FROM telemetry.retention(:t, '"signup"', '"visit"', :'d0'::timestamptz, :'d0'::timestamptz + interval '1 day');
RESET ROLE;
SELECT telemetry.revoke_tenant_access('retention_reader', :v, 'read');
DROP ROLE retention_reader;

-- Bad arguments.
\set VERBOSITY sqlstate
SELECT * FROM telemetry.retention(NULL, '"a"', '"b"', now() - interval '1 day', now());
SELECT * FROM telemetry.retention(:v, '"a"', '"b"', now(), now() - interval '1 day');
SELECT * FROM telemetry.retention(:v, '"a"', '"b"', now() - interval '1 day', now(), 'fortnight');
SELECT * FROM telemetry.retention(:v, '"a"', '"b"', now() - interval '1 day', now(), periods => 0);
SELECT * FROM telemetry.retention(:v, '"a"', '"b"', now() - interval '1 day', now(), cohort => 'everyone');
SELECT * FROM telemetry.retention(:v, '"a"', '"b"', now() - interval '1 day', now(), criterion => 'before');
SELECT * FROM telemetry.retention(:v, '"a"', '"b"', now() - interval '1 day', now(), tz => 'Mars/Olympus');
SELECT * FROM telemetry.retention(:v, '1', '"b"', now() - interval '1 day', now());
SELECT * FROM telemetry.retention(:v, '"a"', '"b"', now() - interval '1000 days', now(), 'hour', 1000);
SELECT * FROM telemetry.retention(:v, '"a"', '"b"', now() - interval '1 day', now(), now => 'infinity');
\set VERBOSITY default
