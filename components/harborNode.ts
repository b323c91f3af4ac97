import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { InstallerContents } from "../config/installer";
import { BundleFile, encodeBundle, sha256 } from "../render/bundle";
import { DatabaseSettings, guardSpec, NodeLayout, NodeSettings, RedisSettings, requireFlavor } from "../render/flavors";
import { drainFns, DrainSettings } from "../render/scripts/drain";
import { installerArchivePath, stageDir, staged, stopScript, unpackInstallerScript } from "../render/scripts/harborNode";
import { renderPeers, Peer, takeOutScript, writePeersScript } from "../render/scripts/serviceGuard";
import { RemoteScript } from "../render/scripts/shell";
import { commandDefaults, Connection, runScript, secretStderr } from "./connection";
import { ClockLimit, NodeClock } from "./nodeClock";

export interface HarborNodeArgs {
    nodeName: pulumi.Input<string>;
    connection: pulumi.Input<Connection>;
    /**
     * The node's SSH host key. A new one means a rebuilt node: it gets the installer again, which a
     * copy would not do on a changed connection alone (it re-copies on a new source or path only).
     */
    hostKey: pulumi.Input<string>;
    /** Selects the flavor (render/flavors): which files are rendered and what the deploy does. */
    harborVersion: pulumi.Input<string>;
    installer: pulumi.Input<InstallerContents>;
    installDir: pulumi.Input<string>;
    mountPoint: pulumi.Input<string>;
    /** From the node's CephMount: the node deploys only once its mount is in place. */
    dataPath: pulumi.Input<string>;
    domain: pulumi.Input<string>;
    port: pulumi.Input<number>;
    /** Harbor 1.x: the port of the load balancer's drain-aware check. */
    healthPort: pulumi.Input<number>;
    /** How long a drained node serves what it has, and the load balancer's check timing. */
    drain: pulumi.Input<DrainSettings>;
    protocol: pulumi.Input<"http" | "https">;
    /** With https: the cluster certificate, its key and the CA clients trust. */
    tlsCertificatePem?: pulumi.Input<string>;
    tlsPrivateKeyPem?: pulumi.Input<string>;
    tlsCaPem?: pulumi.Input<string>;
    /** From the database component (ExternalMySQL or ExternalPostgreSQL); the password in it is secret. */
    database: pulumi.Input<DatabaseSettings>;
    /** From RedisSession; the password in it is secret. */
    redis: pulumi.Input<RedisSettings>;
    adminPassword: pulumi.Input<string>;
    /** The cluster's shared token keypair. */
    tokenPrivateKeyPem: pulumi.Input<string>;
    tokenCertificatePem: pulumi.Input<string>;
    /** The cluster's shared random values by name, e.g. the 16-character secretkey. */
    sharedSecrets: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Outputs that must resolve first, e.g. the database and Redis checks. */
    after?: pulumi.Input<string>[];
    /** The stack's cluster ID, recorded on the node with the version it runs (render/scripts/record.ts). */
    cluster: pulumi.Input<string>;
    /**
     * The node's preflight checks (NodePreflight.script), run again right before every change of the
     * deploy: a node whose disk filled up since its first check is refused before it is drained.
     */
    preflight?: pulumi.Input<RemoteScript>;
    /**
     * The node's clock limit (NodePreflight.clock), measured again with `preflight`: a clock that
     * drifted since the first check (NTP stopped) is refused before the node is drained.
     */
    clock?: pulumi.Input<ClockLimit>;
    /**
     * Every node of the cluster, this one included: before a change takes this node out of service
     * it waits until the others are in (render/scripts/serviceGuard.ts), whatever order the plan has.
     */
    peers: pulumi.Input<pulumi.Input<Peer>[]>;
}

/** One Harbor instance: installer on the node, its files rendered by the flavor, deployed, healthy. */
export class HarborNode extends pulumi.ComponentResource {
    /** The deploy step's last line, e.g. "harbor-1: healthy (/api/systeminfo), deployed in 14s". */
    public readonly status: pulumi.Output<string>;

    constructor(name: string, args: HarborNodeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("harbor-ha:index:HarborNode", name, {}, opts);
        const flavor = pulumi.output(args.harborVersion).apply(requireFlavor);
        const installer = pulumi.output(args.installer);
        const layout = pulumi.all([args.installDir, args.mountPoint, args.dataPath, args.port, args.healthPort])
            .apply(([installDir, mountPoint, dataPath, port, healthPort]): NodeLayout => ({
                installDir, archivePath: installerArchivePath(installDir), mountPoint, dataPath, port, healthPort,
            }));
        const drain = pulumi.output(args.drain) as pulumi.Output<DrainSettings>;

        const copy = new command.remote.CopyToRemote(`${name}-installer-copy`, {
            connection: args.connection,
            source: installer.apply(i => new pulumi.asset.FileAsset(i.archivePath)),
            // The layout waits for the node's mount, so the archive lands only after its preflight passed.
            remotePath: layout.apply(l => l.archivePath),
            triggers: [installer.apply(i => i.sha256), args.hostKey],
        }, { parent: this });

        const unpack = new command.remote.Command(`${name}-installer`, {
            connection: args.connection,
            ...runScript(pulumi.all([layout, installer]).apply(([l, i]) => unpackInstallerScript(l, i.sha256, i.imageArchive))),
            triggers: [installer.apply(i => i.sha256)],
            ...commandDefaults,
        }, { parent: this, dependsOn: [copy], ...secretStderr });

        const database = pulumi.output(args.database) as pulumi.Output<DatabaseSettings>;
        const redis = pulumi.output(args.redis) as pulumi.Output<RedisSettings>;
        const where = pulumi.all([args.domain, args.port, args.protocol, layout]);
        const secrets = pulumi.all([args.adminPassword, args.tokenPrivateKeyPem, args.tokenCertificatePem, pulumi.output(args.sharedSecrets)]);
        // Waiting on `after` makes the deploy depend on those checks without copying their text.
        const settings = pulumi.all([pulumi.all(args.after ?? []), where, database, redis, secrets])
            .apply(([, [domain, port, protocol, l], db, r, [adminPassword, key, cert, shared]]): NodeSettings => ({
                domain, port, protocol, dataPath: l.dataPath, database: db, redis: r,
                adminPassword, tokenPrivateKeyPem: key, tokenCertificatePem: cert, shared,
                tls: protocol === "https"
                    ? { certPath: `${l.installDir}/${stageDir}/${staged.tlsCert}`, keyPath: `${l.installDir}/${stageDir}/${staged.tlsKey}` }
                    : undefined,
            }));
        const tlsFiles = pulumi.all([args.protocol, args.tlsCertificatePem, args.tlsPrivateKeyPem, args.tlsCaPem])
            .apply(([protocol, cert, key, ca]): BundleFile[] => {
                if (protocol !== "https") return [];
                if (!cert || !key || !ca) throw new Error(`${name}: https needs the certificate, its key and the CA`);
                return [
                    { path: `${stageDir}/${staged.tlsCert}`, mode: "0644", content: cert },
                    { path: `${stageDir}/${staged.tlsKey}`, mode: "0600", content: key },
                    { path: `${stageDir}/${staged.tlsCa}`, mode: "0644", content: ca },
                ];
            });
        const bundle = pulumi.all([flavor, installer, settings, layout, tlsFiles])
            .apply(([f, i, s, l, tls]) => encodeBundle([...f.renderNodeFiles(i.files, s, l), ...tls]));

        const script = pulumi.all([flavor, layout, args.nodeName, args.protocol, args.domain, drain, args.cluster])
            .apply(([f, l, n, protocol, domain, d, cluster]) => f.deployScript(l, n, { protocol, domain }, d, cluster));
        const run = runScript(script, bundle);
        // The rechecks are replaced whenever the deploy's script or files change (a content hash,
        // secret: the files carry passwords), so the checks run just before the deploy does.
        const deployHash = pulumi.secret(run.stdin.apply(sha256));
        const recheck = args.preflight === undefined ? undefined : new command.remote.Command(`${name}-recheck`, {
            connection: args.connection,
            ...runScript(args.preflight),
            triggers: [deployHash],
            ...commandDefaults,
        }, { parent: this, dependsOn: [unpack], ...secretStderr });
        const clock = args.clock === undefined ? undefined : pulumi.output(args.clock);
        const clockRecheck = clock === undefined ? undefined : new NodeClock(`${name}-clock-recheck`, {
            nodeName: args.nodeName, connection: args.connection,
            maxSkewMs: clock.apply(c => c.maxSkewMs), tolerance: clock.apply(c => c.tolerance),
            triggers: [deployHash],
        }, { parent: this, dependsOn: [unpack] });
        const rechecks = [...(recheck ? [recheck] : []), ...(clockRecheck ? [clockRecheck] : [])];
        // The node list is a file of its own: a node added or removed changes no deploy.
        const peers = new command.remote.Command(`${name}-peers`, {
            connection: args.connection,
            ...runScript(pulumi.all([layout, args.nodeName]).apply(([l, n]) => writePeersScript(l.installDir, n)),
                pulumi.all([flavor, args.peers, args.port, args.protocol, args.healthPort])
                    .apply(([f, p, port, protocol, healthPort]) => renderPeers(p, f.drainCheck(port, protocol, healthPort)))),
            ...commandDefaults,
        }, { parent: this, dependsOn: [unpack], ...secretStderr });
        // Re-run with every change of the deploy (its script, files or installer): the node goes out
        // only once the others are in, and after its recheck passed.
        const takeOut = new command.remote.Command(`${name}-take-out`, {
            connection: args.connection,
            ...runScript(pulumi.all([flavor, layout, args.nodeName, args.protocol, args.domain, drain])
                .apply(([f, l, n, protocol, domain, d]) => takeOutScript(n, guardSpec(f, l, { protocol, domain }), [f.composeFn, drainFns(d)]))),
            triggers: [pulumi.secret(pulumi.all([run.create, run.stdin, installer.apply(i => i.sha256)]).apply(parts => sha256(parts.join("\n"))))],
            // Only a change of the deploy takes the node out: a new text of this step alone must not
            // drain a node that no deploy then brings back (the provider re-runs create on an update).
            update: pulumi.interpolate`echo "${args.nodeName}: no change of its deploy; stays in service"`,
            ...commandDefaults,
        }, { parent: this, dependsOn: [unpack, ...rechecks, peers], ...secretStderr });
        const deploy = new command.remote.Command(`${name}-deploy`, {
            connection: args.connection,
            create: run.create,
            update: run.create,
            // A replaced deploy (a new installer) and a destroy drain the node before Harbor stops.
            delete: pulumi.all([layout, args.nodeName, drain]).apply(([l, n, d]) => stopScript(l.installDir, n, d)),
            stdin: run.stdin,
            // A new installer replaces the deployment: the old one is drained and stopped, then the new one starts.
            triggers: [installer.apply(i => i.sha256)],
            ...commandDefaults,
        }, { parent: this, dependsOn: [unpack, ...rechecks, takeOut], deleteBeforeReplace: true, ...secretStderr });

        this.status = deploy.stdout.apply(out => out.split("\n").pop() ?? "");
        this.registerOutputs({ status: this.status });
    }
}
