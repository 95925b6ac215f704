#!/usr/bin/env bash
# The monitoring layer: what monitoring/ ships is checked against the extension it watches.
#
#   test/monitoring/run.sh rules          no database: promtool check rules and config, promtool
#                                         test rules (a case that fires and one that does not for
#                                         every alert), the alert names the same in the rules, their
#                                         tests, monitoring/README.md, docs/observe.md and
#                                         telemetry.alerts(); every metric the rules and the
#                                         operations dashboard read is one of the metrics contract,
#                                         and promtool parses every PromQL query of the dashboard;
#                                         the dashboards' JSON and the exporter's file well formed
#   test/monitoring/run.sh queries        the database of PGHOST/PGPORT/PGDATABASE/PGUSER: every SQL
#                                         query of the product dashboard (Grafana's macros and
#                                         variables expanded as Grafana does, the tenant from the
#                                         dashboard's own tenant variable) and of the
#                                         postgres_exporter file runs, returns rows, and returns the
#                                         columns the exporter file declares; names the panel that fails
#   test/monitoring/run.sh metrics SRC    SRC a file or an http(s) URL of Prometheus text (curl's
#                                         output or SELECT telemetry.metrics()): promtool check
#                                         metrics; the metrics contract (names, types, labels) and
#                                         what the rules and dashboards read; then a real Prometheus
#                                         scrapes it with the rules loaded: every rule evaluates and
#                                         every query of the operations dashboard runs without error
#   test/monitoring/run.sh all            the three, against a throwaway instance of the installed
#                                         build with the demo's data (catalog/conversation_practice.json,
#                                         scripts/demo/simulate.sql, a maintenance run), the dashboard's
#                                         queries as a role with read access to the demo's tenants and
#                                         the exporter's as a pg_monitor role; metrics from
#                                         SELECT telemetry.metrics() and from the HTTP endpoint
#
# Exits non-zero, saying what failed, if anything did. Needs promtool and prometheus (Debian's
# prometheus), /usr/bin/python3 and, but for `rules`, psql; `all` runs the instance as `postgres` when root.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
python=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1   # no root-owned __pycache__ in the checkout
export PROMTOOL=${PROMTOOL:-promtool}

command -v "$PROMTOOL" >/dev/null 2>&1 || { echo "monitoring: promtool is missing (Debian's prometheus); run scripts/setup.sh" >&2; exit 1; }

rules() {
  local status=0
  echo "==> promtool check rules"
  "$PROMTOOL" check rules "$root/monitoring/prometheus/telemetry.rules.yml" || status=1
  echo "==> promtool check config (prometheus.example.yml)"
  "$PROMTOOL" check config "$root/monitoring/prometheus/prometheus.example.yml" || status=1
  echo "==> promtool test rules"
  # promtool resolves rule_files from the test file's directory.
  (cd "$root/monitoring/prometheus" && "$PROMTOOL" test rules telemetry.rules.test.yml) || status=1
  echo "==> alert names, metric names, dashboards and the exporter's file"
  "$python" "$here/check.py" rules || status=1
  return $status
}

queries() {
  echo "==> the product dashboard's and the exporter's queries (PGHOST=${PGHOST:-} PGPORT=${PGPORT:-} PGDATABASE=${PGDATABASE:-} PGUSER=${PGUSER:-})"
  "$python" "$here/check.py" queries
}

metrics() {
  local status=0
  echo "==> metrics of $1"
  "$python" "$here/check.py" metrics "$1" || status=1
  echo "==> Prometheus scraping the same text, with the rules loaded"
  "$python" "$here/check.py" evaluate "$1" || status=1
  return $status
}

# A throwaway instance of the installed build with the demo's data; everything against it.
all() {
  source "$root/scripts/lib.sh"
  local dir port metrics_port status=0
  dir=$(mktemp -d "${TMPDIR:-/tmp}/telemetry-monitoring.XXXXXX")
  port=54337
  metrics_port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # shellcheck disable=SC2064
  trap "stop_instance '$dir'; rm -rf '$dir'" EXIT

  rules || status=1

  log "Monitoring layer: a throwaway instance in $dir with the demo's data"
  # The worker is switched on once the data is in (the simulation is one long transaction).
  start_instance "$dir" "$port" "telemetry.database = 'monitoring'" "telemetry.maintenance_worker = off" \
    "telemetry.naptime = 1" "telemetry.metrics_tenant_labels = on" "telemetry.metrics_listen = '127.0.0.1:$metrics_port'"
  cp "$root/catalog/conversation_practice.json" "$root/scripts/demo/simulate.sql" "$dir/"
  [ "$(id -u)" -eq 0 ] && chown "$INSTANCE_USER" "$dir"/*.json "$dir"/*.sql
  unset PGDATABASE PGPASSWORD PGPASSFILE PGSERVICE PGSERVICEFILE PGOPTIONS PGSSLMODE PGHOSTADDR
  export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=monitoring
  local psql=(psql -X -q -v ON_ERROR_STOP=1)
  as_instance_user createdb -h "$dir" -p "$port" -U postgres monitoring
  as_instance_user "${psql[@]}" -c 'CREATE EXTENSION telemetry CASCADE' >/dev/null
  as_instance_user "${psql[@]}" -c "SELECT count(*) FROM telemetry.load_catalog(pg_read_file('$dir/conversation_practice.json')::jsonb)" >/dev/null
  as_instance_user "${psql[@]}" -f "$dir/simulate.sql" >/dev/null
  # The days before today rolled up, partitions made, active users sampled; then the worker runs.
  as_instance_user "${psql[@]}" -c 'CALL telemetry.run_maintenance()'
  as_instance_user "${psql[@]}" -c 'ALTER SYSTEM SET telemetry.maintenance_worker = on' -c 'SELECT pg_reload_conf()' >/dev/null
  local i
  for i in $(seq 1 60); do
    as_instance_user psql -X -At -c 'SELECT telemetry.metrics()' | grep -q '^telemetry_worker_last_run_timestamp_seconds ' && break
    sleep 0.5
  done
  # Grafana's data source reads as an analyst of the demo's tenants; the exporter is pg_monitor.
  as_instance_user "${psql[@]}" >/dev/null <<'SQL'
CREATE ROLE grafana_reader LOGIN;
SELECT telemetry.grant_tenant_access('grafana_reader', tenant_id, 'read')
FROM (SELECT DISTINCT tenant_id FROM telemetry.events) t;
CREATE ROLE telemetry_exporter LOGIN IN ROLE pg_monitor;
SQL
  echo "$(as_instance_user psql -X -At -c 'SELECT count(*) FROM telemetry.events') events of $(as_instance_user psql -X -At -c 'SELECT count(DISTINCT tenant_id) FROM telemetry.events') tenants"

  TELEMETRY_DASHBOARD_ROLE=grafana_reader TELEMETRY_EXPORTER_ROLE=telemetry_exporter queries || status=1

  as_instance_user psql -X -At -c 'SELECT telemetry.metrics()' >"$dir/metrics.txt" || status=1
  metrics "$dir/metrics.txt" || status=1
  # The endpoint, where the installed build serves one (its worker shows in pg_stat_activity).
  local served=""
  for i in $(seq 1 50); do
    served=$(as_instance_user psql -X -At -c "SELECT 1 FROM pg_stat_activity WHERE backend_type = 'telemetry metrics'")
    [ -n "$served" ] && curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$metrics_port/metrics" && break
    sleep 0.2
  done
  if [ -n "$served" ]; then
    metrics "http://127.0.0.1:$metrics_port/metrics" || status=1
  else
    echo "note: the installed build serves no metrics endpoint (no 'telemetry metrics' worker): GET /metrics not checked"
  fi
  # The exporter's view of the same: its queries must not break the server either.
  if ! as_instance_user pg_ctl -D "$dir/data" status >/dev/null 2>&1 || grep -q 'terminated by signal' "$dir/server.log"; then
    echo "monitoring: the server crashed (server.log below)" >&2
    tail -n 40 "$dir/server.log" >&2
    status=1
  fi
  return $status
}

status=0
case "${1:-}" in
  rules) rules || status=1 ;;
  queries) queries || status=1 ;;
  metrics) [ $# -eq 2 ] || { echo "usage: $0 metrics FILE|URL" >&2; exit 2; }; metrics "$2" || status=1 ;;
  all) all || status=1 ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
if [ $status -ne 0 ]; then echo "monitoring: FAILED" >&2; else echo "monitoring: all passed"; fi
exit $status
