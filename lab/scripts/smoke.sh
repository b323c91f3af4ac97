#!/usr/bin/env bash
# Smoke checks of a running lab (after lab/scripts/up.sh). Leaves nothing behind in the VMs.
#   lab/scripts/smoke.sh            all checks
#   lab/scripts/smoke.sh ceph ssh   only some: engine ssh ceph cephfs dind mysql postgres redis lb
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OUT="${LAB_STATE}/outputs.json"
KEY="${LAB_STATE}/ssh/id_ed25519"
KNOWN="${LAB_STATE}/ssh/known_hosts"
CHECKS=("$@"); (( ${#CHECKS[@]} )) || CHECKS=(engine ssh ceph cephfs dind mysql postgres redis lb)
passed=0 failed=0 failures=()

out() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); exec("v=d"+sys.argv[2]); print(v if not isinstance(v,(dict,list)) else json.dumps(v))' "$OUT" "$1"; }
vmssh() { # vmssh INDEX(0-based) CMD... (strict host key checking against the lab's known_hosts)
  local port; port=$(out "['vms'][$1]['sshPort']"); shift
  ssh -i "$KEY" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes \
    -o UserKnownHostsFile="$KNOWN" -o ConnectTimeout=10 -o LogLevel=ERROR -p "$port" root@127.0.0.1 "$@"
}
run_check() {
  local name="$1" t; t=$(lab_now)
  if "check_$name" >"${LAB_LOG}/smoke-${name}.log" 2>&1; then
    passed=$((passed + 1)); lab_log "PASS ${name} ($(lab_since "$t"))"
  else
    failed=$((failed + 1)); failures+=("$name")
    lab_log "FAIL ${name} ($(lab_since "$t")); last lines of ${LAB_LOG}/smoke-${name}.log:"
    tail -n 15 "${LAB_LOG}/smoke-${name}.log" | sed 's/^/[lab]     /' >&2
  fi
}

check_engine() {
  "${LAB_ROOT}/scripts/engine.sh" status
  docker network inspect "$LAB_NET" -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' | grep -qx "$LAB_SUBNET"
}

check_ssh() {
  local n i; n=$(out "['vms'].__len__()")
  for ((i = 0; i < n; i++)); do
    echo "vm index $i: $(vmssh "$i" 'hostname; ip -4 -o addr show eth0 | awk "{print \$4}"' | tr '\n' ' ')"
  done
}

check_ceph() {
  local h; h=$(docker exec ceph ceph --connect-timeout 10 health detail)
  echo "$h"
  # HEALTH_WARN is accepted only for size-1 pool warnings.
  [[ "$h" == HEALTH_OK* ]] && return 0
  [[ "$h" == HEALTH_WARN* ]] && ! grep -E '^\[WRN\]' <<<"$h" | grep -vqE 'POOL_NO_REDUNDANCY|POOL_TOO_FEW|SMALLER_PGP'
}

# ceph-fuse inside vm1 and vm2 with the client key from the outputs; a file written on vm1 must be
# visible on vm2. Uses a private conf/keyring/mountpoint and removes them afterwards.
check_cephfs() {
  local mon name root secret token
  mon=$(out "['ceph']['monitors'][0]"); name=$(out "['ceph']['clientName']")
  root=$(out "['ceph']['rootPath']"); secret=$(out "['ceph']['secret']")
  token="smoke-$(date +%s)-$RANDOM"
  local setup="set -e; d=/run/lab-smoke; mkdir -p \$d /mnt/lab-smoke
    printf '[global]\nmon host = %s\n' '${mon}' >\$d/ceph.conf
    printf '[client.%s]\nkey = %s\n' '${name}' \"\$(cat)\" >\$d/keyring; chmod 600 \$d/keyring
    mountpoint -q /mnt/lab-smoke || timeout 60 ceph-fuse -c \$d/ceph.conf -n client.${name} -k \$d/keyring -r '${root}' /mnt/lab-smoke >/dev/null
    mountpoint /mnt/lab-smoke"
  local cleanup="umount /mnt/lab-smoke 2>/dev/null || fusermount -u /mnt/lab-smoke 2>/dev/null || true; rm -rf /run/lab-smoke; rmdir /mnt/lab-smoke 2>/dev/null || true"
  local rc=0
  vmssh 0 "$setup" <<<"$secret" && vmssh 1 "$setup" <<<"$secret" \
    && vmssh 0 "echo ${token} >/mnt/lab-smoke/${token}.txt && sync" \
    && vmssh 1 "for i in \$(seq 20); do grep -qx ${token} /mnt/lab-smoke/${token}.txt 2>/dev/null && exit 0; sleep 0.5; done; exit 1" \
    && echo "file written on vm1 read on vm2: ${token}" \
    && vmssh 1 "rm -f /mnt/lab-smoke/${token}.txt" || rc=1
  vmssh 0 "$cleanup" || true; vmssh 1 "$cleanup" || true
  return $rc
}

# Builds a tiny rootfs (dash + nc + their libraries) inside the VM and imports it into the VM's own
# engine, so no image has to come from outside.
TINY_IMAGE=lab-smoke/tiny:1
make_tiny='set -e
docker image inspect '"$TINY_IMAGE"' >/dev/null 2>&1 && exit 0
d=$(mktemp -d); trap "rm -rf $d" EXIT
for b in /bin/sh /bin/cat; do
  real=$(readlink -f $b); mkdir -p $d$(dirname $real) $d/bin; cp $real $d$real; ln -sf $real $d$b 2>/dev/null || true
  for l in $(ldd $real | grep -o "/[^ ]*"); do mkdir -p $d$(dirname $l); cp -L $l $d$l; done
done
tar -C $d -c . | docker import - '"$TINY_IMAGE"' >/dev/null'

check_dind() {
  vmssh 0 "$make_tiny"
  vmssh 0 "docker run --rm ${TINY_IMAGE} /bin/sh -c 'echo hello from a container of the inner engine'" \
    | grep -q 'hello from a container'
  # the path the offline installer takes: docker save | docker load into another VM's engine
  vmssh 0 "docker save ${TINY_IMAGE}" | vmssh 1 "docker load" && vmssh 1 "docker run --rm ${TINY_IMAGE} /bin/sh -c 'echo loaded on vm2'"
}

check_mysql() {
  local host port user pw; host=$(out "['mysql']['host']"); port=$(out "['mysql']['port']")
  user=$(out "['mysql']['adminUser']"); pw=$(out "['mysql']['adminPassword']")
  vmssh 0 "MYSQL_PWD=\$(cat) mysql -h ${host} -P ${port} -u ${user} --connect-timeout=10 -N -e 'SELECT VERSION()'" <<<"$pw"
  # and a wrong password is refused
  ! vmssh 0 "MYSQL_PWD=wrong mysql -h ${host} -P ${port} -u ${user} --connect-timeout=10 -e 'SELECT 1'" 2>/dev/null
}

# The VM image has no psql: a VM resolves the name through the lab's DNS and reaches the port, and
# the password login goes over TCP to that same lab address from the server's own container.
check_postgres() {
  local host addr port user pw; host=$(out "['postgres']['host']"); addr=$(out "['postgres']['address']")
  port=$(out "['postgres']['port']"); user=$(out "['postgres']['adminUser']"); pw=$(out "['postgres']['adminPassword']")
  # run_check calls this in a condition, where set -e does not apply: each step returns on failure.
  vmssh 0 "getent hosts ${host} | awk '{print \$1}' | grep -qx '${addr}' && nc -z -w 10 ${host} ${port}" || return 1
  echo "vm1: ${host} is ${addr}, port ${port} open"
  docker exec -i postgres sh -c "PGPASSWORD=\$(cat) PGCONNECT_TIMEOUT=10 psql -X -A -t -h ${addr} -p ${port} -U ${user} -d postgres \
    -c 'SHOW server_version'" <<<"$pw" || return 1
  # and a wrong password is refused
  ! docker exec postgres sh -c "PGPASSWORD=wrong PGCONNECT_TIMEOUT=10 psql -X -h ${addr} -p ${port} -U ${user} -d postgres -c 'SELECT 1'" 2>/dev/null
}

check_redis() {
  local host port pw; host=$(out "['redis']['host']"); port=$(out "['redis']['port']"); pw=$(out "['redis']['password']")
  vmssh 1 "REDISCLI_AUTH=\$(cat) redis-cli --no-auth-warning -h ${host} -p ${port} ping" <<<"$pw" | grep -qx PONG
  vmssh 1 "redis-cli -h ${host} -p ${port} ping" 2>&1 | grep -q NOAUTH
  echo "PONG with password, NOAUTH without"
}

# The LB runs a harbor-ha stack's loadBalancer output (lab/scripts/lb-config.sh): every node it
# balances over must pass that config's health check.
check_lb() {
  if [[ ! -s "${LAB_STATE}/lb/haproxy.cfg" ]]; then echo "LB waits for a stack's config (lab/scripts/lb-config.sh dev): skipped"; return 0; fi
  local states
  states=$(docker exec lb curl -fsS -m 5 'http://127.0.0.1:8404/;csv' | awk -F, '$1 == "harbor-nodes" && $2 != "BACKEND" {print $2 "=" $18}' | tr '\n' ' ')
  echo "LB nodes: ${states}"
  [[ -n "$states" && "$states" != *DOWN* ]]
}

[[ -s "$OUT" ]] || lab_die "no ${OUT}: run lab/scripts/up.sh first"
lab_require_engine
mkdir -p "$LAB_LOG"
T0=$(lab_now)
for c in "${CHECKS[@]}"; do
  declare -F "check_$c" >/dev/null || lab_die "unknown check '$c'"
  run_check "$c"
done
lab_log "smoke done in $(lab_since "$T0")${failures[*]:+; failed: ${failures[*]}}"
echo "${passed} passed, ${failed} failed"
(( failed == 0 ))
