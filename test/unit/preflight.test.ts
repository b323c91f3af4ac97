// Preflight run for real in a sandbox: stubs stand in for df and docker so a full or healthy disk
// can be staged; the thresholds and the failure message are the product's own logic.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { after, before, describe, it } from "node:test";
import { requireFlavor } from "../../render/flavors";
import { parsePreflightReport, preflightScript, PreflightSpec } from "../../render/scripts/preflight";

let openPort = 0;
let server: net.Server;
before(async () => {
    server = net.createServer(s => s.end());
    await new Promise<void>(r => server.listen(0, "127.0.0.1", () => r()));
    openPort = (server.address() as net.AddressInfo).port;
});
after(() => server.close());

/** df -P -B1 and df -P -i stubs: size/avail bytes and inodes for every path. */
/** A python stub answering the preflight's version probe as the given version. */
function pythonStub(bin: string, name: string, version: string): void {
    const [major, minor] = version.split(".");
    fs.writeFileSync(path.join(bin, name), `#!/bin/bash
case "$2" in
  *'version_info[:3]'*) echo ${version};;
  *) /usr/bin/python3 -c "$(printf '%s' "$2" | sed 's/v = sys.version_info/v = (${major}, ${minor})/')";;
esac
`, { mode: 0o755 });
}

/** What the node's time services say: chrony's leap status, or none answering (timedatectl without systemd fails). */
type TimeService = "chrony synchronised" | "chrony not synchronised" | "none";

function sandbox(disk: { size: number; avail: number; inodes: number; ifree: number }, docker = true, time: TimeService = "chrony synchronised") {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "harbor-ha-preflight-"));
    const stub = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
    if (time !== "none") {
        stub("chronyc", `printf 'Reference ID    : C0A80001 (ntp.lab)\\nLeap status     : ${time === "chrony synchronised" ? "Normal" : "Not synchronised"}\\n'`);
    } else {
        stub("chronyc", "exit 127");
    }
    stub("timedatectl", "echo 'System has not been booted with systemd as init system (PID 1). Can'\\''t operate.' >&2; exit 1");
    stub("ntpstat", "exit 127");
    stub("df", `if [ "$2" = -i ]; then echo "Filesystem Inodes IUsed IFree IUse% Mounted"; echo "/dev/vda ${disk.inodes} 0 ${disk.ifree} 0% /";
else echo "Filesystem 1-blocks Used Available Capacity Mounted"; echo "/dev/vda ${disk.size} 0 ${disk.avail} 0% /"; fi`);
    if (docker) {
        stub("docker", `case "$1" in
  version) echo 20.10.24;;
  info) echo /var/lib/docker;;
  ps) echo "";;
  compose) exit 1;;
esac`);
        stub("docker-compose", "echo 1.29.2");
    } else {
        stub("docker", "exit 1");
        stub("docker-compose", "exit 127");
    }
    return bin;
}

function run(bin: string, spec: Partial<PreflightSpec> = {}) {
    const full: PreflightSpec = {
        nodeName: "harbor-2", minFreeSpacePercent: 10, minFreeInodesPercent: 5, ports: [1], composeProject: "harbor",
        minDocker: "1.10.0", minCompose: "1.6.0", composeFirst: "standalone",
        endpoints: [{ name: "mysql", host: "127.0.0.1", port: openPort }], harbor: "Harbor 1.2.2", requireTimeSync: true, ...spec,
    };
    const script = preflightScript(full);
    // The stubs and the system's tools only: no Python 2 unless a test stubs one.
    return spawnSync("sh", ["-c", script.command], { input: script.text, encoding: "utf8", env: { ...process.env, PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin` } });
}

const GiB = 1024 ** 3;

describe("preflight", () => {
    it("passes a healthy node and reports every check", () => {
        const r = run(sandbox({ size: 100 * GiB, avail: 50 * GiB, inodes: 1000, ifree: 900 }));
        assert.equal(r.status, 0, r.stderr);
        const results = parsePreflightReport(r.stdout);
        const checks = results.map(c => c.check);
        for (const c of ["os", "docker", "compose", "free space on /", "free inodes on /", "port 1", "reach mysql", "time synchronized"]) assert.ok(checks.includes(c), c);
        assert.equal(results.find(c => c.check === "time synchronized")?.value, "chrony: leap status Normal");
        assert.ok(results.every(c => c.ok), JSON.stringify(results));
        assert.deepEqual(results.find(c => c.check === "free space on /"), { check: "free space on /", value: "50% (51200 MiB free)", threshold: ">= 10%", ok: true });
    });

    it("refuses the seed's node: 6 GB disk with 448 MB free is under 10%", () => {
        const r = run(sandbox({ size: 6 * GiB, avail: 448 * 1024 ** 2, inodes: 1000, ifree: 900 }));
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /^node harbor-2 failed preflight, nothing was changed on it:\n  - free space on \/ is 7% \(448 MiB free\) \(threshold >= 10%\)$/m);
    });

    it("refuses a node out of inodes, at the configured threshold", () => {
        const r = run(sandbox({ size: 100 * GiB, avail: 50 * GiB, inodes: 1000, ifree: 40 }), { minFreeInodesPercent: 5 });
        assert.match(r.stderr, /free inodes on \/ is 4% \(40 free\) \(threshold >= 5%\)/);
        const r2 = run(sandbox({ size: 100 * GiB, avail: 50 * GiB, inodes: 1000, ifree: 40 }), { minFreeInodesPercent: 3 });
        assert.equal(r2.status, 0, r2.stderr);
    });

    it("counts exactly at the threshold as enough", () => {
        const r = run(sandbox({ size: 1000, avail: 100, inodes: 100, ifree: 5 }));
        assert.equal(r.status, 0, r.stderr);
    });

    it("refuses a node without Docker, a port taken by another program and an unreachable service, in one message", () => {
        const r = run(sandbox({ size: 100 * GiB, avail: 50 * GiB, inodes: 1000, ifree: 900 }, false), {
            ports: [openPort],
            endpoints: [{ name: "redis", host: "127.0.0.1", port: 1 }],
        });
        assert.notEqual(r.status, 0);
        const lines = r.stderr.trim().split("\n");
        assert.equal(lines[0], "node harbor-2 failed preflight, nothing was changed on it:");
        assert.ok(lines.includes("  - docker is not running or not installed (threshold >= 1.10.0)"), r.stderr);
        assert.ok(lines.includes("  - compose is not installed (threshold >= 1.6.0)"), r.stderr);
        assert.ok(lines.includes(`  - port ${openPort} is in use by another program (threshold free or ours)`), r.stderr);
        assert.ok(lines.includes("  - reach redis is 127.0.0.1:1 unreachable (threshold TCP connect within 5s)"), r.stderr);
    });

    it("finds the Python that Harbor 1.x's prepare needs and reports it", () => {
        const bin = sandbox({ size: 100 * GiB, avail: 50 * GiB, inodes: 1000, ifree: 900 });
        pythonStub(bin, "python2.7", "2.7.18");
        const r = run(bin, { python: requireFlavor("1.2.2").python });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(parsePreflightReport(r.stdout).find(c => c.check === "prepare interpreter"),
            { check: "prepare interpreter", value: `${bin}/python2.7 (Python 2.7.18)`, threshold: "Python 2.7 (Harbor 1.2.2's prepare)", ok: true });
    });

    it("refuses a node with only Python 3 for a Python 2 prepare, naming the fix", () => {
        const bin = sandbox({ size: 100 * GiB, avail: 50 * GiB, inodes: 1000, ifree: 900 });
        pythonStub(bin, "python", "3.11.2");
        const r = run(bin, { python: requireFlavor("1.5.4").python, harbor: "Harbor 1.5.4" });
        assert.notEqual(r.status, 0);
        const lines = r.stderr.trim().split("\n");
        assert.ok(lines.includes("  - prepare interpreter is none (threshold Python 2.7 (Harbor 1.5.4's prepare))"), r.stderr);
        assert.ok(lines.includes("  Harbor 1.5.4's prepare (#!/usr/bin/python) needs Python 2.7: none of python2.7, python2, python is. " +
            "Provide it with scripts/node-python2.sh (README: \"Python 2 on current distributions\")"), r.stderr);
    });

    it("accepts Python 3 up to 3.11 for 1.3's prepare, not 3.12 (readfp is gone)", () => {
        const ok = sandbox({ size: 100 * GiB, avail: 50 * GiB, inodes: 1000, ifree: 900 });
        pythonStub(ok, "python3", "3.11.2");
        assert.equal(run(ok, { python: requireFlavor("1.3.0").python }).status, 0);
        const no = sandbox({ size: 100 * GiB, avail: 50 * GiB, inodes: 1000, ifree: 900 });
        pythonStub(no, "python3", "3.12.1");
        assert.match(run(no, { python: requireFlavor("1.3.0").python }).stderr, /prepare interpreter is none/);
    });

    it("checks a Harbor 2.x node against 2.x's needs: Docker 20.10.10, the compose plugin first, every published port", () => {
        const bin = sandbox({ size: 100 * GiB, avail: 50 * GiB, inodes: 1000, ifree: 900 });
        fs.writeFileSync(path.join(bin, "docker"), `#!/bin/bash
case "$1" in
  version) echo 20.10.24;;
  info) echo /var/lib/docker;;
  ps) echo "";;
  compose) echo v2.20.2;;
esac
`, { mode: 0o755 });
        const f = requireFlavor("2.15.2");
        const r = run(bin, { ports: f.ports(openPort, "https", 8099), minDocker: f.minDocker, minCompose: f.minCompose, composeFirst: "plugin" });
        const results = parsePreflightReport(r.stdout + r.stderr);
        assert.deepEqual(results.find(c => c.check === "compose"), { check: "compose", value: "2.20.2", threshold: ">= 2.3.0", ok: true },
            "the plugin is asked first (docker-compose 1.29 would be too old)");
        assert.deepEqual(results.filter(c => c.check.startsWith("port ")).map(c => c.check), [`port ${openPort}`, "port 80"]);
        assert.deepEqual(results.find(c => c.check === "docker")?.threshold, ">= 20.10.10");
        assert.equal(results.find(c => c.check === "prepare interpreter"), undefined, "2.x's prepare is not Python on the node");
    });

    describe("which stack deployed the node", () => {
        const ours = "c0ffee00c0ffee00", theirs = "0123456789abcdef";
        const node = (cluster?: string) => {
            const installDir = fs.mkdtempSync(path.join(os.tmpdir(), "harbor-ha-owner-"));
            if (cluster !== undefined) {
                fs.mkdirSync(path.join(installDir, ".harbor-ha"));
                fs.writeFileSync(path.join(installDir, ".harbor-ha", "deployed"), `# harbor-ha\nversion=1.2.2\nschema=\ncluster=${cluster}\n`);
            }
            return installDir;
        };
        const healthy = () => sandbox({ size: 100 * GiB, avail: 50 * GiB, inodes: 1000, ifree: 900 });
        const owner = (r: ReturnType<typeof run>) => parsePreflightReport(r.stdout + r.stderr).find(c => c.check === "deployed by");

        it("passes a node with no record, or with this stack's", () => {
            for (const [dir, value] of [[node(), "no harbor-ha deployment"], [node(ours), "this stack"]]) {
                const r = run(healthy(), { owner: { installDir: dir, cluster: ours } });
                assert.equal(r.status, 0, r.stderr);
                assert.equal(owner(r)?.value, value);
            }
        });

        it("refuses a node another stack deployed, naming its cluster and the way to take it over", () => {
            const r = run(healthy(), { owner: { installDir: node(theirs), cluster: ours } });
            assert.notEqual(r.status, 0);
            assert.match(r.stderr, new RegExp(`^  - deployed by is cluster ${theirs}, another stack \\(threshold this stack's cluster ${ours} or none\\)$`, "m"));
            assert.match(r.stderr, new RegExp(`cluster ${theirs} deployed this node from another stack, .*set harbor-ha:adoptCluster to ${theirs}$`, "m"));
        });

        it("takes over the cluster harbor-ha:adoptCluster names, and only that one", () => {
            const r = run(healthy(), { owner: { installDir: node(theirs), cluster: ours, adopt: theirs } });
            assert.equal(r.status, 0, r.stderr);
            assert.equal(owner(r)?.value, `cluster ${theirs}, taken over (harbor-ha:adoptCluster)`);
            const other = run(healthy(), { owner: { installDir: node("ffffffffffffffff"), cluster: ours, adopt: theirs } });
            assert.notEqual(other.status, 0);
        });
    });

    describe("clock", () => {
        const healthy = (time?: TimeService) => sandbox({ size: 100 * GiB, avail: 50 * GiB, inodes: 1000, ifree: 900 }, true, time);
        const sync = (r: ReturnType<typeof run>) => parsePreflightReport(r.stdout + r.stderr).find(c => c.check === "time synchronized");

        it("refuses a node whose clock chrony does not synchronize, or that no time service keeps, naming the fix", () => {
            for (const [time, value] of [["chrony not synchronised", "chrony: leap status Not synchronised"], ["none", "no time service answers (chronyc, timedatectl, ntpstat)"]] as const) {
                const r = run(healthy(time));
                assert.notEqual(r.status, 0, time);
                assert.equal(sync(r)?.value, value);
                assert.match(r.stderr, new RegExp(`^  - time synchronized is ${value.replace(/[()]/g, "\\$&")} \\(threshold synchronized by NTP`, "m"));
                assert.match(r.stderr, /node harbor-2: its clock is not kept by NTP.*Install and enable chrony/);
            }
        });

        it("reports but does not require a synchronized clock with requireTimeSync false", () => {
            const r = run(healthy("none"), { requireTimeSync: false });
            assert.equal(r.status, 0, r.stderr);
            assert.deepEqual(sync(r), { check: "time synchronized", value: "no time service answers (chronyc, timedatectl, ntpstat)", threshold: "not required (harbor-ha:preflight.requireTimeSync false)", ok: true });
        });
    });
});
