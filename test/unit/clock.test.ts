// The clock probe (components/clockProbe.cjs): its reading of the samples and its verdict, then
// the probe itself against an SSH server that answers with a clock of its own.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { AddressInfo } from "node:net";
import * as path from "node:path";
import { describe, it } from "node:test";
import { clockProbe } from "../../components/nodeClock";
import { requireFlavor } from "../../render/flavors";
import { defaultMaxClockSkewMs } from "../../render/scripts/clock";

const { readClock, clockVerdict } = clockProbe;
const tolerance = "the registry accepts tokens up to 60 s early";

describe("clock readings", () => {
    it("keeps the exchange with the shortest round trip: the node's time lies within half of it", () => {
        assert.deepEqual(readClock([
            [1000, 1530, 1040], // 40 ms round trip: the answer could have been taken anywhere in it
            [2000, 2503.5, 2001], // 1 ms: the node is 503 ms ahead, give or take 0.5
            [3000, 3510, 3010],
        ]), { offsetMs: 503, uncertaintyMs: 0.5 });
    });

    it("refuses a node only beyond what the round trip leaves uncertain, naming the offset, the threshold and the fix", () => {
        const ok = (offsetMs: number, uncertaintyMs: number) => clockVerdict("harbor-3", { offsetMs, uncertaintyMs }, 10, tolerance).ok;
        assert.equal(ok(10, 0), true);
        assert.equal(ok(10.5, 0), false);
        assert.equal(ok(14, 5), true, "14 ms ± 5 ms may be 9 ms");
        assert.equal(ok(-16, 5), false, "behind counts as much as ahead");
        const v = clockVerdict("harbor-2", { offsetMs: 120_004.2, uncertaintyMs: 0.44 }, 1000, tolerance);
        assert.deepEqual({ ...v, hint: undefined }, {
            value: "+120.004 s against the machine running Pulumi (±0.4 ms)", threshold: `within 1000 ms (${tolerance})`, ok: false, hint: undefined,
        });
        assert.match(v.hint, /^node harbor-2: its clock is \+120\.004 s off, so tokens it signs or checks fail on the other nodes \(goharbor\/harbor#15911\)\. Synchronize/);
        assert.equal(clockVerdict("harbor-1", { offsetMs: -0.04, uncertaintyMs: 0.1 }, 1000, tolerance).value, "-0.0 ms against the machine running Pulumi (±0.1 ms)");
    });

    it("defaults to 1 s where tokens have 60 s of leeway (1.x's registry, 2.11+'s core) and 10 ms where they have none (2.10's core)", () => {
        assert.equal(defaultMaxClockSkewMs(requireFlavor("1.2.2").tokenLeeway), 1000);
        assert.equal(defaultMaxClockSkewMs(requireFlavor("2.10.3").tokenLeeway), 10);
        assert.equal(defaultMaxClockSkewMs(requireFlavor("2.11.0").tokenLeeway), 1000);
        assert.equal(requireFlavor("2.10.0").tokenLeeway.seconds, 0);
        assert.equal(requireFlavor("2.15.2").tokenLeeway.seconds, 60);
    });
});

describe("the clock probe against an SSH server", () => {
    // An SSH server whose "node" answers each line with its clock `aheadMs` ahead of this one's.
    const { Server, utils } = require("ssh2") as typeof import("ssh2");
    const rsa = () => generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs1", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } }).privateKey;
    const hostPem = rsa();
    const clientPem = rsa();
    const authorizedKey = (pem: string) => {
        const k = utils.parseKey(pem);
        if (k instanceof Error) throw k;
        return `${k.type} ${k.getPublicSSH().toString("base64")}`;
    };

    function server(aheadMs: number): Promise<{ port: number; close: () => void }> {
        const srv = new Server({ hostKeys: [hostPem] }, client => {
            client.on("authentication", ctx => (ctx.method === "publickey" ? ctx.accept() : ctx.reject(["publickey"])));
            client.on("session", accept => accept().on("exec", acceptExec => {
                const ch = acceptExec();
                let buf = "";
                ch.on("data", (d: Buffer) => {
                    buf += d;
                    for (let i; (i = buf.indexOf("\n")) >= 0; buf = buf.slice(i + 1)) ch.write(`${((Date.now() + aheadMs) / 1000).toFixed(6)}\n`);
                });
            }));
            client.on("error", () => undefined);
        });
        return new Promise(resolve => srv.listen(0, "127.0.0.1", () => resolve({ port: (srv.address() as AddressInfo).port, close: () => srv.close() })));
    }

    function runProbe(port: number, hostKey: string, maxSkewMs: number) {
        const input = JSON.stringify({ node: "harbor-2", host: "127.0.0.1", port, user: "root", privateKey: clientPem, hostKey, samples: 20, maxSkewMs, tolerance });
        return new Promise<{ status: number | null; stdout: string; stderr: string }>(resolve => {
            const p = spawn(process.execPath, [path.join(__dirname, "..", "..", "components", "clockProbe.cjs")]);
            let stdout = "", stderr = "";
            p.stdout.on("data", d => { stdout += d; });
            p.stderr.on("data", d => { stderr += d; });
            p.on("close", status => resolve({ status, stdout, stderr }));
            p.stdin.end(input);
        });
    }

    it("passes a node whose clock agrees, reporting it in the preflight's format", async () => {
        const s = await server(0);
        try {
            const r = await runProbe(s.port, authorizedKey(hostPem), 1000);
            assert.equal(r.status, 0, r.stderr);
            assert.match(r.stdout, /^preflight\tclock\t[+±-]\d+\.\d ms against the machine running Pulumi \(±\d+\.\d ms\)\twithin 1000 ms \(the registry accepts tokens up to 60 s early\)\tok\n$/);
        } finally {
            s.close();
        }
    });

    it("refuses a node 5 s ahead with the node's name, what it measured and the fix, and keeps no result", async () => {
        const s = await server(5000);
        try {
            const r = await runProbe(s.port, authorizedKey(hostPem), 1000);
            assert.equal(r.status, 1);
            assert.match(r.stderr, /^node harbor-2 failed preflight, nothing was changed on it:\n  - clock is \+(4\.99\d|5\.00\d) s against the machine running Pulumi \(±\d+\.\d ms\) \(threshold within 1000 ms/);
            assert.match(r.stderr, /Synchronize every node's clock, and this machine's, with NTP/);
        } finally {
            s.close();
        }
    });

    it("does not talk to a server whose host key is not the pinned one", async () => {
        const s = await server(0);
        try {
            const r = await runProbe(s.port, authorizedKey(rsa()), 1000);
            assert.equal(r.status, 1);
            assert.match(r.stderr, /^clock check of node harbor-2: 127\.0\.0\.1:\d+: Host denied/);
            assert.equal(r.stdout, "");
        } finally {
            s.close();
        }
    });
});
