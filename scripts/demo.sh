#!/usr/bin/env bash
# Quick start, command 1 (npm run demo): the toolchain, the local lab, and `pulumi up --stack dev`
# for real against it. Safe to run again: every step reuses what is already there.
#   scripts/demo.sh [--no-up]   (--no-up: stop once the lab runs and the dev stack knows it)
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
log() { echo "[demo] $*"; }
[ "$(id -u)" = 0 ] || { echo "[demo] the lab needs root (its own Docker engine, debootstrap, FUSE)" >&2; exit 1; }

# The toolchain and the lab's images and installer, built side by side on a fresh machine.
scripts/setup.sh
# shellcheck source=scripts/pulumi-env.sh
. scripts/pulumi-env.sh

log "lab: engine, images, Ceph, MariaDB, Redis, load balancer, three VMs"
lab/scripts/up.sh
outputs="${HARBOR_HA_CACHE:-/var/cache/harbor-ha}/lab/state/outputs.json"
log "lab: Harbor installer (the lab's stand-in with Harbor 1.2.2's layout)"
lab/installer/build.sh >/dev/null
latest="${HARBOR_HA_CACHE:-/var/cache/harbor-ha}/lab/installer/latest"

config="$(node --import tsx scripts/lab-stack-config.ts dev "$outputs" "$latest/harbor-lab-installer-v1.2.2.tgz" "$latest/registry.sql")"
log "dev stack config (tracked Pulumi.dev.yaml + the lab's host keys and secrets): $config"
if [ "${1:-}" = --no-up ]; then log "lab ready in $((SECONDS - t0))s; dev stack configured (npm run preview)"; exit 0; fi
log "pulumi up --stack dev --config-file $config"
pulumi up --stack dev --config-file "$config" --yes --skip-preview --policy-pack "$PWD/policy"
log "lab: the load balancer runs the stack's loadBalancer output"
lab/scripts/lb-config.sh dev

ca="${HARBOR_HA_CACHE:-/var/cache/harbor-ha}/lab/state/ca.crt"
pulumi stack output --stack dev caPem >"$ca"
log "done in $((SECONDS - t0))s"
log "registry: $(pulumi stack output --stack dev url) (through the lab load balancer on 127.0.0.1:8070)"
log "trust it: install $ca as $(pulumi stack output --stack dev clientTrustPath) on a Docker client"
log "admin password: pulumi stack output --stack dev --show-secrets adminPassword"
log "more: . scripts/pulumi-env.sh && pulumi preview --stack dev \$(hh_config_args dev)"
