#!/usr/bin/env bash
# Benchmarks: telemetry against plain PostgreSQL doing the same work, in the same run, on a
# throwaway tuned instance. Writes docs/benchmarks.md (tables, ratios, medians with min/max),
# docs/bench/*.png (plots) and docs/bench/raw.csv (every run). Not part of the test command.
#
#   bench/run.sh            default size, under 15 minutes on 2 cores
#   bench/run.sh --large    longer runs and more repetitions
#   bench/run.sh --quick    a smoke run of every measurement (does not write docs/)
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$BENCH_DIR/../scripts/lib.sh"
source "$BENCH_DIR/workload.sh"

duration=5          # seconds per pgbench run
reps=3              # repetitions of every measurement (medians over these)
clients=(1 2 4 8)
load_seconds=60     # the design documents' load test: 1,000 events a minute for this long
storage_events=20000
write_docs=yes
case "${1:-}" in
  --large) duration=15; reps=5; load_seconds=300; storage_events=100000 ;;
  --quick) duration=2; reps=1; clients=(1 8); load_seconds=10; storage_events=2000; write_docs=no ;;
  "") ;;
  *) echo "usage: bench/run.sh [--large|--quick]" >&2; exit 2 ;;
esac
size_label=${1:---default}
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
trap 'stop_instance "$work"' EXIT
psql_bench() { as_instance_user psql -X -q -v ON_ERROR_STOP=1 -h "$work" -p "$port" -U postgres -d bench "$@"; }
scalar() { psql_bench -At -c "$1"; }
as_instance_user createdb -h "$work" -p "$port" -U postgres bench
cp "$BENCH_DIR"/setup.sql "$BENCH_DIR"/catalog.json "$work"/
mkdir -p "$work/scripts" "$work/logs"
for side in plain logevent track; do write_side "$work/scripts" "$side"; done
[ "$(id -u)" -eq 0 ] && chown -R "$INSTANCE_USER" "$work"
(cd "$work" && psql_bench -f setup.sql)

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
        -h "$work" -p "$port" -U postgres -c "$nclients" -j "$nclients" -T "$seconds" $extra \
        --random-seed=20261121 -l --log-prefix="$prefix" $(side_scripts "$work/scripts" "${side%%-*}") bench 2>&1)
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

sides_in_order() {  # the three sides, rotated by repetition so none always runs first
  local r=$1 all=(plain logevent track)
  echo "${all[$((r % 3))]} ${all[$(((r + 1) % 3))]} ${all[$(((r + 2) % 3))]}"
}

log "Single-event ingest: plain INSERT, PL/pgSQL logEvent, telemetry.track(); ${reps} x ${duration} s each"
for sync in on off; do
  for c in "${clients[@]}"; do
    for rep in $(seq 1 "$reps"); do
      for side in $(sides_in_order "$rep"); do run_pgbench single "$side" "$c" "$sync" "$rep" "" "$duration"; done
    done
  done
done

log "Batch ingest: 50 client batches of 1,000 events"
psql_bench -At -c "SELECT format('SELECT count(*) FROM telemetry.track_batch(%L, %L);', tenant_id,
      jsonb_agg(jsonb_build_object('name', name, 'properties', properties, 'user_id', user_id, 'session_id', session_id,
                                   'event_id', event_id, 'occurred_at', now() - interval '1 minute') ORDER BY position)::text)
    FROM bench_batch_events GROUP BY batch, tenant_id ORDER BY batch" >"$work/batch_track_ids.sql"
psql_bench -At -c "SELECT format('SELECT count(*) FROM telemetry.track_batch(%L, %L);', tenant_id,
      jsonb_agg(jsonb_build_object('name', name, 'properties', properties, 'user_id', user_id, 'session_id', session_id)
                ORDER BY position)::text)
    FROM bench_batch_events GROUP BY batch, tenant_id ORDER BY batch" >"$work/batch_track.sql"
psql_bench -At -c "SELECT format('INSERT INTO bench_diy_events (tenant_id, name, properties, user_id, session_id) SELECT %L, e->>''name'', e->''properties'', e->>''user_id'', e->>''session_id'' FROM jsonb_array_elements(%L::jsonb) AS e;', tenant_id,
      jsonb_agg(jsonb_build_object('name', name, 'properties', properties, 'user_id', user_id, 'session_id', session_id) ORDER BY position)::text)
    FROM bench_batch_events GROUP BY batch, tenant_id ORDER BY batch" >"$work/batch_insert_select.sql"
: >"$work/batch_copy.sql"
for b in $(seq 1 50); do
  echo "COPY bench_diy_events (tenant_id, name, properties, user_id, session_id) FROM STDIN;" >>"$work/batch_copy.sql"
  psql_bench -At -c "COPY (SELECT tenant_id, name, properties, user_id, session_id FROM bench_batch_events WHERE batch = $b ORDER BY position) TO STDOUT" >>"$work/batch_copy.sql"
  echo '\.' >>"$work/batch_copy.sql"
done
[ "$(id -u)" -eq 0 ] && chown -R "$INSTANCE_USER" "$work"
batch_sides=(copy insert_select track_batch track_batch-ids)
for rep in $(seq 1 "$reps"); do
  for k in 0 1 2 3; do
    side=${batch_sides[$(((rep + k) % 4))]}
    case $side in
      copy) file=batch_copy.sql ;; insert_select) file=batch_insert_select.sql ;;
      track_batch) file=batch_track.sql ;; track_batch-ids) file=batch_track_ids.sql ;;
    esac
    reset_tables
    lsn0=$(wal_lsn)
    t0=$(date +%s%N)
    psql_bench -o /dev/null -f "$work/$file"
    t1=$(date +%s%N)
    lsn1=$(wal_lsn)
    stored=$(stored_count "$side")
    [ "$stored" = 50000 ] || { echo "batch $side stored $stored of 50000" >&2; exit 1; }
    rate=$(awk -v ns=$((t1 - t0)) 'BEGIN {printf "%.0f", 50000 / (ns / 1e9)}')
    echo "batch,$side,1,on,$rep,$rate,,,$(( $(wal_diff "$lsn0" "$lsn1") / 50000 )),50000,$stored" >>"$raw"
    printf '  batch %-16s rep=%s  %8.0f events/s\n' "$side" "$rep" "$rate"
  done
done

log "Storage: bytes on disk and WAL per event, ${storage_events} single-event inserts each"
for rep in $(seq 1 "$reps"); do
  for side in plain track; do
    reset_tables
    base=$( [ $side = track ] && scalar "SELECT sum(pg_total_relation_size(partition)) FROM telemetry.partitions()" \
                               || scalar "SELECT pg_total_relation_size('bench_diy_events')")
    lsn0=$(wal_lsn)
    # shellcheck disable=SC2046
    (cd "$work/logs" && PGOPTIONS="-c synchronous_commit=off" as_instance_user pgbench -n -M simple -h "$work" -p "$port" -U postgres \
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

elapsed=$(( $(date +%s) - started ))
log "Measured in $elapsed s; writing the report"
export PGHOST="$work" PGPORT="$port" PGUSER=postgres PGDATABASE=bench
if [ "$write_docs" = yes ]; then
  mkdir -p docs/bench
  cp "$raw" docs/bench/raw.csv
  bench/report.sh docs/bench/raw.csv "$size_label" "$elapsed" "$duration" "$reps" >docs/benchmarks.md
  cat docs/benchmarks.md
else
  bench/report.sh "$raw" "$size_label" "$elapsed" "$duration" "$reps" | head -60
fi
