import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { clockSamples } from "../render/scripts/clock";
import { parsePreflightReport, PreflightResult } from "../render/scripts/preflight";
import { q } from "../render/scripts/shell";
import { Connection, secretStderr } from "./connection";

/** The probe's pure parts (components/clockProbe.cjs, which runs where no TypeScript does). */
export interface ClockReading {
    /** The node's clock against this machine's: positive when it is ahead. */
    offsetMs: number;
    /** Half the shortest round trip: the node's time lies within it. */
    uncertaintyMs: number;
}
export interface ClockProbeFunctions {
    readClock(samples: [sent: number, node: number, received: number][]): ClockReading;
    clockVerdict(node: string, r: ClockReading, maxSkewMs: number, tolerance: string): { value: string; threshold: string; ok: boolean; hint: string };
}
const probeFile = path.join(__dirname, "clockProbe.cjs");
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const clockProbe: ClockProbeFunctions = require(probeFile);

/** How far a node's clock may be from the machine running Pulumi's, and why that much. */
export interface ClockLimit {
    maxSkewMs: number;
    /** For the message: "the registry accepts tokens up to 60 s early". */
    tolerance: string;
}

export interface NodeClockArgs {
    nodeName: pulumi.Input<string>;
    /** The node's SSH connection: its host key pinned, the private key secret. */
    connection: pulumi.Input<Connection>;
    /** A node further than this from the machine running Pulumi (beyond the round trip's uncertainty) is refused. */
    maxSkewMs: pulumi.Input<number>;
    /** Why that much, for the message: "the registry accepts tokens up to 60 s early". */
    tolerance: pulumi.Input<string>;
    /** Changing these measures again (the preflight's triggers). */
    triggers?: pulumi.Input<string>[];
}

/**
 * A node's clock against the machine running Pulumi, measured from here over SSH (a clock cannot
 * be judged from the node itself); changes nothing anywhere. A node beyond the threshold fails the
 * measurement, which is then not kept: the next `pulumi up` measures again.
 */
export class NodeClock extends pulumi.ComponentResource {
    /** The preflight's `clock` check: the measured offset, the threshold, the verdict. */
    public readonly result: pulumi.Output<PreflightResult>;

    constructor(name: string, args: NodeClockArgs, opts?: pulumi.ComponentResourceOptions) {
        super("harbor-ha:index:NodeClock", name, {}, opts);
        const probe = new command.local.Command(`${name}-probe`, {
            // Relative to the program's directory, so that the same project gives the same command on any machine.
            create: `node ${q(path.relative(process.cwd(), probeFile))}`,
            // The connection, private key included, travels only on stdin.
            stdin: pulumi.secret(pulumi.all([args.connection, args.nodeName, args.maxSkewMs, args.tolerance]).apply(([c, node, maxSkewMs, tolerance]) =>
                JSON.stringify({
                    node, host: c.host, port: c.port ?? 22, user: c.user ?? "root", privateKey: c.privateKey, hostKey: c.hostKey,
                    samples: clockSamples, maxSkewMs, tolerance,
                }))),
            triggers: args.triggers,
            logging: "stdout",
            addPreviousOutputInEnv: false,
        }, { parent: this, ...secretStderr });
        this.result = probe.stdout.apply(out => {
            const [r] = parsePreflightReport(out);
            if (!r) throw new pulumi.ResourceError(`the clock probe of ${name} printed no result`, this);
            return r;
        });
        this.registerOutputs({ result: this.result });
    }
}
