import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { CephClient, CephConfig } from "../config/types";
import { encodeBundle } from "../render/bundle";
import { cephClientConf, cephFiles, cephSecretFile } from "../render/fstab";
import { cephMountScript, cephUnmountScript } from "../render/scripts/cephMount";
import { commandDefaults, Connection, runScript, secretStderr } from "./connection";

export interface CephMountArgs {
    connection: pulumi.Input<Connection>;
    monitors: pulumi.Input<pulumi.Input<string>[]>;
    /** Path inside CephFS, e.g. /apps/harbor. */
    path: pulumi.Input<string>;
    mountPoint: pulumi.Input<string>;
    /** Ceph client name without "client.". */
    user: pulumi.Input<string>;
    client: pulumi.Input<CephClient>;
    /** The file system's session_timeout: how long a crashed node's session keeps its capabilities. */
    sessionTimeoutSeconds: pulumi.Input<number>;
    /** Harbor's data directory under the mount. */
    dataPath: pulumi.Input<string>;
    /** The client's base64 key. */
    secret: pulumi.Input<string>;
    /** Outputs that must resolve first (the node's preflight). */
    after?: pulumi.Input<string>[];
}

/** Seed step 1 on one node: CephFS mounted (and in fstab) with Harbor's data directory on it. */
export class CephMount extends pulumi.ComponentResource {
    public readonly mountPoint: pulumi.Output<string>;
    /** Known once the mount succeeded: dependents wait on it. */
    public readonly dataPath: pulumi.Output<string>;
    public readonly status: pulumi.Output<string>;

    constructor(name: string, args: CephMountArgs, opts?: pulumi.ComponentResourceOptions) {
        super("harbor-ha:index:CephMount", name, {}, opts);
        const ceph = pulumi.all([args.monitors, args.path, args.mountPoint, args.user, args.client, args.sessionTimeoutSeconds])
            .apply(([monitors, path, mountPoint, user, client, sessionTimeoutSeconds]): CephConfig =>
                ({ monitors, path, mountPoint, user, client, sessionTimeoutSeconds }));
        const bundle = pulumi.secret(pulumi.all([ceph, args.secret]).apply(([c, key]) => {
            const files = cephFiles(c);
            return encodeBundle([
                { path: files.secretPath.replace("/etc/ceph/", ""), mode: "0600", content: cephSecretFile(c, key) },
                ...(files.confPath ? [{ path: files.confPath.replace("/etc/ceph/", ""), mode: "0644", content: cephClientConf(c) }] : []),
            ]);
        }));
        const mount = new command.remote.Command(`${name}-mount`, {
            connection: args.connection,
            ...runScript(pulumi.all([ceph, args.dataPath, pulumi.all(args.after ?? [])]).apply(([c, dataPath]) => cephMountScript(c, dataPath)), bundle),
            delete: ceph.apply(cephUnmountScript),
            ...commandDefaults,
        }, { parent: this, ...secretStderr, deleteBeforeReplace: true });
        this.mountPoint = pulumi.output(args.mountPoint);
        this.dataPath = pulumi.all([mount.stdout, args.dataPath]).apply(([, dataPath]) => dataPath);
        this.status = mount.stdout;
        this.registerOutputs({ mountPoint: this.mountPoint, dataPath: this.dataPath, status: this.status });
    }
}
