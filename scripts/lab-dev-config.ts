// Writes what only exists once the lab runs into the dev stack: each node's SSH host key and the
// lab's secrets (through stdin, encrypted by the CLI). Values already in place are left alone, so
// a second demo leaves Pulumi.dev.yaml unchanged.
//   node --import tsx scripts/lab-dev-config.ts <lab outputs.json> [installer.tgz registry.sql]
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

interface LabOutputs {
    vms: { name: string; sshHost: string; sshPort: number; address: string; hostKey: string }[];
    sshPrivateKey: string;
    ceph: { monitors: string[]; rootPath: string; clientName: string; secret: string };
    mysql: { host: string; port: number; adminUser: string; adminPassword: string };
    redis: { host: string; port: number; password: string };
}

const [outputsPath, installer, schema] = process.argv.slice(2);
if (!outputsPath) throw new Error("usage: lab-dev-config.ts <lab outputs.json> [installer.tgz registry.sql]");
const lab = JSON.parse(fs.readFileSync(outputsPath, "utf8")) as LabOutputs;
const stack = ["--stack", "dev"];

function current(key: string): string | undefined {
    try {
        return execFileSync("pulumi", ["config", "get", ...stack, "--path", key], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).replace(/\n$/, "");
    } catch {
        return undefined;
    }
}

function set(key: string, value: string, secret = false): void {
    if (current(key) === value) return;
    // The value goes on stdin: a secret never appears in a process list.
    execFileSync("pulumi", ["config", "set", ...stack, "--path", ...(secret ? ["--secret"] : []), key],
        { input: value, stdio: ["pipe", "inherit", "inherit"] });
    console.log(`[demo] dev stack: ${key} ${secret ? "(secret) " : ""}set`);
}

lab.vms.forEach((vm, i) => {
    set(`harbor-ha:nodes[${i}].hostKey`, vm.hostKey);
    if (current(`harbor-ha:nodes[${i}].sshPort`) !== String(vm.sshPort)) throw new Error(`Pulumi.dev.yaml nodes[${i}].sshPort is not the lab's ${vm.sshPort}`);
    if (current(`harbor-ha:nodes[${i}].address`) !== vm.address) throw new Error(`Pulumi.dev.yaml nodes[${i}].address is not the lab's ${vm.address}`);
});
if (installer) set("harbor-ha:installer.path", installer);
if (schema) set("harbor-ha:mysql.schemaFile", schema);
set("harbor-ha:ceph.path", lab.ceph.rootPath);
set("harbor-ha:ceph.user", lab.ceph.clientName);
set("harbor-ha:sshPrivateKey", lab.sshPrivateKey, true);
set("harbor-ha:cephSecret", lab.ceph.secret, true);
set("harbor-ha:mysqlAdminPassword", lab.mysql.adminPassword, true);
set("harbor-ha:redisPassword", lab.redis.password, true);

// Harbor stores its admin password in the database at first start, and the database outlives
// pulumi destroy; so the lab's is made once and kept with the lab's other secrets.
const adminFile = path.join(path.dirname(outputsPath), "harbor-admin-password");
if (!fs.existsSync(adminFile)) {
    fs.writeFileSync(adminFile, `Hh1${randomBytes(18).toString("base64url")}`, { mode: 0o600 });
}
set("harbor-ha:adminPassword", fs.readFileSync(adminFile, "utf8").trim(), true);
