# shellcheck shell=bash disable=SC2034  # (variables here are used by the scripts that source this file)
# Builds the cluster's binaries from the Go module proxy, once per pinned version:
#   - Kubernetes ($KUBERNETES_VERSION): kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
#     kube-proxy, kubectl -> $K8S_BIN
#   - CoreDNS ($COREDNS_VERSION) without the `forward` plugin -> $COREDNS_BIN
#   - the smoke-test probe (e2e/local-cluster/probe) -> $PROBE_BIN
# Outputs and the Go build cache live under $MCPR_CACHE_DIR (outside the clone), so a fresh clone on the
# same machine rebuilds nothing. Requires lib/common.sh.

K8S_COMPONENTS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

# A Go toolchain new enough for the pinned Kubernetes (its go.mod says which). GOTOOLCHAIN=local: never
# download a toolchain behind our back.
export GOTOOLCHAIN=local

check_go() {
  # The machine image installs Go in /usr/local/go; a non-login shell (CI) may not have it on PATH.
  if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then export PATH="$PATH:/usr/local/go/bin"; fi
  command -v go >/dev/null || die "Go is needed to build Kubernetes/CoreDNS/probe and is not on PATH"
}

# The go directive of a module's go.mod in the module cache (e.g. 1.26.0).
go_directive() { sed -n 's/^go \([0-9.]*\).*/\1/p' "$1" | head -n 1; }

# go_at_least WANT — the local Go is at least WANT (x.y[.z]).
go_at_least() {
  local have; have=$(go env GOVERSION); have=${have#go}
  [ "$(printf '%s\n%s\n' "$1" "$have" | sort -V | head -n 1)" = "$1" ]
}

# ensure_k8s_binaries — build the six Kubernetes binaries at $KUBERNETES_VERSION unless already cached.
ensure_k8s_binaries() {
  local c missing=0
  for c in "${K8S_COMPONENTS[@]}"; do [ -x "$K8S_BIN/$c" ] || missing=1; done
  if [ "$missing" = 0 ]; then log "Kubernetes $KUBERNETES_VERSION binaries cached in $K8S_BIN"; return 0; fi
  check_go
  local t0; t0=$(now_ms)
  local work; work=$(mktemp -d "${TMPDIR:-/tmp}/k8s-build.XXXXXX")
  # A throwaway module requiring k8s.io/kubernetes. Its go.mod replaces the ~33 staging modules (k8s.io/api,
  # client-go, …) with ./staging paths, which do not exist for a dependency: pin each to the matching
  # published v0.Y.Z instead.
  local minor=${KUBERNETES_VERSION#v1.}
  local staging_version="v0.$minor"
  log "building Kubernetes $KUBERNETES_VERSION (${K8S_COMPONENTS[*]}) — a cold build takes ~5 min on 2 cores"
  (
    cd "$work"
    cat >go.mod <<EOF
module local/k8s-build

go 1.26.0
EOF
    go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" >mod.json \
      || die "go mod download k8s.io/kubernetes@$KUBERNETES_VERSION failed"
    local kmod; kmod=$(jq -r .GoMod mod.json)
    local want; want=$(go_directive "$kmod")
    go_at_least "$want" || die "Kubernetes $KUBERNETES_VERSION needs Go >= $want; $(go env GOVERSION) is on PATH"
    # Mirror the upstream go directive and godebug defaults so the binaries behave as the released ones.
    {
      echo "module local/k8s-build"
      echo
      echo "go $want"
      grep '^godebug ' "$kmod" || true
      echo
      echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
      echo
      echo "replace ("
      sed -n 's#^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/.*#\t\1 => \1 '"$staging_version"'#p' "$kmod"
      echo ")"
    } >go.mod
    grep -q "k8s.io/api => k8s.io/api $staging_version" go.mod || die "could not derive staging replaces from $kmod"
    # A blank import of every command makes `go mod tidy` resolve exactly what they need.
    {
      echo "//go:build tools"
      echo
      echo "package tools"
      echo
      echo "import ("
      for c in "${K8S_COMPONENTS[@]}"; do echo "	_ \"k8s.io/kubernetes/cmd/$c\""; done
      echo ")"
    } >tools.go
    GOFLAGS="$GOFLAGS -mod=mod" go mod tidy >tidy.log 2>&1 || { tail -n 30 tidy.log >&2; die "go mod tidy for Kubernetes failed"; }
    # The version the binaries report (kubectl version, node info, Helm's kubeVersion checks): without these
    # they say v0.0.0-master and charts with a kubeVersion constraint refuse to install.
    local major=1 minor_num=${minor%%.*}
    local ldflags="-s -w"
    local pkg
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor_num"
      ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
    done
    mkdir -p out
    local targets=()
    for c in "${K8S_COMPONENTS[@]}"; do targets+=("k8s.io/kubernetes/cmd/$c"); done
    # nice: other people compile on this 2-core machine at the same time. CGO off: static, like upstream.
    CGO_ENABLED=0 nice -n 10 go build -trimpath -ldflags "$ldflags" -o out/ "${targets[@]}" \
      || die "go build of Kubernetes $KUBERNETES_VERSION failed"
    mkdir -p "$K8S_BIN"
    for c in "${K8S_COMPONENTS[@]}"; do
      install -m 0755 "out/$c" "$K8S_BIN/$c.tmp" && mv -f "$K8S_BIN/$c.tmp" "$K8S_BIN/$c"
    done
  ) || { rm -rf "$work"; exit 1; }
  rm -rf "$work"
  "$K8S_BIN/kubectl" version --client >/dev/null 2>&1 || die "built kubectl does not run"
  timing "build Kubernetes $KUBERNETES_VERSION (cold)" "$t0"
}

# ensure_coredns — build CoreDNS at $COREDNS_VERSION from e2e/local-cluster/coredns/main.go, which links only
# the plugins we list (no `forward`: nothing may leave the host).
ensure_coredns() {
  if [ -x "$COREDNS_BIN" ]; then log "CoreDNS $COREDNS_VERSION cached at $COREDNS_BIN"; return 0; fi
  check_go
  local t0; t0=$(now_ms)
  local work; work=$(mktemp -d "${TMPDIR:-/tmp}/coredns-build.XXXXXX")
  log "building CoreDNS $COREDNS_VERSION (without the forward plugin)"
  (
    cd "$work"
    cp "$LC_DIR/coredns/main.go" .
    go mod download -json "github.com/coredns/coredns@$COREDNS_VERSION" >mod.json \
      || die "go mod download github.com/coredns/coredns@$COREDNS_VERSION failed"
    local want; want=$(go_directive "$(jq -r .GoMod mod.json)")
    go_at_least "$want" || die "CoreDNS $COREDNS_VERSION needs Go >= $want; $(go env GOVERSION) is on PATH"
    printf 'module local/coredns-build\n\ngo %s\n\nrequire github.com/coredns/coredns %s\n' "$want" "$COREDNS_VERSION" >go.mod
    GOFLAGS="$GOFLAGS -mod=mod" go mod tidy >tidy.log 2>&1 || { tail -n 30 tidy.log >&2; die "go mod tidy for CoreDNS failed"; }
    CGO_ENABLED=0 nice -n 10 go build -trimpath \
      -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION" -o coredns . \
      || die "go build of CoreDNS failed"
    local plugins; plugins=$(./coredns -plugins)
    if grep -qx forward <<<"$plugins"; then die "CoreDNS was built with the forward plugin"; fi
    grep -qx kubernetes <<<"$plugins" || die "CoreDNS lacks the kubernetes plugin"
    mkdir -p "$(dirname "$COREDNS_BIN")"
    install -m 0755 coredns "$COREDNS_BIN.tmp" && mv -f "$COREDNS_BIN.tmp" "$COREDNS_BIN"
  ) || { rm -rf "$work"; exit 1; }
  rm -rf "$work"
  timing "build CoreDNS $COREDNS_VERSION (cold)" "$t0"
}

# ensure_probe — the static smoke-test program (serves HTTP, resolves and GETs URLs). Rebuilt when its
# source changes (the Go build cache makes that cheap).
ensure_probe() {
  local src="$LC_DIR/probe" stamp
  stamp=$(cat "$src/go.mod" "$src/main.go" | sha256sum | cut -c1-16)
  if [ -x "$PROBE_BIN" ] && [ "$(cat "$PROBE_BIN.src" 2>/dev/null)" = "$stamp" ]; then return 0; fi
  check_go
  local t0; t0=$(now_ms)
  mkdir -p "$(dirname "$PROBE_BIN")"
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$PROBE_BIN.tmp" .) \
    || die "go build of e2e/local-cluster/probe failed"
  mv -f "$PROBE_BIN.tmp" "$PROBE_BIN"
  echo "$stamp" >"$PROBE_BIN.src"
  timing "build probe" "$t0"
}
