#!/usr/bin/env bash
# Benchmarks: telemetry against plain PostgreSQL doing the same work, in the same run, on a
# throwaway tuned instance. Writes docs/benchmarks.md (tables, ratios, medians with min/max),
# docs/bench/*.png (plots), docs/bench/raw.csv (every run) and docs/bench/rollup.csv (every run
# of the rollup and retention benchmarks, bench/rollup.sh) and docs/bench/analytics.csv (every run
# of the analytics benchmarks, bench/analytics.sh). Not part of the test command.
#
#   bench/run.sh            default size, under 15 minutes on 2 cores
#   bench/run.sh --large    longer runs and more repetitions
#   bench/run.sh --quick    a smoke run of every measurement (does not write docs/)
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$BENCH_DIR/../scripts/lib.sh"
source "$BENCH_DIR/workload.sh"
source "$BENCH_DIR/rollup.sh"
source "$BENCH_DIR/analytics.sh"

duration=3          # seconds per pgbench run
reps=3              # repetitions of every measurement (medians over these)
clients=(1 2 4 8)
paired_clients=(1 4 8)   # the client counts the targets name
load_seconds=60     # the design documents' load test: 1,000 events a minute for this long
storage_events=20000
batches=200         # client batches of 1,000 events per batch measurement
write_docs=yes
case "${1:-}" in
  --large) duration=15; reps=5; load_seconds=300; storage_events=100000; batches=1000 ;;
  --quick) duration=2; reps=1; clients=(1 8); paired_clients=(1 8); load_seconds=10; storage_events=2000; batches=30; write_docs=no ;;
  "") ;;
  *) echo "usage: bench/run.sh [--large|--quick]" >&2; exit 2 ;;
esac
size_label=${1:-}
cd "$TELEMETRY_ROOT"
started=$(date +%s)

log "Setting up (and gnuplot for the plots)"
scripts/setup.sh
if ! command -v gnuplot >/dev/null; then
  as_root apt-get install -y -qq --no-install-recommends gnuplot-nox >/dev/null
fi
build_and_install

work=$(mktemp -d "${TMPDIR:-/tmp}/telemetry-bench.XXXXXX")
[ "$(id -u)" -eq 0 ] && chown "$INSTANCE_USER" "$work"
port=${TELEMETRY_BENCH_PORT:-5433}
log "Starting a tuned throwaway PostgreSQL 15 in $work"
start_instance "$work" "$port" \
  "shared_buffers = 1GB" "wal_buffers = 64MB" "max_wal_size = 20GB" "min_wal_size = 4GB" \
  "checkpoint_timeout = 1h" "autovacuum = off" "max_connections = 50" "jit = off"
# The instance goes in every case; its directory (gigabytes of WAL) too, unless a failure
# should be looked at.
cleanup() {
  local status=$?
  stop_instance "$work"
  if [ "$status" -eq 0 ]; then rm -rf "$work"; else echo "bench: failed; the instance's directory is kept in $work" >&2; fi
}
trap cleanup EXIT
psql_bench() { as_instance_user psql -X -q -v ON_ERROR_STOP=1 -h "$work" -p "$port" -U postgres -d bench "$@"; }
scalar() { psql_bench -At -c "$1"; }
as_instance_user createdb -h "$work" -p "$port" -U postgres bench
cp "$BENCH_DIR"/setup.sql "$BENCH_DIR"/diy_events.sql "$BENCH_DIR"/catalog.json "$work"/
mkdir -p "$work/scripts" "$work/logs"
for side in plain logevent track track_6 track_8 track_untyped track_allow; do write_side "$work/scripts" "$side"; done
[ "$(id -u)" -eq 0 ] && chown -R "$INSTANCE_USER" "$work"
(cd "$work" && psql_bench -v batches="$batches" -f setup.sql)

raw="$work/raw.csv"
echo "measurement,side,clients,sync,rep,rate,p50_ms,p99_ms,wal_bytes_per_event,events,stored" >"$raw"

reset_tables() { psql_bench -c "TRUNCATE bench_diy_events; TRUNCATE telemetry.events; TRUNCATE telemetry.event_ids; CHECKPOINT;"; }
stored_count() {
  case $1 in
    track*) scalar "SELECT count(*) FROM telemetry.events" ;;
    *) scalar "SELECT count(*) FROM bench_diy_events" ;;
  esac
}
wal_lsn() { scalar "SELECT pg_current_wal_insert_lsn()"; }
wal_diff() { scalar "SELECT pg_wal_lsn_diff('$2', '$1')"; }

# One pgbench run: appends a CSV row. Every event pgbench counts must be found back stored.
run_pgbench() {
  local measurement=$1 side=$2 nclients=$3 sync=$4 rep=$5 extra=$6 seconds=$7
  local prefix="$work/logs/run" out lsn0 lsn1 events stored tps p50 p99
  reset_tables
  rm -f "$work"/logs/run*
  lsn0=$(wal_lsn)
  # shellcheck disable=SC2046,SC2086
  out=$(cd "$work/logs" && PGOPTIONS="-c synchronous_commit=$sync" as_instance_user pgbench -n -M simple \
        -h "$work" -p "$port" -U bench_app -c "$nclients" -j "$nclients" -T "$seconds" $extra \
        --random-seed=20261121 -l --log-prefix="$prefix" $(side_scripts "$work/scripts" "$side") bench 2>&1)
  lsn1=$(wal_lsn)
  events=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
  tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' <<<"$out")
  stored=$(stored_count "$side")
  read -r p50 p99 < <(cat "$prefix".* | awk '{print $3}' | sort -n | awk '{v[NR]=$1} END {
      i50=int(NR*0.50); if (i50<1) i50=1; i99=int(NR*0.99); if (i99<1) i99=1;
      printf "%.3f %.3f\n", v[i50]/1000, v[i99]/1000}')
  if [ -z "$events" ] || [ "$events" != "$stored" ]; then
    echo "$out" >&2
    echo "LOSS or failure: pgbench processed '${events:-?}' events, $stored stored ($measurement $side)" >&2
    exit 1
  fi
  echo "$measurement,$side,$nclients,$sync,$rep,$tps,$p50,$p99,$(( $(wal_diff "$lsn0" "$lsn1") / events )),$events,$stored" >>"$raw"
  printf '  %-14s %-9s clients=%s sync=%-3s rep=%s  %8.0f/s  p50 %6.3f ms  p99 %6.3f ms\n' \
    "$measurement" "$side" "$nclients" "$sync" "$rep" "$tps" "$p50" "$p99"
}

# A paired run: every transaction is, at random half and half, one side or the other (a plain
# INSERT or a track() call), so both sides meet the same machine at the same moments. With
# synchronous_commit on, a commit waits for an fsync whose time on this class of machine swings
# twofold from one second to the next, far more than the 5 % to be resolved; runs of one side
# after the other cannot see past it, a paired run can. The targets are judged on paired runs.
# Appends one row per side (measurement MEASUREMENT): its p50, p99 and mean latency, and the
# rate that latency sustains with this many clients (Little's law: clients / mean latency).
run_paired() {
  local measurement=$1 side_a=$2 side_b=$3 nclients=$4 sync=$5 rep=$6 seconds=$7
  local prefix="$work/logs/run" out events stored side first last
  reset_tables
  rm -f "$work"/logs/run*
  # shellcheck disable=SC2046
  out=$(cd "$work/logs" && PGOPTIONS="-c synchronous_commit=$sync" as_instance_user pgbench -n -M simple \
        -h "$work" -p "$port" -U bench_app -c "$nclients" -j "$nclients" -T "$seconds" \
        --random-seed=20261121 -l --log-prefix="$prefix" \
        $(side_scripts "$work/scripts" "$side_a") $(side_scripts "$work/scripts" "$side_b") bench 2>&1)
  events=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
  stored=$(( $(stored_count plain) + $(stored_count track) ))
  if [ -z "$events" ] || [ "$events" != "$stored" ]; then
    echo "$out" >&2
    echo "LOSS or failure: pgbench processed '${events:-?}' events, $stored stored ($measurement)" >&2
    exit 1
  fi
  for side in "$side_a" "$side_b"; do
    # pgbench numbers the scripts in -f order: the 20 of the first side, then the 20 of the other.
    if [ "$side" = "$side_a" ]; then first=0 last=19; else first=20 last=39; fi
    read -r n mean p50 p99 < <(cat "$prefix".* | awk -v a=$first -v b=$last '$4 >= a && $4 <= b {print $3}' | sort -n |
      awk '{v[NR]=$1; sum+=$1} END {i50=int(NR*0.50); if (i50<1) i50=1; i99=int(NR*0.99); if (i99<1) i99=1;
                                   printf "%d %.4f %.3f %.3f\n", NR, sum/NR/1000, v[i50]/1000, v[i99]/1000}')
    rate=$(awk -v c="$nclients" -v m="$mean" 'BEGIN {printf "%.1f", c * 1000 / m}')
    echo "$measurement,$side,$nclients,$sync,$rep,$rate,$p50,$p99,,$n,$n" >>"$raw"
    printf '  %-14s %-9s clients=%s sync=%-3s rep=%s  %8.0f/s  p50 %6.3f ms  p99 %6.3f ms  (mean %.3f ms, %d events)\n' \
      "$measurement" "$side" "$nclients" "$sync" "$rep" "$rate" "$p50" "$p99" "$mean" "$n"
  done
}

sides_in_order() {  # sides_in_order REP SIDE...: the sides, rotated by repetition so none always runs first
  local r=$1
  shift
  local all=("$@") n=$# k
  for ((k = 0; k < n; k++)); do printf '%s ' "${all[$(((r + k) % n))]}"; done
}

log "Single-event ingest: plain INSERT, PL/pgSQL logEvent, telemetry.track(); ${reps} x ${duration} s each"
for sync in on off; do
  sides=(plain logevent track)
  for c in "${clients[@]}"; do
    for rep in $(seq 1 "$reps"); do
      for side in $(sides_in_order "$rep" "${sides[@]}"); do run_pgbench single "$side" "$c" "$sync" "$rep" "" "$duration"; done
    done
  done
done

log "Paired runs: plain INSERT and track() mixed in one run; ${reps} x $((duration * 2)) s each"
for sync in on off; do
  for c in "${paired_clients[@]}"; do
    for rep in $(seq 1 "$reps"); do run_paired paired plain track "$c" "$sync" "$rep" $((duration * 2)); done
  done
done

log "Paired runs: track() leaving two arguments to their defaults, and giving all 8, synchronous_commit off; ${reps} x $((duration * 2)) s each"
for c in 1 4; do
  for rep in $(seq 1 "$reps"); do run_paired paired_arguments track_6 track_8 "$c" off "$rep" $((duration * 2)); done
done

log "Paired runs: track() as drivers call it (untyped arguments) against the typed call, synchronous_commit off; ${reps} x $((duration * 2)) s each"
for c in 1 4; do
  for rep in $(seq 1 "$reps"); do run_paired paired_untyped track track_untyped "$c" off "$rep" $((duration * 2)); done
done

log "Paired runs: track() looking for undeclared personal data (the default) against a tenant that allows it (no detection), synchronous_commit off; ${reps} x $((duration * 2)) s each"
for c in 1 4; do
  for rep in $(seq 1 "$reps"); do run_paired paired_detection track_allow track "$c" off "$rep" $((duration * 2)); done
done

log "Batch ingest: $batches client batches of 1,000 events, sent as bind parameters by bench/batch_client"
cc -O2 -Wall -Wextra -Werror -o "$work/batch_client" "$BENCH_DIR/batch_client.c" -I"$(pg_config --includedir)" -L"$(pg_config --libdir)" -lpq
# One batch per line, "tenant<TAB>JSON array", as a client would post them; and the same rows
# as COPY text for the plain table.
batch_json() {  # batch_json EXTRA_FIELDS_SQL
  psql_bench -At -F $'\t' -c "SELECT tenant_id, jsonb_agg(jsonb_build_object('name', name, 'properties', properties,
      'user_id', user_id, 'session_id', session_id) $1 ORDER BY position)::text
    FROM bench_batch_events GROUP BY batch, tenant_id ORDER BY batch"
}
batch_json "" >"$work/batches.jsonl"
batch_json "|| jsonb_build_object('event_id', event_id, 'occurred_at', now() - interval '1 minute')" >"$work/batches_ids.jsonl"
psql_bench -c "COPY (SELECT tenant_id, name, properties, user_id, session_id FROM bench_batch_events ORDER BY batch, position) TO STDOUT" >"$work/batches.copy"
[ "$(id -u)" -eq 0 ] && chown -R "$INSTANCE_USER" "$work"
# Each repetition is one interleaved run of the four ways (bench/batch_client.c says why).
for rep in $(seq 1 "$reps"); do
  reset_tables
  as_instance_user "$work/batch_client" "host=$work port=$port user=bench_app dbname=bench" \
      copy=copy:"$work/batches.copy" insert_select=insert_select:"$work/batches.jsonl" \
      track_batch=track_batch:"$work/batches.jsonl" track_batch-ids=track_batch:"$work/batches_ids.jsonl" >"$work/batch.out"
  expected=$((batches * 1000))
  plain_stored=$(stored_count plain) track_stored=$(stored_count track)
  [ "$plain_stored" = $((2 * expected)) ] && [ "$track_stored" = $((2 * expected)) ] ||
    { cat "$work/batch.out" >&2; echo "batch: stored $plain_stored plain and $track_stored telemetry events, expected $((2 * expected)) each" >&2; exit 1; }
  while read -r side events _ rate wal; do
    [ "$events" = "$expected" ] || { echo "batch $side: sent $events of $expected" >&2; exit 1; }
    echo "batch,$side,1,on,$rep,$rate,,,$((wal / events)),$events,$events" >>"$raw"
    printf '  batch %-16s rep=%s  %8.0f events/s  %5d WAL bytes/event\n' "$side" "$rep" "$rate" $((wal / events))
  done <"$work/batch.out"
done

log "Storage: bytes on disk and WAL per event, ${storage_events} single-event inserts each"
for rep in $(seq 1 "$reps"); do
  for side in plain track; do
    reset_tables
    base=$( [ $side = track ] && scalar "SELECT sum(pg_total_relation_size(partition)) FROM telemetry.partitions()" \
                               || scalar "SELECT pg_total_relation_size('bench_diy_events')")
    lsn0=$(wal_lsn)
    # shellcheck disable=SC2046
    (cd "$work/logs" && PGOPTIONS="-c synchronous_commit=off" as_instance_user pgbench -n -M simple -h "$work" -p "$port" -U bench_app \
        -c 1 -t "$storage_events" --random-seed=7 $(side_scripts "$work/scripts" "$side") bench >/dev/null 2>&1)
    lsn1=$(wal_lsn)
    psql_bench -c "CHECKPOINT"
    size=$( [ $side = track ] && scalar "SELECT sum(pg_total_relation_size(partition)) FROM telemetry.partitions()" \
                               || scalar "SELECT pg_total_relation_size('bench_diy_events')")
    stored=$(stored_count "$side")
    echo "storage,$side,1,off,$rep,$(( (size - base) / stored )),,,$(( $(wal_diff "$lsn0" "$lsn1") / stored )),$storage_events,$stored" >>"$raw"
    printf '  storage %-6s rep=%s  %5d bytes/event on disk, %5d WAL bytes/event\n' "$side" "$rep" $(( (size - base) / stored )) $(( $(wal_diff "$lsn0" "$lsn1") / stored ))
  done
done

log "Load test: 1,000 events a minute for ${load_seconds} s, then as fast as it goes; every event counted back"
run_pgbench load-1k-per-min track 2 on 1 "-R 16.667" "$load_seconds"
for rep in $(seq 1 "$reps"); do run_pgbench load-max track 8 on "$rep" "" $((duration * 2)); done

rollup_benchmarks "$work" "$port" "$size_label" "$work/rollup.csv"
analytics_benchmarks "$work" "$port" "$size_label" "$work/analytics.csv"
# Scrapes of the metrics endpoint with 10 million events stored: an instance of its own (the
# endpoint's address is set at server start).
"$BENCH_DIR/scrape.sh" ${size_label:+"$size_label"} --no-build --out "$work"

elapsed=$(( $(date +%s) - started ))
log "Measured in $elapsed s; writing the report"
export PGHOST="$work" PGPORT="$port" PGUSER=postgres PGDATABASE=bench
if [ "$write_docs" = yes ]; then
  mkdir -p docs/bench
  cp "$raw" docs/bench/raw.csv
  cp "$work/rollup.csv" docs/bench/rollup.csv
  cp "$work/analytics.csv" docs/bench/analytics.csv
  cp "$work/scrape.csv" docs/bench/scrape.csv
  cp "$work/scrape.md" docs/bench/scrape.md
  bench/report.sh docs/bench/raw.csv "$size_label" "$elapsed" "$duration" "$reps" "$batches" >docs/benchmarks.md
  cat docs/benchmarks.md
else
  bench/report.sh "$raw" "$size_label" "$elapsed" "$duration" "$reps" "$batches" >"$work/benchmarks.md"
  sed -n '/^## Targets/,/^## Single-event/p' "$work/benchmarks.md" | sed '$d'
  sed -n '/^## Rollups and retention/,$p' "$work/benchmarks.md"
  echo "(a smoke run, too short for its ratios to mean much; docs/ is left as it was)"
fi
