#!/usr/bin/env bash
# What a change costs the ingest path: the working tree's library against the library of another
# revision (a release), in paired runs on one instance. Each build's track() is measured against
# the same plain INSERT in the same pgbench run (bench/run.sh's paired runs, one client), and the
# two builds take turns round by round on the same instance, disk and data (the server restarted
# with the other library, the first to go turning), so a difference between the builds is not a
# difference between two moments of the machine. Answers "does this release cost anything
# measurable", which one full bench/run.sh per release cannot: there, a slower fsync on the day
# moves the one-client ratio more than the change does (docs/benchmarks.md, "Release against
# release").
#
#   bench/compare.sh [--quick] [--rounds N] [--no-build] [--out DIR] REV
#
# REV: a commit whose extension version's install script the working tree installs (a release:
# src/sql/releases/), or a commit with the working tree's SQL; 0.6.0 or later (bench/setup.sql
# sets a PII policy). It is built from `git archive`, apart from the working tree. Each build
# gets a database of its own, made with its version.
# Per round and build: REPS paired runs of SECONDS with synchronous_commit on, then off.
# Writes DIR/compare.csv (every run) and DIR/compare.md (the report's section "Release against
# release"); DIR is docs/bench unless --quick (then nowhere: the section is printed). --no-build:
# the working tree is built and installed already. The installed library is put back at the end,
# whatever happens; meanwhile any other server of this host that loads telemetry would load
# whichever build is in place. The instance's socket port: TELEMETRY_COMPARE_PORT (5436).
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$BENCH_DIR/../scripts/lib.sh"
source "$BENCH_DIR/workload.sh"

rounds=6 reps=3 seconds=6 build=yes out='' quick=no rev='' rounds_given=''
usage() { echo "usage: bench/compare.sh [--quick] [--rounds N] [--no-build] [--out DIR] REV" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --quick) rounds=2 reps=1 seconds=2 quick=yes ;;
    --rounds) rounds_given=${2:?--rounds needs a number}; shift ;;
    --no-build) build=no ;;
    --out) out=${2:?--out needs a directory}; shift ;;
    -*) usage ;;
    *) [ -z "$rev" ] || usage; rev=$1 ;;
  esac
  shift
done
[ -n "$rev" ] || usage
if [ -n "$rounds_given" ]; then rounds=$rounds_given; fi
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "compare: --rounds needs a positive number" >&2; exit 2; }
cd "$TELEMETRY_ROOT"
# The history is this tree's own (not that of a repository the tree happens to sit in).
toplevel=$(git rev-parse --show-toplevel 2>/dev/null) || toplevel=''
if [ -z "$toplevel" ] || [ "$(cd "$toplevel" && pwd -P)" != "$(pwd -P)" ]; then
  echo "compare: $TELEMETRY_ROOT is not a git checkout of its own: no revision to compare with" >&2
  exit 2
fi
rev_commit=$(git rev-parse --verify --quiet "$rev^{commit}") || { echo "compare: no commit $rev" >&2; exit 2; }
control_version() { sed -n "s/^default_version *= *'\(.*\)'/\1/p"; }
rev_version=$(git show "$rev_commit:telemetry.control" 2>/dev/null | control_version)
head_version=$(control_version <telemetry.control)
[ -n "$rev_version" ] || { echo "compare: $rev has no telemetry.control with a default_version" >&2; exit 2; }
grep -q '^CREATE EXTENSION telemetry CASCADE;$' "$BENCH_DIR/setup.sql" ||
  { echo "compare: bench/setup.sql no longer has the CREATE EXTENSION line this script versions" >&2; exit 2; }
started=$(date +%s)
if [ "$build" = yes ]; then build_and_install; fi
if [ ! -f "$(pg_config --sharedir)/extension/telemetry--$rev_version.sql" ]; then
  echo "compare: $rev is version $rev_version, whose install script the working tree does not install" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/telemetry-compare.XXXXXX")
installed="$(pg_config --pkglibdir)/telemetry.so"
# The installed library comes back in every case; the instance goes; its directory too, unless a
# failure should be looked at.
cleanup() {
  local status=$?
  set +e
  stop_instance "$work"
  if [ -f "$work/installed.so" ] && ! as_root install -m 755 "$work/installed.so" "$installed"; then
    echo "compare: COULD NOT PUT BACK $installed: make install (or copy $work/installed.so there)" >&2
    status=1
  fi
  if [ "$status" -eq 0 ]; then rm -rf "$work"; else echo "compare: failed; the instance's directory is kept in $work" >&2; fi
  exit "$status"
}
trap cleanup EXIT
[ "$(id -u)" -eq 0 ] && chown "$INSTANCE_USER" "$work"
port=${TELEMETRY_COMPARE_PORT:-5436}
cp "$installed" "$work/installed.so"
cp "$TELEMETRY_ROOT/telemetry.so" "$work/lib-head.so"

log "Building $rev (${rev_commit:0:12}, version $rev_version) apart from the working tree"
mkdir -p "$work/rev"
git archive "$rev_commit" | tar -x -C "$work/rev"
make -C "$work/rev" -s -j"$(nproc 2>/dev/null || echo 2)" >"$work/rev-build.log" 2>&1 ||
  { tail -n 30 "$work/rev-build.log" >&2; exit 1; }
cp "$work/rev/telemetry.so" "$work/lib-rev.so"

log "Starting a tuned throwaway PostgreSQL 15 in $work (bench/run.sh's settings)"
start_instance "$work" "$port" \
  "shared_buffers = 1GB" "wal_buffers = 64MB" "max_wal_size = 20GB" "min_wal_size = 4GB" \
  "checkpoint_timeout = 1h" "autovacuum = off" "max_connections = 50" "jit = off"
psql_as() { local db=$1; shift; as_instance_user psql -X -q -v ON_ERROR_STOP=1 -h "$work" -p "$port" -U postgres -d "$db" "$@"; }
# use_build BUILD: the server restarted with BUILD's library (rev or head).
use_build() {
  stop_instance "$work"
  as_root install -m 755 "$work/lib-$1.so" "$installed"
  as_instance_user pg_ctl -D "$work/data" -l "$work/server.log" -w -t 60 start >/dev/null
}
mkdir -p "$work/scripts" "$work/logs"
for side in plain track; do write_side "$work/scripts" "$side"; done
cp "$BENCH_DIR"/setup.sql "$BENCH_DIR"/diy_events.sql "$BENCH_DIR"/catalog.json "$work"/
# Each build's database, made while its library is loaded, at its version; the role once.
sed "s/^CREATE EXTENSION telemetry CASCADE;/CREATE EXTENSION telemetry VERSION '$rev_version' CASCADE;/" \
  "$BENCH_DIR/setup.sql" >"$work/setup-rev.sql"
sed -e "s/^CREATE EXTENSION telemetry CASCADE;/CREATE EXTENSION telemetry VERSION '$head_version' CASCADE;/" \
  -e "/^CREATE ROLE bench_app LOGIN;/d" "$BENCH_DIR/setup.sql" >"$work/setup-head.sql"
[ "$(id -u)" -eq 0 ] && chown -R "$INSTANCE_USER" "$work"
for b in rev head; do
  use_build "$b"
  as_instance_user createdb -h "$work" -p "$port" -U postgres "bench_$b"
  (cd "$work" && psql_as "bench_$b" -v batches=1 -f "setup-$b.sql" >"$work/setup-$b.log" 2>&1) ||
    { tail -n 20 "$work/setup-$b.log" >&2; echo "compare: setting up the $b database failed" >&2; exit 1; }
done

raw="$work/compare.csv"
echo "round,build,sync,rep,plain_mean_ms,track_mean_ms,ratio,events" >"$raw"
# paired BUILD ROUND SYNC REP: one paired run (half plain INSERT, half track(), at random),
# appending a row: both sides' mean latency and the ratio of the rates they sustain.
paired() {
  local b=$1 r=$2 sync=$3 rep=$4 db="bench_$1" prefix="$work/logs/run" out events stored
  psql_as "$db" -c "TRUNCATE bench_diy_events; TRUNCATE telemetry.events; TRUNCATE telemetry.event_ids; CHECKPOINT;"
  rm -f "$work"/logs/run*
  # shellcheck disable=SC2046
  out=$(cd "$work/logs" && PGOPTIONS="-c synchronous_commit=$sync" as_instance_user pgbench -n -M simple \
        -h "$work" -p "$port" -U bench_app -c 1 -j 1 -T "$seconds" --random-seed=20261121 -l --log-prefix="$prefix" \
        $(side_scripts "$work/scripts" plain) $(side_scripts "$work/scripts" track) "$db" 2>&1) || true
  events=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
  stored=$(psql_as "$db" -At -c "SELECT (SELECT count(*) FROM bench_diy_events) + (SELECT count(*) FROM telemetry.events)")
  if [ -z "$events" ] || [ "$events" != "$stored" ]; then
    echo "$out" >&2
    echo "LOSS or failure: pgbench processed '${events:-?}' events, $stored stored ($b)" >&2
    exit 1
  fi
  # pgbench numbers the scripts in -f order: the 20 of plain, then the 20 of track().
  cat "$prefix".* | awk -v b="$b" -v r="$r" -v sync="$sync" -v rep="$rep" -v n="$events" '
    $4 <= 19 {p += $3; np++} $4 >= 20 {t += $3; nt++}
    END {printf "%s,%s,%s,%s,%.4f,%.4f,%.4f,%d\n", r, b, sync, rep, p / np / 1000, t / nt / 1000, (p / np) / (t / nt), n}' |
    tee -a "$raw" | awk -F, '{printf "  round %s %-4s sync=%-3s rep=%s  plain %.4f ms  track %.4f ms  track/plain %.4f\n", $1, $2, $3, $4, $5, $6, $7}'
}

log "$rounds rounds; per round and build: $reps paired runs of $seconds s with synchronous_commit on, then off"
for r in $(seq 1 "$rounds"); do
  if (( r % 2 )); then order=(rev head); else order=(head rev); fi
  for b in "${order[@]}"; do
    use_build "$b"
    for sync in on off; do
      for rep in $(seq 1 "$reps"); do paired "$b" "$r" "$sync" "$rep"; done
    done
  done
done
elapsed=$(( $(date +%s) - started ))

# The statistics, and the report's section, in SQL on the instance.
report=$(psql_as postgres -At -F '|' <<SQL
SET client_min_messages = warning;
CREATE TEMP TABLE runs (round int, build text, sync text, rep int, plain_ms float8, track_ms float8, ratio float8, events bigint);
\copy runs FROM '$raw' WITH (FORMAT csv, HEADER true)
WITH per_build AS (
  SELECT sync, build,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY ratio) AS ratio, min(ratio) AS lo, max(ratio) AS hi,
         avg(track_ms - plain_ms) * 1000 AS extra_us
  FROM runs GROUP BY sync, build),
rounds AS (
  SELECT sync, round, avg(ratio) FILTER (WHERE build = 'head') - avg(ratio) FILTER (WHERE build = 'rev') AS gain
  FROM runs GROUP BY sync, round)
SELECT '', r.sync,
       format('%s (%s-%s)', round(r.ratio::numeric, 4), round(r.lo::numeric, 4), round(r.hi::numeric, 4)),
       format('%s (%s-%s)', round(h.ratio::numeric, 4), round(h.lo::numeric, 4), round(h.hi::numeric, 4)),
       to_char(h.ratio - r.ratio, 'SG0.0000'),
       format('%s / %s', round(r.extra_us::numeric, 1), round(h.extra_us::numeric, 1)),
       format('%s of %s', (SELECT count(*) FROM rounds WHERE rounds.sync = r.sync AND gain >= 0),
              (SELECT count(*) FROM rounds WHERE rounds.sync = r.sync)), ''
FROM per_build r JOIN per_build h ON h.sync = r.sync AND h.build = 'head'
WHERE r.build = 'rev'
ORDER BY r.sync DESC;
SQL
)
section() {
  cat <<MD
## Release against release

What the working tree's library costs the ingest path against $rev_version's
(\`bench/compare.sh $rev\`, commit ${rev_commit:0:12}; working tree at $(git describe --always --dirty), version $head_version):
both builds on one instance, taking turns round by round (the server restarted with the other
library, the first to go turning), each measured in paired runs of one client: track() and a
plain INSERT mixed at random in one pgbench run, as in the targets. $rounds rounds, $reps runs of
$seconds s per round, build and setting; medians (min-max) of the runs' track/plain ratios.
"Extra" is the mean latency track() adds to a plain INSERT; "rounds" counts the rounds where the
working tree's ratio (mean of the round's runs) was at least $rev_version's. Measured in $elapsed s.

| synchronous_commit | $rev_version track / plain | working tree track / plain | difference | extra µs, $rev_version / working tree | rounds not worse |
| --- | --- | --- | --- | --- | --- |
$(sed 's/|/ | /g; s/  */ /g; s/^ //; s/ $//' <<<"$report")

MD
}
if [ "$quick" = yes ]; then
  section
  echo "(a smoke run, too short for its ratios to mean much; docs/ is left as it was)"
else
  out=${out:-docs/bench}
  mkdir -p "$out"
  cp "$raw" "$out/compare.csv"
  section >"$out/compare.md"
  cat "$out/compare.md"
  echo "  wrote $out/compare.md and $out/compare.csv"
fi
