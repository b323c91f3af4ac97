// npm run verify: the seed's HA claims, checked through the lab's load balancer (or one node)
// against the deployed dev stack. Prints each figure; exits non-zero on any miss. Every claim has
// a negative control that makes it false on purpose and must see the failure users report.
// No attempt is retried here; what the load balancer and Docker retry is in README "What is retried".
import { spawnSync } from "node:child_process";
import * as path from "path";
import { between, describeLatency, describeLoad, describeTimeline, lbEvents, Load, loadLoops, LoadResult, sleepMs, startedFrom, startLoad, timeline } from "./load";
import {
    adminApi, Attempts, cache, clientExec, fmtAttempts, inVm, installerVariant, labDocker, labDockerOk, lbLog, lbStates, log, logins, pulumi, repo, stackArgs, pullThrough, pushThrough, readStack, servedKeys, Stack, stackConfig,
    skewUiClock, startClient, tokenPairs, uiCurrentUser, uiLogin, unshareKeys, unshareSecretKey, unshareSessions, waitHealthy, waitLb, healthy, installDir, nodeCurl, restartHarbor,
} from "./lab";
import {
    databaseLostTakesNodeOut, jobRunByAnotherNode, redisLostTakesNodeOut, tokenPairsOutcome, uiSessionAndCsrfShared, unsharedCsrfKeyFails, unsharedJobserviceSecretFails,
    unsharedSecretKeyFailsV2, unsharedTokenKeyFails,
} from "./verifyV2";
import { releasesFrom, upgradeAcrossReleases } from "./upgradeV2";
import { uiLoginV2 } from "./labV2";

export interface Outcome {
    name: string;
    figure: string;
    ok: boolean;
    /** Not measured (what it needs was not given): printed as skipped, counted neither ok nor missed. */
    skipped?: boolean;
}

const fmt = fmtAttempts;
const first = (s: Stack) => s.nodes[0];
const last = (s: Stack) => s.nodes[s.nodes.length - 1];

export function loginsThroughLb(s: Stack, n = 200): Outcome {
    const a = logins(s, n);
    return { name: "logins through the load balancer", figure: fmt(a), ok: a.ok === n && a.total === n };
}

/** Each node's registry verifies with, and its token service signs with, the stack's keypair. */
export function keypairServed(s: Stack): Outcome[] {
    return s.nodes.map(n => {
        const k = servedKeys(s, n);
        const same = k.rootCrtFingerprint === s.tokenCertFingerprint;
        return {
            name: `${n.name} serves the stack's token keypair`,
            figure: `root.crt ${same ? "is" : "is NOT"} ${s.tokenCertFingerprint.slice(0, 23)}…, tokens ${k.tokenSignedByClusterKey ? "verify" : "do NOT verify"} with the stack's certificate`,
            ok: same && k.tokenSignedByClusterKey,
        };
    });
}

/**
 * The seed's problem 2: each login's token is issued by one node and checked by another. With the
 * keys not shared, the keypair check must see it and logins must get 401s; restored, all pass.
 */
export function unsharedKeysFail(s: Stack, n = 30): Outcome[] {
    const others = s.nodes.slice(1);
    const restore = unshareKeys(others.map(x => x.vm));
    let during: Attempts;
    let served: boolean[];
    let pairs: ReturnType<typeof tokenPairs>;
    // The first node keeps the cluster's keypair; each of the others has one of its own.
    const keyOf = (node: string) => (node === s.nodes[0].name ? "cluster" : node);
    try {
        waitHealthy(s, s.nodes.map(x => x.address));
        served = others.map(x => { const k = servedKeys(s, x); return k.rootCrtFingerprint === s.tokenCertFingerprint || k.tokenSignedByClusterKey; });
        pairs = tokenPairs(s, (signer, checker) => keyOf(signer) !== keyOf(checker));
        during = logins(s, n);
    } finally {
        restore();
    }
    waitHealthy(s, s.nodes.map(x => x.address));
    const after = logins(s, n);
    return [
        { name: "keypair check with the keys not shared (must fail)", figure: `${served.filter(x => !x).length}/${others.length} nodes seen serving another keypair`, ok: served.every(x => !x) },
        tokenPairsOutcome(pairs, s.nodes.length ** 2 - (s.nodes.length - others.length) ** 2 - others.length,
            `tokens signed by one node, checked by another, with ${others.length} of ${s.nodes.length} nodes on keys of their own (must fail for every pair whose keys differ)`),
        { name: "docker logins through the load balancer with the keys not shared (must fail)", figure: fmt(during), ok: during.unauthorized > 0 },
        { name: "logins with the cluster keypair restored", figure: fmt(after), ok: after.ok === n && after.total === n },
    ];
}

/**
 * The clock check's negative control (#15911): the middle node's token service runs 120 s ahead,
 * past the registry's 60 s leeway, as a node the clock check refuses would if it were let in. Every
 * token it signs is refused by every registry, its own included (only its ui's clock is off), and
 * no other: exactly n of the n*n (signer, checker) pairs. A docker login fails when that node signs
 * its token; which node does is not the client's choice (the realm is the cluster's name, and each
 * of a login's connections lands where round robin puts it: all or none of 30 from run to run), so
 * the logins through the load balancer are printed, not counted. Restored, every login passes.
 */
export function skewedClockFails(s: Stack, n = 30): Outcome[] {
    const skewed = s.nodes[1];
    const restore = skewUiClock(skewed.vm, 120);
    let pairs: ReturnType<typeof tokenPairs>;
    try {
        waitHealthy(s, [skewed.address]);
        pairs = tokenPairs(s, signer => signer === skewed.name);
        log(`docker logins through the load balancer with ${skewed.name} 120 s ahead (not counted): ${fmt(logins(s, n))}`);
    } finally {
        restore();
    }
    waitHealthy(s, [skewed.address]);
    const after = logins(s, n);
    return [
        tokenPairsOutcome(pairs, s.nodes.length, `tokens signed by ${skewed.name}, its token service 120 s ahead (must fail on every node, and only those)`),
        { name: `logins through the load balancer with ${skewed.name}'s clock back`, figure: fmt(after), ok: after.ok === n && after.total === n },
    ];
}


/** Pushed through node 1, pulled through node 3 with no local copy: the layer comes through node 3. */
export function pushNode1PullNode3(s: Stack, tag: string): Outcome {
    const pushed = pushThrough(s, first(s).address, tag);
    const pulled = pullThrough(s, `${last(s).address}:${s.port}`, `library/harbor-ha-probe:${tag}`);
    return {
        name: `push through ${first(s).name}, pull (layer downloaded) through ${last(s).name}`,
        figure: pulled === pushed.id ? `same image ${pulled.slice(7, 19)}` : `pushed ${pushed.id}, pulled ${pulled}`,
        ok: pulled === pushed.id,
    };
}

/** A UI session opened on node 1 is valid on node 3 (Redis); with node 3 on another Redis db it is not. */
export function sessionsShared(s: Stack): Outcome[] {
    const cookie = uiLogin(s, first(s).address);
    const shared = uiCurrentUser(s, last(s).address, cookie);
    const restore = unshareSessions(last(s).vm);
    let unshared: { status: number };
    try {
        waitHealthy(s, [last(s).address]);
        unshared = uiCurrentUser(s, last(s).address, cookie);
    } finally {
        restore();
    }
    waitHealthy(s, [last(s).address]);
    const again = uiCurrentUser(s, last(s).address, cookie);
    return [
        { name: `UI session from ${first(s).name} used on ${last(s).name}`, figure: `HTTP ${shared.status} as ${shared.username ?? "nobody"}`, ok: shared.status === 200 && shared.username === "admin" },
        { name: "the same with the sessions not shared (must fail)", figure: `HTTP ${unshared.status}`, ok: unshared.status === 401 },
        { name: "the same with the sessions shared again", figure: `HTTP ${again.status}`, ok: again.status === 200 },
    ];
}

/**
 * The secretkey encrypts what the nodes share in MySQL, e.g. a replication target's password (1.x
 * keeps its settings file on each node). A target stored through node 1 and pinged through node 3:
 * with node 3 on another secretkey, it decrypts the password to garbage and the registry refuses
 * it (401); restored, the ping succeeds. The target is the cluster's own registry, by the load
 * balancer's name; the lab's CA is not in the ui's trust store, so node 3 is told not to verify
 * remote certificates (`verify_remote_cert`, a setting each 1.1-1.3 node keeps, reset at its start).
 */
export function unsharedSecretKeyFails(s: Stack, tag: string): Outcome[] {
    const one = first(s);
    const three = last(s);
    const insecure = (verify: boolean) => adminApi(s, three.address, "PUT", "/api/configurations", { verify_remote_cert: verify }).status;
    const endpoint = `https://${s.host}`;
    // Harbor allows one target per endpoint: an earlier run's goes first.
    const listed = adminApi(s, one.address, "GET", "/api/targets");
    for (const t of (listed.status === 200 ? JSON.parse(listed.body) : []) as { id: number; endpoint: string }[]) {
        if (t.endpoint === endpoint) adminApi(s, one.address, "DELETE", `/api/targets/${t.id}`);
    }
    const created = adminApi(s, one.address, "POST", "/api/targets", { name: `hh-${tag}`, endpoint, username: "admin", password: s.adminPassword });
    const id = /^location:\s*\/?(?:api\/targets\/)?([0-9]+)\s*$/im.exec(created.headers)?.[1];
    if (created.status !== 201 || !id) {
        return [{ name: `secretkey: a replication target stored through ${one.name}`, figure: `HTTP ${created.status} ${created.body.slice(0, 200)}`, ok: false }];
    }
    const ping = (password = s.adminPassword) => {
        const r = adminApi(s, three.address, "POST", `/api/targets/${id}/ping`, undefined, password);
        return { status: r.status, body: r.body.trim(), text: `HTTP ${r.status}${r.status === 200 ? "" : ` ${r.body.trim().slice(0, 120) || "(empty body)"}`}` };
    };
    // A 401 can also be the caller's own login refused (the admin API's empty-bodied 401): the
    // figure takes only the remote's refusal of the garbage password, which carries the token
    // service's answer; this control shows the two apart.
    const ownLoginRefused = (r: { status: number; body: string }) => r.status === 401 && r.body === "";
    insecure(false);
    const shared = ping();
    const wrongLogin = ping(`${s.adminPassword}-wrong`);
    const restore = unshareSecretKey(three.vm, s.dataPath);
    let unshared: { status: number; body: string; text: string };
    try {
        waitHealthy(s, [three.address]);
        insecure(false);
        unshared = ping();
    } finally {
        restore();
    }
    waitHealthy(s, [three.address]);
    insecure(false);
    const again = ping();
    insecure(true);
    adminApi(s, one.address, "DELETE", `/api/targets/${id}`);
    return [
        { name: `secretkey shared: ${three.name} pings the target stored through ${one.name}`, figure: shared.text, ok: shared.status === 200 },
        { name: "control: the ping with the caller's own login refused", figure: wrongLogin.text, ok: ownLoginRefused(wrongLogin) },
        {
            name: `secretkey not shared: ${three.name} decrypts ${one.name}'s target password (must fail: the remote refuses it)`,
            figure: unshared.text, ok: unshared.status === 401 && !ownLoginRefused(unshared),
        },
        { name: "secretkey shared again", figure: again.text, ok: again.status === 200 },
    ];
}

/** At least this many requests make a figure under load. */
const minRequests = 1000;

/** What the load saw while `change` ran: every attempt, and the load balancer's states (epoch seconds). */
export interface Measured {
    r: LoadResult;
    from: number;
    to: number;
    /** The same load with nothing changing, measured once per stack and image. */
    steady: LoadResult;
}

const steadyStates = new Map<string, LoadResult>();

/** The seconds of load with nothing changing that the latency under a change is set beside. */
export const steadySeconds = 20;

/** The load with every node in service and nothing changing, once per stack and probe image. */
export function steadyState(s: Stack, tag: string): LoadResult {
    const key = `${s.name} ${tag}`;
    let r = steadyStates.get(key);
    if (!r) {
        const load = startLoad(s, `library/harbor-ha-probe:${tag}`);
        try {
            sleepMs(steadySeconds * 1000);
        } finally {
            r = load.stop();
        }
        steadyStates.set(key, r);
    }
    return r;
}

/**
 * Every node in service by the load balancer's own view before a measurement starts. A node that a
 * step before brought back is healthy when that step returns, but the load balancer takes it in
 * only after `rise` good checks: wait for those (a minute at most), then refuse to measure.
 */
function allInService(): void {
    let states = lbStates();
    for (let i = 0; i < 120 && Object.values(states).some(st => st !== "UP"); i++) {
        sleepMs(500);
        states = lbStates();
    }
    if (Object.values(states).some(st => st !== "UP")) throw new Error(`not every node in service before the change: ${JSON.stringify(states)}`);
}

export function measureUnderLoad(s: Stack, tag: string, change: () => void): Measured {
    allInService();
    const steady = steadyState(s, tag);
    const load = startLoad(s, `library/harbor-ha-probe:${tag}`);
    let r: LoadResult;
    const from = Date.now() / 1000;
    let to = from;
    try {
        change();
    } finally {
        to = Date.now() / 1000;
        r = load.stop();
    }
    return { r, from, to, steady };
}

/**
 * Every request during the change succeeded, and enough of them that the figure counts; what they
 * took is printed beside the steady state, never judged (timings belong in the benchmarks).
 */
export function allSucceeded(name: string, m: Measured): Outcome {
    return {
        name, figure: `${describeLoad(m.r)} in ${(m.to - m.from).toFixed(0)}s; ${describeLatency(m.r, m.steady)}`,
        ok: m.r.failures.length === 0 && m.r.total >= minRequests,
    };
}

/**
 * The load balancer's own log of a change that must go node by node: every node was taken out
 * (drained) at least once, and never two at once (HAProxy's count of servers in service).
 */
function oneAtATime(s: Stack, name: string, m: Measured): Outcome {
    const t = timeline(lbEvents(lbLog(m.from)), s.nodes.map(n => n.name), m.from, m.to);
    const everyNodeOut = s.nodes.every(n => (t.out[n.name] ?? []).length > 0);
    return {
        name: `${name}: one node out at a time (the load balancer's log)`, figure: describeTimeline(t, s.nodes.length),
        ok: everyNodeOut && t.minActive >= s.nodes.length - 1,
    };
}

/** `pulumi <op> --yes --skip-preview` on the stack with its lab config file; its exit status and output. */
export function stackRun(s: Stack, op: "up" | "destroy", extra: string[] = []): { status: number | null; out: string } {
    const r = spawnSync("bash", ["-c", '. scripts/pulumi-env.sh && hh_pulumi "$@"', "pulumi", op, "--yes", "--skip-preview", ...stackArgs(s.name), ...extra],
        { cwd: repo, encoding: "utf8", maxBuffer: 256 << 20 });
    return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

/**
 * `pulumi up` under load: it must drain every node first, take them out of the load balancer one at
 * a time, and every request must succeed.
 */
export function upUnderLoad(s: Stack, tag: string, name: string, extra: string[], alsoFromOutput?: (out: string) => Outcome[]): Outcome[] {
    let r = { status: null as number | null, out: "" };
    const m = measureUnderLoad(s, tag, () => { r = stackRun(s, "up", extra); });
    const drained = s.nodes.filter(n => r.out.includes(`${n.name}: drained`)).length;
    return [
        { name: `${name}: pulumi up`, figure: r.status === 0 ? `done, ${drained}/${s.nodes.length} nodes drained first` : `failed: ${r.out.slice(-1500)}`, ok: r.status === 0 && drained === s.nodes.length },
        allSucceeded(name, m),
        oneAtATime(s, name, m),
        ...(alsoFromOutput?.(r.out) ?? []),
    ];
}

/** The certificate each node serves on the cluster port (its SHA-256 fingerprint), asked by the domain. */
function servedCertificates(s: Stack): Record<string, string> {
    return Object.fromEntries(s.nodes.map(n => [n.name, clientExec(
        `openssl s_client -connect ${n.address}:${s.port} -servername ${s.domain} </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 | cut -d= -f2`).trim()]));
}

/** When each node's Harbor proxy container was created (epoch seconds). */
function proxyCreated(s: Stack): Record<string, number> {
    return Object.fromEntries(s.nodes.map(n => [n.name, Date.parse(inVm(n.vm,
        `docker inspect -f '{{.Created}}' $(cd ${s.installDir} && (docker compose ps -q proxy 2>/dev/null || docker-compose ps -q proxy) | head -n 1)`).trim()) / 1000]));
}

/** The installer file the stack deploys (undefined when it is given by URL). */
function installerPath(s: Stack): string | undefined {
    return (JSON.parse(stackConfig(s.name)["harbor-ha:installer"]?.value ?? "{}") as { path?: string }).path;
}

/**
 * A second lab installer (another sha256) rolled out by `pulumi up` under load; afterwards every
 * node has it unpacked (the sha256 the deploy recorded equals the stack output) and runs containers
 * made from it (created during the up).
 */
export function rollingInstallerChange(s: Stack, tag: string, name = "rolling installer change", alsoFromOutput?: (out: string) => Outcome[], extra: string[] = []): Outcome[] {
    const current = installerPath(s);
    if (!current) return [{ name, figure: "the stack's installer has no path (a url): nothing to make a variant of", ok: false }];
    const variant = installerVariant(current, tag);
    pulumi(["config", "set", "--path", "harbor-ha:installer.path", variant, ...stackArgs(s.name)]);
    const from = Date.now() / 1000;
    const outcomes = upUnderLoad(s, tag, name, extra, alsoFromOutput);
    const want = pulumi(["stack", "output", "--stack", s.name, "installerSha256"]).trim();
    const created = proxyCreated(s);
    for (const n of s.nodes) {
        const got = inVm(n.vm, `cat ${s.installDir}/.harbor-ha/installer.sha256`).trim();
        outcomes.push({
            name: `${n.name} runs the new installer`,
            figure: `installed ${got.slice(0, 12)}, stack's installerSha256 ${want.slice(0, 12)}; proxy created ${(created[n.name] - from).toFixed(0)}s into the up`,
            ok: got === want && created[n.name] > from,
        });
    }
    return outcomes;
}

/**
 * The stack loses its record of what runs (its harborVersion output, as an edited state would): the
 * plan takes the running cluster for a new one and starts nodes 2..N together. A new installer must
 * still go one node at a time, the nodes holding it (render/scripts/serviceGuard.ts): the load
 * balancer's timeline says so, and pulumi up's output shows the plan and a node that waited.
 */
export function recordLostRollingChange(s: Stack, tag: string): Outcome[] {
    const state = JSON.parse(pulumi(["stack", "export", "--stack", s.name])) as { deployment: { resources: { type: string; outputs?: Record<string, unknown> }[] } };
    const root = state.deployment.resources.find(r => r.type === "pulumi:pulumi:Stack");
    const had = root?.outputs?.harborVersion;
    delete root?.outputs?.harborVersion;
    pulumi(["stack", "import", "--stack", s.name], JSON.stringify(state));
    const name = "record lost: rolling installer change";
    const outcomes = rollingInstallerChange(s, tag, name, out => {
        const waited = /(harbor-\d+): waiting until (harbor-\d+) is back in service/.exec(out);
        const plannedNew = /a new cluster/.test(out);
        return [{
            name: `${name}: the plan took the cluster for a new one; the nodes held the change`,
            figure: `record had ${JSON.stringify(had)}; plan ${plannedNew ? "\"a new cluster\"" : "not new"}; ${waited ? `${waited[1]} waited until ${waited[2]} was back in service` : "no node waited for another"}`,
            ok: had !== undefined && plannedNew && waited !== null,
        }];
    });
    const now = pulumi(["stack", "output", "--stack", s.name, "harborVersion"]).trim();
    outcomes.push({ name: `${name}: the record is back`, figure: `harborVersion ${now}`, ok: now === had });
    return outcomes;
}

/** The cluster certificate as the stack says (outputs) and as every node serves it. */
export interface CertificateState {
    notAfter: string;
    fingerprint: string;
    served: Record<string, string>;
}

export function certificateState(s: Stack): CertificateState {
    const output = (name: string) => pulumi(["stack", "output", "--stack", s.name, name]).trim();
    return { notAfter: output("tlsNotAfter"), fingerprint: output("tlsCertFingerprint"), served: servedCertificates(s) };
}

/** `--replace` of the stack's cluster certificate, so that `pulumi up` re-issues it. */
export function renewCertificateArgs(s: Stack): string[] {
    const exported = JSON.parse(pulumi(["stack", "export", "--stack", s.name])) as { deployment: { resources: { urn: string }[] } };
    const urn = exported.deployment.resources.map(r => r.urn).find(u => u.endsWith("::cluster-tls-certificate"));
    if (!urn) throw new Error(`stack ${s.name} has no cluster-tls-certificate`);
    return ["--replace", urn];
}

/** Renewed: a new fingerprint in the outputs, every node serving the old one before and the new one after. */
export function renewedEverywhere(s: Stack, before: CertificateState, after: CertificateState): Outcome[] {
    const short = (f: string) => f.slice(0, 11);
    return [
        {
            name: "certificate renewed", figure: `notAfter ${before.notAfter} -> ${after.notAfter}, fingerprint ${short(before.fingerprint)} -> ${short(after.fingerprint)}`,
            ok: after.fingerprint !== before.fingerprint && /^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/.test(after.fingerprint),
        },
        ...s.nodes.map(n => ({
            name: `${n.name} serves the new certificate`, figure: `served ${short(before.served[n.name])} before, ${short(after.served[n.name])} after`,
            ok: before.served[n.name] === before.fingerprint && after.served[n.name] === after.fingerprint,
        })),
    ];
}

/**
 * The cluster certificate re-issued on purpose (`--replace`), rolled out under load: before, every
 * node serves the old one; after, every node serves the new one, the stack's tlsCertFingerprint.
 */
export function rollingCertificateRenewal(s: Stack, tag: string): Outcome[] {
    return withRenewal(s, renew => upUnderLoad(s, tag, "rolling certificate renewal", renew));
}

/** `up` run with the certificate's --replace, then the renewal's figures: old served before, new after. */
function withRenewal(s: Stack, up: (renew: string[]) => Outcome[]): Outcome[] {
    const before = certificateState(s);
    const outcomes = up(renewCertificateArgs(s));
    return [...outcomes, ...renewedEverywhere(s, before, certificateState(s))];
}

/**
 * A new installer and the cluster certificate re-issued in one `pulumi up` under load: one take-out
 * per node brings both (the certificate is one of the deploy's files), so each node must run the
 * new installer and serve the new certificate afterwards, one node out at a time. That a renewal
 * alone changes every node's deploy is a unit test's (test/unit/rolling.test.ts).
 */
export function rollingInstallerChangeAndRenewal(s: Stack, tag: string): Outcome[] {
    return withRenewal(s, renew => rollingInstallerChange(s, tag, "rolling installer change with the certificate renewed", undefined, renew));
}

/**
 * Docker's data root moved to a data disk on every node under load (the seed's third article): a
 * move stops Docker and the node's Harbor with it, so it must go like every other change, node by
 * node, drained first and back in once healthy; each node keeps an image it had before.
 */
export function dataRootsMoved(s: Stack, tag: string, dataRoot = "/data/docker"): Outcome[] {
    for (const n of s.nodes) {
        labDocker(["exec", n.vm, "bash", "-c", "d=$(mktemp -d) && echo marker >$d/m && tar -C $d -c m | docker import - lab/marker:1 >/dev/null"]);
        pulumi(["config", "set", "--path", `harbor-ha:nodes[${s.nodes.indexOf(n)}].dockerDataRoot`, dataRoot, ...stackArgs(s.name)]);
    }
    const outcomes = upUnderLoad(s, tag, "Docker data roots moved", []);
    for (const n of s.nodes) {
        const root = labDocker(["exec", n.vm, "docker", "info", "--format", "{{.DockerRootDir}}"]).trim();
        const kept = labDockerOk(["exec", n.vm, "docker", "image", "inspect", "lab/marker:1"]);
        const conf = labDocker(["exec", n.vm, "cat", "/etc/docker/daemon.json"]);
        const inConf = (JSON.parse(conf) as Record<string, unknown>)["data-root"] === dataRoot;
        outcomes.push({
            name: `${n.name}: Docker's data on ${dataRoot}`, figure: `data root ${root}, daemon.json data-root ${inConf ? "set" : "not set"}, image from before the move ${kept ? "kept" : "lost"}`,
            ok: root === dataRoot && inConf && kept,
        });
    }
    return outcomes;
}

/** "api 3, pull 1": failures counted by kind. */
function kinds(failures: { kind: string }[]): string {
    const n: Record<string, number> = {};
    for (const f of failures) n[f.kind] = (n[f.kind] ?? 0) + 1;
    return Object.entries(n).map(([k, v]) => `${k} ${v}`).join(", ");
}

/** While a node is down, at least this many logins and pulls (its layer downloaded) must end, all ok. */
export const whileDown = { login: 50, pull: 10 };

/**
 * While a node is out, every request must succeed: 20 s of them, and enough that the figure counts
 * (however fast this machine is): at least `whileDown` of each kind ended since `from`.
 */
function untilEnough(load: Load, from: number): void {
    sleepMs(20_000);
    const enough = () => {
        const down = between(load.sofar(), from);
        return down.total >= minRequests / 2 && Object.entries(whileDown).every(([k, n]) => (down.byKind[k]?.total ?? 0) >= n);
    };
    for (let i = 0; i < 120 && !enough(); i++) sleepMs(1000);
}

/**
 * 1.x: a node whose registry is down, its ui still answering (Harbor 1.x's /api/systeminfo does
 * not ask the registry), is taken out by the load balancer while the others stay in, and every
 * login and pull through the load balancer succeeds meanwhile; its registry started again (the
 * proxy restarted last, README "Operating a node"), it returns.
 */
export function registryLostTakesNodeOut(s: Stack, tag: string): Outcome[] {
    const three = last(s);
    const others = s.nodes.filter(n => n !== three).map(n => n.name);
    allInService();
    inVm(three.vm, `cd ${installDir} && docker-compose stop registry >/dev/null 2>&1`);
    let out = -1;
    let uiUp = false;
    let v2 = "";
    let othersUp = false;
    let r: LoadResult | undefined;
    try {
        out = waitLb([three.name], "DOWN");
        uiUp = healthy(s, three.address);
        v2 = clientExec(`${nodeCurl(s, three.address, `-s -o /dev/null -w '%{http_code}' https://${s.host}/v2/`)} || true`).trim();
        othersUp = others.every(n => lbStates()[n] === "UP");
        if (out >= 0) {
            const load = startLoad(s, `library/harbor-ha-probe:${tag}`);
            try {
                untilEnough(load, 0);
            } finally {
                r = load.stop();
            }
        }
    } finally {
        restartHarbor(three.vm, ["registry"]);
    }
    const back = waitLb([three.name], "UP");
    const pulls = r?.byKind.pull ?? { ok: 0, total: 0 };
    const loginsOk = r?.byKind.login ?? { ok: 0, total: 0 };
    return [
        {
            name: `${three.name} with its registry stopped is taken out by the load balancer`,
            figure: `${out < 0 ? "still in service after 90s" : `out after ${out.toFixed(1)}s`}; its ui ${uiUp ? "still answered" : "did NOT answer"} ${s.apiPath}, its /v2/ ${v2 === "000" ? "gave no answer within 10s" : `answered ${v2}`}; ` +
                `${others.join(", ")} ${othersUp ? "in service" : "NOT all in service"}`,
            ok: out >= 0 && uiUp && !/^(2\d\d|401)$/.test(v2) && othersUp,
        },
        {
            name: `with ${three.name}'s registry down, logins and pulls (layer downloaded) through the load balancer`,
            figure: r ? describeLoad(r) : "not measured: the node was never taken out",
            ok: !!r && r.failures.length === 0 && loginsOk.ok >= whileDown.login && pulls.ok >= whileDown.pull,
        },
        { name: `${three.name} back once its registry is`, figure: back < 0 ? "not back after 90s" : `in service after ${back.toFixed(1)}s`, ok: back >= 0 },
    ];
}

/**
 * A VM killed outright under load (no drain): only the requests in flight to it may fail, until
 * the load balancer has taken it out. From then on the node is lost: every request must succeed,
 * logins and pulls through the load balancer among them (at least `whileDown` of each, however
 * fast this machine is). Started again soon after, as a quick reboot would be (before Ceph's
 * session_timeout has ended its old CephFS session), its Harbor comes back by itself, and the
 * load, kept on until it is back, must not notice: nothing may fail meanwhile.
 */
export function nodeKilled(s: Stack, tag: string): Outcome[] {
    const lost = s.nodes[1];
    allInService();
    const steady = steadyState(s, tag);
    const load = startLoad(s, `library/harbor-ha-probe:${tag}`);
    let r: LoadResult;
    let killedAt = 0;
    let excludedAt = 0;
    let startedAt = 0;
    let rejoined = false;
    try {
        sleepMs(5000);
        killedAt = Date.now() / 1000;
        labDocker(["kill", lost.vm]);
        while (!/^DOWN/.test(lbStates()[lost.name] ?? "") && Date.now() / 1000 - killedAt < 60) sleepMs(200);
        excludedAt = Date.now() / 1000;
        untilEnough(load, excludedAt);
        startedAt = Date.now() / 1000;
        labDocker(["start", lost.vm]);
        while (lbStates()[lost.name] !== "UP" && Date.now() / 1000 - startedAt < 300) sleepMs(500);
        rejoined = lbStates()[lost.name] === "UP";
        // Requests reach it again: they must succeed too.
        if (rejoined) sleepMs(10_000);
    } finally {
        r = load.stop();
    }
    const back = ((rejoined ? Date.now() / 1000 - 10 : Date.now() / 1000) - startedAt).toFixed(0);
    // From the kill: only the attempts open to the node when it died may fail (one per load loop at
    // most); none before the kill, none once the load balancer has excluded it.
    const fromKill = between(r, killedAt, startedAt);
    const inFlight = between(r, killedAt, excludedAt).failures;
    const before = between(r, 0, killedAt).failures;
    const down = between(r, excludedAt, startedAt);
    const rejoin = between(r, startedAt);
    const kind = (k: string) => down.byKind[k] ?? { ok: 0, total: 0 };
    return [
        {
            name: `${lost.name} killed under load`,
            figure: `${fromKill.ok}/${fromKill.total} ok, ${inFlight.length} failed in flight (bound ${loadLoops}) in the ${(excludedAt - killedAt).toFixed(1)}s until the load balancer excluded it` +
                (inFlight.length ? ` (${kinds(inFlight)}; e.g. ${inFlight[0].kind} ${inFlight[0].detail.slice(0, 160)})` : "") +
                (before.length ? `; ${before.length} failed before the kill: ${before[0].kind} ${before[0].detail.slice(0, 200)}` : ""),
            ok: before.length === 0 && inFlight.length <= loadLoops && excludedAt - killedAt < 60 && fromKill.total >= minRequests / 2,
        },
        {
            name: `with ${lost.name} lost, logins and pulls (layer downloaded) through the load balancer`,
            figure: `${describeLoad(down)} in the ${(startedAt - excludedAt).toFixed(0)}s from its exclusion until it was started again`,
            ok: down.failures.length === 0 && Object.entries(whileDown).every(([k, n]) => kind(k).ok >= n),
        },
        {
            name: `${lost.name} rejoined by itself`,
            figure: (rejoined ? `rejoined after ${back}s` : `not back after ${back}s`) + `, started ${(startedAt - killedAt).toFixed(0)}s after the kill; meanwhile ${describeLoad(rejoin)}; ` +
                `from the exclusion on, ${describeLatency(between(r, excludedAt), steady)}`,
            ok: rejoined && rejoin.failures.length === 0 && rejoin.total >= minRequests / 2,
        },
    ];
}

/**
 * A shared service of the lab restarted under load: its container, the shell (run in it) that
 * says it serves again, and what each node must do again by itself afterwards, asked of each node
 * straight (not through the load balancer).
 */
interface Restart {
    container: string;
    /** Run in the container: succeeds once it serves clients again. */
    serves: string;
    /** What every node must do again, e.g. "issued tokens". */
    again: string;
    /** A shell condition on one node (its address in "$addr", the admin password in "$pw"). */
    probe: (addr: string) => string;
}

/** Seconds until `ok()` holds, asked every 100 ms; -1 after `seconds`. */
function secondsUntil(ok: () => boolean, seconds: number): number {
    const t0 = Date.now();
    while (!ok()) {
        if (Date.now() - t0 > seconds * 1000) return -1;
        sleepMs(100);
    }
    return (Date.now() - t0) / 1000;
}

/**
 * When the probe first holds on each node, every node asked every 200 ms: epoch seconds by node
 * name; a node missing did not within `seconds`.
 */
function firstAgain(s: Stack, probe: (addr: string) => string, seconds: number): Record<string, number> {
    const out = clientExec(`read -r pw
pending="${s.nodes.map(n => `${n.name}=${n.address}`).join(" ")}"
end=$(( $(date +%s) + ${seconds} ))
while [ -n "$pending" ] && [ "$(date +%s)" -lt "$end" ]; do
  next=""
  for p in $pending; do
    addr=\${p#*=}
    if ${probe("$addr")}; then echo "\${p%%=*} $(date +%s.%N)"; else next="$next $p"; fi
  done
  pending=\${next# }
  [ -z "$pending" ] || sleep 0.2
done`, `${s.adminPassword}\n`);
    return Object.fromEntries(out.trim().split("\n").filter(l => l !== "").map(l => { const [n, t] = l.split(" "); return [n, Number(t)]; }));
}

/**
 * The container restarted under the rolling figures' load (a clean stop ends every client
 * connection, as a restart or a failover of the user's endpoint does). Nothing is done to any node:
 * each must do the probe's work again by itself once the service serves, and be in service. The
 * requests that fail are counted, all inside the window from the restart until every node is
 * back: none before it, none of those started after it (at least 20 s of them, and enough logins
 * and pulls).
 */
function restartedUnderLoad(s: Stack, tag: string, x: Restart): Outcome[] {
    const names = s.nodes.map(n => n.name);
    allInService();
    const load = startLoad(s, `library/harbor-ha-probe:${tag}`);
    let r: LoadResult;
    let restartAt = 0;
    let serves = -1;
    let again: Record<string, number> = {};
    let inService = -1;
    let backAt = 0;
    try {
        sleepMs(5000);
        restartAt = Date.now() / 1000;
        labDocker(["restart", "-t", "30", x.container]);
        if (secondsUntil(() => labDockerOk(["exec", x.container, "bash", "-c", x.serves]), 120) >= 0) {
            serves = Date.now() / 1000 - restartAt;
            again = firstAgain(s, x.probe, 120);
            inService = waitLb(names, "UP");
        }
        backAt = Date.now() / 1000;
        if (inService >= 0 && names.every(n => again[n])) untilEnough(load, backAt);
    } finally {
        r = load.stop();
    }
    const servesAt = restartAt + serves;
    const before = between(r, 0, restartAt).failures;
    const after = startedFrom(r, backAt);
    const window = r.attempts.filter(a => a.at > restartAt && a.at - a.took < backAt);
    const inWindow = window.filter(a => !a.ok);
    const kind = (k: string) => after.byKind[k] ?? { ok: 0, total: 0 };
    return [
        {
            name: `${x.container} restarted under load: every node back by itself`,
            figure: `${serves < 0 ? `${x.container} did not serve within 120s` : `${x.container} served again ${serves.toFixed(1)}s after the restart began`}; ` +
                `${x.again} again: ${names.map(n => `${n} ${again[n] ? `${(again[n] - servesAt).toFixed(1)}s` : "NOT within 120s"}`).join(", ")} after that; ` +
                `${inService < 0 ? "NOT every node in service within 90s" : "every node in service"} ${(backAt - restartAt).toFixed(1)}s after the restart began`,
            ok: serves >= 0 && names.every(n => again[n]) && inService >= 0,
        },
        {
            name: `requests through the load balancer across the ${x.container} restart`,
            figure: `${inWindow.length} of ${window.length} failed in the ${(backAt - restartAt).toFixed(1)}s from the restart until every node was back` +
                (inWindow.length ? ` (${kinds(inWindow)}; e.g. ${inWindow[0].kind} ${inWindow[0].detail.slice(0, 160)})` : "") +
                `; ${before.length ? `${before.length} failed before it: ${before[0].kind} ${before[0].detail.slice(0, 160)}` : "none before it"}; ` +
                `those started after: ${describeLoad(after)}` + (after.failures.length ? ` (e.g. ${after.failures[0].kind} ${after.failures[0].detail.slice(0, 160)})` : ""),
            ok: before.length === 0 && backAt > restartAt && after.failures.length === 0 && Object.entries(whileDown).every(([k, n]) => kind(k).ok >= n),
        },
    ];
}

/**
 * The stack's database (the lab's MariaDB for 1.x, PostgreSQL for 2.x) restarted under load: each
 * node's token service, which looks the user up in the database, must issue tokens again by itself
 * (Harbor's pools drop a connection the server closed: conformance tables).
 */
export function databaseRestarted(s: Stack, tag: string): Outcome[] {
    // Logins over TCP with the password at its address on the lab network, as the nodes reach it
    // (MariaDB's root@127.0.0.1 is another account); the container's environment gives the password.
    const serves = s.generation === 1
        ? `MYSQL_PWD="$MARIADB_ROOT_PASSWORD" mariadb --connect-timeout=2 -h "$(hostname -i)" -u root -N -e 'SELECT 1' >/dev/null 2>&1`
        : `PGPASSWORD="$POSTGRES_PASSWORD" PGCONNECT_TIMEOUT=2 /usr/lib/postgresql/15/bin/psql -X -At -h "$(hostname -i)" -U postgres -d postgres -c 'SELECT 1' >/dev/null 2>&1`;
    return restartedUnderLoad(s, tag, {
        container: s.generation === 1 ? "mariadb" : "postgres", serves, again: "tokens issued",
        probe: addr => nodeCurl(s, addr, `-f -o /dev/null -u "admin:$pw" 'https://${s.host}/service/token?service=harbor-registry&scope=repository:library/harbor-ha-probe:pull' 2>/dev/null`),
    });
}

/**
 * Redis restarted under load (Harbor 2.x: sessions, the job queue and the registry's cache are
 * there). A UI session opened on node 1 before it must be read again by every node by itself: core
 * reconnects (go-redis retries a command on a closed connection; conformance row 52) and the
 * session was kept (the lab's Redis writes its snapshot on a clean stop, as a Redis with
 * persistence does).
 */
export function redisRestarted(s: Stack, tag: string): Outcome[] {
    const ui = uiLoginV2(s, s.nodes[0].address);
    const read = (addr: string) => nodeCurl(s, addr, `-f -o /dev/null -b ${ui.jar} 'https://${s.host}/api/v2.0/users/current' 2>/dev/null`);
    const reads = (addr: string) => { try { clientExec(read(addr)); return true; } catch { return false; } };
    const before = s.nodes.filter(n => !reads(n.address));
    if (before.length) return [{ name: "redis restarted under load", figure: `the session from node 1 is not read before the restart by ${before.map(n => n.name).join(", ")}`, ok: false }];
    return restartedUnderLoad(s, tag, {
        container: "redis",
        serves: `REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli --no-auth-warning -h "$(hostname -i)" ping 2>/dev/null | grep -q PONG`,
        again: "the session from before read",
        probe: read,
    });
}

/**
 * The upgrade figures need installers of two older releases: the lab builds its own when the stack
 * runs a lab installer; with any other (Harbor's real one) they run only when given
 * (`--upgrade-from <older.tgz> <newer-schema.tgz>`), else they are skipped, never passed.
 */
function upgradeStep(s: Stack, tag: string): Outcome[] {
    const at = process.argv.indexOf("--upgrade-from");
    if (at >= 0) return upgradeAcrossReleases(s, tag, releasesFrom(process.argv[at + 1] ?? "", process.argv[at + 2] ?? "")).outcomes;
    const installer = installerPath(s) ?? "";
    if (!installer.startsWith(path.join(cache, "lab", "installer-v2") + "/")) {
        return [{ name: "upgrade across releases", figure: `the stack runs ${installer || "an installer by URL"}, not a lab installer: give two older releases' installers with --upgrade-from <older.tgz> <newer-schema.tgz>`, ok: false, skipped: true }];
    }
    return upgradeAcrossReleases(s, tag).outcomes;
}

export function report(outcomes: Outcome[]): boolean {
    for (const o of outcomes) log(`${o.skipped ? "skip" : o.ok ? "ok  " : "MISS"} ${o.name}: ${o.figure}`);
    return outcomes.every(o => o.ok || o.skipped);
}

if (require.main === module) {
    const stack = process.argv.includes("--stack") ? process.argv[process.argv.indexOf("--stack") + 1] : "dev";
    const s = readStack(stack);
    startClient(s);
    const tag = `v${Date.now()}`;
    const outcomes: Outcome[] = [];
    // Each figure is printed as it is measured; a step that fails is a miss, and the independent
    // steps after it still run.
    const step = (name: string, f: () => Outcome | Outcome[] | void) => {
        let got: Outcome[];
        try {
            const o = f();
            got = o === undefined ? [] : Array.isArray(o) ? o : [o];
        } catch (e) {
            got = [{ name, figure: `the step failed: ${String((e as Error).message ?? e).split("\n").slice(0, 3).join(" ")}`, ok: false }];
        }
        report(got);
        outcomes.push(...got);
    };
    const allHealthy = () => waitHealthy(s, s.nodes.map(n => n.address));
    step("logins through the load balancer", () => loginsThroughLb(s));
    step("the keypair served by every node", () => keypairServed(s));
    step("push through node 1, pull through node 3", () => pushNode1PullNode3(s, tag));
    if (s.generation === 1) {
        step("UI sessions shared", () => sessionsShared(s));
        step("unshared token keys fail", () => unsharedKeysFail(s));
        step("a node 120 s ahead fails", () => skewedClockFails(s));
        step("unshared secretkey fails", () => unsharedSecretKeyFails(s, tag));
        step("a node whose registry is down", () => registryLostTakesNodeOut(s, tag));
    } else {
        step("UI session and CSRF token shared", () => uiSessionAndCsrfShared(s, tag));
        step("a job run by another node", () => jobRunByAnotherNode(s));
        step("unshared token key fails", () => unsharedTokenKeyFails(s));
        step("unshared CSRF_KEY fails", () => unsharedCsrfKeyFails(s, tag));
        step("unshared JOBSERVICE_SECRET fails", () => unsharedJobserviceSecretFails(s, tag));
        step("unshared secretkey fails", () => unsharedSecretKeyFailsV2(s, tag));
        step("a node that loses the database", () => databaseLostTakesNodeOut(s));
        step("a node that loses Redis", () => redisLostTakesNodeOut(s));
    }
    if (s.generation === 1) {
        step("rolling installer change", () => rollingInstallerChange(s, tag));
        step("rolling certificate renewal", () => rollingCertificateRenewal(s, tag));
    }
    step("the database restarted under load", () => databaseRestarted(s, tag));
    if (s.generation === 2) step("Redis restarted under load", () => redisRestarted(s, tag));
    step("a node killed under load", () => nodeKilled(s, tag));
    step("every node healthy again", allHealthy);
    if (s.generation === 2) step("upgrade across releases", () => upgradeStep(s, tag));
    const skipped = outcomes.filter(o => o.skipped);
    const missed = outcomes.filter(o => !o.ok && !o.skipped);
    const counted = outcomes.length - skipped.length;
    log(`${counted - missed.length}/${counted} figures ok${skipped.length ? `, ${skipped.length} skipped` : ""}${missed.length ? `; missed: ${missed.map(o => o.name).join("; ")}` : ""}`);
    process.exit(missed.length === 0 ? 0 : 1);
}
