-- Retention cohorts (docs/analytics.md, FUNNELS.md R1-R6): telemetry.retention() checks its
-- arguments and numbers the calendar periods; the engine (src/pg/analytics/retention_functions,
-- src/core/analytics/retention) counts each actor once.

-- Calendar periods in a time zone, numbered so that consecutive periods have consecutive numbers
-- (R2): hours since the epoch (a repeated hour at a DST change is two periods), days since
-- 2000-01-01 and ISO weeks since Monday 2000-01-03 as the time zone's calendar has them, months
-- since year 0.
CREATE FUNCTION telemetry.period_number(ts timestamptz, period text, tz text)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE period
        WHEN 'hour' THEN pg_catalog.floor(pg_catalog.date_part('epoch', ts) OPERATOR(pg_catalog./) 3600)::bigint
        WHEN 'day' THEN ((ts AT TIME ZONE tz)::pg_catalog.date OPERATOR(pg_catalog.-) '2000-01-01'::pg_catalog.date)::bigint
        WHEN 'week' THEN pg_catalog.floor(((ts AT TIME ZONE tz)::pg_catalog.date OPERATOR(pg_catalog.-) '2000-01-03'::pg_catalog.date)::numeric OPERATOR(pg_catalog./) 7)::bigint
        WHEN 'month' THEN (pg_catalog.date_part('year', ts AT TIME ZONE tz) OPERATOR(pg_catalog.*) 12
                           OPERATOR(pg_catalog.+) pg_catalog.date_part('month', ts AT TIME ZONE tz) OPERATOR(pg_catalog.-) 1)::bigint
    END
$$;
COMMENT ON FUNCTION telemetry.period_number(timestamptz, text, text) IS
    'Internal, for retention(): the number of the calendar period (hour, day, week or month) that ts falls in, in time zone tz: consecutive periods have consecutive numbers (ISO weeks start on Monday).';

-- The start of period number n.
CREATE FUNCTION telemetry.period_start(n bigint, period text, tz text)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE period
        WHEN 'hour' THEN pg_catalog.to_timestamp((n OPERATOR(pg_catalog.*) 3600)::float8)
        WHEN 'day' THEN ('2000-01-01'::pg_catalog.date OPERATOR(pg_catalog.+) n::integer)::pg_catalog.timestamp AT TIME ZONE tz
        WHEN 'week' THEN ('2000-01-03'::pg_catalog.date OPERATOR(pg_catalog.+) (7 OPERATOR(pg_catalog.*) n)::integer)::pg_catalog.timestamp AT TIME ZONE tz
        WHEN 'month' THEN pg_catalog.make_date((n OPERATOR(pg_catalog./) 12)::integer, (n OPERATOR(pg_catalog.%) 12)::integer OPERATOR(pg_catalog.+) 1, 1)::pg_catalog.timestamp AT TIME ZONE tz
    END
$$;
COMMENT ON FUNCTION telemetry.period_start(bigint, text, text) IS
    'Internal, for retention(): when calendar period number n (period_number()) starts, in time zone tz.';

CREATE FUNCTION telemetry.retention_engine(
    tenant_id uuid, start_name text, start_where jsonb, return_name text, return_where jsonb, period text, tz text,
    read_from timestamptz, read_until timestamptz, first_cohort bigint, last_cohort bigint, current bigint,
    periods integer, first_time boolean, on_or_after boolean, unit text)
RETURNS TABLE (cohort bigint, period_index integer, cohort_size bigint, retained bigint, complete boolean)
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'telemetry_retention_engine';
COMMENT ON FUNCTION telemetry.retention_engine(uuid, text, jsonb, text, jsonb, text, text, timestamptz, timestamptz, bigint, bigint, bigint, integer, boolean, boolean, text) IS
    'Internal, for telemetry.retention(), which checks its arguments: the cohort table by period numbers. 42501 for a tenant the caller may not read.';

CREATE FUNCTION telemetry.retention(
    tenant_id    uuid,
    start_event  jsonb,
    return_event jsonb,
    "from"       timestamptz,
    "to"         timestamptz,
    period       text        DEFAULT 'day',
    periods      integer     DEFAULT 7,
    cohort       text        DEFAULT 'first_time',
    criterion    text        DEFAULT 'on',
    tz           text        DEFAULT 'UTC',
    now          timestamptz DEFAULT pg_catalog.now(),
    unit         text        DEFAULT 'user')
RETURNS TABLE (cohort_start timestamptz, period_index integer, cohort_size bigint, retained bigint, rate numeric,
               complete boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    events jsonb[] := ARRAY[start_event, return_event];
    names text[] := '{}';
    wheres jsonb[] := '{}';
    item jsonb;
    first_cohort bigint;
    last_cohort bigint;
BEGIN
    IF tenant_id IS NULL THEN
        RAISE EXCEPTION 'tenant_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    PERFORM telemetry.require_tenant_access(tenant_id, 'read');
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to")
       OR "from" OPERATOR(pg_catalog.>=) "to" THEN
        RAISE EXCEPTION 'the range must be finite with "from" before "to"' USING ERRCODE = '22023';
    END IF;
    IF period IS NULL OR NOT period OPERATOR(pg_catalog.=) ANY (ARRAY['hour', 'day', 'week', 'month']) THEN
        RAISE EXCEPTION 'unknown retention period' USING ERRCODE = '22023', HINT = 'hour, day, week or month';
    END IF;
    IF periods IS NULL OR periods OPERATOR(pg_catalog.<) 1 OR periods OPERATOR(pg_catalog.>) 1000 THEN
        RAISE EXCEPTION 'periods must be within 1..1000' USING ERRCODE = '22023';
    END IF;
    IF cohort IS NULL OR NOT cohort OPERATOR(pg_catalog.=) ANY (ARRAY['first_time', 'recurring']) THEN
        RAISE EXCEPTION 'unknown cohort kind' USING ERRCODE = '22023', HINT = 'first_time or recurring';
    END IF;
    IF criterion IS NULL OR NOT criterion OPERATOR(pg_catalog.=) ANY (ARRAY['on', 'on_or_after']) THEN
        RAISE EXCEPTION 'unknown retention criterion' USING ERRCODE = '22023', HINT = 'on or on_or_after';
    END IF;
    IF unit IS NULL OR NOT unit OPERATOR(pg_catalog.=) ANY (ARRAY['user', 'session']) THEN
        RAISE EXCEPTION 'unknown unit' USING ERRCODE = '22023', HINT = 'user or session';
    END IF;
    IF tz IS NULL OR NOT EXISTS (SELECT FROM pg_catalog.pg_timezone_names z WHERE z.name OPERATOR(pg_catalog.=) tz)
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_timezone_abbrevs z WHERE z.abbrev OPERATOR(pg_catalog.=) tz) THEN
        RAISE EXCEPTION 'unknown time zone' USING ERRCODE = '22023';
    END IF;
    IF now IS NULL OR NOT pg_catalog.isfinite(now) THEN
        RAISE EXCEPTION 'now must be a finite timestamp' USING ERRCODE = '22008';
    END IF;
    FOR i IN 1 .. 2 LOOP
        item := events[i];
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
            RAISE EXCEPTION '% must be an event name or {"event": name, "where": {property: value, ...}}',
                CASE i WHEN 1 THEN 'start_event' ELSE 'return_event' END USING ERRCODE = '22023';
        END IF;
    END LOOP;
    -- The cohort periods whose start lies in ["from", "to") (R1).
    first_cohort := telemetry.period_number("from", period, tz);
    IF telemetry.period_start(first_cohort, period, tz) OPERATOR(pg_catalog.<) "from" THEN
        first_cohort := first_cohort OPERATOR(pg_catalog.+) 1;
    END IF;
    last_cohort := telemetry.period_number("to", period, tz);
    IF telemetry.period_start(last_cohort, period, tz) OPERATOR(pg_catalog.>=) "to" THEN
        last_cohort := last_cohort OPERATOR(pg_catalog.-) 1;
    END IF;
    IF (last_cohort OPERATOR(pg_catalog.-) first_cohort OPERATOR(pg_catalog.+) 1) OPERATOR(pg_catalog.*) (periods OPERATOR(pg_catalog.+) 1)
       OPERATOR(pg_catalog.>) 100000 THEN
        RAISE EXCEPTION 'the cohort table would have more than 100,000 cells' USING ERRCODE = '54000';
    END IF;
    RETURN QUERY
    SELECT telemetry.period_start(r.cohort, period, tz), r.period_index, r.cohort_size,
           CASE WHEN r.complete THEN r.retained END,
           CASE WHEN r.complete AND r.cohort_size OPERATOR(pg_catalog.>) 0
                THEN pg_catalog.round(r.retained::numeric OPERATOR(pg_catalog./) r.cohort_size, 4) END,
           r.complete
    FROM telemetry.retention_engine(tenant_id, names[1], wheres[1], names[2], wheres[2], period, tz,
                                    telemetry.period_start(first_cohort, period, tz),
                                    LEAST(telemetry.period_start(last_cohort OPERATOR(pg_catalog.+) periods OPERATOR(pg_catalog.+) 1, period, tz), now),
                                    first_cohort, last_cohort, telemetry.period_number(now, period, tz), periods,
                                    cohort OPERATOR(pg_catalog.=) 'first_time', criterion OPERATOR(pg_catalog.=) 'on_or_after', unit) r
    ORDER BY r.cohort, r.period_index;
END
$$;
COMMENT ON FUNCTION telemetry.retention(uuid, jsonb, jsonb, timestamptz, timestamptz, text, integer, text, text, text, timestamptz, text) IS
    'The retention cohort table of FUNNELS.md R1-R6 (docs/analytics.md): actors (unit user or session) grouped by the calendar period (period: hour, day, week, month, in time zone tz; ISO weeks) of their first-ever start event (cohort first_time) or of each start event (recurring), for the cohort periods whose start lies in ["from", "to"); for each, period_index 0..periods: cohort_size, retained (a return event in period k, criterion on; in some period >= k, on_or_after; a start event is never its own return), rate (retained / cohort_size, 4 decimals) and complete (false, with retained and rate NULL, while the period has not finished by now). start_event and return_event: an event name or {"event": name, "where": {...}}. Errors: NULL tenant (22004); no read access (42501); bad range, period, periods (1..1000), cohort, criterion, unit, event or time zone (22023); more than 100,000 cells (54000); now not finite (22008).';
