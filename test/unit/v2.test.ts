// Harbor 2.x: harbor.yml and the post-prepare secrets (golden), the releases' schemas and the
// upgrade plans, PostgreSQL's SQL, and the deploy script run for real against a stub prepare that
// behaves like Harbor 2.x's (keeps the secrets on the data volume, draws new env secrets each run).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { encodeBundle } from "../../render/bundle";
import { flavorFor, NodeLayout, NodeSettings, requireFlavor } from "../../render/flavors";
import { registryPasswd, renderHarborYml, sharedEnvLines } from "../../render/flavors/v2Config";
import { schemaVersion, upgradePlan } from "../../render/flavors/v2Releases";
import { connectionEnv, pgpassLine, postgresSetupSql } from "../../render/postgres";
import { postgresCheckScript, postgresSetupScript } from "../../render/scripts/services";
import { assertGolden } from "../golden";
import { drainSettings, fixtures, testCluster, writePeers } from "../mocks";

const template = fs.readFileSync(path.join(fixtures, "installer-v2.15.2", "harbor", "harbor.yml.tmpl"), "utf8");
const shared = {
    secretkey: "0123456789abcdef", coreSecret: "CoreSecret000016", jobserviceSecret: "JobSecret0000016",
    csrfKey: "CsrfKey0000000000000000000000032", registryPassword: "RegistryPassword0000000000000032", scannerPrefix: "scan0008",
    registryHtpasswd: "$2b$05$abcdefghijklmnopqrstuu5Vj2Gmah0E3Ee5QbkqLOT4RwZT8C6Wi",
};
const settings: NodeSettings = {
    domain: "hub.example.test", port: 8070, protocol: "https", dataPath: "/mnt/cephfs/harbor/data",
    tls: { certPath: "/opt/harbor/.harbor-ha/tls/server.crt", keyPath: "/opt/harbor/.harbor-ha/tls/server.key" },
    database: { host: "pg.example.test", port: 5432, database: "registry", user: "harbor", password: "Pg$ecret:1", sslMode: "require", maxIdleConns: 2, maxOpenConns: 15 },
    redis: { host: "redis.example.test", port: 6379, password: "Redis,Pw", dbIndex: 0, poolSize: 100, registryDbIndex: 1, jobserviceDbIndex: 2, trivyDbIndex: 5 },
    adminPassword: "Adm1nPassword", tokenPrivateKeyPem: "KEY", tokenCertificatePem: "CERT", shared,
};
const layout: NodeLayout = { installDir: "/opt/harbor", archivePath: "/opt/harbor-installer.tgz", mountPoint: "/mnt/cephfs/harbor", dataPath: "/mnt/cephfs/harbor/data", port: 8070, healthPort: 8099 };

describe("Harbor 2.x flavor", () => {
    it("covers the known 2.10-2.15 releases and needs PostgreSQL, Docker 20.10 and Compose 2.3", () => {
        for (const v of ["2.10.0", "2.10.3", "2.12.4", "2.14.1", "2.15.2"]) assert.equal(flavorFor(v)?.generation, 2, v);
        for (const v of ["2.9.0", "2.10.4", "2.15.3", "2.16.0", "3.0.0"]) assert.equal(flavorFor(v), undefined, v);
        const f = requireFlavor("2.15.2");
        assert.equal(f.database, "postgresql");
        assert.deepEqual([f.minDocker, f.minCompose], ["20.10.10", "2.3.0"]);
        assert.equal(f.python, undefined, "2.x's prepare runs in a container");
        assert.deepEqual(f.health, { path: "/api/v2.0/health", expect: '"status":"healthy"', refuse: "unhealthy" });
        assert.deepEqual(f.sharedSecrets.map(s => [s.name, s.length]),
            [["secretkey", 16], ["coreSecret", 16], ["jobserviceSecret", 16], ["csrfKey", 32], ["registryPassword", 32], ["scannerPrefix", 8]]);
        assert.deepEqual(f.ports(8070, "https", 8099), [8070, 80]);
        assert.deepEqual(f.ports(8070, "http", 8099), [8070]);
    });

    it("renders and deploys every 2.10-2.15 line the same way", () => {
        for (const v of ["2.10.3", "2.11.2", "2.12.4", "2.13.5", "2.14.4", "2.15.2"]) {
            const f = requireFlavor(v);
            assert.equal(f.renderNodeFiles({ "harbor.yml.tmpl": template }, settings, layout).length, 7, v);
            assert.match(f.deployScript(layout, "harbor-1", { protocol: "https", domain: "hub.example.test" }, drainSettings, testCluster).command, new RegExp(`deploy Harbor ${v.replace(/\./g, "\\.")} on harbor-1`));
        }
    });

    it("the load balancer's check proxies to core's health, the fallback to its ping, both 503 while drained", () => {
        const files = requireFlavor("2.15.2").renderNodeFiles({ "harbor.yml.tmpl": template }, settings, layout);
        const conf = files.find(f => f.path.endsWith("harbor-ha-health.conf"))!.content;
        const [health, reachable] = conf.split(/(?=^# harbor-ha)/m);
        assert.match(health, /^location = \/harbor-ha\/health \{$/m);
        assert.match(health, /^    proxy_pass http:\/\/core\/api\/v2\.0\/health;$/m);
        assert.match(reachable, /^location = \/harbor-ha\/reachable \{$/m);
        assert.match(reachable, /^    proxy_pass http:\/\/core\/api\/v2\.0\/ping;$/m);
        for (const l of [health, reachable]) assert.match(l, /^    if \(-d \/etc\/nginx\/conf\.d\/harbor-ha\.drained\.d\) \{\n        return 503/m);
    });

    it("harbor.yml: external database and Redis only, shared data volume, DB job logs, comments kept (golden)", () => {
        const out = renderHarborYml(template, settings);
        const y = parse(out) as Record<string, any>;
        assert.equal(y.hostname, "hub.example.test");
        assert.deepEqual(y.https, { port: 8070, certificate: settings.tls!.certPath, private_key: settings.tls!.keyPath });
        assert.equal(y.database, undefined, "an internal database block would make prepare ignore the external one");
        assert.equal(y.redis, undefined);
        assert.deepEqual(y.external_database, { harbor: {
            host: "pg.example.test", port: 5432, db_name: "registry", username: "harbor", password: "Pg$ecret:1", ssl_mode: "require", max_idle_conns: 2, max_open_conns: 15,
        } });
        assert.deepEqual(y.external_redis, { host: "redis.example.test:6379", password: "Redis,Pw", registry_db_index: 1, jobservice_db_index: 2, trivy_db_index: 5, idle_timeout_seconds: 30 });
        assert.equal(y.data_volume, "/mnt/cephfs/harbor/data");
        assert.deepEqual(y.jobservice.job_loggers, ["STD_OUTPUT", "DB"]);
        assert.equal(y._version, "2.15.0");
        assert.equal(y.cache.enabled, false, "left as the template has it: the same on every node");
        assert.match(out, /# If you are deploying Harbor in HA mode/);
        assertGolden("v2.15.2/harbor.yml", out);
    });

    it("harbor.yml over http: no https block, the cluster port as http.port", () => {
        const y = parse(renderHarborYml(template, { ...settings, protocol: "http", tls: undefined })) as Record<string, any>;
        assert.equal(y.https, undefined);
        assert.equal(y.http.port, 8070);
    });

    it("refuses a template that is not 2.x's", () => {
        assert.throws(() => renderHarborYml("hostname: x\n", settings), /no _version/);
    });

    it("the values prepare draws anew, and every file that carries them (golden)", () => {
        const lines = sharedEnvLines(shared);
        assertGolden("v2.15.2/shared-env", lines);
        assert.equal(lines.split("\n").filter(l => l.startsWith("common/config/core/env ")).length, 5);
        assert.match(lines, /^common\/config\/jobservice\/env JOBSERVICE_SECRET JobSecret0000016$/m);
        assert.match(lines, /^common\/config\/registryctl\/env CORE_SECRET CoreSecret000016$/m);
        assert.throws(() => sharedEnvLines({ ...shared, csrfKey: "has space" }), /alphanumeric/);
        assert.equal(registryPasswd(shared.registryHtpasswd), `harbor_registry_user:${shared.registryHtpasswd}\n`);
        assert.throws(() => registryPasswd("plain"), /not bcrypt/);
    });

    it("the deploy script (golden)", () => {
        const f = requireFlavor("2.15.2");
        assertGolden("v2.15.2/deploy.sh", f.deployScript(layout, "harbor-1", { protocol: "https", domain: "hub.example.test" }, drainSettings, testCluster).text);
        const files = f.renderNodeFiles({ "harbor.yml.tmpl": template }, settings, layout).map(x => `${x.mode} ${x.path}`);
        assert.deepEqual(files, ["0600 harbor.yml", "0600 .harbor-ha/token/private_key.pem", "0644 .harbor-ha/token/root.crt",
            "0600 .harbor-ha/secretkey", "0600 .harbor-ha/shared-env", "0600 .harbor-ha/registry-passwd", "0644 .harbor-ha/harbor-ha-health.conf"]);
    });
});

describe("releases and upgrades", () => {
    it("knows each release's schema version", () => {
        assert.deepEqual(["2.10.3", "2.11.0", "2.12.4", "2.13.5", "2.14.0", "2.14.1", "2.14.4", "2.15.0", "2.15.2"].map(schemaVersion),
            ["0130", "0140", "0150", "0160", "0170", "0171", "0171", "0180", "0180"]);
    });
    it("a new cluster starts one node first", () => assert.equal(upgradePlan(undefined, "2.15.2", ["hub-1", "hub-2"]).kind, "new"));
    it("the same schema goes node by node", () => {
        assert.equal(upgradePlan("2.15.0", "2.15.2", ["hub-1", "hub-2"]).kind, "node-by-node");
        assert.equal(upgradePlan("2.14.1", "2.14.4", ["hub-1", "hub-2"]).kind, "node-by-node");
    });
    it("a new schema stops every node, migrates on one, then starts the rest", () => {
        const p = upgradePlan("2.14.4", "2.15.2", ["hub-1", "hub-2"]);
        assert.equal(p.kind, "stop-all");
        assert.match(p.message, /schema 0171 -> 0180: every node stops, hub-1 upgrades and migrates the database, then the others start/);
        assert.match(p.message, /DOWNTIME: UpgradeStop stops Harbor on hub-1, hub-2; the registry answers again once hub-1 has migrated/);
        assert.equal(upgradePlan("2.14.0", "2.14.1", ["hub-1", "hub-2"]).kind, "stop-all", "2.14.1 added a migration");
    });
    it("refuses 1.x to 2.x in place with the documented path, and downgrades", () => {
        assert.throws(() => upgradePlan("1.5.4", "2.15.2", ["hub-1", "hub-2"]), /cannot be upgraded to 2\.15\.2 in place.*1\.9 or 1\.10 first/);
        assert.throws(() => upgradePlan("2.15.2", "2.14.4", ["hub-1", "hub-2"]), /cannot be downgraded/);
        assert.throws(() => requireFlavor("1.2.2").upgradePlan("2.15.2", ["hub-1", "hub-2"]), /cannot go back/);
    });
});

describe("PostgreSQL", () => {
    const t = { host: "pg.example.test", port: 5432, database: "registry", user: "harbor", sslMode: "require" };
    it("creates the user and a database it owns, idempotently, with quoted values (golden)", () => {
        const sql = postgresSetupSql(t, "it's");
        assert.match(sql, /WHERE NOT EXISTS \(SELECT FROM pg_roles WHERE rolname = 'harbor'\)\\gexec/);
        assert.match(sql, /ALTER ROLE harbor WITH LOGIN PASSWORD 'it''s';/);
        assert.match(sql, /ALTER DATABASE registry OWNER TO harbor;/);
        assert.doesNotMatch(sql, /DROP/i);
        assertGolden("postgres-setup.sql", sql);
    });
    it("passes passwords in a .pgpass file, escaped", () => {
        assert.equal(pgpassLine(t, "harbor", "a:b\\c", "registry"), "pg.example.test:5432:registry:harbor:a\\:b\\\\c\n");
        assert.equal(connectionEnv(t, "postgres", "postgres"), "PGHOST='pg.example.test'\nPGPORT=5432\nPGUSER='postgres'\nPGDATABASE='postgres'\nPGSSLMODE='require'\n");
    });
    it("scripts (golden): setup with the admin, check with Harbor's user and the server version", () => {
        assertGolden("postgres-setup.sh", postgresSetupScript("registry").text);
        const check = postgresCheckScript("registry", "harbor-1", 120000).text;
        assert.match(check, /SHOW server_version_num/);
        assert.match(check, /-ge 120000/);
        assertGolden("postgres-check.sh", check);
    });
});

// The deploy run for real in a scratch directory, with stubs for the node's tools and a stub
// prepare doing what Harbor 2.x's does to a deployment tool.
const stub = (dir: string, name: string, body: string) => fs.writeFileSync(path.join(dir, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });

function sandbox() {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "harbor-ha-v2-deploy-"));
    const bin = path.join(root, "bin");
    const l: NodeLayout = { ...layout, installDir: path.join(root, "opt", "harbor"), mountPoint: path.join(root, "cephfs"), dataPath: path.join(root, "cephfs", "data") };
    fs.mkdirSync(bin, { recursive: true });
    fs.mkdirSync(l.installDir, { recursive: true });
    fs.writeFileSync(path.join(l.installDir, "harbor.yml.tmpl"), template);
    // Like 2.x's prepare: keeps an existing secretkey and (complete) keypair on the data volume,
    // wipes common/config and writes it anew with fresh random secrets, and docker-compose.yml.
    stub(l.installDir, "prepare", `set -e
cd "$(dirname "$0")"
data=$(sed -n 's/^data_volume: //p' harbor.yml)
mkdir -p "$data/secret/keys" "$data/secret/core" "$data/secret/registry"
[ -s "$data/secret/keys/secretkey" ] || echo -n RANDOMRANDOM0016 > "$data/secret/keys/secretkey"
if [ ! -s "$data/secret/core/private_key.pem" ] || [ ! -s "$data/secret/registry/root.crt" ]; then
  echo NEW-KEY > "$data/secret/core/private_key.pem"; echo NEW-CERT > "$data/secret/registry/root.crt"; fi
[ -e common/config/nginx ] && [ ! -e common/config/core ] && echo "nginx dir made before the first prepare" >> prepare.log
# As Harbor's delfile: every file under common/config goes, directories stay.
find common/config -type f -delete 2>/dev/null || true
[ -d common/config/nginx/conf.d/harbor-ha.drained.d ] && echo "prepare ran drained" >> prepare.log
mkdir -p common/config/core common/config/jobservice common/config/registryctl common/config/registry
r() { head -c 64 /dev/urandom | base64 | tr -dc A-Za-z0-9 | head -c "$1"; }
printf 'CONFIG_PATH=/etc/core/app.conf\\nCORE_SECRET=%s\\nJOBSERVICE_SECRET=%s\\nCSRF_KEY=%s\\nREGISTRY_CREDENTIAL_USERNAME=harbor_registry_user\\nREGISTRY_CREDENTIAL_PASSWORD=%s\\nROBOT_SCANNER_NAME_PREFIX=%s\\n' "$(r 16)" "$(r 16)" "$(r 32)" "$(r 32)" "$(r 8)" > common/config/core/env
printf 'CORE_SECRET=%s\\nJOBSERVICE_SECRET=%s\\nREGISTRY_CREDENTIAL_PASSWORD=%s\\n' "$(r 16)" "$(r 16)" "$(r 32)" > common/config/jobservice/env
printf 'CORE_SECRET=%s\\nJOBSERVICE_SECRET=%s\\n' "$(r 16)" "$(r 16)" > common/config/registryctl/env
echo "harbor_registry_user:\\$2y\\$05\\$random" > common/config/registry/passwd
echo "services: {}" > docker-compose.yml
echo prepared >> prepare.log`);
    stub(bin, "mountpoint", "exit 0");
    // The boot unit goes into the sandbox's root (HARBOR_HA_SYSROOT), never the test machine's.
    stub(bin, "systemctl", "exit 0");
    stub(bin, "docker", `[ "$1 $2" = "compose version" ] && exit 0; echo "$*" >> ${JSON.stringify(path.join(root, "docker.log"))}`);
    // What core's /api/v2.0/health answers: healthy unless the test writes another body.
    fs.writeFileSync(path.join(root, "health.json"), '{"status":"healthy","components":[{"name":"core","status":"healthy"},{"name":"database","status":"healthy"}]}');
    stub(bin, "curl", `cat ${JSON.stringify(path.join(root, "health.json"))}`);
    stub(bin, "sleep", `echo "sleep $*" >> ${JSON.stringify(path.join(root, "sleep.log"))}`);
    return { root, bin, l };
}

function deploy(s: ReturnType<typeof sandbox>, secretkey = shared.secretkey) {
    const f = requireFlavor("2.15.2");
    const files = f.renderNodeFiles({ "harbor.yml.tmpl": template }, { ...settings, dataPath: s.l.dataPath, shared: { ...shared, secretkey } }, s.l);
    const script = f.deployScript(s.l, "harbor-1", { protocol: "http", domain: "hub.example.test" }, drainSettings, testCluster);
    return spawnSync("sh", ["-c", script.command], {
        input: script.text + encodeBundle(files), encoding: "utf8", env: { ...process.env, PATH: `${s.bin}:/usr/sbin:/usr/bin:/sbin:/bin`, HARBOR_HA_SYSROOT: s.root },
    });
}

const read = (...p: string[]) => fs.readFileSync(path.join(...p), "utf8");

describe("the 2.x deploy script, run against a prepare that behaves like 2.x's", () => {
    it("drains a running node before prepare rewrites its config, and it stays drained through prepare", () => {
        const s = sandbox();
        stub(s.bin, "docker", `[ "$1 $2" = "compose version" ] && exit 0
[ "$1 $2 $3" = "compose ps -q" ] && { echo proxy-id; exit 0; }
[ "$1" = inspect ] && { echo true; exit 0; }
# A proxy started by an older harbor-ha tests the flag file, which prepare deleted: it is back.
[ "$2" = up ] && [ -f ${JSON.stringify(path.join(s.l.installDir, "common/config/nginx/conf.d/harbor-ha.drained"))} ] && echo "up with the legacy flag" >> ${JSON.stringify(path.join(s.root, "docker.log"))}
echo "$*" >> ${JSON.stringify(path.join(s.root, "docker.log"))}`);
        // A node that runs Harbor has the proxy's conf.d from its last prepare.
        fs.mkdirSync(path.join(s.l.installDir, "common/config/nginx/conf.d"), { recursive: true });
        writePeers(s.l.installDir, [{ name: "harbor-1", url: "https://127.0.0.1:8443/harbor-ha/health" }]);
        const r = deploy(s);
        assert.equal(r.status, 0, r.stderr);
        assert.match(read(s.l.installDir, "prepare.log"), /^prepare ran drained$/m);
        assert.match(read(s.root, "docker.log"), /^up with the legacy flag$/m);
        assert.equal(fs.existsSync(path.join(s.l.installDir, "common/config/nginx/conf.d/harbor-ha.drained")), false, "no legacy flag at the end");
        assert.match(r.stdout, /harbor-1: drained;/);
        assert.equal(fs.existsSync(path.join(s.l.installDir, "common/config/nginx/conf.d/harbor-ha.drained.d")), false, "undrained at the end");
    });

    it("on a new node makes no directory of the proxy's before prepare (they would be root's, 0700: nginx could not read them)", () => {
        const s = sandbox();
        const r = deploy(s);
        assert.equal(r.status, 0, r.stderr);
        assert.doesNotMatch(read(s.l.installDir, "prepare.log"), /nginx dir made before the first prepare/);
    });

    it("counts a node healthy only when its core reports every component healthy", () => {
        const s = sandbox();
        fs.writeFileSync(path.join(s.root, "health.json"),
            '{"status":"unhealthy","components":[{"name":"core","status":"healthy"},{"name":"database","status":"unhealthy","error":"failed to run SQL \\"SELECT 1\\": timeout"}]}');
        const refused = deploy(s);
        assert.notEqual(refused.status, 0);
        assert.match(refused.stdout + refused.stderr, /health check http:\/\/127\.0\.0\.1:\d+\/api\/v2\.0\/health/);
        fs.writeFileSync(path.join(s.root, "health.json"), '{"status":"healthy","components":[{"name":"core","status":"healthy"},{"name":"database","status":"healthy"}]}');
        const ok = deploy(s);
        assert.equal(ok.status, 0, ok.stderr);
        assert.match(ok.stdout, /harbor-1: healthy \(\/api\/v2\.0\/health\)/);
    });

    it("places the cluster's secretkey and keypair before prepare, so prepare keeps them", () => {
        const s = sandbox();
        const r = deploy(s);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(read(s.l.dataPath, "secret", "keys", "secretkey"), shared.secretkey);
        assert.equal(read(s.l.dataPath, "secret", "core", "private_key.pem"), "KEY");
        assert.equal(read(s.l.dataPath, "secret", "registry", "root.crt"), "CERT");
        assert.match(r.stdout, /harbor-1: healthy \(\/api\/v2\.0\/health\)/);
    });

    it("writes the cluster's values over every secret prepare drew, and the registry's htpasswd", () => {
        const s = sandbox();
        assert.equal(deploy(s).status, 0);
        const core = read(s.l.installDir, "common", "config", "core", "env");
        assert.match(core, /^CORE_SECRET=CoreSecret000016$/m);
        assert.match(core, /^CSRF_KEY=CsrfKey0000000000000000000000032$/m);
        assert.match(core, /^ROBOT_SCANNER_NAME_PREFIX=scan0008$/m);
        assert.match(core, /^REGISTRY_CREDENTIAL_USERNAME=harbor_registry_user$/m, "the rest of the file is kept");
        assert.match(read(s.l.installDir, "common", "config", "jobservice", "env"), /^JOBSERVICE_SECRET=JobSecret0000016$/m);
        assert.match(read(s.l.installDir, "common", "config", "registryctl", "env"), /^CORE_SECRET=CoreSecret000016$/m);
        assert.equal(read(s.l.installDir, "common", "config", "registry", "passwd"), `harbor_registry_user:${shared.registryHtpasswd}\n`);
        assert.match(read(s.root, "docker.log"), /^compose up -d --force-recreate$/m);
    });

    it("runs again to the same files, and keeps a secretkey already on the data volume", () => {
        const s = sandbox();
        assert.equal(deploy(s).status, 0);
        const first = read(s.l.installDir, "common", "config", "core", "env");
        const r = deploy(s, "fedcba9876543210");
        assert.equal(r.status, 0, r.stderr);
        assert.equal(read(s.l.installDir, "common", "config", "core", "env"), first);
        assert.equal(read(s.l.dataPath, "secret", "keys", "secretkey"), shared.secretkey, "the key that encrypts the data stays");
    });

    it("stops when prepare's output lacks a value it must carry (another layout)", () => {
        const s = sandbox();
        const p = path.join(s.l.installDir, "prepare");
        fs.writeFileSync(p, read(p).replace("CSRF_KEY=%s\\n", "").replace('"$(r 32)" "$(r 32)" "$(r 8)"', '"$(r 32)" "$(r 8)"'));
        const r = deploy(s);
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /common\/config\/core\/env has no CSRF_KEY after prepare: not the Harbor 2\.x layout this flavor knows/);
        const docker = fs.existsSync(path.join(s.root, "docker.log")) ? read(s.root, "docker.log") : "";
        assert.doesNotMatch(docker, /\bup\b/, "nothing started");
    });
});
