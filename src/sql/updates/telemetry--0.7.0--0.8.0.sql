-- telemetry 0.7.0 -> 0.8.0: operations. Counters in shared memory by status, event type,
-- tenant, refusal class, minute and payload size; telemetry.metrics() (Prometheus text) and the
-- HTTP endpoint that serves it; the maintenance step sample_activity and telemetry.activity;
-- health(), alerts() and recent() (CHANGELOG.md).
-- Run by ALTER EXTENSION telemetry UPDATE TO '0.8.0'. test/t/008_upgrade.pl checks that the
-- result is what CREATE EXTENSION telemetry makes, object for object, and that data comes
-- through.
\echo Use "ALTER EXTENSION telemetry UPDATE TO '0.8.0'" to load this file. \quit

-- 25_tenancy.sql: the read level gains activity and recent(), the maintenance level the
-- operations functions.
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
        ('read', 'TABLE', 'daily_rollups', 'SELECT'), ('read', 'TABLE', 'daily_totals', 'SELECT'), ('read', 'FUNCTION', 'rollup_watermark', 'EXECUTE'),
        ('read', 'FUNCTION', 'funnel', 'EXECUTE'), ('read', 'FUNCTION', 'funnel_engine', 'EXECUTE'),
        ('read', 'FUNCTION', 'window_funnel', 'EXECUTE'), ('read', 'FUNCTION', 'window_funnel_transition', 'EXECUTE'),
        ('read', 'FUNCTION', 'window_funnel_final', 'EXECUTE'),
        ('read', 'FUNCTION', 'conversion_rate', 'EXECUTE'), ('read', 'FUNCTION', 'completion_rate', 'EXECUTE'),
        ('read', 'FUNCTION', 'escalation_rate', 'EXECUTE'),
        ('read', 'FUNCTION', 'retention', 'EXECUTE'), ('read', 'FUNCTION', 'retention_engine', 'EXECUTE'),
        ('read', 'FUNCTION', 'period_number', 'EXECUTE'), ('read', 'FUNCTION', 'period_start', 'EXECUTE'),
        ('read', 'FUNCTION', 'event_counts', 'EXECUTE'), ('read', 'FUNCTION', 'top_events', 'EXECUTE'),
        ('read', 'FUNCTION', 'unique_users', 'EXECUTE'), ('read', 'FUNCTION', 'active_users', 'EXECUTE'), ('read', 'FUNCTION', 'daily_active_users', 'EXECUTE'),
        ('read', 'FUNCTION', 'stickiness', 'EXECUTE'), ('read', 'FUNCTION', 'dump', 'EXECUTE'),
        ('read', 'FUNCTION', 'calendar_buckets', 'EXECUTE'), ('read', 'FUNCTION', 'rollup_exact_days', 'EXECUTE'),
        ('read', 'FUNCTION', 'rollup_split', 'EXECUTE'),
        ('read', 'FUNCTION', 'property_sum', 'EXECUTE'),
        ('read', 'FUNCTION', 'property_stats', 'EXECUTE'), ('read', 'FUNCTION', 'sessions', 'EXECUTE'),
        ('read', 'FUNCTION', 'sessions_engine', 'EXECUTE'), ('read', 'FUNCTION', 'property_path_terms', 'EXECUTE'),
        ('admin', 'TABLE', 'quarantine', 'SELECT'), ('admin', 'FUNCTION', 'replay_quarantine', 'EXECUTE'),
        ('admin', 'FUNCTION', 'forget_user', 'EXECUTE'), ('admin', 'FUNCTION', 'anonymize_user', 'EXECUTE'),
        ('admin', 'TABLE', 'erasures', 'SELECT'),
        ('admin', 'TABLE', 'opt_outs', 'SELECT, INSERT, DELETE'),
        ('admin', 'FUNCTION', 'opt_out', 'EXECUTE'), ('admin', 'FUNCTION', 'opt_in', 'EXECUTE'),
        ('admin', 'TABLE', 'tenant_settings', 'SELECT'), ('admin', 'TABLE', 'tenant_access', 'SELECT'),
        ('admin', 'TABLE', 'pii_policies', 'SELECT, INSERT, UPDATE, DELETE'), ('admin', 'FUNCTION', 'set_pii_policy', 'EXECUTE'),
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
        ('maintenance', 'FUNCTION', 'reapply_erasures', 'EXECUTE'), ('maintenance', 'TABLE', 'daily_rollups', 'SELECT'), ('maintenance', 'TABLE', 'daily_totals', 'SELECT'), ('maintenance', 'TABLE', 'rollup_invalidations', 'SELECT, INSERT'),
        ('maintenance', 'TABLE', 'rollup_state', 'SELECT'), ('maintenance', 'TABLE', 'maintenance_runs', 'SELECT'),
        ('maintenance', 'TABLE', 'maintenance_steps', 'SELECT'), ('maintenance', 'TABLE', 'maintenance_status', 'SELECT'),
        ('read', 'TABLE', 'activity', 'SELECT'), ('read', 'FUNCTION', 'recent', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'sample_activity', 'EXECUTE'), ('maintenance', 'TABLE', 'activity', 'SELECT'),
        ('maintenance', 'FUNCTION', 'metrics', 'EXECUTE'), ('maintenance', 'FUNCTION', 'metric_gauges', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'health', 'EXECUTE'), ('maintenance', 'FUNCTION', 'alerts', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'recent', 'EXECUTE'), ('maintenance', 'FUNCTION', 'recent_counters', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'last_event_received_at', 'EXECUTE'),
        ('maintenance', 'FUNCTION', 'ingest_counters', 'EXECUTE'), ('maintenance', 'FUNCTION', 'pii_counters', 'EXECUTE'),
        ('issuer', 'FUNCTION', 'tenant_token', 'EXECUTE'),
        ('token', 'FUNCTION', 'set_tenant', 'EXECUTE')
    ) AS p(part, kind, object, privilege) ON p.part OPERATOR(pg_catalog.=) l.part
    WHERE l.access OPERATOR(pg_catalog.=) access_privileges.access
$$;
COMMENT ON FUNCTION telemetry.access_privileges(text) IS
    'The SQL privileges an access level needs, which grant_tenant_access() grants and revoke_tenant_access() takes back: object_kind (TABLE or FUNCTION), object_name (in schema telemetry; a function name means all its forms) and privilege. Every level also gets USAGE on the schema.';


-- 60_worker.sql: the step sample_activity.
COMMENT ON COLUMN telemetry.maintenance_runs.step IS 'The step: create_partitions, advance_rollups, refresh_rollups, drop_expired_partitions, delete_expired_tenant_events, drop_expired_rollups, purge_event_ids, trim_maintenance_runs, sample_activity.';
CREATE OR REPLACE FUNCTION telemetry.maintenance_step_names()
RETURNS text[]
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY['create_partitions', 'advance_rollups', 'refresh_rollups', 'drop_expired_partitions',
                 'delete_expired_tenant_events', 'drop_expired_rollups', 'purge_event_ids', 'trim_maintenance_runs', 'sample_activity']
$$;
COMMENT ON FUNCTION telemetry.maintenance_step_names() IS
    'The maintenance steps in the order run_maintenance() and the worker run them. advance_rollups must commit before refresh_rollups starts.';

CREATE OR REPLACE FUNCTION telemetry.perform_maintenance_step(p_run_id bigint, p_step text, p_now timestamptz)
RETURNS text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    started timestamptz := pg_catalog.clock_timestamp();
    affected bigint;
    failure_state text;
    failure_message text;
    failures integer;
    -- (Settings with a unit read back with one, '1min' or '5s': as intervals they compare.)
    naptime pg_catalog.float8 := pg_catalog.date_part('epoch',
        coalesce(pg_catalog.current_setting('telemetry.naptime', true), '60')::pg_catalog.interval);
    max_backoff pg_catalog.float8 := pg_catalog.date_part('epoch',
        coalesce(pg_catalog.current_setting('telemetry.maintenance_max_backoff', true), '3600')::pg_catalog.interval);
BEGIN
    BEGIN
        -- Every lock a step waits for, it waits for at most this long.
        PERFORM pg_catalog.set_config('lock_timeout',
            coalesce(pg_catalog.current_setting('telemetry.maintenance_lock_timeout', true), '5s'), true);
        affected := CASE p_step
            WHEN 'create_partitions' THEN telemetry.create_partitions(p_now)
            WHEN 'advance_rollups' THEN telemetry.advance_rollups(p_now)
            WHEN 'refresh_rollups' THEN telemetry.refresh_rollups(p_now)
            WHEN 'drop_expired_partitions' THEN telemetry.drop_expired_partitions(p_now)
            WHEN 'delete_expired_tenant_events' THEN telemetry.delete_expired_tenant_events(p_now)
            WHEN 'drop_expired_rollups' THEN telemetry.drop_expired_rollups(p_now)
            WHEN 'purge_event_ids' THEN telemetry.purge_event_ids(p_now)
            WHEN 'trim_maintenance_runs' THEN telemetry.trim_maintenance_runs(p_now)
            WHEN 'sample_activity' THEN telemetry.sample_activity(p_now)
        END;
        IF affected IS NULL THEN
            RAISE EXCEPTION 'unknown maintenance step' USING ERRCODE = '22023';
        END IF;
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        -- A cancel (statement_timeout, pg_cancel_backend) is recorded too; the caller then
        -- ends the run.
        GET STACKED DIAGNOSTICS failure_state = RETURNED_SQLSTATE, failure_message = MESSAGE_TEXT;
    END;
    IF failure_state IS NULL THEN
        UPDATE telemetry.maintenance_runs r
        SET status = 'succeeded', finished_at = pg_catalog.clock_timestamp(), rows_affected = affected
        WHERE r.run_id OPERATOR(pg_catalog.=) p_run_id AND r.step OPERATOR(pg_catalog.=) p_step;
        UPDATE telemetry.maintenance_steps s
        SET last_success_at = pg_catalog.clock_timestamp(), consecutive_failures = 0, next_attempt_at = NULL,
            last_duration = pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) started
        WHERE s.step OPERATOR(pg_catalog.=) p_step;
        RETURN 'succeeded';
    END IF;
    -- Data errors may quote the value at fault: keep their message, not the value.
    IF pg_catalog.left(failure_state, 2) OPERATOR(pg_catalog.=) ANY (ARRAY['22', '23']) THEN
        failure_message := pg_catalog.regexp_replace(failure_message, '"[^"]*"', '"…"', 'g');
    END IF;
    failure_message := pg_catalog.left(failure_message, 500);
    UPDATE telemetry.maintenance_runs r
    SET status = 'failed', finished_at = pg_catalog.clock_timestamp(), sqlstate = failure_state, message = failure_message
    WHERE r.run_id OPERATOR(pg_catalog.=) p_run_id AND r.step OPERATOR(pg_catalog.=) p_step;
    UPDATE telemetry.maintenance_steps s
    SET last_failure_at = pg_catalog.clock_timestamp(),
        consecutive_failures = s.consecutive_failures OPERATOR(pg_catalog.+) 1,
        last_sqlstate = failure_state, last_message = failure_message,
        last_duration = pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) started
    WHERE s.step OPERATOR(pg_catalog.=) p_step
    RETURNING s.consecutive_failures INTO failures;
    -- Back off: naptime × (2^(k-1) - 1) after k failures in a row, capped; the first is
    -- retried at the next run.
    UPDATE telemetry.maintenance_steps s
    SET next_attempt_at = s.last_failure_at OPERATOR(pg_catalog.+) pg_catalog.make_interval(secs =>
            LEAST(max_backoff,
                             naptime OPERATOR(pg_catalog.*)
                             (pg_catalog.power(2, LEAST(failures, 30) OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog.-) 1)))
    WHERE s.step OPERATOR(pg_catalog.=) p_step;
    RAISE WARNING 'telemetry maintenance step % failed (SQLSTATE %): %', p_step, failure_state, failure_message;
    RETURN CASE WHEN failure_state OPERATOR(pg_catalog.=) '57014' THEN 'canceled' ELSE 'failed' END;
END
$$;
COMMENT ON FUNCTION telemetry.perform_maintenance_step(bigint, text, timestamptz) IS
    'Internal, for run_maintenance() and the worker: runs one step with lock_timeout = telemetry.maintenance_lock_timeout, catching any error, a cancel included; records the outcome in maintenance_runs and maintenance_steps (a failure backs the step off and raises a WARNING) and returns succeeded, failed, or canceled (57014: the caller ends the run).';


-- 35_ingest_quarantine.sql: what arrived lately, without a scan (health(), alerts()).
CREATE INDEX quarantine_received ON telemetry.quarantine (received_at);


-- 70_observe.sql: the new functions and the activity table.
-- The recent per-minute counts behind recent() and health() (shared memory: the last hour).
CREATE FUNCTION telemetry.recent_counters(minutes integer, "at" timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (event_type text, status text, events bigint)
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'telemetry_recent_counters';
COMMENT ON FUNCTION telemetry.recent_counters(integer, timestamptz) IS
    'Events by event type (the catalog''s name, _unknown, _other) and status received in the minutes (at - minutes, at], minutes 1 to 60, from per-minute counters in shared memory that hold the last hour (an instant older than that has no counts): server-wide, every tenant. Rows with a count only. Errors: NULL argument (22004), minutes outside 1..60 (22023).';

-- The last accepted event since the server started (shared memory), or NULL.
CREATE FUNCTION telemetry.last_event_received_at()
RETURNS timestamptz
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'telemetry_last_event_received_at';
COMMENT ON FUNCTION telemetry.last_event_received_at() IS
    'When the database last accepted an event (received_at, every tenant), from shared memory: NULL when none was accepted since the server started.';

-- Who was active lately, per tenant: sampled by the maintenance step sample_activity, so that
-- metrics() (a scrape every 15 s) never scans events.
CREATE TABLE telemetry.activity (
    tenant_id         uuid        PRIMARY KEY,
    sampled_at        timestamptz NOT NULL,
    last_event_at     timestamptz,
    events_1h         bigint      NOT NULL,
    active_users_1h   bigint      NOT NULL,
    active_users_24h  bigint      NOT NULL,
    active_users_7d   bigint      NOT NULL
);
COMMENT ON TABLE telemetry.activity IS 'Recent activity per tenant, sampled at each maintenance run by the step sample_activity (telemetry.naptime, 60 s by default) for metrics() and Grafana: a tenant appears while it has events in the last 7 days. Derived data: not dumped, remade by the next run. Row-level security: a role reads the rows of the tenants it has read access to.';
COMMENT ON COLUMN telemetry.activity.tenant_id IS 'The tenant.';
COMMENT ON COLUMN telemetry.activity.sampled_at IS 'The instant the sample describes (the run''s p_now).';
COMMENT ON COLUMN telemetry.activity.last_event_at IS 'The latest received_at among its events that occurred in the 24 hours before sampled_at.';
COMMENT ON COLUMN telemetry.activity.events_1h IS 'Events stored that occurred in (sampled_at - 1 hour, sampled_at].';
COMMENT ON COLUMN telemetry.activity.active_users_1h IS 'Distinct non-NULL user_id with an event in (sampled_at - 1 hour, sampled_at], exact.';
COMMENT ON COLUMN telemetry.activity.active_users_24h IS 'The same over (sampled_at - 24 hours, sampled_at], exact.';
COMMENT ON COLUMN telemetry.activity.active_users_7d IS 'The same over (sampled_at - 168 hours, sampled_at]: a HyperLogLog estimate (within 1.7 %), the whole rolled-up UTC days of the week from daily_totals'' sketches and the rest from raw events.';

CREATE FUNCTION telemetry.sample_activity(p_now timestamptz DEFAULT pg_catalog.now())
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    hll_schema name := (SELECT n.nspname FROM pg_catalog.pg_extension x
                        JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) x.extnamespace
                        WHERE x.extname OPERATOR(pg_catalog.=) 'hll');
    week_start timestamptz := (p_now OPERATOR(pg_catalog.-) interval '168 hours');
    -- Whole UTC days inside the week and below the watermark are read from their sketches.
    first_whole date := (week_start AT TIME ZONE 'UTC')::date OPERATOR(pg_catalog.+) 1;
    end_whole date := LEAST(coalesce(telemetry.rollup_watermark(), first_whole), (p_now AT TIME ZONE 'UTC')::date);
    sampled bigint;
BEGIN
    IF p_now IS NULL OR NOT pg_catalog.isfinite(p_now) THEN
        RAISE EXCEPTION 'p_now must be a finite timestamp' USING ERRCODE = '22023';
    END IF;
    IF end_whole OPERATOR(pg_catalog.<) first_whole THEN
        end_whole := first_whole;
    END IF;
    EXECUTE pg_catalog.format($sql$
    WITH raw AS (
        -- The edges of the week outside the whole days, and the last 24 hours (exact).
        SELECT e.tenant_id, e.user_id, e.occurred_at, e.received_at,
               (e.occurred_at OPERATOR(pg_catalog.<) ($3::timestamp AT TIME ZONE 'UTC')
                OR e.occurred_at OPERATOR(pg_catalog.>=) ($4::timestamp AT TIME ZONE 'UTC')) AS outside_whole
        FROM telemetry.events e
        WHERE e.occurred_at OPERATOR(pg_catalog.>) $1 AND e.occurred_at OPERATOR(pg_catalog.<=) $2
          AND (e.occurred_at OPERATOR(pg_catalog.<) ($3::timestamp AT TIME ZONE 'UTC')
               OR e.occurred_at OPERATOR(pg_catalog.>=) ($4::timestamp AT TIME ZONE 'UTC')
               OR e.occurred_at OPERATOR(pg_catalog.>) ($2 OPERATOR(pg_catalog.-) interval '24 hours'))
    ), per_tenant AS (
        SELECT r.tenant_id,
               pg_catalog.max(r.received_at) FILTER (WHERE r.occurred_at OPERATOR(pg_catalog.>) ($2 OPERATOR(pg_catalog.-) interval '24 hours')) AS last_event_at,
               pg_catalog.count(*) FILTER (WHERE r.occurred_at OPERATOR(pg_catalog.>) ($2 OPERATOR(pg_catalog.-) interval '1 hour')) AS events_1h,
               pg_catalog.count(DISTINCT r.user_id) FILTER (WHERE r.occurred_at OPERATOR(pg_catalog.>) ($2 OPERATOR(pg_catalog.-) interval '1 hour')) AS users_1h,
               pg_catalog.count(DISTINCT r.user_id) FILTER (WHERE r.occurred_at OPERATOR(pg_catalog.>) ($2 OPERATOR(pg_catalog.-) interval '24 hours')) AS users_24h,
               %1$I.hll_add_agg(%1$I.hll_hash_text(r.user_id), 15, 5) FILTER (WHERE r.outside_whole AND r.user_id IS NOT NULL) AS edge_hll
        FROM raw r
        GROUP BY r.tenant_id
    ), whole_days AS (
        SELECT t.tenant_id, %1$I.hll_union_agg(t.users_hll) AS days_hll
        FROM telemetry.daily_totals t
        WHERE t.day OPERATOR(pg_catalog.>=) $3 AND t.day OPERATOR(pg_catalog.<) $4
        GROUP BY t.tenant_id
    ), sample AS (
        SELECT coalesce(p.tenant_id, w.tenant_id) AS tenant_id, p.last_event_at,
               coalesce(p.events_1h, 0) AS events_1h, coalesce(p.users_1h, 0) AS users_1h,
               coalesce(p.users_24h, 0) AS users_24h,
               coalesce(pg_catalog.round(%1$I.hll_cardinality(
                   CASE WHEN p.edge_hll IS NULL THEN w.days_hll
                        WHEN w.days_hll IS NULL THEN p.edge_hll
                        ELSE %1$I.hll_union(p.edge_hll, w.days_hll) END))::bigint, 0) AS users_7d
        FROM per_tenant p
        FULL JOIN whole_days w ON w.tenant_id OPERATOR(pg_catalog.=) p.tenant_id
    ), kept AS (
        INSERT INTO telemetry.activity AS a (tenant_id, sampled_at, last_event_at, events_1h, active_users_1h,
                                             active_users_24h, active_users_7d)
        SELECT s.tenant_id, $2, s.last_event_at, s.events_1h, s.users_1h, s.users_24h,
               GREATEST(s.users_7d, s.users_24h)
        FROM sample s
        ON CONFLICT (tenant_id) DO UPDATE
        SET sampled_at = excluded.sampled_at, last_event_at = excluded.last_event_at, events_1h = excluded.events_1h,
            active_users_1h = excluded.active_users_1h, active_users_24h = excluded.active_users_24h,
            active_users_7d = excluded.active_users_7d
        RETURNING a.tenant_id
    ), gone AS (
        DELETE FROM telemetry.activity a
        WHERE a.tenant_id OPERATOR(pg_catalog.<>) ALL (ARRAY(SELECT k.tenant_id FROM kept k))
    )
    SELECT pg_catalog.count(*) FROM kept$sql$, hll_schema)
    INTO sampled
    USING week_start, p_now, first_whole, end_whole;
    RETURN sampled;
END
$$;
COMMENT ON FUNCTION telemetry.sample_activity(timestamptz) IS
    'Internal, the maintenance step sample_activity: recomputes telemetry.activity as of p_now for every tenant with events in the 168 hours before it (the others'' rows are removed) and returns how many tenants it sampled. Reads the raw events of the last 24 hours and of the week''s edges, and the sketches of the whole UTC days in between. Errors: p_now NULL or not finite (22023).';

-- The gauges of metrics() that come from the database: cheap reads only (no scan of events).
CREATE FUNCTION telemetry.metric_gauges(now timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (metric text, help text, label text, label_value text, value double precision)
LANGUAGE sql STABLE
SECURITY DEFINER  -- every tenant's activity and the maintenance state, for figures that name no tenant
SET search_path = pg_catalog, pg_temp
AS $$
    WITH steps AS (
        SELECT n.step, n.position, s.last_success_at, s.last_failure_at, s.consecutive_failures, s.last_duration
        FROM pg_catalog.unnest(telemetry.maintenance_step_names()) WITH ORDINALITY AS n(step, position)
        LEFT JOIN telemetry.maintenance_steps s ON s.step OPERATOR(pg_catalog.=) n.step
    ), act AS (
        SELECT pg_catalog.max(a.last_event_at) AS last_event_at, pg_catalog.max(a.sampled_at) AS sampled_at,
               coalesce(pg_catalog.sum(a.active_users_1h), 0) AS u1h, coalesce(pg_catalog.sum(a.active_users_24h), 0) AS u24h,
               coalesce(pg_catalog.sum(a.active_users_7d), 0) AS u7d
        FROM telemetry.activity a
    ), parts AS (
        SELECT pg_catalog.max(p.upper_bound) AS horizon, pg_catalog.min(p.day) AS oldest FROM telemetry.partitions() p
    )
    SELECT m.metric, m.help, m.label, m.label_value, m.value
    FROM (
        SELECT 1 AS ord, 0::bigint AS sub, 'telemetry_last_event_received_timestamp_seconds' AS metric,
               'When the database last accepted an event, Unix seconds (absent when it never did).' AS help,
               NULL::text AS label, NULL::text AS label_value,
               pg_catalog.date_part('epoch', (SELECT act.last_event_at FROM act))::float8 AS value
        UNION ALL
        SELECT 2, w.ord, 'telemetry_active_users', 'Distinct users with an event in the window (1h, 24h: exact; 7d: HyperLogLog estimate), summed over tenants, as of the last activity sample.',
               'window', w.label, w.users::float8
        FROM act, LATERAL (VALUES (1, '1h', act.u1h), (2, '24h', act.u24h), (3, '7d', act.u7d)) AS w(ord, label, users)
        UNION ALL
        SELECT 3, 0, 'telemetry_activity_sample_timestamp_seconds', 'When telemetry_active_users was sampled (the maintenance step sample_activity), Unix seconds.',
               NULL, NULL, pg_catalog.date_part('epoch', act.sampled_at)::float8 FROM act WHERE act.sampled_at IS NOT NULL
        UNION ALL
        SELECT 4, s.position, 'telemetry_maintenance_step_last_success_timestamp_seconds', 'When each maintenance step last succeeded, Unix seconds.',
               'step', s.step, pg_catalog.date_part('epoch', s.last_success_at)::float8 FROM steps s WHERE s.last_success_at IS NOT NULL
        UNION ALL
        SELECT 5, s.position, 'telemetry_maintenance_step_last_failure_timestamp_seconds', 'When each maintenance step last failed, Unix seconds.',
               'step', s.step, pg_catalog.date_part('epoch', s.last_failure_at)::float8 FROM steps s WHERE s.last_failure_at IS NOT NULL
        UNION ALL
        SELECT 6, s.position, 'telemetry_maintenance_step_consecutive_failures', 'Failures of each maintenance step since its last success.',
               'step', s.step, coalesce(s.consecutive_failures, 0)::float8 FROM steps s
        UNION ALL
        SELECT 7, s.position, 'telemetry_maintenance_step_last_duration_seconds', 'How long the last attempt of each maintenance step took, seconds.',
               'step', s.step, pg_catalog.date_part('epoch', s.last_duration)::float8 FROM steps s WHERE s.last_duration IS NOT NULL
        UNION ALL
        SELECT 8, 0, 'telemetry_rollup_lag_seconds', 'How far the rollups'' watermark is behind now (the start of its UTC day), seconds.',
               NULL, NULL, pg_catalog.date_part('epoch', now OPERATOR(pg_catalog.-) (w.watermark::pg_catalog.timestamp AT TIME ZONE 'UTC'))::float8
        FROM (SELECT telemetry.rollup_watermark() AS watermark) w WHERE w.watermark IS NOT NULL
        UNION ALL
        SELECT 9, 0, 'telemetry_rollup_pending_invalidations', 'Ranges of days waiting to be rolled up again (rows of rollup_invalidations).',
               NULL, NULL, (SELECT pg_catalog.count(*) FROM telemetry.rollup_invalidations)::float8
        UNION ALL
        SELECT 10, 0, 'telemetry_partition_horizon_timestamp_seconds', 'The end of the newest partition of telemetry.events, Unix seconds.',
               NULL, NULL, pg_catalog.date_part('epoch', parts.horizon)::float8 FROM parts WHERE parts.horizon IS NOT NULL
        UNION ALL
        SELECT 11, 0, 'telemetry_partition_oldest_timestamp_seconds', 'The start of the oldest partition of telemetry.events (its UTC day), Unix seconds.',
               NULL, NULL, pg_catalog.date_part('epoch', parts.oldest::pg_catalog.timestamp AT TIME ZONE 'UTC')::float8 FROM parts WHERE parts.oldest IS NOT NULL
        UNION ALL
        SELECT 12, 0, 'telemetry_retention_seconds', 'How long raw events are kept (telemetry.retention_days), seconds.',
               NULL, NULL, 86400 OPERATOR(pg_catalog.*) coalesce(pg_catalog.current_setting('telemetry.retention_days', true), '90')::float8
        UNION ALL
        SELECT 13, 0, 'telemetry_quarantine_events', 'Events kept in telemetry.quarantine (exact up to 100,000; beyond, the planner''s estimate).',
               NULL, NULL,
               -- A scrape never counts a large quarantine row by row: beyond 100,000 rows the
               -- statistics' estimate (as of the last ANALYZE) is close enough.
               (SELECT CASE WHEN c.reltuples OPERATOR(pg_catalog.>=) 100000 THEN c.reltuples::float8
                            ELSE (SELECT pg_catalog.count(*) FROM telemetry.quarantine)::float8 END
                FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) 'telemetry.quarantine'::pg_catalog.regclass)
        UNION ALL
        SELECT 14, 0, 'telemetry_build_info', 'The installed release of telemetry (the version label); always 1.',
               'version', (SELECT x.extversion FROM pg_catalog.pg_extension x WHERE x.extname OPERATOR(pg_catalog.=) 'telemetry'), 1
    ) m
    ORDER BY m.ord, m.sub
$$;
COMMENT ON FUNCTION telemetry.metric_gauges(timestamptz) IS
    'The gauges of metrics() that come from tables, one row per sample: metric (a Prometheus name), help, label and label_value (NULL: no label), value (NULL: unknown). Last event time, active users 1h/24h/7d and the sample time (telemetry.activity), per maintenance step its last success, last failure, failures in a row and last duration, rollup lag and pending invalidations, partition horizon and oldest partition, retention, quarantined events (exact up to 100,000, the planner''s estimate beyond), build info. Server-wide: every tenant. No scan of events.';

CREATE FUNCTION telemetry.metrics()
RETURNS text
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'telemetry_metrics';
COMMENT ON FUNCTION telemetry.metrics() IS
    'The Prometheus text exposition (format 0.0.4) of telemetry, server-wide, what the HTTP endpoint (telemetry.metrics_listen) serves at GET /metrics: counters from shared memory since the server started (telemetry_events_received_total; telemetry_events_total by status and event type; telemetry_events_refused_total by status and reason class; telemetry_tenant_events_total when telemetry.metrics_tenant_labels is on; telemetry_pii_decisions_total; the telemetry_event_payload_bytes histogram), the worker (telemetry_worker_up, telemetry_worker_last_run_timestamp_seconds) and the gauges of metric_gauges(). Reads no event. docs/observe.md, "Metrics", lists every series.';


-- 71_observe_health.sql
-- Health checks, alerts and the debug drawer (docs/observe.md, "Health and alerts"). The
-- thresholds here are the ones of monitoring/prometheus/telemetry.rules.yml.

-- The latest accepted event at or before p_now: the counters' (since the server started), the
-- activity sample's, or, when neither is recent, the events of the day before p_now.
CREATE FUNCTION telemetry.last_event_before(p_now timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SECURITY DEFINER  -- every tenant's events, for an instant that names none
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    latest timestamptz;
    candidate timestamptz;
BEGIN
    latest := telemetry.last_event_received_at();
    IF latest OPERATOR(pg_catalog.>) p_now THEN
        latest := NULL;
    END IF;
    candidate := (SELECT pg_catalog.max(a.last_event_at) FROM telemetry.activity a
                  WHERE a.last_event_at OPERATOR(pg_catalog.<=) p_now);
    IF latest IS NULL OR candidate OPERATOR(pg_catalog.>) latest THEN
        latest := candidate;
    END IF;
    -- Only when the cheap answers say "nothing for 5 minutes": look at the events themselves.
    IF latest IS NULL OR latest OPERATOR(pg_catalog.<) (p_now OPERATOR(pg_catalog.-) interval '5 minutes') THEN
        candidate := (SELECT pg_catalog.max(e.occurred_at) FROM telemetry.events e
                      WHERE e.occurred_at OPERATOR(pg_catalog.>) (p_now OPERATOR(pg_catalog.-) interval '24 hours')
                        AND e.occurred_at OPERATOR(pg_catalog.<=) p_now);
        IF latest IS NULL OR candidate OPERATOR(pg_catalog.>) latest THEN
            latest := candidate;
        END IF;
    END IF;
    RETURN latest;
END
$$;
COMMENT ON FUNCTION telemetry.last_event_before(timestamptz) IS
    'Internal, for health() and alerts(): the latest event at or before p_now, every tenant: the shared-memory time of the last accepted event, the activity sample''s, and, when neither is within 5 minutes of p_now, the latest occurred_at of the events of the 24 hours before p_now; NULL when there is none.';

CREATE FUNCTION telemetry.health(now timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE ("check" text, status text, value double precision, threshold double precision, detail text)
LANGUAGE plpgsql STABLE
SECURITY DEFINER  -- server-wide figures that name no tenant
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    naptime float8 := pg_catalog.date_part('epoch',
        coalesce(pg_catalog.current_setting('telemetry.naptime', true), '60')::pg_catalog.interval);
    retention integer := coalesce(pg_catalog.current_setting('telemetry.retention_days', true), '90')::integer;
    last_event timestamptz;
    received bigint;
    refused bigint;
    quarantined bigint;
    last_success timestamptz;
    failing integer;
    failing_step text;
    watermark date;
    horizon timestamptz;
    oldest date;
    age float8;
    stale float8 := GREATEST(600, 3 OPERATOR(pg_catalog.*) naptime);
BEGIN
    IF now IS NULL OR NOT pg_catalog.isfinite(now) THEN
        RAISE EXCEPTION 'now must be a finite timestamp' USING ERRCODE = '22023';
    END IF;
    -- 1. The last event: warn after 5 minutes, critical after an hour.
    last_event := telemetry.last_event_before(now);
    age := pg_catalog.date_part('epoch', now OPERATOR(pg_catalog.-) last_event);
    "check" := 'last_event_age'; value := age; threshold := 300;
    status := CASE WHEN age IS NULL OR age OPERATOR(pg_catalog.>) 3600 THEN 'critical'
                   WHEN age OPERATOR(pg_catalog.>) 300 THEN 'warn' ELSE 'ok' END;
    detail := CASE WHEN age IS NULL THEN 'no event in the 24 hours before now'
                   ELSE pg_catalog.format('last event %s seconds before now', pg_catalog.round(age::numeric)) END;
    RETURN NEXT;
    -- 2. Refused events (rejected and quarantined) among those received in the 5 minutes
    --    before now (shared memory: the last hour only).
    SELECT coalesce(pg_catalog.sum(r.events), 0),
           coalesce(pg_catalog.sum(r.events) FILTER (WHERE r.status OPERATOR(pg_catalog.=) ANY (ARRAY['rejected', 'quarantined'])), 0)
    INTO received, refused
    FROM telemetry.recent_counters(5, now) r;
    "check" := 'ingest_error_rate'; threshold := 0.05;
    value := CASE WHEN received OPERATOR(pg_catalog.>) 0 THEN refused::float8 OPERATOR(pg_catalog./) received END;
    status := CASE WHEN value OPERATOR(pg_catalog.>) 0.25 THEN 'critical' WHEN value OPERATOR(pg_catalog.>) 0.05 THEN 'warn' ELSE 'ok' END;
    detail := pg_catalog.format('events refused in the 5 minutes before now: %s of %s', refused, received);
    RETURN NEXT;
    -- 3. The quarantine grows: events quarantined in the hour before now.
    SELECT pg_catalog.count(*) INTO quarantined FROM telemetry.quarantine q
    WHERE q.received_at OPERATOR(pg_catalog.>) (now OPERATOR(pg_catalog.-) interval '1 hour')
      AND q.received_at OPERATOR(pg_catalog.<=) now;
    "check" := 'quarantine_growth'; value := quarantined; threshold := 0;
    status := CASE WHEN quarantined OPERATOR(pg_catalog.>) 0 THEN 'warn' ELSE 'ok' END;
    detail := pg_catalog.format('events quarantined in the hour before now: %s (telemetry.quarantine; replay_quarantine() after a catalog fix)', quarantined);
    RETURN NEXT;
    -- 4. Maintenance runs (the worker, or cron): a step succeeded within 3 naptimes (at least
    --    10 minutes); critical when a step failed 3 times in a row. As the rules, which see the
    --    steps' last successes.
    SELECT pg_catalog.max(s.last_success_at) FILTER (WHERE s.last_success_at OPERATOR(pg_catalog.<=) now)
    INTO last_success FROM telemetry.maintenance_steps s;
    SELECT s.consecutive_failures, s.step INTO failing, failing_step FROM telemetry.maintenance_steps s
    ORDER BY s.consecutive_failures DESC, s.step LIMIT 1;
    age := pg_catalog.date_part('epoch', now OPERATOR(pg_catalog.-) last_success);
    "check" := 'worker_alive'; value := age; threshold := stale;
    status := CASE WHEN age IS NULL OR age OPERATOR(pg_catalog.>) stale OR coalesce(failing, 0) OPERATOR(pg_catalog.>=) 3 THEN 'critical'
                   WHEN coalesce(failing, 0) OPERATOR(pg_catalog.>) 0 THEN 'warn' ELSE 'ok' END;
    detail := CASE WHEN age IS NULL THEN 'no maintenance step ever succeeded'
                   WHEN coalesce(failing, 0) OPERATOR(pg_catalog.>) 0
                   THEN pg_catalog.format('step %s failed %s times in a row (telemetry.maintenance_status)', failing_step, failing)
                   ELSE pg_catalog.format('a maintenance step last succeeded %s seconds before now', pg_catalog.round(age::numeric)) END;
    RETURN NEXT;
    -- 5. Rollup lag: the watermark is the start of today once maintenance ran; warn after 2 days.
    watermark := telemetry.rollup_watermark();
    age := pg_catalog.date_part('epoch', now OPERATOR(pg_catalog.-) (watermark::pg_catalog.timestamp AT TIME ZONE 'UTC'));
    "check" := 'rollup_lag'; value := age; threshold := 172800;
    status := CASE WHEN age IS NULL OR age OPERATOR(pg_catalog.>) 604800 THEN 'critical'
                   WHEN age OPERATOR(pg_catalog.>) 172800 THEN 'warn' ELSE 'ok' END;
    detail := CASE WHEN watermark IS NULL THEN 'rollups never ran'
                   ELSE pg_catalog.format('days before %s are rolled up', watermark) END;
    RETURN NEXT;
    -- 6. Partitions ready ahead: warn under 2 days, critical under 1.
    SELECT pg_catalog.max(p.upper_bound), pg_catalog.min(p.day) INTO horizon, oldest FROM telemetry.partitions() p;
    age := pg_catalog.date_part('epoch', horizon OPERATOR(pg_catalog.-) now);
    "check" := 'partition_horizon'; value := age; threshold := 172800;
    status := CASE WHEN age IS NULL OR age OPERATOR(pg_catalog.<) 86400 THEN 'critical'
                   WHEN age OPERATOR(pg_catalog.<) 172800 THEN 'warn' ELSE 'ok' END;
    detail := CASE WHEN horizon IS NULL THEN 'no partition' ELSE pg_catalog.format('partitions up to %s', horizon) END;
    RETURN NEXT;
    -- 7. The oldest partition against retention: warn when retention is 2 days late.
    age := (now AT TIME ZONE 'UTC')::date OPERATOR(pg_catalog.-) oldest;
    "check" := 'oldest_partition'; value := age; threshold := (retention OPERATOR(pg_catalog.+) 2);
    status := CASE WHEN age OPERATOR(pg_catalog.>) (retention OPERATOR(pg_catalog.+) 2) THEN 'warn' ELSE 'ok' END;
    detail := CASE WHEN oldest IS NULL THEN 'no partition'
                   ELSE pg_catalog.format('oldest partition %s, %s days old; retention %s days', oldest, age, retention) END;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION telemetry.health(timestamptz) IS
    'Health checks as of now (default now()), one row each: check, status (ok, warn, critical), value, threshold (the warn threshold, in value''s unit) and detail. last_event_age: seconds since the latest event (warn > 300, critical > 3600 or none in 24 hours); ingest_error_rate: rejected and quarantined among events received in the 5 minutes before now, a ratio (shared memory; warn > 0.05, critical > 0.25; NULL value without events); quarantine_growth: events quarantined in the hour before now (warn > 0); worker_alive: seconds since a maintenance step last succeeded (critical beyond 3 × telemetry.naptime, at least 600, or when a step failed 3 times in a row; warn after one failure); rollup_lag: seconds between the watermark and now (warn > 2 days, critical > 7 or never rolled up); partition_horizon: seconds of partitions ready ahead (warn < 2 days, critical < 1); oldest_partition: days (warn when older than telemetry.retention_days + 2). Server-wide. Errors: now NULL or not finite (22023).';

CREATE FUNCTION telemetry.alerts(now timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (alert text, severity text, value double precision, threshold double precision, summary text)
LANGUAGE plpgsql STABLE
SECURITY DEFINER  -- server-wide figures that name no tenant
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    this_hour bigint;
    baseline float8;
    h record;
BEGIN
    IF now IS NULL OR NOT pg_catalog.isfinite(now) THEN
        RAISE EXCEPTION 'now must be a finite timestamp' USING ERRCODE = '22023';
    END IF;
    -- The event rate: events of the hour before now against the average of the same hour on
    -- each of the 7 days before (a day's hour is its 24 hours earlier, whatever the time zone).
    SELECT pg_catalog.count(*) INTO this_hour FROM telemetry.events e
    WHERE e.occurred_at OPERATOR(pg_catalog.>) (now OPERATOR(pg_catalog.-) interval '1 hour')
      AND e.occurred_at OPERATOR(pg_catalog.<=) now;
    SELECT pg_catalog.avg(c.events) INTO baseline
    FROM pg_catalog.generate_series(1, 7) AS d(k)
    CROSS JOIN LATERAL (
        SELECT pg_catalog.count(*) AS events FROM telemetry.events e
        WHERE e.occurred_at OPERATOR(pg_catalog.>) (now OPERATOR(pg_catalog.-) pg_catalog.make_interval(hours => 24 OPERATOR(pg_catalog.*) d.k OPERATOR(pg_catalog.+) 1))
          AND e.occurred_at OPERATOR(pg_catalog.<=) (now OPERATOR(pg_catalog.-) pg_catalog.make_interval(hours => 24 OPERATOR(pg_catalog.*) d.k))) c;
    IF baseline OPERATOR(pg_catalog.>=) 10 AND this_hour OPERATOR(pg_catalog.<) (0.5 OPERATOR(pg_catalog.*) baseline) THEN
        alert := 'TelemetryEventRateDrop'; severity := 'warning'; value := this_hour;
        threshold := (0.5 OPERATOR(pg_catalog.*) baseline);
        summary := pg_catalog.format('%s events in the last hour, under half the 7-day average of %s for this hour of the day',
                                     this_hour, pg_catalog.round(baseline::numeric, 1));
        RETURN NEXT;
    END IF;
    -- The other alerts are the failing checks of health().
    FOR h IN SELECT * FROM telemetry.health(now) LOOP
        IF h."check" OPERATOR(pg_catalog.=) 'last_event_age' AND (h.value IS NULL OR h.value OPERATOR(pg_catalog.>) 300) THEN
            alert := 'TelemetryNoEvents'; severity := 'critical'; value := h.value; threshold := 300;
            summary := 'no event for 5 minutes: ' OPERATOR(pg_catalog.||) h.detail;
            RETURN NEXT;
        ELSIF h."check" OPERATOR(pg_catalog.=) 'worker_alive' AND h.status OPERATOR(pg_catalog.=) 'critical' THEN
            alert := 'TelemetryWorkerFailing'; severity := 'critical'; value := h.value; threshold := h.threshold;
            summary := 'maintenance is not running or keeps failing: ' OPERATOR(pg_catalog.||) h.detail;
            RETURN NEXT;
        ELSIF h."check" OPERATOR(pg_catalog.=) 'quarantine_growth' AND h.status OPERATOR(pg_catalog.<>) 'ok' THEN
            alert := 'TelemetryQuarantineGrowing'; severity := 'warning'; value := h.value; threshold := 0;
            summary := h.detail;
            RETURN NEXT;
        ELSIF h."check" OPERATOR(pg_catalog.=) 'partition_horizon' AND h.status OPERATOR(pg_catalog.<>) 'ok' THEN
            alert := 'TelemetryPartitionHorizonShort'; severity := 'critical'; value := h.value; threshold := 172800;
            summary := 'partitions are ready for less than 2 days ahead: ' OPERATOR(pg_catalog.||) h.detail;
            RETURN NEXT;
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION telemetry.alerts(timestamptz) IS
    'The alerts firing at now (default now()), the same as monitoring/prometheus/telemetry.rules.yml: alert, severity (warning, critical), value, threshold and summary. TelemetryEventRateDrop (warning): events that occurred in the hour before now are under half the average of the same hour on the 7 days before (when that average is at least 10); TelemetryNoEvents (critical): no event for 5 minutes (health() last_event_age); TelemetryWorkerFailing (critical): no maintenance step succeeded within 3 × telemetry.naptime (at least 10 minutes), or a step failed 3 times in a row; TelemetryQuarantineGrowing (warning): events were quarantined in the hour before now; TelemetryPartitionHorizonShort (critical): partitions are ready for less than 2 days ahead. No row: nothing fires. The playbook of each: monitoring/README.md, "Alerts and their playbook". Server-wide. Errors: now NULL or not finite (22023).';

CREATE FUNCTION telemetry.recent("interval" interval DEFAULT '5 minutes', now timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (event_type text, events bigint, rejected bigint, quarantined bigint, users bigint, averages jsonb)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    minutes integer;
    server_counts boolean := pg_catalog.has_function_privilege('telemetry.recent_counters(integer, timestamptz)', 'EXECUTE');
    counted_types text[] := '{}';
    counted_rejected bigint[] := '{}';
    counted_quarantined bigint[] := '{}';
BEGIN
    IF "interval" IS NULL OR now IS NULL OR NOT pg_catalog.isfinite(now) THEN
        RAISE EXCEPTION 'interval and now must not be NULL, now finite' USING ERRCODE = '22023';
    END IF;
    IF "interval" OPERATOR(pg_catalog.<=) interval '0' OR "interval" OPERATOR(pg_catalog.>) interval '1 hour' THEN
        RAISE EXCEPTION 'interval must be more than 0 and at most 1 hour' USING ERRCODE = '22023';
    END IF;
    minutes := pg_catalog.ceil(pg_catalog.date_part('epoch', "interval") OPERATOR(pg_catalog./) 60)::integer;
    -- The server-wide refusal counts, for a role that may read them, gathered first: the queries
    -- below never name recent_counters(), whose privilege a generic plan would check even
    -- where it is not called.
    IF server_counts THEN
        SELECT coalesce(pg_catalog.array_agg(c.event_type ORDER BY c.event_type), '{}'),
               coalesce(pg_catalog.array_agg(c.rejected ORDER BY c.event_type), '{}'),
               coalesce(pg_catalog.array_agg(c.quarantined ORDER BY c.event_type), '{}')
        INTO counted_types, counted_rejected, counted_quarantined
        FROM (SELECT r.event_type,
                     coalesce(pg_catalog.sum(r.events) FILTER (WHERE r.status OPERATOR(pg_catalog.=) 'rejected'), 0)::bigint AS rejected,
                     coalesce(pg_catalog.sum(r.events) FILTER (WHERE r.status OPERATOR(pg_catalog.=) 'quarantined'), 0)::bigint AS quarantined
              FROM telemetry.recent_counters(minutes, now) r
              WHERE r.status OPERATOR(pg_catalog.=) ANY (ARRAY['rejected', 'quarantined'])
              GROUP BY r.event_type) c;
    END IF;
    -- A monitoring role that may not read events sees the server-wide counts only.
    IF NOT pg_catalog.has_table_privilege('telemetry.events', 'SELECT') THEN
        RETURN QUERY
        SELECT c.name, NULL::bigint, c.rejected, c.quarantined, NULL::bigint, NULL::jsonb
        FROM ROWS FROM (pg_catalog.unnest(counted_types), pg_catalog.unnest(counted_rejected),
                       pg_catalog.unnest(counted_quarantined)) AS c(name, rejected, quarantined)
        ORDER BY c.rejected DESC, c.name;
        RETURN;
    END IF;
    RETURN QUERY
    WITH stored AS (
        SELECT e.name, pg_catalog.count(*) AS events, pg_catalog.count(DISTINCT e.user_id) AS users
        FROM telemetry.events e
        WHERE e.occurred_at OPERATOR(pg_catalog.>) (now OPERATOR(pg_catalog.-) "interval")
          AND e.occurred_at OPERATOR(pg_catalog.<=) now
        GROUP BY e.name
    ), numbers AS (
        -- The numeric top-level properties: their averages over the window.
        SELECT e.name, p.key, pg_catalog.avg((p.value OPERATOR(pg_catalog.#>>) '{}')::numeric) AS average
        FROM telemetry.events e
        CROSS JOIN LATERAL pg_catalog.jsonb_each(e.properties) AS p(key, value)
        WHERE e.occurred_at OPERATOR(pg_catalog.>) (now OPERATOR(pg_catalog.-) "interval")
          AND e.occurred_at OPERATOR(pg_catalog.<=) now
          AND pg_catalog.jsonb_typeof(p.value) OPERATOR(pg_catalog.=) 'number'
        GROUP BY e.name, p.key
    ), averaged AS (
        SELECT n.name, pg_catalog.jsonb_object_agg(n.key, pg_catalog.round(n.average, 3) ORDER BY n.key) AS averages
        FROM numbers n GROUP BY n.name
    ), counted AS (
        SELECT c.name, c.rejected, c.quarantined
        FROM ROWS FROM (pg_catalog.unnest(counted_types), pg_catalog.unnest(counted_rejected),
                       pg_catalog.unnest(counted_quarantined)) AS c(name, rejected, quarantined)
    )
    SELECT coalesce(s.name, c.name), coalesce(s.events, 0),
           CASE WHEN server_counts THEN coalesce(c.rejected, 0) END,
           CASE WHEN server_counts THEN coalesce(c.quarantined, 0) END,
           coalesce(s.users, 0), coalesce(a.averages, '{}'::jsonb)
    FROM stored s
    FULL JOIN counted c ON c.name OPERATOR(pg_catalog.=) s.name
    LEFT JOIN averaged a ON a.name OPERATOR(pg_catalog.=) coalesce(s.name, c.name)
    WHERE coalesce(s.events, 0) OPERATOR(pg_catalog.>) 0 OR coalesce(c.rejected, 0) OPERATOR(pg_catalog.>) 0
       OR coalesce(c.quarantined, 0) OPERATOR(pg_catalog.>) 0
    ORDER BY coalesce(s.events, 0) DESC, 1;
END
$$;
COMMENT ON FUNCTION telemetry.recent(interval, timestamptz) IS
    'The debug drawer: what happened in the interval before now (default the last 5 minutes; at most 1 hour), one row per event type, busiest first: events stored that occurred in the window and their distinct users (the caller''s tenants: row-level security applies; NULL, and averages too, for a role without SELECT on telemetry.events, such as pg_monitor), rejected and quarantined events received in the window''s minutes (server-wide counts from shared memory, for a role that may execute recent_counters(), such as pg_monitor or the maintenance access level; NULL for others; _unknown gathers names the catalog does not know), and averages: the average of each numeric top-level property over the window''s events (a JSON object, 3 decimals). Errors: NULL argument, now not finite, interval not in (0, 1 hour] (22023).';


-- 85_tenancy_row_security.sql: the activity table.
ALTER TABLE telemetry.activity ENABLE ROW LEVEL SECURITY;
ALTER TABLE telemetry.activity FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_read ON telemetry.activity FOR SELECT
    USING (tenant_id OPERATOR(pg_catalog.>=) (SELECT telemetry.tenant_scope_lower('read'))
           AND tenant_id OPERATOR(pg_catalog.<=) (SELECT telemetry.tenant_scope_upper('read'))
           AND ((SELECT telemetry.tenant_scope_is_range('read'))
                OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT telemetry.tenant_scope_members('read'))::pg_catalog.uuid[])));
COMMENT ON POLICY tenant_read ON telemetry.activity IS 'A role reads only the activity of the tenants it has read access to (telemetry.tenant_access, or the token presented in the transaction); the maintenance step sample_activity writes it as the extension''s owner.';


-- 90_privileges.sql: the new objects, revoked from PUBLIC, then what PUBLIC and pg_monitor may call.

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA telemetry FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA telemetry FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA telemetry FROM PUBLIC;

-- The naming rule is harmless and is used by CHECK constraints, which need EXECUTE.
GRANT EXECUTE ON FUNCTION telemetry.valid_event_name(text) TO PUBLIC;
-- The default of the named text form of track() is evaluated as the caller: it returns NULL.
GRANT EXECUTE ON FUNCTION telemetry.unset_argument() TO PUBLIC;
-- The PII detectors over a document the caller gives: they read nothing else.
GRANT EXECUTE ON FUNCTION telemetry.pii_scan(jsonb) TO PUBLIC;
-- Row-level policies run as the querying role, and call these; each answers only about the
-- caller's own identity.
GRANT EXECUTE ON FUNCTION telemetry.tenant_scope_lower(text), telemetry.tenant_scope_upper(text),
                          telemetry.tenant_scope_is_range(text), telemetry.tenant_scope_members(text),
                          telemetry.current_tenant(), telemetry.current_access(),
                          telemetry.require_tenant_access(uuid, text) TO PUBLIC;
-- PostgreSQL's monitoring role reads the server-wide figures (as for pg_stat_statements): the
-- metrics, health and alerts name no tenant; recent() shows it the events of no tenant (it has
-- no tenant access), only the server-wide refusal counts.
GRANT USAGE ON SCHEMA telemetry TO pg_monitor;
GRANT EXECUTE ON FUNCTION telemetry.metrics(), telemetry.metric_gauges(timestamptz), telemetry.health(timestamptz),
                          telemetry.alerts(timestamptz), telemetry.recent(interval, timestamptz),
                          telemetry.recent_counters(integer, timestamptz), telemetry.last_event_received_at(),
                          telemetry.ingest_counters(), telemetry.pii_counters() TO pg_monitor;


-- Roles granted a level before get what the level now includes.
SELECT telemetry.apply_access_privileges(r.oid::pg_catalog.regrole, a.access, true)
FROM telemetry.tenant_access a JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) a.role_name
ORDER BY a.role_name, a.access;
