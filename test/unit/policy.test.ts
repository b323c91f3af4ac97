// The policy pack's checks: a good production stack passes, each violation is reported by name.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { dataBearing, evaluate, types } from "../../policy/policies";

type R = { type: string; name: string; props: Record<string, any>; opts: Record<string, any> };

const connection = (i: number) => ({ host: "10.0.0.1", port: 22, user: "root", hostKey: "ssh-ed25519 AAAA", privateKey: `k${i}` });
function goodStack(): R[] {
    const rs: R[] = [];
    for (let i = 1; i <= 3; i++) {
        rs.push({ type: types.node, name: `n${i}`, props: {}, opts: {} });
        rs.push({ type: types.cephMount, name: `m${i}`, props: {}, opts: { protect: true } });
        rs.push({ type: types.copy, name: `copy${i}`, props: { connection: connection(i), triggers: ["a".repeat(64)] }, opts: {} });
        rs.push({
            type: types.command, name: `deploy${i}`, opts: { additionalSecretOutputs: ["stderr"] },
            props: { connection: connection(i), create: "bash -c ./prepare", stdin: "0600 x eA==", addPreviousOutputInEnv: false },
        });
        rs.push({
            type: types.localCommand, name: `clock${i}`, opts: { additionalSecretOutputs: ["stderr"] },
            props: { create: "node -e 'probe'", stdin: JSON.stringify(connection(i)), addPreviousOutputInEnv: false },
        });
    }
    for (const t of [types.tls, types.mysql, types.tokenKeys]) rs.push({ type: t, name: t.split(":").pop()!, props: {}, opts: { protect: true } });
    return rs;
}

function violations(mutate: (rs: R[]) => void): string[] {
    const rs = goodStack();
    mutate(rs);
    return evaluate(rs as never);
}

describe("policy pack", () => {
    it("passes a good production stack", () => assert.deepEqual(evaluate(goodStack() as never), []));
    it("reports fewer than 3 nodes", () => {
        const v = violations(rs => rs.splice(rs.findIndex(r => r.type === types.node), 1));
        assert.deepEqual(v, ["harbor-ha-min-nodes: production runs at least 3 Harbor nodes (one can be lost while the others keep a majority of capacity); this stack has 2"]);
    });
    it("reports http", () => {
        const v = violations(rs => rs.splice(rs.findIndex(r => r.type === types.tls), 1));
        assert.equal(v.length, 1);
        assert.match(v[0], /^harbor-ha-https: /);
    });
    it("reports a connection without a pinned host key", () => {
        const v = violations(rs => { delete rs.find(r => r.name === "deploy2")!.props.connection.hostKey; });
        assert.deepEqual(v, ["harbor-ha-pinned-host-keys: deploy2: the SSH connection to 10.0.0.1:22 does not pin the host key (hostKey)"]);
    });
    it("reports secrets on a command line, in the environment, or in a public stderr", () => {
        const v = violations(rs => {
            rs.find(r => r.name === "deploy1")!.props.create = "mysql --password=hunter22 -e 'select 1'";
            rs.find(r => r.name === "deploy2")!.props.environment = { MYSQL_PWD: "x" };
            rs.find(r => r.name === "deploy3")!.opts.additionalSecretOutputs = [];
        });
        assert.ok(v.some(m => /deploy1: its create command line contains a password assignment/.test(m)), v.join("\n"));
        assert.ok(v.some(m => /deploy2: passes environment variables/.test(m)), v.join("\n"));
        assert.ok(v.some(m => /deploy3: reads secrets on stdin but does not keep stderr secret/.test(m)), v.join("\n"));
        assert.ok(v.every(m => m.startsWith("harbor-ha-no-plaintext-secrets: ")));
    });
    it("checks the commands run on this machine the same way (the clock probe reads the SSH key on stdin)", () => {
        const v = violations(rs => {
            rs.find(r => r.name === "clock1")!.opts.additionalSecretOutputs = [];
            rs.find(r => r.name === "clock2")!.props.environment = { KEY: "x" };
        });
        assert.deepEqual(v, [
            "harbor-ha-no-plaintext-secrets: clock1: reads secrets on stdin but does not keep stderr secret (additionalSecretOutputs)",
            "harbor-ha-no-plaintext-secrets: clock2: passes environment variables, which are logged; secrets go on stdin",
        ]);
    });
    it("reports a private key in a command line", () => {
        const v = violations(rs => { rs.find(r => r.name === "deploy1")!.props.delete = `echo '-----BEGIN RSA ${"PRIVATE"} KEY-----'`; });
        assert.match(v[0], /deploy1: its delete command line contains a private key/);
    });
    it("reports an installer copy without its sha256", () => {
        const v = violations(rs => { rs.find(r => r.name === "copy1")!.props.triggers = []; });
        assert.deepEqual(v, ["harbor-ha-installer-sha256: copy1: the installer copy is not keyed by the archive's sha256"]);
    });
    it("reports each unprotected data-bearing resource (a 2.x stack's database too)", () => {
        const v = violations(rs => {
            rs.push({ type: types.postgres, name: "ExternalPostgreSQL", props: {}, opts: {} });
            rs.forEach(r => { r.opts.protect = false; });
        });
        // three CephMounts, and one each of the other data-bearing types
        assert.equal(v.length, dataBearing.length + 2, v.join("\n"));
        assert.ok(v.every(m => /^harbor-ha-protect-data: .* must be protected from pulumi destroy/.test(m)));
    });
});
