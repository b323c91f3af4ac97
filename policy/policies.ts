// harbor-ha's guardrails as plain functions over what the engine reports, so tests can run them
// without an engine. index.ts wraps them in a PolicyPack.
import type { PolicyResource, ReportViolation, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";

export const types = {
    node: "harbor-ha:index:HarborNode",
    tls: "harbor-ha:index:ClusterTls",
    mysql: "harbor-ha:index:ExternalMySQL",
    postgres: "harbor-ha:index:ExternalPostgreSQL",
    cephMount: "harbor-ha:index:CephMount",
    tokenKeys: "harbor-ha:index:SharedTokenKeys",
    command: "command:remote:Command",
    /** Runs on the machine running Pulumi (NodeClock's probe), with the SSH key on stdin. */
    localCommand: "command:local:Command",
    copy: "command:remote:CopyToRemote",
} as const;

/** Resources whose loss costs data or trust: deleting them must be a deliberate act in production. */
export const dataBearing: readonly string[] = [types.mysql, types.postgres, types.cephMount, types.tokenKeys, types.tls];

type StackArgs = Pick<StackValidationArgs, "resources">;

/** A property, or undefined when the engine cannot know it yet (during preview the engine throws). */
function known<T>(read: () => T): T | undefined {
    try {
        return read();
    } catch {
        return undefined;
    }
}
type ResourceArgs = Pick<ResourceValidationArgs, "type" | "props" | "name" | "opts">;

export function minNodes(args: StackArgs, report: ReportViolation): void {
    const n = args.resources.filter(r => r.type === types.node).length;
    if (n > 0 && n < 3) report(`production runs at least 3 Harbor nodes (one can be lost while the others keep a majority of capacity); this stack has ${n}`);
}

export function https(args: StackArgs, report: ReportViolation): void {
    const nodes = args.resources.some(r => r.type === types.node);
    if (nodes && !args.resources.some(r => r.type === types.tls)) {
        report("production serves HTTPS (harbor-ha:protocol https): over http registry passwords cross the network in clear text");
    }
}

export function pinnedHostKeys(args: ResourceArgs, report: ReportViolation): void {
    if (args.type !== types.command && args.type !== types.copy) return;
    const c = known(() => args.props.connection) ?? {};
    if (known(() => c.hostKey) === undefined && known(() => JSON.stringify(c)) === undefined) return;
    if (!c.hostKey) report(`${args.name}: the SSH connection to ${c.host ?? "?"}:${c.port ?? 22} does not pin the host key (hostKey)`);
}

const secretPatterns: [RegExp, string][] = [
    [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a private key"],
    [/(password|passwd|pwd|secret)\s*[=:]\s*['"]?[^\s'"$]{4,}/i, "a password assignment"],
];

export function noPlaintextSecrets(args: ResourceArgs, report: ReportViolation): void {
    if (args.type !== types.command && args.type !== types.localCommand) return;
    for (const field of ["create", "update", "delete"]) {
        const text = known(() => args.props[field]);
        if (typeof text !== "string") continue;
        for (const [re, what] of secretPatterns) {
            if (re.test(text)) report(`${args.name}: its ${field} command line contains ${what}; secrets go on stdin`);
        }
    }
    const environment = known(() => args.props.environment);
    if (environment && Object.keys(environment).length > 0) {
        report(`${args.name}: passes environment variables, which are logged; secrets go on stdin`);
    }
    if (args.props.addPreviousOutputInEnv !== false) {
        report(`${args.name}: addPreviousOutputInEnv must be false, or previous output is copied into the environment`);
    }
    if (known(() => args.props.stdin) !== undefined && !(args.opts.additionalSecretOutputs ?? []).includes("stderr")) {
        report(`${args.name}: reads secrets on stdin but does not keep stderr secret (additionalSecretOutputs)`);
    }
}

export function installerSha256(args: ResourceArgs, report: ReportViolation): void {
    if (args.type !== types.copy) return;
    const triggers = known(() => args.props.triggers as unknown[]);
    if (triggers === undefined) return;
    if (!triggers.some(t => typeof t === "string" && /^[0-9a-f]{64}$/.test(t))) {
        report(`${args.name}: the installer copy is not keyed by the archive's sha256`);
    }
}

export function protectData(args: ResourceArgs, report: ReportViolation): void {
    if (dataBearing.includes(args.type) && !args.opts.protect) {
        report(`${args.name}: ${args.type} must be protected from pulumi destroy (harbor-ha:protectData true)`);
    }
}

/** Runs every policy over a set of resources and returns the violation messages (for tests and tooling). */
export function evaluate(resources: (PolicyResource | (ResourceArgs & { type: string }))[]): string[] {
    const out: string[] = [];
    const report = (name: string) => (message: string) => out.push(`${name}: ${message}`);
    minNodes({ resources: resources as PolicyResource[] }, report("harbor-ha-min-nodes"));
    https({ resources: resources as PolicyResource[] }, report("harbor-ha-https"));
    for (const r of resources) {
        pinnedHostKeys(r, report("harbor-ha-pinned-host-keys"));
        noPlaintextSecrets(r, report("harbor-ha-no-plaintext-secrets"));
        installerSha256(r, report("harbor-ha-installer-sha256"));
        protectData(r, report("harbor-ha-protect-data"));
    }
    return out;
}
