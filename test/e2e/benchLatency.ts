// npm run bench's latency rows: what the load's successful requests took during a rolling change of
// every node, over the same load with nothing changing (the steady state), both in this one run.
//   node --import tsx test/e2e/benchLatency.ts <rows file> <deploy URN>...
import * as fs from "fs";
import { pushThrough, readStack, startClient } from "./lab";
import { latency } from "./load";
import { measureUnderLoad, stackRun } from "./verify";

const [rowsFile, ...deploys] = process.argv.slice(2);
const s = readStack("dev");
startClient(s);
const tag = `bench${Date.now()}`;
pushThrough(s, s.nodes[0].address, tag);
const m = measureUnderLoad(s, tag, () => {
    const r = stackRun(s, "up", deploys.flatMap(u => ["--replace", u]));
    if (r.status !== 0) throw new Error(`pulumi up failed: ${r.out.slice(-1500)}`);
});
if (m.r.failures.length > 0) throw new Error(`${m.r.failures.length} requests failed under the rolling change: ${m.r.failures[0].kind} ${m.r.failures[0].detail}`);
const during = latency(m.r);
const steady = latency(m.steady);
const rows = Object.entries(during).filter(([k]) => steady[k]).map(([k, l]) =>
    `| **ratio** ${k} latency under a rolling change of 3 nodes / steady state, p50 (${l.p50.toFixed(2)} s / ${steady[k].p50.toFixed(2)} s), p99 (${l.p99.toFixed(2)} s / ${steady[k].p99.toFixed(2)} s) | ` +
    `${(l.p50 / steady[k].p50).toFixed(2)}, ${(l.p99 / steady[k].p99).toFixed(2)} |`);
fs.writeFileSync(rowsFile, rows.join("\n") + "\n");
