import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { dockerDataRootKeepScript, dockerDataRootScript } from "../render/scripts/dockerDataRoot";
import { commandDefaults, Connection, runScript, secretStderr } from "./connection";

export interface DockerDataRootArgs {
    nodeName: pulumi.Input<string>;
    connection: pulumi.Input<Connection>;
    /** Where Docker keeps images and containers, e.g. /data/docker on a data disk. */
    dataRoot: pulumi.Input<string>;
    /** Outputs that must resolve first (the node's preflight). */
    after?: pulumi.Input<string>[];
}

/** Docker's data moved to a data disk; deleting this resource leaves it there. */
export class DockerDataRoot extends pulumi.ComponentResource {
    public readonly status: pulumi.Output<string>;

    constructor(name: string, args: DockerDataRootArgs, opts?: pulumi.ComponentResourceOptions) {
        super("harbor-ha:index:DockerDataRoot", name, {}, opts);
        const move = new command.remote.Command(`${name}-move`, {
            connection: args.connection,
            ...runScript(pulumi.all([args.nodeName, args.dataRoot, pulumi.all(args.after ?? [])])
                .apply(([nodeName, dataRoot]) => dockerDataRootScript(nodeName, dataRoot))),
            // Destroy leaves Docker's data on the data disk (render/scripts/dockerDataRoot.ts).
            delete: pulumi.output(args.nodeName).apply(dockerDataRootKeepScript),
            ...commandDefaults,
        }, { parent: this, ...secretStderr, deleteBeforeReplace: true });
        this.status = move.stdout;
        this.registerOutputs({ status: this.status });
    }
}
