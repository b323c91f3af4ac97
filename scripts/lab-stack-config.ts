// Writes the run-time config of a lab stack OUTSIDE the repository: the tracked Pulumi.<stack>.yaml
// plus what only exists once the lab runs (each node's SSH host key, the lab's secrets, the paths of
// the lab installer in the cache). Pulumi then runs with `--config-file <that file>`, so the tracked
// stack file never holds anything machine-specific or secret, and every run starts from it afresh.
//   node --import tsx scripts/lab-stack-config.ts <stack> <lab outputs.json> <installer.tgz> [registry.sql]
// Prints the path of the written file.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { labStackConfigPath, repoRoot } from "./labStack";

interface LabOutputs {
    vms: { name: string; sshHost: string; sshPort: number; address: string; hostKey: string }[];
    sshPrivateKey: string;
    ceph: { monitors: string[]; rootPath: string; clientName: string; secret: string };
    mysql: { host: string; port: number; adminUser: string; adminPassword: string };
    /** Absent from the outputs of a lab made before it had PostgreSQL. */
    postgres?: { host: string; port: number; adminUser: string; adminPassword: string };
    redis: { host: string; port: number; password: string };
}

const [stack, outputsPath, installer, schema] = process.argv.slice(2);
if (!stack || !outputsPath || !installer) {
    throw new Error("usage: lab-stack-config.ts <stack> <lab outputs.json> <installer.tgz> [registry.sql]");
}
const tracked = path.join(repoRoot, `Pulumi.${stack}.yaml`);
if (!fs.existsSync(tracked)) throw new Error(`no stack file ${tracked}`);
const lab = JSON.parse(fs.readFileSync(outputsPath, "utf8")) as LabOutputs;
const target = labStackConfigPath(stack);

function pulumi(args: string[], opts: { input?: string; cwd?: string } = {}): string {
    return execFileSync("pulumi", args, {
        cwd: opts.cwd ?? repoRoot, input: opts.input, encoding: "utf8", stdio: ["pipe", "pipe", "inherit"],
    });
}

// A new stack is created from a scratch copy of the project: `pulumi stack init` writes the stack's
// encryption salt into Pulumi.<stack>.yaml of the directory it runs in, which must not be the repo.
const stacks = JSON.parse(pulumi(["stack", "ls", "--json"])) as { name: string }[];
if (!stacks.some(s => s.name === stack)) {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "harbor-ha-stack-"));
    try {
        fs.copyFileSync(path.join(repoRoot, "Pulumi.yaml"), path.join(scratch, "Pulumi.yaml"));
        pulumi(["stack", "init", stack, "--non-interactive", "--no-select"], { cwd: scratch });
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
fs.writeFileSync(target, fs.readFileSync(tracked, "utf8"), { mode: 0o600 });
const file = ["--stack", stack, "--config-file", target];

const plain: Record<string, string> = {
    "harbor-ha:installer.path": installer,
    "harbor-ha:ceph.path": lab.ceph.rootPath,
    "harbor-ha:ceph.user": lab.ceph.clientName,
};
if (schema) plain["harbor-ha:mysql.schemaFile"] = schema;
lab.vms.forEach((vm, i) => { plain[`harbor-ha:nodes[${i}].hostKey`] = vm.hostKey; });
// Not secret, so they may go on one command line.
pulumi(["config", "set-all", ...file, "--path", ...Object.entries(plain).flatMap(([k, v]) => ["--plaintext", `${k}=${v}`])]);

const config = JSON.parse(pulumi(["config", ...file, "--json"])) as Record<string, { value?: string }>;
const nodes = JSON.parse(config["harbor-ha:nodes"]?.value ?? "[]") as { sshPort?: number; address?: string }[];
lab.vms.forEach((vm, i) => {
    if (nodes[i]?.sshPort !== vm.sshPort || nodes[i]?.address !== vm.address) {
        throw new Error(`${tracked}: nodes[${i}] must have sshPort ${vm.sshPort} and address ${vm.address} (the lab's ${vm.name})`);
    }
});

// Harbor stores its admin password in the database at first start, and the database outlives
// pulumi destroy; so the lab's is made once and kept with the lab's other secrets.
const adminFile = path.join(path.dirname(outputsPath), "harbor-admin-password");
if (!fs.existsSync(adminFile)) fs.writeFileSync(adminFile, `Hh1${randomBytes(18).toString("base64url")}`, { mode: 0o600 });
// Only the admin password of the database the stack file configures: Harbor 1.x keeps its data in
// MySQL, 2.x in PostgreSQL, and the other one's secret fails validation.
function configures(key: string): boolean {
    const v = config[`harbor-ha:${key}`]?.value;
    if (v === undefined || v === "") return false;
    try {
        const o = JSON.parse(v) as unknown;
        return typeof o !== "object" || o === null || Object.keys(o).length > 0; // not an empty {}
    } catch {
        return true;
    }
}
function postgresAdminPassword(): string {
    if (!lab.postgres) throw new Error(`${outputsPath} has no postgres: run lab/scripts/up.sh (the lab has PostgreSQL since issue #12)`);
    return lab.postgres.adminPassword;
}
const secrets: Record<string, string> = {
    "harbor-ha:sshPrivateKey": lab.sshPrivateKey,
    "harbor-ha:cephSecret": lab.ceph.secret,
    ...(configures("mysql") ? { "harbor-ha:mysqlAdminPassword": lab.mysql.adminPassword } : {}),
    ...(configures("postgres") ? { "harbor-ha:postgresAdminPassword": postgresAdminPassword() } : {}),
    "harbor-ha:redisPassword": lab.redis.password,
    "harbor-ha:adminPassword": fs.readFileSync(adminFile, "utf8").trim(),
};
// Each secret goes on stdin, never on a command line; the CLI encrypts it.
for (const [k, v] of Object.entries(secrets)) pulumi(["config", "set", ...file, "--secret", k], { input: v });
console.log(target);
