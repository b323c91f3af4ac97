#!/usr/bin/env bash
# The lab's load balancer runs exactly the harbor-ha stack's loadBalancer output: written into
# ${LAB_STATE}/lb/haproxy.cfg (mounted into the lb container), checked by the load balancer's own
# haproxy first, then loaded without dropping connections (SIGUSR2 to the HAProxy master).
#   lab/scripts/lb-config.sh [STACK]      (default: dev)
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=lab/scripts/lib.sh
. lab/scripts/lib.sh
# shellcheck source=scripts/pulumi-env.sh
. scripts/pulumi-env.sh
stack="${1:-dev}"
hh_stack_env "$stack"
dir="$LAB_STATE/lb"
mkdir -p "$dir"
new=$(mktemp "$dir/.haproxy.cfg.XXXXXX")
trap 'rm -f "$new"' EXIT
pulumi stack output --stack "$stack" loadBalancer --json \
  | node -e 'let s = ""; process.stdin.on("data", d => s += d).on("end", () => process.stdout.write(JSON.parse(s).haproxy ?? ""))' >"$new"
[ -s "$new" ] || lab_die "stack $stack has no loadBalancer output (pulumi up first)"
chmod 644 "$new"
if cmp -s "$new" "$dir/haproxy.cfg"; then echo "[lab] load balancer: already runs stack $stack's config"; exit 0; fi
docker exec lb haproxy -c -q -f "/etc/harbor-ha-lb/$(basename "$new")" || lab_die "the load balancer refuses stack $stack's config"
mv -f "$new" "$dir/haproxy.cfg"
# Before the first config the container waits for the file; after it, the master reloads. The master
# is tini's child (lab-lb execs it); the waiting loop's `haproxy -c` checks are not, and are gone in
# an instant (signalling one of them fails).
master=$(docker exec lb pgrep -P 1 -x haproxy || true)
[ -z "$master" ] || docker exec lb kill -USR2 "$master"
# The servers of backend harbor-nodes (a 2.x config also lists them in harbor-nodes-reachable).
servers=$(awk '$1 == "backend" {b = $2} $1 == "server" && b == "harbor-nodes" {print $2}' "$dir/haproxy.cfg" | sort | tr '\n' ' ')
for _ in $(seq 30); do
  running=$(docker exec lb curl -fsS -m 2 'http://127.0.0.1:8404/;csv' 2>/dev/null \
    | awk -F, '$1 == "harbor-nodes" && $2 != "BACKEND" {print $2}' | sort | tr '\n' ' ' || true)
  [ "$running" = "$servers" ] && { echo "[lab] load balancer: runs stack $stack's config (servers: ${servers% })"; exit 0; }
  sleep 1
done
lab_die "the load balancer did not load stack $stack's config (servers: ${running:-none}; wanted: $servers)"
