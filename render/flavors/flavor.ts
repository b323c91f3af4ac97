// What a Harbor generation is to the program: which installer files it rewrites, what its prepare
// needs, what the deploy does and how a node reports healthy. HarborNode and HarborCluster only
// wire resources around a Flavor; a new generation is one more module next to v1.ts.
import { BundleFile } from "../bundle";
import { DrainCheck } from "../loadBalancer";
import { DrainSettings } from "../scripts/drain";
import { RemoteScript } from "../scripts/shell";
import { GuardSpec } from "../scripts/serviceGuard";

export interface HealthCheck {
    /** Path on the node's proxy port. */
    path: string;
    /** Text the body must contain for the node to count as up. */
    expect: string;
    /** Text the body must not contain (a component reported unhealthy). */
    refuse?: string;
    /**
     * A path on the node's check port (plain HTTP, asked on the node) that must answer 2xx too:
     * 1.x's load balancer check without the drain flag, which also covers the registry.
     */
    ready?: string;
}

/** A Python version range, e.g. 2.7 only, or 3.0 to 3.11. */
export interface PythonRange {
    major: number;
    minMinor: number;
    maxMinor: number;
}

/** The interpreter an installer's Python `prepare` needs; the deploy runs prepare with it, not via the shebang. */
export interface PythonRequirement {
    accepts: readonly PythonRange[];
    /** Commands looked up on the node, in order of preference. */
    candidates: readonly string[];
    /** prepare's first line, for messages. */
    shebang: string;
}

/** Where things are on a node. */
export interface NodeLayout {
    installDir: string;
    /** Where CopyToRemote puts the installer archive. */
    archivePath: string;
    mountPoint: string;
    /** Harbor's data directory on the shared CephFS mount. */
    dataPath: string;
    port: number;
    /** Harbor 1.x: where the proxy answers the load balancer's drain-aware check. */
    healthPort: number;
}

/** How clients reach the registry: the node's health check asks the same way. */
export interface ClientEndpoint {
    protocol: "http" | "https";
    domain: string;
}

/** Harbor's database as a node reaches it (MySQL for 1.x, PostgreSQL for 2.x). */
export interface DatabaseSettings {
    host: string;
    port: number;
    database: string;
    user: string;
    password: string;
    /** PostgreSQL only: sslmode, and connections per Harbor process. */
    sslMode?: string;
    maxIdleConns?: number;
    maxOpenConns?: number;
}

export interface RedisSettings {
    host: string;
    port: number;
    password: string;
    /** 1.x: the session database and beego's pool size. 2.x: core uses database 0, always. */
    dbIndex: number;
    poolSize: number;
    /** 2.x only. */
    registryDbIndex?: number;
    jobserviceDbIndex?: number;
    trivyDbIndex?: number;
}

/** Everything a node's files are rendered from (secret values included: the result travels on stdin). */
export interface NodeSettings {
    domain: string;
    port: number;
    protocol: "http" | "https";
    dataPath: string;
    /** With https: where the node keeps the certificate and key that prepare hands to the proxy. */
    tls?: { certPath: string; keyPath: string };
    database: DatabaseSettings;
    redis: RedisSettings;
    adminPassword: string;
    /** The cluster's shared token keypair (PEM). */
    tokenPrivateKeyPem: string;
    tokenCertificatePem: string;
    /** The cluster's shared random values, by name (see Flavor.sharedSecrets). */
    shared: Record<string, string>;
}

/**
 * How early a token may be used on a node whose clock is behind the signer's: the leeway of the
 * check that verifies Harbor's tokens (nbf is the signer's clock in whole seconds).
 */
export interface TokenLeeway {
    seconds: number;
    /** Which check, for messages: "the registry accepts tokens up to 60 s early". */
    checkedBy: string;
}

/** A random value every node must have identically, made once per stack. */
export interface SharedSecret {
    name: string;
    length: number;
}

/** What `pulumi up` must do to go from the deployed Harbor to this one (render/flavors/v2Releases.ts). */
export interface UpgradePlan {
    kind: "new" | "unchanged" | "node-by-node" | "stop-all";
    /** One line for the preview. */
    message: string;
}

export interface Flavor {
    readonly generation: 1 | 2;
    readonly version: string;
    readonly database: "mysql" | "postgresql";
    /** What the preflight requires of a node. */
    readonly minDocker: string;
    readonly minCompose: string;
    /** Node ports the proxy publishes, checked free (or this Harbor's) by the preflight. */
    ports(port: number, protocol: "http" | "https", healthPort: number): number[];
    /** Where the load balancer checks a node: 503 while it is drained (render/scripts/drain.ts). */
    drainCheck(port: number, protocol: "http" | "https", healthPort: number): DrainCheck;
    /** Installer files the rendering reads, relative to the installer's top directory. */
    readonly installerFiles: readonly string[];
    /** The image archive inside the installer, loaded with `docker load`. */
    readonly imageArchive: RegExp;
    /** Set when the installer's prepare is a Python program. */
    readonly python?: PythonRequirement;
    readonly sharedSecrets: readonly SharedSecret[];
    /** A shared secret whose bcrypt htpasswd hash the nodes also need (made once, kept in state). */
    readonly htpasswdOf?: string;
    readonly health: HealthCheck;
    /** The token check's tolerance of clock skew; the preflight's default skew threshold comes from it. */
    readonly tokenLeeway: TokenLeeway;
    /** A shell function `compose` running the compose command this generation's installer uses. */
    readonly composeFn: string;
    /** Refuses what cannot be done (e.g. 1.x to 2.x in place) with the documented way. */
    /** nodeNames in deploy order: the first one creates or migrates the schema. */
    upgradePlan(deployedVersion: string | undefined, nodeNames: readonly string[]): UpgradePlan;
    /** Files written into the installer directory (or its stage directory) before the deploy runs. */
    renderNodeFiles(installer: Readonly<Record<string, string>>, s: NodeSettings, l: NodeLayout): BundleFile[];
    /**
     * Drains a running node before its containers are recreated, and undrains it once healthy, when
     * it also records what it runs for `cluster` (render/scripts/record.ts).
     */
    deployScript(l: NodeLayout, nodeName: string, e: ClientEndpoint, d: DrainSettings, cluster: string): RemoteScript;
}

/** The address clients use; Harbor puts it in token realms and UI links, so it is the domain, never a node IP. */
export function externalHost(s: { domain: string; port: number; protocol: "http" | "https" }): string {
    const standard = s.protocol === "http" ? 80 : 443;
    return s.port === standard ? s.domain : `${s.domain}:${s.port}`;
}

export function describePython(p: PythonRequirement): string {
    return p.accepts.map(r => r.minMinor === r.maxMinor ? `Python ${r.major}.${r.minMinor}` : `Python ${r.major}.${r.minMinor}-${r.major}.${r.maxMinor}`).join(" or ");
}

/** What a node's deploy or data root move needs to wait for the others before it goes out (render/scripts/serviceGuard.ts). */
export function guardSpec(f: Pick<Flavor, "drainCheck">, l: Pick<NodeLayout, "installDir" | "dataPath" | "port" | "healthPort">, e: ClientEndpoint): GuardSpec {
    return { installDir: l.installDir, dataPath: l.dataPath, domain: e.domain, refuse: f.drainCheck(l.port, e.protocol, l.healthPort).refuse };
}
