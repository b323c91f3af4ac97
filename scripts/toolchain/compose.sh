#!/usr/bin/env bash
# Builds the Docker Compose v2 CLI plugin (`docker compose`) that the lab VMs need for Harbor 2.x
# (Debian bookworm has only docker-compose 1.29.2 and no compose v2 package; no release binary can be
# downloaded here). Upstream's module github.com/docker/compose/v2 at TC_COMPOSE_VERSION (versions.sh),
# from the Go module proxy, built like upstream's Makefile (see tc_build_compose in build.sh).
#
#   scripts/toolchain/compose.sh          builds it once, prints the binary's path
#   scripts/toolchain/compose.sh --key    prints the cache key only (lab/images/build.sh hashes it)
#
# Cache: ${HARBOR_HA_CACHE:-/var/cache/harbor-ha}/tools/docker-compose-v<version>/ (bin/docker-compose,
# BUILD-INFO.txt, .complete), moved into place only when complete; a warm run takes well under a second.
# Its own lock (tools/.lock-docker-compose) and its own directory: it runs beside install-pulumi.sh,
# whose lock would otherwise hold it for the whole Pulumi build and whose start-up removes
# toolchain/.tmp-* leftovers. Log: tools/logs/docker-compose-v<version>.log.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/toolchain/lib.sh
. "$HERE/lib.sh"

NAME=docker-compose
KEY="v$TC_COMPOSE_VERSION"
if [ "${1:-}" = --key ]; then
  echo "$NAME-$KEY"
  exit 0
fi
[ $# -eq 0 ] || tc_die "usage: compose.sh [--key]"

# tc_component builds under TC_ROOT and logs to TC_LOGS: point both at tools/ (see above).
TC_ROOT="$TC_CACHE/tools"
TC_LOGS="$TC_ROOT/logs"
BIN="$TC_ROOT/$NAME-$KEY/bin/docker-compose"

# Warm path first, without the lock or the go command.
if [ -f "$TC_ROOT/$NAME-$KEY/.complete" ] && [ -x "$BIN" ]; then
  printf '%s\n' "$BIN"
  exit 0
fi

mkdir -p "$TC_ROOT" "$TC_LOGS"
# One build at a time (setup.sh and lab/images/build.sh may both ask): a second caller waits, then
# finds the binary in the cache.
exec 9>"$TC_ROOT/.lock-$NAME"
if ! flock -n 9; then
  tc_log "another $NAME build is running on $TC_CACHE; waiting for it (up to 1 h) ..."
  flock -w 3600 9 || tc_die "timed out waiting for $TC_ROOT/.lock-$NAME"
fi
# Leftovers of an interrupted build of ours (never used: only complete builds are renamed into place).
find "$TC_ROOT" -maxdepth 1 -name ".tmp-$NAME-*" -exec chmod -R u+w {} + -exec rm -rf {} + 2>/dev/null || true

tc_go_env
# shellcheck source=scripts/toolchain/build.sh
. "$HERE/build.sh"
dir="$(tc_component "$NAME" "$KEY" tc_build_compose)" || tc_die "could not build $NAME $KEY"
printf '%s\n' "$dir/bin/docker-compose"
