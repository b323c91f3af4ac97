// The program's answer to a bad stack file, through the real CLI: one list of every problem, each
// naming its key, printed once, without a stack trace; and a non-lab stack refused without a
// passphrase of its own. Needs the toolchain (scripts/install-pulumi.sh), not the lab.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { repo } from "./lab";

const broken = `config:
  harbor-ha:domain: hub.example.com
  harbor-ha:harborVerison: 2.15.2
  harbor-ha:port: eighty
  harbor-ha:protectData: "yes"
  harbor-ha:installer:
    url: https://example.com/harbor-offline-installer-v2.15.2.tgz
    sha256: 0000000000000000000000000000000000000000000000000000000000000000
  harbor-ha:nodes:
    - name: hub-1
      host: 10.10.0.300
      hostKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAA
      sshPort: true
    - name: hub-2
      host: 10.10.0.12
      hostKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAB
  harbor-ha:ceph:
    monitors: [999.1.1.1:6789]
    mountPiont: /mnt/x
  harbor-ha:redis:
    host: redis.example.com
    port: six
`;

/** Every problem the validator must name, once each. */
const expected = [
    /^ {6}- harbor-ha:harborVerison: unknown key; did you mean harborVersion\?/,
    /^ {6}- harbor-ha:harborVersion: is required$/,
    /^ {6}- harbor-ha:port: must be an integer from 1 to 65535, got "eighty"$/,
    /^ {6}- harbor-ha:protectData: must be true or false, got "yes"$/,
    /^ {6}- harbor-ha:installer\.sha256: must be a string, got 0 \(YAML read it as a number or boolean: quote it\)$/,
    /^ {6}- harbor-ha:nodes\[0\]\.host: "10\.10\.0\.300" is not a valid IPv4 address/,
    /^ {6}- harbor-ha:nodes\[0\]\.sshPort: must be an integer from 1 to 65535, got true$/,
    /^ {6}- harbor-ha:ceph\.mountPiont: unknown setting; did you mean mountPoint\?/,
    /^ {6}- harbor-ha:ceph\.monitors\[0\]: "999\.1\.1\.1" is not a valid IPv4 address/,
    /^ {6}- harbor-ha:redis\.port: must be an integer from 1 to 65535, got "six"$/,
    /^ {6}- harbor-ha:sshPrivateKey: is required/,
    /^ {6}- harbor-ha:cephSecret: is required/,
];

/** Runs a script in the repository with this environment, and no passphrase but the one given. */
function run(script: string, env: Record<string, string>): { status: number | null; out: string } {
    const base = { ...process.env };
    delete base.PULUMI_CONFIG_PASSPHRASE;
    delete base.PULUMI_CONFIG_PASSPHRASE_FILE;
    const r = spawnSync("bash", ["-c", script], { cwd: repo, encoding: "utf8", env: { ...base, ...env }, maxBuffer: 64 << 20 });
    return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

describe("the CLI on a bad stack file", () => {
    it("prints one list of every problem, each once, and no stack trace", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "harbor-ha-cli-"));
        const env = { PULUMI_BACKEND_URL: `file://${dir}/state`, PULUMI_CONFIG_PASSPHRASE: "cli-test-only" };
        fs.mkdirSync(path.join(dir, "state"));
        // The stack is created beside a copy of Pulumi.yaml, so its salt never lands in the repository.
        fs.mkdirSync(path.join(dir, "init"));
        fs.copyFileSync(path.join(repo, "Pulumi.yaml"), path.join(dir, "init", "Pulumi.yaml"));
        const init = run(`. scripts/pulumi-env.sh && cd ${dir}/init && pulumi stack init broken --non-interactive`, env);
        assert.equal(init.status, 0, init.out);
        fs.writeFileSync(path.join(dir, "Pulumi.broken.yaml"), broken);
        const r = run(`. scripts/pulumi-env.sh && pulumi preview --stack broken --config-file ${dir}/Pulumi.broken.yaml --non-interactive`, env);
        assert.notEqual(r.status, 0);
        const diagnostics = r.out.slice(r.out.indexOf("Diagnostics:"));
        assert.match(diagnostics, /error: invalid stack configuration \(12 problems\):/);
        const lines = diagnostics.split("\n");
        for (const e of expected) assert.equal(lines.filter(l => e.test(l)).length, 1, `once in the diagnostics: ${e}\n${diagnostics}`);
        assert.equal(lines.filter(l => /^ {6}- harbor-ha:/.test(l)).length, 12, diagnostics);
        assert.doesNotMatch(r.out, /^\s+at .+:\d+:\d+\)?$/m, "no stack trace");
        assert.doesNotMatch(r.out, /unhandled exception|PromiseRejectionHandledWarning|ConfigError/);
    });

    it("refuses to preview a non-lab stack without a passphrase of its own", () => {
        const r = run("bash scripts/preview.sh prod", { PULUMI_BACKEND_URL: `file://${fs.mkdtempSync(path.join(os.tmpdir(), "harbor-ha-cli-"))}` });
        assert.notEqual(r.status, 0);
        assert.match(r.out, /harbor-ha: stack prod has no passphrase: set PULUMI_CONFIG_PASSPHRASE_FILE/);
    });
});
