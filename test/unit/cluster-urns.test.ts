// Every resource's URN of a 3-node cluster, pinned. A URN that changes (a renamed resource, a new
// parent, a component's type) makes the engine replace that resource: for a node, drain it, stop
// Harbor and deploy it again, or for the token keypair and the CA, new ones. A rename that must
// happen keeps the old URN with `aliases` (then the golden file is updated after review).
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { assertGolden } from "../golden";
import { engineUrn, fixtureInstaller, plainConfig, plainConfigV2, promiseOf, recorded, runStack, secretValuesV2 } from "../mocks";

const urns = () => recorded.map(engineUrn).sort();

for (const [generation, run] of [
    ["1.2.2", async () => runStack(plainConfig(fixtureInstaller()))],
    ["2.15.2", async () => runStack(plainConfigV2(fixtureInstaller("2.15.2")), secretValuesV2)],
] as const) {
    describe(`the URNs of a 3-node Harbor ${generation} stack`, () => {
        let all: string[] = [];
        before(async () => {
            const outputs = await run();
            await promiseOf(outputs.nodeStatus);
            all = urns();
        });

        it("are each one resource's", () => {
            const seen = new Set<string>();
            const twice = all.filter(u => seen.size === seen.add(u).size);
            assert.deepEqual(twice, []);
        });

        it("are the ones pinned: a change would replace what it names", () => {
            assertGolden(`urns-v${generation}.txt`, `${all.join("\n")}\n`);
        });
    });
}
