# harbor-ha: deploy Harbor 1.2.2 on harbor-1

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
  if command -v docker-compose >/dev/null 2>&1; then docker-compose "$@"
  elif docker compose version >/dev/null 2>&1; then docker compose "$@"
  else echo "neither docker-compose nor the docker compose plugin is installed" >&2; return 1
  fi
}

# find_python: the first of python2.7, python2, python that is Python 2.7
find_python() {
  local c path
  for c in python2.7 python2 python; do
    path=$(command -v "$c" 2>/dev/null) || continue
    "$path" -c 'import sys; v = sys.version_info; sys.exit(0 if (v[0] == 2 and 7 <= v[1] <= 7) else 1)' 2>/dev/null || continue
    echo "$path $("$path" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
    return 0
  done
  return 1
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
dir=/opt/harbor
data=/mnt/cephfs/harbor/data
node_name=harbor-1
stage="$dir/.harbor-ha"
log="$stage/deploy.log"
[ -f "$dir/prepare" ] || { echo "harbor-1: no installer in $dir (prepare missing)" >&2; exit 1; }
mountpoint -q /mnt/cephfs/harbor || { echo "harbor-1: CephFS is not mounted at /mnt/cephfs/harbor" >&2; exit 1; }
read -r python python_version < <(find_python) || { echo 'harbor-1: Harbor 1.2.2'\''s prepare (#!/usr/bin/python) needs Python 2.7: none of python2.7, python2, python is. Provide it with scripts/node-python2.sh (README: "Python 2 on current distributions")' >&2; exit 1; }
mkdir -p "$stage"
read_bundle "$dir"
# One secretkey for the whole cluster, on shared storage. It encrypts settings stored with the data,
# so a key already there (e.g. after pulumi destroy and a new up) belongs to that data and is kept.
mkdir -p "$data"
if [ ! -s "$data/secretkey" ]; then
  install -m 0600 "$stage/secretkey" "$data/secretkey.harbor-ha.$$"
  mv -n "$data/secretkey.harbor-ha.$$" "$data/secretkey" 2>/dev/null || true
  rm -f "$data/secretkey.harbor-ha.$$"
fi
[ "$(wc -c <"$data/secretkey")" = 16 ] || { echo "harbor-1: $data/secretkey is not 16 bytes; Harbor cannot use it" >&2; exit 1; }
cd "$dir"
: >"$log"
fail() { echo "harbor-1: $1 failed; last lines of $log:" >&2; tail -n 20 "$log" >&2; exit 1; }
echo "prepare: $python ($python_version)" >>"$log"
"$python" ./prepare >>"$log" 2>&1 || fail "prepare ($python)"
install -m 0600 "$stage/token/private_key.pem" common/config/ui/private_key.pem
install -m 0644 "$stage/token/root.crt" common/config/registry/root.crt
install -D -m 0644 "$stage/nginx/harbor-ha-health.server.conf" common/config/nginx/conf.d/harbor-ha-health.server.conf
# nginx's workers run unprivileged (no user directive) and test the drain flag's path themselves: the
# directories prepare made under this script's umask must be searchable.
chmod 0755 common/config/nginx common/config/nginx/conf.d
# Out of the load balancer before anything restarts; back in only once healthy.
drain_node
# Recreate every container: each must read the new config and keys (a bind-mounted file keeps its
# old inode), and the proxy resolves the others' addresses only when it starts.
compose up -d --force-recreate >>"$log" 2>&1 || fail "docker-compose up"
healthy=""
for i in $(seq 1 180); do
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
  if command -v docker-compose >/dev/null 2>&1; then docker-compose "$@"
  elif docker compose version >/dev/null 2>&1; then docker compose "$@"
  else echo "neither docker-compose nor the docker compose plugin is installed" >&2; return 1
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
version=1.2.2
schema=
cluster=c0ffee00c0ffee00
HARBOR_HA_RECORD
undrain_node
# In service again: a node waiting to go out may go now (render/scripts/serviceGuard.ts).
set_service_state in
echo "$healthy"
}

main; exit 0
