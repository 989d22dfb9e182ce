# shellcheck shell=bash disable=SC2034  # (variables here are used by the scripts that source this file)
# Container images built locally, without docker: a layer is a plain tar of a directory, an image is an
# archive in `docker save` format (manifest.json + config JSON + layer tars), which `ctr images import` reads
# directly. No daemon, no iptables changes, no registry. Archives are cached in $IMAGE_CACHE with a stamp of
# their inputs, so an unchanged image is not rebuilt.
#
# Debian-based images (postgres, redis) start from a debootstrap'ed bookworm rootfs; the rootfs tarballs are
# cached under $IMAGE_CACHE/rootfs. Requires lib/common.sh and lib/build.sh.

DEBIAN_SUITE=bookworm
DEBIAN_MIRROR="${MCP_LOCAL_CLUSTER_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DEBIAN_SECURITY_MIRROR="${MCP_LOCAL_CLUSTER_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"

COREDNS_IMAGE="local/coredns:$COREDNS_VERSION"
PROBE_IMAGE="local/probe:1"
POSTGRES_IMAGE="local/postgres:15"
REDIS_IMAGE="local/redis:7"
REGISTRY_IMAGE="${MCP_REGISTRY_IMAGE:-mcp-registry:local}"
BASE_PATH_ENV="PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# img_tmpdir — a scratch dir on the cache's filesystem (so layers can be hard-linked) in $REPLY, removed on exit.
img_tmpdir() {
  mkdir -p "$IMAGE_CACHE/tmp"
  REPLY=$(mktemp -d "$IMAGE_CACHE/tmp/build.XXXXXX")
  remove_on_exit "$REPLY"
}

# make_layer OUT DIR [PATH...] — tar DIR (or only PATHs inside it) as a layer: numeric owners, sorted, fixed
# mtimes, so an unchanged input gives an identical layer digest.
make_layer() {
  local out=$1 dir=$2; shift 2
  # The "./" entry sets the container's / permissions: make them the usual 0755 whatever the umask was.
  [ $# -gt 0 ] || { chmod 0755 "$dir"; set -- .; }
  tar --sort=name --numeric-owner --mtime=@0 --format=gnu -C "$dir" -cf "$out" "$@"
}

# write_image_archive OUT REF CONFIG_JSON LAYER... — a `docker save` archive of one image, tagged REF.
write_image_archive() {
  local out=$1 ref=$2 config=$3; shift 3
  local tmp; img_tmpdir; tmp=$REPLY
  local diff_ids=() paths=() l sum
  for l in "$@"; do
    sum=$(sha256sum "$l" | cut -d' ' -f1)
    mkdir -p "$tmp/$sum"
    ln "$l" "$tmp/$sum/layer.tar" 2>/dev/null || cp "$l" "$tmp/$sum/layer.tar"
    diff_ids+=("sha256:$sum"); paths+=("$sum/layer.tar")
  done
  jq -n --argjson cfg "$config" \
    '{architecture: "amd64", os: "linux", created: "1970-01-01T00:00:00Z", config: $cfg,
      rootfs: {type: "layers", diff_ids: $ARGS.positional}}' --args "${diff_ids[@]}" >"$tmp/config.json"
  local csum; csum=$(sha256sum "$tmp/config.json" | cut -d' ' -f1)
  mv "$tmp/config.json" "$tmp/$csum.json"
  jq -n --arg c "$csum.json" --arg ref "$ref" '[{Config: $c, RepoTags: [$ref], Layers: $ARGS.positional}]' \
    --args "${paths[@]}" >"$tmp/manifest.json"
  (cd "$tmp" && tar -cf "$out.tmp" manifest.json "$csum.json" "${paths[@]}") || die "could not write $out"
  mv -f "$out.tmp" "$out"
}

# image_cached NAME STAMP — the archive $IMAGE_CACHE/NAME.tar exists and was built from inputs hashing to STAMP.
image_cached() { [ -f "$IMAGE_CACHE/$1.tar" ] && [ "$(cat "$IMAGE_CACHE/$1.tar.stamp" 2>/dev/null)" = "$2" ]; }
image_done() { echo "$2" >"$IMAGE_CACHE/$1.tar.stamp"; }
hash_of() { cat "$@" | sha256sum | cut -c1-32; }

# --- images from single static binaries --------------------------------------------------------------------

# The sandbox ("pause") image: Debian's static catatonit as /pause, in pause mode.
build_pause_image() {
  local stamp; stamp=$(hash_of /usr/bin/catatonit <(echo "$PAUSE_IMAGE v1"))
  image_cached pause "$stamp" && return 0
  local t0 tmp; t0=$(now_ms); img_tmpdir; tmp=$REPLY
  mkdir -p "$tmp/root"
  install -m 0755 /usr/bin/catatonit "$tmp/root/pause"
  make_layer "$tmp/layer.tar" "$tmp/root"
  write_image_archive "$IMAGE_CACHE/pause.tar" "$PAUSE_IMAGE" \
    '{"Entrypoint": ["/pause", "-P"], "User": "65535:65535", "Env": ["'"$BASE_PATH_ENV"'"]}' "$tmp/layer.tar"
  image_done pause "$stamp"
  timing "image $PAUSE_IMAGE" "$t0"
}

build_coredns_image() {
  local stamp; stamp=$(hash_of "$COREDNS_BIN" <(echo "$COREDNS_IMAGE v1"))
  image_cached coredns "$stamp" && return 0
  local t0 tmp; t0=$(now_ms); img_tmpdir; tmp=$REPLY
  mkdir -p "$tmp/root"
  install -m 0755 "$COREDNS_BIN" "$tmp/root/coredns"
  make_layer "$tmp/layer.tar" "$tmp/root"
  write_image_archive "$IMAGE_CACHE/coredns.tar" "$COREDNS_IMAGE" \
    '{"Entrypoint": ["/coredns"], "User": "65532:65532", "ExposedPorts": {"53/udp": {}, "53/tcp": {}},
      "Env": ["'"$BASE_PATH_ENV"'"]}' "$tmp/layer.tar"
  image_done coredns "$stamp"
  timing "image $COREDNS_IMAGE" "$t0"
}

build_probe_image() {
  local stamp; stamp=$(hash_of "$PROBE_BIN" <(echo "$PROBE_IMAGE v1"))
  image_cached probe "$stamp" && return 0
  local t0 tmp; t0=$(now_ms); img_tmpdir; tmp=$REPLY
  mkdir -p "$tmp/root"
  install -m 0755 "$PROBE_BIN" "$tmp/root/probe"
  make_layer "$tmp/layer.tar" "$tmp/root"
  write_image_archive "$IMAGE_CACHE/probe.tar" "$PROBE_IMAGE" \
    '{"Entrypoint": ["/probe"], "Cmd": ["serve"], "User": "65532:65532", "ExposedPorts": {"8080/tcp": {}},
      "Env": ["'"$BASE_PATH_ENV"'"]}' "$tmp/layer.tar"
  image_done probe "$stamp"
  timing "image $PROBE_IMAGE" "$t0"
}

# build_registry_image BINARY [NAME] — image $REGISTRY_IMAGE: BINARY as /usr/local/bin/mcp-registry (the
# entrypoint), user 65532:65532, /etc/passwd and /etc/group naming that user, CA certificates, /tmp and /data
# writable by it. Output: $IMAGE_CACHE/NAME.tar (default mcp-registry.tar, which `up` imports).
build_registry_image() {
  local bin=$1 name=${2:-mcp-registry}
  if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then die "not an executable file: $bin"; fi
  # A dynamically linked binary would fail at start in an image without a libc: refuse it here.
  if readelf -l "$bin" 2>/dev/null | grep 'Requesting program interpreter' >/dev/null; then
    die "$bin is dynamically linked; the image has no libc — build it statically (e.g. RUSTFLAGS=\"-C target-feature=+crt-static\")"
  fi
  [ -s /etc/ssl/certs/ca-certificates.crt ] || ensure_apt ca-certificates
  local stamp; stamp=$(hash_of "$bin" /etc/ssl/certs/ca-certificates.crt <(echo "$REGISTRY_IMAGE v1"))
  image_cached "$name" "$stamp" && { log "image $REGISTRY_IMAGE up to date ($IMAGE_CACHE/$name.tar)"; return 0; }
  local t0 tmp; t0=$(now_ms); img_tmpdir; tmp=$REPLY
  local r="$tmp/root"
  mkdir -p "$r/usr/local/bin" "$r/etc/ssl/certs" "$r/tmp" "$r/data"
  # Stripped: the scripts' build is the test profile's (line tables for backtraces), not needed in the image.
  command -v strip >/dev/null || ensure_apt binutils
  strip -o "$r/usr/local/bin/mcp-registry" "$bin" || die "strip $bin failed"
  chmod 0755 "$r/usr/local/bin/mcp-registry"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/data:/sbin/nologin\n' >"$r/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$r/etc/group"
  # glibc-based static binaries consult nsswitch.conf for name resolution; musl/Go ignore it.
  printf 'hosts: files dns\n' >"$r/etc/nsswitch.conf"
  install -m 0644 /etc/ssl/certs/ca-certificates.crt "$r/etc/ssl/certs/ca-certificates.crt"
  chmod 1777 "$r/tmp"
  chown 65532:65532 "$r/data"; chmod 0775 "$r/data"
  make_layer "$tmp/layer.tar" "$r"
  write_image_archive "$IMAGE_CACHE/$name.tar" "$REGISTRY_IMAGE" \
    '{"Entrypoint": ["/usr/local/bin/mcp-registry"], "User": "65532:65532",
      "Env": ["'"$BASE_PATH_ENV"'", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"]}' "$tmp/layer.tar"
  image_done "$name" "$stamp"
  timing "image $REGISTRY_IMAGE" "$t0"
}

# --- Debian-based images -----------------------------------------------------------------------------------

# The minbase bookworm rootfs every Debian image starts from (cached tarball).
ensure_minbase() {
  local out="$IMAGE_CACHE/rootfs/minbase-$DEBIAN_SUITE.tar"
  [ -f "$out" ] && return 0
  ensure_apt debootstrap
  local t0 tmp; t0=$(now_ms); img_tmpdir; tmp=$REPLY
  log "debootstrap --variant=minbase $DEBIAN_SUITE (cached afterwards in $out)"
  debootstrap --variant=minbase "$DEBIAN_SUITE" "$tmp/root" "$DEBIAN_MIRROR" >"$tmp/debootstrap.log" 2>&1 \
    || { tail -n 30 "$tmp/debootstrap.log" >&2; die "debootstrap failed"; }
  # debootstrap leaves the downloaded .debs in the apt cache.
  rm -f "$tmp"/root/var/cache/apt/archives/*.deb
  mkdir -p "$(dirname "$out")"
  tar --numeric-owner -C "$tmp/root" -cf "$out.tmp" . && mv -f "$out.tmp" "$out"
  timing "debootstrap minbase $DEBIAN_SUITE" "$t0"
}

# in_root ROOT CMD... — run CMD inside the rootfs (chroot, no mounts needed for apt/dpkg here).
in_root() { local r=$1; shift; chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"; }

# debian_rootfs NAME SETUP_FN — $IMAGE_CACHE/rootfs/NAME.tar: minbase + what SETUP_FN ROOT installs. Cached,
# keyed by the setup function's text, so editing the recipe rebuilds that rootfs only.
debian_rootfs() {
  local name=$1 setup=$2
  local out="$IMAGE_CACHE/rootfs/$name-$DEBIAN_SUITE.tar"
  local stamp; stamp=$(hash_of <(declare -f "$setup" _rootfs_apt_begin _rootfs_apt_end))
  if [ -f "$out" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$stamp" ]; then return 0; fi
  ensure_minbase
  local t0 tmp; t0=$(now_ms); img_tmpdir; tmp=$REPLY
  mkdir -p "$tmp/root"
  tar --numeric-owner -C "$tmp/root" -xf "$IMAGE_CACHE/rootfs/minbase-$DEBIAN_SUITE.tar"
  log "building rootfs $name ($DEBIAN_SUITE + packages; cached afterwards in $out)"
  _rootfs_apt_begin "$tmp/root"
  "$setup" "$tmp/root" >"$tmp/setup.log" 2>&1 || { tail -n 40 "$tmp/setup.log" >&2; die "rootfs $name: $setup failed"; }
  _rootfs_apt_end "$tmp/root"
  tar --numeric-owner -C "$tmp/root" -cf "$out.tmp" . && mv -f "$out.tmp" "$out"
  echo "$stamp" >"$out.stamp"
  timing "rootfs $name ($(du -sh "$out" | cut -f1))" "$t0"
}

_rootfs_apt_begin() {
  local r=$1
  printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n' \
    "$DEBIAN_MIRROR" "$DEBIAN_SUITE" "$DEBIAN_MIRROR" "$DEBIAN_SUITE" "$DEBIAN_SECURITY_MIRROR" "$DEBIAN_SUITE" \
    >"$r/etc/apt/sources.list"
  # Name resolution for apt inside the chroot (removed again below); no service may start during installs.
  cp -L /etc/resolv.conf "$r/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"; chmod 0755 "$r/usr/sbin/policy-rc.d"
  in_root "$r" apt-get update -qq >/dev/null || die "apt-get update in the $DEBIAN_SUITE rootfs failed"
}

_rootfs_apt_end() {
  local r=$1
  in_root "$r" apt-get clean
  rm -f "$r/usr/sbin/policy-rc.d"
  : >"$r/etc/resolv.conf"
  # Documentation, man pages, translations, apt lists and logs are dead weight in an image.
  rm -rf "$r"/var/lib/apt/lists/* "$r"/usr/share/doc/* "$r"/usr/share/man/* "$r"/usr/share/info/* \
    "$r"/usr/share/locale/* "$r"/var/cache/debconf/*-old "$r"/var/log/* "$r"/tmp/* "$r"/var/tmp/*
  # Device nodes debootstrap made for apt; the runtime mounts its own /dev, like for any official image.
  rm -rf "${r:?}"/dev/*
}

APT_INSTALL=(apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold)

# PostgreSQL 15. The postgres user is created first with uid/gid 999 (the official image's), so that
# runAsUser/fsGroup 999 in charts match; no cluster is created at install time (the entrypoint runs initdb).
_setup_postgres() {
  local r=$1
  in_root "$r" groupadd --system --gid 999 postgres
  in_root "$r" useradd --system --uid 999 --gid 999 --home-dir /var/lib/postgresql --shell /bin/bash postgres
  in_root "$r" "${APT_INSTALL[@]}" postgresql-common
  sed -ri 's/#?(create_main_cluster) .*$/\1 = false/' "$r/etc/postgresql-common/createcluster.conf"
  in_root "$r" "${APT_INSTALL[@]}" postgresql-15
  # LLVM (and z3) are only there for JIT-compiling queries: ~130 MB of a ~350 MB image. Without the llvmjit
  # module PostgreSQL simply runs without JIT, which tests never need.
  in_root "$r" dpkg --purge --force-depends libllvm14 libz3-4
  rm -rf "$r"/usr/lib/postgresql/15/lib/llvmjit* "$r"/usr/lib/postgresql/15/lib/bitcode
  # The unix socket dir: writable by any uid that may run the server (sticky + setgid, like the official image).
  mkdir -p "$r/run/postgresql" "$r/var/lib/postgresql/data" "$r/docker-entrypoint-initdb.d"
  chown 999:999 "$r/run/postgresql" "$r/var/lib/postgresql" "$r/var/lib/postgresql/data"
  chmod 3777 "$r/run/postgresql"
  chmod 0700 "$r/var/lib/postgresql/data"
  [ -x "$r/usr/lib/postgresql/15/bin/postgres" ] && [ -x "$r/usr/lib/postgresql/15/bin/pg_isready" ]
}

# Redis 7.0, user redis with uid/gid 999 (the official image's), data in /data.
_setup_redis() {
  local r=$1
  in_root "$r" groupadd --system --gid 999 redis
  in_root "$r" useradd --system --uid 999 --gid 999 --home-dir /data --shell /usr/sbin/nologin redis
  in_root "$r" "${APT_INSTALL[@]}" redis-server
  mkdir -p "$r/data"
  chown 999:999 "$r/data"
  chmod 0755 "$r/data"
  [ -x "$r/usr/bin/redis-server" ] && [ -x "$r/usr/bin/redis-cli" ]
}

# debian_image NAME REF SETUP_FN ENTRYPOINT_SCRIPT CONFIG_JSON — rootfs layer + a layer holding only the
# entrypoint script (so editing the script does not rebuild the rootfs).
debian_image() {
  local name=$1 ref=$2 setup=$3 script=$4 config=$5
  debian_rootfs "$name" "$setup"
  local rootfs="$IMAGE_CACHE/rootfs/$name-$DEBIAN_SUITE.tar"
  local stamp; stamp=$(hash_of "$rootfs.stamp" "$script" <(echo "$ref $config"))
  image_cached "$name" "$stamp" && return 0
  local t0 tmp; t0=$(now_ms); img_tmpdir; tmp=$REPLY
  mkdir -p "$tmp/root/usr/local/bin"
  install -m 0755 "$script" "$tmp/root/usr/local/bin/docker-entrypoint.sh"
  # Only the file, no directory entries: those would override the rootfs's usr/ and usr/local/ metadata.
  make_layer "$tmp/entrypoint.tar" "$tmp/root" ./usr/local/bin/docker-entrypoint.sh
  write_image_archive "$IMAGE_CACHE/$name.tar" "$ref" "$config" "$rootfs" "$tmp/entrypoint.tar"
  image_done "$name" "$stamp"
  timing "image $ref" "$t0"
}

build_postgres_image() {
  debian_image postgres "$POSTGRES_IMAGE" _setup_postgres "$LC_DIR/images/postgres/docker-entrypoint.sh" '{
    "Entrypoint": ["docker-entrypoint.sh"], "Cmd": ["postgres"], "User": "",
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/lib/postgresql/15/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG=C.UTF-8", "PG_MAJOR=15", "PGDATA=/var/lib/postgresql/data"],
    "ExposedPorts": {"5432/tcp": {}}, "Volumes": {"/var/lib/postgresql/data": {}}, "StopSignal": "SIGINT"}'
}

build_redis_image() {
  debian_image redis "$REDIS_IMAGE" _setup_redis "$LC_DIR/images/redis/docker-entrypoint.sh" '{
    "Entrypoint": ["docker-entrypoint.sh"], "Cmd": ["redis-server"], "User": "", "WorkingDir": "/data",
    "Env": ["'"$BASE_PATH_ENV"'", "LANG=C.UTF-8"],
    "ExposedPorts": {"6379/tcp": {}}, "Volumes": {"/data": {}}}'
}

# Image names (cache file names) `up` builds and imports, overridable with MCP_LOCAL_CLUSTER_IMAGES.
read -r -a LOCAL_IMAGES <<<"${MCP_LOCAL_CLUSTER_IMAGES:-pause coredns probe postgres redis}"

build_images() {
  local i
  for i in "${LOCAL_IMAGES[@]}"; do
    case "$i" in
      pause) build_pause_image ;;
      coredns) build_coredns_image ;;
      probe) build_probe_image ;;
      postgres) build_postgres_image ;;
      redis) build_redis_image ;;
      *) die "unknown image '$i' in MCP_LOCAL_CLUSTER_IMAGES (known: pause coredns probe postgres redis)" ;;
    esac
  done
}

# import_image_archive TAR — into our containerd's k8s.io namespace (the one the kubelet's CRI uses).
import_image_archive() {
  ctr --address "$CONTAINERD_SOCK" --namespace k8s.io images import "$1" >/dev/null \
    || die "ctr images import $1 failed"
}
