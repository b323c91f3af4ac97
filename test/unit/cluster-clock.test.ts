// Every node's clock measured from the machine running Pulumi, beside the node's own preflight,
// before anything on it changes.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
    assertHeldWorkWaiting, byType, fixtureInstaller, hostKeys, isSecretInput, plain, plainConfig, promiseOf, registered, runStack, secretValues, settled,
} from "../mocks";

let preflight: Record<string, { check: string; ok: boolean }[]>;

describe("clocks", () => {
    before(async () => {
        const outputs = await runStack(plainConfig(fixtureInstaller()));
        preflight = await promiseOf(outputs.preflight);
        await promiseOf(outputs.nodeStatus);
    });

    it("probes each node over SSH with its host key pinned, the private key only on stdin, again when the preflight runs again", () => {
        const all = byType("command:local:Command");
        // Each node's clock is measured again before a change of its deploy (cluster-recheck.test.ts).
        assert.deepEqual(all.map(p => p.name).sort(), [1, 2, 3].flatMap(i => [`cluster-harbor-${i}-preflight-clock-probe`, `cluster-harbor-${i}-clock-recheck-probe`]).sort());
        const probes = all.filter(p => p.name.endsWith("-preflight-clock-probe"));
        assert.deepEqual(probes.map(p => p.name), [1, 2, 3].map(i => `cluster-harbor-${i}-preflight-clock-probe`));
        const sha = byType("command:remote:Command").find(c => c.name === "cluster-harbor-1-preflight-checks")!.inputs.triggers[0];
        probes.forEach((p, i) => {
            assert.ok(isSecretInput(p.inputs.stdin), "stdin carries the private key: secret");
            const c = JSON.parse(plain(p.inputs.stdin));
            assert.deepEqual({ ...c, privateKey: undefined }, {
                node: `harbor-${i + 1}`, host: "127.0.0.1", port: 2201 + i, user: "root", hostKey: hostKeys[i], privateKey: undefined, samples: 20,
                maxSkewMs: 1000, tolerance: "the registry accepts tokens up to 60 s early",
            });
            assert.equal(c.privateKey, secretValues.sshPrivateKey);
            assert.equal(p.inputs.create, "node components/clockProbe.cjs");
            assert.deepEqual(p.inputs.triggers, [sha]);
            assert.deepEqual(p.options.additionalSecretOutputs, ["stderr"]);
        });
    });

    it("reports each node's clock with its other checks", () => {
        for (const node of ["harbor-1", "harbor-2", "harbor-3"]) {
            const checks = preflight[node].map(c => c.check);
            assert.equal(checks[checks.length - 1], "clock", node);
        }
    });
});

describe("a node whose clock is not measured yet", () => {
    after(() => assertHeldWorkWaiting("the held clock probe"));

    it("gets nothing changed on it while its own checks ran; the database check, which every node's deploy needs, waits too", async () => {
        await runStack(plainConfig(fixtureInstaller()), undefined, { held: ["cluster-harbor-2-preflight-clock-probe"] });
        await settled(["cluster-harbor-2-preflight-checks", "cluster-harbor-1-cephfs-mount"]);
        for (const r of ["cluster-harbor-2-cephfs-mount", "cluster-harbor-2-installer-copy", "cluster-mysql-check-harbor-2", "cluster-harbor-1-deploy"]) {
            assert.ok(!registered(r), `${r} did not wait for harbor-2's clock`);
        }
    });
});
