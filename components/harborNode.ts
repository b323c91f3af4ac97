import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { InstallerContents } from "../config/installer";
import { encodeBundle } from "../render/bundle";
import { transformCompose } from "../render/composeTransform";
import { requireFlavor } from "../render/flavor";
import { HarborSettings, renderAdminserverEnv, renderHarborCfg, renderUiEnv } from "../render/harborConfig";
import { deployScript, installerArchivePath, NodeLayout, stageDir, staged, stopScript, unpackInstallerScript } from "../render/scripts/harborNode";
import { commandDefaults, Connection, runScript, secretStderr } from "./connection";

export interface HarborNodeArgs {
    nodeName: pulumi.Input<string>;
    connection: pulumi.Input<Connection>;
    harborVersion: pulumi.Input<string>;
    installer: pulumi.Input<InstallerContents>;
    installDir: pulumi.Input<string>;
    mountPoint: pulumi.Input<string>;
    /** From the node's CephMount: the node deploys only once its mount is in place. */
    dataPath: pulumi.Input<string>;
    domain: pulumi.Input<string>;
    port: pulumi.Input<number>;
    protocol: pulumi.Input<"http" | "https">;
    /** With https: the cluster certificate, its key and the CA clients trust. */
    tlsCertificatePem?: pulumi.Input<string>;
    tlsPrivateKeyPem?: pulumi.Input<string>;
    tlsCaPem?: pulumi.Input<string>;
    mysqlHost: pulumi.Input<string>;
    mysqlPort: pulumi.Input<number>;
    mysqlDatabase: pulumi.Input<string>;
    mysqlUser: pulumi.Input<string>;
    mysqlPassword: pulumi.Input<string>;
    /** From RedisSession (secret). */
    redisUrl: pulumi.Input<string>;
    adminPassword: pulumi.Input<string>;
    /** The cluster's shared token keypair. */
    tokenPrivateKeyPem: pulumi.Input<string>;
    tokenCertificatePem: pulumi.Input<string>;
    /** The cluster's 16-character secretkey (encrypts settings stored in MySQL). */
    secretKey: pulumi.Input<string>;
    /** Outputs that must resolve first, e.g. the database and Redis checks. */
    after?: pulumi.Input<string>[];
}

interface Rendered {
    layout: NodeLayout;
    files: { path: string; mode: string; content: string }[];
}

/** One Harbor instance: installer on the node, the seed's edits, prepare, shared keys, up, healthy. */
export class HarborNode extends pulumi.ComponentResource {
    /** The deploy step's last line, e.g. "harbor-1: healthy (/api/systeminfo) after 14s". */
    public readonly status: pulumi.Output<string>;

    constructor(name: string, args: HarborNodeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("harbor-ha:index:HarborNode", name, {}, opts);
        const flavor = pulumi.output(args.harborVersion).apply(requireFlavor);
        const installer = pulumi.output(args.installer);
        const layout = pulumi.all([args.installDir, args.mountPoint, args.dataPath, args.port])
            .apply(([installDir, mountPoint, dataPath, port]): NodeLayout => ({
                installDir, archivePath: installerArchivePath(installDir), mountPoint, dataPath, port,
            }));

        const copy = new command.remote.CopyToRemote(`${name}-installer-copy`, {
            connection: args.connection,
            source: installer.apply(i => new pulumi.asset.FileAsset(i.archivePath)),
            remotePath: layout.apply(l => l.archivePath),
            triggers: [installer.apply(i => i.sha256)],
        }, { parent: this });

        const unpack = new command.remote.Command(`${name}-installer`, {
            connection: args.connection,
            ...runScript(pulumi.all([layout, installer]).apply(([l, i]) => unpackInstallerScript(l, i.sha256, i.imageArchive))),
            triggers: [installer.apply(i => i.sha256)],
            ...commandDefaults,
        }, { parent: this, dependsOn: [copy], ...secretStderr });

        const mysql = pulumi.all([args.mysqlHost, args.mysqlPort, args.mysqlDatabase, args.mysqlUser, args.mysqlPassword])
            .apply(([host, port, database, user, password]) => ({ host, port, database, user, password }));
        // Waiting on `after` makes the deploy depend on those checks without copying their text.
        const settings = pulumi.all([pulumi.all(args.after ?? []), args.domain, args.port, args.protocol, layout, mysql, args.redisUrl, args.adminPassword])
            .apply(([, domain, port, protocol, l, m, redisUrl, adminPassword]): HarborSettings => ({
                domain, port, protocol, dataPath: l.dataPath, mysql: m, redisUrl, adminPassword,
                tls: protocol === "https"
                    ? { certPath: `${l.installDir}/${stageDir}/${staged.tlsCert}`, keyPath: `${l.installDir}/${stageDir}/${staged.tlsKey}` }
                    : undefined,
            }));
        const tlsFiles = pulumi.all([args.protocol, args.tlsCertificatePem, args.tlsPrivateKeyPem, args.tlsCaPem])
            .apply(([protocol, cert, key, ca]) => {
                if (protocol !== "https") return [];
                if (!cert || !key || !ca) throw new Error(`${name}: https needs the certificate, its key and the CA`);
                return [
                    { path: `${stageDir}/${staged.tlsCert}`, mode: "0644", content: cert },
                    { path: `${stageDir}/${staged.tlsKey}`, mode: "0600", content: key },
                    { path: `${stageDir}/${staged.tlsCa}`, mode: "0644", content: ca },
                ];
            });
        const rendered = pulumi.all([flavor, installer, layout, settings, args.tokenPrivateKeyPem, args.tokenCertificatePem, args.secretKey, tlsFiles])
            .apply(([f, i, l, s, key, cert, secretKey, tls]): Rendered => ({
                layout: l,
                files: [
                    { path: f.files.harborCfg, mode: "0600", content: renderHarborCfg(i.harborCfg, f, s) },
                    {
                        path: f.files.compose, mode: "0644", content: transformCompose(i.compose, {
                            dataVolumePrefix: f.dataVolumePrefix, dataPath: l.dataPath, dropServices: f.replacedServices,
                            proxyService: f.proxyService, proxyPorts: [`${l.port}:${s.protocol === "https" ? 443 : 80}`],
                        }),
                    },
                    { path: f.files.adminserverEnvTemplate, mode: "0600", content: renderAdminserverEnv(i.adminserverEnvTemplate, s) },
                    { path: f.files.uiEnvTemplate, mode: "0600", content: renderUiEnv(i.uiEnvTemplate, s) },
                    { path: `${stageDir}/${staged.tokenKey}`, mode: "0600", content: key },
                    { path: `${stageDir}/${staged.tokenCert}`, mode: "0644", content: cert },
                    { path: `${stageDir}/${staged.secretKey}`, mode: "0600", content: secretKey },
                    ...tls,
                ],
            }));

        const script = pulumi.all([flavor, layout, args.nodeName, args.protocol, args.domain])
            .apply(([f, l, n, protocol, domain]) => deployScript(f, l, n, { protocol, domain }));
        const run = runScript(script, rendered.apply(r => encodeBundle(r.files)));
        const deploy = new command.remote.Command(`${name}-deploy`, {
            connection: args.connection,
            create: run.create,
            update: run.create,
            delete: pulumi.all([layout, args.nodeName]).apply(([l, n]) => stopScript(l, n)),
            stdin: run.stdin,
            // A new installer replaces the deployment: the old one is stopped first, then the new one starts.
            triggers: [installer.apply(i => i.sha256)],
            ...commandDefaults,
        }, { parent: this, dependsOn: [unpack], deleteBeforeReplace: true, ...secretStderr });

        this.status = deploy.stdout.apply(out => out.split("\n").pop() ?? "");
        this.registerOutputs({ status: this.status });
    }
}
