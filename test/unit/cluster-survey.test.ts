// A stack with no record of its cluster (no harborVersion output) asks the nodes what they run
// before it changes anything; told by harbor-ha:deployedHarborVersion, it plans as for a record.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { assertHeldWorkWaiting, byType, fixtureInstaller, plain, plainConfig, recorded, registered, runStack, settled, splitStdin } from "../mocks";

const port = (r: { inputs: Record<string, any> }) => plain(r.inputs.connection)?.port as number | undefined;

describe("a stack with no record of its cluster", () => {
    after(() => assertHeldWorkWaiting("the held survey"));

    it("asks every node first: with one survey unanswered, nothing changes on any node", async () => {
        await runStack(plainConfig(fixtureInstaller()), undefined, { held: ["cluster-harbor-3-survey-check"] });
        await settled(["cluster-harbor-1-survey-check", "cluster-harbor-2-survey-check", "cluster-harbor-3-survey-check",
            "cluster-harbor-1-preflight-checks", "cluster-harbor-3-preflight-checks"]);
        const changes = recorded.filter(r => r.type.startsWith("command:remote:") && port(r) !== undefined &&
            !/-(survey-check|preflight-checks)$/.test(r.name)).map(r => r.name);
        assert.deepEqual(changes, [], "changed before every node was surveyed");
    });

    it("each survey carries the stack's cluster ID and the version it deploys; deploys record the same ID", async () => {
        await runStack(plainConfig(fixtureInstaller()));
        await settled(["cluster-harbor-3-deploy"]);
        const survey = splitStdin(byType("command:remote:Command").find(r => r.name === "cluster-harbor-2-survey-check")!.inputs.stdin).script;
        const id = /\[ "\$\(record_field cluster\)" = ([0-9a-f]{16}) \]/.exec(survey)?.[1];
        assert.ok(id, "a cluster ID in the survey");
        assert.match(survey, /\[ "\$version" = 1\.2\.2 \]/);
        const deploy = splitStdin(byType("command:remote:Command").find(r => r.name === "cluster-harbor-2-deploy")!.inputs.stdin).script;
        assert.match(deploy, new RegExp(`^cluster=${id}$`, "m"));
    });
});

describe("a stack with a record, or told what runs", () => {
    it("asks no node: the record says what runs", async () => {
        await runStack(plainConfig(fixtureInstaller()), undefined, { deployed: { harborVersion: "1.2.2" } });
        await settled(["cluster-harbor-3-deploy"]);
        assert.equal(recorded.filter(r => r.name.endsWith("-survey-check")).length, 0);
    });

    it("deployedHarborVersion: no survey, and node by node as for a running cluster", async () => {
        await runStack({ ...plainConfig(fixtureInstaller()), deployedHarborVersion: "1.2.2" }, undefined, { held: ["cluster-harbor-2-deploy"] });
        await settled(["cluster-harbor-1-deploy", "cluster-harbor-2-deploy"]);
        assert.ok(!registered("cluster-harbor-3-deploy"), "harbor-3 went down while harbor-2 was being redeployed");
        assert.equal(recorded.filter(r => r.name.endsWith("-survey-check")).length, 0);
    });
});
