#!/bin/bash
# harbor-lab (NOT Harbor): helpers of install.sh, as in Harbor v2's make/common.sh: the docker
# compose plugin is preferred over docker-compose.
set +o noglob

note() { printf '\n%s\n' "Note: $*"; }
warn() { printf '\n%s\n' "Warning: $*"; }
error() { printf '\n%s\n' "✖ Error: $*"; }
success() { printf '\n%s\n' "✔ ----$*----"; }
h2() { printf '\n%s\n' "[Step $item]: $*"; }

set -e

check_docker() {
  if ! docker --version >/dev/null 2>&1; then
    error "Need to install docker(20.10.10+) first and run this script again."
    exit 1
  fi
}

check_dockercompose() {
  if docker compose version >/dev/null 2>&1; then
    DOCKER_COMPOSE="docker compose"
  elif docker-compose --version >/dev/null 2>&1; then
    DOCKER_COMPOSE=docker-compose
  else
    error "Need to install docker-compose(1.18.0+) or a docker-compose-plugin (https://docs.docker.com/compose/)first and run this script again."
    exit 1
  fi
}
