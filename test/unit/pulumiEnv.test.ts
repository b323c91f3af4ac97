// scripts/pulumi-env.sh: the lab's published passphrase for the lab's stacks only, a private state directory.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";

const repo = path.join(__dirname, "..", "..");

/** Sources pulumi-env.sh in a clean environment (plus env), runs script; its status and output. */
function sourced(script: string, env: Record<string, string> = {}): { status: number | null; out: string; state: string } {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), "harbor-ha-env-"));
    fs.writeFileSync(path.join(state, "old-file.json"), "{}", { mode: 0o644 });
    const r = spawnSync("bash", ["-c", `exec 2>&1; set -u; . scripts/pulumi-env.sh; ${script}`], {
        cwd: repo, encoding: "utf8",
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: os.tmpdir(), PULUMI_BACKEND_URL: `file://${state}`, ...env },
    });
    return { status: r.status, out: `${r.stdout}${r.stderr}`, state };
}

describe("scripts/pulumi-env.sh", () => {
    it("sets no passphrase by itself", () => {
        const r = sourced('echo "[${PULUMI_CONFIG_PASSPHRASE-unset}]"');
        assert.equal(r.out.trim(), "[unset]");
    });
    for (const stack of ["dev", "dev-v2", "lab"]) {
        it(`gives the lab stack ${stack} the lab's passphrase`, () => {
            const r = sourced(`hh_stack_env ${stack} && echo "[$PULUMI_CONFIG_PASSPHRASE]"`);
            assert.equal(r.status, 0, r.out);
            assert.equal(r.out.trim(), "[harbor-ha-lab]");
        });
    }
    for (const stack of ["prod", "staging", "dev2"]) {
        it(`refuses ${stack} without a passphrase, saying how to set one`, () => {
            const r = sourced(`hh_stack_env ${stack}; echo "status $? [\${PULUMI_CONFIG_PASSPHRASE-unset}]"`);
            assert.match(r.out, /stack \w+ has no passphrase: set PULUMI_CONFIG_PASSPHRASE_FILE/);
            assert.match(r.out, /status 1 \[unset\]/);
        });
    }
    it("refuses the lab's passphrase for any other stack, set by hand or left by a lab stack", () => {
        assert.match(sourced("hh_stack_env prod; echo status $?", { PULUMI_CONFIG_PASSPHRASE: "harbor-ha-lab" }).out, /refusing the lab's passphrase[\s\S]*status 1/);
        assert.match(sourced("hh_stack_env dev && hh_stack_env prod; echo status $?").out, /refusing the lab's passphrase[\s\S]*status 1/);
        assert.match(sourced("hh_pulumi preview --stack prod; echo status $?").out, /no passphrase[\s\S]*status 1/);
    });
    it("keeps a stack's own passphrase, from a file or the environment", () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "harbor-ha-pw-")), "pw");
        fs.writeFileSync(file, "a real one\n", { mode: 0o600 });
        assert.equal(sourced("hh_stack_env prod && echo ok", { PULUMI_CONFIG_PASSPHRASE_FILE: file }).out.trim(), "ok");
        assert.equal(sourced('hh_stack_env prod && echo "[$PULUMI_CONFIG_PASSPHRASE]"', { PULUMI_CONFIG_PASSPHRASE: "mine" }).out.trim(), "[mine]");
        assert.equal(sourced('hh_stack_env dev && echo "[$PULUMI_CONFIG_PASSPHRASE]"', { PULUMI_CONFIG_PASSPHRASE: "mine" }).out.trim(), "[mine]");
    });
    it("needs no passphrase with a backend that has its own secrets provider", () => {
        assert.equal(sourced("hh_stack_env prod && echo ok", { PULUMI_BACKEND_URL: "https://api.pulumi.com" }).out.trim(), "ok");
    });
    it("keeps the file backend private: the directory 0700, its files and new ones 0600", () => {
        const r = sourced('touch "${PULUMI_BACKEND_URL#file://}/new.json"; umask');
        assert.equal(r.out.trim(), "0077");
        assert.equal(fs.statSync(r.state).mode & 0o777, 0o700);
        assert.equal(fs.statSync(path.join(r.state, "old-file.json")).mode & 0o777, 0o600);
        assert.equal(fs.statSync(path.join(r.state, "new.json")).mode & 0o777, 0o600);
    });
});
