// The rolling figures' "one node out at a time" reads the load balancer's own log; its parsing and
// counting are checked here on HAProxy's real lines (from the lab's lb, `docker logs --timestamps`:
// its stderr copy of each state change first, then the log target's line, which is ignored).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeTimeline, lbEvents, timeline } from "../e2e/load";

const down = (t: string, node: string, left: number) => [
    `${t} [WARNING]  (407) : Server harbor-nodes/${node} is DOWN, reason: Layer7 wrong status, code: 503, info: "Service Temporarily Unavailable", check duration: 0ms. ${left} active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`,
    `${t} Server harbor-nodes/${node} is DOWN, reason: Layer7 wrong status, code: 503, info: "Service Temporarily Unavailable", check duration: 0ms. ${left} active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`,
];
const up = (t: string, node: string, online: number) => [
    `${t} [WARNING]  (407) : Server harbor-nodes/${node} is UP, reason: Layer7 check passed, code: 200, check duration: 10ms. ${online} active and 0 backup servers online. 0 sessions requeued, 0 total in queue.`,
    `${t} Server harbor-nodes/${node} is UP, reason: Layer7 check passed, code: 200, check duration: 10ms. ${online} active and 0 backup servers online. 0 sessions requeued, 0 total in queue.`,
];
const nodes = ["harbor-1", "harbor-2", "harbor-3"];
const from = Date.parse("2026-12-02T00:35:00Z") / 1000;
const to = from + 120;

describe("the load balancer's log as a timeline", () => {
    it("reads each state change once, from HAProxy's stderr copy (the log target's line may be dropped)", () => {
        const e = lbEvents([...down("2026-12-02T00:35:08.877932148Z", "harbor-1", 2), "127.0.0.1:49474 [02/Dec/2026:00:34:57.619] lab-stats", ...up("2026-12-02T00:35:16.902204266Z", "harbor-1", 3)].join("\n"));
        assert.deepEqual(e.map(x => [x.node, x.up, x.active]), [["harbor-1", false, 2], ["harbor-1", true, 3]]);
        assert.ok(Math.abs(e[0].at - (from + 8.878)) < 0.001);
    });

    it("a change whose log-target line was dropped is still read, and that line alone never is", () => {
        const [warning, target] = down("2026-12-02T00:35:40Z", "harbor-2", 2);
        const [upWarning] = up("2026-12-02T00:36:00Z", "harbor-2", 3);
        assert.deepEqual(timeline(lbEvents([warning, upWarning].join("\n")), nodes, from, to).out["harbor-2"], [[40, 60]]);
        assert.deepEqual(lbEvents(target), []);
    });

    it("node by node: every node out once, never two at once", () => {
        const log = [
            ...down("2026-12-02T00:35:05Z", "harbor-1", 2), ...up("2026-12-02T00:35:30Z", "harbor-1", 3),
            ...down("2026-12-02T00:35:40Z", "harbor-2", 2), ...up("2026-12-02T00:36:00Z", "harbor-2", 3),
            ...down("2026-12-02T00:36:10Z", "harbor-3", 2), ...up("2026-12-02T00:36:40Z", "harbor-3", 3),
        ].join("\n");
        const t = timeline(lbEvents(log), nodes, from, to);
        assert.equal(t.minActive, 2);
        assert.deepEqual(t.out, { "harbor-1": [[5, 30]], "harbor-2": [[40, 60]], "harbor-3": [[70, 100]] });
        assert.equal(describeTimeline(t, 3), "harbor-1 out 5.0-30.0s; harbor-2 out 40.0-60.0s; harbor-3 out 70.0-100.0s; at least 2 of 3 in service throughout");
    });

    it("two out at once shows as HAProxy's own count, however short the overlap", () => {
        const log = [
            ...down("2026-12-02T00:35:05Z", "harbor-1", 2), ...down("2026-12-02T00:35:29.9Z", "harbor-2", 1),
            ...up("2026-12-02T00:35:30Z", "harbor-1", 2), ...up("2026-12-02T00:35:50Z", "harbor-2", 3),
        ].join("\n");
        assert.equal(timeline(lbEvents(log), nodes, from, to).minActive, 1);
    });

    it("a node still out when the change ended is out until then; changes outside the window do not count", () => {
        const log = [...down("2026-12-02T00:34:00Z", "harbor-2", 2), ...up("2026-12-02T00:34:30Z", "harbor-2", 3), ...down("2026-12-02T00:36:50Z", "harbor-3", 2)].join("\n");
        const t = timeline(lbEvents(log), nodes, from, to);
        assert.deepEqual(t.out, { "harbor-1": [], "harbor-2": [], "harbor-3": [[110, 120]] });
        assert.equal(t.minActive, 2);
    });
});
