// Harbor 1.1-1.5 (the seed's era): harbor.cfg + env templates, MySQL/MariaDB, a Python 2 prepare
// that rewrites common/config on every run. Facts with file and tag: lab/installer/README.md.
import { BundleFile } from "../bundle";
import { transformCompose } from "../composeTransform";
import { composeFn, q, readBundleFn, remoteScript, RemoteScript, sq } from "../scripts/shell";
import { serviceGuardFns } from "../scripts/serviceGuard";
import { drainCheckPath, drainFns, drainServer, DrainSettings, nginxConfD, readyCheckPath, registryThenUiLocations } from "../scripts/drain";
import { installBootUnitScript } from "../scripts/boot";
import { writeRecordScript } from "../scripts/record";
import { stageDir, staged, waitHealthyScript } from "../scripts/harborNode";
import { findPythonFn, missingPythonMessage } from "../scripts/python";
import { ClientEndpoint, Flavor, guardSpec, NodeLayout, NodeSettings, PythonRequirement, UpgradePlan } from "./flavor";
import { renderAdminserverEnv, renderHarborCfg, renderUiEnv, V1Keys } from "./v1Config";

const files = {
    harborCfg: "harbor.cfg",
    compose: "docker-compose.yml",
    adminserverEnv: "common/templates/adminserver/env",
    uiEnv: "common/templates/ui/env",
    nginxHttp: "common/templates/nginx/nginx.http.conf",
} as const;

/** The drain-aware check's server block, staged until prepare has emptied conf.d. */
const drainConf = "nginx/harbor-ha-health.server.conf";
/** What the https template has and the http one lacks (1.1-1.5 alike). */
const serverInclude = "include /etc/nginx/conf.d/*.server.conf;";

/** The port Harbor's nginx serves clients on inside its container (nginx.https.conf / nginx.http.conf). */
function proxyContainerPort(protocol: "http" | "https"): number {
    return protocol === "https" ? 443 : 80;
}

/** Harbor's own server, seen from inside its proxy container. */
function frontDoor(protocol: "http" | "https"): string {
    return `${protocol}://127.0.0.1:${proxyContainerPort(protocol)}`;
}

/** The load balancer's check on its own port: the registry through the front door, then the ui's health. */
export function checkServerConf(healthPort: number, protocol: "http" | "https"): string {
    return drainServer(healthPort, registryThenUiLocations(frontDoor(protocol), "ui", "/api/systeminfo"));
}

/** Where prepare leaves the token keypair (it rewrites common/config on every run). */
const tokenKeyPath = "common/config/ui/private_key.pem";
const tokenCertPath = "common/config/registry/root.crt";

/**
 * Every 1.x prepare is `#!/usr/bin/python` with Python 2 syntax or calls (0600 literals in 1.1/1.2,
 * string.strip in 1.4/1.5); 1.3's also runs on Python 3 up to 3.11 (3.12 removed readfp).
 */
function python(minor: number): PythonRequirement {
    const py27 = { major: 2, minMinor: 7, maxMinor: 7 };
    return minor === 3
        ? { accepts: [py27, { major: 3, minMinor: 0, maxMinor: 11 }], candidates: ["python2.7", "python2", "python", "python3"], shebang: "#!/usr/bin/python" }
        : { accepts: [py27], candidates: ["python2.7", "python2", "python"], shebang: "#!/usr/bin/python" };
}

export function harborV1(version: string, minor: number): Flavor {
    const keys: V1Keys = { cfgHasDbHost: minor >= 3, cfgHasRedisUrl: minor >= 4, redisUrlForm: minor >= 5 ? "url" : "comma", jsonConfigStore: minor <= 3 };
    // Only 1.5 ships a redis container (sessions and jobs); the external Redis replaces it.
    const replacedServices = minor >= 5 ? ["mysql", "redis"] : ["mysql"];
    const flavor: Flavor = {
        generation: 1,
        version,
        database: "mysql",
        // What Harbor 1.x's install.sh asks for.
        minDocker: "1.10.0",
        minCompose: "1.6.0",
        ports: (port, _protocol, healthPort) => [port, healthPort],
        drainCheck: (_port, _protocol, healthPort) => ({ port: healthPort, tls: false, path: drainCheckPath }),
        installerFiles: Object.values(files),
        imageArchive: /^harbor\.v[0-9][0-9A-Za-z.-]*\.tar\.gz$/,
        python: python(minor),
        // Encrypts settings stored in the shared database and config store (adminserver, replication targets).
        sharedSecrets: [{ name: "secretkey", length: 16 }],
        // /api/systeminfo exists in every 1.x and asks the adminserver on each call; 1.5's /api/ping
        // answers without checking anything. Neither covers the registry: the ready check does.
        health: { path: "/api/systeminfo", expect: "registry_url", ready: readyCheckPath },
        // The registry (Distribution 2.6.2 at every 1.x) checks the tokens the ui signs: 60 s of leeway.
        tokenLeeway: { seconds: 60, checkedBy: "the registry accepts tokens up to 60 s early" },
        composeFn,
        upgradePlan: deployed => upgradePlanV1(deployed, version),
        renderNodeFiles: (installer, s, l) => renderNodeFiles(installer, s, l, keys, replacedServices),
        deployScript: (l, nodeName, e, d, cluster) => deployScript(flavor, l, nodeName, e, d, cluster),
    };
    return flavor;
}

/**
 * Within 1.x a new installer redeploys every node. Between minor versions Harbor 1.x needs its
 * migrator run on the database first (not done by harbor-ha), and 1.x and 2.x never share a cluster.
 */
function upgradePlanV1(deployed: string | undefined, version: string): UpgradePlan {
    if (deployed === undefined || deployed === "") return { kind: "new", message: `Harbor ${version}: a new cluster` };
    if (!deployed.startsWith("1.")) {
        throw new Error(`harbor-ha:harborVersion: the cluster runs Harbor ${deployed}; it cannot go back to ${version} (Harbor migrates its schema up only)`);
    }
    if (deployed === version) return { kind: "unchanged", message: `Harbor ${version}: no version change` };
    const minorChange = deployed.split(".")[1] !== version.split(".")[1];
    return {
        kind: "node-by-node",
        message: `Harbor ${deployed} -> ${version}: every node redeploys` +
            (minorChange ? "; between 1.x minor versions run Harbor's migrator on the database first (its upgrade guide)" : ""),
    };
}

function renderNodeFiles(installer: Readonly<Record<string, string>>, s: NodeSettings, l: NodeLayout, k: V1Keys, dropServices: string[]): BundleFile[] {
    const read = (p: string) => {
        const text = installer[p];
        if (text === undefined) throw new Error(`the installer has no ${p}`);
        return text;
    };
    return [
        { path: files.harborCfg, mode: "0600", content: renderHarborCfg(read(files.harborCfg), k, s) },
        {
            path: files.compose, mode: "0644", content: transformCompose(read(files.compose), {
                dataVolumePrefix: "/data", dataPath: l.dataPath, dropServices,
                // RESET=true reloads every setting from the node's env at each start, so no node needs another's copy.
                nodeLocal: k.jsonConfigStore ? { "/data/config": adminserverConfigDir(l.installDir) } : undefined,
                proxyService: "proxy", proxyPorts: [`${l.port}:${proxyContainerPort(s.protocol)}`, `${l.healthPort}:${l.healthPort}`],
            }),
        },
        { path: files.nginxHttp, mode: "0644", content: withServerInclude(read(files.nginxHttp)) },
        { path: `${stageDir}/${drainConf}`, mode: "0644", content: checkServerConf(l.healthPort, s.protocol) },
        { path: files.adminserverEnv, mode: "0600", content: renderAdminserverEnv(read(files.adminserverEnv), s) },
        { path: files.uiEnv, mode: "0600", content: renderUiEnv(read(files.uiEnv), s) },
        { path: `${stageDir}/${staged.tokenKey}`, mode: "0600", content: s.tokenPrivateKeyPem },
        { path: `${stageDir}/${staged.tokenCert}`, mode: "0644", content: s.tokenCertificatePem },
        { path: `${stageDir}/${staged.secretKey}`, mode: "0600", content: s.shared.secretkey },
    ];
}

/** Where a 1.1-1.3 node keeps the adminserver's config.json (see V1Keys.jsonConfigStore). */
export function adminserverConfigDir(installDir: string): string {
    return `${installDir.replace(/\/+$/, "")}/node-local/config`;
}

/**
 * The http template gets the https one's include of conf.d/*.server.conf (where the drain-aware
 * check lives), before its first server block, inside http { }.
 */
export function withServerInclude(template: string): string {
    if (template.includes(serverInclude)) return template;
    const m = /^([ \t]*)server\s*\{/m.exec(template);
    if (!m) throw new Error(`${files.nginxHttp} has no server block: not the Harbor 1.x layout this flavor knows`);
    return `${template.slice(0, m.index)}${m[1]}${serverInclude}\n\n${template.slice(m.index)}`;
}

/**
 * Seed steps 2-5 on a node: write the rendered files, run prepare with the Python it needs, and only
 * AFTER it install the shared keypair (prepare rewrites common/config on every run and would put the
 * installer's own, public, keypair there); then start and wait until the node answers.
 */
function deployScript(f: Flavor, l: NodeLayout, nodeName: string, e: ClientEndpoint, d: DrainSettings, cluster: string): RemoteScript {
    const py = f.python!;
    return remoteScript(`deploy Harbor ${f.version} on ${nodeName}`, `
dir=${q(l.installDir)}
data=${q(l.dataPath)}
node_name=${q(nodeName)}
stage="$dir/${stageDir}"
log="$stage/deploy.log"
[ -f "$dir/prepare" ] || { echo "${nodeName}: no installer in $dir (prepare missing)" >&2; exit 1; }
mountpoint -q ${q(l.mountPoint)} || { echo "${nodeName}: CephFS is not mounted at ${l.mountPoint}" >&2; exit 1; }
read -r python python_version < <(find_python) || { echo ${sq(`${nodeName}: ${missingPythonMessage(py, `Harbor ${f.version}`)}`)} >&2; exit 1; }
mkdir -p "$stage"
read_bundle "$dir"
# One secretkey for the whole cluster, on shared storage. It encrypts settings stored with the data,
# so a key already there (e.g. after pulumi destroy and a new up) belongs to that data and is kept.
mkdir -p "$data"
if [ ! -s "$data/secretkey" ]; then
  install -m 0600 "$stage/${staged.secretKey}" "$data/secretkey.harbor-ha.$$"
  mv -n "$data/secretkey.harbor-ha.$$" "$data/secretkey" 2>/dev/null || true
  rm -f "$data/secretkey.harbor-ha.$$"
fi
[ "$(wc -c <"$data/secretkey")" = 16 ] || { echo "${nodeName}: $data/secretkey is not 16 bytes; Harbor cannot use it" >&2; exit 1; }
cd "$dir"
: >"$log"
fail() { echo "${nodeName}: $1 failed; last lines of $log:" >&2; tail -n 20 "$log" >&2; exit 1; }
echo "prepare: $python ($python_version)" >>"$log"
"$python" ./prepare >>"$log" 2>&1 || fail "prepare ($python)"
install -m 0600 "$stage/${staged.tokenKey}" ${q(tokenKeyPath)}
install -m 0644 "$stage/${staged.tokenCert}" ${q(tokenCertPath)}
install -D -m 0644 "$stage/${drainConf}" ${q(`${nginxConfD}/${drainConf.split("/").pop()}`)}
# nginx's workers run unprivileged (no user directive) and test the drain flag's path themselves: the
# directories prepare made under this script's umask must be searchable.
chmod 0755 common/config/nginx ${q(nginxConfD)}
# Out of the load balancer before anything restarts; back in only once healthy.
drain_node
# Recreate every container: each must read the new config and keys (a bind-mounted file keeps its
# old inode), and the proxy resolves the others' addresses only when it starts.
compose up -d --force-recreate >>"$log" 2>&1 || fail "docker-compose up"
${waitHealthyScript(f.health, l.port, nodeName, e, 180, l.healthPort)}
${installBootUnitScript(l.installDir, l.mountPoint, f.composeFn)}
${writeRecordScript({ version: f.version, schema: undefined, cluster })}
undrain_node
# In service again: a node waiting to go out may go now (render/scripts/serviceGuard.ts).
set_service_state in
echo "$healthy"
`, [readBundleFn, f.composeFn, findPythonFn(py), drainFns(d, true), serviceGuardFns(guardSpec(f, l, e))]);
}
