import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { redisSessionUrl } from "../render/harborConfig";
import { redisCheckScript } from "../render/scripts/services";
import { commandDefaults, runScript, secretStderr } from "./connection";
import { NodeTarget } from "./externalMysql";

export interface RedisSessionArgs {
    host: pulumi.Input<string>;
    port: pulumi.Input<number>;
    password?: pulumi.Input<string>;
    dbIndex: pulumi.Input<number>;
    poolSize: pulumi.Input<number>;
    /** PING with auth is checked from every node. */
    nodes: NodeTarget[];
}

/** The external Redis holding UI sessions, so a session started on one node is valid on all. */
export class RedisSession extends pulumi.ComponentResource {
    /** The seed's _REDIS_URL value: host:port,poolsize,password,dbindex (secret: it holds the password). */
    public readonly url: pulumi.Output<string>;
    /** Resolves once every node got PONG. */
    public readonly ready: pulumi.Output<string>;

    constructor(name: string, args: RedisSessionArgs, opts?: pulumi.ComponentResourceOptions) {
        super("harbor-ha:index:RedisSession", name, {}, opts);
        const password = pulumi.secret(pulumi.output(args.password ?? ""));
        const checks = args.nodes.map(n => new command.remote.Command(`${name}-check-${n.name}`, {
            connection: n.connection,
            ...runScript(pulumi.all([args.host, args.port, args.dbIndex, n.ready]).apply(([host, port, db]) => redisCheckScript(host, port, db, n.name)),
                password.apply(p => `${p}\n`)),
            ...commandDefaults,
        }, { parent: this, ...secretStderr }));
        this.url = pulumi.secret(pulumi.all([args.host, args.port, args.poolSize, args.dbIndex, password])
            .apply(([host, port, poolSize, dbIndex, pw]) => redisSessionUrl({ host, port, poolSize, dbIndex }, pw)));
        this.ready = pulumi.all(checks.map(c => c.stdout)).apply(lines => lines.join("\n"));
        this.registerOutputs({ url: this.url, ready: this.ready });
    }
}
