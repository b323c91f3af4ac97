import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { surveyScript } from "../render/scripts/record";
import { commandDefaults, Connection, runScript, secretStderr } from "./connection";

export interface NodeSurveyArgs {
    nodeName: pulumi.Input<string>;
    connection: pulumi.Input<Connection>;
    installDir: pulumi.Input<string>;
    composeProject: pulumi.Input<string>;
    /** This stack's cluster ID: a node it deployed in an earlier, failed update is not refused. */
    cluster: pulumi.Input<string>;
    /** The Harbor version this update deploys. */
    harborVersion: pulumi.Input<string>;
}

/**
 * For a stack with no record of a deployment: what the node runs, read from the node itself. A
 * node that runs Harbor already refuses the update before anything changes on any node (the
 * new-cluster order would start nodes together), saying how to tell the stack what runs.
 */
export class NodeSurvey extends pulumi.ComponentResource {
    /** The survey's line, e.g. "survey: harbor-1 runs no Harbor yet"; every change waits on it. */
    public readonly result: pulumi.Output<string>;

    constructor(name: string, args: NodeSurveyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("harbor-ha:index:NodeSurvey", name, {}, opts);
        const survey = new command.remote.Command(`${name}-check`, {
            connection: args.connection,
            ...runScript(pulumi.all([args.nodeName, args.installDir, args.composeProject, args.cluster, args.harborVersion])
                .apply(([nodeName, installDir, composeProject, cluster, version]) => surveyScript({ nodeName, installDir, composeProject, cluster, version }))),
            ...commandDefaults,
        }, { parent: this, ...secretStderr });
        this.result = survey.stdout;
        this.registerOutputs({ result: this.result });
    }
}
