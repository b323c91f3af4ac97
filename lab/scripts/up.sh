#!/usr/bin/env bash
# Bring the whole local lab up: engine, images, network, ceph/mariadb/postgres/redis/lb and N "VMs".
#
#   lab/scripts/up.sh [--shell|--pulumi]
#
# Provisioner: the Pulumi project in lab/ (stack `lab`) when the Pulumi CLI and the docker plugin
# are available (scripts/pulumi-env.sh), else this script's own docker-CLI provisioner (--shell).
# The load balancer runs the harbor-ha stack's loadBalancer output, which lab/scripts/lb-config.sh
# writes into ${LAB_STATE}/lb (it waits for one until a stack is deployed).
# Either way the stack outputs end up in ${LAB_STATE}/outputs.json (mode 600, secrets in clear)
# and an ssh known_hosts with the VMs' pinned host keys in ${LAB_STATE}/ssh/known_hosts.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MODE="${LAB_PROVISIONER:-auto}"
for a in "$@"; do
  case "$a" in
    --shell) MODE=shell ;;
    --pulumi) MODE=pulumi ;;
    *) lab_die "usage: up.sh [--shell|--pulumi]" ;;
  esac
done

T0=$(lab_now)
"${LAB_ROOT}/scripts/engine.sh" start
"${LAB_ROOT}/images/build.sh" >/dev/null
VM_IMAGE=$(lab_image_tag vm)
SVC_IMAGE=$(lab_image_tag svc)
"${LAB_ROOT}/scripts/keys.sh" >/dev/null

if [[ "$MODE" == auto ]]; then
  if "${LAB_ROOT}/scripts/pulumi.sh" available 2>/dev/null; then MODE=pulumi; else MODE=shell; fi
fi
lab_log "provisioner: ${MODE}"

# A lab made by the other provisioner is removed first (engine and data stay): both use the same
# container names and addresses. Shell-made containers carry the label harbor-ha-lab.spec.
other=0
while read -r c; do
  spec=$(docker inspect -f '{{index .Config.Labels "harbor-ha-lab.spec"}}' "$c")
  if [[ "$MODE" == pulumi && -n "$spec" ]] || [[ "$MODE" == shell && -z "$spec" ]]; then other=1; fi
done < <(docker ps -a --filter label=harbor-ha-lab=1 --format '{{.Names}}')
if (( other )); then
  lab_log "the running lab was made by the other provisioner: removing it first (data is kept)"
  "${LAB_ROOT}/scripts/down.sh" --keep-engine
fi

# --------------------------------------------------------------------------------------------
# Shell provisioner (fallback; same containers, names, addresses and outputs as lab/index.ts)
# --------------------------------------------------------------------------------------------
SECRETS="${LAB_STATE}/secrets.env"

ensure_secrets() {
  [[ -s "$SECRETS" ]] && return 0
  umask 077
  python3 - >"$SECRETS.tmp" <<'EOF'
import base64, os, secrets, struct, time, uuid
def pw(n=24):
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(n))
# cephx key: le16 type(1=AES) + le32 sec + le32 nsec + le16 len(16) + 16 random bytes, base64
ceph_key = base64.b64encode(struct.pack("<HIIH", 1, int(time.time()), 0, 16) + os.urandom(16)).decode()
print(f"MARIADB_ROOT_PASSWORD={pw()}")
print(f"REDIS_PASSWORD={pw()}")
print(f"CEPH_CLIENT_KEY={ceph_key}")
print(f"CEPH_FSID={uuid.uuid4()}")
print(f"POSTGRES_PASSWORD={pw()}")
EOF
  mv "$SECRETS.tmp" "$SECRETS"
}

# A secrets.env made before a secret existed gets that one appended (the others stay as they are).
ensure_secret() {
  local name="$1"
  grep -q "^${name}=" "$SECRETS" && return 0
  umask 077
  python3 -c 'import secrets, sys
alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
print(sys.argv[1] + "=" + "".join(secrets.choice(alphabet) for _ in range(24)))' "$name" >>"$SECRETS"
}

ensure_network() {
  if docker network inspect "$LAB_NET" >/dev/null 2>&1; then return 0; fi
  docker network create --driver bridge --subnet "$LAB_SUBNET" --gateway "$LAB_GATEWAY" \
    --label harbor-ha-lab=1 \
    -o com.docker.network.bridge.name="$LAB_BRIDGE" \
    -o com.docker.network.bridge.enable_ip_masquerade=false "$LAB_NET" >/dev/null
  lab_log "network ${LAB_NET} ${LAB_SUBNET} (bridge ${LAB_BRIDGE})"
}

# run_container NAME ARGS... : (re)create NAME when its spec changed, else make sure it runs.
run_container() {
  local name="$1"; shift
  local spec; spec=$(printf '%s\n' "$@" | sha256sum | cut -c1-16)
  local cur; cur=$(docker inspect -f '{{index .Config.Labels "harbor-ha-lab.spec"}}' "$name" 2>/dev/null || true)
  if [[ "$cur" == "$spec" ]]; then
    [[ "$(docker inspect -f '{{.State.Running}}' "$name")" == true ]] || docker start "$name" >/dev/null
    lab_log "${name}: up to date"
    return 0
  fi
  [[ -n "$cur" ]] && { lab_log "${name}: spec changed, recreating"; docker rm -f "$name" >/dev/null; }
  docker rm -f "$name" >/dev/null 2>&1 || true
  docker run -d --name "$name" --hostname "$name" --label harbor-ha-lab=1 --label "harbor-ha-lab.spec=${spec}" \
    --network "$LAB_NET" --restart unless-stopped "$@" >/dev/null
  lab_log "${name}: created"
}

shell_up() {
  ensure_secrets
  ensure_secret POSTGRES_PASSWORD
  # shellcheck disable=SC1090
  source "$SECRETS"
  ensure_network
  mkdir -p "$LAB_DATA"/{ceph,mariadb,postgres,redis}
  run_container ceph --ip "$LAB_IP_CEPH" -v "$LAB_DATA/ceph:/var/lib/ceph" \
    -e CEPH_MON_IP="$LAB_IP_CEPH" -e CEPH_PUBLIC_NETWORK="$LAB_SUBNET" -e CEPH_FSID="$CEPH_FSID" \
    -e CEPH_CLIENT_NAME=harbor -e CEPH_CLIENT_KEY="$CEPH_CLIENT_KEY" -e CEPH_MKDIRS=/apps/harbor \
    --health-cmd 'test -e /dev/shm/lab-ceph.ready' --health-interval 2s --health-retries 90 --health-start-period 20s \
    --stop-timeout 30 "$SVC_IMAGE" lab-ceph
  run_container mariadb --ip "$LAB_IP_MARIADB" -v "$LAB_DATA/mariadb:/var/lib/mysql" \
    --health-cmd 'test -e /dev/shm/lab-mariadb.ready' --health-interval 2s --health-retries 90 \
    -e MARIADB_ROOT_PASSWORD="$MARIADB_ROOT_PASSWORD" "$SVC_IMAGE" lab-mariadb
  run_container postgres --ip "$LAB_IP_POSTGRES" -v "$LAB_DATA/postgres:/var/lib/postgresql/data" \
    --health-cmd 'test -e /dev/shm/lab-postgres.ready' --health-interval 2s --health-retries 90 \
    --stop-timeout 30 -e POSTGRES_PASSWORD="$POSTGRES_PASSWORD" "$SVC_IMAGE" lab-postgres
  run_container redis --ip "$LAB_IP_REDIS" -v "$LAB_DATA/redis:/var/lib/redis" \
    --health-cmd 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli --no-auth-warning ping | grep -q PONG' --health-interval 2s --health-retries 90 \
    -e REDIS_PASSWORD="$REDIS_PASSWORD" "$SVC_IMAGE" lab-redis
  run_container dns --ip "$LAB_IP_DNS" -e LAB_DNS_RECORDS="$(lab_dns_records)" \
    --health-cmd 'kill -0 1' --health-interval 2s --health-retries 90 "$SVC_IMAGE" lab-dns
  local i pub; pub=$(cat "${LAB_STATE}/ssh/id_ed25519.pub")
  for ((i = 1; i <= LAB_VM_COUNT; i++)); do
    mkdir -p "$LAB_DATA/vm$i/docker" "$LAB_DATA/vm$i/disk"
    run_container "vm$i" --ip "$(lab_vm_ip "$i")" -p "127.0.0.1:$(lab_vm_sshport "$i"):22" \
      --cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined \
      --security-opt apparmor=unconfined --cgroupns host \
      -v /sys/fs/cgroup:/sys/fs/cgroup:rw --device /dev/fuse \
      -v "$LAB_DATA/vm$i/docker:/var/lib/docker" -v "$LAB_DATA/vm$i/disk:/data" --stop-timeout 30 \
      --dns "$LAB_IP_DNS" --dns-search "$LAB_DOMAIN" \
      --health-cmd 'test -s /etc/ssh/ssh_host_ed25519_key.pub && kill -0 $(cat /run/sshd.pid) && docker version >/dev/null' \
      --health-interval 2s --health-retries 90 \
      -e LAB_SSH_AUTHORIZED_KEYS="$pub" "$VM_IMAGE"
  done
  mkdir -p "$LAB_STATE/lb"
  run_container lb --ip "$LAB_IP_LB" -p "127.0.0.1:${LAB_LB_PORT}:${LAB_LB_PORT}" \
    -v "$LAB_STATE/lb:/etc/harbor-ha-lb:ro" "$SVC_IMAGE" lab-lb
}

wait_ready() {
  local i
  lab_wait 180 "ceph: bootstrap (docker logs ceph)" docker exec ceph test -e /dev/shm/lab-ceph.ready \
    || { docker logs --tail 30 ceph >&2; lab_die "ceph container did not become ready"; }
  lab_wait 120 "mariadb: server ready (docker logs mariadb)" docker exec mariadb test -e /dev/shm/lab-mariadb.ready \
    || { docker logs --tail 30 mariadb >&2; lab_die "mariadb container did not become ready"; }
  lab_wait 120 "postgres: password login over TCP (docker logs postgres)" docker exec postgres test -e /dev/shm/lab-postgres.ready \
    || { docker logs --tail 30 postgres >&2; lab_die "postgres container did not become ready"; }
  lab_wait 60 "redis: PING" docker exec redis sh -c 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ping | grep -q PONG' \
    || { docker logs --tail 30 redis >&2; lab_die "redis container did not answer PING"; }
  for ((i = 1; i <= LAB_VM_COUNT; i++)); do
    lab_wait 60 "vm$i: sshd + inner dockerd" docker exec "vm$i" sh -c 'test -s /etc/ssh/ssh_host_ed25519_key.pub && kill -0 $(cat /run/sshd.pid) && docker version' \
      || { docker logs --tail 30 "vm$i" >&2; lab_die "vm$i did not come up (sshd or inner dockerd)"; }
  done
}

shell_outputs() {
  # shellcheck disable=SC1090
  source "$SECRETS"
  local i vms=()
  for ((i = 1; i <= LAB_VM_COUNT; i++)); do
    vms+=("vm$i" "$(lab_vm_sshport "$i")" "$(lab_vm_ip "$i")" \
      "$(docker exec "vm$i" cat /etc/ssh/ssh_host_ed25519_key.pub | awk '{print $1" "$2}')")
  done
  umask 077
  MARIADB_ROOT_PASSWORD="$MARIADB_ROOT_PASSWORD" REDIS_PASSWORD="$REDIS_PASSWORD" CEPH_CLIENT_KEY="$CEPH_CLIENT_KEY" \
  POSTGRES_PASSWORD="$POSTGRES_PASSWORD" \
  python3 - "$LAB_IP_CEPH" "$LAB_IP_MARIADB" "$LAB_IP_REDIS" "$LAB_LB_PORT" "${LAB_STATE}/ssh/id_ed25519" "$LAB_SUBNET" "$LAB_IP_LB" \
    "$LAB_IP_POSTGRES" "${vms[@]}" \
    >"${LAB_STATE}/outputs.json.tmp" <<'EOF'
import json, os, sys
ceph_ip, db_ip, redis_ip, lb_port, key_path, subnet, lb_ip, pg_ip, *rest = sys.argv[1:]
vms = [dict(name=rest[i], sshHost="127.0.0.1", sshPort=int(rest[i+1]), sshUser="root",
            address=rest[i+2], hostKey=rest[i+3]) for i in range(0, len(rest), 4)]
print(json.dumps({
    "network": {"name": "harbor-ha-lab", "subnet": subnet},
    "vms": vms,
    "sshPrivateKeyPath": key_path,
    "sshPublicKey": open(key_path + ".pub").read().strip(),
    "sshPrivateKey": open(key_path).read(),
    "ceph": {"monitors": [f"{ceph_ip}:6789"], "fsName": "cephfs", "clientName": "harbor",
             "rootPath": "/apps/harbor", "secret": os.environ["CEPH_CLIENT_KEY"]},
    "mysql": {"host": db_ip, "port": 3306, "adminUser": "root",
              "adminPassword": os.environ["MARIADB_ROOT_PASSWORD"]},
    "postgres": {"host": "postgres.harbor-ha.lab", "address": pg_ip, "port": 5432, "adminUser": "postgres",
                 "adminPassword": os.environ["POSTGRES_PASSWORD"]},
    "redis": {"host": "redis.harbor-ha.lab", "address": redis_ip, "port": 6379, "password": os.environ["REDIS_PASSWORD"]},
    "lb": {"url": f"http://127.0.0.1:{lb_port}", "address": lb_ip, "port": int(lb_port)},
}, indent=2))
EOF
  mv "${LAB_STATE}/outputs.json.tmp" "${LAB_STATE}/outputs.json"
}

write_known_hosts() {
  umask 077
  python3 - "${LAB_STATE}/outputs.json" >"${LAB_STATE}/ssh/known_hosts.tmp" <<'EOF'
import json, sys
for vm in json.load(open(sys.argv[1]))["vms"]:
    print(f"[{vm['sshHost']}]:{vm['sshPort']} {vm['hostKey']}")
EOF
  mv "${LAB_STATE}/ssh/known_hosts.tmp" "${LAB_STATE}/ssh/known_hosts"
}

if [[ "$MODE" == pulumi ]]; then
  "${LAB_ROOT}/scripts/pulumi.sh" up
  wait_ready
  "${LAB_ROOT}/scripts/pulumi.sh" outputs >"${LAB_STATE}/outputs.json.tmp"
  chmod 600 "${LAB_STATE}/outputs.json.tmp"; mv "${LAB_STATE}/outputs.json.tmp" "${LAB_STATE}/outputs.json"
else
  shell_up
  wait_ready
  shell_outputs
fi
write_known_hosts
lab_log "lab up (${MODE}) in $(lab_since "$T0"): outputs ${LAB_STATE}/outputs.json, ssh: lab/scripts/ssh.sh vm1"
