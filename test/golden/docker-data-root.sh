# harbor-ha: Docker data root on harbor-1

set -euo pipefail
umask 077
export LC_ALL=C

docker_service() { # start|stop
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    if [ "$1" = stop ]; then systemctl stop docker.socket docker; else systemctl start docker; fi
  else
    service docker "$1"
  fi
}
wait_docker() { for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && return 0; sleep 1; done; return 1; }

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

main() {
conf=/etc/docker/daemon.json
want=/data/docker
dir=/opt/harbor
node_name=harbor-1
stage="$dir/.harbor-ha"
log="$stage/docker-data-root.log"
# Set while this step has the node out of the load balancer: a run that stopped half-way (Docker
# moved, Harbor not back) is finished by the next run, which finds the data root already moved.
moving="$stage/docker-data-root.moving"
fail() { echo "harbor-1: $1 failed; last lines of $log:" >&2; tail -n 20 "$log" >&2; exit 1; }
# Docker starts Harbor's containers in no order and those logging through the log service fail
# (render/scripts/boot.ts): the boot unit's script starts them in order, then the node must answer
# before it goes back into the load balancer.
harbor_back() {
  [ -f "$moving" ] || return 0
  cd "$dir"
  if [ -x /usr/local/sbin/harbor-ha-boot ] && [ -f docker-compose.yml ]; then
    /usr/local/sbin/harbor-ha-boot "$dir" >>"$log" 2>&1 || fail /usr/local/sbin/harbor-ha-boot
    healthy=""
    for i in $(seq 1 240); do
      if body=$(curl -fsS -m 5 --cacert "$stage/tls/ca.crt" --resolve hub.example.test\:8070\:127.0.0.1 https\://hub.example.test\:8070/api/systeminfo 2>/dev/null) && grep -qF registry_url <<<"$body"; then
        healthy="harbor-1: healthy (/api/systeminfo), deployed in ${SECONDS}s"
        break
      fi
      sleep 1
    done
    if [ -z "$healthy" ]; then
      compose ps >>"$log" 2>&1 || true
      fail "health check https://hub.example.test:8070/api/systeminfo"
    fi
    echo "${healthy%%, deployed*} again after the move"
  fi
  undrain_node
  rm -f "$moving"
}
current=$(docker info --format '{{.DockerRootDir}}')
dest=${want:-/var/lib/docker}
if [ "$current" = "$dest" ]; then
  harbor_back
  echo "docker: data root of harbor-1 is already $dest"
  exit 0
fi
command -v python3 >/dev/null 2>&1 && py=python3 || py=python
# Merge first: a malformed daemon.json stops here, before Docker is touched.
merged=$($py - "$conf" "$want" <<'PY'
import json, sys
from collections import OrderedDict
path, root = sys.argv[1], sys.argv[2]
try:
    with open(path) as f:
        text = f.read()
except IOError:
    text = ""
try:
    doc = json.loads(text, object_pairs_hook=OrderedDict) if text.strip() else OrderedDict()
except ValueError as e:
    sys.stderr.write("%s is not valid JSON (%s); fix or remove it - nothing was changed\n" % (path, e))
    sys.exit(2)
if not isinstance(doc, dict):
    sys.stderr.write("%s must hold a JSON object - nothing was changed\n" % path)
    sys.exit(2)
doc.pop("graph", None)  # the pre-17.05 name of data-root; dockerd refuses both at once
if root:
    doc["data-root"] = root
else:
    doc.pop("data-root", None)
sys.stdout.write(json.dumps(doc, indent=2, separators=(",", ": ")) + "\n")
PY
) || { echo "harbor-1: cannot merge $conf" >&2; exit 1; }
images=$(docker images -aq | sort -u | wc -l)
containers=$(docker ps -aq | wc -l)
[ -f "$conf" ] && cp -p "$conf" "$conf.harbor-ha.bak"
mkdir -p "$dest"
# Harbor stops with Docker: out of the load balancer first, its requests in flight finished.
if [ -f "$dir/docker-compose.yml" ]; then
  mkdir -p "$stage"
  : >"$log"
  touch "$moving"
  cd "$dir"
  drain_node
  cd /
fi
docker_service stop
if command -v rsync >/dev/null 2>&1; then rsync -aHS --numeric-ids "$current"/ "$dest"/; else cp -a "$current"/. "$dest"/; fi
mkdir -p /etc/docker
printf '%s\n' "$merged" >"$conf.tmp" && chmod 0644 "$conf.tmp" && mv -f "$conf.tmp" "$conf"
restore() {
  echo "harbor-1: $1; daemon.json restored, data left in $current" >&2
  if [ -f "$conf.harbor-ha.bak" ]; then mv -f "$conf.harbor-ha.bak" "$conf"; else rm -f "$conf"; fi
  docker_service stop || true; docker_service start || true
  wait_docker && harbor_back
  exit 1
}
docker_service start || restore "docker did not start"
wait_docker || restore "docker did not come back"
[ "$(docker info --format '{{.DockerRootDir}}')" = "$dest" ] || restore "docker does not use $dest"
[ "$(docker images -aq | sort -u | wc -l)" = "$images" ] || restore "image count changed"
[ "$(docker ps -aq | wc -l)" = "$containers" ] || restore "container count changed"
# Verified: the old copy goes, which is what frees the small disk (the directory itself may be a mount).
find "$current" -mindepth 1 -maxdepth 1 -exec rm -rf --one-file-system {} +
rm -f "$conf.harbor-ha.bak"
echo "docker: data root of harbor-1 moved from $current to $dest ($images images, $containers containers)"
harbor_back
}

main; exit 0
