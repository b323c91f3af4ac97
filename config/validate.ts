// The one validator: raw stack config in, typed config or EVERY problem out, each naming its key.
// It runs before any resource is registered, so bad input never reaches a host.
import * as net from "net";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { flavorFor, unsupportedReason } from "../render/flavors";
import { defaultMaxClockSkewMs } from "../render/scripts/clock";
import { certificateProblems } from "./certificate";
import { didYouMean } from "./suggest";
import {
    CephClient, CephConfig, ClusterConfig, InstallerSource, LoadBalancerConfig, MysqlConfig, NodeConfig, PostgresConfig, PreflightConfig, RedisConfig,
    SecretKey, TlsConfig, requiredSecrets, secretKeys,
} from "./types";

export const project = "harbor-ha";

/** What the validator sees of one secret key; the value is only inspected, never echoed. */
export interface SecretInput {
    value?: string;
    /** false when the stack file holds it in plain text. */
    storedAsSecret: boolean;
}

export interface RawConfig {
    /** Non-secret keys, objects already JSON-parsed (undefined when absent). */
    values: Record<string, unknown>;
    secrets: Partial<Record<SecretKey, SecretInput>>;
    /** Injected so the validator stays pure. */
    fileExists: (p: string) => boolean;
    /** Every key the stack sets in the harbor-ha namespace (without the prefix): a key not known is reported. */
    keys?: string[];
}

/** Every key the program reads, in the order the README's configuration reference lists them. */
export const plainKeys = [
    "domain", "port", "harborVersion", "installer", "installDir", "nodes", "ceph", "mysql", "postgres", "redis", "tokenKeyRotation",
    "preflight", "loadBalancer", "dockerDataRoot", "protocol", "tls", "protectData", "deployedHarborVersion",
    "adoptCluster",
] as const;

/** The settings each object-valued key accepts (the README's configuration reference lists them). */
export const objectFields = {
    installer: ["path", "url", "sha256"],
    nodes: ["name", "host", "sshPort", "user", "hostKey", "address", "dockerDataRoot"],
    preflight: ["minFreeSpacePercent", "minFreeInodesPercent", "maxClockSkewMs", "requireTimeSync"],
    tls: ["renewBeforeDays", "certificate", "caCertificate"],
    loadBalancer: ["healthPort", "checkIntervalSeconds", "fall", "rise", "drainSeconds"],
    ceph: ["monitors", "path", "mountPoint", "user", "client", "sessionTimeoutSeconds"],
    mysql: ["host", "port", "database", "user", "adminUser", "schemaFile"],
    postgres: ["host", "port", "database", "user", "adminUser", "sslMode", "maxIdleConns", "maxOpenConns"],
    redis: ["host", "port", "dbIndex", "poolSize", "registryDbIndex", "jobserviceDbIndex", "trivyDbIndex"],
} as const;

/**
 * A RunError: the engine prints its message once, as the program's error, without a stack trace.
 * The list says every problem at once.
 */
export class ConfigError extends pulumi.RunError {
    constructor(public readonly problems: string[]) {
        super(`invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
            problems.map(p => `  - ${p}`).join("\n"));
        this.name = "ConfigError";
    }
}

const hostnameRe = /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const nodeNameRe = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
const hostKeyRe = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}( .*)?$/;
const identifierRe = /^[A-Za-z0-9_]{1,64}$/;
const cephUserRe = /^[A-Za-z0-9_.-]{1,64}$/;
const sha256Re = /^[0-9a-f]{64}$/;
const versionRe = /^v?(\d+)\.(\d+)\.(\d+)$/;
const sslModes = ["disable", "require", "verify-ca", "verify-full"];

/** A name whose last label is all digits is meant as an IPv4 address (no top-level domain is numeric). */
function looksLikeIpv4(s: string): boolean {
    return /(^|\.)\d+$/.test(s);
}

export function isHost(s: string): boolean {
    if (net.isIP(s) !== 0) return true;
    return !looksLikeIpv4(s) && hostnameRe.test(s);
}

/** Why a host is not one: an IPv4 address out of range, or a name that is not a host name. */
function hostProblem(s: string): string {
    return looksLikeIpv4(s) ? `"${s}" is not a valid IPv4 address (four numbers from 0 to 255)` : `"${s}" is not a valid host name or IP address`;
}

/** Collects problems; each reader returns a usable default so checking can go on. */
class Checker {
    readonly problems: string[] = [];
    constructor(private readonly raw: RawConfig) {}

    fail(key: string, msg: string): void {
        this.problems.push(`${project}:${key}: ${msg}`);
    }

    value(key: string): unknown {
        return this.raw.values[key];
    }

    str(key: string, v: unknown, opts: { required?: boolean; def?: string } = {}): string {
        if (v === undefined || v === null || v === "") {
            if (opts.required) this.fail(key, "is required");
            return opts.def ?? "";
        }
        if (typeof v !== "string") {
            // YAML reads 0123, 1e3 or yes unquoted as a number or boolean.
            const hint = typeof v === "number" || typeof v === "boolean" ? " (YAML read it as a number or boolean: quote it)" : "";
            this.fail(key, `must be a string, got ${JSON.stringify(v)}${hint}`);
            return opts.def ?? "";
        }
        return v;
    }

    int(key: string, v: unknown, def: number, min: number, max: number): number {
        if (v === undefined || v === null || v === "") return def;
        const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
        if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
            this.fail(key, `must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
            return def;
        }
        return n;
    }

    bool(key: string, v: unknown, def: boolean): boolean {
        if (v === undefined || v === null || v === "") return def;
        if (v === true || v === "true") return true;
        if (v === false || v === "false") return false;
        this.fail(key, `must be true or false, got ${JSON.stringify(v)}`);
        return def;
    }

    port(key: string, v: unknown, def: number): number {
        return this.int(key, v, def, 1, 65535);
    }

    host(key: string, v: unknown, required = true): string {
        const s = this.str(key, v, { required });
        if (s && !isHost(s)) this.fail(key, hostProblem(s));
        return s;
    }

    absPath(key: string, v: unknown, def?: string): string {
        const s = this.str(key, v, { required: def === undefined, def });
        if (s && (!path.posix.isAbsolute(s) || s.includes("\n") || /\s/.test(s))) {
            this.fail(key, `must be an absolute path without spaces, got "${s}"`);
        }
        return path.posix.normalize(s || "/");
    }

    object(key: string, required = true): Record<string, unknown> {
        const v = this.value(key);
        if (v === undefined || v === null) {
            if (required) this.fail(key, "is required");
            return {};
        }
        if (typeof v !== "object" || Array.isArray(v)) {
            this.fail(key, "must be an object");
            return {};
        }
        return v as Record<string, unknown>;
    }

    unknownFields(key: string, obj: Record<string, unknown>, known: readonly string[]): void {
        for (const f of Object.keys(obj)) {
            if (!known.includes(f)) this.fail(`${key}.${f}`, `unknown setting${didYouMean(f, known)} (known: ${known.join(", ")})`);
        }
    }
}

function validateNodes(c: Checker): NodeConfig[] {
    const raw = c.value("nodes");
    if (!Array.isArray(raw)) {
        c.fail("nodes", raw === undefined ? "is required: a list of at least 2 nodes" : "must be a list of nodes");
        return [];
    }
    if (raw.length < 2) {
        c.fail("nodes", `an HA cluster needs at least 2 nodes, got ${raw.length}`);
    }
    const nodes: NodeConfig[] = [];
    raw.forEach((item, i) => {
        const key = `nodes[${i}]`;
        if (typeof item !== "object" || item === null || Array.isArray(item)) {
            c.fail(key, "must be an object with name, host and hostKey");
            return;
        }
        const o = item as Record<string, unknown>;
        c.unknownFields(key, o, objectFields.nodes);
        const name = c.str(`${key}.name`, o.name, { required: true });
        if (name && !nodeNameRe.test(name)) {
            c.fail(`${key}.name`, `"${name}" must be lower-case letters, digits and dashes (at most 32)`);
        }
        const host = c.host(`${key}.host`, o.host);
        const sshPort = c.port(`${key}.sshPort`, o.sshPort, 22);
        const user = c.str(`${key}.user`, o.user, { def: "root" });
        if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(user)) c.fail(`${key}.user`, `"${user}" is not a valid user name`);
        const hostKey = c.str(`${key}.hostKey`, o.hostKey, { required: true });
        if (hostKey && !hostKeyRe.test(hostKey.trim())) {
            c.fail(`${key}.hostKey`, "must be the node's SSH host public key, e.g. \"ssh-ed25519 AAAA...\" " +
                "(ssh-keyscan -t ed25519 HOST); connections are refused without a pinned host key");
        }
        const address = o.address === undefined ? host : c.host(`${key}.address`, o.address);
        const dataRootValue = o.dockerDataRoot ?? c.value("dockerDataRoot");
        const dataRootKey = o.dockerDataRoot !== undefined ? `${key}.dockerDataRoot` : "dockerDataRoot";
        const dockerDataRoot = dataRootValue === undefined || dataRootValue === "" ? undefined : c.absPath(dataRootKey, dataRootValue);
        if (dockerDataRoot === "/") c.fail(dataRootKey, "must not be /");
        nodes.push({ name, host, sshPort, user, hostKey: hostKey.trim(), address, dockerDataRoot });
    });
    const seen = new Map<string, number>();
    nodes.forEach((n, i) => {
        const first = seen.get(n.name);
        if (n.name && first !== undefined) c.fail(`nodes[${i}].name`, `duplicate node name "${n.name}" (also nodes[${first}])`);
        else seen.set(n.name, i);
    });
    const endpoints = new Map<string, number>();
    nodes.forEach((n, i) => {
        const ep = `${n.host}:${n.sshPort}`;
        const first = endpoints.get(ep);
        if (n.host && first !== undefined) c.fail(`nodes[${i}].host`, `duplicate host ${ep} (also nodes[${first}])`);
        else endpoints.set(ep, i);
    });
    const addresses = new Map<string, number>();
    nodes.forEach((n, i) => {
        const first = addresses.get(n.address);
        if (n.address && first !== undefined && n.address !== n.host) {
            c.fail(`nodes[${i}].address`, `duplicate address ${n.address} (also nodes[${first}])`);
        } else addresses.set(n.address, i);
    });
    return nodes;
}

/** The version and its generation (1 or 2; 0 when no flavor supports it). */
function validateVersion(c: Checker): { version: string; generation: 0 | 1 | 2 } {
    // No default: a stack that does not say which Harbor it runs could be deployed as the wrong one.
    const v = c.str("harborVersion", c.value("harborVersion"), { required: true });
    if (!v) return { version: "", generation: 0 };
    const m = versionRe.exec(v);
    if (!m) {
        c.fail("harborVersion", `"${v}" is not a version like 2.15.2`);
        return { version: "", generation: 0 };
    }
    const version = `${m[1]}.${m[2]}.${m[3]}`;
    const flavor = flavorFor(version);
    if (!flavor) c.fail("harborVersion", unsupportedReason(version));
    return { version, generation: flavor?.generation ?? 0 };
}

/**
 * What the nodes run, for a stack that has no record of it (its harborVersion output is missing);
 * the record wins when there is one. Checked against the upgrade plan like a recorded version.
 */
function validateDeployedVersion(c: Checker): string | undefined {
    const v = c.str("deployedHarborVersion", c.value("deployedHarborVersion"), {});
    if (v === undefined || v === "") return undefined;
    const m = versionRe.exec(v);
    if (!m) {
        c.fail("deployedHarborVersion", `"${v}" is not a version like 2.15.2`);
        return undefined;
    }
    return `${m[1]}.${m[2]}.${m[3]}`;
}

/** Another stack's cluster ID, as its nodes' records and the preflight's refusal give it: a RandomId of 8 bytes. */
function validateAdoptCluster(c: Checker): string | undefined {
    const v = c.str("adoptCluster", c.value("adoptCluster"), {});
    if (v === undefined || v === "") return undefined;
    if (!/^[0-9a-f]{16}$/.test(v)) {
        c.fail("adoptCluster", `"${v}" is not a cluster ID: 16 hex digits, as the preflight's refusal names it`);
        return undefined;
    }
    return v;
}

/** An object-valued key that is set: present and not the {} Pulumi.yaml gives as default. */
function isSet(v: unknown): boolean {
    return v !== undefined && v !== null && !(typeof v === "object" && !Array.isArray(v) && Object.keys(v as object).length === 0);
}

/** Keys that belong to the other Harbor generation, each reported with the one to use instead. */
function foreignKeys(c: Checker, raw: RawConfig, generation: 1 | 2, version: string): void {
    const other: Record<1 | 2, { keys: string[]; secrets: string[]; redis: string[]; use: string }> = {
        1: { keys: ["postgres"], secrets: ["postgresPassword", "postgresAdminPassword"], redis: ["registryDbIndex", "jobserviceDbIndex", "trivyDbIndex"], use: "mysql" },
        2: { keys: ["mysql"], secrets: ["mysqlPassword", "mysqlAdminPassword"], redis: ["poolSize"], use: "postgres" },
    };
    const o = other[generation];
    const why = generation === 1 ? `Harbor ${version} keeps its data in MySQL/MariaDB` : `Harbor ${version} keeps its data in PostgreSQL`;
    for (const k of o.keys) if (isSet(c.value(k))) c.fail(k, `does not apply: ${why}; use ${o.use}`);
    for (const k of o.secrets) {
        if (raw.secrets[k as keyof RawConfig["secrets"]]?.value) c.fail(k, `does not apply: ${why}; use ${o.use}${k.endsWith("AdminPassword") ? "AdminPassword" : "Password"}`);
    }
    const redis = c.value("redis");
    if (redis && typeof redis === "object") {
        for (const k of o.redis) {
            if ((redis as Record<string, unknown>)[k] !== undefined) c.fail(`redis.${k}`, `does not apply to Harbor ${version}`);
        }
        if (generation === 2 && (redis as Record<string, unknown>).dbIndex !== undefined && Number((redis as Record<string, unknown>).dbIndex) !== 0) {
            c.fail("redis.dbIndex", "must be 0 with Harbor 2.x: core always uses database 0 (registryDbIndex, jobserviceDbIndex and trivyDbIndex set the others)");
        }
    }
}

function validateInstaller(c: Checker, raw: RawConfig): InstallerSource {
    const o = c.object("installer");
    c.unknownFields("installer", o, objectFields.installer);
    const p = c.str("installer.path", o.path);
    const url = c.str("installer.url", o.url);
    const sha256 = c.str("installer.sha256", o.sha256).toLowerCase();
    if (sha256 && !sha256Re.test(sha256)) c.fail("installer.sha256", "must be 64 hex digits (sha256sum of the installer)");
    if (p && url) c.fail("installer", "set either path or url, not both");
    if (p) {
        if (!raw.fileExists(p)) c.fail("installer.path", `file not found: ${p}`);
        return { kind: "file", path: p };
    }
    if (url) {
        if (!/^https?:\/\/\S+$/.test(url)) c.fail("installer.url", `"${url}" is not an http(s) URL`);
        if (o.sha256 === undefined) c.fail("installer.sha256", "is required with installer.url: a downloaded installer is checked against it");
        return { kind: "url", url, sha256 };
    }
    if (Object.keys(o).length > 0 || c.value("installer") !== undefined) {
        c.fail("installer", "needs path (a local Harbor offline installer .tgz) or url with sha256");
    }
    return { kind: "file", path: "" };
}

function validateCeph(c: Checker): CephConfig {
    const o = c.object("ceph");
    c.unknownFields("ceph", o, objectFields.ceph);
    let monitors: string[] = [];
    if (!Array.isArray(o.monitors) || o.monitors.length === 0) {
        c.fail("ceph.monitors", "needs at least one monitor address (host or host:port)");
    } else {
        monitors = o.monitors.map((m, i) => {
            const s = c.str(`ceph.monitors[${i}]`, m, { required: true });
            const mm = /^(.*?)(?::(\d+))?$/.exec(s)!;
            if (!isHost(mm[1])) c.fail(`ceph.monitors[${i}]`, `${hostProblem(mm[1])}: a monitor is host or host:port`);
            else if (mm[2] !== undefined && (Number(mm[2]) < 1 || Number(mm[2]) > 65535)) {
                c.fail(`ceph.monitors[${i}]`, `"${s}": the port must be from 1 to 65535`);
            }
            return s;
        });
    }
    const client = c.str("ceph.client", o.client, { def: "kernel" }) as CephClient;
    if (client !== "kernel" && client !== "fuse") {
        c.fail("ceph.client", `must be "kernel" (mount -t ceph, the seed's) or "fuse" (ceph-fuse), got "${client}"`);
    }
    const user = c.str("ceph.user", o.user, { def: "harbor" });
    if (!cephUserRe.test(user) || user.startsWith("client.")) {
        c.fail("ceph.user", `"${user}" must be a Ceph client name without the "client." prefix`);
    }
    return {
        monitors,
        path: c.absPath("ceph.path", o.path, "/"),
        mountPoint: c.absPath("ceph.mountPoint", o.mountPoint, "/mnt/cephfs/harbor"),
        user,
        client: client === "fuse" ? "fuse" : "kernel",
        sessionTimeoutSeconds: c.int("ceph.sessionTimeoutSeconds", o.sessionTimeoutSeconds, 60, 5, 3600),
    };
}

function validateMysql(c: Checker, raw: RawConfig): MysqlConfig {
    const o = c.object("mysql");
    c.unknownFields("mysql", o, objectFields.mysql);
    const database = c.str("mysql.database", o.database, { def: "registry" });
    if (!identifierRe.test(database)) c.fail("mysql.database", `"${database}" must be letters, digits and _`);
    const user = c.str("mysql.user", o.user, { def: "harbor" });
    if (!/^[A-Za-z0-9_.-]{1,32}$/.test(user)) c.fail("mysql.user", `"${user}" must be at most 32 letters, digits, _ . -`);
    const adminUser = o.adminUser === undefined ? undefined : c.str("mysql.adminUser", o.adminUser, { required: true });
    const schemaFile = o.schemaFile === undefined ? undefined : c.str("mysql.schemaFile", o.schemaFile, { required: true });
    if (schemaFile && !raw.fileExists(schemaFile)) c.fail("mysql.schemaFile", `file not found: ${schemaFile}`);
    if (schemaFile && !adminUser) c.fail("mysql.schemaFile", "loading the schema needs mysql.adminUser (and the secret harbor-ha:mysqlAdminPassword)");
    if (adminUser && !schemaFile) c.fail("mysql.schemaFile", "is required with mysql.adminUser: Harbor 1.x's registry.sql for this version, loaded into an empty database");
    if (adminUser && !raw.secrets.mysqlAdminPassword?.value) c.fail("mysqlAdminPassword", "is required with mysql.adminUser (pulumi config set --secret harbor-ha:mysqlAdminPassword)");
    if (!adminUser && !raw.secrets.mysqlPassword?.value) {
        c.fail("mysqlPassword", "is required without mysql.adminUser: the database user already exists, so its password must be given " +
            "(or set mysql.adminUser so the user is created with a generated password)");
    }
    return {
        host: c.host("mysql.host", o.host),
        port: c.port("mysql.port", o.port, 3306),
        database, user, adminUser, schemaFile,
    };
}

function validateRedis(c: Checker): RedisConfig {
    const o = c.object("redis");
    c.unknownFields("redis", o, objectFields.redis);
    const r: RedisConfig = {
        host: c.host("redis.host", o.host),
        port: c.port("redis.port", o.port, 6379),
        dbIndex: c.int("redis.dbIndex", o.dbIndex, 0, 0, 15),
        poolSize: c.int("redis.poolSize", o.poolSize, 100, 1, 10000),
        registryDbIndex: c.int("redis.registryDbIndex", o.registryDbIndex, 1, 1, 15),
        jobserviceDbIndex: c.int("redis.jobserviceDbIndex", o.jobserviceDbIndex, 2, 1, 15),
        trivyDbIndex: c.int("redis.trivyDbIndex", o.trivyDbIndex, 5, 1, 15),
    };
    const indices = new Set([r.registryDbIndex, r.jobserviceDbIndex, r.trivyDbIndex]);
    if (indices.size < 3) c.fail("redis", "registryDbIndex, jobserviceDbIndex and trivyDbIndex must be different databases");
    return r;
}

function validatePostgres(c: Checker, raw: RawConfig): PostgresConfig {
    const o = c.object("postgres");
    c.unknownFields("postgres", o, objectFields.postgres);
    const database = c.str("postgres.database", o.database, { def: "registry" });
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(database)) c.fail("postgres.database", `"${database}" must be lower-case letters, digits and _`);
    const user = c.str("postgres.user", o.user, { def: "harbor" });
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(user)) c.fail("postgres.user", `"${user}" must be lower-case letters, digits and _`);
    const adminUser = o.adminUser === undefined ? undefined : c.str("postgres.adminUser", o.adminUser, { required: true });
    if (adminUser && !raw.secrets.postgresAdminPassword?.value) {
        c.fail("postgresAdminPassword", "is required with postgres.adminUser (pulumi config set --secret harbor-ha:postgresAdminPassword)");
    }
    if (!adminUser && !raw.secrets.postgresPassword?.value) {
        c.fail("postgresPassword", "is required without postgres.adminUser: the database user already exists, so its password must be given " +
            "(or set postgres.adminUser so the user and its database are created with a generated password)");
    }
    const sslMode = c.str("postgres.sslMode", o.sslMode, { def: "disable" });
    if (!sslModes.includes(sslMode)) c.fail("postgres.sslMode", `must be one of ${sslModes.join(", ")}, got "${sslMode}"`);
    return {
        host: c.host("postgres.host", o.host),
        port: c.port("postgres.port", o.port, 5432),
        database, user, adminUser, sslMode,
        maxIdleConns: c.int("postgres.maxIdleConns", o.maxIdleConns, 2, 0, 1000),
        maxOpenConns: c.int("postgres.maxOpenConns", o.maxOpenConns, 15, 1, 1000),
    };
}

function validatePreflight(c: Checker, version: string): PreflightConfig {
    const o = c.object("preflight", false);
    c.unknownFields("preflight", o, objectFields.preflight);
    const flavor = version ? flavorFor(version) : undefined;
    return {
        minFreeSpacePercent: c.int("preflight.minFreeSpacePercent", o.minFreeSpacePercent, 10, 0, 99),
        minFreeInodesPercent: c.int("preflight.minFreeInodesPercent", o.minFreeInodesPercent, 5, 0, 99),
        maxClockSkewMs: c.int("preflight.maxClockSkewMs", o.maxClockSkewMs, flavor ? defaultMaxClockSkewMs(flavor.tokenLeeway) : 1000, 1, 60000),
        requireTimeSync: c.bool("preflight.requireTimeSync", o.requireTimeSync, true),
    };
}

function validateLoadBalancer(c: Checker, port: number): LoadBalancerConfig {
    const o = c.object("loadBalancer", false);
    c.unknownFields("loadBalancer", o, objectFields.loadBalancer);
    const lb: LoadBalancerConfig = {
        healthPort: c.port("loadBalancer.healthPort", o.healthPort, 8099),
        checkIntervalSeconds: c.int("loadBalancer.checkIntervalSeconds", o.checkIntervalSeconds, 2, 1, 60),
        fall: c.int("loadBalancer.fall", o.fall, 3, 1, 10),
        rise: c.int("loadBalancer.rise", o.rise, 2, 1, 10),
        drainSeconds: c.int("loadBalancer.drainSeconds", o.drainSeconds, 30, 1, 3600),
    };
    if ([port, 80, 443, 4443].includes(lb.healthPort)) {
        c.fail("loadBalancer.healthPort", `${lb.healthPort} is already published by Harbor's proxy on every node; choose a free port`);
    }
    const outAfter = lb.fall * lb.checkIntervalSeconds;
    if (lb.drainSeconds <= outAfter) {
        c.fail("loadBalancer.drainSeconds", `${lb.drainSeconds}s is too short: the load balancer takes a drained node out only after ` +
            `fall x checkIntervalSeconds = ${outAfter}s; give it more than that`);
    }
    return lb;
}

function validateTls(c: Checker, raw: RawConfig, protocol: string, domain: string): TlsConfig {
    const o = c.object("tls", false);
    c.unknownFields("tls", o, objectFields.tls);
    const certificate = o.certificate === undefined || o.certificate === "" ? undefined : c.str("tls.certificate", o.certificate);
    const caCertificate = o.caCertificate === undefined || o.caCertificate === "" ? undefined : c.str("tls.caCertificate", o.caCertificate);
    const key = raw.secrets.tlsPrivateKey?.value;
    if (certificate && protocol === "https") {
        if (!key) c.fail("tlsPrivateKey", "is required with tls.certificate (pulumi config set --secret harbor-ha:tlsPrivateKey < server.key)");
        else if (domain) for (const p of certificateProblems(certificate, key, domain)) c.fail("tls.certificate", p);
    }
    if (key && !certificate) c.fail("tlsPrivateKey", "is set but tls.certificate is not: give both, or neither for a generated certificate");
    if (certificate && protocol === "http") c.fail("tls.certificate", "is set but protocol is http");
    return { renewBeforeDays: c.int("tls.renewBeforeDays", o.renewBeforeDays, 30, 1, 365), certificate, caCertificate };
}

function validateSecrets(c: Checker, raw: RawConfig, generation: 0 | 1 | 2): void {
    for (const key of secretKeys) {
        const s = raw.secrets[key];
        if (!s || s.value === undefined || s.value === "") {
            if (requiredSecrets.includes(key)) c.fail(key, `is required (pulumi config set --secret ${project}:${key} ...)`);
            continue;
        }
        if (!s.storedAsSecret) {
            c.fail(key, `is stored in plain text in the stack file; remove it and set it with ` +
                `"pulumi config set --secret ${project}:${key}" so it is encrypted`);
        }
        if (key !== "sshPrivateKey" && key !== "tlsPrivateKey" && (/[\r\n\0]/.test(s.value) || s.value !== s.value.trim())) {
            c.fail(key, "must be one line without leading or trailing spaces");
        }
    }
    const ssh = raw.secrets.sshPrivateKey?.value;
    if (ssh && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(ssh)) {
        c.fail("sshPrivateKey", "must be a PEM/OpenSSH private key (-----BEGIN ... PRIVATE KEY-----)");
    }
    const ceph = raw.secrets.cephSecret?.value;
    if (ceph && !/^[A-Za-z0-9+/]{20,}={0,2}$/.test(ceph)) {
        c.fail("cephSecret", "must be the base64 key of the Ceph client (ceph auth get-key client.NAME), not a keyring file");
    }
    if (generation === 1 && raw.secrets.redisPassword?.value?.includes(",")) {
        c.fail("redisPassword", "must not contain a comma: Harbor 1.x's _REDIS_URL setting is comma-separated");
    }
    const admin = raw.secrets.adminPassword?.value;
    if (admin && (admin.length < 8 || !/[A-Z]/.test(admin) || !/[a-z]/.test(admin) || !/[0-9]/.test(admin))) {
        c.fail("adminPassword", "Harbor requires at least 8 characters with an upper-case letter, a lower-case letter and a digit");
    }
}

/** Keys of the harbor-ha namespace the program does not read: typos, mostly, that would be ignored. */
function unknownKeys(c: Checker, raw: RawConfig): void {
    const known: string[] = [...plainKeys, ...secretKeys];
    for (const k of raw.keys ?? []) {
        if (!known.includes(k)) c.fail(k, `unknown key${didYouMean(k, known)} (the README's configuration reference lists every key)`);
    }
}

/** A label, not a secret: changing it re-keys; it lands in state and in the keypair's inputs. */
function validateRotation(c: Checker): string {
    const v = c.value("tokenKeyRotation");
    if (v === undefined || v === null || v === "") return "0";
    const s = typeof v === "number" && Number.isInteger(v) ? String(v) : v;
    if (typeof s !== "string" || !/^[A-Za-z0-9._:-]{1,64}$/.test(s)) {
        c.fail("tokenKeyRotation", `must be a label of at most 64 letters, digits and . _ : - (e.g. 2026-12 or 1), got ${JSON.stringify(v)}`);
        return "0";
    }
    return s;
}

export function validateConfig(raw: RawConfig): ClusterConfig {
    const c = new Checker(raw);
    unknownKeys(c, raw);
    const domain = c.str("domain", c.value("domain"), { required: true });
    if (domain) {
        if (net.isIP(domain) !== 0) {
            c.fail("domain", `must be a domain name, not an IP address ("${domain}"): clients and nodes must agree on the registry address`);
        } else if (!hostnameRe.test(domain) || !domain.includes(".") || looksLikeIpv4(domain)) {
            c.fail("domain", `"${domain}" is not a fully qualified domain name`);
        } else if (/^localhost(\.|$)/i.test(domain)) {
            c.fail("domain", "must not be localhost: clients reach the registry through the load balancer");
        }
    }
    const protocol = c.str("protocol", c.value("protocol"), { def: "https" });
    if (protocol !== "https" && protocol !== "http") c.fail("protocol", `must be "https" or "http", got "${protocol}"`);
    const version = validateVersion(c);
    if (version.generation !== 0) foreignKeys(c, raw, version.generation, version.version);
    const port = c.port("port", c.value("port"), 8070);
    const cfg: ClusterConfig = {
        domain,
        port,
        protocol: protocol === "http" ? "http" : "https",
        tls: validateTls(c, raw, protocol, domain),
        harborVersion: version.version,
        installer: validateInstaller(c, raw),
        installDir: c.absPath("installDir", c.value("installDir"), "/opt/harbor"),
        nodes: validateNodes(c),
        ceph: validateCeph(c),
        mysql: version.generation === 1 ? validateMysql(c, raw) : undefined,
        postgres: version.generation === 2 ? validatePostgres(c, raw) : undefined,
        redis: validateRedis(c),
        tokenKeyRotation: validateRotation(c),
        preflight: validatePreflight(c, version.version),
        loadBalancer: validateLoadBalancer(c, port),
        protectData: c.bool("protectData", c.value("protectData"), false),
        deployedHarborVersion: validateDeployedVersion(c),
        adoptCluster: validateAdoptCluster(c),
    };
    if (cfg.installDir === "/" || cfg.installDir.startsWith(cfg.ceph.mountPoint)) {
        c.fail("installDir", `must be a node-local directory, not / or inside ceph.mountPoint (${cfg.ceph.mountPoint})`);
    }
    for (const n of cfg.nodes) {
        if (n.address === cfg.domain) c.fail("domain", `must not equal node ${n.name}'s address`);
    }
    validateSecrets(c, raw, version.generation);
    if (c.problems.length > 0) throw new ConfigError(c.problems);
    return cfg;
}

/** Allowed but worth saying in every preview. */
export function configWarnings(cfg: ClusterConfig): string[] {
    return cfg.protocol === "http"
        ? [`${project}:protocol is http: registry passwords cross the network in clear text and every Docker client ` +
            `needs "insecure-registries" (the seed's problem 1). Use https unless this is a throwaway lab.`]
        : [];
}
