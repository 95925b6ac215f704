-- telemetry 0.5.0 -> 0.6.0: sessions(), stickiness() in a time zone, and faster funnel() and
-- retention() (CHANGELOG.md). Run by ALTER EXTENSION telemetry UPDATE TO '0.6.0'.
-- test/t/008_upgrade.pl checks that the result is what CREATE EXTENSION telemetry makes, object
-- for object, and that data comes through.
--
-- The objects new or changed since 0.5.0, as src/sql/ has them at 0.6.0, copied: an upgrade
-- script is frozen once released, while src/sql/ moves on. funnel() and retention() changed in
-- the library only (same SQL). Roles already granted the read level get sessions().

-- 25_tenancy.sql: the read level includes sessions().
CREATE OR REPLACE FUNCTION telemetry.access_privileges(access text)
RETURNS TABLE (object_kind text, object_name text, privilege text)
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    -- A level is made of parts: admin reads too, service ingests and reads, and a pooled role
    -- holds what any token may give (ingest, read, admin) besides presenting tokens.
    SELECT DISTINCT p.kind, p.object, p.privilege
    FROM (VALUES ('ingest', 'ingest'), ('read', 'read'), ('admin', 'read'), ('admin', 'admin'),
                 ('service', 'ingest'), ('service', 'read'), ('maintenance', 'maintenance'),
                 ('issuer', 'issuer'), ('token', 'token'), ('token', 'ingest'), ('token', 'read'),
                 ('token', 'admin')) AS l(access, part)
    JOIN (VALUES
        ('ingest', 'FUNCTION', 'track', 'EXECUTE'), ('ingest', 'FUNCTION', 'track_batch', 'EXECUTE'),
        ('read', 'TABLE', 'events', 'SELECT'), ('read', 'TABLE', 'event_types', 'SELECT'),
        ('read', 'FUNCTION', 'partitions', 'EXECUTE'),
        ('read', 'TABLE', 'daily_rollups', 'SELECT'), ('read', 'FUNCTION', 'rollup_watermark', 'EXECUTE'),
        ('read', 'FUNCTION', 'funnel', 'EXECUTE'), ('read', 'FUNCTION', 'funnel_engine', 'EXECUTE'),
        ('read', 'FUNCTION', 'window_funnel', 'EXECUTE'), ('read', 'FUNCTION', 'window_funnel_transition', 'EXECUTE'),
        ('read', 'FUNCTION', 'window_funnel_final', 'EXECUTE'),
        ('read', 'FUNCTION', 'conversion_rate', 'EXECUTE'), ('read', 'FUNCTION', 'completion_rate', 'EXECUTE'),
        ('read', 'FUNCTION', 'escalation_rate', 'EXECUTE'),
        ('read', 'FUNCTION', 'retention', 'EXECUTE'), ('read', 'FUNCTION', 'retention_engine', 'EXECUTE'),
        ('read', 'FUNCTION', 'period_number', 'EXECUTE'), ('read', 'FUNCTION', 'period_start', 'EXECUTE'),
        ('read', 'FUNCTION', 'event_counts', 'EXECUTE'), ('read', 'FUNCTION', 'top_events', 'EXECUTE'),
        ('read', 'FUNCTION', 'unique_users', 'EXECUTE'), ('read', 'FUNCTION', 'active_users', 'EXECUTE'),
        ('read', 'FUNCTION', 'stickiness', 'EXECUTE'), ('read', 'FUNCTION', 'dump', 'EXECUTE'),
        ('read', 'FUNCTION', 'calendar_buckets', 'EXECUTE'), ('read', 'FUNCTION', 'rollup_exact_days', 'EXECUTE'),
        ('read', 'FUNCTION', 'property_sum', 'EXECUTE'),
        ('read', 'FUNCTION', 'property_stats', 'EXECUTE'), ('read', 'FUNCTION', 'sessions', 'EXECUTE'),
        ('read', 'FUNCTION', 'sessions_engine', 'EXECUTE'), ('read', 'FUNCTION', 'property_path_terms', 'EXECUTE'),
        ('admin', 'TABLE', 'quarantine', 'SELECT'), ('admin', 'FUNCTION', 'replay_quarantine', 'EXECUTE'),
        ('admin', 'TABLE', 'opt_outs', 'SELECT, INSERT, DELETE'),
        ('admin', 'FUNCTION', 'opt_out', 'EXECUTE'), ('admin', 'FUNCTION', 'opt_in', 'EXECUTE'),
        ('admin', 'TABLE', 'tenant_settings', 'SELECT'), ('admin', 'TABLE', 'tenant_access', 'SELECT'),
        ('admin', 'TABLE', 'rollup_invalidations', 'SELECT, INSERT'), ('admin', 'FUNCTION', 'invalidate_rollups', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'create_partitions', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'purge_event_ids', 'EXECUTE'),
        ('maintenance', 'TABLE', 'event_ids', 'SELECT, DELETE'), ('maintenance', 'TABLE', 'events', 'SELECT'),
        ('maintenance', 'FUNCTION', 'partitions', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'run_maintenance', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'advance_rollups', 'EXECUTE'), ('maintenance', 'FUNCTION', 'refresh_rollups', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'drop_expired_partitions', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'delete_expired_tenant_events', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'drop_expired_rollups', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'trim_maintenance_runs', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'maintenance_step_names', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'begin_maintenance_run', 'EXECUTE'), ('maintenance', 'FUNCTION', 'end_maintenance_run', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'begin_maintenance_step', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'perform_maintenance_step', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'resume_maintenance', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'rollup_watermark', 'EXECUTE'), ('maintenance', 'FUNCTION', 'invalidate_rollups', 'EXECUTE'),
        ('maintenance', 'TABLE', 'daily_rollups', 'SELECT'), ('maintenance', 'TABLE', 'rollup_invalidations', 'SELECT, INSERT'),
        ('maintenance', 'TABLE', 'rollup_state', 'SELECT'), ('maintenance', 'TABLE', 'maintenance_runs', 'SELECT'),
        ('maintenance', 'TABLE', 'maintenance_steps', 'SELECT'), ('maintenance', 'TABLE', 'maintenance_status', 'SELECT'),
        ('issuer', 'FUNCTION', 'tenant_token', 'EXECUTE'),
        ('token', 'FUNCTION', 'set_tenant', 'EXECUTE')
    ) AS p(part, kind, object, privilege) ON p.part OPERATOR(pg_catalog.=) l.part
    WHERE l.access OPERATOR(pg_catalog.=) access_privileges.access
$$;
COMMENT ON FUNCTION telemetry.access_privileges(text) IS
    'The SQL privileges an access level needs, which grant_tenant_access() grants and revoke_tenant_access() takes back: object_kind (TABLE or FUNCTION), object_name (in schema telemetry; a function name means all its forms) and privilege. Every level also gets USAGE on the schema.';

-- 65_analytics.sql: stickiness() takes a time zone (a new argument with a default: a new
-- signature, so the old one goes).
DROP FUNCTION telemetry.stickiness(uuid, timestamptz, timestamptz, text);
CREATE FUNCTION telemetry.stickiness(tenant_id uuid, "from" timestamptz, "to" timestamptz, period text DEFAULT 'day',
                                     tz text DEFAULT 'UTC')
RETURNS TABLE (periods_active integer, users bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    periods integer;
BEGIN
    PERFORM telemetry.require_tenant_access(stickiness.tenant_id, 'read');
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to") THEN
        RAISE EXCEPTION '"from" and "to" must be finite timestamps' USING ERRCODE = '22023';
    END IF;
    IF "from" OPERATOR(pg_catalog.>) "to" THEN
        RAISE EXCEPTION '"from" must not be after "to"' USING ERRCODE = '22023';
    END IF;
    IF stickiness.period IS NULL OR NOT stickiness.period OPERATOR(pg_catalog.=) ANY (ARRAY['hour', 'day', 'week', 'month']) THEN
        RAISE EXCEPTION 'unknown period' USING ERRCODE = '22023', HINT = 'hour, day, week or month';
    END IF;
    -- The calendar periods in tz that the range overlaps (22023 for an unknown tz, 54000 beyond
    -- 10,000).
    periods := (SELECT pg_catalog.count(*) FROM telemetry.calendar_buckets("from", "to", stickiness.period, stickiness.tz));
    RETURN QUERY
    WITH per_user AS (
        SELECT e.user_id, pg_catalog.count(DISTINCT pg_catalog.date_trunc(stickiness.period, e.occurred_at, stickiness.tz)) AS active
        FROM telemetry.events e
        WHERE e.tenant_id OPERATOR(pg_catalog.=) stickiness.tenant_id
          AND e.occurred_at OPERATOR(pg_catalog.>=) "from" AND e.occurred_at OPERATOR(pg_catalog.<) "to"
          AND e.user_id IS NOT NULL
        GROUP BY e.user_id)
    SELECT k.k, pg_catalog.count(p.user_id)
    FROM pg_catalog.generate_series(1, periods) AS k(k)
    LEFT JOIN per_user p ON p.active OPERATOR(pg_catalog.=) k.k
    GROUP BY k.k
    ORDER BY k.k;
END
$$;
COMMENT ON FUNCTION telemetry.stickiness(uuid, timestamptz, timestamptz, text, text) IS
    'Stickiness of tenant_id by FUNNELS.md (Engagement: over N periods, the number of actors active in exactly 1, 2, ..., N periods): the N calendar periods in time zone tz (period hour, day, week or month, as calendar_buckets() makes them: ISO weeks start on Monday, DST days have 23 or 25 hours) that ["from", "to") overlaps, a period the range cuts counting only its events inside. One row per k = 1..N, in order: periods_active (k) and users (distinct non-NULL user_id with an event in exactly k of the periods; not scaled by sampling), 0 included; no row for an empty range. Exact, from raw events. Errors: NULL tenant_id (22004); no read access to the tenant (42501); a bound NULL or not finite, "from" after "to", an unknown period, tz NULL or unknown (22023); more than 10,000 periods (54000).';

-- 67_analytics_retention.sql: hours of Unix time whatever the session's time zone, and weeks
-- before 2000-01-03 numbered by floor, as the engine numbers them.
CREATE OR REPLACE FUNCTION telemetry.period_number(ts timestamptz, period text, tz text)
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

-- 69_analytics_sessions.sql
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

-- 90_privileges.sql: the new objects, revoked from PUBLIC, then what PUBLIC may call.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA telemetry FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA telemetry FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA telemetry FROM PUBLIC;

-- The naming rule is harmless and is used by CHECK constraints, which need EXECUTE.
GRANT EXECUTE ON FUNCTION telemetry.valid_event_name(text) TO PUBLIC;
-- The default of the named text form of track() is evaluated as the caller: it returns NULL.
GRANT EXECUTE ON FUNCTION telemetry.unset_argument() TO PUBLIC;
-- Row-level policies run as the querying role, and call these; each answers only about the
-- caller's own identity.
GRANT EXECUTE ON FUNCTION telemetry.tenant_scope_lower(text), telemetry.tenant_scope_upper(text),
                          telemetry.tenant_scope_is_range(text), telemetry.tenant_scope_members(text),
                          telemetry.current_tenant(), telemetry.current_access(),
                          telemetry.require_tenant_access(uuid, text) TO PUBLIC;

-- Roles granted a level before get what the level now includes.
SELECT telemetry.apply_access_privileges(r.oid::pg_catalog.regrole, a.access, true)
FROM telemetry.tenant_access a JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) a.role_name
ORDER BY a.role_name, a.access;
