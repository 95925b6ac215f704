#!/usr/bin/env bash
# Scrapes (issue 13): "a scrape takes under 100 ms with 10 million events stored". On a throwaway
# instance of its own (the endpoint's address is fixed at server start), with telemetry preloaded
# and telemetry.metrics_listen on a free loopback port: 10,000,000 events (--quick: 200,000) spread
# evenly over the last 89 days, from 5 tenants (one with about a third of the events), 20,000
# users each (a few heavy), 8 event types, stored day by day straight into telemetry.events as a
# restore would (telemetry.restoring on), then rolled up by CALL telemetry.run_maintenance(). The
# same rows go into the design documents' plain events table (bench/diy_events.sql's columns and
# indexes, filled in time order, plus the index on created_at that an exporter's queries need,
# as design document 004 has one), which a DIY exporter reads.
#
# Four sides, taking turns round by round (the first to go turning), each in a warm session:
#
#   sql   SELECT telemetry.metrics(), through pgbench (one client, simple protocol);
#   http  GET /metrics of the endpoint, through curl (its time_total: connect, request, answer);
#   diy   what a DIY exporter's scrape runs on the plain table (design document 002's metrics):
#         active users in the last hour, day and week (count(DISTINCT user_id)) and the events
#         of the last hour (count(*)), four statements, through pgbench likewise;
#   sample  not a scrape: telemetry.sample_activity(now()), the maintenance step that computes
#         the active users a scrape reads (once per telemetry.naptime, in the worker).
#
# Each run of a side begins with one unmeasured scrape (a new session plans and caches first).
# Medians and 95th percentiles over every scrape of a side (round medians min-max for the
# spread); the ratio is the DIY scrape's time over telemetry's. Before timing, the endpoint's
# answer must be a 200 with the series the issue names, and telemetry_active_users must agree
# with the DIY exporter's exact counts as of its sample: if not, the run fails (exit 1). A missed
# target does not.
#
#   bench/scrape.sh [--quick|--large] [--no-build] [--out DIR]
#
# Writes DIR/scrape.csv (every scrape) and DIR/scrape.md (the report's section "Scrapes"); DIR is
# docs/bench unless --quick (then nowhere: the section is printed, docs/ left as it was). --no-build:
# the extension is already built and installed (bench/run.sh built it). The instance's socket
# port: TELEMETRY_SCRAPE_PORT (5437); the endpoint's TCP port: TELEMETRY_SCRAPE_METRICS_PORT (a
# free one).
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$BENCH_DIR/../scripts/lib.sh"

events=10000000 days=89 rounds=7 per_round=20 build=yes out='' size_label=''
while [ $# -gt 0 ]; do
  case $1 in
    --quick) events=200000 rounds=3 per_round=5 size_label=--quick ;;
    --large) rounds=15 per_round=30 size_label=--large ;;
    --no-build) build=no ;;
    --out) out=${2:?--out needs a directory}; shift ;;
    *) echo "usage: bench/scrape.sh [--quick|--large] [--no-build] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done
cd "$TELEMETRY_ROOT"
started=$(date +%s)
command -v curl >/dev/null || scripts/setup.sh
if [ "$build" = yes ]; then build_and_install; fi

work=$(mktemp -d "${TMPDIR:-/tmp}/telemetry-scrape.XXXXXX")
[ "$(id -u)" -eq 0 ] && chown "$INSTANCE_USER" "$work"
port=${TELEMETRY_SCRAPE_PORT:-5437}
# A free loopback port for the endpoint, unless one is given.
metrics_port=${TELEMETRY_SCRAPE_METRICS_PORT:-$(perl -MIO::Socket::INET -e \
  'my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0, ReuseAddr => 1) or die "$!\n"; print $s->sockport')}
url="http://127.0.0.1:$metrics_port/metrics"
if [ -z "$out" ]; then
  if [ "$size_label" = --quick ]; then out=$work/results; else out=$TELEMETRY_ROOT/docs/bench; fi
fi
mkdir -p "$out"
csv="$work/scrape.csv"

log "Starting a tuned throwaway PostgreSQL 15 in $work (the endpoint will be $url)"
# The settings of bench/run.sh's instance; the maintenance worker idle (this bench runs
# maintenance itself, and a run in the middle of a measurement would only add noise).
start_instance "$work" "$port" \
  "shared_buffers = 1GB" "wal_buffers = 64MB" "max_wal_size = 20GB" "min_wal_size = 4GB" \
  "checkpoint_timeout = 1h" "autovacuum = off" "max_connections = 50" "jit = off" \
  "telemetry.maintenance_worker = off"
cleanup() {
  local status=$?
  stop_instance "$work"
  if [ "$status" -eq 0 ]; then
    rm -rf "$work"
  else
    echo "bench: failed; the instance's directory is kept in $work" >&2
  fi
}
trap cleanup EXIT
scrape_psql() { as_instance_user psql -X -q -At -v ON_ERROR_STOP=1 -h "$work" -p "$port" -U postgres -d bench_scrape "$@"; }
scrape_fail() { echo "scrape benchmark: $*" >&2; exit 1; }
as_instance_user createdb -h "$work" -p "$port" -U postgres bench_scrape

log "Storing $events events over $days days (5 tenants, 8 event types), rolling them up, and copying them into the plain table"
t0=$SECONDS
scrape_psql <<'SQL' >/dev/null
CREATE EXTENSION telemetry CASCADE;
SELECT telemetry.define_event(n)
FROM unnest(ARRAY['page_viewed', 'button_clicked', 'search_performed', 'conversation_started', 'message_sent',
                  'conversation_ended', 'purchase_completed', 'error_raised']) AS n;
-- Events first to last, evenly spaced over [p_start, p_start + p_span); p_slices transactions,
-- this session taking every p_step-th from p_first. Tenants skewed (the first has ~35 %),
-- users skewed within their tenant, event types skewed; a user's session is their day.
CREATE PROCEDURE bench_scrape_fill(p_start timestamptz, p_span interval, p_events bigint, p_slices int,
                                   p_first int, p_step int)
LANGUAGE plpgsql AS $$
DECLARE
    names text[] := ARRAY['page_viewed', 'button_clicked', 'search_performed', 'conversation_started',
                          'message_sent', 'conversation_ended', 'purchase_completed', 'error_raised'];
    per_slice bigint := p_events / p_slices;
    k int := p_first;
BEGIN
    WHILE k < p_slices LOOP
        PERFORM setseed((k % 997) / 997.0);
        INSERT INTO telemetry.events (occurred_at, received_at, tenant_id, event_id, sample_weight, flags, name,
                                      user_id, session_id, source, schema_version, properties)
        SELECT e.at, e.at + interval '2 seconds', ('5c4a0000-0000-4000-8000-00000000000' || e.t)::uuid,
               gen_random_uuid(), 1, 0, names[e.n], 'user-' || e.t || '-' || e.u,
               'session-' || e.t || '-' || e.u || '-' || to_char(e.at AT TIME ZONE 'UTC', 'YYYYMMDD'),
               'server', '1-0-0', '{"source": "web", "plan": "pro"}'::jsonb
        FROM (SELECT p_start + ((i - 0.5) / p_events) * p_span AS at,
                     1 + floor(power(random(), 1.6) * 5)::int AS t,
                     1 + floor(power(random(), 2) * 20000)::int AS u,
                     1 + floor(power(random(), 1.7) * 8)::int AS n
              FROM generate_series(k * per_slice + 1, CASE WHEN k = p_slices - 1 THEN p_events ELSE (k + 1) * per_slice END) AS i) e;
        COMMIT;
        k := k + p_step;
    END LOOP;
END
$$;
SQL
now=$(scrape_psql -c "SELECT now()")
scrape_psql -c "SELECT telemetry.create_partitions('$now', $((days + 1)), 7)" >/dev/null
# Two loaders, one slice (about a day of events) per transaction each.
for first in 0 1; do
  scrape_psql -c "SET telemetry.restoring = on" \
    -c "CALL bench_scrape_fill(timestamptz '$now' - interval '$days days', interval '$days days', $events, $days, $first, 2)" &
done
wait_all() { local failed=0 pid; for pid in $(jobs -p); do wait "$pid" || failed=1; done; return $failed; }
wait_all || scrape_fail "loading the events failed"
stored=$(scrape_psql -c "SELECT count(*) FROM telemetry.events")
[ "$stored" = "$events" ] || scrape_fail "$stored events stored, not $events"
# As many runs as the log needs (a refresh takes at most 100 days of ranges).
for _ in 1 2 3 4 5; do
  scrape_psql -c "CALL telemetry.run_maintenance()"
  [ "$(scrape_psql -c "SELECT EXISTS (SELECT FROM telemetry.rollup_invalidations)")" = f ] && break
done
failed=$(scrape_psql -c "SELECT string_agg(step || ' ' || status || coalesce(' ' || sqlstate || ': ' || message, ''), '; ')
                         FROM telemetry.maintenance_runs
                         WHERE run_id = (SELECT max(run_id) FROM telemetry.maintenance_runs) AND status <> 'succeeded'")
[ -z "$failed" ] || scrape_fail "maintenance: $failed"
failed=$(scrape_psql -c "SELECT telemetry.rollup_watermark() IS DISTINCT FROM (now() AT TIME ZONE 'UTC')::date
                                OR (SELECT coalesce(sum(raw_events), 0) FROM telemetry.daily_rollups)
                                   IS DISTINCT FROM (SELECT count(*) FROM telemetry.events
                                                     WHERE occurred_at < ((now() AT TIME ZONE 'UTC')::date::timestamp AT TIME ZONE 'UTC'))")
[ "$failed" = f ] || scrape_fail "maintenance left days not rolled up (watermark $(scrape_psql -c "SELECT telemetry.rollup_watermark()"))"
scrape_psql <<'SQL'
-- The design documents' plain table (bench/diy_events.sql), filled in time order as an
-- application fills it, its indexes built after, and the one on created_at that the exporter's
-- "last hour / day / week" queries need (design document 004 indexes its timestamp).
CREATE TABLE bench_diy_events (
    id          bigserial PRIMARY KEY,
    tenant_id   uuid        NOT NULL,
    name        text        NOT NULL,
    properties  jsonb       NOT NULL,
    user_id     text,
    session_id  text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO bench_diy_events (tenant_id, name, properties, user_id, session_id, created_at)
SELECT tenant_id, name, properties, user_id, session_id, occurred_at FROM telemetry.events ORDER BY occurred_at;
CREATE INDEX ON bench_diy_events (tenant_id, name, created_at DESC);
CREATE INDEX ON bench_diy_events (tenant_id, created_at DESC);
CREATE INDEX ON bench_diy_events (created_at);
VACUUM ANALYZE;
CHECKPOINT;
SQL
echo "  $stored events of $(scrape_psql -c "SELECT count(DISTINCT user_id) FROM bench_diy_events") users stored, rolled up and copied in $((SECONDS - t0)) s;" \
     "telemetry.events $(scrape_psql -c "SELECT pg_size_pretty(sum(pg_total_relation_size(partition))) FROM telemetry.partitions()"),"\
     "the plain table $(scrape_psql -c "SELECT pg_size_pretty(pg_total_relation_size('bench_diy_events'))")"

log "Restarting with the endpoint on 127.0.0.1:$metrics_port and the worker in bench_scrape"
scrape_psql -c "ALTER SYSTEM SET telemetry.metrics_listen = '127.0.0.1:$metrics_port'" \
            -c "ALTER SYSTEM SET telemetry.database = 'bench_scrape'"
as_instance_user pg_ctl -D "$work/data" -l "$work/server.log" -w -t 120 restart >/dev/null
body="$work/metrics.txt"
code=
for _ in $(seq 1 300); do
  code=$(curl -s -o "$body" -w '%{http_code}' --max-time 5 "$url" || true)
  [ "$code" = 200 ] && break
  sleep 0.1
done
[ "$code" = 200 ] || { tail -n 20 "$work/server.log" >&2; scrape_fail "GET $url answered '$code', not 200"; }
# The bulk-loaded events went past the counters: one event of each type through track(), so that
# every counter series a production server shows is in the answer, and counted there.
tracked=$(scrape_psql -c "SELECT count(telemetry.track(name, '{\"source\": \"web\"}'::jsonb, 'user-bench', 'session-bench'))
                          FROM telemetry.event_types")
curl -s -o "$body" --max-time 5 "$url"
for series in telemetry_events_total telemetry_events_received_total telemetry_active_users telemetry_build_info; do
  grep -q "^# TYPE $series " "$body" || { grep '^# TYPE' "$body" >&2; scrape_fail "the endpoint's answer has no $series"; }
done
counted=$(awk 'index($0, "telemetry_events_total{") == 1 && index($0, "status=\"accepted\"") { s += $NF } END { print s + 0 }' "$body")
[ "$counted" = "$tracked" ] || scrape_fail "$tracked events tracked, telemetry_events_total{status=\"accepted\"} sums to $counted"
body_lines=$(wc -l <"$body") body_bytes=$(wc -c <"$body")
echo "  the answer: $body_lines lines, $body_bytes bytes; $tracked events tracked and counted"

# The active users the endpoint reports, by window label (summed over any other label), against
# the DIY exporter's exact counts for the same windows, ending when telemetry sampled them
# (telemetry_activity_sample_timestamp_seconds: the maintenance step sample_activity computes
# them once per naptime, the scrape reads them). 1h and 24h must be equal, 7d (HyperLogLog,
# 1.7 % at three standard errors) within 2 %.
endpoint_users() {  # endpoint_users WINDOW
  awk -v w="window=\"$1\"" 'index($0, "telemetry_active_users{") == 1 && index($0, w) { s += $NF; n++ }
                           END { if (n) printf "%d\n", s; else print "missing" }' "$body"
}
curl -s -o "$body" --max-time 5 "$url"
sampled_at=$(awk '$1 == "telemetry_activity_sample_timestamp_seconds" { print $2 }' "$body")
[ -n "$sampled_at" ] || { grep '^telemetry_a' "$body" >&2 || true; scrape_fail "no telemetry_activity_sample_timestamp_seconds"; }
as_of=$(scrape_psql -c "SELECT to_timestamp($sampled_at)")
answers="$work/answers.txt"
: >"$answers"
windows=(1h 24h 7d)
intervals=("1 hour" "24 hours" "7 days")
tolerance=(0 0 0.02)
for i in 0 1 2; do
  window=${windows[$i]}
  ours=$(endpoint_users "$window")
  [ "$ours" != missing ] || { grep '^telemetry_active_users' "$body" >&2 || true; scrape_fail "no telemetry_active_users{window=\"$window\"}"; }
  theirs=$(scrape_psql -c "SELECT count(DISTINCT user_id) FROM bench_diy_events
                           WHERE created_at > timestamptz '$as_of' - interval '${intervals[$i]}' AND created_at <= '$as_of'")
  echo "$window $ours $theirs" >>"$answers"
  printf '  active users %-3s  endpoint %8d  DIY exact %8d  (as of %s)\n' "$window" "$ours" "$theirs" "$as_of"
  awk -v a="$ours" -v b="$theirs" -v t="${tolerance[$i]}" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t * b) }' ||
    scrape_fail "telemetry_active_users{window=\"$window\"} is $ours, the exact count $theirs"
done

# The two pgbench scripts: one scrape each.
mkdir -p "$work/logs"
echo "SELECT telemetry.metrics();" >"$work/sql.sql"
echo "SELECT telemetry.sample_activity(now());" >"$work/sample.sql"
cat >"$work/diy.sql" <<'SQL'
SELECT count(DISTINCT user_id) FROM bench_diy_events WHERE created_at > now() - interval '1 hour';
SELECT count(DISTINCT user_id) FROM bench_diy_events WHERE created_at > now() - interval '24 hours';
SELECT count(DISTINCT user_id) FROM bench_diy_events WHERE created_at > now() - interval '7 days';
SELECT count(*) FROM bench_diy_events WHERE created_at > now() - interval '1 hour';
SQL
[ "$(id -u)" -eq 0 ] && chown -R "$INSTANCE_USER" "$work"

echo "measurement,side,round,sample,ms,events" >"$csv"
# scrape_pgbench SIDE ROUND: PER_ROUND + 1 scrapes in one session; the first is not kept.
scrape_pgbench() {
  local side=$1 round=$2 out
  rm -f "$work"/logs/scrape*
  out=$(cd "$work/logs" && as_instance_user pgbench -n -M simple -h "$work" -p "$port" -U postgres -c 1 \
        -t $((per_round + 1)) -f "$work/$side.sql" -l --log-prefix="$work/logs/scrape" bench_scrape 2>&1) ||
    { echo "$out" >&2; scrape_fail "pgbench $side failed"; }
  # pgbench's log: client, transaction (from 1), latency in us, script, epoch, us.
  cat "$work"/logs/scrape* | awk -v side="$side" -v round="$round" -v n="$events" \
    '$2 > 1 { printf "scrape,%s,%d,%d,%.3f,%s\n", side, round, $2 - 1, $3 / 1000, n }' >>"$csv"
}
# scrape_http ROUND: PER_ROUND + 1 GETs, each a new connection as Prometheus's after the
# endpoint closes it; the first is not kept. Each must answer 200 with the series.
scrape_http() {
  local round=$1 k code secs
  for k in $(seq 0 "$per_round"); do
    read -r code secs < <(curl -s -o "$body" -w '%{http_code} %{time_total}\n' --max-time 10 "$url")
    if [ "$code" != 200 ] || ! grep -q '^telemetry_build_info' "$body"; then scrape_fail "GET $url answered $code"; fi
    if [ "$k" -gt 0 ]; then
      awk -v r="$round" -v k="$k" -v s="$secs" -v n="$events" 'BEGIN { printf "scrape,http,%d,%d,%.3f,%s\n", r, k, s * 1000, n }' >>"$csv"
    fi
  done
}
# round_line SIDE ROUND: the round's median and p95 of SIDE.
round_line() {
  awk -F, -v side="$1" -v round="$2" '$2 == side && $3 == round { print $5 }' "$csv" | sort -n |
    awk -v side="$1" -v round="$2" '{ v[NR] = $1 } END {
      m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; i = int(NR * 0.95 + 0.999); if (i < 1) i = 1;
      printf "  scrape %-6s round=%-2d  median %9.3f ms  p95 %9.3f ms  (%d scrapes)\n", side, round, m, v[i], NR }'
}

log "Scrapes: telemetry.metrics() in SQL, GET /metrics, and the DIY exporter's queries; $rounds rounds of $per_round scrapes per side"
sides=(sql http diy sample)
for round in $(seq 1 "$rounds"); do
  for k in 0 1 2 3; do
    side=${sides[$(((round + k) % 4))]}
    case $side in
      http) scrape_http "$round" ;;
      *) scrape_pgbench "$side" "$round" ;;
    esac
    round_line "$side" "$round"
  done
done

# The statistics, and the report's section, in SQL on the instance.
stats="$work/stats.txt"
scrape_psql -F ' ' <<SQL >"$stats"
CREATE TEMP TABLE s (measurement text, side text, round int, sample int, ms float8, events bigint);
\copy s FROM '$csv' WITH (FORMAT csv, HEADER true)
WITH r AS (SELECT side, round, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS m FROM s GROUP BY 1, 2)
SELECT s.side, count(*), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 3),
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric, 3),
       (SELECT round(min(m)::numeric, 3) FROM r WHERE r.side = s.side), (SELECT round(max(m)::numeric, 3) FROM r WHERE r.side = s.side)
FROM s GROUP BY s.side ORDER BY array_position(ARRAY['sql', 'http', 'diy', 'sample'], s.side);
SQL
declare -A n median p95 lo hi
while read -r side count m p l h; do
  n[$side]=$count median[$side]=$m p95[$side]=$p lo[$side]=$l hi[$side]=$h
done <"$stats"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
verdict() { awk -v v="$1" 'BEGIN { print (v < 100) ? "met" : "**missed**" }'; }
events_label=$(sed ':a; s/\B[0-9]\{3\}\>/,&/; ta' <<<"$events")
elapsed=$(($(date +%s) - started))

log "Scrapes, $events_label events stored (median and p95 of ${n[http]} scrapes per side; measured in $elapsed s)"
for side in sql http diy sample; do
  printf '  %-6s median %9.3f ms  p95 %9.3f ms  (round medians %.3f-%.3f)\n' "$side" "${median[$side]}" "${p95[$side]}" "${lo[$side]}" "${hi[$side]}"
done
echo "  DIY / telemetry: $(ratio "${median[diy]}" "${median[http]}")x (median, endpoint), $(ratio "${p95[diy]}" "${p95[http]}")x (p95)"
echo "  target: a scrape under 100 ms (p95 of GET /metrics): ${p95[http]} ms, $(verdict "${p95[http]}")"

cp "$csv" "$out/scrape.csv"
{
  cat <<MD
## Scrapes

The Prometheus endpoint ([observe.md](observe.md)) against what a DIY exporter does on the
design documents' plain table, on a throwaway instance of its own ([bench/scrape.sh](../bench/scrape.sh):
the endpoint's address is set at server start): $events_label events spread evenly over the last
$days days, from 5 tenants (one with about a third of the events), 20,000 users each (a few heavy),
8 event types, stored in \`telemetry.events\` and rolled up by \`CALL telemetry.run_maintenance()\`;
the same rows in the plain table (\`bench/diy_events.sql\`'s columns and indexes, in time order,
plus an index on \`created_at\`, which its exporter's queries need). The sides take turns round by
round, each in a warm session (its first scrape not kept); one event of each type was tracked
through \`track()\` first, so that the answer has every series a production server shows
($body_lines lines, $body_bytes bytes). Medians and 95th percentiles of
${n[http]} scrapes per side ($rounds rounds; round medians min-max). Before timing, the endpoint's
\`telemetry_active_users\` must agree with the DIY exporter's exact counts, or the run fails.

| target | measured | |
| --- | --- | --- |
| a scrape (GET /metrics) under 100 ms with $events_label events stored, p95 | ${p95[http]} ms (median ${median[http]} ms) | $(verdict "${p95[http]}") |

| scrape | median ms | p95 ms | round medians ms | DIY / this (median) |
| --- | --- | --- | --- | --- |
| GET /metrics of the endpoint (curl's time_total: connect, request, answer) | ${median[http]} | ${p95[http]} | ${lo[http]}-${hi[http]} | $(ratio "${median[diy]}" "${median[http]}")x |
| \`SELECT telemetry.metrics()\` (pgbench, one session) | ${median[sql]} | ${p95[sql]} | ${lo[sql]}-${hi[sql]} | $(ratio "${median[diy]}" "${median[sql]}")x |
| DIY exporter on the plain table: \`count(DISTINCT user_id)\` over the last hour, day and week, \`count(*)\` over the last hour (pgbench, one session) | ${median[diy]} | ${p95[diy]} | ${lo[diy]}-${hi[diy]} | 1x |
| not a scrape: the maintenance step behind \`telemetry_active_users\`, \`telemetry.sample_activity(now())\` (once per \`telemetry.naptime\`, in the worker) | ${median[sample]} | ${p95[sample]} | ${lo[sample]}-${hi[sample]} | $(ratio "${median[diy]}" "${median[sample]}")x |

A scrape reads counters from shared memory and gauges from small tables; the active users are
computed by the maintenance step \`sample_activity\` once per \`telemetry.naptime\` (the last 24
hours and the week's edges from raw events, the whole days in between from the rollups'
HyperLogLog sketches) and read by every scrape until the next run. The DIY exporter computes them
at every scrape.

Active users, as the endpoint reported them and as the DIY exporter counts them exactly, both
as of the time \`sample_activity\` ran ($as_of; 1h and 24h must be equal, 7d, an estimate,
within 2 %, or the run fails):

| window | telemetry_active_users | DIY exact |
| --- | --- | --- |
MD
  while read -r window ours theirs; do echo "| $window | $ours | $theirs |"; done <"$answers"
  echo
  echo "Measured in $elapsed s (\`bench/scrape.sh${size_label:+ $size_label}\`); every scrape in [bench/scrape.csv](bench/scrape.csv)."
  echo
} >"$out/scrape.md"
if [ "$out" = "$work/results" ]; then
  echo
  cat "$out/scrape.md"
  echo "(a smoke run, too short for its numbers to mean much; docs/ is left as it was)"
else
  echo "  wrote $out/scrape.md and $out/scrape.csv"
fi
