// Harbor 1.x's configuration files, the seed's steps 2 and 4: harbor.cfg and the adminserver and ui
// env templates (prepare renders common/config from them). Facts per version: lab/installer/README.md.
import { externalHost, NodeSettings } from "./flavor";
import { setKeys, templateLiteral } from "../keyValueFile";

/** What differs between Harbor 1.1 and 1.5 in these files. */
export interface V1Keys {
    /** harbor.cfg has db_host/db_port/db_user (1.3+). */
    cfgHasDbHost: boolean;
    /** prepare reads redis_url and reload_config (1.4+; neither is in the shipped harbor.cfg of 1.4). */
    cfgHasRedisUrl: boolean;
    /** 1.5's jobservice reads harbor.cfg's redis_url and only translates the comma form when Go's url.Parse fails. */
    redisUrlForm: "comma" | "url";
    /**
     * The adminserver keeps its settings in config.json (1.1-1.3; from 1.4 in MySQL, CFG_DRIVER's
     * default). It rewrites that file in place at every start, so on shared storage another
     * node's adminserver can read it empty or half written and answer 500: it stays on the node.
     */
    jsonConfigStore: boolean;
}

export function renderHarborCfg(template: string, k: V1Keys, s: NodeSettings): string {
    const keys: Record<string, string> = {
        hostname: externalHost(s),
        ui_url_protocol: s.protocol,
        db_password: s.database.password,
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
    if (k.cfgHasDbHost) {
        Object.assign(keys, { db_host: s.database.host, db_port: String(s.database.port), db_user: s.database.user });
    }
    if (k.cfgHasRedisUrl) {
        // 1.5's adminserver reloads every setting only when RESET=true AND RELOAD_KEY changed, and
        // prepare draws a new RELOAD_KEY only with reload_config = true.
        keys.redis_url = k.redisUrlForm === "url" ? redisUrl(s.redis) : redisSessionUrl(s.redis);
        keys.reload_config = "true";
    }
    return setKeys(template, keys, "cfg");
}

/** Seed step 4: adminserver reads the external MySQL; RESET=true makes it re-read its env at start. */
export function renderAdminserverEnv(template: string, s: NodeSettings): string {
    return setKeys(template, {
        MYSQL_HOST: templateLiteral(s.database.host),
        MYSQL_PORT: String(s.database.port),
        MYSQL_USR: templateLiteral(s.database.user),
        MYSQL_PWD: templateLiteral(s.database.password),
        MYSQL_DATABASE: templateLiteral(s.database.database),
        RESET: "true",
    }, "env");
}

/**
 * Seed step 4: UI sessions in the shared Redis, so a session from one node is valid on all. Always
 * the beego comma form, written literally: 1.4/1.5's template would otherwise copy harbor.cfg's
 * redis_url, which 1.5 needs in URL form for its job service.
 */
export function renderUiEnv(template: string, s: NodeSettings): string {
    return setKeys(template, { _REDIS_URL: templateLiteral(redisSessionUrl(s.redis)) }, "env");
}

type Redis = NodeSettings["redis"];

/** The beego redis session provider's "addr,poolsize,password,dbnum" form. */
export function redisSessionUrl(r: Redis): string {
    if (r.password.includes(",")) throw new Error("the Redis password must not contain a comma (the _REDIS_URL form is comma-separated)");
    return `${r.host}:${r.port},${r.poolSize},${r.password},${r.dbIndex}`;
}

/** The form Go's url.Parse and redis.DialURL read: redis://:<password>@host:port/db. */
export function redisUrl(r: Redis): string {
    const auth = r.password ? `:${encodeURIComponent(r.password)}@` : "";
    return `redis://${auth}${r.host}:${r.port}/${r.dbIndex}`;
}
