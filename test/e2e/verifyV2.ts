// The HA claims that are Harbor 2.x's own (npm run verify -- --stack dev-v2): a UI session and its
// CSRF token from one node accepted by another, and a job submitted on one node run by another
// node's jobservice. The claims both generations share are in verify.ts.
import { randomBytes } from "node:crypto";
import { adminApi, Attempts, fmtAttempts, inVm, logins, Stack, waitHealthy } from "./lab";
import { deviate, gcThrough, GcRun, jobserviceHost, uiLoginV2, uiRequestV2 } from "./labV2";
import type { Outcome } from "./verify";

const fmt = fmtAttempts;

const first = (s: Stack) => s.nodes[0];
const last = (s: Stack) => s.nodes[s.nodes.length - 1];

/** Logged in on node 1 (session in Redis, CSRF token signed with CSRF_KEY), used on node 3. */
export function uiSessionAndCsrfShared(s: Stack, tag: string): Outcome[] {
    const ui = uiLoginV2(s, first(s).address);
    const current = uiRequestV2(s, last(s).address, ui, "GET", "/api/v2.0/users/current");
    let username: string | undefined;
    try {
        username = (JSON.parse(current.body) as { username?: string }).username;
    } catch {
        username = undefined;
    }
    const project = `hh-${tag.toLowerCase()}`;
    const created = uiRequestV2(s, last(s).address, ui, "POST", "/api/v2.0/projects", { project_name: project, metadata: { public: "false" } });
    return [
        {
            name: `UI session from ${first(s).name} used on ${last(s).name}`,
            figure: `GET /api/v2.0/users/current: HTTP ${current.status} as ${username ?? "nobody"}`,
            ok: current.status === 200 && username === "admin",
        },
        {
            name: `CSRF token from ${first(s).name} accepted by ${last(s).name}`,
            figure: `POST /api/v2.0/projects (${project}): HTTP ${created.status}` + (created.status === 201 ? "" : ` ${created.body.slice(0, 200)}`),
            ok: created.status === 201,
        },
    ];
}

/**
 * Jobs go through the shared Redis queue, so any node's jobservice may run a job another node's
 * core submitted; it then calls its own core back, which records the result for every node. With
 * only node 2's jobservice taking jobs (see onlyRunsJobs), a garbage collection submitted through
 * node 1 must run there and succeed, and node 1 must report it so.
 */
/**
 * Where jobs ran, the way an operator finds out with Harbor: each node's jobservice log (the log
 * service writes it to /var/log/harbor/jobservice.log) has Harbor's runner line `Job
 * 'GARBAGE_COLLECTION:<id>' exit with success|error` for every job that node ran
 * (src/jobservice/runner/redis.go @ v2.15.2). The job IDs each node logged.
 */
function jobsLogged(s: Stack): Map<string, Set<string>> {
    return new Map(s.nodes.map(n => [n.name, new Set(inVm(n.vm, "cat /var/log/harbor/jobservice.log 2>/dev/null || true").split("\n")
        .map(l => /Job 'GARBAGE_COLLECTION:([^']+)' exit with/.exec(l)?.[1]).filter((id): id is string => id !== undefined))]));
}

export function jobRunByAnotherNode(s: Stack): Outcome {
    const runner = s.nodes[1];
    const quiet = onlyRunsJobs(s, runner);
    let r: GcRun;
    let ranOn: string[];
    try {
        const before = jobsLogged(s);
        r = gcThrough(s, first(s).address);
        const after = jobsLogged(s);
        ranOn = s.nodes.filter(n => [...after.get(n.name)!].some(id => !before.get(n.name)!.has(id))).map(n => n.name);
    } finally {
        quiet();
    }
    waitHealthy(s, s.nodes.map(n => n.address));
    return {
        name: `a job submitted on ${first(s).name} run by another node's jobservice (only ${runner.name}'s takes jobs; read from each node's jobservice log)`,
        figure: `garbage collection ${r.id}: ${r.status}, logged as run by ${ranOn.join(", ") || "no node"}` + (r.message ? ` (${r.message.slice(0, 120)})` : ""),
        ok: r.status === "Success" && ranOn.length === 1 && ranOn[0] === runner.name,
    };
}

/** 16/32 random characters made in the VM, readable by Harbor's user (10000) only. */
const randomFile = (name: string, chars: number) =>
    `head -c 256 /dev/urandom | tr -dc 'A-Za-z0-9' | head -c ${chars} >${name}; chown 10000:10000 ${name}; chmod 0600 ${name}`;

/**
 * The token keypair: every node but the first signs and checks with a key of its own (what
 * per-node prepare gives). Logins through the load balancer then meet a token from one node at
 * another: 401s (#12229: crypto/rsa: verification error). Two nodes differ from each other and
 * from the first, so any two nodes disagree, wherever round robin sends a login's requests.
 * Restored, all pass.
 */
export function unsharedTokenKeyFails(s: Stack, n = 30): Outcome[] {
    const others = s.nodes.slice(1);
    const restores = others.map(o => deviate(s, o.vm, {
        prepare: "openssl genrsa -traditional -out private_key.pem 4096 2>/dev/null; chown 10000:10000 private_key.pem; chmod 0600 private_key.pem",
        override: "services:\n  core:\n    volumes:\n      - /root/harbor-ha-e2e/private_key.pem:/etc/core/private_key.pem:z\n",
        services: ["core"],
    }));
    let during: Attempts;
    try {
        waitHealthy(s, others.map(o => o.address));
        during = logins(s, n);
    } finally {
        restores.forEach(r => r());
    }
    waitHealthy(s, others.map(o => o.address));
    const after = logins(s, n);
    return [
        { name: `token key not shared: ${others.map(o => o.name).join(" and ")} sign with keys of their own (must fail)`, figure: fmt(during), ok: during.unauthorized > 0 },
        { name: "logins with the token key shared again", figure: fmt(after), ok: after.ok === n && after.total === n },
    ];
}

/** CSRF_KEY: a UI token minted by node 1 is refused by node 3 with another key (#21060); restored, accepted. */
export function unsharedCsrfKeyFails(s: Stack, tag: string): Outcome[] {
    const ui = uiLoginV2(s, first(s).address);
    const key = randomBytes(24).toString("base64url").slice(0, 32);
    const restore = deviate(s, last(s).vm, { prepare: "", override: `services:\n  core:\n    environment:\n      CSRF_KEY: "${key}"\n`, services: ["core"] });
    let during: { status: number; body: string };
    try {
        waitHealthy(s, [last(s).address]);
        during = uiRequestV2(s, last(s).address, ui, "POST", "/api/v2.0/projects", { project_name: `hh-csrf-${tag.toLowerCase()}`, metadata: { public: "false" } });
    } finally {
        restore();
    }
    waitHealthy(s, [last(s).address]);
    const after = uiRequestV2(s, last(s).address, ui, "POST", "/api/v2.0/projects", { project_name: `hh-csrf-${tag.toLowerCase()}`, metadata: { public: "false" } });
    return [
        {
            name: `CSRF_KEY not shared: ${first(s).name}'s token on ${last(s).name} (must fail)`,
            figure: `HTTP ${during.status} ${during.body.replace(/\s+/g, " ").slice(0, 120)}`,
            ok: during.status === 403 && /CSRF token invalid/.test(during.body),
        },
        { name: "the same with CSRF_KEY shared again", figure: `HTTP ${after.status}`, ok: after.status === 201 },
    ];
}

/**
 * The other nodes' jobservice with no workers (their config.yml's worker_pool.workers 0, through a
 * compose override): they still queue what their core submits, and only `node`'s takes jobs. So a
 * job submitted on node 1 runs on `node`, every time.
 */
function onlyRunsJobs(s: Stack, node: { vm: string }): () => void {
    const restores = s.nodes.filter(n => n.vm !== node.vm).map(n => deviate(s, n.vm, {
        prepare: `python3 - ${s.installDir}/common/config/jobservice/config.yml <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
c["worker_pool"]["workers"] = 0
yaml.safe_dump(c, open("config.yml", "w"))
PY
chown 10000:10000 config.yml; chmod 0640 config.yml`,
        override: "services:\n  jobservice:\n    volumes:\n      - type: bind\n        source: /root/harbor-ha-e2e/config.yml\n        target: /etc/jobservice/config.yml\n",
        services: ["jobservice"],
    }));
    return () => restores.forEach(r => r());
}

/**
 * JOBSERVICE_SECRET: node 3 with its own (core, jobservice, registryctl). A job node 1 submitted
 * carries node 1's secret; run by node 3's jobservice, node 3's core refuses it: 401 (#20908,
 * #21220). Restored, such a job succeeds. Only node 3's jobservice takes jobs meanwhile.
 */
export function unsharedJobserviceSecretFails(s: Stack): Outcome[] {
    const env = `    environment:\n      JOBSERVICE_SECRET: "${randomBytes(12).toString("base64url").slice(0, 16)}"\n`;
    const hosts = () => new Map(s.nodes.map(n => [jobserviceHost(n.vm), n.name] as const));
    const show = (r: GcRun, h: Map<string, string>) => `${r.status} on ${h.get((r.ranOn ?? "").split(":")[0]) ?? `worker ${r.ranOn ?? "-"}`}` +
        (r.message ? `: ${r.message.slice(0, 120)}` : "");
    const quiet = onlyRunsJobs(s, last(s));
    let during: GcRun;
    let after: GcRun;
    let hDuring: Map<string, string>;
    let hAfter: Map<string, string>;
    try {
        const restore = deviate(s, last(s).vm, {
            prepare: "",
            override: `services:\n  core:\n${env}  jobservice:\n${env}  registryctl:\n${env}`,
            services: ["core", "jobservice", "registryctl"],
        });
        try {
            waitHealthy(s, [last(s).address]);
            hDuring = hosts();
            during = gcThrough(s, first(s).address);
        } finally {
            restore();
        }
        waitHealthy(s, [last(s).address]);
        hAfter = hosts();
        after = gcThrough(s, first(s).address);
    } finally {
        quiet();
    }
    waitHealthy(s, s.nodes.map(n => n.address));
    const ranOn = (r: GcRun, h: Map<string, string>) => h.get((r.ranOn ?? "").split(":")[0]);
    return [
        {
            name: `JOBSERVICE_SECRET not shared: a job from ${first(s).name} run by ${last(s).name} (must fail)`,
            figure: show(during, hDuring), ok: ranOn(during, hDuring) === last(s).name && during.status === "Error" && /401/.test(during.message ?? ""),
        },
        { name: "the same with JOBSERVICE_SECRET shared again", figure: show(after, hAfter), ok: ranOn(after, hAfter) === last(s).name && after.status === "Success" },
    ];
}

/**
 * The secretkey: node 3's core on a key of its own. The LDAP search password node 1 stored
 * (AES with the cluster key) reads back as garbage there and the bind fails with code 49 (#13569,
 * #16007). Restored, it reads back.
 */
export function unsharedSecretKeyFailsV2(s: Stack): Outcome[] {
    const put = adminApi(s, first(s).address, "PUT", "/api/v2.0/configurations", { ldap_search_password: `hh-${Date.now()}` });
    if (put.status !== 200) return [{ name: "LDAP search password stored through node 1", figure: `HTTP ${put.status} ${put.body.slice(0, 200)}`, ok: false }];
    const ping = () => {
        const r = adminApi(s, last(s).address, "POST", "/api/v2.0/ldap/ping", {});
        try {
            return JSON.parse(r.body) as { success: boolean; message: string };
        } catch {
            return { success: false, message: `HTTP ${r.status} ${r.body.slice(0, 120)}` };
        }
    };
    const restore = deviate(s, last(s).vm, {
        prepare: randomFile("secretkey", 16),
        override: "services:\n  core:\n    volumes:\n      - /root/harbor-ha-e2e/secretkey:/etc/core/key:z\n",
        services: ["core"],
    });
    let during: { success: boolean; message: string };
    try {
        waitHealthy(s, [last(s).address]);
        during = ping();
    } finally {
        restore();
    }
    waitHealthy(s, [last(s).address]);
    const after = ping();
    return [
        {
            name: `secretkey not shared: ${last(s).name} reads the LDAP password ${first(s).name} stored (must fail)`,
            figure: `${during.success ? "bind ok" : "bind refused"}: ${during.message}`, ok: !during.success && /Result Code 49/.test(during.message),
        },
        { name: "the same with the secretkey shared again", figure: after.success ? "readable" : `refused: ${after.message}`, ok: after.success },
    ];
}
