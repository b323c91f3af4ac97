// Drain: a node leaves the load balancer before Harbor restarts on it, and comes back after.
// Harbor's own nginx answers the load balancer's check from a conf.d file the deploy writes after
// prepare (prepare empties conf.d in 1.x): 503 while the flag exists, else what Harbor's health
// endpoint says. The flag sits in conf.d too, which the running proxy sees at once: both
// generations bind-mount common/config/nginx at /etc/nginx, and nginx tests it per request. It is
// a directory: 2.x's prepare deletes every file under common/config but keeps directories
// (utils/misc.py delfile; lab/installer-v2 row 4), so a node drained before prepare stays drained.
import { q } from "./shell";

export const drainCheckPath = "/harbor-ha/health";
/**
 * Drain-aware too, but only "Harbor answers" (2.x: /api/v2.0/ping): what the load balancer falls
 * back to when no node passes the full check, i.e. a shared dependency is down for all of them.
 */
export const drainReachablePath = "/harbor-ha/reachable";
/** Relative to the install directory. */
export const nginxConfD = "common/config/nginx/conf.d";
const flagDir = "harbor-ha.drained.d";
/** The flag as a file: what a proxy started by an older harbor-ha tests (`-f`), kept beside the directory. */
const legacyFlagFile = "harbor-ha.drained";

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
    if (-d /etc/nginx/conf.d/${flagDir}) {
        return 503 "drained\\n";
    }
    proxy_pass http://${upstream}${healthPath};
}
`;
}

/**
 * Path of the same check without the drain flag (1.x): what the deploy waits for before it undrains,
 * so a node that would not pass the load balancer's check is never reported healthy.
 */
export const readyCheckPath = "/harbor-ha/ready";
const uiCheckPath = "/harbor-ha/ui";

/**
 * 1.x's check locations. Harbor 1.x has no health endpoint that covers the registry
 * (/api/systeminfo asks only the adminserver), so the check asks the registry first, through the
 * node's own front door (`frontDoor`, inside the proxy container) the way clients reach it: 1.1's
 * nginx sends /v2/ to the registry, 1.2-1.5's through the ui's registry proxy. A registry that
 * serves answers /v2/ without a token with 401 (token auth), which leads on to the ui's own check;
 * any other answer (502: the registry or the ui down) is the check's.
 */
export function registryThenUiLocations(frontDoor: string, upstream: string, healthPath: string): string {
    const chain = `    proxy_pass ${frontDoor}/v2/;
    proxy_intercept_errors on;
    error_page 401 = ${uiCheckPath};`;
    return `# harbor-ha: the load balancer's check. 503 while the node is drained: no new connections.
location = ${drainCheckPath} {
    if (-d /etc/nginx/conf.d/${flagDir}) {
        return 503 "drained\\n";
    }
${chain}
}
location = ${readyCheckPath} {
${chain}
}
location = ${uiCheckPath} {
    internal;
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
 * new connections; undrain waits until the load balancer has had `rise` good checks. Guarded (a
 * deploy: serviceGuardFns defined too), a node that serves and is not drained yet waits for the
 * others to be in service first.
 */
export function drainFns(d: DrainSettings, guarded = false): string {
    const backIn = (d.rise + 1) * d.checkIntervalSeconds;
    const flag = `"$dir"/${q(`${nginxConfD}/${flagDir}`)}`;
    const legacy = `"$dir"/${q(`${nginxConfD}/${legacyFlagFile}`)}`;
    return `proxy_running() {
  local id
  id=$(compose ps -q proxy 2>/dev/null | head -n 1)
  [ -n "$id" ] && [ "$(docker inspect -f '{{.State.Running}}' "$id" 2>/dev/null)" = true ]
}
# mark_drained: both flags (prepare deletes the file, never the directory: call it again after
# prepare). Only where conf.d exists: without it no proxy runs here, and directories made now (as
# root, umask 077) would be ones the proxy then cannot read.
mark_drained() {
  [ -d "$dir"/${q(nginxConfD)} ] || return 0
  mkdir -p ${flag}
  touch ${legacy}
}
drained() { [ -d ${flag} ]; }
drain_node() {
  ${guarded ? "if proxy_running && ! drained; then take_out_of_service; else mark_drained; fi" : "mark_drained"}
  if proxy_running; then
    echo "$node_name: drained; the load balancer takes it out within ${d.fall * d.checkIntervalSeconds}s, requests in flight have ${d.drainSeconds}s"
    sleep ${d.drainSeconds}
  fi
}
undrain_node() {
  rmdir ${flag} 2>/dev/null || true
  rm -f ${legacy}
  sleep ${backIn}
  echo "$node_name: back in the load balancer (${d.rise} checks every ${d.checkIntervalSeconds}s)"
}`;
}
