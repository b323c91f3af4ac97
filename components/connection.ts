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
