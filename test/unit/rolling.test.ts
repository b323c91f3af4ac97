// Changes to a running cluster go one node at a time, each drained first; a new cluster starts one
// node, then the rest together. A deploy that never finishes stands for one still running.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { decodeBundle } from "../../render/bundle";
import { stageDir, staged } from "../../render/scripts/stage";
import { assertHeldWorkWaiting, byType, fixtureInstaller, plain, plainConfig, promiseOf, registered, runStack, settled, splitStdin } from "../mocks";

after(() => assertHeldWorkWaiting("the held deploys"));

describe("a change to a running cluster", () => {
    it("redeploys one node after another: the next waits until the one before is back", async () => {
        await runStack(plainConfig(fixtureInstaller()), undefined, { deployed: { harborVersion: "1.2.2" }, held: ["cluster-harbor-2-deploy"] });
        await settled(["cluster-harbor-1-deploy", "cluster-harbor-2-deploy"]);
        assert.ok(!registered("cluster-harbor-3-deploy"), "harbor-3 went down while harbor-2 was being redeployed");
    });
});

/** The 3-node stack with every node's Docker data moved to /data/docker. */
function withDataRoots(): Record<string, unknown> {
    const cfg = plainConfig(fixtureInstaller());
    for (const n of cfg.nodes as Record<string, unknown>[]) n.dockerDataRoot = "/data/docker";
    return cfg;
}

describe("Docker data roots moved on a running cluster (each move stops Docker and Harbor with it)", () => {
    it("move one node after another: the next node's move waits until the node before is deployed", async () => {
        await runStack(withDataRoots(), undefined, { deployed: { harborVersion: "1.2.2" }, held: ["cluster-harbor-1-deploy"] });
        await settled(["cluster-harbor-1-docker-data-root-move", "cluster-harbor-1-deploy"]);
        assert.ok(!registered("cluster-harbor-2-docker-data-root-move"), "harbor-2 stopped Docker while harbor-1 was being redeployed");
        assert.ok(!registered("cluster-harbor-3-docker-data-root-move"));
    });

    it("and a node's deploy waits for its own move", async () => {
        await runStack(withDataRoots(), undefined, { deployed: { harborVersion: "1.2.2" }, held: ["cluster-harbor-2-docker-data-root-move"] });
        await settled(["cluster-harbor-1-deploy", "cluster-harbor-2-docker-data-root-move"]);
        assert.ok(!registered("cluster-harbor-2-deploy") && !registered("cluster-harbor-3-docker-data-root-move"));
    });

    it("each move drains the node before Docker stops, and puts it back only once Harbor answers again", async () => {
        await runStack(withDataRoots(), undefined, { deployed: { harborVersion: "1.2.2" } });
        await settled(["cluster-harbor-3-deploy"]);
        const s = splitStdin(byType("command:remote:Command").find(r => r.name === "cluster-harbor-2-docker-data-root-move")!.inputs.stdin).script;
        const at = (text: string) => { const i = s.indexOf(text); assert.ok(i >= 0, text); return i; };
        assert.ok(at("\n  drain_node\n") < at("\ndocker_service stop\n"));
        assert.ok(at("\ndocker_service start ||") < at("\nharbor_back\n"));
        const back = s.slice(at("harbor_back() {"), at("\ncurrent=$(docker info"));
        assert.ok(back.indexOf("/usr/local/sbin/harbor-ha-boot \"$dir\"") < back.indexOf("curl -fsS -m 5 --cacert"));
        assert.ok(back.indexOf("curl -fsS -m 5 --cacert") < back.indexOf("undrain_node"));
        assert.match(back, /https:\/\/hub\.example\.test:8070\/api\/systeminfo/);
    });
});

describe("Docker data roots moved on a new cluster", () => {
    it("one move at a time there too (nothing runs yet, but the plan may not know a running cluster)", async () => {
        await runStack(withDataRoots(), undefined, { held: ["cluster-harbor-1-docker-data-root-move"] });
        await settled(["cluster-harbor-1-docker-data-root-move"]);
        assert.ok(!registered("cluster-harbor-2-docker-data-root-move") && !registered("cluster-harbor-3-docker-data-root-move"));
    });
});

describe("a cluster certificate renewed on a running cluster", () => {
    it("changes every node's deploy in place, its certificate and key the only files that differ, so each node is taken out first", async () => {
        const installer = fixtureInstaller();
        // Another renewal window is another certificate (the mocks make one per distinct inputs).
        const deploys = async (renewBeforeDays: number) => {
            await runStack({ ...plainConfig(installer), tls: { renewBeforeDays } }, undefined, { deployed: { harborVersion: "1.2.2" } });
            await settled(["cluster-harbor-3-deploy"]);
            const inputs = (name: string) => byType("command:remote:Command").find(r => r.name === name)!.inputs;
            return [1, 2, 3].map(i => ({
                files: new Map(decodeBundle(splitStdin(inputs(`cluster-harbor-${i}-deploy`).stdin).data).map(f => [f.path, f.content])),
                takeOut: plain(inputs(`cluster-harbor-${i}-take-out`).triggers),
                replace: plain(inputs(`cluster-harbor-${i}-deploy`).triggers),
            }));
        };
        const before = await deploys(30);
        const after = await deploys(31);
        for (const [i, b] of before.entries()) {
            const a = after[i];
            const changed = [...new Set([...b.files.keys(), ...a.files.keys()])].filter(p => b.files.get(p) !== a.files.get(p)).sort();
            assert.deepEqual(changed, [`${stageDir}/${staged.tlsCert}`, `${stageDir}/${staged.tlsKey}`].sort(), `harbor-${i + 1}`);
            assert.notDeepEqual(a.takeOut, b.takeOut, `harbor-${i + 1} is not taken out for the new certificate`);
            assert.deepEqual(a.replace, b.replace, `harbor-${i + 1}'s deployment is replaced, not updated`);
        }
    });
});

describe("a new cluster", () => {
    it("starts one node first", async () => {
        await runStack(plainConfig(fixtureInstaller()), undefined, { held: ["cluster-harbor-1-deploy"] });
        await settled(["cluster-harbor-1-deploy"]);
        assert.ok(!registered("cluster-harbor-2-deploy") && !registered("cluster-harbor-3-deploy"));
    });

    it("then the others together", async () => {
        await runStack(plainConfig(fixtureInstaller()), undefined, { held: ["cluster-harbor-2-deploy"] });
        await settled(["cluster-harbor-2-deploy", "cluster-harbor-3-deploy"]);
    });
});

describe("the load balancer's config (stack output loadBalancer)", () => {
    it("Harbor 1.x: checks each node's drain-aware health port, passes TLS through", async () => {
        const out = await runStack({ ...plainConfig(fixtureInstaller()), loadBalancer: { healthPort: 8199, checkIntervalSeconds: 1, fall: 2, rise: 3, drainSeconds: 20 } });
        const lb = plain(await promiseOf(out.loadBalancer)) as { haproxy: string; nginx: string };
        await promiseOf(out.nodeStatus);
        for (const i of [1, 2, 3]) {
            assert.match(lb.haproxy, new RegExp(`^    server harbor-${i} 10\\.99\\.0\\.1${i}:8070 check port 8199$`, "m"));
            assert.match(lb.nginx, new RegExp(`^        server 10\\.99\\.0\\.1${i}:8070 max_fails=1 fail_timeout=2s;  # harbor-${i}$`, "m"));
        }
        assert.match(lb.haproxy, /^    mode tcp$/m);
        assert.match(lb.haproxy, /^    bind :8070$/m);
        assert.match(lb.haproxy, /^    http-check send meth GET uri \/harbor-ha\/health ver HTTP\/1\.1 hdr Host hub\.example\.test$/m);
        assert.match(lb.haproxy, /^    default-server inter 1s fall 2 rise 3$/m);
        // The nodes publish the port the load balancer checks, and the deploys wait by the same numbers.
        const deploy = byType("command:remote:Command").find(r => r.name === "cluster-harbor-1-deploy")!;
        const { script, data } = splitStdin(deploy.inputs.stdin);
        const files = decodeBundle(data);
        assert.match(files.find(f => f.path === "docker-compose.yml")!.content, /- "?8199:8199"?$/m);
        assert.match(files.find(f => f.path === ".harbor-ha/nginx/harbor-ha-health.server.conf")!.content, /^    listen 8199;$/m);
        assert.match(script, /requests in flight have 20s"\n    sleep 20\n/);
        assert.match(plain(deploy.inputs.delete), /\n  drain_node\n  if ! compose down; then/, "a replaced deploy and a destroy drain first");
        const preflight = byType("command:remote:Command").find(r => r.name.endsWith("harbor-1-preflight-checks"))!;
        assert.match(plain(preflight.inputs.stdin), /for port in 8070 8199; do/);
    });
});
