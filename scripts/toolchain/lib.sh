# shellcheck shell=bash
# Shared helpers for scripts/install-pulumi.sh and the component builders in scripts/toolchain/.
# Source it; it defines functions and TC_* variables only.
# shellcheck disable=SC2034 # TC_* variables are used by the scripts that source this file

TC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TC_REPO_ROOT="$(cd "$TC_DIR/../.." && pwd)"
# shellcheck source=scripts/toolchain/versions.sh
. "$TC_DIR/versions.sh"

TC_CACHE="${HARBOR_HA_CACHE:-/var/cache/harbor-ha}"
TC_ROOT="$TC_CACHE/toolchain"
TC_BIN="$TC_ROOT/bin"
TC_LOGS="$TC_ROOT/logs"

tc_now() { date +%s; }
tc_log() { printf '[toolchain] %s\n' "$*" >&2; }
tc_warn() { printf '[toolchain] WARNING: %s\n' "$*" >&2; }
tc_die() {
  printf '[toolchain] ERROR: %s\n' "$*" >&2
  exit 1
}
tc_elapsed() { echo "$(($(tc_now) - $1))s"; }

# The go command, its caches outside the repository, and nothing else of the caller's Go setup that
# would change what is built.
tc_go_env() {
  if ! command -v go >/dev/null 2>&1; then
    if [ -x /usr/local/go/bin/go ]; then
      PATH="/usr/local/go/bin:$PATH"
    else
      tc_die "no 'go' command (Go >= 1.25 is needed to build the Pulumi toolchain from Go modules)"
    fi
  fi
  export GOMODCACHE="${HARBOR_HA_GOMODCACHE:-$TC_CACHE/go/mod}"
  export GOCACHE="${HARBOR_HA_GOCACHE:-$TC_CACHE/go/build}"
  export GOFLAGS="-buildvcs=false -mod=readonly"
  export GOPROXY="${GOPROXY:-https://proxy.golang.org,direct}"
  export CGO_ENABLED=0
  export GOWORK=off
  mkdir -p "$GOMODCACHE" "$GOCACHE"
}

# Directory of a module version in the module cache, downloading it when needed.
tc_mod_dir() {
  local dir
  dir="$(go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
  if [ -z "$dir" ] || [ ! -d "$dir" ]; then
    tc_die "could not download Go module $1"
  fi
  printf '%s\n' "$dir"
}

# tc_component NAME VERSION FUNCTION
# Builds a component once into $TC_ROOT/NAME-VERSION. FUNCTION (from build.sh) runs in a fresh
# `bash -euo pipefail` as `FUNCTION OUTDIR WORKDIR`, with its output in $TC_LOGS/NAME-VERSION.log, and
# must put its files into OUTDIR (lines it writes to OUTDIR/BUILD-INFO.txt follow ours there). The result is moved into place with one rename, so an interrupted
# or failed build never leaves a partial cache. Prints the final directory on stdout; returns
# non-zero when the build fails.
tc_component() {
  local name="$1" version="$2" fn="$3"
  local final="$TC_ROOT/$name-$version"
  if [ -f "$final/.complete" ]; then
    printf '%s\n' "$final"
    return 0
  fi
  local log="$TC_LOGS/$name-$version.log" t0 tmp rc=0
  t0="$(tc_now)"
  mkdir -p "$TC_LOGS" || return 1
  tmp="$(mktemp -d "$TC_ROOT/.tmp-$name-$version.XXXXXX")" || return 1
  mkdir -p "$tmp/out" "$tmp/work" || return 1
  tc_log "building $name $version (log: $log) ..."
  # A separate bash process, so that `set -e` holds inside FUNCTION whatever the caller's context.
  bash -euo pipefail -c '. "$1/lib.sh"; . "$1/build.sh"; "$2" "$3" "$4"' \
    tc-build "$TC_DIR" "$fn" "$tmp/out" "$tmp/work" >"$log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    tc_warn "building $name $version failed after $(tc_elapsed "$t0"); last lines of $log:"
    tail -n 25 "$log" | sed 's/^/[toolchain]   | /' >&2
    chmod -R u+w "$tmp" 2>/dev/null
    rm -rf "$tmp"
    return "$rc"
  fi
  # Our lines first, then any that FUNCTION wrote into OUTDIR/BUILD-INFO.txt (e.g. the module it built).
  {
    echo "component: $name $version"
    echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) in $(tc_elapsed "$t0")"
    echo "go: $(go version)"
    if [ -f "$tmp/out/BUILD-INFO.txt" ]; then cat "$tmp/out/BUILD-INFO.txt"; fi
  } >"$tmp/BUILD-INFO.txt" && mv "$tmp/BUILD-INFO.txt" "$tmp/out/BUILD-INFO.txt" || return 1
  touch "$tmp/out/.complete" || return 1
  rm -rf "$final" # only an incomplete leftover can be here: complete ones returned above
  mv -T "$tmp/out" "$final" || return 1
  chmod -R u+w "$tmp" 2>/dev/null
  rm -rf "$tmp"
  tc_log "built $name $version in $(tc_elapsed "$t0")"
  printf '%s\n' "$final"
}

# tc_src_hash SUBDIR: short hash of the files in scripts/toolchain/SUBDIR, part of a component's cache
# key, so that editing a wrapper module or go.sum rebuilds it.
tc_src_hash() {
  (cd "$TC_DIR/$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-8
}

# tc_prepare_module SRC WORK: copies a wrapper module (go.mod, go.sum, sources) from scripts/toolchain.
tc_prepare_module() {
  cp -R "$TC_DIR/$1/." "$2/"
  chmod -R u+w "$2"
}
