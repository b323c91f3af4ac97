import * as pulumi from "@pulumi/pulumi";
import { redisCheckScript } from "../render/scripts/services";
import { checkEveryNode, NodeTarget } from "./connection";

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
    public readonly host: pulumi.Output<string>;
    public readonly port: pulumi.Output<number>;
    /** Secret; empty when Redis has no password. */
    public readonly password: pulumi.Output<string>;
    public readonly dbIndex: pulumi.Output<number>;
    public readonly poolSize: pulumi.Output<number>;
    /** Resolves once every node got PONG. */
    public readonly ready: pulumi.Output<string>;

    constructor(name: string, args: RedisSessionArgs, opts?: pulumi.ComponentResourceOptions) {
        super("harbor-ha:index:RedisSession", name, {}, opts);
        this.password = pulumi.secret(pulumi.output(args.password ?? ""));
        this.ready = checkEveryNode(name, args.nodes,
            node => pulumi.all([args.host, args.port, args.dbIndex]).apply(([host, port, db]) => redisCheckScript(host, port, db, node)),
            this.password.apply(p => `${p}\n`), { parent: this });
        this.host = pulumi.output(args.host);
        this.port = pulumi.output(args.port);
        this.dbIndex = pulumi.output(args.dbIndex);
        this.poolSize = pulumi.output(args.poolSize);
        this.registerOutputs({
            host: this.host, port: this.port, password: this.password, dbIndex: this.dbIndex, poolSize: this.poolSize, ready: this.ready,
        });
    }
}
