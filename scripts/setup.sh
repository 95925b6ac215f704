#!/usr/bin/env bash
# Installs everything a fresh Debian 12 needs to build, test and run telemetry.
# Idempotent: when every package is already present it only checks and exits (well under a second).
# Runs as root, or as an ordinary user through sudo.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  postgresql-15 postgresql-server-dev-15 postgresql-client-15
  libboost-json1.81-dev libgtest-dev
  libpq-dev                  # bench/batch_client
  libre2-dev                 # pattern matching in property schemas: linear time, no recursion
  libipc-run-perl            # TAP tests (PostgreSQL::Test::Cluster)
  pgbouncer                  # the transaction-pooling TAP test (test/t/009_pgbouncer.pl)
  postgresql-15-hll          # the hll type of the daily rollups' user sketches (telemetry.control: requires)
  binutils                   # nm, for the exported-symbol test
  clang                      # libFuzzer and the sanitizers (test/fuzz)
  clang-format-14            # the formatting check (test/build/run.sh, .clang-format)
  libclang-rt-14-dev         # their runtimes (libclang_rt.fuzzer, asan, ubsan): clang does not pull them in
  python3-psycopg            # the client layer: psycopg 3 calls every public function (test/client)
  sudo                       # root runs the throwaway instance as an unprivileged user
  prometheus                 # promtool checks metrics() and the alert rules; a real server scrapes the endpoint (TAP)
  curl                       # the main-job command and the monitoring layer scrape the endpoint
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# The client layer also calls every public function through node-postgres (npm's `pg`), with
# Node.js and npm. Any Node.js 18 or later will do: Debian's packages are installed only when no
# `node` and `npm` are on the PATH (a machine may have its own, e.g. from NodeSource, which
# Debian's npm package would conflict with).
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "setup: missing packages (${missing[*]}) and no sudo to install them; run this script as root" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian package starts a default cluster on port 5432; we never use it, and tests
# pick their own ports, so leave it alone.
echo "setup: done"
