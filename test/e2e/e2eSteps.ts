// What the lab's end-to-end tests share: a shell in the repository, pulumi on a lab stack with its
// lab config file, timings in the log, and figures that must all hold.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { labStackConfigPath } from "../../scripts/labStack";
import { log, repo } from "./lab";
import { Outcome, report } from "./verify";

export function sh(script: string): { status: number | null; out: string } {
    const r = spawnSync("bash", ["-c", script], { cwd: repo, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 256 << 20 });
    return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

/** `pulumi <args>` on a lab stack, with the config file the demo wrote for it. */
export function stackCommand(stack: string): (args: string) => { status: number | null; out: string } {
    return (args: string) => sh(`. scripts/pulumi-env.sh && hh_pulumi ${args} --stack ${stack} --config-file ${labStackConfigPath(stack)}`);
}

export function timed<T>(what: string, f: () => T): T {
    const t0 = Date.now();
    try {
        return f();
    } finally {
        log(`${what}: ${((Date.now() - t0) / 1000).toFixed(0)}s`);
    }
}

export function expectAll(outcomes: Outcome[]): void {
    assert.ok(report(outcomes), outcomes.filter(o => !o.ok).map(o => `${o.name}: ${o.figure}`).join("; "));
}
