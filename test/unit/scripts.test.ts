// The deploy script run for real in a scratch directory. Stubs stand in for the node's tools
// (docker-compose, curl, mountpoint); the stub prepare rewrites common/config like Harbor's does.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, it } from "node:test";
import { encodeBundle } from "../../render/bundle";
import { NodeLayout, requireFlavor } from "../../render/flavors";
import * as net from "node:net";
import { bootScript, bootUnit } from "../../render/scripts/boot";
import { stageDir, staged, stopScript } from "../../render/scripts/harborNode";
import { composeFn } from "../../render/scripts/shell";
import { drainSettings, testCluster, writePeers } from "../mocks";

const stub = (dir: string, name: string, body: string) => {
    fs.writeFileSync(path.join(dir, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
};

function sandbox() {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "harbor-ha-deploy-"));
    const bin = path.join(root, "bin");
    const l: NodeLayout = {
        installDir: path.join(root, "opt", "harbor"), archivePath: path.join(root, "opt", "harbor-installer.tgz"),
        mountPoint: path.join(root, "cephfs"), dataPath: path.join(root, "cephfs", "data"), port: 8070, healthPort: 8099,
    };
    fs.mkdirSync(bin, { recursive: true });
    fs.mkdirSync(path.join(l.installDir, "common", "templates", "ui"), { recursive: true });
    fs.writeFileSync(path.join(l.installDir, "common", "templates", "ui", "private_key.pem"), "SHIPPED-KEY\n");
    // Like Harbor 1.x's prepare: common/config is deleted and rebuilt, with customize_crt off the
    // keypair shipped in the installer is copied in.
    stub(l.installDir, "prepare", [
        'cd "$(dirname "$0")"', "rm -rf common/config", "mkdir -p common/config/ui common/config/registry common/config/nginx/conf.d",
        "cp common/templates/ui/private_key.pem common/config/ui/private_key.pem",
        "echo SHIPPED-CERT > common/config/registry/root.crt", 'echo "prepare ran" >> prepare.log',
    ].join("\n"));
    stub(bin, "mountpoint", 'exit 0');
    stub(bin, "systemctl", `echo "$*" >> ${JSON.stringify(path.join(root, "systemctl.log"))}`);
    stub(bin, "docker-compose", `echo "$*" >> ${JSON.stringify(path.join(root, "compose.log"))}`);
    stub(bin, "curl", 'echo \'{"registry_url":"hub"}\'');
    stub(bin, "sleep", `echo "sleep $*" >> ${JSON.stringify(path.join(root, "sleep.log"))}`);
    // A Python 2.7 that answers the version probes and runs the (bash) stub prepare, logging the call.
    stub(bin, "python2.7", [
        `if [ "$1" = -c ]; then case "$2" in *'version_info[:3]'*) echo 2.7.18;; esac; exit 0; fi`,
        `echo "python2.7 $*" >> ${JSON.stringify(path.join(root, "python.log"))}`, 'exec bash "$@"',
    ].join("\n"));
    return { root, bin, l };
}

function run(s: ReturnType<typeof sandbox>, bundle: string) {
    const script = requireFlavor("1.2.2").deployScript(s.l, "harbor-1", { protocol: "http", domain: "hub.example.test" }, drainSettings, testCluster);
    // Only the stubs and the system's own tools: no Python 2 but the stub's.
    return spawnSync("sh", ["-c", script.command], { input: script.text + bundle, encoding: "utf8", env: sandboxEnv(s) });
}

/** The sandbox's stubs first, and the boot unit's files under its root instead of this machine's. */
function sandboxEnv(s: ReturnType<typeof sandbox>): NodeJS.ProcessEnv {
    return { ...process.env, PATH: `${s.bin}:/usr/sbin:/usr/bin:/sbin:/bin`, HARBOR_HA_SYSROOT: s.root };
}

const files = (secretKey = "0123456789abcdef") => encodeBundle([
    { path: "harbor.cfg", mode: "0600", content: "hostname = hub.example.test:8070\n" },
    { path: `${stageDir}/${staged.tokenKey}`, mode: "0600", content: "CLUSTER-KEY\n" },
    { path: `${stageDir}/${staged.tokenCert}`, mode: "0644", content: "CLUSTER-CERT\n" },
    { path: `${stageDir}/${staged.secretKey}`, mode: "0600", content: secretKey },
    { path: `${stageDir}/nginx/harbor-ha-health.server.conf`, mode: "0644", content: "server { listen 8099; }\n" },
]);

/** Harbor already running on the node: compose and docker answer for a running proxy. */
function running(s: ReturnType<typeof sandbox>) {
    const flag = path.join(s.l.installDir, "common/config/nginx/conf.d/harbor-ha.drained.d");
    stub(s.bin, "docker-compose", `if [ "$1" = ps ]; then echo 0123abcd; exit 0; fi
if [ -d ${JSON.stringify(flag)} ]; then state=drained; else state=in-service; fi
echo "$* ($state)" >> ${JSON.stringify(path.join(s.root, "compose.log"))}`);
    stub(s.bin, "docker", 'if [ "$1" = inspect ]; then echo true; fi');
    writePeers(s.l.installDir, [{ name: "harbor-1", url: "http://127.0.0.1:8099/harbor-ha/health" }]);
    return flag;
}

describe("deploy script", () => {
    it("installs the cluster keypair after prepare, so the shipped one never serves", () => {
        const s = sandbox();
        const r = run(s, files());
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /harbor-1: healthy \(\/api\/systeminfo, \/harbor-ha\/ready\)/);
        const cfg = path.join(s.l.installDir, "common", "config");
        assert.equal(fs.readFileSync(path.join(cfg, "ui", "private_key.pem"), "utf8"), "CLUSTER-KEY\n");
        assert.equal(fs.readFileSync(path.join(cfg, "registry", "root.crt"), "utf8"), "CLUSTER-CERT\n");
        assert.equal((fs.statSync(path.join(cfg, "ui", "private_key.pem")).mode & 0o777).toString(8), "600");
        assert.equal(fs.readFileSync(path.join(s.l.installDir, "harbor.cfg"), "utf8"), "hostname = hub.example.test:8070\n");
        assert.equal(fs.readFileSync(path.join(s.l.dataPath, "secretkey"), "utf8"), "0123456789abcdef");
        assert.match(fs.readFileSync(path.join(s.root, "compose.log"), "utf8"), /^up -d --force-recreate$/m);
        assert.equal(fs.readFileSync(path.join(s.root, "python.log"), "utf8"), "python2.7 ./prepare\n", "prepare ran with Python 2.7, not its shebang");
    });

    it("records on the node what it runs, for which stack, once healthy", () => {
        const s = sandbox();
        const r = run(s, files());
        assert.equal(r.status, 0, r.stderr);
        const record = fs.readFileSync(path.join(s.l.installDir, ".harbor-ha", "deployed"), "utf8");
        assert.match(record, /^version=1\.2\.2$/m);
        assert.match(record, /^schema=$/m);
        assert.match(record, new RegExp(`^cluster=${testCluster}$`, "m"));
    });

    it("refuses to run prepare without the Python it needs, naming the fix", () => {
        const s = sandbox();
        fs.rmSync(path.join(s.bin, "python2.7"));
        const r = run(s, files());
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /harbor-1: Harbor 1\.2\.2's prepare \(#!\/usr\/bin\/python\) needs Python 2\.7: none of python2\.7, python2, python is\. Provide it with scripts\/node-python2\.sh/);
        assert.equal(fs.existsSync(path.join(s.l.installDir, "prepare.log")), false, "prepare did not run");
    });

    it("runs again to the same result", () => {
        const s = sandbox();
        assert.equal(run(s, files()).status, 0);
        const r = run(s, files());
        assert.equal(r.status, 0, r.stderr);
        assert.equal(fs.readFileSync(path.join(s.l.installDir, "common", "config", "ui", "private_key.pem"), "utf8"), "CLUSTER-KEY\n");
    });

    it("keeps the secretkey already on shared storage: it belongs to the data", () => {
        const s = sandbox();
        assert.equal(run(s, files()).status, 0);
        const r = run(s, files("fedcba9876543210"));
        assert.equal(r.status, 0, r.stderr);
        assert.equal(fs.readFileSync(path.join(s.l.dataPath, "secretkey"), "utf8"), "0123456789abcdef");
    });

    it("refuses a secretkey Harbor cannot use", () => {
        const s = sandbox();
        fs.mkdirSync(s.l.dataPath, { recursive: true });
        fs.writeFileSync(path.join(s.l.dataPath, "secretkey"), "short");
        const r = run(s, files());
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /secretkey is not 16 bytes/);
    });

    it("stops with the log's tail when prepare fails", () => {
        const s = sandbox();
        stub(s.l.installDir, "prepare", 'echo "boom: bad harbor.cfg"; exit 3');
        const r = run(s, files());
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /harbor-1: prepare \(\S+\/python2\.7\) failed/);
        assert.match(r.stderr, /boom: bad harbor\.cfg/);
        assert.equal(fs.existsSync(path.join(s.root, "compose.log")), false, "nothing started");
    });

    it("drains a running node before its containers are recreated, and undrains it once healthy", () => {
        const s = sandbox();
        const flag = running(s);
        const r = run(s, files());
        assert.equal(r.status, 0, r.stderr);
        assert.equal(fs.readFileSync(path.join(s.root, "compose.log"), "utf8"), "up -d --force-recreate (drained)\n");
        // drainSeconds while drained, then (rise + 1) checks once back.
        assert.equal(fs.readFileSync(path.join(s.root, "sleep.log"), "utf8"), "sleep 8\nsleep 6\n");
        assert.equal(fs.existsSync(flag), false, "undrained");
        // nginx's unprivileged workers test the flag's path: prepare's directories (made under umask 077) opened up.
        for (const d of ["common/config/nginx", "common/config/nginx/conf.d"]) {
            assert.equal((fs.statSync(path.join(s.l.installDir, d)).mode & 0o777).toString(8), "755", d);
        }
        assert.equal(fs.readFileSync(path.join(s.l.installDir, "common/config/nginx/conf.d/harbor-ha-health.server.conf"), "utf8"), "server { listen 8099; }\n");
        const lines = r.stdout.trim().split("\n");
        assert.match(lines[0], /^harbor-1: drained; the load balancer takes it out within 6s, requests in flight have 8s$/);
        assert.match(lines.at(-1)!, /^harbor-1: healthy \(\/api\/systeminfo, \/harbor-ha\/ready\), deployed in \d+s$/, "the status line stays last");
    });

    it("keeps an unhealthy node drained, so the load balancer keeps it out", () => {
        const s = sandbox();
        const flag = running(s);
        stub(s.bin, "curl", "exit 7");
        const r = run(s, files());
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /harbor-1: health check http:\/\/127\.0\.0\.1:8070\/api\/systeminfo and http:\/\/127\.0\.0\.1:8099\/harbor-ha\/ready failed/);
        assert.equal(fs.existsSync(flag), true, "still drained");
    });

    it("keeps a node drained whose ui answers but whose load balancer check does not (its registry down)", () => {
        const s = sandbox();
        const flag = running(s);
        // The ui's /api/systeminfo answers; the check port's ready path (registry, then ui) gives 502.
        stub(s.bin, "curl", `for a in "$@"; do case "$a" in *:8099/harbor-ha/ready) exit 22;; esac; done
echo '{"registry_url":"hub"}'`);
        const r = run(s, files());
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /harbor-1: health check .* and http:\/\/127\.0\.0\.1:8099\/harbor-ha\/ready failed/);
        assert.equal(fs.existsSync(flag), true, "still drained");
    });

    it("does not wait for a drain on a node where Harbor is not running", () => {
        const s = sandbox();
        assert.equal(run(s, files()).status, 0);
        assert.equal(fs.readFileSync(path.join(s.root, "sleep.log"), "utf8"), "sleep 6\n", "only the wait for the load balancer's checks");
    });

    it("refuses to deploy when CephFS is not mounted", () => {
        const s = sandbox();
        stub(s.bin, "mountpoint", "exit 1");
        const r = run(s, files());
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /CephFS is not mounted/);
    });
});

describe("the boot unit", () => {
    const unitFile = (s: ReturnType<typeof sandbox>) => path.join(s.root, bootUnit.path);
    it("is installed and enabled once the node is healthy, unchanged on a re-run, removed when Harbor is stopped", () => {
        const s = sandbox();
        assert.equal(run(s, files()).status, 0);
        const unit = fs.readFileSync(unitFile(s), "utf8");
        assert.match(unit, /^After=docker\.service$/m);
        assert.match(unit, new RegExp(`^RequiresMountsFor=${s.l.mountPoint}$`, "m"));
        assert.match(unit, new RegExp(`^ExecStart=${bootUnit.script} ${s.l.installDir}$`, "m"));
        assert.match(unit, /^WantedBy=multi-user\.target$/m);
        assert.equal(fs.statSync(path.join(s.root, bootUnit.script)).mode & 0o777, 0o755);
        assert.equal(fs.readFileSync(path.join(s.root, "systemctl.log"), "utf8"), `enable --quiet ${bootUnit.name}\n`);
        const before = fs.statSync(unitFile(s)).mtimeMs;
        assert.equal(run(s, files()).status, 0);
        assert.equal(fs.statSync(unitFile(s)).mtimeMs, before, "a re-run leaves the unit as it is");
        fs.writeFileSync(path.join(s.l.installDir, "docker-compose.yml"), "services: {}\n");
        const stop = spawnSync("sh", ["-c", stopScript(s.l.installDir, "harbor-1")], { encoding: "utf8", env: sandboxEnv(s) });
        assert.equal(stop.status, 0, stop.stderr);
        assert.equal(fs.existsSync(unitFile(s)), false, "a node stopped on purpose does not start Harbor at boot");
        assert.equal(fs.existsSync(path.join(s.root, bootUnit.script)), false);
        assert.match(fs.readFileSync(path.join(s.root, "systemctl.log"), "utf8"), new RegExp(`^disable --quiet ${bootUnit.name}$`, "m"));
    });

    /** Runs the boot script with compose and docker stubs; the log service publishes `port`. */
    async function boot(port: number): Promise<{ status: number | null; stderr: string; compose: string; sleeps: number }> {
        const s = sandbox();
        const calls = path.join(s.root, "compose.log");
        stub(s.bin, "docker-compose", `case "$*" in
  "config --services") printf 'log\\nregistry\\ncore\\nproxy\\n' ;;
  "ps -q log") echo 0123abcd ;;
  *) echo "$*" >> ${JSON.stringify(calls)} ;;
esac`);
        stub(s.bin, "docker", `[ "$1 $2" = "port 0123abcd" ] && echo "10514/tcp -> 127.0.0.1:${port}"`);
        const file = path.join(s.root, "boot.sh");
        fs.writeFileSync(file, bootScript(composeFn), { mode: 0o755 });
        const r = await new Promise<{ status: number | null; stderr: string }>(resolve => {
            const child = require("node:child_process").spawn("bash", [file, s.l.installDir], { env: sandboxEnv(s) });
            let stderr = "";
            child.stderr.on("data", (d: Buffer) => { stderr += d; });
            child.on("close", (status: number | null) => resolve({ status, stderr }));
        });
        const sleeps = fs.existsSync(path.join(s.root, "sleep.log")) ? fs.readFileSync(path.join(s.root, "sleep.log"), "utf8").trim().split("\n").length : 0;
        return { ...r, compose: fs.readFileSync(calls, "utf8"), sleeps };
    }

    it("starts the log service first and the rest once its port accepts connections", async () => {
        const server = net.createServer(c => c.destroy()).listen(0, "127.0.0.1");
        await new Promise(r => server.once("listening", r));
        try {
            const r = await boot((server.address() as net.AddressInfo).port);
            assert.equal(r.status, 0, r.stderr);
            assert.equal(r.compose, "up -d log\nup -d\n");
            assert.equal(r.sleeps, 0, "no wait: the port answered at once");
        } finally {
            server.close();
        }
    });
    it("waits for the log service's port, and says so when it never answers", async () => {
        const server = net.createServer().listen(0, "127.0.0.1");
        await new Promise(r => server.once("listening", r));
        const port = (server.address() as net.AddressInfo).port;
        server.close();
        const r = await boot(port);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.compose, "up -d log\nup -d\n");
        assert.equal(r.sleeps, 60);
        assert.match(r.stderr, /the log service's ports do not accept connections after 60 s/);
    });
});
