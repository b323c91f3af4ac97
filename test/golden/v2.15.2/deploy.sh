# harbor-ha: deploy Harbor 2.15.2 on harbor-1

set -euo pipefail
umask 077
export LC_ALL=C

# put_file PATH MODE: stdin -> PATH, only when content or mode differ; counts PUT_CHANGED.
PUT_CHANGED=0
put_file() {
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  cat >"$tmp"
  chmod "$2" "$tmp"
  if [ -f "$1" ] && cmp -s "$tmp" "$1" && [ "$(stat -c %a "$1")" = "$(stat -c %a "$tmp")" ]; then
    rm -f "$tmp"
  else
    mv -f "$tmp" "$1"
    PUT_CHANGED=$((PUT_CHANGED + 1))
  fi
}

# read_bundle DIR: "<mode> <path> <base64>" lines on stdin -> files; sets BUNDLE_CHANGED.
read_bundle() {
  local dir=$1 mode rel b64 before=$PUT_CHANGED
  while read -r mode rel b64; do
    [ -n "$mode" ] || continue
    mkdir -p "$dir/$(dirname "$rel")"
    put_file "$dir/$rel" "$mode" < <(printf '%s' "$b64" | base64 -d)
  done
  BUNDLE_CHANGED=$((PUT_CHANGED - before))
}

compose() {
  if docker compose version >/dev/null 2>&1; then docker compose "$@"
  elif command -v docker-compose >/dev/null 2>&1; then docker-compose "$@"
  else echo "neither the docker compose plugin nor docker-compose is installed" >&2; return 1
  fi
}

# set_env FILE KEY VALUE
set_env() {
  local tmp
  tmp=$(mktemp)
  KEY="$2" VALUE="$3" awk 'BEGIN { k = ENVIRON["KEY"] "=" } index($0, k) == 1 { print k ENVIRON["VALUE"]; next } { print }' "$1" >"$tmp"
  cat "$tmp" >"$1"
  rm -f "$tmp"
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
  body=$(curl -fsS -k -m 3 -H 'Host: hub.example.test' "$2" 2>/dev/null) && ! grep -qF unhealthy <<<"$body"
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
dir=/opt/harbor
data=/mnt/cephfs/harbor/data
node_name=harbor-1
stage="$dir/.harbor-ha"
log="$stage/deploy.log"
[ -f "$dir/prepare" ] && [ -f "$dir/harbor.yml.tmpl" ] || { echo "harbor-1: no Harbor 2.x installer in $dir" >&2; exit 1; }
mountpoint -q /mnt/cephfs/harbor || { echo "harbor-1: CephFS is not mounted at /mnt/cephfs/harbor" >&2; exit 1; }
mkdir -p "$stage"
read_bundle "$dir"
fail() { echo "harbor-1: $1 failed; last lines of $log:" >&2; tail -n 20 "$log" >&2; exit 1; }
# The cluster's secrets where prepare looks for them, on the shared data volume.
secret="$data/secret"
mkdir -p "$secret/keys" "$secret/core" "$secret/registry"
# The secretkey encrypts what is stored with the data: one already there is kept.
if [ ! -s "$secret/keys/secretkey" ]; then
  install -m 0600 "$stage/secretkey" "$secret/keys/secretkey.harbor-ha.$$"
  mv -n "$secret/keys/secretkey.harbor-ha.$$" "$secret/keys/secretkey" 2>/dev/null || true
  rm -f "$secret/keys/secretkey.harbor-ha.$$"
fi
[ "$(wc -c <"$secret/keys/secretkey")" = 16 ] || { echo "harbor-1: $secret/keys/secretkey is not 16 bytes; Harbor cannot use it" >&2; exit 1; }
# The stack's token keypair, both halves (prepare replaces a pair with a half missing).
place() { # place SRC DST MODE: atomically, only when it differs
  cmp -s "$1" "$2" && return 0
  install -m "$3" "$1" "$2.harbor-ha.$$" && mv -f "$2.harbor-ha.$$" "$2"
}
place "$stage/token/private_key.pem" "$secret/core/private_key.pem" 0600
place "$stage/token/root.crt" "$secret/registry/root.crt" 0644
cd "$dir"
: >"$log"
# Out of the load balancer before prepare: it deletes and rewrites common/config under the running
# containers (the registry reads registry/passwd on every request); back in only once healthy.
drain_node
# prepare deletes and rewrites <data_volume>/secret/cert (the proxy's copy of the certificate),
# which every node shares: two nodes' prepare at once fail each other (utils/nginx.py: rmtree, then
# makedirs). One at a time, under a lock on the shared volume (CephFS releases the lock of a node
# that dies holding it once its session is stale).
rc=0
flock -w 600 -E 75 "$data/.harbor-ha-prepare.lock" ./prepare >>"$log" 2>&1 || rc=$?
[ "$rc" != 75 ] || { echo "${node_name}: another node held the prepare lock $data/.harbor-ha-prepare.lock for 600 s" >&2; exit 1; }
[ "$rc" = 0 ] || fail prepare
# prepare deleted the flag file a proxy started by an older harbor-ha tests.
mark_drained
# prepare drew new values: every file that carries one gets the cluster's.
while read -r file key value; do
  [ -f "$file" ] || fail "prepare wrote no $file:"
  grep -q "^$key=" "$file" || { echo "harbor-1: $file has no $key after prepare: not the Harbor 2.x layout this flavor knows" >&2; exit 1; }
  set_env "$file" "$key" "$value"
done <"$stage/shared-env"
[ -f common/config/registry/passwd ] || fail "prepare wrote no common/config/registry/passwd:"
cat "$stage/registry-passwd" >common/config/registry/passwd
install -D -m 0644 "$stage/harbor-ha-health.conf" common/config/nginx/conf.d/harbor.https.harbor-ha-health.conf
# Recreate every container: each reads the new config, and the proxy resolves the others at start.
compose up -d --force-recreate >>"$log" 2>&1 || fail "docker compose up"
healthy=""
for i in $(seq 1 240); do
  if body=$(curl -fsS -m 5 --cacert "$stage/tls/ca.crt" --resolve hub.example.test\:8070\:127.0.0.1 https\://hub.example.test\:8070/api/v2.0/health 2>/dev/null) && grep -qF '"status":"healthy"' <<<"$body" && ! grep -qF unhealthy <<<"$body"; then
    healthy="harbor-1: healthy (/api/v2.0/health), deployed in ${SECONDS}s"
    break
  fi
  sleep 1
done
if [ -z "$healthy" ]; then
  compose ps >>"$log" 2>&1 || true
  fail "health check https://hub.example.test:8070/api/v2.0/health"
fi
# At boot Docker starts Harbor's containers in no order; the unit starts them the way they need.
sysroot=${HARBOR_HA_SYSROOT:-}
install -d -m 0755 "$sysroot/usr/local/sbin" "$sysroot/etc/systemd/system"
units_from=$PUT_CHANGED
put_file "$sysroot/usr/local/sbin/harbor-ha-boot" 0755 <<'HARBOR_HA_BOOT'
#!/bin/bash
# harbor-ha: Harbor's compose project at boot, its log service first (/etc/systemd/system/harbor-ha.service).
set -euo pipefail
cd "$1"
compose() {
  if docker compose version >/dev/null 2>&1; then docker compose "$@"
  elif command -v docker-compose >/dev/null 2>&1; then docker-compose "$@"
  else echo "neither the docker compose plugin nor docker-compose is installed" >&2; return 1
  fi
}
# Not piped into grep -q: under pipefail its early exit would fail the pipe (SIGPIPE) at random.
services=$(compose config --services)
if grep -qx log <<<"$services"; then
  compose up -d log
  up=0
  for _ in $(seq 60); do
    up=1
    while read -r addr; do
      (exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}") 2>/dev/null || up=0
    done < <(docker port "$(compose ps -q log)" | awk '$2 == "->" {print $3}')
    [ "$up" = 1 ] && break
    sleep 1
  done
  [ "$up" = 1 ] || echo "harbor-ha: the log service's ports do not accept connections after 60 s; starting the rest anyway" >&2
fi
compose up -d
HARBOR_HA_BOOT
put_file "$sysroot/etc/systemd/system/harbor-ha.service" 0644 <<'HARBOR_HA_UNIT'
[Unit]
Description=harbor-ha: Harbor's containers in /opt/harbor, the log service first
Documentation=https://github.com/goharbor/harbor/issues/7008
Requires=docker.service
After=docker.service
RequiresMountsFor=/mnt/cephfs/harbor
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/harbor-ha-boot /opt/harbor
TimeoutStartSec=600
[Install]
WantedBy=multi-user.target
HARBOR_HA_UNIT
if [ "$PUT_CHANGED" -gt "$units_from" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
systemctl enable --quiet harbor-ha.service
put_file "$dir"/.harbor-ha/deployed 0644 <<'HARBOR_HA_RECORD'
# harbor-ha: what this node runs (read by UpgradeStop)
version=2.15.2
schema=0180
cluster=c0ffee00c0ffee00
HARBOR_HA_RECORD
undrain_node
# In service again: a node waiting to go out may go now (render/scripts/serviceGuard.ts).
set_service_state in
echo "$healthy"
}

main; exit 0
