import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { encodeBundle } from "../render/bundle";
import { clientOptionFile, schemaForDatabase, setupSql } from "../render/mysql";
import { mysqlCheckScript, mysqlSetupScript } from "../render/scripts/services";
import { checkEveryNode, NodeTarget, runOnFirstNode } from "./connection";

export interface ExternalMySQLArgs {
    host: pulumi.Input<string>;
    port: pulumi.Input<number>;
    database: pulumi.Input<string>;
    user: pulumi.Input<string>;
    /** Harbor's password; generated when absent (then an admin credential must create the user). */
    password?: pulumi.Input<string>;
    adminUser?: pulumi.Input<string>;
    adminPassword?: pulumi.Input<string>;
    /** Harbor's registry.sql, loaded when the database is empty (with the admin credential). */
    schemaSql?: pulumi.Input<string>;
    /** Setup runs on the first; the credential is checked from every one. */
    nodes: NodeTarget[];
}

/**
 * Harbor's database on an existing MySQL/MariaDB. Nothing here drops anything: destroying the
 * stack leaves the database, its user and its data in place.
 */
export class ExternalMySQL extends pulumi.ComponentResource {
    public readonly host: pulumi.Output<string>;
    public readonly port: pulumi.Output<number>;
    public readonly database: pulumi.Output<string>;
    public readonly user: pulumi.Output<string>;
    public readonly password: pulumi.Output<string>;
    /** Resolves once the database answers from every node. */
    public readonly ready: pulumi.Output<string>;

    constructor(name: string, args: ExternalMySQLArgs, opts?: pulumi.ComponentResourceOptions) {
        super("harbor-ha:index:ExternalMySQL", name, {}, opts);
        if (args.nodes.length === 0) throw new Error(`${name}: nodes is empty`);
        if (args.password === undefined && args.adminUser === undefined) {
            throw new Error(`${name}: without an admin credential the existing user's password must be given`);
        }
        this.password = pulumi.secret(args.password ?? new random.RandomPassword(`${name}-password`, {
            length: 32, special: false,
        }, { parent: this }).result);

        let setup: command.remote.Command | undefined;
        if (args.adminUser !== undefined) {
            if (args.adminPassword === undefined || args.schemaSql === undefined) {
                throw new Error(`${name}: adminUser needs adminPassword and schemaSql`);
            }
            const bundle = pulumi.secret(pulumi.all([args.host, args.port, args.database, args.user, this.password,
                args.adminUser, args.adminPassword, args.schemaSql])
                .apply(([host, port, database, user, password, adminUser, adminPassword, schema]) => encodeBundle([
                    { path: "admin.cnf", mode: "0600", content: clientOptionFile(host, port, adminUser, adminPassword) },
                    { path: "setup.sql", mode: "0600", content: setupSql({ host, port, database, user }, password) },
                    { path: "schema.sql", mode: "0600", content: schemaForDatabase(schema) },
                ])));
            setup = runOnFirstNode(`${name}-setup`, args.nodes, pulumi.output(args.database).apply(mysqlSetupScript), bundle, { parent: this });
        }

        const harborCnf = pulumi.secret(pulumi.all([args.host, args.port, args.user, this.password])
            .apply(([host, port, user, password]) => encodeBundle([
                { path: "harbor.cnf", mode: "0600", content: clientOptionFile(host, port, user, password) },
            ])));
        this.ready = checkEveryNode(name, args.nodes, node => pulumi.output(args.database).apply(db => mysqlCheckScript(db, node)), harborCnf,
            { parent: this, dependsOn: setup ? [setup] : [] });

        this.host = pulumi.output(args.host);
        this.port = pulumi.output(args.port);
        this.database = pulumi.output(args.database);
        this.user = pulumi.output(args.user);
        this.registerOutputs({
            host: this.host, port: this.port, database: this.database, user: this.user,
            password: this.password, ready: this.ready,
        });
    }
}
