#!/usr/bin/env bash
# tests/env/deps.sh — install everything sluice needs to build, test and run
# on a fresh Debian 12 (or Ubuntu) machine. Idempotent: a second run changes
# nothing and takes well under a second.
#
# What:
#  1. Debian packages: the build (compiler, CMake, libraries, llhttp sources),
#     MariaDB server + client, the S3 clients (awscli, s3cmd), wrk, a
#     throw-away Ceph RADOS Gateway (ceph-mon ceph-osd radosgw ceph-common),
#     nginx-light, systemd (for `systemd-analyze verify`), curl, Node.js + npm,
#     and Debian's chromium for the web console's browser test (the biggest
#     item: ~100 MB to download, ~300 MB installed, once per machine).
#     apt is skipped entirely when dpkg-query reports every package installed,
#     so no network and no root are needed on a ready machine. sudo is used only
#     when not root.
#  2. npm `@20minutes/s3rver@4.0.4` into var/npm/ (an npm --prefix, so nothing
#     lands in the repository root), skipped when that version is there, and
#     the launcher var/npm/s3rver-cli.js (the tarball lacks the bin/ its
#     package.json declares — see /work/shared/ENVIRONMENT.md).
#  3. npm `playwright-core` (no browsers of its own: it drives /usr/bin/chromium)
#     into var/npm/ the same way, for tests/integration/console.
#
# Node.js: s3rver 4 needs node >= 20. A machine that already has node and npm
# (e.g. NodeSource's nodejs, which bundles npm and conflicts with Debian's
# `npm` package) keeps them; Debian 12's own nodejs is 18, so when the node on
# PATH is older than 20 a node 20 binary is installed from the npm registry
# (package node-linux-<arch>) into var/npm, and tests/env/s3rver.sh uses it.
set -euo pipefail
FIXTURE=deps
# shellcheck source=tests/env/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

S3RVER_PKG=@20minutes/s3rver
S3RVER_VERSION=4.0.4
PLAYWRIGHT_PKG=playwright-core
PLAYWRIGHT_VERSION=1.65.1

APT_PACKAGES=(
  # build
  build-essential cmake pkg-config libuv1-dev libcurl4-openssl-dev libssl-dev
  libmariadb-dev libsimdjson-dev zlib1g-dev node-llhttp libinih-dev libfmt-dev
  libspdlog-dev libcli11-dev libfast-float-dev libgtest-dev libgmock-dev
  libbenchmark-dev
  # services and clients for tests, the dev server and benchmarks
  mariadb-server mariadb-client awscli s3cmd wrk
  ceph-mon ceph-osd radosgw ceph-common uuid-runtime
  nginx-light systemd curl ca-certificates openssl
  # the web console's end-to-end test (tests/integration/console)
  chromium
)
# Node.js + npm: only when missing (see the header).
command -v node >/dev/null 2>&1 || APT_PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(npm)

as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "not root and no sudo: run as root: $*"
  fi
}

install_apt_packages() {
  local missing=() pkg status
  for pkg in "${APT_PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [[ $status == installed ]] || missing+=("$pkg")
  done
  if (( ${#missing[@]} == 0 )); then
    log "apt: all ${#APT_PACKAGES[@]} packages already installed"
    return 0
  fi
  log "apt: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${missing[@]}"
}

node_major() { "${1:-node}" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

npm_install() {
  # --prefix keeps node_modules and package.json under var/npm; quiet output.
  npm install --prefix "$SLUICE_NPM_PREFIX" --save-exact --no-audit --no-fund --loglevel=error "$@"
}

install_node20_if_needed() {
  local major
  major=$(node_major node)
  (( major >= 20 )) && return 0
  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) die "node $major is older than 20 and there is no node-linux package for $(uname -m)" ;;
  esac
  if (( $(node_major "$SLUICE_NPM_PREFIX/node_modules/node-linux-$arch/bin/node") >= 20 )); then
    return 0
  fi
  log "npm: node on PATH is $major (< 20, too old for s3rver 4): installing node-linux-$arch@20 into var/npm"
  npm_install "node-linux-$arch@20"
}

install_s3rver() {
  mkdir -p "$SLUICE_NPM_PREFIX"
  local pkg_json="$SLUICE_NPM_PREFIX/node_modules/$S3RVER_PKG/package.json" have=""
  [[ -f $pkg_json ]] && have=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$pkg_json" | head -n1)
  if [[ $have == "$S3RVER_VERSION" ]]; then
    log "npm: $S3RVER_PKG@$have already in var/npm"
  else
    log "npm: installing $S3RVER_PKG@$S3RVER_VERSION into var/npm"
    npm_install "$S3RVER_PKG@$S3RVER_VERSION"
  fi
  local launcher="$SLUICE_NPM_PREFIX/s3rver-cli.js"
  local line="require('@20minutes/s3rver/lib/cli.js').parseAsync(process.argv).catch(e=>{console.error(e);process.exit(1)});"
  if [[ ! -f $launcher || $(<"$launcher") != "$line" ]]; then
    printf '%s\n' "$line" >"$launcher"
    log "npm: wrote var/npm/s3rver-cli.js"
  fi
}

install_playwright_core() {
  local pkg_json="$SLUICE_NPM_PREFIX/node_modules/$PLAYWRIGHT_PKG/package.json" have=""
  [[ -f $pkg_json ]] && have=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$pkg_json" | head -n1)
  if [[ $have == "$PLAYWRIGHT_VERSION" ]]; then
    log "npm: $PLAYWRIGHT_PKG@$have already in var/npm"
  else
    log "npm: installing $PLAYWRIGHT_PKG@$PLAYWRIGHT_VERSION into var/npm"
    mkdir -p "$SLUICE_NPM_PREFIX"
    npm_install "$PLAYWRIGHT_PKG@$PLAYWRIGHT_VERSION"
  fi
}

install_apt_packages
install_node20_if_needed
install_s3rver
install_playwright_core
log "ready"
