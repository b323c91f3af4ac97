// Nothing changes on a node before its preflight passed: with one node's preflight hanging, no
// other command reaches that node, and nothing that needs every node (the database setup on the
// first node aside) goes ahead.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { assertHeldWorkWaiting, fixtureInstaller, plain, plainConfig, recorded, runStack, settled } from "../mocks";

const held = "cluster-harbor-2-preflight-checks";
const port = (r: { inputs: Record<string, any> }) => plain(r.inputs.connection)?.port as number | undefined;

describe("a node whose preflight has not passed", () => {
    before(async () => {
        const cfg = plainConfig(fixtureInstaller());
        // A data-root move is a change on the node too, and must wait as well.
        (cfg.nodes as Record<string, unknown>[])[1].dockerDataRoot = "/data/docker";
        await runStack(cfg, undefined, { held: [held] });
        await settled(["cluster-harbor-1-cephfs-mount", "cluster-harbor-3-cephfs-mount", "cluster-mysql-check-harbor-3"]);
    });

    after(() => assertHeldWorkWaiting("the held preflight"));

    it("gets no other command: no data-root move, installer copy, mount, service check or deploy", () => {
        const onNode2 = recorded.filter(r => r.type.startsWith("command:remote:") && port(r) === 2202).map(r => r.name);
        assert.deepEqual(onNode2, [held]);
    });

    it("while the other nodes go ahead with their own steps", () => {
        const names = recorded.map(r => r.name);
        for (const n of ["cluster-harbor-1-cephfs-mount", "cluster-harbor-3-cephfs-mount", "cluster-mysql-setup"]) assert.ok(names.includes(n), n);
    });
});
