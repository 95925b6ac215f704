-- telemetry.sessions() (src/sql/69_analytics_sessions.sql, FUNNELS.md "Engagement", Sessions):
-- against a reference query in plain SQL (a recursive walk over each user's events, reading all
-- history) on generated data: gaps of exactly 30 minutes and just over, runs longer than 24
-- hours (one that began four days before the range, which the engine must read back to), client
-- sessions with long gaps inside, bounces, events of another tenant; day buckets in
-- Europe/Berlin across its autumn DST change; a tenant without events; a reader of one tenant;
-- bad arguments with their SQLSTATEs.
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- The clock: fall is the last Sunday of October of last year (Berlin's clocks go back at 01:00
-- UTC); the range is the three Berlin days from fall (a 25-hour day first).
SELECT extract(year FROM now() AT TIME ZONE 'UTC')::integer - 1 AS y \gset
SELECT make_date(:y, 10, 31) - extract(dow FROM make_date(:y, 10, 31))::integer AS fall \gset
SELECT (:'fall'::date::timestamp AT TIME ZONE 'Europe/Berlin') AS range_from,
       ((:'fall'::date + 3)::timestamp AT TIME ZONE 'Europe/Berlin') AS range_to,
       (:'fall'::date + 10 + time '12:00') AT TIME ZONE 'UTC' AS p_now \gset
\set a '''aaaaaaaa-0000-4000-8000-000000000001'''
\set b '''bbbbbbbb-0000-4000-8000-000000000002'''
\set c '''cccccccc-0000-4000-8000-000000000003'''
SELECT telemetry.create_partitions(:'p_now', 20, 1) > 0 AS partitions_made;

CREATE FUNCTION pg_temp.ev(tenant uuid, t timestamptz, user_id text, session_id text DEFAULT NULL)
RETURNS integer LANGUAGE sql AS $$
    INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, session_id,
                                  source, schema_version, properties, sample_weight)
    VALUES (t, now(), tenant, gen_random_uuid(), 'page_viewed', user_id, session_id, 'server', '1-0-0', '{}', 1)
    RETURNING 1
$$;

-- Users without session ids, from 2 days before the range to 2 days after it: 40 users, each
-- event after the previous one by a gap from a cycle of 1 minute, 29 minutes, exactly 30
-- minutes, 30 minutes and 1 microsecond, 2 hours, 10 minutes, 45 minutes (the cycle's phase
-- differs per user).
SELECT count(pg_temp.ev(:a, t, 'u' || u)) AS idless_events
FROM (
    SELECT u, (:'range_from'::timestamptz - interval '2 days' + u * interval '7 minutes')
              + sum((ARRAY[interval '1 minute', interval '29 minutes', interval '30 minutes',
                           interval '30 minutes 0.000001 seconds', interval '2 hours', interval '10 minutes',
                           interval '45 minutes'])[1 + (k + u) % 7]) OVER (PARTITION BY u ORDER BY k) AS t
    FROM generate_series(1, 40) u, generate_series(1, 260) k) x
WHERE t < :'range_to'::timestamptz + interval '2 days';
-- A bot: an event every 20 minutes from 4 days before the range to a day after it, one run
-- cut every 24 hours from where it began (20 minutes after the cut: exactly 24 h continues).
SELECT count(pg_temp.ev(:a, t, 'bot')) AS bot_events
FROM generate_series(:'range_from'::timestamptz - interval '4 days 3 hours', :'range_to'::timestamptz + interval '1 day',
                     interval '20 minutes') t;
-- Client sessions: 300, each of 1 to 6 events; every fifth has a 2-hour gap inside and every
-- 50th lasts 20 hours: never split. Some are shared by two users, some have no user.
SELECT count(pg_temp.ev(:a, :'range_from'::timestamptz - interval '6 hours' + s * interval '17 minutes'
                            + k * CASE WHEN s % 50 = 0 THEN interval '4 hours'
                                       WHEN s % 5 = 0 THEN interval '2 hours' ELSE interval '3 minutes' END,
                            CASE WHEN s % 7 = 0 THEN NULL ELSE 'c' || (s % 13 + k % 2) END, 'sess-' || s)) AS client_events
FROM generate_series(1, 300) s, generate_series(0, s % 6) k;
-- Events with neither: ignored.
SELECT pg_temp.ev(:a, :'range_from'::timestamptz + interval '1 hour', NULL, NULL) AS no_actor_event;
-- Another tenant: events that would change every count if they were read.
SELECT count(pg_temp.ev(:b, :'range_from'::timestamptz + g * interval '1 minute', 'u1')) AS other_tenant_events
FROM generate_series(0, 400, 40) g;

-- The reference: every session of the tenant from all its history.
CREATE FUNCTION pg_temp.reference(tenant uuid)
RETURNS TABLE (first timestamptz, last timestamptz, events bigint)
LANGUAGE sql AS $$
    WITH RECURSIVE ordered AS (
        SELECT user_id, occurred_at, row_number() OVER (PARTITION BY user_id ORDER BY occurred_at) AS n
        FROM telemetry.events WHERE tenant_id = tenant AND session_id IS NULL AND user_id IS NOT NULL),
    walk AS (
        SELECT user_id, n, occurred_at AS t, occurred_at AS session_start FROM ordered WHERE n = 1
        UNION ALL
        SELECT o.user_id, o.n, o.occurred_at,
               CASE WHEN o.occurred_at - w.t > interval '30 minutes'
                      OR o.occurred_at - w.session_start > interval '24 hours' THEN o.occurred_at
                    ELSE w.session_start END
        FROM walk w JOIN ordered o ON o.user_id = w.user_id AND o.n = w.n + 1)
    SELECT session_start, max(t), count(*) FROM walk GROUP BY user_id, session_start
    UNION ALL
    SELECT min(occurred_at), max(occurred_at), count(*) FROM telemetry.events
    WHERE tenant_id = tenant AND session_id IS NOT NULL GROUP BY session_id
$$;
CREATE FUNCTION pg_temp.expected(tenant uuid, range_from timestamptz, range_to timestamptz, tz text, bucket text)
RETURNS TABLE (sessions bigint, avg_seconds numeric, median_seconds numeric, bounce_rate numeric, bounces bigint,
               bucket_start timestamptz)
LANGUAGE sql AS $$
    SELECT count(r.first), round(avg(extract(epoch FROM r.last - r.first)), 6),
           round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM r.last - r.first))::numeric, 6),
           round(count(*) FILTER (WHERE r.events = 1)::numeric / nullif(count(r.first), 0), 4),
           count(*) FILTER (WHERE r.events = 1), b.bucket_start
    FROM (SELECT bucket_start FROM telemetry.calendar_buckets(range_from, range_to, coalesce(bucket, 'day'), tz)
          WHERE bucket IS NOT NULL
          UNION ALL SELECT range_from WHERE bucket IS NULL) b
    LEFT JOIN pg_temp.reference(tenant) r
      ON r.first >= range_from AND r.first < range_to
     AND (bucket IS NULL OR date_trunc(bucket, r.first, tz) = b.bucket_start)
    GROUP BY b.bucket_start
$$;
CREATE FUNCTION pg_temp.got(tenant uuid, range_from timestamptz, range_to timestamptz, tz text, bucket text)
RETURNS TABLE (sessions bigint, avg_seconds numeric, median_seconds numeric, bounce_rate numeric, bounces bigint,
               bucket_start timestamptz)
LANGUAGE sql AS $$
    SELECT s.sessions, round(s.avg_seconds::numeric, 6), round(s.median_seconds::numeric, 6), s.bounce_rate, s.bounces,
           s.bucket_start
    FROM telemetry.sessions(tenant, range_from, range_to, tz, bucket) s
$$;

-- The whole range, one row: equal to the reference; and what it holds.
SELECT (SELECT array_agg(g ORDER BY g::text) FROM pg_temp.got(:a, :'range_from', :'range_to', 'UTC', NULL) g)
     = (SELECT array_agg(e ORDER BY e::text) FROM pg_temp.expected(:a, :'range_from', :'range_to', 'UTC', NULL) e) AS same;
SELECT sessions, avg_seconds, median_seconds, bounce_rate, bounces, bucket_start = :'range_from' AS at_from
FROM pg_temp.got(:a, :'range_from', :'range_to', 'UTC', NULL);
-- Day buckets in Berlin (the first day has 25 hours), and hours, and a range cutting buckets.
SELECT (SELECT array_agg(g ORDER BY g::text) FROM pg_temp.got(:a, :'range_from', :'range_to', 'Europe/Berlin', 'day') g)
     = (SELECT array_agg(e ORDER BY e::text) FROM pg_temp.expected(:a, :'range_from', :'range_to', 'Europe/Berlin', 'day') e) AS same_days;
SELECT to_char(bucket_start AT TIME ZONE 'Europe/Berlin', 'Dy HH24:MI') AS berlin_day, sessions, bounces, bounce_rate
FROM pg_temp.got(:a, :'range_from', :'range_to', 'Europe/Berlin', 'day') ORDER BY bucket_start;
SELECT (SELECT array_agg(g ORDER BY g::text) FROM pg_temp.got(:a, :'range_from', :'range_to', 'Europe/Berlin', 'hour') g)
     = (SELECT array_agg(e ORDER BY e::text) FROM pg_temp.expected(:a, :'range_from', :'range_to', 'Europe/Berlin', 'hour') e) AS same_hours,
       (SELECT count(*) FROM pg_temp.got(:a, :'range_from', :'range_to', 'Europe/Berlin', 'hour')) AS hour_buckets;
SELECT (SELECT array_agg(g ORDER BY g::text)
        FROM pg_temp.got(:a, :'range_from'::timestamptz + interval '5 hours 17 minutes', :'range_to'::timestamptz - interval '3 hours', 'Asia/Kolkata', 'day') g)
     = (SELECT array_agg(e ORDER BY e::text)
        FROM pg_temp.expected(:a, :'range_from'::timestamptz + interval '5 hours 17 minutes', :'range_to'::timestamptz - interval '3 hours', 'Asia/Kolkata', 'day') e) AS same_cut;
-- Twenty ranges of various lengths and offsets, one row each: all equal to the reference.
SELECT count(*) AS ranges,
       count(*) FILTER (WHERE (SELECT array_agg(g ORDER BY g::text) FROM pg_temp.got(:a, f, f + l, 'UTC', NULL) g)
                            = (SELECT array_agg(e ORDER BY e::text) FROM pg_temp.expected(:a, f, f + l, 'UTC', NULL) e)) AS equal
FROM (SELECT :'range_from'::timestamptz - interval '1 day' + k * interval '3 hours 7 minutes' AS f,
             (1 + k % 5) * interval '5 hours' AS l
      FROM generate_series(0, 19) k) r;

-- The bot's run: sessions cut every 24 hours from where the run began, 4 days and 3 hours
-- before the range (so not at the range's start, nor at midnight): the engine read back to it.
SELECT to_char(first - :'range_from'::timestamptz, 'DD"d" HH24"h"MI"m"') AS bot_session_starts_after_from
FROM pg_temp.reference(:a) r
WHERE r.first >= :'range_from' AND r.first < :'range_to' AND r.events > 70 ORDER BY 1;
-- Another tenant's rows were not read; a tenant without events: zeros and NULLs.
SELECT * FROM pg_temp.got(:b, :'range_from', :'range_to', 'UTC', NULL);
SELECT sessions, avg_seconds, median_seconds, bounce_rate, bounces FROM telemetry.sessions(:c, :'range_from', :'range_to');
-- An empty range: one row of zeros; with buckets, none.
SELECT sessions, bounces FROM telemetry.sessions(:a, :'range_from', :'range_from');
SELECT count(*) AS buckets FROM telemetry.sessions(:a, :'range_from', :'range_from', bucket => 'day');

-- A reader of tenant a only: the same answer for a; b is refused.
CREATE ROLE sessions_reader;
SELECT telemetry.grant_tenant_access('sessions_reader', :a, 'read');
SET ROLE sessions_reader;
SELECT sessions, bounces FROM telemetry.sessions(:a, :'range_from', :'range_to');
SELECT * FROM telemetry.sessions(:b, :'range_from', :'range_to');
RESET ROLE;
SELECT telemetry.revoke_tenant_access('sessions_reader', :a, 'read');
DROP ROLE sessions_reader;

-- Bad arguments.
\set VERBOSITY sqlstate
SELECT * FROM telemetry.sessions(NULL, :'range_from', :'range_to');
SELECT * FROM telemetry.sessions(:a, NULL, :'range_to');
SELECT * FROM telemetry.sessions(:a, '-infinity', :'range_to');
SELECT * FROM telemetry.sessions(:a, :'range_to', :'range_from');
SELECT * FROM telemetry.sessions(:a, :'range_from', :'range_to', 'Mars/Olympus');
SELECT * FROM telemetry.sessions(:a, :'range_from', :'range_to', NULL);
SELECT * FROM telemetry.sessions(:a, :'range_from', :'range_to', 'UTC', 'fortnight');
SELECT * FROM telemetry.sessions(:a, :'range_from', :'range_from'::timestamptz + interval '2 years', 'UTC', 'hour');
\set VERBOSITY default
