// npm run verify: the seed's HA claims, checked through the lab's load balancer (or one node)
// against the deployed dev stack. Prints each figure; exits non-zero on any miss. Every claim has
// a negative control that makes it false on purpose and must see the failure users report.
// No attempt is retried here; what the load balancer and Docker retry is in README "What is retried".
import {
    Attempts, healthy, inVm, labDocker, log, logins, pullThrough, pulls, pushThrough, readStack, restartHarbor, servedKeys, Stack,
    startClient, uiCurrentUser, uiLogin, unshareKeys, unshareSecretKey, unshareSessions, waitHealthy,
} from "./lab";

export interface Outcome {
    name: string;
    figure: string;
    ok: boolean;
}

const fmt = (a: Attempts) => `${a.ok}/${a.total}` + (a.unauthorized ? ` (${a.unauthorized} refused with 401)` : "") +
    (a.other.length ? ` (${a.other.length} other failures: ${a.other[0]})` : "");
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
    try {
        waitHealthy(s, s.nodes.map(x => x.address));
        served = others.map(x => { const k = servedKeys(s, x); return k.rootCrtFingerprint === s.tokenCertFingerprint || k.tokenSignedByClusterKey; });
        during = logins(s, n);
    } finally {
        restore();
    }
    waitHealthy(s, s.nodes.map(x => x.address));
    const after = logins(s, n);
    return [
        { name: "keypair check with the keys not shared (must fail)", figure: `${served.filter(x => !x).length}/${others.length} nodes seen serving another keypair`, ok: served.every(x => !x) },
        { name: "logins with the keys not shared (must fail)", figure: fmt(during), ok: during.unauthorized > 0 },
        { name: "logins with the cluster keypair restored", figure: fmt(after), ok: after.ok === n && after.total === n },
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
 * The secretkey encrypts the settings the nodes share (config store, database). With node 3 on
 * another key, what it writes is garbage to the others: node 1's ui, restarted, reads its MySQL
 * password as garbage and cannot start. Restored, node 1 starts again.
 */
export function unsharedSecretKeyFails(s: Stack): Outcome[] {
    const one = first(s);
    const restore = unshareSecretKey(last(s).vm, s.dataPath);
    let broken: boolean;
    try {
        waitHealthy(s, [last(s).address]);
        // A marker so only log lines after this restart count.
        const since = inVm(one.vm, "date -u +%Y-%m-%dT%H:%M:%SZ").trim();
        restartHarbor(one.vm, ["ui"]);
        broken = inVm(one.vm, `for i in $(seq 90); do
  docker logs --since ${since} harbor-ui 2>&1 | grep -q 'FATAL: failed to initialize the database' && { echo seen; exit 0; }
  sleep 1
done; echo unseen`).trim() === "seen" && !healthy(s, one.address);
    } finally {
        restore();
    }
    waitHealthy(s, [last(s).address]);
    restartHarbor(one.vm, ["ui"]);
    waitHealthy(s, [one.address]);
    return [
        { name: `secretkey not shared: ${one.name}'s ui reads what ${last(s).name} encrypted (must fail)`, figure: broken ? "cannot start: its MySQL password decrypts to garbage" : "started", ok: broken },
        { name: "secretkey shared again", figure: `${one.name} ${healthy(s, one.address) ? "healthy" : "NOT healthy"}`, ok: healthy(s, one.address) },
    ];
}

/** One VM stopped: the load balancer's health checks take it out; every attempt after that counts. */
export function nodeLost(s: Stack, tag: string, n = 50): Outcome[] {
    const lost = s.nodes[1];
    labDocker(["stop", "-t", "10", lost.vm]);
    try {
        // Let the load balancer's health check see it (3 failed checks, 2 s apart).
        execSleep(10);
        const l = logins(s, n);
        const p = pulls(s, 10, s.host, `library/harbor-ha-probe:${tag}`);
        return [
            { name: `logins with ${lost.name} stopped`, figure: fmt(l), ok: l.ok === n && l.total === n },
            { name: `pulls (layer downloaded) with ${lost.name} stopped`, figure: fmt(p), ok: p.ok === 10 && p.total === 10 },
        ];
    } finally {
        labDocker(["start", lost.vm]);
    }
}

function execSleep(seconds: number): void {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, seconds * 1000);
}

export function report(outcomes: Outcome[]): boolean {
    for (const o of outcomes) log(`${o.ok ? "ok  " : "MISS"} ${o.name}: ${o.figure}`);
    return outcomes.every(o => o.ok);
}

if (require.main === module) {
    const stack = process.argv.includes("--stack") ? process.argv[process.argv.indexOf("--stack") + 1] : "dev";
    const s = readStack(stack);
    startClient(s);
    const tag = `v${Date.now()}`;
    const outcomes: Outcome[] = [];
    const step = (f: () => Outcome | Outcome[]) => { const o = f(); outcomes.push(...(Array.isArray(o) ? o : [o])); };
    step(() => loginsThroughLb(s));
    step(() => keypairServed(s));
    step(() => pushNode1PullNode3(s, tag));
    step(() => sessionsShared(s));
    step(() => unsharedKeysFail(s));
    step(() => unsharedSecretKeyFails(s));
    step(() => nodeLost(s, tag));
    waitHealthy(s, s.nodes.map(n => n.address));
    process.exit(report(outcomes) ? 0 : 1);
}
