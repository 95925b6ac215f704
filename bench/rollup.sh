#!/usr/bin/env bash
# Rollups and retention (issue 10), against plain PostgreSQL doing the same work in the same run,
# in a database of their own (bench_rollup) on the bench's instance:
#
#   refresh   one day of rollups recomputed by the real mechanism (the day logged with
#             invalidate_rollups(), then SELECT telemetry.refresh_rollups(p_now) timed), against
#             the same day recomputed by a plain DELETE + INSERT ... SELECT ... GROUP BY of the
#             same rows into a plain table; with 10 days stored, then with 90;
#   drop      a day past retention dropped by drop_expired_partitions(p_now), against DELETE of
#             that day from an unpartitioned table holding the same rows, then VACUUM: time, WAL,
#             space not returned, dead line pointers left;
#   storage   bytes of telemetry.daily_rollups per day and per cell, next to a day of raw events.
#
# The two sides take turns within each repetition, each in a session warmed up first (the
# maintenance worker's session lives long: its functions compiled, its catalog cached; a new
# session pays some 10 ms more, on either side) and after a checkpoint. A failure of the
# mechanism stops the run (exit 1): a refreshed day whose rollups differ from a GROUP BY of its
# raw rows, cells not recomputed, a maintenance step failing, a partition not dropped or its
# rollups lost. A missed target does not: bench/report.sh reports it.
#
# Sourced by bench/run.sh, which calls rollup_benchmarks on its instance; or run alone, on a
# throwaway instance of its own, printing the report's section "Rollups and retention":
#   bench/rollup.sh [--large|--quick]
# About 3.5 minutes at the default size (90 days of 110,000 events, twice: 13 GB, and 7 GB of
# WAL: 20 GB of disk); 10 s with --quick (3,000 events a day).
# shellcheck shell=bash

# The event types' mix of bench/workload.sh, as JSON for bench/rollup_setup.sql.
rollup_mix() {
  local entry name shape weight sep=''
  printf '['
  for entry in "${EVENT_TYPES[@]}"; do
    read -r name shape weight <<<"$entry"
    printf '%s{"name": "%s", "shape": "%s", "weight": %s}' "$sep" "$name" "$shape" "$weight"
    sep=', '
  done
  printf ']'
}

rollup_psql() { as_instance_user psql -X -q -At -v ON_ERROR_STOP=1 -h "$ROLLUP_HOST" -p "$ROLLUP_PORT" -U postgres -d bench_rollup "$@"; }
rollup_fail() { echo "rollup benchmark: $*" >&2; exit 1; }

# rollup_fill FIRST LAST: stores the days FIRST..LAST (dates), in two sessions at once (a day
# per transaction), as the generator is the slow part.
rollup_fill() {
  local first=$1 last=$2 mid a b failed=0
  mid=$(rollup_psql -c "SELECT date '$first' + (date '$last' - date '$first') / 2")
  rollup_psql -c "CALL bench_rollup_fill('$first', '$mid', $ROLLUP_PER_DAY)" & a=$!
  rollup_psql -c "CALL bench_rollup_fill(date '$mid' + 1, '$last', $ROLLUP_PER_DAY)" & b=$!
  wait "$a" || failed=1
  wait "$b" || failed=1
  [ "$failed" = 0 ] || rollup_fail "storing the days $first to $last failed"
}

# rollup_maintain [MAX_DAYS]: CALL telemetry.run_maintenance(p_now) (after refresh_rollups(p_now,
# MAX_DAYS) when given: a run refreshes at most 100 days of ranges, a tenant's range of N days
# counting N), then checks that every step of the run succeeded, that every closed day is
# materialized (the watermark at p_now's day, nothing left in the log), and that each day's
# rollups add up to its raw events (count and weighted count).
rollup_maintain() {
  local failed
  [ -z "${1:-}" ] || rollup_psql -c "SELECT telemetry.refresh_rollups('$ROLLUP_NOW', $1)" >/dev/null
  rollup_psql -c "CALL telemetry.run_maintenance('$ROLLUP_NOW')"
  failed=$(rollup_psql -c "SELECT string_agg(step || ' ' || status || coalesce(' ' || sqlstate || ': ' || message, ''), '; ')
                           FROM telemetry.maintenance_runs
                           WHERE run_id = (SELECT max(run_id) FROM telemetry.maintenance_runs) AND status <> 'succeeded'")
  [ -z "$failed" ] || rollup_fail "maintenance: $failed"
  failed=$(rollup_psql -c "SELECT telemetry.rollup_watermark() IS DISTINCT FROM date '$ROLLUP_TODAY'
                                  OR EXISTS (SELECT FROM telemetry.rollup_invalidations)")
  [ "$failed" = f ] || rollup_fail "maintenance left days not rolled up (watermark $(rollup_psql -c "SELECT telemetry.rollup_watermark()"))"
  failed=$(rollup_psql -c "
    WITH raw AS (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, count(*) AS n, sum(sample_weight::numeric) AS w
                 FROM telemetry.events GROUP BY 1),
         r AS (SELECT day, sum(raw_events) AS n, sum(events) AS w FROM telemetry.daily_rollups GROUP BY 1)
    SELECT string_agg(format('%s: %s raw events (weighted %s), rollups %s (%s)', day, raw.n, raw.w, r.n, r.w), '; ')
    FROM raw FULL JOIN r USING (day)
    WHERE raw.n IS DISTINCT FROM r.n OR raw.w IS DISTINCT FROM r.w")
  [ -z "$failed" ] || rollup_fail "rollups differ from the raw events: $failed"
}

# rollup_storage DAYS: bytes of the rollups (table, TOAST and indexes) and of the raw events'
# partitions holding data, with their days, cells and events.
rollup_storage() {
  local days=$1 line bytes ndays cells events
  line=$(rollup_psql -F ' ' -c "SELECT pg_total_relation_size('telemetry.daily_rollups'), count(DISTINCT day), count(*), sum(raw_events)
                                FROM telemetry.daily_rollups")
  read -r bytes ndays cells events <<<"$line"
  echo "storage,rollups,$days,1,,,,$bytes,,,$events,$cells,$ndays" >>"$ROLLUP_CSV"
  printf '  storage rollups %2d days stored: %6.0f bytes a day, %4.0f bytes a cell, %s cells\n' \
    "$days" $((bytes / ndays)) $((bytes / cells)) "$cells"
  line=$(rollup_psql -F ' ' -c "SELECT sum(pg_total_relation_size(p.partition)), count(*),
                                       sum((SELECT count(*) FROM telemetry.events e
                                            WHERE e.occurred_at >= p.lower_bound AND e.occurred_at < p.upper_bound))
                                FROM telemetry.partitions() p
                                WHERE EXISTS (SELECT FROM telemetry.events e WHERE e.occurred_at >= p.lower_bound AND e.occurred_at < p.upper_bound)")
  read -r bytes ndays events <<<"$line"
  echo "storage,raw,$days,1,,,,$bytes,,,$events,,$ndays" >>"$ROLLUP_CSV"
  printf '  storage raw     %2d days stored: %6.0f bytes a day\n' "$days" $((bytes / ndays))
}

# rollup_refresh_telemetry DAY DAYS REP: logs the day for every tenant, then times the refresh.
rollup_refresh_telemetry() {
  local day=$1 days=$2 rep=$3 out ms wal cells stale pending
  out=$(rollup_psql <<SQL
-- A warm session, as the maintenance worker's: the function compiled, the catalog cached.
SELECT telemetry.refresh_rollups('$ROLLUP_NOW') AS warm \gset
\o /dev/null
EXPLAIN SELECT count(*) FROM telemetry.events
WHERE occurred_at >= ('$day'::timestamp AT TIME ZONE 'UTC') AND occurred_at < (('$day'::date + 1)::timestamp AT TIME ZONE 'UTC');
\o
SELECT telemetry.invalidate_rollups(NULL, '$day', '$day') \gset
CHECKPOINT;
SELECT clock_timestamp() AS t0, pg_current_wal_insert_lsn() AS l0 \gset
SELECT telemetry.refresh_rollups('$ROLLUP_NOW') AS cells \gset
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000, 3) AS ms,
       pg_wal_lsn_diff(pg_current_wal_insert_lsn(), :'l0') AS wal \gset
-- Every cell of the day recomputed by this refresh, and nothing left in the log.
SELECT count(*) FILTER (WHERE refreshed_at < :'t0') AS stale FROM telemetry.daily_rollups WHERE day = '$day' \gset
SELECT count(*) AS pending FROM telemetry.rollup_invalidations \gset
\echo :ms :wal :cells :stale :pending
SQL
)
  read -r ms wal cells stale pending <<<"$out"
  [ "$stale" = 0 ] && [ "$pending" = 0 ] ||
    rollup_fail "refresh of $day left $stale cells of the day not recomputed and $pending ranges in the log"
  ROLLUP_CELLS=$cells
  echo "refresh,telemetry,$days,$rep,$ms,$wal,,,,,$ROLLUP_PER_DAY,$cells," >>"$ROLLUP_CSV"
  printf '  refresh %-9s %2d days stored rep=%s  %s: %9.3f ms  %9d WAL bytes  %5d cells\n' telemetry "$days" "$rep" "$day" "$ms" "$wal" "$cells"
}

# rollup_refresh_plain DAY DAYS REP: the same day recomputed by a plain GROUP BY of the same rows.
rollup_refresh_plain() {
  local day=$1 days=$2 rep=$3 out ms wal cells recompute
  recompute="INSERT INTO bench_rollup_plain (tenant_id, day, name, events, raw_events, users, sessions, refreshed_at)
SELECT tenant_id, (occurred_at AT TIME ZONE 'UTC')::date, name, sum(sample_weight::numeric), count(*),
       count(DISTINCT user_id), count(DISTINCT session_id), now()
FROM telemetry.events
WHERE occurred_at >= ('$day'::timestamp AT TIME ZONE 'UTC') AND occurred_at < (('$day'::date + 1)::timestamp AT TIME ZONE 'UTC')
GROUP BY 1, 2, 3"
  out=$(rollup_psql <<SQL
-- A warm session, as the telemetry side's.
\o /dev/null
EXPLAIN DELETE FROM bench_rollup_plain WHERE day = '$day';
EXPLAIN $recompute;
\o
CHECKPOINT;
SELECT clock_timestamp() AS t0, pg_current_wal_insert_lsn() AS l0 \gset
BEGIN;
DELETE FROM bench_rollup_plain WHERE day = '$day';
$recompute;
\set cells :ROW_COUNT
COMMIT;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000, 3) AS ms,
       pg_wal_lsn_diff(pg_current_wal_insert_lsn(), :'l0') AS wal \gset
\echo :ms :wal :cells
SQL
)
  read -r ms wal cells <<<"$out"
  echo "refresh,plain,$days,$rep,$ms,$wal,,,,,$ROLLUP_PER_DAY,$cells," >>"$ROLLUP_CSV"
  printf '  refresh %-9s %2d days stored rep=%s  %s: %9.3f ms  %9d WAL bytes  %5d cells\n' plain "$days" "$rep" "$day" "$ms" "$wal" "$cells"
}

# rollup_check_day DAY: the rollups of the day are the plain GROUP BY of its raw rows, cell for
# cell (the HyperLogLog estimate within 5 % of the exact count, several times its standard error).
rollup_check_day() {
  local day=$1 bad
  bad=$(rollup_psql -c "
    SELECT count(*) || ' cells differ, e.g. ' || min(format('%s %s: %s', tenant_id, name,
               row(r.events, r.raw_events, r.users, r.sessions, hll_cardinality(r.users_hll)::bigint)::text
               || ' vs ' || row(p.events, p.raw_events, p.users, p.sessions)::text))
    FROM (SELECT * FROM telemetry.daily_rollups WHERE day = '$day') r
    FULL JOIN (SELECT * FROM bench_rollup_plain WHERE day = '$day') p USING (tenant_id, day, name)
    WHERE r.events IS DISTINCT FROM p.events OR r.raw_events IS DISTINCT FROM p.raw_events
       OR r.users IS DISTINCT FROM p.users OR r.sessions IS DISTINCT FROM p.sessions
       OR abs(hll_cardinality(r.users_hll) - p.users) > greatest(2, 0.05 * p.users)
    HAVING count(*) > 0")
  [ -z "$bad" ] || rollup_fail "the refreshed rollups of $day are not a GROUP BY of its raw events: $bad"
  bad=$(rollup_psql -c "SELECT coalesce(sum(raw_events), 0) FROM bench_rollup_plain WHERE day = '$day'")
  [ "$bad" = "$ROLLUP_PER_DAY" ] || rollup_fail "$day holds $bad events, not $ROLLUP_PER_DAY"
}

# rollup_refreshes DAYS: the refresh measurements with DAYS stored, on the same days whatever DAYS.
rollup_refreshes() {
  local days=$1 rep day plain_cells
  for rep in $(seq 1 "$ROLLUP_REPS"); do
    # Recent days, as late events touch: the day before p_now's, three days before, ...
    day=$(rollup_psql -c "SELECT date '$ROLLUP_TODAY' - 1 - 3 * (($rep - 1) % 3)")
    if [ $((rep % 2)) = 1 ]; then
      rollup_refresh_telemetry "$day" "$days" "$rep"; rollup_refresh_plain "$day" "$days" "$rep"
    else
      rollup_refresh_plain "$day" "$days" "$rep"; rollup_refresh_telemetry "$day" "$days" "$rep"
    fi
    plain_cells=$(rollup_psql -c "SELECT count(*) FROM bench_rollup_plain WHERE day = '$day'")
    [ "$ROLLUP_CELLS" = "$plain_cells" ] || rollup_fail "refresh of $day wrote $ROLLUP_CELLS cells; the day has $plain_cells"
    rollup_check_day "$day"
  done
}

# rollup_drop_telemetry REP: p_now one day further, so that exactly the oldest partition is past
# telemetry.retention_days; the day's rollups must stay (frozen), its events go.
rollup_drop_telemetry() {
  local rep=$1 out day part part_bytes p_drop ms wal dropped before after gone left cells raw dead
  read -r day part part_bytes <<<"$(rollup_psql -F ' ' -c "SELECT day, partition, pg_total_relation_size(partition)
                                                          FROM telemetry.partitions() ORDER BY lower_bound LIMIT 1")"
  p_drop=$(rollup_psql -c "SELECT (date '$day' + 1 + current_setting('telemetry.retention_days')::int)::timestamp AT TIME ZONE 'UTC' + interval '12 hours'")
  left=$(rollup_psql -c "SELECT count(*) FROM $part")
  [ "$left" = "$ROLLUP_PER_DAY" ] || rollup_fail "the oldest partition, $part, holds $left events, not a stored day's $ROLLUP_PER_DAY"
  out=$(rollup_psql <<SQL
SELECT sum(pg_total_relation_size(partition)) AS before FROM telemetry.partitions() \gset
SELECT count(*) AS cells, coalesce(sum(raw_events), 0) AS raw FROM telemetry.daily_rollups WHERE day = '$day' \gset
-- A warm session, as the maintenance worker's: p_now's clock drops nothing yet.
SELECT telemetry.drop_expired_partitions('$ROLLUP_NOW') AS warm \gset
CHECKPOINT;
SELECT clock_timestamp() AS t0, pg_current_wal_insert_lsn() AS l0 \gset
SELECT telemetry.drop_expired_partitions('$p_drop') AS dropped \gset
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000, 3) AS ms,
       pg_wal_lsn_diff(pg_current_wal_insert_lsn(), :'l0') AS wal \gset
SELECT sum(pg_total_relation_size(partition)) AS after FROM telemetry.partitions() \gset
SELECT to_regclass('$part') IS NULL AS gone \gset
SELECT count(*) AS left FROM telemetry.events WHERE occurred_at >= ('$day'::timestamp AT TIME ZONE 'UTC')
                                              AND occurred_at < (('$day'::date + 1)::timestamp AT TIME ZONE 'UTC') \gset
SELECT count(*) = :cells AND coalesce(sum(raw_events), 0) = :raw AS kept FROM telemetry.daily_rollups WHERE day = '$day' \gset
SELECT coalesce(sum(n_dead_tup), 0) AS dead FROM pg_stat_user_tables WHERE relid IN (SELECT partition FROM telemetry.partitions()) \gset
\echo :ms :wal :dropped :before :after :gone :left :kept :cells :raw :dead
SQL
)
  read -r ms wal dropped before after gone left kept cells raw dead <<<"$out"
  [ "$dropped" = 1 ] && [ "$gone" = t ] && [ "$left" = 0 ] ||
    rollup_fail "drop_expired_partitions('$p_drop') dropped $dropped partitions (expected 1: $part, gone: $gone), $left events of $day left"
  [ "$kept" = t ] && [ "$raw" = "$ROLLUP_PER_DAY" ] ||
    rollup_fail "the rollups of $day did not survive its partition ($cells cells and $raw events before)"
  # What the day took and was not given back: the size after, less the size before without the
  # dropped partition's (0 when the partition's files went whole).
  echo "drop,telemetry,$ROLLUP_MANY,$rep,$ms,$wal,$before,$after,$((after - (before - part_bytes))),$dead,$ROLLUP_PER_DAY,$cells," >>"$ROLLUP_CSV"
  printf '  drop    %-9s %2d days stored rep=%s  %s: %9.3f ms  %9d WAL bytes  %12d bytes not returned  %7d dead\n' \
    telemetry "$ROLLUP_MANY" "$rep" "$day" "$ms" "$wal" $((after - (before - part_bytes))) "$dead"
}

# rollup_drop_plain REP: DELETE of the oldest day from the plain table, then VACUUM (VERBOSE says
# whether it cleaned the indexes or left the dead line pointers for another time).
rollup_drop_plain() {
  local rep=$1 out day ms wal deleted before rows_before after verbose dead bloat
  day=$(rollup_psql -c "SELECT (min(occurred_at) AT TIME ZONE 'UTC')::date FROM bench_rollup_plain_events")
  verbose="$ROLLUP_HOST/vacuum_verbose.txt"
  out=$(rollup_psql 2>"$verbose" <<SQL
SELECT pg_total_relation_size('bench_rollup_plain_events') AS before, (SELECT count(*) FROM bench_rollup_plain_events) AS rows_before \gset
-- A warm session, as the telemetry side's.
\o /dev/null
EXPLAIN DELETE FROM bench_rollup_plain_events WHERE occurred_at >= ('$day'::timestamp AT TIME ZONE 'UTC')
                                                AND occurred_at < (('$day'::date + 1)::timestamp AT TIME ZONE 'UTC');
\o
CHECKPOINT;
SELECT clock_timestamp() AS t0, pg_current_wal_insert_lsn() AS l0 \gset
DELETE FROM bench_rollup_plain_events WHERE occurred_at >= ('$day'::timestamp AT TIME ZONE 'UTC')
                                        AND occurred_at < (('$day'::date + 1)::timestamp AT TIME ZONE 'UTC');
\set deleted :ROW_COUNT
VACUUM (VERBOSE) bench_rollup_plain_events;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000, 3) AS ms,
       pg_wal_lsn_diff(pg_current_wal_insert_lsn(), :'l0') AS wal \gset
SELECT pg_total_relation_size('bench_rollup_plain_events') AS after \gset
\echo :ms :wal :deleted :before :rows_before :after
SQL
) || { cat "$verbose" >&2; rollup_fail "the plain DELETE and VACUUM of $day failed"; }
  read -r ms wal deleted before rows_before after <<<"$out"
  [ "$deleted" = "$ROLLUP_PER_DAY" ] || rollup_fail "the plain DELETE of $day removed $deleted rows, not $ROLLUP_PER_DAY"
  # Dead line pointers VACUUM left in the heap (and their entries in every index): it skips the
  # indexes when under 2 % of the table's pages have any (PostgreSQL 14+).
  dead=$(sed -n 's/^index scan bypassed: .* have \([0-9]*\) dead item identifiers$/\1/p' "$verbose" | awk '{s += $1} END {print s + 0}')
  # The bytes the day's rows took and still take: the size after, less the table's size before
  # scaled to the rows that remain (the days are alike, so a day's share is its share of rows).
  bloat=$((after - before * (rows_before - deleted) / rows_before))
  echo "drop,plain,$ROLLUP_MANY,$rep,$ms,$wal,$before,$after,$bloat,$dead,$deleted,," >>"$ROLLUP_CSV"
  printf '  drop    %-9s %2d days stored rep=%s  %s: %9.3f ms  %9d WAL bytes  %12d bytes not returned  %7d dead\n' \
    plain "$ROLLUP_MANY" "$rep" "$day" "$ms" "$wal" "$bloat" "$dead"
}

# rollup_benchmarks WORK PORT SIZE CSV: all of the above on the instance at WORK/PORT (SIZE: "",
# --large or --quick), one CSV row per measurement in CSV.
rollup_benchmarks() {
  ROLLUP_HOST=$1 ROLLUP_PORT=$2 ROLLUP_CSV=$4
  ROLLUP_PER_DAY=110000 ROLLUP_REPS=3 ROLLUP_FEW=10 ROLLUP_MANY=90
  # --quick: small days, but as many repetitions (at that size each takes milliseconds, and a
  # single one is too noisy to tell 10 days stored from 90).
  case $3 in
    --large) ROLLUP_REPS=5 ;;
    --quick) ROLLUP_PER_DAY=3000 ;;
  esac
  local rep few_first many_first yesterday
  log "Rollups and retention: days of $ROLLUP_PER_DAY events; refresh of a day with $ROLLUP_FEW and $ROLLUP_MANY days stored, drop of a day past retention; $ROLLUP_REPS repetitions"
  echo "measurement,side,days,rep,ms,wal_bytes,bytes_before,bytes_after,bloat_bytes,dead,events,cells,days_measured" >"$ROLLUP_CSV"
  as_instance_user createdb -h "$ROLLUP_HOST" -p "$ROLLUP_PORT" -U postgres bench_rollup
  rollup_psql -v catalog="$(cat "$BENCH_DIR/catalog.json")" -v mix="$(rollup_mix)" <"$BENCH_DIR/rollup_setup.sql" >/dev/null
  # The clock every step goes by: noon (UTC) of today. The days stored are the ones before it.
  ROLLUP_TODAY=$(rollup_psql -c "SELECT (now() AT TIME ZONE 'UTC')::date")
  ROLLUP_NOW="$ROLLUP_TODAY 12:00:00+00"
  rollup_psql -c "SELECT telemetry.create_partitions('$ROLLUP_NOW', $ROLLUP_MANY)" >/dev/null
  few_first=$(rollup_psql -c "SELECT date '$ROLLUP_TODAY' - $ROLLUP_FEW")
  many_first=$(rollup_psql -c "SELECT date '$ROLLUP_TODAY' - $ROLLUP_MANY")
  yesterday=$(rollup_psql -c "SELECT date '$ROLLUP_TODAY' - 1")

  echo "  storing $ROLLUP_FEW days ($few_first to $yesterday), then maintenance: they are rolled up"
  rollup_fill "$few_first" "$yesterday"
  rollup_maintain
  rollup_storage "$ROLLUP_FEW"
  rollup_refreshes "$ROLLUP_FEW"

  echo "  storing $((ROLLUP_MANY - ROLLUP_FEW)) days more ($many_first on), closed days: logged, then rolled up"
  # As autovacuum would have: the refreshes above left dead cells.
  rollup_psql -c "VACUUM telemetry.daily_rollups"
  # Events of closed days, as late events or a backfill: the log gets each tenant's days, which
  # one refresh with room for all of them (tenants x days) takes at once.
  rollup_fill "$many_first" "$(rollup_psql -c "SELECT date '$few_first' - 1")"
  rollup_maintain $((ROLLUP_MANY * 100))
  # As autovacuum would: the log took a row per tenant and day, and gave them back.
  rollup_psql -c "VACUUM telemetry.rollup_invalidations, telemetry.daily_rollups"
  rollup_storage "$ROLLUP_MANY"
  rollup_refreshes "$ROLLUP_MANY"

  echo "  copying the $ROLLUP_MANY days into the plain table (indexes built after, then VACUUM ANALYZE, as autovacuum would)"
  rollup_psql <<'SQL'
-- The plain side of retention: the same rows, unpartitioned, with a partition's indexes and the
-- one on occurred_at that a daily DELETE needs (without it, it reads the whole table).
CREATE TABLE bench_rollup_plain_events (LIKE telemetry.events INCLUDING DEFAULTS);
INSERT INTO bench_rollup_plain_events SELECT * FROM telemetry.events;
ALTER TABLE bench_rollup_plain_events ADD PRIMARY KEY (tenant_id, occurred_at, id);
CREATE INDEX ON bench_rollup_plain_events (tenant_id, name, occurred_at);
CREATE INDEX ON bench_rollup_plain_events (occurred_at);
VACUUM ANALYZE bench_rollup_plain_events;
SQL
  for rep in $(seq 1 "$ROLLUP_REPS"); do
    if [ $((rep % 2)) = 1 ]; then rollup_drop_telemetry "$rep"; rollup_drop_plain "$rep"
    else rollup_drop_plain "$rep"; rollup_drop_telemetry "$rep"; fi
  done
  rollup_psql -c "SELECT pg_size_pretty(pg_database_size('bench_rollup'))" | sed 's/^/  database size at the end: /'
}

# Run alone: a throwaway instance like bench/run.sh's, then the report's section.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  source "$BENCH_DIR/../scripts/lib.sh"
  source "$BENCH_DIR/workload.sh"
  case "${1:-}" in
    --large | --quick | "") ;;
    *) echo "usage: bench/rollup.sh [--large|--quick]" >&2; exit 2 ;;
  esac
  cd "$TELEMETRY_ROOT"
  started=$(date +%s)
  build_and_install
  work=$(mktemp -d "${TMPDIR:-/tmp}/telemetry-rollup.XXXXXX")
  [ "$(id -u)" -eq 0 ] && chown "$INSTANCE_USER" "$work"
  port=${TELEMETRY_BENCH_PORT:-5433}
  log "Starting a tuned throwaway PostgreSQL 15 in $work"
  # The settings of bench/run.sh's instance.
  start_instance "$work" "$port" \
    "shared_buffers = 1GB" "wal_buffers = 64MB" "max_wal_size = 20GB" "min_wal_size = 4GB" \
    "checkpoint_timeout = 1h" "autovacuum = off" "max_connections = 50" "jit = off"
  cleanup() {
    local status=$?
    stop_instance "$work"
    if [ "$status" -eq 0 ]; then rm -rf "$work"; else echo "bench: failed; the instance's directory is kept in $work" >&2; fi
  }
  trap cleanup EXIT
  rollup_benchmarks "$work" "$port" "${1:-}" "$work/rollup.csv"
  elapsed=$(($(date +%s) - started))
  log "Measured in $elapsed s"
  cat "$work/rollup.csv"
  echo
  PGHOST="$work" PGPORT="$port" PGUSER=postgres PGDATABASE=bench_rollup bench/report.sh --rollups "$work/rollup.csv"
fi
