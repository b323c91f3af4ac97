// The HA claims that are Harbor 2.x's own (npm run verify -- --stack dev-v2): a UI session and its
// CSRF token from one node accepted by another, and a job submitted on one node run by another
// node's jobservice. The claims both generations share are in verify.ts.
import { randomBytes } from "node:crypto";
import { adminApi, Attempts, clientExec, fmtAttempts, inVm, lbStates, logins, nodeCurl, Stack, stackConfig, tokenPairs, waitHealthy, waitLb } from "./lab";
import { deviate, gcThrough, GcRun, jobserviceLog, replicateThrough, ReplicationRun, replicationSetup, ReplicationSetup, uiLoginV2, uiRequestV2 } from "./labV2";
import { sleepMs } from "./load";
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
        figure: `garbage collection ${r.id}: ${r.status}, logged as run by ${ranOn.join(", ") || "no node"}`,
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
/** The figure of tokenPairs: exactly the `expected` pairs refused, every other one passed. */
export function tokenPairsOutcome(p: { refused: number; total: number; wrong: string[] }, expected: number, name: string): Outcome {
    return {
        name,
        figure: `${p.refused}/${p.total} (signer, checker) pairs refused, ${expected} expected${p.wrong.length ? `; wrong: ${p.wrong.join(", ")}` : ""}`,
        ok: p.refused === expected && p.wrong.length === 0,
    };
}

export function unsharedTokenKeyFails(s: Stack, n = 30): Outcome[] {
    const others = s.nodes.slice(1);
    const restores = others.map(o => deviate(s, o.vm, {
        prepare: "openssl genrsa -traditional -out private_key.pem 4096 2>/dev/null; chown 10000:10000 private_key.pem; chmod 0600 private_key.pem",
        override: "services:\n  core:\n    volumes:\n      - /root/harbor-ha-e2e/private_key.pem:/etc/core/private_key.pem:z\n",
        services: ["core"],
    }));
    let during: Attempts;
    let pairs: ReturnType<typeof tokenPairs>;
    try {
        waitHealthy(s, others.map(o => o.address));
        const keyOf = (node: string) => (node === first(s).name ? "cluster" : node);
        pairs = tokenPairs(s, (signer, checker) => keyOf(signer) !== keyOf(checker));
        during = logins(s, n);
    } finally {
        restores.forEach(r => r());
    }
    waitHealthy(s, others.map(o => o.address));
    const after = logins(s, n);
    return [
        tokenPairsOutcome(pairs, s.nodes.length ** 2 - (s.nodes.length - others.length) ** 2 - others.length,
            `token key not shared: tokens signed by one node, checked by another, with ${others.length} of ${s.nodes.length} on keys of their own (must fail for every pair whose keys differ)`),
        { name: `token key not shared: ${others.map(o => o.name).join(" and ")} sign with keys of their own, docker logins through the load balancer (must fail)`, figure: fmt(during), ok: during.unauthorized > 0 },
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
 * JOBSERVICE_SECRET: node 3 with its own (core, jobservice, registryctl), and only node 3's
 * jobservice taking jobs. A replication node 1 submits carries node 1's secret as the local
 * registry's credential (src/pkg/reg/manager.go:164-179, flow/copy.go:125-145); node 3's job
 * presents it to node 3's core, which knows only its own (lib/config/systemconfig.go:219-223) and
 * answers the manifest pull 401 (server/middleware/v2auth/auth.go:68-77): the execution fails
 * (#20908, #21220). Where it ran and why, from node 3's jobservice log: the runner's line for the
 * task's job and the transfer's 401. Restored, the same policy succeeds there and the copy is in
 * the destination project.
 */
export function unsharedJobserviceSecretFails(s: Stack, tag: string): Outcome[] {
    const env = `    environment:\n      JOBSERVICE_SECRET: "${randomBytes(12).toString("base64url").slice(0, 16)}"\n`;
    const setup = replicationOnce(s, tag);
    const three = last(s);
    const ranThere = (r: ReplicationRun, log: string, how: "success" | "error") =>
        r.jobIds.length > 0 && r.jobIds.every(id => log.includes(`Job 'REPLICATION:${id}' exit with ${how}`));
    const quiet = onlyRunsJobs(s, three);
    let during: ReplicationRun;
    let after: ReplicationRun;
    let logDuring: string;
    let logAfter: string;
    try {
        const restore = deviate(s, three.vm, {
            prepare: "",
            override: `services:\n  core:\n${env}  jobservice:\n${env}  registryctl:\n${env}`,
            services: ["core", "jobservice", "registryctl"],
        });
        try {
            waitHealthy(s, [three.address]);
            during = replicateThrough(s, first(s).address, setup.policyId);
            logDuring = jobserviceLog(three.vm);
        } finally {
            restore();
        }
        waitHealthy(s, [three.address]);
        after = replicateThrough(s, first(s).address, setup.policyId);
        logAfter = jobserviceLog(three.vm);
    } finally {
        quiet();
    }
    waitHealthy(s, s.nodes.map(n => n.address));
    const refused = new RegExp(`failed to pull the manifest of artifact library/harbor-ha-probe:${tag}: http status code: 401`);
    const copy = adminApi(s, first(s).address, "GET", `/v2/${setup.project}/harbor-ha-probe/manifests/${tag}`);
    const show = (r: ReplicationRun, log: string) => `execution ${r.id} ${r.status}, job ${r.jobIds.join(", ") || "none"} logged by ${three.name} as ` +
        (ranThere(r, log, "error") ? "exit with error" : ranThere(r, log, "success") ? "exit with success" : "nothing");
    return [
        {
            name: `JOBSERVICE_SECRET not shared: a replication from ${first(s).name} run by ${last(s).name} (must fail)`,
            figure: `${show(during, logDuring)}; manifest pull refused with 401 in its log: ${refused.test(logDuring) ? "yes" : "no"}`,
            ok: during.status === "Failed" && ranThere(during, logDuring, "error") && refused.test(logDuring),
        },
        {
            name: "the same with JOBSERVICE_SECRET shared again", figure: `${show(after, logAfter)}; the copy in ${setup.project}: HTTP ${copy.status}`,
            ok: after.status === "Succeed" && ranThere(after, logAfter, "success") && copy.status === 200,
        },
    ];
}

const setups = new Map<string, ReplicationSetup>();

/** The endpoint and policy both controls use, made once per stack and tag. */
function replicationOnce(s: Stack, tag: string): ReplicationSetup {
    const key = `${s.name} ${tag}`;
    if (!setups.has(key)) setups.set(key, replicationSetup(s, tag));
    return setups.get(key)!;
}

/**
 * The secretkey: node 3's core on a key of its own. The endpoint's password node 1 stored (AES
 * with the cluster key, pkg/reg/manager.go:219-248) decrypts there to garbage with no error
 * (common/utils/encrypt.go:124-160), the token service refuses it (401) and the ping answers 400
 * "the registry is unhealthy" (server/v2.0/handler/registry.go:225-292, native adapter
 * HealthCheck). The control: the same ping on node 3 with the password in the request (the
 * endpoint and the network are fine, only the stored secret is not). Restored, the ping succeeds.
 * Harbor freezes a user name for 1.5 s after a failed login (core/auth/authenticator.go:33,151-161),
 * so the next admin request waits that long.
 */
export function unsharedSecretKeyFailsV2(s: Stack, tag: string): Outcome[] {
    const { registryId } = replicationOnce(s, tag);
    const three = last(s);
    const ping = (extra: Record<string, unknown> = {}) => {
        const r = adminApi(s, three.address, "POST", "/api/v2.0/registries/ping", { id: registryId, ...extra });
        return { status: r.status, text: `HTTP ${r.status}${r.body.trim() ? ` ${r.body.trim().slice(0, 120)}` : ""}` };
    };
    const shared = ping();
    const restore = deviate(s, three.vm, {
        prepare: randomFile("secretkey", 16),
        override: "services:\n  core:\n    volumes:\n      - /root/harbor-ha-e2e/secretkey:/etc/core/key:z\n",
        services: ["core"],
    });
    let during: { status: number; text: string };
    let control: { status: number; text: string };
    let refusedLogged: boolean;
    try {
        waitHealthy(s, [three.address]);
        const mark = inVm(three.vm, "wc -l < /var/log/harbor/core.log").trim();
        during = ping();
        refusedLogged = /failed to ping registry \S+: http status code: 401/.test(inVm(three.vm, `tail -n +${Number(mark) + 1} /var/log/harbor/core.log`));
        sleepMs(2000);
        control = ping({ access_secret: s.adminPassword });
    } finally {
        restore();
    }
    waitHealthy(s, [three.address]);
    const again = ping();
    return [
        { name: `secretkey shared: ${three.name} pings the endpoint stored through ${first(s).name}`, figure: shared.text, ok: shared.status === 200 },
        {
            name: `secretkey not shared: ${three.name} decrypts ${first(s).name}'s endpoint password (must fail: the remote refuses it)`,
            figure: `${during.text}; ${three.name}'s core logged the token service's 401: ${refusedLogged ? "yes" : "no"}`,
            ok: during.status === 400 && /the registry is unhealthy/.test(during.text) && refusedLogged,
        },
        { name: "control: the same ping on that node with the password in the request", figure: control.text, ok: control.status === 200 },
        { name: "the same with the secretkey shared again", figure: again.text, ok: again.status === 200 },
    ];
}

/** Waits until the load balancer's harbor-nodes backend has `want` for each node; the seconds it took, or -1. */
/** What a node's core says of one component (database, redis) in /api/v2.0/health (asked on the node itself). */
function componentHealth(s: Stack, address: string, component: "database" | "redis"): string {
    const body = clientExec(`${nodeCurl(s, address, `https://${s.host}/api/v2.0/health`)} || true`);
    try {
        const c = (JSON.parse(body) as { components: { name: string; status: string; error?: string }[] }).components.find(x => x.name === component);
        return c ? `${c.status}${c.error ? ` (${c.error.replace(/\s+/g, " ").slice(0, 100)})` : ""}` : `no ${component} component`;
    } catch {
        return `unreadable: ${body.slice(0, 100)}`;
    }
}

/**
 * Cuts the VMs' containers off the database or Redis host of the stack (REJECT in Docker's
 * DOCKER-USER chain: their own network problem, Harbor itself untouched); returns the restore.
 */
function cutOff(s: Stack, vms: string[], service: "postgres" | "redis"): () => void {
    const cfg = stackConfig(s.name);
    const to = JSON.parse(cfg[`harbor-ha:${service}`].value!) as { host: string; port?: number };
    const port = to.port ?? (service === "postgres" ? 5432 : 6379);
    const rule = (op: string) => `ip=$(getent hosts ${to.host} | awk '{print $1; exit}'); [ -n "$ip" ] && iptables ${op} DOCKER-USER -d "$ip" -p tcp --dport ${port} -j REJECT --reject-with tcp-reset`;
    for (const vm of vms) inVm(vm, rule("-I"));
    return () => { for (const vm of vms) inVm(vm, `while ${rule("-D")} 2>/dev/null; do :; done; true`); };
}

/**
 * Node 3 cut off from the database or Redis (its own network problem): its health says so, it is
 * taken out while the others stay in; back, it returns.
 */
function lastNodeCutOff(s: Stack, service: "postgres" | "redis"): Outcome[] {
    const [component, what] = service === "postgres" ? ["database", "the database"] as const : ["redis", "Redis"] as const;
    const three = last(s);
    const others = s.nodes.filter(n => n !== three).map(n => n.name);
    const restore = cutOff(s, [three.vm], service);
    let out: number;
    let said: string;
    let othersUp: boolean;
    try {
        out = waitLb([three.name], "DOWN");
        said = componentHealth(s, three.address, component);
        othersUp = others.every(n => lbStates()[n] === "UP");
    } finally {
        restore();
    }
    const back = waitLb([three.name], "UP");
    return [
        {
            name: `${three.name} cut off from ${what} is taken out by the load balancer`,
            figure: `${out < 0 ? "still in service after 90s" : `out after ${out.toFixed(1)}s`}; its health said ${component} ${said}; ${others.join(", ")} ${othersUp ? "in service" : "NOT all in service"}`,
            ok: out >= 0 && /^unhealthy/.test(said) && othersUp,
        },
        { name: `${three.name} back once it reaches ${what}`, figure: back < 0 ? "not back after 90s" : `in service after ${back.toFixed(1)}s`, ok: back >= 0 },
    ];
}

/** Node 3 cut off from Redis: taken out, the others in; back, it returns. */
export function redisLostTakesNodeOut(s: Stack): Outcome[] {
    return lastNodeCutOff(s, "redis");
}

/**
 * The load balancer checks what a node's core reports in /api/v2.0/health (every component,
 * database and Redis included), not only that it answers. Node 3 cut off from the database: it
 * says so and is taken out, the others stay in; back, it returns. Every node cut off
 * (the shared database down for all): none passes, and instead of answering nothing, the load
 * balancer sends clients to the nodes that still answer (harbor-nodes-reachable): Harbor's own
 * answers, here its ping; back, all return.
 */
export function databaseLostTakesNodeOut(s: Stack): Outcome[] {
    const outcomes = lastNodeCutOff(s, "postgres");
    const restore = cutOff(s, s.nodes.map(n => n.vm), "postgres");
    let allOut: number;
    let ping: string;
    try {
        allOut = waitLb(s.nodes.map(n => n.name), "DOWN");
        ping = clientExec(`curl -sS -m 10 --cacert /root/ca.crt -w ' HTTP %{http_code}' https://${s.host}/api/v2.0/ping 2>&1 || true`).trim();
    } finally {
        restore();
    }
    const allBack = waitLb(s.nodes.map(n => n.name), "UP");
    outcomes.push(
        {
            name: "the database down for every node: the load balancer still sends clients to the nodes that answer",
            figure: `${allOut < 0 ? "not every node out after 90s" : `every node out of harbor-nodes after ${allOut.toFixed(1)}s`}; GET /api/v2.0/ping through it: ${ping.slice(0, 120)}`,
            ok: allOut >= 0 && /^Pong HTTP 200$/.test(ping),
        },
        { name: "every node back once the database is", figure: allBack < 0 ? "not all back after 90s" : `all in service after ${allBack.toFixed(1)}s`, ok: allBack >= 0 },
    );
    return outcomes;
}
