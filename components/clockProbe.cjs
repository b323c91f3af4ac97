// NodeClock's probe, run by `node` on the machine running Pulumi (components/nodeClock.ts). Reads
// {node, host, port, user, privateKey, hostKey, samples, maxSkewMs, tolerance} as JSON on stdin,
// connects with the host key pinned and asks the node for its time `samples` times over one SSH
// session. The exchange with the shortest round trip puts the node's time within half of it of
// the midpoint. Prints the preflight's `clock` line (render/scripts/preflight.ts's format) and
// exits 0 when the node is within maxSkewMs of this machine beyond that uncertainty; otherwise
// says so on stderr and exits 1, so the measurement is not kept and the next `pulumi up` measures
// again.
"use strict";

// The node answers each line from a shell loop: EPOCHREALTIME (bash 5) needs no process per answer.
const nodeLoop = "LC_ALL=C bash -c 'while IFS= read -r _; do t=${EPOCHREALTIME:-$(date +%s.%N)}; printf \"%s\\n\" \"${t/,/.}\"; done'";
// What the pinned key's type is offered as: an RSA key signs with SHA-2 first.
const hostKeyAlgorithms = { "ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] };

/** [[sent, node, received], ...] (ms since the epoch) -> the node's offset (ahead: positive) ± uncertainty. */
function readClock(samples) {
    if (samples.length === 0) throw new Error("no clock samples");
    const best = samples.reduce((a, b) => (b[2] - b[0] < a[2] - a[0] ? b : a));
    return { offsetMs: best[1] - (best[0] + best[2]) / 2, uncertaintyMs: (best[2] - best[0]) / 2 };
}

function ms(x) {
    const sign = x > 0 ? "+" : x < 0 ? "-" : "±";
    const a = Math.abs(x);
    return `${sign}${a >= 1000 ? `${(a / 1000).toFixed(3)} s` : `${a.toFixed(1)} ms`}`;
}

/** The preflight's verdict on a reading: refused only beyond what the round trip leaves uncertain. */
function clockVerdict(node, r, maxSkewMs, tolerance) {
    const ok = Math.abs(r.offsetMs) - r.uncertaintyMs <= maxSkewMs;
    return {
        value: `${ms(r.offsetMs)} against the machine running Pulumi (±${r.uncertaintyMs.toFixed(1)} ms)`,
        threshold: `within ${maxSkewMs} ms (${tolerance})`,
        ok,
        hint: ok ? "" : `node ${node}: its clock is ${ms(r.offsetMs)} off, so tokens it signs or checks fail on the other nodes (goharbor/harbor#15911). ` +
            "Synchronize every node's clock, and this machine's, with NTP (chrony or systemd-timesyncd, the same servers for all), then run pulumi up again.",
    };
}

function probe(c, done) {
    const { Client } = require("ssh2");
    const now = () => performance.timeOrigin + performance.now();
    const [type, blob] = c.hostKey.trim().split(/\s+/);
    const pinned = Buffer.from(blob, "base64");
    const ssh = new Client();
    const fail = msg => done(new Error(`${c.host}:${c.port}: ${msg}`));
    const timer = setTimeout(() => fail("gave no time within 60s"), 60000);
    ssh.on("error", e => fail(e.message));
    ssh.on("ready", () => ssh.exec(nodeLoop, (err, ch) => {
        if (err) return fail(err.message);
        const samples = [];
        let buf = "";
        let sent = 0;
        const ask = () => {
            sent = now();
            ch.write("\n");
        };
        ch.on("data", d => {
            buf += d;
            for (let i; (i = buf.indexOf("\n")) >= 0; buf = buf.slice(i + 1)) {
                const received = now();
                const node = Number(buf.slice(0, i)) * 1000;
                if (!Number.isFinite(node)) return fail(`answered ${JSON.stringify(buf.slice(0, i))}, not a time`);
                samples.push([sent, node, received]);
                if (samples.length < c.samples) {
                    ask();
                } else {
                    clearTimeout(timer);
                    ssh.end();
                    return done(undefined, samples);
                }
            }
        });
        ask();
    }));
    ssh.connect({
        host: c.host, port: c.port, username: c.user, privateKey: c.privateKey, readyTimeout: 30000,
        algorithms: { serverHostKey: hostKeyAlgorithms[type] || [type] },
        hostVerifier: key => Buffer.compare(key, pinned) === 0,
    });
}

function main() {
    let input = "";
    process.stdin.on("data", d => { input += d; }).on("end", () => {
        const c = JSON.parse(input);
        probe(c, (err, samples) => {
            if (err) {
                process.stderr.write(`clock check of node ${c.node}: ${err.message}\n`);
                process.exit(1);
            }
            const v = clockVerdict(c.node, readClock(samples), c.maxSkewMs, c.tolerance);
            process.stdout.write(`preflight\tclock\t${v.value}\t${v.threshold}\t${v.ok ? "ok" : "FAIL"}\n`);
            if (!v.ok) {
                process.stderr.write(`node ${c.node} failed preflight, nothing was changed on it:\n  - clock is ${v.value} (threshold ${v.threshold})\n  ${v.hint}\n`);
                process.exit(1);
            }
            process.exit(0);
        });
    });
}

if (require.main === module) main();
module.exports = { readClock, clockVerdict };
