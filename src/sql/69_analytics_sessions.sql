-- Sessions (docs/analytics.md, FUNNELS.md Engagement): telemetry.sessions() checks its
-- arguments and makes the buckets; the engine (src/pg/analytics/sessions_functions,
-- src/core/analytics/sessions) reads the events once, as the caller (row-level security applies).

CREATE FUNCTION telemetry.sessions_engine(tenant_id uuid, "from" timestamptz, "to" timestamptz,
                                          bucket_starts timestamptz[])
RETURNS TABLE (bucket_start timestamptz, sessions bigint, bounces bigint, avg_seconds float8, median_seconds float8)
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'telemetry_sessions_engine';
COMMENT ON FUNCTION telemetry.sessions_engine(uuid, timestamptz, timestamptz, timestamptz[]) IS
    'Internal, for telemetry.sessions(), which checks its arguments: per bucket (the last whose start is at or before a session''s start), the sessions starting in ["from", "to"), bounces, average and median seconds. 42501 for a tenant the caller may not read.';

CREATE FUNCTION telemetry.sessions(
    tenant_id uuid,
    "from"    timestamptz,
    "to"      timestamptz,
    tz        text DEFAULT 'UTC',
    bucket    text DEFAULT NULL)
RETURNS TABLE (sessions bigint, avg_seconds float8, median_seconds float8, bounce_rate numeric, bounces bigint,
               bucket_start timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    starts timestamptz[];
BEGIN
    IF sessions.tenant_id IS NULL THEN
        RAISE EXCEPTION 'tenant_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    PERFORM telemetry.require_tenant_access(sessions.tenant_id, 'read');
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to") THEN
        RAISE EXCEPTION '"from" and "to" must be finite timestamps' USING ERRCODE = '22023';
    END IF;
    IF "from" OPERATOR(pg_catalog.>) "to" THEN
        RAISE EXCEPTION '"from" must not be after "to"' USING ERRCODE = '22023';
    END IF;
    IF sessions.tz IS NULL THEN
        RAISE EXCEPTION 'tz must name a time zone' USING ERRCODE = '22023';
    END IF;
    IF sessions.bucket IS NULL THEN
        -- One row for the whole range; an unknown time zone fails here (22023).
        PERFORM "from" AT TIME ZONE sessions.tz;
        starts := ARRAY["from"];
    ELSE
        -- Checks bucket and tz (22023) and the number of buckets (54000).
        starts := ARRAY(SELECT b.bucket_start FROM telemetry.calendar_buckets("from", "to", sessions.bucket, sessions.tz) b);
        IF pg_catalog.cardinality(starts) OPERATOR(pg_catalog.=) 0 THEN
            RETURN;  -- an empty range has no bucket
        END IF;
    END IF;
    RETURN QUERY
    SELECT s.sessions, s.avg_seconds, s.median_seconds,
           CASE WHEN s.sessions OPERATOR(pg_catalog.>) 0
                THEN pg_catalog.round(s.bounces::numeric OPERATOR(pg_catalog./) s.sessions, 4) END,
           s.bounces, s.bucket_start
    FROM telemetry.sessions_engine(sessions.tenant_id, "from", "to", starts) s
    ORDER BY s.bucket_start;
END
$$;
COMMENT ON FUNCTION telemetry.sessions(uuid, timestamptz, timestamptz, text, text) IS
    'Sessions of tenant_id by FUNNELS.md (Engagement, Sessions; docs/analytics.md): events with a session_id form the client''s session as given (never split; read within 24 hours either side of the range); a user''s events without one form sessions among themselves, a new one after a gap of more than 30 minutes or at an event more than 24 hours after the session''s first (exactly 30 minutes or 24 hours continues), never split at midnight in any time zone. The range ["from", "to") holds the sessions that start in it, with their full duration (last minus first event, seconds). One row (bucket NULL; bucket_start = "from"), or one per calendar bucket in tz (hour, day, week or month, as event_counts() makes them) by the session''s start: sessions, avg_seconds and median_seconds (bounces included with duration 0; NULL without sessions; the median of an even count is the mean of the two middle durations), bounce_rate (bounces / sessions, 4 decimals) and bounces (one-event sessions). Counts are not scaled by sampling. Errors: NULL tenant_id (22004); no read access to the tenant (42501); a bound NULL or not finite, "from" after "to", tz NULL or unknown, an unknown bucket (22023); more than 10,000 buckets (54000).';
