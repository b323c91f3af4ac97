// The GitHub workflow and the scripts it calls, run here for real.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, it } from "node:test";
import { parse } from "yaml";

const root = path.join(__dirname, "..", "..");
const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { cwd: root, encoding: "utf8" });
const workflowFile = path.join(root, ".github", "workflows", "harbor-ha.yml");

describe("workflow", () => {
    const wf = parse(fs.readFileSync(workflowFile, "utf8")) as { on: Record<string, unknown>; jobs: Record<string, any> };

    it("tests on pull requests and main, previews every non-lab stack on pull requests, brings the lab up on main", () => {
        assert.deepEqual(Object.keys(wf.on).sort(), ["pull_request", "push"]);
        assert.deepEqual(Object.keys(wf.jobs).sort(), ["lab", "preview", "stacks", "test"]);
        const steps = (job: string) => JSON.stringify(wf.jobs[job].steps);
        assert.match(steps("test"), /npm run test:unit/);
        assert.match(steps("preview"), /scripts\/install-pulumi\.sh/);
        assert.match(steps("preview"), /scripts\/preview\.sh \\"\$STACK\\"/);
        assert.match(steps("preview"), /gh pr comment/);
        assert.equal(wf.jobs.preview.permissions["pull-requests"], "write");
        assert.match(JSON.stringify(wf.jobs.stacks.steps), /--except dev --except dev-v2/, "no lab stack is previewed");
        assert.match(wf.jobs.lab.if, /refs\/heads\/main/);
        assert.match(steps("lab"), /npm run demo/);
    });

    it("previews each stack with its own credentials, from its own environment, never for a fork", () => {
        assert.equal(wf.jobs.preview.environment, "preview-${{ matrix.stack }}");
        assert.match(wf.jobs.preview.if, /github\.event\.pull_request\.head\.repo\.full_name == github\.repository/);
        for (const [name, job] of Object.entries(wf.jobs)) {
            if (name !== "preview") assert.doesNotMatch(JSON.stringify(job), /secrets\./, `${name} uses no secret`);
        }
    });

    it("takes secrets only through the environment", () => {
        const text = fs.readFileSync(workflowFile, "utf8");
        for (const m of text.matchAll(/\$\{\{\s*secrets\.([A-Z_]+)\s*\}\}/g)) {
            const line = text.split("\n").find(l => l.includes(m[0]))!;
            assert.match(line, /^\s+[A-Z_]+: \$\{\{ secrets\.[A-Z_]+ \}\}$/, `secret used outside env: ${line}`);
        }
    });

    it("passes actionlint", { skip: !process.env.CI && sh("sh", ["-c", "command -v actionlint"]).status !== 0 && "actionlint not installed (CI installs it)" }, () => {
        const r = sh("actionlint", ["-no-color", workflowFile]);
        assert.equal(r.status, 0, r.stdout + r.stderr);
    });
});

describe("scripts/ci", () => {
    it("stacks.sh lists the stacks with a stack file", () => {
        const files = fs.readdirSync(root).filter(f => /^Pulumi\.[^.]+\.yaml$/.test(f)).map(f => f.split(".")[1]).sort();
        const all = JSON.parse(sh("scripts/ci/stacks.sh", []).stdout) as string[];
        assert.deepEqual([...all].sort(), files);
        assert.deepEqual(JSON.parse(sh("scripts/ci/stacks.sh", ["--except", "dev"]).stdout).sort(), files.filter(s => s !== "dev"));
        assert.deepEqual(JSON.parse(sh("scripts/ci/stacks.sh", ["--except", "dev", "--except", "dev-v2"]).stdout).sort(), files.filter(s => !s.startsWith("dev")));
    });

    it("preview-comment.sh summarises a preview and strips colours", () => {
        const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "harbor-ha-ci-")), "preview.log");
        fs.writeFileSync(log, "Previewing update (prod)\n\x1b[32m + cluster-harbor-1-deploy\x1b[0m\nResources:\n    + 42 to create\n");
        const ok = sh("scripts/ci/preview-comment.sh", ["prod", "0", log]);
        assert.equal(ok.status, 0, ok.stderr);
        assert.match(ok.stdout, /^<!-- harbor-ha-preview:prod -->\n### `pulumi preview --stack prod`: preview succeeded\n\nResources: \+ 42 to create\n/);
        assert.doesNotMatch(ok.stdout, /\x1b/);
        assert.match(sh("scripts/ci/preview-comment.sh", ["prod", "255", log]).stdout, /\*\*preview FAILED\*\* \(exit 255\)/);
        assert.notEqual(sh("scripts/ci/preview-comment.sh", ["prod", "0", "/nonexistent"]).status, 0);
    });
});

describe("promotion", () => {
    it("copies only the release keys, previews with the policy pack, then ups", () => {
        const r = sh("scripts/promote.sh", ["staging", "prod", "--dry-run"]);
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(r.stdout.trim().split("\n"), [
            "+ pulumi config cp --stack staging --dest prod --path harbor-ha:harborVersion",
            "+ pulumi config cp --stack staging --dest prod --path harbor-ha:installer",
            `+ pulumi preview --stack prod --diff --policy-pack ${root}/policy --policy-pack-config policy/config/prod.json`,
            `+ pulumi up --stack prod --yes --skip-preview --policy-pack ${root}/policy --policy-pack-config policy/config/prod.json`,
        ]);
    });
    it("refuses a stack without a stack file, or promoting onto itself", () => {
        assert.match(sh("scripts/promote.sh", ["staging", "qa", "--dry-run"]).stderr, /no stack file Pulumi\.qa\.yaml/);
        assert.match(sh("scripts/promote.sh", ["prod", "prod", "--dry-run"]).stderr, /same stack/);
    });
});
