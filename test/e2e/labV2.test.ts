// The lab end to end with Harbor 2.x (stack dev-v2: the lab's 2.15.2 stand-in, PostgreSQL):
// `npm run demo -- --stack dev-v2` from a clean lab, the HA checks of 2.x through the load
// balancer with a negative control per shared secret, a second up with no changes, a node lost,
// destroy keeping the database and the data, a new up serving the old image, and upgrades across
// releases (2.14.4 -> 2.15.0 -> 2.15.2). Torn down at the end. Runs after lab.test.ts (one lab runs one stack at a time).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { labStackConfigPath } from "../../scripts/labStack";
import { expectAll, sh, stackCommand, timed } from "./e2eSteps";
import {
    inVm, labDocker, lbConfig, lbStates, log, privilegedEverywhere, pulumi, pullThrough, readStack, Stack, startClient, stopClient, waitHealthy,
} from "./lab";
import { databaseRestarted, redisRestarted, keypairServed, loginsThroughLb, nodeKilled, pushNode1PullNode3, recordLostRollingChange } from "./verify";
import {
    databaseLostTakesNodeOut, jobRunByAnotherNode, redisLostTakesNodeOut, uiSessionAndCsrfShared, unsharedCsrfKeyFails, unsharedJobserviceSecretFails, unsharedSecretKeyFailsV2, unsharedTokenKeyFails,
} from "./verifyV2";
import { upgradeAcrossReleases } from "./upgradeV2";

const stack = "dev-v2";
const v2 = stackCommand(stack);
let s: Stack;
const tag = `e2e${Date.now()}`;
/** The image ID of the probe pushed through node 1, as pulled back through the load balancer. */
let pushedId = "";

/** Harbor's tables in the lab's PostgreSQL database `registry`, asked as the server's own superuser. */
function registryTables(): number {
    return Number(labDocker(["exec", "postgres", "runuser", "-u", "postgres", "--", "psql", "-d", "registry", "-tAc",
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"]).trim());
}

describe("the lab, end to end, Harbor 2.x", { concurrency: 1 }, () => {
    before(() => {
        sh(`lab/scripts/down.sh --purge --keep-engine; . scripts/pulumi-env.sh 2>/dev/null && for st in dev ${stack}; do hh_stack_env $st && pulumi stack rm $st --yes --force --preserve-config >/dev/null 2>&1; done; true`);
    });

    after(() => {
        stopClient();
        const d = sh(`. scripts/pulumi-env.sh && hh_pulumi destroy --stack ${stack} --config-file ${labStackConfigPath(stack)} --yes --skip-preview >/dev/null && lab/scripts/down.sh --purge`);
        log(`teardown: ${d.status === 0 ? "done" : d.out.slice(-2000)}`);
    });

    it("npm run demo -- --stack dev-v2 brings three healthy nodes up, the first one creating the schema", () => {
        const r = timed("demo dev-v2", () => sh(`npm run -s demo -- --stack ${stack}`));
        assert.equal(r.status, 0, r.out.slice(-4000));
        assert.match(r.out, /Harbor 2\.15\.2: a new cluster; harbor-1 starts first and creates the schema, then the others/);
        const status = JSON.parse(pulumi(["stack", "output", "--stack", stack, "nodeStatus", "--json"])) as Record<string, string>;
        assert.deepEqual(Object.keys(status).sort(), ["harbor-1", "harbor-2", "harbor-3"]);
        for (const line of Object.values(status)) assert.match(line, /healthy/);
        assert.ok(registryTables() > 0, "core created its tables in PostgreSQL");
        // The plugin, as 2.x's install.sh prefers it.
        assert.match(inVm("vm1", "docker compose version --short"), /^2\./);
        s = readStack(stack);
        startClient(s);
    });

    it("a --privileged container runs in every VM, with every capability the VM has", () => {
        privilegedEverywhere(s, "harbor-lab/harbor-log:v2.15.2");
    });

    it("200 consecutive logins through the load balancer all succeed", () => {
        expectAll([timed("logins", () => loginsThroughLb(s, 200))]);
    });

    it("every node signs registry tokens with the stack's key", () => {
        expectAll(keypairServed(s));
    });

    it("an image pushed through node 1 is pulled, layer and all, through node 3", () => {
        expectAll([pushNode1PullNode3(s, tag)]);
        // The figure checked it is the image pushed: after destroy and a new up, the same must come back.
        pushedId = pullThrough(s, s.host, `library/harbor-ha-probe:${tag}`);
    });

    it("a UI session and its CSRF token from node 1 are accepted by node 3", () => {
        expectAll(timed("session and CSRF", () => uiSessionAndCsrfShared(s, tag)));
    });

    it("a job submitted on node 1 is run by another node's jobservice", () => {
        expectAll([timed("job", () => jobRunByAnotherNode(s))]);
    });

    it("with the token key NOT shared, logins fail with 401; restored, they all pass", () => {
        expectAll(timed("unshared token key", () => unsharedTokenKeyFails(s)));
    });

    it("with CSRF_KEY NOT shared, node 1's token is refused by node 3 (403); restored, accepted", () => {
        expectAll(timed("unshared CSRF_KEY", () => unsharedCsrfKeyFails(s, tag)));
    });

    it("with JOBSERVICE_SECRET NOT shared, a replication from node 1 run by node 3 is refused by node 3's core (401); restored, it copies", () => {
        expectAll(timed("unshared JOBSERVICE_SECRET", () => unsharedJobserviceSecretFails(s, tag)));
    });

    it("with the secretkey NOT shared, node 3 reads the endpoint password node 1 stored as garbage (the ping fails); restored, it pings", () => {
        expectAll(timed("unshared secretkey", () => unsharedSecretKeyFailsV2(s, tag)));
    });

    it("a second pulumi up reports no changes", () => {
        const r = v2("up --yes --expect-no-changes");
        assert.equal(r.status, 0, r.out.slice(-4000));
        assert.match(r.out, /\d+ unchanged/);
    });

    it("the load balancer runs the stack's loadBalancer output, with every node in service", () => {
        const out = JSON.parse(pulumi(["stack", "output", "--stack", stack, "loadBalancer", "--json"])) as { haproxy: string };
        assert.equal(lbConfig(), out.haproxy);
        assert.deepEqual(lbStates(), { "harbor-1": "UP", "harbor-2": "UP", "harbor-3": "UP" });
    });

    it("with the stack's record lost (the plan takes the cluster for a new one), a new installer still rolls out one node at a time: the nodes hold it", () => {
        expectAll(timed("record lost: rolling installer change", () => recordLostRollingChange(s, tag)));
    });

    it("a node cut off from the database is taken out (its health says so); with the database lost by all, the load balancer still sends clients to them", () => {
        expectAll(timed("database lost", () => databaseLostTakesNodeOut(s)));
    });

    it("a node cut off from Redis is taken out (its health says so); back, it returns", () => {
        expectAll(timed("Redis lost", () => redisLostTakesNodeOut(s)));
    });

    it("the database (PostgreSQL) restarted under load: every node issues tokens again by itself and is in service; what fails is inside the restart's window, nothing after it", () => {
        expectAll(timed("database restarted", () => databaseRestarted(s, tag)));
    });

    it("Redis restarted under load: every node reads a session opened before it again by itself and is in service; what fails is inside the restart's window, nothing after it", () => {
        expectAll(timed("Redis restarted", () => redisRestarted(s, tag)));
    });

    it("a VM killed under load: only requests in flight fail; with it lost, logins and pulls all succeed; started again, its Harbor rejoins by itself", () => {
        expectAll(timed("node killed", () => nodeKilled(s, tag)));
        waitHealthy(s, s.nodes.map(n => n.address));
    });

    it("pulumi destroy keeps the PostgreSQL database and the CephFS data; a new up serves the image pushed before", () => {
        const d = timed("destroy", () => v2("destroy --yes --skip-preview"));
        assert.equal(d.status, 0, d.out.slice(-4000));
        assert.ok(registryTables() > 0, "database registry still has its tables");
        const u = timed("up after destroy", () => v2("up --yes --skip-preview"));
        assert.equal(u.status, 0, u.out.slice(-4000));
        s = readStack(stack);
        startClient(s);
        const id = pullThrough(s, s.host, `library/harbor-ha-probe:${tag}`);
        assert.match(id, /^sha256:/);
        assert.equal(id, pushedId, "the image pushed before destroy");
    });

    it("an upgrade to a newer schema stops every node and migrates once; one with the same schema goes node by node under load", () => {
        const r = timed("upgrades", () => upgradeAcrossReleases(s, tag));
        s = r.stack;
        expectAll(r.outcomes);
    });
});
