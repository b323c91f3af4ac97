import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { requireFlavor } from "../render/flavors";
import { Endpoint, parsePreflightReport, PreflightResult, preflightScript, PreflightSpec } from "../render/scripts/preflight";
import { RemoteScript } from "../render/scripts/shell";
import { commandDefaults, Connection, runScript, secretStderr } from "./connection";
import { ClockLimit, NodeClock } from "./nodeClock";

export interface NodePreflightArgs {
    nodeName: pulumi.Input<string>;
    connection: pulumi.Input<Connection>;
    minFreeSpacePercent: pulumi.Input<number>;
    minFreeInodesPercent: pulumi.Input<number>;
    port: pulumi.Input<number>;
    /** Harbor 1.x publishes the load balancer's check on it too. */
    healthPort: pulumi.Input<number>;
    protocol: pulumi.Input<"http" | "https">;
    composeProject: pulumi.Input<string>;
    /** Services the node must reach: Ceph monitors, MySQL, Redis. */
    endpoints: pulumi.Input<pulumi.Input<Endpoint>[]>;
    /** What the node must have for this Harbor (e.g. the Python its prepare needs). */
    harborVersion: pulumi.Input<string>;
    /** Where Harbor is installed: a node whose record there names another stack's cluster is refused. */
    installDir: pulumi.Input<string>;
    /** This stack's cluster ID (HarborCluster's RandomId). */
    cluster: pulumi.Input<string>;
    /** Another stack's cluster ID whose nodes this stack may take over (harbor-ha:adoptCluster). */
    adoptCluster?: pulumi.Input<string>;
    /** Refuse the node when no NTP client says its clock is synchronized. */
    requireTimeSync: pulumi.Input<boolean>;
    /** The node's clock may be this far from the machine running Pulumi's (NodeClock). */
    maxClockSkewMs: pulumi.Input<number>;
    /** Changing these re-runs the checks (e.g. the installer's sha256: a new deployment). */
    triggers?: pulumi.Input<string>[];
}

/** Checks a node before anything on it changes; every change on the node waits for `passed`. */
export class NodePreflight extends pulumi.ComponentResource {
    /** Each check with its measured value, threshold and verdict. */
    public readonly results: pulumi.Output<PreflightResult[]>;
    /** The last line of a passed preflight; dependents wait on it. */
    public readonly passed: pulumi.Output<string>;
    /** The checks, to run again before a later change on the node (HarborNode's deploy). */
    public readonly script: pulumi.Output<RemoteScript>;
    /** What the clock is judged by, to measure it again before a later change on the node. */
    public readonly clock: pulumi.Output<ClockLimit>;

    constructor(name: string, args: NodePreflightArgs, opts?: pulumi.ComponentResourceOptions) {
        super("harbor-ha:index:NodePreflight", name, {}, opts);
        const owner = pulumi.all([args.installDir, args.cluster, args.adoptCluster])
            .apply(([installDir, cluster, adopt]) => ({ installDir, cluster, adopt: adopt || undefined }));
        const ownerAndSync = pulumi.all([owner, args.requireTimeSync]);
        const spec = pulumi.all([args.nodeName, args.minFreeSpacePercent, args.minFreeInodesPercent, pulumi.all([args.port, args.protocol, args.healthPort]), args.composeProject, args.endpoints, args.harborVersion, ownerAndSync])
            .apply(([nodeName, minFreeSpacePercent, minFreeInodesPercent, [port, protocol, healthPort], composeProject, endpoints, version, [o, requireTimeSync]]): PreflightSpec => {
                const f = requireFlavor(version);
                return {
                    nodeName, minFreeSpacePercent, minFreeInodesPercent, ports: f.ports(port, protocol, healthPort), composeProject, endpoints,
                    harbor: `Harbor ${version}`, python: f.python, minDocker: f.minDocker, minCompose: f.minCompose,
                    composeFirst: f.generation === 2 ? "plugin" : "standalone", owner: o, requireTimeSync,
                };
            });
        this.script = spec.apply(preflightScript);
        this.clock = pulumi.all([args.maxClockSkewMs, args.harborVersion])
            .apply(([maxSkewMs, v]) => ({ maxSkewMs, tolerance: requireFlavor(v).tokenLeeway.checkedBy }));
        // The clock is judged from here, beside the node's own checks: each reports its problems in the same run.
        const clock = new NodeClock(`${name}-clock`, {
            nodeName: args.nodeName, connection: args.connection,
            maxSkewMs: this.clock.apply(c => c.maxSkewMs), tolerance: this.clock.apply(c => c.tolerance),
            triggers: args.triggers,
        }, { parent: this });
        const check = new command.remote.Command(`${name}-checks`, {
            connection: args.connection,
            ...runScript(this.script),
            triggers: args.triggers,
            ...commandDefaults,
        }, { parent: this, ...secretStderr });
        this.results = pulumi.all([check.stdout, clock.result]).apply(([out, c]) => [...parsePreflightReport(out), c]);
        this.passed = pulumi.all([check.stdout, clock.result]).apply(([out]) => out.split("\n").pop() ?? "");
        this.registerOutputs({ results: this.results, passed: this.passed, script: this.script, clock: this.clock });
    }
}
