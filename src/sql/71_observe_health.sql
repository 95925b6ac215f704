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
