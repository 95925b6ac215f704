#!/usr/bin/env bash
# The log layer: no personal data the tests send ever reaches a server log. Every server log
# the suite's instances wrote under DIR (pg_regress and isolation: log/postmaster.log; TAP: one
# log per node; the client layer: server.log, kept by test/client/run.sh when
# TELEMETRY_KEEP_LOGS is set) is searched for the PII test values of test/logs/pii_values.txt,
# with the servers' default logging (log_min_error_statement = error logs a failing statement
# with its literals: the ingest errors hide it, docs/pii.md "Logs"). Test harness logs
# (regress_log_*, which echo the tests' own SQL) are not server logs and are skipped.
#
#   test/logs/run.sh DIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=${1:?usage: test/logs/run.sh DIR}
values="$here/pii_values.txt"

mapfile -t logs < <(find "$dir" -type f \( -name 'postmaster.log' -o -name 'server.log' -o -path '*/tmp_check/log/*.log' \) \
                     ! -name 'regress_log_*' | sort)
if [ ${#logs[@]} -eq 0 ]; then
  echo "logs: no server log under $dir (run the regress, isolation, tap or client layer first)" >&2
  exit 1
fi
# PostgreSQL::Test::Cluster turns log_statement = all on in every TAP node: the statements it
# logs because of that (and their continuation lines) are left out. Everything else is searched:
# errors, their DETAIL, CONTEXT and STATEMENT lines, warnings, the workers' messages.
default_logging() {
  awk '/ LOG:  statement: /{skip=1; next} /^[ \t]/{if (skip) next} {skip=0; print}' "$1"
}
lines=0
leaks=()
for file in "${logs[@]}"; do
  lines=$(( lines + $(default_logging "$file" | wc -l) ))
  # Which values, by their line in the list: never the value itself.
  found=$(default_logging "$file" | grep -o -F -f "$values" | sort -u | while IFS= read -r v; do
            grep -n -x -F -- "$v" "$values" | cut -d: -f1; done | tr '\n' ' ' || true)
  [ -n "$found" ] && leaks+=("${file#"$dir"/}: values on lines $found of $values")
done
if [ ${#leaks[@]} -gt 0 ]; then
  echo "logs: personal data from the tests reached a server log:" >&2
  printf '  %s\n' "${leaks[@]}" >&2
  exit 1
fi
echo "logs: ${#logs[@]} server logs, $lines lines, none of the $(wc -l <"$values") PII test values"
