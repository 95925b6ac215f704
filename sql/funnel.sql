-- telemetry.funnel(): the vectors of FUNNELS.md through SQL (one tenant per vector, so each
-- result is one actor's), a 2-step funnel against a reference query in plain SQL on generated
-- data, breakdown, sampling weights, in progress, another tenant's rows, and bad arguments.
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- The vectors' clock: second 0 is noon two days ago (partitions exist from the real clock).
SELECT (date_trunc('day', now() AT TIME ZONE 'UTC') - interval '2 days' + interval '12 hours') AT TIME ZONE 'UTC' AS t0 \gset
CREATE FUNCTION pg_temp.ev(vector integer, name text, seconds float8, user_id text DEFAULT 'u',
                           properties jsonb DEFAULT '{}', weight real DEFAULT 1, session_id text DEFAULT NULL)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, session_id,
                                  source, schema_version, properties, sample_weight)
    VALUES (current_setting('test.t0')::timestamptz + seconds * interval '1 second', now(),
            ('00000000-0000-4000-8000-' || lpad(vector::text, 12, '0'))::uuid, gen_random_uuid(), name,
            user_id, session_id, 'server', '1-0-0', properties, weight)
$$;
SELECT set_config('test.t0', :'t0', false) IS NOT NULL AS clock_set;
-- The furthest step the one actor of a vector reached (0: not in the funnel).
CREATE FUNCTION pg_temp.reached(vector integer, steps jsonb, mode text DEFAULT 'ordered',
                                exclusions jsonb DEFAULT NULL, now_seconds float8 DEFAULT 100000,
                                window_seconds float8 DEFAULT 10)
RETURNS integer LANGUAGE sql AS $$
    SELECT coalesce(max(f.step) FILTER (WHERE f.actors > 0), 0)::integer
    FROM telemetry.funnel(('00000000-0000-4000-8000-' || lpad(vector::text, 12, '0'))::uuid, steps,
                          current_setting('test.t0')::timestamptz - interval '1 hour',
                          current_setting('test.t0')::timestamptz + interval '1 hour',
                          window_seconds * interval '1 second', mode, 'user', exclusions, NULL,
                          current_setting('test.t0')::timestamptz + now_seconds * interval '1 second') f
$$;

SELECT pg_temp.ev(1, 'A', 0), pg_temp.ev(1, 'B', 5), pg_temp.ev(1, 'C', 9);
SELECT pg_temp.ev(2, 'A', 0), pg_temp.ev(2, 'B', 5), pg_temp.ev(2, 'C', 11);
SELECT pg_temp.ev(3, 'A', 0), pg_temp.ev(3, 'A', 8), pg_temp.ev(3, 'B', 12), pg_temp.ev(3, 'C', 15);
SELECT pg_temp.ev(4, 'B', 100), pg_temp.ev(4, 'A', 100), pg_temp.ev(4, 'C', 105);
SELECT pg_temp.ev(5, 'P', 0);
SELECT pg_temp.ev(6, 'P', 0), pg_temp.ev(6, 'P', 0);
SELECT pg_temp.ev(7, 'A', 0), pg_temp.ev(7, 'X', 1), pg_temp.ev(7, 'B', 2);
SELECT pg_temp.ev(8, 'A', 0), pg_temp.ev(8, 'A', 1), pg_temp.ev(8, 'B', 2);
SELECT pg_temp.ev(81, 'A', 0), pg_temp.ev(81, 'B', 1), pg_temp.ev(81, 'B', 2), pg_temp.ev(81, 'C', 3);
SELECT pg_temp.ev(82, 'A', 0), pg_temp.ev(82, 'B', 1), pg_temp.ev(82, 'A', 2), pg_temp.ev(82, 'C', 3);
SELECT pg_temp.ev(9, 'A', 0), pg_temp.ev(9, 'X', 1), pg_temp.ev(9, 'B', 2);
SELECT pg_temp.ev(10, 'A', 0), pg_temp.ev(10, 'B', 2), pg_temp.ev(10, 'X', 3);
SELECT pg_temp.ev(11, 'A', 0), pg_temp.ev(11, 'X', 1), pg_temp.ev(11, 'A', 3), pg_temp.ev(11, 'B', 5);
SELECT pg_temp.ev(12, 'B', 0), pg_temp.ev(12, 'A', 3), pg_temp.ev(12, 'C', 5);
SELECT pg_temp.ev(13, 'B', 0), pg_temp.ev(13, 'A', 3), pg_temp.ev(13, 'C', 15);
SELECT pg_temp.ev(15, 'A', 0);
-- V16: B is inserted (ingested) before A, A earlier in event time.
SELECT pg_temp.ev(16, 'B', 5), pg_temp.ev(16, 'A', 2);
-- F3: property conditions; F1: an event without a user_id is ignored.
SELECT pg_temp.ev(17, 'A', 0, properties => '{"plan": "pro", "n": 1}'), pg_temp.ev(17, 'B', 1, properties => '{"plan": "free"}'),
       pg_temp.ev(17, 'B', 2, properties => '{"plan": "pro"}');
SELECT pg_temp.ev(18, 'A', 0, user_id => NULL), pg_temp.ev(18, 'B', 1, user_id => NULL);

SELECT v, expected, got, expected = got AS ok FROM (VALUES
    ('V1', 3, pg_temp.reached(1, '["A", "B", "C"]')),
    ('V2', 2, pg_temp.reached(2, '["A", "B", "C"]')),
    ('V3', 3, pg_temp.reached(3, '["A", "B", "C"]')),
    ('V4', 3, pg_temp.reached(4, '["A", "B", "C"]')),
    ('V5', 1, pg_temp.reached(5, '["P", "P"]')),
    ('V6', 2, pg_temp.reached(6, '["P", "P"]')),
    ('V7 strict', 1, pg_temp.reached(7, '["A", "B"]', 'strict')),
    ('V7 ordered', 2, pg_temp.reached(7, '["A", "B"]')),
    ('V8 strict', 2, pg_temp.reached(8, '["A", "B"]', 'strict')),
    ('V8a strict', 3, pg_temp.reached(81, '["A", "B", "C"]', 'strict')),
    ('V8b strict', 2, pg_temp.reached(82, '["A", "B", "C"]', 'strict')),
    ('V9 excluded', 0, pg_temp.reached(9, '["A", "B", "C"]', exclusions => '[{"event": "X", "from": 1, "to": 2}]')),
    ('V10', 2, pg_temp.reached(10, '["A", "B", "C"]', exclusions => '[{"event": "X", "from": 1, "to": 2}]')),
    ('V11', 2, pg_temp.reached(11, '["A", "B", "C"]', exclusions => '[{"event": "X", "from": 1, "to": 2}]')),
    ('V12 any', 3, pg_temp.reached(12, '["A", "B", "C"]', 'any')),
    ('V13 any', 2, pg_temp.reached(13, '["A", "B", "C"]', 'any')),
    ('V15', 1, pg_temp.reached(15, '["A", "B"]', now_seconds => 5)),
    ('V16', 2, pg_temp.reached(16, '["A", "B"]')),
    ('F3 where', 2, pg_temp.reached(17, '[{"event": "A", "where": {"plan": "pro"}}, {"event": "B", "where": {"plan": "pro"}}]')),
    ('F3 where, no match', 1, pg_temp.reached(17, '["A", {"event": "B", "where": {"plan": "team"}}]')),
    ('F1 no user_id', 0, pg_temp.reached(18, '["A", "B"]'))
) AS t(v, expected, got) ORDER BY v;

-- V14: the range bounds entry only (window 14 days): step 1 on the last day of the range, step 2
-- after it.
SELECT pg_temp.ev(14, 'A', 0), pg_temp.ev(14, 'B', 86400);
SELECT step, actors FROM telemetry.funnel('00000000-0000-4000-8000-000000000014', '["A", "B"]',
    :'t0'::timestamptz - interval '1 day', :'t0'::timestamptz + interval '1 hour');
-- V15 in full: step 1 counted, step 2 not converted and in progress while the window is open.
SELECT step, actors, conversion_from_first, conversion_from_previous, in_progress
FROM telemetry.funnel('00000000-0000-4000-8000-000000000015', '["A", "B"]', :'t0'::timestamptz - interval '1 hour',
    :'t0'::timestamptz + interval '1 hour', '10 seconds', now => :'t0'::timestamptz + interval '5 seconds');

-- Generated data for one tenant: 60 users, 1,500 events of A, B and C over six hours, with ties.
SELECT setseed(0.5);
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, session_id, source,
                              schema_version, properties, sample_weight)
SELECT :'t0'::timestamptz + (floor(random() * 21600))::integer * interval '1 second', now(),
       '00000000-0000-4000-8000-0000000000aa', gen_random_uuid(), (ARRAY['A', 'B', 'C'])[1 + floor(random() * 3)::integer],
       'user-' || floor(random() * 60)::integer, 's-' || floor(random() * 200)::integer, 'server', '1-0-0',
       jsonb_build_object('plan', (ARRAY['free', 'pro'])[1 + floor(random() * 2)::integer]), 1
FROM generate_series(1, 1500);
-- A 2-step ordered funnel in plain SQL, by the same rules: an A in the range, then a B (another
-- event) at or after it within 30 minutes.
WITH entered AS (
    SELECT DISTINCT user_id FROM telemetry.events
    WHERE tenant_id = '00000000-0000-4000-8000-0000000000aa' AND name = 'A'
      AND occurred_at >= :'t0'::timestamptz AND occurred_at < :'t0'::timestamptz + interval '3 hours'),
converted AS (
    SELECT DISTINCT a.user_id FROM telemetry.events a JOIN telemetry.events b
      ON b.tenant_id = a.tenant_id AND b.user_id = a.user_id AND b.name = 'B'
     AND b.occurred_at >= a.occurred_at AND b.occurred_at <= a.occurred_at + interval '30 minutes'
    WHERE a.tenant_id = '00000000-0000-4000-8000-0000000000aa' AND a.name = 'A'
      AND a.occurred_at >= :'t0'::timestamptz AND a.occurred_at < :'t0'::timestamptz + interval '3 hours')
SELECT (SELECT count(*) FROM entered) AS reference_step_1, (SELECT count(*) FROM converted) AS reference_step_2,
       (SELECT array_agg(f.actors ORDER BY f.step) FROM telemetry.funnel('00000000-0000-4000-8000-0000000000aa', '["A", "B"]',
            :'t0'::timestamptz, :'t0'::timestamptz + interval '3 hours', '30 minutes') f) AS funnel;
-- Three steps, with times between steps, a breakdown by plan (first touch), and by session.
SELECT step, name, breakdown_value, actors, conversion_from_first, conversion_from_previous,
       round(median_seconds_from_previous) AS median_s, round(avg_seconds_from_previous) AS avg_s, in_progress
FROM telemetry.funnel('00000000-0000-4000-8000-0000000000aa', '["A", "B", "C"]', :'t0'::timestamptz,
                      :'t0'::timestamptz + interval '3 hours', '30 minutes', breakdown => 'plan');
SELECT step, actors FROM telemetry.funnel('00000000-0000-4000-8000-0000000000aa', '["A", "B", "C"]', :'t0'::timestamptz,
                      :'t0'::timestamptz + interval '3 hours', '30 minutes', unit => 'session');
-- any mode counts at least what ordered mode does, strict mode no more.
SELECT m.mode, array_agg(f.actors ORDER BY f.step) AS actors
FROM (VALUES ('strict'), ('ordered'), ('any')) AS m(mode),
     telemetry.funnel('00000000-0000-4000-8000-0000000000aa', '["A", "B", "C"]', :'t0'::timestamptz,
                      :'t0'::timestamptz + interval '3 hours', '30 minutes', m.mode) f
GROUP BY m.mode ORDER BY m.mode;

-- window_funnel(): the same vectors, as an aggregate over each vector's events (ordered mode).
SELECT v, expected, got, expected = got AS ok FROM (
    SELECT v, expected, (SELECT telemetry.window_funnel('10 seconds', e.occurred_at, VARIADIC conditions ORDER BY e.occurred_at, e.id)
                         FROM telemetry.events e,
                              LATERAL (SELECT array_agg(e.name = s ORDER BY k) FROM unnest(steps) WITH ORDINALITY AS x(s, k)) AS c(conditions)
                         WHERE e.tenant_id = ('00000000-0000-4000-8000-' || lpad(vector::text, 12, '0'))::uuid
                           AND e.user_id IS NOT NULL) AS got
    FROM (VALUES ('V1', 1, ARRAY['A', 'B', 'C'], 3), ('V2', 2, ARRAY['A', 'B', 'C'], 2), ('V3', 3, ARRAY['A', 'B', 'C'], 3),
                 ('V4', 4, ARRAY['A', 'B', 'C'], 3), ('V5', 5, ARRAY['P', 'P'], 1), ('V6', 6, ARRAY['P', 'P'], 2),
                 ('V7 ordered', 7, ARRAY['A', 'B'], 2), ('V16', 16, ARRAY['A', 'B'], 2)) AS t(v, vector, steps, expected)
) x ORDER BY v;
-- Grouped by user, with the range in step 1's condition, it counts what funnel() counts.
WITH per_user AS (
    SELECT user_id, telemetry.window_funnel('30 minutes', occurred_at,
               name = 'A' AND occurred_at < :'t0'::timestamptz + interval '3 hours', name = 'B', name = 'C'
               ORDER BY occurred_at, id) AS reached
    FROM telemetry.events WHERE tenant_id = '00000000-0000-4000-8000-0000000000aa'
      AND occurred_at >= :'t0'::timestamptz AND occurred_at <= :'t0'::timestamptz + interval '3 hours 30 minutes'
    GROUP BY user_id)
SELECT ARRAY[count(*) FILTER (WHERE reached >= 1), count(*) FILTER (WHERE reached >= 2), count(*) FILTER (WHERE reached >= 3)] AS window_funnel,
       (SELECT array_agg(f.actors ORDER BY f.step) FROM telemetry.funnel('00000000-0000-4000-8000-0000000000aa', '["A", "B", "C"]',
            :'t0'::timestamptz, :'t0'::timestamptz + interval '3 hours', '30 minutes') f) AS funnel
FROM per_user;
\set VERBOSITY sqlstate
SELECT telemetry.window_funnel('0 seconds', now(), true, true);
SELECT telemetry.window_funnel('1 hour', now(), VARIADIC '{}'::boolean[]);
SELECT telemetry.window_funnel('1 hour', t, VARIADIC c) FROM (VALUES (now(), ARRAY[true, false]), (now(), ARRAY[true])) AS x(t, c);
\set VERBOSITY default

-- Rates: a 2-step ordered funnel per actor, and the plain ratio of event counts beside it (it can
-- exceed 1: below, three escalations for two conversations). The first equals the funnel above.
SELECT actors, converted, rate, from_events, to_events, event_ratio
FROM telemetry.conversion_rate('00000000-0000-4000-8000-0000000000aa', '"A"', '"B"', :'t0'::timestamptz,
                               :'t0'::timestamptz + interval '3 hours', '30 minutes');
SELECT actors, converted, rate, from_events, to_events, event_ratio
FROM telemetry.conversion_rate('00000000-0000-4000-8000-0000000000aa', '"A"', '{"event": "B", "where": {"plan": "pro"}}',
                               :'t0'::timestamptz, :'t0'::timestamptz + interval '3 hours', '30 minutes');
SELECT pg_temp.ev(40, 'conversation_started', 0, 'c1'), pg_temp.ev(40, 'conversation_ended', 60, 'c1', '{"reason": "completed"}'),
       pg_temp.ev(40, 'conversation_started', 0, 'c2'), pg_temp.ev(40, 'conversation_ended', 60, 'c2', '{"reason": "abandoned"}'),
       pg_temp.ev(40, 'escalation_triggered', 30, 'c2'), pg_temp.ev(40, 'escalation_triggered', 40, 'c2'),
       pg_temp.ev(40, 'escalation_triggered', 50, 'c2');
SELECT 'completion' AS rate, * FROM telemetry.completion_rate('00000000-0000-4000-8000-000000000040', :'t0'::timestamptz - interval '1 hour', :'t0'::timestamptz + interval '1 hour')
UNION ALL
SELECT 'escalation', * FROM telemetry.escalation_rate('00000000-0000-4000-8000-000000000040', :'t0'::timestamptz - interval '1 hour', :'t0'::timestamptz + interval '1 hour');

-- F17: an actor weighs the inverse sampling rate of its entry event.
SELECT pg_temp.ev(30, 'A', 0, 'w1', weight => 4), pg_temp.ev(30, 'B', 1, 'w1', weight => 4), pg_temp.ev(30, 'A', 0, 'w2');
SELECT step, actors, conversion_from_first FROM telemetry.funnel('00000000-0000-4000-8000-000000000030', '["A", "B"]',
    :'t0'::timestamptz - interval '1 hour', :'t0'::timestamptz + interval '1 hour');
-- A tenant with no events: every step, 0 actors.
SELECT step, name, actors, conversion_from_first FROM telemetry.funnel('00000000-0000-4000-8000-000000000099', '["A", "B"]',
    :'t0'::timestamptz, :'t0'::timestamptz + interval '1 hour');

-- Another tenant's rows never count: a reader of vector 1's tenant sees its funnel, and is refused
-- another's.
CREATE ROLE funnel_reader;
SELECT telemetry.grant_tenant_access('funnel_reader', '00000000-0000-4000-8000-000000000001', 'read');
SET ROLE funnel_reader;
SELECT step, actors FROM telemetry.funnel('00000000-0000-4000-8000-000000000001', '["A", "B", "C"]',
    :'t0'::timestamptz - interval '1 hour', :'t0'::timestamptz + interval '1 hour', '10 seconds');
SELECT step, actors FROM telemetry.funnel('00000000-0000-4000-8000-0000000000aa', '["A", "B"]',
    :'t0'::timestamptz, :'t0'::timestamptz + interval '3 hours');
SELECT * FROM telemetry.funnel_engine('00000000-0000-4000-8000-0000000000aa', :'t0'::timestamptz,
    :'t0'::timestamptz + interval '3 hours', '1 hour', '{A,B}', ARRAY['{}', '{}']::jsonb[], '{}', '{}', '{}', '{}',
    'ordered', 'user', NULL, now());
RESET ROLE;
SELECT telemetry.revoke_tenant_access('funnel_reader', '00000000-0000-4000-8000-000000000001', 'read');
DROP ROLE funnel_reader;

-- Bad arguments.
\set VERBOSITY sqlstate
SELECT * FROM telemetry.funnel(NULL, '["A", "B"]', now() - interval '1 day', now());
SELECT * FROM telemetry.funnel('00000000-0000-4000-8000-000000000001', '["A"]', now() - interval '1 day', now());
SELECT * FROM telemetry.funnel('00000000-0000-4000-8000-000000000001', (SELECT jsonb_agg(to_jsonb('A'::text)) FROM generate_series(1, 33)), now() - interval '1 day', now());
SELECT * FROM telemetry.funnel('00000000-0000-4000-8000-000000000001', '{"A": 1}', now() - interval '1 day', now());
SELECT * FROM telemetry.funnel('00000000-0000-4000-8000-000000000001', '["A", 7]', now() - interval '1 day', now());
SELECT * FROM telemetry.funnel('00000000-0000-4000-8000-000000000001', '["A", {"event": "B", "when": 1}]', now() - interval '1 day', now());
SELECT * FROM telemetry.funnel('00000000-0000-4000-8000-000000000001', '["A", "B"]', now(), now() - interval '1 day');
SELECT * FROM telemetry.funnel('00000000-0000-4000-8000-000000000001', '["A", "B"]', now() - interval '1 day', now(), '0 seconds');
SELECT * FROM telemetry.funnel('00000000-0000-4000-8000-000000000001', '["A", "B"]', now() - interval '1 day', now(), '-1 day');
SELECT * FROM telemetry.funnel('00000000-0000-4000-8000-000000000001', '["A", "B"]', now() - interval '1 day', now(), mode => 'loose');
SELECT * FROM telemetry.funnel('00000000-0000-4000-8000-000000000001', '["A", "B"]', now() - interval '1 day', now(), unit => 'device');
SELECT * FROM telemetry.funnel('00000000-0000-4000-8000-000000000001', '["A", "B"]', now() - interval '1 day', now(), exclusions => '[{"event": "X", "from": 2, "to": 1}]');
SELECT * FROM telemetry.funnel('00000000-0000-4000-8000-000000000001', '["A", "B"]', now() - interval '1 day', now(), exclusions => '[{"event": "X", "from": 1, "to": 3}]');
SELECT * FROM telemetry.funnel('00000000-0000-4000-8000-000000000001', '["A", "B"]', now() - interval '1 day', now(), mode => 'any', exclusions => '[{"event": "X", "from": 1, "to": 2}]');
SELECT * FROM telemetry.funnel('00000000-0000-4000-8000-000000000001', '["A", "B"]', now() - interval '1 day', now(), now => 'infinity');
SELECT * FROM telemetry.funnel('00000000-0000-4000-8000-000000000001', '["A", "B"]', '-infinity', now());
\set VERBOSITY default
-- The messages name the rule and the JSON path, never a value.
SELECT * FROM telemetry.funnel('00000000-0000-4000-8000-000000000001', '["A", {"event": "B", "when": "secret"}]', now() - interval '1 day', now());
SELECT * FROM telemetry.funnel('00000000-0000-4000-8000-000000000001', '["A", "B"]', now() - interval '1 day', now(), exclusions => '[{"event": "X", "from": 1, "to": 3}]');

-- Memory: when a funnel's events do not fit in 8 x work_mem x hash_mem_multiplier, the actors
-- are split into passes by a hash of their id; the answer is the same.
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, source, schema_version,
                              properties, sample_weight)
SELECT :'t0'::timestamptz - interval '12 hours' + (g % 5000) * interval '1 minute' + (g / 5000) * interval '7 seconds', now(),
       '00000000-0000-4000-8000-000000000099', gen_random_uuid(), (ARRAY['A', 'B', 'C', 'X'])[1 + g / 5000],
       'user-' || (g % 700), 'server', '1-0-0', jsonb_build_object('plan', (ARRAY['free', 'team'])[1 + g % 2]), 1
FROM generate_series(0, 19999) g;
CREATE TEMP TABLE funnel_in_memory AS
SELECT * FROM telemetry.funnel('00000000-0000-4000-8000-000000000099', '["A", "B", "C"]', (:'t0'::timestamptz - interval '12 hours'), (:'t0'::timestamptz + interval '3 days'),
                               '1 day', breakdown => 'plan', now => :'t0'::timestamptz + interval '10 days');
SET work_mem = '64kB';
SET hash_mem_multiplier = 1;
SELECT count(*) AS rows, bool_and(a.actors > 0) AS some_actors_every_step,
       count(*) FILTER (WHERE (a.*) IS DISTINCT FROM (b.*)) AS different_in_passes
FROM funnel_in_memory a
FULL JOIN telemetry.funnel('00000000-0000-4000-8000-000000000099', '["A", "B", "C"]', (:'t0'::timestamptz - interval '12 hours'), (:'t0'::timestamptz + interval '3 days'),
                           '1 day', breakdown => 'plan', now => :'t0'::timestamptz + interval '10 days') b
  ON (a.step, a.breakdown_value) = (b.step, b.breakdown_value);
RESET work_mem;
RESET hash_mem_multiplier;

-- The engine is callable directly by readers: it checks what funnel() checks, so that no call
-- reads out of bounds (a NULL step, exclusions of unequal length or out of range, one step,
-- more than 32, no window).
\set VERBOSITY sqlstate
SELECT * FROM telemetry.funnel_engine('00000000-0000-4000-8000-000000000001', now() - interval '1 day', now(), '1 day',
    ARRAY['A', NULL], ARRAY['{}', '{}']::jsonb[], '{}', '{}', '{}', '{}', 'ordered', 'user', NULL, now());
SELECT * FROM telemetry.funnel_engine('00000000-0000-4000-8000-000000000001', now() - interval '1 day', now(), '1 day',
    ARRAY['A', 'B'], ARRAY['{}', NULL]::jsonb[], '{}', '{}', '{}', '{}', 'ordered', 'user', NULL, now());
SELECT * FROM telemetry.funnel_engine('00000000-0000-4000-8000-000000000001', now() - interval '1 day', now(), '1 day',
    ARRAY['A', 'B'], ARRAY['{}', '{}']::jsonb[], ARRAY['X'], ARRAY['{}']::jsonb[], ARRAY[1], '{}', 'ordered', 'user', NULL, now());
SELECT * FROM telemetry.funnel_engine('00000000-0000-4000-8000-000000000001', now() - interval '1 day', now(), '1 day',
    ARRAY['A', 'B'], ARRAY['{}', '{}']::jsonb[], ARRAY['X'], ARRAY['{}']::jsonb[], ARRAY[0], ARRAY[2], 'ordered', 'user', NULL, now());
SELECT * FROM telemetry.funnel_engine('00000000-0000-4000-8000-000000000001', now() - interval '1 day', now(), '1 day',
    ARRAY['A', 'B'], ARRAY['{}', '{}']::jsonb[], ARRAY[NULL], ARRAY['{}']::jsonb[], ARRAY[1], ARRAY[2], 'ordered', 'user', NULL, now());
SELECT * FROM telemetry.funnel_engine('00000000-0000-4000-8000-000000000001', now() - interval '1 day', now(), '1 day',
    ARRAY['A'], ARRAY['{}']::jsonb[], '{}', '{}', '{}', '{}', 'ordered', 'user', NULL, now());
SELECT * FROM telemetry.funnel_engine('00000000-0000-4000-8000-000000000001', now() - interval '1 day', now(), '1 day',
    (SELECT array_agg('A'::text) FROM generate_series(1, 33)), (SELECT array_agg('{}'::jsonb) FROM generate_series(1, 33)),
    '{}', '{}', '{}', '{}', 'ordered', 'user', NULL, now());
SELECT * FROM telemetry.funnel_engine('00000000-0000-4000-8000-000000000001', now() - interval '1 day', now(), '0 days',
    ARRAY['A', 'B'], ARRAY['{}', '{}']::jsonb[], '{}', '{}', '{}', '{}', 'ordered', 'user', NULL, now());
\set VERBOSITY default
