// One node out of service at a time, held by the nodes themselves. The plan orders changes node by
// node, but a plan can be wrong: a stack that lost its record (no harborVersion output) takes a
// running cluster for a new one and starts nodes 2..N together. So before a node that serves leaves
// the load balancer, it waits, under a lock on the shared volume, until every other node is in
// service: it says so on the shared volume (a change that took it out ended) and it passes the
// load balancer's own check.
import { DrainCheck } from "../loadBalancer";
import { stageDir } from "./stage";
import { putFileFn, q, remoteScript, RemoteScript } from "./shell";

/** The cluster's nodes and their checks, in the node's install directory (NodePeers writes it). */
export const peersFile = `${stageDir}/peers`;
/** In the shared data volume: one file per node that has served, "in <epoch>" or "out <epoch>". */
export const serviceStateDir = ".harbor-ha-nodes";
export const serviceLockFile = ".harbor-ha-service.lock";

/** How long a node waits for the others to be back in service before it refuses to go out. */
export const peerWaitSeconds = 600;

export interface Peer {
    name: string;
    address: string;
}

/** "<name> <url>" per node: the check the load balancer makes (render/loadBalancer.ts). */
export function renderPeers(nodes: Peer[], check: DrainCheck): string {
    return nodes.map(n => `${n.name} ${check.tls ? "https" : "http"}://${n.address}:${check.port}${check.path}\n`).join("");
}

/** Writes the node list; nothing else on the node changes with it. */
export function writePeersScript(installDir: string, nodeName: string): RemoteScript {
    return remoteScript(`node list on ${nodeName}`, `
dir=${q(installDir)}
mkdir -p "$dir"/${q(stageDir)}
put_file "$dir"/${q(peersFile)} 0644
echo "${nodeName}: node list $([ "$PUT_CHANGED" = 0 ] && echo kept || echo written)"
`, [putFileFn]);
}

export interface GuardSpec {
    installDir: string;
    /** The shared data volume (CephFS). */
    dataPath: string;
    /** The Host header the load balancer's check sends. */
    domain: string;
    /** Body text that means unhealthy although the status is 200 (DrainCheck.refuse). */
    refuse?: string;
    waitSeconds?: number;
}

/**
 * take_out_of_service and set_service_state, where $node_name, drained and mark_drained are defined
 * (drainFns). The peer check sends no credential and, like the load balancer's, does not verify the
 * certificate: its answer only delays a change.
 */
export function serviceGuardFns(g: GuardSpec): string {
    const wait = g.waitSeconds ?? peerWaitSeconds;
    const stateDir = `${g.dataPath.replace(/\/+$/, "")}/${serviceStateDir}`;
    const refuse = g.refuse ? ` && ! grep -qF ${q(g.refuse)} <<<"$body"` : "";
    return `service_state_dir=${q(stateDir)}
service_lock=${q(`${g.dataPath.replace(/\/+$/, "")}/${serviceLockFile}`)}
service_peers=${q(`${g.installDir.replace(/\/+$/, "")}/${peersFile}`)}
# set_service_state in|out: this node's word to the others, on the shared volume.
set_service_state() {
  mkdir -p "$service_state_dir"
  printf '%s %s\\n' "$1" "$(date +%s)" >"$service_state_dir/.$node_name.$$"
  mv -f "$service_state_dir/.$node_name.$$" "$service_state_dir/$node_name"
}
# peer_in_service NAME URL: it says it is in service and passes the load balancer's check.
peer_in_service() {
  local state body
  state=$(cat "$service_state_dir/$1" 2>/dev/null) || return 1
  [ "\${state%% *}" = in ] || return 1
  body=$(curl -fsS -k -m 3 -H ${q(`Host: ${g.domain}`)} "$2" 2>/dev/null)${refuse}
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
  printf '%s' "\${out# }"
}
# take_out_of_service: under the cluster's lock, once no other node is out, this one is marked out
# and drained; the next node to ask sees it out (its state and its check) and waits.
take_out_of_service() {
  local out said="" start=$SECONDS
  [ -f "$service_peers" ] || { echo "$node_name: no node list at $service_peers" >&2; exit 1; }
  mkdir -p "$service_state_dir"
  exec 9>>"$service_lock"
  flock -w ${wait} 9 || { echo "$node_name: another node held $service_lock for ${wait}s" >&2; exit 1; }
  while out=$(others_out); [ -n "$out" ]; do
    if [ $((SECONDS - start)) -ge ${wait} ]; then
      echo "$node_name: not taken out of service: $out out of service for ${wait}s, and harbor-ha takes one node out at a time. Bring it back (a pulumi up repairs a node whose change failed) or remove it from harbor-ha:nodes, then run pulumi up again" >&2
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
}`;
}

/**
 * Before a change of a deploy (HarborNode's take-out step, after its recheck): a node that serves
 * leaves the load balancer only once every other node is in service. The deploy that follows finds
 * it drained and puts it back when healthy.
 */
export function takeOutScript(nodeName: string, g: GuardSpec, fns: string[]): RemoteScript {
    return remoteScript(`take ${nodeName} out of service`, `
dir=${q(g.installDir)}
node_name=${q(nodeName)}
if [ -f "$dir/docker-compose.yml" ]; then cd "$dir"; fi
if ! proxy_running; then
  echo "$node_name: not serving; nothing to take out"
elif drained; then
  echo "$node_name: out of service already"
else
  take_out_of_service
  echo "$node_name: out of service for the change"
fi
`, [...fns, serviceGuardFns(g)]);
}
