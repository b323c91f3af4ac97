// The load balancer in front of the nodes, as config text (stack output `loadBalancer`): HAProxy with
// active checks on each node's drain-aware health URL, and an nginx `stream` block for those who run
// nginx. TLS passes through both: the nodes hold the certificate.

/** How the load balancer asks a node whether to send it new connections (render/scripts/drain.ts). */
export interface DrainCheck {
    /** Node port the check connects to. */
    port: number;
    /** Whether the check speaks TLS (the certificate is the cluster's, not verified by the check). */
    tls: boolean;
    /** 200 while the node serves; 503 while drained or unhealthy. */
    path: string;
    /** Text in the check's body that means unhealthy although the status is 200 (2.x's /api/v2.0/health). */
    refuse?: string;
    /**
     * A drain-aware check that asks only whether Harbor answers: the backend used while no node
     * passes `path`, so a shared dependency's outage (the database, Redis) that fails every node's
     * full check leaves clients Harbor's own answers instead of the load balancer's 503.
     */
    reachablePath?: string;
}

export interface LoadBalancerSpec {
    domain: string;
    /** The port clients use: the load balancer listens on it and the nodes publish it. */
    port: number;
    nodes: { name: string; address: string }[];
    check: DrainCheck;
    checkIntervalSeconds: number;
    fall: number;
    rise: number;
}

/** Idle and transfer timeouts: a large layer upload or pull holds one connection for a long time. */
const transferTimeout = "1h";

/** HAProxy >= 2.2 (http-check send). */
export function renderHaproxyConfig(s: LoadBalancerSpec): string {
    const scheme = s.check.tls ? "https" : "http";
    const servers = s.nodes.map(n =>
        `    server ${n.name} ${n.address}:${s.port} check port ${s.check.port}${s.check.tls ? " check-ssl verify none" : ""}`);
    const backend = (name: string, path: string, refuse?: string) => `backend ${name}
    balance roundrobin
    option httpchk
    http-check send meth GET uri ${path} ver HTTP/1.1 hdr Host ${s.domain}
    http-check expect status 200
${refuse ? `    http-check expect ! string ${refuse}\n` : ""}    default-server inter ${s.checkIntervalSeconds}s fall ${s.fall} rise ${s.rise}
${servers.join("\n")}
`;
    const reachable = s.check.reachablePath;
    return `# HAProxy for the Harbor registry ${s.domain} (${s.nodes.length} nodes), rendered by harbor-ha:
#   pulumi stack output loadBalancer --json | jq -r .haproxy
# TLS passes through to the nodes. Each node is checked on ${scheme}://<node>:${s.check.port}${s.check.path},
# which answers 503 while harbor-ha drains the node for a change: it then gets no new connections,
# while those it has finish. A refused connection is tried again on another node.${s.check.refuse ? `
# The check fails too when the node reports a component "${s.check.refuse}" (its own way to the
# database or Redis lost, say).` : ""}${reachable ? `
# When no node passes it (a shared database or Redis down for all of them), the nodes
# that still answer ${reachable} (drain-aware as well) take the traffic: clients get
# Harbor's own errors, and nothing waits for checks to rise when the dependency is back.` : ""}
global
    log stdout format raw local0 info
    # No maxconn: HAProxy derives it from its file descriptor limit (ulimit -n); raise that for more.

defaults
    mode tcp
    log global
    option tcplog
    option dontlognull
    timeout connect 5s
    timeout client ${transferTimeout}
    timeout server ${transferTimeout}
    timeout check 5s
    retries 3
    option redispatch 1

frontend harbor
    bind :${s.port}
${reachable ? "    use_backend harbor-nodes-reachable if { nbsrv(harbor-nodes) eq 0 }\n" : ""}    default_backend harbor-nodes

${backend("harbor-nodes", s.check.path, s.check.refuse)}${reachable ? `\n${backend("harbor-nodes-reachable", reachable)}` : ""}`;
}

/**
 * nginx's stream module (open source): TLS passes through; a node that refuses or fails connections
 * is skipped, but open-source nginx has no active health checks, so it cannot see a drain: during a
 * change its clients may see a node's connections refused until nginx marks it failed.
 */
export function renderNginxStreamConfig(s: LoadBalancerSpec): string {
    const servers = s.nodes.map(n => `        server ${n.address}:${s.port} max_fails=1 fail_timeout=${s.checkIntervalSeconds * s.fall}s;  # ${n.name}`);
    return `# nginx (stream module) for the Harbor registry ${s.domain} (${s.nodes.length} nodes), rendered by harbor-ha:
#   pulumi stack output loadBalancer --json | jq -r .nginx     (include it at the top level of nginx.conf)
# TLS passes through to the nodes. Open-source nginx checks nodes only passively: it cannot see
# harbor-ha's drain (${s.check.path} on port ${s.check.port}); HAProxy's config can, use it for changes
# without errors.
stream {
    upstream harbor_nodes {
${servers.join("\n")}
    }
    server {
        listen ${s.port};
        proxy_pass harbor_nodes;
        proxy_connect_timeout 5s;
        proxy_timeout ${transferTimeout};
        proxy_next_upstream on;
        proxy_next_upstream_tries 3;
    }
}
`;
}
