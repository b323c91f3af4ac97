// Every change that redeploys a node checks it again first: a disk that filled up since the node's
// first preflight refuses the deploy before the node is drained.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, describe, it } from "node:test";
import { assertHeldWorkWaiting, byType, fixtureInstaller, isSecretInput, plain, plainConfig, registered, runStack, settled } from "../mocks";

const cmd = (name: string) => byType("command:remote:Command").find(r => r.name === name)!;
const local = (name: string) => byType("command:local:Command").find(r => r.name === name)!;
const sha = (text: string) => createHash("sha256").update(text).digest("hex");

describe("the preflight again before each deploy", () => {
    after(() => assertHeldWorkWaiting("the held re-check"));

    it("a deploy waits for its node's re-check; the others go ahead up to it", async () => {
        await runStack(plainConfig(fixtureInstaller()), undefined, { deployed: { harborVersion: "1.2.2" }, held: ["cluster-harbor-2-recheck"] });
        await settled(["cluster-harbor-1-deploy", "cluster-harbor-2-recheck"]);
        assert.ok(!registered("cluster-harbor-2-deploy"), "harbor-2 deployed without its checks passing");
        assert.ok(!registered("cluster-harbor-3-deploy"));
    });

    it("a deploy waits for its node's clock measured again; the others go ahead up to it", async () => {
        await runStack(plainConfig(fixtureInstaller()), undefined, { deployed: { harborVersion: "1.2.2" }, held: ["cluster-harbor-2-clock-recheck-probe"] });
        await settled(["cluster-harbor-1-deploy", "cluster-harbor-2-clock-recheck-probe"]);
        assert.ok(!registered("cluster-harbor-2-take-out"), "harbor-2 taken out without its clock measured again");
        assert.ok(!registered("cluster-harbor-2-deploy"), "harbor-2 deployed without its clock measured again");
        assert.ok(!registered("cluster-harbor-3-deploy"));
    });

    it("measures the clock against the preflight's limit again, whenever the deploy's script or files change", async () => {
        const cfg = plainConfig(fixtureInstaller());
        const stdin = (name: string) => JSON.parse(plain(local(name).inputs.stdin) as string);
        await runStack({ ...cfg, preflight: { maxClockSkewMs: 250 } }, undefined, { deployed: { harborVersion: "1.2.2" } });
        await settled(["cluster-harbor-3-deploy"]);
        const first = stdin("cluster-harbor-2-preflight-clock-probe");
        const again = stdin("cluster-harbor-2-clock-recheck-probe");
        assert.equal(again.maxSkewMs, 250);
        assert.deepEqual(again, first, "the same node, connection, limit and reason as the preflight's");
        assert.ok(isSecretInput(local("cluster-harbor-2-clock-recheck-probe").inputs.stdin), "the connection's private key travels on stdin: secret");
        const trigger = (plain(local("cluster-harbor-2-clock-recheck-probe").inputs.triggers) as unknown[]).map(plain)[0];
        assert.equal(trigger, (plain(cmd("cluster-harbor-2-recheck").inputs.triggers) as unknown[]).map(plain)[0], "measured again with the checks");

        await runStack({ ...cfg, preflight: { maxClockSkewMs: 250 }, redis: { ...(cfg.redis as object), poolSize: 50 } }, undefined, { deployed: { harborVersion: "1.2.2" } });
        await settled(["cluster-harbor-3-deploy"]);
        assert.notEqual((plain(local("cluster-harbor-2-clock-recheck-probe").inputs.triggers) as unknown[]).map(plain)[0], trigger, "a changed deploy measures again");
    });

    it("runs the node's own preflight, re-run whenever the deploy's script or files change (a secret hash of them)", async () => {
        const cfg = plainConfig(fixtureInstaller());
        await runStack(cfg, undefined, { deployed: { harborVersion: "1.2.2" } });
        await settled(["cluster-harbor-3-deploy"]);
        const recheck = cmd("cluster-harbor-2-recheck");
        assert.equal(plain(recheck.inputs.stdin), plain(cmd("cluster-harbor-2-preflight-checks").inputs.stdin));
        assert.match(plain(recheck.inputs.stdin), /^report "time synchronized" /m);
        const triggers = recheck.inputs.triggers as unknown;
        assert.ok(isSecretInput(triggers) || isSecretInput((triggers as unknown[])[0]), "the trigger is a hash of files with passwords in them: secret");
        const trigger = (plain(triggers) as unknown[]).map(plain)[0];
        const deployStdin = plain(cmd("cluster-harbor-2-deploy").inputs.stdin) as string;
        assert.equal(trigger, sha(deployStdin));

        await runStack({ ...cfg, redis: { ...(cfg.redis as object), poolSize: 50 } }, undefined, { deployed: { harborVersion: "1.2.2" } });
        await settled(["cluster-harbor-3-deploy"]);
        assert.notEqual((plain(cmd("cluster-harbor-2-recheck").inputs.triggers) as unknown[]).map(plain)[0], trigger, "a changed deploy re-checks");
        assert.notEqual(plain(cmd("cluster-harbor-2-deploy").inputs.stdin), deployStdin);
    });
});
