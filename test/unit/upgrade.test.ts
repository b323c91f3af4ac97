// Upgrades of a 2.x cluster: what runs in which order for each kind of plan, with the deployed
// version as the stack's own last output would give it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { HarborCluster } from "../../components/harborCluster";
import { readInstaller } from "../../config/installer";
import { validateConfig } from "../../config/validate";
import { requireFlavor } from "../../render/flavors";
import {
    assertHeldWorkWaiting, fixtureInstaller, heldResources, plainConfigV2, promiseOf, recorded, registered, resetMocks, secretValuesV2, settled, setupMocks,
} from "../mocks";

function cluster(name: string, deployed: string | undefined): HarborCluster {
    const values = plainConfigV2(fixtureInstaller("2.15.2"));
    const secrets = Object.fromEntries(Object.entries(secretValuesV2).map(([k, v]) => [k, { value: v, storedAsSecret: true }]));
    const cfg = validateConfig({ values, secrets, fileExists: () => true });
    return new HarborCluster(name, {
        ...cfg, mysql: undefined, harborVersion: cfg.harborVersion, deployedHarborVersion: deployed,
        installer: readInstaller(values.installer ? (values.installer as { path: string }).path : "", requireFlavor(cfg.harborVersion)),
        sshPrivateKey: secretValuesV2.sshPrivateKey, cephSecret: secretValuesV2.cephSecret,
        databaseAdminPassword: secretValuesV2.postgresAdminPassword, redisPassword: secretValuesV2.redisPassword,
        adminPassword: secretValuesV2.adminPassword,
    });
}


let done: HarborCluster;

describe("upgrading a 2.x cluster", () => {
    before(async () => {
        resetMocks();
        await setupMocks();
        // A step that never finishes stands for one still running: what must wait for it is not started.
        heldResources.add("a-harbor-2-upgrade-stop-stop");
        heldResources.add("b-harbor-1-deploy");
        heldResources.add("c-harbor-2-deploy");
        cluster("a", "2.14.4");
        cluster("b", "2.14.4");
        cluster("c", "2.15.1");
        done = cluster("d", "2.14.4");
        await promiseOf(done.nodeStatus);
        await settled(["a-harbor-1-installer", "b-harbor-3-installer", "c-harbor-1-deploy"]);
    });

    after(() => assertHeldWorkWaiting("the held steps"));

    it("to a new schema: the first node waits until every node has stopped", () => {
        assert.ok(!registered("a-harbor-1-deploy"), "harbor-1 deployed while harbor-2 still ran the old version");
    });

    it("to a new schema: the others wait until the first has upgraded and migrated", () => {
        assert.ok(!registered("b-harbor-2-deploy") && !registered("b-harbor-3-deploy"), "a node started before the migration");
    });

    it("with the same schema: node by node", () => {
        assert.ok(registered("c-harbor-1-deploy"));
        assert.ok(!registered("c-harbor-3-deploy"), "harbor-3 went down while harbor-2 was being redeployed");
    });

    it("says in the preview which kind of upgrade it does", async () => {
        assert.match(await promiseOf(done.upgrade), /2\.14\.4 -> 2\.15\.2: schema 0171 -> 0180: every node stops, harbor-1 upgrades/);
        assert.equal(await promiseOf(done.harborVersion), "2.15.2", "the version the nodes run once every node is deployed");
    });

    it("the upgrade stops re-run only when the target schema changes, and keep the data", () => {
        const stops = recorded.filter(r => /^d-harbor-\d-upgrade-stop-stop$/.test(r.name));
        assert.equal(stops.length, 3);
        for (const st of stops) {
            assert.deepEqual(st.inputs.triggers, ["0180"]);
            assert.doesNotMatch(st.inputs.create, /down -v|rm -rf/);
            // An update (the stop's script changed, not the schema) stops nothing.
            assert.match(st.inputs.update, /^echo "harbor-\d: the target schema is unchanged; nothing to stop"$/);
        }
    });

    it("refuses 1.x to 2.x in place", () => {
        assert.throws(() => cluster("e", "1.5.4"), /Harbor 1\.5\.4 cannot be upgraded to 2\.15\.2 in place/);
    });
});
