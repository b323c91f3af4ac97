// npm run verify: the seed's HA claims, checked through the lab's load balancer against the
// deployed dev stack. Prints each figure; exits non-zero on any miss. No attempt is retried.
import { Attempts, labDocker, log, logins, pullThrough, pulls, pushThrough, readStack, Stack, startClient, unshareKeys, waitHealthy } from "./lab";

export interface Outcome {
    name: string;
    figure: string;
    ok: boolean;
}

const fmt = (a: Attempts) => `${a.ok}/${a.total}` + (a.unauthorized ? ` (${a.unauthorized} refused with 401)` : "") +
    (a.other.length ? ` (${a.other.length} other failures: ${a.other[0]})` : "");

export function loginsThroughLb(s: Stack, n = 200): Outcome {
    const a = logins(s, n);
    return { name: "logins", figure: fmt(a), ok: a.ok === n };
}

/** Each login's token is issued by one node and checked by another: with different keys, 401s. */
export function unsharedKeysFail(s: Stack, n = 30): Outcome[] {
    const restore = unshareKeys(s, s.nodes.slice(1).map(x => x.vm));
    let during: Attempts;
    try {
        waitHealthy(s, s.nodes.map(x => x.address));
        during = logins(s, n);
    } finally {
        restore();
    }
    waitHealthy(s, s.nodes.map(x => x.address));
    const after = logins(s, n);
    return [
        { name: "logins with keys not shared (must fail)", figure: fmt(during), ok: during.unauthorized > 0 },
        { name: "logins with the cluster keypair restored", figure: fmt(after), ok: after.ok === n },
    ];
}

export function pushNode1PullNode3(s: Stack, tag: string): Outcome {
    const first = s.nodes[0].address;
    const last = s.nodes[s.nodes.length - 1].address;
    const pushed = pushThrough(s, first, tag);
    const pulled = pullThrough(s, `${last}:${s.port}`, `library/harbor-ha-probe:${tag}`);
    return {
        name: `push through ${s.nodes[0].name}, pull through ${s.nodes[s.nodes.length - 1].name}`,
        figure: pulled === pushed.id ? `same image ${pulled.slice(7, 19)}` : `pushed ${pushed.id}, pulled ${pulled}`,
        ok: pulled === pushed.id,
    };
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
            { name: `logins with ${lost.name} stopped`, figure: fmt(l), ok: l.ok === n },
            { name: `pulls with ${lost.name} stopped`, figure: fmt(p), ok: p.ok === p.total && p.total === 10 },
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
    const s = readStack();
    startClient(s);
    const tag = `v${Date.now()}`;
    const outcomes: Outcome[] = [];
    outcomes.push(loginsThroughLb(s));
    outcomes.push(pushNode1PullNode3(s, tag));
    outcomes.push(...unsharedKeysFail(s));
    outcomes.push(...nodeLost(s, tag));
    process.exit(report(outcomes) ? 0 : 1);
}
