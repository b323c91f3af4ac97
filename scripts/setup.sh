#!/usr/bin/env bash
# What a fresh machine builds before the lab can run, side by side: the Pulumi toolchain and the lab
# VMs' Docker Compose v2 plugin (Go builds: they wait on the CPU) and the lab's images and installers
# (debootstrap and apt: they wait on the network and the disk). Every part is cached and keyed by
# version; a warm run takes seconds.
#   scripts/setup.sh            toolchain + lab images + lab installers (the lab parts need root)
#   scripts/setup.sh --no-lab   toolchain only
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[setup] $*"; }
t0=$SECONDS
[ -d node_modules ] || npm ci --no-audit --no-fund

jobs=()
if [ "${1:-}" != --no-lab ]; then
  [ "$(id -u)" = 0 ] || { echo "[setup] the lab needs root (its own Docker engine, debootstrap); --no-lab builds the toolchain only" >&2; exit 1; }
  logs="${HARBOR_HA_CACHE:-/var/cache/harbor-ha}/lab/log"
  mkdir -p "$logs"
  # First, as its own job: only the VM image's last, thin layer needs it (lab/images/build.sh waits for
  # this build through the builder's lock, after the bases are made), so it overlaps the engine start,
  # host-tools, debootstrap and apt; it shares the CPU with the Pulumi build below.
  scripts/toolchain/compose.sh >"$logs/setup-compose.log" 2>&1 &
  jobs+=("$!:docker compose v2 plugin:$logs/setup-compose.log")
  lab/scripts/host-tools.sh
  (lab/scripts/engine.sh start && lab/images/build.sh) >"$logs/setup-images.log" 2>&1 &
  jobs+=("$!:lab images:$logs/setup-images.log")
  # One after the other: the 2.x installers reuse the 1.x one's Debian base layer. The older 2.x
  # releases are the e2e's upgrade path (test/e2e/upgradeV2.ts).
  (lab/installer/build.sh && lab/installer-v2/build.sh && lab/installer-v2/build.sh --version v2.14.4 &&
    lab/installer-v2/build.sh --version v2.15.0) >"$logs/setup-installer.log" 2>&1 &
  jobs+=("$!:lab installers (1.x, 2.x: 2.15.2, 2.14.4, 2.15.0):$logs/setup-installer.log")
  log "compose v2 plugin, lab images and installers building in the background (logs in $logs)"
fi
rc=0
scripts/install-pulumi.sh || rc=$?
for j in "${jobs[@]}"; do
  IFS=: read -r pid what file <<<"$j"
  if wait "$pid"; then log "$what ready"; else log "$what FAILED; last lines of $file:"; tail -n 30 "$file" >&2; rc=1; fi
done
[ "$rc" = 0 ] || exit "$rc"
log "ready in $((SECONDS - t0))s"
