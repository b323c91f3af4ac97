// Node preflight (the seed's disk-pressure lesson): measure everything, change nothing, and fail
// with one message listing each failed check, its measured value and its threshold.
import { describePython, PythonRequirement } from "../flavors/flavor";
import { timeSyncReport } from "./clock";
import { findPythonFn, missingPythonMessage } from "./python";
import { recordFieldFn, recordFile } from "./record";
import { q, remoteScript, RemoteScript, sq } from "./shell";

export interface Endpoint {
    /** e.g. "mysql", "redis", "ceph-mon-1". */
    name: string;
    host: string;
    port: number;
}

export interface PreflightSpec {
    nodeName: string;
    /** Kubelet-like eviction thresholds: nodefs.available<10%, nodefs.inodesFree<5%. */
    minFreeSpacePercent: number;
    minFreeInodesPercent: number;
    /** Ports this Harbor publishes on the node. */
    ports: number[];
    /** What the Harbor version needs (its install.sh / installation prerequisites). */
    minDocker: string;
    minCompose: string;
    /** Which compose the deploy uses first: the plugin (Harbor 2.x) or docker-compose (1.x). */
    composeFirst: "plugin" | "standalone";
    /** docker-compose project name of this node's Harbor (the install directory's name). */
    composeProject: string;
    endpoints: Endpoint[];
    /** "Harbor 1.2.2", for messages. */
    harbor: string;
    /** The Python the installer's prepare needs, when it is a Python program. */
    python?: PythonRequirement;
    /** Which stack may have deployed the node: its record (render/scripts/record.ts) must name it, or none. */
    owner?: OwnerCheck;
    /** Refuse a node whose time service does not say its clock is synchronized. */
    requireTimeSync: boolean;
}

export interface OwnerCheck {
    installDir: string;
    /** This stack's cluster ID. */
    cluster: string;
    /** harbor-ha:adoptCluster: another stack's cluster ID, whose nodes this stack may take over. */
    adopt?: string;
}

/**
 * A node another stack deployed runs that stack's secrets (token keypair, secretkey, passwords):
 * deploying this stack's over them would leave the nodes on different secrets while it rolls, and
 * what Harbor stored encrypted with the old secretkey unreadable after.
 */
function ownerCheck(o: OwnerCheck): string {
    const want = `this stack's cluster ${o.cluster} or none`;
    const deployed = " deployed this node from another stack, whose secrets (token keypair, secretkey, passwords) this stack does not have. " +
        "Run pulumi up on that stack, or restore its state (pulumi stack import). To take the nodes over with this stack's own secrets instead " +
        "(everyone logs in again, and what Harbor stored encrypted with the old secretkey, such as replication endpoints' passwords, must be entered again), " +
        "set harbor-ha:adoptCluster to ";
    return `
rec=${q(o.installDir.replace(/\/+$/, ""))}/${q(recordFile)}
if [ ! -f "$rec" ]; then
  report "deployed by" "no harbor-ha deployment" ${sq(want)} ok
else
  theirs=$(record_field cluster)
  if [ -z "$theirs" ]; then
    report "deployed by" "a harbor-ha that recorded no stack" ${sq(want)} ok
  elif [ "$theirs" = ${q(o.cluster)} ]; then
    report "deployed by" "this stack" ${sq(want)} ok${o.adopt ? `
  elif [ "$theirs" = ${q(o.adopt)} ]; then
    report "deployed by" "cluster $theirs, taken over (harbor-ha:adoptCluster)" ${sq(want)} ok` : ""}
  else
    report "deployed by" "cluster $theirs, another stack" ${sq(want)} FAIL
    hints+=("cluster $theirs"${sq(deployed)}"$theirs")
  fi
fi
`;
}

export interface PreflightResult {
    check: string;
    value: string;
    threshold: string;
    ok: boolean;
}

export function preflightScript(s: PreflightSpec): RemoteScript {
    const reach = s.endpoints.map(e => `check_reach ${q(e.name)} ${q(e.host)} ${e.port}`).join("\n");
    const plugin = "v=$(docker compose version --short 2>/dev/null)";
    const standalone = "v=$(docker-compose version --short 2>/dev/null)";
    const composeProbe = s.composeFirst === "plugin" ? `${plugin} || ${standalone}` : `${standalone} || ${plugin}`;
    const python = s.python ? `
if read -r py py_version < <(find_python); then
  report "prepare interpreter" "$py (Python $py_version)" ${sq(`${describePython(s.python)} (${s.harbor}'s prepare)`)} ok
else
  report "prepare interpreter" "none" ${sq(`${describePython(s.python)} (${s.harbor}'s prepare)`)} FAIL
  hints+=(${sq(missingPythonMessage(s.python, s.harbor))})
fi
` : "";
    return remoteScript(`preflight of ${s.nodeName} - changes nothing`, `
node=${q(s.nodeName)}
failed=()
hints=()
report() { # check value threshold ok
  printf 'preflight\\t%s\\t%s\\t%s\\t%s\\n' "$1" "$2" "$3" "$4"
  [ "$4" = ok ] || failed+=("$1 is $2 (threshold $3)")
}
version_at_least() { [ "$(printf '%s\\n%s\\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]; }

arch=$(uname -m)
os=$( (. /etc/os-release 2>/dev/null && echo "$ID $VERSION_ID") || uname -s)
[ "$(uname -s)" = Linux ] && [ "$arch" = x86_64 ] && ok=ok || ok=FAIL
report os "$os $arch" "Linux x86_64 (Harbor's images are amd64)" $ok

docker_root=""
if v=$(docker version --format '{{.Server.Version}}' 2>/dev/null) && [ -n "$v" ]; then
  version_at_least "$v" ${s.minDocker} && ok=ok || ok=FAIL
  report docker "$v" ">= ${s.minDocker}" $ok
  docker_root=$(docker info --format '{{.DockerRootDir}}' 2>/dev/null || true)
else
  report docker "not running or not installed" ">= ${s.minDocker}" FAIL
fi
if ${composeProbe}; then
  v=\${v#v}
  version_at_least "$v" ${s.minCompose} && ok=ok || ok=FAIL
  report compose "$v" ">= ${s.minCompose}" $ok
else
  report compose "not installed" ">= ${s.minCompose}" FAIL
fi

check_disk() { # label path
  local size avail itotal ifree
  read -r size avail < <(df -P -B1 "$2" | awk 'NR == 2 {print $2, $4}')
  if [ "\${size:-0}" -gt 0 ] && [ $((avail * 100)) -ge $((${s.minFreeSpacePercent} * size)) ]; then ok=ok; else ok=FAIL; fi
  report "free space on $1" "$((avail * 100 / (size > 0 ? size : 1)))% ($((avail / 1048576)) MiB free)" ">= ${s.minFreeSpacePercent}%" $ok
  read -r itotal ifree < <(df -P -i "$2" | awk 'NR == 2 {print $2, $4}')
  if [ "\${itotal:-0}" -eq 0 ]; then
    report "free inodes on $1" "not limited" ">= ${s.minFreeInodesPercent}%" ok
  else
    [ $((ifree * 100)) -ge $((${s.minFreeInodesPercent} * itotal)) ] && ok=ok || ok=FAIL
    report "free inodes on $1" "$((ifree * 100 / itotal))% ($ifree free)" ">= ${s.minFreeInodesPercent}%" $ok
  fi
}
check_disk / /
if [ -n "$docker_root" ] && [ -d "$docker_root" ]; then check_disk "docker data root $docker_root" "$docker_root"; fi

for port in ${s.ports.join(" ")}; do
  if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
    ours=$(docker ps -q --filter label=com.docker.compose.project=${q(s.composeProject)} --filter publish=$port 2>/dev/null || true)
    [ -n "$ours" ] && report "port $port" "in use by this Harbor" "free or ours" ok || report "port $port" "in use by another program" "free or ours" FAIL
  else
    report "port $port" "free" "free or ours" ok
  fi
done

check_reach() { # name host port
  if timeout 5 bash -c 'exec 3<>/dev/tcp/$1/$2' _ "$2" "$3" 2>/dev/null; then
    report "reach $1" "$2:$3 answers" "TCP connect within 5s" ok
  else
    report "reach $1" "$2:$3 unreachable" "TCP connect within 5s" FAIL
  fi
}
${reach}
${timeSyncReport(s.requireTimeSync)}
${python}${s.owner ? ownerCheck(s.owner) : ""}
if [ \${#failed[@]} -gt 0 ]; then
  msg="node $node failed preflight, nothing was changed on it:"
  for f in "\${failed[@]}"; do msg="$msg
  - $f"; done
  for h in \${hints[@]+"\${hints[@]}"}; do msg="$msg
  $h"; done
  echo "$msg" >&2
  exit 1
fi
echo "preflight: $node passed"
`, [...(s.python ? [findPythonFn(s.python)] : []), ...(s.owner ? [recordFieldFn] : [])]);
}

/** The report lines of the preflight's stdout, for the stack output. */
export function parsePreflightReport(stdout: string): PreflightResult[] {
    return stdout.split("\n").filter(l => l.startsWith("preflight\t")).map(l => {
        const [, check, value, threshold, ok] = l.split("\t");
        return { check, value, threshold, ok: ok === "ok" };
    });
}
