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
    return `# HAProxy for the Harbor registry ${s.domain} (${s.nodes.length} nodes), rendered by harbor-ha:
#   pulumi stack output loadBalancer --json | jq -r .haproxy
# TLS passes through to the nodes. Each node is checked on ${scheme}://<node>:${s.check.port}${s.check.path},
# which answers 503 while harbor-ha drains the node for a change: it then gets no new connections,
# while those it has finish. A refused connection is tried again on another node.
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
    default_backend harbor-nodes

backend harbor-nodes
    balance roundrobin
    option httpchk
    http-check send meth GET uri ${s.check.path} ver HTTP/1.1 hdr Host ${s.domain}
    http-check expect status 200
    default-server inter ${s.checkIntervalSeconds}s fall ${s.fall} rise ${s.rise}
${servers.join("\n")}
`;
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
