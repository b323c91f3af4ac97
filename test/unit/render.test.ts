// The render layer: pure functions from config to file text, checked against golden files.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, it } from "node:test";
import { parse, parseDocument } from "yaml";
import { CephConfig } from "../../config/types";
import { decodeBundle, encodeBundle } from "../../render/bundle";
import { transformCompose } from "../../render/composeTransform";
import { externalHost, flavorFor, NodeSettings, requireFlavor } from "../../render/flavors";
import { redisSessionUrl, redisUrl, renderAdminserverEnv, renderHarborCfg, renderUiEnv, V1Keys } from "../../render/flavors/v1Config";
import { cephClientConf, cephSecretFile, fstabLine } from "../../render/fstab";
import { readKeys, setKeys, templateLiteral } from "../../render/keyValueFile";
import { clientOptionFile, schemaForDatabase, setupSql } from "../../render/mysql";
import { cephMountScript, cephSettleScript, cephUnmountScript, dropin } from "../../render/scripts/cephMount";
import { RemoteScript } from "../../render/scripts/shell";
import { stopScript, unpackInstallerScript } from "../../render/scripts/harborNode";
import { mysqlCheckScript, mysqlSetupScript, redisCheckScript } from "../../render/scripts/services";
import { assertGolden } from "../golden";
import { drainSettings, fixtures, testCluster } from "../mocks";

const installer = (p: string) => fs.readFileSync(path.join(fixtures, "installer-v1.2.2", "harbor", p), "utf8");
/** The installer files of each 1.x version (test templates with the real keys, test/fixtures/v1/). */
const v1Files = (version: string) => {
    const dir = version === "1.2.2" ? path.join(fixtures, "installer-v1.2.2", "harbor") : path.join(fixtures, "v1", version);
    return Object.fromEntries(requireFlavor(version).installerFiles.filter(f => f !== "docker-compose.yml")
        .map(f => [f, fs.readFileSync(path.join(dir, f), "utf8")]));
};
const flavor = requireFlavor("1.2.2");
const settings: NodeSettings = {
    domain: "hub.example.test", port: 8070, protocol: "http", dataPath: "/mnt/cephfs/harbor/data",
    database: { host: "db.example.test", port: 3306, database: "registry", user: "harbor", password: "Pw$with$dollars" },
    redis: { host: "redis.example.test", port: 6379, password: "Redis/Pw+1%", dbIndex: 0, poolSize: 100 },
    adminPassword: "Adm1nPassword", tokenPrivateKeyPem: "KEY", tokenCertificatePem: "CERT", shared: { secretkey: "0123456789abcdef" },
};
const keys12: V1Keys = { cfgHasDbHost: false, cfgHasRedisUrl: false, redisUrlForm: "comma", jsonConfigStore: true };
const composeArgs = {
    dataVolumePrefix: "/data", dataPath: "/mnt/cephfs/harbor/data", dropServices: ["mysql"], proxyService: "proxy", proxyPorts: ["8070:80"],
};
const layout = { installDir: "/opt/harbor", archivePath: "/opt/harbor-installer.tgz", mountPoint: "/mnt/cephfs/harbor", dataPath: "/mnt/cephfs/harbor/data", port: 8070, healthPort: 8099 };
const kernelCeph: CephConfig = { monitors: ["10.0.0.21", "10.0.0.22:6789"], path: "/apps/harbor", mountPoint: "/mnt/cephfs/harbor", user: "harbor", client: "kernel", sessionTimeoutSeconds: 60 };
const fuseCeph: CephConfig = { ...kernelCeph, client: "fuse" };

describe("flavor", () => {
    it("covers Harbor 1.1 to 1.5 and nothing else", () => {
        for (const v of ["1.1.0", "1.2.2", "1.3.0", "1.4.0", "1.5.4"]) assert.ok(flavorFor(v), v);
        for (const v of ["1.0.1", "1.6.0", "2.0.0", "x"]) assert.equal(flavorFor(v), undefined, v);
    });
    it("knows which Python each prepare needs", () => {
        for (const v of ["1.1.2", "1.2.2", "1.4.0", "1.5.4"]) {
            assert.deepEqual(requireFlavor(v).python!.accepts, [{ major: 2, minMinor: 7, maxMinor: 7 }], v);
            assert.equal(requireFlavor(v).python!.shebang, "#!/usr/bin/python");
        }
        assert.deepEqual(requireFlavor("1.3.0").python!.accepts, [{ major: 2, minMinor: 7, maxMinor: 7 }, { major: 3, minMinor: 0, maxMinor: 11 }],
            "1.3's prepare also runs on Python 3 before 3.12 (readfp)");
        assert.ok(!requireFlavor("1.2.2").python!.candidates.includes("python3"));
    });
    it("health is /api/systeminfo in every 1.x (it asks the adminserver, /api/ping (1.5) checks nothing), and the check port's ready path (the registry too)", () => {
        for (const v of ["1.1.2", "1.2.2", "1.5.4"]) {
            assert.deepEqual(requireFlavor(v).health, { path: "/api/systeminfo", expect: "registry_url", ready: "/harbor-ha/ready" });
        }
    });
    it("reads only the files it renders from the installer", () => {
        assert.deepEqual([...flavor.installerFiles].sort(),
            ["common/templates/adminserver/env", "common/templates/nginx/nginx.http.conf", "common/templates/ui/env", "docker-compose.yml", "harbor.cfg"]);
    });
});

describe("each 1.x flavor's harbor.cfg and env templates (golden)", () => {
    for (const v of ["1.1.2", "1.2.2", "1.3.0", "1.4.0", "1.5.4"]) {
        it(`Harbor ${v}`, () => {
            const rendered = requireFlavor(v).renderNodeFiles({ ...v1Files(v), "docker-compose.yml": installer("docker-compose.yml") }, settings, layout);
            for (const f of rendered.filter(f => !f.path.startsWith(".harbor-ha/") && f.path !== "docker-compose.yml")) {
                assertGolden(`v${v}/${path.basename(path.dirname(f.path))}-${path.basename(f.path)}`.replace("/.-", "/"), f.content);
            }
            const cfg = readKeys(rendered.find(f => f.path === "harbor.cfg")!.content, "cfg");
            const ui = readKeys(rendered.find(f => f.path === "common/templates/ui/env")!.content, "env");
            const admin = readKeys(rendered.find(f => f.path === "common/templates/adminserver/env")!.content, "env");
            assert.equal(cfg.hostname, "hub.example.test:8070");
            assert.equal(cfg.customize_crt, "off");
            assert.equal(admin.RESET, "true");
            assert.equal(admin.MYSQL_HOST, "db.example.test");
            assert.equal(ui._REDIS_URL, "redis.example.test:6379,100,Redis/Pw+1%,0", "the ui's beego provider reads the comma form only");
            const minor = Number(v.split(".")[1]);
            assert.equal(cfg.db_host, minor >= 3 ? "db.example.test" : undefined);
            assert.equal(cfg.reload_config, minor >= 4 ? "true" : undefined);
            assert.equal(cfg.redis_url, minor === 5 ? "redis://:Redis%2FPw%2B1%25@redis.example.test:6379/0"
                : minor === 4 ? "redis.example.test:6379,100,Redis/Pw+1%,0" : undefined,
            "1.5's job service reads the URL form (a DNS host in the comma form parses as a URL scheme)");
        });
    }
    it("keeps the adminserver's config.json on the node where Harbor rewrites it at every start (1.1-1.3)", () => {
        for (const [v, local] of [["1.1.2", true], ["1.2.2", true], ["1.3.0", true], ["1.4.0", false], ["1.5.4", false]] as const) {
            const out = requireFlavor(v).renderNodeFiles({ ...v1Files(v), "docker-compose.yml": installer("docker-compose.yml") }, settings, layout)
                .find(f => f.path === "docker-compose.yml")!.content;
            const vols = (parse(out) as { services: Record<string, { volumes: string[] }> }).services.adminserver.volumes;
            const config = vols.find(x => x.endsWith(":/etc/adminserver/config/:z"));
            assert.equal(config, local ? "/opt/harbor/node-local/config/:/etc/adminserver/config/:z" : "/mnt/cephfs/harbor/data/config/:/etc/adminserver/config/:z", v);
            assert.ok(vols.includes("/mnt/cephfs/harbor/data/secretkey:/etc/adminserver/key:z"), `${v}: the secretkey stays shared`);
        }
    });
    it("drops the services the external ones replace: mysql, and 1.5's redis", () => {
        const doc = parseDocument(installer("docker-compose.yml"));
        doc.setIn(["services", "redis"], doc.createNode({ image: "vmware/redis-photon", volumes: ["/data/redis:/data"] }));
        const compose = doc.toString();
        for (const [v, dropped] of [["1.4.0", false], ["1.5.4", true]] as const) {
            const out = requireFlavor(v).renderNodeFiles({ ...v1Files(v), "docker-compose.yml": compose }, settings, layout)
                .find(f => f.path === "docker-compose.yml")!.content;
            const services = (parse(out) as { services: Record<string, unknown> }).services;
            assert.equal(services.mysql, undefined, v);
            assert.equal(services.redis === undefined, dropped, v);
        }
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
        const cfg = renderHarborCfg(installer("harbor.cfg"), keys12, settings);
        const keys = readKeys(cfg, "cfg");
        assert.equal(keys.hostname, "hub.example.test:8070");
        assert.equal(keys.customize_crt, "off");
        assert.equal(keys.secretkey_path, "/mnt/cephfs/harbor/data");
        assert.equal(keys.db_host, undefined, "1.2 has no db_host key");
        assertGolden("harbor.cfg", cfg);
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
        assert.equal(readKeys(env, "env")._REDIS_URL, "redis.example.test:6379,100,Redis/Pw+1%,0");
        assertGolden("ui.env", env);
    });
    it("redis URLs: the beego comma form and the URL form", () => {
        const r = { host: "r", port: 6379, poolSize: 100, dbIndex: 2, password: "pw" };
        assert.equal(redisSessionUrl(r), "r:6379,100,pw,2");
        assert.throws(() => redisSessionUrl({ ...r, password: "a,b" }), /comma/);
        assert.equal(redisUrl({ ...r, password: "p@ss:w/rd" }), "redis://:p%40ss%3Aw%2Frd@r:6379/2");
        assert.equal(redisUrl({ ...r, password: "" }), "redis://r:6379/2");
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
        assert.ok(vols.includes("/mnt/cephfs/harbor/data/config/:/etc/adminserver/config/:z"), "a directory mount keeps one trailing slash");
        assert.ok(!vols.some(v => v.includes("//")), "no double slash");
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

describe("a node back from a crash (CephFS session)", () => {
    it("holds docker.service until the mount is there and session_timeout + 10 s after the boot", () => {
        assert.equal(dropin({ ...fuseCeph, sessionTimeoutSeconds: 90 }),
            "[Unit]\nRequiresMountsFor=/mnt/cephfs/harbor\n[Service]\nExecStartPre=/usr/local/sbin/harbor-ha-cephfs-settle 100\n");
    });
    // The script itself, on this machine: its idea of "since boot" is the age of PID 1.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "settle-"));
    fs.writeFileSync(path.join(dir, "settle"), cephSettleScript, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "sleep"), "#!/bin/sh\necho \"slept $1\"\n", { mode: 0o755 });
    const run = (want: number) => spawnSync("sh", [path.join(dir, "settle"), String(want)],
        { encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
    const pid1Age = () => Number(spawnSync("ps", ["-o", "etimes=", "-p", "1"], { encoding: "utf8" }).stdout.trim());
    it("sleeps the rest of the wait when PID 1 is younger than it", () => {
        const r = run(pid1Age() + 1000);
        assert.equal(r.status, 0, r.stderr);
        const slept = Number(/^slept (\d+)$/m.exec(r.stdout)?.[1]);
        assert.ok(Math.abs(slept - 1000) <= 2, `slept ${slept}, expected about 1000`);
        assert.match(r.stderr, /waiting \d+ s after boot for the MDS to drop this node's previous session/);
    });
    it("does not wait once the boot is older than the wait", () => {
        const r = run(0);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout + r.stderr, "");
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
        "deploy.sh": flavor.deployScript(layout, "harbor-1", { protocol: "http", domain: "hub.example.test" }, drainSettings, testCluster),
        "deploy-https.sh": flavor.deployScript(layout, "harbor-1", { protocol: "https", domain: "hub.example.test" }, drainSettings, testCluster),
        "stop.sh": stopScript(layout.installDir, "harbor-1", drainSettings),
        "upgrade-stop.sh": stopScript(layout.installDir, "harbor-1"),
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
    it("deploy runs prepare with the Python it found, and installs the shared keys only after it", () => {
        const s = text("deploy.sh");
        const prepare = s.indexOf('"$python" ./prepare');
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
