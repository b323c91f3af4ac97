// Typed stack configuration: what a stack file describes, after validation.
// Secret values are not here: they travel as pulumi.Output<string> (see config/load.ts).

export type CephClient = "kernel" | "fuse";

export interface NodeConfig {
    /** Short name used in resource names and messages, e.g. "harbor-1". */
    name: string;
    /** Where SSH reaches the node from the machine running Pulumi. */
    host: string;
    sshPort: number;
    user: string;
    /** The node's SSH host public key, authorized_keys format; every connection pins it. */
    hostKey: string;
    /** The address clients and the load balancer use; defaults to host. */
    address: string;
    /** Docker's data root on a data disk (daemon.json data-root); undefined leaves Docker as it is. */
    dockerDataRoot?: string;
}

export interface PreflightConfig {
    /** Like the kubelet's nodefs.available<10%: less free space than this refuses the node. */
    minFreeSpacePercent: number;
    /** Like nodefs.inodesFree<5%. */
    minFreeInodesPercent: number;
    /** A node whose clock is further than this from the machine running Pulumi is refused (components/nodeClock.ts). */
    maxClockSkewMs: number;
    /** A node whose clock no NTP client keeps synchronized is refused. */
    requireTimeSync: boolean;
}

export interface CephConfig {
    /** Monitor addresses, "host" or "host:port". */
    monitors: string[];
    /** Path inside CephFS that holds Harbor's data, e.g. /apps/harbor. */
    path: string;
    /** Where every node mounts it, e.g. /mnt/cephfs/harbor. */
    mountPoint: string;
    /** Ceph client name without the "client." prefix. */
    user: string;
    client: CephClient;
    /**
     * The file system's session_timeout (`ceph fs get <fs>`; Ceph's default 60). A node that comes
     * back from a crash waits this long after its boot before its Docker engine starts Harbor.
     */
    sessionTimeoutSeconds: number;
}

export interface MysqlConfig {
    host: string;
    port: number;
    database: string;
    user: string;
    /** With an admin user (and harbor-ha:mysqlAdminPassword), the database and user are created. */
    adminUser?: string;
    /** Harbor's registry.sql for this version, loaded when the database is empty (needs adminUser). */
    schemaFile?: string;
}

/** Harbor 2.x's database: PostgreSQL >= 12 (Harbor's core creates and migrates the schema). */
export interface PostgresConfig {
    host: string;
    port: number;
    database: string;
    user: string;
    /** With an admin user (and harbor-ha:postgresAdminPassword), the user and a database it owns are created. */
    adminUser?: string;
    /** libpq sslmode: disable, require, verify-ca or verify-full. */
    sslMode: string;
    /** Connections per Harbor process (core, jobservice) on each node. */
    maxIdleConns: number;
    maxOpenConns: number;
}

export interface RedisConfig {
    host: string;
    port: number;
    /** 1.x: the UI sessions' database. 2.x: core always uses 0. */
    dbIndex: number;
    /** 1.x only: beego's pool size in _REDIS_URL. */
    poolSize: number;
    /** 2.x only: the registry's, the job service's and Trivy's databases. */
    registryDbIndex: number;
    jobserviceDbIndex: number;
    trivyDbIndex: number;
}

export type InstallerSource =
    | { kind: "file"; path: string }
    | { kind: "url"; url: string; sha256: string };

export interface TlsConfig {
    /** A generated certificate this close to expiry is re-issued on `pulumi up`. */
    renewBeforeDays: number;
    /** Your own certificate (PEM, with the secret tlsPrivateKey) instead of a generated one. */
    certificate?: string;
    /** The CA clients must trust for your certificate; defaults to the certificate. */
    caCertificate?: string;
}

/**
 * How the load balancer checks the nodes and how a change drains one (render/loadBalancer.ts renders
 * the load balancer's config from it; the deploy waits by the same numbers).
 */
export interface LoadBalancerConfig {
    /** Harbor 1.x: the node port of the drain-aware health check (plain http, published by the proxy). */
    healthPort: number;
    /** The load balancer checks every node this often... */
    checkIntervalSeconds: number;
    /** ...takes a node out after this many failed checks... */
    fall: number;
    /** ...and back in after this many good ones. */
    rise: number;
    /** A drained node keeps serving requests in flight this long before Harbor restarts on it. */
    drainSeconds: number;
}

export interface ClusterConfig {
    /** The registry's domain name: Harbor's hostname on every node, never a node address. */
    domain: string;
    /** The port clients use, published by every node's proxy and by the load balancer. */
    port: number;
    /** https unless http is chosen explicitly (the seed's problem 1). */
    protocol: "http" | "https";
    tls: TlsConfig;
    harborVersion: string;
    /** What the nodes run when the stack has no record of it (its harborVersion output is missing). */
    deployedHarborVersion?: string;
    installer: InstallerSource;
    /** Where the installer is unpacked on each node. */
    installDir: string;
    nodes: NodeConfig[];
    ceph: CephConfig;
    /** Harbor 1.x's database. */
    mysql?: MysqlConfig;
    /** Harbor 2.x's database. */
    postgres?: PostgresConfig;
    redis: RedisConfig;
    /** Changing this value re-keys the token keypair on purpose. */
    tokenKeyRotation: string;
    preflight: PreflightConfig;
    loadBalancer: LoadBalancerConfig;
    /** Protect the data-bearing resources from `pulumi destroy` (production). */
    protectData: boolean;
    /** Another stack's cluster ID (16 hex digits) whose nodes this stack takes over. */
    adoptCluster?: string;
}

/** Names of the secret config keys (without the project prefix). */
export const secretKeys = [
    "sshPrivateKey",
    "cephSecret",
    "mysqlPassword",
    "mysqlAdminPassword",
    "postgresPassword",
    "postgresAdminPassword",
    "redisPassword",
    "adminPassword",
    "tlsPrivateKey",
] as const;
export type SecretKey = (typeof secretKeys)[number];

/** Which secrets must be present; the others are generated or optional. */
export const requiredSecrets: readonly SecretKey[] = ["sshPrivateKey", "cephSecret"];
