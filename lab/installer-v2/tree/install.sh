#!/bin/bash
# harbor-lab (NOT Harbor): Harbor v2's install.sh steps: load the images, ./prepare, then
# `down -v` (!) and `up -d`. harbor-ha never runs it (the down -v); it is here for the layout.
set -e

DIR="$(cd "$(dirname "$0")" && pwd)"
source "$DIR/common.sh"

with_trivy=""
for arg in "$@"; do
  case $arg in
    --with-trivy) with_trivy=true ;;
    --help) echo "usage: install.sh [--with-trivy]"; exit 0 ;;
    *) error "invalid argument: $arg"; exit 1 ;;
  esac
done

workdir="$(cd "$(dirname "$0")" && pwd)"
cd "$workdir"

item=1
h2 "checking if docker is installed ..."; check_docker
item=2
h2 "checking docker-compose is installed ..."; check_dockercompose
item=3
if [ -f harbor*.tar.gz ]; then
  h2 "loading Harbor images ..."; docker load -i ./harbor*.tar.gz
fi
item=4
h2 "preparing environment ..."
if [ -n "$with_trivy" ]; then ./prepare --with-trivy; else ./prepare; fi
item=5
if [ -n "$($DOCKER_COMPOSE ps -q)" ]; then
  note "stopping existing Harbor instance ..."
  $DOCKER_COMPOSE down -v
fi
h2 "starting Harbor ..."
$DOCKER_COMPOSE up -d
success "Harbor has been installed and started successfully."
