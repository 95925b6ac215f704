# Shared by scripts/demo.sh, scripts/test.sh and bench/: building, installing, and throwaway
# PostgreSQL 15 instances. PostgreSQL refuses to run as root, so when we are root the instance
# runs as the unprivileged `postgres` user (created by Debian's postgresql package).
# shellcheck shell=bash

PG_BINDIR=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
TELEMETRY_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [ "$(id -u)" -eq 0 ]; then
  INSTANCE_USER=postgres
else
  INSTANCE_USER=$(id -un)
fi

# Runs a command as the user that owns throwaway instances.
as_instance_user() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$INSTANCE_USER" -- env PATH="$PG_BINDIR:$PATH" "$@"
  else
    env PATH="$PG_BINDIR:$PATH" "$@"
  fi
}

# Runs a command as root (directly, or through sudo).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

log() { printf '\n==> %s\n' "$*"; }

# Builds and installs the extension into the PostgreSQL of pg_config.
build_and_install() {
  local jobs
  jobs=$(nproc 2>/dev/null || echo 2)
  make -C "$TELEMETRY_ROOT" -s -j"$jobs" "$@"
  as_root make -C "$TELEMETRY_ROOT" -s install "$@" >/dev/null
}

# start_instance DIR PORT [extra postgresql.conf lines...]
# A fresh cluster in DIR/data, listening only on a Unix socket in DIR (so any port number is
# free), with telemetry preloaded.
start_instance() {
  local dir=$1 port=$2
  shift 2
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown "$INSTANCE_USER" "$dir"
  as_instance_user initdb -D "$dir/data" -A trust -U postgres --no-instructions -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
  {
    echo "shared_preload_libraries = 'telemetry'"
    echo "listen_addresses = ''"
    echo "unix_socket_directories = '$dir'"
    echo "port = $port"
    echo "timezone = 'UTC'"
    for line in "$@"; do echo "$line"; done
  } | as_instance_user tee -a "$dir/data/postgresql.conf" >/dev/null
  as_instance_user pg_ctl -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
}

stop_instance() {
  local dir=$1
  [ -f "$dir/data/postmaster.pid" ] && as_instance_user pg_ctl -D "$dir/data" -m fast -w stop >/dev/null || true
}
