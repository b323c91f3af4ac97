// Drives the running lab for the HA checks: a client "VM" on the lab network (its own Docker
// engine) does real docker login / push / pull and UI logins through the load balancer or one
// node, as a user's host would. Every attempt is counted once; nothing here retries.
import assert from "node:assert/strict";
import { execFileSync, ExecFileSyncOptions, spawnSync } from "node:child_process";
import { createPublicKey, verify, X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { labStackConfigPath } from "../../scripts/labStack";

export const repo = path.join(__dirname, "..", "..");
export const cache = process.env.HARBOR_HA_CACHE ?? "/var/cache/harbor-ha";
const labEnv = { ...process.env, DOCKER_HOST: "unix:///run/harbor-ha-lab/docker.sock" };
export const client = "lab-client";
const clientIp = "10.213.70.30";
const lbIp = "10.213.70.13";
export const labDns = "10.213.70.14";
/** Where the VMs keep Harbor (the dev stack's installDir). */
export const installDir = "/opt/harbor";

export function log(msg: string): void {
    process.stdout.write(`[verify] ${msg}\n`);
}

function run(cmd: string, args: string[], opts: ExecFileSyncOptions = {}): string {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["pipe", "pipe", "pipe"], maxBuffer: 64 << 20, ...opts }).toString();
}

/** The lab's Docker engine (not this machine's). */
export function labDocker(args: string[], input?: string): string {
    return run("docker", args, { env: labEnv, input });
}

/** Whether a command on the lab's Docker engine succeeds (its output dropped). */
export function labDockerOk(args: string[]): boolean {
    return spawnSync("docker", args, { env: labEnv, stdio: "ignore" }).status === 0;
}

/** A shell script in a lab VM; returns its stdout. */
export function inVm(vm: string, script: string, input?: string): string {
    return labDocker(["exec", "-i", vm, "bash", "-c", `set -euo pipefail\n${script}`], input);
}

/**
 * What runs on the VM over SSH (the program's probes and scripts) sees its clock `seconds` ahead
 * (libfaketime, preloaded by sshd for every session); 0 puts it back. Harbor's containers keep the
 * real clock.
 */
export function skewClock(vm: string, seconds: number): void {
    const conf = "/etc/ssh/sshd_config.d/zz-harbor-ha-e2e-clock.conf";
    inVm(vm, seconds === 0 ? `rm -f ${conf}; pkill -HUP -o -x sshd` :
        `echo 'SetEnv LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 FAKETIME=+${seconds} FAKETIME_DONT_FAKE_MONOTONIC=1' >${conf}; pkill -HUP -o -x sshd`);
}

/**
 * #15911 on purpose: the VM's ui (1.x's token service) sees its clock `seconds` ahead (libfaketime
 * from the VM, through a compose override), the rest of the node keeps the real one; returns the
 * undo, which recreates the ui from Harbor's own compose file.
 */
export function skewUiClock(vm: string, seconds: number): () => void {
    inVm(vm, `mkdir -p /root/harbor-ha-e2e && cat >/root/harbor-ha-e2e/clock.yml <<'EOF'
version: '2'
services:
  ui:
    environment:
      LD_PRELOAD: /faketime/libfaketime.so.1
      FAKETIME: "+${seconds}"
      FAKETIME_DONT_FAKE_MONOTONIC: "1"
    volumes:
      - /usr/lib/x86_64-linux-gnu/faketime:/faketime:ro
EOF
cd ${installDir}
docker-compose -f docker-compose.yml -f /root/harbor-ha-e2e/clock.yml up -d --no-deps --force-recreate ui >/dev/null 2>&1
docker-compose restart proxy >/dev/null 2>&1`);
    return () => recreateHarbor(vm, ["ui"]);
}

/**
 * Every VM runs a `docker run --privileged` container, as Harbor 2.x's prepare wrapper does, with
 * every capability the VM itself has (its CapBnd), CAP_SYS_ADMIN (bit 21) among them.
 */
export function privilegedEverywhere(s: Stack, image: string): void {
    const hex = (text: string, field: string) => BigInt(`0x${new RegExp(`${field}:\\s*([0-9a-f]+)`).exec(text)?.[1] ?? "0"}`);
    for (const n of s.nodes) {
        const caps = hex(inVm(n.vm, `docker run --rm --privileged --entrypoint /bin/sh ${image} -c 'grep CapEff /proc/self/status'`), "CapEff");
        const vm = hex(inVm(n.vm, "grep CapBnd /proc/self/status"), "CapBnd");
        assert.ok((caps >> 21n) & 1n, `${n.vm}: CAP_SYS_ADMIN in a --privileged container (CapEff ${caps.toString(16)})`);
        assert.equal(caps.toString(16), vm.toString(16), `${n.vm}: the container has every capability of the VM`);
    }
}

/** The project's Pulumi, with the toolchain's environment. */
export function pulumi(args: string[], input?: string): string {
    return run("bash", ["-c", '. scripts/pulumi-env.sh && hh_pulumi "$@"', "pulumi", ...args], { cwd: repo, input });
}

/** `--stack <stack> --config-file <the lab's config of it>`: a lab stack's config lives outside the repo. */
export function stackArgs(stack: string): string[] {
    return ["--stack", stack, "--config-file", labStackConfigPath(stack)];
}

export interface Stack {
    name: string;
    domain: string;
    port: number;
    host: string;
    nodes: { name: string; vm: string; address: string }[];
    caPem: string;
    adminPassword: string;
    tokenCertificatePem: string;
    tokenCertFingerprint: string;
    /** Harbor's data directory on CephFS (<ceph.mountPoint>/data). */
    dataPath: string;
    /** Where each node's installer is unpacked (its compose project). */
    installDir: string;
    /** 1 (harbor.cfg, MySQL) or 2 (harbor.yml, PostgreSQL). */
    generation: 1 | 2;
    /** An API GET that needs no login and asks Harbor's settings: what the load and the health waits use. */
    apiPath: string;
}

/** A lab stack's config as `pulumi config --json` gives it (an object's value as JSON text). */
export function stackConfig(stack: string): Record<string, { value?: string }> {
    return JSON.parse(pulumi(["config", ...stackArgs(stack), "--json"])) as Record<string, { value?: string }>;
}

export function readStack(stack = "dev"): Stack {
    const cfg = stackConfig(stack);
    const nodes = JSON.parse(cfg["harbor-ha:nodes"].value!) as { name: string; address: string; sshPort: number }[];
    const domain = cfg["harbor-ha:domain"].value!;
    const port = Number(cfg["harbor-ha:port"].value ?? 8070);
    const generation = (cfg["harbor-ha:harborVersion"]?.value ?? "1.2.2").startsWith("1.") ? 1 : 2;
    const output = (name: string, secret = false) =>
        pulumi(["stack", "output", "--stack", stack, ...(secret ? ["--show-secrets"] : []), name]).trim();
    return {
        name: stack, domain, port, host: `${domain}:${port}`,
        // The lab names its VMs vm1..vmN by SSH port 2201..
        nodes: nodes.map(n => ({ name: n.name, vm: `vm${n.sshPort - 2200}`, address: n.address })),
        caPem: `${output("caPem")}\n`,
        adminPassword: output("adminPassword", true),
        tokenCertificatePem: `${output("tokenCertificatePem")}\n`,
        tokenCertFingerprint: output("tokenCertFingerprint"),
        dataPath: `${(JSON.parse(cfg["harbor-ha:ceph"].value!) as { mountPoint?: string }).mountPoint ?? "/mnt/cephfs/harbor"}/data`,
        installDir: cfg["harbor-ha:installDir"]?.value ?? "/opt/harbor",
        generation,
        apiPath: generation === 1 ? "/api/systeminfo" : "/api/v2.0/systeminfo",
    };
}

export function clientExec(script: string, input?: string): string {
    return labDocker(["exec", "-i", client, "bash", "-c", script], input);
}

/** A machine on the lab network that resolves the domain to the load balancer and trusts the CA. */
export function startClient(s: Stack): void {
    const running = labDocker(["ps", "-q", "--filter", `name=^${client}$`]).trim();
    if (!running) {
        labDocker(["rm", "-f", client]);
        const image = labDocker(["inspect", "--format", "{{.Config.Image}}", "vm1"]).trim();
        const dataDir = path.join(cache, "lab", "data", client, "docker");
        fs.mkdirSync(dataDir, { recursive: true });
        labDocker(["run", "-d", "--name", client, "--hostname", client, "--label", "harbor-ha-lab=1",
            "--network", "harbor-ha-lab", "--ip", clientIp, "--dns", labDns,
            "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE", "--security-opt", "seccomp=unconfined",
            "--security-opt", "apparmor=unconfined", "--cgroupns", "host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
            "-v", `${dataDir}:/var/lib/docker`, "-e", "LAB_SSH_AUTHORIZED_KEYS=", image]);
    }
    for (let i = 0; ; i++) {
        if (spawnSync("docker", ["exec", client, "docker", "version"], { env: labEnv, stdio: "ignore" }).status === 0) break;
        if (i === 59) throw new Error(`${client}: its Docker engine did not start`);
        execFileSync("sleep", ["1"]);
    }
    // The exact client trust step the stack outputs name, for the domain and for each node address.
    for (const host of [s.host, ...s.nodes.map(n => `${n.address}:${s.port}`)]) {
        clientExec(`mkdir -p /etc/docker/certs.d/${host} && cat > /etc/docker/certs.d/${host}/ca.crt`, s.caPem);
    }
    clientExec("cat > /root/ca.crt", s.caPem);
    // The domain is the load balancer's, as a user's DNS would have it.
    if (clientExec(`getent hosts ${s.domain} | cut -d' ' -f1`).trim() !== lbIp) throw new Error(`${client}: ${s.domain} does not resolve to the load balancer`);
}

export function stopClient(): void {
    spawnSync("docker", ["rm", "-f", client], { env: labEnv, stdio: "ignore" });
}

export interface Attempts {
    total: number;
    ok: number;
    /** Refused by the registry or token service with HTTP 401 (Docker's "401 Unauthorized"). */
    unauthorized: number;
    other: string[];
}

/** One line per attempt ("ok", "401" or "fail ..."), counted. */
function tally(out: string): Attempts {
    const lines = out.trim().split("\n").filter(l => l !== "");
    return {
        total: lines.length,
        ok: lines.filter(l => l === "ok").length,
        unauthorized: lines.filter(l => l === "401").length,
        other: lines.filter(l => l.startsWith("fail")),
    };
}

/** Shell: classifies a docker command's output ($out) as one attempt line. */
const classify = `if printf '%s' "$out" | grep -Eq '(^|[^0-9])401 Unauthorized'; then echo 401
  else echo "fail $(printf '%s' "$out" | tr '\\n' ' ')"; fi`;

/** N consecutive `docker login`s; every attempt counts once, none is retried. */
/** "ok/total", then the 401s and any other failure: how the figures print attempts. */
export const fmtAttempts = (a: Attempts): string => `${a.ok}/${a.total}` + (a.unauthorized ? ` (${a.unauthorized} refused with 401)` : "") +
    (a.other.length ? ` (${a.other.length} other failures: ${a.other[0]})` : "");

export function logins(s: Stack, n: number, registry = s.host): Attempts {
    const out = clientExec(`read -r pw
for i in $(seq ${n}); do
  if out=$(printf '%s' "$pw" | docker login -u admin --password-stdin ${registry} 2>&1); then echo ok
  else ${classify}; fi
  docker logout ${registry} >/dev/null 2>&1 || true
done`, `${s.adminPassword}\n`);
    return tally(out);
}

/** Builds a small unique image in the client, pushes it through one node; returns its reference and ID. */
export function pushThrough(s: Stack, nodeAddress: string, tag: string): { ref: string; id: string } {
    const ref = `${nodeAddress}:${s.port}/library/harbor-ha-probe:${tag}`;
    const id = clientExec(`read -r pw
set -e
printf '%s' "$pw" | docker login -u admin --password-stdin ${nodeAddress}:${s.port} >/dev/null
d=$(mktemp -d); head -c 1048576 /dev/urandom > "$d/probe.bin"; echo "harbor-ha ${tag}" > "$d/probe.txt"
id=$(tar -C "$d" -c probe.bin probe.txt | docker import - ${ref})
docker push ${ref} >/dev/null
echo "$id"`, `${s.adminPassword}\n`).trim();
    return { ref, id };
}

/**
 * Shell that removes every local name of `<registry>/<repoTag>` on the client, whichever registry
 * address it came through: its only layer goes with the last, so the next pull must download it.
 */
export function forgetImage(repoTag: string): string {
    return `for ref in $(docker images --format '{{.Repository}}:{{.Tag}}' | awk -v t=${JSON.stringify(`/${repoTag}`)} 'substr($0, length($0) - length(t) + 1) == t'); do
  docker image rm -f "$ref" >/dev/null 2>&1 || true
done`;
}

/**
 * Pulls a pushed image through an address with no local copy of it left: the layer is downloaded
 * through that address ("Pull complete"). Returns the image ID.
 */
export function pullThrough(s: Stack, registry: string, repoTag: string): string {
    const out = clientExec(`read -r pw
set -e
printf '%s' "$pw" | docker login -u admin --password-stdin ${registry} >/dev/null
${forgetImage(repoTag)}
pulled=$(docker pull ${registry}/${repoTag})
printf '%s\\n' "$pulled" | grep -q 'Pull complete' || { echo "no layer was downloaded: $pulled" >&2; exit 1; }
docker image inspect --format '{{.Id}}' ${registry}/${repoTag}`, `${s.adminPassword}\n`).trim();
    return out;
}

/** curl from the client to one node (by its address, the domain resolved to it) over TLS with the cluster CA. */
export function nodeCurl(s: Stack, address: string, args: string): string {
    return `curl -sS -m 10 --cacert /root/ca.crt --resolve ${s.domain}:${s.port}:${address} ${args}`;
}

/**
 * A request to one node as the admin API user (basic auth, no session: Harbor checks no CSRF token
 * then). The password and the JSON body reach the client on stdin, not on a command line.
 */
export function adminApi(s: Stack, address: string, method: string, path: string, json?: unknown,
    password = s.adminPassword): { status: number; headers: string; body: string } {
    const out = clientExec(`read -r pw
h=$(mktemp); k=$(mktemp)
printf 'user = "admin:%s"\n' "$pw" >"$k"
${nodeCurl(s, address, `-K "$k" -X ${method} -D "$h" ${json === undefined ? "" : "-H 'Content-Type: application/json' --data-binary @-"} -w '\n%{http_code}' https://${s.host}${path}`)}
echo; echo '--headers--'; tr -d '\r' <"$h"; rm -f "$h" "$k"`, `${password}
${json === undefined ? "" : JSON.stringify(json)}`);
    const [main, headers] = out.split("\n--headers--\n");
    const lines = main.trimEnd().split("\n");
    const status = Number(lines.pop());
    return { status, headers: headers ?? "", body: lines.join("\n") };
}

/** Logs in to the UI on one node (POST /login) and returns the session cookie value. */
export function uiLogin(s: Stack, address: string): string {
    const cookie = clientExec(`read -r pw
${nodeCurl(s, address, `-o /dev/null -w '%{http_code}\\n' -c /tmp/ui-cookies --data-urlencode principal=admin --data-urlencode "password=$pw" https://${s.host}/login`)} | grep -qx 200 || { echo "login refused" >&2; exit 1; }
awk '$6 == "beegosessionID" {print $7}' /tmp/ui-cookies`, `${s.adminPassword}\n`).trim();
    if (!/^[A-Za-z0-9]+$/.test(cookie)) throw new Error(`no session cookie from ${address}`);
    return cookie;
}

/** GET /api/users/current on a node with a session cookie: the HTTP status and the user name. */
export function uiCurrentUser(s: Stack, address: string, cookie: string): { status: number; username?: string } {
    const out = clientExec(`${nodeCurl(s, address, `-b beegosessionID=${cookie} -w '\\n%{http_code}' https://${s.host}/api/users/current`)}`).trim().split("\n");
    const status = Number(out.pop());
    let username: string | undefined;
    try {
        username = (JSON.parse(out.join("\n")) as { username?: string }).username;
    } catch {
        username = undefined;
    }
    return { status, username };
}

/** What one node serves for the token keypair: the registry's root.crt, and a token from its ui. */
export interface ServedKeys {
    /** sha256 fingerprint of the certificate the node's registry verifies tokens with. */
    rootCrtFingerprint: string;
    /** Whether a token issued by the node verifies with the stack's token certificate. */
    tokenSignedByClusterKey: boolean;
}

export function servedKeys(s: Stack, node: { vm: string; address: string }): ServedKeys {
    const rootCrt = inVm(node.vm, "docker exec registry cat /etc/registry/root.crt");
    const token = JSON.parse(clientExec(`read -r pw
${nodeCurl(s, node.address, `-f -u "admin:$pw" 'https://${s.host}/service/token?service=harbor-registry&scope=repository:library/harbor-ha-probe:pull'`)}`,
    `${s.adminPassword}\n`)) as { token: string };
    const [header, claims, signature] = token.token.split(".");
    const signedBy = verify("RSA-SHA256", Buffer.from(`${header}.${claims}`), createPublicKey(s.tokenCertificatePem), Buffer.from(signature, "base64url"));
    return { rootCrtFingerprint: new X509Certificate(rootCrt).fingerprint256, tokenSignedByClusterKey: signedBy };
}

/**
 * Every (signer, checker) pair of nodes: a token from the signer's token service presented to the
 * checker's `GET /v2/` (1.x: its registry, 2.x: its core). The claim names the pairs that must be
 * refused (401), e.g. those whose keys differ, so the share refused is exact, not "at least one";
 * every other pair must pass (200).
 */
export function tokenPairs(s: Stack, refusedWhen: (signer: string, checker: string) => boolean): { refused: number; total: number; wrong: string[] } {
    const tokens = s.nodes.map(signer => (JSON.parse(clientExec(`read -r pw
${nodeCurl(s, signer.address, `-f -u "admin:$pw" 'https://${s.host}/service/token?service=harbor-registry&scope=repository:library/harbor-ha-probe:pull'`)}`,
    `${s.adminPassword}\n`)) as { token: string }).token);
    // The tokens on stdin, one per signer, each presented to every node.
    const out = clientExec(s.nodes.map(signer => `read -r t
${s.nodes.map(checker => `echo "${signer.name} ${checker.name} $(${nodeCurl(s, checker.address, `-s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $t" https://${s.host}/v2/`)} || true)"`).join("\n")}`).join("\n"),
    `${tokens.join("\n")}\n`);
    const pairs = out.trim().split("\n").map(l => l.split(" ")) as [string, string, string][];
    const wrong = pairs.filter(([a, b, code]) => code !== (refusedWhen(a, b) ? "401" : "200")).map(([a, b, code]) => `${a}->${b} ${code}`);
    if (pairs.length !== s.nodes.length ** 2) wrong.push(`${pairs.length} pairs answered, not ${s.nodes.length ** 2}`);
    return { refused: pairs.filter(p => p[2] === "401").length, total: pairs.length, wrong };
}

/**
 * Restarts some of a node's Harbor containers the way an operator must: the proxy last. Harbor's
 * nginx resolves the other containers' addresses only when it starts, and containers restarted
 * together can swap addresses, so a proxy left running sends requests to the wrong container.
 */
export function restartHarbor(vm: string, services: string[]): void {
    inVm(vm, `cd ${installDir}
docker-compose restart ${services.join(" ")} >/dev/null 2>&1
docker-compose restart proxy >/dev/null 2>&1`);
}

/** Like restartHarbor, for a changed env file: a restart keeps a container's old environment. */
export function recreateHarbor(vm: string, services: string[]): void {
    inVm(vm, `cd ${installDir}
docker-compose up -d --no-deps --force-recreate ${services.join(" ")} >/dev/null 2>&1
docker-compose restart proxy >/dev/null 2>&1`);
}

/**
 * The seed's problem 2 on purpose: the given VMs get their own token keypair, as if each had run
 * prepare with customize_crt on; returns a function that puts the cluster's keypair back.
 */
export function unshareKeys(vms: string[]): () => void {
    const dir = `${installDir}/common/config`;
    for (const vm of vms) {
        inVm(vm, `cd ${dir}
cp -p ui/private_key.pem /root/cluster-private_key.pem && cp -p registry/root.crt /root/cluster-root.crt
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=${vm}-own -keyout ui/private_key.pem -out registry/root.crt 2>/dev/null`);
        restartHarbor(vm, ["ui", "registry"]);
    }
    return () => {
        for (const vm of vms) {
            inVm(vm, `cp -p /root/cluster-private_key.pem ${dir}/ui/private_key.pem && cp -p /root/cluster-root.crt ${dir}/registry/root.crt`);
            restartHarbor(vm, ["ui", "registry"]);
        }
    };
}

/** Sessions NOT shared: the VM's ui keeps its sessions in another Redis database; returns the undo. */
export function unshareSessions(vm: string): () => void {
    const env = `${installDir}/common/config/ui/env`;
    inVm(vm, `cp -p ${env} /root/cluster-ui.env
sed -i -E 's/^(_REDIS_URL=.*,)[0-9]+$/\\17/' ${env}
grep -Eq '^_REDIS_URL=.*,7$' ${env}`);
    recreateHarbor(vm, ["ui"]);
    return () => {
        inVm(vm, `cp -p /root/cluster-ui.env ${env}`);
        recreateHarbor(vm, ["ui"]);
    };
}

/**
 * The secretkey NOT shared: the VM's adminserver and ui read a different 16-character key (as if
 * its prepare had made its own); returns the undo. The compose file is the node's own copy, so the
 * next deploy puts the cluster's back too.
 */
export function unshareSecretKey(vm: string, dataPath: string): () => void {
    const compose = `${installDir}/docker-compose.yml`;
    inVm(vm, `cp -p ${compose} /root/cluster-compose.yml
openssl rand -hex 8 | tr -d '\\n' > /root/other-secretkey
[ "$(wc -c < /root/other-secretkey)" = 16 ]
sed -i 's#${dataPath}/secretkey:#/root/other-secretkey:#' ${compose}
grep -q '/root/other-secretkey:/etc/adminserver/key' ${compose}
cd ${installDir} && docker-compose up -d --force-recreate >/dev/null 2>&1`);
    return () => {
        inVm(vm, `cp -p /root/cluster-compose.yml ${compose} && cd ${installDir} && docker-compose up -d --force-recreate >/dev/null 2>&1`);
    };
}

/** Whether a node answers its health endpoint through its own address right now. */
export function healthy(s: Stack, address: string): boolean {
    return spawnSync("docker", ["exec", client, "bash", "-c",
        nodeCurl(s, address, `-f -o /dev/null https://${s.host}${s.apiPath}`)], { env: labEnv, stdio: "ignore" }).status === 0;
}

/** Waits until every given node answers its health endpoint through its own address. */
export function waitHealthy(s: Stack, addresses: string[], timeoutSeconds = 180): void {
    for (const a of addresses) {
        clientExec(`for i in $(seq ${timeoutSeconds}); do
  ${nodeCurl(s, a, `-f -o /dev/null https://${s.host}${s.apiPath}`)} >/dev/null 2>&1 && exit 0
  sleep 1
done
echo "node ${a} not healthy after ${timeoutSeconds}s" >&2; exit 1`);
    }
}

/** Each node's state in the lab load balancer (HAProxy's stats), e.g. { "harbor-1": "UP" }. */
export function lbStates(): Record<string, string> {
    const csv = labDocker(["exec", "lb", "curl", "-fsS", "-m", "5", "http://127.0.0.1:8404/;csv"]);
    const rows = csv.split("\n").filter(l => l.startsWith("harbor-nodes,") && !l.startsWith("harbor-nodes,BACKEND"));
    // Column 18 (0-based 17) is the status: UP, DOWN, "UP 1/2", "DOWN 1/3", MAINT...
    return Object.fromEntries(rows.map(r => { const f = r.split(","); return [f[1], f[17]]; }));
}

export function sleepMs(ms: number): void {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Waits until every given node is UP (or DOWN) in the lab load balancer: seconds taken, or -1. */
export function waitLb(nodes: string[], want: "UP" | "DOWN", seconds = 90): number {
    const t0 = Date.now();
    const done = () => { const st = lbStates(); return nodes.every(n => (st[n] ?? "").startsWith(want)); };
    while (!done()) {
        if (Date.now() - t0 > seconds * 1000) return -1;
        sleepMs(500);
    }
    return (Date.now() - t0) / 1000;
}

/**
 * What the lab load balancer wrote on stderr since `since` (epoch seconds), each line with Docker's
 * timestamp: HAProxy's copy of every server state change (see lbEvents), never its traffic log.
 */
export function lbLog(since: number): string {
    const r = spawnSync("docker", ["logs", "--timestamps", "--since", since.toFixed(3), "lb"], { env: labEnv, encoding: "utf8", maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`docker logs lb: ${r.stderr.slice(-500)}`);
    return r.stderr;
}

/** The lab load balancer's config file: what lab/scripts/lb-config.sh wrote from the stack's output. */
export function lbConfig(): string {
    return labDocker(["exec", "lb", "cat", "/etc/harbor-ha-lb/haproxy.cfg"]);
}

/**
 * A second lab installer: the same one with a marker file added, so a different sha256 (what a new
 * installer release looks like to the program). Kept in the lab's state, outside the repository.
 */
export function installerVariant(original: string, marker: string): string {
    const dir = path.join(cache, "lab", "state", "installer-variant");
    const out = path.join(cache, "lab", "state", `installer-${marker}.tgz`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    run("tar", ["-xzf", original, "-C", dir]);
    const top = fs.readdirSync(dir)[0];
    fs.writeFileSync(path.join(dir, top, "HARBOR-HA-LAB-VARIANT"), `${marker}\n`);
    run("tar", ["-I", "gzip -1", "-cf", out, "-C", dir, top]);
    fs.rmSync(dir, { recursive: true, force: true });
    return out;
}
