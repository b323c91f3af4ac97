#!/usr/bin/env bash
# Quick start, command 1 (npm run demo): the toolchain, the local lab, and `pulumi up` of a lab
# stack for real against it. Safe to run again: every step reuses what is already there.
#   scripts/demo.sh [--stack dev|dev-v2] [--no-up]
#     --stack   dev (default): Harbor 1.x (the lab installer with 1.2.2's layout, MariaDB);
#               dev-v2: Harbor 2.x (the lab installer with 2.15.2's layout, PostgreSQL)
#     --no-up   stop once the lab runs and the stack knows it
# One lab runs one stack at a time: the demo refuses while the other lab stack has resources.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
log() { echo "[demo] $*"; }
die() { echo "[demo] $*" >&2; exit 1; }
stack=dev no_up=0
while [ $# -gt 0 ]; do
  case "$1" in
    --stack) [ $# -ge 2 ] || die "--stack needs a name (dev or dev-v2)"; stack=$2; shift 2 ;;
    --no-up) no_up=1; shift ;;
    *) die "unknown argument: $1 (usage: scripts/demo.sh [--stack dev|dev-v2] [--no-up])" ;;
  esac
done
case "$stack" in
  dev) other=dev-v2 ;;
  dev-v2) other=dev ;;
  *) die "--stack: the lab runs the stacks dev (Harbor 1.x) and dev-v2 (Harbor 2.x), not \"$stack\"" ;;
esac
[ "$(id -u)" = 0 ] || die "the lab needs root (its own Docker engine, debootstrap, FUSE)"

# The toolchain and the lab's images and installers, built side by side on a fresh machine.
scripts/setup.sh
# shellcheck source=scripts/pulumi-env.sh
. scripts/pulumi-env.sh
hh_stack_env "$stack"

# Both stacks deploy to the same VMs, port, install directory and CephFS path.
in_use=$(pulumi stack ls --json | node -e 'const s = JSON.parse(require("fs").readFileSync(0, "utf8")).find(x => x.name === process.argv[1]); console.log(s ? (s.resourceCount ?? 0) : 0)' "$other")
[ "$in_use" = 0 ] || die "stack $other holds $in_use resources on this lab; one lab runs one stack at a time: pulumi destroy --stack $other \$(hh_config_args $other) first (it keeps the data), or lab/scripts/down.sh --purge for a clean lab"

log "lab: engine, images, Ceph, MariaDB, PostgreSQL, Redis, load balancer, three VMs"
lab/scripts/up.sh
outputs="${HARBOR_HA_CACHE:-/var/cache/harbor-ha}/lab/state/outputs.json"
if [ "$stack" = dev ]; then
  log "lab: Harbor installer (the lab's stand-in with Harbor 1.2.2's layout)"
  lab/installer/build.sh >/dev/null
  latest="${HARBOR_HA_CACHE:-/var/cache/harbor-ha}/lab/installer/latest"
  installer_args=("$latest/harbor-lab-installer-v1.2.2.tgz" "$latest/registry.sql")
else
  log "lab: Harbor installer (the lab's stand-in with Harbor 2.15.2's layout)"
  installer_args=("$(lab/installer-v2/build.sh)")
fi

config="$(node --import tsx scripts/lab-stack-config.ts "$stack" "$outputs" "${installer_args[@]}")"
log "$stack stack config (tracked Pulumi.$stack.yaml + the lab's host keys and secrets): $config"
if [ "$no_up" = 1 ]; then log "lab ready in $((SECONDS - t0))s; $stack stack configured (npm run preview)"; exit 0; fi
log "pulumi up --stack $stack --config-file $config"
pulumi up --stack "$stack" --config-file "$config" --yes --skip-preview --policy-pack "$PWD/policy"
log "lab: the load balancer runs the stack's loadBalancer output"
lab/scripts/lb-config.sh "$stack"

ca="${HARBOR_HA_CACHE:-/var/cache/harbor-ha}/lab/state/ca.crt"
pulumi stack output --stack "$stack" caPem >"$ca"
log "done in $((SECONDS - t0))s"
log "registry: $(pulumi stack output --stack "$stack" url) (through the lab load balancer on 127.0.0.1:8070)"
log "trust it: install $ca as $(pulumi stack output --stack "$stack" clientTrustPath) on a Docker client"
log "admin password: pulumi stack output --stack $stack --show-secrets adminPassword"
log "more: . scripts/pulumi-env.sh && pulumi preview --stack $stack \$(hh_config_args $stack)"
