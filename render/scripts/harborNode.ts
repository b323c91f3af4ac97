// Seed steps 2-5 on a node: unpack the installer, write the rendered files, prepare, install the
// shared keys, start, and wait until the node answers.
import { Flavor } from "../flavor";
import { composeFn, inlineScript, q, readBundleFn, remoteScript, RemoteScript } from "./shell";

export interface NodeLayout {
    installDir: string;
    /** Where CopyToRemote puts the installer archive. */
    archivePath: string;
    mountPoint: string;
    dataPath: string;
    port: number;
}

/** Files the deploy step keeps outside the installer tree until prepare has run. */
export const stageDir = ".harbor-ha";
export const staged = {
    tokenKey: "token/private_key.pem", tokenCert: "token/root.crt", secretKey: "secretkey",
    tlsCert: "tls/server.crt", tlsKey: "tls/server.key", tlsCa: "tls/ca.crt",
} as const;

/** How clients reach the registry: the node's health check asks the same way. */
export interface ClientEndpoint {
    protocol: "http" | "https";
    domain: string;
}

export function installerArchivePath(installDir: string): string {
    return `${installDir.replace(/\/+$/, "")}-installer.tgz`;
}

/** Unpacks a new installer and loads its images; a re-run with the same archive does nothing. */
export function unpackInstallerScript(l: NodeLayout, sha256: string, imageArchive: string): RemoteScript {
    return remoteScript("unpack the Harbor installer", `
dir=${q(l.installDir)}
archive=${q(l.archivePath)}
sha=${q(sha256)}
marker="$dir/${stageDir}/installer.sha256"
if [ -f "$marker" ] && [ "$(cat "$marker")" = "$sha" ]; then
  echo "installer: $sha already unpacked in $dir"
  exit 0
fi
echo "$sha  $archive" | sha256sum -c --quiet - || { echo "installer archive $archive does not match sha256 $sha" >&2; exit 1; }
command -v docker >/dev/null 2>&1 || { echo "docker is not installed on this node" >&2; exit 1; }
parent=$(dirname "$dir")
mkdir -p "$parent"
tmp=$(mktemp -d "$dir.unpack.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$archive" -C "$tmp" --strip-components=1 --no-same-owner
docker load -i "$tmp"/${q(imageArchive)} >/dev/null
mkdir -p "$dir"
cp -a "$tmp"/. "$dir"/
mkdir -p "$dir/${stageDir}"
printf '%s\\n' "$sha" >"$marker"
echo "installer: $sha unpacked in $dir, images loaded"
`);
}

/**
 * Writes the bundle, then runs prepare and only AFTER it installs the shared keypair: prepare
 * rewrites common/config on every run and would put the installer's own (public) keypair there.
 */
export function deployScript(f: Flavor, l: NodeLayout, nodeName: string, e: ClientEndpoint): RemoteScript {
    // Over https the node is asked by the domain (resolved to itself) and the certificate verified.
    const health = e.protocol === "https" ? `https://${e.domain}:${l.port}${f.health.path}` : `http://127.0.0.1:${l.port}${f.health.path}`;
    const curlTls = e.protocol === "https" ? ` --cacert "$stage/${staged.tlsCa}" --resolve ${q(`${e.domain}:${l.port}:127.0.0.1`)}` : "";
    return remoteScript(`deploy Harbor ${f.version} on ${nodeName}`, `
dir=${q(l.installDir)}
data=${q(l.dataPath)}
stage="$dir/${stageDir}"
log="$stage/deploy.log"
[ -x "$dir/prepare" ] || { echo "${nodeName}: no installer in $dir (prepare missing)" >&2; exit 1; }
mountpoint -q ${q(l.mountPoint)} || { echo "${nodeName}: CephFS is not mounted at ${l.mountPoint}" >&2; exit 1; }
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
./prepare >>"$log" 2>&1 || fail prepare
install -m 0600 "$stage/${staged.tokenKey}" ${q(f.tokenKeyPath)}
install -m 0644 "$stage/${staged.tokenCert}" ${q(f.tokenCertPath)}
# Recreate so every container reads the new config and keys (a bind-mounted file keeps its old inode).
compose up -d --force-recreate >>"$log" 2>&1 || fail "docker-compose up"
for i in $(seq 1 90); do
  if body=$(curl -fsS -m 5${curlTls} ${q(health)} 2>/dev/null) && printf '%s' "$body" | grep -q ${q(f.health.expect)}; then
    echo "${nodeName}: healthy (${f.health.path}), deployed in \${SECONDS}s"
    exit 0
  fi
  sleep 2
done
compose ps >>"$log" 2>&1 || true
fail "health check ${health}"
`, [readBundleFn, composeFn]);
}

/** docker-compose's project name for an install directory (v1 keeps only [a-z0-9]). */
export function composeProjectName(installDir: string): string {
    return installDir.replace(/\/+$/, "").split("/").pop()!.toLowerCase().replace(/[^a-z0-9]/g, "");
}

/** Stops Harbor on the node; data on CephFS and in MySQL is kept. */
export function stopScript(l: NodeLayout, nodeName: string): string {
    const project = composeProjectName(l.installDir);
    return inlineScript(`stop Harbor on ${nodeName} (data kept)`, `
dir=${q(l.installDir)}
if [ -f "$dir/docker-compose.yml" ]; then
  cd "$dir"
  if ! compose down; then
    # A container that will not stop (e.g. after an unclean restart) must not block a destroy.
    echo "${nodeName}: docker-compose down failed; removing the ${project} containers directly" >&2
    ids=$(docker ps -aq --filter label=com.docker.compose.project=${project})
    [ -z "$ids" ] || docker rm -f $ids >/dev/null
    compose down
  fi
fi
echo "${nodeName}: Harbor stopped; data kept"
`, [composeFn]);
}
