// Harbor 2.x's UI session, CSRF token and job APIs, used from the lab's client machine through
// one node (the domain resolved to that node), as a browser and an API user would.
import { adminApi, clientExec, inVm, nodeCurl, Stack } from "./lab";

/** A browser's state after logging in on one node: its cookie jar (in the client) and CSRF token. */
export interface UiSession {
    jar: string;
    csrf: string;
}

let jars = 0;

/** GET /c/login for a CSRF token, then POST /c/login with it (Harbor's portal does the same). */
export function uiLoginV2(s: Stack, address: string): UiSession {
    const jar = `/tmp/ui-v2-${process.pid}-${++jars}.jar`;
    const out = clientExec(`read -r pw
set -e
rm -f ${jar}
tok=$(${nodeCurl(s, address, `-c ${jar} -o /dev/null -D - https://${s.host}/c/login`)} | tr -d '\\r' | awk 'tolower($1) == "x-harbor-csrf-token:" {print $2}')
[ -n "$tok" ] || { echo "no CSRF token from GET /c/login" >&2; exit 1; }
code=$(${nodeCurl(s, address, `-b ${jar} -c ${jar} -o /dev/null -w '%{http_code}' -H "X-Harbor-CSRF-Token: $tok" --data-urlencode principal=admin --data-urlencode "password=$pw" https://${s.host}/c/login`)})
[ "$code" = 200 ] || { echo "POST /c/login answered $code" >&2; exit 1; }
awk '$6 == "sid" {f=1} END {exit !f}' ${jar} || { echo "no sid cookie" >&2; exit 1; }
echo "$tok"`, `${s.adminPassword}\n`).trim();
    return { jar, csrf: out };
}

/** A request with the session (and its CSRF token) to one node: status and body. */
export function uiRequestV2(s: Stack, address: string, ui: UiSession, method: string, path: string, json?: unknown):
    { status: number; body: string } {
    const data = json === undefined ? "" : `-H 'Content-Type: application/json' --data-binary @-`;
    const out = clientExec(`${nodeCurl(s, address, `-b ${ui.jar} -X ${method} -H "X-Harbor-CSRF-Token: ${ui.csrf}" ${data} -w '\\n%{http_code}' https://${s.host}${path}`)}`,
        json === undefined ? undefined : JSON.stringify(json)).split("\n");
    const status = Number(out.pop());
    return { status, body: out.join("\n") };
}

export interface GcRun {
    id: number;
    status: string;
}

/** A manual garbage collection submitted on one node, followed there until it ends (60 s at most). */
export function gcThrough(s: Stack, address: string): GcRun {
    const sub = adminApi(s, address, "POST", "/api/v2.0/system/gc/schedule", { schedule: { type: "Manual" } });
    const loc = /^location:\s*\S*\/system\/gc\/(\d+)\s*$/im.exec(sub.headers);
    if (sub.status !== 201 || !loc) throw new Error(`GC not accepted on ${address}: HTTP ${sub.status} ${sub.body.slice(0, 300)}`);
    const id = Number(loc[1]);
    let run: GcRun = { id, status: "Pending" };
    for (let i = 0; i < 120 && !["Success", "Error", "Stopped"].includes(run.status); i++) {
        const g = adminApi(s, address, "GET", `/api/v2.0/system/gc/${id}`);
        run = { id, status: (JSON.parse(g.body) as { job_status: string }).job_status };
        if (!["Success", "Error", "Stopped"].includes(run.status)) clientExec("sleep 0.5");
    }
    return run;
}

/** What the replication figures replicate to: an endpoint (the cluster's own registry, by the load balancer's name) and a project there. */
export interface ReplicationSetup {
    registryId: number;
    policyId: number;
    /** The destination project; the probe lands in `<project>/harbor-ha-probe:<tag>`. */
    project: string;
}

const created = (r: { status: number; headers: string; body: string }, what: string): number => {
    const id = /^location:\s*\S*\/(\d+)\s*$/im.exec(r.headers)?.[1];
    if (r.status !== 201 || !id) throw new Error(`${what}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
    return Number(id);
};

/**
 * Through node 1: a `docker-registry` endpoint for the cluster itself (the admin's credential,
 * stored encrypted with the secretkey; Harbor pings it before it stores it), a destination project
 * and a manual push policy copying the probe `library/harbor-ha-probe:<tag>` there.
 */
export function replicationSetup(s: Stack, tag: string): ReplicationSetup {
    const one = s.nodes[0].address;
    const name = `hh-${tag.toLowerCase()}`;
    const registryId = created(adminApi(s, one, "POST", "/api/v2.0/registries", {
        name, type: "docker-registry", url: `https://${s.host}`, insecure: true,
        credential: { type: "basic", access_key: "admin", access_secret: s.adminPassword },
    }), "registry endpoint");
    const project = `${name}-copies`;
    created(adminApi(s, one, "POST", "/api/v2.0/projects", { project_name: project, metadata: { public: "false" } }), "destination project");
    const policyId = created(adminApi(s, one, "POST", "/api/v2.0/replication/policies", {
        name, src_registry: null, dest_registry: { id: registryId }, dest_namespace: project, override: true, enabled: true,
        filters: [{ type: "name", value: "library/harbor-ha-probe" }, { type: "tag", value: tag }], trigger: { type: "manual" },
    }), "replication policy");
    return { registryId, policyId, project };
}

export interface ReplicationRun {
    id: number;
    /** The execution's status: Succeed, Failed, Stopped (InProgress if it did not end in time). */
    status: string;
    /** The job IDs of its tasks, as jobservice knows them. */
    jobIds: string[];
}

/**
 * A manual run of the policy submitted on one node, followed there until it ends. Harbor retries a
 * failed replication job up to 3 times with backoff (src/jobservice/job/impl/replication), so the
 * end of a failing one can take minutes: 5 at most.
 */
export function replicateThrough(s: Stack, address: string, policyId: number): ReplicationRun {
    const id = created(adminApi(s, address, "POST", "/api/v2.0/replication/executions", { policy_id: policyId }), "replication execution");
    let status = "InProgress";
    for (let i = 0; i < 600 && status === "InProgress"; i++) {
        status = (JSON.parse(adminApi(s, address, "GET", `/api/v2.0/replication/executions/${id}`).body) as { status: string }).status;
        if (status === "InProgress") clientExec("sleep 0.5");
    }
    const tasks = JSON.parse(adminApi(s, address, "GET", `/api/v2.0/replication/executions/${id}/tasks`).body) as { job_id: string }[];
    return { id, status, jobIds: tasks.map(t => t.job_id) };
}

/** A node's jobservice log as the log service writes it (row 44 of the conformance table). */
export function jobserviceLog(vm: string): string {
    return inVm(vm, "cat /var/log/harbor/jobservice.log 2>/dev/null || true");
}

/** What makes one node differ from the others for a negative control: files made in it, and a compose override. */
export interface NodeDeviation {
    /** Shell run in the VM first, in /root/harbor-ha-e2e (e.g. making another key there). */
    prepare: string;
    /** A compose file merged over Harbor's (`docker compose -f docker-compose.yml -f <it>`). */
    override: string;
    /** The services recreated with it, and recreated again without it to restore. */
    services: string[];
}

/**
 * Runs one node's Harbor as if its prepare had drawn its own value of a secret, the way a cluster
 * whose nodes ran `prepare` each is; returns the restore. Harbor's own files stay untouched. The
 * proxy restarts after the others (its upstreams are resolved once, when it starts).
 */
export function deviate(s: Stack, vm: string, d: NodeDeviation): () => void {
    const dir = "/root/harbor-ha-e2e";
    const up = (extra: string) => `cd ${s.installDir}
docker compose -f docker-compose.yml ${extra} up -d --force-recreate ${d.services.join(" ")} >/dev/null 2>&1
docker compose restart proxy >/dev/null 2>&1`;
    inVm(vm, `rm -rf ${dir}; mkdir -p ${dir}; cd ${dir}
cat >${dir}/override.yml
${d.prepare}
${up(`-f ${dir}/override.yml`)}`, d.override);
    return () => { inVm(vm, `${up("")}
rm -rf ${dir}`); };
}
