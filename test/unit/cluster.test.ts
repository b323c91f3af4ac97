// The whole program under mocks: a 3-node stack and the inputs its resources received.
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { decodeBundle } from "../../render/bundle";
import {
    byType, fixtureInstaller, generatedSecrets, hostKeys, isSecretInput, plain, plainConfig, splitStdin, promiseOf, recorded, runStack, secretValues,
} from "../mocks";

type Outputs = Record<string, pulumi.Output<any>>;
let outputs: Outputs;

const commands = () => byType("command:remote:Command");
const deploys = () => commands().filter(c => c.name.endsWith("-deploy"));


describe("a 3-node stack", () => {
    before(async () => {
        outputs = await runStack(plainConfig(fixtureInstaller()));
        await promiseOf(outputs.nodeStatus);
    });

    it("has one of each shared component and three CephMounts and HarborNodes", () => {
        const count = (t: string) => byType(`harbor-ha:index:${t}`).length;
        assert.equal(count("HarborCluster"), 1);
        assert.equal(count("SharedTokenKeys"), 1);
        assert.equal(count("ExternalMySQL"), 1);
        assert.equal(count("RedisSession"), 1);
        assert.equal(count("CephMount"), 3);
        assert.equal(count("HarborNode"), 3);
        assert.equal(count("NodePreflight"), 3);
        assert.equal(count("DockerDataRoot"), 0, "Docker is left alone unless dockerDataRoot is set");
        assert.equal(count("ClusterTls"), 1, "https by default");
        assert.deepEqual(recorded.filter(r => r.type.startsWith("pulumi-nodejs:dynamic")).map(r => r.type.split(":").pop()).sort(),
            ["ClusterCa", "ServerCertificate", "TokenKeypair"], "exactly one keypair, one CA, one server certificate");
    });

    it("gives every node byte-identical token key material, the keypair's own", async () => {
        const bundles = deploys().map(d => decodeBundle(splitStdin(d.inputs.stdin).data));
        assert.equal(bundles.length, 3);
        const key = (b: ReturnType<typeof decodeBundle>, p: string) => b.find(f => f.path === p)!.content;
        const keyPems = bundles.map(b => key(b, ".harbor-ha/token/private_key.pem"));
        const certPems = bundles.map(b => key(b, ".harbor-ha/token/root.crt"));
        const secretKeys = bundles.map(b => key(b, ".harbor-ha/secretkey"));
        assert.equal(new Set(keyPems).size, 1);
        assert.equal(new Set(certPems).size, 1);
        assert.equal(new Set(secretKeys).size, 1);
        assert.ok(keyPems[0].startsWith(`-----BEGIN RSA ${"PRIVATE"} KEY-----`), "an RSA private key in PEM");
        assert.equal(certPems[0], await promiseOf(outputs.tokenCertificatePem));
        assert.equal(secretKeys[0].length, 16, "Harbor's secretkey must be exactly 16 characters");
    });

    it("renders harbor.cfg with the domain as hostname on every node, never a node address", () => {
        for (const d of deploys()) {
            const cfg = decodeBundle(splitStdin(d.inputs.stdin).data).find(f => f.path === "harbor.cfg")!.content;
            assert.match(cfg, /^hostname = hub\.example\.test:8070$/m);
            assert.doesNotMatch(cfg, /10\.99\.0\.1\d|127\.0\.0\.1/);
            assert.match(cfg, /^customize_crt = off$/m);
        }
    });

    it("pins the host key and passes the key as a secret on every SSH connection", () => {
        const remote = recorded.filter(r => r.type.startsWith("command:remote:"));
        assert.ok(remote.length > 0);
        for (const r of remote) {
            assert.ok(isSecretInput(r.inputs.connection), `${r.name}: the connection is secret`);
            const c = plain(r.inputs.connection);
            assert.ok(hostKeys.includes(c.hostKey), `${r.name} pins a known host key`);
            assert.equal(c.privateKey, secretValues.sshPrivateKey);
            assert.ok(c.dialErrorLimit > 0 && c.perDialTimeout > 0, `${r.name} bounds its dial retries`);
        }
    });

    it("keeps every secret out of command strings, triggers and non-secret outputs", async () => {
        const secrets = [...Object.values(secretValues), ...generatedSecrets].filter(s => s.length >= 8);
        assert.ok(generatedSecrets.length >= 3, "random passwords and the private key were generated");
        for (const c of recorded.filter(r => r.type.startsWith("command:remote:"))) {
            const stdin = c.inputs.stdin === undefined ? undefined : splitStdin(c.inputs.stdin);
            if (stdin?.data) assert.ok(isSecretInput(c.inputs.stdin), `${c.name}: stdin carries data, so it is secret`);
            const visible = JSON.stringify({ script: stdin?.script, create: c.inputs.create, update: c.inputs.update, delete: c.inputs.delete, triggers: c.inputs.triggers, env: c.inputs.environment });
            for (const s of secrets) assert.ok(!visible.includes(s), `${c.name} shows a secret in its command line`);
            if (c.type === "command:remote:Command") {
                assert.equal(c.inputs.addPreviousOutputInEnv, false, `${c.name} must not echo previous output into env`);
            }
        }
        for (const name of ["url", "nodeStatus", "tokenCertFingerprint", "tokenCertificatePem", "installerSha256"]) {
            const text = JSON.stringify(await promiseOf(outputs[name]));
            for (const s of secrets) assert.ok(!text.includes(s), `output ${name} shows a secret`);
        }
        assert.equal(await pulumi.isSecret(outputs.adminPassword), true);
    });

    it("sends secrets only on stdin: the bundles carry the passwords", () => {
        const setup = commands().find(c => c.name.endsWith("-mysql-setup"))!;
        const files = decodeBundle(splitStdin(setup.inputs.stdin).data);
        assert.ok(files.find(f => f.path === "admin.cnf")!.content.includes(secretValues.mysqlAdminPassword));
        assert.doesNotMatch(files.find(f => f.path === "schema.sql")!.content, /drop database|create database|^use /im);
        const ui = decodeBundle(splitStdin(deploys()[0].inputs.stdin).data).find(f => f.path === "common/templates/ui/env")!.content;
        assert.match(ui, new RegExp(`^_REDIS_URL=10\\.99\\.0\\.4:6379,100,${secretValues.redisPassword},0$`, "m"));
    });

    it("transforms every node's compose file the seed's way", () => {
        for (const d of deploys()) {
            const compose = decodeBundle(splitStdin(d.inputs.stdin).data).find(f => f.path === "docker-compose.yml")!.content;
            assert.doesNotMatch(compose, /^ {2}mysql:/m);
            assert.doesNotMatch(compose, /- mysql$/m);
            assert.doesNotMatch(compose, /- \/data[/:]/);
            assert.match(compose, /- 8070:443/);
        }
    });

    it("checks MySQL and Redis from every node, and sets the database up once", () => {
        const names = commands().map(c => c.name);
        for (const n of ["harbor-1", "harbor-2", "harbor-3"]) {
            assert.ok(names.includes(`cluster-mysql-check-${n}`));
            assert.ok(names.includes(`cluster-redis-check-${n}`));
        }
        assert.equal(names.filter(n => n.endsWith("mysql-setup")).length, 1);
    });

    it("copies the installer and keys every installer step by its sha256", async () => {
        const sha = await promiseOf(outputs.installerSha256);
        assert.match(sha, /^[0-9a-f]{64}$/);
        const copies = byType("command:remote:CopyToRemote");
        assert.equal(copies.length, 3);
        // A rebuilt node (a new host key) gets the archive again: a copy re-runs on a new source or path only.
        for (const i of [1, 2, 3]) {
            assert.deepEqual(copies.find(c => c.name === `cluster-harbor-${i}-installer-copy`)!.inputs.triggers, [sha, hostKeys[i - 1]]);
        }
        for (const d of deploys()) assert.deepEqual(d.inputs.triggers, [sha]);
    });

    it("preflights every node against the stack's services", () => {
        const checks = commands().filter(c => c.name.endsWith("-preflight-checks"));
        assert.equal(checks.length, 3);
        for (const c of checks) {
            assert.match(splitStdin(c.inputs.stdin).script, /check_reach ceph-mon-1 10\.99\.0\.2 6789/);
            assert.match(splitStdin(c.inputs.stdin).script, /check_reach mysql 10\.99\.0\.3 3306/);
            assert.match(splitStdin(c.inputs.stdin).script, /check_reach redis 10\.99\.0\.4 6379/);
            assert.match(splitStdin(c.inputs.stdin).script, /\(10 \* size\)/, "default space threshold 10%");
        }
    });

    it("preflights every node against the record another stack may have left: its cluster ID must be this stack's", () => {
        const cluster = Buffer.from("cluster-cluster-id").toString("hex").slice(0, 16);
        for (const c of commands().filter(c => c.name.endsWith("-preflight-checks"))) {
            const script = splitStdin(c.inputs.stdin).script;
            assert.match(script, /^rec=\/opt\/harbor\/\.harbor-ha\/deployed$/m);
            assert.match(script, new RegExp(`elif \\[ "\\$theirs" = ${cluster} \\]; then`));
            assert.doesNotMatch(script, /adoptCluster\)" /, "no cluster taken over unless the stack says so");
        }
    });

    it("serves HTTPS with the cluster certificate on every node, checked against the CA", async () => {
        const ca = await promiseOf(outputs.caPem);
        assert.match(ca, /^-----BEGIN CERTIFICATE-----/);
        assert.equal(await promiseOf(outputs.clientTrustPath), "/etc/docker/certs.d/hub.example.test:8070/ca.crt");
        const certs = new Set<string>();
        for (const d of deploys()) {
            const files = decodeBundle(splitStdin(d.inputs.stdin).data);
            const cfg = files.find(f => f.path === "harbor.cfg")!.content;
            assert.match(cfg, /^ui_url_protocol = https$/m);
            assert.match(cfg, /^ssl_cert = \/opt\/harbor\/\.harbor-ha\/tls\/server\.crt$/m);
            assert.match(cfg, /^ssl_cert_key = \/opt\/harbor\/\.harbor-ha\/tls\/server\.key$/m);
            assert.equal(files.find(f => f.path === ".harbor-ha/tls/ca.crt")!.content, ca);
            assert.equal(files.find(f => f.path === ".harbor-ha/tls/server.key")!.mode, "0600");
            certs.add(files.find(f => f.path === ".harbor-ha/tls/server.crt")!.content);
            assert.match(splitStdin(d.inputs.stdin).script, /--cacert "\$stage\/tls\/ca.crt" --resolve hub.example.test\\:8070\\:127.0.0.1/);
        }
        assert.equal(certs.size, 1, "one certificate for the cluster");
        assert.match(await promiseOf(outputs.tlsNotAfter), /^\d{4}-\d\d-\d\dT/);
        // What every node must serve: the fingerprint of the certificate in its bundle.
        assert.equal(await promiseOf(outputs.tlsCertFingerprint), new X509Certificate([...certs][0]).fingerprint256);
    });

    it("reports each node's status by name", async () => {
        const status = await promiseOf(outputs.nodeStatus);
        assert.deepEqual(Object.keys(status), ["harbor-1", "harbor-2", "harbor-3"]);
        assert.equal(await promiseOf(outputs.url), "https://hub.example.test:8070");
    });
});
