// Docker's data on a data disk (the seed's third article): daemon.json "data-root", merged with the
// keys already there by a JSON parser on the node, then drain, stop, copy, start, verify, Harbor
// back, undrain. HarborCluster chains the nodes' moves so one node is out at a time.
import { ClientEndpoint, HealthCheck } from "../flavors/flavor";
import { bootUnit, sysrootLine } from "./boot";
import { drainFns, DrainSettings } from "./drain";
import { stageDir, waitHealthyScript } from "./harborNode";
import { GuardSpec, serviceGuardFns } from "./serviceGuard";
import { inlineScript, q, remoteScript, RemoteScript } from "./shell";

/**
 * Sets (or, with an empty value, removes) "data-root" in a daemon.json, keeping every other key in
 * its order. Python 2 and 3 both run it: Harbor 1.x's prepare already needs Python on the node.
 * Usage: python3 - DAEMON_JSON DATA_ROOT; the merged document goes to stdout.
 */
export const daemonJsonMergePy = `import json, sys
from collections import OrderedDict
path, root = sys.argv[1], sys.argv[2]
try:
    with open(path) as f:
        text = f.read()
except IOError:
    text = ""
try:
    doc = json.loads(text, object_pairs_hook=OrderedDict) if text.strip() else OrderedDict()
except ValueError as e:
    sys.stderr.write("%s is not valid JSON (%s); fix or remove it - nothing was changed\\n" % (path, e))
    sys.exit(2)
if not isinstance(doc, dict):
    sys.stderr.write("%s must hold a JSON object - nothing was changed\\n" % path)
    sys.exit(2)
doc.pop("graph", None)  # the pre-17.05 name of data-root; dockerd refuses both at once
if root:
    doc["data-root"] = root
else:
    doc.pop("data-root", None)
sys.stdout.write(json.dumps(doc, indent=2, separators=(",", ": ")) + "\\n")
`;

const dockerServiceFn = `docker_service() { # start|stop
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    if [ "$1" = stop ]; then systemctl stop docker.socket docker; else systemctl start docker; fi
  else
    service docker "$1"
  fi
}
wait_docker() { for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && return 0; sleep 1; done; return 1; }`;

/** The node's Harbor, which goes down with Docker: what the move needs to drain it and bring it back. */
export interface HarborOnNode {
    installDir: string;
    port: number;
    /** The load balancer's check port (the flavor's ready check is asked there). */
    checkPort: number;
    endpoint: ClientEndpoint;
    health: HealthCheck;
    drain: DrainSettings;
    /** The generation's `compose` shell function (Flavor.composeFn). */
    composeFn: string;
    /** How the node waits for the others to be in service before it goes out (flavor.ts guardSpec). */
    guard: GuardSpec;
}

/** Where Docker reads its settings; a parameter only so that tests can run the move in a sandbox. */
export const daemonJsonPath = "/etc/docker/daemon.json";

function dataRootBody(nodeName: string, target: string, h: HarborOnNode, conf: string): string {
    return `
conf=${q(conf)}
want=${q(target)}
dir=${q(h.installDir)}
node_name=${q(nodeName)}
stage="$dir/${stageDir}"
log="$stage/docker-data-root.log"
# Set while this step has the node out of the load balancer: a run that stopped half-way (Docker
# moved, Harbor not back) is finished by the next run, which finds the data root already moved.
moving="$stage/docker-data-root.moving"
fail() { echo "${nodeName}: $1 failed; last lines of $log:" >&2; tail -n 20 "$log" >&2; exit 1; }
# Docker starts Harbor's containers in no order and those logging through the log service fail
# (render/scripts/boot.ts): the boot unit's script starts them in order, then the node must answer
# before it goes back into the load balancer.
harbor_back() {
  [ -f "$moving" ] || return 0
  cd "$dir"
  ${sysrootLine}
  if [ -x "$sysroot"${q(bootUnit.script)} ] && [ -f docker-compose.yml ]; then
    "$sysroot"${q(bootUnit.script)} "$dir" >>"$log" 2>&1 || fail ${q(bootUnit.script)}
    ${waitHealthyScript(h.health, h.port, nodeName, h.endpoint, 240, h.checkPort).split("\n").join("\n    ")}
    echo "\${healthy%%, deployed*} again after the move"
  fi
  undrain_node
  set_service_state in
  rm -f "$moving"
}
current=$(docker info --format '{{.DockerRootDir}}')
dest=\${want:-/var/lib/docker}
if [ "$current" = "$dest" ]; then
  harbor_back
  echo "docker: data root of ${nodeName} is already $dest"
  exit 0
fi
command -v python3 >/dev/null 2>&1 && py=python3 || py=python
# Merge first: a malformed daemon.json stops here, before Docker is touched.
merged=$($py - "$conf" "$want" <<'PY'
${daemonJsonMergePy}PY
) || { echo "${nodeName}: cannot merge $conf" >&2; exit 1; }
images=$(docker images -aq | sort -u | wc -l)
containers=$(docker ps -aq | wc -l)
# Harbor stops with Docker: out of the load balancer first, its requests in flight finished, and
# only once every other node is in service (render/scripts/serviceGuard.ts): the plan orders the
# moves, the nodes hold it when the plan is wrong. A node list comes with the first deploy of a
# harbor-ha that has the guard; a node deployed before that has the plan's order only.
if [ -f "$dir/docker-compose.yml" ]; then
  cd "$dir"
  if proxy_running && ! drained && [ ! -f "$service_peers" ]; then
    echo "$node_name: no node list at $service_peers yet (deployed by an older harbor-ha): the plan's order only"
    mark_drained
  fi
  drain_node
  mkdir -p "$stage"
  : >"$log"
  touch "$moving"
  cd /
fi
[ -f "$conf" ] && cp -p "$conf" "$conf.harbor-ha.bak"
mkdir -p "$dest"
docker_service stop
if command -v rsync >/dev/null 2>&1; then rsync -aHS --numeric-ids "$current"/ "$dest"/; else cp -a "$current"/. "$dest"/; fi
mkdir -p /etc/docker
printf '%s\\n' "$merged" >"$conf.tmp" && chmod 0644 "$conf.tmp" && mv -f "$conf.tmp" "$conf"
restore() {
  echo "${nodeName}: $1; daemon.json restored, data left in $current" >&2
  if [ -f "$conf.harbor-ha.bak" ]; then mv -f "$conf.harbor-ha.bak" "$conf"; else rm -f "$conf"; fi
  docker_service stop || true; docker_service start || true
  wait_docker && harbor_back
  exit 1
}
docker_service start || restore "docker did not start"
wait_docker || restore "docker did not come back"
[ "$(docker info --format '{{.DockerRootDir}}')" = "$dest" ] || restore "docker does not use $dest"
[ "$(docker images -aq | sort -u | wc -l)" = "$images" ] || restore "image count changed"
[ "$(docker ps -aq | wc -l)" = "$containers" ] || restore "container count changed"
# Verified: the old copy goes, which is what frees the small disk (the directory itself may be a mount).
find "$current" -mindepth 1 -maxdepth 1 -exec rm -rf --one-file-system {} +
rm -f "$conf.harbor-ha.bak"
echo "docker: data root of ${nodeName} moved from $current to $dest ($images images, $containers containers)"
harbor_back
`;
}

/**
 * Moves Docker's data root to target; a re-run is a no-op. A node that runs Harbor goes out of the
 * load balancer only once every other node is in service, and back in only once healthy again.
 */
export function dockerDataRootScript(nodeName: string, target: string, harbor: HarborOnNode, conf = daemonJsonPath): RemoteScript {
    return remoteScript(`Docker data root on ${nodeName}`, dataRootBody(nodeName, target, harbor, conf),
        [dockerServiceFn, harbor.composeFn, drainFns(harbor.drain, true), serviceGuardFns(harbor.guard)]);
}

/**
 * For delete: Docker's data stays where it is. Moving it back would put it on the root disk the
 * move was for (the seed's third article: a full root disk), and stop Docker on the node.
 */
export function dockerDataRootKeepScript(nodeName: string): string {
    return inlineScript(`Docker data root of ${nodeName} left as it is`, `
echo "docker: data root of ${nodeName} left at $(docker info --format '{{.DockerRootDir}}' 2>/dev/null || echo 'its place'); harbor-ha never moves Docker's data back"
`);
}
