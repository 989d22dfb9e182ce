# shellcheck shell=bash
# Throwaway backing services for the test suite, on loopback only, with data in temporary directories.
# Source after lib.sh; call start_postgres, start_ferretdb, start_redis (each exports TEST_*_URL) and
# stop_services (idempotent; stops exactly what was started, in reverse order of need).
#
# What was started is recorded in $MCPR_SERVICES_FILE, not only in this shell's memory: a line `dir PATH` for
# each service's directory (its pid file or PostgreSQL data dir inside) and `pid N` for each process.
# scripts/test starts services inside a stage's subshell and stops them both when the stage ends and, should
# the stage be killed, from its own EXIT trap; afterwards `services_left` checks the same record.
# A service URL already in the environment (TEST_POSTGRES_URL, TEST_MONGODB_URL, TEST_REDIS_URL: e.g. the
# GitHub workflow's service containers) is used as it is and nothing is started for it.

MCPR_SERVICES_FILE="${MCPR_SERVICES_FILE:-$(mktemp "${TMPDIR:-/tmp}/mcp-registry-services.XXXXXX")}"
export MCPR_SERVICES_FILE
_register_service() { echo "dir $1" >>"$MCPR_SERVICES_FILE"; }
_register_pid() { echo "pid $1" >>"$MCPR_SERVICES_FILE"; }

# services_left — print what of the recorded services still exists (directories, live PIDs); fails if any.
services_left() {
  local left=() kind v
  [ -f "$MCPR_SERVICES_FILE" ] || return 0
  while read -r kind v; do
    case "$kind" in
      dir) [ -e "$v" ] && left+=("directory $v") ;;
      pid) _pid_alive "$v" && left+=("process $v ($(ps -o args= -p "$v" | cut -c1-80))") ;;
    esac
  done <"$MCPR_SERVICES_FILE"
  [ ${#left[@]} -eq 0 ] && return 0
  printf '%s\n' "${left[@]}"
  return 1
}

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Run a command as the postgres user when we are root (initdb refuses root), else as ourselves.
_as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  if [ -n "${TEST_POSTGRES_URL:-}" ]; then log "PostgreSQL: using TEST_POSTGRES_URL from the environment"; return 0; fi
  ensure_apt postgresql
  local bindir
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -x "$bindir/initdb" ] || die "PostgreSQL server binaries not found (expected /usr/lib/postgresql/*/bin/initdb); install the 'postgresql' package"
  local dir port password=test-password
  dir=$(mktemp -d /tmp/mcp-registry-pg.XXXXXX)
  _register_service "$dir"
  port=$(free_port)
  printf '%s\n' "$password" > "$dir/pwfile"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir"
  log "starting PostgreSQL ($("$bindir/postgres" --version | awk '{print $3}')) on 127.0.0.1:$port (data in $dir)"
  echo "$bindir" > "$dir/bindir"
  _as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth=scram-sha-256 --pwfile="$dir/pwfile" >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  # fsync off: a throwaway test cluster; durability is not under test and it makes tests faster.
  _as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c max_connections=300" start >/dev/null \
    || { tail -n 30 "$dir/server.log" >&2; die "PostgreSQL did not start (log above)"; }
  _register_pid "$(head -n 1 "$dir/data/postmaster.pid")"
  PGPASSWORD=$password "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -qAt -c 'CREATE DATABASE mcp_registry_test' >/dev/null \
    || die "cannot create the test database"
  export TEST_POSTGRES_URL="postgres://postgres:$password@127.0.0.1:$port/mcp_registry_test"
  export TEST_POSTGRES_BINDIR="$bindir"
}

# FerretDB (a MongoDB-wire server) on the PostgreSQL started above, built once from tools/ferretdb at the
# pinned FERRETDB_VERSION. Exports TEST_MONGODB_URL.
start_ferretdb() {
  if [ -n "${TEST_MONGODB_URL:-}" ]; then log "MongoDB: using TEST_MONGODB_URL from the environment"; return 0; fi
  [ -n "${TEST_POSTGRES_URL:-}" ] || die "start_ferretdb needs start_postgres first"
  local bin; bin=$(ensure_ferretdb)
  local dir port pg_url
  dir=$(mktemp -d /tmp/mcp-registry-ferretdb.XXXXXX)
  _register_service "$dir"
  port=$(free_port)
  pg_url="${TEST_POSTGRES_URL%/*}/ferretdb"
  "${TEST_POSTGRES_BINDIR:-/usr/bin}/psql" "${TEST_POSTGRES_URL}" -qAt -c 'CREATE DATABASE ferretdb' >/dev/null \
    || die "cannot create the ferretdb database"
  log "starting FerretDB $FERRETDB_VERSION on 127.0.0.1:$port (backend: PostgreSQL)"
  "$bin" -listen-addr "127.0.0.1:$port" -handler postgresql -postgresql-url "$pg_url" -log-level error \
    >"$dir/ferretdb.log" 2>&1 &
  echo $! > "$dir/pid"; _register_pid $!
  _wait_port "$port" FerretDB "$dir/ferretdb.log"
  export TEST_MONGODB_URL="mongodb://127.0.0.1:$port/"
}

# Redis from Debian on loopback, no persistence. Exports TEST_REDIS_URL and TEST_REDIS_SERVER (the binary,
# for tests that start and stop a Redis of their own to simulate outages).
start_redis() {
  ensure_apt redis-server
  command -v redis-server >/dev/null || die "redis-server not found; install the 'redis-server' package"
  TEST_REDIS_SERVER=$(command -v redis-server)
  export TEST_REDIS_SERVER
  if [ -n "${TEST_REDIS_URL:-}" ]; then log "Redis: using TEST_REDIS_URL from the environment"; return 0; fi
  local dir port
  dir=$(mktemp -d /tmp/mcp-registry-redis.XXXXXX)
  _register_service "$dir"
  port=$(free_port)
  log "starting Redis $(redis-server --version | awk '{print $3}') on 127.0.0.1:$port"
  redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$dir" >"$dir/redis.log" 2>&1 &
  echo $! > "$dir/pid"; _register_pid $!
  _wait_port "$port" Redis "$dir/redis.log"
  export TEST_REDIS_URL="redis://127.0.0.1:$port/"
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

# _pid_alive PID — the process exists and is not a zombie.
_pid_alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]; }

# stop_services — stop every recorded service that still exists (newest first: FerretDB before the
# PostgreSQL it stores in), wait until each has exited, delete its directory. Idempotent.
stop_services() {
  [ -s "${MCPR_SERVICES_FILE:-}" ] || return 0
  local kind dir pid i
  while read -r kind dir; do
    [ "$kind" = dir ] && [ -d "$dir" ] || continue
    if [ -f "$dir/pid" ]; then
      pid=$(cat "$dir/pid")
      kill "$pid" 2>/dev/null || true
      for i in $(seq 1 100); do _pid_alive "$pid" || break; sleep 0.1; done
      if _pid_alive "$pid"; then warn "pid $pid ($dir) ignored SIGTERM for 10 s: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
    fi
    if [ -f "$dir/bindir" ] && [ -f "$dir/data/postmaster.pid" ]; then
      _as_pg "$(cat "$dir/bindir")/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 \
        || warn "pg_ctl stop of $dir/data failed"
    fi
    rm -rf "$dir"
  done < <(tac "$MCPR_SERVICES_FILE")
}

# ensure_ferretdb — FerretDB built once from tools/ferretdb at the pinned FERRETDB_VERSION; prints its path.
ensure_ferretdb() {
  local bin="$TOOLS_BIN/ferretdb-$FERRETDB_VERSION"
  [ -x "$bin" ] || with_lock ferretdb _build_ferretdb "$bin" >&2 || exit 1
  echo "$bin"
}
_build_ferretdb() {
  [ -x "$1" ] && return 0
  command -v go >/dev/null || die "Go is needed to build FerretDB (tools/ferretdb) and is not on PATH"
  local t0; t0=$(now_ms)
  log "building FerretDB $FERRETDB_VERSION (tools/ferretdb)"
  (cd "$REPO_ROOT/tools/ferretdb" && CGO_ENABLED=0 GOFLAGS="$GOFLAGS -mod=mod" nice go build -o "$1.tmp" .) \
    || die "building FerretDB $FERRETDB_VERSION (tools/ferretdb) failed"
  mv "$1.tmp" "$1"
  timing "build FerretDB $FERRETDB_VERSION" "$t0"
}
