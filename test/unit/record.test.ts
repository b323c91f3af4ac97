// What a node runs, read from the node: UpgradeStop's "nothing to stop" on a node already on the
// target schema. Run for real in a scratch directory; docker and docker-compose are stubs.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, it } from "node:test";
import { stopScript } from "../../render/scripts/harborNode";
import { writeRecordScript } from "../../render/scripts/record";
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
