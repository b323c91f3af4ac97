// What every Harbor generation does the same way on a node: unpack the installer and load its
// images, stop Harbor on destroy. The deploy itself belongs to the flavor (render/flavors/).
import { ClientEndpoint, HealthCheck, NodeLayout } from "../flavors/flavor";
import { removeBootUnitScript } from "./boot";
import { stageDir, staged } from "./stage";
import { drainFns, DrainSettings } from "./drain";
import { recordFile, runsSchemaFn } from "./record";
import { composeFn, inlineScript, q, remoteScript, RemoteScript } from "./shell";

export { stageDir, staged } from "./stage";

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

/** docker-compose's project name for an install directory (v1 keeps only [a-z0-9]). */
export function composeProjectName(installDir: string): string {
    return installDir.replace(/\/+$/, "").split("/").pop()!.toLowerCase().replace(/[^a-z0-9]/g, "");
}

/**
 * Stops Harbor on the node; data on CephFS and in the database is kept. With drain settings the node
 * first leaves the load balancer and finishes what it serves (a replaced deploy, a destroy).
 */
export function stopScript(installDir: string, nodeName: string, drain?: DrainSettings, unlessSchema?: string): string {
    const project = composeProjectName(installDir);
    // UpgradeStop: a node whose record says it runs the target schema already has nothing to stop.
    const skip = unlessSchema === undefined ? "" : `
if runs_schema ${q(unlessSchema)}; then echo "${nodeName}: runs schema ${unlessSchema} already; nothing to stop"; exit 0; fi`;
    return inlineScript(`stop Harbor on ${nodeName} (data kept)`, `
dir=${q(installDir)}
node_name=${q(nodeName)}${skip}
${removeBootUnitScript}
if [ -f "$dir/docker-compose.yml" ]; then
  cd "$dir"${drain ? "\n  drain_node" : ""}
  if ! compose down; then
    # A container that will not stop (e.g. after an unclean restart) must not block a destroy.
    echo "${nodeName}: docker-compose down failed; removing the ${project} containers directly" >&2
    ids=$(docker ps -aq --filter label=com.docker.compose.project=${project})
    [ -z "$ids" ] || docker rm -f $ids >/dev/null
    compose down
  fi
fi
# It runs nothing now: a later stack with no record of the cluster may deploy here (render/scripts/record.ts).
rm -f "$dir"/${q(recordFile)}
echo "${nodeName}: Harbor stopped; data kept"
`, [composeFn, ...(drain ? [drainFns(drain)] : []), ...(unlessSchema === undefined ? [] : [runsSchemaFn])]);
}

/**
 * The end of a deploy: waits until the node answers its health check the way clients ask (over
 * https by the domain, resolved to the node itself, the cluster CA checked) and, where the flavor
 * has one, its ready check on the check port; leaves the status line in $healthy. Uses the deploy's $stage, $log, compose and fail.
 */
export function waitHealthyScript(h: HealthCheck, port: number, nodeName: string, e: ClientEndpoint, seconds: number, checkPort: number): string {
    const url = e.protocol === "https" ? `https://${e.domain}:${port}${h.path}` : `http://127.0.0.1:${port}${h.path}`;
    const curlTls = e.protocol === "https" ? ` --cacert "$stage/${staged.tlsCa}" --resolve ${q(`${e.domain}:${port}:127.0.0.1`)}` : "";
    const ready = h.ready ? ` && curl -fsS -m 5 -o /dev/null ${q(`http://127.0.0.1:${checkPort}${h.ready}`)} 2>/dev/null` : "";
    const paths = h.ready ? `${h.path}, ${h.ready}` : h.path;
    // Asked every second: a node is in service as soon as it answers.
    return `healthy=""
for i in $(seq 1 ${seconds}); do
  if body=$(curl -fsS -m 5${curlTls} ${q(url)} 2>/dev/null) && grep -qF ${q(h.expect)} <<<"$body"${h.refuse ? ` && ! grep -qF ${q(h.refuse)} <<<"$body"` : ""}${ready}; then
    healthy="${nodeName}: healthy (${paths}), deployed in \${SECONDS}s"
    break
  fi
  sleep 1
done
if [ -z "$healthy" ]; then
  compose ps >>"$log" 2>&1 || true
  fail "health check ${url}${h.ready ? ` and http://127.0.0.1:${checkPort}${h.ready}` : ""}"
fi`;
}
