# shellcheck shell=bash
# Shared helpers for the project's scripts. Source it; it defines functions and a few variables only.
#
# Caches live OUTSIDE the clone so a fresh clone (CI) reuses what an earlier run built on the same machine,
# and rebuilds from scratch when the cache is absent. Override with MCP_REGISTRY_CACHE.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=versions.env
source "$REPO_ROOT/scripts/versions.env"

if [ -z "${MCP_REGISTRY_CACHE:-}" ]; then
  if [ "$(id -u)" = 0 ]; then MCP_REGISTRY_CACHE=/var/cache/mcp-registry
  else MCP_REGISTRY_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/mcp-registry"; fi
fi
# Not exported: the server treats every MCP_REGISTRY_* variable as configuration and refuses unknown
# ones, so this scripts-only setting must not reach it. Scripts that need it source this file.
TOOLS_BIN="$MCP_REGISTRY_CACHE/bin"
mkdir -p "$TOOLS_BIN"
case ":$PATH:" in *":$TOOLS_BIN:"*) ;; *) export PATH="$TOOLS_BIN:$PATH" ;; esac
# Go's build and module caches: keep them in the project cache so a CI clone reuses them.
export GOCACHE="${GOCACHE:-$MCP_REGISTRY_CACHE/go-build}"
export GOMODCACHE="${GOMODCACHE:-$MCP_REGISTRY_CACHE/go-mod}"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
# Cargo's target dir outside the clone, unless the caller chose one.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$MCP_REGISTRY_CACHE/cargo-target}"

log()  { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33mwarning:\033[0m %s\n' "$*" >&2; }
die()  { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# Seconds since the epoch with millisecond precision, for step timings.
now_ms() { date +%s%3N; }

_APT_UPDATED=0
# ensure_apt PKG... — install the Debian packages that are not installed yet (apt-get update once per run).
ensure_apt() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing Debian packages: ${missing[*]} (run as root, or install them)"
  if [ "$_APT_UPDATED" = 0 ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || die "apt-get update failed"
    _APT_UPDATED=1
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

# ensure_go_tool NAME PACKAGE@VERSION — build a Go tool once into $TOOLS_BIN/NAME-VERSION and link NAME to it.
# `go install pkg@version` also asks the module proxy for the module's version list (a deprecation check);
# where the proxy refuses that list (403 here for some modules) but serves the version itself, the same
# version is built from the module that `go mod download` fetched.
ensure_go_tool() {
  local name=$1 spec=$2 version=${2##*@} pkg=${2%@*}
  local target="$TOOLS_BIN/$name-$version"
  if [ ! -x "$target" ]; then
    command -v go >/dev/null || die "Go is needed to build $name ($spec) and is not on PATH"
    log "building $name $version (go install $spec)"
    local tmp; tmp=$(mktemp -d)
    if GOBIN="$tmp" CGO_ENABLED=0 go install "$spec" 2>"$tmp/err"; then
      mv "$tmp/$(basename "$pkg")" "$target"
    else
      warn "go install $spec failed ($(tail -n 1 "$tmp/err")); building from the downloaded module"
      local mod=$pkg dir=""
      while [ -n "$mod" ] && [ "$mod" != . ]; do
        dir=$(go mod download -json "$mod@$version" 2>/dev/null | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
        [ -n "$dir" ] && break
        mod=$(dirname "$mod")
      done
      [ -d "$dir" ] || { cat "$tmp/err" >&2; die "cannot fetch the module of $spec"; }
      (cd "$dir" && CGO_ENABLED=0 GOFLAGS="$GOFLAGS -mod=mod" go build -o "$target.tmp" "./${pkg#"$mod"/}") \
        || die "building $name $version from $dir failed"
      mv "$target.tmp" "$target"
    fi
    rm -rf "$tmp"
  fi
  ln -sf "$target" "$TOOLS_BIN/$name"
}

# ensure_pip_tool NAME VERSION — install a Python CLI into a venv under the cache and link it.
ensure_pip_tool() {
  local name=$1 version=$2 venv="$MCP_REGISTRY_CACHE/venv"
  if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv" || die "python3 -m venv failed"; fi
  if ! "$venv/bin/pip" show "$name" 2>/dev/null | grep -qx "Version: $version"; then
    log "pip install $name==$version"
    "$venv/bin/pip" install -q "$name==$version" || die "pip install $name==$version failed"
  fi
  [ -x "$venv/bin/$name" ] && ln -sf "$venv/bin/$name" "$TOOLS_BIN/$name"
  return 0
}
