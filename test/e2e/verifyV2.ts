// The HA claims that are Harbor 2.x's own (npm run verify -- --stack dev-v2): a UI session and its
// CSRF token from one node accepted by another, and a job submitted on one node run by another
// node's jobservice. The claims both generations share are in verify.ts.
import { Stack } from "./lab";
import { gcThrough, GcRun, jobserviceHost, uiLoginV2, uiRequestV2 } from "./labV2";
import type { Outcome } from "./verify";

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
 * core submitted; it then calls its own core back. Garbage collections are submitted through node
 * 1 until one has run elsewhere (at most 12: with three workers taking turns that is certain in
 * practice); each must succeed.
 */
export function jobRunByAnotherNode(s: Stack): Outcome {
    const hosts = new Map(s.nodes.map(n => [jobserviceHost(n.vm), n.name] as const));
    const where = (r: GcRun) => hosts.get((r.ranOn ?? "").split(":")[0]) ?? `unknown worker ${r.ranOn ?? "-"}`;
    const runs: GcRun[] = [];
    for (let i = 0; i < 12; i++) {
        const r = gcThrough(s, first(s).address);
        runs.push(r);
        if (r.status !== "Success" || where(r) !== first(s).name) break;
    }
    const lastRun = runs[runs.length - 1];
    const failed = runs.filter(r => r.status !== "Success");
    return {
        name: `a job submitted on ${first(s).name} run by another node's jobservice`,
        figure: `${runs.length - failed.length}/${runs.length} garbage collections succeeded; the last ran on ${where(lastRun)}` +
            (failed.length ? `; ${failed[0].status}: ${failed[0].message ?? ""}` : ""),
        ok: failed.length === 0 && where(lastRun) !== first(s).name && s.nodes.some(n => n.name === where(lastRun)),
    };
}
