// Harbor 2.10-2.15: harbor.yml, external PostgreSQL and Redis, a prepare that runs in a container
// and draws new secrets on every run. Sourced facts: ../shared/reference/harbor-v2-facts.md.
import { BundleFile } from "../bundle";
import { serviceGuardFns } from "../scripts/serviceGuard";
import { drainCheckPath, drainFns, drainLocation, drainReachablePath, DrainSettings, nginxConfD } from "../scripts/drain";
import { installBootUnitScript } from "../scripts/boot";
import { writeRecordScript } from "../scripts/record";
import { stageDir, staged, waitHealthyScript } from "../scripts/harborNode";
import { q, readBundleFn, remoteScript, RemoteScript } from "../scripts/shell";
import { ClientEndpoint, Flavor, guardSpec, HealthCheck, NodeLayout, NodeSettings, TokenLeeway } from "./flavor";
import { schemaVersion, upgradePlan } from "./v2Releases";
import { registryPasswd, renderHarborYml, sharedEnvLines } from "./v2Config";

const template = "harbor.yml.tmpl";
/** Staged next to the token keypair until the deploy places them. */
const sharedEnv = "shared-env";
const passwd = "registry-passwd";
/** The drain-aware check: a location in Harbor's own server, which includes conf.d/harbor.<protocol>.*.conf. */
const drainConf = "harbor-ha-health.conf";

/**
 * A node counts as up when its core reports every component healthy: core reaching the database
 * and Redis, and its registry, jobservice, registryctl and portal answering (Harbor re-checks each
 * every 10 s). /api/v2.0/health answers 200 either way, so the body decides (conformance row 49).
 */
const health: HealthCheck = { path: "/api/v2.0/health", expect: '"status":"healthy"', refuse: "unhealthy" };
/** Answers without checking anything: "Harbor's processes are up" (row 21). */
const pingPath = "/api/v2.0/ping";

/** Docker Engine > 20.10 and Compose > 2.3 (docs: installation-prereqs.md). */
const minDocker = "20.10.10";
const minCompose = "2.3.0";

/** The docker compose plugin first, as v2's install.sh does (common.sh:105-136). */
export const composeV2Fn = `compose() {
  if docker compose version >/dev/null 2>&1; then docker compose "$@"
  elif command -v docker-compose >/dev/null 2>&1; then docker-compose "$@"
  else echo "neither the docker compose plugin nor docker-compose is installed" >&2; return 1
  fi
}`;

/** Replaces KEY=... in an env file in place, so prepare's owner (10000) and mode stay. */
const setEnvFn = `# set_env FILE KEY VALUE
set_env() {
  local tmp
  tmp=$(mktemp)
  KEY="$2" VALUE="$3" awk 'BEGIN { k = ENVIRON["KEY"] "=" } index($0, k) == 1 { print k ENVIRON["VALUE"]; next } { print }' "$1" >"$tmp"
  cat "$tmp" >"$1"
  rm -f "$tmp"
}`;

/** core checks its own tokens (the registry uses htpasswd): with no leeway before 2.11 (#15911), 60 s since (#19802). */
function v2TokenLeeway(version: string): TokenLeeway {
    const minor = Number(version.split(".")[1]);
    return minor >= 11
        ? { seconds: 60, checkedBy: "core accepts tokens up to 60 s early" }
        : { seconds: 0, checkedBy: `Harbor ${version}'s core accepts no token early: any skew fails a share of logins` };
}

export function harborV2(version: string): Flavor {
    const flavor: Flavor = {
        generation: 2,
        version,
        database: "postgresql",
        installerFiles: [template],
        imageArchive: /^harbor\.v[0-9][0-9A-Za-z.-]*\.tar\.gz$/,
        minDocker, minCompose,
        // With https the proxy also publishes http.port (80), which redirects to https.
        ports: (port, protocol) => (protocol === "https" && port !== 80 ? [port, 80] : [port]),
        drainCheck: (port, protocol) => ({ port, tls: protocol === "https", path: drainCheckPath, refuse: health.refuse, reachablePath: drainReachablePath }),
        sharedSecrets: [
            // Encrypts credentials stored in the shared database (LDAP, OIDC, replication endpoints).
            { name: "secretkey", length: 16 },
            // core <-> jobservice <-> registryctl; a job run by another node's jobservice calls its core.
            { name: "coreSecret", length: 16 },
            { name: "jobserviceSecret", length: 16 },
            // gorilla/csrf: a UI token from one node must verify on the others.
            { name: "csrfKey", length: 32 },
            // core and jobservice log in to the registry with it (htpasswd).
            { name: "registryPassword", length: 32 },
            // Recognises scanner robot accounts whichever node made them.
            { name: "scannerPrefix", length: 8 },
        ],
        htpasswdOf: "registryPassword",
        health,
        tokenLeeway: v2TokenLeeway(version),
        composeFn: composeV2Fn,
        upgradePlan: (from, nodeNames) => upgradePlan(from, version, nodeNames),
        renderNodeFiles: (installer, s) => renderNodeFiles(installer, s),
        deployScript: (l, nodeName, e, d, cluster) => deployScript(flavor, l, nodeName, e, d, cluster),
    };
    return flavor;
}

function renderNodeFiles(installer: Readonly<Record<string, string>>, s: NodeSettings): BundleFile[] {
    const tmpl = installer[template];
    if (tmpl === undefined) throw new Error(`the installer has no ${template}`);
    const htpasswd = s.shared.registryHtpasswd;
    if (!htpasswd) throw new Error("the registry's htpasswd hash is missing");
    return [
        { path: "harbor.yml", mode: "0600", content: renderHarborYml(tmpl, s) },
        { path: `${stageDir}/${staged.tokenKey}`, mode: "0600", content: s.tokenPrivateKeyPem },
        { path: `${stageDir}/${staged.tokenCert}`, mode: "0644", content: s.tokenCertificatePem },
        { path: `${stageDir}/${staged.secretKey}`, mode: "0600", content: s.shared.secretkey },
        { path: `${stageDir}/${sharedEnv}`, mode: "0600", content: sharedEnvLines(s.shared) },
        { path: `${stageDir}/${passwd}`, mode: "0600", content: registryPasswd(htpasswd) },
        { path: `${stageDir}/${drainConf}`, mode: "0644", content: drainLocation("core", health.path) + drainLocation("core", pingPath, drainReachablePath) },
    ];
}

/**
 * On a node: the cluster's secretkey and token keypair go to <data_volume>/secret BEFORE prepare
 * (it keeps them when present, unlike 1.x); prepare renders common/config and docker-compose.yml
 * anew, drawing new CORE_SECRET, JOBSERVICE_SECRET, CSRF_KEY, registry password and scanner prefix,
 * so AFTER it every file that carries one gets the cluster's value; then every container is
 * recreated. Never install.sh: it runs `down -v`.
 */
function deployScript(f: Flavor, l: NodeLayout, nodeName: string, e: ClientEndpoint, d: DrainSettings, cluster: string): RemoteScript {
    return remoteScript(`deploy Harbor ${f.version} on ${nodeName}`, `
dir=${q(l.installDir)}
data=${q(l.dataPath)}
node_name=${q(nodeName)}
stage="$dir/${stageDir}"
log="$stage/deploy.log"
[ -f "$dir/prepare" ] && [ -f "$dir/${template}" ] || { echo "${nodeName}: no Harbor 2.x installer in $dir" >&2; exit 1; }
mountpoint -q ${q(l.mountPoint)} || { echo "${nodeName}: CephFS is not mounted at ${l.mountPoint}" >&2; exit 1; }
mkdir -p "$stage"
read_bundle "$dir"
fail() { echo "${nodeName}: $1 failed; last lines of $log:" >&2; tail -n 20 "$log" >&2; exit 1; }
# The cluster's secrets where prepare looks for them, on the shared data volume.
secret="$data/secret"
mkdir -p "$secret/keys" "$secret/core" "$secret/registry"
# The secretkey encrypts what is stored with the data: one already there is kept.
if [ ! -s "$secret/keys/secretkey" ]; then
  install -m 0600 "$stage/${staged.secretKey}" "$secret/keys/secretkey.harbor-ha.$$"
  mv -n "$secret/keys/secretkey.harbor-ha.$$" "$secret/keys/secretkey" 2>/dev/null || true
  rm -f "$secret/keys/secretkey.harbor-ha.$$"
fi
[ "$(wc -c <"$secret/keys/secretkey")" = 16 ] || { echo "${nodeName}: $secret/keys/secretkey is not 16 bytes; Harbor cannot use it" >&2; exit 1; }
# The stack's token keypair, both halves (prepare replaces a pair with a half missing).
place() { # place SRC DST MODE: atomically, only when it differs
  cmp -s "$1" "$2" && return 0
  install -m "$3" "$1" "$2.harbor-ha.$$" && mv -f "$2.harbor-ha.$$" "$2"
}
place "$stage/${staged.tokenKey}" "$secret/core/private_key.pem" 0600
place "$stage/${staged.tokenCert}" "$secret/registry/root.crt" 0644
cd "$dir"
: >"$log"
# Out of the load balancer before prepare: it deletes and rewrites common/config under the running
# containers (the registry reads registry/passwd on every request); back in only once healthy.
drain_node
# prepare deletes and rewrites <data_volume>/secret/cert (the proxy's copy of the certificate),
# which every node shares: two nodes' prepare at once fail each other (utils/nginx.py: rmtree, then
# makedirs). One at a time, under a lock on the shared volume (CephFS releases the lock of a node
# that dies holding it once its session is stale).
rc=0
flock -w 600 -E 75 "$data/.harbor-ha-prepare.lock" ./prepare >>"$log" 2>&1 || rc=$?
[ "$rc" != 75 ] || { echo "\${node_name}: another node held the prepare lock $data/.harbor-ha-prepare.lock for 600 s" >&2; exit 1; }
[ "$rc" = 0 ] || fail prepare
# prepare deleted the flag file a proxy started by an older harbor-ha tests.
mark_drained
# prepare drew new values: every file that carries one gets the cluster's.
while read -r file key value; do
  [ -f "$file" ] || fail "prepare wrote no $file:"
  grep -q "^$key=" "$file" || { echo "${nodeName}: $file has no $key after prepare: not the Harbor 2.x layout this flavor knows" >&2; exit 1; }
  set_env "$file" "$key" "$value"
done <"$stage/${sharedEnv}"
[ -f common/config/registry/passwd ] || fail "prepare wrote no common/config/registry/passwd:"
cat "$stage/${passwd}" >common/config/registry/passwd
install -D -m 0644 "$stage/${drainConf}" ${q(`${nginxConfD}/harbor.${e.protocol}.${drainConf}`)}
# Recreate every container: each reads the new config, and the proxy resolves the others at start.
compose up -d --force-recreate >>"$log" 2>&1 || fail "docker compose up"
${waitHealthyScript(f.health, l.port, nodeName, e, 240, l.healthPort)}
${installBootUnitScript(l.installDir, l.mountPoint, f.composeFn)}
${writeRecordScript({ version: f.version, schema: schemaVersion(f.version), cluster })}
undrain_node
# In service again: a node waiting to go out may go now (render/scripts/serviceGuard.ts).
set_service_state in
echo "$healthy"
`, [readBundleFn, f.composeFn, setEnvFn, drainFns(d, true), serviceGuardFns(guardSpec(f, l, e))]);
}
