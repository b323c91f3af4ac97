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
import { stageDir, staged } from "../../render/scripts/harborNode";
import { drainSettings } from "../mocks";

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
    const script = requireFlavor("1.2.2").deployScript(s.l, "harbor-1", { protocol: "http", domain: "hub.example.test" }, drainSettings);
    // Only the stubs and the system's own tools: no Python 2 but the stub's.
    return spawnSync("sh", ["-c", script.command], { input: script.text + bundle, encoding: "utf8", env: { ...process.env, PATH: `${s.bin}:/usr/sbin:/usr/bin:/sbin:/bin` } });
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
    const flag = path.join(s.l.installDir, "common/config/nginx/conf.d/harbor-ha.drained");
    stub(s.bin, "docker-compose", `if [ "$1" = ps ]; then echo 0123abcd; exit 0; fi
if [ -f ${JSON.stringify(flag)} ]; then state=drained; else state=in-service; fi
echo "$* ($state)" >> ${JSON.stringify(path.join(s.root, "compose.log"))}`);
    stub(s.bin, "docker", 'if [ "$1" = inspect ]; then echo true; fi');
    return flag;
}

describe("deploy script", () => {
    it("installs the cluster keypair after prepare, so the shipped one never serves", () => {
        const s = sandbox();
        const r = run(s, files());
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /harbor-1: healthy \(\/api\/systeminfo\)/);
        const cfg = path.join(s.l.installDir, "common", "config");
        assert.equal(fs.readFileSync(path.join(cfg, "ui", "private_key.pem"), "utf8"), "CLUSTER-KEY\n");
        assert.equal(fs.readFileSync(path.join(cfg, "registry", "root.crt"), "utf8"), "CLUSTER-CERT\n");
        assert.equal((fs.statSync(path.join(cfg, "ui", "private_key.pem")).mode & 0o777).toString(8), "600");
        assert.equal(fs.readFileSync(path.join(s.l.installDir, "harbor.cfg"), "utf8"), "hostname = hub.example.test:8070\n");
        assert.equal(fs.readFileSync(path.join(s.l.dataPath, "secretkey"), "utf8"), "0123456789abcdef");
        assert.match(fs.readFileSync(path.join(s.root, "compose.log"), "utf8"), /^up -d --force-recreate$/m);
        assert.equal(fs.readFileSync(path.join(s.root, "python.log"), "utf8"), "python2.7 ./prepare\n", "prepare ran with Python 2.7, not its shebang");
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
        assert.match(lines.at(-1)!, /^harbor-1: healthy \(\/api\/systeminfo\), deployed in \d+s$/, "the status line stays last");
    });

    it("keeps an unhealthy node drained, so the load balancer keeps it out", () => {
        const s = sandbox();
        const flag = running(s);
        stub(s.bin, "curl", "exit 7");
        const r = run(s, files());
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /harbor-1: health check http:\/\/127\.0\.0\.1:8070\/api\/systeminfo failed/);
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
