#!/usr/bin/env bash
# Tear the lab down: VMs (unmounting their CephFS FUSE mounts and stopping their inner engines
# first), services, the network, then the dedicated engine. Images, rootfs tarballs and .deb
# caches stay, so the next up.sh is warm.
#
#   lab/scripts/down.sh [--purge] [--keep-engine]
#     --purge        also delete the lab's data (ceph/mariadb/postgres/redis/VM volumes), generated keys,
#                    secrets and outputs, and remove the Pulumi stack `lab`
#     --keep-engine  leave the dedicated engine running
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PURGE=0 KEEP_ENGINE=0
for a in "$@"; do
  case "$a" in
    --purge) PURGE=1 ;;
    --keep-engine) KEEP_ENGINE=1 ;;
    *) lab_die "usage: down.sh [--purge] [--keep-engine]" ;;
  esac
done
T0=$(lab_now)

if ! lab_engine_up; then
  if [[ -d "$LAB_DOCKER_ROOT/containers" ]] && [[ -n "$(ls -A "$LAB_DOCKER_ROOT/containers" 2>/dev/null)" ]]; then
    lab_log "engine stopped but it has containers: starting it to remove them"
    "${LAB_ROOT}/scripts/engine.sh" start
  fi
fi

if lab_engine_up; then
  # 1. Pulumi-managed lab: destroy the stack (then sweep below catches anything left over).
  if "${LAB_ROOT}/scripts/pulumi.sh" available >/dev/null 2>&1; then
    "${LAB_ROOT}/scripts/pulumi.sh" destroy || lab_log "WARNING: pulumi destroy failed; removing containers directly"
  fi

  # 2. Every container of the lab, VMs first. In a running VM: FUSE unmounts + inner engine stop.
  mapfile -t ctrs < <(docker ps -a --filter label=harbor-ha-lab=1 --format '{{.Names}}' | sort -r)
  for c in "${ctrs[@]}"; do
    [[ "$c" == vm* ]] || continue
    if [[ "$(docker inspect -f '{{.State.Running}}' "$c" 2>/dev/null)" == true ]]; then
      timeout 60 docker exec "$c" sh -c '
        awk "\$3 ~ /^fuse/ {print \$2}" /proc/mounts | sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
        /etc/init.d/docker stop >/dev/null 2>&1 || true' || lab_log "WARNING: ${c}: clean shutdown steps failed (removing anyway)"
    fi
  done
  if (( ${#ctrs[@]} )); then
    t=$(lab_now)
    docker rm -f "${ctrs[@]}" >/dev/null
    lab_log "removed containers ${ctrs[*]} in $(lab_since "$t")"
  fi

  # 3. The network.
  if docker network inspect "$LAB_NET" >/dev/null 2>&1; then
    docker network rm "$LAB_NET" >/dev/null || lab_die "cannot remove network ${LAB_NET}: $(docker network inspect -f '{{range .Containers}}{{.Name}} {{end}}' "$LAB_NET") still attached"
    lab_log "removed network ${LAB_NET}"
  fi
fi

# 4. FUSE mounts on this host under the lab's directories (none in normal use: ceph-fuse runs in VMs).
while read -r m; do
  umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || lab_log "WARNING: cannot unmount $m"
done < <(awk -v c="$LAB_CACHE" '$3 ~ /^fuse/ && index($2, c) == 1 {print $2}' /proc/self/mounts | sort -r)

# 5. The engine.
if (( ! KEEP_ENGINE )); then
  others=""
  lab_engine_up && others=$(docker ps -q | wc -l)
  [[ -n "$others" && "$others" != 0 ]] && lab_log "note: ${others} non-lab container(s) on the lab engine stop with it"
  "${LAB_ROOT}/scripts/engine.sh" stop
fi

# 6. --purge: the lab's data and generated state (never the images / rootfs / .deb caches).
if (( PURGE )); then
  if "${LAB_ROOT}/scripts/pulumi.sh" available >/dev/null 2>&1; then
    "${LAB_ROOT}/scripts/pulumi.sh" -- stack rm --yes --force lab >/dev/null 2>&1 || true
  fi
  rm -rf "$LAB_DATA"
  find "$LAB_STATE" -mindepth 1 -maxdepth 1 ! -name daemon.json -exec rm -rf {} + 2>/dev/null || true
  lab_log "purged ${LAB_DATA} and ${LAB_STATE} (keys, secrets, outputs)"
fi
lab_log "lab down in $(lab_since "$T0")"
