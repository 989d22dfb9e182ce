# shellcheck shell=bash
# Throwaway backing services for the test suite, on loopback only, with data in temporary directories.
# Source after lib.sh; call start_postgres (exports TEST_POSTGRES_URL) and stop_services (idempotent).

_SERVICE_DIRS=()

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Run a command as the postgres user when we are root (initdb refuses root), else as ourselves.
_as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  if [ "$(id -u)" = 0 ]; then ensure_apt postgresql; fi
  local bindir
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -x "$bindir/initdb" ] || die "PostgreSQL server binaries not found (expected /usr/lib/postgresql/*/bin/initdb); install the 'postgresql' package"
  local dir port password=test-password
  dir=$(mktemp -d /tmp/mcp-registry-pg.XXXXXX)
  _SERVICE_DIRS+=("$dir")
  port=$(free_port)
  printf '%s\n' "$password" > "$dir/pwfile"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir"
  log "starting PostgreSQL ($("$bindir/postgres" --version | awk '{print $3}')) on 127.0.0.1:$port (data in $dir)"
  _as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth=scram-sha-256 --pwfile="$dir/pwfile" >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  # fsync off: a throwaway test cluster; durability is not under test and it makes tests faster.
  _as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c max_connections=300" start >/dev/null \
    || { tail -n 30 "$dir/server.log" >&2; die "PostgreSQL did not start (log above)"; }
  echo "$bindir" > "$dir/bindir"
  PGPASSWORD=$password "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -qAt -c 'CREATE DATABASE mcp_registry_test' >/dev/null \
    || die "cannot create the test database"
  export TEST_POSTGRES_URL="postgres://postgres:$password@127.0.0.1:$port/mcp_registry_test"
  export TEST_POSTGRES_BINDIR="$bindir"
}

stop_services() {
  local dir
  for dir in "${_SERVICE_DIRS[@]}"; do
    if [ -f "$dir/bindir" ] && [ -d "$dir/data" ]; then
      _as_pg "$(cat "$dir/bindir")/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
  done
  _SERVICE_DIRS=()
}
