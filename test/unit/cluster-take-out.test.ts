// Before a deploy changes, its node goes out of service only once the others are in: a step of its
// own (after the re-check), fed by a node list that changes no deploy.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, describe, it } from "node:test";
import { assertHeldWorkWaiting, byType, fixtureInstaller, isSecretInput, plain, plainConfig, registered, runStack, settled } from "../mocks";

const cmd = (name: string) => byType("command:remote:Command").find(r => r.name === name)!;
const sha = (text: string) => createHash("sha256").update(text).digest("hex");
const trigger = (name: string) => (plain(cmd(name).inputs.triggers) as unknown[]).map(plain)[0];

describe("the take-out step before each deploy", () => {
    after(() => assertHeldWorkWaiting("the held take-out"));

    it("a deploy waits for its node's take-out, which waits for the re-check", async () => {
        await runStack(plainConfig(fixtureInstaller()), undefined, { deployed: { harborVersion: "1.2.2" }, held: ["cluster-harbor-2-recheck", "cluster-harbor-3-take-out"] });
        await settled(["cluster-harbor-1-deploy"]);
        assert.ok(!registered("cluster-harbor-2-take-out"), "harbor-2 went out before its re-check passed");
        await settled(["cluster-harbor-3-peers"]);
        assert.ok(!registered("cluster-harbor-3-deploy"), "harbor-3 deployed before its take-out");
    });

    it("runs again with every change of the deploy (a secret hash of its command, files and installer), never on its own text", async () => {
        const installer = fixtureInstaller();
        const cfg = plainConfig(installer);
        await runStack(cfg, undefined, { deployed: { harborVersion: "1.2.2" } });
        await settled(["cluster-harbor-3-deploy"]);
        const takeOut = cmd("cluster-harbor-2-take-out");
        const triggers = takeOut.inputs.triggers as unknown;
        assert.ok(isSecretInput(triggers) || isSecretInput((triggers as unknown[])[0]), "a hash of files with passwords in them: secret");
        const deploy = cmd("cluster-harbor-2-deploy");
        const installerSha = (plain(deploy.inputs.triggers) as unknown[]).map(plain)[0] as string;
        assert.equal(trigger("cluster-harbor-2-take-out"), sha([plain(deploy.inputs.create), plain(deploy.inputs.stdin), installerSha].join("\n")));
        assert.match(plain(takeOut.inputs.update) as string, /^echo "harbor-2: no change of its deploy; stays in service"$/);
        assert.match(plain(takeOut.inputs.stdin) as string, /^\s+take_out_of_service$/m);
        const before = trigger("cluster-harbor-2-take-out");

        await runStack({ ...cfg, redis: { ...(cfg.redis as object), poolSize: 50 } }, undefined, { deployed: { harborVersion: "1.2.2" } });
        await settled(["cluster-harbor-3-deploy"]);
        assert.notEqual(trigger("cluster-harbor-2-take-out"), before, "a changed deploy takes the node out first");
    });

    it("gives every node the whole node list with the load balancer's check; a node added changes no deploy", async () => {
        // http: with https a node added is a new name in the certificate, which every node serves.
        const cfg: Record<string, unknown> = { ...plainConfig(fixtureInstaller()), protocol: "http" };
        await runStack(cfg, undefined, { deployed: { harborVersion: "1.2.2" } });
        await settled(["cluster-harbor-3-deploy"]);
        const list = plain(cmd("cluster-harbor-1-peers").inputs.stdin) as string;
        const nodes = cfg.nodes as { name: string; address: string }[];
        for (const n of nodes) assert.ok(list.includes(`\n${n.name} http://${n.address}:8099/harbor-ha/health\n`), `${n.name} in harbor-1's list`);
        const deployStdin = plain(cmd("cluster-harbor-1-deploy").inputs.stdin);

        const fourth = { ...nodes[2], name: "harbor-4", address: "10.0.0.14", sshPort: 2204 };
        await runStack({ ...cfg, nodes: [...nodes, fourth] }, undefined, { deployed: { harborVersion: "1.2.2" } });
        await settled(["cluster-harbor-4-deploy"]);
        assert.match(plain(cmd("cluster-harbor-1-peers").inputs.stdin) as string, /\nharbor-4 http:\/\/10\.0\.0\.14:8099\/harbor-ha\/health\n/);
        assert.equal(plain(cmd("cluster-harbor-1-deploy").inputs.stdin), deployStdin, "harbor-1's deploy is the same");
    });
});
