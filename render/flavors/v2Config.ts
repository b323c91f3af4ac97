// Harbor 2.x's configuration: harbor.yml, edited from the installer's harbor.yml.tmpl with the yaml
// library (comments kept), and the values that prepare draws anew on every run, which every node
// must have identically (../shared/reference/harbor-v2-facts.md §1, §2, §5).
import { isMap, parseDocument, YAMLMap } from "yaml";
import { NodeSettings } from "./flavor";

export function renderHarborYml(template: string, s: NodeSettings): string {
    const db = s.database;
    const r = s.redis;
    const doc = parseDocument(template);
    if (doc.errors.length > 0) throw new Error(`harbor.yml.tmpl does not parse: ${doc.errors[0].message}`);
    if (!isMap(doc.contents)) throw new Error("harbor.yml.tmpl is not a map");
    if (!doc.has("_version")) throw new Error("harbor.yml.tmpl has no _version: not Harbor 2.x's template");
    doc.set("hostname", s.domain);
    if (s.protocol === "https") {
        if (!s.tls) throw new Error("https needs the certificate and key paths");
        doc.setIn(["https", "port"], s.port);
        doc.setIn(["https", "certificate"], s.tls.certPath);
        doc.setIn(["https", "private_key"], s.tls.keyPath);
    } else {
        doc.delete("https");
        doc.setIn(["http", "port"], s.port);
    }
    doc.set("harbor_admin_password", s.adminPassword);
    doc.set("data_volume", s.dataPath);
    // prepare uses the internal database and redis blocks when present and ignores the external
    // ones then (configs.py get_redis_configs, l.450-455).
    doc.delete("database");
    doc.delete("redis");
    doc.set("external_database", doc.createNode({
        harbor: {
            host: db.host, port: db.port, db_name: db.database, username: db.user, password: db.password,
            ssl_mode: db.sslMode ?? "disable", max_idle_conns: db.maxIdleConns ?? 2, max_open_conns: db.maxOpenConns ?? 0,
        },
    }));
    // No username: the registry of 2.10-2.14 does not pass one on (goharbor/harbor#18892).
    doc.set("external_redis", doc.createNode({
        host: `${r.host}:${r.port}`, password: r.password,
        registry_db_index: r.registryDbIndex ?? 1, jobservice_db_index: r.jobserviceDbIndex ?? 2, trivy_db_index: r.trivyDbIndex ?? 5,
        idle_timeout_seconds: 30,
    }));
    // A job's log must be readable through any node: in the database, not in one node's files.
    const jobservice = doc.get("jobservice", true);
    if (!isMap(jobservice)) throw new Error("harbor.yml.tmpl has no jobservice block");
    (jobservice as YAMLMap).set("job_loggers", doc.createNode(["STD_OUTPUT", "DB"]));
    return doc.toString({ lineWidth: 0 });
}

/** The user prepare writes into the registry's htpasswd file and core's env (configs.py:17). */
export const registryUser = "harbor_registry_user";

/**
 * The values prepare draws anew on every run, where each lands, and the shared secret that replaces
 * it: every generated file that carries one gets the cluster's value after prepare.
 */
export const regeneratedByPrepare: readonly { file: string; key: string; secret: string }[] = [
    { file: "common/config/core/env", key: "CORE_SECRET", secret: "coreSecret" },
    { file: "common/config/core/env", key: "JOBSERVICE_SECRET", secret: "jobserviceSecret" },
    { file: "common/config/core/env", key: "CSRF_KEY", secret: "csrfKey" },
    { file: "common/config/core/env", key: "REGISTRY_CREDENTIAL_PASSWORD", secret: "registryPassword" },
    { file: "common/config/core/env", key: "ROBOT_SCANNER_NAME_PREFIX", secret: "scannerPrefix" },
    { file: "common/config/jobservice/env", key: "CORE_SECRET", secret: "coreSecret" },
    { file: "common/config/jobservice/env", key: "JOBSERVICE_SECRET", secret: "jobserviceSecret" },
    { file: "common/config/jobservice/env", key: "REGISTRY_CREDENTIAL_PASSWORD", secret: "registryPassword" },
    { file: "common/config/registryctl/env", key: "CORE_SECRET", secret: "coreSecret" },
    { file: "common/config/registryctl/env", key: "JOBSERVICE_SECRET", secret: "jobserviceSecret" },
];

/** "<file> <KEY> <value>" lines for the deploy script; values are alphanumeric (random passwords). */
export function sharedEnvLines(shared: Record<string, string>): string {
    return regeneratedByPrepare.map(r => {
        const v = shared[r.secret];
        if (v === undefined) throw new Error(`shared secret ${r.secret} is missing`);
        if (!/^[A-Za-z0-9]+$/.test(v)) throw new Error(`shared secret ${r.secret} must be alphanumeric`);
        return `${r.file} ${r.key} ${v}`;
    }).join("\n") + "\n";
}

/** The registry's htpasswd file: prepare's user with the cluster's bcrypt hash of registryPassword. */
export function registryPasswd(htpasswdHash: string): string {
    if (!/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(htpasswdHash)) throw new Error("the registry's htpasswd hash is not bcrypt");
    return `${registryUser}:${htpasswdHash}\n`;
}
