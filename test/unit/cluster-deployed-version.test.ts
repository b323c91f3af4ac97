// harbor-ha:deployedHarborVersion tells a stack with no record of its cluster (no harborVersion
// output) what the nodes run: the plan starts from it as from a record.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { assertHeldWorkWaiting, fixtureInstaller, plainConfig, registered, runStack, settled } from "../mocks";

describe("a stack told what its nodes run", () => {
    after(() => assertHeldWorkWaiting("the held deploy"));

    it("goes node by node as for a running cluster", async () => {
        await runStack({ ...plainConfig(fixtureInstaller()), deployedHarborVersion: "1.2.2" }, undefined, { held: ["cluster-harbor-2-deploy"] });
        await settled(["cluster-harbor-1-deploy", "cluster-harbor-2-deploy"]);
        assert.ok(!registered("cluster-harbor-3-deploy"), "harbor-3 went down while harbor-2 was being redeployed");
    });
});
