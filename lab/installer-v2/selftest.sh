#!/usr/bin/env bash
# Self-test of the lab's Harbor v2 installer stand-in.
#   lab/installer-v2/selftest.sh [--no-docker] [--keep]
# Phase 1 (no Docker): builds (or reuses) the tarball, checks its layout and runs the prepare
# program on this host against a temporary root (test/phase1.py). Needs root (chown 10000),
# python3-yaml, python3-jinja2, python3-cryptography, openssl and htpasswd (apache2-utils).
# Phase 2 (Docker, test/phase2.py): two nodes and a database container on the lab's engine
# (DOCKER_HOST from lab/scripts/engine.sh env; the engine must already run: this never starts
# or stops it). Everything it creates is named h2st-<pid>-*; it carries no harbor-ha-lab label.
# Needs docker-compose (1.29 is enough for the test) and builds a second installer
# (--version v2.14.4: schema 171) and a test-only database image (PostgreSQL 15 + Redis).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
keep=0
docker=1
for arg in "$@"; do
  case "$arg" in
    --no-docker) docker=0 ;;
    --keep) keep=1 ;;
    *) echo "usage: $0 [--no-docker] [--keep]" >&2; exit 2 ;;
  esac
done
[[ $(id -u) == 0 ]] || { echo "selftest: needs root (prepare chowns to 10000)" >&2; exit 1; }
for tool in python3 openssl htpasswd; do
  command -v "$tool" >/dev/null || { echo "selftest: $tool is required" >&2; exit 1; }
done

tgz=$("$here/build.sh" | tail -n 1)
work=$(mktemp -d /tmp/h2st.XXXXXX)
if [[ $keep == 0 ]]; then trap 'rm -rf "$work"' EXIT; else echo "selftest: keeping $work" >&2; fi
tar -C "$work" -xzf "$tgz" harbor/harbor.yml.tmpl harbor/prepare harbor/install.sh harbor/common.sh harbor/README.md \
  harbor/harbor.v2.15.2.tar.gz
echo "phase 1: $tgz"
rc=0
PYTHONDONTWRITEBYTECODE=1 python3 "$here/test/phase1.py" "$work/harbor" "$work" || rc=1
[[ $docker == 1 ]] || exit $rc

# Phase 2. The engine is shared: check it runs, never start or stop it here.
export DOCKER_HOST="${DOCKER_HOST:-unix:///run/harbor-ha-lab/docker.sock}"
docker info >/dev/null 2>&1 || { echo "selftest: no Docker engine at $DOCKER_HOST (lab/scripts/engine.sh start)" >&2; exit 1; }
command -v docker-compose >/dev/null || { echo "selftest: docker-compose is required for phase 2" >&2; exit 1; }
tgz_old=$("$here/build.sh" --version v2.14.4 | tail -n 1)

# The test-only database image: PostgreSQL 15 and Redis on lab/installer's base layer.
cache="${HARBOR_HA_CACHE:-/var/cache/harbor-ha}/lab"
base_tar=$(ls -t "$cache"/installer/rootfs-*/base.tar | head -n 1)
db_key=$({ echo "$base_tar"; cat "$here/test/packages.db" "$here/test/db-entry.sh" "$here/rootfs/mklayer.sh"; } | sha256sum | cut -c1-16)
db_dir="$cache/installer-v2/testdb-$db_key"
if [[ ! -f "$db_dir/db.tar.gz" ]]; then
  rm -rf "$cache"/installer-v2/testdb-*
  mkdir -p "$db_dir/app/usr/local/bin"
  bash "$here/rootfs/mklayer.sh" "$base_tar" "$db_dir/pg.tar" "$cache/installer/debs" "$here/test/packages.db"
  install -m 0755 "$here/test/db-entry.sh" "$db_dir/app/usr/local/bin/h2st-db-entry"
  tar --numeric-owner --owner=0 --group=0 -C "$db_dir/app" -cf "$db_dir/app.tar" .
  cat >"$db_dir/images.json" <<JSON
{"layers": {"base": "$base_tar", "pg": "$db_dir/pg.tar", "app": "$db_dir/app.tar"},
 "images": [{"tag": "harbor-lab-test/db:h2st", "layers": ["base", "pg", "app"],
             "config": {"Cmd": ["/usr/local/bin/h2st-db-entry"]}}]}
JSON
  python3 "$here/../installer/tools/mkimage.py" "$db_dir/images.json" "$db_dir/db.tar.gz" >&2
  rm -rf "$db_dir/app" "$db_dir/pg.tar" "$db_dir/app.tar"
fi
docker load -i "$db_dir/db.tar.gz" >/dev/null
PYTHONDONTWRITEBYTECODE=1 python3 "$here/test/phase2.py" "h2st-$$" "$work/p2" "$tgz" "$tgz_old" harbor-lab-test/db:h2st || rc=1
[[ -n "${H2ST_KEEP:-}" ]] || docker rmi harbor-lab-test/db:h2st >/dev/null 2>&1 || true
exit $rc
