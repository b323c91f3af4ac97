// The validator: every bad input named by its key, all problems at once, and the stack files pass.
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
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

/** Problems of a stack whose keys are exactly those given (as the program reads them from the engine). */
function problemsWithKeys(values: Record<string, unknown>): string[] {
    try {
        validateConfig({ ...raw(values), keys: [...Object.keys(values), ...Object.keys(secretValues)] });
    } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
        return e.problems;
    }
    return [];
}

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

    it("fails on an adoptCluster that is not a cluster ID", () => expectProblem(c => { c.adoptCluster = "cluster-1"; }, "adoptCluster", /is not a cluster ID: 16 hex digits/));
    it("accepts the cluster ID a refusal names as adoptCluster", () => {
        assert.equal(validateConfig(raw({ ...good(), adoptCluster: "0123456789abcdef" })).adoptCluster, "0123456789abcdef");
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
    it("knows which 2.x releases it knows the schema of", () => {
        expectProblem(c => { c.harborVersion = "2.9.0"; }, "harborVersion", /not a release this program knows the schema of; supported are 2\.10\.0-2\.10\.3, .*2\.15\.0-2\.15\.2/);
        expectProblem(c => { c.harborVersion = "2.15.3"; }, "harborVersion", /2\.15\.0-2\.15\.2/);
    });
    it("fails on Harbor before 1.1", () => expectProblem(c => { c.harborVersion = "1.0.1"; }, "harborVersion", /not supported/));
    it("fails on an installer URL without sha256", () => expectProblem(c => { c.installer = { url: "https://example.com/h.tgz" }; }, "installer.sha256", /required with installer\.url/));
    it("fails on a missing installer file", () => expectProblem(c => { c.installer = { path: "/nonexistent/harbor.tgz" }; }, "installer.path", /file not found/));
    it("fails on both path and url", () => expectProblem(c => { c.installer = { path: installer, url: "https://x.example/h.tgz", sha256: "a".repeat(64) }; }, "installer", /either path or url/));
    it("fails without Ceph monitors", () => expectProblem(c => { c.ceph.monitors = []; }, "ceph.monitors", /at least one monitor/));
    it("fails on a Ceph session timeout out of range", () => expectProblem(c => { c.ceph.sessionTimeoutSeconds = 2; }, "ceph.sessionTimeoutSeconds", /from 5 to 3600/));
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
        assert.deepEqual(cfg.preflight, { minFreeSpacePercent: 10, minFreeInodesPercent: 5, maxClockSkewMs: 1000, requireTimeSync: true });
    });

    it("takes the default clock threshold from the version's token check: 1 s within 60 s of leeway, 10 ms with none (2.10)", () => {
        const skew = (c: Record<string, unknown>) => validateConfig(raw(c)).preflight.maxClockSkewMs;
        const v2 = (version: string) => {
            const c = good() as Record<string, any>;
            delete c.mysql;
            return { ...c, harborVersion: version, postgres: { host: "10.99.0.3", database: "registry", user: "harbor" }, redis: { host: "redis.example.test" } };
        };
        const v2Secrets = () => { const { mysqlPassword: _a, mysqlAdminPassword: _b, ...s } = allSecrets(); return { ...s, postgresPassword: { value: "PgPw-1234", storedAsSecret: true } }; };
        assert.equal(skew(good()), 1000);
        for (const [version, ms] of [["2.10.3", 10], ["2.11.0", 1000], ["2.15.2", 1000]] as const) {
            assert.equal(validateConfig(raw(v2(version), v2Secrets())).preflight.maxClockSkewMs, ms, version);
        }
        assert.equal(skew({ ...good(), preflight: { maxClockSkewMs: 250 } }), 250);
    });
    it("fails on a clock threshold out of range and a requireTimeSync that is not a boolean, both at once", () => {
        const p = problems({ ...good(), preflight: { maxClockSkewMs: 0, requireTimeSync: "sometimes" } });
        assert.ok(p.some(x => /^harbor-ha:preflight\.maxClockSkewMs: must be an integer from 1 to 60000, got 0$/.test(x)), p.join("\n"));
        assert.ok(p.some(x => /^harbor-ha:preflight\.requireTimeSync: must be true or false, got "sometimes"$/.test(x)), p.join("\n"));
    });

    it("names an unknown key with the nearest known one, and every unknown setting", () => {
        const c = good() as Record<string, any>;
        c.harborVerison = c.harborVersion;
        delete c.harborVersion;
        c.ceph.mountPiont = "/mnt/x";
        c.nodes[1].hostkey = "x";
        const found = problemsWithKeys(c);
        const expect = [
            ["harborVerison", /unknown key; did you mean harborVersion\?/],
            ["harborVersion", /is required/],
            ["ceph.mountPiont", /unknown setting; did you mean mountPoint\?/],
            ["nodes[1].hostkey", /unknown setting; did you mean hostKey\?/],
        ] as const;
        for (const [key, text] of expect) {
            assert.ok(found.some(p => p.startsWith(`harbor-ha:${key}: `) && text.test(p)), `${key} ${text} in:\n${found.join("\n")}`);
        }
        const far = problemsWithKeys({ ...good(), wholeNewThing: "x" });
        assert.ok(far.some(p => /^harbor-ha:wholeNewThing: unknown key \(/.test(p)), far.join("\n"));
        assert.deepEqual(problemsWithKeys(good()), []);
    });
    it("has no default Harbor version: a stack must say which Harbor it runs", () => {
        expectProblem(c => { delete c.harborVersion; }, "harborVersion", /is required/);
    });
    it("reports every wrong type at once", () => {
        const c = good() as Record<string, any>;
        c.port = "eighty";
        c.protectData = "yes";
        c.redis.port = "six";
        c.nodes[0].sshPort = true;
        c.loadBalancer = "fast";
        const found = problems(c);
        for (const key of ["port", "protectData", "redis.port", "nodes[0].sshPort", "loadBalancer"]) {
            assert.ok(found.some(p => p.startsWith(`harbor-ha:${key}: `)), `missing ${key} in:\n${found.join("\n")}`);
        }
    });
    for (const bad of ["10.10.0.300", "999.1.1.1", "256.256.256.256", "10.1.1"]) {
        it(`refuses ${bad}: a dotted quad that is no IPv4 address`, () => {
            expectProblem(c => { c.nodes[0].host = bad; }, "nodes[0].host", /not a valid IPv4 address/);
            expectProblem(c => { c.mysql.host = bad; }, "mysql.host", /not a valid IPv4 address/);
            expectProblem(c => { c.ceph.monitors = [`${bad}:6789`]; }, "ceph.monitors[0]", /not a valid IPv4 address/);
            expectProblem(c => { c.domain = bad; }, "domain", /not a fully qualified domain name/);
        });
    }
    it("accepts host names with digits where they may be", () => {
        const c = good() as Record<string, any>;
        c.nodes[0].host = "node1.example.com";
        c.redis.host = "10-0-0-1.nip.example";
        assert.doesNotThrow(() => validateConfig(raw(c)));
    });
    it("checks tokenKeyRotation: a short label", () => {
        expectProblem(c => { c.tokenKeyRotation = "a b"; }, "tokenKeyRotation", /at most 64 letters/);
        expectProblem(c => { c.tokenKeyRotation = { n: 1 }; }, "tokenKeyRotation", /at most 64 letters/);
        expectProblem(c => { c.tokenKeyRotation = "x".repeat(65); }, "tokenKeyRotation", /at most 64/);
        assert.equal(validateConfig(raw({ ...good(), tokenKeyRotation: 2 })).tokenKeyRotation, "2");
        assert.equal(validateConfig(raw({ ...good(), tokenKeyRotation: "2026-12" })).tokenKeyRotation, "2026-12");
    });
    it("is a RunError: the engine prints the list once, without a stack trace", () => {
        const c = good() as Record<string, any>;
        c.port = 0;
        assert.throws(() => validateConfig(raw(c)), (e: Error) => pulumi.RunError.isInstance(e) && /harbor-ha:port:/.test(e.message));
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

/** A Harbor 2.15 stack: PostgreSQL instead of MySQL, an admin credential creating the database. */
function v2Stack(): Record<string, any> {
    const c = good() as Record<string, any>;
    delete c.mysql;
    return { ...c, harborVersion: "2.15.2", postgres: { host: "10.99.0.3", adminUser: "postgres" }, redis: { host: "10.99.0.4", port: 6379 } };
}
function v2Secrets(): Partial<Record<SecretKey, SecretInput>> {
    const s = allSecrets();
    delete s.mysqlAdminPassword;
    return { ...s, postgresAdminPassword: { value: "PgAdminPw-1", storedAsSecret: true } };
}

describe("validateConfig for Harbor 2.x", () => {
    it("accepts a 2.15 stack with PostgreSQL, and fills 2.x's defaults", () => {
        const cfg = validateConfig(raw(v2Stack(), v2Secrets()));
        assert.equal(cfg.mysql, undefined);
        assert.deepEqual(cfg.postgres, {
            host: "10.99.0.3", port: 5432, database: "registry", user: "harbor", adminUser: "postgres", sslMode: "disable", maxIdleConns: 2, maxOpenConns: 15,
        });
        assert.deepEqual([cfg.redis.registryDbIndex, cfg.redis.jobserviceDbIndex, cfg.redis.trivyDbIndex], [1, 2, 5]);
    });
    it("accepts {} for an unset object key", () => {
        assert.doesNotThrow(() => validateConfig(raw({ ...v2Stack(), mysql: {} }, v2Secrets())));
    });
    it("reports every key of the other generation at once, with the one to use", () => {
        const c = { ...v2Stack(), mysql: { host: "db" }, redis: { host: "10.99.0.4", poolSize: 50, dbIndex: 3 } };
        const s = { ...v2Secrets(), mysqlPassword: { value: "x1234567", storedAsSecret: true } };
        const found = problems(c, s);
        for (const [key, text] of [["mysql", /does not apply: Harbor 2\.15\.2 keeps its data in PostgreSQL; use postgres/],
            ["mysqlPassword", /use postgresPassword/], ["redis.poolSize", /does not apply to Harbor 2\.15\.2/], ["redis.dbIndex", /must be 0 with Harbor 2\.x/]] as const) {
            assert.ok(found.some(p => p.startsWith(`harbor-ha:${key}: `) && text.test(p)), `${key} in:\n${found.join("\n")}`);
        }
        const v1 = problems({ ...good(), postgres: { host: "pg" }, redis: { host: "10.99.0.4", trivyDbIndex: 6 } }, { ...allSecrets(), postgresPassword: { value: "x1234567", storedAsSecret: true } });
        for (const key of ["postgres", "postgresPassword", "redis.trivyDbIndex"]) assert.ok(v1.some(p => p.startsWith(`harbor-ha:${key}: `)), `${key} in:\n${v1.join("\n")}`);
    });
    it("needs postgres with 2.x, and its password without an admin user", () => {
        const c = v2Stack();
        delete c.postgres;
        expectProblemIn(c, v2Secrets(), "postgres", /is required/);
        const s = v2Secrets();
        delete s.postgresAdminPassword;
        expectProblemIn({ ...v2Stack(), postgres: { host: "pg.example.test" } }, s, "postgresPassword", /is required without postgres\.adminUser/);
        expectProblemIn({ ...v2Stack(), postgres: { host: "pg.example.test", adminUser: "postgres" } }, s, "postgresAdminPassword", /is required with postgres\.adminUser/);
    });
    it("checks PostgreSQL's settings", () => {
        expectProblemIn({ ...v2Stack(), postgres: { host: "pg", adminUser: "postgres", sslMode: "prefer" } }, v2Secrets(), "postgres.sslMode", /disable, require, verify-ca, verify-full/);
        expectProblemIn({ ...v2Stack(), postgres: { host: "pg", adminUser: "postgres", user: "Harbor-User" } }, v2Secrets(), "postgres.user", /lower-case/);
        expectProblemIn({ ...v2Stack(), redis: { host: "r", registryDbIndex: 2 } }, v2Secrets(), "redis", /must be different databases/);
    });
    it("allows a comma in the Redis password with 2.x (URL form, percent-encoded)", () => {
        assert.doesNotThrow(() => validateConfig(raw(v2Stack(), { ...v2Secrets(), redisPassword: { value: "a,b", storedAsSecret: true } })));
    });
});

function expectProblemIn(c: Record<string, unknown>, s: Partial<Record<SecretKey, SecretInput>>, key: string, text: RegExp) {
    const found = problems(c, s);
    assert.ok(found.some(p => p.startsWith(`harbor-ha:${key}: `) && text.test(p)), `expected a problem for ${key} matching ${text}, got:\n${found.join("\n")}`);
}

describe("the stack files", () => {
    function stackValues(file: string): Record<string, unknown> {
        const doc = parse(fs.readFileSync(path.join(__dirname, "..", "..", file), "utf8")) as { config: Record<string, unknown> };
        return Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k.replace(/^harbor-ha:/, ""), v]));
    }

    for (const stack of ["prod", "staging"]) {
        it(`Pulumi.${stack}.yaml (real VMs, Harbor 2.15) passes with its secrets set`, () => {
            const s = allSecrets();
            delete s.mysqlAdminPassword;
            s.postgresPassword = { value: "DbaGivenPw1", storedAsSecret: true };
            const cfg = validateConfig(raw(stackValues(`Pulumi.${stack}.yaml`), s));
            assert.equal(cfg.nodes.length, 3);
            assert.equal(cfg.ceph.client, "kernel");
            assert.equal(cfg.installer.kind, "url");
            assert.equal(cfg.protocol, "https");
            assert.match(cfg.harborVersion, /^2\.15\./);
            assert.equal(cfg.postgres?.host, stack === "prod" ? "pg.example.com" : "pg.staging.example.com");
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
