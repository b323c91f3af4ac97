// Drain: a node leaves the load balancer before Harbor restarts on it, and comes back after.
// Harbor's own nginx answers the load balancer's check from a conf.d file the deploy writes after
// prepare (prepare empties conf.d in 1.x): 503 while a flag file exists, else what Harbor's health
// endpoint says. The flag sits in conf.d too, which the running proxy sees at once: both
// generations bind-mount common/config/nginx at /etc/nginx, and nginx tests the file per request.
import { q } from "./shell";

export const drainCheckPath = "/harbor-ha/health";
/**
 * Drain-aware too, but only "Harbor answers" (2.x: /api/v2.0/ping): what the load balancer falls
 * back to when no node passes the full check, i.e. a shared dependency is down for all of them.
 */
export const drainReachablePath = "/harbor-ha/reachable";
/** Relative to the install directory. */
export const nginxConfD = "common/config/nginx/conf.d";
const flagFile = "harbor-ha.drained";

/** The load balancer's timing and how long a drained node keeps serving (config loadBalancer). */
export interface DrainSettings {
    drainSeconds: number;
    checkIntervalSeconds: number;
    fall: number;
    rise: number;
}

/** nginx location of the check: Harbor's health through its own upstream, unless drained. */
export function drainLocation(upstream: string, healthPath: string, at = drainCheckPath): string {
    return `# harbor-ha: the load balancer's check. 503 while the node is drained: no new connections.
location = ${at} {
    if (-f /etc/nginx/conf.d/${flagFile}) {
        return 503 "drained\\n";
    }
    proxy_pass http://${upstream}${healthPath};
}
`;
}

/** A server block of its own (Harbor 1.x's https server has no include for extra locations). */
export function drainServer(port: number, location: string): string {
    return `server {
    listen ${port};
${location.trimEnd().split("\n").map(l => `    ${l}`).join("\n")}
    location / {
        return 404;
    }
}
`;
}

/**
 * drain_node and undrain_node, called where $dir, compose and $node_name are defined. A node that
 * runs Harbor keeps serving what it has for drainSeconds once the load balancer stops sending it
 * new connections; undrain waits until the load balancer has had `rise` good checks.
 */
export function drainFns(d: DrainSettings): string {
    const backIn = (d.rise + 1) * d.checkIntervalSeconds;
    const flag = `"$dir"/${q(`${nginxConfD}/${flagFile}`)}`;
    return `proxy_running() {
  local id
  id=$(compose ps -q proxy 2>/dev/null | head -n 1)
  [ -n "$id" ] && [ "$(docker inspect -f '{{.State.Running}}' "$id" 2>/dev/null)" = true ]
}
drain_node() {
  mkdir -p "$dir"/${q(nginxConfD)}
  touch ${flag}
  if proxy_running; then
    echo "$node_name: drained; the load balancer takes it out within ${d.fall * d.checkIntervalSeconds}s, requests in flight have ${d.drainSeconds}s"
    sleep ${d.drainSeconds}
  fi
}
undrain_node() {
  rm -f ${flag}
  sleep ${backIn}
  echo "$node_name: back in the load balancer (${d.rise} checks every ${d.checkIntervalSeconds}s)"
}`;
}
