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
  if proxy_running && ! drained; then take_out_of_service; else mark_drained; fi
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

service_state_dir=/mnt/cephfs/harbor/data/.harbor-ha-nodes
service_lock=/mnt/cephfs/harbor/data/.harbor-ha-service.lock
service_peers=/opt/harbor/.harbor-ha/peers
# set_service_state in|out: this node's word to the others, on the shared volume.
set_service_state() {
  mkdir -p "$service_state_dir"
  printf '%s %s\n' "$1" "$(date +%s)" >"$service_state_dir/.$node_name.$$"
  mv -f "$service_state_dir/.$node_name.$$" "$service_state_dir/$node_name"
}
# peer_in_service NAME URL: it says it is in service and passes the load balancer's check.
peer_in_service() {
  local state body
  state=$(cat "$service_state_dir/$1" 2>/dev/null) || return 1
  [ "${state%% *}" = in ] || return 1
  body=$(curl -fsS -k -m 3 -H 'Host: hub.example.test' "$2" 2>/dev/null)
}
# others_out: the other nodes that have served (a file in the state directory) and are out now.
# A node never deployed yet, or no longer in the stack's list, is not waited for.
others_out() {
  local name url out=""
  while read -r name url; do
    [ -n "$name" ] && [ "$name" != "$node_name" ] || continue
    [ -f "$service_state_dir/$name" ] || continue
    peer_in_service "$name" "$url" || out="$out $name"
  done <"$service_peers"
  printf '%s' "${out# }"
}
# take_out_of_service: under the cluster's lock, once no other node is out, this one is marked out
# and drained; the next node to ask sees it out (its state and its check) and waits.
take_out_of_service() {
  local out said="" start=$SECONDS
  [ -f "$service_peers" ] || { echo "$node_name: no node list at $service_peers" >&2; exit 1; }
  mkdir -p "$service_state_dir"
  exec 9>>"$service_lock"
  flock -w 600 9 || { echo "$node_name: another node held $service_lock for 600s" >&2; exit 1; }
  while out=$(others_out); [ -n "$out" ]; do
    if [ $((SECONDS - start)) -ge 600 ]; then
      echo "$node_name: not taken out of service: $out out of service for 600s, and harbor-ha takes one node out at a time. Bring it back (a pulumi up repairs a node whose change failed) or remove it from harbor-ha:nodes, then run pulumi up again" >&2
      exit 1
    fi
    [ "$said" = "$out" ] || echo "$node_name: waiting until $out is back in service"
    said=$out
    sleep 2
  done
  set_service_state out
  mark_drained
  flock -u 9
  exec 9>&-
  [ -z "$said" ] || echo "$node_name: $said back in service after $((SECONDS - start))s"
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
  sysroot=${HARBOR_HA_SYSROOT:-}
  if [ -x "$sysroot"/usr/local/sbin/harbor-ha-boot ] && [ -f docker-compose.yml ]; then
    "$sysroot"/usr/local/sbin/harbor-ha-boot "$dir" >>"$log" 2>&1 || fail /usr/local/sbin/harbor-ha-boot
    healthy=""
    for i in $(seq 1 240); do
      if body=$(curl -fsS -m 5 --cacert "$stage/tls/ca.crt" --resolve hub.example.test\:8070\:127.0.0.1 https\://hub.example.test\:8070/api/systeminfo 2>/dev/null) && grep -qF registry_url <<<"$body" && curl -fsS -m 5 -o /dev/null http\://127.0.0.1\:8099/harbor-ha/ready 2>/dev/null; then
        healthy="harbor-1: healthy (/api/systeminfo, /harbor-ha/ready), deployed in ${SECONDS}s"
        break
      fi
      sleep 1
    done
    if [ -z "$healthy" ]; then
      compose ps >>"$log" 2>&1 || true
      fail "health check https://hub.example.test:8070/api/systeminfo and http://127.0.0.1:8099/harbor-ha/ready"
    fi
    echo "${healthy%%, deployed*} again after the move"
  fi
  undrain_node
  set_service_state in
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
# Harbor stops with Docker: out of the load balancer first, its requests in flight finished, and
# only once every other node is in service (render/scripts/serviceGuard.ts): the plan orders the
# moves, the nodes hold it when the plan is wrong. A node list comes with the first deploy of a
# harbor-ha that has the guard; a node deployed before that has the plan's order only.
if [ -f "$dir/docker-compose.yml" ]; then
  cd "$dir"
  if proxy_running && ! drained && [ ! -f "$service_peers" ]; then
    echo "$node_name: no node list at $service_peers yet (deployed by an older harbor-ha): the plan's order only"
    mark_drained
  fi
  drain_node
  mkdir -p "$stage"
  : >"$log"
  touch "$moving"
  cd /
fi
[ -f "$conf" ] && cp -p "$conf" "$conf.harbor-ha.bak"
mkdir -p "$dest"
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
