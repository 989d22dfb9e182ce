# shellcheck shell=bash
# Shared helpers for the project's scripts. Source it; it defines functions and a few variables only.
#
# Caches live OUTSIDE the clone so a fresh clone (CI) reuses what an earlier run built on the same machine,
# and rebuilds from scratch when the cache is absent. The location is MCPR_CACHE_DIR (default
# /var/cache/mcp-registry as root, else ~/.cache/mcp-registry). `scripts/test --cold` points it, and every
# other cache, at an empty temporary directory.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=versions.env
source "$REPO_ROOT/scripts/versions.env"

log()  { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33mwarning:\033[0m %s\n' "$*" >&2; }
die()  { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }
pass() { printf '\033[1;32mok\033[0m %s\n' "$*" >&2; }

# No script dies silently: in a script running under `set -e`, a command whose failure ends it names itself,
# its file and line (the failures `die` does not describe already, e.g. a failed pipeline in a `$(...)`).
# errtrace: also inside functions and subshells.
_on_err() {
  local rc=$?
  printf '\033[1;31merror:\033[0m %s:%s: `%s` failed (exit %s)\n' "${BASH_SOURCE[1]:-?}" "${BASH_LINENO[0]:-?}" \
    "$BASH_COMMAND" "$rc" >&2
}
case $- in *e*) set -E; trap _on_err ERR ;; esac

# --- where caches live ---------------------------------------------------------------------------------------
# MCP_REGISTRY_CACHE was the old name. Every MCP_REGISTRY_* variable is the server's configuration (it refuses
# unknown ones, and MCP_REGISTRY_CACHE_* configures its cache), so the old name is read once, with a warning,
# and removed from the environment before any server process can inherit it.
if [ -z "${MCPR_CACHE_DIR:-}" ] && [ -n "${MCP_REGISTRY_CACHE:-}" ]; then
  warn "MCP_REGISTRY_CACHE is deprecated (it collides with the server's MCP_REGISTRY_* configuration): use MCPR_CACHE_DIR"
  MCPR_CACHE_DIR=$MCP_REGISTRY_CACHE
fi
unset MCP_REGISTRY_CACHE
if [ -z "${MCPR_CACHE_DIR:-}" ]; then
  if [ "$(id -u)" = 0 ]; then MCPR_CACHE_DIR=/var/cache/mcp-registry
  else MCPR_CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/mcp-registry"; fi
fi
export MCPR_CACHE_DIR
TOOLS_BIN="$MCPR_CACHE_DIR/bin"
mkdir -p "$TOOLS_BIN" "$MCPR_CACHE_DIR/locks"
case ":$PATH:" in *":$TOOLS_BIN:"*) ;; *) export PATH="$TOOLS_BIN:$PATH" ;; esac
# The machine image installs Go in /usr/local/go; a non-login shell (CI) may not have it on PATH.
if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then export PATH="$PATH:/usr/local/go/bin"; fi
# Go's build and module caches: keep them in the project cache so a CI clone reuses them. GOTOOLCHAIN=local:
# never download a Go toolchain behind our back.
export GOCACHE="${GOCACHE:-$MCPR_CACHE_DIR/go-build}"
export GOMODCACHE="${GOMODCACHE:-$MCPR_CACHE_DIR/go-mod}"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
export GOTOOLCHAIN=local
# Cargo's target dir outside the clone, unless the caller chose one.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$MCPR_CACHE_DIR/cargo-target}"

# --- one cargo build for clippy, the tests and the e2e image -------------------------------------------------
# The image has no libc, so its binary is linked statically (crt-static on the gnu target; there is no musl
# target here). Building every cargo step of the scripts for the explicit target with the same flags makes
# clippy, `cargo test` and the e2e image share one set of dependency builds: with --target, RUSTFLAGS reach
# only target code, so build scripts and proc macros stay dynamic and are shared too. The test binaries and
# `target/$CARGO_TARGET/debug/mcp-registry` are then static as well, which is what the image needs.
CARGO_TARGET=x86_64-unknown-linux-gnu
export CARGO_BUILD_TARGET=$CARGO_TARGET
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static"
# The server binary those builds produce (`cargo build -p mcp-registry`).
REGISTRY_DEBUG_BINARY="$CARGO_TARGET_DIR/$CARGO_TARGET/debug/mcp-registry"

# --- timings -------------------------------------------------------------------------------------------------
# Seconds since the epoch with millisecond precision, for step timings.
now_ms() { date +%s%3N; }
secs_since() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN{printf "%.1f", (b-a)/1000}'; }

# timing LABEL START_MS — print how long LABEL took and append "LABEL<TAB>SECONDS" to $MCPR_TIMINGS (set by
# scripts/test: the run's summary lists every tool build and step) and to $TIMINGS_FILE (a script's own).
timing() {
  local label=$1 secs f
  secs=$(secs_since "$2")
  printf '\033[1;32mtiming:\033[0m %-50s %8ss\n' "$label" "$secs" >&2
  for f in "${MCPR_TIMINGS:-}" "${TIMINGS_FILE:-}"; do
    [ -n "$f" ] && [ -d "$(dirname "$f")" ] && printf '%s\t%s\n' "$label" "$secs" >>"$f"
  done
  return 0
}

# print_timings FILE — the "label  seconds" table of a timings file.
print_timings() {
  [ -s "$1" ] || return 0
  awk -F'\t' '{printf "  %-52s %8ss\n", $1, $2}' "$1"
}

# with_lock NAME CMD... — run CMD holding an exclusive lock on the cache's NAME (a parallel prefetch and a
# stage building the same tool wait for each other instead of both building it).
with_lock() {
  local name=$1; shift
  (
    exec 9>"$MCPR_CACHE_DIR/locks/$name.lock"
    flock 9 || die "cannot lock $MCPR_CACHE_DIR/locks/$name.lock"
    "$@"
  )
}

# --- installers ----------------------------------------------------------------------------------------------
_APT_UPDATED=0
# ensure_apt PKG... — install the Debian packages that are not installed yet (apt-get update once per run). As
# a non-root user it uses `sudo -n` where that works (GitHub runners), else names the missing packages.
ensure_apt() {
  local missing=() p sudo=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    sudo -n true 2>/dev/null || die "missing Debian packages: ${missing[*]} (run as root, or install them)"
    sudo=(sudo -n)
  fi
  local t0; t0=$(now_ms)
  with_lock apt _apt_install "${sudo[@]}" -- "${missing[@]}" || exit 1
  _APT_UPDATED=1
  timing "apt-get install ${missing[*]}" "$t0"
}
# _apt_install [SUDO...] -- PKG... — the install itself, under the apt lock (ensure_apt).
_apt_install() {
  local sudo=()
  while [ "$1" != -- ]; do sudo+=("$1"); shift; done
  shift
  if [ "$_APT_UPDATED" = 0 ]; then
    log "apt-get update"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || die "apt-get update failed"
  fi
  log "apt-get install $*"
  # Packages such as postgresql and redis-server start a system service on install; the tests start their
  # own on free ports. A policy-rc.d that refuses every start (unless the machine has one) keeps apt from
  # leaving daemons behind.
  local policy=/usr/sbin/policy-rc.d ours=0 rc=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# mcp-registry scripts/lib.sh: no service starts during apt-get install\nexit 101\n' |
      "${sudo[@]}" tee "$policy" >/dev/null && "${sudo[@]}" chmod 0755 "$policy" && ours=1
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
    >/dev/null || rc=$?
  if [ "$ours" = 1 ]; then "${sudo[@]}" rm -f "$policy"; fi
  [ "$rc" = 0 ] || die "apt-get install $* failed (exit $rc)"
}

# go_module_dir MODULE@VERSION — the module's directory in the module cache after `go mod download`; empty
# (and status 1) when that is not a module the proxy serves. Never fails the caller's pipeline silently.
go_module_dir() {
  local out
  out=$(go mod download -json "$1" 2>/dev/null) || true
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$out" | grep . || return 1
}

# ensure_go_tool NAME PACKAGE@VERSION — build a Go tool once into $TOOLS_BIN/NAME-VERSION and link NAME to it.
# `go install pkg@version` also asks the module proxy for the module's version list (a deprecation check);
# where the proxy refuses that (for some modules here) but serves the version itself, the same version is
# built from the module that `go mod download` fetched: the longest prefix of PACKAGE that is a module.
ensure_go_tool() {
  local name=$1 spec=$2 version=${2##*@}
  local target="$TOOLS_BIN/$name-$version"
  [ -x "$target" ] || with_lock "go-tool-$name" _build_go_tool "$name" "$spec" || exit 1
  ln -sf "$target" "$TOOLS_BIN/$name"
}
_build_go_tool() {
  local name=$1 spec=$2 version=${2##*@} pkg=${2%@*}
  local target="$TOOLS_BIN/$name-$version"
  [ -x "$target" ] && return 0   # built by whoever held the lock before us
  command -v go >/dev/null || die "Go is needed to build $name ($spec) and is not on PATH"
  log "building $name $version (go install $spec)"
  local t0 tmp; t0=$(now_ms); tmp=$(mktemp -d)
  if GOBIN="$tmp" CGO_ENABLED=0 nice go install "$spec" 2>"$tmp/err"; then
    mv "$tmp/$(basename "$pkg")" "$target"
  else
    warn "go install $spec failed ($(tail -n 1 "$tmp/err")); building from the downloaded module"
    local mod=$pkg dir=""
    while [ -n "$mod" ] && [ "$mod" != . ] && [ "$mod" != / ]; do
      dir=$(go_module_dir "$mod@$version") && break
      mod=$(dirname "$mod")
    done
    if [ ! -d "$dir" ]; then
      sed 's/^/    /' "$tmp/err" >&2; rm -rf "$tmp"
      die "cannot fetch a module of $spec at $version from the Go module proxy (go install's error above)"
    fi
    local sub=${pkg#"$mod"}; sub=${sub#/}
    (cd "$dir" && CGO_ENABLED=0 GOFLAGS="$GOFLAGS -mod=mod" nice go build -o "$target.tmp" "./$sub") \
      || { rm -rf "$tmp"; die "building $name $version from $dir (package ./$sub) failed"; }
    mv "$target.tmp" "$target"
  fi
  rm -rf "$tmp"
  timing "build $name $version" "$t0"
}

# ensure_official NAME — a command of the official registry's Go module at OFFICIAL_REGISTRY_VERSION, built once
# into $TOOLS_BIN/NAME-VERSION and linked as NAME: `official-registry` (cmd/registry, the differential tests'
# reference) or `mcp-publisher` (cmd/publisher, the CLI the auth tests drive). The module needs huma v2.40.0,
# which the module proxy here refuses: it is built from the downloaded module with huma replaced by
# HUMA_REPLACE_VERSION.
ensure_official() {
  local name=$1 target="$TOOLS_BIN/$1-$OFFICIAL_REGISTRY_VERSION"
  [ -x "$target" ] || with_lock "official-$name" _build_official "$name" "$target" || exit 1
  ln -sf "$target" "$TOOLS_BIN/$name"
}
_build_official() {
  local name=$1 target=$2 cmd
  [ -x "$target" ] && return 0
  case "$name" in official-registry) cmd=registry ;; mcp-publisher) cmd=publisher ;; *) die "ensure_official: unknown $name" ;; esac
  command -v go >/dev/null || die "Go is needed to build $name (github.com/modelcontextprotocol/registry) and is not on PATH"
  local mod src t0; t0=$(now_ms)
  mod=$(go_module_dir "github.com/modelcontextprotocol/registry@$OFFICIAL_REGISTRY_VERSION") \
    || die "the Go module proxy does not serve github.com/modelcontextprotocol/registry@$OFFICIAL_REGISTRY_VERSION"
  src=$(mktemp -d)
  cp -r "$mod/." "$src" && chmod -R u+w "$src"
  (cd "$src" && go mod edit -replace "github.com/danielgtaylor/huma/v2=github.com/danielgtaylor/huma/v2@$HUMA_REPLACE_VERSION" \
    && CGO_ENABLED=0 GOFLAGS="$GOFLAGS -mod=mod" nice go build -o "$target.tmp" "./cmd/$cmd") \
    || { rm -rf "$src"; die "building $name $OFFICIAL_REGISTRY_VERSION (./cmd/$cmd, huma $HUMA_REPLACE_VERSION) failed (above)"; }
  rm -rf "$src"
  mv "$target.tmp" "$target"
  timing "build $name $OFFICIAL_REGISTRY_VERSION" "$t0"
}

# ensure_pip_tool NAME VERSION — install a Python CLI into a venv under the cache and link it.
ensure_pip_tool() {
  with_lock pip _install_pip_tool "$@" || exit 1
}
_install_pip_tool() {
  local name=$1 version=$2 venv="$MCPR_CACHE_DIR/venv"
  if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv" || die "python3 -m venv $venv failed"; fi
  # grep without -q reads all of pip's output: with -q it exits early, pip gets SIGPIPE and pipefail calls the
  # tool missing, so it was reinstalled every time.
  if ! "$venv/bin/pip" show "$name" 2>/dev/null | grep -x "Version: $version" >/dev/null; then
    local t0; t0=$(now_ms)
    log "pip install $name==$version"
    "$venv/bin/pip" install -q --disable-pip-version-check "$name==$version" || die "pip install $name==$version failed"
    timing "pip install $name $version" "$t0"
  fi
  [ -x "$venv/bin/$name" ] || die "pip install $name==$version did not install $venv/bin/$name"
  ln -sf "$venv/bin/$name" "$TOOLS_BIN/$name"
}

# timed LABEL CMD... — run CMD, then record its wall time (timing) with its result; returns CMD's status.
timed() {
  local label=$1 t0 rc=0; shift
  t0=$(now_ms)
  "$@" || rc=$?
  if [ "$rc" = 0 ]; then timing "$label" "$t0"; else timing "$label (FAILED, exit $rc)" "$t0"; fi
  return "$rc"
}

# The Go modules the kubeconform schemas are generated from (scripts/check-charts; scripts/prefetch downloads
# them early): Kubernetes' OpenAPI document and the CRDs of ServiceMonitor/PrometheusRule, HTTPRoute, Argo CD.
# shellcheck disable=SC2034
SCHEMA_MODULES=("k8s.io/kubernetes@$KUBERNETES_VERSION"
  "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION"
  "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION"
  "github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION")
