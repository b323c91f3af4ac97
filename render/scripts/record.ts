// What a node runs, written on the node by every deploy: the stack's harborVersion output is the
// plan's memory, and when it is missing (a new stack on a running cluster, an edited state) the
// plan would take the cluster for a new one. The nodes' own records then say what runs: a new stack
// refuses before it changes anything, and UpgradeStop stops only nodes on another schema.
import { stageDir } from "./stage";
import { q, remoteScript, RemoteScript, sq } from "./shell";

/** Relative to the install directory. */
export const recordFile = `${stageDir}/deployed`;

/** What a deploy records once its node is healthy. */
export interface DeploymentRecord {
    version: string;
    /** Harbor 2.x: the database schema that version runs (v2Releases.ts). */
    schema?: string;
    /** The stack's cluster ID (a RandomId kept in its state): which stack deployed the node. */
    cluster: string;
}

/** Deploy-script lines (where put_file and $dir are defined): the record, written after the node is healthy. */
export function writeRecordScript(r: DeploymentRecord): string {
    return `put_file "$dir"/${q(recordFile)} 0644 <<'HARBOR_HA_RECORD'
# harbor-ha: what this node runs (read when a stack has no record of the cluster, and by UpgradeStop)
version=${r.version}
schema=${r.schema ?? ""}
cluster=${r.cluster}
HARBOR_HA_RECORD`;
}

/** record_field KEY: the value of KEY in the node's record ($rec), empty when absent. */
const recordFieldFn = `record_field() { awk -v k="$1" 'index($0, k "=") == 1 { print substr($0, length(k) + 2); exit }' "$rec"; }`;

export interface SurveySpec {
    nodeName: string;
    installDir: string;
    composeProject: string;
    /** This stack's cluster ID. */
    cluster: string;
    /** The version this update deploys. */
    version: string;
}

/**
 * Run on every node when the stack has no record of a deployment, before anything changes: a node
 * that already runs Harbor stops the update, unless it is this stack's own earlier (failed) update
 * of the same version, which the new-cluster order repairs.
 */
export function surveyScript(s: SurveySpec): RemoteScript {
    const fix = `Nothing was changed. If this stack is to manage that cluster, tell it what the nodes run: ` +
        `pulumi config set harbor-ha:deployedHarborVersion <version>, then pulumi up again (the upgrade plan starts from it). ` +
        `A new cluster needs nodes without Harbor.`;
    return remoteScript(`what ${s.nodeName} runs - changes nothing`, `
node=${q(s.nodeName)}
dir=${q(s.installDir)}
rec="$dir"/${q(recordFile)}
refuse() {
  echo "$node: $1, but this stack has no record of a deployment (its harborVersion output is missing: a new stack, or an edited state). "${sq(fix)} >&2
  exit 1
}
if [ -f "$rec" ]; then
  version=$(record_field version)
  if [ "$(record_field cluster)" = ${q(s.cluster)} ] && [ "$version" = ${q(s.version)} ]; then
    echo "survey: $node runs Harbor $version from an earlier update of this stack"
    exit 0
  fi
  refuse "already runs Harbor $version (deployed by harbor-ha$([ "$(record_field cluster)" = ${q(s.cluster)} ] || echo ', another stack or this one before its state was lost'))"
fi
running=$(docker ps -q --filter label=com.docker.compose.project=${q(s.composeProject)} 2>/dev/null | wc -l)
[ "$running" = 0 ] || refuse "already runs a Harbor in $dir ($running containers) that harbor-ha has no record of (set up by hand, or by a harbor-ha older than its records)"
echo "survey: $node runs no Harbor yet"
`, [recordFieldFn]);
}

/**
 * UpgradeStop's test (where $dir is defined): true when the node's record says it runs the target
 * schema already, so there is nothing to stop. No record: it may run anything, so it stops.
 */
export function runsSchemaFn(): string {
    return `${recordFieldFn}
runs_schema() { # SCHEMA
  rec="$dir"/${q(recordFile)}
  [ -f "$rec" ] && [ "$(record_field schema)" = "$1" ]
}`;
}
