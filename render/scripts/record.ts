// What a node runs, written on the node by every deploy (version, 2.x schema, which stack): the
// stack's harborVersion output is the plan's memory, and the nodes' records say what runs without
// it. UpgradeStop reads them: a node already on the target schema has nothing to stop.
import { stageDir } from "./stage";
import { q } from "./shell";

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
# harbor-ha: what this node runs (read by UpgradeStop)
version=${r.version}
schema=${r.schema ?? ""}
cluster=${r.cluster}
HARBOR_HA_RECORD`;
}

/** record_field KEY: the value of KEY in the node's record ($rec), empty when absent. */
export const recordFieldFn = `record_field() { awk -v k="$1" 'index($0, k "=") == 1 { print substr($0, length(k) + 2); exit }' "$rec"; }`;

/**
 * UpgradeStop's test (where $dir is defined): true when the node's record says it runs the target
 * schema already, so there is nothing to stop. No record: it may run anything, so it stops.
 */
export const runsSchemaFn = `${recordFieldFn}
runs_schema() { # SCHEMA
  rec="$dir"/${q(recordFile)}
  [ -f "$rec" ] && [ "$(record_field schema)" = "$1" ]
}`;
