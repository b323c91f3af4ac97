#!/bin/bash
# install.sh of the harbor-ha LAB installer (stand-in for Harbor v1.2.2's; see README.md).
# Single-node install: load the images, run ./prepare, (re)start everything with docker-compose.
set -euo pipefail

log() { printf '[harbor-lab install] %s\n' "$*"; }
die() { printf '[harbor-lab install] ERROR: %s\n' "$*" >&2; exit 1; }

for arg in "$@"; do
  case "$arg" in
    --help|-h) echo "usage: $0   (edit harbor.cfg first; Notary and Clair are not available)"; exit 0 ;;
    --with-notary|--with-clair) die "$arg is not available in the lab installer" ;;
    *) die "unknown argument: $arg" ;;
  esac
done

cd "$(dirname "${BASH_SOURCE[0]}")"

if grep -Eq '^[[:space:]]*hostname[[:space:]]*=[[:space:]]*reg\.mydomain\.com[[:space:]]*$' harbor.cfg; then
  die "set hostname in harbor.cfg first (not localhost/127.0.0.1: clients must be able to reach it)"
fi

step=1
log "[Step $((step++))]: checking installation environment ..."
docker --version >/dev/null 2>&1 || die "docker is not installed"
docker-compose --version >/dev/null 2>&1 || die "docker-compose is not installed"
log "$(docker --version); $(docker-compose --version)"

shopt -s nullglob
images=(harbor*.tar.gz)
if (( ${#images[@]} )); then
  log "[Step $((step++))]: loading Harbor images ..."
  docker load -i "${images[0]}"
fi

log "[Step $((step++))]: preparing environment ..."
./prepare

log "[Step $((step++))]: checking existing instance of Harbor ..."
if [[ -n "$(docker-compose -f docker-compose.yml ps -q)" ]]; then
  log "stopping existing Harbor instance ..."
  docker-compose -f docker-compose.yml down -v
fi

log "[Step $((step++))]: starting Harbor ..."
docker-compose -f docker-compose.yml up -d

protocol=$(sed -n 's/^[[:space:]]*ui_url_protocol[[:space:]]*=[[:space:]]*\([^[:space:]]*\).*/\1/p' harbor.cfg)
host=$(sed -n 's/^[[:space:]]*hostname[[:space:]]*=[[:space:]]*\([^[:space:]]*\).*/\1/p' harbor.cfg)
log "----Harbor (lab stand-in) has been installed and started successfully.----"
log "Now you should be able to visit the admin portal at ${protocol:-http}://${host}."
