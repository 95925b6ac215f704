#!/usr/bin/env bash
# The README's main-job command: from a fresh Debian 12 machine to a running PostgreSQL 15 with
# telemetry, an event catalog, two weeks of simulated product events from several tenants, and
# what an analyst sees. Leaves the instance running and says how to connect and how to stop it.
#
#   scripts/demo.sh                 instance in /tmp/telemetry-demo
#   TELEMETRY_DEMO_DIR=DIR scripts/demo.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$TELEMETRY_ROOT"

dir=${TELEMETRY_DEMO_DIR:-/tmp/telemetry-demo}

log "Setting up dependencies"
scripts/setup.sh

log "Building and installing telemetry"
build_and_install

log "Starting a throwaway PostgreSQL 15 in $dir (shared_preload_libraries = 'telemetry')"
stop_instance "$dir"
rm -rf "$dir"
port=${TELEMETRY_DEMO_PORT:-5499}
# The maintenance worker works in the demo database every 2 s; it starts switched off, so that
# the simulation's long transaction below does not keep it waiting, and is switched on later.
metrics_port=${TELEMETRY_DEMO_METRICS_PORT:-9189}
start_instance "$dir" "$port" "telemetry.database = 'demo'" "telemetry.naptime = 2" "telemetry.maintenance_worker = off" \
  "telemetry.metrics_listen = '127.0.0.1:$metrics_port'"
psql=(psql -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres)
as_instance_user createdb -h "$dir" -p "$port" -U postgres demo
cp scripts/demo/*.sql bench/diy_events.sql catalog/conversation_practice.json "$dir"/
[ "$(id -u)" -eq 0 ] && chown "$INSTANCE_USER" "$dir"/*.sql "$dir"/*.json

log "CREATE EXTENSION telemetry"
as_instance_user "${psql[@]}" -d demo -c 'CREATE EXTENSION telemetry CASCADE' \
  -c "SELECT count(*) AS daily_partitions, min(day) AS first_day, max(day) AS last_day FROM telemetry.partitions()"

log "Every object documents itself (\\df+ and \\dt+ show it): what track_batch() takes and returns"
as_instance_user "${psql[@]}" -d demo -At \
  -c "SELECT obj_description('telemetry.track_batch(uuid, text, timestamptz)'::regprocedure, 'pg_proc')"

log "Loading the event catalog of the conversation-practice app (catalog/conversation_practice.json)"
as_instance_user "${psql[@]}" -d demo \
  -c "SELECT action, count(*) AS event_types FROM telemetry.load_catalog(pg_read_file('$dir/conversation_practice.json')::jsonb) GROUP BY action" \
  -c "SELECT status, count(*) AS event_types, string_agg(name, ', ' ORDER BY name) AS names FROM telemetry.event_types GROUP BY status"

log "Tracking two weeks of events from 4 tenants and 240 learners through telemetry.track()"
started=$(date +%s%N)
as_instance_user "${psql[@]}" -d demo -f "$dir/simulate.sql" -f "$dir/report.sql"
elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
as_instance_user "${psql[@]}" -d demo -At -c "SELECT format('%s events tracked; simulation and report took %s ms', count(*), $elapsed_ms) FROM telemetry.events"

log "The maintenance worker, switched on (telemetry.maintenance_worker, a reload): the days before today are rolled up without any call"
as_instance_user "${psql[@]}" -d demo -c "ALTER SYSTEM SET telemetry.maintenance_worker = on" -c "SELECT pg_reload_conf()" >/dev/null
# Waits for a whole maintenance run that started after the given time (at most 60 s).
wait_for_maintenance_run() {
  local since=$1 i
  for i in $(seq 1 60); do
    [ "$(as_instance_user "${psql[@]}" -d demo -At -c "SELECT count(*) FROM telemetry.maintenance_runs
         WHERE step = 'trim_maintenance_runs' AND status <> 'running' AND started_at > '$since'")" -gt 0 ] && return 0
    sleep 1
  done
  echo "no maintenance run finished within 60 s" >&2
  return 1
}
since=$(as_instance_user "${psql[@]}" -d demo -At -c "SELECT now()")
wait_for_maintenance_run "$since"
as_instance_user "${psql[@]}" -d demo -f "$dir/rollups.sql"

log "A late event (a learner's sign-in 3 days ago, sent today) is counted in its day after the next run"
late_cell="SELECT events FROM telemetry.daily_rollups WHERE tenant_id = '6a1f0c3e-0000-4000-8000-000000000001'
           AND day = current_date - 3 AND name = 'user_authenticated'"
before=$(as_instance_user "${psql[@]}" -d demo -At -c "$late_cell")
as_instance_user "${psql[@]}" -d demo -At -c "SELECT 'tracked: ' || telemetry.track('6a1f0c3e-0000-4000-8000-000000000001', 'user_authenticated',
    '{\"provider\": \"email\", \"isNewUser\": false}', 'learner-0001', NULL, now() - interval '3 days')"
since=$(as_instance_user "${psql[@]}" -d demo -At -c "SELECT now()")
wait_for_maintenance_run "$since"
after=$(as_instance_user "${psql[@]}" -d demo -At -c "$late_cell")
echo "user_authenticated on $(date -u -d '3 days ago' +%F) for Northwind: $before events before the run, $after after"
[ "$after" = "$((before + 1))" ] || { echo "the late event was not rolled up" >&2; exit 1; }

log "The analyst's report through the analytics functions: counts, top events, unique and active learners, the invitation funnel with time to convert, completion and escalation rates, weekly retention, sessions, token usage by scenario, conversation lengths"
as_instance_user "${psql[@]}" -d demo -f "$dir/analyst.sql"

log "telemetry.maintenance_status: each step's last success and failure, the watermark, the partitions"
as_instance_user "${psql[@]}" -d demo -c "SELECT step, last_success_at::timestamp(0) AS last_success, consecutive_failures AS failures,
    last_duration, watermark, rollup_lag::interval(0) AS rollup_lag, pending_invalidations AS pending,
    partition_horizon::date AS horizon, oldest_partition FROM telemetry.maintenance_status"

log "A client's batch: every event gets a status (accepted, duplicate, rejected, opted_out, ...)"
as_instance_user "${psql[@]}" -d demo -f "$dir/batch.sql"

log "From an application: psycopg 3 with bind parameters, as drivers send them (untyped strings, or native types)"
PGHOST=$dir PGPORT=$port /usr/bin/python3 scripts/demo/driver.py

log "Quarantine: what breaks its schema is kept aside, and each tenant's admins see and replay their own"
as_instance_user psql -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d demo -f "$dir/quarantine.sql" 2>&1 | sed 's/^psql:[^:]*:[0-9]*: //'

log "Tenancy: two tenants' analysts each see only their own events; a pooled application role acts for the tenant of its token and is refused another's"
as_instance_user psql -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d demo -f "$dir/tenancy.sql" 2>&1 | sed 's/^psql:[^:]*:[0-9]*: //'

log "Privacy: undeclared personal data redacted at ingest (refused for a tenant that chose reject, and in a privileged role's own INSERT), pii_scan() over older events (found by path, never the values), and a learner forgotten with the rollups corrected"
as_instance_user psql -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d demo -f "$dir/privacy.sql" 2>&1 | sed 's/^psql:[^:]*:[0-9]*: //'

log "What the catalog refuses from track() (each is an ERROR to the application, and nothing is stored)"
as_instance_user psql -X -h "$dir" -p "$port" -U postgres -d demo -f "$dir/refusals.sql" 2>&1 | sed 's/^psql:[^:]*:[0-9]*: //'

log "Operations: health checks, the alerts firing, the debug drawer of the last 5 minutes (the batch, the quarantine and the refusals above), and who was active (docs/observe.md)"
as_instance_user "${psql[@]}" -d demo -f "$dir/operations.sql"

log "The metrics endpoint: one scrape of GET http://127.0.0.1:$metrics_port/metrics (what Prometheus reads every 15 s), checked by promtool"
curl -sS --max-time 10 -o "$dir/metrics.txt" -w 'HTTP %{http_code}, %{size_download} bytes in %{time_total} s\n' "http://127.0.0.1:$metrics_port/metrics"
grep -E '^telemetry_(events_received_total|events_total\{status="accepted",event_type="(message_sent|conversation_started)"|events_refused_total\{status="(rejected|quarantined)",reason="(schema|unknown_type|personal_data)"|active_users|worker_up|rollup_lag_seconds|event_payload_bytes_(count|sum))' "$dir/metrics.txt"
echo "... $(grep -c '^telemetry_' "$dir/metrics.txt") samples in all"
promtool check metrics < "$dir/metrics.txt" && echo "promtool check metrics: the exposition is valid"

log "What track() costs: 3 s of pgbench, each transaction at random a plain INSERT into the design documents' events table or a track() of the same event"
as_instance_user "${psql[@]}" -d demo -f "$dir/diy_events.sql"  # the benchmark's plain table
mkdir -p "$dir/cost" && [ "$(id -u)" -eq 0 ] && chown "$INSTANCE_USER" "$dir/cost"
(cd "$dir/cost" && PGOPTIONS="-c synchronous_commit=off" as_instance_user pgbench -n -h "$dir" -p "$port" -U postgres -T 3 \
   -l --log-prefix="$dir/cost/run" -f "$dir/cost_plain.sql" -f "$dir/cost_track.sql" demo >/dev/null)
# pgbench logs a line per transaction: client, number, latency (us), script (0 plain, 1 track), ...
read -r plain_n plain_us track_n track_us < <(cat "$dir"/cost/run.* | awk '
  { n[$4]++; sum[$4] += $3 } END { printf "%d %.1f %d %.1f\n", n[0], sum[0] / n[0], n[1], sum[1] / n[1] }')
as_instance_user "${psql[@]}" -d demo -At -c "
  SELECT format('plain INSERT: %s events, %s us each;  track(): %s events, %s us each, validated against the catalog;  track / plain throughput %s',
                (SELECT count(*) FROM bench_diy_events), $plain_us,
                (SELECT count(*) FROM telemetry.events WHERE tenant_id = '00000000-0000-4000-8000-00000000c057'), $track_us,
                round($plain_us / $track_us, 2))
   || CASE WHEN (SELECT count(*) FROM bench_diy_events) = $plain_n
            AND (SELECT count(*) FROM telemetry.events WHERE tenant_id = '00000000-0000-4000-8000-00000000c057') = $track_n
           THEN ' (every event counted back)' ELSE ' (COUNTS DO NOT MATCH)' END"
echo "(one short run with synchronous_commit off; bench/run.sh measures it properly: docs/benchmarks.md)"

cat <<MSG

==> The instance is still running.
    Connect:  psql -h $dir -p $port -U postgres demo
    Stop:     $( [ "$(id -u)" -eq 0 ] && echo "runuser -u $INSTANCE_USER -- " )$PG_BINDIR/pg_ctl -D $dir/data stop
MSG
