# shellcheck shell=bash
# shellcheck disable=SC2034  # variables used by the scripts that source this file
# Common settings and helpers for the harbor-ha local lab scripts.
# Source it; do not run it. Every script that sources it uses `set -euo pipefail`.

LAB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export HARBOR_HA_CACHE="${HARBOR_HA_CACHE:-/var/cache/harbor-ha}"
LAB_CACHE="${HARBOR_HA_CACHE}/lab"
LAB_STATE="${LAB_CACHE}/state"          # generated keys, passwords, known_hosts (never in git)
LAB_DATA="${LAB_CACHE}/data"            # per-container persistent data (deleted by down.sh --purge)
LAB_LOG="${LAB_CACHE}/log"

# Dedicated engine: its own socket, exec root, pidfile, data root, bridge/address pool.
LAB_RUN="${LAB_RUN:-/run/harbor-ha-lab}"
LAB_SOCK="${LAB_RUN}/docker.sock"
LAB_EXEC_ROOT="${LAB_RUN}/exec"
LAB_PIDFILE="${LAB_RUN}/dockerd.pid"
LAB_DOCKER_ROOT="${LAB_CACHE}/docker"
export DOCKER_HOST="unix://${LAB_SOCK}"
# Debian's docker.io client (20.10) matches the engine; /usr/local/bin/docker may be newer.
LAB_DOCKER_BIN="${LAB_DOCKER_BIN:-/usr/bin/docker}"

# Lab network. 10.213.0.0/16 is far from Docker's default pools (172.17-31.x, 192.168.x),
# so the VMs' inner dockerd never picks an overlapping subnet.
LAB_POOL="10.213.0.0/16"
LAB_NET="harbor-ha-lab"
LAB_BRIDGE="hhlab0"
LAB_SUBNET="10.213.70.0/24"
LAB_GATEWAY="10.213.70.1"
LAB_IP_CEPH="10.213.70.10"
LAB_IP_MARIADB="10.213.70.11"
LAB_IP_REDIS="10.213.70.12"
LAB_IP_LB="10.213.70.13"
LAB_IP_DNS="10.213.70.14"
LAB_IP_POSTGRES="10.213.70.15"
LAB_DOMAIN="harbor-ha.lab"
# What the lab's DNS answers (lab-dns): the services by name, and the registry's domain -> the LB.
lab_dns_records() {
  echo "ceph.${LAB_DOMAIN}=${LAB_IP_CEPH} mariadb.${LAB_DOMAIN}=${LAB_IP_MARIADB} postgres.${LAB_DOMAIN}=${LAB_IP_POSTGRES}" \
    "redis.${LAB_DOMAIN}=${LAB_IP_REDIS} lb.${LAB_DOMAIN}=${LAB_IP_LB} hub.${LAB_DOMAIN}=${LAB_IP_LB}"
}
LAB_VM_COUNT="${LAB_VM_COUNT:-3}"
lab_vm_ip()      { echo "10.213.70.$((20 + $1))"; }      # vm1 -> .21
lab_vm_sshport() { echo "$((2200 + $1))"; }              # vm1 -> 2201
LAB_LB_PORT=8070

lab_log()  { printf '[lab] %s\n' "$*" >&2; }
lab_die()  { printf '[lab] ERROR: %s\n' "$*" >&2; exit 1; }
lab_now()  { date +%s.%N; }
lab_since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1fs", e-s}'; }

docker() { "$LAB_DOCKER_BIN" "$@"; }

lab_engine_up() { [[ -S "$LAB_SOCK" ]] && docker version >/dev/null 2>&1; }
lab_require_engine() {
  lab_engine_up || lab_die "lab engine is not running at ${DOCKER_HOST}; run lab/scripts/engine.sh start"
}

# lab_wait TIMEOUT_SECONDS DESCRIPTION CMD... : retry CMD every second until it succeeds.
lab_wait() {
  local timeout="$1" what="$2"; shift 2
  local start; start=$(date +%s)
  until "$@" >/dev/null 2>&1; do
    if (( $(date +%s) - start >= timeout )); then
      lab_log "timed out after ${timeout}s waiting for: ${what}"
      return 1
    fi
    sleep 1
  done
}

# Lab images are two-stage (see lab/images/build.sh):
#   base  harbor-ha-lab/<name>-base:<base hash>  debootstrap + packages, from a cached rootfs tarball
#   image harbor-ha-lab/<name>:<image hash>      `docker build` of lab/images/<name>/ on the base
# base hash  = LAB_BASE_RECIPE + suite + lab/images/<name>/packages + its chroot-scripts
# image hash = base hash + Dockerfile + rootfs/ overlay (contents and executable bits)
#              + built-files (each line and its builder's cache key, e.g. the compose version)
LAB_BASE_RECIPE="base-v1"   # bump when build.sh changes how a base rootfs is made
LAB_SUITE="bookworm"
# lab/images/<name>/chroot-scripts: repository scripts run in the base rootfs after the packages.
lab_chroot_scripts() {
  local f="${LAB_ROOT}/images/$1/chroot-scripts"
  [[ -f "$f" ]] || return 0
  grep -v '^\s*\(#\|$\)' "$f"
}
# lab/images/<name>/built-files: "<builder script> <path in the image>" per line. The builder (a
# repository script, run from the repository root) prints the built file's path, or with --key its
# cache key (the version) without building; build.sh puts the file at that path in the image layer.
lab_built_files() {
  local f="${LAB_ROOT}/images/$1/built-files"
  [[ -f "$f" ]] || return 0
  grep -v '^\s*\(#\|$\)' "$f"
}
lab_base_hash() {
  local name="$1" script
  {
    echo "$LAB_BASE_RECIPE $LAB_SUITE $name"
    sha256sum <"${LAB_ROOT}/images/${name}/packages"
    while read -r script; do echo "$script"; sha256sum <"${LAB_ROOT}/../${script}"; done < <(lab_chroot_scripts "$name")
  } | sha256sum | cut -c1-12
}
lab_recipe_hash() {
  local name="$1"
  (
    cd "${LAB_ROOT}/images/${name}" || exit 1
    {
      lab_base_hash "$name"
      sha256sum Dockerfile
      # A new version of a built file (its builder's key) makes a new image; the same one reuses it.
      local script dest
      while read -r script dest; do
        echo "built $script $dest $("${LAB_ROOT}/../${script}" --key)"
      done < <(lab_built_files "$name")
      [[ -d rootfs ]] || exit 0
      find rootfs -type f -perm -u+x -printf 'x %p\n' | LC_ALL=C sort
      find rootfs -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
    } | sha256sum | cut -c1-12
  )
}
lab_image_tag() { echo "harbor-ha-lab/$1:$(lab_recipe_hash "$1")"; }
lab_base_tag() { echo "harbor-ha-lab/$1-base:$(lab_base_hash "$1")"; }
