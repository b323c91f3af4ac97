// The render layer: pure functions from config to file text, checked against golden files.
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { CephConfig } from "../../config/types";
import { decodeBundle, encodeBundle } from "../../render/bundle";
import { transformCompose } from "../../render/composeTransform";
import { flavorFor, requireFlavor } from "../../render/flavor";
import { cephClientConf, cephSecretFile, fstabLine } from "../../render/fstab";
import { externalHost, HarborSettings, redisSessionUrl, renderAdminserverEnv, renderHarborCfg, renderUiEnv } from "../../render/harborConfig";
import { readKeys, setKeys, templateLiteral } from "../../render/keyValueFile";
import { clientOptionFile, schemaForDatabase, setupSql } from "../../render/mysql";
import { cephMountScript, cephUnmountScript } from "../../render/scripts/cephMount";
import { RemoteScript } from "../../render/scripts/shell";
import { deployScript, stopScript, unpackInstallerScript } from "../../render/scripts/harborNode";
import { mysqlCheckScript, mysqlSetupScript, redisCheckScript } from "../../render/scripts/services";
import { assertGolden } from "../golden";
import { fixtures } from "../mocks";

const installer = (p: string) => fs.readFileSync(path.join(fixtures, "installer-v1.2.2", "harbor", p), "utf8");
const flavor = requireFlavor("1.2.2");
const settings: HarborSettings = {
    domain: "hub.example.test", port: 8070, protocol: "http", dataPath: "/mnt/cephfs/harbor/data",
    mysql: { host: "db.example.test", port: 3306, database: "registry", user: "harbor", password: "Pw$with$dollars" },
    redisUrl: "redis.example.test:6379,100,RedisPw,0", adminPassword: "Adm1nPassword",
};
const composeArgs = {
    dataVolumePrefix: "/data", dataPath: "/mnt/cephfs/harbor/data", dropServices: ["mysql"], proxyService: "proxy", proxyPorts: ["8070:80"],
};
const layout = { installDir: "/opt/harbor", archivePath: "/opt/harbor-installer.tgz", mountPoint: "/mnt/cephfs/harbor", dataPath: "/mnt/cephfs/harbor/data", port: 8070 };
const kernelCeph: CephConfig = { monitors: ["10.0.0.21", "10.0.0.22:6789"], path: "/apps/harbor", mountPoint: "/mnt/cephfs/harbor", user: "harbor", client: "kernel" };
const fuseCeph: CephConfig = { ...kernelCeph, client: "fuse" };

describe("flavor", () => {
    it("covers Harbor 1.1 to 1.5 and nothing else", () => {
        for (const v of ["1.1.0", "1.2.2", "1.3.0", "1.4.0", "1.5.4"]) assert.ok(flavorFor(v), v);
        for (const v of ["1.0.1", "1.6.0", "2.0.0", "x"]) assert.equal(flavorFor(v), undefined, v);
    });
    it("knows what changed between versions", () => {
        assert.deepEqual(requireFlavor("1.2.2").replacedServices, ["mysql"]);
        assert.deepEqual(requireFlavor("1.4.0").replacedServices, ["mysql", "redis"]);
        assert.equal(requireFlavor("1.2.2").health.path, "/api/systeminfo");
        assert.equal(requireFlavor("1.5.0").health.path, "/api/ping");
        assert.equal(requireFlavor("1.2.2").cfgHasDbHost, false);
        assert.equal(requireFlavor("1.3.0").cfgHasDbHost, true);
    });
});

describe("key/value files", () => {
    it("replaces keys in place, keeps comments, drops duplicates, appends missing keys", () => {
        const out = setKeys("# c\na = 1\nb = 2\na = 3\n", { a: "x", z: "9" }, "cfg");
        assert.equal(out, "# c\na = x\nb = 2\n\n# set by harbor-ha\nz = 9\n");
    });
    it("refuses multi-line values", () => assert.throws(() => setKeys("", { A: "1\n2" }, "env"), /single line/));
    it("escapes $ for prepare's string.Template", () => assert.equal(templateLiteral("a$b$$c"), "a$$b$$$$c"));
});

describe("harbor.cfg and env templates (seed steps 2 and 4)", () => {
    it("harbor.cfg: domain as hostname, customize_crt off, shared secretkey path", () => {
        const cfg = renderHarborCfg(installer("harbor.cfg"), flavor, settings);
        const keys = readKeys(cfg, "cfg");
        assert.equal(keys.hostname, "hub.example.test:8070");
        assert.equal(keys.customize_crt, "off");
        assert.equal(keys.secretkey_path, "/mnt/cephfs/harbor/data");
        assert.equal(keys.db_host, undefined, "1.2 has no db_host key");
        assertGolden("harbor.cfg", cfg);
    });
    it("harbor.cfg for 1.4 also sets db_* and redis_url", () => {
        const keys = readKeys(renderHarborCfg(installer("harbor.cfg"), requireFlavor("1.4.0"), settings), "cfg");
        assert.equal(keys.db_host, "db.example.test");
        assert.equal(keys.redis_url, settings.redisUrl);
        assert.equal(keys.reload_config, "true");
    });
    it("adminserver env: external MySQL and RESET=true, $ escaped", () => {
        const env = renderAdminserverEnv(installer("common/templates/adminserver/env"), settings);
        const keys = readKeys(env, "env");
        assert.equal(keys.MYSQL_HOST, "db.example.test");
        assert.equal(keys.MYSQL_PWD, "Pw$$with$$dollars");
        assert.equal(keys.RESET, "true");
        assertGolden("adminserver.env", env);
    });
    it("ui env: _REDIS_URL in the seed's form", () => {
        const env = renderUiEnv(installer("common/templates/ui/env"), settings);
        assert.equal(readKeys(env, "env")._REDIS_URL, "redis.example.test:6379,100,RedisPw,0");
        assertGolden("ui.env", env);
    });
    it("redis URL: host:port,pool,password,db", () => {
        assert.equal(redisSessionUrl({ host: "r", port: 6379, poolSize: 100, dbIndex: 2 }, "pw"), "r:6379,100,pw,2");
        assert.throws(() => redisSessionUrl({ host: "r", port: 1, poolSize: 1, dbIndex: 0 }, "a,b"), /comma/);
    });
    it("external host leaves out a standard port", () => {
        assert.equal(externalHost({ domain: "d.example", port: 80, protocol: "http" }), "d.example");
        assert.equal(externalHost({ domain: "d.example", port: 8070, protocol: "http" }), "d.example:8070");
    });
});

describe("docker-compose.yml transform (seed step 3)", () => {
    const out = transformCompose(installer("docker-compose.yml"), composeArgs);
    const doc = parse(out) as { services: Record<string, any> };

    it("drops mysql and every depends_on on it", () => {
        assert.equal(doc.services.mysql, undefined);
        for (const [name, svc] of Object.entries(doc.services)) {
            assert.ok(!(svc.depends_on ?? []).includes("mysql"), `${name} still depends on mysql`);
        }
        assert.deepEqual(doc.services.proxy.depends_on, ["registry", "ui", "log"]);
    });
    it("moves every /data volume under the CephFS data path and leaves the others", () => {
        const vols = Object.values(doc.services).flatMap(s => (s.volumes ?? []) as string[]);
        assert.ok(vols.length > 0);
        assert.ok(!vols.some(v => /^\/data(\/|:)/.test(v)), "a /data volume is left");
        assert.ok(vols.includes("/mnt/cephfs/harbor/data/registry:/storage:z"));
        assert.ok(vols.includes("/mnt/cephfs/harbor/data/:/data/:z"));
        assert.ok(vols.includes("/var/log/harbor/:/var/log/docker/:z"), "node-local logs stay local");
        assert.ok(vols.includes("./common/config/ui/private_key.pem:/etc/ui/private_key.pem:z"));
    });
    it("publishes the proxy on the cluster port only", () => assert.deepEqual(doc.services.proxy.ports, ["8070:80"]));
    it("keeps comments and the rest of the file", () => {
        assert.match(out, /^# Test fixture/);
        assert.equal(doc.services.registry.command[0], "serve");
        assertGolden("docker-compose.yml", out);
    });
    it("fails clearly on a file that is not Harbor's", () => {
        assert.throws(() => transformCompose("services:\n  web:\n    image: x\n", composeArgs), /no "proxy" service/);
        assert.throws(() => transformCompose("services:\n  proxy:\n    image: x\n", composeArgs), /no volume under \/data/);
        assert.throws(() => transformCompose("services: [\n", composeArgs), /does not parse/);
    });
    it("handles depends_on maps and long volume syntax", () => {
        const t = transformCompose([
            "services:", "  proxy:", "    depends_on:", "      mysql: {condition: service_started}", "      ui: {condition: service_started}",
            "    volumes:", "      - type: bind", "        source: /data/x", "        target: /x", "  mysql:", "    image: m", "",
        ].join("\n"), composeArgs);
        const d = parse(t) as { services: Record<string, any> };
        assert.deepEqual(Object.keys(d.services.proxy.depends_on), ["ui"]);
        assert.equal(d.services.proxy.volumes[0].source, "/mnt/cephfs/harbor/data/x");
    });
});

describe("CephFS mount (seed step 1)", () => {
    it("kernel client: the seed's fstab line", () => {
        assert.equal(fstabLine(kernelCeph),
            "10.0.0.21:6789,10.0.0.22:6789:/apps/harbor /mnt/cephfs/harbor ceph name=harbor,secretfile=/etc/ceph/harbor.secret,noatime,_netdev 0 2");
        assert.equal(cephSecretFile(kernelCeph, "KEY"), "KEY\n");
    });
    it("ceph-fuse: fuse.ceph with a conf naming the monitors", () => {
        assert.equal(fstabLine(fuseCeph),
            "none /mnt/cephfs/harbor fuse.ceph ceph.id=harbor,ceph.conf=/etc/ceph/harbor-ha.conf,ceph.keyring=/etc/ceph/ceph.client.harbor.keyring,ceph.client_mountpoint=/apps/harbor,noatime,_netdev 0 0");
        assert.equal(cephSecretFile(fuseCeph, "KEY"), "[client.harbor]\n\tkey = KEY\n");
        assert.match(cephClientConf(fuseCeph), /mon_host = 10\.0\.0\.21:6789,10\.0\.0\.22:6789/);
    });
});

describe("MySQL", () => {
    const sql = fs.readFileSync(path.join(fixtures, "registry.sql"), "utf8");
    it("strips drop/create/use from registry.sql so it loads into the configured database", () => {
        const out = schemaForDatabase(sql);
        assert.doesNotMatch(out, /drop database|create database|^use /im);
        assert.match(out, /create table user/);
        assertGolden("schema.sql", out);
    });
    it("creates a user limited to its database, with escaped values", () => {
        const out = setupSql({ host: "h", port: 3306, database: "registry", user: "harbor" }, "it's");
        assert.match(out, /GRANT [A-Z ,]+ ON `registry`\.\* TO 'harbor'@'%';/);
        assert.match(out, /IDENTIFIED BY 'it\\'s'/);
        assert.doesNotMatch(out, /DROP DATABASE|ALL PRIVILEGES|\*\.\*/);
    });
    it("client option file quotes its values", () => {
        assert.equal(clientOptionFile("h", 3306, "u", 'p"\\w'), '[client]\nhost="h"\nport=3306\nuser="u"\npassword="p\\"\\\\w"\n');
    });
});

describe("bundle", () => {
    it("round-trips files and refuses unsafe paths", () => {
        const files = [{ path: "a/b.txt", mode: "0600", content: "x y\nz $HOME" }];
        assert.deepEqual(decodeBundle(encodeBundle(files)), files);
        assert.throws(() => encodeBundle([{ path: "../etc/passwd", mode: "0600", content: "" }]), /relative and plain/);
        assert.throws(() => encodeBundle([{ path: "/etc/passwd", mode: "0600", content: "" }]), /relative and plain/);
        assert.throws(() => encodeBundle([{ path: "a", mode: "600", content: "" }]), /bad mode/);
    });
});

describe("remote scripts", () => {
    const scripts: Record<string, RemoteScript | string> = {
        "ceph-mount-kernel.sh": cephMountScript(kernelCeph, "/mnt/cephfs/harbor/data"),
        "ceph-mount-fuse.sh": cephMountScript(fuseCeph, "/mnt/cephfs/harbor/data"),
        "ceph-unmount.sh": cephUnmountScript(fuseCeph),
        "installer-unpack.sh": unpackInstallerScript(layout, "a".repeat(64), "harbor.v1.2.2.tar.gz"),
        "deploy.sh": deployScript(flavor, layout, "harbor-1", { protocol: "http", domain: "hub.example.test" }),
        "deploy-https.sh": deployScript(flavor, layout, "harbor-1", { protocol: "https", domain: "hub.example.test" }),
        "stop.sh": stopScript(layout, "harbor-1"),
        "mysql-setup.sh": mysqlSetupScript("registry"),
        "mysql-check.sh": mysqlCheckScript("registry", "harbor-1"),
        "redis-check.sh": redisCheckScript("10.0.0.5", 6379, 0, "harbor-1"),
    };
    const text = (name: string) => { const s = scripts[name]; return typeof s === "string" ? s : s.text; };
    for (const [name, script] of Object.entries(scripts)) {
        it(`${name}: strict mode, golden`, () => {
            if (typeof script === "string") {
                // delete scripts: inline, stdin closed
                assert.match(script, /^bash -c "\$\(cat <<'HARBOR_HA_SCRIPT'\n# harbor-ha: .*\n\nset -euo pipefail\n[^]*\nexec <\/dev\/null\n/);
                assertGolden(name, script);
            } else {
                assert.match(script.command, /^bash -s # harbor-ha: [^\n]+ \(script [0-9a-f]{12}\)$/);
                assert.match(script.text, /^# harbor-ha: .*\n\nset -euo pipefail\n[^]*\nmain\(\) \{\n[^]*\n\}\n\nmain; exit 0\n$/);
                assertGolden(name, script.text);
            }
        });
    }
    it("deploy installs the shared keys only after prepare", () => {
        const s = text("deploy.sh");
        const prepare = s.indexOf("./prepare");
        assert.ok(prepare > 0);
        assert.ok(s.indexOf("common/config/ui/private_key.pem") > prepare);
        assert.ok(s.indexOf("common/config/registry/root.crt") > prepare);
        assert.ok(s.indexOf("compose up") > s.indexOf("common/config/registry/root.crt"));
    });
    it("stop and unmount never remove data", () => {
        for (const name of ["stop.sh", "ceph-unmount.sh"]) {
            assert.doesNotMatch(text(name), /down -v|rm -rf|--volumes/, name);
        }
    });
});
