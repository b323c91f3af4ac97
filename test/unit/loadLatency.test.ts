// The figures under load print what the successful requests took (p50/p99/max) beside the steady
// state; the loops' lines carry each attempt's start and end, and only successes count.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeLatency, latency, tallyLines } from "../e2e/load";

/** `n` successful attempts of `kind` taking 0.01, 0.02, ... n/100 s, ending at 1000 + i. */
function lines(kind: string, n: number): string[] {
    return Array.from({ length: n }, (_, i) => `${1000 + i} ${1000 + i - (i + 1) / 100} ${kind} ok`);
}

describe("the load's latency", () => {
    it("reads each attempt's duration from its start and end", () => {
        const r = tallyLines("1700000010.50 1700000010.25 api ok\n1700000011.00 1700000009.00 pull fail Error: timeout\n");
        assert.deepEqual(r.attempts.map(a => [a.kind, a.ok, a.took, a.detail]), [["api", true, 0.25, ""], ["pull", false, 2, "Error: timeout"]]);
        assert.equal(r.total, 2);
        assert.equal(r.ok, 1);
    });

    it("takes p50, p99 and max by nearest rank over the successes of each kind only", () => {
        const r = tallyLines([...lines("api", 200), "2000 1900 api fail took 100 s and failed", ...lines("login", 1)].join("\n"));
        const l = latency(r);
        assert.deepEqual(Object.keys(l), ["api", "login"]);
        assert.equal(l.api.n, 200);
        assert.ok(Math.abs(l.api.p50 - 1.0) < 1e-6, String(l.api.p50));
        assert.ok(Math.abs(l.api.p99 - 1.98) < 1e-6, String(l.api.p99));
        assert.ok(Math.abs(l.api.max - 2.0) < 1e-6, String(l.api.max));
        assert.deepEqual([l.login.p50, l.login.p99, l.login.max].map(x => x.toFixed(2)), ["0.01", "0.01", "0.01"]);
    });

    it("prints each kind beside the steady state's", () => {
        const steady = tallyLines(lines("api", 100).join("\n"));
        const slow = tallyLines(lines("api", 100).map(l => l.replace(/^(\S+) (\S+)/, (_, a, b) => `${a} ${Number(b) - 1}`)).join("\n"));
        assert.equal(describeLatency(slow, steady), "latency p50/p99/max: api 1.50/1.99/2.00s (steady 0.50/0.99/1.00s)");
        assert.equal(describeLatency(steady), "latency p50/p99/max: api 0.50/0.99/1.00s");
    });
});
