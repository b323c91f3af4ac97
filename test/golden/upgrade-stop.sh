bash -c "$(cat <<'HARBOR_HA_SCRIPT'
# harbor-ha: stop Harbor on harbor-1 (data kept)

set -euo pipefail
umask 077
export LC_ALL=C

exec </dev/null

compose() {
  if command -v docker-compose >/dev/null 2>&1; then docker-compose "$@"
  elif docker compose version >/dev/null 2>&1; then docker compose "$@"
  else echo "neither docker-compose nor the docker compose plugin is installed" >&2; return 1
  fi
}

dir=/opt/harbor
node_name=harbor-1
sysroot=${HARBOR_HA_SYSROOT:-}
if [ -f "$sysroot/etc/systemd/system/harbor-ha.service" ]; then
  systemctl disable --quiet harbor-ha.service || true
  rm -f "$sysroot/etc/systemd/system/harbor-ha.service" "$sysroot/usr/local/sbin/harbor-ha-boot"
  if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
fi
if [ -f "$dir/docker-compose.yml" ]; then
  cd "$dir"
  if ! compose down; then
    # A container that will not stop (e.g. after an unclean restart) must not block a destroy.
    echo "harbor-1: docker-compose down failed; removing the harbor containers directly" >&2
    ids=$(docker ps -aq --filter label=com.docker.compose.project=harbor)
    [ -z "$ids" ] || docker rm -f $ids >/dev/null
    compose down
  fi
fi
# It runs nothing now: a later stack with no record of the cluster may deploy here (render/scripts/record.ts).
rm -f "$dir"/.harbor-ha/deployed
echo "harbor-1: Harbor stopped; data kept"
HARBOR_HA_SCRIPT
)"