// daemon.json merging, run with the node's own tool (python's json module), against golden cases.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, it } from "node:test";
import { daemonJsonMergePy, dockerDataRootKeepScript, dockerDataRootScript } from "../../render/scripts/dockerDataRoot";
import { requireFlavor } from "../../render/flavors";
import { assertGolden } from "../golden";
import { drainSettings } from "../mocks";

function merge(existing: string | undefined, root: string) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "harbor-ha-daemon-"));
    const file = path.join(dir, "daemon.json");
    if (existing !== undefined) fs.writeFileSync(file, existing);
    return spawnSync("python3", ["-", file, root], { input: daemonJsonMergePy, encoding: "utf8" });
}

describe("daemon.json merge", () => {
    it("creates the file's content when there is none", () => {
        const r = merge(undefined, "/data/docker");
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, '{\n  "data-root": "/data/docker"\n}\n');
    });
    it("keeps every other key, in order, and replaces the old graph key", () => {
        const r = merge(JSON.stringify({ "insecure-registries": ["hub.example.test:8070"], graph: "/old", "log-opts": { "max-size": "10m" } }), "/data/docker");
        assert.equal(r.status, 0, r.stderr);
        assertGolden("daemon-merged.json", r.stdout);
        assert.deepEqual(Object.keys(JSON.parse(r.stdout)), ["insecure-registries", "log-opts", "data-root"]);
    });
    it("removes data-root to move back to Docker's default", () => {
        const r = merge('{"data-root": "/data/docker", "debug": true}', "");
        assert.equal(r.stdout, '{\n  "debug": true\n}\n');
    });
    it("refuses a malformed file with a clear error and no output", () => {
        const r = merge('{"insecure-registries": ["a",]', "/data/docker");
        assert.equal(r.status, 2);
        assert.equal(r.stdout, "");
        assert.match(r.stderr, /daemon\.json is not valid JSON \(.+\); fix or remove it - nothing was changed/);
    });
    it("refuses a file that is not a JSON object", () => {
        const r = merge("[1, 2]", "/data/docker");
        assert.equal(r.status, 2);
        assert.match(r.stderr, /must hold a JSON object/);
    });
    it("destroy leaves Docker's data where it is: Docker is asked where its data is, nothing else", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "harbor-ha-keep-"));
        const calls = path.join(dir, "calls");
        for (const tool of ["docker", "service", "systemctl", "rsync", "cp", "rm", "mv"]) {
            fs.writeFileSync(path.join(dir, tool), `#!/bin/sh\necho "${tool} $*" >> ${calls}\n[ "$1" = info ] && echo /data/docker\nexit 0\n`, { mode: 0o755 });
        }
        const r = spawnSync("sh", ["-c", dockerDataRootKeepScript("harbor-1")], { encoding: "utf8", env: { ...process.env, PATH: `${dir}:/usr/bin:/bin` } });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(fs.readFileSync(calls, "utf8"), "docker info --format {{.DockerRootDir}}\n");
        assert.match(r.stdout, /data root of harbor-1 left at \/data\/docker/);
    });
    it("the move script merges before it stops Docker", () => {
        const s = dockerDataRootScript("harbor-1", "/data/docker", {
            installDir: "/opt/harbor", port: 8070, checkPort: 8099, endpoint: { protocol: "https", domain: "hub.example.test" },
            health: requireFlavor("1.2.2").health, drain: drainSettings, composeFn: requireFlavor("1.2.2").composeFn,
            guard: { installDir: "/opt/harbor", dataPath: "/mnt/cephfs/harbor/data", domain: "hub.example.test" },
        }).text;
        assert.ok(s.indexOf("$py - \"$conf\" \"$want\"") < s.indexOf("docker_service stop"));
        assertGolden("docker-data-root.sh", s);
    });
});
