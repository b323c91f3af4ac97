import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { encodeBundle } from "../render/bundle";
import { connectionEnv, minPostgresVersionNum, pgpassLine, postgresSetupSql, PostgresTarget } from "../render/postgres";
import { postgresCheckScript, postgresSetupScript } from "../render/scripts/services";
import { checkEveryNode, NodeTarget, runOnFirstNode } from "./connection";

export interface ExternalPostgreSQLArgs {
    host: pulumi.Input<string>;
    port: pulumi.Input<number>;
    database: pulumi.Input<string>;
    user: pulumi.Input<string>;
    sslMode: pulumi.Input<string>;
    /** Harbor's password; generated when absent (then an admin credential must create the user). */
    password?: pulumi.Input<string>;
    /** With it, the user and a database it owns are created (PostgreSQL >= 12). */
    adminUser?: pulumi.Input<string>;
    adminPassword?: pulumi.Input<string>;
    /** Setup runs on the first; the credential and the server version are checked from every one. */
    nodes: NodeTarget[];
}

/**
 * Harbor 2.x's database on an existing PostgreSQL: a user and the database it owns. No schema: the
 * first node's core creates and migrates the tables. Nothing here drops anything: destroying the
 * stack leaves the database, its user and its data in place.
 */
export class ExternalPostgreSQL extends pulumi.ComponentResource {
    public readonly host: pulumi.Output<string>;
    public readonly port: pulumi.Output<number>;
    public readonly database: pulumi.Output<string>;
    public readonly user: pulumi.Output<string>;
    public readonly password: pulumi.Output<string>;
    /** Resolves once the database answers from every node. */
    public readonly ready: pulumi.Output<string>;

    constructor(name: string, args: ExternalPostgreSQLArgs, opts?: pulumi.ComponentResourceOptions) {
        super("harbor-ha:index:ExternalPostgreSQL", name, {}, opts);
        if (args.nodes.length === 0) throw new Error(`${name}: nodes is empty`);
        if (args.password === undefined && args.adminUser === undefined) {
            throw new Error(`${name}: without an admin credential the existing user's password must be given`);
        }
        this.password = pulumi.secret(args.password ?? new random.RandomPassword(`${name}-password`, {
            length: 32, special: false,
        }, { parent: this }).result);
        const target = pulumi.all([args.host, args.port, args.database, args.user, args.sslMode])
            .apply(([host, port, database, user, sslMode]): PostgresTarget => ({ host, port, database, user, sslMode }));

        let setup: command.remote.Command | undefined;
        if (args.adminUser !== undefined) {
            if (args.adminPassword === undefined) throw new Error(`${name}: adminUser needs adminPassword`);
            // The admin connects to the maintenance database "postgres" to create Harbor's.
            const bundle = pulumi.secret(pulumi.all([target, this.password, args.adminUser, args.adminPassword])
                .apply(([t, password, adminUser, adminPassword]) => encodeBundle([
                    { path: "admin.env", mode: "0600", content: connectionEnv(t, adminUser, "postgres") },
                    { path: "admin.pgpass", mode: "0600", content: pgpassLine(t, adminUser, adminPassword) },
                    { path: "setup.sql", mode: "0600", content: postgresSetupSql(t, password) },
                ])));
            setup = runOnFirstNode(`${name}-setup`, args.nodes, pulumi.output(args.database).apply(postgresSetupScript), bundle, { parent: this });
        }
        const harborFiles = pulumi.secret(pulumi.all([target, this.password])
            .apply(([t, password]) => encodeBundle([
                { path: "harbor.env", mode: "0600", content: connectionEnv(t, t.user, t.database) },
                { path: "harbor.pgpass", mode: "0600", content: pgpassLine(t, t.user, password, t.database) },
            ])));
        this.ready = checkEveryNode(name, args.nodes, node => pulumi.output(args.database).apply(db => postgresCheckScript(db, node, minPostgresVersionNum)),
            harborFiles, { parent: this, dependsOn: setup ? [setup] : [] });

        this.host = pulumi.output(args.host);
        this.port = pulumi.output(args.port);
        this.database = pulumi.output(args.database);
        this.user = pulumi.output(args.user);
        this.registerOutputs({
            host: this.host, port: this.port, database: this.database, user: this.user, password: this.password, ready: this.ready,
        });
    }
}
