import * as pulumi from "@pulumi/pulumi";
import { generateTokenKeys } from "./tokenKeys";

export interface SharedTokenKeysArgs {
    /** Subject of the certificate; the cluster's domain. */
    commonName: pulumi.Input<string>;
    /** Change it to re-key on purpose; any other run keeps the keypair. */
    rotation: pulumi.Input<string>;
    /** Harbor's own prepare makes 4096-bit keys. */
    bits?: pulumi.Input<number>;
    validDays?: pulumi.Input<number>;
}

interface KeyInputs {
    commonName: string;
    rotation: string;
    bits: number;
    validDays: number;
}

// Created once and kept in state: a plain function call would mint a new keypair on every run.
export const keyProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: KeyInputs) {
        const material = generateTokenKeys(inputs.commonName, inputs.bits, inputs.validDays);
        return { id: material.fingerprintSha256, outs: { ...inputs, ...material } };
    },
    async diff(_id: string, olds: KeyInputs, news: KeyInputs) {
        const replaces = (["commonName", "rotation", "bits", "validDays"] as const).filter(k => olds[k] !== news[k]);
        return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
    },
};

class TokenKeypair extends pulumi.dynamic.Resource {
    declare readonly privateKeyPem: pulumi.Output<string>;
    declare readonly certificatePem: pulumi.Output<string>;
    declare readonly fingerprintSha256: pulumi.Output<string>;
    declare readonly notAfter: pulumi.Output<string>;

    constructor(name: string, args: Record<string, pulumi.Input<unknown>>, opts?: pulumi.CustomResourceOptions) {
        super(keyProvider, name, {
            ...args, privateKeyPem: undefined, certificatePem: undefined, fingerprintSha256: undefined, notAfter: undefined,
        }, { ...opts, additionalSecretOutputs: ["privateKeyPem"] }, "harbor-ha", "TokenKeypair");
    }
}

/** ONE token keypair for every node, so a token issued by any node is accepted by all. */
export class SharedTokenKeys extends pulumi.ComponentResource {
    public readonly privateKeyPem: pulumi.Output<string>;
    public readonly certificatePem: pulumi.Output<string>;
    public readonly fingerprintSha256: pulumi.Output<string>;

    constructor(name: string, args: SharedTokenKeysArgs, opts?: pulumi.ComponentResourceOptions) {
        super("harbor-ha:index:SharedTokenKeys", name, {}, opts);
        const keypair = new TokenKeypair(`${name}-keypair`, {
            commonName: args.commonName,
            rotation: args.rotation,
            bits: args.bits ?? 4096,
            validDays: args.validDays ?? 3650,
        }, { parent: this });
        this.privateKeyPem = pulumi.secret(keypair.privateKeyPem);
        this.certificatePem = keypair.certificatePem;
        this.fingerprintSha256 = keypair.fingerprintSha256;
        this.registerOutputs({
            privateKeyPem: this.privateKeyPem,
            certificatePem: this.certificatePem,
            fingerprintSha256: this.fingerprintSha256,
        });
    }
}
