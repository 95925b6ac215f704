-- Daily rollups (docs/rollup.md): per tenant, UTC day and event type, the weighted event count,
-- exact distinct users and sessions, and a HyperLogLog sketch of the users that merges across
-- days. TimescaleDB's continuous aggregates reduced to days (DESIGN.md §6):
--
--   threshold   telemetry.rollup_state.threshold: a change to an event of a day before it is
--               logged in telemetry.rollup_invalidations, in the changing transaction;
--   watermark   rollup_watermark(): the days before it are materialized; readers take rollups
--               below it and raw events from it on, in one snapshot;
--   refresh     recomputes only the logged (tenant, day) cells, so its work follows what
--               changed, not the size of the table;
--   frozen      a day older than its tenant's raw retention (or than the oldest partition) is
--               never recomputed: retention removes raw events, never the rollups made of them.
--
-- The order that loses no late event (test/isolation/specs/rollup_watermark.spec): writers read
-- the threshold after taking their lock on telemetry.events; advance_rollups() moves it in a
-- transaction of its own, and refresh_rollups() waits for every writer holding that lock
-- (which may have read the old threshold) to finish before materializing the days it closed.

-- One row, written by advance_rollups(); none before the first run.
CREATE TABLE telemetry.rollup_state (
    singleton   boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    threshold   date        NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE telemetry.rollup_state IS 'The rollups'' invalidation threshold, one row written by telemetry.advance_rollups() (none before its first run). Backends cache it (trigger rollup_state_changed).';
COMMENT ON COLUMN telemetry.rollup_state.singleton IS 'Always true: the table has at most one row.';
COMMENT ON COLUMN telemetry.rollup_state.threshold IS 'The first UTC day not yet closed: an insert, update or delete of an event of an earlier day is logged in telemetry.rollup_invalidations.';
COMMENT ON COLUMN telemetry.rollup_state.updated_at IS 'When the threshold last moved.';
SELECT pg_catalog.pg_extension_config_dump('telemetry.rollup_state', '');
CREATE TRIGGER rollup_state_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON telemetry.rollup_state
    FOR EACH STATEMENT EXECUTE FUNCTION telemetry.table_changed();
ALTER TABLE telemetry.rollup_state ENABLE ALWAYS TRIGGER rollup_state_changed;

-- The invalidation log: ranges of days whose rollup cells must be recomputed.
CREATE TABLE telemetry.rollup_invalidations (
    tenant_id   uuid,
    first_day   date        NOT NULL,
    last_day    date        NOT NULL,
    reason      text        NOT NULL CHECK (reason OPERATOR(pg_catalog.=) ANY
                                            (ARRAY['insert', 'update', 'delete', 'truncate', 'closed', 'manual'])),
    logged_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CHECK (last_day OPERATOR(pg_catalog.>=) first_day)
);
COMMENT ON TABLE telemetry.rollup_invalidations IS 'The rollups'' invalidation log: ranges of UTC days of a tenant (or of every tenant) whose cells telemetry.refresh_rollups() recomputes and then deletes. Written when a transaction that changed events of closed days commits (one row per tenant and kind of change), by a TRUNCATE, by advance_rollups() for the days it closes, and by invalidate_rollups(). Row-level security: a tenant''s admins see its rows.';
COMMENT ON COLUMN telemetry.rollup_invalidations.tenant_id IS 'The tenant; NULL: every tenant (days closed, TRUNCATE, invalidate_rollups(NULL, ...)).';
COMMENT ON COLUMN telemetry.rollup_invalidations.first_day IS 'The first UTC day of the range.';
COMMENT ON COLUMN telemetry.rollup_invalidations.last_day IS 'The last UTC day of the range (inclusive).';
COMMENT ON COLUMN telemetry.rollup_invalidations.reason IS 'What logged it: insert, update, delete or truncate of events; closed (advance_rollups); manual (invalidate_rollups).';
COMMENT ON COLUMN telemetry.rollup_invalidations.logged_at IS 'When the logging transaction began.';
SELECT pg_catalog.pg_extension_config_dump('telemetry.rollup_invalidations', '');
CREATE INDEX rollup_invalidations_days ON telemetry.rollup_invalidations (first_day, last_day);

-- The rollups. users_hll uses the hll type of the hll extension, wherever it was installed:
-- this script names it by its schema (a SECURITY DEFINER function never searches a schema
-- other roles may write to).
DO $$
DECLARE
    hll_schema name := (SELECT n.nspname FROM pg_catalog.pg_extension x
                        JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) x.extnamespace
                        WHERE x.extname OPERATOR(pg_catalog.=) 'hll');
BEGIN
    EXECUTE pg_catalog.format($sql$
        CREATE TABLE telemetry.daily_rollups (
            tenant_id     uuid        NOT NULL,
            day           date        NOT NULL,
            name          text        NOT NULL,
            events        numeric     NOT NULL,
            raw_events    bigint      NOT NULL,
            users         bigint      NOT NULL,
            users_hll     %1$I.hll(15, 5) NOT NULL,
            sessions      bigint      NOT NULL,
            refreshed_at  timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, day, name)
        )$sql$, hll_schema);
    EXECUTE pg_catalog.format($sql$
        CREATE TABLE telemetry.daily_totals (
            tenant_id     uuid        NOT NULL,
            day           date        NOT NULL,
            events        numeric     NOT NULL,
            raw_events    bigint      NOT NULL,
            users         bigint,
            users_hll     %1$I.hll(15, 5) NOT NULL,
            sessions      bigint,
            refreshed_at  timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, day)
        )$sql$, hll_schema);
END
$$;
CREATE INDEX daily_rollups_day ON telemetry.daily_rollups (day);
COMMENT ON TABLE telemetry.daily_rollups IS 'Daily rollups of telemetry.events per tenant, UTC day and event type, kept by the maintenance worker (telemetry.run_maintenance): complete for the days before telemetry.rollup_watermark() except cells with a pending invalidation; kept telemetry.rollup_retention_days, longer than raw events. Row-level security: a role reads the rows of the tenants it has read access to.';
COMMENT ON COLUMN telemetry.daily_rollups.tenant_id IS 'The tenant.';
COMMENT ON COLUMN telemetry.daily_rollups.day IS 'The UTC day of occurred_at.';
COMMENT ON COLUMN telemetry.daily_rollups.name IS 'The event type.';
COMMENT ON COLUMN telemetry.daily_rollups.events IS 'Events, weighted: the sum of sample_weight (an event kept at sample_rate 0.1 counts 10).';
COMMENT ON COLUMN telemetry.daily_rollups.raw_events IS 'Events stored, unweighted.';
COMMENT ON COLUMN telemetry.daily_rollups.users IS 'Exact count of distinct non-NULL user_id that day (unweighted: sampling keeps or drops whole events, not users).';
COMMENT ON COLUMN telemetry.daily_rollups.users_hll IS 'HyperLogLog sketch of the day''s user_id (hll_hash_text; log2m 15, regwidth 5: standard error 0.57 %, so within 1.7 % at three standard errors; docs/rollup.md): hll_union_agg over days, then hll_cardinality, counts distinct users across days.';
COMMENT ON COLUMN telemetry.daily_rollups.sessions IS 'Exact count of distinct non-NULL session_id that day.';
COMMENT ON COLUMN telemetry.daily_rollups.refreshed_at IS 'When the cell was last computed.';
SELECT pg_catalog.pg_extension_config_dump('telemetry.daily_rollups', '');
-- The same, over every event type: daily active users exactly, without adding up types (a user
-- active in two types is one user).
CREATE INDEX daily_totals_day ON telemetry.daily_totals (day);
COMMENT ON TABLE telemetry.daily_totals IS 'Daily rollups of telemetry.events per tenant and UTC day over every event type (daily active users), kept with telemetry.daily_rollups by the same refresh, for the same days and with the same retention. Row-level security: a role reads the rows of the tenants it has read access to.';
COMMENT ON COLUMN telemetry.daily_totals.tenant_id IS 'The tenant.';
COMMENT ON COLUMN telemetry.daily_totals.day IS 'The UTC day of occurred_at.';
COMMENT ON COLUMN telemetry.daily_totals.events IS 'Events of every type, weighted: the sum of sample_weight.';
COMMENT ON COLUMN telemetry.daily_totals.raw_events IS 'Events stored, unweighted.';
COMMENT ON COLUMN telemetry.daily_totals.users IS 'Exact count of distinct non-NULL user_id that day, over every event type (the daily active users). NULL for a day rolled up before 0.6.0 whose raw events were gone when it was upgraded (users_hll estimates it).';
COMMENT ON COLUMN telemetry.daily_totals.users_hll IS 'HyperLogLog sketch of the day''s user_id over every event type (as daily_rollups.users_hll).';
COMMENT ON COLUMN telemetry.daily_totals.sessions IS 'Exact count of distinct non-NULL session_id that day; NULL as users.';
COMMENT ON COLUMN telemetry.daily_totals.refreshed_at IS 'When the row was last computed.';
SELECT pg_catalog.pg_extension_config_dump('telemetry.daily_totals', '');

-- The triggers that note changes to events of closed days (src/pg/rollup/rollup_log): a row
-- trigger, cloned onto every partition whatever it is (heap, sub-partitioned, foreign: statement
-- triggers with transition tables cannot collect rows of foreign partitions), and one for
-- TRUNCATE. The note is written to the log when the changing transaction commits, one row per
-- tenant and kind of change. track(), track_batch() and replay_quarantine() write below the
-- executor and note their own events, with a comparison per event.
CREATE FUNCTION telemetry.log_event_changes()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'telemetry_log_event_changes';
COMMENT ON FUNCTION telemetry.log_event_changes() IS
    'Internal trigger function of telemetry.events (enabled ALWAYS): AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW notes the (tenant, day) of a change before the rollup threshold, written to telemetry.rollup_invalidations when the transaction commits; AFTER TRUNCATE logs every closed day of every tenant. Raises 39P01 when not called as such a trigger.';
CREATE TRIGGER events_log_changes AFTER INSERT OR UPDATE OR DELETE ON telemetry.events
    FOR EACH ROW EXECUTE FUNCTION telemetry.log_event_changes();
CREATE TRIGGER events_log_truncates AFTER TRUNCATE ON telemetry.events
    FOR EACH STATEMENT EXECUTE FUNCTION telemetry.log_event_changes();
ALTER TABLE telemetry.events ENABLE ALWAYS TRIGGER events_log_changes;
ALTER TABLE telemetry.events ENABLE ALWAYS TRIGGER events_log_truncates;

-- Internal: waits until every transaction holding a lock on telemetry.events or one of its
-- partitions that conflicts with SHARE (every writer) has ended, without blocking new ones
-- (CREATE INDEX CONCURRENTLY's wait). Subject to lock_timeout.
CREATE FUNCTION telemetry.wait_for_event_writers()
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'telemetry_wait_for_event_writers';
COMMENT ON FUNCTION telemetry.wait_for_event_writers() IS
    'Internal, for refresh_rollups(): waits for every transaction that is writing telemetry.events or one of its partitions to end, without blocking new writers. Subject to lock_timeout (55P03); 55000 unless the transaction is READ COMMITTED (the reads that follow need snapshots taken after the wait).';

-- The first day whose rollups are not materialized: the threshold, or the first day of a
-- range it closed that refresh_rollups() has not materialized yet. NULL before the first run.
CREATE FUNCTION telemetry.rollup_watermark()
RETURNS date
LANGUAGE sql STABLE
SECURITY DEFINER  -- reads the log of every tenant for a value that names none
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT LEAST(s.threshold,
                            (SELECT pg_catalog.min(i.first_day) FROM telemetry.rollup_invalidations i
                             WHERE i.reason OPERATOR(pg_catalog.=) 'closed'))
    FROM telemetry.rollup_state s
$$;
COMMENT ON FUNCTION telemetry.rollup_watermark() IS
    'The rollups'' watermark: the first UTC day whose rollups are not yet materialized (days before it are in telemetry.daily_rollups, but for cells with a pending invalidation); NULL before maintenance first ran. Read it in the same snapshot as the rollups (docs/rollup.md).';

-- Logs a range of days to recompute, for changes that fired no trigger (a TRUNCATE of one
-- partition, data loaded with triggers disabled). As the caller (SECURITY INVOKER): its access
-- is checked here for a clear error, and again by the log's row-level policies, which let a
-- tenant's admins add 'manual' rows of their tenants only.
CREATE FUNCTION telemetry.invalidate_rollups(p_tenant_id uuid, p_from date, p_to date)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_from IS NULL OR p_to IS NULL OR p_to OPERATOR(pg_catalog.<) p_from THEN
        RAISE EXCEPTION 'p_from and p_to must be days with p_from <= p_to' USING ERRCODE = '22023';
    END IF;
    -- Every tenant (NULL) is maintenance's business.
    PERFORM telemetry.require_tenant_access(p_tenant_id, CASE WHEN p_tenant_id IS NULL THEN 'maintain' ELSE 'admin' END);
    INSERT INTO telemetry.rollup_invalidations (tenant_id, first_day, last_day, reason)
    VALUES (p_tenant_id, p_from, p_to, 'manual');
END
$$;
COMMENT ON FUNCTION telemetry.invalidate_rollups(uuid, date, date) IS
    'Logs the UTC days p_from..p_to (inclusive) of a tenant (NULL: every tenant) for recomputation by the next refresh_rollups(): after changes to telemetry.events that fired no trigger (a TRUNCATE of one partition, triggers disabled). Frozen days stay as they are. Runs as the caller. Errors: a missing or reversed range (22023); no admin access to the tenant, or no maintenance access for NULL (42501).';

-- Moves the threshold to p_now's UTC day: the days before it are closed, and logged for
-- refresh_rollups() to materialize. Commit before refresh_rollups() runs (run_maintenance does).
CREATE FUNCTION telemetry.advance_rollups(p_now timestamptz DEFAULT pg_catalog.now())
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER  -- maintenance access; the state belongs to the owner
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target date;
    previous date;
    first_closed date;
BEGIN
    IF p_now IS NULL OR NOT pg_catalog.isfinite(p_now) THEN
        RAISE EXCEPTION 'p_now must be a finite timestamp' USING ERRCODE = '22008';
    END IF;
    target := (p_now AT TIME ZONE 'UTC')::pg_catalog.date;
    SELECT s.threshold INTO previous FROM telemetry.rollup_state s FOR UPDATE;
    IF previous IS NOT NULL AND previous OPERATOR(pg_catalog.>=) target THEN
        RETURN 0;  -- it only moves forward
    END IF;
    -- The first run closes every day that has a partition.
    first_closed := coalesce(previous, (SELECT pg_catalog.min(p.day) FROM telemetry.partitions() p), target);
    INSERT INTO telemetry.rollup_state AS s (singleton, threshold, updated_at) VALUES (true, target, pg_catalog.now())
    ON CONFLICT (singleton) DO UPDATE SET threshold = excluded.threshold, updated_at = excluded.updated_at;
    IF first_closed OPERATOR(pg_catalog.<) target THEN
        INSERT INTO telemetry.rollup_invalidations (tenant_id, first_day, last_day, reason)
        VALUES (NULL, first_closed, target OPERATOR(pg_catalog.-) 1, 'closed');
    END IF;
    RETURN GREATEST(target OPERATOR(pg_catalog.-) first_closed, 0);
END
$$;
COMMENT ON FUNCTION telemetry.advance_rollups(timestamptz) IS
    'Maintenance step: moves the rollup threshold forward to the UTC day of p_now, closing the days before it (the first run closes every day that has a partition), and logs them for refresh_rollups(); returns how many days it closed. Commit before refresh_rollups() (run_maintenance() does). Errors: p_now NULL or infinite (22008).';

-- Recomputes the logged cells, at most p_max_days days of ranges per call (the rest stays in
-- the log for the next call), and returns how many cells it wrote.
-- Replaces the rollup cells and daily totals of a tenant's days (p_tenant NULL: every tenant)
-- with what the events give now: for each range refresh_rollups() takes from the log, and for
-- the days of a user erase_user() erased. A day older than its tenant's own, shorter retention
-- (tenant_settings.retention_days) is frozen for that tenant and stays as it is, unless it is
-- being closed (p_closed: materialized for the first time). Returns the cells written.
CREATE FUNCTION telemetry.replace_rollup_cells(p_tenant uuid, p_first_day date, p_last_day date, p_today date,
                                               p_closed boolean)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    hll_schema name := (SELECT n.nspname FROM pg_catalog.pg_extension x
                        JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) x.extnamespace
                        WHERE x.extname OPERATOR(pg_catalog.=) 'hll');
    n bigint;
BEGIN
    DELETE FROM telemetry.daily_rollups r
    WHERE r.day OPERATOR(pg_catalog.>=) p_first_day AND r.day OPERATOR(pg_catalog.<=) p_last_day
      AND (p_tenant IS NULL OR r.tenant_id OPERATOR(pg_catalog.=) p_tenant)
      AND (p_closed OR NOT EXISTS (
              SELECT FROM telemetry.tenant_settings s
              WHERE s.tenant_id OPERATOR(pg_catalog.=) r.tenant_id
                AND r.day OPERATOR(pg_catalog.<) (p_today OPERATOR(pg_catalog.-) s.retention_days)));
    DELETE FROM telemetry.daily_totals r
    WHERE r.day OPERATOR(pg_catalog.>=) p_first_day AND r.day OPERATOR(pg_catalog.<=) p_last_day
      AND (p_tenant IS NULL OR r.tenant_id OPERATOR(pg_catalog.=) p_tenant)
      AND (p_closed OR NOT EXISTS (
              SELECT FROM telemetry.tenant_settings s
              WHERE s.tenant_id OPERATOR(pg_catalog.=) r.tenant_id
                AND r.day OPERATOR(pg_catalog.<) (p_today OPERATOR(pg_catalog.-) s.retention_days)));
    -- One read of the days' events for both tables: the cells per event type, and the
    -- totals per day (grouping sets: GROUPING(name) is 1 on the totals).
    EXECUTE pg_catalog.format($sql$
        WITH cells AS (
            SELECT e.tenant_id, (e.occurred_at AT TIME ZONE 'UTC')::pg_catalog.date AS day, e.name,
                   GROUPING(e.name) AS all_types,
                   pg_catalog.sum(e.sample_weight::pg_catalog.numeric) AS events, pg_catalog.count(*) AS raw_events,
                   pg_catalog.count(DISTINCT e.user_id) AS users,
                   coalesce(%1$I.hll_add_agg(%1$I.hll_hash_text(e.user_id), 15, 5), %1$I.hll_empty(15, 5)) AS users_hll,
                   pg_catalog.count(DISTINCT e.session_id) AS sessions
            FROM telemetry.events e
            LEFT JOIN telemetry.tenant_settings s ON s.tenant_id OPERATOR(pg_catalog.=) e.tenant_id
            WHERE e.occurred_at OPERATOR(pg_catalog.>=) ($1::pg_catalog.timestamp AT TIME ZONE 'UTC')
              AND e.occurred_at OPERATOR(pg_catalog.<) (($2 OPERATOR(pg_catalog.+) 1)::pg_catalog.timestamp AT TIME ZONE 'UTC')
              AND ($3::pg_catalog.uuid IS NULL OR e.tenant_id OPERATOR(pg_catalog.=) $3)
              AND ($5 OR s.retention_days IS NULL OR e.occurred_at OPERATOR(pg_catalog.>=)
                  (($4 OPERATOR(pg_catalog.-) s.retention_days)::pg_catalog.timestamp AT TIME ZONE 'UTC'))
            GROUP BY GROUPING SETS ((1, 2, e.name), (1, 2))),
        typed AS (
            INSERT INTO telemetry.daily_rollups
                (tenant_id, day, name, events, raw_events, users, users_hll, sessions, refreshed_at)
            SELECT c.tenant_id, c.day, c.name, c.events, c.raw_events, c.users, c.users_hll, c.sessions,
                   pg_catalog.now()
            FROM cells c WHERE c.all_types OPERATOR(pg_catalog.=) 0
            RETURNING 1),
        totals AS (
            INSERT INTO telemetry.daily_totals
                (tenant_id, day, events, raw_events, users, users_hll, sessions, refreshed_at)
            SELECT c.tenant_id, c.day, c.events, c.raw_events, c.users, c.users_hll, c.sessions, pg_catalog.now()
            FROM cells c WHERE c.all_types OPERATOR(pg_catalog.=) 1
            RETURNING 1)
        -- (a data-modifying WITH runs to completion whether read or not)
        SELECT pg_catalog.count(*) FROM typed$sql$,
        hll_schema)
    INTO n
    USING p_first_day, p_last_day, p_tenant, p_today, p_closed;
    RETURN n;
END
$$;
COMMENT ON FUNCTION telemetry.replace_rollup_cells(uuid, date, date, date, boolean) IS
    'Internal (the owner''s): replaces the daily_rollups cells and daily_totals rows of a tenant''s days (NULL: every tenant) in [p_first_day, p_last_day] with what telemetry.events gives now; a day older than the tenant''s own retention at p_today is kept unless p_closed. For refresh_rollups() and erase_user(). Returns the cells written.';

CREATE FUNCTION telemetry.refresh_rollups(p_now timestamptz DEFAULT pg_catalog.now(), p_max_days integer DEFAULT 100)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER  -- maintenance access; rollups and the log belong to the owner
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    threshold date;
    oldest_partition date := (SELECT pg_catalog.min(p.day) FROM telemetry.partitions() p);
    today date;
    budget integer := p_max_days;
    covered pg_catalog.datemultirange := '{}';
    new_days integer;
    range record;
    first_day date;
    last_day date;
    written bigint := 0;
    n bigint;
BEGIN
    IF p_now IS NULL OR NOT pg_catalog.isfinite(p_now) THEN
        RAISE EXCEPTION 'p_now must be a finite timestamp' USING ERRCODE = '22008';
    END IF;
    IF p_max_days IS NULL OR p_max_days OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'p_max_days must be at least 1' USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT FROM telemetry.rollup_state s
               WHERE s.xmin OPERATOR(pg_catalog.=) pg_catalog.xid(pg_catalog.pg_current_xact_id_if_assigned())) THEN
        RAISE EXCEPTION 'the rollup threshold moved in this transaction: commit before refresh_rollups()'
            USING ERRCODE = '55000',
                  DETAIL = 'Writers that read the old threshold are waited for only once the new one is committed.';
    END IF;
    -- One refresher at a time.
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('telemetry.refresh_rollups'));
    SELECT s.threshold INTO threshold FROM telemetry.rollup_state s;
    IF threshold IS NULL THEN
        RETURN 0;
    END IF;
    today := (p_now AT TIME ZONE 'UTC')::pg_catalog.date;
    -- Days newly closed may have writers in flight that read the old threshold and logged
    -- nothing: wait for them to end. Every later statement here has a newer snapshot, which
    -- sees what they committed (READ COMMITTED, checked by the wait).
    IF EXISTS (SELECT FROM telemetry.rollup_invalidations i WHERE i.reason OPERATOR(pg_catalog.=) 'closed') THEN
        PERFORM telemetry.wait_for_event_writers();
    END IF;
    -- Take the log as this snapshot sees it, merged per tenant (NULL: every tenant), and cut to
    -- the days that can be recomputed: closed, and with a partition (a day without one is
    -- frozen: its events are gone; retention drops no partition with logged days).
    FOR range IN
        WITH taken AS (
            DELETE FROM telemetry.rollup_invalidations i RETURNING i.tenant_id, i.first_day, i.last_day, i.reason),
        cut AS (
            SELECT t.tenant_id, t.reason OPERATOR(pg_catalog.=) 'closed' AS closed,
                   GREATEST(t.first_day, oldest_partition) AS first_day,
                   LEAST(t.last_day, threshold OPERATOR(pg_catalog.-) 1) AS last_day
            FROM taken t)
        SELECT c.tenant_id, c.closed,
               pg_catalog.unnest(pg_catalog.range_agg(pg_catalog.daterange(c.first_day, c.last_day, '[]'))) AS days
        FROM cut c
        WHERE c.first_day OPERATOR(pg_catalog.<=) c.last_day
        GROUP BY c.tenant_id, c.closed
        ORDER BY 3
    LOOP
        first_day := pg_catalog.lower(range.days);
        last_day := pg_catalog.upper(range.days) OPERATOR(pg_catalog.-) 1;
        -- The budget counts distinct days (a day of every tenant costs about what the same day
        -- of each tenant in turn does): what is over it goes back into the log, for the next call.
        new_days := (SELECT coalesce(pg_catalog.sum(pg_catalog.upper(x) OPERATOR(pg_catalog.-) pg_catalog.lower(x)), 0)
                     FROM pg_catalog.unnest(pg_catalog.datemultirange(range.days) OPERATOR(pg_catalog.-) covered) AS x);
        IF new_days OPERATOR(pg_catalog.>) budget THEN
            IF budget OPERATOR(pg_catalog.<) 1 THEN
                INSERT INTO telemetry.rollup_invalidations (tenant_id, first_day, last_day, reason)
                VALUES (range.tenant_id, first_day, last_day, CASE WHEN range.closed THEN 'closed' ELSE 'manual' END);
                CONTINUE;
            END IF;
            INSERT INTO telemetry.rollup_invalidations (tenant_id, first_day, last_day, reason)
            VALUES (range.tenant_id, first_day OPERATOR(pg_catalog.+) budget, last_day,
                    CASE WHEN range.closed THEN 'closed' ELSE 'manual' END);
            last_day := first_day OPERATOR(pg_catalog.+) budget OPERATOR(pg_catalog.-) 1;
        END IF;
        new_days := (SELECT coalesce(pg_catalog.sum(pg_catalog.upper(x) OPERATOR(pg_catalog.-) pg_catalog.lower(x)), 0)
                     FROM pg_catalog.unnest(pg_catalog.datemultirange(pg_catalog.daterange(first_day, last_day, '[]'))
                                            OPERATOR(pg_catalog.-) covered) AS x);
        budget := budget OPERATOR(pg_catalog.-) new_days;
        covered := covered OPERATOR(pg_catalog.+) pg_catalog.datemultirange(pg_catalog.daterange(first_day, last_day, '[]'));
        -- Replace the cells of those days (frozen days kept).
        n := telemetry.replace_rollup_cells(range.tenant_id, first_day, last_day, today, range.closed);
        written := written OPERATOR(pg_catalog.+) n;
    END LOOP;
    RETURN written;
END
$$;
COMMENT ON FUNCTION telemetry.refresh_rollups(timestamptz, integer) IS
    'Maintenance step: recomputes the rollup cells telemetry.rollup_invalidations names (merged per tenant; at most p_max_days distinct days per call, the rest stays logged) from telemetry.events, and returns how many cells it wrote. Days not yet closed and days without a partition are dropped from the log and left as they are; so are, for a change logged after they were materialized, days older than their tenant''s own retention (tenant_settings.retention_days) at p_now (frozen). When days were just closed it first waits for the writers in flight. Errors: p_now NULL or infinite (22008); p_max_days below 1 (22023); the threshold moved in this transaction, or days just closed under an isolation level above READ COMMITTED (55000); writers holding on past lock_timeout (55P03).';
