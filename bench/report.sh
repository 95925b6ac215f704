#!/usr/bin/env bash
# Writes docs/benchmarks.md (to stdout) from a run's raw CSV, with SQL doing the statistics:
#   bench/report.sh RAW_CSV SIZE ELAPSED_SECONDS DURATION REPS BATCHES
# Needs a PostgreSQL connection in the environment (bench/run.sh provides its instance), and
# writes the plots next to the CSV.
set -euo pipefail
raw=$1 size=$2 elapsed=$3 duration=$4 reps=$5 batches=$6
plots=$(dirname "$raw")
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

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
# A smoke run (--quick) measures fewer client counts: what it did not measure reads "NULL".
table_rows() { sed 's/|/ | /g; s/  */ /g; s/^ //; s/ $//'; }  # psql -F '|' rows with empty first and last fields
ratio() { q -c "SELECT coalesce(round(($1)::numeric, 3)::text, 'NULL')"; }
verdict() { q -c "SELECT CASE WHEN ($1) THEN 'met' WHEN NOT ($1) THEN '**missed**' ELSE 'not measured' END"; }

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
| client role | `bench_app`, a login role that is not a superuser, with service access (`grant_tenant_access`): `track()` and `track_batch()` check its tenant access on every call, as for an application ([security.md](security.md)) |
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
