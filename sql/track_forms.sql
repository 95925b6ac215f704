-- Every documented call of track() and track_batch(), with the kinds of arguments drivers send:
-- untyped parameters (node-postgres; psycopg 3 with strings), text-typed ones (JDBC's setString
-- sends varchar) and native types (a uuid, a jsonb). Each resolves, without "function is not
-- unique", to the form it means, and stores what the typed call would (docs/api.md, "Choosing
-- between the forms"). test/client/ makes the same calls through the real drivers.
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';
\set SHOW_CONTEXT never
SELECT telemetry.define_event('signup', '{"properties": {"plan": {"type": "string"}}}');

-- Which form each call takes: EXPLAIN shows the function's arguments (the typed forms' types,
-- VARIADIC for the positional text form, eight text arguments for the named one).
\set t '''7a7a7a7a-0000-4000-8000-000000000001'''
PREPARE untyped_5 AS SELECT telemetry.track($1, $2, $3, $4, $5);
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE untyped_5(:t, 'signup', '{}', 'u', 's');
PREPARE untyped_3 AS SELECT telemetry.track($1, $2, $3);
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE untyped_3('signup', '{}', 'u');
PREPARE untyped_2 AS SELECT telemetry.track($1, $2);
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE untyped_2('signup', '{}');
PREPARE untyped_named AS SELECT telemetry.track($1, $2, $3, event_id => $4);
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE untyped_named(:t, 'signup', '{}', '0192d5b4-0000-7000-8000-0000000000a1');
PREPARE varchar_5 AS SELECT telemetry.track($1::varchar, $2::varchar, $3::varchar, $4::varchar, $5::varchar);
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE varchar_5(:t, 'signup', '{}', 'u', 's');
PREPARE varchar_named AS SELECT telemetry.track(name => $1::varchar, properties => $2::varchar);
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE varchar_named('signup', '{}');
PREPARE native_5 AS SELECT telemetry.track($1::uuid, $2, $3::jsonb, $4, $5);
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE native_5(:t, 'signup', '{}', 'u', 's');
PREPARE native_named AS SELECT telemetry.track($1::uuid, $2, $3::jsonb, event_id => $4::uuid);
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE native_named(:t, 'signup', '{}', '0192d5b4-0000-7000-8000-0000000000a1');

-- Each stores what it means. (user, session, event id and time make every row tell its call.)
SELECT date_trunc('second', now() - interval '2 days') AS past,
       to_char(date_trunc('second', now() - interval '2 days') AT TIME ZONE 'UTC' - interval '1 hour',
               'YYYY-MM-DD"T"HH24:MI:SS') || '-01' AS past_at_minus_one,
       to_char(date_trunc('second', now() - interval '2 days') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS past_iso \gset
PREPARE u3 AS SELECT telemetry.track($1, $2, $3) IS NOT NULL AS tracked;
PREPARE u4 AS SELECT telemetry.track($1, $2, $3, $4) IS NOT NULL AS tracked;
PREPARE u6 AS SELECT telemetry.track($1, $2, $3, $4, $5, $6) IS NOT NULL AS tracked;
PREPARE u7 AS SELECT telemetry.track($1, $2, $3, $4, $5, $6, $7) IS NOT NULL AS tracked;
PREPARE u8 AS SELECT telemetry.track($1, $2, $3, $4, $5, $6, $7, $8) IS NOT NULL AS tracked;
PREPARE un1 AS SELECT telemetry.track($1, $2, $3, event_id => $4) IS NOT NULL AS tracked;
PREPARE un2 AS SELECT telemetry.track($1, $2, session_id => $3, occurred_at => $4) IS NOT NULL AS tracked;
PREPARE un3 AS SELECT telemetry.track(tenant_id => $1, name => $2, properties => $3, user_id => $4) IS NOT NULL AS tracked;
PREPARE un4 AS SELECT telemetry.track(name => $1, properties => $2, user_id => $3) IS NOT NULL AS tracked;
PREPARE u1 AS SELECT telemetry.track($1) IS NOT NULL AS tracked;
SELECT telemetry.track(:t, 'signup', '{"plan": "m5"}', 'u-m5', 's-m5') IS NOT NULL AS multi_5,
       telemetry.track(:t, 'signup', '{"plan": "m3"}') IS NOT NULL AS multi_3,
       telemetry.track('signup', '{"plan": "s4"}', 'u-s4', 's-s4') IS NOT NULL AS single_4,
       telemetry.track('signup', '{"plan": "s2"}') IS NOT NULL AS single_2;
EXECUTE u3(:t, 'signup', '{"plan": "pm3"}');
EXECUTE u3('signup', '{"plan": "ps3"}', 'u-ps3');
EXECUTE u4('{7A7A7A7A00004000800000000000000B}', 'signup', '{"plan": "pm4"}', 'u-pm4');
EXECUTE u6(:t, 'signup', '{"plan": "pm6"}', NULL, NULL, :'past');
EXECUTE u6('signup', '{"plan": "ps6"}', NULL, NULL, NULL, '0192d5b4-0000-7000-8000-0000000000b6');
EXECUTE u7('signup', '{"plan": "ps7"}', 'u-ps7', 's-ps7', :'past_iso', '0192D5B4-0000-7000-8000-0000000000B7', :'past_iso');
EXECUTE u8(:t, 'signup', '{"plan": "pm8"}', 'u-pm8', 's-pm8', now(), '{0192d5b400007000800000000000000b}', now());
EXECUTE un1(:t, 'signup', '{"plan": "nm"}', '0192d5b4-0000-7000-8000-0000000000c1');
EXECUTE un1('signup', '{"plan": "ns"}', 'u-ns', '0192d5b4-0000-7000-8000-0000000000c2');
EXECUTE un2('signup', '{"plan": "ns2"}', 's-ns2', :'past_at_minus_one');
EXECUTE un3(:t, 'signup', '{"plan": "nm3"}', 'u-nm3');
EXECUTE un4('signup', '{"plan": "ns4"}', 'u-ns4');
EXECUTE u1('signup');
SELECT properties ->> 'plan' AS plan, tenant_id, user_id, session_id,
       CASE WHEN event_id::text LIKE '0192d5b4%' THEN event_id::text ELSE 'made by track()' END AS event_id,
       CASE WHEN occurred_at = :'past' THEN 'two days ago' WHEN occurred_at > now() - interval '1 minute' THEN 'now' END AS occurred_at
FROM telemetry.events ORDER BY id;

-- JDBC's setString: varchar parameters, positional and named; and track_batch() alike.
PREPARE v5 AS SELECT telemetry.track($1::varchar, $2::varchar, $3::varchar, $4::varchar, $5::varchar) IS NOT NULL AS tracked;
PREPARE vn AS SELECT telemetry.track($1::varchar, $2::varchar, occurred_at => $3::varchar) IS NOT NULL AS tracked;
PREPARE vb AS SELECT status, count(*) FROM telemetry.track_batch($1::varchar, $2::varchar, $3::varchar) GROUP BY status ORDER BY status;
EXECUTE v5(:t, 'signup', '{"plan": "v5"}', 'u-v5', 's-v5');
EXECUTE vn('signup', '{"plan": "vn"}', :'past_iso');
EXECUTE vb(:t, '[{"name": "signup", "properties": {"plan": "vb"}}, {"name": "nope"}]', now()::text);
PREPARE ub AS SELECT status, count(*) FROM telemetry.track_batch($1, $2) GROUP BY status ORDER BY status;
EXECUTE ub('{7A7A7A7A00004000800000000000000B}', '[{"name": "signup", "properties": {"plan": "ub"}}]');
SELECT properties ->> 'plan' AS plan, tenant_id, user_id, session_id,
       CASE WHEN occurred_at = :'past' THEN 'two days ago' WHEN occurred_at > now() - interval '1 minute' THEN 'now' END AS occurred_at,
       flags
FROM telemetry.events WHERE properties ->> 'plan' IN ('v5', 'vn', 'vb', 'ub') ORDER BY id;

-- The text forms refuse as the typed ones do, never echoing a value.
EXECUTE u4(:t, 'signup', '{"plan": 7}', 'u');
EXECUTE u4(:t, 'signup', '{"plan": "a", "plan": "b"}', 'u');
EXECUTE u4(:t, 'signup', '{"plan": "x\u0000y"}', 'u');
EXECUTE u4(:t, 'signup', 'not json at all', 'u');
EXECUTE u4(:t, 'signup', '{}', '');
EXECUTE u6(:t, 'signup', '{}', NULL, NULL, 'the day after tomorrow');
EXECUTE u7(:t, 'signup', '{}', NULL, NULL, NULL, 'secret-not-a-uuid');
EXECUTE u7(:t, 'signup', '{}', NULL, NULL, NULL, '00000000-0000-0000-0000-000000000000');
EXECUTE u3(NULL, 'signup', '{}');
EXECUTE u8('signup', '{}', 'u', 's', NULL, NULL, NULL, 'one too many');
SELECT telemetry.track(:t, 'signup');
-- Named arguments keep their names after positional ones, a positional NULL included: these two
-- pass the same values, and mean different things.
SELECT telemetry.track('signup', '{"plan": "n1"}', 'u-n1', occurred_at => :'past_iso', event_id => '0192d5b4-0000-7000-8000-0000000000d1') IS NOT NULL AS n1,
       telemetry.track('signup', '{"plan": "n2"}', NULL, 'u-n2', occurred_at => :'past_iso', event_id => '0192d5b4-0000-7000-8000-0000000000d2') IS NOT NULL AS n2,
       telemetry.track('signup', '{"plan": "n3"}', user_id => 'u-n3', sent_at => :'past_iso', occurred_at => :'past_iso') IS NOT NULL AS n3;
SELECT properties ->> 'plan' AS plan, user_id, session_id, occurred_at = :'past' AS two_days_ago, flags
FROM telemetry.events WHERE properties ->> 'plan' IN ('n1', 'n2', 'n3') ORDER BY id;
SELECT telemetry.track('Not A Name', '{}');
-- A lone surrogate in text properties is repaired and flagged (16), as in batches.
SELECT telemetry.track(:t, 'signup', '{"plan": "cut \ud83d"}', 'surrogate') IS NOT NULL AS repaired;
SELECT properties, flags FROM telemetry.events WHERE user_id = 'surrogate';
-- No event name reads as a UUID, so the first argument always tells.
SELECT telemetry.define_event('deadbeefdeadbeefdeadbeefdeadbeef');
