import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as path from "path";
import { InstallerContents } from "../config/installer";
import { CephConfig, MysqlConfig, NodeConfig, PreflightConfig, RedisConfig, TlsConfig } from "../config/types";
import { composeProjectName } from "../render/scripts/harborNode";
import { PreflightResult } from "../render/scripts/preflight";
import { externalHost, requireFlavor } from "../render/flavors";
import { CephMount } from "./cephMount";
import { ClusterTls } from "./clusterTls";
import { nodeConnection } from "./connection";
import { DockerDataRoot } from "./dockerDataRoot";
import { ExternalMySQL } from "./externalMysql";
import { HarborNode } from "./harborNode";
import { NodePreflight } from "./nodePreflight";
import { RedisSession } from "./redisSession";
import { SharedTokenKeys } from "./sharedTokenKeys";

export interface HarborClusterArgs {
    domain: pulumi.Input<string>;
    port: number;
    /** Plain: https creates the ClusterTls component. */
    protocol: "http" | "https";
    tls: TlsConfig;
    tlsPrivateKey?: pulumi.Input<string>;
    /** Plain: selects the flavor, which decides the database component and the shared secrets. */
    harborVersion: string;
    installer: pulumi.Input<InstallerContents>;
    installDir: pulumi.Input<string>;
    /** One HarborNode (and CephMount) per entry; at least two. */
    nodes: NodeConfig[];
    sshPrivateKey: pulumi.Input<string>;
    ceph: pulumi.Input<CephConfig>;
    cephSecret: pulumi.Input<string>;
    /** Plain: whether an admin credential is given decides which resources exist. */
    mysql: MysqlConfig;
    mysqlPassword?: pulumi.Input<string>;
    mysqlAdminPassword?: pulumi.Input<string>;
    /** registry.sql content, with mysql.adminUser. */
    mysqlSchemaSql?: pulumi.Input<string>;
    redis: pulumi.Input<RedisConfig>;
    redisPassword?: pulumi.Input<string>;
    /** Harbor's initial admin password; generated when absent. */
    adminPassword?: pulumi.Input<string>;
    tokenKeyRotation: pulumi.Input<string>;
    preflight: pulumi.Input<PreflightConfig>;
    /** Protect the data-bearing components from `pulumi destroy`. */
    protectData?: boolean;
}

function hostPort(address: string, defaultPort: number): { host: string; port: number } {
    const m = /^(.*?)(?::(\d+))?$/.exec(address)!;
    return { host: m[1], port: m[2] ? Number(m[2]) : defaultPort };
}

/** The seed's design 1: N full Harbor nodes on shared CephFS, external MySQL and Redis, one keypair. */
export class HarborCluster extends pulumi.ComponentResource {
    public readonly url: pulumi.Output<string>;
    public readonly nodeStatus: pulumi.Output<Record<string, string>>;
    public readonly preflight: pulumi.Output<Record<string, PreflightResult[]>>;
    public readonly tokenCertFingerprint: pulumi.Output<string>;
    public readonly tokenCertificatePem: pulumi.Output<string>;
    public readonly adminPassword: pulumi.Output<string>;
    /** With https: the CA clients trust, where Docker wants it, and the certificate's expiry. */
    public readonly caPem?: pulumi.Output<string>;
    public readonly clientTrustPath?: pulumi.Output<string>;
    public readonly tlsNotAfter?: pulumi.Output<string>;

    constructor(name: string, args: HarborClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("harbor-ha:index:HarborCluster", name, {}, opts);
        if (args.nodes.length < 2) throw new Error(`${name}: an HA cluster needs at least 2 nodes`);
        const child = { parent: this };
        // Children inherit protect: a destroy then stops at these components instead of unmounting or re-keying.
        const dataChild = { parent: this, protect: args.protectData ?? false };
        const ceph = pulumi.output(args.ceph);
        const mysql = args.mysql;
        const redisCfg = pulumi.output(args.redis);
        const dataPath = ceph.apply(c => path.posix.join(c.mountPoint, "data"));

        const flavor = requireFlavor(args.harborVersion);
        const keys = new SharedTokenKeys(`${name}-token-keys`, { commonName: args.domain, rotation: args.tokenKeyRotation }, dataChild);
        // Made once per stack and kept in state: every node gets the same values.
        const sharedSecrets = Object.fromEntries(flavor.sharedSecrets.map(sec => [sec.name,
            new random.RandomPassword(`${name}-${sec.name}`, { length: sec.length, special: false }, child).result]));
        this.adminPassword = pulumi.secret(args.adminPassword ?? new random.RandomPassword(`${name}-admin-password`, {
            length: 24, special: false, minUpper: 2, minLower: 2, minNumeric: 2,
        }, child).result);

        const connections = args.nodes.map(n => nodeConnection(n, args.sshPrivateKey));
        const preflightCfg = pulumi.output(args.preflight);
        const endpoints = pulumi.all([ceph, redisCfg]).apply(([c, r]) => [
            ...c.monitors.map((m, i) => ({ name: `ceph-mon-${i + 1}`, ...hostPort(m, 6789) })),
            { name: "mysql", host: mysql.host, port: mysql.port },
            { name: "redis", host: r.host, port: r.port },
        ]);
        // Every change on a node waits for its preflight; a new installer re-runs the checks.
        const preflights = args.nodes.map((n, i) => new NodePreflight(`${name}-${n.name}-preflight`, {
            nodeName: n.name,
            connection: connections[i],
            minFreeSpacePercent: preflightCfg.minFreeSpacePercent,
            minFreeInodesPercent: preflightCfg.minFreeInodesPercent,
            port: args.port,
            composeProject: pulumi.output(args.installDir).apply(composeProjectName),
            endpoints,
            harborVersion: args.harborVersion,
            triggers: [pulumi.output(args.installer).apply(i => i.sha256)],
        }, child));
        const ready = args.nodes.map((n, i) => n.dockerDataRoot === undefined ? preflights[i].passed
            : new DockerDataRoot(`${name}-${n.name}-docker-data-root`, {
                nodeName: n.name, connection: connections[i], dataRoot: n.dockerDataRoot, after: [preflights[i].passed],
            }, child).status);
        const tls = args.protocol === "https" ? new ClusterTls(`${name}-tls`, {
            domain: args.domain,
            sans: [...new Set(args.nodes.flatMap(n => [n.name, n.address]))],
            renewBeforeDays: args.tls.renewBeforeDays,
            port: args.port,
            suppliedCertificatePem: args.tls.certificate,
            suppliedPrivateKeyPem: args.tls.certificate ? args.tlsPrivateKey : undefined,
            suppliedCaPem: args.tls.caCertificate,
        }, dataChild) : undefined;
        const targets = args.nodes.map((n, i) => ({ name: n.name, connection: connections[i], ready: ready[i] }));
        const mounts = args.nodes.map((n, i) => new CephMount(`${name}-${n.name}-cephfs`, {
            connection: targets[i].connection,
            monitors: ceph.monitors, path: ceph.path, mountPoint: ceph.mountPoint, user: ceph.user, client: ceph.client,
            dataPath,
            secret: args.cephSecret,
            after: [ready[i]],
        }, dataChild));
        const db = new ExternalMySQL(`${name}-mysql`, {
            host: mysql.host, port: mysql.port, database: mysql.database, user: mysql.user,
            password: args.mysqlPassword,
            adminUser: mysql.adminUser,
            adminPassword: args.mysqlAdminPassword,
            schemaSql: args.mysqlSchemaSql,
            nodes: targets,
        }, dataChild);
        const redis = new RedisSession(`${name}-redis`, {
            host: redisCfg.host, port: redisCfg.port, password: args.redisPassword,
            dbIndex: redisCfg.dbIndex, poolSize: redisCfg.poolSize,
            nodes: targets,
        }, child);

        // Nodes proceed in parallel, each after its own mount and the shared services.
        const nodes = args.nodes.map((n, i) => new HarborNode(`${name}-${n.name}`, {
            nodeName: n.name,
            connection: targets[i].connection,
            harborVersion: args.harborVersion,
            installer: args.installer,
            installDir: args.installDir,
            mountPoint: ceph.mountPoint,
            dataPath: mounts[i].dataPath,
            domain: args.domain,
            port: args.port,
            protocol: args.protocol,
            tlsCertificatePem: tls?.certificatePem,
            tlsPrivateKeyPem: tls?.privateKeyPem,
            tlsCaPem: tls?.caPem,
            databaseHost: db.host, databasePort: db.port, databaseName: db.database, databaseUser: db.user, databasePassword: db.password,
            redisHost: redis.host, redisPort: redis.port, redisPassword: redis.password, redisDbIndex: redis.dbIndex, redisPoolSize: redis.poolSize,
            adminPassword: this.adminPassword,
            tokenPrivateKeyPem: keys.privateKeyPem,
            tokenCertificatePem: keys.certificatePem,
            sharedSecrets,
            after: [db.ready, redis.ready],
        }, child));

        this.url = pulumi.output(args.domain).apply(domain => `${args.protocol}://${externalHost({ domain, port: args.port, protocol: args.protocol })}`);
        this.caPem = tls?.caPem;
        this.clientTrustPath = tls?.clientTrustPath;
        this.tlsNotAfter = tls?.notAfter;
        this.nodeStatus = pulumi.all(nodes.map(n => n.status)).apply(statuses =>
            Object.fromEntries(args.nodes.map((n, i) => [n.name, statuses[i]])));
        this.preflight = pulumi.all(preflights.map(p => p.results)).apply(results =>
            Object.fromEntries(args.nodes.map((n, i) => [n.name, results[i]])));
        this.tokenCertFingerprint = keys.fingerprintSha256;
        this.tokenCertificatePem = keys.certificatePem;
        this.registerOutputs({
            url: this.url, nodeStatus: this.nodeStatus, preflight: this.preflight, tokenCertFingerprint: this.tokenCertFingerprint,
            tokenCertificatePem: this.tokenCertificatePem, adminPassword: this.adminPassword,
            caPem: this.caPem, clientTrustPath: this.clientTrustPath, tlsNotAfter: this.tlsNotAfter,
        });
    }
}
