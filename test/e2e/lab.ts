// Drives the running lab for the HA checks: a client "VM" on the lab network (its own Docker
// engine) does real docker login / push / pull through the load balancer, as a user's host would.
import { execFileSync, ExecFileSyncOptions, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export const repo = path.join(__dirname, "..", "..");
export const cache = process.env.HARBOR_HA_CACHE ?? "/var/cache/harbor-ha";
const labEnv = { ...process.env, DOCKER_HOST: "unix:///run/harbor-ha-lab/docker.sock" };
const client = "lab-client";
const clientIp = "10.213.70.30";
const lbIp = "10.213.70.13";

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

/** The project's Pulumi, with the toolchain's environment. */
export function pulumi(args: string[], input?: string): string {
    return run("bash", ["-c", '. scripts/pulumi-env.sh && exec pulumi "$@"', "pulumi", ...args], { cwd: repo, input });
}

export interface Stack {
    domain: string;
    port: number;
    host: string;
    nodes: { name: string; vm: string; address: string }[];
    caPem: string;
    adminPassword: string;
}

export function readStack(): Stack {
    const cfg = JSON.parse(pulumi(["config", "--stack", "dev", "--json"])) as Record<string, { value?: string }>;
    const nodes = JSON.parse(cfg["harbor-ha:nodes"].value!) as { name: string; address: string; sshPort: number }[];
    const domain = cfg["harbor-ha:domain"].value!;
    const port = Number(cfg["harbor-ha:port"].value ?? 8070);
    return {
        domain, port, host: `${domain}:${port}`,
        // The lab names its VMs vm1..vmN by SSH port 2201..
        nodes: nodes.map(n => ({ name: n.name, vm: `vm${n.sshPort - 2200}`, address: n.address })),
        caPem: pulumi(["stack", "output", "--stack", "dev", "caPem"]).trim() + "\n",
        adminPassword: pulumi(["stack", "output", "--stack", "dev", "--show-secrets", "adminPassword"]).trim(),
    };
}

function clientExec(script: string, input?: string): string {
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
            "--network", "harbor-ha-lab", "--ip", clientIp, "--add-host", `${s.domain}:${lbIp}`,
            "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE", "--security-opt", "seccomp=unconfined",
            "--security-opt", "apparmor=unconfined", "--cgroupns", "host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
            "-v", `${dataDir}:/var/lib/docker`, "-e", "LAB_SSH_AUTHORIZED_KEYS=", image]);
    }
    for (let i = 0; i < 60; i++) {
        if (spawnSync("docker", ["exec", client, "docker", "version"], { env: labEnv, stdio: "ignore" }).status === 0) break;
        if (i === 59) throw new Error(`${client}: its Docker engine did not start`);
        execFileSync("sleep", ["1"]);
    }
    // The exact client trust step the stack outputs name, for the domain and for each node address.
    for (const host of [s.host, ...s.nodes.map(n => `${n.address}:${s.port}`)]) {
        clientExec(`mkdir -p /etc/docker/certs.d/${host} && cat > /etc/docker/certs.d/${host}/ca.crt`, s.caPem);
    }
}

export function stopClient(): void {
    spawnSync("docker", ["rm", "-f", client], { env: labEnv, stdio: "ignore" });
}

export interface Attempts {
    total: number;
    ok: number;
    unauthorized: number;
    other: string[];
}

/** One line per attempt ("ok", "401" or "fail ..."), counted. */
function tally(out: string): Attempts {
    const lines = out.trim().split("\n");
    return {
        total: lines.length,
        ok: lines.filter(l => l === "ok").length,
        unauthorized: lines.filter(l => l === "401").length,
        other: lines.filter(l => l.startsWith("fail")),
    };
}

/** N consecutive `docker login`s; every attempt counts once, none is retried. */
export function logins(s: Stack, n: number, registry = s.host): Attempts {
    const out = clientExec(`read -r pw
for i in $(seq ${n}); do
  if out=$(printf '%s' "$pw" | docker login -u admin --password-stdin ${registry} 2>&1); then echo ok
  elif printf '%s' "$out" | grep -q 401; then echo 401
  else echo "fail $(printf '%s' "$out" | tr '\\n' ' ')"; fi
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
d=$(mktemp -d); echo "harbor-ha ${tag} $(date +%s%N)" > "$d/probe.txt"
id=$(tar -C "$d" -c probe.txt | docker import - ${ref})
docker push ${ref} >/dev/null
echo "$id"`, `${s.adminPassword}\n`).trim();
    return { ref, id };
}

/** Pulls a pushed image through another address after deleting the local copy; returns the image ID. */
export function pullThrough(s: Stack, registry: string, repoTag: string): string {
    return clientExec(`read -r pw
set -e
printf '%s' "$pw" | docker login -u admin --password-stdin ${registry} >/dev/null
docker image rm -f ${registry}/${repoTag} >/dev/null 2>&1 || true
docker pull ${registry}/${repoTag} >/dev/null
docker image inspect --format '{{.Id}}' ${registry}/${repoTag}`, `${s.adminPassword}\n`).trim();
}

/** N pulls in a row through a registry address; each attempt counts once. */
export function pulls(s: Stack, n: number, registry: string, repoTag: string): Attempts {
    const out = clientExec(`read -r pw
printf '%s' "$pw" | docker login -u admin --password-stdin ${registry} >/dev/null 2>&1 || true
for i in $(seq ${n}); do
  docker image rm -f ${registry}/${repoTag} >/dev/null 2>&1 || true
  if out=$(docker pull ${registry}/${repoTag} 2>&1); then echo ok
  elif printf '%s' "$out" | grep -q 401; then echo 401
  else echo "fail $(printf '%s' "$out" | tr '\\n' ' ')"; fi
done`, `${s.adminPassword}\n`);
    return tally(out);
}

/**
 * The seed's problem 2 on purpose: the given VMs get their own token keypair, as if each had run
 * prepare with customize_crt on; returns a function that puts the cluster's keypair back.
 */
export function unshareKeys(s: Stack, vms: string[]): () => void {
    const dir = "/opt/harbor/common/config";
    for (const vm of vms) {
        labDocker(["exec", vm, "bash", "-c", `set -e
cd ${dir}
cp -p ui/private_key.pem /root/cluster-private_key.pem && cp -p registry/root.crt /root/cluster-root.crt
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=${vm}-own -keyout ui/private_key.pem -out registry/root.crt 2>/dev/null
cd /opt/harbor && docker-compose restart ui registry >/dev/null 2>&1`]);
    }
    return () => {
        for (const vm of vms) {
            labDocker(["exec", vm, "bash", "-c", `set -e
cp -p /root/cluster-private_key.pem ${dir}/ui/private_key.pem && cp -p /root/cluster-root.crt ${dir}/registry/root.crt
cd /opt/harbor && docker-compose restart ui registry >/dev/null 2>&1`]);
        }
    };
}

/** Waits until every given node answers its health endpoint through its own address. */
export function waitHealthy(s: Stack, addresses: string[], timeoutSeconds = 180): void {
    for (const a of addresses) {
        clientExec(`for i in $(seq ${timeoutSeconds}); do
  curl -fsS -m 3 --cacert /etc/docker/certs.d/${s.host}/ca.crt --resolve ${s.domain}:${s.port}:${a} https://${s.host}/api/systeminfo >/dev/null 2>&1 && exit 0
  sleep 1
done
echo "node ${a} not healthy after ${timeoutSeconds}s" >&2; exit 1`);
    }
}
