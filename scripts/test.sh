#!/usr/bin/env bash
# The README's test command: set up, build, install, and run every test layer (GoogleTest via
# ctest; the build layer: formatting, and the build following folders; pg_regress, isolation,
# TAP, and the client layer: every public function called through node-postgres and psycopg 3
# with bind parameters; the monitoring layer: promtool over the alert rules and their unit tests
# and over metrics() and the endpoint's output, every Grafana and postgres_exporter query run
# against the demo's data, a real Prometheus scraping the endpoint) against throwaway PostgreSQL
# 15 instances, a bounded
# libFuzzer run over the JSON paths (test/fuzz/run.sh, 20 s per target), then a smoke run
# of the benchmarks (bench/run.sh --quick: every measurement once, every event counted back; it
# fails on a broken measurement or a lost event, never on a ratio) and of bench/compare.sh against
# the committed HEAD, and last the log layer: no
# PII test value in any server log the suite wrote (test/logs/run.sh). Exits non-zero if any layer
# fails, after running all of them. Works as root (the instances run as the
# `postgres` user) and as an ordinary user (installing through sudo).
#
#   scripts/test.sh            everything
#   scripts/test.sh regress    only some layers: unit, build, regress, isolation, tap, client, monitoring, fuzz,
#                              bench, logs
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$TELEMETRY_ROOT"

layers=("$@")
[ ${#layers[@]} -gt 0 ] || layers=(unit build regress isolation tap client monitoring fuzz bench logs)

log "Setting up dependencies"
scripts/setup.sh

log "Building and installing telemetry (warnings are errors, as in every build of the tree)"
build_and_install

failures=()
started=$(date +%s)

run_unit() {
  cmake -S . -B build/unit -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
    cmake --build build/unit -j"$(nproc)" >/dev/null &&
    ctest --test-dir build/unit --output-on-failure --timeout 120 | tail -n 4
}

# pg_regress, isolation and TAP run in a scratch copy owned by the instance user, since
# PostgreSQL will not run as root and writes its results next to the tests.
work=$(mktemp -d "${TMPDIR:-/tmp}/telemetry-tests.XXXXXX")
cp -a Makefile telemetry.control sql expected test catalog src "$work"/
[ "$(id -u)" -eq 0 ] && chown -R "$INSTANCE_USER" "$work"

run_bench() {
  if ! bench/run.sh --quick >"$work/bench.log" 2>&1; then
    tail -n 40 "$work/bench.log"
    return 1
  fi
  tail -n 12 "$work/bench.log"
  # Release against release, the committed HEAD against the working tree (it needs the tree's
  # own history: a copy without .git has none to compare with).
  local toplevel
  toplevel=$(git -C "$TELEMETRY_ROOT" rev-parse --show-toplevel 2>/dev/null) || toplevel=''
  if [ -z "$toplevel" ] || [ "$(cd "$toplevel" && pwd -P)" != "$(cd "$TELEMETRY_ROOT" && pwd -P)" ]; then
    echo "bench/compare.sh: not run (no git history of its own in this copy of the tree)"
    return 0
  fi
  if ! bench/compare.sh --quick --no-build HEAD >"$work/compare.log" 2>&1; then
    tail -n 40 "$work/compare.log"
    return 1
  fi
  tail -n 6 "$work/compare.log"
}

run_pg_layer() {
  local layer=$1
  as_instance_user make -C "$work" -s "installcheck-$layer" \
    EXTRA_REGRESS_OPTS="--temp-instance=$work/tmp_instance_$layer --temp-config=$work/test/regress.conf"
}

for layer in "${layers[@]}"; do
  log "Layer: $layer"
  case $layer in
    unit) run_unit || failures+=(unit) ;;
    build) test/build/run.sh || failures+=(build) ;;
    regress | isolation | tap) run_pg_layer "$layer" || failures+=("$layer") ;;
    client) TELEMETRY_KEEP_LOGS="$work/client_logs" test/client/run.sh || failures+=(client) ;;
    monitoring) test/monitoring/run.sh all || failures+=(monitoring) ;;
    logs) test/logs/run.sh "$work" || failures+=(logs) ;;
    fuzz) test/fuzz/run.sh || failures+=(fuzz) ;;
    bench) run_bench || failures+=(bench) ;;
    *) echo "unknown layer $layer (unit, build, regress, isolation, tap, client, monitoring, fuzz, bench, logs)" >&2; exit 2 ;;
  esac
done

for diffs in "$work/regression.diffs" "$work/output_iso/regression.diffs"; do
  if [ -s "$diffs" ]; then
    log "Differences ($diffs)"
    head -n 300 "$diffs"
  fi
done
if [ -d "$work/tmp_check/log" ] && [[ " ${failures[*]} " == *" tap "* ]]; then
  log "TAP logs: $work/tmp_check/log"
  tail -n 60 "$work"/tmp_check/log/regress_log_* 2>/dev/null || true
fi

log "Finished in $(( $(date +%s) - started )) s"
if [ ${#failures[@]} -gt 0 ]; then
  echo "FAILED layers: ${failures[*]} (scratch copy kept in $work)"
  exit 1
fi
rm -rf "$work"
echo "All layers passed: ${layers[*]}"
