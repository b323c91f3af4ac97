// What a node runs, read from the node: the survey of a stack with no record of its cluster, and
// UpgradeStop's "nothing to stop" on a node already on the target schema. Run for real in a
// scratch directory; a docker stub says which containers run.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, it } from "node:test";
import { stopScript } from "../../render/scripts/harborNode";
import { surveyScript, writeRecordScript } from "../../render/scripts/record";
import { putFileFn } from "../../render/scripts/shell";

function node(record?: { version: string; schema?: string; cluster: string }, containers = 0) {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "harbor-ha-record-"));
    const dir = path.join(root, "opt", "harbor");
    const bin = path.join(root, "bin");
    fs.mkdirSync(bin, { recursive: true });
    const calls = path.join(root, "calls");
    const ids = Array.from({ length: containers }, (_, i) => `c${i}`).join("\\n");
    for (const tool of ["docker", "docker-compose"]) {
        fs.writeFileSync(path.join(bin, tool), `#!/bin/bash\necho "${tool} $*" >> ${calls}\n[ "$1" = ps ] && [ -n "${ids}" ] && printf '${ids}\\n'\nexit 0\n`, { mode: 0o755 });
    }
    if (record) {
        fs.mkdirSync(dir, { recursive: true });
        const r = spawnSync("bash", ["-c", `set -euo pipefail\n${putFileFn}\ndir=${dir}\nmkdir -p "$dir/.harbor-ha"\n${writeRecordScript(record)}`], { encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
    }
    const env = { ...process.env, PATH: `${bin}:/usr/bin:/bin` };
    const called = () => (fs.existsSync(calls) ? fs.readFileSync(calls, "utf8") : "");
    return { dir, env, called };
}

const cluster = "a1b2c3d4e5f60718";
function survey(n: ReturnType<typeof node>, version = "2.15.2") {
    const s = surveyScript({ nodeName: "harbor-2", installDir: n.dir, composeProject: "harbor", cluster, version });
    return spawnSync("sh", ["-c", s.command], { input: s.text, encoding: "utf8", env: n.env });
}

describe("the survey of a stack with no record of its cluster", () => {
    it("passes a node without Harbor", () => {
        const r = survey(node());
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout.trim(), "survey: harbor-2 runs no Harbor yet");
    });

    it("refuses a node another stack deployed, naming what it runs and the key that says so", () => {
        const r = survey(node({ version: "2.14.4", schema: "171", cluster: "ffffffffffffffff" }));
        assert.equal(r.status, 1);
        assert.match(r.stderr, /^harbor-2: already runs Harbor 2\.14\.4 \(deployed by harbor-ha, another stack or this one before its state was lost\), but this stack has no record of a deployment/);
        assert.match(r.stderr, /Nothing was changed\. .*pulumi config set harbor-ha:deployedHarborVersion <version>/);
    });

    it("refuses a node this stack deployed with another version (a lost record of an upgrade)", () => {
        const r = survey(node({ version: "2.14.4", schema: "171", cluster }));
        assert.equal(r.status, 1);
        assert.match(r.stderr, /already runs Harbor 2\.14\.4 \(deployed by harbor-ha\), but/);
    });

    it("passes this stack's own node of the same version: a first update that failed half-way is repaired by the next", () => {
        const r = survey(node({ version: "2.15.2", schema: "180", cluster }));
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /harbor-2 runs Harbor 2\.15\.2 from an earlier update of this stack/);
    });

    it("refuses a Harbor running without a record (set up by hand, or by an older harbor-ha)", () => {
        const r = survey(node(undefined, 9));
        assert.equal(r.status, 1);
        assert.match(r.stderr, /already runs a Harbor in .+ \(9 containers\) that harbor-ha has no record of/);
    });
});

describe("UpgradeStop on a node", () => {
    const stop = (n: ReturnType<typeof node>) => {
        fs.mkdirSync(n.dir, { recursive: true });
        fs.writeFileSync(path.join(n.dir, "docker-compose.yml"), "services: {}\n");
        return spawnSync("sh", ["-c", stopScript(n.dir, "harbor-2", undefined, "180")], { encoding: "utf8", env: { ...n.env, HARBOR_HA_SYSROOT: n.dir } });
    };

    it("leaves a node running whose record says it runs the target schema already", () => {
        const n = node({ version: "2.15.0", schema: "180", cluster });
        const r = stop(n);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /harbor-2: runs schema 180 already; nothing to stop/);
        assert.equal(n.called(), "");
    });

    it("stops a node on another schema, or without a record", () => {
        for (const n of [node({ version: "2.14.4", schema: "171", cluster }), node()]) {
            const r = stop(n);
            assert.equal(r.status, 0, r.stderr);
            assert.match(r.stdout, /harbor-2: Harbor stopped; data kept/);
            assert.match(n.called(), /^docker-compose down$/m);
            assert.ok(!fs.existsSync(path.join(n.dir, ".harbor-ha", "deployed")), "a stopped node runs nothing: its record goes");
        }
    });
});
