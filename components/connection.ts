import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { NodeConfig } from "../config/types";
import { RemoteScript } from "../render/scripts/shell";

export type Connection = command.types.input.remote.ConnectionArgs;

/** Every SSH connection pins the node's host key and retries a slow-booting node for a while. */
export function nodeConnection(node: NodeConfig, privateKey: pulumi.Input<string>): Connection {
    return {
        host: node.host,
        port: node.sshPort,
        user: node.user,
        privateKey: pulumi.secret(privateKey),
        hostKey: node.hostKey,
        dialErrorLimit: 30,
        perDialTimeout: 15,
    };
}

/**
 * Options for every remote command: stdout carries only the scripts' own status lines; stderr may
 * quote a tool's error, so it is kept secret. Secrets themselves only travel on stdin.
 */
export const commandDefaults = {
    logging: "stdout" as const,
    addPreviousOutputInEnv: false,
};
export const secretStderr: pulumi.CustomResourceOptions = { additionalSecretOutputs: ["stderr"] };

/**
 * `create` and `stdin` of a command that runs a script: the command line names it, the script
 * text comes first on stdin, then `data` (secret: bundles carry passwords and keys).
 */
export function runScript(script: pulumi.Input<RemoteScript>, data?: pulumi.Input<string>): { create: pulumi.Output<string>; stdin: pulumi.Output<string> } {
    const s = pulumi.output(script);
    return {
        create: s.command,
        stdin: data === undefined ? s.text : pulumi.secret(pulumi.all([s, data]).apply(([sc, d]) => sc.text + d)),
    };
}

/** A node something runs on, once it may be changed. */
export interface NodeTarget {
    name: string;
    connection: pulumi.Input<Connection>;
    /** Resolves once the node may be changed (its preflight passed). */
    ready?: pulumi.Input<string>;
}

/**
 * The same check from every node (each once its preflight passed), e.g. that Harbor's database
 * answers there; resolves to their status lines once all passed.
 */
export function checkEveryNode(name: string, nodes: NodeTarget[], script: (node: string) => pulumi.Input<RemoteScript>,
    data: pulumi.Input<string> | undefined, opts: pulumi.CustomResourceOptions): pulumi.Output<string> {
    const checks = nodes.map(n => new command.remote.Command(`${name}-check-${n.name}`, {
        connection: n.connection,
        ...runScript(pulumi.all([script(n.name), n.ready]).apply(([s]) => s), data),
        ...commandDefaults,
    }, { ...opts, ...secretStderr }));
    return pulumi.all(checks.map(c => c.stdout)).apply(lines => lines.join("\n"));
}

/** A script run once, from the first node (e.g. creating the database with an admin credential). */
export function runOnFirstNode(name: string, nodes: NodeTarget[], script: pulumi.Input<RemoteScript>, data: pulumi.Input<string>,
    opts: pulumi.CustomResourceOptions): command.remote.Command {
    return new command.remote.Command(name, {
        connection: nodes[0].connection,
        ...runScript(pulumi.all([script, nodes[0].ready]).apply(([s]) => s), data),
        ...commandDefaults,
    }, { ...opts, ...secretStderr });
}
