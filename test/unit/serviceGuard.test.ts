// The take-out step run for real: nodes in scratch directories sharing one "CephFS" directory, each
// answering the load balancer's check from a local HTTP server that says 503 while its drain flag
// exists (like the nginx location in render/scripts/drain.ts). Stubs stand in for compose and docker.
// The Docker data root move goes through the same guard: it runs here too, with stubs for Docker's
// service and a daemon.json of its own.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "fs";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import * as os from "os";
import * as path from "path";
import { after, describe, it } from "node:test";
import { requireFlavor } from "../../render/flavors";
import { dockerDataRootScript } from "../../render/scripts/dockerDataRoot";
import { drainFns } from "../../render/scripts/drain";
import { serviceStateDir, takeOutScript } from "../../render/scripts/serviceGuard";
import { composeFn } from "../../render/scripts/shell";
import { drainSettings, writePeers } from "../mocks";

const servers: http.Server[] = [];
after(() => servers.forEach(s => s.close()));

interface Node { name: string; installDir: string; flag: string; url: string; body: string; server?: http.Server }

async function cluster(names: string[]) {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "harbor-ha-guard-"));
    const bin = path.join(root, "bin");
    const dataPath = path.join(root, "cephfs", "data");
    fs.mkdirSync(bin, { recursive: true });
    fs.mkdirSync(dataPath, { recursive: true });
    // Harbor runs on every node: compose knows a proxy container and docker says it runs.
    fs.writeFileSync(path.join(bin, "docker-compose"), '#!/bin/bash\n[ -f docker-compose.yml ] || exit 1\n[ "$1 $2" = "ps -q" ] && echo proxy-id\nexit 0\n', { mode: 0o755 });
    dockerStubs(bin);
    const nodes: Node[] = [];
    for (const name of names) {
        const installDir = path.join(root, name, "opt", "harbor");
        fs.mkdirSync(path.join(installDir, "common/config/nginx/conf.d"), { recursive: true });
        fs.writeFileSync(path.join(installDir, "docker-compose.yml"), "");
        const node: Node = { name, installDir, flag: path.join(installDir, "common/config/nginx/conf.d/harbor-ha.drained.d"), url: "", body: "ok\n" };
        const server = http.createServer((_req, res) => {
            if (fs.existsSync(node.flag)) { res.writeHead(503); res.end("drained\n"); return; }
            res.writeHead(200); res.end(node.body);
        });
        servers.push(server);
        node.server = server;
        await new Promise<void>(r => server.listen(0, "127.0.0.1", r));
        node.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/harbor-ha/health`;
        nodes.push(node);
    }
    for (const n of nodes) writePeers(n.installDir, nodes.map(p => ({ name: p.name, url: p.url })));
    const state = (name: string, word?: "in" | "out") => {
        const f = path.join(dataPath, serviceStateDir, name);
        if (word === undefined) return fs.existsSync(f) ? fs.readFileSync(f, "utf8").split(" ")[0] : undefined;
        fs.mkdirSync(path.dirname(f), { recursive: true });
        fs.writeFileSync(f, `${word} ${Math.floor(Date.now() / 1000)}\n`);
        return word;
    };
    /** Runs a node's script; resolves with its exit status and output (the servers keep answering meanwhile). */
    const run = (s: { command: string; text: string }, env: Record<string, string> = {}) =>
        new Promise<{ status: number | null; stdout: string; stderr: string }>(resolve => {
            const p = spawn("sh", ["-c", s.command], { env: { ...process.env, ...env, PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin` } });
            let stdout = "", stderr = "";
            p.stdout.on("data", d => { stdout += d; });
            p.stderr.on("data", d => { stderr += d; });
            p.on("close", status => resolve({ status, stdout, stderr }));
            p.stdin.end(s.text);
        });
    const guard = (n: Node, waitSeconds: number, refuse?: string) => ({ installDir: n.installDir, dataPath, domain: "hub.example.test", refuse, waitSeconds });
    /** The take-out step of one node. */
    const takeOut = (n: Node, waitSeconds = 3, refuse?: string) =>
        run(takeOutScript(n.name, guard(n, waitSeconds, refuse), [composeFn, drainFns(drainSettings)]));
    /**
     * The Docker data root move of one node, from old-docker to new-docker in its directory. Docker
     * here is a stub that answers from the data root its daemon.json named when it was started.
     */
    const move = (n: Node, waitSeconds: number) => {
        const docker = path.join(n.installDir, "..", "docker-stub");
        fs.mkdirSync(path.join(docker, "old-docker"), { recursive: true });
        fs.writeFileSync(path.join(docker, "root"), path.join(docker, "old-docker"));
        const f = requireFlavor("1.2.2");
        const script = dockerDataRootScript(n.name, path.join(docker, "new-docker"), {
            installDir: n.installDir, port: 8070, checkPort: 8099, endpoint: { protocol: "http", domain: "hub.example.test" }, health: f.health,
            drain: { drainSeconds: 0, checkIntervalSeconds: 1, fall: 1, rise: 0 }, composeFn: f.composeFn, guard: guard(n, waitSeconds),
        }, path.join(docker, "daemon.json"));
        // No boot unit in this sandbox's root: Harbor "comes back" without one (the health wait is the deploy's test).
        return run(script, { STUB_DOCKER: docker, HARBOR_HA_SYSROOT: docker });
    };
    return { nodes, state, takeOut, move };
}

/** docker, service and rsync for the data root move: Docker's data root is what daemon.json said at its last start. */
function dockerStubs(bin: string): void {
    fs.writeFileSync(path.join(bin, "docker"), `#!/bin/bash
case "$1" in
  inspect) echo true ;;
  info) [ "\${2:-}" = --format ] && cat "$STUB_DOCKER/root" ;;
  images | ps) echo one ;;
esac
exit 0
`, { mode: 0o755 });
    const service = `#!/bin/bash
echo "$*" >>"$STUB_DOCKER/calls"
case "$*" in
  *start*) python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["data-root"])' "$STUB_DOCKER/daemon.json" >"$STUB_DOCKER/root" ;;
esac
`;
    for (const tool of ["service", "systemctl"]) fs.writeFileSync(path.join(bin, tool), service, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "rsync"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
}

// Each test has a cluster of its own (directories, servers, lock): they run side by side, since most
// of their time is the guard's own waiting.
describe("taking a node out of service", { concurrency: true }, () => {
    it("goes out at once when every other node is in service: drained, and it says so on the shared volume", async () => {
        const c = await cluster(["harbor-1", "harbor-2", "harbor-3"]);
        c.state("harbor-2", "in"); c.state("harbor-3", "in");
        const r = await c.takeOut(c.nodes[0]);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /^harbor-1: out of service for the change$/m);
        assert.doesNotMatch(r.stdout, /waiting/);
        assert.ok(fs.existsSync(c.nodes[0].flag), "drained");
        assert.equal(c.state("harbor-1"), "out");
    });

    it("waits while another node is out, and goes once it is back", async () => {
        const c = await cluster(["harbor-1", "harbor-2", "harbor-3"]);
        c.state("harbor-2", "out"); c.state("harbor-3", "in");
        setTimeout(() => c.state("harbor-2", "in"), 2500);
        const r = await c.takeOut(c.nodes[0], 30);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /^harbor-1: waiting until harbor-2 is back in service$/m);
        assert.match(r.stdout, /^harbor-1: harbor-2 back in service after \d+s$/m);
        assert.ok(fs.existsSync(c.nodes[0].flag));
    });

    it("refuses when another node stays out (it says in, but fails the load balancer's check), naming it; nothing changes", async () => {
        const c = await cluster(["harbor-1", "harbor-2", "harbor-3"]);
        c.state("harbor-2", "in"); c.state("harbor-3", "in");
        fs.mkdirSync(c.nodes[2].flag);
        const r = await c.takeOut(c.nodes[0]);
        assert.equal(r.status, 1);
        assert.match(r.stderr, /^harbor-1: not taken out of service: harbor-3 out of service for 3s, and harbor-ha takes one node out at a time\. Bring it back/m);
        assert.ok(!fs.existsSync(c.nodes[0].flag), "not drained");
        assert.equal(c.state("harbor-1"), undefined);
    });

    it("counts a node whose check's body says unhealthy (2.x) as out", async () => {
        const c = await cluster(["harbor-1", "harbor-2"]);
        c.state("harbor-2", "in");
        c.nodes[1].body = '{"status":"unhealthy"}';
        const r = await c.takeOut(c.nodes[0], 3, "unhealthy");
        assert.equal(r.status, 1);
        assert.match(r.stderr, /harbor-2 out of service for 3s/);
    });

    it("does not wait for a node that has never served (added to the stack, not deployed yet)", async () => {
        const c = await cluster(["harbor-1", "harbor-2", "harbor-3"]);
        c.state("harbor-2", "in");
        c.nodes[2].server!.close();
        const r = await c.takeOut(c.nodes[0]);
        assert.equal(r.status, 0, r.stderr);
    });

    it("two nodes asking at once: one goes out, the other waits for it and refuses when it stays out", async () => {
        const c = await cluster(["harbor-1", "harbor-2", "harbor-3"]);
        for (const n of c.nodes) c.state(n.name, "in");
        const [a, b] = await Promise.all([c.takeOut(c.nodes[0]), c.takeOut(c.nodes[1])]);
        assert.deepEqual([a.status, b.status].sort(), [0, 1], `${a.stdout}${a.stderr}\n${b.stdout}${b.stderr}`);
        const [went, refused] = a.status === 0 ? [c.nodes[0], c.nodes[1]] : [c.nodes[1], c.nodes[0]];
        assert.match((a.status === 0 ? b : a).stderr, new RegExp(`${refused.name}: not taken out of service: ${went.name} out of service`));
        assert.ok(fs.existsSync(went.flag) && !fs.existsSync(refused.flag), "one node drained");
    });

    it("a node that does not serve has nothing to take out", async () => {
        const c = await cluster(["harbor-1", "harbor-2"]);
        c.state("harbor-2", "out");
        fs.rmSync(path.join(c.nodes[0].installDir, "docker-compose.yml"));
        const r = await c.takeOut(c.nodes[0]);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /^harbor-1: not serving; nothing to take out$/m);
    });
});

describe("a Docker data root move takes its node out like a deploy", { concurrency: true }, () => {
    it("waits while another node is out; once it is back the move drains, moves, and says the node is in service again", async () => {
        const c = await cluster(["harbor-1", "harbor-2", "harbor-3"]);
        c.state("harbor-2", "out"); c.state("harbor-3", "in");
        setTimeout(() => c.state("harbor-2", "in"), 2500);
        const r = await c.move(c.nodes[0], 30);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /^harbor-1: waiting until harbor-2 is back in service$/m);
        const waited = r.stdout.indexOf("harbor-2 back in service");
        assert.ok(waited >= 0 && waited < r.stdout.indexOf("harbor-1: drained"), "drained only once harbor-2 was back");
        assert.match(r.stdout, /moved from .*old-docker to .*new-docker/);
        assert.ok(!fs.existsSync(c.nodes[0].flag), "undrained");
        assert.equal(c.state("harbor-1"), "in");
    });

    it("refuses while another node stays out, before Docker or daemon.json is touched", async () => {
        const c = await cluster(["harbor-1", "harbor-2"]);
        c.state("harbor-2", "out");
        const r = await c.move(c.nodes[0], 3);
        assert.equal(r.status, 1);
        assert.match(r.stderr, /^harbor-1: not taken out of service: harbor-2 out of service for 3s/m);
        const docker = path.join(c.nodes[0].installDir, "..", "docker-stub");
        assert.deepEqual(fs.readdirSync(docker).sort(), ["old-docker", "root"], "no daemon.json, backup, new data root or service call");
        assert.ok(!fs.existsSync(c.nodes[0].flag), "not drained");
        assert.equal(c.state("harbor-1"), undefined);
    });
});
