// SQL and client files for the external PostgreSQL of Harbor 2.x. No schema: Harbor's core creates
// and migrates its tables at start (../shared/reference/harbor-v2-facts.md §8).
import format from "pg-format";

export interface PostgresTarget {
    host: string;
    port: number;
    database: string;
    user: string;
    sslMode: string;
}

/**
 * The user and a database it owns, created when missing; the password is set on every run so a
 * rotation applies. Owning the database lets the migrations create tables on PostgreSQL 15+, where
 * only the owner may create in schema public. psql runs it (\gexec: CREATE DATABASE cannot run in
 * a DO block).
 */
export function postgresSetupSql(t: PostgresTarget, password: string): string {
    return [
        format("SELECT format('CREATE ROLE %%I LOGIN', %L) WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = %L)\\gexec", t.user, t.user),
        format("ALTER ROLE %I WITH LOGIN PASSWORD %L;", t.user, password),
        format("SELECT format('CREATE DATABASE %%I OWNER %%I', %L, %L) WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = %L)\\gexec",
            t.database, t.user, t.database),
        format("ALTER DATABASE %I OWNER TO %I;", t.database, t.user),
        "",
    ].join("\n");
}

/** A .pgpass line: passwords reach psql through a 0600 file, never argv or the environment. */
export function pgpassLine(t: PostgresTarget, user: string, password: string, database = "*"): string {
    const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/:/g, "\\:");
    return `${esc(t.host)}:${t.port}:${esc(database)}:${esc(user)}:${esc(password)}\n`;
}

/** libpq's environment for everything but the password. */
export function connectionEnv(t: PostgresTarget, user: string, database: string): string {
    const sq = (v: string) => `'${v.replace(/'/g, "'\\''")}'`;
    return [`PGHOST=${sq(t.host)}`, `PGPORT=${t.port}`, `PGUSER=${sq(user)}`, `PGDATABASE=${sq(database)}`, `PGSSLMODE=${sq(t.sslMode)}`, ""].join("\n");
}

/** Harbor 2.9+ needs PostgreSQL 12 or newer (its migrations use jsonb_path_exists). */
export const minPostgresVersionNum = 120000;
