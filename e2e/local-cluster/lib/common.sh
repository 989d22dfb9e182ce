# shellcheck shell=bash disable=SC2034  # (variables here are used by the scripts that source this file)
# Settings and helpers shared by e2e/local-cluster/{up,down,smoke,build-registry-image}.
# Source it; it defines variables and functions only. Every setting can be overridden from the environment
# (see docs/local-cluster.md); the defaults keep everything off the host's usual paths and ports so that this
# cluster never collides with a system containerd/etcd/kubelet.

LC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../../../scripts/lib.sh
source "$LC_DIR/../../scripts/lib.sh"

# --- where things live --------------------------------------------------------------------------------------
# State of one running cluster (PIDs, logs, certs, kubeconfig, containerd/kubelet data). `down` deletes it.
STATE="${MCP_LOCAL_CLUSTER_STATE:-/var/lib/mcp-registry-local-cluster}"
KUBECONFIG_OUT="$STATE/kubeconfig"
# The state dir is a tmpfs by default (see up); its size is a limit, memory is used only as filled (~1 GB).
STATE_TMPFS="${MCP_LOCAL_CLUSTER_TMPFS:-1}"
STATE_TMPFS_SIZE="${MCP_LOCAL_CLUSTER_TMPFS_SIZE:-8g}"
# Build outputs, kept across `down` so a second `up` rebuilds nothing. Keyed by the pinned versions.
K8S_BIN="$MCPR_CACHE_DIR/k8s/$KUBERNETES_VERSION"
COREDNS_BIN="$MCPR_CACHE_DIR/coredns/$COREDNS_VERSION/coredns"
PROBE_BIN="$MCPR_CACHE_DIR/local-cluster/probe"
IMAGE_CACHE="$MCPR_CACHE_DIR/images"

# --- network ------------------------------------------------------------------------------------------------
# The kubelet refuses a loopback node IP, so the bridge's own address is the node IP and the API server's
# bind address. Everything (pods, Services, node) lives on this bridge; nothing is routed off the host.
NODE_NAME="${MCP_LOCAL_CLUSTER_NODE:-mcp-local}"
BRIDGE="${MCP_LOCAL_CLUSTER_BRIDGE:-mcpcni0}"
POD_SUBNET="${MCP_LOCAL_CLUSTER_POD_SUBNET:-10.244.0.0/24}"
BRIDGE_IP="${MCP_LOCAL_CLUSTER_BRIDGE_IP:-10.244.0.1}"
SERVICE_CIDR="${MCP_LOCAL_CLUSTER_SERVICE_CIDR:-10.96.0.0/16}"
# First address of the Service CIDR (the `kubernetes` Service) and the DNS Service's address.
APISERVER_SVC_IP="${MCP_LOCAL_CLUSTER_APISERVER_SVC_IP:-10.96.0.1}"
DNS_IP="${MCP_LOCAL_CLUSTER_DNS_IP:-10.96.0.10}"
APISERVER_PORT="${MCP_LOCAL_CLUSTER_APISERVER_PORT:-6443}"
APISERVER_URL="https://$BRIDGE_IP:$APISERVER_PORT"
# etcd on loopback, on non-default ports so that a distribution etcd (2379/2380) can run beside it.
ETCD_CLIENT_PORT="${MCP_LOCAL_CLUSTER_ETCD_PORT:-12379}"
ETCD_PEER_PORT="${MCP_LOCAL_CLUSTER_ETCD_PEER_PORT:-12380}"
# Our own containerd instance: own socket, root and state; never the system's /run/containerd/containerd.sock.
CONTAINERD_SOCK="$STATE/run/containerd/containerd.sock"
# iptables chain of our own that rejects anything the pods try to send off the bridge (traffic rule).
GUARD_CHAIN="MCP-LOCAL-GUARD"

# Timeouts (seconds) for each wait; every wait prints what it waits for.
WAIT_TIMEOUT="${MCP_LOCAL_CLUSTER_WAIT_TIMEOUT:-120}"

# Binaries of the running cluster.
KUBECTL="$K8S_BIN/kubectl"

# --- helpers ------------------------------------------------------------------------------------------------
require_root() { [ "$(id -u)" = 0 ] || die "$1 needs root (it manages network devices, mounts and iptables)"; }

kc() { "$KUBECTL" --kubeconfig "$KUBECONFIG_OUT" "$@"; }

# Process start time in clock ticks since boot (field 22 of /proc/PID/stat): with the PID it identifies a
# process uniquely, so `down` never signals an unrelated process that reused a recorded PID.
proc_starttime() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }            # drop "pid (comm) " — comm may contain spaces
  # shellcheck disable=SC2086
  set -- $stat
  echo "${20}"
}

# start_proc NAME CMD... — start a long-running component detached from this shell (own session, stdin from
# /dev/null, output to $STATE/logs/NAME.log) and record "PID STARTTIME" in $STATE/pids/NAME.pid.
start_proc() {
  local name=$1; shift
  mkdir -p "$STATE/logs" "$STATE/pids"
  # In a non-interactive script the background child is no process-group leader, so setsid does not fork:
  # $! is the component's own PID.
  setsid "$@" </dev/null >>"$STATE/logs/$name.log" 2>&1 &
  local pid=$!
  local st; st=$(proc_starttime "$pid") || die "$name exited immediately; log: $(tail -n 20 "$STATE/logs/$name.log")"
  echo "$pid $st" >"$STATE/pids/$name.pid"
  log "started $name (pid $pid, log $STATE/logs/$name.log)"
}

# recorded_pid NAME — the PID recorded for NAME if that very process still runs; fails otherwise.
recorded_pid() {
  local f="$STATE/pids/$1.pid" pid st
  [ -f "$f" ] || return 1
  read -r pid st <"$f" || return 1
  [ -n "$pid" ] && [ "$(proc_starttime "$pid" 2>/dev/null)" = "$st" ] || return 1
  echo "$pid"
}

# stop_procs NAME... — SIGTERM the recorded processes together, SIGKILL those still running after
# $STOP_TIMEOUT seconds, forget them. Together, because each takes a second or two to shut down gracefully.
# Graceful shutdown takes 1-3 s; after a crash of its peers the API server can hang in shutdown.
STOP_TIMEOUT="${MCP_LOCAL_CLUSTER_STOP_TIMEOUT:-10}"
stop_procs() {
  local name pid i running=()
  for name in "$@"; do
    if pid=$(recorded_pid "$name"); then
      log "stopping $name (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      running+=("$name")
    fi
  done
  for ((i = 0; i < STOP_TIMEOUT * 10 && ${#running[@]} > 0; i++)); do
    local still=()
    for name in "${running[@]}"; do recorded_pid "$name" >/dev/null && still+=("$name"); done
    running=("${still[@]}")
    [ ${#running[@]} -eq 0 ] || sleep 0.1
  done
  for name in "${running[@]}"; do
    if pid=$(recorded_pid "$name"); then
      warn "$name (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  [ ${#running[@]} -eq 0 ] || sleep 0.5
  for name in "$@"; do rm -f "$STATE/pids/$name.pid"; done
}

# show_logs NAME... — tail of the named components' logs, for failure messages.
show_logs() {
  local n
  for n in "$@"; do
    [ -f "$STATE/logs/$n.log" ] || continue
    printf '\n----- last 40 lines of %s -----\n' "$STATE/logs/$n.log" >&2
    tail -n 40 "$STATE/logs/$n.log" >&2
  done
}

# fail MSG COMPONENT... — print the components' log tails, then die with MSG.
# A script may define diagnostics() to print more (e.g. pod states) before dying.
fail() {
  local msg=$1; shift
  show_logs "$@"
  if declare -F diagnostics >/dev/null; then diagnostics || true; fi
  die "$msg"
}

# wait_for DESC TIMEOUT "COMPONENTS" CMD... — poll CMD every 0.5 s until it succeeds. On timeout, print the
# logs of COMPONENTS (space-separated) and die. Also dies early when one of those components has exited.
wait_for() {
  local desc=$1 timeout=$2 comps=$3; shift 3
  local start; start=$(now_ms)
  local deadline=$((start + timeout * 1000)) c
  log "waiting up to ${timeout}s for $desc"
  while ! "$@" >/dev/null 2>&1; do
    for c in $comps; do
      if [ -f "$STATE/pids/$c.pid" ] && ! recorded_pid "$c" >/dev/null; then
        # shellcheck disable=SC2086
        fail "$c exited while waiting for $desc" $comps
      fi
    done
    # shellcheck disable=SC2086
    [ "$(now_ms)" -lt "$deadline" ] || fail "timed out after ${timeout}s waiting for $desc" $comps
    sleep 0.5
  done
  log "ready: $desc ($(( $(now_ms) - start ))ms)"
}

# Timings: scripts/lib.sh's `timing LABEL START_MS` prints and also appends to $STATE/timings.txt (kept until
# `down`) while the state dir exists.
TIMINGS_FILE="$STATE/timings.txt"

# Debian packages the cluster needs at run time (build-time ones are ensured by the build steps).
RUNTIME_APT_PACKAGES=(containerd runc etcd-server containernetworking-plugins conntrack catatonit iptables
  iproute2 openssl curl ca-certificates jq util-linux)

# on_exit CMD... — run CMD when the script exits, however it exits (e.g. remove temporary build dirs, stop a
# background helper). Commands run in order; their failures are ignored.
_ON_EXIT=()
_on_exit_run() { local c; for c in "${_ON_EXIT[@]}"; do eval "$c" >/dev/null 2>&1 || true; done; }
on_exit() { _ON_EXIT+=("$(printf '%q ' "$@")"); trap _on_exit_run EXIT; }
remove_on_exit() { on_exit rm -rf "$1"; }
