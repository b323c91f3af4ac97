import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { stopScript } from "../render/scripts/harborNode";
import { commandDefaults, Connection, secretStderr } from "./connection";

export interface UpgradeStopArgs {
    nodeName: pulumi.Input<string>;
    connection: pulumi.Input<Connection>;
    installDir: pulumi.Input<string>;
    /** The database schema the cluster is about to run: a new one stops the node again. */
    schemaVersion: pulumi.Input<string>;
    /** Outputs that must resolve first (the node's preflight). */
    after?: pulumi.Input<string>[];
}

/**
 * Stops Harbor on a node (data kept) before an upgrade that changes the database schema, so that
 * no node of the old version runs while the first node of the new one migrates. It runs again
 * only when the target schema changes; on a new cluster it finds nothing to stop, and a node whose
 * record (render/scripts/record.ts) says it runs the target schema already is left running.
 */
export class UpgradeStop extends pulumi.ComponentResource {
    /** Resolves once the node's Harbor is stopped. */
    public readonly stopped: pulumi.Output<string>;

    constructor(name: string, args: UpgradeStopArgs, opts?: pulumi.ComponentResourceOptions) {
        super("harbor-ha:index:UpgradeStop", name, {}, opts);
        const stop = new command.remote.Command(`${name}-stop`, {
            connection: args.connection,
            create: pulumi.all([args.installDir, args.nodeName, args.schemaVersion, pulumi.all(args.after ?? [])])
                .apply(([installDir, nodeName, schema]) => stopScript(installDir, nodeName, undefined, schema)),
            // A new script text alone (a harbor-ha release) must not stop a running cluster: the
            // command provider runs `create` again on an update unless `update` says otherwise.
            update: pulumi.interpolate`echo "${args.nodeName}: the target schema is unchanged; nothing to stop"`,
            triggers: [args.schemaVersion],
            ...commandDefaults,
        }, { parent: this, ...secretStderr });
        this.stopped = stop.stdout;
        this.registerOutputs({ stopped: this.stopped });
    }
}
