// Everything that differs between Harbor versions lives here, as data, so a Harbor 2.x flavor can be
// added without touching the components. Facts: ../shared/reference/harbor-facts.md §2, §6.

export interface HealthCheck {
    /** Path on the node's proxy port. */
    path: string;
    /** Text the body must contain for the node to count as up. */
    expect: string;
}

export interface Flavor {
    readonly name: string;
    readonly version: string;
    /** Installer files the program rewrites, relative to the installer's top directory. */
    readonly files: {
        readonly harborCfg: string;
        readonly compose: string;
        readonly adminserverEnvTemplate: string;
        readonly uiEnvTemplate: string;
    };
    /** Where the token keypair must be AFTER `prepare` (prepare rewrites common/config). */
    readonly tokenKeyPath: string;
    readonly tokenCertPath: string;
    /** The image archive inside the installer, loaded with `docker load`. */
    readonly imageArchive: RegExp;
    /** Services the external MySQL/Redis replace: removed from docker-compose.yml. */
    readonly replacedServices: readonly string[];
    readonly proxyService: string;
    /** The prefix of every data volume in the stock compose file. */
    readonly dataVolumePrefix: string;
    /** harbor.cfg has db_host/db_port/db_user (1.3+). */
    readonly cfgHasDbHost: boolean;
    /** harbor.cfg has redis_url and reload_config (1.4+). */
    readonly cfgHasRedisUrl: boolean;
    readonly health: HealthCheck;
}

function v1(version: string, minor: number): Flavor {
    return {
        name: "harbor-v1-mysql",
        version,
        files: {
            harborCfg: "harbor.cfg",
            compose: "docker-compose.yml",
            adminserverEnvTemplate: "common/templates/adminserver/env",
            uiEnvTemplate: "common/templates/ui/env",
        },
        tokenKeyPath: "common/config/ui/private_key.pem",
        tokenCertPath: "common/config/registry/root.crt",
        imageArchive: /^harbor\.v[0-9][0-9A-Za-z.-]*\.tar\.gz$/,
        // 1.4 added a redis container for sessions and jobs; the external Redis replaces it.
        replacedServices: minor >= 4 ? ["mysql", "redis"] : ["mysql"],
        proxyService: "proxy",
        dataVolumePrefix: "/data",
        cfgHasDbHost: minor >= 3,
        cfgHasRedisUrl: minor >= 4,
        // /api/ping exists from 1.5; before that /api/systeminfo is the cheapest unauthenticated call.
        health: minor >= 5
            ? { path: "/api/ping", expect: "Pong" }
            : { path: "/api/systeminfo", expect: "registry_url" },
    };
}

/** The flavor for a Harbor version, or undefined when no flavor supports it. */
export function flavorFor(version: string): Flavor | undefined {
    const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(version);
    if (!m) return undefined;
    const [major, minor] = [Number(m[1]), Number(m[2])];
    if (major === 1 && minor >= 1 && minor <= 5) return v1(`${m[1]}.${m[2]}.${m[3]}`, minor);
    return undefined;
}

export function requireFlavor(version: string): Flavor {
    const f = flavorFor(version);
    if (!f) throw new Error(`no flavor supports Harbor ${version}`);
    return f;
}
