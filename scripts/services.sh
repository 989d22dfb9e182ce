# shellcheck shell=bash
# Throwaway backing services for the test suite, on loopback only, with data in temporary directories.
# Source after lib.sh; call start_postgres, start_ferretdb, start_redis (each exports TEST_*_URL) and
# stop_services (idempotent; stops exactly what was started, in reverse order of need).

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

# FerretDB (a MongoDB-wire server) on the PostgreSQL started above, built once from tools/ferretdb at the
# pinned FERRETDB_VERSION. Exports TEST_MONGODB_URL.
start_ferretdb() {
  [ -n "${TEST_POSTGRES_URL:-}" ] || die "start_ferretdb needs start_postgres first"
  local bin="$TOOLS_BIN/ferretdb-$FERRETDB_VERSION"
  if [ ! -x "$bin" ]; then
    command -v go >/dev/null || die "Go is needed to build FerretDB (tools/ferretdb) and is not on PATH"
    log "building FerretDB $FERRETDB_VERSION (tools/ferretdb)"
    (cd "$REPO_ROOT/tools/ferretdb" && CGO_ENABLED=0 GOFLAGS="$GOFLAGS -mod=mod" go build -o "$bin.tmp" .) \
      || die "building FerretDB failed"
    mv "$bin.tmp" "$bin"
  fi
  local dir port pg_url
  dir=$(mktemp -d /tmp/mcp-registry-ferretdb.XXXXXX)
  _SERVICE_DIRS+=("$dir")
  port=$(free_port)
  pg_url="${TEST_POSTGRES_URL%/*}/ferretdb"
  PGPASSWORD=test-password "$TEST_POSTGRES_BINDIR/psql" "${TEST_POSTGRES_URL}" -qAt -c 'CREATE DATABASE ferretdb' >/dev/null \
    || die "cannot create the ferretdb database"
  log "starting FerretDB $FERRETDB_VERSION on 127.0.0.1:$port (backend: PostgreSQL)"
  "$bin" -listen-addr "127.0.0.1:$port" -handler postgresql -postgresql-url "$pg_url" -log-level error \
    >"$dir/ferretdb.log" 2>&1 &
  echo $! > "$dir/pid"
  _wait_port "$port" FerretDB "$dir/ferretdb.log"
  export TEST_MONGODB_URL="mongodb://127.0.0.1:$port/"
}

# Redis from Debian on loopback, no persistence. Exports TEST_REDIS_URL and TEST_REDIS_SERVER (the binary,
# for tests that start and stop a Redis of their own to simulate outages).
start_redis() {
  if [ "$(id -u)" = 0 ]; then ensure_apt redis-server; fi
  command -v redis-server >/dev/null || die "redis-server not found; install the 'redis-server' package"
  local dir port
  dir=$(mktemp -d /tmp/mcp-registry-redis.XXXXXX)
  _SERVICE_DIRS+=("$dir")
  port=$(free_port)
  log "starting Redis $(redis-server --version | awk '{print $3}') on 127.0.0.1:$port"
  redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$dir" >"$dir/redis.log" 2>&1 &
  echo $! > "$dir/pid"
  _wait_port "$port" Redis "$dir/redis.log"
  export TEST_REDIS_URL="redis://127.0.0.1:$port/"
  TEST_REDIS_SERVER=$(command -v redis-server)
  export TEST_REDIS_SERVER
}

# _wait_port PORT NAME LOG — wait up to 30 s for a TCP listener on 127.0.0.1:PORT.
_wait_port() {
  local i
  for i in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  tail -n 20 "$3" >&2
  die "$2 did not listen on 127.0.0.1:$1 within 30 s (log above)"
}

stop_services() {
  local i dir
  # Reverse order: FerretDB before the PostgreSQL it stores in.
  for ((i = ${#_SERVICE_DIRS[@]} - 1; i >= 0; i--)); do
    dir=${_SERVICE_DIRS[$i]}
    if [ -f "$dir/pid" ]; then
      kill "$(cat "$dir/pid")" 2>/dev/null || true
    fi
    if [ -f "$dir/bindir" ] && [ -d "$dir/data" ]; then
      _as_pg "$(cat "$dir/bindir")/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
  done
  _SERVICE_DIRS=()
}
