// The one mocks module: a 3-node stack's config, a fixture installer, and a resource monitor that
// records what every resource received.
import { generateKeyPairSync } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import * as tar from "tar";
import { certificateProvider, caProvider } from "../components/clusterTls";
import { htpasswdProvider } from "../components/registryHtpasswd";
import { keyProvider } from "../components/sharedTokenKeys";
import { peersFile } from "../render/scripts/serviceGuard";

// Dynamic resources run their real providers' create (the token key at a smaller size, for speed).
const dynamicProviders: Record<string, pulumi.dynamic.ResourceProvider> = {
    TokenKeypair: keyProvider, ClusterCa: caProvider, ServerCertificate: certificateProvider, RegistryHtpasswd: htpasswdProvider,
};

export const fixtures = path.join(__dirname, "fixtures");

/** The load balancer's timing the rendering tests use (config loadBalancer's defaults, a shorter drain). */
export const drainSettings = { drainSeconds: 8, checkIntervalSeconds: 2, fall: 3, rise: 2 };

/** The cluster ID the rendering tests record on a node (a stack's RandomId elsewhere). */
export const testCluster = "c0ffee00c0ffee00";

/** The node list NodePeers writes (render/scripts/serviceGuard.ts), here with only the given nodes. */
export function writePeers(installDir: string, nodes: { name: string; url: string }[]): void {
    const file = path.join(installDir, peersFile);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, nodes.map(n => `${n.name} ${n.url}\n`).join(""));
}

/** Builds a fixture installer archive (harbor/ top directory) into a temp dir: 1.2.2 or 2.15.2. */
export function fixtureInstaller(version: "1.2.2" | "2.15.2" = "1.2.2"): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "harbor-ha-test-"));
    const file = path.join(dir, `harbor-offline-installer-v${version}.tgz`);
    tar.c({ gzip: true, sync: true, file, cwd: path.join(fixtures, `installer-v${version}`), portable: true }, ["harbor"]);
    return file;
}

/** Secret values the stack holds; tests check none of them leaks. */
export const secretValues = {
    sshPrivateKey: generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    cephSecret: "QVFCaGFyYm9yaGFDZXBoU2VjcmV0S2V5MTIzNDU2Nzg=",
    mysqlAdminPassword: "AdminPw-7x9Qz",
    redisPassword: "RedisPw-3kLm2",
    adminPassword: "HarborAdm1nPw",
};

export const hostKeys = [1, 2, 3].map(i =>
    `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${String(i).repeat(43)}`);

/** Plain (non-secret) config of a 3-node stack, as the CLI hands it over: objects as JSON. */
export function plainConfig(installerPath: string): Record<string, unknown> {
    return {
        domain: "hub.example.test",
        port: 8070,
        harborVersion: "1.2.2",
        installer: { path: installerPath },
        installDir: "/opt/harbor",
        nodes: [1, 2, 3].map(i => ({ name: `harbor-${i}`, host: "127.0.0.1", sshPort: 2200 + i, hostKey: hostKeys[i - 1], address: `10.99.0.1${i}` })),
        ceph: { monitors: ["10.99.0.2:6789"], path: "/", mountPoint: "/mnt/cephfs/harbor", user: "harbor", client: "fuse" },
        mysql: { host: "10.99.0.3", port: 3306, database: "registry", user: "harbor", adminUser: "root", schemaFile: path.join(fixtures, "registry.sql") },
        redis: { host: "10.99.0.4", port: 6379, dbIndex: 0, poolSize: 100 },
        tokenKeyRotation: "0",
    };
}

/** The same stack with Harbor 2.15.2: PostgreSQL instead of MySQL, an admin credential creating the database. */
export function plainConfigV2(installerPath: string): Record<string, unknown> {
    const c = plainConfig(installerPath);
    delete c.mysql;
    return {
        ...c, harborVersion: "2.15.2",
        postgres: { host: "10.99.0.3", port: 5432, database: "registry", user: "harbor", adminUser: "postgres" },
        redis: { host: "redis.example.test", port: 6379 },
    };
}

/** Secrets of the 2.x stack. */
export const secretValuesV2: Record<string, string> = (() => {
    const { mysqlAdminPassword: _unused, ...rest } = secretValues;
    return { ...rest, postgresAdminPassword: "PgAdminPw-9q" };
})();

export function setStackConfig(plain: Record<string, unknown>, secrets: Record<string, string> = secretValues): void {
    const all: Record<string, string> = {};
    for (const [k, v] of Object.entries(plain)) all[`harbor-ha:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
    for (const [k, v] of Object.entries(secrets)) all[`harbor-ha:${k}`] = v;
    pulumi.runtime.setAllConfig(all, Object.keys(secrets).map(k => `harbor-ha:${k}`));
}

/** What a resource asked of the engine besides its inputs. */
export interface RecordedOptions {
    additionalSecretOutputs: string[];
    deleteBeforeReplace: boolean;
    protect: boolean;
    custom: boolean;
    /** The parent's URN as the mock monitor names it ("" for none); `engineUrn` gives the engine's. */
    parent: string;
}

export interface Recorded {
    type: string;
    name: string;
    inputs: Record<string, any>;
    options: RecordedOptions;
    /** What the mocked provider returned, before the engine marked the additionalSecretOutputs secret. */
    outputs: Record<string, any>;
}

/** What each component (and the stack) registered as its outputs, secrets wrapped as the engine keeps them. */
export const registeredOutputs: { urn: string; outputs: Record<string, unknown> }[] = [];

export const recorded: Recorded[] = [];
/** Values made by mocked providers that are secrets too (random passwords, the private key). */
export const generatedSecrets: string[] = [];

/**
 * Resources by name whose creation never completes, as if the provider hung: whatever depends on
 * them must never be registered (e.g. nothing changes on a node whose preflight has not passed).
 */
export const heldResources = new Set<string>();

/** The stack's own outputs from its last update, as the program reads them back (StackReference to itself). */
export const deployedOutputs: Record<string, unknown> = {};

let mocksSet = false;
const dynamicResults = new Map<string, Promise<pulumi.dynamic.CreateResult>>();

/** Outputs of a dynamic provider that are secret material (checked to be secret in state, never trusted from the options). */
const secretOutputNames = ["privateKeyPem", "caPrivateKeyPem", "hash"];

/** The RegisterResourceRequest's options, read by the monitor wrapper just before newResource runs. */
let pendingOptions: RecordedOptions | undefined;

type MonitorRequest = {
    getAdditionalsecretoutputsList(): string[]; getDeletebeforereplace(): boolean; getProtect(): boolean; getCustom(): boolean; getParent(): string;
};
type OutputsRequest = { getUrn(): string; getOutputs(): { toJavaScript(): Record<string, unknown> } | undefined };

/**
 * The mock monitor drops a request's options; the engine does not. This records them, and does what
 * the engine does with additionalSecretOutputs: the outputs named come back secret.
 */
function recordOptions(): void {
    const monitor = (pulumi.runtime as unknown as { getMonitor(): Record<string, (req: any, cb: any) => unknown> }).getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: MonitorRequest, cb: unknown) => {
        pendingOptions = {
            additionalSecretOutputs: req.getAdditionalsecretoutputsList(), deleteBeforeReplace: req.getDeletebeforereplace(),
            protect: req.getProtect(), custom: req.getCustom(), parent: req.getParent(),
        };
        return register(req, cb);
    };
    const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResourceOutputs = (req: OutputsRequest, cb: unknown) => {
        registeredOutputs.push({ urn: req.getUrn(), outputs: req.getOutputs()?.toJavaScript() ?? {} });
        return registerOutputs(req, cb);
    };
}

/** One mock monitor for the whole process: a new one would not know the resources of earlier stacks still finishing. */
export async function setupMocks(): Promise<void> {
    if (mocksSet) return;
    mocksSet = true;
    await pulumi.runtime.setMocks({
        async newResource(args: pulumi.runtime.MockResourceArgs) {
            const options = pendingOptions ?? { additionalSecretOutputs: [], deleteBeforeReplace: false, protect: false, custom: args.custom ?? true, parent: "" };
            pendingOptions = undefined;
            const state: Record<string, any> = { ...args.inputs };
            recorded.push({ type: args.type, name: args.name, inputs: args.inputs, options, outputs: state });
            if (heldResources.has(args.name)) return new Promise<never>(() => undefined);
            const kind = args.type.startsWith("pulumi-nodejs:dynamic") ? "dynamic" : args.type;
            switch (kind) {
                case "random:index/randomPassword:RandomPassword": {
                    state.result = `Rnd${args.name.replace(/[^A-Za-z0-9]/g, "")}`.padEnd(args.inputs.length, "x").slice(0, args.inputs.length);
                    generatedSecrets.push(state.result);
                    break;
                }
                case "random:index/randomId:RandomId":
                    state.hex = Buffer.from(args.name).toString("hex").padEnd(2 * args.inputs.byteLength, "0").slice(0, 2 * args.inputs.byteLength);
                    break;
                case "dynamic": {
                    const provider = dynamicProviders[args.type.split(":").pop()!];
                    // The engine hands a dynamic provider plain values, secret or not.
                    const unwrapped = Object.fromEntries(Object.entries(args.inputs).map(([k, v]) => [k, plain(v)]));
                    const inputs = { ...unwrapped, ...(args.inputs.bits ? { bits: 2048 } : {}) };
                    // Made once per resource name and distinct inputs in this process (keys take
                    // time; their generation is tested in tokenKeys.test.ts and tls.test.ts): two
                    // resources never share material, as two real ones would not.
                    const memo = `${args.type} ${args.name} ${JSON.stringify(inputs)}`;
                    if (!dynamicResults.has(memo)) dynamicResults.set(memo, provider.create(inputs));
                    const created = await dynamicResults.get(memo)!;
                    Object.assign(state, created.outs);
                    for (const k of secretOutputNames) if (typeof state[k] === "string") generatedSecrets.push(state[k]);
                    break;
                }
                case "command:local:Command":
                    // NodeClock's probe: what it prints for a node whose clock agrees with this machine's.
                    state.stdout = "preflight\tclock\t+0.2 ms against the machine running Pulumi (±0.1 ms)\twithin 1000 ms (mocked)\tok";
                    state.stderr = "";
                    break;
                case "command:remote:Command":
                    state.stdout = `ok: ${args.name}`;
                    state.stderr = "";
                    break;
                case "pulumi:pulumi:StackReference":
                    state.outputs = { ...deployedOutputs };
                    break;
            }
            // The engine keeps the outputs named in additionalSecretOutputs secret.
            const returned: Record<string, any> = { ...state };
            for (const k of options.additionalSecretOutputs) if (k in returned) returned[k] = { [secretSig]: secretValueSig, value: returned[k] };
            return { id: `${args.name}-id`, state: returned };
        },
        call(args: pulumi.runtime.MockCallArgs) {
            return args.inputs;
        },
    }, "harbor-ha", "test", false, "organization");
    recordOptions();
}

export function promiseOf<T>(o: pulumi.Input<T>): Promise<T> {
    return new Promise(resolve => pulumi.output(o).apply(v => { resolve(v as T); return v; }));
}

// How the mock monitor hands over an input that was a secret Output.
const secretSig = specialSigKey;
const secretValueSig = specialSecretSig;

export function isSecretInput(v: unknown): boolean {
    return typeof v === "object" && v !== null && secretSig in v;
}

/** The plain value of an input, secret or not. */
export function plain(v: any): any {
    return isSecretInput(v) ? v.value : v;
}

/** The URN the mock monitor gave a resource: it keeps only the last type of the parent's chain. */
function mockUrn(r: Recorded): string {
    const type = r.options.parent ? `${r.options.parent.split("::")[2].split("$").pop()}$${r.type}` : r.type;
    return `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${type}::${r.name}`;
}

/**
 * The URN the engine gives a resource: its parents' whole chain of types (the root stack's left
 * out), then its own type and name. A change to it replaces the resource unless an alias keeps the old one.
 */
export function engineUrn(r: Recorded): string {
    const byUrn = new Map(recorded.map(x => [mockUrn(x), x]));
    const qualified = (x: Recorded): string => {
        const parent = x.options.parent ? byUrn.get(x.options.parent) : undefined;
        if (x.options.parent && !parent) throw new Error(`${x.type} ${x.name}: its parent ${x.options.parent} was not recorded`);
        return parent && parent.type !== "pulumi:pulumi:Stack" ? `${qualified(parent)}$${x.type}` : x.type;
    };
    return `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${qualified(r)}::${r.name}`;
}

export function byType(type: string): Recorded[] {
    return recorded.filter(r => r.type === type);
}

/** Forgets what earlier stacks of this process recorded, held or had deployed. */
export function resetMocks(): void {
    recorded.length = 0;
    registeredOutputs.length = 0;
    generatedSecrets.length = 0;
    heldResources.clear();
    for (const k of Object.keys(deployedOutputs)) delete deployedOutputs[k];
}

/**
 * Runs the program (program.ts) under the mocks for one stack and returns its outputs: its config,
 * what its last update left (the deployed outputs it reads back) and steps that never finish.
 * Every test file describes its stacks this way, so that all of them run in one process.
 */
export async function runStack(values: Record<string, unknown>, secrets: Record<string, string> = secretValues,
    opts: { deployed?: Record<string, unknown>; held?: string[] } = {}): Promise<Record<string, any>> {
    resetMocks();
    Object.assign(deployedOutputs, opts.deployed ?? {});
    for (const h of opts.held ?? []) heldResources.add(h);
    setStackConfig(values, secrets);
    await setupMocks();
    const { harborStack } = await import("../program");
    return await harborStack();
}

/** A command's stdin is its script, then (after "main; exit 0") the data it reads. */
export function splitStdin(stdin: unknown): { script: string; data: string } {
    const text = plain(stdin) as string;
    const end = text.indexOf("\nmain; exit 0\n");
    if (end < 0) throw new Error("stdin does not start with a harbor-ha script");
    const cut = end + "\nmain; exit 0\n".length;
    return { script: text.slice(0, cut), data: text.slice(cut) };
}

/** The JSON of a value with every secret left out: what state shows in plain text. */
export function plainText(v: unknown): string {
    return JSON.stringify(v, (_k, x) => (isSecretInput(x) ? "[secret]" : x)) ?? "";
}

/**
 * What the engine would keep of a resource in plain text: its inputs that were not secret, and its
 * outputs that are neither in additionalSecretOutputs nor outputs of a secret input.
 */
export function plainState(r: Recorded): string {
    const outputs = Object.fromEntries(Object.entries(r.outputs).filter(([k]) =>
        !r.options.additionalSecretOutputs.includes(k) && !isSecretInput(r.inputs[k])));
    return plainText({ inputs: r.inputs, outputs });
}

/** Whether a resource of that name was registered. */
export function registered(name: string): boolean {
    return recorded.some(r => r.name === name);
}

/** Resolves once every named resource is registered and the promise queue has drained; fails if one never is. */
export async function settled(names: string[]): Promise<void> {
    for (let i = 0; i < 2000 && !names.every(registered); i++) await new Promise(r => setImmediate(r));
    for (let i = 0; i < 50; i++) await new Promise(r => setImmediate(r));
    const missing = names.filter(n => !registered(n));
    if (missing.length > 0) throw new Error(`never registered: ${missing.join(", ")}`);
}

/**
 * What waits on a held step never settles; the runtime would fail the process for those "leaked"
 * promises at exit, so a file that holds steps collects (and counts) them on purpose.
 */
export function assertHeldWorkWaiting(what: string): void {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { leakedPromises } = require("@pulumi/pulumi/runtime/debuggable") as { leakedPromises: () => [Set<unknown>, string] };
    if (leakedPromises()[0].size === 0) throw new Error(`${what} left no work waiting`);
}
