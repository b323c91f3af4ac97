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

proxy_running() {
  local id
  id=$(compose ps -q proxy 2>/dev/null | head -n 1)
  [ -n "$id" ] && [ "$(docker inspect -f '{{.State.Running}}' "$id" 2>/dev/null)" = true ]
}
# mark_drained: both flags (prepare deletes the file, never the directory: call it again after
# prepare). Only where conf.d exists: without it no proxy runs here, and directories made now (as
# root, umask 077) would be ones the proxy then cannot read.
mark_drained() {
  [ -d "$dir"/common/config/nginx/conf.d ] || return 0
  mkdir -p "$dir"/common/config/nginx/conf.d/harbor-ha.drained.d
  touch "$dir"/common/config/nginx/conf.d/harbor-ha.drained
}
drained() { [ -d "$dir"/common/config/nginx/conf.d/harbor-ha.drained.d ]; }
drain_node() {
  mark_drained
  if proxy_running; then
    echo "$node_name: drained; the load balancer takes it out within 6s, requests in flight have 8s"
    sleep 8
  fi
}
undrain_node() {
  rmdir "$dir"/common/config/nginx/conf.d/harbor-ha.drained.d 2>/dev/null || true
  rm -f "$dir"/common/config/nginx/conf.d/harbor-ha.drained
  sleep 6
  echo "$node_name: back in the load balancer (2 checks every 2s)"
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
  drain_node
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