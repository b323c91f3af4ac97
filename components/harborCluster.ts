import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as path from "path";
import { InstallerContents } from "../config/installer";
import { CephConfig, LoadBalancerConfig, MysqlConfig, NodeConfig, PostgresConfig, PreflightConfig, RedisConfig, TlsConfig } from "../config/types";
import { DatabaseSettings, externalHost, Flavor, RedisSettings, requireFlavor } from "../render/flavors";
import { schemaVersion } from "../render/flavors/v2Releases";
import { renderHaproxyConfig, renderNginxStreamConfig } from "../render/loadBalancer";
import { composeProjectName } from "../render/scripts/harborNode";
import { PreflightResult } from "../render/scripts/preflight";
import { CephMount } from "./cephMount";
import { ClusterTls } from "./clusterTls";
import { nodeConnection, NodeTarget } from "./connection";
import { DockerDataRoot } from "./dockerDataRoot";
import { ExternalMySQL } from "./externalMysql";
import { ExternalPostgreSQL } from "./externalPostgres";
import { HarborNode } from "./harborNode";
import { NodePreflight } from "./nodePreflight";
import { RedisSession } from "./redisSession";
import { RegistryHtpasswd } from "./registryHtpasswd";
import { SharedTokenKeys } from "./sharedTokenKeys";
import { UpgradeStop } from "./upgradeStop";

export interface HarborClusterArgs {
    domain: pulumi.Input<string>;
    port: number;
    /** Plain: https creates the ClusterTls component. */
    protocol: "http" | "https";
    tls: TlsConfig;
    tlsPrivateKey?: pulumi.Input<string>;
    /** Plain: selects the flavor, which decides the database component, the shared secrets and the order. */
    harborVersion: string;
    /** Plain: the version the cluster runs now (the stack's last harborVersion output), for the upgrade plan. */
    deployedHarborVersion?: string;
    installer: pulumi.Input<InstallerContents>;
    installDir: pulumi.Input<string>;
    /** One HarborNode (and CephMount) per entry; at least two. */
    nodes: NodeConfig[];
    sshPrivateKey: pulumi.Input<string>;
    ceph: pulumi.Input<CephConfig>;
    cephSecret: pulumi.Input<string>;
    /** Plain, Harbor 1.x: whether an admin credential is given decides which resources exist. */
    mysql?: MysqlConfig;
    /** Plain, Harbor 2.x: likewise. */
    postgres?: PostgresConfig;
    /** Harbor's database password (mysqlPassword or postgresPassword). */
    databasePassword?: pulumi.Input<string>;
    databaseAdminPassword?: pulumi.Input<string>;
    /** registry.sql content, with mysql.adminUser (Harbor 1.x ships its schema; 2.x's core makes its own). */
    mysqlSchemaSql?: pulumi.Input<string>;
    redis: pulumi.Input<RedisConfig>;
    redisPassword?: pulumi.Input<string>;
    /** Harbor's initial admin password; generated when absent. */
    adminPassword?: pulumi.Input<string>;
    tokenKeyRotation: pulumi.Input<string>;
    preflight: pulumi.Input<PreflightConfig>;
    /** Plain: the load balancer's check timing and drain, rendered into its config and the deploys' waits. */
    loadBalancer: LoadBalancerConfig;
    /** Protect the data-bearing components from `pulumi destroy`. */
    protectData?: boolean;
    /**
     * The cluster ID of another stack whose nodes this one takes over (their records name it; the
     * preflight refuses them otherwise). The nodes then get this stack's secrets.
     */
    adoptCluster?: pulumi.Input<string>;
}

function hostPort(address: string, defaultPort: number): { host: string; port: number } {
    const m = /^(.*?)(?::(\d+))?$/.exec(address)!;
    return { host: m[1], port: m[2] ? Number(m[2]) : defaultPort };
}

interface Database {
    settings: pulumi.Output<DatabaseSettings>;
    ready: pulumi.Output<string>;
}

/** The flavor's database component: ExternalMySQL for 1.x, ExternalPostgreSQL for 2.x. */
function database(name: string, f: Flavor, args: HarborClusterArgs, targets: NodeTarget[], opts: pulumi.ComponentResourceOptions): Database {
    if (f.database === "mysql") {
        const m = args.mysql;
        if (!m) throw new Error(`${name}: Harbor ${f.version} needs mysql`);
        const db = new ExternalMySQL(`${name}-mysql`, {
            host: m.host, port: m.port, database: m.database, user: m.user,
            password: args.databasePassword, adminUser: m.adminUser, adminPassword: args.databaseAdminPassword,
            schemaSql: args.mysqlSchemaSql, nodes: targets,
        }, opts);
        return {
            settings: pulumi.all([db.host, db.port, db.database, db.user, db.password])
                .apply(([host, port, database, user, password]) => ({ host, port, database, user, password })),
            ready: db.ready,
        };
    }
    const p = args.postgres;
    if (!p) throw new Error(`${name}: Harbor ${f.version} needs postgres`);
    const db = new ExternalPostgreSQL(`${name}-postgres`, {
        host: p.host, port: p.port, database: p.database, user: p.user, sslMode: p.sslMode,
        password: args.databasePassword, adminUser: p.adminUser, adminPassword: args.databaseAdminPassword, nodes: targets,
    }, opts);
    return {
        settings: pulumi.all([db.host, db.port, db.database, db.user, db.password])
            .apply(([host, port, database, user, password]) => ({
                host, port, database, user, password, sslMode: p.sslMode, maxIdleConns: p.maxIdleConns, maxOpenConns: p.maxOpenConns,
            })),
        ready: db.ready,
    };
}

/** The seed's design 1: N full Harbor nodes on shared CephFS, one external database and Redis, one keypair. */
export class HarborCluster extends pulumi.ComponentResource {
    public readonly url: pulumi.Output<string>;
    public readonly nodeStatus: pulumi.Output<Record<string, string>>;
    public readonly preflight: pulumi.Output<Record<string, PreflightResult[]>>;
    public readonly tokenCertFingerprint: pulumi.Output<string>;
    public readonly tokenCertificatePem: pulumi.Output<string>;
    public readonly adminPassword: pulumi.Output<string>;
    /** The version the nodes run after this update (read back as deployedHarborVersion next time). */
    public readonly harborVersion: pulumi.Output<string>;
    /** What this update does to the running cluster: new, unchanged, node-by-node or stop-all. */
    public readonly upgrade: pulumi.Output<string>;
    /** With https: the CA clients trust, where Docker wants it, and the certificate's expiry. */
    public readonly caPem?: pulumi.Output<string>;
    public readonly clientTrustPath?: pulumi.Output<string>;
    public readonly tlsNotAfter?: pulumi.Output<string>;
    /** With https: the SHA-256 fingerprint of the certificate every node serves. */
    public readonly tlsCertFingerprint?: pulumi.Output<string>;
    /** The load balancer's config for these nodes: HAProxy (checks the drain) and nginx stream. */
    public readonly loadBalancer: pulumi.Output<{ haproxy: string; nginx: string }>;

    constructor(name: string, args: HarborClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("harbor-ha:index:HarborCluster", name, {}, opts);
        if (args.nodes.length < 2) throw new Error(`${name}: an HA cluster needs at least 2 nodes`);
        const flavor = requireFlavor(args.harborVersion);
        const plan = flavor.upgradePlan(args.deployedHarborVersion, args.nodes.map(n => n.name));
        pulumi.log.info(plan.message, this);
        const child = { parent: this };
        // Children inherit protect: a destroy then stops at these components instead of unmounting or re-keying.
        const dataChild = { parent: this, protect: args.protectData ?? false };
        const ceph = pulumi.output(args.ceph);
        const redisCfg = pulumi.output(args.redis);
        const dataPath = ceph.apply(c => path.posix.join(c.mountPoint, "data"));

        const keys = new SharedTokenKeys(`${name}-token-keys`, { commonName: args.domain, rotation: args.tokenKeyRotation }, dataChild);
        // Made once per stack and kept in state: every node gets the same values.
        const shared: Record<string, pulumi.Output<string>> = Object.fromEntries(flavor.sharedSecrets.map(sec => [sec.name,
            new random.RandomPassword(`${name}-${sec.name}`, { length: sec.length, special: false }, child).result]));
        if (flavor.htpasswdOf) {
            shared.registryHtpasswd = new RegistryHtpasswd(`${name}-registry-htpasswd`, { password: shared[flavor.htpasswdOf] }, child).hash;
        }
        this.adminPassword = pulumi.secret(args.adminPassword ?? new random.RandomPassword(`${name}-admin-password`, {
            length: 24, special: false, minUpper: 2, minLower: 2, minNumeric: 2,
        }, child).result);

        const connections = args.nodes.map(n => nodeConnection(n, args.sshPrivateKey));
        const preflightCfg = pulumi.output(args.preflight);
        const dbEndpoint = flavor.database === "mysql"
            ? { name: "mysql", host: args.mysql?.host ?? "", port: args.mysql?.port ?? 3306 }
            : { name: "postgres", host: args.postgres?.host ?? "", port: args.postgres?.port ?? 5432 };
        const endpoints = pulumi.all([ceph, redisCfg]).apply(([c, r]) => [
            ...c.monitors.map((m, i) => ({ name: `ceph-mon-${i + 1}`, ...hostPort(m, 6789) })),
            dbEndpoint,
            { name: "redis", host: r.host, port: r.port },
        ]);
        // Which stack deployed the nodes: recorded on each with the version it runs (render/scripts/record.ts),
        // and checked by the preflight, which refuses another stack's nodes.
        const clusterId = new random.RandomId(`${name}-cluster-id`, { byteLength: 8 }, child).hex;
        // Every change on a node waits for its preflight; a new installer re-runs the checks.
        const preflightTriggers = [pulumi.output(args.installer).apply(i => i.sha256)];
        const preflights = args.nodes.map((n, i) => new NodePreflight(`${name}-${n.name}-preflight`, {
            nodeName: n.name,
            connection: connections[i],
            minFreeSpacePercent: preflightCfg.minFreeSpacePercent,
            minFreeInodesPercent: preflightCfg.minFreeInodesPercent,
            port: args.port,
            healthPort: args.loadBalancer.healthPort,
            protocol: args.protocol,
            composeProject: pulumi.output(args.installDir).apply(composeProjectName),
            endpoints,
            harborVersion: args.harborVersion,
            installDir: args.installDir,
            cluster: clusterId,
            adoptCluster: args.adoptCluster,
            requireTimeSync: preflightCfg.requireTimeSync,
            maxClockSkewMs: preflightCfg.maxClockSkewMs,
            triggers: preflightTriggers,
        }, child));
        const tls = args.protocol === "https" ? new ClusterTls(`${name}-tls`, {
            domain: args.domain,
            sans: [...new Set(args.nodes.flatMap(n => [n.name, n.address]))],
            renewBeforeDays: args.tls.renewBeforeDays,
            port: args.port,
            suppliedCertificatePem: args.tls.certificate,
            suppliedPrivateKeyPem: args.tls.certificate ? args.tlsPrivateKey : undefined,
            suppliedCaPem: args.tls.caCertificate,
        }, dataChild) : undefined;
        // The database and Redis checks need only a node that passed its preflight (no Docker): a data root
        // move may wait for the node before it, which waits for them.
        const targets: NodeTarget[] = args.nodes.map((n, i) => ({ name: n.name, connection: connections[i], ready: preflights[i].passed }));
        const db = database(name, flavor, args, targets, dataChild);
        const redis = new RedisSession(`${name}-redis`, {
            host: redisCfg.host, port: redisCfg.port, password: args.redisPassword,
            dbIndex: redisCfg.dbIndex, poolSize: redisCfg.poolSize,
            nodes: targets,
        }, child);
        const redisSettings = pulumi.all([redis.host, redis.port, redis.password, redis.dbIndex, redis.poolSize, redisCfg])
            .apply(([host, port, password, dbIndex, poolSize, r]): RedisSettings => ({
                host, port, password, dbIndex, poolSize,
                registryDbIndex: r.registryDbIndex, jobserviceDbIndex: r.jobserviceDbIndex, trivyDbIndex: r.trivyDbIndex,
            }));

        const lb = args.loadBalancer;
        const drain = { drainSeconds: lb.drainSeconds, checkIntervalSeconds: lb.checkIntervalSeconds, fall: lb.fall, rise: lb.rise };
        const nodes: HarborNode[] = [];
        // A new cluster, or one stopped for a schema migration: one node first (it creates or
        // migrates the schema), then the rest together. A running cluster: one node after another,
        // each drained first, so the others keep serving.
        const oneFirst = plan.kind === "new" || plan.kind === "stop-all";

        // Docker's data root (where set), then the CephFS mount. A move stops Docker and Harbor with
        // it, so moves never overlap: on a running cluster a node's move waits for the node before it
        // (its move and its deploy), otherwise for the previous move. dependsOn, not an input: the
        // preview of a change elsewhere shows no change here.
        const prepared: { ready: pulumi.Input<string>; dataPath: pulumi.Output<string>; move?: DockerDataRoot }[] = [];
        const prepare = (i: number, waitFor: pulumi.Resource[]): void => {
            const n = args.nodes[i];
            const move = n.dockerDataRoot === undefined ? undefined : new DockerDataRoot(`${name}-${n.name}-docker-data-root`, {
                nodeName: n.name, connection: connections[i], dataRoot: n.dockerDataRoot, after: [preflights[i].passed],
                harborVersion: args.harborVersion, installDir: args.installDir, dataPath, port: args.port, healthPort: lb.healthPort,
                protocol: args.protocol, domain: args.domain, drain, waitFor,
            }, child);
            const ready = move?.status ?? preflights[i].passed;
            const mount = new CephMount(`${name}-${n.name}-cephfs`, {
                connection: connections[i],
                monitors: ceph.monitors, path: ceph.path, mountPoint: ceph.mountPoint, user: ceph.user, client: ceph.client,
                sessionTimeoutSeconds: ceph.sessionTimeoutSeconds,
                dataPath,
                secret: args.cephSecret,
                after: [ready],
            }, dataChild);
            prepared.push({ ready, dataPath: mount.dataPath, move });
        };
        const previousMove = (i: number): pulumi.Resource[] => {
            const m = prepared.slice(0, i).reverse().find(p => p.move)?.move;
            return m ? [m] : [];
        };
        if (oneFirst) args.nodes.forEach((_, i) => prepare(i, previousMove(i)));

        // Harbor does not run two versions on one schema: before an upgrade that changes it, every
        // node stops (these re-run only when the target schema changes; on a new cluster they find
        // nothing to stop).
        const target = schemaVersion(flavor.version);
        const stops = flavor.generation === 2 && target !== undefined ? args.nodes.map((n, i) => new UpgradeStop(`${name}-${n.name}-upgrade-stop`, {
            nodeName: n.name, connection: connections[i], installDir: args.installDir, schemaVersion: target,
            after: [oneFirst ? prepared[i].ready : preflights[i].passed],
        }, child).stopped) : [];

        const waitFor = (i: number): pulumi.Input<string>[] => {
            if (i === 0) return stops;
            return oneFirst ? [nodes[0].status] : [nodes[i - 1].status];
        };
        args.nodes.forEach((n, i) => {
            if (!oneFirst) prepare(i, i === 0 ? [] : [...previousMove(i), nodes[i - 1]]);
            const order = waitFor(i);
            nodes.push(new HarborNode(`${name}-${n.name}`, {
                nodeName: n.name,
                connection: connections[i],
                hostKey: n.hostKey,
                harborVersion: args.harborVersion,
                installer: args.installer,
                installDir: args.installDir,
                mountPoint: ceph.mountPoint,
                dataPath: prepared[i].dataPath,
                domain: args.domain,
                port: args.port,
                healthPort: lb.healthPort,
                drain,
                protocol: args.protocol,
                tlsCertificatePem: tls?.certificatePem,
                tlsPrivateKeyPem: tls?.privateKeyPem,
                tlsCaPem: tls?.caPem,
                database: db.settings,
                redis: redisSettings,
                adminPassword: this.adminPassword,
                tokenPrivateKeyPem: keys.privateKeyPem,
                tokenCertificatePem: keys.certificatePem,
                sharedSecrets: shared,
                after: [db.ready, redis.ready, ...order],
                preflight: preflights[i].script,
                clock: preflights[i].clock,
                cluster: clusterId,
                peers: args.nodes.map(p => ({ name: p.name, address: p.address })),
            }, child));
        });

        this.url = pulumi.output(args.domain).apply(domain => `${args.protocol}://${externalHost({ domain, port: args.port, protocol: args.protocol })}`);
        this.caPem = tls?.caPem;
        this.clientTrustPath = tls?.clientTrustPath;
        this.tlsNotAfter = tls?.notAfter;
        this.tlsCertFingerprint = tls?.fingerprintSha256;
        this.loadBalancer = pulumi.output(args.domain).apply(domain => {
            const spec = {
                domain, port: args.port, nodes: args.nodes.map(n => ({ name: n.name, address: n.address })),
                check: flavor.drainCheck(args.port, args.protocol, lb.healthPort),
                checkIntervalSeconds: lb.checkIntervalSeconds, fall: lb.fall, rise: lb.rise,
            };
            return { haproxy: renderHaproxyConfig(spec), nginx: renderNginxStreamConfig(spec) };
        });
        this.nodeStatus = pulumi.all(nodes.map(n => n.status)).apply(statuses =>
            Object.fromEntries(args.nodes.map((n, i) => [n.name, statuses[i]])));
        this.preflight = pulumi.all(preflights.map(p => p.results)).apply(results =>
            Object.fromEntries(args.nodes.map((n, i) => [n.name, results[i]])));
        this.tokenCertFingerprint = keys.fingerprintSha256;
        this.tokenCertificatePem = keys.certificatePem;
        // Known only once every node is deployed: a failed update keeps the old value for next time.
        this.harborVersion = this.nodeStatus.apply(() => flavor.version);
        this.upgrade = pulumi.output(plan.message);
        this.registerOutputs({
            url: this.url, nodeStatus: this.nodeStatus, preflight: this.preflight, tokenCertFingerprint: this.tokenCertFingerprint,
            tokenCertificatePem: this.tokenCertificatePem, adminPassword: this.adminPassword, harborVersion: this.harborVersion,
            upgrade: this.upgrade, loadBalancer: this.loadBalancer, caPem: this.caPem, clientTrustPath: this.clientTrustPath, tlsNotAfter: this.tlsNotAfter,
            tlsCertFingerprint: this.tlsCertFingerprint,
        });
    }
}
