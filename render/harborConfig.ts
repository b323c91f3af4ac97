// harbor.cfg and the two env templates of the seed's steps 2 and 4.
import { Flavor } from "./flavor";
import { setKeys, templateLiteral } from "./keyValueFile";

export interface HarborSettings {
    domain: string;
    port: number;
    protocol: "http" | "https";
    /** Harbor's data directory on the shared CephFS mount. */
    dataPath: string;
    mysql: { host: string; port: number; database: string; user: string; password: string };
    /** The seed's _REDIS_URL value: host:port,poolsize,password,dbindex. */
    redisUrl: string;
    adminPassword: string;
    /** With https: where the node keeps the certificate and key that prepare hands to the proxy. */
    tls?: { certPath: string; keyPath: string };
}

/** The address clients use; Harbor puts it in token realms and UI links, so it is the domain, never a node IP. */
export function externalHost(s: Pick<HarborSettings, "domain" | "port" | "protocol">): string {
    const standard = s.protocol === "http" ? 80 : 443;
    return s.port === standard ? s.domain : `${s.domain}:${s.port}`;
}

export function renderHarborCfg(template: string, flavor: Flavor, s: HarborSettings): string {
    const keys: Record<string, string> = {
        hostname: externalHost(s),
        ui_url_protocol: s.protocol,
        db_password: s.mysql.password,
        harbor_admin_password: s.adminPassword,
        // The shared keypair is installed after prepare; "off" keeps prepare from minting a new one.
        customize_crt: "off",
        // The secretkey encrypts settings stored in the shared database: one file on shared storage.
        secretkey_path: s.dataPath,
    };
    if (s.protocol === "https") {
        if (!s.tls) throw new Error("https needs the certificate and key paths");
        Object.assign(keys, { ssl_cert: s.tls.certPath, ssl_cert_key: s.tls.keyPath });
    }
    if (flavor.cfgHasDbHost) {
        Object.assign(keys, { db_host: s.mysql.host, db_port: String(s.mysql.port), db_user: s.mysql.user });
    }
    if (flavor.cfgHasRedisUrl) {
        Object.assign(keys, { redis_url: s.redisUrl, reload_config: "true" });
    }
    return setKeys(template, keys, "cfg");
}

/** Seed step 4: adminserver reads the external MySQL; RESET=true makes it re-read its env at start. */
export function renderAdminserverEnv(template: string, s: HarborSettings): string {
    return setKeys(template, {
        MYSQL_HOST: templateLiteral(s.mysql.host),
        MYSQL_PORT: String(s.mysql.port),
        MYSQL_USR: templateLiteral(s.mysql.user),
        MYSQL_PWD: templateLiteral(s.mysql.password),
        MYSQL_DATABASE: templateLiteral(s.mysql.database),
        RESET: "true",
    }, "env");
}

/** Seed step 4: UI sessions in the shared Redis, so a session from one node is valid on all. */
export function renderUiEnv(template: string, s: HarborSettings): string {
    return setKeys(template, { _REDIS_URL: templateLiteral(s.redisUrl) }, "env");
}

/** The beego redis session provider's "addr,poolsize,password,dbnum" form. */
export function redisSessionUrl(r: { host: string; port: number; poolSize: number; dbIndex: number }, password: string): string {
    if (password.includes(",")) throw new Error("the Redis password must not contain a comma (the _REDIS_URL form is comma-separated)");
    return `${r.host}:${r.port},${r.poolSize},${password},${r.dbIndex}`;
}
