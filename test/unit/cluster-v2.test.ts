// A 3-node Harbor 2.15 stack under mocks: PostgreSQL, every secret the nodes must share, the order.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { decodeBundle } from "../../render/bundle";
import {
    byType, fixtureInstaller, generatedSecrets, isSecretInput, plain, plainConfigV2, promiseOf, recorded, runStack, secretValuesV2, splitStdin,
} from "../mocks";

type Outputs = Record<string, pulumi.Output<any>>;
let outputs: Outputs;
const commands = () => byType("command:remote:Command");
const deploys = () => commands().filter(c => c.name.endsWith("-deploy"));
const bundle = (d: { inputs: Record<string, any> }) => decodeBundle(splitStdin(d.inputs.stdin).data);
const file = (d: { inputs: Record<string, any> }, p: string) => bundle(d).find(f => f.path === p)!.content;


describe("a 3-node Harbor 2.15 stack", () => {
    before(async () => {
        outputs = await runStack(plainConfigV2(fixtureInstaller("2.15.2")), secretValuesV2);
        await promiseOf(outputs.nodeStatus);
    });

    it("uses ExternalPostgreSQL, not ExternalMySQL, and keeps the seed's other components", () => {
        const count = (t: string) => byType(`harbor-ha:index:${t}`).length;
        assert.equal(count("ExternalPostgreSQL"), 1);
        assert.equal(count("ExternalMySQL"), 0);
        assert.equal(count("SharedTokenKeys"), 1);
        assert.equal(count("RedisSession"), 1);
        assert.equal(count("HarborNode"), 3);
        assert.equal(count("UpgradeStop"), 3);
        const names = commands().map(c => c.name);
        assert.equal(names.filter(n => n === "cluster-postgres-setup").length, 1);
        for (const n of ["harbor-1", "harbor-2", "harbor-3"]) assert.ok(names.includes(`cluster-postgres-check-${n}`), n);
    });

    it("makes every must-share secret once, with Harbor's lengths", () => {
        const pw = byType("random:index/randomPassword:RandomPassword");
        const lengths = Object.fromEntries(pw.map(p => [p.name.replace(/^cluster-/, ""), p.inputs.length]));
        assert.deepEqual(lengths, {
            secretkey: 16, coreSecret: 16, jobserviceSecret: 16, csrfKey: 32, registryPassword: 32, scannerPrefix: 8,
            "postgres-password": 32,
        });
        assert.equal(recorded.filter(r => r.type.endsWith("RegistryHtpasswd")).length, 1);
    });

    it("gives every node byte-identical shared secrets and harbor.yml", () => {
        for (const p of ["harbor.yml", ".harbor-ha/shared-env", ".harbor-ha/registry-passwd", ".harbor-ha/secretkey", ".harbor-ha/token/private_key.pem"]) {
            assert.equal(new Set(deploys().map(d => file(d, p))).size, 1, p);
        }
        const env = file(deploys()[0], ".harbor-ha/shared-env");
        for (const key of ["CORE_SECRET", "JOBSERVICE_SECRET", "CSRF_KEY", "REGISTRY_CREDENTIAL_PASSWORD", "ROBOT_SCANNER_NAME_PREFIX"]) {
            assert.match(env, new RegExp(`^common/config/core/env ${key} [A-Za-z0-9]+$`, "m"), key);
        }
        assert.match(file(deploys()[0], ".harbor-ha/registry-passwd"), /^harbor_registry_user:\$2[aby]\$05\$/);
    });

    it("renders harbor.yml for external PostgreSQL and Redis on shared storage", () => {
        const y = parse(file(deploys()[0], "harbor.yml")) as Record<string, any>;
        assert.equal(y.hostname, "hub.example.test");
        assert.equal(y.https.port, 8070);
        assert.equal(y.data_volume, "/mnt/cephfs/harbor/data");
        assert.equal(y.database, undefined);
        assert.equal(y.redis, undefined);
        assert.equal(y.external_database.harbor.host, "10.99.0.3");
        assert.equal(y.external_database.harbor.db_name, "registry");
        assert.equal(y.external_redis.host, "redis.example.test:6379");
        assert.equal(y.external_redis.password, secretValuesV2.redisPassword);
        assert.deepEqual(y.jobservice.job_loggers, ["STD_OUTPUT", "DB"]);
        assert.equal(y.harbor_admin_password, secretValuesV2.adminPassword);
    });

    it("keeps every secret out of command strings and marks the bundles secret", () => {
        const secrets = [...Object.values(secretValuesV2), ...generatedSecrets].filter(s => s.length >= 8);
        for (const c of recorded.filter(r => r.type.startsWith("command:remote:"))) {
            const stdin = c.inputs.stdin === undefined ? undefined : splitStdin(c.inputs.stdin);
            if (stdin?.data) assert.ok(isSecretInput(c.inputs.stdin), `${c.name}: stdin carries data, so it is secret`);
            const visible = JSON.stringify({ script: stdin?.script, create: c.inputs.create, delete: c.inputs.delete, triggers: c.inputs.triggers });
            for (const s of secrets) assert.ok(!visible.includes(s), `${c.name} shows a secret in its command line`);
        }
        const setup = commands().find(c => c.name === "cluster-postgres-setup")!;
        const files = decodeBundle(splitStdin(setup.inputs.stdin).data);
        assert.ok(files.find(f => f.path === "admin.pgpass")!.content.includes(secretValuesV2.postgresAdminPassword));
        assert.match(files.find(f => f.path === "setup.sql")!.content, /CREATE DATABASE %I OWNER %I', 'registry', 'harbor'/);
        assert.equal(plain(setup.inputs.connection).port, 2201, "the database is set up from the first node");
    });

    it("reports the version and what the update did", async () => {
        assert.equal(await promiseOf(outputs.harborVersion), "2.15.2");
        assert.match(await promiseOf(outputs.upgrade), /^Harbor 2\.15\.2: a new cluster; harbor-1 starts first/);
    });
});
