// Continuous load through the load balancer while something changes: from the lab's client
// machine, docker logins, pulls of an image pushed before and API GETs; from this machine, API
// GETs through the load balancer's published port. Every attempt is one line with when it started
// and ended, counted once; nothing is retried here.
import { spawn } from "node:child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { client, clientExec, forgetImage, labDocker, sleepMs, Stack } from "./lab";

export interface Failure {
    at: number;
    kind: string;
    detail: string;
}

export interface Attempt extends Failure {
    ok: boolean;
    /** Seconds from the attempt's start to its end (`at`). */
    took: number;
}

export interface LoadResult {
    total: number;
    ok: number;
    byKind: Record<string, { total: number; ok: number }>;
    failures: Failure[];
    attempts: Attempt[];
}

const stopFile = "/tmp/harbor-ha-load.stop";

/** One loop per kind; each line "<end> <start> <kind> ok" or "<end> <start> <kind> fail <why>" (epoch seconds). */
function clientScript(s: Stack, repoTag: string): string {
    const api = `https://${s.host}${s.apiPath}`;
    return `set -u
out=/tmp/harbor-ha-load.out
rm -f ${stopFile} "$out"
echo $$ >/tmp/harbor-ha-load.pid
pw=$(cat /tmp/harbor-ha-load.pw)
line() { printf '%s %s %s\\n' "$(date +%s.%N)" "$t0" "$*" >>"$out"; }
api() {
  while [ ! -e ${stopFile} ]; do
    t0=$(date +%s.%N)
    if code=$(curl -sS -m 20 --cacert /root/ca.crt -o /dev/null -w '%{http_code}' ${api} 2>&1) && [ "$code" = 200 ]; then line api ok
    else line api fail "$(printf '%s' "$code" | tr '\\n' ' ')"; fi
  done
}
logins() {
  export DOCKER_CONFIG=/tmp/harbor-ha-load-login
  while [ ! -e ${stopFile} ]; do
    t0=$(date +%s.%N)
    if o=$(printf '%s' "$pw" | docker login -u admin --password-stdin ${s.host} 2>&1); then line login ok
    else line login fail "$(printf '%s' "$o" | tr '\\n' ' ')"; fi
  done
}
pulls() {
  export DOCKER_CONFIG=/tmp/harbor-ha-load-pull
  t0=$(date +%s.%N)
  if o=$(printf '%s' "$pw" | docker login -u admin --password-stdin ${s.host} 2>&1); then line login ok
  else line login fail "$(printf '%s' "$o" | tr '\\n' ' ')"; fi
  while [ ! -e ${stopFile} ]; do
    # A push or pull through one node left a name of its own: a pull that downloads nothing did not pull.
    ${forgetImage(repoTag)}
    t0=$(date +%s.%N)
    if o=$(docker pull ${s.host}/${repoTag} 2>&1) && printf '%s' "$o" | grep -q 'Pull complete'; then line pull ok
    else line pull fail "$(printf '%s' "$o" | tr '\\n' ' ')"; fi
  done
}
api & api & logins & pulls &
wait`;
}

/**
 * The loops that run at once (the client's two api, logins and pulls, and this machine's host-api):
 * each has at most one attempt open at any moment, so at most this many are in flight to a node
 * when it dies.
 */
export const loadLoops = 5;

/** This machine's loop: API GETs to the load balancer's published port, the domain resolved to it. */
function hostScript(s: Stack, caFile: string, out: string, stop: string): string {
    return `set -u
while [ ! -e ${stop} ]; do
  t=$(date +%s.%N)
  if code=$(curl -sS -m 20 --cacert ${caFile} --resolve ${s.domain}:${s.port}:127.0.0.1 -o /dev/null -w '%{http_code}' https://${s.host}${s.apiPath} 2>&1) && [ "$code" = 200 ]; then
    echo "$(date +%s.%N) $t host-api ok" >>${out}
  else
    echo "$(date +%s.%N) $t host-api fail $(printf '%s' "$code" | tr '\\n' ' ')" >>${out}
  fi
done
touch ${out}.done`;
}

export interface Load {
    /** The attempts ended so far, read without stopping anything. */
    sofar(): LoadResult;
    /** Stops every loop, waits for the attempts in progress and counts them. */
    stop(): LoadResult;
}

export function startLoad(s: Stack, repoTag: string): Load {
    clientExec("umask 077 && cat > /tmp/harbor-ha-load.pw", s.adminPassword);
    clientExec("cat > /tmp/harbor-ha-load.sh", clientScript(s, repoTag));
    clientExec("rm -f /tmp/harbor-ha-load.pid");
    labDocker(["exec", "-d", client, "bash", "/tmp/harbor-ha-load.sh"]);
    clientExec("for i in $(seq 100); do [ -s /tmp/harbor-ha-load.pid ] && exit 0; sleep 0.1; done; echo 'the load did not start' >&2; exit 1");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "harbor-ha-load-"));
    const ca = path.join(dir, "ca.crt");
    fs.writeFileSync(ca, s.caPem);
    const out = path.join(dir, "out");
    const stop = path.join(dir, "stop");
    const host = spawn("bash", ["-c", hostScript(s, ca, out, stop)], { detached: true, stdio: "ignore" });
    host.unref();
    // A loop may be writing its last line: only whole lines count.
    const whole = (t: string) => t.slice(0, t.lastIndexOf("\n") + 1);
    return {
        sofar(): LoadResult {
            return tallyLines(whole(clientExec("cat /tmp/harbor-ha-load.out 2>/dev/null || true")) + (fs.existsSync(out) ? whole(fs.readFileSync(out, "utf8")) : ""));
        },
        stop(): LoadResult {
            clientExec(`touch ${stopFile}`);
            fs.writeFileSync(stop, "");
            clientExec("while kill -0 \"$(cat /tmp/harbor-ha-load.pid)\" 2>/dev/null; do sleep 0.2; done");
            // Blocked here, this process cannot reap the loop: it says when it is done instead.
            while (!fs.existsSync(`${out}.done`)) sleepMs(200);
            const text = clientExec("cat /tmp/harbor-ha-load.out") + (fs.existsSync(out) ? fs.readFileSync(out, "utf8") : "");
            fs.rmSync(dir, { recursive: true, force: true });
            return tallyLines(text);
        },
    };
}

export function tallyLines(text: string): LoadResult {
    return tally(text.split("\n").filter(x => x.trim() !== "").map(l => {
        const [at, start, kind, verdict, ...rest] = l.split(" ");
        return { at: Number(at), took: Number(at) - Number(start), kind, ok: verdict === "ok", detail: rest.join(" ") };
    }));
}

/** A server's state change as the load balancer logged it: HAProxy's own count of servers left in service. */
export interface LbEvent {
    at: number;
    node: string;
    up: boolean;
    /** "N active and M backup servers left|online": how many were in service after this change. */
    active: number;
}

/**
 * HAProxy's "[WARNING] (pid) : Server <backend>/<node> is UP|DOWN, ... N active and M backup servers
 * left|online." lines on its stderr. Each state change also goes to the config's `log stdout`,
 * but a log target on a pipe is written without blocking and a message that does not fit is
 * dropped (doc/configuration.txt "fd@<number>": "may be dropped, in which case the DroppedLogs
 * counter will be incremented"; src/fd.c fd_write_frag_line @ v2.6.0): under the load's traffic log
 * a node's DOWN line was lost once. The stderr copy is ha_warning's fprintf and fflush on a
 * blocking descriptor (src/server.c, src/errors.c @ v2.6.0): never dropped.
 */
export function lbEvents(dockerLogs: string): LbEvent[] {
    const events: LbEvent[] = [];
    for (const line of dockerLogs.split("\n")) {
        // docker logs --timestamps: "<RFC 3339> <line>".
        const m = /^(\S+) \[WARNING\]\s+\(\d+\) : Server harbor-nodes\/(\S+) is (UP|DOWN)\b.*?(\d+) active and \d+ backup servers (?:left|online)/.exec(line);
        if (m) events.push({ at: Date.parse(m[1]) / 1000, node: m[2], up: m[3] === "UP", active: Number(m[4]) });
    }
    return events;
}

export interface Timeline {
    /** Each node's spans out of service, in seconds from `from`. */
    out: Record<string, [number, number][]>;
    /** The fewest nodes in service at any moment, by the load balancer's own count. */
    minActive: number;
}

/** Which nodes the load balancer had out of service when, between `from` and `to` (epoch seconds), all in service at `from`. */
export function timeline(events: LbEvent[], nodes: string[], from: number, to: number): Timeline {
    const out: Record<string, [number, number][]> = Object.fromEntries(nodes.map(n => [n, []]));
    let minActive = nodes.length;
    for (const e of events.filter(x => x.at >= from && x.at <= to)) {
        minActive = Math.min(minActive, e.active);
        const spans = (out[e.node] ??= []);
        const open = spans.length > 0 && spans[spans.length - 1][1] < 0;
        if (!e.up && !open) spans.push([e.at - from, -1]);
        else if (e.up && open) spans[spans.length - 1][1] = e.at - from;
    }
    for (const spans of Object.values(out)) if (spans.length > 0 && spans[spans.length - 1][1] < 0) spans[spans.length - 1][1] = to - from;
    return { out, minActive };
}

/** "harbor-1 out 12.0-31.5s, harbor-2 out 40.1-60.0s, harbor-3 never out; at least 2 of 3 in service". */
export function describeTimeline(t: Timeline, nodes: number): string {
    return Object.entries(t.out).map(([n, spans]) => spans.length === 0 ? `${n} never out`
        : `${n} out ${spans.map(([a, b]) => `${a.toFixed(1)}-${b.toFixed(1)}s`).join(", ")}`).join("; ") +
        `; at least ${t.minActive} of ${nodes} in service throughout`;
}

/** The attempts that ended after `from` and no later than `to` (epoch seconds). */
export function between(r: LoadResult, from: number, to = Infinity): LoadResult {
    return tally(r.attempts.filter(a => a.at > from && a.at <= to));
}

/** The attempts that started at or after `from` (epoch seconds): none of them was open before it. */
export function startedFrom(r: LoadResult, from: number): LoadResult {
    return tally(r.attempts.filter(a => a.at - a.took >= from));
}

function tally(attempts: Attempt[]): LoadResult {
    const r: LoadResult = { total: 0, ok: 0, byKind: {}, failures: [], attempts };
    for (const a of attempts) {
        const k = (r.byKind[a.kind] ??= { total: 0, ok: 0 });
        r.total++;
        k.total++;
        if (a.ok) {
            r.ok++;
            k.ok++;
        } else {
            r.failures.push({ at: a.at, kind: a.kind, detail: a.detail });
        }
    }
    return r;
}

/** The p50, p99 and max seconds that successful attempts took, by kind. */
export interface Latency {
    n: number;
    p50: number;
    p99: number;
    max: number;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))];
}

export function latency(r: LoadResult): Record<string, Latency> {
    const by: Record<string, number[]> = {};
    for (const a of r.attempts) if (a.ok) (by[a.kind] ??= []).push(a.took);
    return Object.fromEntries(Object.entries(by).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => {
        const sorted = v.sort((x, y) => x - y);
        return [k, { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] }];
    }));
}

/**
 * "latency p50/p99/max: api 0.03/0.21/0.90s (steady 0.03/0.10/0.20s), ...": what the successful
 * requests took, beside the same load with nothing changing. Printed, never judged.
 */
export function describeLatency(r: LoadResult, steady?: LoadResult): string {
    const f = (l: Latency) => `${l.p50.toFixed(2)}/${l.p99.toFixed(2)}/${l.max.toFixed(2)}s`;
    const base = steady ? latency(steady) : {};
    return "latency p50/p99/max: " + Object.entries(latency(r)).map(([k, l]) => `${k} ${f(l)}` + (base[k] ? ` (steady ${f(base[k])})` : "")).join(", ");
}

export function describeLoad(r: LoadResult): string {
    const kinds = Object.entries(r.byKind).map(([k, v]) => `${k} ${v.ok}/${v.total}`).join(", ");
    return `${r.ok}/${r.total} requests ok (${kinds})` + (r.failures.length ? `; first failure: ${r.failures[0].kind} ${r.failures[0].detail.slice(0, 200)}` : "");
}

export { sleepMs };
