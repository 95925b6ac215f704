-- Counts, uniques and engagement (docs/analytics.md, FUNNELS.md "Engagement"): event_counts,
-- top_events, unique_users, active_users, stickiness and dump, in SQL and PL/pgSQL.
--
-- All run as the caller (SECURITY INVOKER) and STABLE: row-level security on events and
-- daily_rollups applies, every statement sees the snapshot of the calling query, and each first
-- asks telemetry.require_tenant_access(tenant_id, 'read') (42501; 22004 for NULL).
--
-- Rollups are read only where they give the very answer the raw events give: whole UTC days,
-- before the watermark, with no pending invalidation (rollup_exact_days()), read in the same
-- query as the raw events of the rest of the range. The rest is read from raw events.

-- The UTC days whose rollup cells are complete and current for every tenant. SECURITY DEFINER
-- (as rollup_watermark()): the log is the maintenance's, and a reader may not see it; the answer
-- names no tenant (the log of every tenant is merged), so it tells a reader nothing about
-- another tenant's data that it could attribute.
CREATE FUNCTION telemetry.rollup_exact_days()
RETURNS pg_catalog.datemultirange
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    -- Days before the oldest partition have no raw events left: their rollups are all there is
    -- (refresh_rollups() drops a change logged for them), so the log does not exclude them.
    WITH state AS (
        SELECT telemetry.rollup_watermark() AS watermark,
               (SELECT pg_catalog.min(p.day) FROM telemetry.partitions() p) AS oldest_partition)
    SELECT CASE WHEN s.watermark IS NULL THEN '{}'::pg_catalog.datemultirange
           ELSE pg_catalog.datemultirange(pg_catalog.daterange(NULL, s.watermark))
                OPERATOR(pg_catalog.-)
                coalesce((SELECT pg_catalog.range_agg(pg_catalog.daterange(GREATEST(i.first_day, s.oldest_partition),
                                                                           i.last_day, '[]'))
                          FROM telemetry.rollup_invalidations i
                          WHERE i.last_day OPERATOR(pg_catalog.>=) s.oldest_partition),
                         '{}'::pg_catalog.datemultirange)
           END
    FROM state s
$$;
COMMENT ON FUNCTION telemetry.rollup_exact_days() IS
    'Internal, for the analytics functions: the UTC days whose cells in telemetry.daily_rollups equal what a GROUP BY over telemetry.events gives, for every tenant: the days before telemetry.rollup_watermark() without a pending row in telemetry.rollup_invalidations (a row of any tenant counts, so the answer names none); days before the oldest partition count whatever the log says (their rollups are all that is left: refresh_rollups() never recomputes them). Empty before maintenance first ran. Read it in the same query as the rollups (one snapshot). SECURITY DEFINER: it reads the log, which readers cannot.';

-- How a function splits ["from", "to") between the rollups and the raw events: the whole UTC
-- days of the range whose rollups are exact (rollup_exact_days(); none unless use_rollups), and
-- the spans of time left, for the raw events. Called in the calling function's query, so read in
-- its snapshot with the rollups and the events (a STABLE function sees the caller's snapshot).
CREATE FUNCTION telemetry.rollup_split("from" timestamptz, "to" timestamptz, use_rollups boolean)
RETURNS TABLE (rollup_days pg_catalog.datemultirange, raw_spans pg_catalog.tstzmultirange)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH first AS (
        -- The first UTC day that starts at or after "from".
        SELECT CASE WHEN ((("from" AT TIME ZONE 'UTC')::pg_catalog.date)::pg_catalog.timestamp AT TIME ZONE 'UTC')
                         OPERATOR(pg_catalog.<) "from"
                    THEN ("from" AT TIME ZONE 'UTC')::pg_catalog.date OPERATOR(pg_catalog.+) 1
                    ELSE ("from" AT TIME ZONE 'UTC')::pg_catalog.date END AS day),
    served AS (
        SELECT CASE WHEN use_rollups AND "from" OPERATOR(pg_catalog.<) "to"
                    THEN telemetry.rollup_exact_days() OPERATOR(pg_catalog.*)
                         pg_catalog.datemultirange(pg_catalog.daterange(f.day, GREATEST(("to" AT TIME ZONE 'UTC')::pg_catalog.date, f.day)))
                    ELSE '{}'::pg_catalog.datemultirange END AS days
        FROM first f)
    SELECT s.days,
           pg_catalog.tstzmultirange(pg_catalog.tstzrange("from", "to"))
           OPERATOR(pg_catalog.-)
           coalesce((SELECT pg_catalog.range_agg(pg_catalog.tstzrange(
                                pg_catalog.lower(d.days)::pg_catalog.timestamp AT TIME ZONE 'UTC',
                                pg_catalog.upper(d.days)::pg_catalog.timestamp AT TIME ZONE 'UTC'))
                     FROM pg_catalog.unnest(s.days) AS d(days)),
                    '{}'::pg_catalog.tstzmultirange)
    FROM served s
$$;
COMMENT ON FUNCTION telemetry.rollup_split(timestamptz, timestamptz, boolean) IS
    'Internal, for the analytics functions that read rollups: one row, rollup_days (the whole UTC days of ["from", "to") that rollup_exact_days() holds; empty unless use_rollups) and raw_spans (the rest of the range, for the raw events). Call it in the same query as the rollups and the events (one snapshot).';

-- The calendar buckets of [from, to) in a time zone, as date_trunc(bucket, ts, tz) makes them:
-- hour buckets are local hours (the repeated hour of a DST change is two buckets, the skipped
-- one none), days have 23 or 25 hours on DST days, weeks start on Monday (ISO), months on the
-- 1st. A bucket the range cuts is included (its start may be before "from").
CREATE FUNCTION telemetry.calendar_buckets("from" timestamptz, "to" timestamptz, bucket text DEFAULT 'day',
                                           tz text DEFAULT 'UTC')
RETURNS TABLE (bucket_start timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    local_from timestamp;
    local_to timestamp;
    estimate numeric;
    first_start timestamptz;
    starts timestamptz[];
BEGIN
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to") THEN
        RAISE EXCEPTION '"from" and "to" must be finite timestamps' USING ERRCODE = '22023';
    END IF;
    IF "from" OPERATOR(pg_catalog.>) "to" THEN
        RAISE EXCEPTION '"from" must not be after "to"' USING ERRCODE = '22023';
    END IF;
    IF bucket IS NULL OR NOT bucket OPERATOR(pg_catalog.=) ANY (ARRAY['hour', 'day', 'week', 'month']) THEN
        RAISE EXCEPTION 'unknown bucket' USING ERRCODE = '22023', HINT = 'hour, day, week or month';
    END IF;
    IF tz IS NULL THEN
        RAISE EXCEPTION 'tz must name a time zone' USING ERRCODE = '22023';
    END IF;
    -- An unknown time zone fails here, with PostgreSQL's own 22023: time zone "..." not recognized.
    local_from := "from" AT TIME ZONE tz;
    local_to := "to" AT TIME ZONE tz;
    IF "from" OPERATOR(pg_catalog.=) "to" THEN
        RETURN;  -- an empty range overlaps no bucket
    END IF;
    -- Refuse a range of too many buckets before making them: the count of local hours, days,
    -- weeks or months is exact but for DST changes and zones that skip days, hence the slack;
    -- the exact count is checked below.
    estimate := CASE
        WHEN bucket OPERATOR(pg_catalog.=) 'hour' THEN
            pg_catalog.ceil((EXTRACT(epoch FROM "to") OPERATOR(pg_catalog.-) EXTRACT(epoch FROM "from"))
                            OPERATOR(pg_catalog./) 3600) OPERATOR(pg_catalog.+) 1
        WHEN bucket OPERATOR(pg_catalog.=) 'day' THEN
            (local_to::pg_catalog.date OPERATOR(pg_catalog.-) local_from::pg_catalog.date) OPERATOR(pg_catalog.+) 1
        WHEN bucket OPERATOR(pg_catalog.=) 'week' THEN
            ((pg_catalog.date_trunc('week', local_to)::pg_catalog.date
              OPERATOR(pg_catalog.-) pg_catalog.date_trunc('week', local_from)::pg_catalog.date) OPERATOR(pg_catalog./) 7)
            OPERATOR(pg_catalog.+) 1
        ELSE
            (((EXTRACT(year FROM local_to) OPERATOR(pg_catalog.-) EXTRACT(year FROM local_from)) OPERATOR(pg_catalog.*) 12)
             OPERATOR(pg_catalog.+) (EXTRACT(month FROM local_to) OPERATOR(pg_catalog.-) EXTRACT(month FROM local_from)))
            OPERATOR(pg_catalog.+) 1
        END;
    IF estimate OPERATOR(pg_catalog.>) 10010 THEN
        RAISE EXCEPTION 'the range holds about % buckets of one %, more than 10,000', estimate, bucket
            USING ERRCODE = '54000', HINT = 'Ask for longer buckets or a shorter range.';
    END IF;
    first_start := pg_catalog.date_trunc(bucket, "from", tz);
    IF bucket OPERATOR(pg_catalog.=) 'hour' THEN
        -- Every hour bucket overlapping the range holds "from", the range's last instant, or a
        -- point of a 15-minute grid from "from" (offsets, and their changes, are multiples of
        -- 15 minutes): one hour in local time may be two buckets or none.
        SELECT pg_catalog.array_agg(DISTINCT pg_catalog.date_trunc('hour', c.x, tz) ORDER BY pg_catalog.date_trunc('hour', c.x, tz))
          INTO starts
          FROM (SELECT g.x FROM pg_catalog.generate_series("from", "to", interval '15 minutes') AS g(x)
                WHERE g.x OPERATOR(pg_catalog.<) "to"
                UNION ALL
                SELECT "to" OPERATOR(pg_catalog.-) interval '1 microsecond') AS c(x);
    ELSE
        -- Local days, weeks or months, each mapped to its instant and back through date_trunc,
        -- which settles a local midnight that does not exist or occurs twice as events' are.
        SELECT pg_catalog.array_agg(DISTINCT b.start ORDER BY b.start)
          INTO starts
          FROM (SELECT pg_catalog.date_trunc(bucket, l.x AT TIME ZONE tz, tz) AS start
                FROM pg_catalog.generate_series(pg_catalog.date_trunc(bucket, local_from), local_to,
                                                (pg_catalog.concat('1 ', bucket))::interval) AS l(x)
                UNION ALL
                SELECT first_start
                UNION ALL
                SELECT pg_catalog.date_trunc(bucket, "to" OPERATOR(pg_catalog.-) interval '1 microsecond', tz)) AS b
         WHERE b.start OPERATOR(pg_catalog.>=) first_start AND b.start OPERATOR(pg_catalog.<) "to";
    END IF;
    IF pg_catalog.cardinality(starts) OPERATOR(pg_catalog.>) 10000 THEN
        RAISE EXCEPTION 'the range holds % buckets of one %, more than 10,000', pg_catalog.cardinality(starts), bucket
            USING ERRCODE = '54000', HINT = 'Ask for longer buckets or a shorter range.';
    END IF;
    RETURN QUERY SELECT s.x FROM pg_catalog.unnest(starts) AS s(x) ORDER BY 1;
END
$$;
COMMENT ON FUNCTION telemetry.calendar_buckets(timestamptz, timestamptz, text, text) IS
    'The calendar buckets that overlap ["from", "to"), oldest first, each as the instant it starts (bucket_start), which may be before "from" when the range cuts it: bucket hour, day, week or month in the time zone tz (a name of pg_timezone_names, an abbreviation or an offset), exactly the values of date_trunc(bucket, ts, tz) for ts in the range (FUNNELS.md, Engagement: ISO weeks start on Monday; DST days have 23 or 25 hours; the repeated hour is two buckets, the skipped one none). No bucket for an empty range ("from" = "to"). Errors: a bound NULL or not finite, "from" after "to", an unknown bucket, tz NULL or unknown (22023); more than 10,000 buckets (54000).';

CREATE FUNCTION telemetry.event_counts(tenant_id uuid, "from" timestamptz, "to" timestamptz,
                                       bucket text DEFAULT 'day', names text[] DEFAULT NULL,
                                       tz text DEFAULT 'UTC')
RETURNS TABLE (bucket_start timestamptz, name text, events numeric, users bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
-- The raw part's spans are known only at run time (partitions pruned then), so the plan's
-- estimates are loose and would make JIT compile for seconds what runs in milliseconds.
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
    starts timestamptz[];
    use_rollups boolean;
BEGIN
    PERFORM telemetry.require_tenant_access(event_counts.tenant_id, 'read');
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to") THEN
        RAISE EXCEPTION '"from" and "to" must be finite timestamps' USING ERRCODE = '22023';
    END IF;
    IF "from" OPERATOR(pg_catalog.>) "to" THEN
        RAISE EXCEPTION '"from" must not be after "to"' USING ERRCODE = '22023';
    END IF;
    IF pg_catalog.array_position(event_counts.names, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'names must not contain NULL' USING ERRCODE = '22004';
    END IF;
    -- Checks bucket and tz (22023) and the number of buckets (54000).
    starts := ARRAY(SELECT b.bucket_start FROM telemetry.calendar_buckets("from", "to", event_counts.bucket, event_counts.tz) b);
    -- Rollups are UTC days: they answer day buckets in UTC, for the days the range holds whole.
    use_rollups := event_counts.bucket OPERATOR(pg_catalog.=) 'day'
                   AND pg_catalog.lower(event_counts.tz) OPERATOR(pg_catalog.=) ANY
                       (ARRAY['utc', 'etc/utc', 'uct', 'etc/uct', 'zulu', 'etc/zulu', 'universal', 'etc/universal']);
    -- One query, so one snapshot: the watermark, the log, the rollups and the raw events.
    RETURN QUERY
    WITH split AS (
        SELECT * FROM telemetry.rollup_split("from", "to", use_rollups)),
    raw_spans AS (
        SELECT r.span FROM split, pg_catalog.unnest(split.raw_spans) AS r(span)),
    counted AS (
        SELECT pg_catalog.date_trunc(event_counts.bucket, e.occurred_at, event_counts.tz) AS bucket_start, e.name,
               pg_catalog.sum(e.sample_weight::pg_catalog.numeric) AS events,
               pg_catalog.count(DISTINCT e.user_id) AS users
        FROM raw_spans r
        JOIN telemetry.events e
          ON e.occurred_at OPERATOR(pg_catalog.>=) pg_catalog.lower(r.span)
         AND e.occurred_at OPERATOR(pg_catalog.<) pg_catalog.upper(r.span)
        WHERE e.tenant_id OPERATOR(pg_catalog.=) event_counts.tenant_id
          AND (event_counts.names IS NULL OR e.name OPERATOR(pg_catalog.=) ANY (event_counts.names))
        GROUP BY 1, 2
        UNION ALL
        SELECT d.day::pg_catalog.timestamp AT TIME ZONE 'UTC', d.name, d.events, d.users
        FROM split s
        JOIN telemetry.daily_rollups d ON s.rollup_days OPERATOR(pg_catalog.@>) d.day
        WHERE d.tenant_id OPERATOR(pg_catalog.=) event_counts.tenant_id
          AND d.day OPERATOR(pg_catalog.>=) pg_catalog.lower(s.rollup_days)
          AND d.day OPERATOR(pg_catalog.<) pg_catalog.upper(s.rollup_days)
          AND (event_counts.names IS NULL OR d.name OPERATOR(pg_catalog.=) ANY (event_counts.names))),
    cell_names AS (
        SELECT n.name FROM pg_catalog.unnest(event_counts.names) AS n(name)
        UNION
        SELECT c.name FROM counted c WHERE event_counts.names IS NULL)
    SELECT b.bucket_start, n.name, coalesce(c.events, 0::pg_catalog.numeric), coalesce(c.users, 0::bigint)
    FROM pg_catalog.unnest(starts) AS b(bucket_start)
    CROSS JOIN cell_names n
    LEFT JOIN counted c ON c.bucket_start OPERATOR(pg_catalog.=) b.bucket_start AND c.name OPERATOR(pg_catalog.=) n.name
    ORDER BY 1, n.name COLLATE "C";
END
$$;
COMMENT ON FUNCTION telemetry.event_counts(uuid, timestamptz, timestamptz, text, text[], text) IS
    'Events and distinct users per calendar bucket and event type, by the counting rules of FUNNELS.md (Engagement, event_counts): the events of tenant_id with occurred_at in ["from", "to") (a bucket the range cuts counts only the events inside), bucket hour, day, week or month in the time zone tz (default UTC; ISO weeks start on Monday, DST days have 23 or 25 hours, the repeated hour is two buckets; see calendar_buckets()); names: the event types to count (NULL: every type with an event in the range; no NULL element). One row per bucket and type, zero rows included (for every type with an event in the range, or every type asked for), ordered by bucket_start, then name in byte order: bucket_start (the instant the bucket starts, maybe before "from"), name, events (the sum of sample_weight: sampled events scaled back) and users (distinct non-NULL user_id, not scaled). Equal to a GROUP BY over the raw events: day buckets in UTC take the days the range holds whole, before the rollup watermark and without a pending invalidation, from telemetry.daily_rollups, read in the same snapshot as the raw events of the rest. Errors: NULL tenant_id, or NULL in names (22004); no read access to the tenant (42501); a bound NULL or not finite, "from" after "to", an unknown bucket, tz NULL or unknown (22023); more than 10,000 buckets (54000).';

CREATE FUNCTION telemetry.top_events(tenant_id uuid, "from" timestamptz, "to" timestamptz, n integer DEFAULT 10)
RETURNS TABLE (name text, events numeric, users bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    PERFORM telemetry.require_tenant_access(top_events.tenant_id, 'read');
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to") THEN
        RAISE EXCEPTION '"from" and "to" must be finite timestamps' USING ERRCODE = '22023';
    END IF;
    IF "from" OPERATOR(pg_catalog.>) "to" THEN
        RAISE EXCEPTION '"from" must not be after "to"' USING ERRCODE = '22023';
    END IF;
    IF top_events.n IS NULL OR top_events.n OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'n must be at least 1' USING ERRCODE = '22023';
    END IF;
    -- Distinct users over the range cannot be added up from days: raw events.
    RETURN QUERY
    SELECT e.name, pg_catalog.sum(e.sample_weight::pg_catalog.numeric), pg_catalog.count(DISTINCT e.user_id)
    FROM telemetry.events e
    WHERE e.tenant_id OPERATOR(pg_catalog.=) top_events.tenant_id
      AND e.occurred_at OPERATOR(pg_catalog.>=) "from" AND e.occurred_at OPERATOR(pg_catalog.<) "to"
    GROUP BY e.name
    ORDER BY 2 DESC, e.name COLLATE "C"
    LIMIT top_events.n;
END
$$;
COMMENT ON FUNCTION telemetry.top_events(uuid, timestamptz, timestamptz, integer) IS
    'The n (default 10, at least 1) event types of tenant_id with the most events in ["from", "to"), by the counting rules of FUNNELS.md (Engagement, as event_counts): name, events (the sum of sample_weight: sampled events scaled back) and users (distinct non-NULL user_id over the whole range, not scaled); ordered by events descending, ties by name in byte order. Read from raw events. Errors: NULL tenant_id (22004); no read access to the tenant (42501); a bound NULL or not finite, "from" after "to", n NULL or below 1 (22023).';

-- The result of unique_users(): a type, since its column exact has the name of an argument
-- (a function's result columns and arguments share one namespace).
CREATE TYPE telemetry.unique_users_result AS (users bigint, exact boolean);
COMMENT ON TYPE telemetry.unique_users_result IS 'The row telemetry.unique_users() returns: users, and whether they were counted exactly.';
COMMENT ON COLUMN telemetry.unique_users_result.users IS 'Distinct users (non-NULL user_id), exact or estimated.';
COMMENT ON COLUMN telemetry.unique_users_result.exact IS 'True when counted exactly from raw events; false for the union of HyperLogLog sketches (within 1.7 %).';

CREATE FUNCTION telemetry.unique_users(tenant_id uuid, "from" timestamptz, "to" timestamptz,
                                       names text[] DEFAULT NULL, exact boolean DEFAULT false)
RETURNS SETOF telemetry.unique_users_result
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
-- The raw part's spans are known only at run time (partitions pruned then), so the plan's
-- estimates are loose and would make JIT compile for seconds what runs in milliseconds.
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
    hll_schema name;
    oldest timestamptz;
BEGIN
    PERFORM telemetry.require_tenant_access(unique_users.tenant_id, 'read');
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to") THEN
        RAISE EXCEPTION '"from" and "to" must be finite timestamps' USING ERRCODE = '22023';
    END IF;
    IF "from" OPERATOR(pg_catalog.>) "to" THEN
        RAISE EXCEPTION '"from" must not be after "to"' USING ERRCODE = '22023';
    END IF;
    IF unique_users.exact IS NULL THEN
        RAISE EXCEPTION 'exact must be true or false' USING ERRCODE = '22023';
    END IF;
    IF pg_catalog.array_position(unique_users.names, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'names must not contain NULL' USING ERRCODE = '22004';
    END IF;
    oldest := (SELECT pg_catalog.min(p.lower_bound) FROM telemetry.partitions() p);
    -- Exact when asked, or when it is cheap and complete: a month or less, all of it in raw
    -- events (from the oldest partition on).
    IF unique_users.exact
       OR (("to" OPERATOR(pg_catalog.-) "from") OPERATOR(pg_catalog.<=) interval '31 days'
           AND "from" OPERATOR(pg_catalog.>=) oldest) THEN
        RETURN QUERY
        SELECT pg_catalog.count(DISTINCT e.user_id), true
        FROM telemetry.events e
        WHERE e.tenant_id OPERATOR(pg_catalog.=) unique_users.tenant_id
          AND e.occurred_at OPERATOR(pg_catalog.>=) "from" AND e.occurred_at OPERATOR(pg_catalog.<) "to"
          AND (unique_users.names IS NULL OR e.name OPERATOR(pg_catalog.=) ANY (unique_users.names));
        RETURN;
    END IF;
    -- Else the union of HyperLogLog sketches (hll(15, 5), as the rollups'): the daily sketches
    -- of the whole UTC days with exact rollups, and sketches of the raw events of the rest.
    -- The hll functions are named by the schema of the extension (never searched).
    hll_schema := (SELECT ns.nspname FROM pg_catalog.pg_extension x
                   JOIN pg_catalog.pg_namespace ns ON ns.oid OPERATOR(pg_catalog.=) x.extnamespace
                   WHERE x.extname OPERATOR(pg_catalog.=) 'hll');
    IF hll_schema IS NULL THEN
        RAISE EXCEPTION 'the hll extension is not installed' USING ERRCODE = '55000';
    END IF;
    RETURN QUERY EXECUTE pg_catalog.format($sql$
        WITH split AS (
            SELECT * FROM telemetry.rollup_split($2, $3, true)),
        raw_spans AS (
            SELECT r.span FROM split, pg_catalog.unnest(split.raw_spans) AS r(span)),
        sketches AS (
            -- Of every type: one sketch a day, the daily totals'; else the named types' cells.
            SELECT d.users_hll AS sketch
            FROM split s
            JOIN telemetry.daily_totals d ON s.rollup_days OPERATOR(pg_catalog.@>) d.day
            WHERE $4::text[] IS NULL AND d.tenant_id OPERATOR(pg_catalog.=) $1
              AND d.day OPERATOR(pg_catalog.>=) pg_catalog.lower(s.rollup_days)
              AND d.day OPERATOR(pg_catalog.<) pg_catalog.upper(s.rollup_days)
            UNION ALL
            SELECT d.users_hll AS sketch
            FROM split s
            JOIN telemetry.daily_rollups d ON s.rollup_days OPERATOR(pg_catalog.@>) d.day
            WHERE $4::text[] IS NOT NULL AND d.tenant_id OPERATOR(pg_catalog.=) $1
              AND d.day OPERATOR(pg_catalog.>=) pg_catalog.lower(s.rollup_days)
              AND d.day OPERATOR(pg_catalog.<) pg_catalog.upper(s.rollup_days)
              AND d.name OPERATOR(pg_catalog.=) ANY ($4::text[])
            UNION ALL
            SELECT %1$I.hll_add_agg(%1$I.hll_hash_text(e.user_id), 15, 5)
            FROM raw_spans r
            JOIN telemetry.events e
              ON e.occurred_at OPERATOR(pg_catalog.>=) pg_catalog.lower(r.span)
             AND e.occurred_at OPERATOR(pg_catalog.<) pg_catalog.upper(r.span)
            WHERE e.tenant_id OPERATOR(pg_catalog.=) $1 AND e.user_id IS NOT NULL
              AND ($4::text[] IS NULL OR e.name OPERATOR(pg_catalog.=) ANY ($4::text[])))
        SELECT coalesce(pg_catalog.round(%1$I.hll_cardinality(%1$I.hll_union_agg(k.sketch)))::bigint, 0::bigint), false
        FROM sketches k$sql$, hll_schema)
    USING unique_users.tenant_id, "from", "to", unique_users.names;
END
$$;
COMMENT ON FUNCTION telemetry.unique_users(uuid, timestamptz, timestamptz, text[], boolean) IS
    'Distinct users (non-NULL user_id, not scaled by sampling) of tenant_id with an event in ["from", "to"), of the types in names (NULL: every type; no NULL element), by FUNNELS.md (Engagement: uniques over several days come from the union of daily HyperLogLog sketches unless exact is asked for; the result says which). One row (telemetry.unique_users_result): users, and exact, true when counted exactly from raw events: when exact is true (only the raw events still kept count), or when the range is 31 days or shorter and starts at or after the oldest partition. Otherwise an estimate, exact false: the union of the hll(15, 5) sketches of telemetry.daily_totals (every type; of telemetry.daily_rollups for named types) for the whole UTC days before the watermark without a pending invalidation, and of sketches of the raw events of the rest of the range, within 1.7 % (exact for small sets; docs/rollup.md, "Precision"). Errors: NULL tenant_id, or NULL in names (22004); no read access to the tenant (42501); a bound NULL or not finite, "from" after "to", exact NULL (22023); the hll extension missing (55000).';

-- Daily active users: distinct users per calendar day in tz, exact. UTC days held whole come
-- from telemetry.daily_totals (exact users over every event type), the rest from raw events, in
-- one query (one snapshot), as event_counts() does.
CREATE FUNCTION telemetry.daily_active_users(tenant_id uuid, "from" timestamptz, "to" timestamptz,
                                             tz text DEFAULT 'UTC')
RETURNS TABLE (day_start timestamptz, users bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off  -- as event_counts(): the raw spans are known only at run time
AS $$
#variable_conflict use_column
DECLARE
    starts timestamptz[];
    use_rollups boolean;
    hll_schema name;
BEGIN
    PERFORM telemetry.require_tenant_access(daily_active_users.tenant_id, 'read');
    IF "from" IS NULL OR "to" IS NULL OR NOT pg_catalog.isfinite("from") OR NOT pg_catalog.isfinite("to") THEN
        RAISE EXCEPTION '"from" and "to" must be finite timestamps' USING ERRCODE = '22023';
    END IF;
    IF "from" OPERATOR(pg_catalog.>) "to" THEN
        RAISE EXCEPTION '"from" must not be after "to"' USING ERRCODE = '22023';
    END IF;
    IF daily_active_users.tz IS NULL THEN
        RAISE EXCEPTION 'tz must name a time zone' USING ERRCODE = '22023';
    END IF;
    -- Checks tz (22023) and the number of days (54000).
    starts := ARRAY(SELECT b.bucket_start FROM telemetry.calendar_buckets("from", "to", 'day', daily_active_users.tz) b);
    use_rollups := pg_catalog.lower(daily_active_users.tz) OPERATOR(pg_catalog.=) ANY
                   (ARRAY['utc', 'etc/utc', 'uct', 'etc/uct', 'zulu', 'etc/zulu', 'universal', 'etc/universal']);
    hll_schema := (SELECT ns.nspname FROM pg_catalog.pg_extension x
                   JOIN pg_catalog.pg_namespace ns ON ns.oid OPERATOR(pg_catalog.=) x.extnamespace
                   WHERE x.extname OPERATOR(pg_catalog.=) 'hll');
    IF hll_schema IS NULL THEN
        RAISE EXCEPTION 'the hll extension is not installed' USING ERRCODE = '55000';
    END IF;
    RETURN QUERY EXECUTE pg_catalog.format($sql$
    WITH split AS (
        SELECT * FROM telemetry.rollup_split($2, $3, $5)),
    raw_spans AS (
        SELECT r.span FROM split, pg_catalog.unnest(split.raw_spans) AS r(span)),
    counted AS (
        SELECT pg_catalog.date_trunc('day', e.occurred_at, $4) AS day_start, pg_catalog.count(DISTINCT e.user_id) AS users
        FROM raw_spans r
        JOIN telemetry.events e
          ON e.occurred_at OPERATOR(pg_catalog.>=) pg_catalog.lower(r.span)
         AND e.occurred_at OPERATOR(pg_catalog.<) pg_catalog.upper(r.span)
        WHERE e.tenant_id OPERATOR(pg_catalog.=) $1
        GROUP BY 1
        UNION ALL
        -- A day rolled up before 0.6.0 whose raw events were gone at the update has no exact
        -- count: its sketch's estimate (docs/rollup.md).
        SELECT d.day::pg_catalog.timestamp AT TIME ZONE 'UTC',
               coalesce(d.users, pg_catalog.round(%1$I.hll_cardinality(d.users_hll))::bigint)
        FROM split s
        JOIN telemetry.daily_totals d ON s.rollup_days OPERATOR(pg_catalog.@>) d.day
        WHERE d.tenant_id OPERATOR(pg_catalog.=) $1
          AND d.day OPERATOR(pg_catalog.>=) pg_catalog.lower(s.rollup_days)
          AND d.day OPERATOR(pg_catalog.<) pg_catalog.upper(s.rollup_days))
    SELECT b.day_start, coalesce(pg_catalog.sum(c.users), 0)::bigint
    FROM pg_catalog.unnest($6) AS b(day_start)
    LEFT JOIN counted c ON c.day_start OPERATOR(pg_catalog.=) b.day_start
    GROUP BY b.day_start
    ORDER BY b.day_start$sql$, hll_schema)
    USING daily_active_users.tenant_id, "from", "to", daily_active_users.tz, use_rollups, starts;
END
$$;
COMMENT ON FUNCTION telemetry.daily_active_users(uuid, timestamptz, timestamptz, text) IS
    'Daily active users (DAU) of tenant_id by FUNNELS.md (Engagement): per calendar day in time zone tz (default UTC; DST days have 23 or 25 hours, as calendar_buckets() makes them) that ["from", "to") overlaps, the distinct non-NULL user_id with an event of any type in the part of the day inside the range (not scaled by sampling), 0 included, oldest first: day_start (the instant the day starts, maybe before "from") and users. Exact: UTC days the range holds whole, before the rollup watermark and without a pending invalidation, come from telemetry.daily_totals, read in the same snapshot as the raw events of the rest (a day rolled up before 0.6.0 whose raw events were already gone gives its HyperLogLog estimate). Errors: NULL tenant_id (22004); no read access to the tenant (42501); a bound NULL or not finite, "from" after "to", tz NULL or unknown (22023); more than 10,000 days (54000); the hll extension missing (55000).';

CREATE FUNCTION telemetry.active_users(tenant_id uuid, "at" timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE ("window" text, users bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    PERFORM telemetry.require_tenant_access(active_users.tenant_id, 'read');
    IF "at" IS NULL OR NOT pg_catalog.isfinite("at") THEN
        RAISE EXCEPTION 'at must be a finite timestamp' USING ERRCODE = '22023';
    END IF;
    -- Windows in hours, not days: (at - 1 day) would depend on the session's time zone.
    RETURN QUERY
    WITH counts AS (
        SELECT pg_catalog.count(DISTINCT e.user_id) FILTER (WHERE e.occurred_at OPERATOR(pg_catalog.>) ("at" OPERATOR(pg_catalog.-) interval '1 hour')) AS h1,
               pg_catalog.count(DISTINCT e.user_id) FILTER (WHERE e.occurred_at OPERATOR(pg_catalog.>) ("at" OPERATOR(pg_catalog.-) interval '24 hours')) AS h24,
               pg_catalog.count(DISTINCT e.user_id) FILTER (WHERE e.occurred_at OPERATOR(pg_catalog.>) ("at" OPERATOR(pg_catalog.-) interval '168 hours')) AS d7,
               pg_catalog.count(DISTINCT e.user_id) AS d30
        FROM telemetry.events e
        WHERE e.tenant_id OPERATOR(pg_catalog.=) active_users.tenant_id
          AND e.occurred_at OPERATOR(pg_catalog.>) ("at" OPERATOR(pg_catalog.-) interval '720 hours')
          AND e.occurred_at OPERATOR(pg_catalog.<=) "at")
    SELECT w.label, w.users
    FROM counts c
    CROSS JOIN LATERAL (VALUES (1, '1h', c.h1), (2, '24h', c.h24), (3, '7d', c.d7),
                               (4, 'DAU', c.h24), (5, 'WAU', c.d7), (6, 'MAU', c.d30)) AS w(ord, label, users)
    ORDER BY w.ord;
END
$$;
COMMENT ON FUNCTION telemetry.active_users(uuid, timestamptz) IS
    'Active users of tenant_id at the instant at (default now()), by FUNNELS.md (Engagement: DAU / WAU / MAU at time t are the distinct actors with an event in (t-1d, t], (t-7d, t], (t-30d, t]; active users 1h / 24h / 7d are the same with t = now): six rows, window and users (distinct non-NULL user_id with an event in the window, not scaled by sampling), in this order: 1h (at-1h, at], 24h (at-24h, at], 7d (at-168h, at], DAU (at-24h, at], WAU (at-168h, at], MAU (at-720h, at]; days are 24 hours, whatever the session''s time zone. Exact, from raw events. Errors: NULL tenant_id (22004); no read access to the tenant (42501); at NULL or not finite (22023).';

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

CREATE FUNCTION telemetry.dump(tenant_id uuid, since interval DEFAULT '1 hour', names text[] DEFAULT NULL)
RETURNS SETOF jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    PERFORM telemetry.require_tenant_access(dump.tenant_id, 'read');
    IF dump.since IS NULL OR dump.since OPERATOR(pg_catalog.<=) interval '0' THEN
        RAISE EXCEPTION 'since must be a positive interval' USING ERRCODE = '22023';
    END IF;
    IF pg_catalog.array_position(dump.names, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'names must not contain NULL' USING ERRCODE = '22004';
    END IF;
    RETURN QUERY
    SELECT pg_catalog.to_jsonb(e.*)
    FROM telemetry.events e
    WHERE e.tenant_id OPERATOR(pg_catalog.=) dump.tenant_id
      AND e.occurred_at OPERATOR(pg_catalog.>) (pg_catalog.now() OPERATOR(pg_catalog.-) dump.since)
      AND (dump.names IS NULL OR e.name OPERATOR(pg_catalog.=) ANY (dump.names))
    ORDER BY e.occurred_at DESC, e.id DESC;
END
$$;
COMMENT ON FUNCTION telemetry.dump(uuid, interval, text[]) IS
    'The raw recent events of tenant_id ("telemetry.dump --since 1h"): those with occurred_at after now() - since (default 1 hour; a positive interval, its days and months counted in the session''s time zone), of the types in names (NULL: every type; no NULL element), newest first (occurred_at, then ingest order, descending), each a JSON object of the columns of telemetry.events (id, occurred_at, received_at, tenant_id, event_id, sample_weight, flags, name, user_id, session_id, source, schema_version, properties). Errors: NULL tenant_id, or NULL in names (22004); no read access to the tenant (42501); since NULL, zero or negative (22023).';
