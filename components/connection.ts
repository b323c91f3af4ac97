import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { NodeConfig } from "../config/types";

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
