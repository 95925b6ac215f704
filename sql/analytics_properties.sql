-- Numeric properties (src/sql/68_analytics_properties.sql, issue 11 item 8): property_sum() and
-- property_stats() against reference queries in plain SQL on generated data (sampled events,
-- strings, booleans, objects, missing values and numbers beyond float8, missing groups); a few
-- events to check by hand; a reader of one tenant; the bad arguments with their SQLSTATEs.
-- Each test file starts from a fresh extension, so it does not depend on the others.
DROP EXTENSION telemetry;
CREATE EXTENSION telemetry;
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- The clock: d0 is midnight UTC 20 days ago; partitions are made for the days used. Events are
-- inserted directly (no catalog needed). Outputs show instants relative to d0.
SELECT (date_trunc('day', now() AT TIME ZONE 'UTC') - interval '20 days') AT TIME ZONE 'UTC' AS d0 \gset
SELECT telemetry.create_partitions(:'d0'::timestamptz + interval '10 days', 25, 5) >= 0 AS partitions_made;
\set a '''aaaaaaaa-0000-4000-8000-000000000001'''
\set b '''bbbbbbbb-0000-4000-8000-000000000002'''
\set c '''cccccccc-0000-4000-8000-000000000003'''

-- Properties: llm_call events of a and b (b with the same scenarios, larger numbers) in
-- [d0, d0 + 2 days): inputTokens, outputTokens, durationMs numbers, sometimes a string, null, a
-- boolean, an object, missing, or beyond float8; scenario missing or null for some; a weight of
-- 4 for one in five; another event type with the same properties (not counted).
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, session_id,
                              source, schema_version, properties, sample_weight)
SELECT :'d0'::timestamptz + (g * 17 % 2880) * interval '1 minute', now(), t, gen_random_uuid(),
       CASE WHEN g % 23 = 0 THEN 'other' ELSE 'llm_call' END, 'p-' || (g % 9), NULL, 'server', '1-0-0',
       jsonb_strip_nulls(jsonb_build_object(
           'scenario', CASE WHEN g % 11 = 0 THEN NULL ELSE (ARRAY['support', 'sales', 'onboarding'])[1 + g % 3] END,
           'inputTokens', CASE WHEN g % 17 = 0 THEN to_jsonb((g * scale)::text) WHEN g % 19 = 0 THEN NULL
                               ELSE to_jsonb(g * scale % 900 + 0.5) END,
           'outputTokens', CASE WHEN g % 29 = 0 THEN 'true'::jsonb WHEN g % 31 = 0 THEN '{"n": 1}'::jsonb
                                ELSE to_jsonb(g * 3 * scale % 400) END,
           'durationMs', CASE WHEN g % 37 = 0 THEN '"slow"'::jsonb WHEN g % 41 = 0 THEN '1e400'::jsonb
                              ELSE to_jsonb((g * 7919 % 5000) / 3.0) END))
       || CASE WHEN g % 43 = 0 THEN '{"scenario": null, "durationMs": null}'::jsonb ELSE '{}'::jsonb END,
       CASE WHEN g % 5 = 0 THEN 4 ELSE 1 END
FROM (VALUES (:a::uuid, 1), (:b::uuid, 10)) AS x(t, scale), generate_series(1, 600) g;
SELECT count(*) FILTER (WHERE jsonb_typeof(properties -> 'inputTokens') = 'string') AS string_inputs,
       count(*) FILTER (WHERE NOT properties ? 'inputTokens') AS missing_inputs,
       count(*) FILTER (WHERE jsonb_typeof(properties -> 'outputTokens') IN ('boolean', 'object')) AS odd_outputs,
       count(*) FILTER (WHERE properties ->> 'durationMs' = '1e400' OR properties -> 'durationMs' = '"slow"') AS odd_durations,
       count(*) FILTER (WHERE properties -> 'scenario' = 'null' OR NOT properties ? 'scenario') AS no_scenario
FROM telemetry.events WHERE tenant_id = :a AND name = 'llm_call';

-- The references: each event's value is the sum of its terms when every one is a JSON number
-- (a missing term is not: coalesce, since bool_and would skip its NULL).
CREATE FUNCTION pg_temp.ref_values(t uuid, nm text, terms text[], f timestamptz, u timestamptz, g text)
RETURNS TABLE (group_value text, weight numeric, value numeric) LANGUAGE sql AS $$
    SELECT CASE WHEN g IS NULL THEN NULL ELSE coalesce(e.properties ->> g, '(none)') END,
           e.sample_weight::numeric,
           CASE WHEN (SELECT bool_and(coalesce(jsonb_typeof(e.properties -> k) = 'number', false)) FROM unnest(terms) k)
                THEN (SELECT sum((e.properties ->> k)::numeric) FROM unnest(terms) k) END
    FROM telemetry.events e
    WHERE e.tenant_id = t AND e.name = nm AND e.occurred_at >= f AND e.occurred_at < u
$$;
CREATE FUNCTION pg_temp.check_sum(t uuid, nm text, p text, f timestamptz, u timestamptz, g text)
RETURNS TABLE (groups bigint, total text, non_numeric numeric, differences bigint) LANGUAGE sql AS $$
    WITH fn AS (SELECT * FROM telemetry.property_sum(t, nm, p, f, u, g)),
    ref AS (
        SELECT v.group_value, coalesce(sum(v.value * v.weight), 0) AS total,
               coalesce(sum(v.weight) FILTER (WHERE v.value IS NOT NULL), 0) AS events,
               count(*) FILTER (WHERE v.value IS NULL) AS non_numeric
        FROM pg_temp.ref_values(t, nm, string_to_array(p, '+'), f, u, g) v GROUP BY 1)
    -- A total holding a 1e400 (a JSON number, summed) is shown by its size.
    SELECT (SELECT count(*) FROM fn),
           (SELECT CASE WHEN sum(fn.total) < 1e15 THEN sum(fn.total)::text ELSE 'about 1e' || floor(log(sum(fn.total))) END FROM fn),
           (SELECT sum(fn.non_numeric) FROM fn),
           (SELECT count(*) FROM ((SELECT * FROM fn EXCEPT ALL SELECT * FROM ref)
                                  UNION ALL (SELECT * FROM ref EXCEPT ALL SELECT * FROM fn)) x)
$$;
CREATE FUNCTION pg_temp.check_stats(t uuid, nm text, p text, f timestamptz, u timestamptz, g text)
RETURNS TABLE (groups bigint, events numeric, non_numeric numeric, differences bigint) LANGUAGE sql AS $$
    WITH fn AS (SELECT * FROM telemetry.property_stats(t, nm, p, f, u, g)),
    vals AS (
        SELECT v.group_value, v.weight, CASE WHEN abs(v.value) < 1e308 THEN v.value END AS value
        FROM pg_temp.ref_values(t, nm, string_to_array(p, '+'), f, u, g) v),
    ref AS (
        SELECT v.group_value, coalesce(sum(v.weight) FILTER (WHERE v.value IS NOT NULL), 0) AS events,
               (sum(v.value * v.weight) / sum(v.weight) FILTER (WHERE v.value IS NOT NULL))::float8 AS avg,
               min(v.value)::float8 AS min, max(v.value)::float8 AS max,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY v.value::float8) AS median,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY v.value::float8) AS p95,
               count(*) FILTER (WHERE v.value IS NULL) AS non_numeric
        FROM vals v GROUP BY 1)
    SELECT (SELECT count(*) FROM fn), (SELECT sum(fn.events) FROM fn), (SELECT sum(fn.non_numeric) FROM fn),
           (SELECT count(*) FROM ((SELECT * FROM fn EXCEPT ALL SELECT * FROM ref)
                                  UNION ALL (SELECT * FROM ref EXCEPT ALL SELECT * FROM fn)) x)
$$;
-- (The column total shows property_sum()'s total, and property_stats()'s events.)
SELECT x.label, 'sum' AS fn, r.*
FROM (VALUES
    ('a, tokens by scenario', :a::uuid, 'llm_call', 'inputTokens+outputTokens', :'d0'::timestamptz, :'d0'::timestamptz + interval '2 days', 'scenario'),
    ('a, tokens', :a, 'llm_call', 'inputTokens+outputTokens', :'d0'::timestamptz, :'d0'::timestamptz + interval '2 days', NULL),
    ('a, input by scenario', :a, 'llm_call', 'inputTokens', :'d0'::timestamptz, :'d0'::timestamptz + interval '2 days', 'scenario'),
    ('a, 3 terms, cut', :a, 'llm_call', 'inputTokens+outputTokens+durationMs', :'d0'::timestamptz + interval '5 hours', :'d0'::timestamptz + interval '1 day', 'scenario'),
    ('a, same term twice', :a, 'llm_call', 'outputTokens+outputTokens', :'d0'::timestamptz, :'d0'::timestamptz + interval '2 days', NULL),
    ('a, by a property never set', :a, 'llm_call', 'durationMs', :'d0'::timestamptz, :'d0'::timestamptz + interval '2 days', 'tenantPlan'),
    ('a, other type', :a, 'other', 'inputTokens', :'d0'::timestamptz, :'d0'::timestamptz + interval '2 days', 'scenario'),
    ('b, tokens by scenario', :b, 'llm_call', 'inputTokens+outputTokens', :'d0'::timestamptz, :'d0'::timestamptz + interval '2 days', 'scenario'),
    ('c, no events', :c, 'llm_call', 'inputTokens', :'d0'::timestamptz, :'d0'::timestamptz + interval '2 days', 'scenario'),
    ('a, empty range', :a, 'llm_call', 'inputTokens', :'d0'::timestamptz, :'d0'::timestamptz, NULL),
    ('a, unknown type', :a, 'never_seen', 'inputTokens', :'d0'::timestamptz, :'d0'::timestamptz + interval '2 days', NULL)
) AS x(label, t, nm, p, f, u, g)
CROSS JOIN LATERAL pg_temp.check_sum(x.t, x.nm, x.p, x.f, x.u, x.g) r
UNION ALL
SELECT x.label, 'stats', r.groups, r.events::text, r.non_numeric, r.differences
FROM (VALUES
    ('a, duration by scenario', :a::uuid, 'llm_call', 'durationMs', :'d0'::timestamptz, :'d0'::timestamptz + interval '2 days', 'scenario'),
    ('a, duration', :a, 'llm_call', 'durationMs', :'d0'::timestamptz, :'d0'::timestamptz + interval '2 days', NULL),
    ('a, tokens by scenario, cut', :a, 'llm_call', 'inputTokens+outputTokens', :'d0'::timestamptz + interval '5 hours', :'d0'::timestamptz + interval '1 day', 'scenario'),
    ('b, duration by scenario', :b, 'llm_call', 'durationMs', :'d0'::timestamptz, :'d0'::timestamptz + interval '2 days', 'scenario'),
    ('c, no events', :c, 'llm_call', 'durationMs', :'d0'::timestamptz, :'d0'::timestamptz + interval '2 days', NULL),
    ('a, empty range', :a, 'llm_call', 'durationMs', :'d0'::timestamptz, :'d0'::timestamptz, NULL)
) AS x(label, t, nm, p, f, u, g)
CROSS JOIN LATERAL pg_temp.check_stats(x.t, x.nm, x.p, x.f, x.u, x.g) r;

-- What the answers look like, on a few events of tenant c (weights and values chosen to check by
-- hand): support 100 + 20 (weight 1), 10 + 5 (weight 4), "7" + 1 (a string: skipped); sales
-- 3 + 4 (weight 2); (none) 1 + 1 and one without outputTokens (skipped).
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, source, schema_version, properties, sample_weight)
VALUES (:'d0'::timestamptz + interval '1 hour', now(), :c, gen_random_uuid(), 'llm_call', 'u', 'server', '1-0-0',
        '{"scenario": "support", "inputTokens": 100, "outputTokens": 20, "durationMs": 1000}', 1),
       (:'d0'::timestamptz + interval '2 hours', now(), :c, gen_random_uuid(), 'llm_call', 'u', 'server', '1-0-0',
        '{"scenario": "support", "inputTokens": 10, "outputTokens": 5, "durationMs": 3000}', 4),
       (:'d0'::timestamptz + interval '3 hours', now(), :c, gen_random_uuid(), 'llm_call', 'u', 'server', '1-0-0',
        '{"scenario": "support", "inputTokens": "7", "outputTokens": 1, "durationMs": 2000}', 1),
       (:'d0'::timestamptz + interval '4 hours', now(), :c, gen_random_uuid(), 'llm_call', 'u', 'server', '1-0-0',
        '{"scenario": "sales", "inputTokens": 3, "outputTokens": 4, "durationMs": 500.5}', 2),
       (:'d0'::timestamptz + interval '5 hours', now(), :c, gen_random_uuid(), 'llm_call', 'u', 'server', '1-0-0',
        '{"inputTokens": 1, "outputTokens": 1}', 1),
       (:'d0'::timestamptz + interval '6 hours', now(), :c, gen_random_uuid(), 'llm_call', 'u', 'server', '1-0-0',
        '{"scenario": null, "inputTokens": 1, "durationMs": 10}', 1);
SELECT * FROM telemetry.property_sum(:c, 'llm_call', 'inputTokens+outputTokens', :'d0', :'d0'::timestamptz + interval '1 day', 'scenario');
SELECT * FROM telemetry.property_sum(:c, 'llm_call', 'inputTokens+outputTokens', :'d0', :'d0'::timestamptz + interval '1 day');
SELECT * FROM telemetry.property_stats(:c, 'llm_call', 'durationMs', :'d0', :'d0'::timestamptz + interval '1 day', 'scenario');
SELECT * FROM telemetry.property_stats(:c, 'llm_call', 'durationMs', :'d0', :'d0'::timestamptz + interval '1 day');
DELETE FROM telemetry.events WHERE tenant_id = :c;

-- A property name is a value, never SQL: a name that would break out of a quoted string is
-- refused by its rule, and a property named like SQL is only a key.
INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, name, user_id, source, schema_version, properties)
VALUES (:'d0'::timestamptz + interval '1 hour', now(), :a, gen_random_uuid(), 'keys', 'u', 'server', '1-0-0',
        '{"select": 5, "from": 6, "x''y": 7}');
SELECT * FROM telemetry.property_sum(:a, 'keys', 'select+from', :'d0', :'d0'::timestamptz + interval '1 day', 'from');

-- A reader of tenant a: the same results as the superuser's for a (row-level security applies,
-- and no row of b counts), and 42501 for b and c. The read level grants EXECUTE.
CREATE FUNCTION pg_temp.results_of(t uuid)
RETURNS TABLE (call text, result jsonb) LANGUAGE sql AS $$
    SELECT 'property_sum', jsonb_agg(f) FROM telemetry.property_sum(t, 'llm_call', 'inputTokens+outputTokens',
                                                                     current_setting('test.d0')::timestamptz,
                                                                     current_setting('test.d0')::timestamptz + interval '2 days', 'scenario') f
    UNION ALL
    SELECT 'property_stats', jsonb_agg(f) FROM telemetry.property_stats(t, 'llm_call', 'durationMs',
                                                                         current_setting('test.d0')::timestamptz,
                                                                         current_setting('test.d0')::timestamptz + interval '2 days', 'scenario') f
$$;
SELECT set_config('test.d0', :'d0', false) IS NOT NULL AS clock_set;
CREATE TEMP TABLE superuser_results AS SELECT * FROM pg_temp.results_of(:a);
SELECT call, jsonb_array_length(result) AS result_rows FROM superuser_results ORDER BY call COLLATE "C";
CREATE ROLE properties_reader;
SELECT telemetry.grant_tenant_access('properties_reader', :a, 'read');
GRANT SELECT ON superuser_results TO properties_reader;
CREATE FUNCTION pg_temp.error_of(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END
$$;
SET ROLE properties_reader;
SELECT s.call, s.result = r.result AS same_as_superuser
FROM superuser_results s FULL JOIN pg_temp.results_of(:a) r USING (call) ORDER BY call COLLATE "C";
SELECT count(*) AS rows_of_b_seen FROM telemetry.events WHERE tenant_id = :b;
SELECT t.tenant, v.call, pg_temp.error_of(format('SELECT * FROM telemetry.%s', format(v.call, t.id))) AS error
FROM (VALUES ('property_sum(%L, ''llm_call'', ''inputTokens'', now() - interval ''1 day'', now())'),
             ('property_stats(%L, ''llm_call'', ''durationMs'', now() - interval ''1 day'', now())')) AS v(call),
     (VALUES ('b', :b::uuid), ('c', :c::uuid)) AS t(tenant, id)
ORDER BY t.tenant, v.call COLLATE "C";
RESET ROLE;
REVOKE SELECT ON superuser_results FROM properties_reader;
SELECT telemetry.revoke_tenant_access('properties_reader', :a, 'read');
DROP ROLE properties_reader;

-- Bad arguments, with their SQLSTATEs.
SELECT v.call, pg_temp.error_of('SELECT * FROM telemetry.' || v.call) AS error
FROM (VALUES
    ($$property_sum(NULL, 'llm_call', 'inputTokens', now() - interval '1 day', now())$$),
    ($$property_sum('aaaaaaaa-0000-4000-8000-000000000001', NULL, 'inputTokens', now() - interval '1 day', now())$$),
    ($$property_sum('aaaaaaaa-0000-4000-8000-000000000001', 'llm_call', 'inputTokens', now(), now() - interval '1 day')$$),
    ($$property_sum('aaaaaaaa-0000-4000-8000-000000000001', 'llm_call', 'inputTokens', NULL, now())$$),
    ($$property_sum('aaaaaaaa-0000-4000-8000-000000000001', 'llm_call', 'inputTokens', now() - interval '1 day', 'infinity')$$),
    ($$property_sum('aaaaaaaa-0000-4000-8000-000000000001', 'llm_call', NULL, now() - interval '1 day', now())$$),
    ($$property_sum('aaaaaaaa-0000-4000-8000-000000000001', 'llm_call', '', now() - interval '1 day', now())$$),
    ($$property_sum('aaaaaaaa-0000-4000-8000-000000000001', 'llm_call', 'inputTokens+', now() - interval '1 day', now())$$),
    ($$property_sum('aaaaaaaa-0000-4000-8000-000000000001', 'llm_call', 'input Tokens', now() - interval '1 day', now())$$),
    ($$property_sum('aaaaaaaa-0000-4000-8000-000000000001', 'llm_call', 'a.b', now() - interval '1 day', now())$$),
    ($$property_sum('aaaaaaaa-0000-4000-8000-000000000001', 'llm_call', 'x''y', now() - interval '1 day', now())$$),
    ($$property_sum('aaaaaaaa-0000-4000-8000-000000000001', 'llm_call', 'a+b+c+d+e+f+g+h', now() - interval '1 day', now())$$),
    ($$property_sum('aaaaaaaa-0000-4000-8000-000000000001', 'llm_call', 'a+b+c+d+e+f+g+h+i', now() - interval '1 day', now())$$),
    ($$property_sum('aaaaaaaa-0000-4000-8000-000000000001', 'llm_call', 'inputTokens', now() - interval '1 day', now(), '')$$),
    ($$property_sum('aaaaaaaa-0000-4000-8000-000000000001', 'llm_call', 'inputTokens', now() - interval '1 day', now(), 'a+b')$$),
    ($$property_sum('aaaaaaaa-0000-4000-8000-000000000001', 'llm_call', 'inputTokens', now() - interval '1 day', now(), 'scenario''--')$$),
    ($$property_stats(NULL, 'llm_call', 'durationMs', now() - interval '1 day', now())$$),
    ($$property_stats('aaaaaaaa-0000-4000-8000-000000000001', NULL, 'durationMs', now() - interval '1 day', now())$$),
    ($$property_stats('aaaaaaaa-0000-4000-8000-000000000001', 'llm_call', 'durationMs', now(), now() - interval '1 day')$$),
    ($$property_stats('aaaaaaaa-0000-4000-8000-000000000001', 'llm_call', 'durationMs', '-infinity', now())$$),
    ($$property_stats('aaaaaaaa-0000-4000-8000-000000000001', 'llm_call', 'durationMs', now(), NULL)$$),
    ($$property_stats('aaaaaaaa-0000-4000-8000-000000000001', 'llm_call', NULL, now() - interval '1 day', now())$$),
    ($$property_stats('aaaaaaaa-0000-4000-8000-000000000001', 'llm_call', 'duration-ms', now() - interval '1 day', now())$$),
    ($$property_stats('aaaaaaaa-0000-4000-8000-000000000001', 'llm_call', 'a+b+c+d+e+f+g+h+i', now() - interval '1 day', now())$$),
    ($$property_stats('aaaaaaaa-0000-4000-8000-000000000001', 'llm_call', 'durationMs', now() - interval '1 day', now(), 'a b')$$)
) AS v(call);
