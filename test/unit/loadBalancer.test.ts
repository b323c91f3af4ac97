// The load balancer's config and the drain-aware check the nodes answer, as rendered (golden).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderHaproxyConfig, renderNginxStreamConfig } from "../../render/loadBalancer";
import { drainLocation } from "../../render/scripts/drain";
import { checkServerConf } from "../../render/flavors/v1";
import { requireFlavor } from "../../render/flavors";
import { assertGolden } from "../golden";

const nodes = [1, 2, 3].map(i => ({ name: `harbor-${i}`, address: `10.0.0.1${i}` }));
const spec = (version: string, protocol: "http" | "https") => ({
    domain: "hub.example.test", port: 443, nodes, check: requireFlavor(version).drainCheck(443, protocol, 8099),
    checkIntervalSeconds: 2, fall: 3, rise: 2,
});

describe("load balancer config", () => {
    it("HAProxy for a 1.x cluster (golden): TLS through, the drain-aware check on its own port", () => {
        assertGolden("haproxy-v1.cfg", renderHaproxyConfig(spec("1.2.2", "https")));
    });

    it("HAProxy for a 2.x cluster: the check speaks TLS to Harbor's own port, or plain http", () => {
        assert.match(renderHaproxyConfig(spec("2.15.2", "https")), /^    server harbor-1 10\.0\.0\.11:443 check port 443 check-ssl verify none$/m);
        assert.match(renderHaproxyConfig(spec("2.15.2", "http")), /^    server harbor-1 10\.0\.0\.11:443 check port 443$/m);
    });

    it("HAProxy for a 2.x cluster (golden): a node out when it reports a component unhealthy; with none healthy, the reachable ones serve", () => {
        const cfg = renderHaproxyConfig(spec("2.15.2", "https"));
        assertGolden("haproxy-v2.cfg", cfg);
        const nodes = (cfg.split(/^backend harbor-nodes$/m)[1] ?? "").split(/^backend /m)[0];
        assert.match(nodes, /^    http-check send meth GET uri \/harbor-ha\/health ver HTTP\/1\.1 hdr Host hub\.example\.test\n    http-check expect status 200\n    http-check expect ! string unhealthy$/m);
        const reachable = cfg.split(/^backend harbor-nodes-reachable$/m)[1] ?? "";
        assert.match(reachable, /^    http-check send meth GET uri \/harbor-ha\/reachable /m);
        assert.doesNotMatch(reachable, /unhealthy/);
        assert.match(cfg, /^frontend harbor\n    bind :443\n    use_backend harbor-nodes-reachable if \{ nbsrv\(harbor-nodes\) eq 0 \}\n    default_backend harbor-nodes$/m);
        assert.equal((reachable.match(/^    server /gm) ?? []).length, 3);
    });

    it("HAProxy for a 1.x cluster: one backend, the status alone", () => {
        const cfg = renderHaproxyConfig(spec("1.2.2", "https"));
        assert.doesNotMatch(cfg, /reachable|expect ! string/);
    });

    it("nginx stream (golden): passive checks only, said in the file", () => {
        assertGolden("nginx-stream.conf", renderNginxStreamConfig(spec("1.2.2", "https")));
    });
});

describe("the drain-aware check on a node", () => {
    it("1.x: a server of its own, 503 while drained; else the registry through the node's front door, and only on its 401 the ui's health (golden)", () => {
        const conf = checkServerConf(8099, "https");
        assertGolden("drain-server-v1.conf", conf);
        for (const at of ["/harbor-ha/health", "/harbor-ha/ready"]) {
            const block = conf.split(`location = ${at} {`)[1]?.split(/^    \}$/m)[0] ?? "";
            assert.match(block, /^        proxy_pass https:\/\/127\.0\.0\.1:443\/v2\/;\n        proxy_intercept_errors on;\n        error_page 401 = \/harbor-ha\/ui;$/m, at);
            assert.equal(/drained/.test(block), at === "/harbor-ha/health", `${at}: only the load balancer's check knows the drain`);
        }
        assert.match(conf, /^    location = \/harbor-ha\/ui \{\n        internal;\n        proxy_pass http:\/\/ui\/api\/systeminfo;\n    \}$/m);
        assert.match(checkServerConf(8099, "http"), /^        proxy_pass http:\/\/127\.0\.0\.1:80\/v2\/;$/m);
    });

    it("a location of the drain-aware check", () => {
        const l = drainLocation("core", "/api/v2.0/ping");
        assert.match(l, /^location = \/harbor-ha\/health \{$/m);
        assert.match(l, /^    if \(-d \/etc\/nginx\/conf\.d\/harbor-ha\.drained\.d\) \{\n        return 503 "drained\\n";\n    \}$/m);
        assert.match(l, /^    proxy_pass http:\/\/core\/api\/v2\.0\/ping;$/m);
        assert.doesNotMatch(l, /\$/, "no nginx variables: prepare never sees this file, and nothing to escape");
    });
});
