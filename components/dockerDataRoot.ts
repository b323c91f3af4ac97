import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { guardSpec, requireFlavor } from "../render/flavors";
import { DrainSettings } from "../render/scripts/drain";
import { dockerDataRootKeepScript, dockerDataRootScript } from "../render/scripts/dockerDataRoot";
import { commandDefaults, Connection, runScript, secretStderr } from "./connection";

export interface DockerDataRootArgs {
    nodeName: pulumi.Input<string>;
    connection: pulumi.Input<Connection>;
    /** Where Docker keeps images and containers, e.g. /data/docker on a data disk. */
    dataRoot: pulumi.Input<string>;
    /**
     * The node's Harbor, which stops with Docker: the move drains it first and puts it back in the
     * load balancer once it answers again (nothing to do on a node without Harbor yet).
     */
    harborVersion: pulumi.Input<string>;
    installDir: pulumi.Input<string>;
    /** The shared data volume, where the nodes say whether they are in service (render/scripts/serviceGuard.ts). */
    dataPath: pulumi.Input<string>;
    port: pulumi.Input<number>;
    /** Harbor 1.x: the port of the load balancer's drain-aware check, which the move asks of the other nodes. */
    healthPort: pulumi.Input<number>;
    protocol: pulumi.Input<"http" | "https">;
    domain: pulumi.Input<string>;
    drain: pulumi.Input<DrainSettings>;
    /** Outputs that must resolve first (the node's preflight). */
    after?: pulumi.Input<string>[];
    /**
     * Resources that must be done first: the move before this one, and on a running cluster the node
     * before it. A dependency, not an input, so their changes do not show as a change of this move.
     */
    waitFor?: pulumi.Resource[];
}

/** Docker's data moved to a data disk, the node drained meanwhile; deleting this resource leaves it there. */
export class DockerDataRoot extends pulumi.ComponentResource {
    public readonly status: pulumi.Output<string>;

    constructor(name: string, args: DockerDataRootArgs, opts?: pulumi.ComponentResourceOptions) {
        super("harbor-ha:index:DockerDataRoot", name, {}, opts);
        const harbor = pulumi.all([args.harborVersion, args.installDir, args.dataPath, args.port, args.healthPort, args.protocol, args.domain, args.drain])
            .apply(([version, installDir, dataPath, port, healthPort, protocol, domain, drain]) => {
                const f = requireFlavor(version);
                const endpoint = { protocol, domain };
                return {
                    installDir, port, checkPort: healthPort, endpoint, health: f.health, drain: drain as DrainSettings, composeFn: f.composeFn,
                    guard: guardSpec(f, { installDir, dataPath, port, healthPort }, endpoint),
                };
            });
        const move = new command.remote.Command(`${name}-move`, {
            connection: args.connection,
            ...runScript(pulumi.all([args.nodeName, args.dataRoot, harbor, pulumi.all(args.after ?? [])])
                .apply(([nodeName, dataRoot, h]) => dockerDataRootScript(nodeName, dataRoot, h))),
            // Destroy leaves Docker's data on the data disk (render/scripts/dockerDataRoot.ts).
            delete: pulumi.output(args.nodeName).apply(dockerDataRootKeepScript),
            ...commandDefaults,
        }, { parent: this, ...secretStderr, deleteBeforeReplace: true, dependsOn: args.waitFor });
        this.status = move.stdout;
        this.registerOutputs({ status: this.status });
    }
}
