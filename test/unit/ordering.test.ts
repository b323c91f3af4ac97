// Nothing changes on a node before its preflight passed: with one node's preflight hanging, no
// other command reaches that node, and nothing that needs every node (the database setup on the
// first node aside) goes ahead.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fixtureInstaller, plain, plainConfig, recorded, runStack } from "../mocks";

const held = "cluster-harbor-2-preflight-checks";
const port = (r: { inputs: Record<string, any> }) => plain(r.inputs.connection)?.port as number | undefined;

/** Resolves once every named resource is registered, after the promise queue has drained. */
async function registered(names: string[]): Promise<void> {
    for (let i = 0; i < 2000 && !names.every(n => recorded.some(r => r.name === n)); i++) {
        await new Promise(r => setImmediate(r));
    }
    for (let i = 0; i < 50; i++) await new Promise(r => setImmediate(r));
}

describe("a node whose preflight has not passed", () => {
    before(async () => {
        const cfg = plainConfig(fixtureInstaller());
        // A data-root move is a change on the node too, and must wait as well.
        (cfg.nodes as Record<string, unknown>[])[1].dockerDataRoot = "/data/docker";
        await runStack(cfg, undefined, { held: [held] });
        await registered(["cluster-harbor-1-cephfs-mount", "cluster-harbor-3-cephfs-mount", "cluster-mysql-check-harbor-3"]);
    });

    // What waits on the held preflight never settles; the runtime would fail the process for those
    // "leaked" promises at exit, so they are collected (and counted) here on purpose.
    after(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { leakedPromises } = require("@pulumi/pulumi/runtime/debuggable") as { leakedPromises: () => [Set<unknown>, string] };
        assert.ok(leakedPromises()[0].size > 0, "the held preflight left work waiting");
    });

    it("gets no other command: no data-root move, installer copy, mount, service check or deploy", () => {
        const onNode2 = recorded.filter(r => r.type.startsWith("command:remote:") && port(r) === 2202).map(r => r.name);
        assert.deepEqual(onNode2, [held]);
    });

    it("while the other nodes go ahead with their own steps", () => {
        const names = recorded.map(r => r.name);
        for (const n of ["cluster-harbor-1-cephfs-mount", "cluster-harbor-3-cephfs-mount", "cluster-mysql-setup"]) assert.ok(names.includes(n), n);
    });
});
