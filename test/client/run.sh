#!/usr/bin/env bash
# The client layer: every public SQL function of telemetry called the way applications call it,
# through real drivers with bind parameters (never values pasted into the SQL):
#
#   node/     node-postgres (npm `pg`), which sends every parameter untyped (OID 0);
#   python/   psycopg 3 (Debian's python3-psycopg) in three styles: untyped (Python str, psycopg's
#             default), text-typed (varchar and text OIDs, what JDBC's setString sends), and
#             native (uuid.UUID, Jsonb, aware datetime, int, float, list of int).
#
# It proves that each documented form of track() and track_batch() (multi-tenant and
# single-tenant, positional and named arguments) resolves from every style to the form the caller
# meant and stores exactly what was sent; that return values (event id, NULL, the same id for a
# duplicate) and refusals (the rule's SQLSTATE, a message without the value) reach the client; that
# every other public function can be called with bind parameters (a text-typed value for a uuid,
# jsonb or timestamptz parameter needs a cast in the SQL, `$1::uuid`, as JDBC users write it); and
# that a non-superuser application role with only USAGE on the schema and EXECUTE on
# track()/track_batch() can track. Each test file has its own database and a fresh extension.
#
# Runs against the installed build (pg_config) in a throwaway instance, as root (the instance runs
# as `postgres`) or as an ordinary user. Needs node 18+ with npm, and /usr/bin/python3 with
# psycopg 3 (scripts/setup.sh installs both). Exits non-zero, saying what failed, if anything did.
#
#   test/client/run.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
here=$TELEMETRY_ROOT/test/client
python=/usr/bin/python3   # Debian's, with python3-psycopg (not a python3 earlier on the PATH)

missing=()
command -v node >/dev/null 2>&1 || missing+=("node (Node.js 18 or later)")
command -v npm >/dev/null 2>&1 || missing+=(npm)
"$python" -c 'import psycopg' 2>/dev/null || missing+=("psycopg 3 for $python (python3-psycopg)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "client: missing ${missing[*]}; run scripts/setup.sh" >&2
  exit 1
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/telemetry-client.XXXXXX")
port=54329
cleanup() {
  stop_instance "$dir"
  # The server log, for the log layer (test/logs/run.sh), when scripts/test.sh asks for it.
  if [ -n "${TELEMETRY_KEEP_LOGS:-}" ] && [ -f "$dir/server.log" ]; then
    mkdir -p "$TELEMETRY_KEEP_LOGS" && cp "$dir/server.log" "$TELEMETRY_KEEP_LOGS/server.log"
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

log "Client layer: installing node-postgres (npm)"
(
  cd "$here/node"
  if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  else
    npm install --no-audit --no-fund --loglevel=error
  fi
) >"$dir/npm.log" 2>&1 || { cat "$dir/npm.log" >&2; echo "client: npm failed" >&2; exit 1; }

log "Client layer: starting a throwaway instance in $dir"
start_instance "$dir" "$port"

# Every test connects over the instance's Unix socket as postgres (trust), to a database of its own.
unset PGDATABASE PGPASSWORD PGPASSFILE PGSERVICE PGSERVICEFILE PGOPTIONS PGSSLMODE PGHOSTADDR PGAPPNAME
export PGHOST=$dir PGPORT=$port PGUSER=postgres
export PYTHONDONTWRITEBYTECODE=1   # no root-owned __pycache__ in the checkout

# --test-reporter exists from Node.js 18.15; older ones print TAP.
reporter=()
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 18 || (a === 18 && b >= 15) ? 0 : 1)' &&
  reporter=(--test-reporter=spec)

failures=()

log "Client layer: node-postgres $(node -p "require('$here/node/node_modules/pg/package.json').version"), Node.js $(node --version)"
# Each driver's full report goes to a log, shown when something failed; a summary otherwise.
if (cd "$here/node" && timeout 300 node --test "${reporter[@]}" ./*.test.js) >"$dir/node.log" 2>&1; then
  grep -E '^(ℹ |# )(tests|pass|fail) ' "$dir/node.log" | tr '\n' ' '; echo
else
  cat "$dir/node.log"
  failures+=("node-postgres (test/client/node)")
fi

log "Client layer: psycopg $("$python" -c 'import psycopg; print(psycopg.__version__)'), Python $("$python" -c 'import platform; print(platform.python_version())')"
if (cd "$here/python" && timeout 300 "$python" -m unittest discover -s . -p 'test_*.py' -v) >"$dir/python.log" 2>&1; then
  grep -E '^(Ran [0-9]+ tests|OK)' "$dir/python.log" | tr '\n' ' '; echo
else
  cat "$dir/python.log"
  failures+=("psycopg (test/client/python)")
fi

# A test must never take the server down: a crash would have restarted it under every session.
if ! as_instance_user pg_ctl -D "$dir/data" status >/dev/null 2>&1 || grep -q 'terminated by signal' "$dir/server.log"; then
  failures+=("the server crashed (server.log below)")
  tail -n 40 "$dir/server.log" >&2
fi

if [ ${#failures[@]} -gt 0 ]; then
  echo >&2
  echo "client: FAILED: ${failures[*]}" >&2
  exit 1
fi
echo
echo "client: all passed"
