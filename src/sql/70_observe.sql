-- What operators watch (src/pg/observe).

-- Events by what happened to them since the server started (shared memory when the library is
-- preloaded, else this backend's own counts): nothing refused goes uncounted.
CREATE FUNCTION telemetry.ingest_counters()
RETURNS TABLE (status text, events bigint)
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'telemetry_ingest_counters';
COMMENT ON FUNCTION telemetry.ingest_counters() IS
    'Events by what ingest decided (status: accepted, duplicate, quarantined, rejected, sampled_out, opted_out) since the server started: for the whole server when the library is in shared_preload_libraries, else this backend''s own. Decisions count whether or not their transaction committed.';

-- What the policy for undeclared personal data did, since the server started.
CREATE FUNCTION telemetry.pii_counters()
RETURNS TABLE (detector text, action text, decisions bigint)
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'telemetry_pii_counters';
COMMENT ON FUNCTION telemetry.pii_counters() IS
    'Values (and ids) the policy for undeclared personal data acted on since the server started, by detector (email, phone, ..., person_name) and action (redact, hash, drop, reject), one row per pair seen, from track(), track_batch() and the write-path trigger alike: for the whole server when the library is in shared_preload_libraries, else this backend''s own. Counted whether or not the transaction committed. Never a value.';

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
