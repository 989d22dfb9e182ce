#!/usr/bin/env bash
# Entrypoint of local/postgres:15 (Debian bookworm's PostgreSQL 15, built by e2e/local-cluster/lib/images.sh).
# Implements the environment/volume contract charts rely on with the official postgres image, so a chart runs
# unchanged with only the image overridden:
#   POSTGRES_USER (default postgres), POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE, POSTGRES_DB (default: the
#   user), PGDATA (default /var/lib/postgresql/data), POSTGRES_INITDB_ARGS, POSTGRES_INITDB_WALDIR,
#   POSTGRES_HOST_AUTH_METHOD (default scram-sha-256); /docker-entrypoint-initdb.d/*.sh (executed if executable,
#   sourced otherwise), *.sql and *.sql.gz run once, on an empty data directory, with psql connected as
#   POSTGRES_USER to POSTGRES_DB. Started as root it prepares the directories and drops to postgres (uid 999);
#   started as uid 999 (runAsUser 999, fsGroup 999) it runs as is. Arguments after `postgres` go to the server;
#   a first argument starting with '-' is taken as server options.
# -u is left out on purpose, as in the official image: sourced init scripts may use unset variables.
set -Eeo pipefail

log() { printf '%s [entrypoint] %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$*" >&2; }
fatal() { log "error: $*"; exit 1; }

# file_env VAR [DEFAULT] — VAR from the environment, or from the file named by VAR_FILE (not both).
file_env() {
  local var=$1 def=${2:-} fvar="${1}_FILE" val
  if [ -n "${!var:-}" ] && [ -n "${!fvar:-}" ]; then fatal "both $var and $fvar are set (they are exclusive)"; fi
  val=$def
  if [ -n "${!var:-}" ]; then val=${!var}
  elif [ -n "${!fvar:-}" ]; then val=$(<"${!fvar}"); fi
  export "$var"="$val"
  unset "$fvar"
}

setup_env() {
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS
  : "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
  export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
  DATABASE_ALREADY_EXISTS=
  if [ -s "$PGDATA/PG_VERSION" ]; then DATABASE_ALREADY_EXISTS=true; fi
}

# Create PGDATA (and the socket dir); when root, hand them to postgres. As uid 999 on a volume with fsGroup 999
# the chmod may be refused on the mount point itself; initdb then reports the real problem.
create_dirs() {
  local user; user=$(id -u)
  mkdir -p "$PGDATA"
  chmod 00700 "$PGDATA" 2>/dev/null || :
  mkdir -p /var/run/postgresql
  chmod 03775 /var/run/postgresql 2>/dev/null || :
  if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
    mkdir -p "$POSTGRES_INITDB_WALDIR"
    [ "$user" = 0 ] && find "$POSTGRES_INITDB_WALDIR" \! -user postgres -exec chown postgres '{}' +
    chmod 700 "$POSTGRES_INITDB_WALDIR" 2>/dev/null || :
  fi
  if [ "$user" = 0 ]; then
    find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
    find /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
  fi
}

verify_env() {
  if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
    fatal "the database is uninitialized and no password is set: set POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE), or POSTGRES_HOST_AUTH_METHOD=trust to allow all connections without a password"
  fi
  if [ "${#POSTGRES_PASSWORD}" -gt 100 ]; then log "warning: POSTGRES_PASSWORD is longer than 100 characters"; fi
}

init_database_dir() {
  local args=(--username="$POSTGRES_USER" --pwfile=/dev/stdin)
  [ -n "${POSTGRES_INITDB_WALDIR:-}" ] && args+=(--waldir="$POSTGRES_INITDB_WALDIR")
  # POSTGRES_INITDB_ARGS is a shell-words string ("--data-checksums --locale=C"), as in the official image.
  local extra=()
  if [ -n "$POSTGRES_INITDB_ARGS" ]; then eval "extra=($POSTGRES_INITDB_ARGS)"; fi
  log "initializing database in $PGDATA"
  printf '%s\n' "$POSTGRES_PASSWORD" | initdb "${args[@]}" "${extra[@]}"
  # Listen on every address of the pod and require a password from the network.
  printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
  printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"
}

temp_server_start() {
  # Unix socket only while the init scripts run: no client can connect before initialization is complete.
  PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p ${PGPORT:-5432}" -w start
}

temp_server_stop() { PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -m fast -w stop; }

# psql as the init scripts see it: connected as POSTGRES_USER to POSTGRES_DB, failing on the first error.
psql_init=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)

setup_db() {
  local exists
  exists=$("${psql_init[@]}" --dbname postgres --set db="$POSTGRES_DB" --tuples-only <<<"SELECT 1 FROM pg_database WHERE datname = :'db';")
  if [ -z "${exists// /}" ]; then
    "${psql_init[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
    log "created database $POSTGRES_DB"
  fi
}

process_init_files() {
  local f
  # shellcheck disable=SC2034  # `psql` is the documented helper for sourced init scripts
  psql=("${psql_init[@]}" --dbname "$POSTGRES_DB")
  for f in /docker-entrypoint-initdb.d/*; do
    [ -e "$f" ] || continue
    case "$f" in
      *.sh)
        if [ -x "$f" ]; then log "running $f"; "$f"
        else log "sourcing $f"; # shellcheck disable=SC1090
          . "$f"; fi ;;
      *.sql)    log "running $f"; "${psql[@]}" -f "$f"; echo ;;
      *.sql.gz) log "running $f"; gunzip -c "$f" | "${psql[@]}"; echo ;;
      *)        log "ignoring $f" ;;
    esac
  done
}

main() {
  if [ $# -eq 0 ]; then set -- postgres; fi
  # `docker run image -c max_connections=50` style: options only, so the command is postgres.
  if [ "${1:0:1}" = '-' ]; then set -- postgres "$@"; fi
  if [ "$1" = postgres ]; then
    setup_env
    create_dirs
    if [ "$(id -u)" = 0 ]; then
      # Re-run this script as postgres (uid 999) with the same arguments.
      exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
    fi
    if [ -z "$DATABASE_ALREADY_EXISTS" ]; then
      verify_env
      init_database_dir
      export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
      temp_server_start
      setup_db
      process_init_files
      temp_server_stop
      unset PGPASSWORD
      log "PostgreSQL init process complete; ready for start up"
    else
      log "PostgreSQL database directory appears to contain a database; skipping initialization"
    fi
  fi
  exec "$@"
}

main "$@"
