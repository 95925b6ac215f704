-- Maintenance (docs/worker.md): the steps that keep partitions, rollups and retention, each a
-- SQL function of its own with p_now for reproducible runs; their run history and back-off; and
-- run_maintenance(), which chains them. The background worker (src/pg/worker) is only a
-- scheduler: it runs the same sequence as run_maintenance(), each step in its own transaction.

CREATE SEQUENCE telemetry.maintenance_runs_id_seq;
COMMENT ON SEQUENCE telemetry.maintenance_runs_id_seq IS 'The ids of maintenance runs (telemetry.maintenance_runs.run_id).';

-- One row per step of each run. Inserted as running and committed before the step works, so a
-- step whose process died (crash, kill, termination) is found still running by the next run,
-- which marks it failed. Trimmed by the trim_maintenance_runs step.
CREATE TABLE telemetry.maintenance_runs (
    run_id         bigint      NOT NULL,
    step           text        NOT NULL,
    started_at     timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    finished_at    timestamptz,
    status         text        NOT NULL DEFAULT 'running'
                               CHECK (status OPERATOR(pg_catalog.=) ANY (ARRAY['running', 'succeeded', 'failed'])),
    rows_affected  bigint,
    sqlstate       text,
    message        text,
    PRIMARY KEY (run_id, step)
);
CREATE INDEX maintenance_runs_started ON telemetry.maintenance_runs (started_at);
COMMENT ON TABLE telemetry.maintenance_runs IS 'The history of maintenance runs, one row per step run: kept telemetry.maintenance_history_days and at most 1,000 rows per step and status (trim_maintenance_runs). Error messages only, never the detail of an error (it may quote event values).';
COMMENT ON COLUMN telemetry.maintenance_runs.run_id IS 'The run (telemetry.maintenance_runs_id_seq).';
COMMENT ON COLUMN telemetry.maintenance_runs.step IS 'The step: create_partitions, advance_rollups, refresh_rollups, drop_expired_partitions, delete_expired_tenant_events, drop_expired_rollups, purge_event_ids, trim_maintenance_runs, sample_activity.';
COMMENT ON COLUMN telemetry.maintenance_runs.started_at IS 'When the step started (wall clock, whatever p_now the run was given).';
COMMENT ON COLUMN telemetry.maintenance_runs.finished_at IS 'When it finished; NULL while running.';
COMMENT ON COLUMN telemetry.maintenance_runs.status IS 'running, succeeded or failed (an error, or the process ended during the step).';
COMMENT ON COLUMN telemetry.maintenance_runs.rows_affected IS 'What the step returned: partitions made or dropped, days closed, rollup cells written, rows deleted.';
COMMENT ON COLUMN telemetry.maintenance_runs.sqlstate IS 'The SQLSTATE of the failure.';
COMMENT ON COLUMN telemetry.maintenance_runs.message IS 'The error message of the failure (at most 500 characters; quoted values of data errors, SQLSTATE classes 22 and 23, are elided).';

-- Per step: what the last runs did, and the back-off after failures.
CREATE TABLE telemetry.maintenance_steps (
    step                  text        PRIMARY KEY,
    last_started_at       timestamptz,
    last_success_at       timestamptz,
    last_failure_at       timestamptz,
    consecutive_failures  integer     NOT NULL DEFAULT 0,
    next_attempt_at       timestamptz,
    last_sqlstate         text,
    last_message          text,
    last_duration         interval
);
COMMENT ON TABLE telemetry.maintenance_steps IS 'The state of each maintenance step: last start, success and failure, and the back-off: after k failures in a row a step is skipped until naptime × (2^(k-1) - 1) has passed (at most telemetry.maintenance_max_backoff), so the first failure is retried at the next run.';
COMMENT ON COLUMN telemetry.maintenance_steps.step IS 'The step (as in maintenance_runs).';
COMMENT ON COLUMN telemetry.maintenance_steps.last_started_at IS 'When it last started.';
COMMENT ON COLUMN telemetry.maintenance_steps.last_success_at IS 'When it last succeeded.';
COMMENT ON COLUMN telemetry.maintenance_steps.last_failure_at IS 'When it last failed.';
COMMENT ON COLUMN telemetry.maintenance_steps.consecutive_failures IS 'Failures since the last success.';
COMMENT ON COLUMN telemetry.maintenance_steps.next_attempt_at IS 'Before this time runs skip the step (back-off); NULL: no back-off.';
COMMENT ON COLUMN telemetry.maintenance_steps.last_sqlstate IS 'The SQLSTATE of the last failure.';
COMMENT ON COLUMN telemetry.maintenance_steps.last_message IS 'The message of the last failure (as in maintenance_runs).';
COMMENT ON COLUMN telemetry.maintenance_steps.last_duration IS 'How long the last completed attempt took.';

-- Drops whole partitions past telemetry.retention_days, oldest first, once their days are rolled up.
CREATE FUNCTION telemetry.drop_expired_partitions(p_now timestamptz DEFAULT pg_catalog.now())
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER  -- partitions belong to the owner
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    horizon timestamptz;
    watermark date := telemetry.rollup_watermark();
    part record;
    dropped integer := 0;
BEGIN
    IF p_now IS NULL OR NOT pg_catalog.isfinite(p_now) THEN
        RAISE EXCEPTION 'p_now must be a finite timestamp' USING ERRCODE = '22008';
    END IF;
    horizon := (((p_now AT TIME ZONE 'UTC')::pg_catalog.date OPERATOR(pg_catalog.-)
                 coalesce(pg_catalog.current_setting('telemetry.retention_days', true)::integer, 90))::pg_catalog.timestamp
                AT TIME ZONE 'UTC');
    FOR part IN SELECT p.partition, p.lower_bound, p.upper_bound FROM telemetry.partitions() p
                WHERE p.upper_bound OPERATOR(pg_catalog.<=) horizon ORDER BY p.lower_bound
    LOOP
        -- Never before its days are rolled up (the watermark is past them) and every change
        -- logged for them recomputed (a refresh that failed, or was over its budget, leaves its
        -- rows in the log: the partition waits for the next run).
        EXIT WHEN watermark IS NULL
               OR part.upper_bound OPERATOR(pg_catalog.>) (watermark::pg_catalog.timestamp AT TIME ZONE 'UTC');
        CONTINUE WHEN EXISTS (
            SELECT FROM telemetry.rollup_invalidations i
            WHERE i.first_day OPERATOR(pg_catalog.<) (part.upper_bound AT TIME ZONE 'UTC')::pg_catalog.date
              AND i.last_day OPERATOR(pg_catalog.>=) (part.lower_bound AT TIME ZONE 'UTC')::pg_catalog.date);
        -- DETACH, then DROP: both wait at most lock_timeout (run_maintenance sets it) for the
        -- ACCESS EXCLUSIVE lock on the parent, so ingest queues behind them no longer than that.
        EXECUTE pg_catalog.format('ALTER TABLE telemetry.events DETACH PARTITION %s', part.partition);
        EXECUTE pg_catalog.format('DROP TABLE %s', part.partition);
        dropped := dropped OPERATOR(pg_catalog.+) 1;
    END LOOP;
    RETURN dropped;
END
$$;
COMMENT ON FUNCTION telemetry.drop_expired_partitions(timestamptz) IS
    'Maintenance step (retention): detaches and drops, oldest first, the partitions of telemetry.events whose days all lie more than telemetry.retention_days before p_now''s UTC day, and returns how many. Never a partition whose days are not yet rolled up (at or past rollup_watermark()), or have changes logged and not yet recomputed: the rollups keep those days (frozen). Never DELETE: no dead rows, little WAL. Errors: p_now NULL or infinite (22008); lock_timeout (55P03).';

-- Removes the events of tenants whose retention is shorter than the partitions', in bounded batches.
CREATE FUNCTION telemetry.delete_expired_tenant_events(p_now timestamptz DEFAULT pg_catalog.now(),
                                                       p_batch_size integer DEFAULT 10000)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER  -- every tenant's events
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    global_retention integer := coalesce(pg_catalog.current_setting('telemetry.retention_days', true)::integer, 90);
    today date;
    watermark date := telemetry.rollup_watermark();
    tenant record;
    horizon date;
    budget bigint := p_batch_size;
    n bigint;
BEGIN
    IF p_now IS NULL OR NOT pg_catalog.isfinite(p_now) THEN
        RAISE EXCEPTION 'p_now must be a finite timestamp' USING ERRCODE = '22008';
    END IF;
    IF p_batch_size IS NULL OR p_batch_size OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'p_batch_size must be at least 1' USING ERRCODE = '22023';
    END IF;
    IF watermark IS NULL THEN
        RETURN 0;
    END IF;
    today := (p_now AT TIME ZONE 'UTC')::pg_catalog.date;
    FOR tenant IN SELECT s.tenant_id, s.retention_days FROM telemetry.tenant_settings s
                  WHERE s.retention_days OPERATOR(pg_catalog.<) global_retention ORDER BY s.tenant_id
    LOOP
        EXIT WHEN budget OPERATOR(pg_catalog.<) 1;
        -- Only days already rolled up.
        horizon := LEAST(today OPERATOR(pg_catalog.-) tenant.retention_days, watermark);
        DELETE FROM telemetry.events e
        WHERE (e.tenant_id, e.occurred_at, e.id) IN (
            SELECT x.tenant_id, x.occurred_at, x.id FROM telemetry.events x
            WHERE x.tenant_id OPERATOR(pg_catalog.=) tenant.tenant_id
              AND x.occurred_at OPERATOR(pg_catalog.<) (horizon::pg_catalog.timestamp AT TIME ZONE 'UTC')
            ORDER BY x.occurred_at LIMIT budget);
        GET DIAGNOSTICS n = ROW_COUNT;
        budget := budget OPERATOR(pg_catalog.-) n;
    END LOOP;
    RETURN p_batch_size OPERATOR(pg_catalog.-) budget;
END
$$;
COMMENT ON FUNCTION telemetry.delete_expired_tenant_events(timestamptz, integer) IS
    'Maintenance step (retention per tenant): deletes at most p_batch_size events, oldest first, of the tenants whose tenant_settings.retention_days is shorter than telemetry.retention_days, older than that many days before p_now''s UTC day, and returns how many. Only days already rolled up (before rollup_watermark()); their rollups stay (frozen). Errors: p_now NULL or infinite (22008); p_batch_size below 1 (22023).';

-- Rollups have their own, longer retention.
CREATE FUNCTION telemetry.drop_expired_rollups(p_now timestamptz DEFAULT pg_catalog.now(),
                                               p_batch_size integer DEFAULT 100000)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER  -- every tenant's rollups
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    horizon date;
    n bigint;
BEGIN
    IF p_now IS NULL OR NOT pg_catalog.isfinite(p_now) THEN
        RAISE EXCEPTION 'p_now must be a finite timestamp' USING ERRCODE = '22008';
    END IF;
    IF p_batch_size IS NULL OR p_batch_size OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'p_batch_size must be at least 1' USING ERRCODE = '22023';
    END IF;
    horizon := (p_now AT TIME ZONE 'UTC')::pg_catalog.date OPERATOR(pg_catalog.-)
               coalesce(pg_catalog.current_setting('telemetry.rollup_retention_days', true)::integer, 730);
    DELETE FROM telemetry.daily_rollups r
    WHERE (r.tenant_id, r.day, r.name) IN (
        SELECT x.tenant_id, x.day, x.name FROM telemetry.daily_rollups x
        WHERE x.day OPERATOR(pg_catalog.<) horizon ORDER BY x.day LIMIT p_batch_size);
    GET DIAGNOSTICS n = ROW_COUNT;
    -- The days' totals go with their cells: those of days without a cell left.
    DELETE FROM telemetry.daily_totals t
    WHERE (t.tenant_id, t.day) IN (
        SELECT x.tenant_id, x.day FROM telemetry.daily_totals x
        WHERE x.day OPERATOR(pg_catalog.<) horizon
          AND NOT EXISTS (SELECT FROM telemetry.daily_rollups r
                          WHERE r.tenant_id OPERATOR(pg_catalog.=) x.tenant_id AND r.day OPERATOR(pg_catalog.=) x.day)
        ORDER BY x.day LIMIT p_batch_size);
    RETURN n;
END
$$;
COMMENT ON FUNCTION telemetry.drop_expired_rollups(timestamptz, integer) IS
    'Maintenance step (rollup retention): deletes at most p_batch_size rollup cells of days more than telemetry.rollup_retention_days (default 730) before p_now''s UTC day, oldest first, and returns how many; and the daily totals of those days once their cells are gone. Errors: p_now NULL or infinite (22008); p_batch_size below 1 (22023).';

-- Caps the run history.
CREATE FUNCTION telemetry.trim_maintenance_runs(p_now timestamptz DEFAULT pg_catalog.now(),
                                                p_keep_per_step integer DEFAULT 1000)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER  -- the history belongs to the owner
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    IF p_now IS NULL OR NOT pg_catalog.isfinite(p_now) THEN
        RAISE EXCEPTION 'p_now must be a finite timestamp' USING ERRCODE = '22008';
    END IF;
    IF p_keep_per_step IS NULL OR p_keep_per_step OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'p_keep_per_step must be at least 1' USING ERRCODE = '22023';
    END IF;
    WITH ranked AS (
        SELECT r.run_id, r.step, r.finished_at,
               pg_catalog.row_number() OVER (PARTITION BY r.step, r.status ORDER BY r.run_id DESC) AS newest
        FROM telemetry.maintenance_runs r
        WHERE r.status OPERATOR(pg_catalog.<>) 'running')
    DELETE FROM telemetry.maintenance_runs m USING ranked k
    WHERE m.run_id OPERATOR(pg_catalog.=) k.run_id AND m.step OPERATOR(pg_catalog.=) k.step
      AND (k.newest OPERATOR(pg_catalog.>) p_keep_per_step
           OR k.finished_at OPERATOR(pg_catalog.<) (LEAST(p_now, pg_catalog.now()) OPERATOR(pg_catalog.-) pg_catalog.make_interval(
                  days => coalesce(pg_catalog.current_setting('telemetry.maintenance_history_days', true)::integer, 30))));
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION telemetry.trim_maintenance_runs(timestamptz, integer) IS
    'Maintenance step: deletes the finished rows of telemetry.maintenance_runs older than telemetry.maintenance_history_days before p_now or now(), whichever is earlier (the history goes by the wall clock: a run with a later p_now does not erase it), and all but the newest p_keep_per_step per step and status; returns how many. Errors: p_now NULL or infinite (22008); p_keep_per_step below 1 (22023).';

-- The steps, in the order a run takes them.
CREATE FUNCTION telemetry.maintenance_step_names()
RETURNS text[]
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY['create_partitions', 'advance_rollups', 'refresh_rollups', 'drop_expired_partitions',
                 'delete_expired_tenant_events', 'drop_expired_rollups', 'purge_event_ids', 'trim_maintenance_runs', 'sample_activity']
$$;
COMMENT ON FUNCTION telemetry.maintenance_step_names() IS
    'The maintenance steps in the order run_maintenance() and the worker run them. advance_rollups must commit before refresh_rollups starts.';

-- The advisory lock key of a run (session level: it spans the run's transactions).
CREATE FUNCTION telemetry.begin_maintenance_run()
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER  -- the history belongs to the owner
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    holder integer;
BEGIN
    -- A session-level advisory lock: it spans the run's transactions. This session may hold it
    -- already, left by a run that failed between steps (an error no step caught): it takes the
    -- run over rather than locking again.
    SELECT l.pid INTO holder FROM pg_catalog.pg_locks l
    WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory' AND l.granted
      AND l.database OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d
                                             WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
      AND l.objid OPERATOR(pg_catalog.=) pg_catalog.hashtext('telemetry.run_maintenance')::pg_catalog.oid
      AND l.objsubid OPERATOR(pg_catalog.=) 1
    ORDER BY l.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()
    LIMIT 1;
    IF holder IS DISTINCT FROM pg_catalog.pg_backend_pid()
       AND NOT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtext('telemetry.run_maintenance')) THEN
        RAISE NOTICE 'telemetry maintenance skipped: another run is in progress (process %)', holder;
        RETURN NULL;
    END IF;
    -- Nobody else runs: a step still marked running was cut short (its process ended, or its
    -- run failed).
    WITH cut AS (
        UPDATE telemetry.maintenance_runs r
        SET status = 'failed', finished_at = pg_catalog.clock_timestamp(), sqlstate = '57P01',
            message = 'interrupted: the step did not finish (its process ended: a server restart, crash or termination; or its run failed)'
        WHERE r.status OPERATOR(pg_catalog.=) 'running'
        RETURNING r.step, r.finished_at)
    UPDATE telemetry.maintenance_steps s
    SET last_failure_at = c.finished_at, consecutive_failures = s.consecutive_failures OPERATOR(pg_catalog.+) 1,
        last_sqlstate = '57P01', last_message = 'interrupted: the step did not finish'
    FROM cut c WHERE s.step OPERATOR(pg_catalog.=) c.step;
    RETURN pg_catalog.nextval('telemetry.maintenance_runs_id_seq'::pg_catalog.regclass);
END
$$;
COMMENT ON FUNCTION telemetry.begin_maintenance_run() IS
    'Internal, for run_maintenance() and the worker: takes the session-level advisory lock of maintenance (or takes over a run this session left unfinished) and returns a new run id, after marking failed (57P01) the steps left running; NULL, with a NOTICE naming the process that holds the lock, when another session runs.';

CREATE FUNCTION telemetry.end_maintenance_run(p_run_id bigint)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Held once (begin_maintenance_run takes over a run of this session without locking again).
    IF EXISTS (SELECT FROM pg_catalog.pg_locks l
               WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory' AND l.granted
                 AND l.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid()
                 AND l.objid OPERATOR(pg_catalog.=) pg_catalog.hashtext('telemetry.run_maintenance')::pg_catalog.oid
                 AND l.objsubid OPERATOR(pg_catalog.=) 1) THEN
        PERFORM pg_catalog.pg_advisory_unlock(pg_catalog.hashtext('telemetry.run_maintenance'));
    END IF;
END
$$;
COMMENT ON FUNCTION telemetry.end_maintenance_run(bigint) IS
    'Internal, for run_maintenance() and the worker: releases the advisory lock begin_maintenance_run() took, if this session holds it.';

-- Whether the step is due (not backing off); if so its history row, committed before the work.
CREATE FUNCTION telemetry.begin_maintenance_step(p_run_id bigint, p_step text)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT p_step OPERATOR(pg_catalog.=) ANY (telemetry.maintenance_step_names()) THEN
        RAISE EXCEPTION 'unknown maintenance step' USING ERRCODE = '22023',
              HINT = 'The steps: ' || pg_catalog.array_to_string(telemetry.maintenance_step_names(), ', ') || '.';
    END IF;
    IF EXISTS (SELECT FROM telemetry.maintenance_steps s
               WHERE s.step OPERATOR(pg_catalog.=) p_step
                 AND s.next_attempt_at OPERATOR(pg_catalog.>) pg_catalog.clock_timestamp()) THEN
        RETURN false;
    END IF;
    INSERT INTO telemetry.maintenance_runs (run_id, step) VALUES (p_run_id, p_step);
    INSERT INTO telemetry.maintenance_steps AS s (step, last_started_at) VALUES (p_step, pg_catalog.clock_timestamp())
    ON CONFLICT (step) DO UPDATE SET last_started_at = excluded.last_started_at;
    RETURN true;
END
$$;
COMMENT ON FUNCTION telemetry.begin_maintenance_step(bigint, text) IS
    'Internal, for run_maintenance() and the worker: false when the step is backing off after failures; else records it as running in maintenance_runs (to be committed before perform_maintenance_step) and returns true. 22023 for an unknown step.';

-- Runs one step, catching its error; records the outcome and the back-off. Returns the status.
CREATE FUNCTION telemetry.perform_maintenance_step(p_run_id bigint, p_step text, p_now timestamptz)
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

-- The whole maintenance, for a DBA or pg_cron where the worker is not loaded. A procedure, so
-- each step commits on its own; outside a transaction block.
CREATE PROCEDURE telemetry.run_maintenance(p_now timestamptz DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
    run bigint;
    step text;
    outcome text;
BEGIN
    -- (No SET clause: a procedure with one cannot commit. Every name is qualified.)
    IF p_now IS NOT NULL AND NOT pg_catalog.isfinite(p_now) THEN
        RAISE EXCEPTION 'p_now must be a finite timestamp' USING ERRCODE = '22008';
    END IF;
    -- Inside a transaction block this fails (2D000) before anything is held.
    COMMIT;
    run := telemetry.begin_maintenance_run();
    IF run IS NULL THEN
        RETURN;
    END IF;
    COMMIT;
    FOREACH step IN ARRAY telemetry.maintenance_step_names() LOOP
        outcome := NULL;
        -- refresh_rollups waits for writers, then needs snapshots taken after the wait.
        SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
        IF telemetry.begin_maintenance_step(run, step) THEN
            COMMIT;
            SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
            outcome := telemetry.perform_maintenance_step(run, step, coalesce(p_now, pg_catalog.now()));
        END IF;
        COMMIT;
        IF outcome OPERATOR(pg_catalog.=) 'canceled' THEN
            PERFORM telemetry.end_maintenance_run(run);
            COMMIT;
            RAISE EXCEPTION 'telemetry maintenance canceled during step %', step USING ERRCODE = '57014';
        END IF;
    END LOOP;
    PERFORM telemetry.end_maintenance_run(run);
END
$$;
COMMENT ON PROCEDURE telemetry.run_maintenance(timestamptz) IS
    'Runs every maintenance step once, each in its own transaction (CALL it outside a transaction block): create_partitions, advance_rollups, refresh_rollups, drop_expired_partitions, delete_expired_tenant_events, drop_expired_rollups, purge_event_ids, trim_maintenance_runs. p_now (default: each step''s own now()) is the clock the steps go by. A failing step is recorded and backed off; the others still run. Skips with a NOTICE when another run (the worker, another session) is in progress. A cancel (statement_timeout, pg_cancel_backend) is recorded against its step and ends the run (57014). What the worker runs every telemetry.naptime seconds; for pg_cron where the worker is not loaded. Errors: p_now infinite (22008); inside a transaction block (2D000, before anything is held); canceled (57014).';

-- Maintenance does nothing in a database being restored: between CREATE EXTENSION and the end
-- of pg_restore it would make partitions and rollup state that the dump then brings again.
-- CREATE EXTENSION under telemetry.restoring = on pauses every step; resume_maintenance()
-- (after the restore) lets them run.
CREATE FUNCTION telemetry.resume_maintenance()
RETURNS integer
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    -- The erasure ledger first: a backup older than an erasure brought the user back.
    SELECT telemetry.reapply_erasures();
    WITH resumed AS (
        UPDATE telemetry.maintenance_steps s SET next_attempt_at = NULL, last_message = NULL
        WHERE s.next_attempt_at OPERATOR(pg_catalog.=) 'infinity'
        RETURNING 1)
    SELECT pg_catalog.count(*)::integer FROM resumed
$$;
COMMENT ON FUNCTION telemetry.resume_maintenance() IS
    'Lets the maintenance steps run again after a restore (CREATE EXTENSION under telemetry.restoring = on pauses them, so that the worker makes no partition or rollup state the dump brings), after applying the erasure ledger again (reapply_erasures(): a backup older than an erasure brings the user back); returns how many steps were paused. For maintenance access.';
DO $$
BEGIN
    IF coalesce(pg_catalog.current_setting('telemetry.restoring', true), 'off') OPERATOR(pg_catalog.=) 'on' THEN
        INSERT INTO telemetry.maintenance_steps (step, next_attempt_at, last_message)
        SELECT n.step, 'infinity', 'paused while the database is restored: SELECT telemetry.resume_maintenance() after the restore'
        FROM pg_catalog.unnest(telemetry.maintenance_step_names()) AS n(step);
    END IF;
END
$$;

-- What an operator looks at first.
CREATE VIEW telemetry.maintenance_status AS
SELECT n.step,
       s.last_success_at,
       s.last_failure_at,
       s.consecutive_failures,
       s.next_attempt_at,
       s.last_sqlstate,
       s.last_message,
       s.last_duration,
       w.watermark,
       r.threshold,
       CASE WHEN w.watermark IS NOT NULL
            THEN pg_catalog.now() OPERATOR(pg_catalog.-) (w.watermark::pg_catalog.timestamp AT TIME ZONE 'UTC') END AS rollup_lag,
       (SELECT pg_catalog.count(*) FROM telemetry.rollup_invalidations i) AS pending_invalidations,
       (SELECT pg_catalog.max(p.upper_bound) FROM telemetry.partitions() p) AS partition_horizon,
       (SELECT pg_catalog.min(p.day) FROM telemetry.partitions() p) AS oldest_partition
FROM pg_catalog.unnest(telemetry.maintenance_step_names()) WITH ORDINALITY AS n(step, position)
LEFT JOIN telemetry.maintenance_steps s ON s.step OPERATOR(pg_catalog.=) n.step
LEFT JOIN telemetry.rollup_state r ON true
CROSS JOIN LATERAL (SELECT telemetry.rollup_watermark() AS watermark) w
ORDER BY n.position;
COMMENT ON VIEW telemetry.maintenance_status IS 'One row per maintenance step, in run order: its last success and failure (SQLSTATE, message), failures in a row and back-off, last duration; and on every row the rollup watermark (days before it are rolled up), the threshold, rollup lag (now - watermark), pending invalidations, partition horizon (the end of the newest partition) and oldest partition day.';
COMMENT ON COLUMN telemetry.maintenance_status.step IS 'The step.';
COMMENT ON COLUMN telemetry.maintenance_status.last_success_at IS 'When it last succeeded.';
COMMENT ON COLUMN telemetry.maintenance_status.last_failure_at IS 'When it last failed.';
COMMENT ON COLUMN telemetry.maintenance_status.consecutive_failures IS 'Failures since its last success.';
COMMENT ON COLUMN telemetry.maintenance_status.next_attempt_at IS 'Skipped until then (back-off).';
COMMENT ON COLUMN telemetry.maintenance_status.last_sqlstate IS 'SQLSTATE of its last failure.';
COMMENT ON COLUMN telemetry.maintenance_status.last_message IS 'Message of its last failure.';
COMMENT ON COLUMN telemetry.maintenance_status.last_duration IS 'How long its last attempt took.';
COMMENT ON COLUMN telemetry.maintenance_status.watermark IS 'telemetry.rollup_watermark().';
COMMENT ON COLUMN telemetry.maintenance_status.threshold IS 'The invalidation threshold (telemetry.rollup_state).';
COMMENT ON COLUMN telemetry.maintenance_status.rollup_lag IS 'now() minus the start of the watermark day: how old the newest rolled-up data may be.';
COMMENT ON COLUMN telemetry.maintenance_status.pending_invalidations IS 'Rows waiting in telemetry.rollup_invalidations.';
COMMENT ON COLUMN telemetry.maintenance_status.partition_horizon IS 'The upper bound of the newest partition: events up to then have a partition.';
COMMENT ON COLUMN telemetry.maintenance_status.oldest_partition IS 'The UTC day of the oldest partition.';
