import * as pulumi from "@pulumi/pulumi";
import { X509Certificate } from "node:crypto";
import { generateCa, issueServerCertificate } from "./tlsMaterial";

export interface ClusterTlsArgs {
    domain: pulumi.Input<string>;
    /** Node names and addresses clients may use besides the domain. */
    sans: pulumi.Input<pulumi.Input<string>[]>;
    /** A generated certificate this close to expiry is re-issued on the next `pulumi up`. */
    renewBeforeDays: pulumi.Input<number>;
    port: pulumi.Input<number>;
    /** A certificate of your own (with tlsPrivateKey), validated by the config validator. */
    suppliedCertificatePem?: pulumi.Input<string>;
    suppliedPrivateKeyPem?: pulumi.Input<string>;
    /** The CA clients must trust for a supplied certificate (defaults to the certificate itself). */
    suppliedCaPem?: pulumi.Input<string>;
}

interface CaInputs { commonName: string; validDays: number }
interface CertInputs {
    domain: string; sans: string[]; caCertificatePem: string; caPrivateKeyPem: string;
    validDays: number; renewBeforeDays: number; notAfter?: string;
}

export const caProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: CaInputs) {
        const ca = generateCa(inputs.commonName, inputs.validDays);
        return { id: ca.fingerprintSha256, outs: { ...inputs, ...ca } };
    },
    async diff(_id: string, olds: CaInputs, news: CaInputs) {
        const replaces = (["commonName", "validDays"] as const).filter(k => olds[k] !== news[k]);
        return { changes: replaces.length > 0, replaces };
    },
};

/** Re-issue when the request changed or the certificate is within renewBeforeDays of expiry. */
export function certificateDiff(olds: CertInputs, news: CertInputs, now = Date.now()): { changes: boolean; replaces: string[] } {
    const replaces: string[] = (["domain", "caCertificatePem", "validDays"] as const).filter(k => olds[k] !== news[k]);
    if (JSON.stringify(olds.sans) !== JSON.stringify(news.sans)) replaces.push("sans");
    if (olds.notAfter && Date.parse(olds.notAfter) - now < news.renewBeforeDays * 86_400_000) replaces.push("notAfter");
    return { changes: replaces.length > 0 || olds.renewBeforeDays !== news.renewBeforeDays, replaces };
}

export const certificateProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: CertInputs) {
        const cert = issueServerCertificate(inputs);
        return { id: cert.fingerprintSha256, outs: { ...inputs, ...cert } };
    },
    async diff(_id: string, olds: CertInputs, news: CertInputs) {
        return certificateDiff(olds, news);
    },
    async update(_id: string, olds: CertInputs, news: CertInputs) {
        return { outs: { ...olds, renewBeforeDays: news.renewBeforeDays } };
    },
};

class ClusterCa extends pulumi.dynamic.Resource {
    declare readonly certificatePem: pulumi.Output<string>;
    declare readonly privateKeyPem: pulumi.Output<string>;
    constructor(name: string, args: Record<string, pulumi.Input<unknown>>, opts: pulumi.CustomResourceOptions) {
        super(caProvider, name, { ...args, certificatePem: undefined, privateKeyPem: undefined, notAfter: undefined, fingerprintSha256: undefined },
            { ...opts, additionalSecretOutputs: ["privateKeyPem"] }, "harbor-ha", "ClusterCa");
    }
}

class ServerCertificate extends pulumi.dynamic.Resource {
    declare readonly certificatePem: pulumi.Output<string>;
    declare readonly privateKeyPem: pulumi.Output<string>;
    declare readonly notAfter: pulumi.Output<string>;
    constructor(name: string, args: Record<string, pulumi.Input<unknown>>, opts: pulumi.CustomResourceOptions) {
        super(certificateProvider, name, { ...args, certificatePem: undefined, privateKeyPem: undefined, notAfter: undefined, fingerprintSha256: undefined },
            { ...opts, additionalSecretOutputs: ["privateKeyPem", "caPrivateKeyPem"] }, "harbor-ha", "ServerCertificate");
    }
}

/** HTTPS for the cluster domain: a CA and server certificate made once (renewed near expiry), or yours. */
export class ClusterTls extends pulumi.ComponentResource {
    public readonly caPem: pulumi.Output<string>;
    public readonly certificatePem: pulumi.Output<string>;
    public readonly privateKeyPem: pulumi.Output<string>;
    public readonly notAfter: pulumi.Output<string>;
    /** SHA-256 of the certificate (XX:XX:...): what every node must serve. */
    public readonly fingerprintSha256: pulumi.Output<string>;
    /** Where a Docker client puts caPem to trust the registry. */
    public readonly clientTrustPath: pulumi.Output<string>;

    constructor(name: string, args: ClusterTlsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("harbor-ha:index:ClusterTls", name, {}, opts);
        if (args.suppliedCertificatePem !== undefined) {
            if (args.suppliedPrivateKeyPem === undefined) throw new Error(`${name}: a supplied certificate needs its private key`);
            this.certificatePem = pulumi.output(args.suppliedCertificatePem);
            this.privateKeyPem = pulumi.secret(args.suppliedPrivateKeyPem);
            this.caPem = pulumi.output(args.suppliedCaPem ?? args.suppliedCertificatePem);
            this.notAfter = this.certificatePem.apply(pem => {
                // eslint-disable-next-line @typescript-eslint/no-var-requires
                const forge = require("node-forge") as typeof import("node-forge");
                return forge.pki.certificateFromPem(pem).validity.notAfter.toISOString();
            });
        } else {
            const ca = new ClusterCa(`${name}-ca`, {
                commonName: pulumi.interpolate`harbor-ha CA for ${args.domain}`, validDays: 3650,
            }, { parent: this });
            const cert = new ServerCertificate(`${name}-certificate`, {
                domain: args.domain, sans: args.sans, caCertificatePem: ca.certificatePem, caPrivateKeyPem: ca.privateKeyPem,
                validDays: 397, renewBeforeDays: args.renewBeforeDays,
            }, { parent: this });
            this.caPem = ca.certificatePem;
            this.certificatePem = cert.certificatePem;
            this.privateKeyPem = pulumi.secret(cert.privateKeyPem);
            this.notAfter = cert.notAfter;
        }
        this.fingerprintSha256 = this.certificatePem.apply(pem => new X509Certificate(pem).fingerprint256);
        this.clientTrustPath = pulumi.interpolate`/etc/docker/certs.d/${args.domain}:${args.port}/ca.crt`;
        this.registerOutputs({
            caPem: this.caPem, certificatePem: this.certificatePem, privateKeyPem: this.privateKeyPem,
            notAfter: this.notAfter, fingerprintSha256: this.fingerprintSha256, clientTrustPath: this.clientTrustPath,
        });
    }
}
