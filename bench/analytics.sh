#!/usr/bin/env bash
# Analytics (issue 11), against the plain SQL a competent user writes for the same answer, in the
# same run, in a database of its own (bench_analytics) on the bench's instance: one big tenant,
# ~1,000,000 events over 30 days from ~10,000 users (--quick: ~30,000 events, 1,000 users), in
# sessions of the conversation-practice product (bench/analytics_setup.sql), rolled up by
# CALL telemetry.run_maintenance(p_now), p_now noon (UTC) of the day the bench runs:
#
#   counts      telemetry.event_counts(tenant, 30 days, 'day') vs a GROUP BY day, name over raw events;
#   dau         telemetry.daily_active_users(tenant, 30 days): distinct users per day, exact, from
#               the rollups' daily totals (telemetry.daily_totals) vs count(DISTINCT user_id) per day;
#   funnel      telemetry.funnel(), 4 ordered steps, window 1 day vs SQL with the same semantics
#               (each entry's earliest next step, greedily, inside the window; an actor counts at
#               the furthest step any entry reached);
#   completion  telemetry.completion_rate() vs a per-actor join;
#   retention   telemetry.retention(), weekly cohorts, 8 periods vs plain SQL (cohort table with
#               unfinished periods NULL, as R6).
#
# Each side runs in a session of its own, warmed up by running the query once; the sides take
# turns, 3 repetitions; medians (min-max) in bench/report.sh. Both sides must give the same answer
# (every row): if not, the run fails
# (exit 1). A missed target does not: bench/report.sh reports it.
#
# Sourced by bench/run.sh, which calls analytics_benchmarks on its instance; or run alone, on a
# throwaway instance of its own, printing the report's section "Analytics":
#   bench/analytics.sh [--quick]
# shellcheck shell=bash

analytics_psql() { as_instance_user psql -X -q -At -v ON_ERROR_STOP=1 -h "$ANALYTICS_HOST" -p "$ANALYTICS_PORT" -U postgres -d bench_analytics "$@"; }
analytics_fail() { echo "analytics benchmark: $*" >&2; exit 1; }

# analytics_query MEASUREMENT SIDE: the query, its rows of the same types on both sides.
analytics_query() {
  local t="'$ANALYTICS_TENANT'::uuid" from="'$ANALYTICS_FROM'::timestamptz" to="'$ANALYTICS_TO'::timestamptz"
  local now="'$ANALYTICS_NOW'::timestamptz" week="'$ANALYTICS_WEEK'::timestamptz"
  case "$1 $2" in
    "counts telemetry")
      # Zero rows (a type without events that day) are not in a GROUP BY: left out on this side.
      echo "SELECT bucket_start, name, events, users FROM telemetry.event_counts($t, $from, $to, 'day') WHERE events > 0" ;;
    "counts plain")
      echo "SELECT date_trunc('day', occurred_at) AS bucket_start, name, sum(sample_weight::numeric) AS events,
                   count(DISTINCT user_id) AS users
            FROM telemetry.events WHERE tenant_id = $t AND occurred_at >= $from AND occurred_at < $to GROUP BY 1, 2" ;;
    "dau telemetry")
      echo "SELECT day_start AS day, users FROM telemetry.daily_active_users($t, $from, $to)" ;;
    "dau plain")
      echo "SELECT date_trunc('day', occurred_at) AS day, count(DISTINCT user_id) AS users
            FROM telemetry.events WHERE tenant_id = $t AND occurred_at >= $from AND occurred_at < $to GROUP BY 1" ;;
    "funnel telemetry")
      echo "SELECT step, actors FROM telemetry.funnel($t,
              '[\"invitation_claimed\", \"conversation_started\", \"message_sent\",
                {\"event\": \"conversation_ended\", \"where\": {\"reason\": \"completed\"}}]',
              $from, $to, conversion_window => '1 day', now => $now)" ;;
    "funnel plain")
      # Ordered, F5-F7, F12: from each entry (step 1 in the range), the earliest step 2 at or
      # after it, then the earliest step 3 at or after that, ..., all within 1 day of the entry
      # (inclusive) and not after now; the greedy choice reaches furthest. An actor counts at
      # every step up to the furthest any of their entries reached (F10, F14).
      echo "WITH s1 AS (SELECT user_id, occurred_at AS t1 FROM telemetry.events
                   WHERE tenant_id = $t AND name = 'invitation_claimed' AND occurred_at >= $from AND occurred_at < $to
                     AND user_id IS NOT NULL),
            s2 AS (SELECT s1.user_id, s1.t1, min(e.occurred_at) AS t2 FROM s1
                   LEFT JOIN telemetry.events e
                     ON e.tenant_id = $t AND e.name = 'conversation_started' AND e.user_id = s1.user_id
                    AND e.occurred_at >= s1.t1 AND e.occurred_at <= s1.t1 + interval '1 day' AND e.occurred_at <= $now
                   GROUP BY 1, 2),
            s3 AS (SELECT s2.user_id, s2.t1, s2.t2, min(e.occurred_at) AS t3 FROM s2
                   LEFT JOIN telemetry.events e
                     ON e.tenant_id = $t AND e.name = 'message_sent' AND e.user_id = s2.user_id
                    AND e.occurred_at >= s2.t2 AND e.occurred_at <= s2.t1 + interval '1 day' AND e.occurred_at <= $now
                   GROUP BY 1, 2, 3),
            s4 AS (SELECT s3.user_id, s3.t1, s3.t2, s3.t3, min(e.occurred_at) AS t4 FROM s3
                   LEFT JOIN telemetry.events e
                     ON e.tenant_id = $t AND e.name = 'conversation_ended' AND e.properties @> '{\"reason\": \"completed\"}'
                    AND e.user_id = s3.user_id AND e.occurred_at >= s3.t3 AND e.occurred_at <= s3.t1 + interval '1 day'
                    AND e.occurred_at <= $now
                   GROUP BY 1, 2, 3, 4),
            furthest AS (SELECT user_id, max(CASE WHEN t4 IS NOT NULL THEN 4 WHEN t3 IS NOT NULL THEN 3
                                                  WHEN t2 IS NOT NULL THEN 2 ELSE 1 END) AS reached
                         FROM s4 GROUP BY 1)
            SELECT k AS step, count(*) FILTER (WHERE reached >= k) AS actors
            FROM furthest, generate_series(1, 4) k GROUP BY k" ;;
    "completion telemetry")
      echo "SELECT actors, converted, rate FROM telemetry.completion_rate($t, $from, $to, now => $now)" ;;
    "completion plain")
      # Per actor: a conversation_started in the range followed, within 14 days (inclusive) and
      # not after now, by a conversation_ended with reason completed.
      echo "WITH s AS (SELECT user_id, occurred_at AS t FROM telemetry.events
                       WHERE tenant_id = $t AND name = 'conversation_started' AND occurred_at >= $from AND occurred_at < $to
                         AND user_id IS NOT NULL),
            c AS (SELECT user_id, occurred_at AS t FROM telemetry.events
                  WHERE tenant_id = $t AND name = 'conversation_ended' AND properties @> '{\"reason\": \"completed\"}'
                    AND occurred_at >= $from AND occurred_at <= $to + interval '14 days' AND occurred_at <= $now),
            per_actor AS (SELECT s.user_id, bool_or(c.user_id IS NOT NULL) AS converted
                          FROM s LEFT JOIN c ON c.user_id = s.user_id AND c.t >= s.t AND c.t <= s.t + interval '14 days'
                          GROUP BY s.user_id)
            SELECT count(*) AS actors, count(*) FILTER (WHERE converted) AS converted,
                   round((count(*) FILTER (WHERE converted))::numeric / NULLIF(count(*), 0), 4) AS rate
            FROM per_actor" ;;
    "retention telemetry")
      echo "SELECT cohort_start, period_index, cohort_size, retained, complete
            FROM telemetry.retention($t, '\"user_authenticated\"', '\"conversation_started\"', $week, $to, 'week', 8, now => $now)" ;;
    "retention plain")
      # R1-R6, first_time cohorts, weeks in UTC (the session's time zone).
      echo "WITH firsts AS (SELECT user_id, date_trunc('week', min(occurred_at)) AS cohort FROM telemetry.events
                            WHERE tenant_id = $t AND name = 'user_authenticated' AND user_id IS NOT NULL GROUP BY user_id),
            cohorts AS (SELECT * FROM firsts WHERE cohort >= $week AND cohort < $to),
            returns AS (SELECT DISTINCT user_id, date_trunc('week', occurred_at) AS period FROM telemetry.events
                        WHERE tenant_id = $t AND name = 'conversation_started' AND occurred_at >= $week AND occurred_at < $now
                          AND user_id IS NOT NULL),
            sizes AS (SELECT cohort, count(*) AS size FROM cohorts GROUP BY cohort),
            kept AS (SELECT c.cohort, ((r.period::date - c.cohort::date) / 7)::int AS k, count(*) AS retained
                     FROM cohorts c JOIN returns r ON r.user_id = c.user_id AND r.period > c.cohort
                                                  AND r.period <= c.cohort + interval '8 weeks'
                     GROUP BY 1, 2),
            cells AS (SELECT w AS cohort, k FROM generate_series($week, $to - interval '1 microsecond', interval '1 week') w,
                                                 generate_series(0, 8) k)
            SELECT cells.cohort AS cohort_start, cells.k AS period_index, coalesce(sizes.size, 0) AS cohort_size,
                   CASE WHEN cells.cohort + (cells.k + 1) * interval '1 week' <= $now
                        THEN CASE WHEN cells.k = 0 THEN coalesce(sizes.size, 0) ELSE coalesce(kept.retained, 0) END END AS retained,
                   cells.cohort + (cells.k + 1) * interval '1 week' <= $now AS complete
            FROM cells LEFT JOIN sizes USING (cohort) LEFT JOIN kept USING (cohort, k)" ;;
    *) analytics_fail "no query for $1 $2" ;;
  esac
}

# analytics_time MEASUREMENT SIDE REP: the query once to warm the session up, then timed; the
# answer (an md5 of every row, as text, sorted) is kept in ANALYTICS_ANSWER_<side>.
analytics_time() {
  local m=$1 side=$2 rep=$3 q out ms rows answer
  q="SELECT md5(coalesce(string_agg(q::text, ';' ORDER BY q::text), '')) AS answer, count(*) AS rows FROM ($(analytics_query "$m" "$side")) q"
  out=$(analytics_psql <<SQL
SET timezone = 'UTC';
\o /dev/null
$q;
\o
SELECT clock_timestamp() AS t0 \gset
$q \gset
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000, 3) AS ms \gset
\echo :ms :rows :answer
SQL
) || analytics_fail "$m $side failed"
  read -r ms rows answer <<<"$out"
  [ "$rows" -gt 0 ] || analytics_fail "$m $side returned no rows"
  if [ "$side" = telemetry ]; then ANALYTICS_ANSWER_telemetry=$answer; else ANALYTICS_ANSWER_plain=$answer; fi
  echo "$m,$side,$rep,$ms,$rows,$answer,$ANALYTICS_EVENTS" >>"$ANALYTICS_CSV"
  printf '  %-10s %-9s rep=%s  %10.3f ms  %4d rows\n' "$m" "$side" "$rep" "$ms" "$rows"
}

# analytics_benchmarks WORK PORT SIZE CSV: all of the above on the instance at WORK/PORT (SIZE: "",
# --large or --quick), one CSV row per run in CSV.
analytics_benchmarks() {
  ANALYTICS_HOST=$1 ANALYTICS_PORT=$2 ANALYTICS_CSV=$4
  ANALYTICS_TENANT=6a1f0c3e-0000-4000-8000-00000000a11c
  local days=30 users=10000 sessions=100000 reps=3 today failed m rep side
  case $3 in
    --quick) users=1000 sessions=3000 ;;
  esac
  log "Analytics: one tenant, ~$((sessions * 10)) events over $days days from $users users; the analytics functions against plain SQL; $reps repetitions"
  echo "measurement,side,rep,ms,rows,answer,events" >"$ANALYTICS_CSV"
  as_instance_user createdb -h "$ANALYTICS_HOST" -p "$ANALYTICS_PORT" -U postgres bench_analytics
  # The clock every step goes by: noon (UTC) of today. The days stored are the 30 before it.
  today=$(analytics_psql -c "SELECT (now() AT TIME ZONE 'UTC')::date")
  ANALYTICS_NOW="$today 12:00:00+00"
  ANALYTICS_TO="$today 00:00:00+00"
  ANALYTICS_FROM=$(analytics_psql -c "SELECT (date '$today' - $days)::text || ' 00:00:00+00'")
  # Weekly cohorts: from the Monday of the first day stored.
  ANALYTICS_WEEK=$(analytics_psql -c "SELECT (date_trunc('week', date '$today' - $days))::date::text || ' 00:00:00+00'")
  local t0=$SECONDS
  analytics_psql -v tenant="$ANALYTICS_TENANT" -v sessions="$sessions" -v users="$users" -v days="$days" \
    -v first_day="$(analytics_psql -c "SELECT date '$today' - $days")" -v p_now="$ANALYTICS_NOW" -v days_back=$((days + 8)) \
    -f "$BENCH_DIR/analytics_setup.sql" >/dev/null
  ANALYTICS_EVENTS=$(analytics_psql -c "SELECT count(*) FROM telemetry.events")
  analytics_psql -c "CALL telemetry.run_maintenance('$ANALYTICS_NOW')"
  failed=$(analytics_psql -c "SELECT string_agg(step || ' ' || status || coalesce(' ' || sqlstate || ': ' || message, ''), '; ')
                              FROM telemetry.maintenance_runs
                              WHERE run_id = (SELECT max(run_id) FROM telemetry.maintenance_runs) AND status <> 'succeeded'")
  [ -z "$failed" ] || analytics_fail "maintenance: $failed"
  failed=$(analytics_psql -c "SELECT telemetry.rollup_watermark() IS DISTINCT FROM date '$today'
                                     OR EXISTS (SELECT FROM telemetry.rollup_invalidations)
                                     OR (SELECT sum(raw_events) FROM telemetry.daily_rollups) IS DISTINCT FROM $ANALYTICS_EVENTS")
  [ "$failed" = f ] || analytics_fail "maintenance left days not rolled up (watermark $(analytics_psql -c "SELECT telemetry.rollup_watermark()"))"
  analytics_psql -c "VACUUM ANALYZE"
  echo "  $ANALYTICS_EVENTS events of $(analytics_psql -c "SELECT count(DISTINCT user_id) FROM telemetry.events") users stored and rolled up in $((SECONDS - t0)) s"
  for m in counts dau funnel completion retention; do
    for rep in $(seq 1 "$reps"); do
      if [ $((rep % 2)) = 1 ]; then
        analytics_time "$m" telemetry "$rep"; analytics_time "$m" plain "$rep"
      else
        analytics_time "$m" plain "$rep"; analytics_time "$m" telemetry "$rep"
      fi
      if [ "$ANALYTICS_ANSWER_telemetry" != "$ANALYTICS_ANSWER_plain" ]; then
        analytics_psql -c "SET timezone = 'UTC'" -c "$(analytics_query "$m" telemetry) EXCEPT ALL $(analytics_query "$m" plain)" >&2 || true
        echo "--- plain only:" >&2
        analytics_psql -c "SET timezone = 'UTC'" -c "$(analytics_query "$m" plain) EXCEPT ALL $(analytics_query "$m" telemetry)" >&2 || true
        analytics_fail "$m: telemetry and plain SQL answer differently (rep $rep)"
      fi
    done
  done
}

# Run alone: a throwaway instance like bench/run.sh's, then the report's section.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  source "$BENCH_DIR/../scripts/lib.sh"
  case "${1:-}" in
    --large | --quick | "") ;;
    *) echo "usage: bench/analytics.sh [--quick]" >&2; exit 2 ;;
  esac
  cd "$TELEMETRY_ROOT"
  started=$(date +%s)
  build_and_install
  work=$(mktemp -d "${TMPDIR:-/tmp}/telemetry-analytics.XXXXXX")
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
  analytics_benchmarks "$work" "$port" "${1:-}" "$work/analytics.csv"
  log "Measured in $(($(date +%s) - started)) s"
  echo
  PGHOST="$work" PGPORT="$port" PGUSER=postgres PGDATABASE=bench_analytics bench/report.sh --analytics "$work/analytics.csv"
fi
