#!/bin/sh
# Build pythond's container images locally, without any container registry.
#
#   sh docker/build-images.sh [--force] [--refresh-rootfs] [IMAGE...]
#
#   IMAGE             which images to build: python (collectors), runner
#                     (pythond itself, for compose.yaml), prometheus and
#                     victoria-metrics (compose.full.yaml), etcd
#                     (compose.cluster.yaml); default: python runner
#   --force           rebuild even if the image already exists (also PYTHOND_REBUILD=1)
#   --refresh-rootfs  re-run debootstrap instead of using the cached tree
#                     (also PYTHOND_REFRESH_ROOTFS=1)
#
# Environment:
#   PYTHOND_DEBIAN_MIRROR  Debian mirror URL for debootstrap; default: read from
#                          the host's apt sources
#   PYTHOND_CACHE_DIR      cache for bootstrapped trees; default:
#                          ${XDG_CACHE_HOME:-$HOME/.cache}/pythond
#   PYTHOND_CA_BUNDLE      CA bundle copied into images; default: the host's
#                          /etc/ssl/certs/ca-certificates.crt
#
# Images are made from a debootstrap'ed Debian tree piped into `docker import`,
# because `docker pull` / `FROM` need a registry. Where a registry IS reachable,
# docker/python/Dockerfile builds an equivalent image (see docker/README.md).
# The runner image is the repository's Dockerfile, built on a local Node 20
# base made the same way (the node binary comes from the npm registry).
#
# Plain sh (dash on Debian; `local` is the only non-POSIX feature used): no
# pipefail, no arrays.
set -eu

SCRIPT_PATH=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
REPO_DIR=$(dirname "$(dirname "$SCRIPT_PATH")")

SUITE=bookworm
VARIANT=minbase
PYTHON_IMAGE=pythond-python:3
# python3-requests depends on python3 -> libpython3.11-stdlib, which carries
# _ctypes, _ssl, select, etc.; verify_python_image checks they really made it.
# python3-pip-whl is pip as one wheel (1.7 MB): pythond installs an input's
# requirements.txt with it, so a build from a folder of wheels needs no
# network at all.
PYTHON_INCLUDES=python3-minimal,python3-requests,python3-pip-whl
COLLECTOR_UID=10001
COLLECTOR_GID=10001
IMAGE_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

CACHE_DIR=${PYTHOND_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/pythond}
HOST_CA_BUNDLE=${PYTHOND_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
# The runner: the repository's Dockerfile, built on two local bases (the
# Dockerfile's BASE and BUILD_BASE). The node binary is the official build,
# shipped in the npm registry's node-linux-<arch> package; exact versions, so
# that CI builds what a developer built.
NODE_VERSION=20.20.2
NPM_VERSION=10.9.9
NODE_INCLUDES=ca-certificates
NODE_IMAGE=pythond-node:20              # bookworm + node: the runtime base
NODE_BUILD_IMAGE=pythond-node:20-build  # + npm: the build stage's base
RUNNER_IMAGE=pythond-runner:latest
RUNNER_BUILD_IMAGE=pythond-runner:build # the Dockerfile's build stage, kept as build cache
# compose.full.yaml: Debian's own packages.
PROMETHEUS_IMAGE=pythond-prometheus:bookworm
VICTORIA_METRICS_IMAGE=pythond-victoria-metrics:bookworm
# compose.cluster.yaml: Debian's etcd-server.
ETCD_IMAGE=pythond-etcd:bookworm

ALL_IMAGES="python runner prometheus victoria-metrics etcd"
DEFAULT_IMAGES="python runner"   # what `docker compose up` needs

FORCE=${PYTHOND_REBUILD:-0}
REFRESH_ROOTFS=${PYTHOND_REFRESH_ROOTFS:-0}
WORK_DIR=
ROOTFS_TARBALL=
NPM_TARBALL=

# --------------------------------------------------------------------------
# helpers

step() { printf '==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die()  { printf 'build-images: error: %s\n' "$*" >&2; exit 1; }

usage() {
    sed -n '2,20s/^# \{0,1\}//p' "$SCRIPT_PATH"
}

cleanup() {
    if [ -n "$WORK_DIR" ] && [ -d "$WORK_DIR" ]; then
        unmount_below "$WORK_DIR"
        rm -rf "$WORK_DIR"
    fi
}

# debootstrap mounts /proc and /sys inside the target while it runs and
# unmounts them at the end; if it died half way they may still be mounted, and
# `rm -rf` must never descend into a live /proc or /sys.
unmount_below() {
    awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r |
        while read -r m; do umount -l "$m" || true; done
}

sha256_of() { cat "$@" | sha256sum | cut -c1-16; }

# Report IMAGE's size and the seconds since STARTED.
built() {
    local size
    size=$(docker image inspect --format '{{.Size}}' "$1")
    step "$1 built: $((size / 1000000)) MB in $(( $(date +%s) - $2 )) s"
}

require_docker() {
    command -v docker >/dev/null 2>&1 ||
        die "docker is missing; install with: apt-get install -y debootstrap docker.io"
    docker info >/dev/null 2>&1 ||
        die "docker is installed but the daemon is not answering (start it: nohup dockerd > /var/log/dockerd.log 2>&1 &)"
}

require_build_tools() {
    command -v debootstrap >/dev/null 2>&1 ||
        die "debootstrap is missing; install with: apt-get install -y debootstrap docker.io"
    [ "$(id -u)" = 0 ] ||
        die "building the rootfs needs root (debootstrap, file ownership); run as root"
}

# Print the Debian mirror to bootstrap from. The mirror is never written into
# this repository: it comes from PYTHOND_DEBIAN_MIRROR or the host's apt
# sources. Preference: a source listing $SUITE itself; else, on a Debian host,
# the first non-security source (a Debian mirror carries every suite).
# deb822 (*.sources) and one-line (*.list) formats are both understood.
detect_mirror() {
    if [ -n "${PYTHOND_DEBIAN_MIRROR:-}" ]; then
        printf '%s\n' "$PYTHOND_DEBIAN_MIRROR"
        return
    fi
    local candidates mirror
    candidates=$(list_apt_sources)
    # candidates: one "URI SUITE..." line per enabled `deb` source
    mirror=$(printf '%s\n' "$candidates" | awk -v s="$SUITE" '
        { for (i = 2; i <= NF; i++) if ($i == s) { print $1; exit } }')
    if [ -z "$mirror" ] && grep -qs '^ID=debian$' /etc/os-release; then
        mirror=$(printf '%s\n' "$candidates" | awk '
            NF >= 2 && $2 !~ /-security$/ { print $1; exit }')
    fi
    [ -n "$mirror" ] ||
        die "no Debian mirror for '$SUITE' in the host's apt sources; set PYTHOND_DEBIAN_MIRROR=<url>"
    printf '%s\n' "$mirror"
}

list_apt_sources() {
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        # deb822: blank-line separated stanzas, "Field: value", continuation
        # lines start with whitespace, '#' lines are comments (they may hold
        # URLs that are NOT the source, e.g. snapshot hints).
        awk '
            function flush() {
                if (types ~ /(^| )deb( |$)/ && tolower(enabled) != "no" && uri != "")
                    print uri, suites
                types = ""; uris = ""; suites = ""; enabled = ""; uri = ""; key = ""
            }
            /^#/ { next }
            /^[ \t]*$/ { flush(); next }
            /^[ \t]/ { val = $0; sub(/^[ \t]+/, "", val); add(key, val); next }
            {
                key = tolower($0); sub(/:.*/, "", key)
                val = $0; sub(/^[^:]*:[ \t]*/, "", val); add(key, val)
            }
            function add(k, v) {
                if (k == "types") types = types " " v
                else if (k == "suites") suites = suites " " v
                else if (k == "enabled") enabled = v
                else if (k == "uris" && uri == "") { split(v, a, /[ \t]+/); uri = a[1] }
            }
            END { flush() }
        ' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        # one-line: deb [opt=val ...] URI SUITE COMPONENT...
        awk '
            $1 != "deb" { next }
            {
                i = 2
                if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                if (i + 1 <= NF) print $i, $(i + 1)
            }
        ' "$f"
    done | awk '$1 ~ /^(https?|file):/'
}

# --------------------------------------------------------------------------
# rootfs: debootstrap once, cache the tree as a tarball outside the repo

# Set ROOTFS_TARBALL to a cached, unmodified debootstrap tree for INCLUDES,
# bootstrapping it first if needed. Cache key: suite/variant/arch/packages.
# The tree is stored raw (minus the downloaded .debs) so that slimming and
# customisation, which live in this script, are re-applied on every build.
ensure_rootfs_tarball() {
    local includes=$1 arch tarball mirror tree log
    arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
    tarball="$CACHE_DIR/rootfs-$SUITE-$VARIANT-$arch-$(printf '%s' "$includes" | sha256_of).tar"
    if [ -f "$tarball" ] && [ "$REFRESH_ROOTFS" != 1 ]; then
        step "using cached debootstrap tree $tarball"
        ROOTFS_TARBALL=$tarball
        return
    fi
    require_build_tools
    mirror=$(detect_mirror)
    step "debootstrap --variant=$VARIANT --include=$includes $SUITE from $mirror (about a minute)"
    tree="$WORK_DIR/bootstrap"
    log="$CACHE_DIR/debootstrap.log"
    if ! debootstrap --variant="$VARIANT" --include="$includes" \
            "$SUITE" "$tree" "$mirror" >"$log" 2>&1; then
        tail -n 25 "$log" >&2
        [ -f "$tree/debootstrap/debootstrap.log" ] && tail -n 25 "$tree/debootstrap/debootstrap.log" >&2
        die "debootstrap failed (full log: $log)"
    fi
    unmount_below "$tree"
    # The .debs are only needed during bootstrap (~40 MB).
    rm -f "$tree"/var/cache/apt/archives/*.deb
    step "caching the tree as $tarball"
    tar --numeric-owner -C "$tree" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$tree"
    ROOTFS_TARBALL=$tarball
}

# Set NPM_TARBALL to the tarball of SPEC (name@version) from the npm registry,
# fetched once into the cache with the host's npm (and its registry settings).
fetch_npm_tarball() {
    local spec=$1 dir="$CACHE_DIR/npm"
    NPM_TARBALL="$dir/${spec%@*}-${spec##*@}.tgz"
    [ -f "$NPM_TARBALL" ] && return
    command -v npm >/dev/null 2>&1 ||
        die "npm is missing; it fetches $spec from the npm registry (install Node 20 with npm)"
    step "npm pack $spec"
    mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "$spec" >/dev/null) || die "npm pack $spec failed"
    [ -f "$NPM_TARBALL" ] || die "npm pack $spec did not leave $NPM_TARBALL"
}

unpack_rootfs() {
    local tarball=$1 dir=$2
    mkdir -p "$dir"
    tar --numeric-owner -C "$dir" -xf "$tarball"
}

# Remove what a container never needs: package caches and indexes, docs, man
# pages, translations, logs, and files debootstrap copied from the host
# (resolv.conf, hostname; docker bind-mounts its own). Copyright files stay.
slim_rootfs() {
    local dir=$1
    rm -rf "$dir"/var/cache/apt/* "$dir"/var/lib/apt/lists/* \
           "$dir"/var/cache/debconf/*-old "$dir"/var/lib/dpkg/*-old \
           "$dir"/usr/share/man "$dir"/usr/share/info "$dir"/usr/share/lintian \
           "$dir"/usr/share/locale/* "$dir"/usr/share/bug \
           "$dir"/usr/share/doc-base "$dir"/usr/share/bash-completion \
           "$dir"/var/log/* "$dir"/debootstrap \
           "$dir"/etc/resolv.conf "$dir"/etc/hostname \
           "$dir"/dev/* "$dir"/run/* "$dir"/tmp/* "$dir"/root/.??* 2>/dev/null || true
    find "$dir"/usr/share/doc -mindepth 1 ! -type d ! -name copyright -delete
    find "$dir"/usr/share/doc -mindepth 1 -type d -empty -delete
    # Keep them out if someone later runs apt-get inside a derived image.
    mkdir -p "$dir"/etc/dpkg/dpkg.cfg.d
    cat >"$dir"/etc/dpkg/dpkg.cfg.d/pythond-slim <<'EOF'
# added by pythond docker/build-images.sh: keep the image slim
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-exclude=/usr/share/lintian/*
EOF
}

# The host's CA bundle goes in as the system bundle: outbound HTTPS may pass an
# intercepting proxy whose CA only the host trusts.
install_ca_bundle() {
    local dir=$1
    [ -r "$HOST_CA_BUNDLE" ] || die "CA bundle $HOST_CA_BUNDLE not readable (set PYTHOND_CA_BUNDLE)"
    mkdir -p "$dir$(dirname "$IMAGE_CA_BUNDLE")"
    rm -f "$dir$IMAGE_CA_BUNDLE"
    cp "$HOST_CA_BUNDLE" "$dir$IMAGE_CA_BUNDLE"
    chmod 0644 "$dir$IMAGE_CA_BUNDLE"
}

# Collectors run as an unprivileged, fixed uid/gid so the runner can pass
# `--user 10001:10001` and files it sees have a predictable owner. Home is
# /tmp: the only writable place under `--read-only --tmpfs /tmp`.
# Every image starts the same way: the cached debootstrap tree, unpacked
# into $1, slimmed, with the host's CA bundle in it.
prepare_tree() {
    step "unpacking the tree"
    unpack_rootfs "$ROOTFS_TARBALL" "$1"
    step "slimming (apt caches, docs, man pages, locales, logs)"
    slim_rootfs "$1"
    step "installing host CA bundle at $IMAGE_CA_BUNDLE"
    install_ca_bundle "$1"
}

add_collector_user() {
    local dir=$1
    grep -q '^collector:' "$dir/etc/passwd" || printf 'collector:x:%s:%s:pythond collector:/tmp:/usr/sbin/nologin\n' \
        "$COLLECTOR_UID" "$COLLECTOR_GID" >>"$dir/etc/passwd"
    grep -q '^collector:' "$dir/etc/group" || printf 'collector:x:%s:\n' "$COLLECTOR_GID" >>"$dir/etc/group"
    grep -q '^collector:' "$dir/etc/shadow" || printf 'collector:!*::::::::\n' >>"$dir/etc/shadow"
}

# Stream DIR into `docker import` as IMAGE with the given --change options
# (passed through as "$@"). dash has no pipefail, so tar's status is carried
# out of the pipeline in a file.
import_tree() {
    local dir=$1 image=$2 status old_id new_id
    shift 2
    status="$WORK_DIR/tar.status"
    old_id=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
    { tar --numeric-owner -C "$dir" -cf - . || echo failed >"$status"; } |
        docker import "$@" - "$image" >/dev/null
    [ ! -f "$status" ] || die "tar of $dir failed"
    new_id=$(docker image inspect --format '{{.Id}}' "$image")
    # The tag moved; drop the previous image unless a container still uses it.
    if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
        docker rmi "$old_id" >/dev/null 2>&1 || true
    fi
}

# Decide whether IMAGE must be (re)built. Images built by this script carry
# io.pythond.recipe = hash of this script + CA bundle; when that changes the
# image is rebuilt (from the cached tree: seconds). Images without the label
# (e.g. from docker/python/Dockerfile) are left alone unless --force.
needs_build() {
    local image=$1 recipe=$2 have
    if [ "$FORCE" = 1 ]; then
        step "$image: --force given, rebuilding"
        return 0
    fi
    if ! docker image inspect "$image" >/dev/null 2>&1; then
        step "$image: not present, building"
        return 0
    fi
    have=$(docker image inspect --format '{{index .Config.Labels "io.pythond.recipe"}}' "$image" 2>/dev/null || true)
    case $have in
        "$recipe") step "$image: up to date (recipe $recipe), skipping" ;;
        ""|"<no value>") step "$image: present (not built by this script), skipping; --force to replace" ;;
        *) step "$image: recipe changed ($have -> $recipe), rebuilding"; return 0 ;;
    esac
    return 1
}

# --------------------------------------------------------------------------
# images

# pythond-python:3: the image every collector runs in.
build_python_image() {
    local recipe started tree
    recipe=$(sha256_of "$SCRIPT_PATH" "$HOST_CA_BUNDLE")
    needs_build "$PYTHON_IMAGE" "$recipe" || return 0
    started=$(date +%s)
    ensure_rootfs_tarball "$PYTHON_INCLUDES"
    tree="$WORK_DIR/python"
    prepare_tree "$tree"
    step "adding user collector ($COLLECTOR_UID:$COLLECTOR_GID, home /tmp)"
    add_collector_user "$tree"
    step "docker import -> $PYTHON_IMAGE"
    import_tree "$tree" "$PYTHON_IMAGE" \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'ENV HOME=/tmp' \
        --change 'ENV PYTHONDONTWRITEBYTECODE=1' \
        --change "ENV SSL_CERT_FILE=$IMAGE_CA_BUNDLE" \
        --change "ENV REQUESTS_CA_BUNDLE=$IMAGE_CA_BUNDLE" \
        --change 'LABEL io.pythond.image=collector' \
        --change "LABEL io.pythond.recipe=$recipe" \
        --change "USER $COLLECTOR_UID:$COLLECTOR_GID" \
        --change 'WORKDIR /tmp' \
        --change 'CMD ["python3"]'
    rm -rf "$tree"
    step "verifying $PYTHON_IMAGE under the runner's sandbox flags"
    if ! verify_python_image "$PYTHON_IMAGE"; then
        docker rmi "$PYTHON_IMAGE" >/dev/null 2>&1 || true
        die "$PYTHON_IMAGE failed verification and was removed"
    fi
    built "$PYTHON_IMAGE" "$started"
}

# Run the image the way the runner does (read-only, no network, no caps) and
# check what collectors and tests rely on: uid, stdlib modules incl. ctypes
# (tests crash the interpreter on purpose), requests, a writable /tmp; and
# what builds of inputs' requirements rely on: venv and the pip wheel.
verify_python_image() {
    local out
    out=$(docker run --rm --read-only --tmpfs /tmp --cap-drop ALL \
        --security-opt no-new-privileges --user "$COLLECTOR_UID:$COLLECTOR_GID" \
        --network none --memory 64m --pids-limit 32 "$1" python3 -c '
import ctypes, io, json, os, select, ssl, subprocess, tarfile, threading
import requests
assert os.getuid() == 10001, os.getuid()
with tarfile.open("/tmp/t.tar", "w") as t:
    data = b"ok"
    info = tarfile.TarInfo("x"); info.size = len(data)
    t.addfile(info, io.BytesIO(data))
with tarfile.open("/tmp/t.tar") as t:
    assert t.extractfile("x").read() == b"ok"
assert subprocess.run(["true"]).returncode == 0
import glob, venv
assert glob.glob("/usr/share/python-wheels/pip-*.whl"), "no pip wheel"
print("ok", os.getuid())
' 2>&1) || { printf '%s\n' "$out" >&2; return 1; }
    info "$out"
}

# pythond-node:20: Debian bookworm minbase with ca-certificates (the host CA
# bundle installed over it) and the official Node 20 binary; the runner's
# runtime base. Node keeps its own CA list, so NODE_EXTRA_CA_CERTS points it at
# the system bundle too. No npm: a running pythond never needs it.
build_node_image() {
    local recipe started tree
    recipe=$(sha256_of "$SCRIPT_PATH" "$HOST_CA_BUNDLE")
    needs_build "$NODE_IMAGE" "$recipe" || return 0
    started=$(date +%s)
    ensure_rootfs_tarball "$NODE_INCLUDES"
    fetch_npm_tarball "node-linux-$(node_arch)@$NODE_VERSION"
    tree="$WORK_DIR/node"
    prepare_tree "$tree"
    step "installing node $NODE_VERSION at /usr/local/bin/node"
    tar -xzf "$NPM_TARBALL" -C "$WORK_DIR" package/bin/node
    install -m 0755 "$WORK_DIR/package/bin/node" "$tree/usr/local/bin/node"
    rm -rf "$WORK_DIR/package"
    step "docker import -> $NODE_IMAGE"
    import_tree "$tree" "$NODE_IMAGE" \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change "ENV NODE_EXTRA_CA_CERTS=$IMAGE_CA_BUNDLE" \
        --change 'LABEL io.pythond.image=node' \
        --change "LABEL io.pythond.recipe=$recipe" \
        --change 'CMD ["node"]'
    rm -rf "$tree"
    step "verifying $NODE_IMAGE"
    if ! verify_node_image "$NODE_IMAGE"; then
        docker rmi "$NODE_IMAGE" >/dev/null 2>&1 || true
        die "$NODE_IMAGE failed verification and was removed"
    fi
    built "$NODE_IMAGE" "$started"
}

verify_node_image() {
    local out
    out=$(docker run --rm --read-only --cap-drop ALL --network none --user 65534:65534 "$1" node -e '
const tls = require("node:tls");
if (process.versions.node !== process.argv[1]) throw new Error(`node ${process.versions.node}`);
require("node:fs").accessSync(process.env.NODE_EXTRA_CA_CERTS);
console.log("ok node", process.versions.node, "openssl", process.versions.openssl, tls.rootCertificates.length, "built-in CAs");
' "$NODE_VERSION" 2>&1) || { printf '%s\n' "$out" >&2; return 1; }
    info "$out"
}

node_arch() {
    case $(dpkg --print-architecture 2>/dev/null || uname -m) in
        amd64|x86_64) echo x64 ;;
        arm64|aarch64) echo arm64 ;;
        *) die "no node-linux-* package for this architecture ($(uname -m))" ;;
    esac
}

# pythond-runner:latest: the repository's Dockerfile on the local bases. Always
# run: docker's layer cache makes it a few seconds when nothing changed, and
# the image never lags behind the sources it is built from.
build_runner_image() {
    local started context log label out
    build_node_image
    started=$(date +%s)
    fetch_npm_tarball "npm@$NPM_VERSION"
    log="$CACHE_DIR/runner-build.log"
    step "docker build -> $NODE_BUILD_IMAGE ($NODE_IMAGE + npm $NPM_VERSION, for the build stage)"
    context="$WORK_DIR/npm"
    mkdir -p "$context"
    tar -xzf "$NPM_TARBALL" -C "$context"
    if ! printf '%s\n' "FROM $NODE_IMAGE" \
            'COPY package /usr/local/lib/node_modules/npm' \
            'RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx' |
            docker build -t "$NODE_BUILD_IMAGE" -f - "$context" >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        die "docker build of $NODE_BUILD_IMAGE failed (full log: $log)"
    fi
    rm -rf "$context"
    step "docker build -> $RUNNER_IMAGE (Dockerfile; log: $log)"
    # The build stage is tagged too: untagged, each source change would leave
    # one behind (~270 MB), and pruning it would throw away the cached npm ci.
    if ! { docker build --target build -t "$RUNNER_BUILD_IMAGE" \
               --build-arg "BASE=$NODE_IMAGE" --build-arg "BUILD_BASE=$NODE_BUILD_IMAGE" "$REPO_DIR" &&
           docker build -t "$RUNNER_IMAGE" \
               --build-arg "BASE=$NODE_IMAGE" --build-arg "BUILD_BASE=$NODE_BUILD_IMAGE" \
               --build-arg "VERSION=$(package_version)" --build-arg "REVISION=$(source_revision)" \
               --build-arg "SOURCE=$(source_url)" "$REPO_DIR"
         } >>"$log" 2>&1; then
        tail -n 30 "$log" >&2
        die "docker build of $RUNNER_IMAGE failed (full log: $log)"
    fi
    # The tags moved: drop the images they left untagged (then the bases
    # those held on to: the node images were replaced while still in use).
    for label in runner runner-build node; do
        docker image prune -f --filter "label=io.pythond.image=$label" >/dev/null
    done
    step "verifying $RUNNER_IMAGE"
    if ! out=$(docker run --rm --network none --entrypoint node "$RUNNER_IMAGE" /app/dist/src/main.js --version 2>&1); then
        printf '%s\n' "$out" >&2
        die "$RUNNER_IMAGE does not start"
    fi
    info "$out"
    built "$RUNNER_IMAGE" "$started"
}

# What the runner image's OCI labels say of the sources: package.json's
# version; the commit, "-dirty" when tracked files changed since, or
# "unknown" outside a git checkout; the URL of the `origin` remote, without
# credentials, or nothing.
package_version() {
    sed -n 's/^  "version": "\(.*\)",$/\1/p' "$REPO_DIR/package.json"
}

source_revision() {
    local commit
    commit=$(git -C "$REPO_DIR" rev-parse HEAD 2>/dev/null) || { echo unknown; return; }
    if git -C "$REPO_DIR" diff --quiet HEAD 2>/dev/null; then echo "$commit"; else echo "$commit-dirty"; fi
}

source_url() {
    git -C "$REPO_DIR" remote get-url origin 2>/dev/null | sed 's#//[^/@]*@#//#' || true
}

# pythond-prometheus:bookworm and pythond-victoria-metrics:bookworm, for
# compose.full.yaml: Debian's packages, run as the system user
# their package created, with the binary as entrypoint. The last argument
# lists what the server never uses (paths in the tree, globs allowed): the
# timezone sources of moment-timezone (212 MB; the web UI loads one bundled
# file), the packages' other command line tools.
build_prometheus_image() {
    build_service_image "$PROMETHEUS_IMAGE" prometheus prometheus /usr/bin/prometheus \
        'usr/share/javascript/moment-timezone/data usr/bin/promtool'
}

build_victoria_metrics_image() {
    build_service_image "$VICTORIA_METRICS_IMAGE" victoria-metrics _victoria-metrics /usr/bin/victoria-metrics \
        'usr/bin/vm*'
}

build_etcd_image() {
    build_service_image "$ETCD_IMAGE" etcd-server etcd /usr/bin/etcd ''
}

build_service_image() {
    local image=$1 package=$2 user=$3 binary=$4 unused=$5 recipe started tree out path
    recipe=$(sha256_of "$SCRIPT_PATH" "$HOST_CA_BUNDLE")
    needs_build "$image" "$recipe" || return 0
    started=$(date +%s)
    ensure_rootfs_tarball "$package"
    tree="$WORK_DIR/$package"
    prepare_tree "$tree"
    for path in $unused; do rm -rf "$tree"/$path; done
    step "docker import -> $image"
    import_tree "$tree" "$image" \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change "LABEL io.pythond.image=$package" \
        --change "LABEL io.pythond.recipe=$recipe" \
        --change "USER $user" \
        --change "ENTRYPOINT [\"$binary\"]"
    rm -rf "$tree"
    step "verifying $image"
    if ! out=$(docker run --rm --network none "$image" --version 2>&1); then
        printf '%s\n' "$out" >&2
        docker rmi "$image" >/dev/null 2>&1 || true
        die "$image failed verification and was removed"
    fi
    info "$(printf '%s\n' "$out" | head -n 1)"
    built "$image" "$started"
}

# --------------------------------------------------------------------------

main() {
    local images= arg image
    for arg in "$@"; do
        case $arg in
            --force) FORCE=1 ;;
            --refresh-rootfs) REFRESH_ROOTFS=1 ;;
            -h|--help) usage; exit 0 ;;
            -*) die "unknown option $arg (see --help)" ;;
            *) case " $ALL_IMAGES " in
                   *" $arg "*) images="$images $arg" ;;
                   *) die "unknown image '$arg' (known: $ALL_IMAGES)" ;;
               esac ;;
        esac
    done
    [ -n "$images" ] || images=$DEFAULT_IMAGES

    require_docker
    mkdir -p "$CACHE_DIR"
    # One build at a time per cache dir (tests or CI may call this in parallel).
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$CACHE_DIR/lock"
        flock 9
    fi
    WORK_DIR=$(mktemp -d "$CACHE_DIR/work.XXXXXX")
    trap cleanup EXIT
    trap 'exit 130' INT TERM

    for image in $images; do
        "build_$(printf %s "$image" | tr - _)_image"
    done
}

main "$@"
