#!/usr/bin/env bash
# Entrypoint of local/redis:7 (Debian bookworm's redis-server 7.0, built by e2e/local-cluster/lib/images.sh),
# following the official redis image's contract: default command redis-server with arguments passed through
# (e.g. `redis-server --requirepass x --appendonly yes`); a first argument starting with '-' or ending in .conf
# is given to redis-server; data in the working directory /data. Started as root it drops to redis (uid 999);
# started as uid 999 it runs as is.
set -Eeo pipefail

if [ $# -eq 0 ]; then set -- redis-server; fi

if [ "${1:0:1}" = '-' ] || [ "${1%.conf}" != "$1" ]; then set -- redis-server "$@"; fi

if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  find . \! -user redis -exec chown redis '{}' +
  exec setpriv --reuid=redis --regid=redis --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [ "$1" = redis-server ]; then
  # Without a config file redis would start in protected mode and refuse every non-loopback client; the
  # official image turns protected mode off unless the user set it (the pod network is the boundary).
  protected=1
  if [ -f "${2:-}" ] && grep -q '^protected-mode' "$2"; then protected=; fi
  for arg in "$@"; do case "$arg" in --protected-mode) protected= ;; esac; done
  if [ -n "$protected" ]; then
    shift
    if [ -f "${1:-}" ]; then conf=$1; shift; set -- redis-server "$conf" --protected-mode no "$@"
    else set -- redis-server --protected-mode no "$@"; fi
  fi
  # Files redis creates (RDB/AOF) readable by the owner only, unless the caller chose a umask.
  if [ "$(umask)" = 0022 ]; then umask 0077; fi
fi

exec "$@"
