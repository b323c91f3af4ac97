// The validator: every bad input named by its key, all problems at once, and the stack files pass.
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { SecretKey } from "../../config/types";
import { ConfigError, RawConfig, SecretInput, validateConfig } from "../../config/validate";
import { fixtures, hostKeys, plainConfig, secretValues } from "../mocks";

const installer = path.join(fixtures, "installer-v1.2.2", "harbor", "harbor.cfg");

function raw(values: Record<string, unknown>, secrets: Partial<Record<SecretKey, SecretInput>> = allSecrets(), exists = (p: string) => fs.existsSync(p)): RawConfig {
    return { values, secrets, fileExists: exists };
}

function allSecrets(): Partial<Record<SecretKey, SecretInput>> {
    return Object.fromEntries(Object.entries(secretValues).map(([k, v]) => [k, { value: v, storedAsSecret: true }]));
}

function problems(values: Record<string, unknown>, secrets?: Partial<Record<SecretKey, SecretInput>>): string[] {
    try {
        validateConfig(raw(values, secrets));
    } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
        return e.problems;
    }
    return [];
}

const good = () => plainConfig(installer);

function expectProblem(mutate: (c: Record<string, any>) => void, key: string, text: RegExp, secrets?: Partial<Record<SecretKey, SecretInput>>) {
    const c = good() as Record<string, any>;
    mutate(c);
    const found = problems(c, secrets);
    assert.ok(found.some(p => p.startsWith(`harbor-ha:${key}: `) && text.test(p)),
        `expected a problem for ${key} matching ${text}, got:\n${found.join("\n")}`);
}

describe("validateConfig", () => {
    it("accepts a good 3-node stack", () => {
        const cfg = validateConfig(raw(good()));
        assert.equal(cfg.nodes.length, 3);
        assert.equal(cfg.nodes[0].address, "10.99.0.11");
        assert.equal(cfg.ceph.client, "fuse");
    });

    it("fails on fewer than 2 nodes", () => expectProblem(c => { c.nodes = c.nodes.slice(0, 1); }, "nodes", /at least 2 nodes, got 1/));
    it("fails on a duplicate host", () => expectProblem(c => { c.nodes[2].sshPort = 2201; }, "nodes[2].host", /duplicate host 127\.0\.0\.1:2201 \(also nodes\[0\]\)/));
    it("fails on a duplicate node name", () => expectProblem(c => { c.nodes[1].name = "harbor-1"; }, "nodes[1].name", /duplicate node name/));
    it("fails on a bad host", () => expectProblem(c => { c.nodes[0].host = "bad host!"; }, "nodes[0].host", /not a valid host name/));
    it("fails on a bad port", () => expectProblem(c => { c.nodes[0].sshPort = 70000; }, "nodes[0].sshPort", /1 to 65535/));
    it("fails on a missing host key", () => expectProblem(c => { delete c.nodes[1].hostKey; }, "nodes[1].hostKey", /is required/));
    it("fails on a host key that is not one", () => expectProblem(c => { c.nodes[1].hostKey = "AAAA"; }, "nodes[1].hostKey", /ssh-keyscan/));
    it("fails on a domain that is an IP", () => expectProblem(c => { c.domain = "10.0.0.1"; }, "domain", /not an IP address/));
    it("fails on a bad domain", () => expectProblem(c => { c.domain = "hub"; }, "domain", /not a fully qualified domain name/));
    it("fails on a bad cluster port", () => expectProblem(c => { c.port = 0; }, "port", /1 to 65535/));
    it("says 1.6+ uses PostgreSQL", () => expectProblem(c => { c.harborVersion = "1.6.0"; }, "harborVersion", /PostgreSQL/));
    it("says 2.x uses PostgreSQL", () => expectProblem(c => { c.harborVersion = "2.10.0"; }, "harborVersion", /PostgreSQL/));
    it("fails on Harbor before 1.1", () => expectProblem(c => { c.harborVersion = "1.0.1"; }, "harborVersion", /not supported/));
    it("fails on an installer URL without sha256", () => expectProblem(c => { c.installer = { url: "https://example.com/h.tgz" }; }, "installer.sha256", /required with installer\.url/));
    it("fails on a missing installer file", () => expectProblem(c => { c.installer = { path: "/nonexistent/harbor.tgz" }; }, "installer.path", /file not found/));
    it("fails on both path and url", () => expectProblem(c => { c.installer = { path: installer, url: "https://x.example/h.tgz", sha256: "a".repeat(64) }; }, "installer", /either path or url/));
    it("fails without Ceph monitors", () => expectProblem(c => { c.ceph.monitors = []; }, "ceph.monitors", /at least one monitor/));
    it("fails on a bad Ceph client kind", () => expectProblem(c => { c.ceph.client = "nfs"; }, "ceph.client", /kernel.*fuse/));
    it("fails without the Ceph secret", () => {
        const s = allSecrets();
        delete s.cephSecret;
        expectProblem(() => undefined, "cephSecret", /is required/, s);
    });
    it("fails on a secret stored in plain text", () => {
        const s = allSecrets();
        s.redisPassword = { value: secretValues.redisPassword, storedAsSecret: false };
        expectProblem(() => undefined, "redisPassword", /plain text.*--secret/, s);
    });
    it("fails on a keyring given as the Ceph secret", () => {
        const s = allSecrets();
        s.cephSecret = { value: "[client.harbor]\n\tkey = AQB", storedAsSecret: true };
        expectProblem(() => undefined, "cephSecret", /one line|base64/, s);
    });
    it("fails on an admin user without a schema file", () => expectProblem(c => { delete c.mysql.schemaFile; }, "mysql.schemaFile", /required with mysql\.adminUser/));
    it("fails without any MySQL password", () => {
        const s = allSecrets();
        delete s.mysqlAdminPassword;
        expectProblem(c => { delete c.mysql.adminUser; delete c.mysql.schemaFile; }, "mysqlPassword", /is required without mysql\.adminUser/, s);
    });
    it("fails on a Redis db index out of range", () => expectProblem(c => { c.redis.dbIndex = 16; }, "redis.dbIndex", /0 to 15/));
    it("fails on a comma in the Redis password", () => {
        const s = allSecrets();
        s.redisPassword = { value: "a,b", storedAsSecret: true };
        expectProblem(() => undefined, "redisPassword", /comma/, s);
    });
    it("fails on a weak Harbor admin password", () => {
        const s = allSecrets();
        s.adminPassword = { value: "harbor", storedAsSecret: true };
        expectProblem(() => undefined, "adminPassword", /8 characters/, s);
    });
    it("fails on an unknown setting", () => expectProblem(c => { c.ceph.monitor = "x"; }, "ceph.monitor", /unknown setting/));
    it("fails on an install dir inside the CephFS mount", () => expectProblem(c => { c.installDir = "/mnt/cephfs/harbor/opt"; }, "installDir", /node-local/));

    it("fails on a relative Docker data root", () => expectProblem(c => { c.dockerDataRoot = "data/docker"; }, "dockerDataRoot", /absolute path/));
    it("fails on a node's Docker data root of /", () => expectProblem(c => { c.nodes[1].dockerDataRoot = "/"; }, "nodes[1].dockerDataRoot", /must not be \//));
    it("fails on a space threshold out of range", () => expectProblem(c => { c.preflight = { minFreeSpacePercent: 150 }; }, "preflight.minFreeSpacePercent", /0 to 99/));
    it("resolves the Docker data root per node", () => {
        const c = good() as Record<string, any>;
        c.dockerDataRoot = "/data/docker";
        c.nodes[2].dockerDataRoot = "/srv/docker";
        const cfg = validateConfig(raw(c));
        assert.deepEqual(cfg.nodes.map(n => n.dockerDataRoot), ["/data/docker", "/data/docker", "/srv/docker"]);
        assert.deepEqual(cfg.preflight, { minFreeSpacePercent: 10, minFreeInodesPercent: 5 });
    });

    it("lists every problem at once", () => {
        const c = good() as Record<string, any>;
        c.domain = "10.0.0.1";
        c.nodes = c.nodes.slice(0, 1);
        c.harborVersion = "2.0.0";
        c.ceph.monitors = [];
        c.installer = { url: "https://example.com/h.tgz" };
        const s = allSecrets();
        delete s.sshPrivateKey;
        const found = problems(c, s);
        for (const key of ["domain", "nodes", "harborVersion", "ceph.monitors", "installer.sha256", "sshPrivateKey"]) {
            assert.ok(found.some(p => p.startsWith(`harbor-ha:${key}: `)), `missing ${key} in:\n${found.join("\n")}`);
        }
        assert.throws(() => validateConfig(raw(c, s)), (e: Error) => /\(6 problems\)/.test(e.message));
    });
});

describe("the stack files", () => {
    function stackValues(file: string): Record<string, unknown> {
        const doc = parse(fs.readFileSync(path.join(__dirname, "..", "..", file), "utf8")) as { config: Record<string, unknown> };
        return Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k.replace(/^harbor-ha:/, ""), v]));
    }

    for (const stack of ["prod", "staging"]) {
        it(`Pulumi.${stack}.yaml (real VMs) passes with its secrets set`, () => {
            const s = allSecrets();
            delete s.mysqlAdminPassword;
            s.mysqlPassword = { value: "DbaGivenPw1", storedAsSecret: true };
            const cfg = validateConfig(raw(stackValues(`Pulumi.${stack}.yaml`), s));
            assert.equal(cfg.nodes.length, 3);
            assert.equal(cfg.ceph.client, "kernel");
            assert.equal(cfg.installer.kind, "url");
            assert.equal(cfg.protocol, "https");
        });
    }

    it("Pulumi.dev.yaml (the lab) passes once the demo has written host keys and secrets", () => {
        const values = stackValues("Pulumi.dev.yaml") as { nodes: Record<string, string>[] };
        // What only exists once the lab runs: the host keys, its installer and schema files.
        values.nodes.forEach((n, i) => { n.hostKey = hostKeys[i]; });
        const labFile = (p: string) => /\/lab\/installer\/[^/]+\/(harbor-lab-installer-v1\.2\.2\.tgz|registry\.sql)$/.test(p);
        const cfg = validateConfig(raw(values, allSecrets(), labFile));
        assert.equal(cfg.ceph.client, "fuse");
        assert.deepEqual(cfg.nodes.map(n => n.sshPort), [2201, 2202, 2203]);
    });
});
