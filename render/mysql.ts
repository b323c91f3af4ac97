// SQL and client option files for the external MySQL (seed: "external MySQL cluster").
import * as SqlString from "sqlstring";

export interface MysqlTarget {
    host: string;
    port: number;
    database: string;
    user: string;
}

/**
 * Harbor 1.x's registry.sql begins with "drop database if exists registry; create database
 * registry; use registry;". Loaded as is it would wipe a database and ignore the configured name,
 * so those statements are removed and the rest runs inside the configured database.
 */
export function schemaForDatabase(sql: string): string {
    const statement = /^\s*(drop\s+database|create\s+database|use\s)[^;]*;[ \t]*\r?\n?/gim;
    const cleaned = sql.replace(statement, "");
    if (/^\s*(drop|create)\s+(database|schema)\b/im.test(cleaned)) {
        throw new Error("registry.sql still creates or drops a database after cleaning; refusing to load it");
    }
    return cleaned;
}

/** Creates the database and a user limited to it; the password is reset each run so rotation applies. */
export function setupSql(t: MysqlTarget, password: string): string {
    const db = SqlString.escapeId(t.database);
    const user = `${SqlString.escape(t.user)}@'%'`;
    const pw = SqlString.escape(password);
    return [
        `CREATE DATABASE IF NOT EXISTS ${db} CHARACTER SET utf8;`,
        `CREATE USER IF NOT EXISTS ${user} IDENTIFIED BY ${pw};`,
        `ALTER USER ${user} IDENTIFIED BY ${pw};`,
        // Harbor 1.x upgrades alter its own tables; nothing outside its database is granted.
        `GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, REFERENCES, ` +
        `CREATE TEMPORARY TABLES, LOCK TABLES ON ${db}.* TO ${user};`,
        "FLUSH PRIVILEGES;",
        "",
    ].join("\n");
}

function optionValue(v: string): string {
    return `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** A [client] option file, so passwords reach the mysql client through a 0600 file, not argv. */
export function clientOptionFile(host: string, port: number, user: string, password: string): string {
    return ["[client]", `host=${optionValue(host)}`, `port=${port}`, `user=${optionValue(user)}`,
        `password=${optionValue(password)}`, ""].join("\n");
}
