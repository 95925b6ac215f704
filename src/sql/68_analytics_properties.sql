-- Numeric properties (docs/analytics.md, issue 11 item 8): property_sum() (token usage by
-- scenario) and property_stats() (durationMs), in PL/pgSQL.
--
-- All run as the caller (SECURITY INVOKER) and STABLE: row-level security on events applies,
-- every statement sees the snapshot of the calling query, and each first asks
-- telemetry.require_tenant_access(tenant_id, 'read') (42501; 22004 for NULL). Nothing the caller
-- gives is put into SQL text: property names are values, used with the jsonb operators.

-- The terms of a value path: 1 to 8 top-level property names joined by '+'.
CREATE FUNCTION telemetry.property_path_terms(value_path text)
RETURNS text[]
LANGUAGE plpgsql IMMUTABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    terms text[];
BEGIN
    IF value_path IS NULL THEN
        RAISE EXCEPTION 'value_path must name a property' USING ERRCODE = '22023';
    END IF;
    terms := pg_catalog.string_to_array(value_path, '+');
    IF pg_catalog.cardinality(terms) OPERATOR(pg_catalog.>) 8 THEN
        RAISE EXCEPTION 'value_path adds % properties, more than 8', pg_catalog.cardinality(terms)
            USING ERRCODE = '22023';
    END IF;
    -- '' is no term at all (string_to_array gives none), not one empty name.
    IF pg_catalog.cardinality(terms) OPERATOR(pg_catalog.=) 0
       OR EXISTS (SELECT FROM pg_catalog.unnest(terms) AS t(term)
               WHERE t.term IS NULL OR t.term OPERATOR(pg_catalog.!~) '^[A-Za-z0-9_]+$') THEN
        RAISE EXCEPTION 'value_path must be property names of [A-Za-z0-9_]+ joined by +'
            USING ERRCODE = '22023', HINT = 'For example durationMs or inputTokens+outputTokens.';
    END IF;
    RETURN terms;
END
$$;
COMMENT ON FUNCTION telemetry.property_path_terms(text) IS
    'Internal, for property_sum() and property_stats(): the property names of a value path, a top-level property name or a sum of 2 to 8 of them joined by + (inputTokens+outputTokens), each of [A-Za-z0-9_]+ (no spaces). Errors: value_path NULL, more than 8 terms, a term empty or of other characters (22023).';

CREATE FUNCTION telemetry.property_sum(tenant_id uuid, name text, value_path text, "from" timestamptz, "to" timestamptz,
                                       group_path text DEFAULT NULL)
RETURNS TABLE (group_value text, total numeric, events numeric, non_numeric bigint)
LANGUAGE plpgsql STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    terms text[];
BEGIN
    PERFORM telemetry.require_tenant_access(property_sum.tenant_id, 'read');
    IF property_sum.name IS NULL THEN
        RAISE EXCEPTION 'name must name an event type' USING ERRCODE = '22004';
    END IF;
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to") THEN
        RAISE EXCEPTION '"from" and "to" must be finite timestamps' USING ERRCODE = '22023';
    END IF;
    IF "from" OPERATOR(pg_catalog.>) "to" THEN
        RAISE EXCEPTION '"from" must not be after "to"' USING ERRCODE = '22023';
    END IF;
    terms := telemetry.property_path_terms(property_sum.value_path);
    IF property_sum.group_path IS NOT NULL AND property_sum.group_path OPERATOR(pg_catalog.!~) '^[A-Za-z0-9_]+$' THEN
        RAISE EXCEPTION 'group_path must be a property name of [A-Za-z0-9_]+' USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
    WITH valued AS (
        -- Each event's value: the sum of its terms when every one is a JSON number, else NULL.
        SELECT CASE WHEN property_sum.group_path IS NULL THEN NULL::text
                    ELSE coalesce(e.properties OPERATOR(pg_catalog.->>) property_sum.group_path, '(none)') END AS group_value,
               e.sample_weight::pg_catalog.numeric AS weight, v.value
        FROM telemetry.events e
        CROSS JOIN LATERAL (
            SELECT CASE WHEN pg_catalog.bool_and(pg_catalog.jsonb_typeof(e.properties OPERATOR(pg_catalog.->) t.term)
                                                 IS NOT DISTINCT FROM 'number')
                        THEN pg_catalog.sum(CASE WHEN pg_catalog.jsonb_typeof(e.properties OPERATOR(pg_catalog.->) t.term)
                                                      OPERATOR(pg_catalog.=) 'number'
                                                 THEN (e.properties OPERATOR(pg_catalog.->) t.term)::pg_catalog.numeric END)
                   END AS value
            FROM pg_catalog.unnest(terms) AS t(term)) AS v
        WHERE e.tenant_id OPERATOR(pg_catalog.=) property_sum.tenant_id
          AND e.name OPERATOR(pg_catalog.=) property_sum.name
          AND e.occurred_at OPERATOR(pg_catalog.>=) "from" AND e.occurred_at OPERATOR(pg_catalog.<) "to")
    SELECT x.group_value,
           coalesce(pg_catalog.sum(x.value OPERATOR(pg_catalog.*) x.weight), 0::pg_catalog.numeric),
           coalesce(pg_catalog.sum(x.weight) FILTER (WHERE x.value IS NOT NULL), 0::pg_catalog.numeric),
           pg_catalog.count(*) FILTER (WHERE x.value IS NULL)
    FROM valued x
    GROUP BY x.group_value
    ORDER BY x.group_value COLLATE "C";
END
$$;
COMMENT ON FUNCTION telemetry.property_sum(uuid, text, text, timestamptz, timestamptz, text) IS
    'The sum of a numeric property of the events of type name of tenant_id with occurred_at in ["from", "to") (token usage by scenario): value_path a top-level property name or 2 to 8 of them joined by + (inputTokens+outputTokens), each of [A-Za-z0-9_]+; group_path NULL (one group) or a top-level property name of [A-Za-z0-9_]+ to group by. An event''s value is the sum of its terms when each is a JSON number; otherwise (a term missing, a string, null, ...) it is counted in non_numeric and skipped, never an error. One row per group with an event, in byte order of group_value (none without events): group_value (the property as text, ''(none)'' where missing or JSON null; NULL when group_path is NULL), total (the sum of value * sample_weight: sampled events scaled back), events (the sum of sample_weight of the events with a numeric value) and non_numeric (the events skipped, not scaled). Property names are used as values with the jsonb operators, never put into SQL text. Errors: NULL tenant_id or name (22004); no read access to the tenant (42501); a bound NULL or not finite, "from" after "to", a bad value_path or group_path (22023).';

CREATE FUNCTION telemetry.property_stats(tenant_id uuid, name text, value_path text, "from" timestamptz, "to" timestamptz,
                                         group_path text DEFAULT NULL)
RETURNS TABLE (group_value text, events numeric, avg float8, min float8, max float8, median float8, p95 float8,
               non_numeric bigint)
LANGUAGE plpgsql STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    terms text[];
BEGIN
    PERFORM telemetry.require_tenant_access(property_stats.tenant_id, 'read');
    IF property_stats.name IS NULL THEN
        RAISE EXCEPTION 'name must name an event type' USING ERRCODE = '22004';
    END IF;
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to") THEN
        RAISE EXCEPTION '"from" and "to" must be finite timestamps' USING ERRCODE = '22023';
    END IF;
    IF "from" OPERATOR(pg_catalog.>) "to" THEN
        RAISE EXCEPTION '"from" must not be after "to"' USING ERRCODE = '22023';
    END IF;
    terms := telemetry.property_path_terms(property_stats.value_path);
    IF property_stats.group_path IS NOT NULL AND property_stats.group_path OPERATOR(pg_catalog.!~) '^[A-Za-z0-9_]+$' THEN
        RAISE EXCEPTION 'group_path must be a property name of [A-Za-z0-9_]+' USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
    WITH valued AS (
        SELECT CASE WHEN property_stats.group_path IS NULL THEN NULL::text
                    ELSE coalesce(e.properties OPERATOR(pg_catalog.->>) property_stats.group_path, '(none)') END AS group_value,
               e.sample_weight::pg_catalog.numeric AS weight,
               -- A JSON number beyond the range of float8 is not a number here (its cast would
               -- fail mid-query).
               CASE WHEN pg_catalog.abs(v.value) OPERATOR(pg_catalog.<) 1e308 THEN v.value END AS value
        FROM telemetry.events e
        CROSS JOIN LATERAL (
            SELECT CASE WHEN pg_catalog.bool_and(pg_catalog.jsonb_typeof(e.properties OPERATOR(pg_catalog.->) t.term)
                                                 IS NOT DISTINCT FROM 'number')
                        THEN pg_catalog.sum(CASE WHEN pg_catalog.jsonb_typeof(e.properties OPERATOR(pg_catalog.->) t.term)
                                                      OPERATOR(pg_catalog.=) 'number'
                                                 THEN (e.properties OPERATOR(pg_catalog.->) t.term)::pg_catalog.numeric END)
                   END AS value
            FROM pg_catalog.unnest(terms) AS t(term)) AS v
        WHERE e.tenant_id OPERATOR(pg_catalog.=) property_stats.tenant_id
          AND e.name OPERATOR(pg_catalog.=) property_stats.name
          AND e.occurred_at OPERATOR(pg_catalog.>=) "from" AND e.occurred_at OPERATOR(pg_catalog.<) "to")
    SELECT x.group_value,
           coalesce(pg_catalog.sum(x.weight) FILTER (WHERE x.value IS NOT NULL), 0::pg_catalog.numeric),
           (pg_catalog.sum(x.value OPERATOR(pg_catalog.*) x.weight)
            OPERATOR(pg_catalog./) NULLIF(pg_catalog.sum(x.weight) FILTER (WHERE x.value IS NOT NULL), 0))::float8,
           pg_catalog.min(x.value)::float8,
           pg_catalog.max(x.value)::float8,
           pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY x.value::float8),
           pg_catalog.percentile_cont(0.95) WITHIN GROUP (ORDER BY x.value::float8),
           pg_catalog.count(*) FILTER (WHERE x.value IS NULL)
    FROM valued x
    GROUP BY x.group_value
    ORDER BY x.group_value COLLATE "C";
END
$$;
COMMENT ON FUNCTION telemetry.property_stats(uuid, text, text, timestamptz, timestamptz, text) IS
    'Statistics of a numeric property (durationMs) of the events of type name of tenant_id with occurred_at in ["from", "to"): value_path a top-level property name or 2 to 8 of them joined by +, each of [A-Za-z0-9_]+; group_path NULL (one group) or a top-level property name of [A-Za-z0-9_]+ to group by. An event''s value is the sum of its terms when each is a JSON number (within the range of float8); otherwise (missing, a string, null, ...) it is counted in non_numeric and skipped, never an error. One row per group with an event, in byte order of group_value (none without events): group_value (the property as text, ''(none)'' where missing or JSON null; NULL when group_path is NULL), events (the sum of sample_weight of the events with a numeric value), avg (weighted by sample_weight), min, max, median and p95 (percentile_cont(0.5) and (0.95) of the values, interpolated, unweighted: each event kept counts once, whatever its sample_weight), in the property''s unit; NULL but events and non_numeric when no value is numeric; non_numeric (the events skipped, not scaled). Property names are used as values with the jsonb operators, never put into SQL text. Errors: NULL tenant_id or name (22004); no read access to the tenant (42501); a bound NULL or not finite, "from" after "to", a bad value_path or group_path (22023).';
