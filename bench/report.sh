#!/usr/bin/env bash
# Writes docs/benchmarks.md (to stdout) from a run's raw CSV, with SQL doing the statistics:
#   bench/report.sh RAW_CSV SIZE ELAPSED_SECONDS DURATION REPS BATCHES
# and the section "Rollups and retention" from rollup.csv next to it (bench/rollup.sh), which
#   bench/report.sh --rollups ROLLUP_CSV
# writes alone, and likewise the section "Analytics" from analytics.csv (bench/analytics.sh):
#   bench/report.sh --analytics ANALYTICS_CSV
# Needs a PostgreSQL connection in the environment (bench/run.sh provides its
# instance), and writes the plots next to the CSV.
set -euo pipefail
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
# A smoke run (--quick) measures fewer client counts: what it did not measure reads "NULL".
table_rows() { sed 's/|/ | /g; s/  */ /g; s/^ //; s/ $//'; }  # psql -F '|' rows with empty first and last fields
ratio() { q -c "SELECT coalesce(round(($1)::numeric, 3)::text, 'NULL')"; }
verdict() { q -c "SELECT CASE WHEN ($1) THEN 'met' WHEN NOT ($1) THEN '**missed**' ELSE 'not measured' END"; }

# The section "Rollups and retention", from bench/rollup.sh's CSV (nothing when there is none).
rollups_section() {  # rollups_section ROLLUP_CSV
  [ -f "$1" ] || return 0
  q <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_rollup_raw, bench_rollup_stats;
CREATE TABLE bench_rollup_raw (measurement text, side text, days int, rep int, ms float8, wal_bytes float8,
                               bytes_before float8, bytes_after float8, bloat_bytes float8, dead float8, events bigint,
                               cells bigint, days_measured int);
\copy bench_rollup_raw FROM '$1' WITH (FORMAT csv, HEADER true)
CREATE TABLE bench_rollup_stats AS
SELECT measurement, side, days, count(*) AS runs, max(events) AS events,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms, min(ms) AS ms_min, max(ms) AS ms_max,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY wal_bytes) AS wal, min(wal_bytes) AS wal_min, max(wal_bytes) AS wal_max,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY bloat_bytes) AS bloat, min(bloat_bytes) AS bloat_min, max(bloat_bytes) AS bloat_max,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY dead) AS dead, min(dead) AS dead_min, max(dead) AS dead_max
FROM bench_rollup_raw GROUP BY 1, 2, 3;
SQL
  rstat() {  # rstat MEASUREMENT SIDE COLUMN: an SQL literal (NULL when not measured), over the days named by RDAYS
    q -c "SELECT coalesce((SELECT $3 FROM bench_rollup_stats WHERE measurement = '$1' AND side = '$2' AND days = $rdays)::text || '::float8', 'NULL::float8')"
  }
  range() {  # range MEASUREMENT: the telemetry side's min-max of ms, over the days named by RDAYS
    q -c "SELECT format('%s-%s', round($(rstat "$1" telemetry ms_min)::numeric, 1), round($(rstat "$1" telemetry ms_max)::numeric, 1))"
  }
  local per_day reps rdays few many r_few r_many r_ratio d_ms d_wal d_bloat d_dead
  per_day=$(q -c "SELECT to_char(max(events), 'FM999,999,999') FROM bench_rollup_raw WHERE measurement = 'refresh'")
  reps=$(q -c "SELECT max(rep) FROM bench_rollup_raw")
  few=$(q -c "SELECT min(days) FROM bench_rollup_raw WHERE measurement = 'refresh'")
  many=$(q -c "SELECT max(days) FROM bench_rollup_raw WHERE measurement = 'refresh'")
  rdays=$few; r_few=$(ratio "$(rstat refresh telemetry ms)")
  rdays=$many; r_many=$(ratio "$(rstat refresh telemetry ms)")
  r_ratio=$(ratio "$r_many / NULLIF($r_few, 0)")
  d_ms=$(ratio "$(rstat drop telemetry ms)"); d_wal=$(ratio "$(rstat drop telemetry wal)")
  d_bloat=$(ratio "$(rstat drop telemetry bloat_max)"); d_dead=$(ratio "$(rstat drop telemetry dead_max)")
  cat <<MD
## Rollups and retention

Daily rollups and retention by partition ([rollup.md](rollup.md), [worker.md](worker.md)), in a
database of their own on the same instance ([bench/rollup.sh](../bench/rollup.sh)): days of
$per_day events each, stored in time order, as a product sends them (50 tenants, one with 30 % of
the users; 5,000 users, heavy ones sending more, a user's day in up to four sessions; the 20 event
types of the mix above, one of them sampled at 0.1, so that its events weigh 10; ~300-byte
properties). The clock of every maintenance step is noon (UTC) of the day the bench runs; the days
stored are the ones before it. First $few days are stored and rolled up by
\`CALL telemetry.run_maintenance(p_now)\`, then $((many - few)) days before them, closed days by
then: their events log each tenant's days, which one \`refresh_rollups(p_now, p_max_days)\`
with room for all of them rolls up, and the next maintenance run finds done. Each time, every
day's rollups are checked against its raw events, every refreshed day cell for cell against a
\`GROUP BY\` of its raw rows, and every partition dropped for being gone with its day's rollups
kept: a failure stops the benchmark. The two sides take turns, each in a warm session (its
statements planned once, as the maintenance worker's long-lived session has them) and after a
checkpoint; medians of $reps runs (min-max).

| target | measured | |
| --- | --- | --- |
| refresh of one day ($per_day events) <= 0.3 s, $few days stored | $(q -c "SELECT round($r_few, 1)") ms ($(rdays=$few; range refresh)) | $(verdict "$r_few <= 300") |
| refresh of one day <= 0.3 s, $many days stored | $(q -c "SELECT round($r_many, 1)") ms ($(rdays=$many; range refresh)) | $(verdict "$r_many <= 300") |
| the same time with $many days stored as with $few (within 20 %) | ${r_ratio}x | $(verdict "$r_ratio <= 1.2") |
| drop of a day past retention <= 50 ms ($many days stored) | $(q -c "SELECT round($d_ms, 1)") ms ($(range drop)) | $(verdict "$d_ms <= 50") |
| its WAL <= 1 MiB | $(q -c "SELECT pg_size_pretty($d_wal::bigint)") | $(verdict "$d_wal <= 1048576") |
| no bloat: none of the day's bytes left allocated, no dead tuples (every run) | $(q -c "SELECT pg_size_pretty($d_bloat::bigint)"), $(q -c "SELECT $d_dead::bigint") dead | $(verdict "$d_bloat = 0 AND $d_dead = 0") |

The refresh: the day is logged for every tenant (\`invalidate_rollups(NULL, day, day)\`, as a
change that fired no trigger would be), then \`SELECT telemetry.refresh_rollups(p_now)\` is timed:
it takes the log, deletes the day's cells and computes them again from the day's partition (sum
of sample weights, events, exact distinct users and sessions, and a HyperLogLog sketch of the
users). The plain side recomputes the same day from the same rows in one transaction: \`DELETE\`
of the day's cells from a plain table with the same key and index, then \`INSERT ... SELECT
tenant_id, day, name, sum(sample_weight), count(*), count(DISTINCT user_id), count(DISTINCT
session_id) ... GROUP BY\` (no sketch: plain PostgreSQL has none). The recent days refreshed are
the same with $few and with $many days stored.

Retention: \`telemetry.drop_expired_partitions(p_now)\`, with p_now one day further at each run
so that exactly the oldest partition is past \`telemetry.retention_days\` (its days rolled up),
against \`DELETE\` of the same day from an unpartitioned table holding the same rows (with a
partition's two indexes and one on \`occurred_at\`, which that \`DELETE\` needs; vacuumed and
analyzed after loading, as autovacuum would have), then \`VACUUM\`. Time and WAL from before the
first statement to after the last; space not returned: the bytes of table, TOAST and indexes
after, less those before without the day (the dropped partition's size; for the plain table, its
size scaled to the rows left, the days being alike); dead: dead tuples left in the partitions, and
the dead line pointers \`VACUUM\` left in the plain table, whose indexes it skips while fewer than
2 % of the table's pages have any (they stay, with their index entries, until a later \`VACUUM\`
cleans the indexes). One day fewer is stored at each run.

| measurement | days stored | telemetry | plain PostgreSQL | telemetry / plain |
| --- | --- | --- | --- | --- |
MD
  # Each row: its label, the measurement, and both sides' value with min-max, and the ratio.
  q -F '|' -c "
    SELECT '', m.label, t.days, m.telemetry, m.plain, coalesce(round(m.ratio::numeric, 3)::text, '–'), ''
    FROM bench_rollup_stats t JOIN bench_rollup_stats p USING (measurement, days)
    CROSS JOIN LATERAL (VALUES
      (1, 'refresh of one day: time, ms', 'refresh',
       format('%s (%s-%s)', round(t.ms::numeric, 1), round(t.ms_min::numeric, 1), round(t.ms_max::numeric, 1)),
       format('%s (%s-%s)', round(p.ms::numeric, 1), round(p.ms_min::numeric, 1), round(p.ms_max::numeric, 1)), t.ms / NULLIF(p.ms, 0)),
      (2, 'refresh of one day: WAL', 'refresh',
       format('%s (%s-%s)', pg_size_pretty(t.wal::bigint), pg_size_pretty(t.wal_min::bigint), pg_size_pretty(t.wal_max::bigint)),
       format('%s (%s-%s)', pg_size_pretty(p.wal::bigint), pg_size_pretty(p.wal_min::bigint), pg_size_pretty(p.wal_max::bigint)), t.wal / NULLIF(p.wal, 0)),
      (3, 'retention of one day: time, ms', 'drop',
       format('%s (%s-%s)', round(t.ms::numeric, 1), round(t.ms_min::numeric, 1), round(t.ms_max::numeric, 1)),
       format('%s (%s-%s)', round(p.ms::numeric, 1), round(p.ms_min::numeric, 1), round(p.ms_max::numeric, 1)), t.ms / NULLIF(p.ms, 0)),
      (4, 'retention of one day: WAL', 'drop',
       format('%s (%s-%s)', pg_size_pretty(t.wal::bigint), pg_size_pretty(t.wal_min::bigint), pg_size_pretty(t.wal_max::bigint)),
       format('%s (%s-%s)', pg_size_pretty(p.wal::bigint), pg_size_pretty(p.wal_min::bigint), pg_size_pretty(p.wal_max::bigint)), t.wal / NULLIF(p.wal, 0)),
      (5, 'retention of one day: space not returned', 'drop',
       format('%s (%s-%s)', pg_size_pretty(t.bloat::bigint), pg_size_pretty(t.bloat_min::bigint), pg_size_pretty(t.bloat_max::bigint)),
       format('%s (%s-%s)', pg_size_pretty(p.bloat::bigint), pg_size_pretty(p.bloat_min::bigint), pg_size_pretty(p.bloat_max::bigint)), t.bloat / NULLIF(p.bloat, 0)),
      (6, 'retention of one day: dead tuples or line pointers left', 'drop',
       format('%s (%s-%s)', t.dead, t.dead_min, t.dead_max), format('%s (%s-%s)', p.dead, p.dead_min, p.dead_max), t.dead / NULLIF(p.dead, 0))
    ) AS m(k, label, kind, telemetry, plain, ratio)
    WHERE t.side = 'telemetry' AND p.side = 'plain' AND m.kind = t.measurement
    ORDER BY m.k, t.days" | table_rows
  echo
  cat <<MD
Storage: bytes of \`telemetry.daily_rollups\` (table, TOAST and indexes) next to those of the
raw events' partitions holding the same days (indexes included), after the days were rolled up.

| table | days | bytes | bytes per day | bytes per cell | cells per day | events per day |
| --- | --- | --- | --- | --- | --- | --- |
MD
  q -F '|' -c "
    SELECT '', CASE side WHEN 'rollups' THEN 'telemetry.daily_rollups' ELSE 'telemetry.events (the days'' partitions)' END,
           days_measured, pg_size_pretty(bytes_after::bigint), pg_size_pretty((bytes_after / days_measured)::bigint),
           coalesce(round(bytes_after / NULLIF(cells, 0))::text, ''), coalesce((cells / days_measured)::text, ''),
           events / days_measured, ''
    FROM bench_rollup_raw WHERE measurement = 'storage' ORDER BY days, side DESC" | table_rows
  echo
  q -c "SELECT format('A day of rollups takes %s %% of the bytes of a day of raw events (%s days stored).',
                      round((100 * r.bytes_after / r.days_measured / (e.bytes_after / e.days_measured))::numeric, 2), r.days)
        FROM bench_rollup_raw r JOIN bench_rollup_raw e USING (measurement, days)
        WHERE r.measurement = 'storage' AND r.side = 'rollups' AND e.side = 'raw' ORDER BY r.days DESC LIMIT 1"
  echo
  q -c "DROP TABLE bench_rollup_raw, bench_rollup_stats"
}
# The section "Analytics", from bench/analytics.sh's CSV (nothing when there is none).
analytics_section() {  # analytics_section ANALYTICS_CSV
  [ -f "$1" ] || return 0
  q <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_analytics_raw;
CREATE TABLE bench_analytics_raw (measurement text, side text, rep int, ms float8, rows bigint, answer text, events bigint);
\copy bench_analytics_raw FROM '$1' WITH (FORMAT csv, HEADER true)
SQL
  local events reps
  events=$(q -c "SELECT to_char(max(events), 'FM999,999,999') FROM bench_analytics_raw")
  reps=$(q -c "SELECT max(rep) FROM bench_analytics_raw")
  cat <<MD
## Analytics

The analytics functions ([analytics.md](analytics.md)) against the plain SQL a competent user
writes for the same answer, in a database of their own on the same instance
([bench/analytics.sh](../bench/analytics.sh), [bench/analytics_setup.sql](../bench/analytics_setup.sql)):
one tenant, $events events over the 30 days before the day the bench runs, in sessions of the
conversation-practice product (user_authenticated, sometimes invitation_claimed, then mostly
conversation_started, messages, conversation_ended with reason completed or abandoned), rolled
up by \`CALL telemetry.run_maintenance(p_now)\` at noon (UTC) of that day. Both sides must give
the same rows, or the benchmark fails. Each side in a session warmed up by running its query
once; the sides take turns; medians of $reps runs (min-max). DAU is \`daily_active_users()\`,
exact, which reads the rollups' daily totals (\`telemetry.daily_totals\`).

| measurement | telemetry ms | plain SQL ms | ratio | target | |
| --- | --- | --- | --- | --- | --- |
MD
  q -F '|' -c "
    WITH s AS (
      SELECT measurement, side, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms, min(ms) AS lo, max(ms) AS hi
      FROM bench_analytics_raw GROUP BY 1, 2),
    m(measurement, label, target, ord) AS (VALUES
      ('counts', 'event_counts(), 30 days by day and name, vs GROUP BY', 100, 1),
      ('dau', 'daily_active_users(), 30 days, vs count(DISTINCT user_id) per day', 100, 2),
      ('funnel', 'funnel(), 4 ordered steps, window 1 day, vs SQL with the same semantics', 3, 3),
      ('completion', 'completion_rate() vs per-actor SQL', 3, 4),
      ('retention', 'retention(), weekly, 8 periods, vs plain SQL', 3, 5))
    SELECT '', m.label,
           format('%s (%s-%s)', round(t.ms::numeric, 2), round(t.lo::numeric, 2), round(t.hi::numeric, 2)),
           format('%s (%s-%s)', round(p.ms::numeric, 1), round(p.lo::numeric, 1), round(p.hi::numeric, 1)),
           round((p.ms / t.ms)::numeric, 1) || 'x', '>= ' || m.target || 'x' || CASE m.measurement WHEN 'funnel' THEN ' (aim 10x)' ELSE '' END,
           CASE WHEN p.ms / t.ms >= m.target THEN 'met' ELSE '**missed**' END, ''
    FROM m JOIN s t ON t.measurement = m.measurement AND t.side = 'telemetry'
           JOIN s p ON p.measurement = m.measurement AND p.side = 'plain'
    ORDER BY m.ord" | table_rows
  echo
  # The plot: both sides' medians per measurement, on a log scale.
  local dir
  dir=$(dirname "$1")
  q -F ' ' -c "
    SELECT measurement,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE side = 'telemetry'),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE side = 'plain')
    FROM bench_analytics_raw GROUP BY measurement
    ORDER BY array_position(ARRAY['counts', 'dau', 'funnel', 'completion', 'retention'], measurement)" >"$dir/analytics.dat"
  gnuplot <<GNUPLOT
set terminal png size 900,420 font ",11"
set output "$dir/analytics_ms.png"
set title "Analytics on one tenant of $events events, ms (median of $reps runs; log scale, lower is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set yrange [1:*]
set grid ytics
set key top left
plot "$dir/analytics.dat" using 2:xtic(1) title "telemetry", "" using 3 title "plain SQL"
GNUPLOT
  rm -f "$dir/analytics.dat"
  echo '![analytics medians, telemetry and plain SQL](bench/analytics_ms.png)'
  echo
  q -c "DROP TABLE bench_analytics_raw"
}
if [ "${1:-}" = --analytics ]; then
  analytics_section "$2"
  exit 0
fi
if [ "${1:-}" = --rollups ]; then
  rollups_section "$2"
  exit 0
fi

raw=$1 size=$2 elapsed=$3 duration=$4 reps=$5 batches=$6
plots=$(dirname "$raw")

q <<SQL
CREATE TABLE bench_raw (measurement text, side text, clients int, sync text, rep int, rate float8, p50_ms float8,
                        p99_ms float8, wal_bytes_per_event float8, events bigint, stored bigint);
\copy bench_raw FROM '$raw' WITH (FORMAT csv, HEADER true)
CREATE TABLE bench_stats AS
SELECT measurement, side, clients, sync,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY rate) AS rate, min(rate) AS rate_min, max(rate) AS rate_max,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY p50_ms) AS p50, percentile_cont(0.5) WITHIN GROUP (ORDER BY p99_ms) AS p99,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY wal_bytes_per_event) AS wal, sum(events) AS events, sum(stored) AS stored, count(*) AS runs
FROM bench_raw GROUP BY 1, 2, 3, 4;
SQL
trap 'q -c "DROP TABLE IF EXISTS bench_raw, bench_stats" >/dev/null' EXIT

stat() {  # stat MEASUREMENT SIDE CLIENTS SYNC COLUMN
  q -c "SELECT coalesce((SELECT $5 FROM bench_stats WHERE measurement = '$1' AND side = '$2' AND clients = $3 AND sync = '$4')::text || '::float8', 'NULL::float8')"
}

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
pgv=$(q -c "SELECT current_setting('server_version')")

# Plots.
q -c "SELECT clients, max(rate) FILTER (WHERE side = 'plain'), max(rate) FILTER (WHERE side = 'logevent'), max(rate) FILTER (WHERE side = 'track')
      FROM bench_stats WHERE measurement = 'single' AND sync = 'on' GROUP BY clients ORDER BY clients" -F ' ' >"$plots/single_on.dat"
q -c "SELECT clients, max(rate) FILTER (WHERE side = 'plain'), max(rate) FILTER (WHERE side = 'logevent'), max(rate) FILTER (WHERE side = 'track')
      FROM bench_stats WHERE measurement = 'single' AND sync = 'off' GROUP BY clients ORDER BY clients" -F ' ' >"$plots/single_off.dat"
q -c "SELECT side, rate FROM bench_stats WHERE measurement = 'batch' ORDER BY CASE side WHEN 'copy' THEN 1 WHEN 'track_batch' THEN 2 WHEN 'track_batch-ids' THEN 3 ELSE 4 END" -F ' ' >"$plots/batch.dat"
gnuplot <<GNUPLOT
set terminal png size 900,420 font ",11"
set termoption noenhanced
set output "$plots/single_event_tps.png"
set multiplot layout 1,2 title "Single-event ingest, events/s (median of $reps runs of ${duration} s; higher is better)"
set xlabel "clients"; set ylabel "events/s"; set key bottom right; set grid; set logscale x 2; set yrange [0:*]
set title "synchronous_commit = on"
plot "$plots/single_on.dat" using 1:2 with linespoints lw 2 title "plain INSERT", "" using 1:3 with linespoints lw 2 title "PL/pgSQL logEvent", "" using 1:4 with linespoints lw 2 title "telemetry.track()"
set title "synchronous_commit = off"
plot "$plots/single_off.dat" using 1:2 with linespoints lw 2 title "plain INSERT", "" using 1:3 with linespoints lw 2 title "PL/pgSQL logEvent", "" using 1:4 with linespoints lw 2 title "telemetry.track()"
unset multiplot
set output "$plots/batch_ingest.png"
unset logscale x; set xlabel ""; set title "Batch ingest of 1,000-event batches, events/s (median)"; set style fill solid 0.6; set boxwidth 0.6
plot "$plots/batch.dat" using 0:2:xtic(1) with boxes notitle
GNUPLOT
rm -f "$plots"/*.dat

on1=$(ratio "$(stat paired track 1 on rate) / $(stat paired plain 1 on rate)")
on8=$(ratio "$(stat paired track 8 on rate) / $(stat paired plain 8 on rate)")
off4=$(ratio "$(stat paired track 4 off rate) / $(stat paired plain 4 off rate)")
p99_track=$(ratio "$(stat paired track 1 on p99)"); p99_plain=$(ratio "$(stat paired plain 1 on p99)")
batch_ratio=$(ratio "$(stat batch track_batch 1 on rate) / $(stat batch copy 1 on rate)")
batch_ids_ratio=$(ratio "$(stat batch track_batch-ids 1 on rate) / $(stat batch copy 1 on rate)")
wal_ratio=$(ratio "$(stat storage track 1 off wal) / $(stat storage plain 1 off wal)")
disk_ratio=$(ratio "$(stat storage track 1 off rate) / $(stat storage plain 1 off rate)")

cat <<MD
# Benchmarks

What telemetry costs, measured against plain PostgreSQL doing the same work in the same run:
the design documents' own events table and INSERT, and their PL/pgSQL \`logEvent\`. Every number
is a median of $reps runs (min and max given where they matter), the sides mixed within each run
(paired runs, below) or alternating run by run, each run on freshly truncated tables after a
checkpoint. Every event a run reports is counted back in the table afterwards; a run that lost
one would have stopped the benchmark.

Regenerate with \`bench/run.sh\` (this report: \`bench/run.sh${size:+ $size}\`, measured in ${elapsed} s;
\`--large\` runs longer; \`--quick\` is a smoke run). The raw numbers of every run are in
[bench/raw.csv](bench/raw.csv).

| | |
| --- | --- |
| machine | $cpu, $(nproc) cores, $mem |
| server | PostgreSQL $pgv, throwaway instance: shared_buffers 1GB, max_wal_size 20GB, checkpoint_timeout 1h, autovacuum off, fsync on |
| load | pgbench on the same machine, simple protocol, literal SQL as an ORM sends it |
| client role | \`bench_app\`, a login role that is not a superuser, with service access (\`grant_tenant_access\`): \`track()\` and \`track_batch()\` check its tenant access on every call, as for an application ([security.md](security.md)) |
| workload | 20 event types in 4 property shapes (bench/catalog.json), ~300-byte JSON properties, 50 tenants (one with 30 %), 10,000 users, skewed event mix (bench/workload.sh) |
| telemetry side | \`SELECT telemetry.track(tenant, name, properties, user, session)\`: full validation against strict schemas, size limit, x-pii hashing on one type, opt-out lookup, insert |
| plain side | \`INSERT INTO events (tenant_id, name, properties, user_id, session_id) VALUES (...)\`, \`id bigserial\` primary key, indexes \`(tenant_id, name, created_at desc)\`, \`(tenant_id, created_at desc)\` |
| logEvent side | PL/pgSQL: name checked against a table of allowed names, \`octet_length(data::text) <= 2048\`, then the same INSERT |

## Targets

| target | measured | |
| --- | --- | --- |
| \`track()\` >= 0.95x plain INSERT, 1 client, synchronous_commit on (paired runs) | ${on1}x | $(verdict "$on1 >= 0.95") |
| \`track()\` >= 0.95x plain INSERT, 8 clients, synchronous_commit on (paired runs) | ${on8}x | $(verdict "$on8 >= 0.95") |
| \`track()\` >= 0.9x plain INSERT, 4 clients, synchronous_commit off (paired runs) | ${off4}x | $(verdict "$off4 >= 0.9") |
| p99 of \`track()\` <= plain p99 + 0.1 ms (1 client, on, paired runs) | $p99_track ms vs $p99_plain ms | $(verdict "$p99_track <= $p99_plain + 0.1") |
| \`track_batch()\` of 1,000 >= 0.8x COPY | ${batch_ratio}x (${batch_ids_ratio}x with client event ids, deduplicated) | $(verdict "$batch_ratio >= 0.8") |
| WAL per event <= 1.05x the plain table's | ${wal_ratio}x | $(verdict "$wal_ratio <= 1.05") |
| bytes on disk per event <= 1.1x, indexes included | ${disk_ratio}x | $(verdict "$disk_ratio <= 1.1") |

## Single-event ingest

One event per transaction, as an application tracks inside its own work.

MD
cat <<MD
### Paired runs: the targets

With synchronous_commit on, every commit waits for an fsync of the WAL, and on this machine the
time of an fsync swings twofold from one second to the next (the separate runs below show it in
their min-max), far more than the 5 % the targets are about; with it off, two runs of the same
side still differ by a few percent. So the targets are judged on paired runs: one pgbench run in
which every transaction is, at random, half and half, a plain INSERT or a \`track()\` call with
the same event mix, both sides meeting the same disk and CPU at the same moments. A side's rate
is what its mean latency sustains with that many clients (clients / mean latency); medians of
$reps runs of $((duration * 2)) s.

MD
for sync in on off; do
  echo "synchronous_commit = $sync:"
  echo
  echo "| clients | plain INSERT events/s | track() events/s | track / plain | p50 / p99 ms plain | p50 / p99 ms track |"
  echo "| --- | --- | --- | --- | --- | --- |"
  q -F '|' -c "
    SELECT '', p.clients,
           format('%s (%s-%s)', round(p.rate), round(p.rate_min), round(p.rate_max)),
           format('%s (%s-%s)', round(t.rate), round(t.rate_min), round(t.rate_max)),
           round((t.rate / p.rate)::numeric, 3),
           format('%s / %s', round(p.p50::numeric, 3), round(p.p99::numeric, 3)),
           format('%s / %s', round(t.p50::numeric, 3), round(t.p99::numeric, 3)), ''
    FROM bench_stats p JOIN bench_stats t USING (measurement, clients, sync)
    WHERE p.measurement = 'paired' AND p.sync = '$sync' AND p.side = 'plain' AND t.side = 'track'
    ORDER BY p.clients" | table_rows
  echo
done

cat <<MD
### Separate runs

pgbench runs of one side at a time, $reps runs of ${duration} s per side, clients and setting,
the sides taking turns: rates are medians (min-max), latencies the medians over the runs of
each run's p50 and p99. With synchronous_commit on, see the min-max: the fsync noise between
runs is larger than the difference between the sides.

![events per second by clients](bench/single_event_tps.png)

MD
for sync in on off; do
  echo "#### synchronous_commit = $sync"
  echo
  echo "| clients | plain INSERT events/s | logEvent events/s | track() events/s | track / plain | logEvent / plain | p50 / p99 ms plain | p50 / p99 ms track | WAL bytes/event plain / track |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  q -F '|' -c "
    SELECT '', p.clients,
           format('%s (%s-%s)', round(p.rate), round(p.rate_min), round(p.rate_max)),
           format('%s (%s-%s)', round(l.rate), round(l.rate_min), round(l.rate_max)),
           format('%s (%s-%s)', round(t.rate), round(t.rate_min), round(t.rate_max)),
           round((t.rate / p.rate)::numeric, 3), round((l.rate / p.rate)::numeric, 3),
           format('%s / %s', round(p.p50::numeric, 3), round(p.p99::numeric, 3)),
           format('%s / %s', round(t.p50::numeric, 3), round(t.p99::numeric, 3)),
           format('%s / %s', round(p.wal), round(t.wal)), ''
    FROM bench_stats p JOIN bench_stats l USING (measurement, clients, sync) JOIN bench_stats t USING (measurement, clients, sync)
    WHERE p.measurement = 'single' AND p.sync = '$sync' AND p.side = 'plain' AND l.side = 'logevent' AND t.side = 'track'
    ORDER BY p.clients" | table_rows
  echo
done

cat <<MD
### Where the time goes

Profiled with \`perf record -g\` on this machine (1 client, synchronous_commit off, frame
pointers on; November 2026), per event, backend only: a plain INSERT spends about 34 µs, of which
parsing and planning the statement 13 (jsonb input 3), executing it 11 (heap 1.7, three index
inserts 5), commit 3, the protocol the rest. \`track()\` spends about as much parsing and
planning its statement, then: decoding the properties 0.5 µs, validation, PII and size 1.4, the
partition check 0.4, writing the row and its two index entries 7.5 (directly, without the
executor), id, opt-out and counters under 0.5. Removed on the way: filling in three argument
defaults (about 3 µs, PostgreSQL's own work; the five-argument call now has a form without
defaults, below), \`SET search_path\` on the function (a GUC save and restore per call, about
2 µs; our own SQL now names everything by schema, and the search path is set only when a DBA's
code would run inside the call), a per-call catalog lookup of the sequence and a
per-call match of column names (cached until the relcache says the partition changed), one
OpenSSL call per event id (the random bytes now come 100 ids at a time), a string built per
property for error paths that are almost never needed (now built on error only), and,
for batches, a resource-owner pin per row (quadratic over 1,000 rows).

The dedup ledger is the one cost left on purpose: a batch with client \`event_id\`s writes each id
to a unique index with INSERT ... ON CONFLICT, about 4 µs and 270 bytes of WAL per event, and that
is what exact deduplication costs in PostgreSQL. A batch without ids skips it.

MD

cat <<MD
### The cost of argument defaults

For each argument left to its default, PostgreSQL re-reads the function's stored default
expressions, in the parser and again in the planner, for every statement it parses, whatever the
function does. So \`track()\` comes in two forms ([api.md](api.md#the-forms-and-choosing-between-them)): the five-argument
call measured above takes a form without defaults; any other call takes the long form, and pays
for the defaults it leaves. Here a call that also gives \`occurred_at\` (six arguments, two left
to defaults) against the same call with all eight given, in paired runs (synchronous_commit off,
where the CPU is the limit; medians of $reps runs of $((duration * 2)) s). A prepared statement,
parsed once, pays nothing either way.

| clients | 6 arguments events/s | all 8 arguments events/s | 8 / 6 | mean latency the two defaults add, µs |
| --- | --- | --- | --- | --- |
MD
q -F '|' -c "
  SELECT '', f.clients, round(f.rate), round(a.rate), round((a.rate / f.rate)::numeric, 3),
         round(((f.clients / f.rate - a.clients / a.rate) * 1e6)::numeric, 1), ''
  FROM bench_stats f JOIN bench_stats a USING (measurement, clients, sync)
  WHERE f.measurement = 'paired_arguments' AND f.side = 'track_6' AND a.side = 'track_8'
  ORDER BY f.clients" | table_rows
echo

cat <<MD
### Calls from drivers

node-postgres sends every parameter untyped, and psycopg 3 sends strings so: PostgreSQL then
takes the text form of \`track()\` ([api.md](api.md#the-forms-and-choosing-between-them)), which
reads the first argument as a tenant or an event name and parses the properties itself. Here
the five-argument call with untyped arguments against the same call with a \`uuid\` tenant (the
typed short form), in paired runs (synchronous_commit off; medians of $reps runs of
$((duration * 2)) s).

| clients | typed events/s | untyped events/s | untyped / typed |
| --- | --- | --- | --- |
MD
q -F '|' -c "
  SELECT '', t.clients, round(t.rate), round(u.rate), round((u.rate / t.rate)::numeric, 3), ''
  FROM bench_stats t JOIN bench_stats u USING (measurement, clients, sync)
  WHERE t.measurement = 'paired_untyped' AND t.side = 'track' AND u.side = 'track_untyped'
  ORDER BY t.clients" | table_rows
echo

cat <<MD
### The cost of PII detection

\`track()\` looks for personal data where the catalog declares none, and in the ids, in every
event ([pii.md](pii.md#policy-for-undeclared-personal-data)); a tenant whose policy is \`allow\`
skips it. Here the same typed five-argument call for the bench's tenants (the default policy,
redact) against their twins under \`allow\`, in paired runs (synchronous_commit off, where the
CPU is the limit; medians of $reps runs of $((duration * 2)) s). The bench's payloads hold no
personal data, as most events do not: this is the price of looking. The targets above are
measured with detection on.

| clients | allow (no detection) events/s | redact (detection) events/s | with / without | mean latency detection adds, µs |
| --- | --- | --- | --- | --- |
MD
q -F '|' -c "
  SELECT '', a.clients, round(a.rate), round(d.rate), round((d.rate / a.rate)::numeric, 3),
         round(((d.clients / d.rate - a.clients / a.rate) * 1e6)::numeric, 1), ''
  FROM bench_stats a JOIN bench_stats d USING (measurement, clients, sync)
  WHERE a.measurement = 'paired_detection' AND a.side = 'track_allow' AND d.side = 'track'
  ORDER BY a.clients" | table_rows
echo

cat <<MD
## Batch ingest

$batches client batches of 1,000 events (~300-byte properties each), one statement and
transaction per batch, each batch sent as a bind parameter by a libpq client
([bench/batch_client.c](../bench/batch_client.c)) as an application's ingest endpoint would.
The four ways take turns batch by batch within one run (their order turning at each batch),
each statement timed on its own, so that all meet the same disk at the same moments; a way's
rate is its events over the sum of its statements' times, the median of $reps runs. The ways:
\`track_batch()\` (the text form: parsed once, validated, multi-row inserted), the same with the
events' client \`event_id\`s (deduplicated through the ledger), COPY of the same rows into the
plain table, and the design documents' \`INSERT ... SELECT FROM jsonb_array_elements\`.

![events per second by batch path](bench/batch_ingest.png)

| path | events/s (min-max) | ratio to COPY | WAL bytes/event |
| --- | --- | --- | --- |
MD
q -F '|' -c "
  SELECT '', CASE b.side WHEN 'copy' THEN 'COPY' WHEN 'insert_select' THEN 'INSERT ... SELECT jsonb_array_elements'
                         WHEN 'track_batch' THEN 'track_batch()' ELSE 'track_batch() with client event ids' END,
         format('%s (%s-%s)', round(b.rate), round(b.rate_min), round(b.rate_max)),
         round((b.rate / c.rate)::numeric, 3), round(b.wal), ''
  FROM bench_stats b, bench_stats c
  WHERE b.measurement = 'batch' AND c.measurement = 'batch' AND c.side = 'copy'
  ORDER BY b.rate DESC" | table_rows

cat <<MD

## Storage

The same single-event inserts (synchronous_commit off), then sizes after a checkpoint:
heap, TOAST and every index, less the size of the empty tables. telemetry stores more per event
than the plain table (an \`event_id\`, \`received_at\`, \`source\`, \`sample_weight\`, \`flags\`,
\`schema_version\`) and has one index fewer (its primary key serves the recent-events scans).

| table | bytes on disk per event | WAL bytes per event |
| --- | --- | --- |
MD
q -F '|' -c "
  SELECT '', CASE side WHEN 'plain' THEN 'plain events table' ELSE 'telemetry.events' END, round(rate), round(wal), ''
  FROM bench_stats WHERE measurement = 'storage' ORDER BY side" | table_rows

cat <<MD

## Load test

The browser-extension team's test (1,000 events a minute, less than 10 % dropped), through
\`track()\`: every event sent was stored and counted back, none dropped. Then as fast as the
machine goes with 8 clients, again counting every event back.

| run | events/s | events sent | events stored | p50 / p99 ms |
| --- | --- | --- | --- | --- |
MD
q -F '|' -c "
  SELECT '', CASE measurement WHEN 'load-1k-per-min' THEN '1,000 a minute, 2 clients' ELSE format('unthrottled, 8 clients (median of %s)', runs) END,
         round(rate::numeric, 1), events, stored, format('%s / %s', round(p50::numeric, 3), round(p99::numeric, 3)), ''
  FROM bench_stats WHERE measurement LIKE 'load%' ORDER BY measurement" | table_rows
echo

rollups_section "$plots/rollup.csv"
analytics_section "$plots/analytics.csv"
# The scrapes' section, written by bench/scrape.sh; and release against release, written by
# bench/compare.sh (run apart: it builds another revision).
if [ -f "$plots/scrape.md" ]; then cat "$plots/scrape.md"; fi
if [ -f "$plots/compare.md" ]; then cat "$plots/compare.md"; fi
