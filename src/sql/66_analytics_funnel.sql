-- Funnels (docs/analytics.md, FUNNELS.md F1-F17): telemetry.funnel() checks and shapes its
-- arguments, then the engine (src/pg/analytics/funnel_functions, src/core/analytics/funnel)
-- reads each actor's events once, as the caller (row-level security applies).

CREATE FUNCTION telemetry.funnel_engine(
    tenant_id uuid, "from" timestamptz, "to" timestamptz, conversion_window interval,
    step_names text[], step_wheres jsonb[], exclusion_names text[], exclusion_wheres jsonb[],
    exclusion_from integer[], exclusion_to integer[], mode text, unit text, breakdown text, now timestamptz)
RETURNS TABLE (step integer, breakdown_value text, actors float8, in_progress float8,
               median_seconds float8, avg_seconds float8)
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'telemetry_funnel_engine';
COMMENT ON FUNCTION telemetry.funnel_engine(uuid, timestamptz, timestamptz, interval, text[], jsonb[], text[], jsonb[], integer[], integer[], text, text, text, timestamptz) IS
    'Internal, for telemetry.funnel(), which checks its arguments: the weighted actors, actors in progress and times between steps per breakdown value and step. 42501 for a tenant the caller may not read.';

CREATE FUNCTION telemetry.funnel(
    tenant_id         uuid,
    steps             jsonb,
    "from"            timestamptz,
    "to"              timestamptz,
    conversion_window interval    DEFAULT '14 days',
    mode              text        DEFAULT 'ordered',
    unit              text        DEFAULT 'user',
    exclusions        jsonb       DEFAULT NULL,
    breakdown         text        DEFAULT NULL,
    now               timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (step integer, name text, breakdown_value text, actors bigint,
               conversion_from_first numeric, conversion_from_previous numeric,
               median_seconds_from_previous float8, avg_seconds_from_previous float8, in_progress bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    names text[] := '{}';
    wheres jsonb[] := '{}';
    x_names text[] := '{}';
    x_wheres jsonb[] := '{}';
    x_from integer[] := '{}';
    x_to integer[] := '{}';
    item jsonb;
    i integer;
    n integer;
BEGIN
    IF tenant_id IS NULL THEN
        RAISE EXCEPTION 'tenant_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    PERFORM telemetry.require_tenant_access(tenant_id, 'read');
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to")
       OR "from" OPERATOR(pg_catalog.>=) "to" THEN
        RAISE EXCEPTION 'the range must be finite with "from" before "to"' USING ERRCODE = '22023';
    END IF;
    IF conversion_window IS NULL OR conversion_window OPERATOR(pg_catalog.<=) interval '0' THEN
        RAISE EXCEPTION 'conversion_window must be positive' USING ERRCODE = '22023';
    END IF;
    IF mode IS NULL OR NOT mode OPERATOR(pg_catalog.=) ANY (ARRAY['ordered', 'strict', 'any']) THEN
        RAISE EXCEPTION 'unknown funnel mode' USING ERRCODE = '22023', HINT = 'ordered, strict or any';
    END IF;
    IF unit IS NULL OR NOT unit OPERATOR(pg_catalog.=) ANY (ARRAY['user', 'session']) THEN
        RAISE EXCEPTION 'unknown funnel unit' USING ERRCODE = '22023', HINT = 'user or session';
    END IF;
    IF now IS NULL OR NOT pg_catalog.isfinite(now) THEN
        RAISE EXCEPTION 'now must be a finite timestamp' USING ERRCODE = '22008';
    END IF;
    IF steps IS NULL OR pg_catalog.jsonb_typeof(steps) OPERATOR(pg_catalog.<>) 'array' THEN
        RAISE EXCEPTION 'steps must be a JSON array' USING ERRCODE = '22023';
    END IF;
    n := pg_catalog.jsonb_array_length(steps);
    IF n OPERATOR(pg_catalog.<) 2 OR n OPERATOR(pg_catalog.>) 32 THEN
        RAISE EXCEPTION 'a funnel has 2 to 32 steps' USING ERRCODE = '22023';
    END IF;
    FOR i IN 0 .. n OPERATOR(pg_catalog.-) 1 LOOP
        item := steps OPERATOR(pg_catalog.->) i;
        IF pg_catalog.jsonb_typeof(item) OPERATOR(pg_catalog.=) 'string' THEN
            names := names OPERATOR(pg_catalog.||) (item OPERATOR(pg_catalog.#>>) '{}'::text[]);
            wheres := wheres OPERATOR(pg_catalog.||) '{}'::jsonb;
        ELSIF pg_catalog.jsonb_typeof(item) OPERATOR(pg_catalog.=) 'object'
              AND pg_catalog.jsonb_typeof(item OPERATOR(pg_catalog.->) 'event') OPERATOR(pg_catalog.=) 'string'
              AND coalesce(pg_catalog.jsonb_typeof(item OPERATOR(pg_catalog.->) 'where'), 'object') OPERATOR(pg_catalog.=) 'object'
              AND NOT EXISTS (SELECT FROM pg_catalog.jsonb_object_keys(item) k
                              WHERE NOT k OPERATOR(pg_catalog.=) ANY (ARRAY['event', 'where'])) THEN
            names := names OPERATOR(pg_catalog.||) (item OPERATOR(pg_catalog.->>) 'event');
            wheres := wheres OPERATOR(pg_catalog.||) coalesce(item OPERATOR(pg_catalog.->) 'where', '{}'::jsonb);
        ELSE
            RAISE EXCEPTION 'funnel step $[%] must be an event name or {"event": name, "where": {property: value, ...}}', i
                USING ERRCODE = '22023';
        END IF;
    END LOOP;
    IF exclusions IS NOT NULL AND pg_catalog.jsonb_typeof(exclusions) OPERATOR(pg_catalog.<>) 'null' THEN
        IF pg_catalog.jsonb_typeof(exclusions) OPERATOR(pg_catalog.<>) 'array' THEN
            RAISE EXCEPTION 'exclusions must be a JSON array' USING ERRCODE = '22023';
        END IF;
        IF mode OPERATOR(pg_catalog.=) 'any' AND pg_catalog.jsonb_array_length(exclusions) OPERATOR(pg_catalog.>) 0 THEN
            RAISE EXCEPTION 'exclusions apply to ordered and strict funnels' USING ERRCODE = '22023';
        END IF;
        IF pg_catalog.jsonb_array_length(exclusions) OPERATOR(pg_catalog.>) 32 THEN
            RAISE EXCEPTION 'a funnel has at most 32 exclusions' USING ERRCODE = '22023';
        END IF;
        FOR i IN 0 .. pg_catalog.jsonb_array_length(exclusions) OPERATOR(pg_catalog.-) 1 LOOP
            item := exclusions OPERATOR(pg_catalog.->) i;
            IF pg_catalog.jsonb_typeof(item) OPERATOR(pg_catalog.<>) 'object'
               OR pg_catalog.jsonb_typeof(item OPERATOR(pg_catalog.->) 'event') IS DISTINCT FROM 'string'
               OR pg_catalog.jsonb_typeof(item OPERATOR(pg_catalog.->) 'from') IS DISTINCT FROM 'number'
               OR pg_catalog.jsonb_typeof(item OPERATOR(pg_catalog.->) 'to') IS DISTINCT FROM 'number'
               OR coalesce(pg_catalog.jsonb_typeof(item OPERATOR(pg_catalog.->) 'where'), 'object') OPERATOR(pg_catalog.<>) 'object'
               OR (item OPERATOR(pg_catalog.->>) 'from') !~ '^[0-9]{1,2}$' OR (item OPERATOR(pg_catalog.->>) 'to') !~ '^[0-9]{1,2}$'
               OR (item OPERATOR(pg_catalog.->>) 'from')::integer OPERATOR(pg_catalog.<) 1
               OR (item OPERATOR(pg_catalog.->>) 'to')::integer OPERATOR(pg_catalog.>) n
               OR (item OPERATOR(pg_catalog.->>) 'from')::integer OPERATOR(pg_catalog.>=) (item OPERATOR(pg_catalog.->>) 'to')::integer THEN
                RAISE EXCEPTION 'funnel exclusion $[%] must be {"event": name, "from": k, "to": m} with 1 <= k < m <= %', i, n
                    USING ERRCODE = '22023';
            END IF;
            x_names := x_names OPERATOR(pg_catalog.||) (item OPERATOR(pg_catalog.->>) 'event');
            x_wheres := x_wheres OPERATOR(pg_catalog.||) coalesce(item OPERATOR(pg_catalog.->) 'where', '{}'::jsonb);
            x_from := x_from OPERATOR(pg_catalog.||) (item OPERATOR(pg_catalog.->>) 'from')::integer;
            x_to := x_to OPERATOR(pg_catalog.||) (item OPERATOR(pg_catalog.->>) 'to')::integer;
        END LOOP;
    END IF;
    IF breakdown IS NOT NULL AND breakdown OPERATOR(pg_catalog.=) '' THEN
        RAISE EXCEPTION 'breakdown must name a property' USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
    WITH totals AS (
        SELECT * FROM telemetry.funnel_engine(tenant_id, "from", "to", conversion_window, names, wheres, x_names, x_wheres,
                                              x_from, x_to, mode, unit, breakdown, now)),
    -- Without a breakdown, every step appears, with 0 actors when nobody entered.
    cells AS (
        SELECT s.k AS step, b.value AS breakdown_value
        FROM pg_catalog.generate_series(1, n) AS s(k)
        CROSS JOIN (SELECT DISTINCT t.breakdown_value AS value FROM totals t
                    UNION SELECT NULL::text WHERE breakdown IS NULL) AS b),
    filled AS (
        SELECT c.step, c.breakdown_value, coalesce(t.actors, 0) AS actors, coalesce(t.in_progress, 0) AS in_progress,
               t.median_seconds, t.avg_seconds
        FROM cells c LEFT JOIN totals t
          ON t.step OPERATOR(pg_catalog.=) c.step AND t.breakdown_value IS NOT DISTINCT FROM c.breakdown_value)
    SELECT f.step, names[f.step],
           CASE WHEN breakdown IS NOT NULL THEN coalesce(f.breakdown_value, '(none)') END,
           pg_catalog.round(f.actors)::bigint,
           CASE WHEN pg_catalog.first_value(f.actors) OVER w OPERATOR(pg_catalog.>) 0
                THEN pg_catalog.round((f.actors OPERATOR(pg_catalog./) pg_catalog.first_value(f.actors) OVER w)::numeric, 4) END,
           CASE WHEN f.step OPERATOR(pg_catalog.=) 1 THEN CASE WHEN f.actors OPERATOR(pg_catalog.>) 0 THEN 1.0000 END
                WHEN pg_catalog.lag(f.actors) OVER w OPERATOR(pg_catalog.>) 0
                THEN pg_catalog.round((f.actors OPERATOR(pg_catalog./) pg_catalog.lag(f.actors) OVER w)::numeric, 4) END,
           f.median_seconds, f.avg_seconds, pg_catalog.round(f.in_progress)::bigint
    FROM filled f
    WINDOW w AS (PARTITION BY f.breakdown_value ORDER BY f.step)
    ORDER BY f.breakdown_value NULLS FIRST, f.step;
END
$$;
COMMENT ON FUNCTION telemetry.funnel(uuid, jsonb, timestamptz, timestamptz, interval, text, text, jsonb, text, timestamptz) IS
    'A conversion funnel by the rules of FUNNELS.md F1-F17 (docs/analytics.md): steps, a JSON array of 2 to 32 steps, each an event name or {"event": name, "where": {property: value, ...}} (the properties must contain those values); the actors (unit user: user_id; session: session_id) entering step 1 in ["from", "to"), each step within conversion_window of step 1 (not after now); mode ordered, strict or any; exclusions [{"event": name, "from": k, "to": m, "where": {...}}] (ordered and strict); breakdown: a top-level property, the first non-null value among the actor''s step events, (none) when there is none. One row per (breakdown value and) step: actors (weighted by the inverse sampling rate of their entry event, rounded), conversion_from_first and conversion_from_previous (fractions, 4 decimals), median and average seconds from the previous step, in_progress (not converted with the window still open). Errors: NULL tenant (22004); no read access (42501); a bad range, window, mode, unit, step or exclusion (22023, naming the JSON path); now not finite (22008).';

-- window_funnel(): funnel()'s ordered rules as an aggregate, for an analyst's own GROUP BY.
CREATE FUNCTION telemetry.window_funnel_transition(internal, interval, timestamptz, VARIADIC boolean[])
RETURNS internal
LANGUAGE c CALLED ON NULL INPUT
AS 'MODULE_PATHNAME', 'telemetry_window_funnel_transition';
COMMENT ON FUNCTION telemetry.window_funnel_transition(internal, interval, timestamptz, boolean[]) IS
    'Internal: the transition function of telemetry.window_funnel().';
CREATE FUNCTION telemetry.window_funnel_final(internal)
RETURNS integer
LANGUAGE c
AS 'MODULE_PATHNAME', 'telemetry_window_funnel_final';
COMMENT ON FUNCTION telemetry.window_funnel_final(internal) IS
    'Internal: the final function of telemetry.window_funnel().';
CREATE AGGREGATE telemetry.window_funnel(interval, timestamptz, VARIADIC boolean[]) (
    SFUNC = telemetry.window_funnel_transition,
    STYPE = internal,
    FINALFUNC = telemetry.window_funnel_final
);
COMMENT ON AGGREGATE telemetry.window_funnel(interval, timestamptz, boolean[]) IS
    'The furthest step a group of rows reaches, by funnel()''s ordered rules (FUNNELS.md F2-F7, F10; ClickHouse''s windowFunnel idea): window (positive), the row''s time, then one condition per step (1 to 32, the same number on every row), true where the row fills that step. The step-1 condition bounds entry (put the range there, F12). Ties of time are broken by the order rows arrive: order them by time then id (ORDER BY inside the call) to follow F2 exactly. 0 when no row fills step 1. Errors: window not positive, or a number of conditions outside 1..32 or differing between rows (22023); NULL window or conditions (22004).';

-- Rates (FUNNELS.md, "Rates named rate"): a 2-step ordered funnel per actor, with the funnel's
-- rules and default window; the plain ratio of event counts beside it, named a ratio (it can
-- exceed 1).
CREATE FUNCTION telemetry.conversion_rate(
    tenant_id         uuid,
    from_event        jsonb,
    to_event          jsonb,
    "from"            timestamptz,
    "to"              timestamptz,
    conversion_window interval    DEFAULT '14 days',
    now               timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (actors bigint, converted bigint, rate numeric, from_events numeric, to_events numeric, event_ratio numeric)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH f AS (
        SELECT * FROM telemetry.funnel(tenant_id, pg_catalog.jsonb_build_array(from_event, to_event), "from", "to",
                                       conversion_window, 'ordered', 'user', NULL, NULL, now)),
    -- The steps as funnel() read them (it checked them): a name, or {"event": ..., "where": ...}.
    steps AS (
        SELECT k, CASE WHEN pg_catalog.jsonb_typeof(s) OPERATOR(pg_catalog.=) 'string' THEN s OPERATOR(pg_catalog.#>>) '{}'
                       ELSE s OPERATOR(pg_catalog.->>) 'event' END AS name,
               coalesce(s OPERATOR(pg_catalog.->) 'where', '{}'::jsonb) AS condition
        FROM (VALUES (1, from_event), (2, to_event)) AS x(k, s)),
    -- A step without conditions is counted by event_counts() (whole UTC days from the
    -- rollups); one with conditions from the raw events.
    counts AS (
        SELECT s.k, coalesce(pg_catalog.sum(e.sample_weight::pg_catalog.numeric), 0) AS events
        FROM steps s LEFT JOIN telemetry.events e
          ON e.tenant_id OPERATOR(pg_catalog.=) conversion_rate.tenant_id AND e.name OPERATOR(pg_catalog.=) s.name
         AND e.properties OPERATOR(pg_catalog.@>) s.condition
         AND e.occurred_at OPERATOR(pg_catalog.>=) "from" AND e.occurred_at OPERATOR(pg_catalog.<) "to"
        WHERE s.condition OPERATOR(pg_catalog.<>) '{}'::jsonb
        GROUP BY s.k
        UNION ALL
        SELECT s.k, (SELECT coalesce(pg_catalog.sum(c.events), 0)
                     FROM telemetry.event_counts(conversion_rate.tenant_id, "from", "to", 'day', ARRAY[s.name], 'UTC') c)
        FROM steps s
        WHERE s.condition OPERATOR(pg_catalog.=) '{}'::jsonb)
    SELECT (SELECT f.actors FROM f WHERE f.step OPERATOR(pg_catalog.=) 1),
           (SELECT f.actors FROM f WHERE f.step OPERATOR(pg_catalog.=) 2),
           (SELECT f.conversion_from_first FROM f WHERE f.step OPERATOR(pg_catalog.=) 2),
           (SELECT c.events FROM counts c WHERE c.k OPERATOR(pg_catalog.=) 1),
           (SELECT c.events FROM counts c WHERE c.k OPERATOR(pg_catalog.=) 2),
           (SELECT CASE WHEN a.events OPERATOR(pg_catalog.>) 0
                        THEN pg_catalog.round(b.events OPERATOR(pg_catalog./) a.events, 4) END
            FROM counts a, counts b WHERE a.k OPERATOR(pg_catalog.=) 1 AND b.k OPERATOR(pg_catalog.=) 2)
$$;
COMMENT ON FUNCTION telemetry.conversion_rate(uuid, jsonb, jsonb, timestamptz, timestamptz, interval, timestamptz) IS
    'The share of actors who, after from_event, did to_event within conversion_window (a 2-step ordered funnel, FUNNELS.md F1-F17: entry in ["from", "to"), default window 14 days): actors (entered), converted, rate (converted / actors, 4 decimals, never above 1; NULL when nobody entered); and, named as such, the plain event counts in the range (from_events, to_events, weighted by sampling) and their event_ratio, which can exceed 1. Events as funnel() steps take them: a name or {"event": name, "where": {...}}. Errors: those of funnel() (22004, 42501, 22023, 22008).';

CREATE FUNCTION telemetry.completion_rate(
    tenant_id         uuid,
    "from"            timestamptz,
    "to"              timestamptz,
    conversion_window interval    DEFAULT '14 days',
    now               timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (actors bigint, converted bigint, rate numeric, from_events numeric, to_events numeric, event_ratio numeric)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM telemetry.conversion_rate(tenant_id, '"conversation_started"',
                                            '{"event": "conversation_ended", "where": {"reason": "completed"}}',
                                            "from", "to", conversion_window, now)
$$;
COMMENT ON FUNCTION telemetry.completion_rate(uuid, timestamptz, timestamptz, interval, timestamptz) IS
    'The design documents'' completion rate: conversion_rate() from conversation_started to conversation_ended with reason completed (same columns, rules and errors).';

CREATE FUNCTION telemetry.escalation_rate(
    tenant_id         uuid,
    "from"            timestamptz,
    "to"              timestamptz,
    conversion_window interval    DEFAULT '14 days',
    now               timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (actors bigint, converted bigint, rate numeric, from_events numeric, to_events numeric, event_ratio numeric)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM telemetry.conversion_rate(tenant_id, '"conversation_started"', '"escalation_triggered"',
                                            "from", "to", conversion_window, now)
$$;
COMMENT ON FUNCTION telemetry.escalation_rate(uuid, timestamptz, timestamptz, interval, timestamptz) IS
    'The design documents'' escalation rate: conversion_rate() from conversation_started to escalation_triggered (same columns, rules and errors).';
